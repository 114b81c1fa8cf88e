//! The REST adapter serves its OpenAPI document at `GET /openapi.json`, over a real socket:
//! the document the generator wrote at build time, listing the spec's nine routes.

mod common;

use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn serves_its_openapi_document() {
    let svc = common::start(&["--sandbox"]);
    let r = reqwest::get(format!("{}/openapi.json", svc.rest))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let text = r.text().await.unwrap();
    assert_eq!(text, lago_customers::lago_customers_rest::OPENAPI);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut routes: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            let path = path.clone();
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            "DELETE /v1/customers/{external-customer-id}/applied-coupons/{applied-coupon-id}",
            "DELETE /v1/customers/{external-id}",
            "GET /v1/customers",
            "GET /v1/customers/{external-customer-id}/current-usage",
            "GET /v1/customers/{external-customer-id}/past-usage",
            "GET /v1/customers/{external-customer-id}/portal-url",
            "GET /v1/customers/{external-id}",
            "POST /v1/customers",
            "POST /v1/customers/{external-customer-id}/checkout-url",
        ]
    );
    // Every operation is named after the spec's operation.
    assert_eq!(
        doc["paths"]["/v1/customers"]["post"]["operationId"],
        "createcustomer"
    );
}
