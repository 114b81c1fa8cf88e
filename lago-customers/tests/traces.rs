//! OpenTelemetry end to end: the service exports its spans over OTLP/HTTP to a collector
//! stand-in (an axum server decoding the protobuf requests). A REST request carrying a W3C
//! `traceparent` and an MCP tool call each give one trace, the upstream call included, and
//! the upstream receives the trace context; the control port's `/traces` shows the same.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use naftiko_runtime::testing::{RecordingStub, Reply, free_port};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use serde_json::{Value, json};

/// One exported span: ids in hex, name, kind (OTLP numbering: 2 server, 3 client, 1 internal).
#[derive(Debug, Clone)]
struct Exported {
    trace: String,
    span: String,
    parent: String,
    name: String,
    kind: i32,
    attributes: String,
    service: String,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A collector stand-in on a free port: every span of every `POST /v1/traces`.
async fn collector() -> (String, Arc<Mutex<Vec<Exported>>>) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let kept = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                let req = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                for rs in req.resource_spans {
                    let service = rs
                        .resource
                        .iter()
                        .flat_map(|r| &r.attributes)
                        .find(|a| a.key == "service.name")
                        .map(|a| format!("{:?}", a.value))
                        .unwrap_or_default();
                    for ss in rs.scope_spans {
                        for s in ss.spans {
                            kept.lock().unwrap().push(Exported {
                                trace: hex(&s.trace_id),
                                span: hex(&s.span_id),
                                parent: hex(&s.parent_span_id),
                                name: s.name,
                                kind: s.kind,
                                attributes: format!("{:?}", s.attributes),
                                service: service.clone(),
                            });
                        }
                    }
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), spans)
}

/// Waits until the collector holds spans of `trace` named `names`.
async fn wait_for(spans: &Mutex<Vec<Exported>>, trace: &str, names: &[&str]) -> Vec<Exported> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let of_trace: Vec<Exported> = spans
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.trace == trace)
            .cloned()
            .collect();
        if names.iter().all(|n| of_trace.iter().any(|s| s.name == *n)) {
            return of_trace;
        }
        assert!(
            Instant::now() < deadline,
            "trace {trace}: wanted {names:?}, the collector has {of_trace:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn named<'a>(spans: &'a [Exported], name: &str) -> &'a Exported {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name} in {spans:#?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_per_request_upstream_call_included() {
    let (endpoint, exported) = collector().await;
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|_| Reply::json(200, json!({"customer": {"external_id": "c1"}})));
    let base = format!("{}/api/v1", stub.url());
    let control_port = free_port();
    let control_addr = format!("127.0.0.1:{control_port}");
    let svc = common::start_with(
        &["--base-url", &base, "--control-addr", &control_addr],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            // Export every 50 ms rather than every 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ],
        None,
        None,
    );
    let http = reqwest::Client::new();

    // REST, as a caller inside a trace: the caller's span is the parent.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let r = http
        .get(format!("{}/v1/customers/c1", svc.rest))
        .header("traceparent", format!("00-{trace}-{caller_span}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let spans = wait_for(&exported, trace, &["rest.request", "http.client.GET"]).await;
    let server = named(&spans, "rest.request");
    let client = named(&spans, "http.client.GET");
    assert_eq!(server.parent, caller_span);
    assert_eq!(server.kind, 2, "SERVER");
    assert_eq!(client.parent, server.span);
    assert_eq!(client.kind, 3, "CLIENT");
    assert!(
        server
            .attributes
            .contains("/v1/customers/{external-id} GET"),
        "{}",
        server.attributes
    );
    assert!(
        client.attributes.contains("url.full"),
        "{}",
        client.attributes
    );
    assert!(
        server.service.contains("naftiko-Lago"),
        "{}",
        server.service
    );
    // The upstream got the client span's context.
    let sent = stub.requests();
    let traceparent = sent[0].header("traceparent").expect("traceparent upstream");
    assert_eq!(traceparent, format!("00-{trace}-{}-01", client.span));

    // MCP: the tool call's message, the tool and the upstream call share one trace.
    let mcp = common::mcp_client(&svc.mcp, None).await;
    let result = common::call(&mcp, "lago-retrieve-customer", json!({"external_id": "c1"})).await;
    assert_ne!(result.is_error, Some(true));
    mcp.cancel().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let tool = loop {
        let found = exported
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.name == "mcp.tool")
            .cloned();
        if let Some(t) = found {
            break t;
        }
        assert!(Instant::now() < deadline, "no mcp.tool span exported");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let spans = wait_for(
        &exported,
        &tool.trace,
        &["mcp.request", "mcp.tool", "http.client.GET"],
    )
    .await;
    let request = named(&spans, "mcp.request");
    assert_eq!(request.parent, "", "a root: the client sent no traceparent");
    assert!(
        request.attributes.contains("tools/call"),
        "{}",
        request.attributes
    );
    assert_eq!(tool.parent, request.span);
    assert_eq!(named(&spans, "http.client.GET").parent, tool.span);

    // Nothing exported carries the API key.
    for s in exported.lock().unwrap().iter() {
        assert!(!s.attributes.contains("test-key"), "{s:?}");
    }

    // The control port keeps the same traces.
    let control = format!("http://{control_addr}");
    let list: Value = http
        .get(format!("{control}/traces?operation=rest"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        list["traces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["traceId"] == trace && t["operation"] == "rest.request"),
        "{list}"
    );
    let one: Value = http
        .get(format!("{control}/traces/{trace}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = one["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"http.client.GET") && names.contains(&"rest.request"),
        "{one}"
    );
    let missing = http
        .get(format!("{control}/traces/0123"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_collector_or_control_port_nothing_is_traced() {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|_| Reply::json(200, json!({"customers": []})));
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base]);
    let r = reqwest::Client::new()
        .get(format!("{}/v1/customers", svc.rest))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Tracing off: the upstream gets no trace context of ours.
    assert!(stub.requests()[0].header("traceparent").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn b3_headers_in_and_out_when_asked_for() {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|_| Reply::json(200, json!({"customers": []})));
    let base = format!("{}/api/v1", stub.url());
    let control_addr = format!("127.0.0.1:{}", free_port());
    let svc = common::start_with(
        &["--base-url", &base, "--control-addr", &control_addr],
        &[("OTEL_PROPAGATORS", "b3multi")],
        None,
        None,
    );
    let trace = "463ac35c9f6413ad48485a3953bb6124";
    let r = reqwest::Client::new()
        .get(format!("{}/v1/customers", svc.rest))
        .header("X-B3-TraceId", trace)
        .header("X-B3-SpanId", "a2fb4a1d1a96d312")
        .header("X-B3-Sampled", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sent = &stub.requests()[0];
    assert_eq!(sent.header("x-b3-traceid"), Some(trace));
    assert_eq!(sent.header("x-b3-sampled"), Some("1"));
    assert!(sent.header("traceparent").is_none());
    // The upstream's parent is the client span of the caller's trace.
    let one: Value = reqwest::get(format!("http://{control_addr}/traces/{trace}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = one["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "http.client.GET")
        .unwrap_or_else(|| panic!("{one}"));
    assert_eq!(
        Some(client["spanId"].as_str().unwrap()),
        sent.header("x-b3-spanid")
    );
    let server = one["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "rest.request")
        .unwrap();
    assert_eq!(server["parentSpanId"], "a2fb4a1d1a96d312");
}
