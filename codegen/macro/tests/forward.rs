//! Pass-through routes (`forward`) of a generated REST adapter, over real sockets: a
//! multi-segment tail, the caller's query kept, only trusted headers copied (never a
//! hop-by-hop one), the consumed API's own credentials and rendered header, or the caller's
//! `Authorization` when it has none; bodies of several MB streamed both ways; the upstream's
//! status, body and media type relayed; operations keeping their methods; an unreachable
//! upstream as a JSON 502.

use std::sync::Arc;
use std::time::Duration;

use naftiko_runtime::client::ClientConfig;
use naftiko_runtime::testing::{RecordingStub, Reply, free_port};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod gateway {
    naftiko_codegen_macro::capability!("tests/specs/gateway.yaml");
}

/// A large body, the same bytes on both sides.
fn big(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// An upstream that reads a POST body as it arrives: it tells `first` when the first bytes
/// came, and answers with how many came and whether they are the expected ones. `GET`
/// answers 4 MB.
async fn bulk_upstream(first: Arc<tokio::sync::Notify>) -> String {
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let first = first.clone();
        async move {
            use axum::response::IntoResponse;
            if req.method() == axum::http::Method::GET {
                return ([("content-type", "application/octet-stream")], big(4 << 20))
                    .into_response();
            }
            let content_type = req
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let mut body = req.into_body();
            let mut got = Vec::new();
            while let Some(chunk) = next_data(&mut body).await {
                if got.is_empty() && !chunk.is_empty() {
                    first.notify_one();
                }
                got.extend_from_slice(&chunk);
            }
            let same = got == big(got.len());
            (
                axum::http::StatusCode::CREATED,
                axum::Json(json!({"bytes": got.len(), "same": same, "content_type": content_type})),
            )
                .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// The next data of a body (`None` at its end), without a `futures` dependency.
async fn next_data(body: &mut axum::body::Body) -> Option<axum::body::Bytes> {
    use axum::body::HttpBody as _;
    loop {
        let frame =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_frame(cx)).await?;
        if let Ok(data) = frame.unwrap().into_data() {
            return Some(data);
        }
    }
}

struct Gateway {
    url: String,
    addr: std::net::SocketAddr,
    stub: RecordingStub,
    first_bytes: Arc<tokio::sync::Notify>,
}

/// The adapter served on a real socket: `secured` and `open` go to a recording stub
/// (`secured` elsewhere when given), `bulk` to [`bulk_upstream`].
async fn start_with_secured_at(secured: Option<String>) -> Gateway {
    start(secured, false).await
}

/// With `served`, by the runtime's own server (`serve::bind_all`: request bodies read
/// before routing, within a 1 MiB limit, but pass-through routes streamed); else by
/// `axum::serve`.
async fn start(secured: Option<String>, served: bool) -> Gateway {
    start_guarded(secured, served, None).await
}

/// As [`start`], served by the runtime's server with `rest_token` required of callers when
/// given.
async fn start_guarded(secured: Option<String>, served: bool, rest_token: Option<&str>) -> Gateway {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|r| match r.path.as_str() {
        p if p.starts_with("/v1/") => Reply::json(207, json!({"seen": r.path}))
            .header("content-type", "application/vnd.test+json"),
        _ => Reply::json(404, json!({"error": "no such thing"})),
    });
    let first_bytes = Arc::new(tokio::sync::Notify::new());
    let bulk = bulk_upstream(first_bytes.clone()).await;
    let stub_url = stub.url();
    let secured = secured.unwrap_or_else(|| format!("{stub_url}/v1"));
    let clients = gateway::Clients::with_config(|ns| {
        let base = match ns {
            "secured" => secured.clone(),
            "bulk" => bulk.clone(),
            _ => stub_url.clone(),
        };
        ClientConfig::default()
            .base_url(base)
            .with_var("UPSTREAM_TOKEN", "s3cret")
            .with_var("API_VERSION", "2026-03-03")
    })
    .unwrap();
    let addr = if served {
        let port = free_port();
        let options = naftiko_runtime::serve::ServeOptions {
            rest_addr: Some(format!("127.0.0.1:{port}").parse().unwrap()),
            rest_token: rest_token.map(naftiko_runtime::Secret::new),
            workers: 1,
            ..Default::default()
        };
        let bound = naftiko_runtime::serve::bind_all(gateway::surfaces(&clients), &options)
            .await
            .unwrap();
        let addr = bound.addrs()[0];
        tokio::spawn(bound.serve());
        addr
    } else {
        let router = gateway::gateway::router(clients).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        addr
    };
    Gateway {
        url: format!("http://{addr}"),
        addr,
        stub,
        first_bytes,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn relays_path_query_trusted_headers_and_the_apis_own_credentials() {
    let g = start_with_secured_at(None).await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/secured/items/a%2Fb/c?x=1&y=two%20words", g.url))
        .header("X-Trace", "t-1")
        .header("X-Other", "not trusted")
        .header("X-Hop", "named in Connection")
        .header("Connection", "X-Hop")
        .header("Keep-Alive", "timeout=5")
        .header("Authorization", "Bearer the-callers")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 207);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/vnd.test+json"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"seen": "/v1/items/a%2Fb/c"}));

    let seen = g.stub.requests();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.method, "GET");
    // Several segments, each as the caller encoded it, under the base URI's path.
    assert_eq!(s.path, "/v1/items/a%2Fb/c");
    // The query is kept (the engine drops it).
    assert_eq!(s.query.as_deref(), Some("x=1&y=two%20words"));
    assert_eq!(s.header("x-trace"), Some("t-1"));
    for absent in ["x-other", "x-hop", "keep-alive"] {
        assert_eq!(s.header(absent), None, "{absent} reached the upstream");
    }
    // The consumed API's own credentials replace the caller's; its header is rendered.
    assert_eq!(s.header("authorization"), Some("Bearer s3cret"));
    assert_eq!(s.header("x-api-version"), Some("2026-03-03"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_without_credentials_gets_the_callers() {
    let g = start_with_secured_at(None).await;
    let r = reqwest::Client::new()
        .get(format!("{}/open/things/1", g.url))
        .header("Authorization", "Bearer the-callers")
        .send()
        .await
        .unwrap();
    // The upstream's error status and body, relayed as they are.
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "no such thing"})
    );
    let s = &g.stub.requests()[0];
    assert_eq!(s.path, "/things/1");
    assert_eq!(s.query, None);
    assert_eq!(s.header("authorization"), Some("Bearer the-callers"));
    assert_eq!(s.header("x-api-version"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credential_the_service_checked_is_not_passed_on() {
    // The caller's token is this service's own (--rest-token): an API without credentials
    // of its own must not receive it, even where `Authorization` would be passed on.
    let g = start_guarded(None, true, Some("service-token")).await;
    let http = reqwest::Client::new();
    let refused = http
        .get(format!("{}/open/things/1", g.url))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let r = http
        .get(format!("{}/open/things/1", g.url))
        .header("Authorization", "Bearer service-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let s = &g.stub.requests()[0];
    assert_eq!(s.path, "/things/1");
    assert_eq!(s.header("authorization"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn operations_keep_their_methods() {
    let g = start_with_secured_at(None).await;
    let r = reqwest::Client::new()
        .delete(format!("{}/secured/items/1", g.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"served": "by-operation"})
    );
    assert!(g.stub.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn paths_that_climb_are_refused() {
    let g = start_with_secured_at(None).await;
    // Sent by hand: an HTTP client library would remove the dot segments itself.
    for path in [
        "/secured/items/%2e%2e/%2e%2e/admin",
        "/secured/items/../../admin",
    ] {
        let mut tcp = tokio::net::TcpStream::connect(g.addr).await.unwrap();
        let head = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
    }
    assert!(g.stub.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_upstream_is_a_json_502() {
    let closed = format!("http://127.0.0.1:{}/v1", free_port());
    let g = start_with_secured_at(Some(closed)).await;
    let r = reqwest::Client::new()
        .get(format!("{}/secured/items", g.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 502);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("secured.forward"), "{message}");
    // No credential in what the caller reads.
    assert!(!message.contains("s3cret"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn request_and_response_bodies_are_streamed() {
    streamed_both_ways(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_runtime_server_streams_pass_through_bodies_only() {
    streamed_both_ways(true).await;
    // An operation's body is still read first, within the server's limit.
    let g = start(None, true).await;
    let r = reqwest::Client::new()
        .delete(format!("{}/secured/items/1", g.url))
        .body(big(2 << 20))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

/// Sends `POST /bulk/upload` by hand: the head and the first MB, then the rest only once
/// the upstream has seen the first bytes. A proxy that read the whole body before calling
/// the upstream would never get the rest: the exchange would hang.
async fn streamed_both_ways(served: bool) {
    let g = start(None, served).await;
    let body = big(6 << 20);
    let mut tcp = tokio::net::TcpStream::connect(g.addr).await.unwrap();
    let head = format!(
        "POST /bulk/upload HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        g.addr,
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&body[..1 << 20]).await.unwrap();
    tcp.flush().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), g.first_bytes.notified())
        .await
        .expect("the upstream got the first bytes before the caller sent the rest");
    tcp.write_all(&body[1 << 20..]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut answer))
        .await
        .expect("an answer")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let json_start = answer.find("\r\n\r\n").unwrap() + 4;
    let got: Value = serde_json::from_str(answer[json_start..].trim()).unwrap();
    assert_eq!(
        got,
        json!({"bytes": 6 << 20, "same": true, "content_type": "application/octet-stream"})
    );

    // And back: 4 MB from the upstream, the same bytes, length and media type.
    let r = reqwest::Client::new()
        .get(format!("{}/bulk/download", g.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/octet-stream"
    );
    assert_eq!(
        r.headers()["content-length"].to_str().unwrap(),
        (4 << 20).to_string()
    );
    let bytes = r.bytes().await.unwrap();
    assert!(bytes[..] == big(4 << 20)[..]);
}

#[test]
fn the_openapi_document_describes_the_pass_through() {
    let doc: Value = serde_json::from_str(gateway::gateway::OPENAPI).unwrap();
    let item = &doc["paths"]["/secured/{path}"];
    // The operation keeps DELETE; the other methods are relayed.
    assert_eq!(item["delete"]["operationId"], "refuse-delete");
    assert_eq!(item["delete"]["parameters"][0]["name"], "path");
    for m in ["get", "put", "post", "patch"] {
        assert_eq!(
            item[m]["operationId"],
            format!("forward-secured-{m}"),
            "{m}"
        );
        assert_eq!(item[m]["parameters"][0]["in"], "path");
    }
    assert!(doc["paths"]["/open/{path}"]["get"].is_object());
    assert_eq!(gateway::gateway::ROUTES, 4);
}
