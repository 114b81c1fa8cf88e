//! The MCP server of generated tool registries, on the official Rust SDK (rmcp).
//!
//! Generated code declares its tools as [`ToolSpec`] tables and implements [`ToolSet`];
//! [`Handler`] turns that into an rmcp `ServerHandler`, served over Streamable HTTP
//! ([`http_router`]) or stdio ([`serve_stdio`]).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, Implementation, JsonObject, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, PromptsCapability,
    ReadResourceRequestParams, ReadResourceResponse, ResourcesCapability, ServerCapabilities,
    ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Map, Value, json};

use crate::{BoxFuture, Error, InputSpec, Inputs, Reply, Source, Ty};

mod prompts;
mod resources;

pub use prompts::{PromptArgumentSpec, PromptBody, PromptRole, PromptSpec, render};
pub use resources::{ResourceSource, ResourceSpec, match_uri};

/// One tool, as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct ToolSpec {
    /// The name clients call it by.
    pub name: &'static str,
    /// A human-readable title.
    pub title: &'static str,
    /// What it does, for the model.
    pub description: &'static str,
    /// The `readOnlyHint` annotation: it changes nothing.
    pub read_only: bool,
    /// The `destructiveHint` annotation: it may delete or overwrite.
    pub destructive: bool,
    /// The `idempotentHint` annotation: calling it twice does no more than once.
    pub idempotent: bool,
    /// The `openWorldHint` annotation: it reaches outside systems.
    pub open_world: bool,
    /// Its arguments, checked before the call.
    pub inputs: &'static [InputSpec],
    /// The JSON Schema of the result, as JSON text, when the spec declares its shape. A
    /// result that is not an object is wrapped as `{"result": ...}` in `structuredContent`
    /// (MCP requires an object there), and the schema describes that wrapper.
    pub output_schema: Option<&'static str>,
}

/// How the server introduces itself in `initialize`.
#[derive(Debug, Clone, Copy)]
pub struct ServerSpec {
    /// The server's name (`serverInfo.name`).
    pub name: &'static str,
    /// A human-readable title (`serverInfo.title`).
    pub title: &'static str,
    /// Its version (`serverInfo.version`).
    pub version: &'static str,
    /// How to use the server, for the model (`instructions`; empty for none).
    pub instructions: &'static str,
}

/// A generated tool registry: its tools and their dispatch to typed clients.
pub trait ToolSet: Send + Sync + fmt::Debug + 'static {
    /// How the server introduces itself.
    fn server(&self) -> ServerSpec;
    /// The tools, in spec order.
    fn tools(&self) -> &'static [ToolSpec];
    /// Calls tool number `tool` (an index into [`ToolSet::tools`]) with checked inputs.
    fn call(&self, tool: usize, inputs: Inputs) -> BoxFuture<'_, Result<Reply, Error>>;
    /// The resources of this server, in spec order.
    fn resources(&self) -> &'static [ResourceSpec] {
        &[]
    }
    /// Runs the flow of resource number `resource` (a [`ResourceSource::Result`]) with the
    /// URI's variables as inputs.
    fn read(&self, resource: usize, inputs: Inputs) -> BoxFuture<'_, Result<Reply, Error>> {
        let _ = inputs;
        Box::pin(async move { Err(Error::UnknownTool(resource)) })
    }
    /// The prompts of this server, in spec order.
    fn prompts(&self) -> &'static [PromptSpec] {
        &[]
    }
}

/// The JSON Schema (2020-12) of a tool's arguments. Unknown arguments are refused
/// (`additionalProperties: false`) so that a misspelled optional argument is an error.
pub fn input_schema(inputs: &[InputSpec]) -> JsonObject {
    let mut props = Map::new();
    let mut required = Vec::new();
    for i in inputs {
        let name = match i.source {
            Source::Arg(n) => n,
            _ => i.name,
        };
        let mut p = Map::new();
        let ty = match i.ty {
            Ty::String => Some("string"),
            Ty::Integer => Some("integer"),
            Ty::Number => Some("number"),
            Ty::Boolean => Some("boolean"),
            Ty::Array => Some("array"),
            Ty::Object => Some("object"),
            Ty::Any => None,
        };
        if let Some(t) = ty {
            p.insert("type".into(), json!(t));
        }
        if let Some(d) = i.description {
            p.insert("description".into(), json!(d));
        }
        if let Some(pattern) = i.pattern {
            p.insert("pattern".into(), json!(format!("^(?:{pattern})$")));
        }
        if i.required {
            required.push(json!(name));
        }
        props.insert(name.to_owned(), Value::Object(p));
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    schema
}

/// The rmcp `Tool` for a spec.
pub fn tool(spec: &ToolSpec) -> Tool {
    let mut tool = Tool::new(
        spec.name,
        spec.description,
        Arc::new(input_schema(spec.inputs)),
    );
    if let Some(Value::Object(schema)) = spec
        .output_schema
        .and_then(|s| serde_json::from_str(s).ok())
    {
        tool = tool.with_raw_output_schema(Arc::new(schema));
    }
    tool.with_title(spec.title).with_annotations(
        ToolAnnotations::with_title(spec.title)
            .read_only(spec.read_only)
            .destructive(spec.destructive)
            .idempotent(spec.idempotent)
            .open_world(spec.open_world),
    )
}

/// An rmcp server handler for a generated tool registry. Cheap to clone.
#[derive(Clone)]
pub struct Handler {
    set: Arc<dyn ToolSet>,
    tools: Arc<[Tool]>,
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler")
            .field("tools", &self.tools.len())
            .finish()
    }
}

impl Handler {
    /// A handler serving the tools, resources and prompts of `set`.
    pub fn new(set: impl ToolSet) -> Self {
        let tools = set.tools().iter().map(tool).collect();
        Handler {
            set: Arc::new(set),
            tools,
        }
    }

    /// The tools, as `tools/list` returns them.
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// Calls a tool by name: `None` when there is no such tool.
    ///
    /// Invalid arguments, upstream errors and network faults are tool results with
    /// `isError: true` (the model can read them), never protocol errors.
    pub async fn call(&self, name: &str, args: Option<JsonObject>) -> Option<CallToolResult> {
        self.call_under(name, args, None).await
    }

    /// [`Handler::call`] in an `mcp.tool` span, child of `parent` (the span of the message
    /// that asked for it, when tracing is on).
    pub async fn call_under(
        &self,
        name: &str,
        args: Option<JsonObject>,
        parent: Option<&crate::telemetry::Carried>,
    ) -> Option<CallToolResult> {
        crate::telemetry::tool(name, parent, self.run_tool(name, args), |r| {
            r.as_ref().is_none_or(|r| r.is_error == Some(true))
        })
        .await
    }

    async fn run_tool(&self, name: &str, args: Option<JsonObject>) -> Option<CallToolResult> {
        let index = self.set.tools().iter().position(|t| t.name == name)?;
        let spec = &self.set.tools()[index];
        let inputs = match Inputs::from_args(spec.inputs, args) {
            Ok(i) => i,
            Err(e) => {
                crate::metrics::request("mcp", spec.name, "ERROR", std::time::Duration::ZERO);
                crate::metrics::request_error("mcp", spec.name, "invalid_arguments");
                return Some(CallToolResult::error(vec![ContentBlock::text(format!(
                    "invalid arguments: {e}"
                ))]));
            }
        };
        let started = std::time::Instant::now();
        let result = tool_result(
            self.set.call(index, inputs).await,
            spec.output_schema.is_some(),
        );
        let failed = result.is_error == Some(true);
        crate::metrics::request(
            "mcp",
            spec.name,
            if failed { "ERROR" } else { "OK" },
            started.elapsed(),
        );
        if failed {
            crate::metrics::request_error("mcp", spec.name, "handled_error");
        }
        Some(result)
    }
}

/// The tool result for a flow's result. The JSON goes in a text block (what every client
/// reads) and, as `structuredContent`, objects always and other values wrapped as
/// `{"result": ...}` when the tool declares an output schema.
pub fn tool_result(result: Result<Reply, Error>, typed: bool) -> CallToolResult {
    match result {
        Ok(Reply::Raw(r)) if r.format == crate::formats::Format::Json && one_line(&r.body) => {
            // Passed through: the text block is the upstream's JSON as it came (checked by
            // parsing it for `structuredContent`), not a second serialization of the parsed
            // value, which cost a seventh of a call (bench/instructions.sh). Only JSON on
            // one line: a pretty-printed body is compacted below, as text for a model
            // should be.
            match (r.json(), std::str::from_utf8(&r.body)) {
                (Ok(v @ Value::Object(_)), Ok(text)) => {
                    let mut result =
                        CallToolResult::success(vec![ContentBlock::text(text.trim().to_owned())]);
                    result.structured_content = Some(v);
                    result
                }
                (value, _) => value_result(value, typed),
            }
        }
        Ok(reply) => value_result(reply.into_value(), typed),
        Err(Error::Upstream { status, body, .. }) => {
            // The upstream's own error body, unchanged, so the model sees e.g. Lago's error code.
            match serde_json::from_slice::<Value>(&body) {
                Ok(v @ Value::Object(_)) => CallToolResult::structured_error(v),
                _ => CallToolResult::error(vec![ContentBlock::text(format!(
                    "upstream answered {status}: {}",
                    String::from_utf8_lossy(&body)
                ))]),
            }
        }
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
    }
}

/// The tool result for a flow's result as JSON (see [`tool_result`]).
fn value_result(value: Result<Value, Error>, typed: bool) -> CallToolResult {
    match value {
        Ok(v @ Value::Object(_)) => CallToolResult::structured(v),
        Ok(other) => {
            let text = if other.is_null() {
                String::new()
            } else {
                other.to_string()
            };
            let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
            if typed {
                r.structured_content = Some(json!({ "result": other }));
            }
            r
        }
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
    }
}

/// Whether a JSON body is on one line: no line break or tab anywhere (inside a JSON string
/// they would be escaped, so any there is whitespace between tokens).
fn one_line(body: &[u8]) -> bool {
    !body.is_empty() && memchr::memchr3(b'\n', b'\r', b'\t', body).is_none()
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        let s = self.set.server();
        let mut capabilities = ServerCapabilities::builder().enable_tools().build();
        // Advertised only when there are some, so clients do not ask for empty lists.
        if !self.set.resources().is_empty() {
            capabilities.resources = Some(ResourcesCapability::default());
        }
        if !self.set.prompts().is_empty() {
            capabilities.prompts = Some(PromptsCapability::default());
        }
        let mut info = ServerConfig::new(capabilities)
            .with_server_info(Implementation::new(s.name, s.version).with_title(s.title));
        if !s.instructions.is_empty() {
            info = info.with_instructions(s.instructions);
        }
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let parent = carried(&context);
        match self
            .call_under(&request.name, request.arguments, parent)
            .await
        {
            Some(r) => Ok(r.into()),
            None => Err(McpError::invalid_params(
                // Clipped: the name is the caller's and the SDK logs this error.
                Cow::Owned(format!(
                    "unknown tool `{}`",
                    crate::rest::clip(&request.name)
                )),
                None,
            )),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let set = self.set.clone();
        // Listing walks folders: off the async threads.
        let list = tokio::task::spawn_blocking(move || resources::list(set.resources()))
            .await
            .map_err(|e| McpError::internal_error(format!("Internal error: {e}"), None))?;
        Ok(ListResourcesResult::with_all_items(list))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(self.set.resources()),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        crate::telemetry::under(
            carried(&context),
            resources::read(self.set.as_ref(), &request.uri),
        )
        .await
        .map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(prompts::list(
            self.set.prompts(),
        )))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        crate::telemetry::under(
            carried(&context),
            prompts::get(self.set.prompts(), &request.name, request.arguments),
        )
        .await
        .map(Into::into)
    }
}

/// The span of the HTTP message a request came in (the SDK hands the request's parts on).
fn carried(context: &RequestContext<RoleServer>) -> Option<&crate::telemetry::Carried> {
    context
        .extensions
        .get::<http::request::Parts>()?
        .extensions
        .get::<crate::telemetry::Carried>()
}

/// Settings of the Streamable HTTP endpoint.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Keep per-client sessions (older protocol versions) instead of stateless mode.
    pub sessions: bool,
    /// Host names accepted in `Host` (DNS-rebinding protection); loopback names by default.
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted in `Origin`; loopback origins by default, others get 403.
    pub allowed_origins: Vec<String>,
    /// Largest request body.
    pub max_body: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            sessions: false,
            allowed_hosts: vec![
                "localhost".into(),
                "127.0.0.1".into(),
                "::1".into(),
                "[::1]".into(),
            ],
            allowed_origins: vec![
                "http://localhost:*".into(),
                "http://127.0.0.1:*".into(),
                "http://[::1]:*".into(),
            ],
            max_body: 1024 * 1024,
        }
    }
}

/// An axum router serving `handler` at `/mcp` (Streamable HTTP).
pub fn http_router(
    handler: Handler,
    options: &HttpOptions,
    cancel: tokio_util::sync::CancellationToken,
) -> axum::Router {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(options.sessions)
        .with_json_response(!options.sessions)
        .with_allowed_hosts(options.allowed_hosts.clone())
        .with_allowed_origins(options.allowed_origins.clone())
        .enforce_origin_validation()
        .with_max_request_body_bytes(options.max_body)
        .with_cancellation_token(cancel);
    let service = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let max_body = options.max_body;
    axum::Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn(move |req, next| {
            check_jsonrpc(req, next, max_body)
        }))
}

/// The fields of a JSON-RPC message this layer looks at; the rest is skipped unread.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    jsonrpc: Option<&'a str>,
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
    id: Option<Value>,
    params: Option<Value>,
    result: Option<serde::de::IgnoredAny>,
    error: Option<serde::de::IgnoredAny>,
}

/// The fields of the one JSON-RPC message in `bytes`, or the error code and message that
/// say why it is not one. An object, as every message is, is read once, into the fields
/// looked at; anything else, or an object that does not read, is parsed whole to tell a
/// parse error from an invalid request.
fn read_envelope(bytes: &[u8]) -> Result<Envelope<'_>, (i64, String)> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && let Ok(e) = serde_json::from_slice::<Envelope>(bytes)
    {
        return Ok(e);
    }
    Err(match serde_json::from_slice::<Value>(bytes) {
        _ if bytes.iter().all(u8::is_ascii_whitespace) => {
            (-32700, "Parse error: the request body is empty".to_owned())
        }
        Err(e) => (-32700, format!("Parse error: {e}")),
        Ok(Value::Array(_)) => (
            -32600,
            "Invalid Request: batches are not supported; send one message per request".to_owned(),
        ),
        Ok(Value::Object(_)) => match serde_json::from_slice::<Envelope>(bytes) {
            Err(e) => (-32600, format!("Invalid Request: {e}")),
            // Read above; not reached.
            Ok(_) => (-32600, "Invalid Request".to_owned()),
        },
        Ok(_) => (
            -32600,
            "Invalid Request: a message is a JSON object".to_owned(),
        ),
    })
}

/// The parameter a method cannot do without, for the methods whose parameters the SDK
/// would otherwise refuse as an unknown method (-32601) rather than as invalid (-32602).
fn required_param(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    }
}

/// The -32602 message for a request whose parameters lack what its method needs.
fn missing_params(method: &str, params: Option<&Value>) -> Option<String> {
    let key = required_param(method)?;
    match params {
        None | Some(Value::Null) => Some("Invalid params: missing params".to_owned()),
        Some(Value::Object(p)) => match p.get(key) {
            Some(Value::String(_)) => None,
            Some(_) => Some(format!("Invalid params: {key} must be a string")),
            None => Some(format!("Invalid params: {key} is required")),
        },
        Some(_) => Some("Invalid params: params must be an object".to_owned()),
    }
}

/// Answers a POST whose body is not one JSON-RPC 2.0 message with the JSON-RPC error the
/// specification names (-32700 parse error, -32600 invalid request), as JSON with HTTP
/// 400, instead of the SDK's plain-text 415. Valid messages go on unchanged.
async fn check_jsonrpc(
    req: axum::extract::Request,
    next: axum::middleware::Next,
    max_body: usize,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if req.method() == http::Method::DELETE {
        // The SDK accepts a session's termination with 202; clients (the Python SDK among
        // them) expect 200 or 204 and log anything else as a failure.
        let mut response = next.run(req).await;
        if response.status() == http::StatusCode::ACCEPTED {
            *response.status_mut() = http::StatusCode::NO_CONTENT;
            *response.body_mut() = axum::body::Body::empty();
            response.headers_mut().remove(http::header::CONTENT_LENGTH);
            response.headers_mut().remove(http::header::CONTENT_TYPE);
        }
        return response;
    }
    if req.method() != http::Method::POST {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, max_body).await {
        Ok(b) => b,
        Err(_) => {
            return rpc_error(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                -32600,
                &format!("Invalid Request: the body exceeds {max_body} bytes"),
            );
        }
    };
    let mut carried = None;
    let problem = match read_envelope(&bytes) {
        Err(problem) => Some(problem),
        Ok(e) if e.jsonrpc != Some("2.0") => Some((
            -32600,
            "Invalid Request: `jsonrpc` must be \"2.0\"".to_owned(),
        )),
        Ok(e) if e.method.is_none() && e.result.is_none() && e.error.is_none() => Some((
            -32600,
            "Invalid Request: a message needs a `method` (or is a response)".to_owned(),
        )),
        // A request (it has an id; a notification has none).
        Ok(Envelope {
            id: Some(id),
            method: Some(method),
            params,
            ..
        }) => {
            // Its span, handed to the handler.
            carried = crate::telemetry::mcp_request(&parts.headers, &method);
            // A known method without the parameter it needs.
            if let Some(message) = missing_params(&method, params.as_ref()) {
                let body = json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32602, "message": message}});
                return (
                    [(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    )],
                    body.to_string(),
                )
                    .into_response();
            }
            None
        }
        Ok(_) => None,
    };
    if let Some((code, message)) = problem {
        return rpc_error(http::StatusCode::BAD_REQUEST, code, &message).into_response();
    }
    let mut parts = parts;
    if let Some(c) = &carried {
        parts.extensions.insert(c.clone());
    }
    crate::telemetry::within(
        carried,
        next.run(axum::extract::Request::from_parts(
            parts,
            axum::body::Body::from(bytes),
        )),
    )
    .await
}

fn rpc_error(status: http::StatusCode, code: i64, message: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    (
        status,
        [(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// Serves `handler` over stdin/stdout until the client closes it. Nothing else may write
/// to stdout meanwhile (logs go to stderr).
pub async fn serve_stdio(handler: Handler) -> Result<(), Error> {
    let service = handler
        // Non-blocking when stdin and stdout are pipes (see `serve::run_stdio`).
        .serve(rmcp::transport::stdio_pipes())
        .await
        .map_err(|e| Error::Config(format!("MCP stdio: {e}")))?;
    service
        .waiting()
        .await
        .map_err(|e| Error::Config(format!("MCP stdio: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passed_through(body: &str) -> CallToolResult {
        let r = crate::Response::new(http::StatusCode::OK, body.to_owned());
        tool_result(Ok(Reply::Raw(r)), true)
    }

    fn text(r: &CallToolResult) -> &str {
        r.content[0]
            .as_text()
            .map(|t| t.text.as_str())
            .unwrap_or("")
    }

    #[test]
    fn json_on_one_line_is_the_text_as_sent() {
        let body = r#" {"name": "Ac\u00e9 \"Co\"", "n": 1.50, "big": 123456789012345678901234} "#;
        let r = passed_through(body);
        assert_eq!(text(&r), body.trim());
        assert_eq!(r.is_error, Some(false));
        let s = r.structured_content.unwrap();
        assert_eq!(s["name"], "Acé \"Co\"");
        assert_eq!(s["n"], 1.5);
    }

    #[test]
    fn pretty_printed_json_is_compacted() {
        let r = passed_through("{\n  \"a\": [1,\n 2],\t\"b\": \"x y\"\n}");
        assert_eq!(text(&r), r#"{"a":[1,2],"b":"x y"}"#);
        assert_eq!(r.structured_content.unwrap()["b"], "x y");
    }

    #[test]
    fn a_message_is_read_once_and_what_is_not_one_says_why() {
        let e = read_envelope(
            br#" {"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}"#,
        )
        .unwrap();
        assert_eq!(e.jsonrpc, Some("2.0"));
        assert_eq!(e.method.as_deref(), Some("tools/call"));
        assert_eq!(e.id, Some(json!(7)));
        let code = |b: &[u8]| read_envelope(b).err();
        assert_eq!(
            code(b"  "),
            Some((-32700, "Parse error: the request body is empty".to_owned()))
        );
        assert_eq!(code(br#"{"id": 1,"#).map(|c| c.0), Some(-32700));
        assert_eq!(code(br#"{"id":1} x"#).map(|c| c.0), Some(-32700));
        assert!(code(br#"[{"id":1}]"#).unwrap().1.contains("batches"));
        assert!(
            code(b"42")
                .unwrap()
                .1
                .contains("a message is a JSON object")
        );
        let (c, m) = code(br#"{"jsonrpc":2,"id":1}"#).unwrap();
        assert_eq!(c, -32600);
        assert!(m.starts_with("Invalid Request: invalid type"), "{m}");
        let (c, m) = code(br#"{"id":1,"id":2}"#).unwrap();
        assert_eq!(c, -32600);
        assert!(m.contains("duplicate field"), "{m}");
    }

    #[test]
    fn other_values_and_broken_bodies_keep_their_results() {
        let r = passed_through("[1, 2]");
        assert_eq!(text(&r), "[1,2]");
        assert_eq!(r.structured_content.unwrap(), json!({"result": [1, 2]}));
        let r = passed_through(r#"{"a": "#);
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("not valid JSON"), "{}", text(&r));
        assert!(r.structured_content.is_none());
    }
}
