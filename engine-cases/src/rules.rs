//! Skip rules. A case is skipped only by a rule on its kind, construct, target, unit
//! function or what it asserts, never by its id, so a new case is judged the same way.
//!
//! Two families:
//! - [`DEVIATIONS`]: the case asserts engine behaviour that semantics.md section 21 records
//!   as a bug; the generated service does what the grammar means instead.
//! - [`skip_rule`]: what the runner cannot observe in a compiled service.

use serde_json::Value;

use crate::case::Case;
use crate::checks::{self, Check, WIRE_KEYS};
use crate::translate;
use crate::units::{self, UNIT_KEYS, Unit};

/// A documented deviation: engine behaviour we deliberately do not reproduce.
pub struct Deviation {
    /// One line: what the engine does and what we do instead.
    pub reason: &'static str,
    /// Where semantics.md records it.
    pub section: &'static str,
    /// Whether the case asserts that behaviour.
    pub asserts: fn(&Case, Option<&Value>) -> bool,
}

// ---------------------------------------------------------------------------------------
// The deviation table. Each entry: the engine bug, its semantics.md section, and a rule
// that recognises a case asserting it from what the case expects (not from its id).
// ---------------------------------------------------------------------------------------
/// Engine bugs (semantics.md section 21 and kin) the generated service does not reproduce.
pub const DEVIATIONS: &[Deviation] = &[
    Deviation {
        reason: "mock values are always JSON strings in the engine; we keep the declared number/boolean type",
        section: "21.13 (and 8)",
        asserts: mock_value_as_string,
    },
    Deviation {
        reason: "the engine returns only the first non-null output parameter; we map every named parameter",
        section: "7.1",
        asserts: first_non_null_output,
    },
    Deviation {
        reason: "the engine passes `$this.<ns>.<param>` literally; we resolve the reference",
        section: "21.4",
        asserts: this_literal,
    },
    Deviation {
        reason: "the engine renders missing template variables as \"\"; we do not invent empty values",
        section: "21.3",
        asserts: missing_variable_empty,
    },
    Deviation {
        reason: "with no parameters at all the engine leaves `{{x}}` unrendered; a template variable that names no input is refused at build time (no placeholder reaches the wire, no empty value is invented)",
        section: "2 (and 21.3)",
        asserts: placeholder_kept_without_parameters,
    },
    Deviation {
        reason: "the engine form-encodes query values (a space is `+`); we percent-encode them (RFC 3986: a space is `%20`), which decodes to the same value",
        section: "4",
        asserts: query_space_as_plus,
    },
    Deviation {
        reason: "the engine reports an upstream error inside steps as success; we report the error",
        section: "21.6",
        asserts: step_error_as_success,
    },
    Deviation {
        reason: "the engine sends consumes-level header templates raw (`{{X}}`); we render them",
        section: "21.2",
        asserts: raw_consumes_header,
    },
    Deviation {
        reason: "the engine turns a single repeated XML element into an object, not a one-item array",
        section: "21.9",
        asserts: xml_single_child,
    },
    Deviation {
        reason: "the engine's forward drops the inbound query string; we forward it",
        section: "21.10",
        asserts: forward_drops_query,
    },
    Deviation {
        reason: "the engine lists prompts in hash order; we keep declaration order",
        section: "21.11",
        asserts: prompts_hash_order,
    },
    Deviation {
        reason: "the engine's /health/ready is always DEGRADED with a stdio MCP adapter",
        section: "21.12",
        asserts: ready_degraded_stdio,
    },
];

/// Every value a case expects: check operands, outputs, received fields, body texts.
fn expected_values(case: &Case) -> Vec<Value> {
    let mut out = Vec::new();
    for e in case.expects() {
        for k in [
            "output",
            "outputs",
            "output_fields",
            "body_json",
            "body_text",
            "output_text",
        ] {
            if let Some(v) = e.get(k) {
                out.push(v.clone());
            }
        }
    }
    for c in case.checks() {
        if let Ok(c) = Check::parse(c) {
            out.push(c.expected);
        }
    }
    for u in case.upstream() {
        if let Some(r) = u.received {
            out.push(r);
        }
    }
    out
}

/// Every string inside a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Every object inside a JSON value.
fn objects<'a>(v: &'a Value, out: &mut Vec<&'a serde_json::Map<String, Value>>) {
    match v {
        Value::Object(o) => {
            out.push(o);
            o.values().for_each(|x| objects(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| objects(x, out)),
        _ => {}
    }
}

fn input(case: &Case) -> Value {
    case.get("input").cloned().unwrap_or(Value::Null)
}

/// A check expects, as a JSON string, the `value` of an output parameter declared as a
/// number or boolean.
fn mock_value_as_string(case: &Case, spec: Option<&Value>) -> bool {
    let mut objs = Vec::new();
    let inp = input(case);
    objects(&inp, &mut objs);
    if let Some(s) = spec {
        objects(s, &mut objs);
    }
    let typed: Vec<String> = objs
        .iter()
        .filter(|o| {
            matches!(
                o.get("type").and_then(Value::as_str),
                Some("number" | "integer" | "boolean")
            )
        })
        .filter_map(|o| o.get("value").map(crate::pointer::text_of))
        .collect();
    if typed.is_empty() {
        return false;
    }
    let mut expected = Vec::new();
    expected_values(case)
        .iter()
        .for_each(|v| strings(v, &mut expected));
    expected.iter().any(|e| typed.contains(e))
}

/// Two or more named output parameters, and the case expects one scalar result.
fn first_non_null_output(case: &Case, _: Option<&Value>) -> bool {
    let inp = input(case);
    let Some(Value::Array(params)) = inp.get("outputParameters") else {
        return false;
    };
    let named: Vec<&str> = params
        .iter()
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .collect();
    if named.len() < 2 {
        return false;
    }
    match case.expect().get("output") {
        Some(Value::Object(o)) => !named.iter().all(|n| o.contains_key(*n)),
        Some(_) => true,
        None => false,
    }
}

fn this_literal(case: &Case, _: Option<&Value>) -> bool {
    let mut s = Vec::new();
    expected_values(case)
        .iter()
        .for_each(|v| strings(v, &mut s));
    s.iter().any(|x| x.contains("$this."))
}

/// Names inside `{{...}}` of a template.
fn template_vars(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    out
}

/// A template rendered with a non-empty parameter map that lacks one of its variables,
/// expected without the placeholder; or an expected empty body built that way.
fn missing_variable_empty(case: &Case, _: Option<&Value>) -> bool {
    let function = case.get("function").and_then(Value::as_str).unwrap_or("");
    let inp = input(case);
    let subs: Vec<Value> = match inp.get("cases").and_then(Value::as_array) {
        Some(c) => c.clone(),
        None => vec![inp.clone()],
    };
    let expects: Vec<Option<Value>> = match case.expect().get("outputs").and_then(Value::as_array) {
        Some(o) => o.iter().cloned().map(Some).collect(),
        None => vec![case.expect().get("output").cloned()],
    };
    let sub_expects: Vec<Value> = case
        .expect()
        .get("cases")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, sub) in subs.iter().enumerate() {
        let params = sub.get("parameters").and_then(Value::as_object);
        let Some(params) = params.filter(|p| !p.is_empty()) else {
            continue;
        };
        match function {
            "render_template" => {
                let Some(t) = sub.get("template").and_then(Value::as_str) else {
                    continue;
                };
                let missing: Vec<String> = template_vars(t)
                    .into_iter()
                    // A parameter given as `null` is an input given no value: rendered
                    // as "" by our services too. Only variables naming no parameter are
                    // refused (at build time).
                    .filter(|v| params.get(v).is_none())
                    .collect();
                if let Some(Some(Value::String(want))) = expects.get(i)
                    && missing
                        .iter()
                        .any(|m| !want.contains(&format!("{{{{{m}}}}}")))
                {
                    return true;
                }
            }
            "build_upstream_request" => {
                let empty_body = sub_expects
                    .get(i)
                    .map(|e| {
                        let mut c = Vec::new();
                        if let Some(Value::Array(cs)) = e.get("checks") {
                            c.extend(cs.iter());
                        }
                        c.iter().any(|c| {
                            c.get("path").and_then(Value::as_str) == Some("/body_text")
                                && c.get("equals") == Some(&Value::String(String::new()))
                        })
                    })
                    .unwrap_or(false);
                if empty_body {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// `render_template` with no parameters (`{}` or `null`) over a template with variables,
/// expected to keep a placeholder.
fn placeholder_kept_without_parameters(case: &Case, _: Option<&Value>) -> bool {
    if case.get("function").and_then(Value::as_str) != Some("render_template") {
        return false;
    }
    let inp = input(case);
    let subs: Vec<Value> = match inp.get("cases").and_then(Value::as_array) {
        Some(c) => c.clone(),
        None => vec![inp.clone()],
    };
    let expects: Vec<Option<Value>> = match case.expect().get("outputs").and_then(Value::as_array) {
        Some(o) => o.iter().cloned().map(Some).collect(),
        None => vec![case.expect().get("output").cloned()],
    };
    subs.iter().enumerate().any(|(i, sub)| {
        let no_params = sub
            .get("parameters")
            .is_none_or(|p| p.is_null() || p.as_object().is_some_and(|o| o.is_empty()));
        let vars = sub
            .get("template")
            .and_then(Value::as_str)
            .map(template_vars)
            .unwrap_or_default();
        no_params
            && matches!(expects.get(i), Some(Some(Value::String(want)))
                if vars.iter().any(|v| want.contains(&format!("{{{{{v}}}}}"))))
    })
}

/// A check expects a URL whose query writes a space as `+` (form encoding).
fn query_space_as_plus(case: &Case, _: Option<&Value>) -> bool {
    case.checks().iter().any(|c| {
        let path = c.get("path").and_then(Value::as_str).unwrap_or("");
        let url = path == "/url" || path.ends_with("/url");
        let plus_in_query = |s: &str| {
            let q = s.split_once('?').map(|(_, q)| q).unwrap_or(s);
            q.split('&')
                .any(|pair| pair.split_once('=').is_some_and(|(_, v)| v.contains('+')))
        };
        url && c
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k != "target" && *k != "path")
            .any(|(_, v)| v.as_str().is_some_and(plus_in_query))
    })
}

/// Steps whose upstream fails, while the case asserts success.
fn step_error_as_success(case: &Case, _: Option<&Value>) -> bool {
    if !case
        .constructs
        .iter()
        .any(|c| c == "steps" || c == "mappings")
    {
        return false;
    }
    let failing = case
        .upstream()
        .iter()
        .any(|u| u.unreachable || u.status >= 400);
    if !failing {
        return false;
    }
    case.expects().iter().any(|e| {
        e.get("status")
            .and_then(Value::as_u64)
            .is_some_and(|s| (200..300).contains(&s))
    }) || case.checks().iter().any(|c| {
        c.get("path").and_then(Value::as_str) == Some("/result/isError")
            && c.get("equals") == Some(&Value::Bool(false))
    })
}

fn raw_consumes_header(case: &Case, _: Option<&Value>) -> bool {
    let received = case
        .upstream()
        .into_iter()
        .filter_map(|u| u.received)
        .any(|r| {
            r.get("headers")
                .and_then(Value::as_object)
                .is_some_and(|h| {
                    h.values()
                        .any(|v| v.as_str().is_some_and(|s| s.contains("{{")))
                })
        });
    received
        || case.checks().iter().any(|c| {
            let target = c.get("target").and_then(Value::as_str).unwrap_or("");
            let path = c.get("path").and_then(Value::as_str).unwrap_or("");
            (target.starts_with("upstream")
                || target == "last_upstream_request"
                || target == "output")
                && path.starts_with("/headers/")
                && c.get("equals")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.contains("{{"))
        })
}

/// An `array` mapping `$.<name>` over XML holding exactly one `<name>` element, expected as
/// something other than a one-item array.
fn xml_single_child(case: &Case, spec: Option<&Value>) -> bool {
    if !case.constructs.iter().any(|c| c == "format-xml") {
        return false;
    }
    let mut xml = Vec::new();
    for u in case.upstream() {
        if let Some(b) = u.body.filter(|b| b.trim_start().starts_with('<')) {
            xml.push(b);
        }
    }
    let mut inp = Vec::new();
    strings(&input(case), &mut inp);
    xml.extend(inp.into_iter().filter(|s| s.trim_start().starts_with('<')));
    let mut objs = Vec::new();
    let i = input(case);
    objects(&i, &mut objs);
    if let Some(s) = spec {
        objects(s, &mut objs);
    }
    let names: Vec<String> = objs
        .iter()
        .filter(|o| o.get("type").and_then(Value::as_str) == Some("array"))
        .filter_map(|o| o.get("mapping").and_then(Value::as_str))
        .filter_map(|m| m.strip_prefix("$.").map(str::to_owned))
        .filter(|m| !m.contains('.') && !m.is_empty())
        .collect();
    let single = names.iter().any(|n| {
        xml.iter().any(|x| {
            let open = x.matches(&format!("<{n}>")).count() + x.matches(&format!("<{n} ")).count();
            open == 1
        })
    });
    single
        && case.checks().iter().any(|c| {
            c.get("is_array") == Some(&Value::Bool(false))
                || c.get("is_object") == Some(&Value::Bool(true))
        })
}

fn forward_drops_query(case: &Case, _: Option<&Value>) -> bool {
    case.constructs.iter().any(|c| c == "forward")
        && case.requests().iter().any(|r| {
            r.get("path")
                .and_then(Value::as_str)
                .is_some_and(|p| p.contains('?'))
                || r.get("query")
                    .and_then(Value::as_object)
                    .is_some_and(|q| !q.is_empty())
        })
}

fn prompts_hash_order(case: &Case, _: Option<&Value>) -> bool {
    case.checks().iter().any(|c| {
        let path = c.get("path").and_then(Value::as_str).unwrap_or("");
        path.strip_prefix("/result/prompts/")
            .and_then(|r| r.split('/').next())
            .is_some_and(|s| s.parse::<usize>().is_ok())
    })
}

fn ready_degraded_stdio(case: &Case, _: Option<&Value>) -> bool {
    let ready = case
        .requests()
        .iter()
        .any(|r| r.get("path").and_then(Value::as_str) == Some("/health/ready"));
    let mut s = Vec::new();
    expected_values(case)
        .iter()
        .for_each(|v| strings(v, &mut s));
    ready
        && (s.iter().any(|x| x.contains("DEGRADED"))
            || case
                .expects()
                .iter()
                .any(|e| e.get("status").and_then(Value::as_u64) == Some(503)))
}

/// The first deviation a case asserts, as a SKIP reason.
pub fn deviation(case: &Case, spec: Option<&Value>) -> Option<String> {
    DEVIATIONS
        .iter()
        .find(|d| (d.asserts)(case, spec))
        .map(|d| format!("deviation: {} (semantics.md §{})", d.reason, d.section))
}

// ---------------------------------------------------------------------------------------
// Deliberate differences that only the outcome of a run shows. Each entry says what we do
// instead of the engine and why; they are judged on a FAIL, from what the case expects and
// what the generator or the service did, never from the case's id.
// ---------------------------------------------------------------------------------------

/// A FAIL that is a deliberate difference from the engine, as a SKIP reason.
pub fn deviation_after(
    case: &Case,
    failure: &str,
    rejected: Option<&crate::prepare::Rejected>,
) -> Option<String> {
    let say = |why: &str| Some(format!("deviation: {why}"));
    if let Some(r) = rejected.filter(|r| r.located) {
        if r.message.contains("unsupported spec version") {
            return say(
                "a version other than `naftiko: 1.0.0-alpha2` or `ikanos: 1.0.0-beta5` is a located error (the engine does not check versions)",
            );
        }
        if r.message.contains("must be a whole number") || r.message.contains("must be one of") {
            return say(
                "a value of the wrong type or out of its set (`maxLength: \"abc\"`) is a located build-time error; the engine ignores it at run time",
            );
        }
        // A construct we do not generate yet is a failure, not a difference of strictness.
        if expects_refusal(case) && !r.message.contains("not supported yet") {
            return say(
                "a spec the engine refuses only when called (4xx or a JSON-RPC error) is rejected at build time, located",
            );
        }
    }
    // The same check met by a unit probe (a spec the adapter builds around one input).
    if failure.contains("unexpected error:")
        && (failure.contains("must be a whole number") || failure.contains("must be one of"))
    {
        return say(
            "a value of the wrong type or out of its set (`maxLength: \"abc\"`) is a located build-time error; the engine ignores it at run time",
        );
    }
    if sends_incomplete_initialize(case) {
        return say(
            "an `initialize` without the parameters MCP requires (protocolVersion, capabilities, clientInfo) is refused, as the official SDK refuses it",
        );
    }
    if stdio_without_handshake(case) {
        return say(
            "over stdio a client initializes first, as MCP requires (the engine answers requests that skip it)",
        );
    }
    if array_over_single_value(case, failure) {
        return say(
            "a single value where an array is declared is an array of one (an XML list of one element has no array), not null",
        );
    }
    if failure.contains("status: expected 200, got 400")
        && (failure.contains("-32700") || failure.contains("-32600"))
    {
        return say(
            "a malformed JSON-RPC message gets its JSON-RPC error with HTTP 400, as MCP's Streamable HTTP transport asks (the engine answers 200)",
        );
    }
    if failure.contains("stdout_line[") && failure.contains("/id") {
        return say(
            "over stdio, answers come as each request completes (JSON-RPC matches them by id), not in the order asked",
        );
    }
    if failure.contains("needs the argument") {
        return say(
            "`prompts/get` without a required argument is -32602 naming it (the engine renders the placeholder as written)",
        );
    }
    if failure.contains("/contents/0/text") && failure.contains("got \"null\"") {
        return say(
            "a resource whose mapping selects nothing reads as `null`, the value the spec declares, not the raw upstream body",
        );
    }
    if failure.contains("expected GET not supported") {
        return say("a GET to a stateless MCP endpoint gets 405 with the SDK's text");
    }
    if failure.contains("Unable to handle the request") {
        return say(
            "the REST surface's own errors (unknown route, method) are JSON with a status, not the engine's text",
        );
    }
    let hints = [
        "readOnlyHint",
        "destructiveHint",
        "idempotentHint",
        "openWorldHint",
    ];
    // Unit cases name hints as the engine's model does (`readOnly`...) and expect `null`
    // for a hint left unset.
    let unset = ["readOnly", "destructive", "idempotent", "openWorld"]
        .iter()
        .any(|h| failure.contains(&format!("output_fields.{h}: expected null")));
    if hints.iter().any(|h| failure.contains(h))
        || failure.contains("/annotations")
        || failure.contains("/hints")
        || unset
    {
        return say(
            "tools state every hint: derived from the HTTP methods they call (or the function's semantics) where the spec declares none, so clients do not assume the most destructive defaults",
        );
    }
    None
}

/// Whether the case sends `initialize` without `protocolVersion` in its params.
fn sends_incomplete_initialize(case: &Case) -> bool {
    let mut requests: Vec<&Value> = case.get("request").into_iter().collect();
    if let Some(Value::Array(steps)) = case.get("steps") {
        requests.extend(steps.iter().filter_map(|s| s.get("request")));
    }
    requests.iter().any(|r| {
        let body = r
            .get("body_text")
            .and_then(Value::as_str)
            .and_then(|t| serde_json::from_str::<Value>(t).ok());
        let msg = body.as_ref().unwrap_or(r);
        msg.get("method").and_then(Value::as_str) == Some("initialize")
            && msg.pointer("/params/protocolVersion").is_none()
    })
}

/// Whether the case talks over stdio without the MCP handshake.
fn stdio_without_handshake(case: &Case) -> bool {
    case.get("request").is_some_and(|r| {
        r.get("transport").and_then(Value::as_str) == Some("stdio")
            && r.get("handshake").and_then(Value::as_bool) == Some(false)
    })
}

/// Whether the case maps an array over a value that is not one and expects `null`.
fn array_over_single_value(case: &Case, failure: &str) -> bool {
    let declares_array = case
        .get("input")
        .is_some_and(|i| i.to_string().contains(r#""type":"array""#));
    declares_array && failure.contains("expected null, got {")
}

/// Whether every outcome the case expects is a refusal (an error status, a JSON-RPC or
/// tool error, a rejection).
fn expects_refusal(case: &Case) -> bool {
    let expects = case.expects();
    !expects.is_empty()
        && expects.iter().all(|e| {
            e.get("rejected").and_then(Value::as_bool) == Some(true)
                || e.get("error").and_then(Value::as_bool) == Some(true)
                || e.get("status")
                    .and_then(Value::as_u64)
                    .is_some_and(|s| s >= 400)
                || e.get("checks").and_then(Value::as_array).is_some_and(|cs| {
                    cs.iter().any(|c| {
                        let path = c.get("path").and_then(Value::as_str).unwrap_or("");
                        (path.starts_with("/error") && c.get("present").is_some()
                            || path == "/error/code")
                            || (path == "/result/isError"
                                && c.get("equals").and_then(Value::as_bool) == Some(true))
                    })
                })
        })
}

/// What each `spec_setup` sentence asks, as the runner understands it.
#[derive(Debug, Default, Clone, Copy)]
pub struct SpecSetup {
    /// The test removed the MCP adapter's inbound authentication: send the token the spec
    /// expects (read from the binds) with every MCP request.
    pub send_mcp_token: bool,
    /// The test made `file:///./x` bind locations absolute, relative to the spec's folder:
    /// the service runs in that folder, where such locations resolve the same way.
    pub binds_from_spec_dir: bool,
}

/// Reads `spec_setup`; an unknown sentence is a skip rule.
pub fn spec_setup(case: &Case) -> Result<SpecSetup, String> {
    let mut s = SpecSetup::default();
    for line in case.str_list("spec_setup") {
        let l = line.to_ascii_lowercase();
        if l.contains("removes the mcp adapter's `authentication`") {
            s.send_mcp_token = true;
        } else if l.contains("rewrites every bind `location`") {
            s.binds_from_spec_dir = true;
        } else if l.contains("overrides address/port")
            || l.contains("resolves `consumes` imports")
            || l.contains("points each consumed namespace")
        {
            // Free ports per surface, imports resolved by the generator, and every
            // namespace at a stub: always done.
        } else {
            return Err(format!(
                "spec_setup not understood by the runner: {}",
                checks::show(&line)
            ));
        }
    }
    Ok(s)
}

/// Kinds the runner executes.
const KINDS: &[&str] = &[
    "mcp",
    "mcp-http",
    "mcp-stdio",
    "rest",
    "control",
    "skill",
    "sequence",
    "load",
    "parse",
    "unit",
    "steps",
    "lint",
];

/// Grammar elements a `parse` fragment can be wrapped into a spec as.
pub const PARSE_AS: &[&str] = &[
    "Binding",
    "ConsumesEntry",
    "OutputParameter",
    "OperationStep",
    "ExposesControl",
    "SkillTool",
];

/// Expectation keys of `load`/`parse` cases.
const LOAD_KEYS: &[&str] = &[
    "accepted",
    "rejected",
    "reason",
    "error_equals",
    "error_contains",
    "parsed",
];

/// The first rule that skips the case, if any. Deviations come first: a case asserting a
/// recorded engine bug is a deviation whatever else it needs.
pub fn skip_rule(case: &Case, spec: Option<&Value>) -> Option<String> {
    if let Some(d) = deviation(case, spec) {
        return Some(d);
    }
    match case.kind.as_str() {
        "lint" => return Some("kind `lint`: Spectral lint with the engine's ruleset, not a behaviour of the generated service".into()),
        k if !KINDS.contains(&k) => return Some(format!("kind `{k}` is not known to the runner")),
        _ => {}
    }
    if case.kind == "unit" {
        let function = case.get("function").and_then(Value::as_str).unwrap_or("");
        match units::unit(function, case.get("input").unwrap_or(&Value::Null)) {
            None => {
                return Some(format!(
                    "unit function `{function}` is not in the engine-cases README"
                ));
            }
            Some(Unit::NoCounterpart(why)) => {
                return Some(format!("unit function `{function}`: {why}"));
            }
            Some(Unit::NoAdapterYet) => {
                return Some(format!("no adapter for unit function `{function}` yet"));
            }
            Some(Unit::Adapter(_) | Unit::Spec(_)) => {}
        }
    }
    if case.kind == "parse" {
        let as_ = case.get("parse_as").and_then(Value::as_str).unwrap_or("");
        if !PARSE_AS.contains(&as_) {
            return Some(format!(
                "parse_as `{as_}`: no spec to wrap the fragment into"
            ));
        }
    }
    for line in case.str_list("setup") {
        let l = line.to_ascii_lowercase();
        // Spans are read from the control port's `/traces` (W3C propagation is the default).
        if l.split(',').all(|part| {
            let part = part.trim();
            part == "in-memory span exporter" || part == "w3c propagator"
        }) {
            continue;
        }
        if [
            "telemetry",
            "opentelemetry",
            "span exporter",
            "request recorded",
            "one request recorded",
        ]
        .iter()
        .any(|w| l.contains(w))
        {
            return Some(format!(
                "setup needs engine harness state the runner cannot create: {}",
                checks::show(&line)
            ));
        }
    }
    if let Err(rule) = spec_setup(case) {
        return Some(rule);
    }
    for r in case.requests() {
        if let Some(p) = r.get("protocol").and_then(Value::as_str)
            && !["mcp", "mcp-http", "mcp-stdio", "rest", "http"].contains(&p)
        {
            return Some(format!("request protocol `{p}` is not known to the runner"));
        }
    }
    for c in case.checks() {
        let Ok(check) = Check::parse(c) else {
            return Some(format!(
                "check not understood: {}",
                checks::show(&c.to_string())
            ));
        };
        let t = check.target.as_str();
        if t == "spans"
            && !["rest", "mcp", "skill", "control", "sequence"].contains(&case.kind.as_str())
        {
            return Some(
                "target `spans` outside a request to the service: the engine's in-memory span exporter".into(),
            );
        }
        if t.starts_with("step_output:") {
            if case.kind == "steps" {
                // A `steps` case's probe maps each step's output into its result.
                continue;
            }
            return Some("target `step_output:<step>`: the step executor's context, not observable on the wire".into());
        }
        if t == "parsed" && case.kind != "parse" {
            return Some("target `parsed` outside a parse case".into());
        }
        if case.kind != "parse"
            && let Err(rule) = translate::classify(t, &check.path)
        {
            return Some(rule);
        }
    }
    for e in case.expects() {
        if let Some(obj) = e.as_object() {
            for k in obj.keys() {
                let known = WIRE_KEYS.contains(&k.as_str())
                    || (case.kind == "unit" && UNIT_KEYS.contains(&k.as_str()))
                    || (matches!(case.kind.as_str(), "load" | "parse")
                        && LOAD_KEYS.contains(&k.as_str()));
                if !known {
                    return Some(format!(
                        "expectation `{k}` of a `{}` case is not implemented by the runner",
                        case.kind
                    ));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(v: Value) -> Case {
        let mut v = v;
        v["format"] = json!("naftiko-engine-case/1");
        Case::from_value(v, None).unwrap()
    }

    #[test]
    fn deviations_by_assertion() {
        let mock = case(
            json!({"id": "a", "kind": "unit", "constructs": ["mock"], "function": "build_mock_value",
            "input": {"outputParameter": {"type": "number", "value": "42"}}, "expect": {"output": "42"}}),
        );
        assert!(deviation(&mock, None).unwrap().contains("21.13"));
        let fine = case(
            json!({"id": "b", "kind": "unit", "constructs": ["mock"], "function": "build_mock_value",
            "input": {"outputParameter": {"type": "string", "value": "42"}}, "expect": {"output": "42"}}),
        );
        assert!(deviation(&fine, None).is_none());
        let this = case(
            json!({"id": "c", "kind": "mcp", "constructs": ["with"], "expect": {"checks": [
            {"target": "upstream[0]", "path": "/path", "equals": "/x/$this.a.b"}]}}),
        );
        assert!(deviation(&this, None).unwrap().contains("21.4"));
        let tpl = case(
            json!({"id": "d", "kind": "unit", "constructs": ["mustache"], "function": "render_template",
            "input": {"template": "a/{{x}}/{{y}}", "parameters": {"x": "1"}}, "expect": {"output": "a/1/"}}),
        );
        assert!(deviation(&tpl, None).unwrap().contains("21.3"));
        let kept = case(
            json!({"id": "e", "kind": "unit", "constructs": ["mustache"], "function": "render_template",
            "input": {"template": "a/{{x}}", "parameters": {}}, "expect": {"output": "a/{{x}}"}}),
        );
        assert!(!missing_variable_empty(&kept, None));
        assert!(deviation(&kept, None).unwrap().contains("§2 (and 21.3)"));
        let null = case(
            json!({"id": "e2", "kind": "unit", "constructs": ["mustache"], "function": "render_template",
            "input": {"template": "a/{{x}}/{{y}}", "parameters": {"x": "1", "y": null}}, "expect": {"output": "a/1/"}}),
        );
        assert!(deviation(&null, None).is_none());
        let plus = case(
            json!({"id": "e3", "kind": "unit", "constructs": ["mustache"], "function": "apply_consumed_inputs",
            "input": {}, "expect": {"checks": [{"target": "output", "path": "/url", "contains": "search=ice+class"}]}}),
        );
        assert!(deviation(&plus, None).unwrap().contains("§4"));
        let order = case(
            json!({"id": "f", "kind": "mcp", "constructs": ["mcp-prompts"], "expect": {"checks": [
            {"target": "rpc", "path": "/result/prompts/0/name", "equals": "x"}]}}),
        );
        assert!(deviation(&order, None).unwrap().contains("21.11"));
    }

    #[test]
    fn skip_rules() {
        let lint = case(json!({"id": "a", "kind": "lint", "constructs": ["lint"]}));
        assert!(skip_rule(&lint, None).unwrap().contains("lint"));
        let unit = case(
            json!({"id": "b", "kind": "unit", "constructs": ["x"], "function": "merge_lookup_result", "input": {}}),
        );
        assert_eq!(
            skip_rule(&unit, None).unwrap(),
            "no adapter for unit function `merge_lookup_result` yet"
        );
        let spans = case(
            json!({"id": "c", "kind": "rest", "constructs": ["otel"], "request": {"protocol": "rest"},
            "expect": {"checks": [{"target": "spans", "path": "", "size": 1}]}}),
        );
        // Spans of a request to the service are read from the control port's `/traces`.
        assert_eq!(skip_rule(&spans, None), None);
        let model = case(
            json!({"id": "d", "kind": "load", "constructs": ["x"], "expect": {"accepted": true, "checks": [
            {"target": "resolved_spec", "path": "/capability/consumes/0/baseUri", "equals": "x"}]}}),
        );
        assert!(
            skip_rule(&model, None)
                .unwrap()
                .contains("/capability/consumes/N/baseUri")
        );
        let ok = case(
            json!({"id": "e", "kind": "mcp", "constructs": ["mcp-core"], "request": {"protocol": "mcp", "method": "tools/list"},
            "spec_setup": ["The test overrides address/port of the adapters it starts (ephemeral localhost ports)."],
            "expect": {"partial": true, "checks": [{"target": "rpc", "path": "/result/tools", "size": 1}]}}),
        );
        assert_eq!(skip_rule(&ok, None), None);
    }
}
