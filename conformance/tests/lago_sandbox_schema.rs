//! The sandbox answers with the shapes of Lago's own API: every response of the 9
//! operations, errors included, is validated against the schemas of Lago's OpenAPI document.

use lago_customers::sandbox::{DEMO_APPLIED_COUPON, DEMO_CUSTOMER, DEMO_SUBSCRIPTION};
use naftiko_conformance::{OpenApi, assert_valid};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(naftiko_shared),
    ignore = "needs the shared reference material: set NAFTIKO_SHARED to its folder, or place it at ../shared"
)]
async fn sandbox_matches_lagos_schemas() {
    let api = OpenApi::load();
    let base = lago_customers::sandbox::Sandbox::new()
        .spawn()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let auth = "Bearer sandbox";
    let create = json!({"customer": {"external_id": "s-1", "name": "Schema", "currency": "EUR",
        "billing_configuration": {"payment_provider": "stripe", "payment_provider_code": "stripe-1"},
        "metadata": [{"key": "po", "value": "42", "display_in_invoice": true}]}});
    let cases: Vec<(&str, String, &str, Option<serde_json::Value>, u16)> = vec![
        ("POST", "/customers".into(), "/customers", Some(create), 200),
        (
            "GET",
            "/customers?per_page=1&page=1".into(),
            "/customers",
            None,
            200,
        ),
        (
            "GET",
            "/customers/s-1".into(),
            "/customers/{external_customer_id}",
            None,
            200,
        ),
        (
            "GET",
            "/customers/s-1/portal_url".into(),
            "/customers/{external_customer_id}/portal_url",
            None,
            200,
        ),
        (
            "POST",
            "/customers/s-1/checkout_url".into(),
            "/customers/{external_customer_id}/checkout_url",
            None,
            200,
        ),
        (
            "GET",
            format!(
                "/customers/{DEMO_CUSTOMER}/current_usage?external_subscription_id={DEMO_SUBSCRIPTION}"
            ),
            "/customers/{external_customer_id}/current_usage",
            None,
            200,
        ),
        (
            "GET",
            format!(
                "/customers/{DEMO_CUSTOMER}/past_usage?external_subscription_id={DEMO_SUBSCRIPTION}&periods_count=2"
            ),
            "/customers/{external_customer_id}/past_usage",
            None,
            200,
        ),
        (
            "DELETE",
            format!("/customers/{DEMO_CUSTOMER}/applied_coupons/{DEMO_APPLIED_COUPON}"),
            "/customers/{external_customer_id}/applied_coupons/{applied_coupon_id}",
            None,
            200,
        ),
        (
            "DELETE",
            "/customers/s-1".into(),
            "/customers/{external_customer_id}",
            None,
            200,
        ),
        // Lago's documented errors.
        (
            "GET",
            "/customers/s-1".into(),
            "/customers/{external_customer_id}",
            None,
            404,
        ),
        (
            "DELETE",
            "/customers/nope/applied_coupons/x".into(),
            "/customers/{external_customer_id}/applied_coupons/{applied_coupon_id}",
            None,
            404,
        ),
        (
            "POST",
            "/customers".into(),
            "/customers",
            Some(json!({"customer": {"name": "no id"}})),
            422,
        ),
        (
            "GET",
            "/customers/x/past_usage".into(),
            "/customers/{external_customer_id}/past_usage",
            None,
            422,
        ),
    ];
    for (method, target, template, body, status) in cases {
        let mut req = http
            .request(method.parse().unwrap(), format!("{base}{target}"))
            .header("authorization", auth);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{method} {target}");
        let value: serde_json::Value = resp.json().await.unwrap();
        assert_valid(
            &api.validator(method, template, status),
            &value,
            &format!("{method} {target} ({status})"),
        );
    }
    // Without a bearer token: Lago's 401.
    let resp = http.get(format!("{base}/customers")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let value: serde_json::Value = resp.json().await.unwrap();
    assert_valid(&api.validator("GET", "/customers", 401), &value, "401");
}
