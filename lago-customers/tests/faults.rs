//! A misbehaving upstream and too many callers: statuses, retry counts (none for POST),
//! and bounded wall time.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use naftiko_runtime::testing::{RecordingStub, Reply};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers `first` for the first `n` requests, then 200.
fn burst(stub: &RecordingStub, n: usize, first: impl Fn() -> Reply + Send + Sync + 'static) {
    let count = Arc::new(AtomicUsize::new(0));
    stub.respond(move |_| {
        if count.fetch_add(1, Ordering::SeqCst) < n {
            first()
        } else {
            Reply::json(200, json!({"customers": [], "meta": {}}))
        }
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_only_what_is_safe_to_repeat() {
    let stub = RecordingStub::start().await.unwrap();
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base]);
    let http = reqwest::Client::new();

    // A 503 burst on a GET: retried, and the caller sees the final 200.
    burst(&stub, 2, || {
        Reply::json(503, json!({"status": 503, "error": "Service Unavailable"}))
    });
    let r = http
        .get(format!("{}/v1/customers", svc.rest))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(stub.requests().len(), 3);

    // Attempts are bounded: a lasting 502 comes back after 3 tries.
    stub.clear();
    stub.respond(|_| Reply::json(502, json!({"status": 502, "error": "Bad Gateway"})));
    let r = http
        .get(format!("{}/v1/customers", svc.rest))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(stub.requests().len(), 3);

    // A create is never sent twice, whatever the upstream says.
    for status in [503, 502, 429] {
        stub.clear();
        stub.respond(move |_| Reply::json(status, json!({"status": status})));
        let r = http
            .post(format!("{}/v1/customers", svc.rest))
            .json(&json!({"customer": {"external_id": "c"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status);
        assert_eq!(stub.requests().len(), 1, "POST after {status}");
    }
    // Nor a checkout URL.
    stub.clear();
    let r = http
        .post(format!("{}/v1/customers/c/checkout-url", svc.rest))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(stub.requests().len(), 1);

    // A 500 is not one of the retried statuses.
    stub.clear();
    stub.respond(|_| Reply::json(500, json!({"status": 500})));
    let r = http
        .get(format!("{}/v1/customers/c", svc.rest))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_honoured() {
    let stub = RecordingStub::start().await.unwrap();
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base]);
    burst(&stub, 1, || {
        Reply::json(429, json!({"status": 429})).header("retry-after", "1")
    });
    let started = Instant::now();
    let r = reqwest::get(format!("{}/v1/customers", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(stub.requests().len(), 2);
    // A Retry-After longer than we wait for is passed back to the caller at once.
    stub.clear();
    stub.respond(|_| Reply::json(429, json!({"status": 429})).header("retry-after", "3600"));
    let started = Instant::now();
    let r = reqwest::get(format!("{}/v1/customers", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_upstream_times_out_within_the_bound() {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|_| Reply::json(200, json!({})).after(Duration::from_secs(5)));
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base, "--timeout", "1"]);
    let started = Instant::now();
    let r = reqwest::get(format!("{}/v1/customers/c", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 504);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("lago-customers.findcustomer"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let client = common::mcp_client(&svc.mcp, None).await;
    let started = Instant::now();
    let r = common::call(
        &client,
        "lago-retrieve-customer",
        json!({"external_id": "c"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(
        common::text(&r).contains("timed out"),
        "{}",
        common::text(&r)
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    client.cancel().await.unwrap();
}

/// An upstream that sends headers and part of the body, then resets the connection.
async fn truncating_upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"customer\": {\"ext")
                    .await;
                drop(sock);
            });
        }
    });
    format!("http://{addr}/api/v1")
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_mid_body_and_refused_connections_are_502() {
    let base = truncating_upstream().await;
    let svc = common::start(&["--base-url", &base]);
    let r = reqwest::get(format!("{}/v1/customers/c", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 502);
    let client = common::mcp_client(&svc.mcp, None).await;
    let r = common::call(
        &client,
        "lago-retrieve-customer",
        json!({"external_id": "c"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_that_is_not_json_is_502() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 13\r\nconnection: close\r\n\r\n<html></html>").await;
            });
        }
    });
    let base = format!("http://{addr}/api/v1");
    let svc = common::start(&["--base-url", &base]);
    let r = reqwest::get(format!("{}/v1/customers", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("not JSON"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn overload_is_shed_with_503() {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|_| Reply::json(200, json!({})).after(Duration::from_millis(800)));
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base, "--max-concurrency", "2"]);
    let http = reqwest::Client::new();
    let calls = (0..6).map(|_| http.get(format!("{}/v1/customers", svc.rest)).send());
    let results = futures_join(calls).await;
    let ok = results.iter().filter(|s| **s == 200).count();
    let shed = results.iter().filter(|s| **s == 503).count();
    assert_eq!(ok + shed, 6, "{results:?}");
    assert!(ok >= 1 && shed >= 1, "{results:?}");
    assert!(stub.requests().len() <= 2);
}

async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<u16>
where
    F: std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().map(|r| r.status().as_u16()).unwrap_or(0));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_drains_in_flight_requests() {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|_| {
        Reply::json(200, json!({"customer": {"external_id": "c"}}))
            .after(Duration::from_millis(1000))
    });
    let base = format!("{}/api/v1", stub.url());
    let mut svc = common::start(&["--base-url", &base]);
    let url = format!("{}/v1/customers/c", svc.rest);
    let in_flight =
        tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status().as_u16()) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = svc.service.0.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    // The request that was running finishes; the process then exits cleanly.
    assert_eq!(in_flight.await.unwrap().unwrap(), 200);
    let status = svc.service.0.wait().unwrap();
    assert!(status.success(), "{status}");
}
