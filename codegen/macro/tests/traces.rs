//! The spans of an orchestration, read back from the control port's `/traces`: an MCP tool
//! running an aggregate flow (two concurrent calls, then a lookup) is one trace of nested
//! spans, each upstream call under its step, and the upstream receives its call's context.

use naftiko_runtime::client::ClientConfig;
use naftiko_runtime::telemetry::TraceSpec;
use naftiko_runtime::testing::{RecordingStub, Reply};
use serde_json::{Value, json};

mod fleet {
    naftiko_codegen_macro::capability!("tests/specs/fleet.yaml");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_orchestration_is_one_trace_of_nested_spans() {
    // The ring buffer only (no export): the process's tracing, for this test binary alone.
    assert!(naftiko_runtime::telemetry::init(Some(&TraceSpec::DEFAULT), "Fleet").unwrap());
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|r| match r.path.as_str() {
        "/v1/ships/IMO-1" => Reply::json(200, json!({"name": "Star", "crew": ["c1"]})),
        _ => Reply::json(200, json!([{"id": "c1", "name": "Ann", "role": "captain"}])),
    });
    let base = format!("{}/v1", stub.url());
    let clients =
        fleet::Clients::with_config(|_| ClientConfig::default().base_url(base.clone())).unwrap();
    let handler = fleet::fleet_tools::handler(clients);
    let r = handler
        .call(
            "ship-with-crew",
            json!({"imo": "IMO-1"}).as_object().cloned(),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false));

    // `/traces` as the control port serves it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, naftiko_runtime::telemetry::routes()).await });
    let get = |path: String| async move {
        reqwest::get(format!("http://{addr}{path}"))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let list = get("/traces".into()).await;
    let traces = list["traces"].as_array().unwrap();
    assert_eq!(traces.len(), 1, "{list}");
    assert_eq!(traces[0]["operation"], "mcp.tool");
    assert_eq!(traces[0]["status"], "OK");
    let id = traces[0]["traceId"].as_str().unwrap();
    let trace = get(format!("/traces/{id}")).await;
    let spans = trace["spans"].as_array().unwrap();
    let mut names: Vec<&str> = spans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "aggregate.function",
            "http.client.GET",
            "http.client.GET",
            "mcp.tool",
            "step.call",
            "step.call",
            "step.lookup"
        ],
        "{trace}"
    );
    let by_id = |id: &Value| spans.iter().find(|s| s["spanId"] == *id).unwrap();
    let parent = |s: &Value| {
        by_id(&s["parentSpanId"])["name"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for s in spans {
        let expected = match s["name"].as_str().unwrap() {
            "mcp.tool" => continue,
            "aggregate.function" => "mcp.tool",
            "step.call" | "step.lookup" => "aggregate.function",
            "http.client.GET" => "step.call",
            other => panic!("unexpected span {other}"),
        };
        assert_eq!(parent(s), expected, "{s}");
        assert_eq!(s["traceId"], id);
    }
    let lookup = spans.iter().find(|s| s["name"] == "step.lookup").unwrap();
    assert_eq!(lookup["attributes"]["naftiko.step.index"], 2);
    assert_eq!(lookup["attributes"]["naftiko.step.match"], "id");
    let aggregate = spans
        .iter()
        .find(|s| s["name"] == "aggregate.function")
        .unwrap();
    assert_eq!(
        aggregate["attributes"]["naftiko.aggregate.ref"],
        "crew.ship-with-crew"
    );
    let calls: Vec<&str> = spans
        .iter()
        .filter(|s| s["name"] == "step.call")
        .map(|s| s["attributes"]["naftiko.step.call"].as_str().unwrap())
        .collect();
    assert!(
        calls.contains(&"fleet.get-ship") && calls.contains(&"fleet.list-crew"),
        "{calls:?}"
    );
    // Each upstream request carried the context of its own call span.
    for req in stub.requests() {
        let tp = req.header("traceparent").expect("a traceparent upstream");
        let span_id = tp.split('-').nth(2).unwrap();
        let s = by_id(&json!(span_id));
        assert_eq!(s["name"], "http.client.GET");
        assert!(tp.contains(id));
    }
}
