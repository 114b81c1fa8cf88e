//! A bare rmcp 3.11 MCP server: the yardstick of bench/mcp_modes.sh.
//!
//! Two tools, `lago-retrieve-customer` (`{"external_id": ...}`) and `lago-list-all-customers`
//! (`{}`), each one GET to the upstream with one shared reqwest client, the body parsed as
//! JSON and returned as structured content. Nothing else: no input checks, no metrics, no
//! tracing, no extra HTTP layers. What lago-customers spends on top of this is ours.
//!
//! usage: bench-minmcp MODE BASE_URL [ADDR]
//!   MODE      http          Streamable HTTP at ADDR/mcp, stateless, JSON answers (the
//!                           StreamableHttpServerConfig lago-customers' http_router sets)
//!             sessions      Streamable HTTP at ADDR/mcp with sessions and SSE answers
//!                           (lago-customers `serve --mcp-sessions`)
//!             stdio         rmcp::transport::stdio() (tokio's blocking-pool stdin/stdout)
//!             stdio-pipes   rmcp::transport::stdio_pipes() (non-blocking pipes when both
//!                           standard streams are FIFOs)
//!             stdio-filter  stdio(), through lago-customers' line filter (run_stdio: two
//!                           tokio duplex pipes and two copy tasks), to price that filter
//!             stdio-filter-pipes  the same filter over stdio_pipes()
//!   BASE_URL  the upstream API, e.g. http://127.0.0.1:4110/api/v1
//!   ADDR      where the HTTP modes listen (default 127.0.0.1:4650)
//! It runs on tokio's default multi-threaded runtime (one worker per core), as
//! `lago-customers mcp-stdio` does. With env PER_CORE=N the HTTP modes run instead as
//! lago-customers serves HTTP (codegen/runtime/src/workers.rs): N threads, each with its own
//! single-threaded runtime, listener (SO_REUSEPORT) and reqwest connection pool, all sharing
//! one StreamableHttpService (so one session table: a session's task stays on the thread
//! whose runtime took its `initialize`).

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};

#[derive(Clone)]
struct Bare {
    http: reqwest::Client,
    base: Arc<str>,
    tools: Arc<[Tool]>,
}

impl Bare {
    fn new(base: &str) -> Self {
        let schema = |v: Value| match v {
            Value::Object(o) => Arc::new(o),
            _ => Arc::new(JsonObject::new()),
        };
        let tools = vec![
            Tool::new(
                "lago-retrieve-customer",
                "Retrieve a customer",
                schema(json!({"type": "object",
                    "properties": {"external_id": {"type": "string"}},
                    "required": ["external_id"]})),
            ),
            Tool::new(
                "lago-list-all-customers",
                "List all customers",
                schema(json!({"type": "object", "properties": {}})),
            ),
        ];
        Bare {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').into(),
            tools: tools.into(),
        }
    }

    async fn get(&self, url: String) -> CallToolResult {
        let answer = match self.http.get(url).send().await {
            Ok(r) => r.bytes().await,
            Err(e) => Err(e),
        };
        match answer
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => CallToolResult::structured(v),
            Err(e) => CallToolResult::error(vec![ContentBlock::text(e)]),
        }
    }
}

impl ServerHandler for Bare {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("bench-minmcp", "0.1.0"))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let url = match &*request.name {
            "lago-retrieve-customer" => {
                let id = request
                    .arguments
                    .as_ref()
                    .and_then(|a| a.get("external_id"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                format!("{}/customers/{id}", self.base)
            }
            "lago-list-all-customers" => format!("{}/customers", self.base),
            _ => return Err(McpError::invalid_params("unknown tool", None)),
        };
        Ok(self.get(url).await.into())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bench-minmcp http|sessions|stdio|stdio-pipes|stdio-filter|stdio-filter-pipes BASE_URL [ADDR]";
    let (Some(mode), Some(base)) = (args.next(), args.next()) else {
        return Err(usage.into());
    };
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:4650".into());
    if let (Some(n), "http" | "sessions") = (per_core(), mode.as_str()) {
        return serve_per_core(Bare::new(&base), &addr, mode == "sessions", n);
    }
    tokio::runtime::Runtime::new()?.block_on(async move {
        let bare = Bare::new(&base);
        match mode.as_str() {
            "http" => serve_http(bare, &addr, false).await,
            "sessions" => serve_http(bare, &addr, true).await,
            "stdio" => serve_io(bare, rmcp::transport::stdio()).await,
            "stdio-pipes" => serve_io(bare, rmcp::transport::stdio_pipes()).await,
            "stdio-filter" => {
                let (i, o) = rmcp::transport::stdio();
                serve_filtered(bare, i, o).await
            }
            "stdio-filter-pipes" => {
                let (i, o) = rmcp::transport::stdio_pipes();
                serve_filtered(bare, i, o).await
            }
            _ => Err(usage.into()),
        }
    })
}

fn per_core() -> Option<usize> {
    std::env::var("PER_CORE").ok()?.parse().ok()
}

/// The Streamable HTTP endpoint, configured as lago-customers' `mcp::http_router` does it.
fn router(bare: Bare, sessions: bool, per_thread_pool: bool) -> axum::Router {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(sessions)
        .with_json_response(!sessions);
    let service = StreamableHttpService::new(
        move || {
            let mut b = bare.clone();
            if per_thread_pool {
                // The pool of the thread the handler is made on (as lago-customers' workers).
                thread_local! {
                    static POOL: reqwest::Client = reqwest::Client::new();
                }
                b.http = POOL.with(Clone::clone);
            }
            Ok(b)
        },
        Arc::new(LocalSessionManager::default()),
        config,
    );
    axum::Router::new().nest_service("/mcp", service)
}

async fn listen(
    addr: &str,
    app: axum::Router,
    reuse_port: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.set_reuseaddr(true)?;
    sock.set_reuseport(reuse_port)?;
    sock.bind(addr.parse()?)?;
    let listener = axum::serve::ListenerExt::tap_io(sock.listen(1024)?, |t| {
        let _ = t.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}

async fn serve_http(
    bare: Bare,
    addr: &str,
    sessions: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    listen(addr, router(bare, sessions, false), false).await
}

fn serve_per_core(
    bare: Bare,
    addr: &str,
    sessions: bool,
    n: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let app = router(bare, sessions, true);
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (app, addr) = (app.clone(), addr.to_owned());
            std::thread::spawn(move || -> Result<(), String> {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?
                    .block_on(listen(&addr, app, true))
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "a worker panicked")??;
    }
    Ok(())
}

async fn serve_io<R, W>(bare: Bare, io: (R, W)) -> Result<(), Box<dyn std::error::Error>>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    bare.serve(io).await?.waiting().await?;
    Ok(())
}

/// The shape of lago-customers' `serve::run_stdio`: the SDK talks to two in-memory duplex
/// pipes, and two tasks copy lines between them and the real streams (checking UTF-8 on
/// the way in, flushing after every line on the way out).
async fn serve_filtered<R, W>(
    bare: Bare,
    input: R,
    output: W,
) -> Result<(), Box<dyn std::error::Error>>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (sdk_in, mut lines_in) = tokio::io::duplex(64 * 1024);
    let (lines_out, sdk_out) = tokio::io::duplex(64 * 1024);
    let reader = tokio::spawn(async move {
        let mut input = BufReader::new(input);
        let mut line = Vec::new();
        loop {
            line.clear();
            match input.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if std::str::from_utf8(&line).is_ok() && lines_in.write_all(&line).await.is_err() {
                return;
            }
        }
    });
    let writer = tokio::spawn(async move {
        let mut sdk = BufReader::new(lines_out);
        let mut output = output;
        let mut line = Vec::new();
        loop {
            match sdk.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if output.write_all(&line).await.is_err() || output.flush().await.is_err() {
                        return;
                    }
                    line.clear();
                }
            }
        }
        let _ = output.flush().await;
    });
    let result = serve_io(bare, (sdk_in, sdk_out)).await;
    reader.abort();
    let _ = writer.await;
    result
}
