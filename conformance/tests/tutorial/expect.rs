//! What a tool or route must answer, worked out from the spec and the stub, independently of
//! the generator: the upstream requests its call or steps make (rendered from the consumed
//! operations), the stub's answers to them, and the declared outputs applied to those
//! answers (output parameters, lookups, mappings, mocks), following the reference engine's
//! documented semantics (`shared/naftiko/semantics.md`, sections 3 to 8 and 19).
//!
//! One reading differs from the engine on purpose: a `type: array` output whose mapping
//! meets a single XML element (a one-item list, which XML cannot tell from an object) is
//! expected as an array of that element, as declared.

use serde_json::{Map, Value, json};

use super::spec::{Consumed, ConsumedOp, Flow, Spec, named, placeholders, render, text};
use super::stub::{Answer, Apis, split_path};

/// An upstream request a call must make.
#[derive(Debug, Clone)]
pub struct Call {
    /// Index of the API (in `Apis::list`).
    pub api: usize,
    pub method: String,
    /// Path segments after the base path, decoded.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    /// Lower-case header name and its value (`None`: must be absent).
    pub headers: Vec<(String, Option<String>)>,
    /// The body, rendered from the operation's template.
    pub body: Option<String>,
}

impl Call {
    pub fn describe(&self, apis: &Apis) -> String {
        let q: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!(
            "{} {}/{}{}",
            self.method,
            apis.list[self.api].base_path,
            self.segments.join("/"),
            if q.is_empty() {
                String::new()
            } else {
                format!("?{}", q.join("&"))
            }
        )
    }
}

/// The expected result of one invocation.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The result body (the tool's JSON, the route's body).
    pub value: Value,
    /// The REST status: the upstream's for a single call, 200 for steps, 200 for mocks.
    pub status: u16,
    pub calls: Vec<Call>,
}

/// The declared type of a result, from `outputParameters`.
#[derive(Debug, Clone, Default)]
pub struct Decl {
    /// `string`, `number`, `integer`, `boolean`, `object`, `array`, or empty (any).
    pub ty: String,
    pub props: Vec<(String, Decl)>,
    pub items: Option<Box<Decl>>,
}

impl Decl {
    fn of(p: &Value) -> Decl {
        let items = p.get("items").map(|i| {
            Box::new(match i.get("type") {
                Some(Value::String(_)) => Decl::of(i),
                _ => Decl {
                    ty: "object".into(),
                    props: named(Some(i))
                        .iter()
                        .map(|(n, v)| (n.clone(), Decl::of(v)))
                        .collect(),
                    items: None,
                },
            })
        });
        Decl {
            ty: text(p, "type").to_owned(),
            props: named(p.get("properties"))
                .iter()
                .map(|(n, v)| (n.clone(), Decl::of(v)))
                .collect(),
            items,
        }
    }

    /// The declared result of a flow: its one unnamed output parameter, or an object of
    /// its named ones; `None` when it declares nothing.
    pub fn of_flow(flow: &Flow) -> Option<Decl> {
        let outs = named(flow.body.get("outputParameters"));
        if outs.is_empty() {
            return None;
        }
        if outs.iter().all(|(n, _)| !n.is_empty()) {
            return Some(Decl {
                ty: "object".into(),
                props: outs.iter().map(|(n, v)| (n.clone(), Decl::of(v))).collect(),
                items: None,
            });
        }
        outs.iter()
            .find(|(n, _)| n.is_empty())
            .map(|(_, v)| Decl::of(v))
    }
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        _ => true,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// JSON equality with numbers compared by value (`229` equals `229.0`).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        format!("{}...", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// Every difference between `actual` and `expected` the declaration covers: declared
/// properties present, of the declared JSON type, with the expected value.
pub fn judge(decl: &Decl, expected: &Value, actual: &Value, at: &str, out: &mut Vec<String>) {
    let here = if at.is_empty() { "the result" } else { at };
    if !decl.ty.is_empty() && !expected.is_null() && !type_ok(&decl.ty, actual) {
        out.push(format!(
            "{here}: declared `{}`, got {} {}",
            decl.ty,
            kind(actual),
            short(actual)
        ));
        return;
    }
    if !decl.props.is_empty() {
        let Some(obj) = actual.as_object() else {
            out.push(format!("{here}: expected an object, got {}", short(actual)));
            return;
        };
        for (name, d) in &decl.props {
            let path = format!("{at}/{name}");
            match obj.get(name) {
                None => out.push(format!(
                    "{path}: declared output missing (expected {})",
                    short(&expected[name.as_str()])
                )),
                Some(v) => judge(d, &expected[name.as_str()], v, &path, out),
            }
        }
        return;
    }
    if let (Some(item), Some(exp), Some(act)) =
        (&decl.items, expected.as_array(), actual.as_array())
    {
        if exp.len() != act.len() {
            out.push(format!(
                "{here}: expected {} items {}, got {} {}",
                exp.len(),
                short(expected),
                act.len(),
                short(actual)
            ));
            return;
        }
        for (i, (e, a)) in exp.iter().zip(act).enumerate() {
            judge(item, e, a, &format!("{at}/{i}"), out);
        }
        return;
    }
    if !same(expected, actual) {
        out.push(format!(
            "{here}: expected {}, got {}",
            short(expected),
            short(actual)
        ));
    }
}

// ----- JSONPath and XML, the subset the tutorial uses -----

/// `$`, `$.` (the root) or `$.a.b` (object fields).
pub fn path(root: &Value, p: &str) -> Option<Value> {
    let rest = p.trim().strip_prefix('$')?;
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    let mut v = root;
    for seg in rest.split('.').filter(|s| !s.is_empty()) {
        v = v.get(seg)?;
    }
    Some(v.clone())
}

/// XML as the engine reads it (Jackson `XmlMapper.readTree`): the root element's name
/// dropped, child elements as fields, repeated names as arrays, leaves as strings.
pub fn xml_to_json(xml: &str) -> Result<Value, String> {
    fn skip_misc(s: &str) -> &str {
        let mut s = s.trim_start();
        loop {
            if s.starts_with("<?") {
                s = s.find("?>").map(|i| &s[i + 2..]).unwrap_or("").trim_start();
            } else if s.starts_with("<!--") {
                s = s
                    .find("-->")
                    .map(|i| &s[i + 3..])
                    .unwrap_or("")
                    .trim_start();
            } else {
                return s;
            }
        }
    }
    fn unescape(t: &str) -> String {
        t.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    }
    /// Parses one element at the start of `s`: (name, value, rest).
    fn element(s: &str) -> Result<(String, Value, &str), String> {
        let s = skip_misc(s);
        let s = s.strip_prefix('<').ok_or("expected `<`")?;
        let end = s.find('>').ok_or("unclosed tag")?;
        let head = &s[..end];
        let name = head
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_owned();
        if head.ends_with('/') {
            return Ok((name, Value::String(String::new()), &s[end + 1..]));
        }
        let mut rest = &s[end + 1..];
        let mut fields: Map<String, Value> = Map::new();
        let mut textual = String::new();
        loop {
            let t = skip_misc(rest);
            if let Some(after) = t.strip_prefix("</") {
                let close = after.find('>').ok_or("unclosed end tag")?;
                rest = &after[close + 1..];
                break;
            }
            if t.starts_with('<') {
                let (n, v, r) = element(t)?;
                match fields.get_mut(&n) {
                    Some(Value::Array(a)) => a.push(v),
                    Some(prev) => {
                        let first = prev.take();
                        *prev = Value::Array(vec![first, v]);
                    }
                    None => {
                        fields.insert(n, v);
                    }
                }
                rest = r;
            } else {
                let next = rest.find('<').ok_or("text runs to the end")?;
                textual.push_str(&rest[..next]);
                rest = &rest[next..];
            }
        }
        let value = if fields.is_empty() {
            Value::String(unescape(textual.trim()))
        } else {
            Value::Object(fields)
        };
        Ok((name, value, rest))
    }
    element(xml).map(|(_, v, _)| v)
}

// ----- evaluation -----

/// The spec, the stub, and which API each consumed namespace is.
pub struct World<'a> {
    pub spec: &'a Spec,
    pub apis: &'a Apis,
    /// Consumed namespace -> index of its API.
    pub api_of: Vec<(String, usize)>,
    /// The values of the `binds` variables.
    pub binds: Map<String, Value>,
}

/// Applies a `with` map: `<ns>.<input>` copies an input (when given), a `{{template}}`
/// renders against the map, anything else is a literal.
pub fn with_applied(
    with: Option<&Value>,
    map: &Map<String, Value>,
    ns: &str,
) -> Map<String, Value> {
    let mut out = map.clone();
    let Some(Value::Object(w)) = with else {
        return out;
    };
    let prefix = format!("{ns}.");
    for (k, v) in w {
        match v {
            Value::String(s) => {
                if let Some(input) = s.strip_prefix(&prefix) {
                    if let Some(x) = map.get(input).filter(|x| !x.is_null()) {
                        out.insert(k.clone(), x.clone());
                    }
                } else if s.contains("{{") {
                    out.insert(k.clone(), Value::String(render(s, map)));
                } else {
                    out.insert(k.clone(), v.clone());
                }
            }
            other => {
                out.insert(k.clone(), other.clone());
            }
        }
    }
    out
}

impl World<'_> {
    pub fn api(&self, namespace: &str) -> Result<usize, String> {
        self.api_of
            .iter()
            .find(|(n, _)| n == namespace)
            .map(|(_, a)| *a)
            .ok_or_else(|| {
                format!("no OpenAPI document serves the consumed namespace `{namespace}`")
            })
    }

    /// The headers every call of `c` carries (authentication and fixed parameters).
    fn headers(&self, c: &Consumed, op: &ConsumedOp) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        match &c.auth {
            Some(a) if text(a, "type") == "bearer" => out.push((
                "authorization".into(),
                Some(format!("Bearer {}", render(text(a, "token"), &self.binds))),
            )),
            Some(a) if text(a, "type") == "apikey" && text(a, "placement") != "query" => {
                out.push((
                    text(a, "key").to_ascii_lowercase(),
                    Some(render(text(a, "value"), &self.binds)),
                ))
            }
            Some(_) => {}
            None => out.push(("authorization".into(), None)),
        }
        for p in c.fixed.iter().chain(op.params.iter()) {
            if p.location == "header"
                && let Some(v) = &p.value
            {
                out.push((p.name.to_ascii_lowercase(), Some(render(v, &self.binds))));
            }
        }
        out
    }

    /// The request `call` makes with `params`, and the stub's answer to it.
    fn request(
        &self,
        call: &str,
        params: &Map<String, Value>,
    ) -> Result<(Call, Answer, String), String> {
        let (c, op) = self.spec.op(call)?;
        let api = self.api(&c.namespace)?;
        let mut vars = params.clone();
        for (k, v) in &self.binds {
            vars.entry(k.clone()).or_insert(v.clone());
        }
        let segments: Vec<String> = split_path(&op.path)
            .iter()
            .map(|s| render(s, &vars))
            .collect();
        let mut query = Vec::new();
        for p in c.fixed.iter().chain(op.params.iter()) {
            if p.location != "query" {
                continue;
            }
            let v = match &p.value {
                Some(t) => Some(render(t, &vars)),
                None => params
                    .get(&p.name)
                    .filter(|v| !v.is_null())
                    .map(super::spec::template_text),
            };
            if let Some(v) = v {
                query.push((p.name.clone(), v));
            }
        }
        if op
            .params
            .iter()
            .any(|p| p.location == "body" && p.value.is_none())
        {
            return Err(format!(
                "`{call}` takes `in: body` parameters, which this test does not render"
            ));
        }
        let body = op.body.as_ref().map(|t| render(t, &vars));
        let expected = Call {
            api,
            method: op.method.clone(),
            segments: segments.clone(),
            query: query.clone(),
            headers: self.headers(c, op),
            body: body.clone(),
        };
        let answer = self.apis.answer(
            api,
            &op.method,
            &segments,
            &query,
            body.as_deref().unwrap_or(""),
        );
        Ok((expected, answer, op.format.clone()))
    }

    /// The expected outcome of `flow` invoked with `args`.
    pub fn outcome(&self, flow: &Flow, args: &Map<String, Value>) -> Result<Outcome, String> {
        match flow.kind() {
            "mock" => Ok(Outcome {
                value: mock_object(&named(flow.body.get("outputParameters")), args),
                status: 200,
                calls: Vec::new(),
            }),
            "call" => {
                let call = text(&flow.body, "call");
                let params = with_applied(flow.body.get("with"), args, &flow.namespace);
                let (req, answer, format) = self.request(call, &params)?;
                let tree = match format.as_str() {
                    "json" => serde_json::from_str(&answer.body)
                        .unwrap_or(Value::String(answer.body.clone())),
                    "xml" => {
                        xml_to_json(&answer.body).map_err(|e| format!("the stub's XML: {e}"))?
                    }
                    other => return Err(format!("format `{other}` is not read by this test")),
                };
                let value = named(flow.body.get("outputParameters"))
                    .iter()
                    .find_map(|(_, p)| output(p, &tree))
                    .unwrap_or(tree);
                Ok(Outcome {
                    value,
                    status: answer.status,
                    calls: vec![req],
                })
            }
            _ => self.steps(flow, args),
        }
    }

    fn steps(&self, flow: &Flow, args: &Map<String, Value>) -> Result<Outcome, String> {
        let mut runtime = args.clone();
        let mut context: Map<String, Value> = Map::new();
        let mut calls = Vec::new();
        for (name, step) in named(flow.body.get("steps")) {
            match text(&step, "type") {
                "call" => {
                    let call = text(&step, "call");
                    let params = with_applied(step.get("with"), &runtime, &flow.namespace);
                    let (req, answer, _) = self.request(call, &params)?;
                    calls.push(req);
                    // Step outputs are read as JSON, projected through the operation's
                    // named output parameters.
                    let Ok(body) = serde_json::from_str::<Value>(&answer.body) else {
                        continue;
                    };
                    let (_, op) = self.spec.op(call)?;
                    let out = project(&body, &op.projection);
                    runtime.insert(name.clone(), out.clone());
                    context.insert(name, out);
                }
                "lookup" => {
                    let index = text(&step, "index");
                    let table = context
                        .get(index)
                        .cloned()
                        .ok_or_else(|| format!("lookup `{name}`: no output of step `{index}`"))?;
                    let field = text(&step, "match");
                    let keep: Vec<String> = step
                        .get("outputParameters")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    let lv = text(&step, "lookupValue");
                    let keyed = context_path(&context, lv);
                    let found = match keyed {
                        Some(Value::Array(keys)) => {
                            let hits: Vec<Value> = keys
                                .iter()
                                .filter_map(|k| {
                                    lookup(&table, field, &super::spec::template_text(k), &keep)
                                })
                                .collect();
                            (!hits.is_empty()).then_some(Value::Array(hits))
                        }
                        Some(k) if !k.is_null() => {
                            lookup(&table, field, &super::spec::template_text(&k), &keep)
                        }
                        _ => lookup(&table, field, &render(lv, &runtime), &keep),
                    };
                    if let Some(f) = found {
                        context.insert(name, f);
                    }
                }
                other => {
                    return Err(format!(
                        "step `{name}` of type `{other}` is not evaluated by this test"
                    ));
                }
            }
        }
        let mut result = Map::new();
        for m in flow
            .body
            .get("mappings")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let target = m
                .get("targetName")
                .or_else(|| m.get("target"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(v) = context_path(&context, text(&m, "value")) else {
                continue;
            };
            let mut at = &mut result;
            let parts: Vec<&str> = target.split('.').collect();
            for p in &parts[..parts.len() - 1] {
                let e = at.entry(p.to_string()).or_insert_with(|| json!({}));
                if !e.is_object() {
                    *e = json!({});
                }
                at = e.as_object_mut().expect("made an object above");
            }
            at.insert(parts[parts.len() - 1].to_owned(), v);
        }
        if result.is_empty() {
            return Err(
                "the steps' mappings produce nothing: this test does not evaluate the fallback"
                    .into(),
            );
        }
        Ok(Outcome {
            value: Value::Object(result),
            status: 200,
            calls,
        })
    }
}

/// `$.<step>.<a>.<b>` in the step context.
fn context_path(context: &Map<String, Value>, p: &str) -> Option<Value> {
    let rest = p.trim().strip_prefix("$.")?;
    let mut segs = rest.split('.');
    let mut v = context.get(segs.next()?)?;
    for s in segs {
        v = v.get(s)?;
    }
    Some(v.clone())
}

/// The first object of `table` whose `field` has the text `key`, cut to `keep`.
fn lookup(table: &Value, field: &str, key: &str, keep: &[String]) -> Option<Value> {
    let rows: Vec<&Value> = match table {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let row = rows.into_iter().find(|r| {
        r.get(field)
            .is_some_and(|v| super::spec::template_text(v) == key)
    })?;
    Some(Value::Object(
        keep.iter()
            .map(|k| (k.clone(), row.get(k).cloned().unwrap_or(Value::Null)))
            .collect(),
    ))
}

/// A step's output through the operation's named output parameters: each element of an
/// array answer gains one field per parameter; another answer becomes an object of them.
fn project(body: &Value, projection: &[(String, String)]) -> Value {
    if projection.is_empty() {
        return body.clone();
    }
    match body {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|e| {
                    let mut o = e.as_object().cloned().unwrap_or_default();
                    for (n, m) in projection {
                        o.insert(n.clone(), path(e, m).unwrap_or(Value::Null));
                    }
                    Value::Object(o)
                })
                .collect(),
        ),
        other => Value::Object(
            projection
                .iter()
                .map(|(n, m)| (n.clone(), path(other, m).unwrap_or(Value::Null)))
                .collect(),
        ),
    }
}

/// One output parameter applied to an answer (`None`: it yields nothing).
fn output(p: &Value, root: &Value) -> Option<Value> {
    let mapping = p.get("mapping").and_then(Value::as_str);
    match text(p, "type") {
        "array" => {
            let v = path(root, mapping.unwrap_or("$"))?;
            let items = match v {
                Value::Array(a) => a,
                // A single XML element: a one-item list (see the module's note).
                o @ Value::Object(_) => vec![o],
                _ => return None,
            };
            let item = p.get("items");
            let props = item.map(|i| named(i.get("properties"))).unwrap_or_default();
            Some(Value::Array(
                items
                    .iter()
                    .map(|e| {
                        if !props.is_empty() {
                            Value::Object(
                                props
                                    .iter()
                                    .map(|(n, q)| (n.clone(), property(q, e)))
                                    .collect(),
                            )
                        } else if let Some(m) =
                            item.and_then(|i| i.get("mapping")).and_then(Value::as_str)
                        {
                            path(e, m).unwrap_or(Value::Null)
                        } else {
                            e.clone()
                        }
                    })
                    .collect(),
            ))
        }
        "object" if p.get("properties").is_some() && mapping.is_none() => Some(Value::Object(
            named(p.get("properties"))
                .iter()
                .map(|(n, q)| (n.clone(), property(q, root)))
                .collect(),
        )),
        _ => path(root, mapping?),
    }
}

/// A property of an object output, read from the same root.
fn property(p: &Value, root: &Value) -> Value {
    if text(p, "type") == "object" && p.get("properties").is_some() && p.get("mapping").is_none() {
        return output(p, root).unwrap_or(Value::Null);
    }
    p.get("mapping")
        .and_then(Value::as_str)
        .and_then(|m| path(root, m))
        .unwrap_or(Value::Null)
}

/// A mock result: each named output's `value` rendered against the inputs.
fn mock_object(outs: &[(String, Value)], args: &Map<String, Value>) -> Value {
    let mut o = Map::new();
    for (n, p) in outs {
        let key = if n.is_empty() {
            "value".to_owned()
        } else {
            n.clone()
        };
        if let Some(v) = mock_value(p, args) {
            o.insert(key, v);
        }
    }
    Value::Object(o)
}

fn mock_value(p: &Value, args: &Map<String, Value>) -> Option<Value> {
    if let Some(v) = p.get("value").and_then(Value::as_str) {
        return Some(Value::String(render(v, args)));
    }
    match text(p, "type") {
        "object" => {
            let inner = mock_object(&named(p.get("properties")), args);
            (inner.as_object().is_some_and(|o| !o.is_empty())).then_some(inner)
        }
        "array" => Some(Value::Array(
            p.get("items")
                .and_then(|i| mock_value(i, args))
                .into_iter()
                .collect(),
        )),
        _ => None,
    }
}

/// Where an input of `flow` goes upstream: the consumed operation and its parameter.
pub fn trace<'s>(
    spec: &'s Spec,
    flow: &Flow,
    input: &str,
) -> Option<(&'s Consumed, &'s ConsumedOp, String)> {
    let refers = |v: &Value| match v {
        Value::String(s) => {
            s.strip_prefix(&format!("{}.", flow.namespace)) == Some(input)
                || placeholders(s).iter().any(|p| p == input)
        }
        _ => false,
    };
    let mut calls: Vec<(String, Option<Value>)> = Vec::new();
    if let Some(c) = flow.body.get("call").and_then(Value::as_str) {
        calls.push((c.to_owned(), flow.body.get("with").cloned()));
    }
    for (_, s) in named(flow.body.get("steps")) {
        if let Some(c) = s.get("call").and_then(Value::as_str) {
            calls.push((c.to_owned(), s.get("with").cloned()));
        }
    }
    for (call, with) in calls {
        let Ok((c, op)) = spec.op(&call) else {
            continue;
        };
        let param = with
            .as_ref()
            .and_then(Value::as_object)
            .and_then(|w| w.iter().find(|(_, v)| refers(v)).map(|(k, _)| k.clone()))
            .or_else(|| {
                let by_name = op.params.iter().any(|p| p.name == input)
                    || op
                        .body
                        .as_deref()
                        .is_some_and(|b| placeholders(b).iter().any(|p| p == input))
                    || placeholders(&op.path).iter().any(|p| p == input);
                by_name.then(|| input.to_owned())
            });
        if let Some(p) = param {
            return Some((c, op, p));
        }
    }
    None
}

/// Where a consumed parameter goes: `path`, `query`, `header`, `body` (a body template).
pub fn location(op: &ConsumedOp, param: &str) -> &'static str {
    if placeholders(&op.path).iter().any(|p| p == param) {
        return "path";
    }
    if let Some(p) = op.params.iter().find(|p| p.name == param) {
        return match p.location.as_str() {
            "query" => "query",
            "header" => "header",
            "path" => "path",
            _ => "body",
        };
    }
    "body"
}
