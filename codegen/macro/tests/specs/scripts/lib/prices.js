// Helpers for cheap.js, evaluated before it in the same scope.
function below(items, max) {
  return items.filter(function (item) { return item.price <= max; });
}

function label(price, currency) {
  return price.toFixed(2) + ' ' + currency;
}
