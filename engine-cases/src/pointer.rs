//! JSON pointers as the engine cases write them: RFC 6901 plus two segment forms.
//!
//! - `*` visits every element of an array (or every value of an object); the result is then
//!   a list of values, and `each_*` ops judge every element while other ops judge the list.
//! - `key=value` selects the first array element whose field `key` has the text `value`.
//!   Values may contain `/` (`uri=data://a/b`), so the shortest run of segments that matches
//!   an element is taken.

use serde_json::Value;

/// What a pointer found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// A plain pointer: the value, or `None` when a step is missing.
    One(Option<Value>),
    /// A pointer with `*`: one entry per visited element (`None` where the rest is missing).
    Many(Vec<Option<Value>>),
}

impl Found {
    /// The value as one JSON value: a `*` result becomes the array of the values present.
    pub fn value(&self) -> Option<Value> {
        match self {
            Found::One(v) => v.clone(),
            Found::Many(vs) => Some(Value::Array(vs.iter().flatten().cloned().collect())),
        }
    }
}

/// Splits a pointer into unescaped segments (`""` is the root, no segment).
pub fn segments(path: &str) -> Vec<String> {
    if path.is_empty() {
        return Vec::new();
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    path.split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Resolves `path` in `root`.
pub fn resolve(root: &Value, path: &str) -> Found {
    let segs = segments(path);
    let mut out = Vec::new();
    let mut many = false;
    walk(Some(root), &segs, &mut out, &mut many);
    if many {
        Found::Many(out)
    } else {
        Found::One(out.into_iter().next().flatten())
    }
}

/// The text a `key=value` selector compares with: strings as they are, others as JSON.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn walk(node: Option<&Value>, segs: &[String], out: &mut Vec<Option<Value>>, many: &mut bool) {
    let Some(node) = node else {
        out.push(None);
        return;
    };
    let Some((seg, rest)) = segs.split_first() else {
        out.push(Some(node.clone()));
        return;
    };
    if seg == "*" {
        *many = true;
        match node {
            Value::Array(items) => items.iter().for_each(|i| walk(Some(i), rest, out, many)),
            Value::Object(map) => map.values().for_each(|i| walk(Some(i), rest, out, many)),
            _ => {}
        }
        return;
    }
    match node {
        Value::Object(map) => walk(map.get(seg.as_str()), rest, out, many),
        Value::Array(items) => {
            if let Ok(i) = seg.parse::<usize>() {
                return walk(items.get(i), rest, out, many);
            }
            if let Some((key, first)) = seg.split_once('=') {
                // Shortest run of segments whose joined text matches an element.
                let mut value = first.to_owned();
                for k in 0..=rest.len() {
                    if k > 0 {
                        value.push('/');
                        value.push_str(&rest[k - 1]);
                    }
                    if let Some(hit) = items
                        .iter()
                        .find(|e| e.get(key).map(text_of).as_deref() == Some(value.as_str()))
                    {
                        return walk(Some(hit), &rest[k..], out, many);
                    }
                }
            }
            out.push(None);
        }
        _ => out.push(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_pointers() {
        let v = json!({"a": {"b": [1, {"c": "x"}]}, "k/e~y": 2});
        assert_eq!(resolve(&v, ""), Found::One(Some(v.clone())));
        assert_eq!(resolve(&v, "/a/b/0"), Found::One(Some(json!(1))));
        assert_eq!(resolve(&v, "/a/b/1/c"), Found::One(Some(json!("x"))));
        assert_eq!(resolve(&v, "/a/b/7"), Found::One(None));
        assert_eq!(resolve(&v, "/a/x/y"), Found::One(None));
        assert_eq!(resolve(&v, "/k~1e~0y"), Found::One(Some(json!(2))));
    }

    #[test]
    fn wildcard_collects() {
        let v = json!({"t": [{"n": "a"}, {"n": "b"}, {"m": 1}]});
        assert_eq!(
            resolve(&v, "/t/*/n"),
            Found::Many(vec![Some(json!("a")), Some(json!("b")), None])
        );
        assert_eq!(resolve(&v, "/t/*/n").value(), Some(json!(["a", "b"])));
        assert_eq!(resolve(&json!({"t": []}), "/t/*/n"), Found::Many(vec![]));
    }

    #[test]
    fn key_value_selector() {
        let v = json!({"r": [{"uri": "data://a/b", "name": "x"}, {"uri": "y", "name": 3}]});
        assert_eq!(
            resolve(&v, "/r/uri=data://a/b/name"),
            Found::One(Some(json!("x")))
        );
        assert_eq!(resolve(&v, "/r/name=3/uri"), Found::One(Some(json!("y"))));
        assert_eq!(resolve(&v, "/r/name=4/uri"), Found::One(None));
    }
}
