//! The control port turned on with `--control-addr`: health and readiness, status, and
//! Prometheus metrics that count the REST and MCP traffic just sent; readiness goes down
//! at SIGTERM while requests are still answered (`--shutdown-delay`).

mod common;

use std::time::{Duration, Instant};

use naftiko_runtime::testing::free_port;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn health_status_and_metrics_after_traffic() {
    let port = free_port();
    let control = format!("http://127.0.0.1:{port}");
    let addr = format!("127.0.0.1:{port}");
    let svc = common::start(&[
        "--sandbox",
        "--control-addr",
        &addr,
        "--shutdown-delay",
        "2",
    ]);
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{control}{path}")).send();

    // Ready once every adapter listens.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match get("/health/ready").await {
            Ok(r) if r.status() == 200 => {
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["status"], "UP");
                let kinds: Vec<&str> = body["adapters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["type"].as_str().unwrap())
                    .collect();
                assert_eq!(kinds, ["rest", "mcp"]);
                break;
            }
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("never ready: {other:?}"),
        }
    }
    let live: Value = get("/health/live").await.unwrap().json().await.unwrap();
    assert_eq!(live, json!({"status": "UP"}));
    let status: Value = get("/status").await.unwrap().json().await.unwrap();
    assert_eq!(status["capability"]["specVersion"], "naftiko 1.0.0-alpha2");

    // Traffic: three REST calls (one 404 from the upstream), two MCP calls (one isError).
    for path in [
        "/v1/customers",
        "/v1/customers/demo-customer",
        "/v1/customers/nobody",
    ] {
        http.get(format!("{}{path}", svc.rest))
            .send()
            .await
            .unwrap();
    }
    let client = common::mcp_client(&svc.mcp, None).await;
    common::call(&client, "lago-list-all-customers", json!({})).await;
    let failed = common::call(
        &client,
        "lago-retrieve-customer",
        json!({"external_id": "nobody"}),
    )
    .await;
    assert_eq!(failed.is_error, Some(true));
    client.cancel().await.unwrap();

    let r = get("/metrics").await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    for line in [
        r#"naftiko_request_total{naftiko_adapter_type="rest",naftiko_operation_id="/v1/customers GET",status="200"} 1"#,
        r#"naftiko_request_total{naftiko_adapter_type="rest",naftiko_operation_id="/v1/customers/{external-id} GET",status="200"} 1"#,
        r#"naftiko_request_total{naftiko_adapter_type="rest",naftiko_operation_id="/v1/customers/{external-id} GET",status="404"} 1"#,
        r#"naftiko_request_total{naftiko_adapter_type="mcp",naftiko_operation_id="lago-list-all-customers",status="OK"} 1"#,
        r#"naftiko_request_total{naftiko_adapter_type="mcp",naftiko_operation_id="lago-retrieve-customer",status="ERROR"} 1"#,
        r#"naftiko_request_errors{naftiko_adapter_type="mcp",naftiko_operation_id="lago-retrieve-customer",error_type="handled_error"} 1"#,
        "# TYPE naftiko_request_duration_seconds histogram",
        r#"naftiko_request_duration_seconds_count{naftiko_adapter_type="rest",naftiko_operation_id="/v1/customers GET",status="200"} 1"#,
        r#"naftiko_capability_active{naftiko_capability="Lago API documentation — Customers"} 1"#,
    ] {
        assert!(text.contains(line), "missing {line}\n{text}");
    }
    // Upstream calls: the sandbox's host, by status.
    assert!(text.contains("naftiko_http_client_total{"), "{text}");
    // The control port's own requests are not counted.
    assert!(!text.contains("/health"), "{text}");

    // SIGTERM: readiness goes down while requests are still answered.
    common::terminate(&svc);
    // Polled, not slept on: a loaded machine may take a while to deliver the signal.
    let deadline = Instant::now() + Duration::from_secs(10);
    let r = loop {
        let r = get("/health/ready").await.unwrap();
        if r.status() == 503 || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["status"].clone(), body["draining"].clone()),
        (json!("DEGRADED"), json!(true))
    );
    let still = http
        .get(format!("{}/v1/customers", svc.rest))
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200);
}
