//! `unit` cases: the engine function a case names, mapped to OUR function that implements
//! the same behaviour, through a small adapter per function (input JSON -> output JSON).
//!
//! Functions of the engine README without an adapter are skipped by rule; add an adapter
//! here when the generator grows the behaviour.

use std::path::Path;

use serde_json::{Map, Value};

use crate::checks::{self, Observed, json_eq};

/// What an adapter may read besides its input.
pub struct UnitEnv<'a> {
    pub fixtures: &'a Path,
}

/// An adapter: the case's input to an output (or an error message).
pub type Adapter = fn(&Value, &UnitEnv) -> Result<Value, String>;

/// How the runner treats one engine function.
pub enum Unit {
    Adapter(Adapter),
    /// Behaviour the generator emits: judged on a probe spec's generated service.
    Spec(SpecAdapter),
    /// Java internals with no counterpart in a compiled service; the reason says why.
    NoCounterpart(&'static str),
    /// Counterpart expected as the generator grows; no adapter yet.
    NoAdapterYet,
}

/// Every function of the engine-cases README's "Unit functions" table.
pub const FUNCTIONS: &[&str] = &[
    "convert_to_json",
    "convert_binary",
    "load_schema_file",
    "apply_max_length",
    "jsonpath",
    "format_from_label",
    "render_template",
    "resolve_output_parameter",
    "build_mock_value",
    "resolve_input_parameter",
    "apply_consumed_inputs",
    "apply_consumed_inputs_then_defaults",
    "consumed_auth",
    "merge_with",
    "collect_rest_inputs",
    "execute_steps",
    "execute_call_or_steps",
    "build_upstream_request",
    "resolve_step_output",
    "resolve_step_mappings",
    "apply_output_mappings",
    "lookup",
    "merge_lookup_result",
    "derive_hints",
    "merge_hints",
    "build_function_index",
    "lookup_function",
    "execute_aggregate_function",
    "execute_script_step",
    "require_scripting_permitted",
    "resolve_binds",
    "allowed_variables",
    "inbound_auth",
    "rest_mock_response",
    "rest_map_output",
    "rest_can_mock",
    "rest_send_response",
    "copy_trusted_headers",
    "tool_annotations",
    "mcp_dispatch",
    "mcp_envelopes",
    "match_resource_uri",
    "resource_read",
    "prompt_substitute",
    "prompt_render",
    "prompt_list",
    "is_metrics_enabled",
    "is_traces_enabled",
    "trace_ring_buffer",
    "otel_sdk_properties",
    "otel_span",
    "otel_span_tree",
    "otel_record_error",
    "otel_init",
    "otel_prometheus",
    "otel_propagation",
    "prometheus_serialize",
    "record_http_client_metric",
    "read_fixture",
];

/// The adapter table. `None` for a function the README does not list.
pub fn unit(function: &str, input: &Value) -> Option<Unit> {
    if !FUNCTIONS.contains(&function) {
        return None;
    }
    Some(match function {
        "read_fixture" => Unit::Adapter(read_fixture),
        "resolve_output_parameter" => Unit::Spec(output_parameter_plan),
        "tool_annotations" => Unit::Spec(annotations_plan),
        "convert_to_json" => Unit::Spec(convert_plan),
        "otel_sdk_properties" | "otel_init" => Unit::NoCounterpart(
            "configures the Java OpenTelemetry SDK (autoconfigure properties, global state)",
        ),
        "mcp_envelopes" => Unit::NoCounterpart(
            "builds JSON-RPC envelopes inside the Java dispatcher; the generated server's envelopes come from rmcp and are judged on the wire",
        ),
        "mcp_dispatch" => Unit::NoCounterpart(
            "calls the Java dispatcher with an in-memory request object (e.g. null) that has no wire form",
        ),
        "execute_script_step" => {
            let lang = input
                .pointer("/step/language")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase();
            if lang == "groovy" || lang == "python" {
                Unit::NoCounterpart(
                    "runs a Groovy/Python script in the JVM (GraalPy, Groovy); a compiled service embeds no such interpreter",
                )
            } else {
                Unit::NoAdapterYet
            }
        }
        _ => Unit::NoAdapterYet,
    })
}

/// `read_fixture`: the text of a fixture file (the harness reads what the test reads).
fn read_fixture(input: &Value, env: &UnitEnv) -> Result<Value, String> {
    let file = input
        .get("file")
        .and_then(Value::as_str)
        .ok_or("input.file is missing")?;
    std::fs::read_to_string(env.fixtures.join(file))
        .map(Value::String)
        .map_err(|e| format!("{file}: {e}"))
}

/// One run of an adapter over an input (or over each of its `cases`).
fn run_one(adapter: Adapter, input: &Value, env: &UnitEnv) -> Result<Value, String> {
    adapter(input, env)
}

/// The inputs of a case: `input.cases[i]` merged over the other input fields, or the
/// input itself.
fn inputs(input: &Value) -> Option<Vec<Value>> {
    let cases = input.get("cases")?.as_array()?;
    let base: Map<String, Value> = input
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| *k != "cases")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Some(
        cases
            .iter()
            .map(|c| {
                let mut m = base.clone();
                if let Some(o) = c.as_object() {
                    m.extend(o.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// Judges one result against a unit expectation block.
/// `framed`: the error comes from a generated service, which frames the function's message
/// with its own context, so `error_equals` means "contains".
fn judge(
    result: &Result<Value, String>,
    expect: &Value,
    all: &[Result<Value, String>],
    framed: bool,
) -> Result<(), String> {
    let Some(exp) = expect.as_object() else {
        return Ok(());
    };
    if exp.get("error").and_then(Value::as_bool) == Some(true) {
        let e = match result {
            Ok(v) => {
                return Err(format!(
                    "expected an error, got {}",
                    checks::show(&v.to_string())
                ));
            }
            Err(e) => e,
        };
        if let Some(want) = exp.get("error_equals").and_then(Value::as_str)
            && if framed { !e.contains(want) } else { e != want }
        {
            return Err(format!(
                "error: expected {}, got {}",
                checks::show(want),
                checks::show(e)
            ));
        }
        if let Some(want) = exp.get("error_contains").and_then(Value::as_str)
            && !e.contains(want)
        {
            return Err(format!(
                "error: expected to contain {}, got {}",
                checks::show(want),
                checks::show(e)
            ));
        }
        if let Some(Value::Array(any)) = exp.get("error_contains_any")
            && !any.iter().filter_map(Value::as_str).any(|w| e.contains(w))
        {
            return Err(format!(
                "error: expected one of {}, got {}",
                Value::Array(any.clone()),
                checks::show(e)
            ));
        }
        return Ok(());
    }
    let output = result
        .as_ref()
        .map_err(|e| format!("unexpected error: {}", checks::show(e)))?;
    if let Some(want) = exp.get("output")
        && !json_eq(want, output)
    {
        return Err(format!(
            "output: expected {}, got {}",
            checks::show(&want.to_string()),
            checks::show(&output.to_string())
        ));
    }
    if let Some(want) = exp.get("output_text").and_then(Value::as_str) {
        let got = match output {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        if got != want {
            return Err(format!(
                "output_text: expected {}, got {}",
                checks::show(want),
                checks::show(&got)
            ));
        }
    }
    if let Some(Value::Object(fields)) = exp.get("output_fields") {
        for (k, want) in fields {
            let got = output.get(k);
            let ok = match (want, got) {
                (Value::Null, None | Some(Value::Null)) => true,
                (w, Some(g)) => json_eq(w, g),
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "output_fields.{k}: expected {want}, got {}",
                    got.map(|g| checks::show(&g.to_string()))
                        .unwrap_or_else(|| "absent".into())
                ));
            }
        }
    }
    if let Some(Value::Array(want)) = exp.get("output_set") {
        let got = output.as_array().cloned().unwrap_or_default();
        let same =
            want.len() == got.len() && want.iter().all(|w| got.iter().any(|g| json_eq(w, g)));
        if !same {
            return Err(format!(
                "output_set: expected {}, got {}",
                Value::Array(want.clone()),
                checks::show(&output.to_string())
            ));
        }
    }
    let obs = Observed {
        output: Some(output.clone()),
        ..Observed::default()
    };
    let refs = |r: &str| -> Result<crate::pointer::Found, String> {
        // `cases[i].output/<pointer>` names another input's result.
        if let Some(rest) = r.strip_prefix("cases[")
            && let Some((i, tail)) = rest.split_once("].")
        {
            let i: usize = i.parse().map_err(|_| format!("bad reference {r}"))?;
            let other = all
                .get(i)
                .and_then(|x| x.as_ref().ok())
                .ok_or_else(|| format!("reference {r}: no result {i}"))?;
            let (target, path) = tail
                .split_once('/')
                .map(|(t, p)| (t, format!("/{p}")))
                .unwrap_or((tail, String::new()));
            let o = Observed {
                output: Some(other.clone()),
                ..Observed::default()
            };
            return o.find(target, &path);
        }
        checks::refs_in(&obs)(r)
    };
    checks::evaluate(expect, &obs, &refs)
}

/// The expectation keys judged by [`run`].
pub const UNIT_KEYS: &[&str] = &[
    "output",
    "outputs",
    "output_fields",
    "output_set",
    "output_text",
    "cases",
    "error",
    "error_equals",
    "error_contains",
    "error_contains_any",
];

/// Runs a unit case through a pure adapter and judges its expectations.
pub fn run(adapter: Adapter, input: &Value, expect: &Value, env: &UnitEnv) -> Result<(), String> {
    let (list, many) = match inputs(input) {
        Some(list) => (list, true),
        None => (vec![input.clone()], false),
    };
    let results: Vec<Result<Value, String>> =
        list.iter().map(|i| run_one(adapter, i, env)).collect();
    judge_all(&results, many, expect, false)
}

/// Judges the results of a unit case: one per input (`many` when the input has `cases`).
pub fn judge_all(
    results: &[Result<Value, String>],
    many: bool,
    expect: &Value,
    framed: bool,
) -> Result<(), String> {
    if !many {
        let result = results.first().cloned().unwrap_or(Ok(Value::Null));
        if let Some(Value::Array(outs)) = expect.get("outputs") {
            let got = result
                .as_ref()
                .map_err(|e| format!("unexpected error: {e}"))?;
            if !json_eq(&Value::Array(outs.clone()), got) {
                return Err(format!(
                    "outputs: expected {}, got {}",
                    Value::Array(outs.clone()),
                    checks::show(&got.to_string())
                ));
            }
        }
        return judge(&result, expect, std::slice::from_ref(&result), framed);
    }
    if let Some(Value::Array(outs)) = expect.get("outputs") {
        for (i, (want, got)) in outs.iter().zip(results).enumerate() {
            let got = got
                .as_ref()
                .map_err(|e| format!("input {i}: unexpected error: {e}"))?;
            if !json_eq(want, got) {
                return Err(format!(
                    "outputs[{i}]: expected {}, got {}",
                    checks::show(&want.to_string()),
                    checks::show(&got.to_string())
                ));
            }
        }
    }
    if let Some(Value::Array(sub)) = expect.get("cases") {
        for (i, (e, r)) in sub.iter().zip(results).enumerate() {
            judge(r, e, results, framed).map_err(|m| format!("cases[{i}]: {m}"))?;
        }
    }
    Ok(())
}

// ----- spec-backed adapters -----
//
// Some engine functions are, in this project, code the generator emits: their adapter
// writes a tiny spec that exercises the behaviour, and the runner asks the generated
// service (a probe per input) instead of calling a library function.

/// What the runner asks the generated service for one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// `tools/call` of `tool` (no arguments) while the stub answers `GET /<tool>` with
    /// `body` of `content_type`; the output is the tool's result text, parsed as JSON
    /// when it is JSON.
    ToolCall {
        tool: String,
        body: String,
        content_type: String,
    },
    /// The `annotations` of `tool` in `tools/list` (`null` when it has none).
    Annotations { tool: String },
}

/// A spec and its probes, one per input.
#[derive(Debug, Clone)]
pub struct SpecPlan {
    /// YAML; `${UPSTREAM}` stands for the stub origin.
    pub spec: String,
    pub probes: Vec<Probe>,
    /// True when the case's input has `cases`.
    pub many: bool,
}

/// Builds the plan of a spec-backed adapter from the case's input.
pub type SpecAdapter = fn(&Value) -> Result<SpecPlan, String>;

/// The namespace of the probe spec's consumed API.
pub const PROBE_API: &str = "probe-api";

/// A probe spec: one consumed `GET /<tool>` and one MCP tool per input.
fn probe_spec(tools: Vec<Value>) -> Result<String, String> {
    probe_spec_with(tools, &[])
}

/// Like [`probe_spec`], with extra fields on each consumed operation (same order).
fn probe_spec_with(tools: Vec<Value>, op_extra: &[Value]) -> Result<String, String> {
    let resources: Vec<Value> = tools
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .enumerate()
        .map(|(i, n)| {
            let mut op = serde_json::json!({"name": format!("get-{n}"), "method": "GET"});
            if let (Some(Value::Object(extra)), Some(o)) = (op_extra.get(i), op.as_object_mut()) {
                o.extend(extra.clone());
            }
            serde_json::json!({"name": n, "path": format!("/{n}"), "operations": [op]})
        })
        .collect();
    let spec = serde_json::json!({
        "naftiko": "1.0.0-alpha2",
        "capability": {
            "consumes": [{"type": "http", "namespace": PROBE_API, "baseUri": "${UPSTREAM}", "resources": resources}],
            "exposes": [{"type": "mcp", "namespace": "probe-mcp", "port": 9100, "tools": tools}]
        }
    });
    serde_yaml::to_string(&spec).map_err(|e| e.to_string())
}

/// `resolve_output_parameter`: the output parameter on a tool whose upstream answers `root`.
fn output_parameter_plan(input: &Value) -> Result<SpecPlan, String> {
    let (list, many) = match inputs(input) {
        Some(l) => (l, true),
        None => (vec![input.clone()], false),
    };
    let mut tools = Vec::new();
    let mut probes = Vec::new();
    for (i, one) in list.iter().enumerate() {
        let param = one
            .get("outputParameter")
            .ok_or("input.outputParameter is missing")?;
        let name = format!("probe-{i}");
        tools.push(
            serde_json::json!({"name": name, "description": format!("Probe {i}"),
            "call": format!("{PROBE_API}.get-{name}"), "outputParameters": [param]}),
        );
        probes.push(Probe::ToolCall {
            tool: name,
            body: one.get("root").cloned().unwrap_or(Value::Null).to_string(),
            content_type: "application/json".into(),
        });
    }
    Ok(SpecPlan {
        spec: probe_spec(tools)?,
        probes,
        many,
    })
}

/// `convert_to_json`: a consumed operation with `outputRawFormat` answering `text`, and a
/// tool passing the converted body through (`mapping: $.`).
fn convert_plan(input: &Value) -> Result<SpecPlan, String> {
    let (list, many) = match inputs(input) {
        Some(l) => (l, true),
        None => (vec![input.clone()], false),
    };
    let mut tools = Vec::new();
    let mut ops = Vec::new();
    let mut probes = Vec::new();
    for (i, one) in list.iter().enumerate() {
        let name = format!("probe-{i}");
        let format = one.get("format").and_then(Value::as_str).map(str::to_owned);
        let mut op = serde_json::Map::new();
        if let Some(f) = &format {
            op.insert("outputRawFormat".into(), Value::String(f.clone()));
        }
        if let Some(s) = one
            .get("outputSchema")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            op.insert("outputSchema".into(), Value::String(s.to_owned()));
        }
        ops.push(Value::Object(op));
        tools.push(
            serde_json::json!({"name": name, "description": format!("Probe {i}"),
            "call": format!("{PROBE_API}.get-{name}"),
            "outputParameters": [{"type": "object", "mapping": "$."}]}),
        );
        let content_type = match format.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("json") => "application/json",
            Some("xml") => "application/xml",
            Some("yaml") => "application/yaml",
            Some("csv") => "text/csv",
            Some("tsv") => "text/tab-separated-values",
            Some("html") => "text/html",
            Some("markdown") => "text/markdown",
            Some(_) => "application/octet-stream",
        };
        probes.push(Probe::ToolCall {
            tool: name,
            body: one
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            content_type: content_type.into(),
        });
    }
    Ok(SpecPlan {
        spec: probe_spec_with(tools, &ops)?,
        probes,
        many,
    })
}

/// `tool_annotations`: the tool's label and hints on a generated MCP tool.
fn annotations_plan(input: &Value) -> Result<SpecPlan, String> {
    let (list, many) = match inputs(input) {
        Some(l) => (l, true),
        None => (vec![input.clone()], false),
    };
    let mut tools = Vec::new();
    let mut probes = Vec::new();
    for (i, one) in list.iter().enumerate() {
        let mut tool = one.get("tool").cloned().ok_or("input.tool is missing")?;
        let name = format!("probe-{i}");
        tool["name"] = Value::String(name.clone());
        tool["call"] = Value::String(format!("{PROBE_API}.get-{name}"));
        if tool.get("description").is_none() {
            tool["description"] = Value::String(format!("Probe {i}"));
        }
        tools.push(tool);
        probes.push(Probe::Annotations { tool: name });
    }
    Ok(SpecPlan {
        spec: probe_spec(tools)?,
        probes,
        many,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn echo(input: &Value, _: &UnitEnv) -> Result<Value, String> {
        match input.get("fail") {
            Some(_) => Err("boom: not found".into()),
            None => Ok(input.get("x").cloned().unwrap_or(Value::Null)),
        }
    }

    #[test]
    fn unit_expectations() {
        let env = UnitEnv {
            fixtures: Path::new("/nonexistent"),
        };
        assert!(
            run(
                echo,
                &json!({"x": {"a": 1}}),
                &json!({"output": {"a": 1}}),
                &env
            )
            .is_ok()
        );
        assert!(
            run(
                echo,
                &json!({"x": {"a": 1}}),
                &json!({"output_fields": {"a": 1, "b": null}}),
                &env
            )
            .is_ok()
        );
        assert!(
            run(
                echo,
                &json!({"x": {"a": 1}}),
                &json!({"output_fields": {"a": 2}}),
                &env
            )
            .is_err()
        );
        assert!(
            run(
                echo,
                &json!({"fail": 1}),
                &json!({"error": true, "error_contains_any": ["x", "not found"]}),
                &env
            )
            .is_ok()
        );
        assert!(
            run(
                echo,
                &json!({"cases": [{"x": 1}, {"x": [2]}]}),
                &json!({"outputs": [1, [2]]}),
                &env
            )
            .is_ok()
        );
        let same = json!({"cases": [{}, {"checks": [{"target": "output", "path": "", "same_json_as": "cases[0].output/t"}]}]});
        assert!(
            run(
                echo,
                &json!({"cases": [{"x": {"t": [1]}}, {"x": [1]}]}),
                &same,
                &env
            )
            .is_ok()
        );
        assert!(
            run(
                echo,
                &json!({"x": ["a", "b"]}),
                &json!({"output_set": ["b", "a"]}),
                &env
            )
            .is_ok()
        );
    }

    #[test]
    fn table() {
        assert!(matches!(
            unit("read_fixture", &Value::Null),
            Some(Unit::Adapter(_))
        ));
        assert!(matches!(
            unit("otel_init", &Value::Null),
            Some(Unit::NoCounterpart(_))
        ));
        assert!(matches!(
            unit(
                "execute_script_step",
                &json!({"step": {"language": "groovy"}})
            ),
            Some(Unit::NoCounterpart(_))
        ));
        assert!(matches!(
            unit("render_template", &Value::Null),
            Some(Unit::NoAdapterYet)
        ));
        assert!(unit("no_such_function", &Value::Null).is_none());
    }
}
