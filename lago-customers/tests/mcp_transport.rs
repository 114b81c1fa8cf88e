//! The Streamable HTTP transport as the MCP spec requires it: protocol versions, Origin and
//! Host checks, stateless mode, and an optional bearer token.

mod common;

use rmcp::model::ProtocolVersion;
use serde_json::{Value, json};

const ACCEPT: &str = "application/json, text/event-stream";

async fn post(url: &str, headers: &[(&str, &str)], body: Value) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", ACCEPT);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.json(&body).send().await.unwrap()
}

fn initialize(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_origin_host_and_stateless_mode() {
    let svc = common::start(&["--sandbox"]);
    // Handshake-era versions are negotiated as asked; an unknown one gets the server's.
    for v in ["2025-06-18", "2025-11-25"] {
        let r = post(&svc.mcp, &[], initialize(v)).await;
        assert_eq!(r.status(), 200);
        // Stateless: no session to remember, so any replica can answer the next request.
        assert!(r.headers().get("mcp-session-id").is_none());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["result"]["protocolVersion"], v);
        // The server is named after its namespace, as the reference engine names it.
        assert_eq!(body["result"]["serverInfo"]["name"], "lago-customers-mcp");
        assert!(body["result"]["capabilities"]["tools"].is_object());
    }
    let r = post(&svc.mcp, &[], initialize("2024-01-01")).await;
    let body: Value = r.json().await.unwrap();
    assert_ne!(body["result"]["protocolVersion"], "2024-01-01");
    // A request naming an unsupported version in its header is refused.
    let r = post(
        &svc.mcp,
        &[("mcp-protocol-version", "1999-01-01")],
        json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
    )
    .await;
    assert_eq!(r.status(), 400);
    // DNS rebinding: a foreign Origin or Host is refused with a 4xx.
    let r = post(
        &svc.mcp,
        &[("origin", "http://evil.example.com")],
        initialize("2025-06-18"),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = post(
        &svc.mcp,
        &[("host", "evil.example.com")],
        initialize("2025-06-18"),
    )
    .await;
    assert!(r.status().is_client_error(), "{}", r.status());
    // A local browser origin is fine.
    let port = svc.mcp.split(':').nth(2).unwrap().trim_end_matches("/mcp");
    let r = post(
        &svc.mcp,
        &[("origin", &format!("http://localhost:{port}"))],
        initialize("2025-06-18"),
    )
    .await;
    assert_eq!(r.status(), 200);
    // No server-to-client stream in stateless mode: a clean 405.
    let r = reqwest::Client::new()
        .get(&svc.mcp)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test(flavor = "multi_thread")]
async fn bearer_token_for_inbound_calls() {
    let svc = common::start(&["--sandbox", "--mcp-token", "s3cret-token"]);
    for auth in [None, Some("Bearer wrong"), Some("Basic s3cret-token")] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", *a)).collect();
        let r = post(&svc.mcp, &headers, initialize("2025-06-18")).await;
        assert_eq!(r.status(), 401, "{auth:?}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
    }
    let r = post(
        &svc.mcp,
        &[("authorization", "Bearer s3cret-token")],
        initialize("2025-06-18"),
    )
    .await;
    assert_eq!(r.status(), 200);
    // rmcp's client with the token, newest protocol version.
    let transport = rmcp::transport::StreamableHttpClientTransport::from_config(
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            svc.mcp.clone(),
        )
        .auth_header("s3cret-token"),
    );
    use rmcp::ServiceExt;
    let client = rmcp::model::ClientConfig::new(
        Default::default(),
        rmcp::model::Implementation::new("t", "1"),
    )
    .with_protocol_version(ProtocolVersion::LATEST)
    .serve(transport)
    .await
    .unwrap();
    assert_eq!(client.list_all_tools().await.unwrap().len(), 9);
    client.cancel().await.unwrap();
    // REST stays open unless --rest-token is given.
    let r = reqwest::get(format!("{}/v1/customers", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn tools_describe_themselves() {
    let svc = common::start(&["--sandbox"]);
    let client = common::mcp_client(&svc.mcp, Some(ProtocolVersion::V_2025_11_25)).await;
    let tools = client.list_all_tools().await.unwrap();
    for t in &tools {
        let a = t.annotations.as_ref().expect("annotations");
        assert_eq!(a.open_world_hint, Some(true), "{}", t.name);
        assert!(t.title.as_deref().is_some_and(|s| !s.is_empty()));
        assert!(t.description.as_deref().is_some_and(|s| !s.is_empty()));
        assert_eq!(t.input_schema["type"], "object");
        assert_eq!(t.input_schema["additionalProperties"], false);
    }
    let by_name = |n: &str| tools.iter().find(|t| t.name == n).unwrap();
    let past = by_name("lago-retrieve-customer-past-usage");
    assert_eq!(
        past.input_schema["required"],
        json!(["external_customer_id", "external_subscription_id"])
    );
    assert_eq!(
        past.input_schema["properties"]["periods_count"]["type"],
        "integer"
    );
    let delete = by_name("lago-delete-customer").annotations.clone().unwrap();
    assert_eq!(
        (
            delete.read_only_hint,
            delete.destructive_hint,
            delete.idempotent_hint
        ),
        (Some(false), Some(true), Some(true))
    );
    let list = by_name("lago-list-all-customers")
        .annotations
        .clone()
        .unwrap();
    assert_eq!(
        (list.read_only_hint, list.destructive_hint),
        (Some(true), Some(false))
    );
    let create = by_name("lago-create-customer");
    assert_eq!(create.input_schema["properties"]["body"]["type"], "object");
    assert_eq!(
        create.annotations.as_ref().unwrap().idempotent_hint,
        Some(false)
    );
    // The path parameter the seed binds implicitly is a required, described argument.
    let retrieve = by_name("lago-retrieve-customer");
    assert_eq!(retrieve.input_schema["required"], json!(["external_id"]));
    assert!(retrieve.input_schema["properties"]["external_id"]["description"].is_string());
    // Unknown tools are protocol errors, as the spec says.
    let err = client
        .call_tool(rmcp::model::CallToolRequestParams::new("no-such-tool"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown tool"), "{err}");
    client.cancel().await.unwrap();
}
