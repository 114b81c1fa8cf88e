//! Slow, idle and hostile clients, and shutdown under load: other clients stay served, no
//! connection is held without bound, and no accepted call is lost or sent twice.

mod common;

use std::time::{Duration, Instant};

use naftiko_runtime::testing::{RecordingStub, Reply, StalledStreams};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ACCEPT: &str = "application/json, text/event-stream";

/// A tools/call request body.
fn call(id: u64, tool: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": args}})
}

/// POSTs a JSON-RPC message to the MCP endpoint (stateless: no handshake needed).
async fn mcp_post(http: &reqwest::Client, url: &str, body: &Value) -> reqwest::Response {
    http.post(url)
        .header("content-type", "application/json")
        .header("accept", ACCEPT)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// One REST GET and one MCP call from a fresh client must both succeed within 1 s.
async fn others_are_served(svc: &common::Running) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let r = http
        .get(format!("{}/v1/customers", svc.rest))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = mcp_post(
        &http,
        &svc.mcp,
        &call(
            1,
            "lago-retrieve-customer",
            json!({"external_id": "demo-customer"}),
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["result"]["isError"], false, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "others waited {:?}",
        started.elapsed()
    );
}

/// Reads what the server sends until it closes the connection (or `within` passes, then
/// `None`).
async fn read_until_closed(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Headers of a POST whose body (`Content-Length: 100`) will not arrive.
fn stalled_post(path: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: {ACCEPT}\r\nContent-Length: 100\r\n\r\n{{"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_bodies_take_no_place_over_http1() {
    let svc = common::start(&["--sandbox", "--max-concurrency", "4", "--body-timeout", "2"]);
    // 40 clients send their headers and stall their bodies: more than --max-concurrency.
    let mut stalled = Vec::new();
    for (addr, path) in [(svc.rest_addr, "/v1/customers"), (svc.mcp_addr, "/mcp")] {
        for _ in 0..20 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(stalled_post(path).as_bytes()).await.unwrap();
            stalled.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    others_are_served(&svc).await;
    // The stalled ones get 408 once the body timeout has passed, and are closed.
    for i in [0, 39] {
        let answer = read_until_closed(&mut stalled[i], Duration::from_secs(5))
            .await
            .expect("closed after the body timeout");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_streams_take_no_place_over_http2() {
    let svc = common::start(&[
        "--sandbox",
        "--max-concurrency",
        "4",
        "--body-timeout",
        "2",
        "--max-streams",
        "50",
    ]);
    // Two connections per surface, each with 50 streams whose bodies never arrive.
    let mut held = Vec::new();
    for (addr, path) in [(svc.rest_addr, "/v1/customers"), (svc.mcp_addr, "/mcp")] {
        for _ in 0..2 {
            held.push(StalledStreams::open(addr, path, 50).await.unwrap());
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    others_are_served(&svc).await;
    // Over HTTP/2 too.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let started = Instant::now();
    let r = h2
        .get(format!("{}/v1/customers", svc.rest))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.version()),
        (200, reqwest::Version::HTTP_2)
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    // Each stalled stream is answered 408 once the body timeout has passed.
    let answer = tokio::time::timeout(Duration::from_secs(5), held.remove(0).answers.remove(0))
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(answer, Some(408));
    // The server announces its cap on streams per connection.
    let mut s = TcpStream::connect(svc.rest_addr).await.unwrap();
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let mut head = [0u8; 9];
    s.read_exact(&mut head).await.unwrap();
    assert_eq!(head[3], 0x4, "the server's first frame is SETTINGS");
    let mut settings = vec![0u8; u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize];
    s.read_exact(&mut settings).await.unwrap();
    let max_streams = settings
        .chunks(6)
        .find(|c| u16::from_be_bytes([c[0], c[1]]) == 0x3)
        .map(|c| u32::from_be_bytes([c[2], c[3], c[4], c[5]]));
    assert_eq!(max_streams, Some(50));
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_headers_are_cut_at_the_header_timeout() {
    let svc = common::start(&["--sandbox", "--header-timeout", "1"]);
    let mut slow = Vec::new();
    for addr in [svc.rest_addr, svc.mcp_addr] {
        // HTTP/1: a request line and one header, then nothing.
        for _ in 0..20 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .await
                .unwrap();
            slow.push(s);
        }
        // HTTP/2: the preface, SETTINGS, and a HEADERS frame whose header block never ends
        // (no END_HEADERS, no CONTINUATION).
        for _ in 0..20 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
                .await
                .unwrap();
            s.write_all(b"\x00\x00\x03\x01\x00\x00\x00\x00\x01\x82\x86\x84")
                .await
                .unwrap();
            slow.push(s);
        }
        // And connections that send nothing at all.
        for _ in 0..10 {
            slow.push(TcpStream::connect(addr).await.unwrap());
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    others_are_served(&svc).await;
    // All are closed by the server soon after the header timeout.
    let started = Instant::now();
    for s in &mut slow {
        read_until_closed(s, Duration::from_secs(3))
            .await
            .expect("closed after the header timeout");
    }
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// Sends one request on `s` and reads its answer (headers and a `Content-Length` body).
async fn exchange(s: &mut TcpStream, request: &[u8]) -> String {
    s.write_all(request).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "closed before answering");
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
                return text;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_keep_alive_connections_are_closed() {
    let svc = common::start(&["--sandbox", "--idle-timeout", "1"]);
    let body = call(1, "lago-list-all-customers", json!({})).to_string();
    let mcp = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: {ACCEPT}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    for (addr, request) in [
        (
            svc.rest_addr,
            b"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
        ),
        (svc.mcp_addr, mcp.into_bytes()),
    ] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let answer = exchange(&mut s, &request).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        // Kept alive for another request meanwhile...
        tokio::time::sleep(Duration::from_millis(500)).await;
        let answer = exchange(&mut s, &request).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        // ...and closed once idle for the idle timeout.
        let started = Instant::now();
        read_until_closed(&mut s, Duration::from_secs(3))
            .await
            .expect("closed when idle");
        let waited = started.elapsed();
        assert!(
            waited > Duration::from_millis(700) && waited < Duration::from_millis(2500),
            "{waited:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn descriptor_exhaustion_recovers() {
    let log = common::temp_path("descriptors");
    // 128 descriptors in all (soft and hard), so the limit cannot be raised.
    let svc = common::start_with(
        &["--sandbox", "--idle-timeout", "2", "--header-timeout", "2"],
        &[],
        Some(&log),
        Some("-n 128"),
    );
    // 300 connections that never send a request: more than the service has descriptors.
    let mut idle = Vec::new();
    for addr in [svc.rest_addr, svc.mcp_addr] {
        for _ in 0..150 {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // New clients are served: quiet connections are closed to make room, and time out.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let started = Instant::now();
    let r = http
        .get(format!("{}/v1/customers", svc.rest))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = mcp_post(
        &http,
        &svc.mcp,
        &call(1, "lago-list-all-customers", json!({})),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // Once the idle connections are gone, everyone is served at once.
    drop(idle);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    others_are_served(&svc).await;
    drop(svc);
    let logs = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let exhausted = logs.matches("Too many open files").count();
    assert!(
        exhausted <= 2,
        "{exhausted} lines of descriptor errors:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_soft_descriptor_limit_is_raised() {
    let svc = common::start_with(&["--sandbox"], &[], None, Some("-Sn 200"));
    let pid = svc.service.0.id();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let v: Vec<&str> = line.split_whitespace().collect();
    let (soft, hard) = (v[3], v[4]);
    assert_eq!(soft, hard, "{line}");
    assert_ne!(soft, "200", "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_load_loses_no_call() {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|r| {
        let id = r.json()["customer"]["external_id"].clone();
        Reply::json(200, json!({"customer": {"external_id": id}})).after(Duration::from_millis(800))
    });
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base, "--shutdown-timeout", "10"]);
    let http = reqwest::Client::new();
    let mut calls = Vec::new();
    for i in 0..10 {
        let (client, rest) = (http.clone(), svc.rest.clone());
        calls.push(tokio::spawn(async move {
            let r = client
                .post(format!("{rest}/v1/customers"))
                .json(&json!({"customer": {"external_id": format!("rest-{i}")}}))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status().as_u16();
            let body: Value = r.json().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((status, body["customer"]["external_id"].clone()))
        }));
        let (client, mcp) = (http.clone(), svc.mcp.clone());
        calls.push(tokio::spawn(async move {
            let args = json!({"body": {"customer": {"external_id": format!("mcp-{i}")}}});
            let r = client
                .post(&mcp)
                .header("content-type", "application/json")
                .header("accept", ACCEPT)
                .json(&call(i, "lago-create-customer", args))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status().as_u16();
            let text = r.text().await.map_err(|e| e.to_string())?;
            let body: Value = serde_json::from_str(&text).map_err(|_| text.clone())?;
            if body["result"]["isError"] != false {
                return Err(text);
            }
            Ok((
                status,
                body["result"]["structuredContent"]["customer"]["external_id"].clone(),
            ))
        }));
    }
    // Every call has reached the upstream and is waiting for it: now SIGTERM.
    let started = Instant::now();
    while stub.requests().len() < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "calls never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    common::terminate(&svc);
    let mut answered = Vec::new();
    for c in calls {
        let (status, id) = c.await.unwrap().expect("the call was answered");
        assert_eq!(status, 200);
        answered.push(id.as_str().unwrap().to_owned());
    }
    answered.sort();
    answered.dedup();
    assert_eq!(answered.len(), 20, "each call got its own answer");
    // Each create reached the upstream exactly once.
    let mut sent: Vec<String> = stub
        .requests()
        .iter()
        .map(|r| {
            r.json()["customer"]["external_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    sent.sort();
    assert_eq!(sent.len(), 20);
    sent.dedup();
    assert_eq!(sent.len(), 20, "no create was sent twice");
    // New connections are refused meanwhile, and the process exits cleanly.
    let mut svc = svc;
    let status = svc.service.0.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_do_not_hold_the_shutdown() {
    let svc = common::start(&["--sandbox"]);
    // Idle, slow-header, stalled-body (HTTP/1 and HTTP/2) and kept-alive connections.
    let mut held = vec![TcpStream::connect(svc.rest_addr).await.unwrap()];
    let mut s = TcpStream::connect(svc.rest_addr).await.unwrap();
    s.write_all(b"GET /v1/customers HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    held.push(s);
    let mut stalled = TcpStream::connect(svc.rest_addr).await.unwrap();
    stalled
        .write_all(stalled_post("/v1/customers").as_bytes())
        .await
        .unwrap();
    let mut kept = TcpStream::connect(svc.mcp_addr).await.unwrap();
    let answer = exchange(
        &mut kept,
        b"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    let h2 = StalledStreams::open(svc.mcp_addr, "/mcp", 3).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    common::terminate(&svc);
    let mut svc = svc;
    let status = svc.service.0.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the drain waited {:?} for slow clients",
        started.elapsed()
    );
    // The stalled body was told the server is going away.
    let answer = read_until_closed(&mut stalled, Duration::from_secs(1))
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 503"),
        "{answer}"
    );
    drop((held, h2));
}

#[tokio::test(flavor = "multi_thread")]
async fn open_mcp_sessions_do_not_hold_the_shutdown() {
    let svc = common::start(&["--sandbox", "--mcp-sessions"]);
    // rmcp's client keeps a session, with its event stream open.
    let client = common::mcp_client(&svc.mcp, None).await;
    let r = common::call(&client, "lago-list-all-customers", json!({})).await;
    assert_eq!(r.is_error, Some(false));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    common::terminate(&svc);
    let mut svc = svc;
    let status = svc.service.0.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(client);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shutdown_timeout_bounds_the_drain() {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|_| Reply::json(200, json!({})).after(Duration::from_secs(20)));
    let base = format!("{}/api/v1", stub.url());
    let mut svc = common::start(&["--base-url", &base, "--shutdown-timeout", "1"]);
    let url = format!("{}/v1/customers", svc.rest);
    let _slow = tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status()) });
    while stub.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    common::terminate(&svc);
    svc.service.0.wait().unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_millis(2500),
        "{waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn max_concurrency_applies_to_mcp_calls() {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|_| Reply::json(200, json!({"customers": []})).after(Duration::from_millis(800)));
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base, "--max-concurrency", "2"]);
    let http = reqwest::Client::new();
    let mut calls = Vec::new();
    for id in 0..6u64 {
        let (http, mcp) = (http.clone(), svc.mcp.clone());
        calls.push(tokio::spawn(async move {
            let r = mcp_post(&http, &mcp, &call(id, "lago-list-all-customers", json!({}))).await;
            let status = r.status().as_u16();
            let retry_after = r.headers().get("retry-after").cloned();
            let body: Value = r.json().await.unwrap();
            (id, status, retry_after, body)
        }));
    }
    let mut served = 0;
    let mut shed = 0;
    for c in calls {
        let (id, status, retry_after, body) = c.await.unwrap();
        match status {
            200 => served += 1,
            503 => {
                shed += 1;
                assert_eq!(retry_after.unwrap(), "1");
                // A JSON-RPC error the client can match to its request.
                assert_eq!(body["id"], id, "{body}");
                assert_eq!(body["error"]["code"], -32000, "{body}");
            }
            s => panic!("{s}: {body}"),
        }
    }
    assert!(served >= 1 && shed >= 1, "{served} served, {shed} shed");
    assert!(
        stub.requests().len() <= 2,
        "{} calls ran",
        stub.requests().len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn caller_input_and_bodies_stay_out_of_the_logs() {
    let log = common::temp_path("capped");
    let secret = "Zebulon-Sekritname";
    let svc = common::start_with(&["--sandbox"], &[("RUST_LOG", "trace")], Some(&log), None);
    let http = reqwest::Client::new();
    // A 200 KB tool name, three times: logged (if at all) in a few lines of bounded size.
    let name = "x".repeat(200 * 1024);
    for id in 0..3 {
        let r = mcp_post(&http, &svc.mcp, &call(id, &name, json!({}))).await;
        let body: Value = r.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.len() < 1000, "{} bytes", message.len());
    }
    // Customer data in a call and its result.
    let args = json!({"body": {"customer": {"external_id": "c-logs", "name": secret}}});
    let r = mcp_post(&http, &svc.mcp, &call(9, "lago-create-customer", args)).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(secret));
    drop(svc);
    let logs = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(logs.lines().count() > 10, "trace logs were written");
    assert!(logs.len() < 100 * 1024, "{} bytes of logs", logs.len());
    assert!(
        logs.lines().all(|l| l.len() <= 4200),
        "a log line of {} bytes",
        logs.lines().map(str::len).max().unwrap_or(0)
    );
    assert!(!logs.contains(secret), "a body reached the logs");

    // With --log-bodies, they are logged.
    let svc = common::start_with(
        &["--sandbox", "--log-bodies"],
        &[("RUST_LOG", "debug")],
        Some(&log),
        None,
    );
    let args = json!({"body": {"customer": {"external_id": "c-logs", "name": secret}}});
    let r = mcp_post(&http, &svc.mcp, &call(9, "lago-create-customer", args)).await;
    assert_eq!(r.status(), 200);
    drop(svc);
    let logs = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(logs.contains(secret));
}
