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
    // The scheme is case-insensitive (RFC 9110), the token is not.
    for auth in [
        "Bearer s3cret-token",
        "bearer s3cret-token",
        "BEARER s3cret-token",
    ] {
        let r = post(
            &svc.mcp,
            &[("authorization", auth)],
            initialize("2025-06-18"),
        )
        .await;
        assert_eq!(r.status(), 200, "{auth}");
    }
    let r = post(
        &svc.mcp,
        &[("authorization", "Bearer S3CRET-TOKEN")],
        initialize("2025-06-18"),
    )
    .await;
    assert_eq!(r.status(), 401);
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

/// Sends `request` on `s` and reads one answer (headers and a `Content-Length` body);
/// `None` when the server closes the connection first.
async fn exchange(s: &mut tokio::net::TcpStream, request: &[u8]) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(request).await.ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("an answer")
            .ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= len {
                return Some(text);
            }
        }
    }
}

fn raw_post(target: &str, host: Option<&str>, extra: &str, body: &str) -> Vec<u8> {
    let host = host.map(|h| format!("Host: {h}\r\n")).unwrap_or_default();
    format!(
        "POST {target} HTTP/1.1\r\n{host}Content-Type: application/json\r\nAccept: {ACCEPT}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_must_name_its_host() {
    let svc = common::start(&["--sandbox"]);
    let authority = svc.mcp_addr.to_string();
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    // An absolute URI without a Host header is refused like a foreign host.
    let mut s = tokio::net::TcpStream::connect(svc.mcp_addr).await.unwrap();
    let answer = exchange(
        &mut s,
        &raw_post(&format!("http://{authority}/mcp"), None, "", &ping),
    )
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    // So is a request without either.
    let mut s = tokio::net::TcpStream::connect(svc.mcp_addr).await.unwrap();
    let answer = exchange(&mut s, &raw_post("/mcp", None, "", &ping))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    // With the Host header, it is answered.
    let mut s = tokio::net::TcpStream::connect(svc.mcp_addr).await.unwrap();
    let answer = exchange(&mut s, &raw_post("/mcp", Some(&authority), "", &ping))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_calls_keep_the_connection_alive() {
    let svc = common::start(&["--sandbox", "--mcp-token", "s3cret-token"]);
    let authority = svc.mcp_addr.to_string();
    let body = initialize("2025-06-18").to_string();
    let mut s = tokio::net::TcpStream::connect(svc.mcp_addr).await.unwrap();
    // Twenty refused calls with bodies on one keep-alive connection, each body arriving a
    // moment after its headers: each is answered 401, and the connection stays open for
    // the next (or says `Connection: close`).
    for i in 0..20 {
        let request = raw_post(
            "/mcp",
            Some(&authority),
            "Authorization: Bearer wrong\r\n",
            &body,
        );
        let split = request.len() - body.len();
        use tokio::io::AsyncWriteExt;
        let sent = s.write_all(&request[..split]).await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        let answer = match sent {
            Ok(()) => exchange(&mut s, &request[split..]).await,
            Err(_) => None,
        }
        .unwrap_or_else(|| panic!("closed without an answer at call {i}"));
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        assert!(
            !answer.to_ascii_lowercase().contains("connection: close"),
            "closed after call {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_answers_a_message_that_is_not_utf8() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let mut child = tokio::process::Command::new(common::bin())
        .args(["mcp-stdio", "--sandbox"])
        .env("LAGO_API_URL", "")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let init = initialize("2025-06-18").to_string();
    stdin
        .write_all(format!("{init}\n").as_bytes())
        .await
        .unwrap();
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n")
        .await
        .unwrap();
    // A request with a byte that is not UTF-8, then a good one.
    stdin
        .write_all(
            b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":{\"x\":\"\xff\xfe\"}}\n",
        )
        .await
        .unwrap();
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\n")
        .await
        .unwrap();
    let mut answers = std::collections::HashMap::new();
    while answers.len() < 3 {
        let line = tokio::time::timeout(std::time::Duration::from_secs(5), stdout.next_line())
            .await
            .expect("every request is answered")
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        answers.insert(v["id"].to_string(), v);
    }
    assert_eq!(answers["2"]["error"]["code"], -32700, "{:?}", answers["2"]);
    assert_eq!(answers["3"]["result"], json!({}));
    drop(stdin);
    let _ = child.wait().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_terminated_session_gets_204() {
    let svc = common::start(&["--sandbox", "--mcp-sessions"]);
    let r = post(&svc.mcp, &[], initialize("2025-06-18")).await;
    assert_eq!(r.status(), 200);
    let session = r
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .expect("a session id")
        .to_owned();
    // What the Python SDK treats as success (it logs "Session termination failed: 202").
    let r = reqwest::Client::new()
        .delete(&svc.mcp)
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.bytes().await.unwrap().is_empty());
    // The session is gone.
    let r = post(
        &svc.mcp,
        &[("mcp-session-id", &session)],
        json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
    )
    .await;
    assert_eq!(r.status(), 404);
}
