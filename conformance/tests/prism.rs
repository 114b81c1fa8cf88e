//! Acceptance against Lago's own OpenAPI document, served by Prism (which validates every
//! request it receives): each route and tool, with valid input, is accepted and answered
//! with Lago's documented shapes; Lago's 422 passes through unchanged.
//!
//! Needs Prism: `scripts/lago-acceptance.sh` installs it and runs this test.

use std::time::Duration;

use naftiko_conformance::{OpenApi, assert_valid};
use naftiko_runtime::testing::{Service, free_port};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

/// The generated Lago service, served in this process against `base`.
struct Lago {
    rest: String,
    mcp: String,
}

async fn start_lago(base: &str) -> Lago {
    let config = naftiko_runtime::client::ClientConfig::default()
        .base_url(base)
        .with_var("LAGO_API_KEY", "test-key");
    let clients = lago_customers::Clients::with_config(|_| config.clone()).unwrap();
    let (rest_port, mcp_port) = (free_port(), free_port());
    let options = naftiko_runtime::serve::ServeOptions {
        rest_addr: Some(format!("127.0.0.1:{rest_port}").parse().unwrap()),
        mcp_addr: Some(format!("127.0.0.1:{mcp_port}").parse().unwrap()),
        ..Default::default()
    };
    let bound = naftiko_runtime::serve::bind_all(lago_customers::surfaces(&clients), &options)
        .await
        .unwrap();
    tokio::spawn(bound.serve());
    Lago {
        rest: format!("http://127.0.0.1:{rest_port}"),
        mcp: format!("http://127.0.0.1:{mcp_port}/mcp"),
    }
}

async fn mcp_client(url: &str) -> RunningService<RoleClient, ClientConfig> {
    let info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("prism-test", "1"),
    );
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.to_owned());
    info.serve(transport).await.expect("MCP client connects")
}

async fn call(
    client: &RunningService<RoleClient, ClientConfig>,
    tool: &str,
    args: Value,
) -> CallToolResult {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    client.call_tool(params).await.expect("tools/call answers")
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

/// Starts Prism on Lago's document; returns it and its port.
fn prism() -> (Service, u16) {
    let bin = std::env::var("PRISM")
        .expect("set PRISM to the prism binary (scripts/lago-acceptance.sh does)");
    let port = free_port();
    let spec = OpenApi::path();
    let spec = spec.to_string_lossy();
    let port_s = port.to_string();
    let service = Service::start(
        std::path::Path::new(&bin),
        &["mock", &spec, "-h", "127.0.0.1", "-p", &port_s],
        &[],
        &[port],
    );
    // Prism listens a moment before it has loaded every route.
    std::thread::sleep(Duration::from_millis(500));
    (service, port)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Prism; run by scripts/lago-acceptance.sh"]
async fn prism_accepts_every_call_and_answers_lagos_shapes() {
    let (_prism, port) = prism();
    let base = format!("http://127.0.0.1:{port}");
    let svc = start_lago(&base).await;
    let api = OpenApi::load();
    let http = reqwest::Client::new();
    let create = json!({"customer": {"external_id": "acme-1", "name": "Acme", "currency": "EUR"}});
    let routes: Vec<(&str, &str, Option<Value>, &str)> = vec![
        ("POST", "/v1/customers", Some(create.clone()), "/customers"),
        ("GET", "/v1/customers", None, "/customers"),
        (
            "DELETE",
            "/v1/customers/acme-1/applied-coupons/1a901a90-1a90-1a90-1a90-1a901a901a90",
            None,
            "/customers/{external_customer_id}/applied_coupons/{applied_coupon_id}",
        ),
        (
            "POST",
            "/v1/customers/acme-1/checkout-url",
            None,
            "/customers/{external_customer_id}/checkout_url",
        ),
        (
            "GET",
            "/v1/customers/acme-1/current-usage?external_subscription_id=sub-1",
            None,
            "/customers/{external_customer_id}/current_usage",
        ),
        (
            "GET",
            "/v1/customers/acme-1/past-usage?external_subscription_id=sub-1&periods_count=2&billable_metric_code=calls",
            None,
            "/customers/{external_customer_id}/past_usage",
        ),
        (
            "GET",
            "/v1/customers/acme-1/portal-url",
            None,
            "/customers/{external_customer_id}/portal_url",
        ),
        (
            "GET",
            "/v1/customers/acme-1",
            None,
            "/customers/{external_customer_id}",
        ),
        (
            "DELETE",
            "/v1/customers/acme-1",
            None,
            "/customers/{external_customer_id}",
        ),
    ];
    for (method, path, body, template) in &routes {
        let mut req = http.request(method.parse().unwrap(), format!("{}{path}", svc.rest));
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let value: Value = resp.json().await.unwrap();
        assert_eq!(
            status, 200,
            "{method} {path}: Prism refused the call: {value}"
        );
        assert_valid(
            &api.validator(method, template, 200),
            &value,
            &format!("{method} {path}"),
        );
    }

    let client = mcp_client(&svc.mcp).await;
    let tools = [
        (
            "lago-create-customer",
            json!({"body": create}),
            "POST",
            "/customers",
        ),
        ("lago-list-all-customers", json!({}), "GET", "/customers"),
        (
            "lago-delete-applied-coupon",
            json!({"external_customer_id": "acme-1", "applied_coupon_id": "1a901a90-1a90-1a90-1a90-1a901a901a90"}),
            "DELETE",
            "/customers/{external_customer_id}/applied_coupons/{applied_coupon_id}",
        ),
        (
            "lago-generate-customer-payment-provider",
            json!({"external_customer_id": "acme-1"}),
            "POST",
            "/customers/{external_customer_id}/checkout_url",
        ),
        (
            "lago-retrieve-customer-current-usage",
            json!({"external_customer_id": "acme-1", "external_subscription_id": "sub-1"}),
            "GET",
            "/customers/{external_customer_id}/current_usage",
        ),
        (
            "lago-retrieve-customer-past-usage",
            json!({"external_customer_id": "acme-1", "external_subscription_id": "sub-1", "periods_count": 2}),
            "GET",
            "/customers/{external_customer_id}/past_usage",
        ),
        (
            "lago-get-customer-portal-url",
            json!({"external_customer_id": "acme-1"}),
            "GET",
            "/customers/{external_customer_id}/portal_url",
        ),
        (
            "lago-retrieve-customer",
            json!({"external_id": "acme-1"}),
            "GET",
            "/customers/{external_customer_id}",
        ),
        (
            "lago-delete-customer",
            json!({"external_id": "acme-1"}),
            "DELETE",
            "/customers/{external_customer_id}",
        ),
    ];
    for (tool, args, method, template) in &tools {
        let r = call(&client, tool, args.clone()).await;
        assert_eq!(r.is_error, Some(false), "{tool}: {}", text(&r));
        let value = r.structured_content.clone().expect("structured content");
        assert_valid(&api.validator(method, template, 200), &value, tool);
    }

    // Lago's 422 (a customer without external_id) passes through unchanged.
    let invalid = json!({"customer": {"name": "no id"}});
    let resp = http
        .post(format!("{}/v1/customers", svc.rest))
        .json(&invalid)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let value: Value = resp.json().await.unwrap();
    assert_eq!(value["code"], "validation_errors");
    assert_valid(
        &api.validator("POST", "/customers", 422),
        &value,
        "422 over REST",
    );
    let r = call(&client, "lago-create-customer", json!({"body": invalid})).await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(r.structured_content, Some(value));
    client.cancel().await.unwrap();
}
