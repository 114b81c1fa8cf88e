//! Helpers of generated orchestrations: step outputs, lookups, mappings.
//!
//! The orchestration itself is generated code (straight-line async Rust); these are the
//! small value operations it calls.

use serde_json::{Map, Value};

use crate::{Error, Response, Seg, shape::select};

/// The output of a call step: the answer converted by its format, projected through the
/// consumed operation's `outputParameters` when it declares some (`fields`).
///
/// For an array answer each element (an object; anything else counts as `{}`) gains the
/// projected fields; otherwise the result is an object of the projected fields.
pub fn output(response: Response, fields: &[(&str, &[Seg])]) -> Result<Value, Error> {
    let value = response.json()?;
    if fields.is_empty() {
        return Ok(value);
    }
    Ok(match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| {
                    let mut m = match &item {
                        Value::Object(m) => m.clone(),
                        _ => Map::new(),
                    };
                    for (name, path) in fields {
                        m.insert((*name).to_owned(), select(&item, path));
                    }
                    Value::Object(m)
                })
                .collect(),
        ),
        other => {
            let mut m = Map::new();
            for (name, path) in fields {
                m.insert((*name).to_owned(), select(&other, path));
            }
            Value::Object(m)
        }
    })
}

/// A lookup step: the first object of `index` (an array, or one object) whose `field`
/// equals `key` as text, reduced to the `keep` fields (missing ones are `null`).
///
/// An array `key` looks each element up and collects the matches. No match is `null`.
pub fn lookup(index: &Value, field: &str, key: &Value, keep: &[&str]) -> Value {
    match key {
        Value::Array(keys) => {
            let found: Vec<Value> = keys
                .iter()
                .map(|k| lookup_one(index, field, &text(k), keep))
                .filter(|v| !v.is_null())
                .collect();
            if found.is_empty() {
                Value::Null
            } else {
                Value::Array(found)
            }
        }
        Value::Null => Value::Null,
        k => lookup_one(index, field, &text(k), keep),
    }
}

fn lookup_one(index: &Value, field: &str, key: &str, keep: &[&str]) -> Value {
    let matches = |v: &Value| v.get(field).is_some_and(|f| !f.is_null() && text(f) == key);
    let entry = match index {
        Value::Array(items) => items.iter().find(|v| v.is_object() && matches(v)),
        v @ Value::Object(_) if matches(v) => Some(v),
        _ => None,
    };
    match entry {
        Some(e) => {
            let mut m = Map::new();
            for k in keep {
                m.insert((*k).to_owned(), e.get(*k).cloned().unwrap_or(Value::Null));
            }
            Value::Object(m)
        }
        None => Value::Null,
    }
}

/// Writes `value` at the dotted `target` of `out`, making intermediate objects.
pub fn put(out: &mut Map<String, Value>, target: &[&str], value: Value) {
    let Some((last, parents)) = target.split_last() else {
        return;
    };
    let mut cur = out;
    for p in parents {
        let slot = cur
            .entry((*p).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        cur = match slot {
            Value::Object(m) => m,
            _ => unreachable!("made an object above"),
        };
    }
    cur.insert((*last).to_owned(), value);
}

/// The text of a value for a template: strings as they are, `null` as nothing, others as JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookups() {
        let crew = json!([{"crewId": "C1", "fullName": "Ann", "role": "captain", "x": 1},
                          {"crewId": 2, "fullName": "Bob", "role": "cook"}]);
        assert_eq!(
            lookup(&crew, "crewId", &json!("C1"), &["fullName", "role"]),
            json!({"fullName": "Ann", "role": "captain"})
        );
        // Numbers compare by their text; an array key collects every match.
        assert_eq!(
            lookup(&crew, "crewId", &json!(["2", "C9", "C1"]), &["fullName"]),
            json!([{"fullName": "Bob"}, {"fullName": "Ann"}])
        );
        assert_eq!(
            lookup(&crew, "crewId", &json!("C9"), &["fullName"]),
            Value::Null
        );
        assert_eq!(
            lookup(&crew, "crewId", &json!("C1"), &["missing"]),
            json!({"missing": null})
        );
        assert_eq!(lookup(&crew, "crewId", &json!("C1"), &[]), json!({}));
        // One object as the index.
        assert_eq!(
            lookup(&json!({"id": "a", "n": 1}), "id", &json!("a"), &["n"]),
            json!({"n": 1})
        );
    }

    #[test]
    fn nested_targets() {
        let mut out = Map::new();
        put(&mut out, &["route", "from"], json!("A"));
        put(&mut out, &["route", "to"], json!("B"));
        put(&mut out, &["id"], json!(1));
        assert_eq!(
            Value::Object(out),
            json!({"route": {"from": "A", "to": "B"}, "id": 1})
        );
    }

    #[test]
    fn projections() {
        let resp = |body: &str| Response::json_body(body);
        let fields: &[(&str, &[Seg])] = &[("imo", &[Seg::Key("imo_number")])];
        assert_eq!(
            output(resp(r#"[{"imo_number": "1", "n": 2}, 3]"#), fields).unwrap(),
            json!([{"imo_number": "1", "n": 2, "imo": "1"}, {"imo": null}])
        );
        assert_eq!(
            output(resp(r#"{"imo_number": "9"}"#), fields).unwrap(),
            json!({"imo": "9"})
        );
        assert_eq!(output(resp(r#"{"a": 1}"#), &[]).unwrap(), json!({"a": 1}));
    }
}
