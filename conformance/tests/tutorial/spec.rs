//! The tutorial's spec files read as plain YAML, in either grammar: what the test drives
//! (tools, routes, skills) and what it expects (declared inputs and outputs, the consumed
//! operations their calls reach). Nothing here asks the generator: the test judges the
//! generated service by the spec, not by the generator's reading of it.
//!
//! The grammars differ mostly in how named things are written: alpha2 lists objects that
//! carry a `name`, beta5 maps each name to its object. [`named`] reads both.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// The entries of a named collection: `[{name: a, ...}]` (alpha2) or `{a: {...}}` (beta5).
/// Unnamed list entries get the name `""`.
pub fn named(v: Option<&Value>) -> Vec<(String, Value)> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                let name = i.get("name").and_then(Value::as_str).unwrap_or("");
                (name.to_owned(), i.clone())
            })
            .collect(),
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => Vec::new(),
    }
}

pub fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Reads a YAML file as JSON.
pub fn load_yaml(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `{{name}}` placeholders of a template, trimmed.
pub fn placeholders(t: &str) -> Vec<String> {
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

/// The text a value takes in a template: strings as they are, other values as JSON.
pub fn template_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Renders `{{name}}` (dotted names walk objects); a missing name renders as nothing.
pub fn render(t: &str, vars: &Map<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = after[..end].trim();
        let value = vars.get(name).cloned().or_else(|| {
            let mut parts = name.split('.');
            let mut v = vars.get(parts.next()?)?;
            for p in parts {
                v = v.get(p)?;
            }
            Some(v.clone())
        });
        if let Some(v) = value.filter(|v| !v.is_null()) {
            out.push_str(&template_text(&v));
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// One parameter of a consumed operation.
#[derive(Debug, Clone)]
pub struct OpParam {
    pub name: String,
    /// `path`, `query`, `header`, `body`...
    pub location: String,
    /// A fixed value (a template over the binds).
    pub value: Option<String>,
}

/// An operation of a consumed API.
#[derive(Debug, Clone)]
pub struct ConsumedOp {
    pub name: String,
    pub method: String,
    /// The resource path with `{{param}}` placeholders.
    pub path: String,
    pub params: Vec<OpParam>,
    /// The body template.
    pub body: Option<String>,
    /// `outputRawFormat`, lower case (`json` when absent).
    pub format: String,
    /// Named `outputParameters`: what a step keeps of the answer (`value` or `mapping`).
    pub projection: Vec<(String, String)>,
}

/// A consumed API (`capability.consumes`, imports resolved).
#[derive(Debug, Clone)]
pub struct Consumed {
    pub namespace: String,
    pub base_uri: String,
    /// The `authentication` block, as written.
    pub auth: Option<Value>,
    /// Consumes-level parameters with a value, sent with every call.
    pub fixed: Vec<OpParam>,
    pub ops: Vec<ConsumedOp>,
}

fn params_of(v: Option<&Value>) -> Vec<OpParam> {
    named(v)
        .into_iter()
        .map(|(name, p)| OpParam {
            name,
            location: text(&p, "in").to_owned(),
            value: p.get("value").and_then(Value::as_str).map(str::to_owned),
        })
        .collect()
}

fn consumed(entry: &Value) -> Consumed {
    let mut ops = Vec::new();
    for (_, resource) in named(entry.get("resources")) {
        let path = text(&resource, "path").to_owned();
        for (name, op) in named(resource.get("operations")) {
            let projection = named(op.get("outputParameters"))
                .into_iter()
                .filter(|(n, _)| !n.is_empty())
                .filter_map(|(n, p)| {
                    let m = p
                        .get("mapping")
                        .or_else(|| p.get("value"))
                        .and_then(Value::as_str)?;
                    Some((n, m.to_owned()))
                })
                .collect();
            ops.push(ConsumedOp {
                name,
                method: text(&op, "method").to_ascii_uppercase(),
                path: path.clone(),
                params: params_of(op.get("inputParameters")),
                body: op.get("body").map(|b| match b {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
                format: op
                    .get("outputRawFormat")
                    .and_then(Value::as_str)
                    .unwrap_or("json")
                    .to_ascii_lowercase(),
                projection,
            });
        }
    }
    Consumed {
        namespace: text(entry, "namespace").to_owned(),
        base_uri: text(entry, "baseUri").to_owned(),
        auth: entry.get("authentication").cloned(),
        fixed: params_of(entry.get("inputParameters"))
            .into_iter()
            .filter(|p| p.value.is_some())
            .collect(),
        ops,
    }
}

/// An input of a tool, route or function.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    /// `string`, `number`, `array`... (`string` when not declared).
    pub ty: String,
    pub required: bool,
    /// REST: `path`, `query`, `body`...; MCP: empty.
    pub location: String,
}

fn inputs_of(v: Option<&Value>) -> Vec<Input> {
    named(v)
        .into_iter()
        .map(|(name, p)| Input {
            name,
            ty: p
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("string")
                .to_owned(),
            required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
            location: text(&p, "in").to_owned(),
        })
        .collect()
}

/// What a tool, route or function does, with the namespace its `with` refers to.
#[derive(Debug, Clone)]
pub struct Flow {
    /// The object that holds `call`/`steps`/outputs (the function's, for a `ref`).
    pub body: Value,
    /// The namespace `<ns>.<input>` references in `with` name.
    pub namespace: String,
    pub inputs: Vec<Input>,
}

impl Flow {
    pub fn kind(&self) -> &'static str {
        if self.body.get("steps").is_some() {
            "steps"
        } else if self.body.get("call").is_some() {
            "call"
        } else {
            "mock"
        }
    }
}

/// An MCP tool or a REST operation.
#[derive(Debug, Clone)]
pub struct Action {
    pub name: String,
    /// REST only: method and path as declared (`/ships/{{imo}}`).
    pub method: String,
    pub path: String,
    pub flow: Flow,
}

#[derive(Debug, Clone)]
pub struct McpServer {
    pub namespace: String,
    pub auth: Option<Value>,
    pub tools: Vec<Action>,
}

#[derive(Debug, Clone)]
pub struct RestServer {
    pub namespace: String,
    pub routes: Vec<Action>,
}

#[derive(Debug, Clone)]
pub struct SkillTool {
    pub name: String,
    pub description: String,
    /// `from.sourceNamespace` and `from.action` of a derived tool.
    pub from: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Skill {
    pub name: String,
    pub description: String,
    pub tools: Vec<SkillTool>,
}

#[derive(Debug, Clone)]
pub struct SkillServer {
    pub namespace: String,
    pub skills: Vec<Skill>,
}

/// One tutorial step.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `naftiko 1.0.0-alpha2` or `ikanos 1.0.0-beta5`.
    pub grammar: &'static str,
    pub doc: Value,
    pub consumes: Vec<Consumed>,
    pub mcp: Vec<McpServer>,
    pub rest: Vec<RestServer>,
    pub skills: Vec<SkillServer>,
}

impl Spec {
    pub fn load(path: &Path) -> Result<Spec, String> {
        let doc = load_yaml(path)?;
        let grammar = if doc.get("ikanos").is_some() {
            "ikanos 1.0.0-beta5"
        } else {
            "naftiko 1.0.0-alpha2"
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let cap = doc.get("capability").cloned().unwrap_or(Value::Null);
        let mut consumes = Vec::new();
        for entry in cap
            .get("consumes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let Some(ns) = entry.get("import").and_then(Value::as_str) else {
                consumes.push(consumed(&entry));
                continue;
            };
            let rel = entry
                .get("location")
                .or_else(|| entry.get("from"))
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{}: import `{ns}` names no file", path.display()))?;
            let file = dir.join(rel.trim_start_matches("file://"));
            let imported = load_yaml(&file)?;
            let list = imported
                .get("consumes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let found = list
                .iter()
                .find(|c| text(c, "namespace") == ns)
                .or(list.first())
                .ok_or_else(|| format!("{}: no consumes entry", file.display()))?;
            let mut c = consumed(found);
            c.namespace = ns.to_owned();
            consumes.push(c);
        }

        // Aggregate functions by `<namespace>.<name>` (alpha2 `functions`, beta5 `flows`).
        let mut functions = Vec::new();
        for agg in cap
            .get("aggregates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let ns = text(&agg, "namespace").to_owned();
            for (name, f) in named(agg.get("functions").or_else(|| agg.get("flows"))) {
                functions.push((format!("{ns}.{name}"), ns.clone(), f));
            }
        }
        let flow_of = |ns: &str, obj: &Value| -> Result<Flow, String> {
            match obj.get("ref").and_then(Value::as_str) {
                Some(r) => {
                    let (_, fns, f) = functions
                        .iter()
                        .find(|(k, _, _)| k == r)
                        .ok_or_else(|| format!("`ref: {r}` names no aggregate function"))?;
                    let own = inputs_of(obj.get("inputParameters"));
                    Ok(Flow {
                        body: f.clone(),
                        namespace: fns.clone(),
                        inputs: if own.is_empty() {
                            inputs_of(f.get("inputParameters"))
                        } else {
                            own
                        },
                    })
                }
                None => Ok(Flow {
                    body: obj.clone(),
                    namespace: ns.to_owned(),
                    inputs: inputs_of(obj.get("inputParameters")),
                }),
            }
        };

        let (mut mcp, mut rest, mut skills) = (Vec::new(), Vec::new(), Vec::new());
        for e in cap
            .get("exposes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let ns = text(&e, "namespace").to_owned();
            match text(&e, "type") {
                "mcp" => {
                    let mut tools = Vec::new();
                    for (name, t) in named(e.get("tools")) {
                        tools.push(Action {
                            flow: flow_of(&ns, &t)?,
                            name,
                            method: String::new(),
                            path: String::new(),
                        });
                    }
                    mcp.push(McpServer {
                        namespace: ns,
                        auth: e.get("authentication").cloned(),
                        tools,
                    });
                }
                "rest" => {
                    let mut routes = Vec::new();
                    for (_, r) in named(e.get("resources")) {
                        for (name, op) in named(r.get("operations")) {
                            routes.push(Action {
                                flow: flow_of(&ns, &op)?,
                                name,
                                method: text(&op, "method").to_ascii_uppercase(),
                                path: text(&r, "path").to_owned(),
                            });
                        }
                    }
                    rest.push(RestServer {
                        namespace: ns,
                        routes,
                    });
                }
                "skill" => {
                    let list = named(e.get("skills"))
                        .into_iter()
                        .map(|(name, s)| Skill {
                            name,
                            description: text(&s, "description").to_owned(),
                            tools: named(s.get("tools"))
                                .into_iter()
                                .map(|(name, t)| SkillTool {
                                    name,
                                    description: text(&t, "description").to_owned(),
                                    from: t.get("from").map(|f| {
                                        (
                                            text(f, "sourceNamespace").to_owned(),
                                            text(f, "action").to_owned(),
                                        )
                                    }),
                                })
                                .collect(),
                        })
                        .collect();
                    skills.push(SkillServer {
                        namespace: ns,
                        skills: list,
                    });
                }
                _ => {}
            }
        }
        Ok(Spec {
            grammar,
            doc,
            consumes,
            mcp,
            rest,
            skills,
        })
    }

    /// The consumed operation a `call: <ns>.<op>` names.
    pub fn op(&self, call: &str) -> Result<(&Consumed, &ConsumedOp), String> {
        let (ns, op) = call
            .split_once('.')
            .ok_or_else(|| format!("`call: {call}` is not `<namespace>.<operation>`"))?;
        let c = self
            .consumes
            .iter()
            .find(|c| c.namespace == ns)
            .ok_or_else(|| format!("`call: {call}`: no consumed namespace `{ns}`"))?;
        let o = c
            .ops
            .iter()
            .find(|o| o.name == op)
            .ok_or_else(|| format!("`call: {call}`: no operation `{op}`"))?;
        Ok((c, o))
    }

    /// The values of the `binds` variables, read the way the service reads them: files
    /// relative to `cwd`, else the environment.
    pub fn bind_values(&self, cwd: &Path) -> Map<String, Value> {
        let mut out = Map::new();
        for (_, b) in named(self.doc.get("binds")) {
            let keys = b.get("keys").and_then(Value::as_object).cloned();
            let location = text(&b, "location");
            let data = if location.is_empty() {
                None
            } else {
                let rest = location.strip_prefix("file://").unwrap_or(location);
                let file = match rest.strip_prefix("/./").or_else(|| rest.strip_prefix("./")) {
                    Some(rel) => cwd.join(rel),
                    None => PathBuf::from(rest),
                };
                load_yaml(&file).ok()
            };
            for (var, key) in keys.unwrap_or_default() {
                let key = key.as_str().unwrap_or("");
                let value = match &data {
                    Some(d) => d.get(key).cloned(),
                    None => std::env::var(key).ok().map(Value::String),
                };
                if let Some(v) = value.filter(|v| !v.is_null()) {
                    out.insert(var, Value::String(template_text(&v)));
                }
            }
        }
        out
    }
}
