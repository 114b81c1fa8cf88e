//! Checks on the engine's internal model (`resolved_spec`, `derived`, `adapters`, ...)
//! translated to what the generated service shows: `tools/list` of its MCP servers and
//! the generator's list of surfaces and clients. Paths with no counterpart are a skip rule.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::prepare::Surface;

/// What a translatable check needs observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Surfaces and clients of the generator (no service needed).
    Model,
    /// `tools/list` of the surface that is `exposes[i]` in the spec.
    Tools(usize),
}

/// `/capability/exposes/0/tools/name=x/hints` -> `/capability/exposes/N/tools/K/hints`.
pub fn path_class(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.parse::<usize>().is_ok() {
                "N"
            } else if s.contains('=') {
                "K"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

const TOOL_FIELDS: &[&str] = &[
    "name",
    "description",
    "label",
    "title",
    "hints",
    "inputParameters",
];

/// `Ok(Some(need))` for a translatable check, `Ok(None)` for a target this module does not
/// own, `Err(rule)` for a check on the engine's model that has no counterpart.
pub fn classify(target: &str, path: &str) -> Result<Option<Need>, String> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let index = |s: &str| s.parse::<usize>().ok();
    let no = |what: &str| {
        Err(format!(
            "target `{target}` path class `{}`: {what}",
            path_class(path)
        ))
    };
    match target {
        "resolved_spec" => match segs.as_slice() {
            ["capability", "exposes"] | ["capability", "consumes"] => Ok(Some(Need::Model)),
            ["capability", "consumes", n, "namespace"] if index(n).is_some() => Ok(Some(Need::Model)),
            ["capability", "exposes", n, "type" | "namespace"] if index(n).is_some() => {
                Ok(Some(Need::Model))
            }
            ["capability", "exposes", n, "tools", rest @ ..] if index(n).is_some() => {
                let ok = match rest {
                    [] => true,
                    [_tool, field, ..] => TOOL_FIELDS.contains(field),
                    _ => false,
                };
                if ok {
                    Ok(Some(Need::Tools(index(n).unwrap_or(0))))
                } else {
                    no("a tool field the engine keeps in its model (the generated tools/list shows name, description, title, annotations and inputSchema only)")
                }
            }
            _ => no("the engine's model after load has no counterpart in the generated service"),
        },
        "derived" => match segs.as_slice() {
            ["exposes", n, "transport"] if index(n).is_some() => Ok(Some(Need::Model)),
            ["exposes", n, "tool_names"] if index(n).is_some() => {
                Ok(Some(Need::Tools(index(n).unwrap_or(0))))
            }
            _ => no("an engine default or setting with no counterpart in the generated service"),
        },
        "adapters" => match segs.as_slice() {
            ["server_count"] | ["client_count"] | ["client_namespaces"] => Ok(Some(Need::Model)),
            _ => no("an engine adapter detail"),
        },
        "bindings" => Err(
            "target `bindings`: the engine's resolved bind values; the generated service reads its variables from the environment".into(),
        ),
        t if t.starts_with("function:") => Err(format!(
            "target `function:<ref>`: the engine's aggregate function object as loaded ({})",
            path_class(path)
        )),
        _ => Ok(None),
    }
}

/// The spec's `exposes` entries.
fn exposes(spec: Option<&Value>) -> Vec<Value> {
    spec.and_then(|s| s.pointer("/capability/exposes"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The generated surface that is `exposes[i]` of the spec: by namespace, else the n-th
/// surface of the same kind.
pub fn surface_of<'s>(
    spec: Option<&Value>,
    surfaces: &'s [Surface],
    i: usize,
) -> Option<&'s Surface> {
    let all = exposes(spec);
    let entry = all.get(i)?;
    if let Some(ns) = entry.get("namespace").and_then(Value::as_str) {
        return surfaces.iter().find(|s| s.namespace == ns);
    }
    let kind = entry.get("type").and_then(Value::as_str)?;
    let nth = all[..i]
        .iter()
        .filter(|e| e.get("type").and_then(Value::as_str) == Some(kind))
        .count();
    surfaces.iter().filter(|s| s.kind == kind).nth(nth)
}

/// A `tools/list` tool in the engine model's vocabulary.
fn tool_view(t: &Value) -> Value {
    let mut o = Map::new();
    for k in ["name", "description", "title"] {
        if let Some(v) = t.get(k) {
            o.insert(k.to_owned(), v.clone());
        }
    }
    if let Some(title) = t.get("title") {
        o.insert("label".into(), title.clone());
    }
    let mut hints = Map::new();
    if let Some(a) = t.get("annotations") {
        for (from, to) in [
            ("readOnlyHint", "readOnly"),
            ("destructiveHint", "destructive"),
            ("idempotentHint", "idempotent"),
            ("openWorldHint", "openWorld"),
        ] {
            if let Some(v) = a.get(from).filter(|v| !v.is_null()) {
                hints.insert(to.to_owned(), v.clone());
            }
        }
    }
    if !hints.is_empty() {
        o.insert("hints".into(), Value::Object(hints));
    }
    let schema = t.get("inputSchema");
    let required: Vec<&str> = schema
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let params: Vec<Value> = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, p)| {
                    let mut v =
                        json!({"name": name, "required": required.contains(&name.as_str())});
                    for k in ["type", "description"] {
                        if let Some(x) = p.get(k) {
                            v[k] = x.clone();
                        }
                    }
                    v
                })
                .collect()
        })
        .unwrap_or_default();
    o.insert("inputParameters".into(), Value::Array(params));
    Value::Object(o)
}

/// Builds the translated targets from the generator's model and the `tools/list` results
/// (by `exposes` index).
pub fn views(
    spec: Option<&Value>,
    surfaces: &[Surface],
    clients: &[String],
    tools: &BTreeMap<usize, Vec<Value>>,
) -> BTreeMap<String, Value> {
    let n = exposes(spec).len();
    let mut resolved = Vec::new();
    let mut derived = Vec::new();
    for i in 0..n {
        let Some(s) = surface_of(spec, surfaces, i) else {
            resolved.push(Value::Null);
            derived.push(Value::Null);
            continue;
        };
        let mut e = json!({"type": s.kind, "namespace": s.namespace});
        let mut d = json!({"transport": if s.stdio { "stdio" } else { "http" }});
        if let Some(list) = tools.get(&i) {
            e["tools"] = Value::Array(list.iter().map(tool_view).collect());
            d["tool_names"] =
                Value::Array(list.iter().filter_map(|t| t.get("name").cloned()).collect());
        }
        resolved.push(e);
        derived.push(d);
    }
    let consumes: Vec<Value> = clients.iter().map(|c| json!({"namespace": c})).collect();
    let mut out = BTreeMap::new();
    out.insert(
        "resolved_spec".to_owned(),
        json!({"capability": {"exposes": resolved, "consumes": consumes}}),
    );
    out.insert("derived".to_owned(), json!({"exposes": derived}));
    out.insert(
        "adapters".to_owned(),
        json!({"server_count": surfaces.len(), "client_count": clients.len(), "client_namespaces": clients}),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(
            classify(
                "resolved_spec",
                "/capability/exposes/0/tools/1/hints/readOnly"
            ),
            Ok(Some(Need::Tools(0)))
        );
        assert_eq!(
            classify("resolved_spec", "/capability/exposes/2/tools"),
            Ok(Some(Need::Tools(2)))
        );
        assert_eq!(
            classify("resolved_spec", "/capability/consumes/0/namespace"),
            Ok(Some(Need::Model))
        );
        assert!(classify("resolved_spec", "/capability/exposes/0/tools/0/call").is_err());
        assert!(
            classify("resolved_spec", "/capability/consumes/0/baseUri")
                .unwrap_err()
                .contains("/capability/consumes/N/baseUri")
        );
        assert_eq!(
            classify("derived", "/exposes/0/transport"),
            Ok(Some(Need::Model))
        );
        assert!(classify("derived", "/control/management/health").is_err());
        assert!(classify("function:a.b", "/inputParameters").is_err());
        assert_eq!(classify("rpc", "/result"), Ok(None));
    }

    #[test]
    fn tool_views() {
        let spec = json!({"capability": {"exposes": [{"type": "mcp", "namespace": "m"}]}});
        let surfaces = vec![Surface {
            kind: "mcp".into(),
            namespace: "m".into(),
            stdio: true,
        }];
        let mut tools = BTreeMap::new();
        tools.insert(
            0,
            vec![
                json!({"name": "t", "title": "T", "annotations": {"readOnlyHint": true},
            "inputSchema": {"properties": {"a": {"type": "string"}}, "required": ["a"]}}),
            ],
        );
        let v = views(Some(&spec), &surfaces, &["c".into()], &tools);
        let r = &v["resolved_spec"];
        assert_eq!(
            r.pointer("/capability/exposes/0/tools/0/hints/readOnly"),
            Some(&json!(true))
        );
        assert_eq!(
            r.pointer("/capability/exposes/0/tools/0/label"),
            Some(&json!("T"))
        );
        assert_eq!(
            r.pointer("/capability/exposes/0/tools/0/inputParameters/0/required"),
            Some(&json!(true))
        );
        assert_eq!(
            v["derived"].pointer("/exposes/0/transport"),
            Some(&json!("stdio"))
        );
        assert_eq!(v["adapters"]["client_namespaces"], json!(["c"]));
    }
}
