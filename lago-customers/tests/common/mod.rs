//! Starting the built service and talking to it.

#![allow(dead_code)]

use naftiko_runtime::testing::{Service, free_port};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
    ProtocolVersion,
};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

pub struct Running {
    pub service: Service,
    pub rest: String,
    pub mcp: String,
    pub rest_addr: std::net::SocketAddr,
    pub mcp_addr: std::net::SocketAddr,
}

/// The service binary under test: the one cargo built with these tests, or the one
/// `LAGO_CUSTOMERS_BIN` names (to run the same tests against another build, an older one).
pub fn bin() -> std::path::PathBuf {
    std::env::var_os("LAGO_CUSTOMERS_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_lago-customers").into())
}

/// Starts `lago-customers serve` with `extra` flags and a test API key.
pub fn start(extra: &[&str]) -> Running {
    start_with(extra, &[], None, None)
}

/// Like [`start`], with more environment, the logs (stderr) written to `log`, and the
/// process's open-file limit set by `ulimit` with these arguments (`-n 128`: soft and
/// hard; `-Sn 128`: soft) before it starts.
pub fn start_with(
    extra: &[&str],
    env: &[(&str, &str)],
    log: Option<&std::path::Path>,
    ulimit: Option<&str>,
) -> Running {
    let (rest_port, mcp_port) = (free_port(), free_port());
    let rest_addr = format!("127.0.0.1:{rest_port}");
    let mcp_addr = format!("127.0.0.1:{mcp_port}");
    let bin = bin();
    let bin = bin.to_str().expect("a UTF-8 path");
    let limit;
    let mut args = Vec::new();
    let program = match ulimit {
        Some(u) => {
            limit = format!("ulimit {u} && exec \"$0\" \"$@\"");
            args.extend(["-c", limit.as_str(), bin]);
            "/bin/sh"
        }
        None => bin,
    };
    args.extend(["serve", "--rest-addr", &rest_addr, "--mcp-addr", &mcp_addr]);
    args.extend_from_slice(extra);
    let mut vars = vec![("LAGO_API_KEY", "test-key"), ("LAGO_API_URL", "")];
    vars.extend_from_slice(env);
    let stderr = match log {
        Some(path) => std::fs::File::create(path).expect("a log file").into(),
        None => std::process::Stdio::inherit(),
    };
    let service = Service::start_logging_to(
        std::path::Path::new(program),
        &args,
        &vars,
        &[rest_port, mcp_port],
        stderr,
    );
    Running {
        service,
        rest: format!("http://{rest_addr}"),
        mcp: format!("http://{mcp_addr}/mcp"),
        rest_addr: rest_addr.parse().unwrap(),
        mcp_addr: mcp_addr.parse().unwrap(),
    }
}

/// Sends SIGTERM to the service.
pub fn terminate(running: &Running) {
    let pid = running.service.0.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// A temporary file path for this test process.
pub fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("lago-{name}-{}.log", std::process::id()))
}

/// An MCP client over Streamable HTTP, negotiating `version` (rmcp's default when `None`).
pub async fn mcp_client(
    url: &str,
    version: Option<ProtocolVersion>,
) -> RunningService<RoleClient, ClientConfig> {
    let mut info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("lago-e2e", "1"),
    );
    if let Some(v) = version {
        info = info.with_protocol_version(v);
    }
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.to_owned());
    info.serve(transport).await.expect("MCP client connects")
}

/// Calls a tool with JSON arguments.
pub async fn call(
    client: &RunningService<RoleClient, ClientConfig>,
    tool: &str,
    args: Value,
) -> CallToolResult {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    client.call_tool(params).await.expect("tools/call answers")
}

/// The text of a tool result's first content block.
pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}
