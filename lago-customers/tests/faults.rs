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
    // An HTML page; JSON cut short; and a JSON media type over bytes that are not UTF-8,
    // which no JSON parser a caller uses would take.
    let answers: [(&str, &[u8]); 3] = [
        ("text/html", b"<html></html>"),
        ("application/json", b"{\"customers\": [{\"name\": \"a\"}"),
        (
            "application/json",
            b"{\"customers\": [{\"name\": \"\xff\xfe\"}]}",
        ),
    ];
    for (content_type, body) in answers {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        head.extend_from_slice(body);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let answer = head.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    let _ = sock.write_all(&answer).await;
                });
            }
        });
        let base = format!("http://{addr}/api/v1");
        let svc = common::start(&["--base-url", &base]);
        let r = reqwest::get(format!("{}/v1/customers", svc.rest))
            .await
            .unwrap();
        assert_eq!(r.status(), 502, "{content_type} {body:?}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains("not JSON"),
            "{body}"
        );
    }
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
    // In flight once its upstream call arrived (not after a fixed sleep: on a loaded
    // machine the request may not have connected yet).
    let deadline = Instant::now() + Duration::from_secs(20);
    while stub.requests().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the request never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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

/// Answers `first` to the first request and `then` afterwards; notes when each arrived.
fn first_then(
    stub: &RecordingStub,
    first: impl Fn() -> Reply + Send + Sync + 'static,
    then: impl Fn() -> Reply + Send + Sync + 'static,
) -> Arc<std::sync::Mutex<Vec<Instant>>> {
    let arrivals: Arc<std::sync::Mutex<Vec<Instant>>> = Arc::default();
    let seen = arrivals.clone();
    stub.respond(move |_| {
        let mut seen = seen.lock().unwrap();
        seen.push(Instant::now());
        if seen.len() == 1 { first() } else { then() }
    });
    arrivals
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_reset_is_honoured_and_passed_on() {
    let stub = RecordingStub::start().await.unwrap();
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base]);
    // Lago's 429: X-RateLimit-Reset is the seconds until the window resets.
    let arrivals = first_then(
        &stub,
        || {
            Reply::json(429, json!({"status": 429, "error": "Too Many Requests"}))
                .header("x-ratelimit-limit", "10")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", "2")
        },
        || {
            Reply::json(200, json!({"customers": []}))
                .header("x-ratelimit-limit", "10")
                .header("x-ratelimit-remaining", "9")
                .header("x-ratelimit-reset", "60")
        },
    );
    let r = reqwest::get(format!("{}/v1/customers", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = arrivals.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one retry");
    let gap = seen[1] - seen[0];
    assert!(
        gap >= Duration::from_millis(1900) && gap < Duration::from_secs(3),
        "retried after {gap:?}"
    );
    // The upstream's rate-limit state reaches the caller.
    assert_eq!(r.headers()["x-ratelimit-remaining"], "9");
    assert_eq!(r.headers()["x-ratelimit-limit"], "10");

    // A window that ends later than the service waits: the 429 and its headers at once.
    stub.clear();
    stub.respond(|_| {
        Reply::json(429, json!({"status": 429}))
            .header("x-ratelimit-reset", "3600")
            .header("retry-after", "3600")
    });
    let started = Instant::now();
    let r = reqwest::get(format!("{}/v1/customers", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-reset"], "3600");
    assert_eq!(r.headers()["retry-after"], "3600");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_deadline_bounds_the_whole_call() {
    let stub = RecordingStub::start().await.unwrap();
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base, "--timeout", "3"]);
    // Slow 503s that ask for a 1 s wait: three attempts would take 5.6 s.
    stub.respond(|_| {
        Reply::json(503, json!({"status": 503}))
            .header("retry-after", "1")
            .after(Duration::from_millis(1200))
    });
    let started = Instant::now();
    let r = reqwest::get(format!("{}/v1/customers", svc.rest))
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(r.status() == 504 || r.status() == 503, "{}", r.status());
    assert!(
        waited < Duration::from_millis(3400),
        "the caller waited {waited:?}"
    );
    // A wait past the deadline is not waited for: the 429 comes back at once.
    stub.clear();
    stub.respond(|_| Reply::json(429, json!({"status": 429})).header("x-ratelimit-reset", "5"));
    let started = Instant::now();
    let r = reqwest::get(format!("{}/v1/customers", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn what_the_upstream_received_is_not_sent_again() {
    let stub = RecordingStub::start().await.unwrap();
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base]);
    let http = reqwest::Client::new();
    // A DELETE that got a 5xx (or a 429) ran, or may have: retrying would answer 404.
    for status in [503, 502, 504, 429] {
        stub.clear();
        stub.respond(move |_| Reply::json(status, json!({"status": status})));
        let r = http
            .delete(format!("{}/v1/customers/c-1", svc.rest))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status);
        assert_eq!(stub.requests().len(), 1, "DELETE after {status}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_that_does_not_resolve_fails_at_once() {
    let log = common::temp_path("dns");
    // `.invalid` never resolves (RFC 2606).
    let svc = common::start_with(
        &["--base-url", "http://lago.naftiko-test.invalid/api/v1"],
        &[],
        Some(&log),
        None,
    );
    let r = reqwest::get(format!("{}/v1/customers", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("dns"), "{body}");
    drop(svc);
    let logs = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(!logs.contains("retrying"), "{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_stay_on_the_origin_and_carry_no_credentials() {
    let stub = RecordingStub::start().await.unwrap();
    let elsewhere = RecordingStub::start().await.unwrap();
    let away = format!("{}/collect", elsewhere.url());
    stub.respond(move |r| match r.path.as_str() {
        "/api/v1/customers/away" => Reply::json(302, json!({})).header("location", away.clone()),
        "/api/v1/customers/moved" => {
            Reply::json(301, json!({})).header("location", "/api/v1/customers/landing")
        }
        _ => Reply::json(200, json!({"customer": {"external_id": "landing"}})),
    });
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base]);
    let http = reqwest::Client::new();
    // To another origin: not followed.
    let r = http
        .get(format!("{}/v1/customers/away", svc.rest))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("another origin"),
        "{body}"
    );
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");
    // On the same origin: followed, without the API key and without a Referer.
    let r = http
        .get(format!("{}/v1/customers/moved", svc.rest))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = stub.requests();
    assert_eq!(got.len(), 3);
    let landing = &got[2];
    assert_eq!(landing.path, "/api/v1/customers/landing");
    assert_eq!(landing.header("authorization"), None);
    assert_eq!(landing.header("referer"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_required_query_value_is_missing() {
    let stub = RecordingStub::start().await.unwrap();
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base]);
    let r = reqwest::get(format!(
        "{}/v1/customers/c-1/current-usage?external_subscription_id=",
        svc.rest
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("missing required query parameter `external_subscription_id`"),
        "{body}"
    );
    assert!(stub.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_error_pages_are_wrapped_in_json() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let page = "<html><body>Internal Server Error</body></html>";
                let _ = sock
                    .write_all(format!("HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}", page.len()).as_bytes())
                    .await;
            });
        }
    });
    let base = format!("http://{addr}/api/v1");
    let svc = common::start(&["--base-url", &base]);
    let r = reqwest::get(format!("{}/v1/customers/c-1", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 500);
    assert_eq!(
        body["upstream_body"],
        "<html><body>Internal Server Error</body></html>"
    );
    assert_eq!(body["upstream_content_type"], "text/html");
}
