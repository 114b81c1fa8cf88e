//! `steps` cases: the engine's step executor driven directly with base parameters. Our
//! step executors are generated code, so the case becomes a probe: the steps on a REST
//! operation (`of: "rest:METHOD /path"`) or on an MCP tool of the expose namespace, the
//! base parameters as its inputs, and one `mappings` entry per step whose output the case
//! reads (`step_output:<step>`), so the step outputs come back in the result.

use serde_json::{Map, Value, json};

use crate::case::Case;
use crate::checks::Observed;

/// The probe of a `steps` case.
#[derive(Debug, Clone)]
pub struct StepsProbe {
    /// The spec to generate.
    pub spec: Value,
    /// The request that runs the steps.
    pub request: Value,
    /// Where the step outputs are in the answer.
    pub result: ResultAt,
    /// The steps the case reads.
    pub steps: Vec<String>,
}

/// Where the result of the steps is in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultAt {
    /// The REST answer's body.
    Body,
    /// The tool result's text.
    Tool,
}

/// The MCP tool of a probe built from the request's own steps.
const TOOL: &str = "probe-steps";

/// The steps whose outputs the case reads.
fn read_steps(case: &Case) -> Vec<String> {
    let mut out = Vec::new();
    for c in case.checks() {
        if let Some(s) = c
            .get("target")
            .and_then(Value::as_str)
            .and_then(|t| t.strip_prefix("step_output:"))
            && !out.iter().any(|x| x == s)
        {
            out.push(s.to_owned());
        }
    }
    out
}

/// The base parameters as inputs: REST query parameters or tool arguments.
fn inputs(params: &Map<String, Value>, rest: bool) -> Vec<Value> {
    params
        .keys()
        .map(|k| {
            let mut d = json!({"name": k, "type": "string",
                               "description": format!("The parameter {k}")});
            if rest {
                d["in"] = json!("query");
            } else {
                d["required"] = json!(false);
            }
            d
        })
        .collect()
}

/// `mappings` returning each read step's whole output under its name.
fn mappings(steps: &[String]) -> Value {
    Value::Array(
        steps
            .iter()
            .map(|s| json!({"targetName": s, "value": format!("$.{s}")}))
            .collect(),
    )
}

/// Builds the probe of a `steps` case from its spec and request.
pub fn probe(case: &Case, spec: Option<&Value>) -> Result<StepsProbe, String> {
    let mut spec = spec.cloned().ok_or("a `steps` case without a spec")?;
    let req = case.get("request").cloned().unwrap_or(Value::Null);
    let params = req
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let steps = read_steps(case);
    if let Some(of) = req.get("of").and_then(Value::as_str) {
        let (method, path) = of
            .strip_prefix("rest:")
            .and_then(|r| r.split_once(' '))
            .ok_or_else(|| format!("`of: {of}` is not `rest:METHOD /path`"))?;
        let op = spec
            .pointer_mut("/capability/exposes")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .filter(|e| e.get("type").and_then(Value::as_str) == Some("rest"))
            .flat_map(|e| {
                e.get_mut("resources")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
            })
            .filter(|r| r.get("path").and_then(Value::as_str) == Some(path))
            .flat_map(|r| {
                r.get_mut("operations")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
            })
            .find(|o| {
                o.get("method")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.eq_ignore_ascii_case(method))
            })
            .ok_or_else(|| format!("the spec has no REST operation {method} {path}"))?;
        let decls = inputs(&params, true);
        if !decls.is_empty() {
            let list = op
                .as_object_mut()
                .ok_or("the operation is not a mapping")?
                .entry("inputParameters")
                .or_insert_with(|| json!([]));
            if let Value::Array(l) = list {
                l.extend(decls);
            }
        }
        if !steps.is_empty() {
            op["mappings"] = mappings(&steps);
        }
        let query: Map<String, Value> = params.clone();
        return Ok(StepsProbe {
            spec,
            request: json!({"protocol": "rest", "method": method, "path": path, "query": query}),
            result: ResultAt::Body,
            steps,
        });
    }
    let ns = req
        .get("expose_namespace")
        .and_then(Value::as_str)
        .unwrap_or("probe-mcp");
    let mut tool = json!({"name": TOOL, "description": "Runs the case's steps",
                          "steps": req.get("steps").cloned().unwrap_or_else(|| json!([]))});
    let decls = inputs(&params, false);
    if !decls.is_empty() {
        tool["inputParameters"] = Value::Array(decls);
    }
    if !steps.is_empty() {
        tool["mappings"] = mappings(&steps);
    }
    let exposes = spec
        .pointer_mut("/capability/exposes")
        .and_then(Value::as_array_mut)
        .ok_or("the spec has no `capability.exposes`")?;
    exposes.push(json!({"type": "mcp", "namespace": ns, "port": 9100, "tools": [tool]}));
    Ok(StepsProbe {
        spec,
        request: json!({"protocol": "mcp", "method": "tools/call",
                        "params": {"name": TOOL, "arguments": params}}),
        result: ResultAt::Tool,
        steps,
    })
}

/// The `step_output:<step>` targets, read from the answer.
pub fn add_views(obs: &mut Observed, probe: &StepsProbe) {
    let result = match probe.result {
        ResultAt::Body => obs.target("body").ok(),
        ResultAt::Tool => obs.target("tool_json").ok(),
    };
    for s in &probe.steps {
        if let Some(v) = result.as_ref().and_then(|r| r.get(s)) {
            obs.views.insert(format!("step_output:{s}"), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(v: Value) -> Case {
        let mut v = v;
        v["format"] = json!("naftiko-engine-case/1");
        Case::from_value(v, None).unwrap()
    }

    #[test]
    fn rest_and_tool_probes() {
        let spec = json!({"capability": {"exposes": [{"type": "rest", "namespace": "s", "resources": [
            {"path": "/w", "operations": [{"method": "GET", "name": "w", "steps": []}]}]}]}});
        let c = case(json!({"id": "a", "kind": "steps", "constructs": ["steps"],
            "request": {"invoke": "execute_steps", "of": "rest:GET /w", "parameters": {"x": "1"}},
            "expect": {"checks": [{"target": "step_output:s1", "path": "/id", "equals": "u"}]}}));
        let p = probe(&c, Some(&spec)).unwrap();
        assert_eq!(p.result, ResultAt::Body);
        let op = p
            .spec
            .pointer("/capability/exposes/0/resources/0/operations/0")
            .unwrap();
        assert_eq!(op.pointer("/inputParameters/0/in"), Some(&json!("query")));
        assert_eq!(op.pointer("/mappings/0/value"), Some(&json!("$.s1")));
        assert_eq!(p.request["query"], json!({"x": "1"}));
        let c = case(json!({"id": "b", "kind": "steps", "constructs": ["steps"],
            "request": {"invoke": "execute_steps", "expose_namespace": "ns", "steps": [{"type": "call"}],
                        "parameters": {"v": "2"}},
            "expect": {"checks": [{"target": "upstream[0]", "path": "/path", "equals": "/v/2"}]}}));
        let p = probe(&c, Some(&spec)).unwrap();
        assert_eq!(p.result, ResultAt::Tool);
        assert_eq!(
            p.spec.pointer("/capability/exposes/1/namespace"),
            Some(&json!("ns"))
        );
        assert!(
            p.spec
                .pointer("/capability/exposes/1/tools/0/mappings")
                .is_none()
        );
        let mut obs = Observed {
            body: Some(br#"{"s1": {"id": "u"}}"#.to_vec()),
            ..Observed::default()
        };
        let rest = StepsProbe {
            spec: Value::Null,
            request: Value::Null,
            result: ResultAt::Body,
            steps: vec!["s1".into()],
        };
        add_views(&mut obs, &rest);
        assert_eq!(obs.views["step_output:s1"], json!({"id": "u"}));
    }
}
