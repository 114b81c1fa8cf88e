//! The sandbox behaves like Lago for a create / list / retrieve / delete story, over REST
//! and over MCP (HTTP and stdio).

mod common;

use rmcp::ServiceExt;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn rest_story() {
    let svc = common::start(&["--sandbox"]);
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", svc.rest);
    let new = json!({"customer": {"external_id": "acme-1", "name": "Acme", "currency": "EUR", "email": "billing@acme.test"}});
    let r = http
        .post(url("/v1/customers"))
        .json(&new)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["customer"]["external_id"], "acme-1");
    assert!(created["customer"]["lago_id"].is_string());
    // Upsert: the same external_id updates; omitted keys are kept.
    let r = http
        .post(url("/v1/customers"))
        .json(&json!({"customer": {"external_id": "acme-1", "name": "Acme Inc"}}))
        .send()
        .await
        .unwrap();
    let updated: Value = r.json().await.unwrap();
    assert_eq!(
        updated["customer"]["lago_id"],
        created["customer"]["lago_id"]
    );
    assert_eq!(updated["customer"]["name"], "Acme Inc");
    assert_eq!(updated["customer"]["email"], "billing@acme.test");

    let list: Value = http
        .get(url("/v1/customers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["meta"]["total_count"], 2); // the demo customer and acme-1
    assert!(
        list["customers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["external_id"] == "acme-1")
    );

    let got: Value = http
        .get(url("/v1/customers/acme-1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["customer"]["name"], "Acme Inc");
    let portal: Value = http
        .get(url("/v1/customers/acme-1/portal-url"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(portal["customer"]["portal_url"].is_string());
    // No payment provider: Lago's 422.
    let r = http
        .post(url("/v1/customers/acme-1/checkout-url"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let err: Value = r.json().await.unwrap();
    assert_eq!(
        err["error_details"],
        json!({"base": ["no_linked_payment_provider"]})
    );

    let r = http
        .delete(url("/v1/customers/acme-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http.get(url("/v1/customers/acme-1")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": 404, "error": "Not Found", "code": "customer_not_found"})
    );
    let r = http
        .delete(url("/v1/customers/acme-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Validation errors have Lago's shape.
    let r = http
        .post(url("/v1/customers"))
        .json(&json!({"customer": {"name": "x", "currency": "euro"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["code"], "validation_errors");
    assert_eq!(
        err["error_details"]["external_id"],
        json!(["value_is_mandatory"])
    );
    assert_eq!(
        err["error_details"]["currency"],
        json!(["value_is_invalid"])
    );

    // The demo customer has usage, a subscription and a coupon to show.
    let demo = lago_customers::sandbox::DEMO_CUSTOMER;
    let sub = lago_customers::sandbox::DEMO_SUBSCRIPTION;
    let usage: Value = http
        .get(url(&format!(
            "/v1/customers/{demo}/current-usage?external_subscription_id={sub}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(usage["customer_usage"]["charges_usage"].is_array());
    let past: Value = http
        .get(url(&format!(
            "/v1/customers/{demo}/past-usage?external_subscription_id={sub}&periods_count=3"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let periods = past["usage_periods"].as_array().unwrap();
    assert_eq!(periods.len(), 3);
    // Distinct, consecutive past months, newest first (each ends just before the next begins).
    for pair in periods.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        assert!(
            older["to_datetime"].as_str() < newer["from_datetime"].as_str(),
            "{past}"
        );
    }
    assert!(
        periods[0]["from_datetime"]
            .as_str()
            .unwrap()
            .ends_with("-01T00:00:00Z")
    );
    let r = http
        .get(url(&format!(
            "/v1/customers/{demo}/current-usage?external_subscription_id=nope"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let coupon = lago_customers::sandbox::DEMO_APPLIED_COUPON;
    let r: Value = http
        .delete(url(&format!(
            "/v1/customers/{demo}/applied-coupons/{coupon}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["applied_coupon"]["status"], "terminated");
    let checkout: Value = http
        .post(url(&format!("/v1/customers/{demo}/checkout-url")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(checkout["customer"]["payment_provider"], "stripe");
}

#[tokio::test(flavor = "multi_thread")]
async fn mcp_story() {
    let svc = common::start(&["--sandbox"]);
    let client = common::mcp_client(&svc.mcp, None).await;
    let r = common::call(
        &client,
        "lago-create-customer",
        json!({"body": {"customer": {"external_id": "m-1", "name": "Mia"}}}),
    )
    .await;
    assert_eq!(r.is_error, Some(false));
    assert_eq!(
        r.structured_content.unwrap()["customer"]["external_id"],
        "m-1"
    );
    let r = common::call(&client, "lago-list-all-customers", json!({})).await;
    assert_eq!(r.structured_content.unwrap()["meta"]["total_count"], 2);
    let r = common::call(
        &client,
        "lago-retrieve-customer",
        json!({"external_id": "m-1"}),
    )
    .await;
    assert_eq!(r.structured_content.unwrap()["customer"]["name"], "Mia");
    let r = common::call(
        &client,
        "lago-delete-customer",
        json!({"external_id": "m-1"}),
    )
    .await;
    assert_eq!(r.is_error, Some(false));
    let r = common::call(
        &client,
        "lago-retrieve-customer",
        json!({"external_id": "m-1"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(r.structured_content.unwrap()["code"], "customer_not_found");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_transport() {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_lago-customers"));
    cmd.args(["mcp-stdio", "--sandbox"])
        .env_remove("LAGO_API_KEY")
        .stderr(std::process::Stdio::null());
    let transport = rmcp::transport::TokioChildProcess::new(cmd).unwrap();
    let client = ().serve(transport).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 9);
    let call = |tool: &'static str, args: serde_json::Value| {
        let mut p = rmcp::model::CallToolRequestParams::new(tool);
        if let serde_json::Value::Object(m) = args {
            p = p.with_arguments(m);
        }
        client.call_tool(p)
    };
    let r = call("lago-list-all-customers", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(
        r.structured_content.unwrap()["customers"][0]["external_id"],
        "demo-customer"
    );
    // Every tool over stdio, against the sandbox's demo data.
    let demo = lago_customers::sandbox::DEMO_CUSTOMER;
    let sub = lago_customers::sandbox::DEMO_SUBSCRIPTION;
    let coupon = lago_customers::sandbox::DEMO_APPLIED_COUPON;
    let ok_calls = [
        (
            "lago-create-customer",
            json!({"body": {"customer": {"external_id": "stdio-1"}}}),
            "customer",
        ),
        (
            "lago-retrieve-customer",
            json!({"external_id": demo}),
            "customer",
        ),
        (
            "lago-get-customer-portal-url",
            json!({"external_customer_id": demo}),
            "customer",
        ),
        (
            "lago-generate-customer-payment-provider",
            json!({"external_customer_id": demo}),
            "customer",
        ),
        (
            "lago-retrieve-customer-current-usage",
            json!({"external_customer_id": demo, "external_subscription_id": sub}),
            "customer_usage",
        ),
        (
            "lago-retrieve-customer-past-usage",
            json!({"external_customer_id": demo, "external_subscription_id": sub}),
            "usage_periods",
        ),
        (
            "lago-delete-applied-coupon",
            json!({"external_customer_id": demo, "applied_coupon_id": coupon}),
            "applied_coupon",
        ),
        (
            "lago-delete-customer",
            json!({"external_id": "stdio-1"}),
            "customer",
        ),
    ];
    for (tool, args, key) in ok_calls {
        let r = call(tool, args).await.unwrap();
        assert_eq!(r.is_error, Some(false), "{tool}");
        assert!(!r.structured_content.unwrap()[key].is_null(), "{tool}");
    }
    // Error classes: Lago's error body, invalid arguments; an unknown tool is a protocol error.
    let r = call("lago-retrieve-customer", json!({"external_id": "stdio-1"}))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    assert_eq!(r.structured_content.unwrap()["code"], "customer_not_found");
    let r = call("lago-retrieve-customer", json!({"id": "x"}))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(call("nope", json!({})).await.is_err());
    client.cancel().await.unwrap();
}

/// Lago's list parameters reach the sandbox from both surfaces; an unknown one is refused on
/// REST, as MCP refuses an unknown argument.
#[tokio::test(flavor = "multi_thread")]
async fn list_pages_and_filters() {
    let svc = common::start(&["--sandbox"]);
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", svc.rest);
    for (id, country, currency) in [
        ("p-1", "FR", "EUR"),
        ("p-2", "US", "USD"),
        ("p-3", "FR", "USD"),
    ] {
        let body = json!({"customer": {"external_id": id, "name": format!("Paged {id}"), "country": country, "currency": currency,
            "metadata": [{"key": "tier", "value": if id == "p-3" { "gold" } else { "silver" }, "display_in_invoice": false}]}});
        let r = http
            .post(url("/v1/customers"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let get = |path: String| {
        let http = http.clone();
        async move {
            let r = http.get(path).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let ids = |v: &Value| -> Vec<String> {
        v["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["external_id"].as_str().unwrap().to_owned())
            .collect()
    };
    // 4 customers (the demo one and 3 new), 2 per page: page 2 holds the last two.
    let (status, page2) = get(url("/v1/customers?page=2&per_page=2")).await;
    assert_eq!(status, 200, "{page2}");
    assert_eq!(page2["meta"]["current_page"], 2);
    assert_eq!(page2["meta"]["total_pages"], 2);
    assert_eq!(ids(&page2), ["p-2", "p-3"]);
    let (_, fr) = get(url("/v1/customers?countries=FR&search_term=paged")).await;
    assert_eq!(ids(&fr), ["p-1", "p-3"]);
    let (_, both) = get(url(
        "/v1/customers?currencies=USD&currencies=EUR&countries=US",
    ))
    .await;
    assert_eq!(ids(&both), ["p-2"]);
    let gold = format!("/v1/customers?metadata={}", "%7B%22tier%22%3A%22gold%22%7D");
    let (_, gold) = get(url(&gold)).await;
    assert_eq!(ids(&gold), ["p-3"]);
    // A typo is refused, naming what the route takes, rather than answering page 1.
    let (status, err) = get(url("/v1/customers?pgae=2")).await;
    assert_eq!(status, 400);
    let message = err["message"].as_str().unwrap();
    assert!(
        message.starts_with("unknown query parameter `pgae`: this route takes `page`, `per_page`"),
        "{message}"
    );
    // A bad value too.
    let (status, _) = get(url("/v1/customers?page=abc")).await;
    assert_eq!(status, 400);

    // The same through MCP.
    let client = common::mcp_client(&svc.mcp, None).await;
    let args = json!({"page": 1, "per_page": 1, "countries": ["FR"], "metadata": {"tier": "gold"}});
    let r = common::call(&client, "lago-list-all-customers", args).await;
    assert_eq!(r.is_error, Some(false));
    let body = r.structured_content.unwrap();
    assert_eq!(ids(&body), ["p-3"], "{body}");
    assert_eq!(body["meta"]["total_count"], 1);
    client.cancel().await.unwrap();
}
