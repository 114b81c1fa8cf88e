//! Probe plans for binds, authentication, consumed input parameters and REST operations:
//! what reaches the upstream, what a REST client gets, what a service accepts at start-up.

use serde_json::{Map, Value, json};

use super::plans::*;
use super::{UnitEnv, input_list};

/// The variables the spec's `binds` declare (`keys` names), and the names they map to.
fn bind_keys(spec: Option<&Value>) -> Vec<(String, String)> {
    spec.and_then(|s| s.get("binds"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("keys").and_then(Value::as_object))
        .flatten()
        .map(|(k, v)| (k.clone(), crate::pointer::text_of(v)))
        .collect()
}

/// `resolve_binds`: the case's `binds` and a mock tool whose output prints every
/// variable; the service runs with the case's environment only.
pub fn binds(input: &Value, ctx: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let binds = ctx
        .spec
        .and_then(|s| s.get("binds"))
        .cloned()
        .ok_or("the case's spec has no binds")?;
    let mut p = Plan::over(
        json!({"naftiko": "1.0.0-alpha2", "binds": binds,
               "capability": {"exposes": [{"type": "mcp", "namespace": PROBE_MCP, "port": 9100, "tools": []}]}}),
        many,
    );
    let vars = bind_keys(ctx.spec);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let outputs: Vec<Value> = vars
            .iter()
            .map(|(v, _)| json!({"name": v, "type": "string", "value": format!("{{{{{v}}}}}")}))
            .collect();
        p.tool(tool(
            &name,
            Vec::new(),
            json!({"outputParameters": outputs}),
        ));
        p.plan.env = Some(env_of(one));
        p.call_tool(&name, json!({}), Read::Result);
    }
    Ok(p.done())
}

/// The `env` of an input, as the service's environment.
fn env_of(input: &Value) -> Vec<(String, String)> {
    input
        .get("env")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), crate::pointer::text_of(v)))
        .collect()
}

/// `allowed_variables`: the names the generator accepts in an inbound-auth template,
/// among the binds' variable names and the names they map to (our validation of
/// `{{VAR}}` in `authentication`, called through the generator).
pub fn allowed_variables(_: &Value, env: &UnitEnv) -> Result<Value, String> {
    let binds = env
        .spec
        .and_then(|s| s.get("binds"))
        .cloned()
        .unwrap_or_else(|| json!([]));
    let mut candidates: Vec<String> = Vec::new();
    for (k, v) in bind_keys(env.spec) {
        for c in [k, v] {
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
    }
    let mut allowed = Vec::new();
    for c in candidates {
        let spec = json!({"naftiko": "1.0.0-alpha2", "binds": binds, "capability": {"exposes": [
            {"type": "mcp", "namespace": PROBE_MCP, "port": 9100,
             "authentication": {"type": "bearer", "token": format!("{{{{{c}}}}}")},
             "tools": [{"name": "probe", "description": "Probe",
                        "outputParameters": [{"type": "string", "value": "ok"}]}]}]}});
        let text = serde_yaml::to_string(&spec).map_err(|e| e.to_string())?;
        let path = env.fixtures.join("allowed-variables-probe.yaml");
        if crate::prepare::generate_text(&path.to_string_lossy(), &text).is_ok() {
            allowed.push(Value::String(c));
        }
    }
    Ok(Value::Array(allowed))
}

/// `inbound_auth`: an MCP server with the case's `authentication` (its allowed variables
/// declared as environment binds), asked `tools/list` with the case's headers.
pub fn inbound_auth(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let first = list.first().cloned().unwrap_or(Value::Null);
    let mut keys = Map::new();
    for v in first
        .get("allowed_variables")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        keys.insert(v.to_owned(), Value::String(v.to_owned()));
    }
    let mut base = json!({"naftiko": "1.0.0-alpha2", "capability": {"exposes": [
        {"type": "mcp", "namespace": PROBE_MCP, "port": 9100,
         "authentication": first.get("authentication").cloned().unwrap_or(Value::Null),
         "tools": [{"name": "probe", "description": "Probe",
                    "outputParameters": [{"type": "string", "value": "ok"}]}]}]}});
    if !keys.is_empty() {
        base["binds"] = json!([{"namespace": "probe-env", "keys": keys}]);
    }
    let mut p = Plan::over(base, many);
    for one in &list {
        p.next();
        p.plan.env = Some(env_of(one));
        p.probe(
            Ask::Request(
                json!({"protocol": "mcp", "method": "tools/list", "params": {},
                "handshake": false,
                "headers": one.get("request_headers").cloned().unwrap_or_else(|| json!({}))}),
            ),
            Read::Wire,
        );
    }
    Ok(p.done())
}

/// Consumed input parameters as the grammar writes them: the engine's `template` (not in
/// the alpha2 grammar) is a Mustache value like `value`.
fn consumed_param(p: &Value) -> Value {
    let mut p = p.clone();
    if let Some(o) = p.as_object_mut()
        && let Some(t) = o.remove("template")
        && !o.contains_key("value")
    {
        o.insert("value".into(), t);
    }
    p
}

/// `apply_consumed_inputs` (and `..._then_defaults`): a consumed operation at the case's
/// URL with its input parameters (consumes-level when the case's function applies
/// defaults after them, or when they come from the consumes level of the case's spec), a
/// tool calling it with the parameters; the stub records the request.
pub fn consumed_inputs(input: &Value, ctx: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let (origin, path) = origin_of(one.get("url").and_then(Value::as_str).unwrap_or(""));
        let from = one.get("inputParameters_from").and_then(Value::as_str);
        let declared: Vec<Value> = match from {
            Some(ptr) => ctx
                .spec
                .and_then(|s| s.pointer(ptr))
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| format!("the case's spec has no {ptr}"))?,
            None => one
                .get("inputParameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        };
        let declared: Vec<Value> = declared.iter().map(consumed_param).collect();
        let consumes_level = ctx.function == "apply_consumed_inputs_then_defaults"
            || from.is_some_and(|f| !f.contains("/resources/"));
        let mut op = json!({"name": format!("get-{name}"), "method": "GET"});
        if consumes_level {
            for d in &declared {
                p.add("/capability/consumes/0/inputParameters", d.clone());
            }
        } else if !declared.is_empty() {
            op["inputParameters"] = Value::Array(declared.clone());
        }
        p.add(
            "/capability/consumes/0/resources",
            json!({"name": name, "path": if path.is_empty() { "/".to_owned() } else { path }, "operations": [op]}),
        );
        let params = field(one, "parameters");
        p.tool(tool(
            &name,
            inputs_of(params),
            json!({"call": format!("{PROBE_API}.get-{name}")}),
        ));
        if p.plan.stubs.is_empty() {
            p.stub(PROBE_API, "", "*", "{}", "application/json");
        }
        let names = declared
            .iter()
            .filter_map(|d| {
                Some((
                    d.get("name")?.as_str()?.to_owned(),
                    d.get("in")
                        .and_then(Value::as_str)
                        .unwrap_or("query")
                        .to_owned(),
                ))
            })
            .collect();
        p.call_tool(
            &name,
            args_of(params),
            Read::Sent {
                params: names,
                origin: Some(origin),
                whole: true,
                given: args_of(params),
            },
        );
    }
    Ok(p.done())
}

/// Names inside `{{...}}` of the strings of a value.
fn template_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                let after = &rest[start + 2..];
                let Some(end) = after.find("}}") else { break };
                let n = after[..end].trim().to_owned();
                if !out.contains(&n) {
                    out.push(n);
                }
                rest = &after[end + 2..];
            }
        }
        Value::Array(a) => a.iter().for_each(|x| template_names(x, out)),
        Value::Object(o) => o.values().for_each(|x| template_names(x, out)),
        _ => {}
    }
}

/// `consumed_auth`: a consumed API with the case's `authentication`, called by a tool. Our
/// services render consumed credentials from `binds` variables (the engine renders them
/// from request parameters, semantics.md 21.1), so each `{{x}}` is a variable bound to an
/// environment variable holding the parameter's value.
pub fn consumed_auth(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let first = list.first().cloned().unwrap_or(Value::Null);
    let auth = first
        .get("authentication")
        .cloned()
        .ok_or("input.authentication is missing")?;
    let (origin, path) = origin_of(first.get("url").and_then(Value::as_str).unwrap_or(""));
    let mut names = Vec::new();
    template_names(&auth, &mut names);
    let env_name = |n: &str| format!("PROBE_VAR_{}", n.to_ascii_uppercase().replace('-', "_"));
    let mut base = json!({"naftiko": "1.0.0-alpha2", "capability": {
        "consumes": [{"type": "http", "namespace": PROBE_API, "baseUri": "${UPSTREAM}",
                      "authentication": auth,
                      "resources": [{"name": "target", "path": if path.is_empty() { "/".to_owned() } else { path },
                                     "operations": [{"name": "get-target", "method": "GET"}]}]}],
        "exposes": [{"type": "mcp", "namespace": PROBE_MCP, "port": 9100, "tools": []}]}});
    if !names.is_empty() {
        let keys: Map<String, Value> = names
            .iter()
            .map(|n| (n.clone(), Value::String(env_name(n))))
            .collect();
        base["binds"] = json!([{"namespace": "probe-vars", "keys": keys}]);
    }
    let mut p = Plan::over(base, many);
    p.stub(PROBE_API, "", "*", "{}", "application/json");
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        p.tool(tool(
            &name,
            Vec::new(),
            json!({"call": format!("{PROBE_API}.get-target")}),
        ));
        let params = field(one, "parameters");
        p.plan.env = Some(
            names
                .iter()
                .filter_map(|n| {
                    let v = params?.get(n)?;
                    Some((env_name(n), crate::pointer::text_of(v)))
                })
                .collect(),
        );
        p.call_tool(
            &name,
            json!({}),
            Read::Sent {
                params: Vec::new(),
                origin: Some(origin.clone()),
                whole: true,
                given: args_of(params),
            },
        );
    }
    Ok(p.done())
}

// ----- REST operations -----

/// REST input parameters (query) for the case's parameters.
fn rest_inputs(params: Option<&Value>) -> Vec<Value> {
    params
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    json!({"name": k, "in": "query", "type": ty_of(v),
                           "description": format!("The parameter {k}")})
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A REST operation `GET /<name>` with `fields` and the parameters as query inputs.
fn rest_op(p: &mut Plan, name: &str, params: Option<&Value>, fields: Value) {
    let mut op = json!({"method": "GET", "name": name});
    let inputs = rest_inputs(params);
    if !inputs.is_empty() {
        op["inputParameters"] = Value::Array(inputs);
    }
    if let (Value::Object(f), Some(o)) = (fields, op.as_object_mut()) {
        o.extend(f);
    }
    p.route(json!({"name": name, "path": format!("/{name}"), "operations": [op]}));
}

/// `rest_mock_response`: a REST operation without a call whose output parameters carry
/// values; the answer as the client gets it.
pub fn rest_mock(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let params = field(one, "parameters");
        let outputs = without_in(
            &one.get("outputParameters")
                .cloned()
                .unwrap_or_else(|| json!([])),
        );
        rest_op(&mut p, &name, params, json!({"outputParameters": outputs}));
        p.get(&format!("/{name}"), params, Read::Wire);
    }
    Ok(p.done())
}

/// `rest_map_output`: a REST operation calling an operation that answers the case's body
/// (in the consumed operation's `outputRawFormat`), mapped by its output parameters.
pub fn rest_map(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let format = one.get("outputRawFormat").and_then(Value::as_str);
        let mut extra = json!({});
        if let Some(f) = format {
            extra["outputRawFormat"] = Value::String(f.to_owned());
        }
        let call = p.operation(&name, extra);
        let body = match (
            one.get("upstream_body_text").and_then(Value::as_str),
            one.get("upstream_body"),
        ) {
            (Some(t), _) => t.to_owned(),
            (None, Some(b)) => b.to_string(),
            (None, None) => String::new(),
        };
        p.answer(&name, &body, format_media(format));
        let outputs = without_in(
            &one.get("outputParameters")
                .cloned()
                .unwrap_or_else(|| json!([])),
        );
        rest_op(
            &mut p,
            &name,
            None,
            json!({"call": call, "outputParameters": outputs}),
        );
        p.get(&format!("/{name}"), None, Read::Answer);
    }
    Ok(p.done())
}

/// `rest_can_mock`: a REST operation without a call and with the case's output
/// parameters: mock mode is chosen when it answers (2xx), not when it is not served (404).
pub fn rest_can_mock(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let outputs = without_in(
            &one.get("outputParameters")
                .cloned()
                .unwrap_or_else(|| json!([])),
        );
        let fields = if outputs.as_array().is_some_and(|a| !a.is_empty()) {
            json!({"outputParameters": outputs})
        } else {
            json!({})
        };
        rest_op(&mut p, &name, None, fields);
        p.get(&format!("/{name}"), None, Read::Served);
    }
    Ok(p.done())
}

/// A consumed `POST /<name>` taking each of `names` as a JSON body field; returns its
/// `call` target. What a REST operation hands it shows the values of its inputs.
fn recorder(p: &mut Plan, name: &str, names: &[String]) -> String {
    let params: Vec<Value> = names
        .iter()
        .map(|n| json!({"name": n, "in": "body"}))
        .collect();
    let mut op = json!({"name": format!("send-{name}"), "method": "POST"});
    if !params.is_empty() {
        op["inputParameters"] = Value::Array(params);
    }
    p.add(
        "/capability/consumes/0/resources",
        json!({"name": name, "path": format!("/{name}"), "operations": [op]}),
    );
    p.stub(
        PROBE_API,
        "POST",
        &format!("/{name}"),
        "{}",
        "application/json",
    );
    format!("{PROBE_API}.send-{name}")
}

/// The value at a dotted JSONPath (`$.a.b`) of `v`, for choosing a declared type.
fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let rest = path.trim().strip_prefix('$')?;
    rest.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(v, |cur, k| cur.get(k))
}

/// The type a spec author declares for a REST input reading `request`: text for the
/// path, query and headers; in the body, the type of what it reads.
fn rest_input_type(param: &Value, request: &Value) -> &'static str {
    let body = request.get("body_json").unwrap_or(&Value::Null);
    let name = param.get("name").and_then(Value::as_str).unwrap_or("");
    match (
        param.get("in").and_then(Value::as_str).unwrap_or("body"),
        param.get("value").and_then(Value::as_str),
    ) {
        (_, Some(v)) if !v.starts_with('$') => "string",
        ("body", Some(v)) => at_path(body, v).map(ty_of).unwrap_or("string"),
        ("body", None) => body.get(name).or(Some(body)).map(ty_of).unwrap_or("object"),
        _ => "string",
    }
}

/// A REST request for the case's `request`: `path_params` fill the route's variables,
/// the URL's query and the headers and body as given.
fn rest_request(request: &Value, path: &str) -> Value {
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET");
    let url = request.get("url").and_then(Value::as_str).unwrap_or("");
    let mut query: Map<String, Value> = request
        .get("query")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some((_, q)) = url.split_once('?') {
        for (k, v) in crate::stub::query_pairs(q) {
            query.insert(k, Value::String(v));
        }
    }
    let mut req = json!({"protocol": "rest", "method": method, "path": path, "query": query,
        "headers": request.get("headers").cloned().unwrap_or_else(|| json!({}))});
    if let Some(b) = request.get("body_json") {
        req["body_json"] = b.clone();
    } else if let Some(t) = request.get("body_text") {
        req["body_text"] = t.clone();
        if let Some(ct) = request.get("content_type") {
            req["headers"]["Content-Type"] = ct.clone();
        }
    }
    req
}

/// `/<name>` followed by `/{{p}}` for each path parameter, and the path with their values.
fn route_with_params(name: &str, path_params: Option<&Value>) -> (String, String) {
    let mut route = format!("/{name}");
    let mut path = route.clone();
    for (k, v) in path_params.and_then(Value::as_object).into_iter().flatten() {
        route.push_str(&format!("/{{{{{k}}}}}"));
        path.push('/');
        path.push_str(&crate::pointer::text_of(v));
    }
    (route, path)
}

/// `resolve_input_parameter`: a REST operation declaring the case's parameters, called
/// with the case's request, handing every input to a recorder (as a JSON body field).
pub fn input_parameter(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let request = one.get("request").cloned().unwrap_or(Value::Null);
        let params: Vec<Value> = one
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let names: Vec<String> = params
            .iter()
            .filter_map(|d| d.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let call = recorder(&mut p, &name, &names);
        let decls: Vec<Value> = params
            .iter()
            .map(|d| {
                let mut d = d.clone();
                let n = d
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                d["type"] = json!(rest_input_type(&d, &request));
                d["description"] = json!(format!("The parameter {n}"));
                if d.get("in").is_none() {
                    d["in"] = json!("body");
                }
                d
            })
            .collect();
        let (route, path) = route_with_params(&name, request.get("path_params"));
        let method = request
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET");
        p.route(json!({"name": name, "path": route, "operations": [
            {"method": method, "name": name, "inputParameters": decls, "call": call}]}));
        p.probe(
            Ask::Request(rest_request(&request, &path)),
            Read::BodyFields {
                names,
                object: false,
            },
        );
    }
    Ok(p.done())
}

/// `collect_rest_inputs`: the case spec's REST adapter, its operation calling a recorder
/// of every input it collects (adapter, resource and operation levels); the path
/// parameters the test injects become route variables.
pub fn rest_inputs_collected(input: &Value, ctx: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut spec = ctx.spec.cloned().ok_or("the case has no spec")?;
    spec["capability"]["consumes"] = json!([{"type": "http", "namespace": PROBE_API, "baseUri": "${UPSTREAM}", "resources": []}]);
    let first = list.first().cloned().unwrap_or(Value::Null);
    let request = first.get("request").cloned().unwrap_or(Value::Null);
    let rest_path = request.get("path").and_then(Value::as_str).unwrap_or("/");
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET");
    let names_of = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|d| d.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    let mut names = Vec::new();
    let mut path = rest_path.to_owned();
    let exposes = spec
        .pointer_mut("/capability/exposes")
        .and_then(Value::as_array_mut)
        .ok_or("the case's spec exposes nothing")?;
    let adapter = exposes
        .iter_mut()
        .find(|e| e.get("type").and_then(Value::as_str) == Some("rest"))
        .ok_or("the case's spec has no REST adapter")?;
    // Adapter-level inputs are not in the alpha2 grammar (the test builds them in code):
    // they apply to every resource, so the resource declares them (first: its own and the
    // operation's override them).
    let shared_inputs: Vec<Value> = adapter
        .as_object_mut()
        .and_then(|a| a.remove("inputParameters"))
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    names.extend(names_of(Some(&Value::Array(shared_inputs.clone()))));
    for r in adapter
        .get_mut("resources")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if !shared_inputs.is_empty()
            && let Some(o) = r.as_object_mut()
        {
            let own = o
                .remove("inputParameters")
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default();
            let mut all = shared_inputs.clone();
            all.extend(own);
            o.insert("inputParameters".into(), Value::Array(all));
        }
    }
    let resource = adapter
        .get_mut("resources")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .find(|r| r.get("path").and_then(Value::as_str) == Some(rest_path))
        .ok_or_else(|| format!("the case's spec has no resource {rest_path}"))?;
    names.extend(names_of(resource.get("inputParameters")));
    let (route_tail, path_tail) = route_with_params("", request.get("path_params"));
    let route = format!("{rest_path}{}", &route_tail[1..]);
    path.push_str(&path_tail[1..]);
    resource["path"] = json!(route);
    let op = resource
        .get_mut("operations")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .find(|o| {
            o.get("method")
                .and_then(Value::as_str)
                .is_some_and(|m| m.eq_ignore_ascii_case(method))
        })
        .ok_or_else(|| format!("the case's spec has no operation {method} {rest_path}"))?;
    names.extend(names_of(op.get("inputParameters")));
    let mut seen = Vec::new();
    names.retain(|n| {
        let first = !seen.contains(n);
        seen.push(n.clone());
        first
    });
    let mut p = Plan::over(spec, many);
    let call = recorder(&mut p, "probe-0", &names);
    if let Some(Value::Array(ex)) = p.plan.base.pointer_mut("/capability/exposes") {
        for e in ex.iter_mut() {
            for r in e
                .get_mut("resources")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if r.get("path") == Some(&json!(route)) {
                    for o in r
                        .get_mut("operations")
                        .and_then(Value::as_array_mut)
                        .into_iter()
                        .flatten()
                    {
                        o["call"] = json!(call);
                    }
                }
            }
        }
    }
    for _ in &list {
        p.probe(
            Ask::Request(rest_request(&request, &path)),
            Read::BodyFields {
                names: names.clone(),
                object: true,
            },
        );
    }
    Ok(p.done())
}

/// `is_metrics_enabled`: a control port with the case's `observability` block serves
/// `/metrics`, or not (404).
pub fn metrics_enabled(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    control_route(input, "/metrics")
}

/// `is_traces_enabled`: the same for `/traces`.
pub fn traces_enabled(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    control_route(input, "/traces")
}

fn control_route(input: &Value, route: &str) -> Result<SpecPlan, String> {
    let mut control = json!({"type": "control", "port": 9102});
    if let Some(o) = input.get("observability").filter(|o| !o.is_null()) {
        control["observability"] = o.clone();
    }
    let mut p = Plan::over(
        json!({"naftiko": "1.0.0-alpha2", "capability": {"consumes": [], "exposes": [
            control,
            {"type": "rest", "namespace": "probe-rest", "port": 9101, "resources": [
                {"path": "/probe", "operations": [{"method": "GET", "name": "probe",
                 "outputParameters": [{"name": "ok", "type": "string", "value": "ok"}]}]}]}]}}),
        false,
    );
    p.next();
    p.probe(
        Ask::Request(
            json!({"protocol": "http", "adapter": "control", "method": "GET", "path": route}),
        ),
        Read::Served,
    );
    Ok(p.done())
}

/// `trace_ring_buffer`: the control port's ring of traces (`naftiko_runtime`'s own), with
/// `add` traces added in order; the output is `{size, trace_ids}` (most recent first) and,
/// when the case asks for one, `found` (the trace's id, or `null`).
pub fn trace_ring(input: &Value, _: &UnitEnv) -> Result<Value, String> {
    use naftiko_runtime::telemetry::ring::{Ring, SpanRecord, Trace};
    let capacity = input
        .get("capacity")
        .and_then(Value::as_u64)
        .ok_or("input.capacity is missing")?;
    if capacity < 1 {
        return Err("capacity must be at least 1".into());
    }
    let ring = Ring::new(capacity as usize);
    for id in input
        .get("add")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let root = SpanRecord::named("rest.request");
        ring.push(Trace::of(id.to_owned(), root));
    }
    let list = ring.list(None, None);
    let ids: Vec<Value> = list["traces"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| t["traceId"].clone())
        .collect();
    let mut out = json!({"size": ids.len(), "trace_ids": ids});
    if let Some(find) = input.get("find").and_then(Value::as_str) {
        out["found"] = ring.get(find).map_or(Value::Null, |t| t["traceId"].clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(
            origin_of("https://api.example.com/v1/test"),
            ("https://api.example.com".into(), "/v1/test".into())
        );
        assert_eq!(
            consumed_param(&json!({"name": "q", "in": "query", "template": "{{q}}"})),
            json!({"name": "q", "in": "query", "value": "{{q}}"})
        );
    }
}
