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
}

/// Starts `lago-customers serve` with `extra` flags and a test API key.
pub fn start(extra: &[&str]) -> Running {
    let (rest_port, mcp_port) = (free_port(), free_port());
    let rest_addr = format!("127.0.0.1:{rest_port}");
    let mcp_addr = format!("127.0.0.1:{mcp_port}");
    let mut args = vec!["serve", "--rest-addr", &rest_addr, "--mcp-addr", &mcp_addr];
    args.extend_from_slice(extra);
    let service = Service::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_lago-customers")),
        &args,
        &[("LAGO_API_KEY", "test-key"), ("LAGO_API_URL", "")],
        &[rest_port, mcp_port],
    );
    Running {
        service,
        rest: format!("http://{rest_addr}"),
        mcp: format!("http://{mcp_addr}/mcp"),
    }
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
