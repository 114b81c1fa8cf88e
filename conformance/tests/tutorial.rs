//! The Naftiko tutorial, eleven steps in each grammar (`naftiko/corpus/tutorial/`, alpha2;
//! `naftiko/beta5/tutorial/`, beta5), generated into ONE acceptance crate (a module per
//! step, built once) and run step by step as child processes against a stub of the two
//! shipyard APIs made from their OpenAPI documents (`naftiko/beta5/engine-tests/openapi/`).
//!
//! Every MCP tool (`tools/list`, then `tools/call`) and every REST operation of each step is
//! driven over real sockets, and every skill catalogue is read. Results are judged by the
//! spec, not by a table per step: the declared outputs (names and JSON types) must be there,
//! with the values the stub's examples imply through the declared mappings, lookups and
//! mocks (see `tutorial/expect.rs`); the requests that reached the stub must be the ones the
//! consumed operations describe, with the credentials from the binds, and a path parameter
//! must travel as one encoded segment.
//!
//! Each test reports every difference it finds (grammar, step, tool or route, what differed)
//! and fails if there is one.

#[path = "tutorial/expect.rs"]
mod expect;
#[path = "tutorial/spec.rs"]
mod spec;
#[path = "tutorial/stub.rs"]
mod stub;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use naftiko_conformance::{scratch_target, shared_dir, workspace_root};
use naftiko_engine_cases::child::Killer;
use naftiko_engine_cases::prepare::{Acceptance, Paths, Surface};
use naftiko_engine_cases::requests::{Launch, Session};
use serde_json::{Map, Value, json};

use expect::{Call, Decl, Outcome, World, judge, location, same, trace};
use spec::{Action, Flow, Input, Spec, render, text};
use stub::{Apis, Seen, Stub, param_example, split_path};

/// The OpenAPI documents of the upstream APIs, under the shared folder.
const OPENAPI: &str = "naftiko/beta5/engine-tests/openapi";
/// The tutorial in each grammar, under the shared folder.
const ALPHA2: &str = "naftiko/corpus/tutorial";
const BETA5: &str = "naftiko/beta5/tutorial";
/// Package (and binary) name of the acceptance crate.
const PACKAGE: &str = "naftiko-tutorial-acceptance";

/// One tutorial step, generated.
struct Step {
    path: PathBuf,
    /// Its module in the acceptance crate, its surfaces and consumed namespaces; or why
    /// the generator refused it.
    generated: Result<(String, Vec<Surface>, Vec<String>), String>,
}

struct Built {
    acceptance: Acceptance,
    steps: Vec<Step>,
    seconds: f64,
}

/// The step files of a tutorial folder, in step order.
fn step_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            let n = name
                .strip_prefix("step-")?
                .split('-')
                .next()?
                .parse()
                .ok()?;
            (name.ends_with(".yml") || name.ends_with(".yaml")).then_some((n, p))
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

/// The runtime feature a body format needs.
fn format_feature(label: &str) -> &str {
    match label {
        "tsv" | "psv" => "csv",
        other => other,
    }
}

/// Generates both tutorials into one crate and builds it, once for every test here.
fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let start = Instant::now();
        let shared = shared_dir();
        let mut acceptance = Acceptance::named(PACKAGE, &[]);
        let mut features = BTreeSet::new();
        let mut steps = Vec::new();
        for (tag, dir) in [("alpha2", ALPHA2), ("beta5", BETA5)] {
            let files = step_files(&shared.join(dir));
            assert_eq!(files.len(), 11, "the eleven steps of {dir}");
            for path in files {
                let generated = match naftiko_codegen::generate(&path) {
                    Ok(g) => {
                        for c in &g.capability.clients {
                            for op in &c.ops {
                                if !op.format.is_json() {
                                    features.insert(format_feature(&op.format.label).to_owned());
                                }
                            }
                        }
                        if !g.capability.skills.is_empty() {
                            features.insert("skill".to_owned());
                        }
                        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                        let module = acceptance.module_for(&format!("{tag} {stem}"), &g.source);
                        let surfaces = g
                            .capability
                            .surfaces()
                            .into_iter()
                            .map(|s| Surface {
                                kind: s.kind.to_owned(),
                                namespace: s.namespace,
                                stdio: s.stdio,
                            })
                            .collect();
                        Ok((module, surfaces, g.capability.client_namespaces()))
                    }
                    Err(d) => Err(format!("`naftiko-codegen check` rejects it:\n{d}")),
                };
                steps.push(Step { path, generated });
            }
        }
        acceptance.features = Some(features.into_iter().collect());
        let paths = Paths {
            repo: workspace_root(),
            target: scratch_target(),
            corpus: shared.clone(),
            out: scratch_target().join("tutorial"),
        };
        if let Err(e) = acceptance.build(&paths) {
            acceptance.failure = Some(e);
        }
        Built {
            acceptance,
            steps,
            seconds: start.elapsed().as_secs_f64(),
        }
    })
}

/// What one grammar's run found.
#[derive(Default)]
struct Report {
    failures: Vec<String>,
    tools: usize,
    tool_calls: usize,
    routes: usize,
    route_calls: usize,
    skill_reads: usize,
}

/// Where a failure happened.
struct At<'a> {
    grammar: &'a str,
    step: String,
}

impl At<'_> {
    fn say(&self, what: &str, msg: &str) -> String {
        format!("[{}] {} {what}: {msg}", self.grammar, self.step)
    }
}

fn run_grammar(dir: &str, grammar: &str) {
    let built = built();
    let shared = shared_dir();
    let folder = shared.join(dir);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let apis = Apis::load(&shared.join(OPENAPI)).expect("the OpenAPI documents");
    assert!(
        apis.list.len() >= 2,
        "the Maritime Registry and Legacy Dockyard documents"
    );
    let stub = rt.block_on(Stub::start(apis)).expect("the upstream stub");
    let start = Instant::now();
    let mut report = Report::default();
    for step in built.steps.iter().filter(|s| s.path.starts_with(&folder)) {
        drive_step(step, built, &stub, rt.handle(), grammar, &mut report);
    }
    println!(
        "{grammar}: {} tools ({} calls), {} REST operations ({} requests), {} skill catalogue reads; \
         acceptance crate ready in {:.1} s, steps driven in {:.1} s; {} failures",
        report.tools,
        report.tool_calls,
        report.routes,
        report.route_calls,
        report.skill_reads,
        built.seconds,
        start.elapsed().as_secs_f64(),
        report.failures.len()
    );
    assert!(
        report.failures.is_empty(),
        "{} differences in {dir}:\n{}",
        report.failures.len(),
        report.failures.join("\n")
    );
}

/// A plausible value for an input: the OpenAPI example of the upstream parameter it reaches
/// (or of the request body field it fills), else an example of that name anywhere in the
/// documents, else a value of its declared type.
fn example_for(world: &World, flow: &Flow, input: &Input) -> Value {
    let apis = world.apis;
    let mut names = vec![input.name.clone()];
    if let Some((c, op, param)) = trace(world.spec, flow, &input.name) {
        if let Ok(api) = world.api(&c.namespace)
            && let Some(found) = op_example(apis, api, op, &param)
        {
            return typed(found, &input.ty);
        }
        names.insert(0, param);
    }
    for n in &names {
        for api in &apis.list {
            if let Some(found) = doc_example(&api.doc, n) {
                return typed(found, &input.ty);
            }
        }
    }
    typed(Value::String("tutorial".into()), &input.ty)
}

fn typed(v: Value, ty: &str) -> Value {
    match (ty, v) {
        ("array", v @ Value::Array(_)) => v,
        ("array", v) => Value::Array(vec![v]),
        ("number" | "integer", Value::String(s)) => {
            s.parse::<f64>().map(|n| json!(n)).unwrap_or(json!(1))
        }
        ("boolean", Value::String(s)) => Value::Bool(s == "true"),
        (_, v) => v,
    }
}

/// The OpenAPI operation a consumed operation calls.
fn openapi_op<'a>(apis: &'a Apis, api: usize, op: &spec::ConsumedOp) -> Option<&'a Value> {
    let want = split_path(&op.path);
    let paths = apis.list[api].doc.get("paths")?.as_object()?;
    let template = paths.keys().find(|t| {
        let have = split_path(t);
        have.len() == want.len()
            && have.iter().zip(&want).all(|(h, w)| {
                let ph = h.starts_with('{');
                let pw = w.starts_with("{{");
                (ph && pw) || h == w
            })
    })?;
    apis.operation(api, template, &op.method)
}

fn op_example(apis: &Apis, api: usize, op: &spec::ConsumedOp, param: &str) -> Option<Value> {
    let o = openapi_op(apis, api, op)?;
    if location(op, param) == "body" {
        // The body field the parameter fills, in the request body's first example.
        let template = op.body.as_deref()?;
        let mut marked = template.to_owned();
        for p in spec::placeholders(template) {
            let quoted = format!("\"{{{{{p}}}}}\"");
            let bare = format!("{{{{{p}}}}}");
            marked = marked
                .replace(&quoted, &format!("\"@@{p}\""))
                .replace(&bare, &format!("\"@@{p}\""));
        }
        let shape: Value = serde_json::from_str(&marked).ok()?;
        let field = shape
            .as_object()?
            .iter()
            .find(|(_, v)| v.as_str() == Some(&format!("@@{param}")))
            .map(|(k, _)| k.clone())?;
        let examples = o
            .pointer("/requestBody/content")?
            .as_object()?
            .values()
            .next()?;
        let first = examples.get("examples")?.as_object()?.values().next()?;
        return first.pointer(&format!("/value/{field}")).cloned();
    }
    o.get("parameters")?
        .as_array()?
        .iter()
        .find(|p| text(p, "name") == param)
        .and_then(param_example)
}

/// An example of `name` anywhere in a document: a parameter's, a request body field's, a
/// schema property's.
fn doc_example(doc: &Value, name: &str) -> Option<Value> {
    for (_, item) in doc.get("paths")?.as_object()? {
        for (_, op) in item.as_object()? {
            for p in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if text(p, "name") == name
                    && let Some(v) = param_example(p)
                {
                    return Some(v);
                }
            }
            if let Some(content) = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
            {
                for c in content.values() {
                    for ex in c
                        .get("examples")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(v) = ex.1.pointer(&format!("/value/{name}")) {
                            return Some(v.clone());
                        }
                    }
                }
            }
        }
    }
    let schemas = doc.pointer("/components/schemas")?.as_object()?;
    schemas
        .values()
        .find_map(|s| s.pointer(&format!("/properties/{name}/example")).cloned())
}

/// Percent-encodes everything but unreserved characters (a path segment, a query value).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An argument set to invoke an action with.
struct Variant {
    label: String,
    args: Map<String, Value>,
    /// A path-parameter probe: the input, and the upstream request it must reach.
    probe: Option<(String, Call)>,
}

/// What the value of a path probe looks like: characters a path segment must encode.
fn awkward(v: &Value) -> String {
    format!("{}/x y?z#%", spec::template_text(v))
}

fn scalar(ty: &str) -> bool {
    matches!(ty, "string" | "number" | "integer" | "boolean")
}

/// Every argument set an action is driven with: all inputs; the required ones only (when
/// the optional ones are scalars, which leave nothing undefined when absent); one probe
/// per input that fills an upstream path parameter.
fn variants(world: &World, action: &Action, rest: bool) -> Vec<Variant> {
    let flow = &action.flow;
    let required = |i: &Input| i.required || (rest && i.location != "query");
    let mut all = Map::new();
    for i in &flow.inputs {
        all.insert(i.name.clone(), example_for(world, flow, i));
    }
    let mut out = vec![Variant {
        label: "with every input".into(),
        args: all.clone(),
        probe: None,
    }];
    let optional: Vec<&Input> = flow.inputs.iter().filter(|i| !required(i)).collect();
    if !optional.is_empty() && optional.iter().all(|i| scalar(&i.ty)) {
        out.push(Variant {
            label: format!(
                "without {}",
                optional
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            args: flow
                .inputs
                .iter()
                .filter(|i| required(i))
                .map(|i| (i.name.clone(), all[&i.name].clone()))
                .collect(),
            probe: None,
        });
    }
    for i in &flow.inputs {
        let Some((c, op, param)) = trace(world.spec, flow, &i.name) else {
            continue;
        };
        if location(op, &param) != "path" || !scalar(&i.ty) {
            continue;
        }
        let value = awkward(&all[&i.name]);
        let mut args = all.clone();
        args.insert(i.name.clone(), Value::String(value.clone()));
        let mut vars = Map::new();
        vars.insert(param.clone(), Value::String(value.clone()));
        let Ok(api) = world.api(&c.namespace) else {
            continue;
        };
        let call = Call {
            api,
            method: op.method.clone(),
            segments: split_path(&op.path)
                .iter()
                .map(|s| render(s, &vars))
                .collect(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        };
        out.push(Variant {
            label: format!("with {} = {value:?} (one path segment upstream)", i.name),
            args,
            probe: Some((i.name.clone(), call)),
        });
    }
    out
}

/// The requests the stub got against the ones the outcome expects.
fn check_calls(expected: &[Call], seen: &[Seen], apis: &Apis) -> Vec<String> {
    let mut out = Vec::new();
    let mut left: Vec<&Seen> = seen.iter().collect();
    for want in expected {
        let mut q = want.query.clone();
        q.sort();
        let pos = left.iter().position(|s| {
            let mut sq = s.query.clone();
            sq.sort();
            s.api == want.api && s.method == want.method && s.segments == want.segments && sq == q
        });
        let Some(pos) = pos else {
            out.push(format!(
                "expected the upstream request {}, the stub got [{}]",
                want.describe(apis),
                left.iter()
                    .map(|s| s.describe(apis))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        };
        let got = left.remove(pos);
        for (name, value) in &want.headers {
            let actual = got.headers.get(name);
            if actual != value.as_ref() {
                out.push(format!(
                    "{}: header `{name}` expected {}, got {}",
                    want.describe(apis),
                    value
                        .as_deref()
                        .map_or("absent".into(), |v| format!("{v:?}")),
                    actual.map_or("absent".into(), |v| format!("{v:?}"))
                ));
            }
        }
        if let Some(body) = &want.body {
            let ok = match serde_json::from_str::<Value>(body) {
                Ok(j) => serde_json::from_str::<Value>(&got.body).is_ok_and(|g| same(&j, &g)),
                Err(_) => &got.body == body,
            };
            if !ok {
                out.push(format!(
                    "{}: body expected {}, got {}",
                    want.describe(apis),
                    body.split_whitespace().collect::<String>(),
                    got.body
                ));
            }
        }
    }
    for s in left {
        out.push(format!("unexpected upstream request {}", s.describe(apis)));
    }
    out
}

/// The result of one invocation: the JSON and, for REST, the status; for MCP, the
/// `structuredContent`.
struct Got {
    status: Option<u16>,
    value: Result<Value, String>,
    structured: Option<Value>,
}

/// What is driven: an MCP tool (with the `outputSchema` `tools/list` gave it) or a route.
#[derive(Clone, Copy)]
enum Kind<'a> {
    Tool { output_schema: Option<&'a Value> },
    Route,
}

fn invoke_tool(session: &mut Session, name: &str, args: &Map<String, Value>) -> Got {
    let req = json!({"protocol": "mcp", "method": "tools/call",
        "params": {"name": name, "arguments": args}});
    let mut structured = None;
    let value = (|| {
        let obs = session.request(&req, "mcp")?;
        let rpc = obs.rpc.ok_or("no JSON-RPC answer")?;
        if let Some(e) = rpc.get("error") {
            return Err(format!("JSON-RPC error {e}"));
        }
        structured = rpc.pointer("/result/structuredContent").cloned();
        let text = rpc
            .pointer("/result/content/0/text")
            .and_then(Value::as_str)
            .unwrap_or("");
        if rpc.pointer("/result/isError") == Some(&Value::Bool(true)) {
            return Err(format!("isError result: {text}"));
        }
        serde_json::from_str(text).map_err(|e| format!("the result text is not JSON ({e}): {text}"))
    })();
    Got {
        status: None,
        value,
        structured,
    }
}

fn invoke_route(session: &mut Session, action: &Action, args: &Map<String, Value>) -> Got {
    let mut path = String::new();
    for seg in split_path(&action.path) {
        let name = seg.trim_start_matches('{').trim_end_matches('}').trim();
        path.push('/');
        if seg.starts_with('{') {
            path.push_str(&encode(
                &args.get(name).map(spec::template_text).unwrap_or_default(),
            ));
        } else {
            path.push_str(seg);
        }
    }
    let mut query = Map::new();
    let mut body = Map::new();
    for i in &action.flow.inputs {
        let Some(v) = args.get(&i.name) else { continue };
        match i.location.as_str() {
            "query" => {
                query.insert(i.name.clone(), v.clone());
            }
            "body" | "" => {
                body.insert(i.name.clone(), v.clone());
            }
            _ => {}
        }
    }
    let mut req =
        json!({"protocol": "rest", "method": action.method, "path": path, "query": query});
    if action.method != "GET" {
        req["body_json"] = Value::Object(body);
    }
    match session.request(&req, "rest") {
        Ok(obs) => {
            let text =
                String::from_utf8_lossy(obs.body.as_deref().unwrap_or_default()).into_owned();
            Got {
                structured: None,
                status: obs.status,
                value: serde_json::from_str(&text).map_err(|e| {
                    format!("HTTP {:?}, the body is not JSON ({e}): {text}", obs.status)
                }),
            }
        }
        Err(e) => Got {
            status: None,
            value: Err(e),
            structured: None,
        },
    }
}

/// Drives one action (a tool, or a route when `rest`) with each of its variants.
fn drive_action(
    world: &World,
    session: &mut Session,
    stub: &Stub,
    action: &Action,
    kind: Kind,
    at: &At,
    report: &mut Report,
) {
    let rest = matches!(kind, Kind::Route);
    let what = if rest {
        format!("REST {} {}", action.method, action.path)
    } else {
        format!("tool `{}`", action.name)
    };
    for v in variants(world, action, rest) {
        let label = format!("{what} {}", v.label);
        let expected = match &v.probe {
            Some(_) => None,
            None => match world.outcome(&action.flow, &v.args) {
                Ok(o) => Some(o),
                Err(e) => {
                    report.failures.push(at.say(
                        &label,
                        &format!("the test cannot work out the expected result: {e}"),
                    ));
                    continue;
                }
            },
        };
        stub.take();
        let got = if rest {
            report.route_calls += 1;
            invoke_route(session, action, &v.args)
        } else {
            report.tool_calls += 1;
            invoke_tool(session, &action.name, &v.args)
        };
        let seen = stub.take();
        if let Some((input, call)) = &v.probe {
            let reached = seen.iter().any(|s| {
                s.api == call.api && s.method == call.method && s.segments == call.segments
            });
            if !reached {
                report.failures.push(at.say(
                    &label,
                    &format!(
                        "`{input}` must reach the upstream as one encoded path segment ({}); the stub got [{}]",
                        call.describe(&stub.apis),
                        seen.iter().map(|s| s.describe(&stub.apis)).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            continue;
        }
        let Some(Outcome {
            value,
            status,
            calls,
        }) = expected
        else {
            continue;
        };
        let args = Value::Object(v.args.clone());
        let mut diffs = Vec::new();
        match &got.value {
            Err(e) => diffs.push(format!("failed: {e}")),
            Ok(actual) => {
                if rest && got.status != Some(status) {
                    diffs.push(format!(
                        "HTTP status expected {status}, got {:?}",
                        got.status
                    ));
                }
                if let Kind::Tool {
                    output_schema: Some(schema),
                } = kind
                {
                    diffs.extend(check_structured(schema, actual, got.structured.as_ref()));
                }
                match Decl::of_flow(&action.flow) {
                    Some(decl) => judge(&decl, &value, actual, "", &mut diffs),
                    None if !same(&value, actual) => {
                        diffs.push(format!("expected {value}, got {actual}"))
                    }
                    None => {}
                }
            }
        }
        diffs.extend(check_calls(&calls, &seen, &stub.apis));
        for d in diffs {
            report
                .failures
                .push(at.say(&label, &format!("{d} (arguments {args})")));
        }
    }
}

/// A tool that lists an `outputSchema` answers `structuredContent` that conforms to it
/// and carries the same result as the text content (itself, or wrapped as `{"result": ...}`
/// when the result is not an object).
fn check_structured(schema: &Value, text: &Value, structured: Option<&Value>) -> Vec<String> {
    let Some(structured) = structured else {
        return vec!["the tool lists an outputSchema but answers no structuredContent".into()];
    };
    let mut out = Vec::new();
    match jsonschema::validator_for(schema) {
        Ok(v) => {
            for e in v.iter_errors(structured) {
                out.push(format!(
                    "structuredContent does not conform to the listed outputSchema: {e} at {}",
                    e.instance_path()
                ));
            }
        }
        Err(e) => out.push(format!(
            "the listed outputSchema is not a valid JSON Schema: {e}"
        )),
    }
    if !same(structured, text) && !same(structured, &json!({"result": text})) {
        out.push(format!(
            "structuredContent {structured} differs from the text content {text}"
        ));
    }
    out
}

/// Checks `tools/list` of an MCP server against the declared tools and inputs.
fn check_tools_list(listed: &[Value], server: &spec::McpServer, at: &At, report: &mut Report) {
    let names: BTreeSet<&str> = listed
        .iter()
        .filter_map(|t| t.get("name")?.as_str())
        .collect();
    let declared: BTreeSet<&str> = server.tools.iter().map(|t| t.name.as_str()).collect();
    if names != declared {
        report.failures.push(at.say(
            "tools/list",
            &format!("declared tools {declared:?}, listed {names:?}"),
        ));
    }
    for tool in &server.tools {
        let Some(t) = listed
            .iter()
            .find(|t| t.get("name").and_then(Value::as_str) == Some(&tool.name))
        else {
            continue;
        };
        let props = t
            .pointer("/inputSchema/properties")
            .and_then(Value::as_object);
        let mut required: Vec<&str> = t
            .pointer("/inputSchema/required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        required.sort();
        let mut want: Vec<&str> = tool
            .flow
            .inputs
            .iter()
            .filter(|i| i.required)
            .map(|i| i.name.as_str())
            .collect();
        want.sort();
        if required != want {
            report.failures.push(at.say(
                &format!("tools/list `{}`", tool.name),
                &format!("required inputs declared {want:?}, listed {required:?}"),
            ));
        }
        for i in &tool.flow.inputs {
            if !props.is_some_and(|p| p.contains_key(&i.name)) {
                report.failures.push(at.say(
                    &format!("tools/list `{}`", tool.name),
                    &format!("input `{}` is not in the inputSchema", i.name),
                ));
            }
        }
    }
}

fn skill_get(session: &mut Session, path: &str) -> Result<Value, String> {
    let obs = session.request(
        &json!({"protocol": "http", "adapter": "skill", "method": "GET", "path": path}),
        "skill",
    )?;
    let text = String::from_utf8_lossy(obs.body.as_deref().unwrap_or_default()).into_owned();
    if obs.status != Some(200) {
        return Err(format!("HTTP {:?}: {text}", obs.status));
    }
    serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))
}

/// Reads a skill catalogue: `/skills` and `/skills/{name}` list the declared skills and tools.
fn check_skills(spec: &Spec, session: &mut Session, at: &At, report: &mut Report) {
    for server in &spec.skills {
        report.skill_reads += 1;
        match skill_get(session, "/skills") {
            Err(e) => report.failures.push(at.say("GET /skills", &e)),
            Ok(body) => {
                let listed: Vec<(String, Vec<String>)> = body["skills"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| {
                        (
                            text(s, "name").to_owned(),
                            s["tools"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|t| t.as_str().map(str::to_owned))
                                .collect(),
                        )
                    })
                    .collect();
                let declared: Vec<(String, Vec<String>)> = server
                    .skills
                    .iter()
                    .map(|s| {
                        (
                            s.name.clone(),
                            s.tools.iter().map(|t| t.name.clone()).collect(),
                        )
                    })
                    .collect();
                if listed != declared {
                    report.failures.push(at.say(
                        "GET /skills",
                        &format!("declared skills and tools {declared:?}, listed {listed:?}"),
                    ));
                }
            }
        }
        for skill in &server.skills {
            report.skill_reads += 1;
            let route = format!("GET /skills/{}", skill.name);
            let body = match skill_get(session, &format!("/skills/{}", encode(&skill.name))) {
                Ok(b) => b,
                Err(e) => {
                    report.failures.push(at.say(&route, &e));
                    continue;
                }
            };
            let mut diffs = Vec::new();
            if text(&body, "name") != skill.name || text(&body, "description") != skill.description
            {
                diffs.push(format!(
                    "name and description expected {:?} {:?}, got {} {}",
                    skill.name, skill.description, body["name"], body["description"]
                ));
            }
            let tools = body["tools"].as_array().cloned().unwrap_or_default();
            if tools.len() != skill.tools.len() {
                diffs.push(format!(
                    "{} tools declared, {} listed",
                    skill.tools.len(),
                    tools.len()
                ));
            }
            for (want, got) in skill.tools.iter().zip(&tools) {
                if text(got, "name") != want.name || text(got, "description") != want.description {
                    diffs.push(format!(
                        "tool expected {:?} {:?}, got {} {}",
                        want.name, want.description, got["name"], got["description"]
                    ));
                }
                if let Some((ns, action)) = &want.from {
                    let mode = if spec.mcp.iter().any(|m| &m.namespace == ns) {
                        "mcp"
                    } else {
                        "rest"
                    };
                    let wanted = json!({"targetNamespace": ns, "action": action, "mode": mode});
                    if got["type"] != "derived" || got["invocationRef"] != wanted {
                        diffs.push(format!(
                            "tool `{}`: expected a derived tool with invocationRef {wanted}, got {got}",
                            want.name
                        ));
                    }
                }
            }
            for d in diffs {
                report.failures.push(at.say(&route, &d));
            }
        }
    }
}

fn drive_step(
    step: &Step,
    built: &Built,
    stub: &Stub,
    rt: &tokio::runtime::Handle,
    grammar: &str,
    report: &mut Report,
) {
    let file = step
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let at = At {
        grammar,
        step: file,
    };
    let spec = match Spec::load(&step.path) {
        Ok(s) => s,
        Err(e) => {
            report.failures.push(at.say("spec", &e));
            return;
        }
    };
    if spec.grammar != grammar {
        report
            .failures
            .push(at.say("spec", &format!("written in {}", spec.grammar)));
    }
    let (module, surfaces, clients) = match &step.generated {
        Ok(g) => g,
        Err(e) => {
            report.failures.push(at.say("generation", e));
            return;
        }
    };
    if let Some(why) = built.acceptance.unusable(module) {
        report.failures.push(at.say("build", &why));
        return;
    }

    // The surfaces the generator reports are the ones the spec exposes.
    let mut declared: Vec<(String, String)> = spec
        .rest
        .iter()
        .map(|r| ("rest".to_owned(), r.namespace.clone()))
        .chain(
            spec.mcp
                .iter()
                .map(|m| ("mcp".to_owned(), m.namespace.clone())),
        )
        .chain(
            spec.skills
                .iter()
                .map(|s| ("skill".to_owned(), s.namespace.clone())),
        )
        .collect();
    let mut reported: Vec<(String, String)> = surfaces
        .iter()
        .map(|s| (s.kind.clone(), s.namespace.clone()))
        .collect();
    declared.sort();
    reported.sort();
    if declared != reported {
        report.failures.push(at.say(
            "surfaces",
            &format!("the spec exposes {declared:?}, the generator reports {reported:?}"),
        ));
    }

    let cwd = step.path.parent().unwrap_or(Path::new(".")).to_owned();
    let binds = spec.bind_values(&cwd);
    let mut api_of = Vec::new();
    for c in &spec.consumes {
        match stub
            .apis
            .list
            .iter()
            .position(|a| a.server_url.trim_end_matches('/') == c.base_uri.trim_end_matches('/'))
        {
            Some(i) => api_of.push((c.namespace.clone(), i)),
            None => report.failures.push(at.say(
                "consumes",
                &format!(
                    "no OpenAPI document has the baseUri {} of `{}`",
                    c.base_uri, c.namespace
                ),
            )),
        }
    }
    let world = World {
        spec: &spec,
        apis: &stub.apis,
        api_of,
        binds,
    };
    let mut base_urls = Vec::new();
    for ns in clients {
        match world.api(ns) {
            Ok(api) => base_urls.push((
                ns.clone(),
                format!("{}{}", stub.origin, stub.apis.list[api].base_path),
            )),
            Err(e) => report.failures.push(at.say("consumes", &e)),
        }
    }
    let mcp_auth = spec.mcp.first().and_then(|m| m.auth.as_ref()).map(|a| {
        (
            "Authorization".to_owned(),
            format!("Bearer {}", render(text(a, "token"), &world.binds)),
        )
    });
    let launch = Launch {
        binary: built.acceptance.binary.clone(),
        module: module.clone(),
        surfaces: surfaces.clone(),
        base_urls,
        env: Vec::new(),
        cwd,
        mcp_sessions: false,
        mcp_auth: mcp_auth.clone(),
        spans: false,
    };
    let killer = Killer::default();
    let mut session = match Session::new(&launch, &killer, rt) {
        Ok(s) => s,
        Err(e) => {
            report.failures.push(at.say("start", &e));
            return;
        }
    };

    for server in &spec.mcp {
        let listed = match session.tools_list(&server.namespace, false) {
            Ok(listed) => listed,
            Err(e) => {
                report.failures.push(at.say("tools/list", &e));
                continue;
            }
        };
        check_tools_list(&listed, server, &at, report);
        if let Some(a) = &server.auth {
            // A caller without the token from the binds is refused.
            let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "tutorial", "version": "1"}}});
            let probe = json!({"protocol": "mcp-http", "method": "POST", "path": "/mcp",
                "headers": {"Authorization": "Bearer not-the-token", "Content-Type": "application/json"},
                "body_text": init.to_string()});
            match session.request(&probe, "mcp") {
                Ok(obs) if obs.status == Some(401) => {}
                Ok(obs) => report.failures.push(at.say(
                    "MCP authentication",
                    &format!(
                        "`{}` {} requires the token from the binds; a wrong token got HTTP {:?}",
                        text(a, "type"),
                        server.namespace,
                        obs.status
                    ),
                )),
                Err(e) => report.failures.push(at.say("MCP authentication", &e)),
            }
        }
        for tool in &server.tools {
            report.tools += 1;
            let output_schema = listed
                .iter()
                .find(|t| t.get("name").and_then(Value::as_str) == Some(&tool.name))
                .and_then(|t| t.get("outputSchema"));
            let kind = Kind::Tool { output_schema };
            drive_action(&world, &mut session, stub, tool, kind, &at, report);
        }
    }
    for server in &spec.rest {
        for route in &server.routes {
            report.routes += 1;
            drive_action(&world, &mut session, stub, route, Kind::Route, &at, report);
        }
    }
    check_skills(&spec, &mut session, &at, report);
    drop(session);
    killer.kill_all();
}

#[test]
#[cfg_attr(
    not(naftiko_shared),
    ignore = "needs the shared reference material: set NAFTIKO_SHARED to its folder, or place it at ../shared"
)]
fn tutorial_alpha2() {
    run_grammar(ALPHA2, "naftiko 1.0.0-alpha2");
}

#[test]
#[cfg_attr(
    not(naftiko_shared),
    ignore = "needs the shared reference material: set NAFTIKO_SHARED to its folder, or place it at ../shared"
)]
fn tutorial_beta5() {
    run_grammar(BETA5, "ikanos 1.0.0-beta5");
}
