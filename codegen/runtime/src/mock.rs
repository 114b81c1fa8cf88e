//! Mock results: values rendered from templates over the inputs, typed as declared.

use serde_json::Value;

use crate::{Error, Ty};

/// The rendered text of a mock value as a JSON value of type `ty`: a `number` is a JSON
/// number, a `boolean` a JSON boolean (the reference engine returns strings: a bug we do
/// not copy). Text that is not of the declared type is an error naming it.
pub fn typed(text: String, ty: Ty) -> Result<Value, Error> {
    let t = text.trim();
    let bad = |what: &str| Error::InvalidInput(format!("mock value `{text}` is not {what}"));
    Ok(match ty {
        Ty::String | Ty::Any => Value::String(text),
        Ty::Integer => t
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| bad("an integer"))?,
        Ty::Number => match t.parse::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => t
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| bad("a number"))?,
        },
        Ty::Boolean => match t {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("`true` or `false`")),
        },
        Ty::Array | Ty::Object => {
            let v: Value = serde_json::from_str(t).map_err(|_| bad("JSON"))?;
            let ok = if ty == Ty::Array {
                v.is_array()
            } else {
                v.is_object()
            };
            if !ok {
                return Err(bad(ty.name()));
            }
            v
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_values() {
        assert_eq!(typed("42".into(), Ty::Number).unwrap(), json!(42));
        assert_eq!(typed("4.5".into(), Ty::Number).unwrap(), json!(4.5));
        assert_eq!(typed("true".into(), Ty::Boolean).unwrap(), json!(true));
        assert_eq!(typed("x".into(), Ty::String).unwrap(), json!("x"));
        assert!(typed("abc".into(), Ty::Number).is_err());
        assert!(typed("".into(), Ty::Integer).is_err());
    }
}
