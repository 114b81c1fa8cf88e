//! The OpenAPI 3.1 document of one REST adapter, from the checked model: its routes, their
//! inputs and declared results, and the answers the runtime really gives (its own error
//! JSON, and upstream answers passed through as they were).
//!
//! Same spec, same bytes: every map is filled in spec order (serde_json keeps insertion
//! order), and shared components in a fixed order.

use serde_json::{Map, Value, json};

use super::rest::action_text;
use super::values::schema_json;
use crate::ir::{
    Action, Capability, Flow, InboundAuth, Input, JsonSeg, ParamType, Placement, RestServer, Route,
    Schema, Shape, Source,
};

/// `info.version` when the spec gives none.
const DEFAULT_VERSION: &str = "0.1.0";

/// The errors the adapter answers with its own JSON body: status, component name, and when.
const ERRORS: &[(u16, &str, &str)] = &[
    (
        400,
        "BadRequest",
        "The input is invalid (missing, of the wrong type, not matching its pattern, or a body that is not JSON); nothing was called.",
    ),
    (
        401,
        "Unauthorized",
        "Missing or invalid credentials; `WWW-Authenticate` names the scheme.",
    ),
    (
        413,
        "PayloadTooLarge",
        "The request body exceeds the server's limit.",
    ),
    (
        415,
        "UnsupportedMediaType",
        "The request body is not `application/json`.",
    ),
    (
        502,
        "BadGateway",
        "The upstream could not be reached, or answered with a body that cannot be used.",
    ),
    (
        503,
        "ServiceUnavailable",
        "Too many requests in flight; retry after `Retry-After` seconds.",
    ),
    (
        504,
        "GatewayTimeout",
        "The upstream did not answer in time.",
    ),
];

/// The OpenAPI 3.1.0 document of REST adapter `r` of `cap`.
pub(crate) fn document(cap: &Capability, r: &RestServer) -> Value {
    let mut used = Used::default();
    let mut paths = Map::new();
    for route in &r.routes {
        let op = operation(cap, r, route, &mut used);
        let item = paths
            .entry(openapi_path(&route.path))
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(route.method.as_str().to_lowercase(), op);
        }
    }
    for f in &r.forwards {
        let item = paths
            .entry(openapi_path(&f.path))
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            forwarded(cap, r, f, item, &mut used);
        }
    }
    let mut doc = Map::new();
    doc.insert("openapi".into(), json!("3.1.0"));
    doc.insert("info".into(), info(cap, r));
    doc.insert("servers".into(), json!([server(r)]));
    let scheme = r.auth.as_ref().map(security_scheme);
    if let Some((name, _)) = &scheme {
        doc.insert("security".into(), json!([{ *name: [] }]));
    }
    let mut tag = Map::new();
    tag.insert("name".into(), json!(r.namespace));
    if let Some(d) = &r.description {
        tag.insert("description".into(), json!(d));
    }
    doc.insert("tags".into(), json!([tag]));
    doc.insert("paths".into(), Value::Object(paths));
    doc.insert("components".into(), used.components(scheme));
    Value::Object(doc)
}

/// A route in OpenAPI's syntax: a pass-through tail (`{*path}`) is written `{path}`.
fn openapi_path(axum: &str) -> String {
    axum.replace("{*", "{")
}

/// The parameter of a pass-through tail (`{*path}`).
fn tail_parameter() -> Value {
    json!({
        "name": "path",
        "in": "path",
        "required": true,
        "description": "The rest of the path, one segment or several (`a/b/c`): appended to the upstream's base URI.",
        "schema": {"type": "string"},
    })
}

/// The methods of a pass-through route's path that no operation takes: each is relayed
/// to the upstream as it is, and its answer relayed back.
fn forwarded(
    cap: &Capability,
    r: &RestServer,
    f: &crate::ir::Forward,
    item: &mut Map<String, Value>,
    used: &mut Used,
) {
    let client = &cap.clients[f.client];
    for method in ["get", "put", "post", "delete", "patch"] {
        if item.contains_key(method) {
            continue;
        }
        let mut op = Map::new();
        op.insert("tags".into(), json!([r.namespace]));
        op.insert(
            "operationId".into(),
            json!(format!("{}-{method}", f.handler.replace('_', "-"))),
        );
        if let Some(l) = &f.label {
            op.insert("summary".into(), json!(l));
        }
        let mut description = f
            .description
            .clone()
            .map(|d| format!("{}\n\n", d.trim()))
            .unwrap_or_default();
        description.push_str(&format!(
            "Pass-through: forwarded to `{}` as it is (path, query, body and the trusted headers), and its answer relayed back.",
            client.namespace
        ));
        op.insert("description".into(), json!(description));
        if f.tail_after.is_some() {
            op.insert("parameters".into(), json!([tail_parameter()]));
        }
        if matches!(method, "put" | "post" | "patch") {
            op.insert(
                "requestBody".into(),
                json!({
                    "description": "Relayed to the upstream as it is, with its media type.",
                    "content": {"*/*": {"schema": {}}},
                }),
            );
        }
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({
                "description": "The upstream's answer, relayed as it is: its status (any), body and media type.",
                "content": {"*/*": {"schema": {}}},
            }),
        );
        for status in [400, 502, 504] {
            let (k, v) = used.error(status, false);
            responses.insert(k, v);
        }
        op.insert("responses".into(), Value::Object(responses));
        item.insert(method.into(), Value::Object(op));
    }
}

/// The components the operations referred to, so that none is left unused.
#[derive(Default)]
struct Used {
    /// (status, with upstream answers) of each error response referred to.
    errors: std::collections::BTreeSet<(u16, bool)>,
}

impl Used {
    /// A `$ref` to the response for `status`; `upstream` when the upstream's own answer
    /// with that status may come instead of the adapter's.
    fn error(&mut self, status: u16, upstream: bool) -> (String, Value) {
        self.errors.insert((status, upstream));
        let name = error_name(status, upstream);
        (
            status.to_string(),
            json!({ "$ref": format!("#/components/responses/{name}") }),
        )
    }

    fn components(self, scheme: Option<(&'static str, Value)>) -> Value {
        let mut schemas = Map::new();
        if !self.errors.is_empty() {
            schemas.insert(
                "Error".into(),
                json!({
                    "type": "object",
                    "description": "An error of this adapter (not of the upstream).",
                    "properties": {
                        "status": {"type": "integer", "description": "The HTTP status."},
                        "error": {"type": "string", "description": "The status's reason phrase."},
                        "message": {"type": "string", "description": "What went wrong."},
                    },
                    "required": ["status", "error", "message"],
                }),
            );
        }
        if self.errors.iter().any(|(_, upstream)| *upstream) {
            schemas.insert(
                "UpstreamBody".into(),
                json!({"description": "The upstream's body, passed through as it was."}),
            );
        }
        let mut responses = Map::new();
        for &(status, upstream) in &self.errors {
            let Some((_, _, when)) = ERRORS.iter().find(|(s, _, _)| *s == status) else {
                continue;
            };
            let schema = if upstream {
                json!({"anyOf": [
                    {"$ref": "#/components/schemas/Error"},
                    {"$ref": "#/components/schemas/UpstreamBody"},
                ]})
            } else {
                json!({"$ref": "#/components/schemas/Error"})
            };
            let mut description = (*when).to_owned();
            if upstream {
                description.push_str(
                    " Or the upstream's own answer with this status, passed through as it was.",
                );
            }
            let mut response = Map::new();
            response.insert("description".into(), json!(description));
            let header = match status {
                401 => Some(("WWW-Authenticate", "The authentication scheme to use.")),
                503 => Some(("Retry-After", "Seconds to wait before retrying.")),
                _ => None,
            };
            if let Some((name, what)) = header {
                response.insert(
                    "headers".into(),
                    json!({ name: {"description": what, "schema": {"type": "string"}} }),
                );
            }
            response.insert(
                "content".into(),
                json!({"application/json": {"schema": schema}}),
            );
            responses.insert(error_name(status, upstream), Value::Object(response));
        }
        let mut out = Map::new();
        if !schemas.is_empty() {
            out.insert("schemas".into(), Value::Object(schemas));
        }
        if !responses.is_empty() {
            out.insert("responses".into(), Value::Object(responses));
        }
        if let Some((name, scheme)) = scheme {
            out.insert("securitySchemes".into(), json!({ name: scheme }));
        }
        Value::Object(out)
    }
}

fn error_name(status: u16, upstream: bool) -> String {
    let base = ERRORS
        .iter()
        .find(|(s, _, _)| *s == status)
        .map_or("Error", |(_, n, _)| n);
    if upstream {
        format!("{base}OrUpstream")
    } else {
        base.to_owned()
    }
}

fn info(cap: &Capability, r: &RestServer) -> Value {
    let title = cap.label.as_deref().unwrap_or(&cap.name);
    let mut parts: Vec<&str> = Vec::new();
    if let Some(d) = &cap.description {
        parts.push(d.trim());
    }
    if let Some(d) = &r.description
        && Some(d.trim()) != parts.first().copied()
        && d != title
    {
        parts.push(d.trim());
    }
    let errors = "Errors of this adapter are JSON objects with `status`, `error` and `message`; \
        a path no route takes answers 404 and a method a path does not take answers 405, with \
        that body. Errors of an upstream pass through as they were: status, media type and body.";
    parts.push(errors);
    json!({
        "title": title,
        "version": cap.version.as_deref().unwrap_or(DEFAULT_VERSION),
        "description": parts.join("\n\n"),
    })
}

/// The address the spec declares (loopback when it declares none).
fn server(r: &RestServer) -> Value {
    let host = match r.address.as_deref() {
        None => "127.0.0.1".to_owned(),
        // A wildcard address is where the server listens, not where callers connect.
        Some("0.0.0.0" | "::" | "[::]") => "localhost".to_owned(),
        Some(a) if a.contains(':') && !a.starts_with('[') => format!("[{a}]"),
        Some(a) => a.to_owned(),
    };
    json!({
        "url": format!("http://{host}:{}", r.port),
        "description": format!("REST adapter `{}` as its spec declares it", r.namespace),
    })
}

fn security_scheme(a: &InboundAuth) -> (&'static str, Value) {
    match a {
        InboundAuth::Bearer(_) => ("bearer", json!({"type": "http", "scheme": "bearer"})),
        InboundAuth::Basic { .. } => ("basic", json!({"type": "http", "scheme": "basic"})),
        InboundAuth::ApiKey {
            name, placement, ..
        } => {
            let at = match placement {
                Placement::Query => "query",
                Placement::Header => "header",
            };
            ("apiKey", json!({"type": "apiKey", "name": name, "in": at}))
        }
    }
}

fn operation(cap: &Capability, r: &RestServer, route: &Route, used: &mut Used) -> Value {
    let mut op = Map::new();
    op.insert("tags".into(), json!([r.namespace]));
    op.insert("operationId".into(), json!(route.name));
    if let Some(l) = &route.label {
        op.insert("summary".into(), json!(l));
    }
    let description = route
        .description
        .clone()
        .unwrap_or_else(|| action_text(cap, &route.flow.action, false));
    op.insert("description".into(), json!(description));
    let mut params = parameters(route);
    // The pass-through tail an operation of a `forward` resource does not read.
    if route.path.contains("{*path}")
        && !params
            .iter()
            .any(|p| p["in"] == "path" && p["name"] == "path")
    {
        params.insert(0, tail_parameter());
    }
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    let body = request_body(&route.flow.inputs);
    let reads_body = body.is_some();
    if let Some(b) = body {
        op.insert("requestBody".into(), b);
    }
    op.insert(
        "responses".into(),
        responses(cap, r, route, reads_body, used),
    );
    Value::Object(op)
}

/// Path, query, header and cookie inputs, once each.
fn parameters(route: &Route) -> Vec<Value> {
    let mut seen: Vec<(&str, String)> = Vec::new();
    let mut out = Vec::new();
    for i in &route.flow.inputs {
        let (at, name) = match &i.source {
            Source::Path(n) => ("path", n),
            Source::Query(n) => ("query", n),
            Source::Header(n) => ("header", n),
            Source::Cookie(n) => ("cookie", n),
            // The runtime reads an argument of a REST route from the path.
            Source::Arg(n) if route.path.contains(&format!("{{{n}}}")) => ("path", n),
            _ => continue,
        };
        // OpenAPI ignores these headers as parameters (content negotiation, security).
        if at == "header"
            && ["accept", "content-type", "authorization"].contains(&name.to_lowercase().as_str())
        {
            continue;
        }
        let key = if at == "header" {
            name.to_lowercase()
        } else {
            name.clone()
        };
        if seen.contains(&(at, key.clone())) {
            continue;
        }
        seen.push((at, key));
        let mut p = Map::new();
        p.insert("name".into(), json!(name));
        p.insert("in".into(), json!(at));
        p.insert("required".into(), json!(at == "path" || i.required));
        if let Some(d) = &i.description {
            p.insert("description".into(), json!(d.trim()));
        }
        if i.ty == Some(ParamType::Object) {
            // An object in text is read as JSON.
            p.insert(
                "content".into(),
                json!({"application/json": {"schema": {"type": "object"}}}),
            );
        } else {
            p.insert("schema".into(), text_schema(i, at == "path"));
        }
        out.push(Value::Object(p));
    }
    out
}

/// The schema of an input read from text (path, query, header, cookie).
fn text_schema(i: &Input, in_path: bool) -> Value {
    match i.ty {
        Some(ParamType::Integer) => json!({"type": "integer", "format": "int64"}),
        Some(ParamType::Number) => json!({"type": "number"}),
        Some(ParamType::Boolean) => json!({"type": "boolean"}),
        Some(ParamType::Array) => json!({"type": "array", "items": {"type": "string"}}),
        _ => {
            let mut s = Map::new();
            s.insert("type".into(), json!("string"));
            // An empty segment never reaches the route (404).
            if in_path {
                s.insert("minLength".into(), json!(1));
            }
            with_pattern(&mut s, i);
            Value::Object(s)
        }
    }
}

/// The runtime matches the whole value; JSON Schema patterns match anywhere.
fn with_pattern(s: &mut Map<String, Value>, i: &Input) {
    if let Some(p) = &i.pattern {
        s.insert("pattern".into(), json!(format!("^(?:{p})$")));
    }
}

/// The schema of an input read from the JSON body.
fn json_schema(i: &Input) -> Map<String, Value> {
    let mut s = Map::new();
    if let Some(t) = i.ty {
        s.insert("type".into(), json!(t.as_str()));
    }
    if i.ty.is_none_or(|t| t == ParamType::String) {
        with_pattern(&mut s, i);
    }
    if let Some(d) = &i.description {
        s.insert("description".into(), json!(d.trim()));
    }
    s
}

/// The JSON body the inputs read: the whole body, and the fields read inside it.
fn request_body(inputs: &[Input]) -> Option<Value> {
    let whole = inputs.iter().find(|i| match &i.source {
        Source::Body => true,
        Source::BodyPath(p) => p.is_empty(),
        _ => false,
    });
    let fields: Vec<(Vec<JsonSeg>, &Input)> = inputs
        .iter()
        .filter_map(|i| match &i.source {
            Source::BodyPath(p) if !p.is_empty() => Some((p.clone(), i)),
            Source::BodyField(n) => Some((vec![JsonSeg::Key(n.clone())], i)),
            _ => None,
        })
        .collect();
    if whole.is_none() && fields.is_empty() {
        return None;
    }
    let mut schema = match whole {
        Some(i) => json_schema(i),
        None => {
            let mut s = Map::new();
            s.insert("type".into(), json!("object"));
            s
        }
    };
    let object = schema.get("type").is_none_or(|t| t == "object");
    if object {
        for (path, i) in &fields {
            put_field(&mut schema, path, json_schema(i), i.required);
        }
    }
    let required = whole.is_some_and(|i| i.required) || fields.iter().any(|(_, i)| i.required);
    Some(json!({
        "required": required,
        "content": {"application/json": {"schema": schema}},
    }))
}

/// Adds the schema of a field at `path` (keys only; indexes and wildcards are left out).
fn put_field(
    schema: &mut Map<String, Value>,
    path: &[JsonSeg],
    leaf: Map<String, Value>,
    required: bool,
) {
    let Some((JsonSeg::Key(k), rest)) = path.split_first() else {
        return;
    };
    if !rest.is_empty() && !rest.iter().all(|s| matches!(s, JsonSeg::Key(_))) {
        return;
    }
    if required {
        let req = schema.entry("required").or_insert_with(|| json!([]));
        if let Value::Array(names) = req
            && !names.iter().any(|n| n == k)
        {
            names.push(json!(k));
        }
    }
    let props = schema.entry("properties").or_insert_with(|| json!({}));
    let Value::Object(props) = props else {
        return;
    };
    if rest.is_empty() {
        props.insert(k.clone(), Value::Object(leaf));
        return;
    }
    let child = props
        .entry(k.clone())
        .or_insert_with(|| json!({"type": "object"}));
    if let Value::Object(child) = child {
        put_field(child, rest, leaf, required);
    }
}

/// What a flow answers on success.
enum Answer<'a> {
    /// The upstream's answer as it was: its 2xx status, body and (for other formats than
    /// JSON) media type.
    Passthrough { json: bool },
    /// A JSON result; `upstream_status` when it keeps the upstream's 2xx status.
    Json {
        upstream_status: bool,
        schema: Option<&'a Schema>,
    },
}

fn answer<'a>(cap: &'a Capability, f: &'a Flow) -> Answer<'a> {
    match &f.action {
        Action::Call {
            call,
            shape: Shape::Whole,
        } => Answer::Passthrough {
            json: cap.clients[call.client].ops[call.op].format.is_json(),
        },
        Action::Call { .. } => Answer::Json {
            upstream_status: true,
            schema: f.schema.as_ref(),
        },
        Action::Mock(_) => Answer::Json {
            upstream_status: false,
            schema: f.schema.as_ref(),
        },
        // Only mapped results are checked against the declared outputs.
        Action::Steps { mappings, .. } => Answer::Json {
            upstream_status: false,
            schema: f
                .schema
                .as_ref()
                .filter(|s| !mappings.is_empty() && matches!(s, Schema::Object(_))),
        },
        Action::Function { function, .. } => answer(cap, &cap.functions[*function].flow),
    }
}

/// Whether a flow calls an upstream (whose errors then pass through).
fn calls_upstream(cap: &Capability, a: &Action) -> bool {
    match a {
        Action::Call { .. } | Action::Steps { .. } => true,
        Action::Mock(_) => false,
        Action::Function { function, .. } => {
            calls_upstream(cap, &cap.functions[*function].flow.action)
        }
    }
}

fn responses(
    cap: &Capability,
    r: &RestServer,
    route: &Route,
    reads_body: bool,
    used: &mut Used,
) -> Value {
    let mut out = Map::new();
    let (status, response) = match answer(cap, &route.flow) {
        Answer::Passthrough { json } => {
            let media = if json { "application/json" } else { "*/*" };
            (
                "2XX",
                json!({
                    "description": "The upstream's answer, passed through as it was (an empty body has no media type).",
                    "content": { media: {"schema": {}} },
                }),
            )
        }
        Answer::Json {
            upstream_status,
            schema,
        } => {
            let schema = schema.map_or_else(|| json!({}), schema_json);
            let (status, description) = if upstream_status {
                ("2XX", "The result, with the upstream's status.")
            } else {
                ("200", "The result.")
            };
            (
                status,
                json!({
                    "description": description,
                    "content": {"application/json": {"schema": schema}},
                }),
            )
        }
    };
    out.insert(status.into(), response);
    let upstream = calls_upstream(cap, &route.flow.action);
    let takes_input = route
        .flow
        .inputs
        .iter()
        .any(|i| !matches!(i.source, Source::Const(_)));
    let statuses = [
        (400, takes_input),
        (401, r.auth.is_some()),
        // Every request's body is read up to the limit, whatever the route.
        (413, true),
        (415, reads_body),
        (502, upstream),
        // Load shedding applies to every route.
        (503, true),
        (504, upstream),
    ];
    for (status, applies) in statuses {
        if applies {
            let (k, v) = used.error(status, upstream);
            out.insert(k, v);
        }
    }
    if upstream {
        out.insert(
            "default".into(),
            json!({"description": "An error of the upstream, passed through as it was: its status, media type and body."}),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
naftiko: 1.0.0-alpha2
info:
  label: Shelf
  description: Books.
  version: 2.1.0
binds:
- namespace: env
  keys:
    SHELF_TOKEN: SHELF_TOKEN
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: https://up.example.com
    resources:
    - name: books
      path: /books/{{id}}
      operations:
      - name: get-book
        method: GET
        inputParameters:
        - name: id
          in: path
          type: string
        - name: limit
          in: query
          type: integer
      - name: lend
        method: POST
        inputParameters:
        - name: id
          in: path
          type: string
        - name: member
          in: body
          type: string
        - name: days
          in: body
          type: integer
  exposes:
  - type: rest
    namespace: shelf-rest
    port: 8181
    description: Shelf REST.
    authentication:
      type: bearer
      token: '{{env.SHELF_TOKEN}}'
    resources:
    - path: /books/{id}
      name: book
      operations:
      - method: GET
        name: get-book
        description: Read a book.
        inputParameters:
        - name: id
          in: path
          type: string
          pattern: '[a-z0-9]+'
          description: The book.
        - name: limit
          in: query
          type: integer
          required: true
        - name: X-Trace
          in: header
          type: string
        call: up.get-book
        with:
          id: $this.shelf-rest.id
          limit: $this.shelf-rest.limit
        outputParameters:
        - type: object
          mapping: $.book
          properties:
            title:
              type: string
              mapping: $.title
      - method: POST
        name: lend
        inputParameters:
        - name: id
          in: path
          type: string
        - name: member
          in: body
          type: string
          required: true
          value: $.member.id
        - name: days
          in: body
          type: integer
          value: $.days
        call: up.lend
        with:
          id: $this.shelf-rest.id
          member: $this.shelf-rest.member
          days: $this.shelf-rest.days
    - path: /hello
      name: hello
      operations:
      - method: GET
        name: hello
        outputParameters:
        - name: greeting
          type: string
          value: hi
"#;

    fn doc() -> Value {
        let project = crate::spec::load_project_str("shelf.yaml", SPEC.into()).unwrap();
        let (cap, _) = crate::validate::check(&project).unwrap_or_else(|d| panic!("{d}"));
        document(&cap, &cap.rest[0])
    }

    #[test]
    fn info_servers_and_security() {
        let d = doc();
        assert_eq!(d["openapi"], "3.1.0");
        assert_eq!(d["info"]["title"], "Shelf");
        assert_eq!(d["info"]["version"], "2.1.0");
        assert!(
            d["info"]["description"]
                .as_str()
                .unwrap()
                .starts_with("Books.")
        );
        assert_eq!(d["servers"][0]["url"], "http://127.0.0.1:8181");
        assert_eq!(d["security"], json!([{"bearer": []}]));
        assert_eq!(
            d["components"]["securitySchemes"]["bearer"],
            json!({"type": "http", "scheme": "bearer"})
        );
    }

    #[test]
    fn parameters_with_types_patterns_and_requiredness() {
        let d = doc();
        let op = &d["paths"]["/books/{id}"]["get"];
        assert_eq!(op["operationId"], "get-book");
        assert_eq!(op["description"], "Read a book.");
        assert_eq!(
            op["parameters"],
            json!([
                {"name": "id", "in": "path", "required": true, "description": "The book.",
                 "schema": {"type": "string", "minLength": 1, "pattern": "^(?:[a-z0-9]+)$"}},
                {"name": "limit", "in": "query", "required": true,
                 "schema": {"type": "integer", "format": "int64"}},
                {"name": "X-Trace", "in": "header", "required": false, "schema": {"type": "string"}},
            ])
        );
    }

    #[test]
    fn body_fields_make_an_object_body() {
        let d = doc();
        let body = &d["paths"]["/books/{id}"]["post"]["requestBody"];
        assert_eq!(body["required"], true);
        assert_eq!(
            body["content"]["application/json"]["schema"],
            json!({
                "type": "object",
                "required": ["member"],
                "properties": {
                    "member": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
                    "days": {"type": "integer"},
                },
            })
        );
    }

    #[test]
    fn results_and_errors_as_the_runtime_answers() {
        let d = doc();
        let get = &d["paths"]["/books/{id}"]["get"]["responses"];
        // A mapped call keeps the upstream's 2xx status; its shape is the declared one.
        assert_eq!(
            get["2XX"]["content"]["application/json"]["schema"]["properties"]["title"],
            json!({"type": ["string", "null"]})
        );
        for status in ["400", "401", "413", "502", "503", "504"] {
            assert!(
                get[status]["$ref"]
                    .as_str()
                    .unwrap()
                    .ends_with("OrUpstream"),
                "{status}"
            );
        }
        assert!(get.get("415").is_none(), "no body, no 415");
        assert!(get["default"]["description"].is_string());
        // The lending route reads the body.
        let post = &d["paths"]["/books/{id}"]["post"]["responses"];
        assert!(post["415"].is_object());
        // A mock answers 200 with its declared shape; no upstream, so no 502/504/default.
        let hello = &d["paths"]["/hello"]["get"]["responses"];
        assert_eq!(
            hello["200"]["content"]["application/json"]["schema"],
            json!({"type": "object", "properties": {"greeting": {"type": ["string", "null"]}}})
        );
        assert_eq!(hello["401"]["$ref"], "#/components/responses/Unauthorized");
        for status in ["400", "502", "504", "default"] {
            assert!(hello.get(status).is_none(), "{status}");
        }
        let errors = &d["components"]["schemas"]["Error"];
        assert_eq!(errors["required"], json!(["status", "error", "message"]));
        assert!(
            d["components"]["responses"]["Unauthorized"]["headers"]["WWW-Authenticate"].is_object()
        );
    }

    #[test]
    fn a_spec_route_on_openapi_json_wins_with_a_warning() {
        let spec = SPEC.replace("path: /hello", "path: /openapi.json");
        let g = crate::generate_str("shelf.yaml", spec).unwrap_or_else(|d| panic!("{d}"));
        assert!(
            g.warnings
                .to_string()
                .contains("`GET /openapi.json` is this spec's own route")
        );
        assert!(
            !g.source
                .contains("naftiko_runtime::openapi::response(OPENAPI)")
        );
        assert!(g.source.contains("pub const OPENAPI: &str"));
        let plain = crate::generate_str("shelf.yaml", SPEC).unwrap();
        assert!(!plain.warnings.to_string().contains("openapi"));
        assert!(
            plain
                .source
                .contains("naftiko_runtime::openapi::response(OPENAPI)")
        );
    }

    #[test]
    fn same_spec_same_bytes() {
        assert_eq!(doc().to_string(), doc().to_string());
    }
}
