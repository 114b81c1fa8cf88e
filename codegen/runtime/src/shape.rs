//! Output mappings (`outputParameters`): the shape of a result, taken from the upstream
//! answer (converted to JSON). Paths are parsed at build time into [`Seg`] tables.

use serde_json::{Map, Value};

use crate::Ty;

/// One step of a JSONPath.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seg {
    /// `.name`: a field of an object.
    Key(&'static str),
    /// `[n]`: an element of an array (0-based).
    Index(usize),
    /// `[*]`: every element of an array.
    All,
}

/// The shape of an exposed result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// `$.`: the upstream body as it is.
    Whole,
    /// The value at a JSONPath (`null` when absent), of the declared type: text that holds
    /// a number or boolean of the declared type is converted (XML and CSV values are text);
    /// another type is an error. Strings longer than `max_length` characters are cut.
    Path {
        /// Where the value is.
        path: &'static [Seg],
        /// The declared type.
        ty: Ty,
        /// The longest string kept, in characters.
        max_length: Option<usize>,
    },
    /// An object of named fields, each mapped from the value at `base`.
    Object {
        /// Where the fields' paths start.
        base: &'static [Seg],
        /// Each field's name and shape, in output order.
        fields: &'static [(&'static str, Shape)],
    },
    /// Every element of the array at `base`, mapped through `item`. A single value that is
    /// not an array counts as an array of one (an XML list of one element is no array).
    Array {
        /// Where the array is.
        base: &'static [Seg],
        /// The shape of each element, relative to it.
        item: &'static Shape,
    },
    /// The object at `base` with each of its values mapped through `value` (a dictionary);
    /// `null` when it is not an object.
    Map {
        /// Where the object is.
        base: &'static [Seg],
        /// The shape of each value, relative to it.
        value: &'static Shape,
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
    /// Maps `value` (the upstream body as JSON) to this shape; an error names a value that
    /// is not of its declared type.
    pub fn apply(&self, value: &Value) -> Result<Value, String> {
        Ok(match self {
            Shape::Whole => value.clone(),
            Shape::Path {
                path,
                ty,
                max_length,
            } => typed(select(value, path), *ty, *max_length).map_err(|got| {
                format!(
                    "the value at `{}` is {got}, but the spec declares {}",
                    path_text(path),
                    ty.name()
                )
            })?,
            Shape::Object { base, fields } => {
                let base = select(value, base);
                let mut out = Map::with_capacity(fields.len());
                for (name, shape) in *fields {
                    out.insert((*name).to_owned(), shape.apply(&base)?);
                }
                Value::Object(out)
            }
            Shape::Array { base, item } => match select(value, base) {
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .map(|v| item.apply(v))
                        .collect::<Result<_, _>>()?,
                ),
                Value::Null => Value::Null,
                other => Value::Array(vec![item.apply(&other)?]),
            },
            Shape::Map { base, value: shape } => match select(value, base) {
                Value::Object(entries) => {
                    let mut out = Map::with_capacity(entries.len());
                    for (k, v) in &entries {
                        out.insert(k.clone(), shape.apply(v)?);
                    }
                    Value::Object(out)
                }
                _ => Value::Null,
            },
            Shape::Const(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        })
    }
}

/// `v` as a value of type `ty`; the error describes what `v` is.
fn typed(v: Value, ty: Ty, max_length: Option<usize>) -> Result<Value, String> {
    let v = match (ty, v) {
        (_, Value::Null) => Value::Null,
        (Ty::Number, Value::String(s)) => match s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            Some(n) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::Number(n)),
            None => return Err(format!("the text `{}`", clip(&s))),
        },
        (Ty::Integer, Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => return Err(format!("the text `{}`", clip(&s))),
        },
        (Ty::Boolean, Value::String(s)) => match s.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(format!("the text `{}`", clip(&s))),
        },
        (Ty::Integer, Value::Number(n))
            if n.as_i64().is_none() && n.as_f64().is_some_and(|f| f.fract() != 0.0) =>
        {
            return Err(format!("the number {n}"));
        }
        (Ty::String, v @ (Value::Number(_) | Value::Bool(_))) => Value::String(v.to_string()),
        (Ty::Number | Ty::Integer, v @ Value::Number(_)) => v,
        (Ty::Boolean, v @ Value::Bool(_)) => v,
        (Ty::String, v @ Value::String(_)) => v,
        (Ty::Any | Ty::Array | Ty::Object, v) => v,
        (_, v) => return Err(kind(&v).to_owned()),
    };
    Ok(match (v, max_length) {
        (Value::String(s), Some(n)) if s.chars().count() > n => {
            Value::String(s.chars().take(n).collect())
        }
        (v, _) => v,
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// A path as JSONPath text, for messages.
pub(crate) fn path_text(path: &[Seg]) -> String {
    let mut s = String::from("$");
    for seg in path {
        match seg {
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
            Seg::All => s.push_str("[*]"),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        let body = json!({"customer": {"id": 1, "tags": [{"n": "a"}, {"n": "b"}]}});
        assert_eq!(Shape::Whole.apply(&body).unwrap(), body);
        let path = |p: &'static [Seg]| Shape::Path {
            path: p,
            ty: Ty::Any,
            max_length: None,
        };
        assert_eq!(
            path(&[Seg::Key("customer"), Seg::Key("id")])
                .apply(&body)
                .unwrap(),
            json!(1)
        );
        assert_eq!(path(&[Seg::Key("nope")]).apply(&body).unwrap(), Value::Null);
        static ITEM: Shape = Shape::Path {
            path: &[Seg::Key("n")],
            ty: Ty::String,
            max_length: None,
        };
        let arr = Shape::Array {
            base: &[Seg::Key("customer"), Seg::Key("tags")],
            item: &ITEM,
        };
        assert_eq!(arr.apply(&body).unwrap(), json!(["a", "b"]));
        // One element that is not an array is an array of one.
        assert_eq!(
            Shape::Array {
                base: &[Seg::Key("one")],
                item: &ITEM
            }
            .apply(&json!({"one": {"n": "x"}}))
            .unwrap(),
            json!(["x"])
        );
        let obj = Shape::Object {
            base: &[Seg::Key("customer")],
            fields: &[
                (
                    "ident",
                    Shape::Path {
                        path: &[Seg::Key("id")],
                        ty: Ty::Any,
                        max_length: None,
                    },
                ),
                ("k", Shape::Const("true")),
            ],
        };
        assert_eq!(obj.apply(&body).unwrap(), json!({"ident": 1, "k": true}));
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

    #[test]
    fn declared_types() {
        let at = |ty, max_length| Shape::Path {
            path: &[Seg::Key("v")],
            ty,
            max_length,
        };
        // Text holding a value of the declared type is converted (XML, CSV).
        assert_eq!(
            at(Ty::Number, None).apply(&json!({"v": "42"})).unwrap(),
            json!(42)
        );
        assert_eq!(
            at(Ty::Number, None).apply(&json!({"v": "4.5"})).unwrap(),
            json!(4.5)
        );
        assert_eq!(
            at(Ty::Boolean, None).apply(&json!({"v": "true"})).unwrap(),
            json!(true)
        );
        assert_eq!(
            at(Ty::String, None).apply(&json!({"v": 7})).unwrap(),
            json!("7")
        );
        assert_eq!(at(Ty::Number, None).apply(&json!({})).unwrap(), Value::Null);
        let e = at(Ty::Number, None)
            .apply(&json!({"v": "abc"}))
            .unwrap_err();
        assert_eq!(
            e,
            "the value at `$.v` is the text `abc`, but the spec declares a number"
        );
        let e = at(Ty::Boolean, None).apply(&json!({"v": [1]})).unwrap_err();
        assert!(e.contains("is an array"), "{e}");
        assert_eq!(
            at(Ty::String, Some(3))
                .apply(&json!({"v": "abcdef"}))
                .unwrap(),
            json!("abc")
        );
    }
}
