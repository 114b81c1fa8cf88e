//! Judging what a case expects against what was observed: the README's ops and the
//! HTTP/transport-level expectations.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::pointer::{self, Found, text_of};

/// Longest actual value shown in a failure message.
const SHOW: usize = 200;

/// Everything a run observed, addressed by the case's targets.
#[derive(Debug, Default, Clone)]
pub struct Observed {
    /// HTTP status of the final response (none for stdio).
    pub status: Option<u16>,
    /// Response headers of the final response, names as received.
    pub headers: Vec<(String, String)>,
    /// Body of the final response.
    pub body: Option<Vec<u8>>,
    /// The JSON-RPC answer to the case's request.
    pub rpc: Option<Value>,
    /// True when the transport gave no answer at all (a notification over stdio).
    pub no_response: bool,
    /// Lines the stdio transport wrote, for `mcp-stdio` cases.
    pub stdout_lines: Option<Vec<String>>,
    /// What each upstream entry received (its first matching request).
    pub upstream: Vec<Option<Value>>,
    /// The last request any stub received.
    pub last_upstream: Option<Value>,
    /// A unit adapter's result.
    pub output: Option<Value>,
    /// Targets computed by translation (`resolved_spec`, `derived`, `adapters`).
    pub views: BTreeMap<String, Value>,
}

/// Shortens text for a message.
pub fn show(v: &str) -> String {
    let v = v.replace('\n', "\\n");
    if v.chars().count() > SHOW {
        format!("{}...", v.chars().take(SHOW).collect::<String>())
    } else {
        v
    }
}

fn show_found(f: &Found) -> String {
    match f {
        Found::One(None) => "absent".to_owned(),
        Found::One(Some(v)) => show(&v.to_string()),
        Found::Many(_) => show(&f.value().unwrap_or(Value::Null).to_string()),
    }
}

impl Observed {
    /// The JSON value a target names, or why there is none.
    pub fn target(&self, name: &str) -> Result<Value, String> {
        let body_text =
            || String::from_utf8_lossy(self.body.as_deref().unwrap_or_default()).into_owned();
        match name {
            "rpc" => self
                .rpc
                .clone()
                .ok_or_else(|| "no JSON-RPC response".to_owned()),
            "tool_json" => {
                let rpc = self.rpc.as_ref().ok_or("no JSON-RPC response")?;
                let text = rpc
                    .pointer("/result/content/0/text")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        format!("no result.content[0].text in {}", show(&rpc.to_string()))
                    })?;
                serde_json::from_str(text).map_err(|e| {
                    format!("result.content[0].text is not JSON ({e}): {}", show(text))
                })
            }
            "body" => {
                let text = body_text();
                serde_json::from_str(&text)
                    .map_err(|e| format!("body is not JSON ({e}): {}", show(&text)))
            }
            "body_text" => Ok(Value::String(body_text())),
            "body_bytes" => Ok(Value::String(
                self.body
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            )),
            "headers" => {
                let mut map = serde_json::Map::new();
                for (k, v) in &self.headers {
                    let k = k.to_ascii_lowercase();
                    let joined = match map.get(&k) {
                        Some(Value::String(prev)) => format!("{prev}, {v}"),
                        _ => v.clone(),
                    };
                    map.insert(k, Value::String(joined));
                }
                Ok(Value::Object(map))
            }
            "last_upstream_request" => self
                .last_upstream
                .clone()
                .ok_or_else(|| "no stub received a request".to_owned()),
            "output" => self.output.clone().ok_or_else(|| "no output".to_owned()),
            "output_text" => match &self.output {
                Some(Value::String(s)) => Ok(Value::String(s.clone())),
                Some(v) => Ok(Value::String(v.to_string())),
                None => Err("no output".to_owned()),
            },
            "output_json" => match &self.output {
                Some(Value::String(s)) => serde_json::from_str(s)
                    .map_err(|e| format!("output is not JSON ({e}): {}", show(s))),
                Some(v) => Ok(v.clone()),
                None => Err("no output".to_owned()),
            },
            _ => {
                if let Some(i) = indexed(name, "upstream") {
                    return match self.upstream.get(i) {
                        Some(Some(v)) => Ok(v.clone()),
                        Some(None) => Err(format!("upstream entry {i} received no request")),
                        None => Err(format!("the case has no upstream entry {i}")),
                    };
                }
                if let Some(i) = indexed(name, "stdout_line") {
                    let lines = self.stdout_lines.as_deref().unwrap_or_default();
                    let line = lines
                        .get(i)
                        .ok_or_else(|| format!("stdout has {} lines, no line {i}", lines.len()))?;
                    return serde_json::from_str(line)
                        .map_err(|e| format!("stdout line {i} is not JSON ({e}): {}", show(line)));
                }
                self.views
                    .get(name)
                    .cloned()
                    .ok_or_else(|| format!("target `{name}` was not observed"))
            }
        }
    }

    /// Resolves `path` in `target`; header names are matched case-insensitively.
    pub fn find(&self, target: &str, path: &str) -> Result<Found, String> {
        let root = self.target(target)?;
        if target == "headers" {
            return Ok(pointer::resolve(&root, &path.to_ascii_lowercase()));
        }
        // Recorded upstream headers are stored with lower-case names.
        if (target.starts_with("upstream[") || target == "last_upstream_request")
            && let Some(name) = path.strip_prefix("/headers/")
        {
            return Ok(pointer::resolve(
                &root,
                &format!("/headers/{}", name.to_ascii_lowercase()),
            ));
        }
        Ok(pointer::resolve(&root, path))
    }

    fn content_type(&self) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| media_type(v))
    }
}

/// `name[i]` -> `i`.
pub fn indexed(name: &str, base: &str) -> Option<usize> {
    name.strip_prefix(base)?
        .strip_prefix('[')?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// A media type without parameters, lower case (`text/plain; charset=UTF-8` -> `text/plain`).
pub fn media_type(v: &str) -> String {
    v.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// `expected` is contained in `actual`: objects by their listed keys, arrays element-wise.
pub fn json_subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|w| json_subset(v, w))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| json_subset(x, y))
        }
        _ => json_eq(expected, actual),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn size_of(v: &Value) -> Option<usize> {
    match v {
        Value::Array(a) => Some(a.len()),
        Value::Object(o) => Some(o.len()),
        Value::String(s) => Some(s.chars().count()),
        _ => None,
    }
}

fn contains(actual: &Value, expected: &Value) -> bool {
    match actual {
        Value::String(s) => s.contains(&text_of(expected)),
        Value::Array(items) => items.iter().any(|i| json_eq(i, expected)),
        Value::Object(map) => map.contains_key(&text_of(expected)),
        _ => false,
    }
}

/// The ops every case may use, by name.
pub const OPS: &[&str] = &[
    "equals",
    "equals_text",
    "equals_or_absent",
    "present",
    "absent",
    "absent_or_empty",
    "not_empty",
    "not_blank",
    "is_null",
    "is_array",
    "is_object",
    "is_number",
    "size",
    "min_size",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "starts_with_hex",
    "approx",
    "each_equals",
    "each_present",
    "each_absent",
    "each_not_blank",
    "each_not_contains",
    "same_as",
    "same_json_as",
    "contains_ref",
];

/// One check of `checks`: `{target, path, <op>: expected}`.
#[derive(Debug, Clone)]
pub struct Check {
    /// What is looked at (`rpc`, `body`, `upstream[0]`, ...).
    pub target: String,
    /// JSON pointer (with `*` and `key=value` segments) into the target.
    pub path: String,
    /// The op's name.
    pub op: String,
    /// The op's operand.
    pub expected: Value,
}

impl Check {
    /// Reads a check; an unknown op is an error.
    pub fn parse(v: &Value) -> Result<Check, String> {
        let obj = v.as_object().ok_or("a check is not an object")?;
        let target = obj
            .get("target")
            .and_then(Value::as_str)
            .ok_or("a check has no target")?
            .to_owned();
        let path = obj
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut ops = obj.iter().filter(|(k, _)| *k != "target" && *k != "path");
        let (op, expected) = ops.next().ok_or("a check has no op")?;
        if !OPS.contains(&op.as_str()) {
            return Err(format!("unknown op `{op}`"));
        }
        Ok(Check {
            target,
            path,
            op: op.clone(),
            expected: expected.clone(),
        })
    }

    /// `target path` for messages.
    pub fn name(&self) -> String {
        if self.path.is_empty() {
            self.target.clone()
        } else {
            format!("{} {}", self.target, self.path)
        }
    }
}

/// Looks up a reference of `same_as` / `same_json_as` / `contains_ref`.
pub type RefLookup<'a> = dyn Fn(&str) -> Result<Found, String> + 'a;

/// Applies one op to what the pointer found.
pub fn apply_op(op: &str, expected: &Value, found: &Found, refs: &RefLookup) -> Result<(), String> {
    let fail = |what: &str| Err(format!("{what}, got {}", show_found(found)));
    if let Some(each) = op.strip_prefix("each_") {
        let items: Vec<Option<Value>> = match found {
            Found::Many(v) => v.clone(),
            Found::One(Some(Value::Array(a))) => a.iter().cloned().map(Some).collect(),
            Found::One(v) => vec![v.clone()],
        };
        for (i, item) in items.iter().enumerate() {
            let one = Found::One(item.clone());
            apply_op(each, expected, &one, refs).map_err(|e| format!("element {i}: {e}"))?;
        }
        return Ok(());
    }
    let value = found.value();
    let flag = expected.as_bool().unwrap_or(true);
    match op {
        "equals" => match &value {
            Some(v) if json_eq(v, expected) => Ok(()),
            _ => fail(&format!("expected {}", show(&expected.to_string()))),
        },
        "equals_text" => match &value {
            Some(v) if text_of(v) == text_of(expected) => Ok(()),
            _ => fail(&format!("expected text {}", show(&text_of(expected)))),
        },
        "equals_or_absent" => match &value {
            None | Some(Value::Null) => Ok(()),
            Some(v) if json_eq(v, expected) => Ok(()),
            _ => fail(&format!(
                "expected {} or absent",
                show(&expected.to_string())
            )),
        },
        "present" | "absent" => {
            let present = !matches!(value, None | Some(Value::Null));
            let want = (op == "present") == flag;
            if present == want {
                Ok(())
            } else if want {
                fail("expected present")
            } else {
                fail("expected absent")
            }
        }
        "absent_or_empty" => match &value {
            None => Ok(()),
            Some(v) if is_empty(v) => Ok(()),
            _ => fail("expected absent or empty"),
        },
        "not_empty" => match &value {
            Some(v) if !is_empty(v) => Ok(()),
            _ => fail("expected not empty"),
        },
        "not_blank" => match &value {
            Some(Value::Null) | None => fail("expected a non-blank value"),
            Some(v) if !text_of(v).trim().is_empty() => Ok(()),
            _ => fail("expected a non-blank value"),
        },
        "is_null" => match &value {
            Some(Value::Null) => Ok(()),
            _ => fail("expected null"),
        },
        "is_array" => check_flag(
            value.as_ref().is_some_and(Value::is_array),
            flag,
            "an array",
            found,
        ),
        "is_object" => check_flag(
            value.as_ref().is_some_and(Value::is_object),
            flag,
            "an object",
            found,
        ),
        "is_number" => check_flag(
            value.as_ref().is_some_and(Value::is_number),
            flag,
            "a number",
            found,
        ),
        "size" | "min_size" => {
            let want = expected.as_u64().ok_or("size expects a number")? as usize;
            match value.as_ref().and_then(size_of) {
                Some(n) if (op == "size" && n == want) || (op == "min_size" && n >= want) => Ok(()),
                Some(n) => fail(&format!(
                    "expected {} {want}, size is {n}",
                    if op == "size" {
                        "size"
                    } else {
                        "size at least"
                    }
                )),
                None => fail(&format!("expected something of size {want}")),
            }
        }
        "contains" => match &value {
            Some(v) if contains(v, expected) => Ok(()),
            _ => fail(&format!(
                "expected to contain {}",
                show(&expected.to_string())
            )),
        },
        "not_contains" => match &value {
            Some(v) if contains(v, expected) => fail(&format!(
                "expected not to contain {}",
                show(&expected.to_string())
            )),
            _ => Ok(()),
        },
        "starts_with" | "ends_with" | "starts_with_hex" => {
            let want = text_of(expected);
            let got = value.as_ref().map(text_of);
            let ok = match (op, &got) {
                ("starts_with", Some(g)) => g.starts_with(&want),
                ("ends_with", Some(g)) => g.ends_with(&want),
                ("starts_with_hex", Some(g)) => g
                    .to_ascii_lowercase()
                    .starts_with(&want.to_ascii_lowercase()),
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                fail(&format!(
                    "expected {} {}",
                    op.replace('_', " "),
                    show(&want)
                ))
            }
        }
        "approx" => {
            let want = expected.as_f64().ok_or("approx expects a number")?;
            match value.as_ref().and_then(Value::as_f64) {
                Some(g) if (g - want).abs() <= 1e-6_f64.max(want.abs() * 1e-9) => Ok(()),
                _ => fail(&format!("expected approximately {want}")),
            }
        }
        "same_as" | "same_json_as" => {
            let reference = expected.as_str().ok_or("same_as expects a reference")?;
            let other = refs(reference)?.value();
            match (&value, &other) {
                (Some(a), Some(b)) if json_eq(a, b) => Ok(()),
                _ => fail(&format!(
                    "expected the same as {reference} ({})",
                    other
                        .map(|o| show(&o.to_string()))
                        .unwrap_or_else(|| "absent".into())
                )),
            }
        }
        "contains_ref" => {
            let reference = expected.as_str().ok_or("contains_ref expects a name")?;
            let other = refs(reference)?
                .value()
                .ok_or_else(|| format!("reference `{reference}` is absent"))?;
            match &value {
                Some(v) if text_of(v).contains(&text_of(&other)) => Ok(()),
                _ => fail(&format!("expected to contain the value of `{reference}`")),
            }
        }
        other => Err(format!("unknown op `{other}`")),
    }
}

fn check_flag(is: bool, want: bool, what: &str, found: &Found) -> Result<(), String> {
    if is == want {
        Ok(())
    } else {
        Err(format!(
            "expected {}{what}, got {}",
            if want { "" } else { "not " },
            show_found(found)
        ))
    }
}

/// Runs one check against an observation; `refs` resolves `same_as` references.
pub fn run_check(check: &Check, obs: &Observed, refs: &RefLookup) -> Result<(), String> {
    let found = match obs.find(&check.target, &check.path) {
        Ok(f) => f,
        // A target that does not exist still satisfies "absent".
        Err(e) => match check.op.as_str() {
            "absent" | "absent_or_empty" | "equals_or_absent" | "not_contains" => Found::One(None),
            _ => return Err(format!("{}: {e}", check.name())),
        },
    };
    apply_op(&check.op, &check.expected, &found, refs).map_err(|e| {
        // An absent value is easier to understand next to the document it was looked up in.
        let context = match (&found, obs.target(&check.target)) {
            (Found::One(None), Ok(root)) if !check.path.is_empty() => {
                format!(" in {}", show(&root.to_string()))
            }
            _ => String::new(),
        };
        format!("{}: {e}{context}", check.name())
    })
}

/// The expectation keys judged by [`evaluate`].
pub const WIRE_KEYS: &[&str] = &[
    "status",
    "status_in",
    "content_type",
    "body_json",
    "body_text",
    "body_text_blank",
    "no_response",
    "stdout_line_count",
    "if_status_200",
    "checks",
    "partial",
];

/// Judges the wire-level part of an `expect` block (status, bodies, transport, checks).
pub fn evaluate(expect: &Value, obs: &Observed, refs: &RefLookup) -> Result<(), String> {
    let Some(exp) = expect.as_object() else {
        return Ok(());
    };
    let partial = exp.get("partial").and_then(Value::as_bool).unwrap_or(false);
    let body_text =
        || String::from_utf8_lossy(obs.body.as_deref().unwrap_or_default()).into_owned();
    if let Some(want) = exp.get("status") {
        match obs.status {
            Some(s) if json_eq(&Value::from(s), want) => {}
            Some(s) => {
                return Err(format!(
                    "status: expected {want}, got {s} with body {}",
                    show(&body_text())
                ));
            }
            None => return Err(format!("status: expected {want}, got no HTTP response")),
        }
    }
    if let Some(Value::Array(allowed)) = exp.get("status_in") {
        let s = obs.status.ok_or("status_in: no HTTP response")?;
        if !allowed.iter().any(|a| json_eq(a, &Value::from(s))) {
            return Err(format!(
                "status: expected one of {}, got {s}",
                Value::Array(allowed.clone())
            ));
        }
    }
    if let Some(want) = exp.get("content_type").and_then(Value::as_str) {
        let got = obs.content_type();
        if got.as_deref() != Some(media_type(want).as_str()) {
            return Err(format!(
                "content_type: expected {want}, got {}",
                got.unwrap_or_else(|| "none".into())
            ));
        }
    }
    if let Some(want) = exp.get("body_json") {
        let got = obs.target("body").map_err(|e| format!("body_json: {e}"))?;
        let ok = if partial {
            json_subset(want, &got)
        } else {
            json_eq(want, &got)
        };
        if !ok {
            return Err(format!(
                "body_json: expected {}, got {}",
                show(&want.to_string()),
                show(&got.to_string())
            ));
        }
    }
    if let Some(want) = exp.get("body_text").and_then(Value::as_str) {
        let got = body_text();
        if got != want {
            return Err(format!(
                "body_text: expected {}, got {}",
                show(want),
                show(&got)
            ));
        }
    }
    if exp.get("body_text_blank").and_then(Value::as_bool) == Some(true)
        && !body_text().trim().is_empty()
    {
        return Err(format!(
            "body_text: expected blank, got {}",
            show(&body_text())
        ));
    }
    if let Some(want) = exp.get("no_response").and_then(Value::as_bool)
        && want != obs.no_response
    {
        return Err(format!(
            "no_response: expected {want}, got {}",
            obs.rpc
                .as_ref()
                .map(|r| show(&r.to_string()))
                .unwrap_or_else(|| "a response".into())
        ));
    }
    if let Some(want) = exp.get("stdout_line_count").and_then(Value::as_u64) {
        let lines = obs.stdout_lines.as_deref().unwrap_or_default();
        if lines.len() as u64 != want {
            return Err(format!(
                "stdout_line_count: expected {want}, got {}: {}",
                lines.len(),
                show(&lines.join(" | "))
            ));
        }
    }
    if let Some(Value::Array(checks)) = exp.get("checks") {
        for c in checks {
            let check = Check::parse(c)?;
            run_check(&check, obs, refs)?;
        }
    }
    if let Some(nested) = exp.get("if_status_200")
        && obs.status == Some(200)
    {
        evaluate(nested, obs, refs).map_err(|e| format!("if_status_200: {e}"))?;
    }
    Ok(())
}

/// A reference lookup within one observation: `<target>/<pointer>`.
pub fn refs_in(obs: &Observed) -> impl Fn(&str) -> Result<Found, String> + '_ {
    move |r: &str| {
        let (target, path) = match r.split_once('/') {
            Some((t, p)) => (t, format!("/{p}")),
            None => (r, String::new()),
        };
        // A bare name (contains_ref) is a field of the same output.
        if path.is_empty() && obs.target(target).is_err() {
            return obs.find("output", &format!("/{target}"));
        }
        obs.find(target, &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_refs(_: &str) -> Result<Found, String> {
        Err("no refs".into())
    }

    fn op(op: &str, expected: Value, actual: &Value, path: &str) -> Result<(), String> {
        apply_op(op, &expected, &pointer::resolve(actual, path), &no_refs)
    }

    #[test]
    fn equality_ops() {
        let v = json!({"a": 1, "s": "x", "n": null});
        assert!(op("equals", json!(1.0), &v, "/a").is_ok());
        assert!(op("equals", json!("1"), &v, "/a").is_err());
        assert!(op("equals_text", json!("1"), &v, "/a").is_ok());
        assert!(op("equals_or_absent", json!(false), &v, "/missing").is_ok());
        assert!(op("equals_or_absent", json!(false), &v, "/s").is_err());
        assert!(op("present", json!(true), &v, "/s").is_ok());
        assert!(op("present", json!(true), &v, "/n").is_err());
        assert!(op("absent", json!(true), &v, "/n").is_ok());
        assert!(op("is_null", json!(true), &v, "/n").is_ok());
        assert!(op("is_null", json!(true), &v, "/missing").is_err());
    }

    #[test]
    fn shape_ops() {
        let v = json!({"l": [1, "b"], "o": {}, "s": "  ", "t": "hello"});
        assert!(op("size", json!(2), &v, "/l").is_ok());
        assert!(op("min_size", json!(3), &v, "/l").is_err());
        assert!(op("is_array", json!(true), &v, "/l").is_ok());
        assert!(op("is_object", json!(true), &v, "/o").is_ok());
        assert!(op("absent_or_empty", json!(true), &v, "/o").is_ok());
        assert!(op("not_empty", json!(true), &v, "/o").is_err());
        assert!(op("not_blank", json!(true), &v, "/s").is_err());
        assert!(op("contains", json!("b"), &v, "/l").is_ok());
        assert!(op("contains", json!("ell"), &v, "/t").is_ok());
        assert!(op("not_contains", json!("x"), &v, "/missing").is_ok());
        assert!(op("starts_with", json!("he"), &v, "/t").is_ok());
        assert!(op("ends_with", json!("lo"), &v, "/t").is_ok());
        assert!(op("approx", json!(1.0000000001), &json!({"x": 1.0}), "/x").is_ok());
    }

    #[test]
    fn wildcard_ops() {
        let v = json!({"t": [{"n": "a", "k": 1}, {"n": "b", "k": 1}]});
        assert!(op("contains", json!("b"), &v, "/t/*/n").is_ok());
        assert!(op("each_equals", json!(1), &v, "/t/*/k").is_ok());
        assert!(op("each_equals", json!("a"), &v, "/t/*/n").is_err());
        assert!(op("each_absent", json!(true), &v, "/t/*/title").is_ok());
        assert!(op("each_present", json!(true), &v, "/t/*/n").is_ok());
        assert!(op("each_not_blank", json!(true), &v, "/t/*/n").is_ok());
    }

    #[test]
    fn wire_expectations() {
        let obs = Observed {
            status: Some(200),
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/json; charset=UTF-8".into(),
                ),
                ("Mcp-Session-Id".into(), "abc".into()),
            ],
            body: Some(br#"{"a":{"b":1,"c":2}}"#.to_vec()),
            ..Observed::default()
        };
        let refs = refs_in(&obs);
        let ok = json!({"status": 200, "content_type": "application/json", "partial": true,
            "body_json": {"a": {"b": 1}},
            "checks": [{"target": "headers", "path": "/mcp-session-id", "equals": "abc"},
                       {"target": "headers", "path": "/MCP-SESSION-ID", "present": true},
                       {"target": "body", "path": "/a/c", "same_as": "body/a/c"}]});
        assert_eq!(evaluate(&ok, &obs, &refs), Ok(()));
        let exact = json!({"body_json": {"a": {"b": 1}}});
        assert!(evaluate(&exact, &obs, &refs).is_err());
        let gated = json!({"status_in": [200, 404], "if_status_200": {"checks": [
            {"target": "body", "path": "/a/b", "equals": 2}]}});
        assert!(
            evaluate(&gated, &obs, &refs)
                .unwrap_err()
                .contains("if_status_200")
        );
    }

    #[test]
    fn targets() {
        let obs = Observed {
            rpc: Some(json!({"result": {"content": [{"type": "text", "text": "[1,2]"}]}})),
            stdout_lines: Some(vec![r#"{"id":1}"#.into()]),
            upstream: vec![None],
            body: Some(vec![0x50, 0x4b, 3]),
            ..Observed::default()
        };
        assert_eq!(obs.target("tool_json"), Ok(json!([1, 2])));
        assert_eq!(obs.target("stdout_line[0]"), Ok(json!({"id": 1})));
        assert!(obs.target("upstream[0]").is_err());
        assert_eq!(obs.target("body_bytes"), Ok(json!("504b03")));
        assert!(
            op(
                "starts_with_hex",
                json!("504B"),
                &obs.target("body_bytes").unwrap(),
                ""
            )
            .is_ok()
        );
    }
}
