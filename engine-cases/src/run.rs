//! Judging one case: by kind, against the generator and the running generated service.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::case::Case;
use crate::checks::{self, Observed, json_eq};
use crate::child::Killer;
use crate::prepare::{self, Acceptance, CaseFiles, Generated, Rejected};
use crate::requests::{Launch, Session};
use crate::rules;
use crate::stub;
use crate::translate::{self, Need};
use crate::units::{self, Unit, UnitEnv};

/// The judgement of a case.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Passed; the note is printed after the id.
    Pass(Option<String>),
    Fail(String),
    Skip(String),
}

/// A case ready to run.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The case.
    pub case: Case,
    /// Its fixtures and spec.
    pub files: Option<CaseFiles>,
    /// What the generator made of its spec.
    pub generated: Option<Result<Generated, Rejected>>,
    /// Its module in the acceptance crate.
    pub module: Option<String>,
    /// The probe spec of a spec-backed unit adapter.
    pub plan: Option<units::SpecPlan>,
    /// Per part of the probe spec: the generator's refusal of that part alone.
    pub refused: Vec<Option<Rejected>>,
    /// The probe of a `steps` case.
    pub steps: Option<crate::steps::StepsProbe>,
    /// Decided before the run phase (skips, parse cases, preparation errors).
    pub verdict: Option<Verdict>,
}

/// What every case run shares.
pub struct Shared {
    /// The built acceptance crate.
    pub acceptance: Acceptance,
    /// The runtime the stubs and the HTTP client run on.
    pub rt: tokio::runtime::Handle,
}

/// Decides what can be decided without the acceptance binary and generates the spec.
pub fn prepare(
    case: Case,
    paths: &prepare::Paths,
    cache: &mut BTreeMap<PathBuf, Result<Generated, Rejected>>,
    acc: &mut Acceptance,
) -> Prepared {
    let mut p = Prepared {
        case,
        files: None,
        generated: None,
        module: None,
        plan: None,
        refused: Vec::new(),
        steps: None,
        verdict: None,
    };
    let files = match prepare::case_files(&p.case, paths) {
        Ok(f) => f,
        Err(e) => {
            p.verdict = Some(Verdict::Fail(format!(
                "cannot prepare the case's files: {e}"
            )));
            return p;
        }
    };
    if let Some(rule) = rules::skip_rule(&p.case, files.spec_json.as_ref()) {
        p.verdict = Some(Verdict::Skip(rule));
        p.files = Some(files);
        return p;
    }
    match p.case.kind.as_str() {
        "parse" => p.verdict = Some(parse_case(&p.case, &files)),
        "unit" => {
            let function = p
                .case
                .get("function")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let function = function.as_str();
            let input = p.case.get("input").cloned().unwrap_or(Value::Null);
            if let Some(Unit::Spec(plan_of)) = units::unit(function, &input) {
                let ctx = units::PlanCtx {
                    function,
                    spec: files.spec_json.as_ref(),
                    fixtures: &files.fixtures,
                };
                match plan_of(&input, &ctx) {
                    Ok(plan) => generate_plan(&mut p, &files, plan, function, acc),
                    Err(e) => {
                        p.verdict = Some(Verdict::Fail(format!("cannot build the probe spec: {e}")))
                    }
                }
            }
        }
        "steps" => match crate::steps::probe(&p.case, files.spec_json.as_ref()) {
            Ok(probe) => {
                let path = files.fixtures.join(format!("{}-steps.yaml", p.case.id));
                let text = serde_yaml::to_string(&probe.spec).unwrap_or_default();
                match std::fs::write(&path, &text) {
                    Ok(()) => {
                        let g = prepare::generate_file(&path);
                        if let Ok(g) = &g {
                            p.module =
                                Some(acc.module_for(&format!("steps {}", p.case.id), &g.source));
                        }
                        p.generated = Some(g);
                        p.steps = Some(probe);
                    }
                    Err(e) => {
                        p.verdict = Some(Verdict::Fail(format!("cannot write the probe spec: {e}")))
                    }
                }
            }
            Err(e) => p.verdict = Some(Verdict::Fail(format!("cannot build the probe spec: {e}"))),
        },
        _ => {
            if let Some(spec) = &files.spec_path {
                let g = cache
                    .entry(spec.clone())
                    .or_insert_with(|| prepare::generate_file(spec))
                    .clone();
                if let Ok(g) = &g {
                    let hint = match p.case.spec() {
                        crate::case::SpecRef::File(rel) => rel
                            .trim_end_matches(".yaml")
                            .trim_end_matches(".yml")
                            .to_owned(),
                        _ => format!("case {}", p.case.id),
                    };
                    p.module = Some(acc.module_for(&hint, &g.source));
                }
                p.generated = Some(g);
            }
        }
    }
    p.files = Some(files);
    p
}

/// Runs a prepared case (in its own thread; `killer` ends its children on timeout).
pub fn run(p: &Prepared, shared: &Shared, killer: &Killer) -> Verdict {
    if let Some(v) = &p.verdict {
        return v.clone();
    }
    let result = match p.case.kind.as_str() {
        "unit" => unit_case(p, shared, killer),
        "steps" => steps_case(p, shared, killer),
        "load" => load_case(p, shared, killer),
        _ => service_case(p, shared, killer),
    };
    let verdict = match result {
        Ok(v) => v,
        Err(e) => Verdict::Fail(e),
    };
    match verdict {
        Verdict::Fail(why) => {
            let rejected = match &p.generated {
                Some(Err(r)) => Some(r),
                _ => None,
            };
            match rules::deviation_after(&p.case, &why, rejected) {
                Some(d) => Verdict::Skip(d),
                None => Verdict::Fail(why),
            }
        }
        v => v,
    }
}

fn generated(p: &Prepared) -> Result<&Generated, String> {
    match &p.generated {
        Some(Ok(g)) => Ok(g),
        Some(Err(r)) => Err(format!("generator rejected the spec: {}", r.describe())),
        None => Err("the case has no spec".into()),
    }
}

fn usable_module(p: &Prepared, shared: &Shared) -> Result<String, String> {
    let m = p
        .module
        .clone()
        .ok_or("no module was generated for the case")?;
    match shared.acceptance.unusable(&m) {
        Some(why) => Err(why),
        None => Ok(m),
    }
}

// ----- unit -----

/// Generates a probe spec: every part together; when the generator refuses that, each
/// part alone (a refused part is that input's result), then the accepted parts together.
fn generate_plan(
    p: &mut Prepared,
    files: &CaseFiles,
    plan: units::SpecPlan,
    function: &str,
    acc: &mut Acceptance,
) {
    let write =
        |suffix: &str, only: Option<&[usize]>| -> Result<Result<Generated, Rejected>, String> {
            let text = plan.spec(only)?;
            let path = files
                .fixtures
                .join(format!("{}-probe{suffix}.yaml", p.case.id));
            std::fs::write(&path, prepare::substitute(&text, &files.fixtures))
                .map_err(|e| format!("cannot write the probe spec: {e}"))?;
            Ok(prepare::generate_file(&path))
        };
    let n = plan.parts.len();
    let mut refused: Vec<Option<Rejected>> = vec![None; n];
    let mut g = match write("", None) {
        Ok(g) => g,
        Err(e) => {
            p.verdict = Some(Verdict::Fail(e));
            return;
        }
    };
    if let Err(all) = &g {
        if n > 1 {
            for (i, slot) in refused.iter_mut().enumerate() {
                match write(&format!("-{i}"), Some(&[i])) {
                    Ok(Err(r)) => *slot = Some(r),
                    Ok(Ok(_)) => {}
                    Err(e) => {
                        p.verdict = Some(Verdict::Fail(e));
                        return;
                    }
                }
            }
            let kept: Vec<usize> = (0..n).filter(|&i| refused[i].is_none()).collect();
            if !kept.is_empty() && kept.len() < n {
                g = match write("-accepted", Some(&kept)) {
                    Ok(g) => g,
                    Err(e) => {
                        p.verdict = Some(Verdict::Fail(e));
                        return;
                    }
                };
            }
        } else {
            refused = vec![Some(all.clone())];
        }
    }
    if let Ok(g) = &g {
        p.module = Some(acc.module_for(&format!("unit {function} {}", p.case.id), &g.source));
    }
    p.generated = Some(g);
    p.refused = refused;
    p.plan = Some(plan);
}

fn unit_case(p: &Prepared, shared: &Shared, killer: &Killer) -> Result<Verdict, String> {
    let function = p.case.get("function").and_then(Value::as_str).unwrap_or("");
    let input = p.case.get("input").cloned().unwrap_or(Value::Null);
    match units::unit(function, &input) {
        Some(Unit::Adapter(adapter)) => {
            let files = p.files.as_ref();
            let fixtures = files.map(|f| f.fixtures.clone()).unwrap_or_default();
            units::run(
                adapter,
                &input,
                p.case.expect(),
                &UnitEnv {
                    fixtures: &fixtures,
                    spec: files.and_then(|f| f.spec_json.as_ref()),
                },
            )?;
            Ok(Verdict::Pass(None))
        }
        Some(Unit::Spec(_)) => {
            let plan = p.plan.as_ref().ok_or("no probe spec")?;
            let outcomes = probe(p, plan, shared, killer)?;
            units::judge_all(&outcomes, plan.many, p.case.expect())?;
            // The error the engine raises at run time is raised by our generator at build
            // time: say so, since the wording is not compared.
            let note = outcomes.iter().find_map(|o| match (&o.result, o.origin) {
                (Err(e), units::Origin::Build) => Some(format!("error at generation: {e}")),
                (Err(e), units::Origin::Start) => Some(format!("error at start-up: {e}")),
                _ => None,
            });
            Ok(Verdict::Pass(note))
        }
        _ => Ok(Verdict::Skip(format!(
            "no adapter for unit function `{function}` yet"
        ))),
    }
}

/// Runs the probes of a spec-backed unit adapter against the probe spec's service: one
/// outcome per input (a part the generator refused is a build-time error).
fn probe(
    p: &Prepared,
    plan: &units::SpecPlan,
    shared: &Shared,
    killer: &Killer,
) -> Result<Vec<units::Outcome>, String> {
    use units::{Origin, Outcome};
    let refusal = |r: &Rejected| {
        if r.located {
            Outcome::new(Err(r.describe()), Origin::Build)
        } else {
            Outcome::new(
                Err(format!(
                    "generator rejected the probe spec: {}",
                    r.describe()
                )),
                Origin::Service,
            )
        }
    };
    let mut out: Vec<Option<Outcome>> = (0..plan.probes.len())
        .map(|i| p.refused.get(i).cloned().flatten().as_ref().map(refusal))
        .collect();
    if out.iter().all(Option::is_some) {
        return Ok(out.into_iter().flatten().collect());
    }
    let g = generated(p)?;
    usable_module(p, shared)?;
    let stubs = shared.rt.block_on(stub::start(&plan.stubs, false))?;
    let origins: BTreeMap<String, String> = g
        .clients
        .iter()
        .map(|ns| (ns.clone(), stubs.origin(ns).to_owned()))
        .collect();
    let launch = launch(p, shared, &origins, plan.env.as_deref())?;
    let mut session = Session::new(&launch, killer, &shared.rt)?;
    if let Err(e) = session.start() {
        return Ok(out
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Outcome::new(Err(e.clone()), Origin::Start)))
            .collect());
    }
    for (i, pr) in plan.probes.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        let before = stubs.all().len();
        let answer = ask(&mut session, &launch, &pr.ask);
        let sent: Vec<Value> = stubs.all().into_iter().skip(before).collect();
        out[i] = Some(match answer {
            Ok(obs) => read(&pr.read, obs, &sent, &stubs),
            Err(e) => Outcome::new(Err(e), Origin::Service),
        });
    }
    Ok(out.into_iter().flatten().collect())
}

/// Sends one probe's question.
fn ask(session: &mut Session, launch: &Launch, a: &units::Ask) -> Result<Observed, String> {
    match a {
        units::Ask::Tool { server, tool, args } => {
            let req = json!({"protocol": "mcp", "method": "tools/call",
                             "params": {"name": tool, "arguments": args}});
            session.mcp_on(server, &req)
        }
        units::Ask::ToolsList { server } => {
            let stdio = launch
                .surfaces
                .iter()
                .any(|s| s.kind == "mcp" && s.namespace == *server && s.stdio);
            let tools = session.tools_list(server, stdio)?;
            Ok(Observed {
                output: Some(Value::Array(tools)),
                ..Observed::default()
            })
        }
        units::Ask::Request(req) => {
            let kind = req.get("protocol").and_then(Value::as_str).unwrap_or("mcp");
            session.request(req, kind)
        }
    }
}

/// The hint names of MCP annotations, as the engine's model names them.
const HINTS: &[(&str, &str)] = &[
    ("readOnlyHint", "readOnly"),
    ("destructiveHint", "destructive"),
    ("idempotentHint", "idempotent"),
    ("openWorldHint", "openWorld"),
];

/// Reads one probe's answer into its unit outcome.
fn read(r: &units::Read, obs: Observed, sent: &[Value], stubs: &stub::Stubs) -> units::Outcome {
    use units::{Origin, Outcome, Read};
    let ok = |v: Value| Outcome::new(Ok(v), Origin::Service);
    let err = |e: String| Outcome::new(Err(e), Origin::Service);
    let listed = |name: &str| -> Result<Option<Value>, String> {
        let tools = obs
            .output
            .as_ref()
            .and_then(Value::as_array)
            .ok_or("no tools/list answer")?;
        Ok(tools
            .iter()
            .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
            .cloned())
    };
    match r {
        Read::Result => match tool_output(obs.rpc.as_ref()) {
            Ok(v) => ok(v),
            Err(e) => err(e),
        },
        Read::Field(k) => match tool_output(obs.rpc.as_ref()) {
            Ok(Value::Object(m)) => ok(m.get(k).cloned().unwrap_or(Value::Null)),
            Ok(Value::Null) => ok(Value::Null),
            Ok(v) => err(format!(
                "the tool answered {}, not an object",
                checks::show(&v.to_string())
            )),
            Err(e) => err(e),
        },
        Read::MappedOrNull(raw) => match tool_output(obs.rpc.as_ref()) {
            Ok(v) => {
                let same = match serde_json::from_str::<Value>(raw) {
                    Ok(r) => json_eq(&r, &v),
                    Err(_) => v == Value::String(raw.clone()) || (raw.is_empty() && v.is_null()),
                };
                ok(if same { Value::Null } else { v })
            }
            Err(e) => err(e),
        },
        Read::Annotations(tool) | Read::Hints(tool) => match listed(tool) {
            Ok(Some(t)) => {
                let a = t.get("annotations").cloned().unwrap_or(Value::Null);
                if matches!(r, Read::Annotations(_)) {
                    return ok(a);
                }
                let mut m = Map::new();
                for (mcp, engine) in HINTS {
                    if let Some(v) = a.get(*mcp) {
                        m.insert((*engine).to_owned(), v.clone());
                    }
                }
                ok(Value::Object(m))
            }
            Ok(None) => err(format!("tools/list has no tool `{tool}`")),
            Err(e) => err(e),
        },
        Read::Listed(pairs) => {
            let mut out = Vec::new();
            for (tool, v) in pairs {
                match listed(tool) {
                    Ok(Some(_)) => out.push(v.clone()),
                    Ok(None) => {}
                    Err(e) => return err(e),
                }
            }
            ok(Value::Array(out))
        }
        Read::Sent {
            params,
            origin,
            whole,
            given,
        } => {
            let Some(req) = sent.last() else {
                let answer = obs
                    .rpc
                    .as_ref()
                    .map(|r| checks::show(&r.to_string()))
                    .unwrap_or_default();
                return err(format!(
                    "the upstream received no request; the service answered {answer}"
                ));
            };
            let header = |n: &str| {
                req.pointer(&format!("/headers/{}", n.to_ascii_lowercase()))
                    .cloned()
            };
            let mut values = Map::new();
            for (name, place) in params {
                let v = match place.as_str() {
                    "header" => header(name),
                    "query" => req.pointer(&format!("/query/{name}")).cloned(),
                    _ => None,
                };
                if let Some(v) = v {
                    values.insert(name.clone(), v);
                }
            }
            if !whole {
                return ok(Value::Object(values));
            }
            let mut parameters = given.as_object().cloned().unwrap_or_default();
            parameters.extend(values);
            let mut headers = req
                .get("headers")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (name, place) in params {
                if place == "header"
                    && let Some(v) = header(name)
                {
                    headers.insert(name.clone(), v);
                }
            }
            let mut url = req
                .get("url")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if let Some(o) = origin {
                let stub_origin = stubs
                    .origins
                    .values()
                    .chain([&stubs.fallback])
                    .find(|s| url.starts_with(s.as_str()));
                if let Some(s) = stub_origin {
                    url = format!("{o}{}", &url[s.len()..]);
                }
            }
            let media = headers
                .get("content-type")
                .and_then(Value::as_str)
                .map(checks::media_type);
            ok(
                json!({"url": url, "path": req.get("path"), "media_type": media,
                      "body_text": req.get("body_text"), "headers": headers,
                      "parameters": parameters}),
            )
        }
        Read::BodyFields { names, object } => {
            let Some(req) = sent.last() else {
                let answer =
                    String::from_utf8_lossy(obs.body.as_deref().unwrap_or_default()).into_owned();
                return err(format!(
                    "the upstream received no request; the service answered {} {}",
                    obs.status.unwrap_or(0),
                    checks::show(&answer)
                ));
            };
            let body: Value = req
                .get("body_text")
                .and_then(Value::as_str)
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null);
            let field = |n: &String| body.get(n).cloned().unwrap_or(Value::Null);
            ok(if *object {
                Value::Object(names.iter().map(|n| (n.clone(), field(n))).collect())
            } else {
                Value::Array(names.iter().map(field).collect())
            })
        }
        Read::Wire | Read::Answer | Read::Served => {
            let status = obs.status.unwrap_or(0);
            let text =
                String::from_utf8_lossy(obs.body.as_deref().unwrap_or_default()).into_owned();
            let body = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
            match r {
                Read::Served => match status {
                    200..=299 => ok(Value::Bool(true)),
                    404 => ok(Value::Bool(false)),
                    s => err(format!("HTTP {s}: {}", checks::show(&text))),
                },
                Read::Answer if status >= 400 => {
                    err(format!("HTTP {status}: {}", checks::show(&text)))
                }
                Read::Answer => ok(body),
                _ => Outcome {
                    result: Ok(body),
                    origin: Origin::Service,
                    wire: Some(obs),
                },
            }
        }
        Read::Function { mock } => match tool_output(obs.rpc.as_ref()) {
            Ok(v) => ok(if *mock {
                json!({"mock": true, "mockOutput": v})
            } else {
                json!({"mock": false, "output": v})
            }),
            Err(e) => err(e),
        },
    }
}

/// A tool result as a unit output: the text, parsed as JSON when it is JSON (no text is
/// `null`, how the server answers a null result); an error result or a JSON-RPC error is
/// an error.
fn tool_output(rpc: Option<&Value>) -> Result<Value, String> {
    let rpc = rpc.ok_or("no JSON-RPC answer")?;
    if let Some(e) = rpc.get("error") {
        return Err(checks::show(&e.to_string()));
    }
    let text = rpc
        .pointer("/result/content/0/text")
        .and_then(Value::as_str)
        .unwrap_or("");
    if rpc.pointer("/result/isError") == Some(&Value::Bool(true)) {
        return Err(checks::show(text));
    }
    if text.is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())))
}

// ----- parse -----

/// The minimal spec a fragment is wrapped into: one consumed API and one MCP tool.
fn wrap(parse_as: &str, fragment: Value, fixtures: &Path) -> Value {
    let mut consumes = vec![
        json!({"type": "http", "namespace": "wrap-api", "baseUri": prepare::PLACEHOLDER_ORIGIN,
        "resources": [{"name": "items", "path": "/items", "operations": [{"name": "get-items", "method": "GET"}]}]}),
    ];
    let mut tool = json!({"name": "wrap-tool", "description": "A tool around the fragment", "call": "wrap-api.get-items"});
    let mut exposes = Vec::new();
    let mut binds = None;
    match parse_as {
        "Binding" => binds = Some(json!([fragment])),
        "ConsumesEntry" => {
            // An import entry names a file and a namespace in it: write that file, so the
            // entry is judged on its own form.
            if let (Some(loc), Some(ns)) = (
                fragment.get("location").or_else(|| fragment.get("from")).and_then(Value::as_str),
                fragment.get("import").and_then(Value::as_str),
            ) {
                let file = fixtures.join(loc.trim_start_matches("file://").trim_start_matches('/'));
                let doc = json!({"naftiko": "1.0.0-alpha2", "consumes": [{"type": "http", "namespace": ns,
                    "baseUri": prepare::PLACEHOLDER_ORIGIN,
                    "resources": [{"name": "things", "path": "/things", "operations": [{"name": "get-things", "method": "GET"}]}]}]});
                if let Some(dir) = file.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                let _ = std::fs::write(&file, serde_yaml::to_string(&doc).unwrap_or_default());
            }
            consumes.push(fragment)
        }
        "OutputParameter" => {
            // A literal `value` makes the tool a mock: it has nothing to call.
            if has_literal_value(&fragment)
                && let Some(o) = tool.as_object_mut()
            {
                o.remove("call");
            }
            tool["outputParameters"] = json!([fragment]);
        }
        "OperationStep" => {
            // The step's call target is synthesised, with one query input per `with` key.
            if let Some((ns, op)) = fragment.get("call").and_then(Value::as_str).and_then(|c| c.split_once('.')) {
                let inputs: Vec<Value> = fragment
                    .get("with")
                    .and_then(Value::as_object)
                    .map(|w| w.keys().map(|k| json!({"name": k, "in": "query"})).collect())
                    .unwrap_or_default();
                consumes.push(json!({"type": "http", "namespace": ns, "baseUri": prepare::PLACEHOLDER_ORIGIN,
                    "resources": [{"name": op, "path": format!("/{op}"), "operations": [{"name": op, "method": "GET", "inputParameters": inputs}]}]}));
            }
            if let Some(o) = tool.as_object_mut() {
                o.remove("call");
            }
            tool["steps"] = json!([fragment]);
        }
        "ExposesControl" => exposes.push(fragment),
        "SkillTool" => exposes.push(json!({"type": "skill", "namespace": "wrap-skills", "port": 65012,
            "skills": [{"name": "wrap-skill", "description": "A skill around the fragment",
                        "location": format!("file://{}", fixtures.display()), "tools": [fragment]}]})),
        _ => {}
    }
    // A `$this.<ns>.<param>` reference in the fragment names the wrapping adapter and one
    // of its inputs (the tests wrote such fragments inside an adapter of that namespace).
    let mut namespace = "wrap-mcp".to_owned();
    let mut inputs = Vec::new();
    if let Some((ns, param)) = this_reference(&tool) {
        inputs.push(param);
        namespace = ns;
    }
    // `{{x}}` in the fragment reads an input of the tool.
    let mut texts = Vec::new();
    collect_strings(&tool, &mut texts);
    for t in texts {
        for var in template_names(&t) {
            if !inputs.contains(&var) {
                inputs.push(var);
            }
        }
    }
    if !inputs.is_empty() {
        tool["inputParameters"] = Value::Array(
            inputs
                .iter()
                .map(|n| json!({"name": n, "type": "string", "required": false}))
                .collect(),
        );
    }
    // Ports no fragment of the cases uses (they use 9xxx).
    exposes.insert(
        0,
        json!({"type": "mcp", "namespace": namespace, "port": 65011, "tools": [tool]}),
    );
    let mut spec = json!({"naftiko": "1.0.0-alpha2", "capability": {"consumes": consumes, "exposes": exposes}});
    if let Some(b) = binds {
        spec["binds"] = b;
    }
    spec
}

/// Whether an output parameter (or one nested in it) has a `value` that is not a `$`
/// JSONPath (the engine reads `value: $.x` on a named parameter as a mapping).
fn has_literal_value(v: &Value) -> bool {
    match v {
        Value::Object(o) => {
            o.get("value")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.starts_with('$'))
                || o.values().any(has_literal_value)
        }
        Value::Array(a) => a.iter().any(has_literal_value),
        _ => false,
    }
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Plain names inside `{{...}}` (not dotted, not sections).
fn template_names(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            out.push(name.to_owned());
        }
        rest = &after[end + 2..];
    }
    out
}

/// The first `$this.<ns>.<param>` in a JSON value.
fn this_reference(v: &Value) -> Option<(String, String)> {
    match v {
        Value::String(s) => {
            let rest = &s[s.find("$this.")? + "$this.".len()..];
            let (ns, param) = rest.split_once('.')?;
            let param: String = param
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            (!ns.is_empty() && !param.is_empty()).then(|| (ns.to_owned(), param))
        }
        Value::Array(a) => a.iter().find_map(this_reference),
        Value::Object(o) => o.values().find_map(this_reference),
        _ => None,
    }
}

/// A `parse` case: the fragment wrapped into a minimal spec must be accepted. The
/// `parsed` checks assert the engine's parse model and are not evaluated.
fn parse_case(case: &Case, files: &CaseFiles) -> Verdict {
    let parse_as = case.get("parse_as").and_then(Value::as_str).unwrap_or("");
    let crate::case::SpecRef::Inline(text) = case.spec() else {
        return Verdict::Fail("a parse case without an inline fragment".into());
    };
    let text = prepare::substitute(&text, &files.fixtures);
    let fragment: Value = match serde_yaml::from_str(&text) {
        Ok(v) => v,
        Err(e) => return Verdict::Fail(format!("the fragment is not YAML: {e}")),
    };
    let spec = wrap(parse_as, fragment, &files.fixtures);
    let yaml = match serde_yaml::to_string(&spec) {
        Ok(y) => y,
        Err(e) => return Verdict::Fail(format!("cannot write the wrapped spec: {e}")),
    };
    let path = files.fixtures.join(format!("{}.yaml", case.id));
    let _ = std::fs::write(&path, &yaml);
    match prepare::generate_text(&path.to_string_lossy(), &yaml) {
        Ok(_) => Verdict::Pass(None),
        Err(r) => Verdict::Fail(format!(
            "generator rejected the wrapped fragment ({parse_as}): {}",
            r.describe()
        )),
    }
}

// ----- load -----

fn load_case(p: &Prepared, shared: &Shared, killer: &Killer) -> Result<Verdict, String> {
    let expect = p.case.expect();
    if expect.get("rejected").and_then(Value::as_bool) == Some(true) {
        let reason = expect.get("reason").and_then(Value::as_str).unwrap_or("");
        return Ok(match &p.generated {
            Some(Err(r)) if r.located => Verdict::Pass(Some(format!("rejected: {}", r.describe()))),
            Some(Err(r)) => Verdict::Fail(format!(
                "rejected without a located diagnostic: {}",
                r.describe()
            )),
            Some(Ok(_)) => Verdict::Fail(format!(
                "generator accepted a spec the engine rejects ({})",
                checks::show(reason)
            )),
            None => Verdict::Fail("the case has no spec".into()),
        });
    }
    let g = generated(p)?;
    usable_module(p, shared)?;
    let spec = p.files.as_ref().and_then(|f| f.spec_json.as_ref());
    let mut needs = Vec::new();
    for c in p.case.checks() {
        let check = checks::Check::parse(c)?;
        if let Ok(Some(n)) = translate::classify(&check.target, &check.path) {
            needs.push(n);
        }
    }
    needs.sort();
    needs.dedup();
    let mut tools = BTreeMap::new();
    let tool_needs: Vec<usize> = needs
        .iter()
        .filter_map(|n| {
            if let Need::Tools(i) = n {
                Some(*i)
            } else {
                None
            }
        })
        .collect();
    if !tool_needs.is_empty() {
        let launch = launch(p, shared, &BTreeMap::new(), None)?;
        let mut session = Session::new(&launch, killer, &shared.rt)?;
        for i in tool_needs {
            if let Some(s) = translate::surface_of(spec, &g.surfaces, i).filter(|s| s.kind == "mcp")
            {
                tools.insert(i, session.tools_list(&s.namespace, s.stdio)?);
            }
        }
    }
    let obs = Observed {
        views: translate::views(spec, &g.surfaces, &g.clients, &tools),
        ..Observed::default()
    };
    checks::evaluate(expect, &obs, &checks::refs_in(&obs))?;
    Ok(Verdict::Pass(None))
}

// ----- service kinds -----

/// Bind values as the deployed service gets them: file binds read by the runner (a
/// `file:///./x` location relative to the spec's folder, as the tests rewrite it), env
/// binds from the case's `env`. Returns `VAR -> value`.
pub fn bind_values(
    spec: Option<&Value>,
    spec_path: Option<&Path>,
    env: &Map<String, Value>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(binds) = spec.and_then(|s| s.get("binds")).and_then(Value::as_array) else {
        return out;
    };
    let dir = spec_path.and_then(Path::parent).unwrap_or(Path::new("."));
    for b in binds {
        let keys = b
            .get("keys")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let location = b.get("location").and_then(Value::as_str).unwrap_or("");
        if location.is_empty() {
            for (var, name) in &keys {
                if let Some(v) = name.as_str().and_then(|n| env.get(n)) {
                    out.insert(var.clone(), crate::pointer::text_of(v));
                }
            }
            continue;
        }
        let rest = location.strip_prefix("file://").unwrap_or(location);
        let file = match rest.strip_prefix("/./").or_else(|| rest.strip_prefix("./")) {
            Some(rel) => dir.join(rel),
            None => PathBuf::from(rest),
        };
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let yaml = location.ends_with(".yaml") || location.ends_with(".yml");
        let data: Option<Value> = if yaml {
            serde_yaml::from_str(&text).ok()
        } else {
            serde_json::from_str(&text).ok()
        };
        for (var, key) in &keys {
            if let Some(v) = key
                .as_str()
                .and_then(|k| data.as_ref()?.get(k))
                .filter(|v| !v.is_null())
            {
                out.insert(var.clone(), crate::pointer::text_of(v));
            }
        }
    }
    out
}

/// Renders `{{VAR}}` with bind values; `None` when a variable has no value.
fn render_vars(t: &str, values: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}")?;
        out.push_str(values.get(after[..end].trim())?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

/// The credential the spec's MCP server expects, for tests that removed its inbound
/// authentication: `Ok(None)` when it has none, `Err(rule)` when it cannot be sent.
fn expected_mcp_auth(
    spec: Option<&Value>,
    values: &BTreeMap<String, String>,
) -> Result<Option<(String, String)>, String> {
    let exposes = spec
        .and_then(|s| s.pointer("/capability/exposes"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(auth) = exposes
        .iter()
        .find(|e| e.get("type").and_then(Value::as_str) == Some("mcp"))
        .and_then(|e| e.get("authentication"))
    else {
        return Ok(None);
    };
    let s = |k: &str| auth.get(k).and_then(Value::as_str).unwrap_or("");
    let rule = "spec_setup removes the MCP adapter's authentication and the credential it expects cannot be read from the binds";
    match s("type") {
        "bearer" => render_vars(s("token"), values)
            .map(|t| Some(("Authorization".into(), format!("Bearer {t}"))))
            .ok_or_else(|| rule.to_owned()),
        "apikey" if s("placement") == "header" => render_vars(s("value"), values)
            .map(|v| Some((s("key").to_owned(), v)))
            .ok_or_else(|| rule.to_owned()),
        _ => Err(rule.to_owned()),
    }
}

/// How to start the case's service; `env`, when given, is its whole environment (else the
/// case's `env` and its bind values).
fn launch(
    p: &Prepared,
    shared: &Shared,
    origins: &BTreeMap<String, String>,
    env: Option<&[(String, String)]>,
) -> Result<Launch, String> {
    let g = generated(p)?;
    let module = usable_module(p, shared)?;
    let files = p.files.as_ref().ok_or("no fixture files")?;
    let spec = files.spec_json.as_ref();
    let case_env = p
        .case
        .get("env")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let values = bind_values(spec, files.spec_path.as_deref(), &case_env);
    let env: Vec<(String, String)> = match env {
        Some(e) => e.to_vec(),
        None => case_env
            .iter()
            .map(|(k, v)| (k.clone(), crate::pointer::text_of(v)))
            .chain(values.iter().map(|(k, v)| (k.clone(), v.clone())))
            .collect(),
    };
    let setup = rules::spec_setup(&p.case)?;
    let mcp_auth = if setup.send_mcp_token {
        expected_mcp_auth(spec, &values)?
    } else {
        None
    };
    // Engine sessions are always on; a case asserting the session header gets ours.
    let mcp_sessions = p.case.checks().iter().any(|c| {
        c.get("target").and_then(Value::as_str) == Some("headers")
            && c.get("path")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("/mcp-session-id"))
    }) || p.case.steps().iter().any(|s| {
        s.get("capture").is_some_and(|c| {
            c.to_string()
                .to_ascii_lowercase()
                .contains("mcp-session-id")
        })
    });
    Ok(Launch {
        binary: shared.acceptance.binary.clone(),
        module,
        surfaces: g.surfaces.clone(),
        base_urls: g
            .clients
            .iter()
            .map(|ns| {
                (
                    ns.clone(),
                    origins
                        .get(ns)
                        .cloned()
                        .unwrap_or_else(|| prepare::PLACEHOLDER_ORIGIN.into()),
                )
            })
            .collect(),
        env,
        cwd: match files.spec_path.as_deref().and_then(Path::parent) {
            Some(dir) if setup.binds_from_spec_dir && p.case.get("files_in_cwd").is_none() => {
                dir.to_owned()
            }
            _ => files.cwd.clone(),
        },
        mcp_sessions,
        mcp_auth,
        spans: p
            .case
            .checks()
            .iter()
            .any(|c| c.get("target").and_then(Value::as_str) == Some("spans")),
    })
}

/// Replaces `${name}` with captured values in every string of a request.
fn substitute_captures(v: &Value, captures: &BTreeMap<String, String>) -> Value {
    match v {
        Value::String(s) => {
            let mut s = s.clone();
            for (k, val) in captures {
                s = s.replace(&format!("${{{k}}}"), val);
            }
            Value::String(s)
        }
        Value::Array(a) => {
            Value::Array(a.iter().map(|x| substitute_captures(x, captures)).collect())
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), substitute_captures(x, captures)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What each upstream entry's `received` says the stub must have seen.
fn check_received(
    entries: &[crate::case::Upstream],
    seen: &[Option<Value>],
    unmatched: &[String],
) -> Result<(), String> {
    for (i, e) in entries.iter().enumerate() {
        let Some(want) = &e.received else { continue };
        let Some(got) = seen.get(i).cloned().flatten() else {
            return Err(format!(
                "upstream[{i}] ({} {}) received no request{}",
                e.method,
                e.path,
                if unmatched.is_empty() {
                    String::new()
                } else {
                    format!("; the stubs got {}", checks::show(&unmatched.join(", ")))
                }
            ));
        };
        if let Some(Value::Object(h)) = want.get("headers") {
            for (k, v) in h {
                let actual = got.pointer(&format!("/headers/{}", k.to_ascii_lowercase()));
                if actual.map(crate::pointer::text_of) != Some(crate::pointer::text_of(v)) {
                    return Err(format!(
                        "upstream[{i}] header {k}: expected {v}, got {}",
                        actual
                            .map(|a| a.to_string())
                            .unwrap_or_else(|| "absent".into())
                    ));
                }
            }
        }
        if let Some(Value::Object(q)) = want.get("query") {
            for (k, v) in q {
                let actual = got.pointer(&format!("/query/{k}"));
                if actual.map(crate::pointer::text_of) != Some(crate::pointer::text_of(v)) {
                    return Err(format!(
                        "upstream[{i}] query {k}: expected {v}, got {}; url {}",
                        actual
                            .map(|a| a.to_string())
                            .unwrap_or_else(|| "absent".into()),
                        got["url"]
                    ));
                }
            }
        }
        if let Some(p) = want.get("path").and_then(Value::as_str) {
            let actual = got["path"].as_str().unwrap_or("");
            if stub::decode(actual) != p {
                return Err(format!("upstream[{i}] path: expected {p}, got {actual}"));
            }
        }
        if let Some(b) = want.get("body") {
            let text = got["body_text"].as_str().unwrap_or("");
            let ok = match b {
                Value::String(s) => s == text,
                j => serde_json::from_str::<Value>(text).is_ok_and(|t| json_eq(j, &t)),
            };
            if !ok {
                return Err(format!(
                    "upstream[{i}] body: expected {}, got {}",
                    checks::show(&b.to_string()),
                    checks::show(text)
                ));
            }
        }
    }
    Ok(())
}

fn service_case(p: &Prepared, shared: &Shared, killer: &Killer) -> Result<Verdict, String> {
    generated(p)?;
    usable_module(p, shared)?;
    let entries = p.case.upstream();
    // Record requests to unreachable upstreams only when the case inspects them.
    let inspect = p.case.checks().iter().any(|c| {
        c.get("target")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with("upstream[") || t == "last_upstream_request")
    });
    let stubs = shared.rt.block_on(stub::start(&entries, inspect))?;
    let g = generated(p)?;
    let origins: BTreeMap<String, String> = g
        .clients
        .iter()
        .map(|ns| (ns.clone(), stubs.origin(ns).to_owned()))
        .collect();
    let launch = match launch(p, shared, &origins, None) {
        Ok(l) => l,
        Err(e) if e.starts_with("spec_setup removes") => return Ok(Verdict::Skip(e)),
        Err(e) => return Err(e),
    };
    let mut session = Session::new(&launch, killer, &shared.rt)?;
    let steps: Vec<(Value, Value, Option<Value>)> = if p.case.kind == "sequence" {
        p.case
            .steps()
            .iter()
            .map(|s| {
                (
                    s.get("request").cloned().unwrap_or(Value::Null),
                    s.get("expect").cloned().unwrap_or(Value::Null),
                    s.get("capture").cloned(),
                )
            })
            .collect()
    } else {
        vec![(
            p.case.get("request").cloned().unwrap_or(Value::Null),
            p.case.expect().clone(),
            None,
        )]
    };
    let mut captures = BTreeMap::new();
    let many = steps.len() > 1;
    for (i, (req, expect, capture)) in steps.iter().enumerate() {
        let at = |e: String| if many { format!("step {i}: {e}") } else { e };
        let req = substitute_captures(req, &captures);
        let mut obs = session.request(&req, &p.case.kind).map_err(at)?;
        if launch.spans {
            let spans = session.spans().map_err(at)?;
            obs.views.insert("spans".into(), spans);
        }
        let (per_entry, last, unmatched) = stubs.snapshot();
        obs.upstream = per_entry;
        obs.last_upstream = last;
        if let Err(e) = checks::evaluate(expect, &obs, &checks::refs_in(&obs)) {
            let hint = if e.contains("received no request") && !unmatched.is_empty() {
                format!("; the stubs got {}", checks::show(&unmatched.join(", ")))
            } else {
                String::new()
            };
            return Ok(Verdict::Fail(at(format!("{e}{hint}"))));
        }
        if let Some(Value::Object(c)) = capture {
            for (name, spec) in c {
                let spec = spec.as_str().unwrap_or("");
                let (target, path) = spec.split_once('/').unwrap_or((spec, ""));
                let found = obs.find(target, &format!("/{path}")).map_err(at)?;
                let value = found
                    .value()
                    .ok_or_else(|| at(format!("capture {name}: {spec} is absent")))?;
                captures.insert(name.clone(), crate::pointer::text_of(&value));
            }
        }
    }
    let (seen, _, unmatched) = stubs.snapshot();
    check_received(&entries, &seen, &unmatched)?;
    Ok(Verdict::Pass(None))
}

/// A `steps` case: its probe's request against the probe spec's service, the step
/// outputs read from the mapped result.
fn steps_case(p: &Prepared, shared: &Shared, killer: &Killer) -> Result<Verdict, String> {
    let probe = p.steps.as_ref().ok_or("no probe spec")?;
    let g = generated(p)?;
    usable_module(p, shared)?;
    let entries = p.case.upstream();
    let stubs = shared.rt.block_on(stub::start(&entries, true))?;
    let origins: BTreeMap<String, String> = g
        .clients
        .iter()
        .map(|ns| (ns.clone(), stubs.origin(ns).to_owned()))
        .collect();
    let launch = launch(p, shared, &origins, None)?;
    let mut session = Session::new(&launch, killer, &shared.rt)?;
    let kind = probe
        .request
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or("mcp");
    let mut obs = session.request(&probe.request, kind)?;
    let (per_entry, last, unmatched) = stubs.snapshot();
    obs.upstream = per_entry;
    obs.last_upstream = last;
    crate::steps::add_views(&mut obs, probe);
    if let Err(e) = checks::evaluate(p.case.expect(), &obs, &checks::refs_in(&obs)) {
        let answer = obs
            .body
            .as_deref()
            .map(|b| checks::show(&String::from_utf8_lossy(b)))
            .unwrap_or_default();
        return Ok(Verdict::Fail(format!(
            "{e}; the service answered {answer}{}",
            if unmatched.is_empty() {
                String::new()
            } else {
                format!("; the stubs got {}", checks::show(&unmatched.join(", ")))
            }
        )));
    }
    let (seen, _, unmatched) = stubs.snapshot();
    check_received(&entries, &seen, &unmatched)?;
    Ok(Verdict::Pass(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_from_files_and_env() {
        let dir = std::env::temp_dir().join(format!("engine-cases-binds-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("shared")).unwrap();
        std::fs::write(dir.join("shared/secrets.yaml"), "tok: abc\nnum: 3\n").unwrap();
        let spec = json!({"binds": [
            {"namespace": "f", "location": "file:///./shared/secrets.yaml", "keys": {"TOKEN": "tok", "NUM": "num", "NOPE": "x"}},
            {"namespace": "e", "keys": {"API": "API_ENV"}}]});
        let mut env = Map::new();
        env.insert("API_ENV".into(), json!("k"));
        let v = bind_values(Some(&spec), Some(&dir.join("cap.yaml")), &env);
        assert_eq!(v.get("TOKEN").map(String::as_str), Some("abc"));
        assert_eq!(v.get("NUM").map(String::as_str), Some("3"));
        assert_eq!(v.get("API").map(String::as_str), Some("k"));
        assert!(!v.contains_key("NOPE"));
        let auth = json!({"capability": {"exposes": [{"type": "mcp", "authentication": {"type": "bearer", "token": "{{TOKEN}}"}}]}});
        assert_eq!(
            expected_mcp_auth(Some(&auth), &v),
            Ok(Some(("Authorization".into(), "Bearer abc".into())))
        );
        assert!(expected_mcp_auth(Some(&auth), &BTreeMap::new()).is_err());
    }

    #[test]
    fn captures_and_wrapping() {
        let mut c = BTreeMap::new();
        c.insert("session".to_owned(), "s-1".to_owned());
        assert_eq!(
            substitute_captures(&json!({"h": {"Mcp-Session-Id": "${session}"}}), &c),
            json!({"h": {"Mcp-Session-Id": "s-1"}})
        );
        let w = wrap(
            "OperationStep",
            json!({"type": "call", "name": "s", "call": "a.b", "with": {"x": "1"}}),
            Path::new("/tmp"),
        );
        assert_eq!(
            w.pointer("/capability/consumes/1/namespace"),
            Some(&json!("a"))
        );
        assert!(w.pointer("/capability/exposes/0/tools/0/steps").is_some());
        let t = wrap(
            "OperationStep",
            json!({"call": "a.b", "with": {"x": "$this.sample.db_id"}}),
            Path::new("/tmp"),
        );
        assert_eq!(
            t.pointer("/capability/exposes/0/namespace"),
            Some(&json!("sample"))
        );
        assert_eq!(
            t.pointer("/capability/exposes/0/tools/0/inputParameters/0/name"),
            Some(&json!("db_id"))
        );
    }
}
