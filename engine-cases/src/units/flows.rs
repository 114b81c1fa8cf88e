//! Probe plans for steps, lookups, `with`, request building and aggregate functions:
//! tools and routes whose orchestration does the case's operation.

use serde_json::{Map, Value, json};

use super::input_list;
use super::plans::*;

/// `lookup`: a tool whose steps call an operation answering the index, then look the
/// value up in it; the result is the lookup step's output.
pub fn lookup(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let call = p.operation(&name, json!({}));
        let index = one.get("index").cloned().unwrap_or(Value::Null);
        p.answer(&name, &index.to_string(), "application/json");
        let mut step = json!({"type": "lookup", "name": "found", "index": "index",
            "match": one.get("match").cloned().unwrap_or(Value::Null),
            "lookupValue": one.get("lookupValue").cloned().unwrap_or(Value::Null)});
        if let Some(o) = field(one, "outputParameters") {
            step["outputParameters"] = o.clone();
        }
        p.tool(tool(
            &name,
            Vec::new(),
            json!({"steps": [{"type": "call", "name": "index", "call": call}, step]}),
        ));
        p.call_tool(&name, json!({}), Read::Result);
    }
    Ok(p.done())
}

/// `merge_with`: a tool of the MCP server `expose_namespace` taking the `target`
/// parameters, whose `with` maps onto a consumed operation taking every name as a query
/// parameter; the stub records what arrives, which is the merged map.
pub fn merge_with(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let ns = one
            .get("expose_namespace")
            .and_then(Value::as_str)
            .unwrap_or(PROBE_MCP)
            .to_owned();
        let target = one
            .get("target")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let with = one.get("with").and_then(Value::as_object).cloned();
        let mut names: Vec<String> = target.keys().cloned().collect();
        let mut inputs: Vec<Value> = target.iter().map(|(k, v)| input_decl(k, v)).collect();
        for (k, v) in with.iter().flatten() {
            if !names.contains(k) {
                names.push(k.clone());
            }
            // `<ns>.x` reads the parameter `x`: an input the caller may give.
            if let Some(x) = v.as_str().and_then(|s| s.strip_prefix(&format!("{ns}.")))
                && !target.contains_key(x)
                && !inputs.iter().any(|d| d["name"] == x)
            {
                inputs.push(input_decl(x, &Value::Null));
            }
        }
        let params: Vec<Value> = names
            .iter()
            .map(|n| json!({"name": n, "in": "query"}))
            .collect();
        let call = p.operation(&name, json!({"inputParameters": params}));
        p.answer(&name, "{}", "application/json");
        let mut fields = json!({"call": call});
        if let Some(w) = &with {
            fields["with"] = Value::Object(w.clone());
        }
        let tools = p.server(&ns);
        p.add(&tools, tool(&name, inputs, fields));
        p.probe(
            Ask::Tool {
                server: ns,
                tool: name,
                args: Value::Object(target),
            },
            Read::Sent {
                params: names.iter().map(|n| (n.clone(), "query".into())).collect(),
                origin: None,
                whole: false,
                given: Value::Null,
            },
        );
    }
    Ok(p.done())
}

/// `resolve_step_output`: a call step to an operation declaring the case's consumed
/// `outputParameters`, answering `raw`; the tool's result is that step's output.
pub fn step_output(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let mut extra = json!({});
        if let Some(o) = field(one, "consumed_outputParameters") {
            extra["outputParameters"] = o.clone();
        }
        let call = p.operation(&name, extra);
        let raw = one.get("raw").cloned().unwrap_or(Value::Null);
        p.answer(&name, &raw.to_string(), "application/json");
        p.tool(tool(
            &name,
            Vec::new(),
            json!({"steps": [{"type": "call", "name": "step", "call": call}]}),
        ));
        p.call_tool(&name, json!({}), Read::Result);
    }
    Ok(p.done())
}

/// The case spec's consumed APIs, added to a plan's base (their `baseUri` is replaced by
/// the stubs at launch).
fn add_case_consumes(p: &mut Plan, ctx: &PlanCtx) {
    let consumes: Vec<Value> = ctx
        .spec
        .and_then(|s| s.pointer("/capability/consumes"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Array(list)) = p.plan.base.pointer_mut("/capability/consumes") {
        list.extend(consumes);
    }
}

/// `execute_steps`: a tool with the case's steps, its parameters as inputs.
pub fn execute_steps(input: &Value, ctx: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    add_case_consumes(&mut p, ctx);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let params = field(one, "parameters");
        let mut steps = one.get("steps").cloned().unwrap_or_else(|| json!([]));
        // A lookup the test built without `outputParameters` (the grammar requires them;
        // the engine reads them only after a match) keeps its `match` field.
        for s in steps.as_array_mut().into_iter().flatten() {
            if s.get("type").and_then(Value::as_str) == Some("lookup")
                && s.get("outputParameters").is_none()
            {
                let m = s.get("match").cloned().unwrap_or(Value::Null);
                s["outputParameters"] = json!([m]);
            }
        }
        p.tool(tool(&name, inputs_of(params), json!({"steps": steps})));
        p.call_tool(&name, args_of(params), Read::Result);
    }
    Ok(p.done())
}

/// `execute_call_or_steps`: a REST operation with the case's `call` or `steps` (or
/// neither), asked once.
pub fn call_or_steps(input: &Value, ctx: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    add_case_consumes(&mut p, ctx);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let mut op = json!({"method": "GET", "name": name});
        for k in ["call", "steps"] {
            if let Some(v) = field(one, k) {
                op[k] = v.clone();
            }
        }
        p.route(json!({"name": name, "path": format!("/{name}"), "operations": [op]}));
        p.get(&format!("/{name}"), None, Read::Answer);
    }
    Ok(p.done())
}

/// The `baseUri` of the case spec's consumed namespace `ns`.
fn base_uri_of(ctx: &PlanCtx, ns: &str) -> Option<String> {
    ctx.spec?
        .pointer("/capability/consumes")?
        .as_array()?
        .iter()
        .find(|c| c.get("namespace").and_then(Value::as_str) == Some(ns))?
        .get("baseUri")?
        .as_str()
        .map(str::to_owned)
}

/// A text body (`xml`, `sparql`, `text`) whose `data` the test built as a structure: the
/// engine sends the JSON text of `data` whatever the body type (semantics.md 4, step 5),
/// which the grammar writes as a string.
fn text_body_data(spec: &mut Value) {
    let ops = spec
        .pointer_mut("/capability/consumes")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .flat_map(|c| {
            c.get_mut("resources")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
        })
        .flat_map(|r| {
            r.get_mut("operations")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
        });
    for op in ops {
        let Some(body) = op.get_mut("body").and_then(Value::as_object_mut) else {
            continue;
        };
        let text = matches!(
            body.get("type").and_then(Value::as_str),
            Some("xml" | "sparql" | "text")
        );
        if let Some(d) = body.get_mut("data").filter(|d| text && !d.is_string()) {
            *d = Value::String(d.to_string());
        }
    }
}

/// `build_upstream_request`: a tool calling the case spec's operation with the
/// parameters; the stub records the request.
pub fn upstream_request(input: &Value, ctx: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    add_case_consumes(&mut p, ctx);
    text_body_data(&mut p.plan.base);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let call = one.get("call").and_then(Value::as_str).unwrap_or("");
        let ns = call.split('.').next().unwrap_or("").to_owned();
        let params = field(one, "parameters");
        p.tool(tool(&name, inputs_of(params), json!({"call": call})));
        if !p.plan.stubs.iter().any(|s| s.namespace == ns) {
            p.stub(&ns, "", "*", "{}", "application/json");
        }
        p.call_tool(
            &name,
            args_of(params),
            Read::Sent {
                params: Vec::new(),
                origin: base_uri_of(ctx, &ns).map(|u| origin_of(&u).0),
                whole: true,
                given: args_of(params),
            },
        );
    }
    Ok(p.done())
}

// ----- aggregates -----

/// `derive_hints`: an aggregate function with the case's `semantics` and a tool that
/// refs it; the hints are the tool's annotations in `tools/list`.
pub fn derive_hints(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let semantics = field(one, "semantics").cloned();
        hinted(&mut p, i, semantics, None);
    }
    Ok(p.done())
}

/// `merge_hints`: a function whose `semantics` derive the case's `derived` hints (the
/// inverse of semantics.md 9.2's table), and a tool that refs it with the `explicit` hints.
pub fn merge_hints(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let derived = field(one, "derived")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut semantics = Map::new();
        match (derived.get("readOnly"), derived.get("destructive")) {
            (Some(Value::Bool(true)), None | Some(Value::Bool(false))) => {
                semantics.insert("safe".into(), Value::Bool(true));
            }
            (Some(Value::Bool(false)), None) => {
                semantics.insert("safe".into(), Value::Bool(false));
            }
            (None, None) => {}
            _ => {
                return Err(format!(
                    "no `semantics` derives the hints {}",
                    Value::Object(derived.clone())
                ));
            }
        }
        if let Some(v) = derived.get("idempotent") {
            semantics.insert("idempotent".into(), v.clone());
        }
        if derived.contains_key("openWorld") {
            return Err("no `semantics` derives `openWorld`".into());
        }
        hinted(
            &mut p,
            i,
            Some(Value::Object(semantics)),
            field(one, "explicit").cloned(),
        );
    }
    Ok(p.done())
}

/// A function `f-<i>` with `semantics`, a tool `probe-<i>` referring to it with `hints`.
fn hinted(p: &mut Plan, i: usize, semantics: Option<Value>, hints: Option<Value>) {
    let f = format!("f-{i}");
    let mut function = json!({"name": f, "description": format!("Function {f}")});
    if let Some(s) = semantics {
        function["semantics"] = s;
    }
    p.function(function);
    let name = format!("probe-{i}");
    let mut t = json!({"name": name, "ref": format!("{PROBE_AGG}.{f}")});
    if let Some(h) = hints {
        t["hints"] = h;
    }
    p.tool(t);
    p.probe(
        Ask::ToolsList {
            server: PROBE_MCP.into(),
        },
        Read::Hints(name),
    );
}

/// The case's spec with an MCP server `probe-mcp` added (tools at the returned pointer).
fn over_case_spec(ctx: &PlanCtx, many: bool) -> Result<(Plan, String), String> {
    let mut spec = ctx.spec.cloned().ok_or("the case has no spec")?;
    if spec.get("capability").is_none() {
        spec["capability"] = json!({});
    }
    let mut p = Plan::over(spec, many);
    if p.plan.base.pointer("/capability/exposes").is_none() {
        p.plan.base["capability"]["exposes"] = json!([]);
    }
    let tools = p.server(PROBE_MCP);
    Ok((p, tools))
}

/// `build_function_index`: the case's aggregates and a tool referring to each function
/// as `<aggregate namespace>.<function name>`; the index holds the references that
/// resolve (the tools `tools/list` shows).
pub fn function_index(input: &Value, ctx: &PlanCtx) -> Result<SpecPlan, String> {
    let (_, many) = input_list(input);
    let (mut p, tools) = over_case_spec(ctx, many)?;
    p.next();
    let mut listed = Vec::new();
    let aggregates = p
        .plan
        .base
        .pointer("/capability/aggregates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for a in &aggregates {
        let ns = a.get("namespace").and_then(Value::as_str).unwrap_or("");
        for f in a
            .get("functions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let fname = f.get("name").and_then(Value::as_str).unwrap_or("");
            let r = format!("{ns}.{fname}");
            let name = format!("probe-{}", listed.len());
            p.add(&tools, json!({"name": name, "ref": r}));
            listed.push((name, Value::String(r)));
        }
    }
    p.probe(
        Ask::ToolsList {
            server: PROBE_MCP.into(),
        },
        Read::Listed(listed),
    );
    Ok(p.done())
}

/// `execute_aggregate_function`: the case's aggregates and a tool referring to `ref`,
/// called with the parameters (declared as the function's inputs when it declares none:
/// the engine hands the function whatever parameters it is given).
pub fn aggregate_function(input: &Value, ctx: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let (mut p, tools) = over_case_spec(ctx, many)?;
    for (i, one) in list.iter().enumerate() {
        p.next();
        let r = one
            .get("ref")
            .and_then(Value::as_str)
            .ok_or("input.ref is missing")?;
        let params = field(one, "parameters");
        let (ns, fname) = r.split_once('.').ok_or("input.ref has no `.`")?;
        let mut mock = false;
        if let Some(Value::Array(aggs)) = p.plan.base.pointer_mut("/capability/aggregates") {
            for a in aggs {
                if a.get("namespace").and_then(Value::as_str) != Some(ns) {
                    continue;
                }
                for f in a
                    .get_mut("functions")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    if f.get("name").and_then(Value::as_str) != Some(fname) {
                        continue;
                    }
                    mock = f.get("call").is_none() && f.get("steps").is_none();
                    if f.get("inputParameters").is_none() {
                        let decls = inputs_of(params);
                        if !decls.is_empty() {
                            f["inputParameters"] = Value::Array(decls);
                        }
                    }
                }
            }
        }
        let name = format!("probe-{i}");
        p.add(&tools, json!({"name": name, "ref": r}));
        p.probe(
            Ask::Tool {
                server: PROBE_MCP.into(),
                tool: name,
                args: args_of(params),
            },
            Read::Function { mock },
        );
    }
    Ok(p.done())
}
