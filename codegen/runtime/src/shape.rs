//! Output mappings (`outputParameters`): the shape of a result, taken from the upstream JSON.

use serde_json::{Map, Value};

/// One step of a JSONPath.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seg {
    Key(&'static str),
    Index(usize),
    /// `[*]`: every element of an array.
    All,
}

/// The shape of an exposed result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// `$.`: the upstream body as it is.
    Whole,
    /// The value at a JSONPath (`null` when absent).
    Path(&'static [Seg]),
    /// An object of named fields, each mapped from the value at `base`.
    Object {
        base: &'static [Seg],
        fields: &'static [(&'static str, Shape)],
    },
    /// Every element of the array at `base`, mapped through `item`.
    Array {
        base: &'static [Seg],
        item: &'static Shape,
    },
    /// A constant, as JSON text.
    Const(&'static str),
}

/// The value at `path` in `value`; `null` when a step is missing.
pub fn select(value: &Value, path: &[Seg]) -> Value {
    let mut cur = value;
    for (i, seg) in path.iter().enumerate() {
        match seg {
            Seg::Key(k) => match cur.get(k) {
                Some(v) => cur = v,
                None => return Value::Null,
            },
            Seg::Index(n) => match cur.get(n) {
                Some(v) => cur = v,
                None => return Value::Null,
            },
            Seg::All => {
                return match cur {
                    Value::Array(items) => {
                        Value::Array(items.iter().map(|v| select(v, &path[i + 1..])).collect())
                    }
                    _ => Value::Null,
                };
            }
        }
    }
    cur.clone()
}

impl Shape {
    /// Maps `value` (the upstream body) to this shape.
    pub fn apply(&self, value: &Value) -> Value {
        match self {
            Shape::Whole => value.clone(),
            Shape::Path(p) => select(value, p),
            Shape::Object { base, fields } => {
                let base = select(value, base);
                let mut out = Map::with_capacity(fields.len());
                for (name, shape) in *fields {
                    out.insert((*name).to_owned(), shape.apply(&base));
                }
                Value::Object(out)
            }
            Shape::Array { base, item } => match select(value, base) {
                Value::Array(items) => Value::Array(items.iter().map(|v| item.apply(v)).collect()),
                Value::Null => Value::Null,
                other => Value::Array(vec![item.apply(&other)]),
            },
            Shape::Const(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        let body = json!({"customer": {"id": 1, "tags": [{"n": "a"}, {"n": "b"}]}});
        assert_eq!(Shape::Whole.apply(&body), body);
        assert_eq!(
            Shape::Path(&[Seg::Key("customer"), Seg::Key("id")]).apply(&body),
            json!(1)
        );
        assert_eq!(Shape::Path(&[Seg::Key("nope")]).apply(&body), Value::Null);
        static ITEM: Shape = Shape::Path(&[Seg::Key("n")]);
        let arr = Shape::Array {
            base: &[Seg::Key("customer"), Seg::Key("tags")],
            item: &ITEM,
        };
        assert_eq!(arr.apply(&body), json!(["a", "b"]));
        let obj = Shape::Object {
            base: &[Seg::Key("customer")],
            fields: &[
                ("ident", Shape::Path(&[Seg::Key("id")])),
                ("k", Shape::Const("true")),
            ],
        };
        assert_eq!(obj.apply(&body), json!({"ident": 1, "k": true}));
        assert_eq!(
            select(
                &body,
                &[
                    Seg::Key("customer"),
                    Seg::Key("tags"),
                    Seg::All,
                    Seg::Key("n")
                ]
            ),
            json!(["a", "b"])
        );
    }
}
