// The items of the `list` step at or under the `max` input, priced in the `with` currency.
result = below(context.list, context.max).map(function (item) {
  return { name: item.name, price: label(item.price, context.currency) };
});
