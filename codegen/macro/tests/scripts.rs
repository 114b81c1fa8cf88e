//! Script steps expanded in place and run against a recording stub: a call then a script
//! that filters its answer (a dependency, an input, a `with` value); a script that loops
//! forever, stopped by its statement limit, then by its timeout while other calls go on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use naftiko_runtime::client::ClientConfig;
use naftiko_runtime::script::{Governance, Policy};
use naftiko_runtime::testing::{RecordingStub, Reply};
use serde_json::{Value, json};

mod shop {
    naftiko_codegen_macro::capability!("tests/specs/scripting.yaml");
}

async fn stub() -> RecordingStub {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|r| match r.path.as_str() {
        "/v1/items" => Reply::json(
            200,
            json!([{"name": "pen", "price": 2.5}, {"name": "lamp", "price": 40}]),
        ),
        _ => Reply::json(404, json!({"error": "unknown"})),
    });
    stub
}

/// Clients with scripting enabled (it is off unless the spec or the environment enables it).
fn clients(stub: &RecordingStub, policy: Policy) -> shop::Clients {
    let base = format!("{}/v1", stub.url());
    let mut clients =
        shop::Clients::with_config(|_| ClientConfig::default().base_url(base.clone())).unwrap();
    clients.scripting = Arc::new(Governance::new(policy));
    clients
}

fn enabled() -> Policy {
    Policy {
        enabled: Some(true),
        ..shop::SCRIPTING
    }
}

/// The text of a tool result's first content block.
fn text(r: &naftiko_runtime::rmcp::model::CallToolResult) -> String {
    let v = serde_json::to_value(r).unwrap();
    v["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_script_filters_a_call_result() {
    let stub = stub().await;
    let clients = clients(&stub, enabled());
    let gov = clients.scripting.clone();
    let handler = shop::shop_tools::handler(clients);
    let args = json!({"max": 10}).as_object().cloned();
    let r = handler.call("cheap-items", args).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    let value: Value = serde_json::from_str(&text(&r)).unwrap();
    assert_eq!(value, json!([{"name": "pen", "price": "2.50 EUR"}]));
    assert_eq!(gov.snapshot()["stats"]["totalExecutions"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn scripting_is_off_unless_enabled() {
    if std::env::var("NAFTIKO_SCRIPTING").is_ok_and(|v| v.eq_ignore_ascii_case("true")) {
        return;
    }
    let stub = stub().await;
    let handler = shop::shop_tools::handler(clients(&stub, shop::SCRIPTING));
    let args = json!({"max": 10}).as_object().cloned();
    let r = handler.call("cheap-items", args).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(
        text(&r).contains("requires scripting support"),
        "{}",
        text(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_looping_script_is_stopped_and_others_go_on() {
    let stub = stub().await;
    let clients = clients(&stub, enabled());
    let gov = clients.scripting.clone();
    let handler = shop::shop_tools::handler(clients);
    let r = handler.call("spin", None).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert_eq!(
        text(&r),
        "Script step 'forever' exceeded the statement limit (100000)"
    );
    // Without a statement limit to speak of, the timeout stops it; meanwhile, on the one
    // async worker, a plain call is answered at once.
    gov.update(&json!({"timeout": 2000, "statementLimit": 1_000_000_000_000u64}))
        .unwrap();
    let started = Instant::now();
    let spinning = handler.call("spin", None);
    let other = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = handler.call("list-items", None).await.unwrap();
        (r, started.elapsed())
    };
    let (spun, (listed, at)) = tokio::join!(spinning, other);
    assert_eq!(listed.is_error, Some(false));
    assert!(at < Duration::from_secs(1), "the plain call took {at:?}");
    let spun = spun.unwrap();
    assert_eq!(
        text(&spun),
        "Script step 'forever' exceeded the timeout limit (2000 ms)"
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(gov.snapshot()["stats"]["totalErrors"], 2);
}
