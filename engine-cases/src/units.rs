//! `unit` cases: the engine function a case names, mapped to OUR implementation of the
//! same behaviour, through a small adapter per function (input JSON -> output JSON).
//!
//! In this project most behaviour is generated code, so most adapters are probe specs
//! ([`plans`]): a small spec that makes the generated service do exactly the case's
//! operation, run against the acceptance binary. A few adapters call a library function
//! of ours directly ([`Unit::Adapter`]).
//!
//! Functions of the engine README without an adapter are skipped by rule; add an adapter
//! here when the generator grows the behaviour.

mod flows;
mod mcp;
mod metrics;
mod outputs;
mod plans;
mod scripts;
mod wire;

use std::path::Path;

use serde_json::{Map, Value};

use crate::checks::{self, Observed, json_eq};

pub use plans::{Ask, PROBE_API, PlanCtx, Probe, Read, SpecPlan};

/// What an adapter may read besides its input.
pub struct UnitEnv<'a> {
    pub fixtures: &'a Path,
    /// The case's spec, parsed (placeholders substituted).
    pub spec: Option<&'a Value>,
}

/// An adapter: the case's input to an output (or an error message).
pub type Adapter = fn(&Value, &UnitEnv) -> Result<Value, String>;

/// Builds the plan of a spec-backed adapter from the case's input.
pub type SpecAdapter = fn(&Value, &PlanCtx) -> Result<SpecPlan, String>;

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
        "allowed_variables" => Unit::Adapter(wire::allowed_variables),
        "resolve_output_parameter" => Unit::Spec(outputs::output_parameter),
        "tool_annotations" => Unit::Spec(outputs::annotations),
        "convert_to_json" => Unit::Spec(outputs::convert),
        "render_template" => Unit::Spec(outputs::render_template),
        "build_mock_value" => Unit::Spec(outputs::mock_value),
        "jsonpath" => Unit::Spec(outputs::jsonpath),
        "apply_max_length" => Unit::Spec(outputs::max_length),
        "lookup" => Unit::Spec(flows::lookup),
        "merge_with" => Unit::Spec(flows::merge_with),
        "resolve_step_output" => Unit::Spec(flows::step_output),
        "execute_steps" => Unit::Spec(flows::execute_steps),
        "execute_call_or_steps" => Unit::Spec(flows::call_or_steps),
        "build_upstream_request" => Unit::Spec(flows::upstream_request),
        "apply_output_mappings" => Unit::Spec(outputs::output_mappings),
        "derive_hints" => Unit::Spec(flows::derive_hints),
        "merge_hints" => Unit::Spec(flows::merge_hints),
        "build_function_index" => Unit::Spec(flows::function_index),
        "execute_aggregate_function" => Unit::Spec(flows::aggregate_function),
        "resolve_binds" => Unit::Spec(wire::binds),
        "inbound_auth" => Unit::Spec(wire::inbound_auth),
        "apply_consumed_inputs" | "apply_consumed_inputs_then_defaults" => {
            Unit::Spec(wire::consumed_inputs)
        }
        "consumed_auth" => Unit::Spec(wire::consumed_auth),
        "rest_mock_response" => Unit::Spec(wire::rest_mock),
        "rest_map_output" => Unit::Spec(wire::rest_map),
        "rest_can_mock" => Unit::Spec(wire::rest_can_mock),
        "resolve_input_parameter" => Unit::Spec(wire::input_parameter),
        "collect_rest_inputs" => Unit::Spec(wire::rest_inputs_collected),
        "is_metrics_enabled" => Unit::Spec(wire::metrics_enabled),
        "is_traces_enabled" => Unit::Spec(wire::traces_enabled),
        "trace_ring_buffer" => Unit::Adapter(wire::trace_ring),
        "prometheus_serialize" => Unit::Adapter(metrics::prometheus_serialize),
        "otel_prometheus" => Unit::Adapter(metrics::prometheus_after_request),
        "record_http_client_metric" => Unit::Adapter(metrics::http_client_metric),
        "otel_span" | "otel_span_tree" | "otel_record_error" => Unit::NoCounterpart(
            "builds spans from Java objects through the engine's span helpers (null inputs named UNKNOWN); the generated service's spans are judged on the wire by the `otel` cases of kind rest, mcp and skill, and by lago-customers/tests/traces.rs",
        ),
        "otel_propagation" => Unit::NoCounterpart(
            "injects a hand-made Java server span's context in-process; the same round trip over the wire (inbound `traceparent`, outbound one under the client span) is lago-customers/tests/traces.rs",
        ),
        "otel_sdk_properties" | "otel_init" => Unit::NoCounterpart(
            "configures the Java OpenTelemetry SDK (autoconfigure properties, global state)",
        ),
        "mcp_envelopes" => Unit::NoCounterpart(
            "builds JSON-RPC envelopes inside the Java dispatcher; the generated server's envelopes come from rmcp and are judged on the wire",
        ),
        "mcp_dispatch" => Unit::NoCounterpart(
            "calls the Java dispatcher with an in-memory request object (e.g. null) that has no wire form",
        ),
        "prompt_substitute" => Unit::Adapter(mcp::prompt_substitute),
        "match_resource_uri" => Unit::Adapter(mcp::match_resource_uri),
        "require_scripting_permitted" => Unit::Adapter(scripts::permitted),
        "execute_script_step" => {
            let lang = input
                .pointer("/step/language")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase();
            // A language outside `allowedLanguages` is refused before it would run.
            let allowed = input
                .pointer("/scripting/allowedLanguages")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty());
            let refused = allowed.is_some_and(|a| !a.iter().any(|l| l.as_str() == Some(&lang)));
            if (lang == "groovy" || lang == "python") && !refused {
                Unit::NoCounterpart(
                    "runs a Groovy/Python script in the JVM (GraalPy, Groovy); a compiled service runs JavaScript only",
                )
            } else {
                Unit::Adapter(scripts::execute)
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

/// The inputs of a case, and whether it has `cases` (one result per input).
pub fn input_list(input: &Value) -> (Vec<Value>, bool) {
    match inputs(input) {
        Some(l) => (l, true),
        None => (vec![input.clone()], false),
    }
}

/// Where an error of an outcome comes from, which decides how its wording is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A function of ours called directly: `error_equals` is exact.
    Function,
    /// A generated service answered it: the service frames the message with its own
    /// context, so `error_equals` means "contains".
    Service,
    /// The generator refused the probe spec (a located diagnostic): the engine's run-time
    /// error is raised at build time, in our wording; it must name what the engine's
    /// message names (one of its subjects), so an unrelated refusal does not pass.
    Build,
    /// The generated service refused to start: the names the engine's message quotes
    /// (`'NAME'`) must appear in ours.
    Start,
}

/// What one input gave.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub result: Result<Value, String>,
    pub origin: Origin,
    /// The HTTP answer, for expectations on the wire (`status`, `body` checks).
    pub wire: Option<Observed>,
}

impl Outcome {
    pub fn new(result: Result<Value, String>, origin: Origin) -> Outcome {
        Outcome {
            result,
            origin,
            wire: None,
        }
    }
}

/// Names an engine message quotes (`key 'X' not found` -> `X`).
fn quoted(msg: &str) -> Vec<&str> {
    msg.split('\'').skip(1).step_by(2).collect()
}

/// What an engine message is about: the names it quotes, and a single word after its last
/// `: ` (`... non-existent step: does-not-exist`).
fn subjects(msg: &str) -> Vec<&str> {
    let mut out = quoted(msg);
    if let Some((_, tail)) = msg.rsplit_once(": ")
        && !tail.is_empty()
        && !tail.contains(char::is_whitespace)
    {
        out.push(tail);
    }
    out
}

/// Whether an error of `origin` matches the expected message `want`.
fn error_like(origin: Origin, got: &str, want: &str, exact: bool) -> bool {
    match origin {
        Origin::Function if exact => got == want,
        Origin::Function | Origin::Service => got.contains(want),
        Origin::Build => {
            let s = subjects(want);
            s.is_empty() || s.iter().any(|x| got.contains(x))
        }
        Origin::Start => quoted(want).iter().all(|q| got.contains(q)),
    }
}

/// Judges one outcome against a unit expectation block.
fn judge(o: &Outcome, expect: &Value, all: &[Outcome]) -> Result<(), String> {
    let Some(exp) = expect.as_object() else {
        return Ok(());
    };
    if exp.get("error").and_then(Value::as_bool) == Some(true) {
        let e = match &o.result {
            Ok(v) => {
                return Err(format!(
                    "expected an error, got {}",
                    checks::show(&v.to_string())
                ));
            }
            Err(e) => e,
        };
        // `error_kind` names the engine's exception class: only the error is judged.
        if let Some(want) = exp.get("error_equals").and_then(Value::as_str)
            && !error_like(o.origin, e, want, true)
        {
            return Err(format!(
                "error: expected {}, got {}",
                checks::show(want),
                checks::show(e)
            ));
        }
        if let Some(want) = exp.get("error_contains").and_then(Value::as_str)
            && !error_like(o.origin, e, want, false)
        {
            return Err(format!(
                "error: expected to contain {}, got {}",
                checks::show(want),
                checks::show(e)
            ));
        }
        if let Some(Value::Array(any)) = exp.get("error_contains_any")
            && !any
                .iter()
                .filter_map(Value::as_str)
                .any(|w| error_like(o.origin, e, w, false))
        {
            return Err(format!(
                "error: expected one of {}, got {}",
                Value::Array(any.clone()),
                checks::show(e)
            ));
        }
        return Ok(());
    }
    let output = o
        .result
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
    // `output_found`: what a lookup in the output found (`found`; `null`: nothing).
    if let Some(want) = exp.get("output_found") {
        let got = output.get("found").cloned().unwrap_or(Value::Null);
        if !json_eq(want, &got) {
            return Err(format!("output_found: expected {want}, got {got}"));
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
    if let Some(Value::Object(also)) = exp.get("also") {
        for (k, v) in also {
            outputs::also(k, v)?;
        }
    }
    let mut obs = o.wire.clone().unwrap_or_default();
    obs.output = Some(output.clone());
    let refs = |r: &str| -> Result<crate::pointer::Found, String> {
        // `cases[i].output/<pointer>` names another input's result.
        if let Some(rest) = r.strip_prefix("cases[")
            && let Some((i, tail)) = rest.split_once("].")
        {
            let i: usize = i.parse().map_err(|_| format!("bad reference {r}"))?;
            let other = all
                .get(i)
                .and_then(|x| x.result.as_ref().ok())
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

/// The expectation keys judged by [`run`] and [`judge_all`].
///
/// - `errors`: one expected error per input (wording compared as for `error_equals`, except
///   for a service's own errors, which stand for the engine's internal exceptions);
/// - `output_each`: every input's output equals this value;
/// - `error_kind`: the engine's exception class; only the error itself is judged;
/// - `also`: extra facts about engine helpers (see `outputs::also`).
pub const UNIT_KEYS: &[&str] = &[
    "output",
    "outputs",
    "output_fields",
    "output_set",
    "output_found",
    "output_text",
    "output_each",
    "cases",
    "error",
    "errors",
    "error_equals",
    "error_contains",
    "error_contains_any",
    "error_kind",
    "also",
];

/// Runs a unit case through a pure adapter and judges its expectations.
pub fn run(adapter: Adapter, input: &Value, expect: &Value, env: &UnitEnv) -> Result<(), String> {
    let (list, many) = input_list(input);
    let outcomes: Vec<Outcome> = list
        .iter()
        .map(|i| Outcome::new(adapter(i, env), Origin::Function))
        .collect();
    judge_all(&outcomes, many, expect)
}

/// Judges the outcomes of a unit case: one per input (`many` when the input has `cases`).
pub fn judge_all(outcomes: &[Outcome], many: bool, expect: &Value) -> Result<(), String> {
    let at = |i: usize, m: String| {
        if many { format!("input {i}: {m}") } else { m }
    };
    if let Some(want) = expect.get("output_each") {
        for (i, o) in outcomes.iter().enumerate() {
            let got = o
                .result
                .as_ref()
                .map_err(|e| at(i, format!("unexpected error: {}", checks::show(e))))?;
            if !json_eq(want, got) {
                return Err(at(
                    i,
                    format!(
                        "output_each: expected {}, got {}",
                        checks::show(&want.to_string()),
                        checks::show(&got.to_string())
                    ),
                ));
            }
        }
    }
    if let Some(Value::Array(errors)) = expect.get("errors") {
        for (i, (want, o)) in errors.iter().zip(outcomes).enumerate() {
            let want = want.as_str().unwrap_or("");
            match &o.result {
                Ok(v) => {
                    return Err(at(
                        i,
                        format!(
                            "expected the error {}, got {}",
                            checks::show(want),
                            checks::show(&v.to_string())
                        ),
                    ));
                }
                // A service's own error (a status, an error result) stands for the
                // engine's internal exception: its wording is ours.
                Err(e) if o.origin != Origin::Service && !error_like(o.origin, e, want, true) => {
                    return Err(at(
                        i,
                        format!(
                            "error: expected {}, got {}",
                            checks::show(want),
                            checks::show(e)
                        ),
                    ));
                }
                Err(_) => {}
            }
        }
    }
    if !many {
        let o = outcomes
            .first()
            .cloned()
            .unwrap_or_else(|| Outcome::new(Ok(Value::Null), Origin::Function));
        if let Some(Value::Array(outs)) = expect.get("outputs") {
            let got = o
                .result
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
        if expect.get("errors").is_some() {
            return Ok(());
        }
        return judge(&o, expect, std::slice::from_ref(&o));
    }
    if let Some(Value::Array(outs)) = expect.get("outputs") {
        for (i, (want, o)) in outs.iter().zip(outcomes).enumerate() {
            let got = o
                .result
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
        for (i, (e, o)) in sub.iter().zip(outcomes).enumerate() {
            judge(o, e, outcomes).map_err(|m| format!("cases[{i}]: {m}"))?;
        }
    }
    Ok(())
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
            spec: None,
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
        assert!(
            run(
                echo,
                &json!({"cases": [{}, {"x": null}]}),
                &json!({"output_each": null}),
                &env
            )
            .is_ok()
        );
        assert!(
            run(
                echo,
                &json!({"cases": [{"fail": 1}, {"fail": 2}]}),
                &json!({"errors": ["boom: not found", "boom: not found"]}),
                &env
            )
            .is_ok()
        );
        assert!(
            run(
                echo,
                &json!({"cases": [{"fail": 1}, {"x": 1}]}),
                &json!({"errors": ["boom: not found", "boom: not found"]}),
                &env
            )
            .is_err()
        );
    }

    #[test]
    fn error_wording_by_origin() {
        let want = "Invalid bind: key 'NOTION_TOKEN' not found in file";
        assert!(error_like(
            Origin::Start,
            "variable `NOTION_TOKEN`: key `NOTION_TOKEN` not found",
            want,
            true
        ));
        assert!(!error_like(Origin::Start, "variable `X` unset", want, true));
        assert!(error_like(
            Origin::Build,
            "`NOTION_TOKEN` is not declared",
            want,
            true
        ));
        assert!(!error_like(Origin::Build, "missing field `x`", want, true));
        assert!(error_like(
            Origin::Build,
            "lookup `index: does-not-exist` is not an earlier step",
            "Lookup step references non-existent step: does-not-exist",
            true
        ));
        assert!(error_like(
            Origin::Build,
            "anything",
            "Placement is required (expected: a or b)",
            true
        ));
        assert!(!error_like(Origin::Function, "x: boom", "boom", true));
        assert!(error_like(Origin::Service, "x: boom", "boom", true));
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
            Some(Unit::Spec(_))
        ));
        assert!(matches!(
            unit("merge_lookup_result", &Value::Null),
            Some(Unit::NoAdapterYet)
        ));
        assert!(unit("no_such_function", &Value::Null).is_none());
    }
}
