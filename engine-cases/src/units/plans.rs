//! Probe specs: for each engine function whose counterpart is code the generator emits, a
//! small spec (alpha2 grammar) that makes the generated service do exactly the case's
//! operation, and what to ask it. The plans themselves are in [`super::outputs`],
//! [`super::flows`] and [`super::wire`]; this module has their shapes and builder.
//!
//! A plan has one *part* per input (the tools, routes, operations and functions that input
//! adds to the spec) and one probe per input: all inputs share one spec and one service. A
//! part the generator refuses is judged alone (a located refusal is the engine's error,
//! raised at build time), the others still run.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::case::Upstream;
/// The namespace of the probe spec's consumed API.
pub const PROBE_API: &str = "probe-api";
/// The probe spec's MCP server.
pub const PROBE_MCP: &str = "probe-mcp";
/// The probe spec's aggregate.
pub const PROBE_AGG: &str = "probe-agg";

/// What a plan may read besides its input.
pub struct PlanCtx<'a> {
    /// The engine function the case names.
    pub function: &'a str,
    /// The case's spec, parsed (placeholders substituted).
    pub spec: Option<&'a Value>,
    pub fixtures: &'a Path,
}

/// A probe spec and its probes.
#[derive(Debug, Clone)]
pub struct SpecPlan {
    /// The spec without any part; `${UPSTREAM}` stands for the stub origin.
    pub base: Value,
    /// Per input: `(JSON pointer of an array, item)` to add to the spec.
    pub parts: Vec<Vec<(String, Value)>>,
    /// Per input: what to ask the service and how to read its answer.
    pub probes: Vec<Probe>,
    /// True when the case's input has `cases`.
    pub many: bool,
    /// What the upstream stubs answer.
    pub stubs: Vec<Upstream>,
    /// The service's environment; `None`: the case's `env` (and its bind values).
    pub env: Option<Vec<(String, String)>>,
}

impl SpecPlan {
    /// The spec as YAML with the parts `only` (every part when `None`).
    pub fn spec(&self, only: Option<&[usize]>) -> Result<String, String> {
        let mut v = self.base.clone();
        for (i, part) in self.parts.iter().enumerate() {
            if only.is_some_and(|o| !o.contains(&i)) {
                continue;
            }
            for (ptr, item) in part {
                push(&mut v, ptr, item.clone())?;
            }
        }
        prune(&mut v);
        serde_yaml::to_string(&v).map_err(|e| e.to_string())
    }
}

/// One input's question to the service.
#[derive(Debug, Clone)]
pub struct Probe {
    pub ask: Ask,
    pub read: Read,
}

/// What is sent to the service.
#[derive(Debug, Clone)]
pub enum Ask {
    /// `tools/call` of `tool` on the MCP server `server`.
    Tool {
        server: String,
        tool: String,
        args: Value,
    },
    /// `tools/list` of the MCP server `server`.
    ToolsList { server: String },
    /// One request in the cases' grammar (`protocol: rest` or `mcp`).
    Request(Value),
}

/// How the answer becomes the unit output.
#[derive(Debug, Clone)]
pub enum Read {
    /// The tool result as JSON (text that is not JSON as a string; no text is `null`); an
    /// error result is an error.
    Result,
    /// One field of the tool's object result (absent: `null`).
    Field(String),
    /// The tool result, or `null` when it is the upstream body unchanged (no mapping
    /// applied: the engine's "no result, callers fall back to the raw body").
    MappedOrNull(String),
    /// The `annotations` of a tool in `tools/list` (`null` when it has none).
    Annotations(String),
    /// The hints of a tool in `tools/list`, named as the engine's model names them
    /// (`readOnly`, `destructive`, `idempotent`, `openWorld`).
    Hints(String),
    /// The values whose tool `tools/list` lists.
    Listed(Vec<(String, Value)>),
    /// The request the stubs received during the probe. `params`: `(name, in)` of the
    /// parameters the consumed operation declares, read back from the request.
    /// `whole`: `{url, path, media_type, body_text, headers, parameters}` with `origin`
    /// in place of the stub's in `url`; otherwise the parameters alone.
    Sent {
        params: Vec<(String, String)>,
        origin: Option<String>,
        whole: bool,
        /// The case's parameters (the engine writes resolved values back into them).
        given: Value,
    },
    /// Fields of the JSON body of the request the stubs received during the probe (absent
    /// ones `null`): an array in order, or (`object`) an object by name.
    BodyFields { names: Vec<String>, object: bool },
    /// The HTTP answer: the output is its body (JSON, else text); status and headers are
    /// judged too.
    Wire,
    /// The HTTP answer's body; a status of 400 or more is an error.
    Answer,
    /// Whether the route is served: 2xx is `true`, 404 `false`.
    Served,
    /// An aggregate function's result as the engine's `FunctionResult` shows it: `mock`
    /// (no `call`, no `steps`) with the result as `mockOutput`, else as `output`.
    Function { mock: bool },
}

/// Pushes `item` onto the array at `ptr`, creating it (and missing objects) on the way.
fn push(root: &mut Value, ptr: &str, item: Value) -> Result<(), String> {
    let segs = crate::pointer::segments(ptr);
    let mut cur = root;
    for (k, s) in segs.iter().enumerate() {
        let last = k + 1 == segs.len();
        cur = match cur {
            Value::Object(m) => m.entry(s.clone()).or_insert_with(|| {
                if last {
                    Value::Array(Vec::new())
                } else {
                    Value::Object(Map::new())
                }
            }),
            Value::Array(a) => {
                let i: usize = s.parse().map_err(|_| format!("bad index in {ptr}"))?;
                a.get_mut(i)
                    .ok_or_else(|| format!("no element {i} at {ptr}"))?
            }
            _ => return Err(format!("{ptr}: not a container")),
        };
    }
    match cur {
        Value::Array(a) => {
            a.push(item);
            Ok(())
        }
        _ => Err(format!("{ptr} is not an array")),
    }
}

/// Removes the probe's own entries that nothing was added to.
fn prune(spec: &mut Value) {
    let probe = |e: &Value| {
        e.get("namespace")
            .and_then(Value::as_str)
            .is_some_and(|n| n.starts_with("probe-"))
    };
    let empty = |e: &Value, k: &str| {
        e.get(k)
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
    };
    let Some(cap) = spec.get_mut("capability").and_then(Value::as_object_mut) else {
        return;
    };
    for (key, list) in [
        ("consumes", "resources"),
        ("aggregates", "functions"),
        ("exposes", "tools"),
        ("exposes", "resources"),
    ] {
        if let Some(Value::Array(entries)) = cap.get_mut(key) {
            entries.retain(|e| !(probe(e) && empty(e, list)));
        }
    }
    for key in ["consumes", "aggregates"] {
        if cap
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            cap.remove(key);
        }
    }
}

/// Builds a plan part by part.
pub(super) struct Plan {
    pub(super) plan: SpecPlan,
}

impl Plan {
    /// A plan over `base`.
    pub(super) fn over(base: Value, many: bool) -> Plan {
        Plan {
            plan: SpecPlan {
                base,
                parts: Vec::new(),
                probes: Vec::new(),
                many,
                stubs: Vec::new(),
                env: None,
            },
        }
    }

    /// The usual base: the consumed `probe-api`, the aggregate `probe-agg`, the MCP server
    /// `probe-mcp` (exposes 0) and the REST adapter `probe-rest` (exposes 1).
    pub(super) fn new(many: bool) -> Plan {
        Plan::over(
            json!({
                "naftiko": "1.0.0-alpha2",
                "capability": {
                    "consumes": [{"type": "http", "namespace": PROBE_API, "baseUri": "${UPSTREAM}", "resources": []}],
                    "aggregates": [{"label": "Probe", "namespace": PROBE_AGG, "functions": []}],
                    "exposes": [
                        {"type": "mcp", "namespace": PROBE_MCP, "port": 9100, "tools": []},
                        {"type": "rest", "namespace": "probe-rest", "port": 9101, "resources": []}
                    ]
                }
            }),
            many,
        )
    }

    /// Starts the part of the next input.
    pub(super) fn next(&mut self) {
        self.plan.parts.push(Vec::new());
    }

    pub(super) fn add(&mut self, ptr: &str, item: Value) {
        if self.plan.parts.is_empty() {
            self.next();
        }
        if let Some(p) = self.plan.parts.last_mut() {
            p.push((ptr.to_owned(), item));
        }
    }

    /// The pointer of the tools of the MCP server `ns`, added to the base when missing.
    pub(super) fn server(&mut self, ns: &str) -> String {
        let exposes = self
            .plan
            .base
            .pointer_mut("/capability/exposes")
            .and_then(Value::as_array_mut);
        let Some(exposes) = exposes else {
            return "/capability/exposes/0/tools".into();
        };
        let i = match exposes
            .iter()
            .position(|e| e.get("namespace").and_then(Value::as_str) == Some(ns))
        {
            Some(i) => i,
            None => {
                exposes.push(
                    json!({"type": "mcp", "namespace": ns, "port": 9102 + exposes.len(), "tools": []}),
                );
                exposes.len() - 1
            }
        };
        format!("/capability/exposes/{i}/tools")
    }

    pub(super) fn tool(&mut self, tool: Value) {
        self.add("/capability/exposes/0/tools", tool);
    }

    pub(super) fn route(&mut self, resource: Value) {
        self.add("/capability/exposes/1/resources", resource);
    }

    pub(super) fn function(&mut self, function: Value) {
        self.add("/capability/aggregates/0/functions", function);
    }

    /// A consumed `GET /<name>` (operation `get-<name>`, with `extra` fields); returns
    /// its `call` target.
    pub(super) fn operation(&mut self, name: &str, extra: Value) -> String {
        let mut op = json!({"name": format!("get-{name}"), "method": "GET"});
        if let (Value::Object(extra), Some(o)) = (extra, op.as_object_mut()) {
            o.extend(extra);
        }
        self.add(
            "/capability/consumes/0/resources",
            json!({"name": name, "path": format!("/{name}"), "operations": [op]}),
        );
        format!("{PROBE_API}.get-{name}")
    }

    /// The stub of `namespace` answers `method path` (`""` and `*`: anything).
    pub(super) fn stub(
        &mut self,
        namespace: &str,
        method: &str,
        path: &str,
        body: &str,
        content_type: &str,
    ) {
        self.plan.stubs.push(Upstream {
            namespace: namespace.to_owned(),
            method: method.to_owned(),
            path: path.to_owned(),
            query: Vec::new(),
            unreachable: false,
            status: 200,
            content_type: Some(content_type.to_owned()),
            body: Some(body.to_owned()),
            received: None,
        });
    }

    /// `GET /<name>` of `probe-api` answers `body`.
    pub(super) fn answer(&mut self, name: &str, body: &str, content_type: &str) {
        self.stub(PROBE_API, "GET", &format!("/{name}"), body, content_type);
    }

    pub(super) fn probe(&mut self, ask: Ask, read: Read) {
        self.plan.probes.push(Probe { ask, read });
    }

    pub(super) fn call_tool(&mut self, tool: &str, args: Value, read: Read) {
        self.probe(
            Ask::Tool {
                server: PROBE_MCP.into(),
                tool: tool.to_owned(),
                args,
            },
            read,
        );
    }

    pub(super) fn get(&mut self, path: &str, query: Option<&Value>, read: Read) {
        let mut req = json!({"protocol": "rest", "method": "GET", "path": path});
        if let Some(q) = query.filter(|q| q.as_object().is_some_and(|o| !o.is_empty())) {
            req["query"] = q.clone();
        }
        self.probe(Ask::Request(req), read);
    }

    pub(super) fn done(self) -> SpecPlan {
        self.plan
    }
}

/// The spec type of a JSON value.
pub(super) fn ty_of(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        _ => "string",
    }
}

/// An optional input named `name`, typed by an example value.
pub(super) fn input_decl(name: &str, example: &Value) -> Value {
    json!({"name": name, "type": ty_of(example), "required": false,
           "description": format!("The parameter {name}")})
}

/// The parameters of a case as optional tool inputs (the engine takes whatever map it is
/// given; declared inputs are how our services take parameters).
pub(super) fn inputs_of(params: Option<&Value>) -> Vec<Value> {
    params
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| input_decl(k, v)).collect())
        .unwrap_or_default()
}

/// A tool named `name` with `fields`; `inputs` when there are some.
pub(super) fn tool(name: &str, inputs: Vec<Value>, fields: Value) -> Value {
    let mut t = json!({"name": name, "description": format!("Probe {name}")});
    if !inputs.is_empty() {
        t["inputParameters"] = Value::Array(inputs);
    }
    if let (Value::Object(f), Some(o)) = (fields, t.as_object_mut()) {
        o.extend(f);
    }
    t
}

/// The case's parameters as tool arguments (`{}` when there are none).
pub(super) fn args_of(params: Option<&Value>) -> Value {
    params
        .filter(|p| p.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}))
}

/// The media type of a stub body: JSON when it parses as JSON.
pub(super) fn media_of(text: &str) -> &'static str {
    if serde_json::from_str::<Value>(text).is_ok() {
        "application/json"
    } else {
        "text/plain"
    }
}

/// A field that is present and not `null`.
pub(super) fn field<'a>(v: &'a Value, k: &str) -> Option<&'a Value> {
    v.get(k).filter(|x| !x.is_null())
}

/// The name an output parameter gets in a mock result (ours: its name, else `value`).
pub(super) fn mock_key(param: &Value) -> String {
    param
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("value")
        .to_owned()
}

/// `in` of an exposed output parameter: the engine does not read it (semantics.md 7.4)
/// and the grammar has no such field.
pub(super) fn without_in(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| *k != "in")
                .map(|(k, x)| (k.clone(), without_in(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_in).collect()),
        other => other.clone(),
    }
}

/// `(origin, path)` of a URL (`https://h/v1/x` -> `https://h`, `/v1/x`).
pub(super) fn origin_of(url: &str) -> (String, String) {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after..].find('/') {
        Some(j) => (url[..after + j].to_owned(), url[after + j..].to_owned()),
        None => (url.to_owned(), String::new()),
    }
}

/// The media type an upstream sends a body of `outputRawFormat` with.
pub(super) fn format_media(format: Option<&str>) -> &'static str {
    match format.map(str::to_ascii_lowercase).as_deref() {
        None | Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("yaml") => "application/yaml",
        Some("csv") => "text/csv",
        Some("tsv") => "text/tab-separated-values",
        Some("html") => "text/html",
        Some("markdown") => "text/markdown",
        Some(_) => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_pruning() {
        let ctx = PlanCtx {
            function: "render_template",
            spec: None,
            fixtures: Path::new("/tmp"),
        };
        let plan = super::super::outputs::render_template(
            &json!({"cases": [{"template": "a {{x}}", "parameters": {"x": "1"}}, {"template": "b", "parameters": null}]}),
            &ctx,
        )
        .unwrap();
        assert_eq!(plan.parts.len(), 2);
        assert_eq!(plan.probes.len(), 2);
        let all: Value = serde_yaml::from_str(&plan.spec(None).unwrap()).unwrap();
        // Nothing consumed, no functions, no routes: those entries are pruned.
        assert!(all.pointer("/capability/consumes").is_none());
        assert!(all.pointer("/capability/aggregates").is_none());
        assert_eq!(
            all.pointer("/capability/exposes")
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            all.pointer("/capability/exposes/0/tools")
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let one: Value = serde_yaml::from_str(&plan.spec(Some(&[1])).unwrap()).unwrap();
        assert_eq!(
            one.pointer("/capability/exposes/0/tools/0/name"),
            Some(&json!("probe-1"))
        );
        assert!(
            one.pointer("/capability/exposes/0/tools/0/inputParameters")
                .is_none()
        );
        assert_eq!(
            without_in(
                &json!([{"type": "object", "in": "body", "properties": {"a": {"in": "x"}}}])
            ),
            json!([{"type": "object", "properties": {"a": {}}}])
        );
    }
}
