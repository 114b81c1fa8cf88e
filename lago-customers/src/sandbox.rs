//! An in-memory stand-in for Lago's Customers API, for trying the service without a Lago
//! account, and for tests.
//!
//! It answers the 9 customer endpoints under `/api/v1` with the shapes of Lago's own API
//! (its OpenAPI document and server code): upsert on `POST /customers` keyed by
//! `external_id`, `meta` pagination, Lago's error bodies (`customer_not_found`,
//! `validation_errors` with `error_details`, 401 without a bearer token). Data lives in
//! memory and is lost when the process stops. One customer, `demo-customer`, is seeded with
//! an active subscription (`demo-subscription`) and an applied coupon so that every route
//! has something to show.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

/// The id of the seeded demo customer.
pub const DEMO_CUSTOMER: &str = "demo-customer";
/// The active subscription of the demo customer.
pub const DEMO_SUBSCRIPTION: &str = "demo-subscription";
/// The applied coupon of the demo customer.
pub const DEMO_APPLIED_COUPON: &str = "5a3c9a1e-0c4b-4c1e-9a57-1b0e8d6f2a10";

/// Keys `POST /customers` accepts inside `customer` (Lago's `create_params`); others are ignored.
const PERMITTED: &[&str] = &[
    "external_id",
    "name",
    "firstname",
    "lastname",
    "customer_type",
    "account_type",
    "country",
    "address_line1",
    "address_line2",
    "state",
    "zipcode",
    "email",
    "city",
    "url",
    "phone",
    "logo_url",
    "legal_name",
    "legal_number",
    "tax_identification_number",
    "currency",
    "timezone",
    "net_payment_term",
    "external_salesforce_id",
    "finalize_zero_amount_invoice",
    "skip_invoice_custom_sections",
    "billing_entity_code",
    "billing_configuration",
    "metadata",
    "shipping_address",
    "integration_customers",
];

/// Keys every customer object has, `null` when unset.
const CUSTOMER_KEYS: &[&str] = &[
    "external_id",
    "billing_entity_code",
    "address_line1",
    "address_line2",
    "city",
    "country",
    "currency",
    "email",
    "legal_name",
    "legal_number",
    "logo_url",
    "name",
    "firstname",
    "lastname",
    "account_type",
    "customer_type",
    "phone",
    "state",
    "tax_identification_number",
    "timezone",
    "url",
    "zipcode",
    "net_payment_term",
    "external_salesforce_id",
];

#[derive(Debug, Default)]
struct Store {
    customers: Vec<Map<String, Value>>,
    /// (external customer id, applied coupon object).
    coupons: Vec<(String, Map<String, Value>)>,
    /// (external customer id, external subscription id) of active subscriptions.
    subscriptions: Vec<(String, String)>,
    next_seq: u64,
}

/// The sandbox's state; clone it to share.
#[derive(Clone, Debug, Default)]
pub struct Sandbox {
    store: Arc<Mutex<Store>>,
}

/// Now, as Lago writes times: RFC 3339 in UTC, to the second (`2022-04-29T08:59:51Z`).
fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn uuid(seq: u64) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(seq);
    let a = h.finish();
    let b = a.rotate_left(17) ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | (b >> 48 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// Lago's error body.
fn error(status: StatusCode, code: Option<&str>, details: Option<Value>) -> Response {
    let mut body = json!({
        "status": status.as_u16(),
        "error": status.canonical_reason().unwrap_or("Error"),
    });
    if let Some(c) = code {
        body["code"] = json!(c);
    }
    if let Some(d) = details {
        body["error_details"] = d;
    }
    (status, Json(body)).into_response()
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        Some(&format!("{what}_not_found")),
        None,
    )
}

fn validation(details: Value) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("validation_errors"),
        Some(details),
    )
}

impl Sandbox {
    /// A sandbox with the demo customer.
    pub fn new() -> Self {
        let s = Sandbox::default();
        {
            let mut st = s.lock();
            let body = json!({
                "external_id": DEMO_CUSTOMER, "name": "Demo Customer", "email": "demo@example.com",
                "currency": "EUR", "country": "FR", "customer_type": "company",
                "billing_configuration": {"payment_provider": "stripe", "payment_provider_code": "stripe-sandbox"}
            });
            if let Value::Object(fields) = body {
                upsert(&mut st, &fields);
            }
            st.subscriptions
                .push((DEMO_CUSTOMER.into(), DEMO_SUBSCRIPTION.into()));
            let lago_customer_id = st.customers[0]["lago_id"].clone();
            let coupon = json!({
                "lago_id": DEMO_APPLIED_COUPON, "lago_coupon_id": uuid(900), "coupon_code": "startup_deal",
                "coupon_name": "Startup Deal", "lago_customer_id": lago_customer_id,
                "external_customer_id": DEMO_CUSTOMER, "status": "active", "amount_cents": 2000,
                "amount_cents_remaining": 2000, "amount_currency": "EUR", "percentage_rate": null,
                "frequency": "recurring", "frequency_duration": 3, "frequency_duration_remaining": 3,
                "expiration_at": null, "created_at": now(), "terminated_at": null
            });
            if let Value::Object(c) = coupon {
                st.coupons.push((DEMO_CUSTOMER.into(), c));
            }
        }
        s
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The sandbox's routes, under `/api/v1` like Lago's.
    pub fn router(self) -> Router {
        let api = Router::new()
            .route("/customers", post(create).get(list))
            .route("/customers/{external_id}", get(retrieve).delete(destroy))
            .route(
                "/customers/{external_id}/applied_coupons/{applied_coupon_id}",
                delete(delete_coupon),
            )
            .route("/customers/{external_id}/checkout_url", post(checkout_url))
            .route("/customers/{external_id}/current_usage", get(current_usage))
            .route("/customers/{external_id}/past_usage", get(past_usage))
            .route("/customers/{external_id}/portal_url", get(portal_url))
            .layer(axum::middleware::from_fn(require_bearer))
            .with_state(self);
        Router::new().nest("/api/v1", api)
    }

    /// Serves the sandbox on `127.0.0.1` at a free port; returns its base URL (`.../api/v1`).
    pub async fn spawn(self) -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = self.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(format!("http://{addr}/api/v1"))
    }
}

/// Like Lago: any request without a bearer token is 401 (the sandbox accepts any token).
async fn require_bearer(req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_whitespace().nth(1))
        .is_some_and(|t| !t.is_empty());
    if !ok {
        return error(StatusCode::UNAUTHORIZED, None, None);
    }
    next.run(req).await
}

fn find<'a>(st: &'a Store, external_id: &str) -> Option<&'a Map<String, Value>> {
    st.customers
        .iter()
        .find(|c| c["external_id"] == external_id)
}

/// Creates or updates the customer keyed by `external_id`: given keys are assigned (an
/// explicit `null` clears), omitted keys keep their value. Returns the stored customer.
fn upsert(st: &mut Store, fields: &Map<String, Value>) -> Map<String, Value> {
    let ext = fields["external_id"].clone();
    let idx = match st.customers.iter().position(|c| c["external_id"] == ext) {
        Some(i) => i,
        None => {
            st.next_seq += 1;
            let seq = st.next_seq;
            let mut c = Map::new();
            c.insert("lago_id".into(), json!(uuid(seq)));
            c.insert("sequential_id".into(), json!(seq));
            c.insert("slug".into(), json!(format!("SBX-{seq:04}")));
            for k in CUSTOMER_KEYS {
                c.insert((*k).into(), Value::Null);
            }
            // Lago fills these for every customer.
            c.insert("billing_entity_code".into(), json!("default"));
            c.insert("account_type".into(), json!("customer"));
            c.insert("created_at".into(), json!(now()));
            c.insert("finalize_zero_amount_invoice".into(), json!("inherit"));
            c.insert("skip_invoice_custom_sections".into(), json!(false));
            c.insert("billing_configuration".into(), json!({"invoice_grace_period": 0, "payment_provider": null, "payment_provider_code": null, "sync": false, "sync_with_provider": false, "document_locale": "en"}));
            c.insert("shipping_address".into(), json!({"address_line1": null, "address_line2": null, "city": null, "country": null, "state": null, "zipcode": null}));
            c.insert("metadata".into(), json!([]));
            c.insert("integration_customers".into(), json!([]));
            c.insert("taxes".into(), json!([]));
            c.insert("applicable_invoice_custom_sections".into(), json!([]));
            st.customers.push(c);
            st.customers.len() - 1
        }
    };
    let c = &mut st.customers[idx];
    for (k, v) in fields {
        if !PERMITTED.contains(&k.as_str()) {
            continue;
        }
        match (k.as_str(), v) {
            ("billing_configuration" | "shipping_address", Value::Object(patch)) => {
                let target = c.entry(k.clone()).or_insert_with(|| json!({}));
                if let Value::Object(t) = target {
                    for (pk, pv) in patch {
                        t.insert(pk.clone(), pv.clone());
                    }
                }
            }
            ("metadata", Value::Array(items)) => {
                let items: Vec<Value> = items
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        json!({
                            "lago_id": m.get("id").cloned().unwrap_or_else(|| json!(uuid(10_000 + i as u64))),
                            "key": m.get("key"), "value": m.get("value"),
                            "display_in_invoice": m.get("display_in_invoice").cloned().unwrap_or(json!(false)),
                            "created_at": now(),
                        })
                    })
                    .collect();
                c.insert(k.clone(), Value::Array(items));
            }
            _ => {
                c.insert(k.clone(), v.clone());
            }
        }
    }
    let tz = c
        .get("timezone")
        .cloned()
        .filter(|v| !v.is_null())
        .unwrap_or(json!("UTC"));
    c.insert("applicable_timezone".into(), tz);
    c.insert("updated_at".into(), json!(now()));
    c.clone()
}

async fn create(State(s): State<Sandbox>, body: Option<Json<Value>>) -> Response {
    let Some(Json(Value::Object(mut body))) = body else {
        return (StatusCode::BAD_REQUEST, Json(json!({"status": 400, "error": "BadRequest: param is missing or the value is empty or invalid: customer"}))).into_response();
    };
    let Some(Value::Object(fields)) = body.remove("customer") else {
        return (StatusCode::BAD_REQUEST, Json(json!({"status": 400, "error": "BadRequest: param is missing or the value is empty or invalid: customer"}))).into_response();
    };
    let mut details = Map::new();
    match fields.get("external_id") {
        Some(Value::String(id)) if !id.trim().is_empty() => {}
        _ => {
            details.insert("external_id".into(), json!(["value_is_mandatory"]));
        }
    }
    if let Some(Value::String(cur)) = fields.get("currency")
        && !(cur.len() == 3 && cur.chars().all(|c| c.is_ascii_uppercase()))
    {
        details.insert("currency".into(), json!(["value_is_invalid"]));
    }
    if let Some(Value::String(email)) = fields.get("email") {
        let valid = email
            .split_once('@')
            .is_some_and(|(u, d)| !u.is_empty() && d.contains('.'));
        if !valid {
            details.insert("email".into(), json!(["invalid_email_format"]));
        }
    }
    if let Some(Value::Array(m)) = fields.get("metadata")
        && m.len() > 5
    {
        details.insert("metadata".into(), json!(["invalid_count"]));
    }
    if !details.is_empty() {
        return validation(Value::Object(details));
    }
    let c = upsert(&mut s.lock(), &fields);
    Json(json!({ "customer": c })).into_response()
}

/// The query as pairs, repeated keys kept (`countries[]=FR&countries[]=US`).
type Pairs = Vec<(String, String)>;

fn first<'a>(q: &'a Pairs, key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn page_params(q: &Pairs) -> (usize, usize) {
    let page = first(q, "page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let per_page = first(q, "per_page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(100);
    (page, per_page)
}

/// The items of `page` (a huge page number is simply past the end).
fn page_of<T>(items: impl Iterator<Item = T>, page: usize, per_page: usize) -> Vec<T> {
    items
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect()
}

/// Lago's `meta` of a paginated answer (`current_page` and `total_pages` are 0 when empty).
fn meta(page: usize, per_page: usize, total: usize) -> Value {
    let pages = total.div_ceil(per_page);
    json!({
        "current_page": if total == 0 { 0 } else { page },
        "next_page": if page < pages { json!(page + 1) } else { Value::Null },
        "prev_page": if page > 1 && total > 0 { json!(page - 1) } else { Value::Null },
        "total_pages": pages,
        "total_count": total,
    })
}

/// Whether customer `c` passes the list filters of `q`, as Lago applies them: each array
/// filter (`countries[]`, ...) keeps customers whose field is one of its values,
/// `metadata[key]=value` customers with that pair (an empty value: without the key).
fn matches_filters(c: &Map<String, Value>, q: &Pairs) -> bool {
    let field = |k: &str| c.get(k).and_then(Value::as_str);
    let one_of = |param: &str, key: &str| {
        let wanted: Vec<&str> = q
            .iter()
            .filter(|(k, _)| k == param)
            .map(|(_, v)| v.as_str())
            .collect();
        wanted.is_empty() || field(key).is_some_and(|v| wanted.contains(&v))
    };
    let flag = |param: &str, present: bool| match first(q, param) {
        Some("true") => present,
        Some("false") => !present,
        _ => true,
    };
    let term = first(q, "search_term").map(str::to_lowercase);
    let set = |k: &str| field(k).is_some_and(|v| !v.is_empty());
    first(q, "external_id").is_none_or(|id| c["external_id"] == id)
        && term.as_ref().is_none_or(|t| {
            [
                "name",
                "firstname",
                "lastname",
                "legal_name",
                "external_id",
                "email",
            ]
            .iter()
            .any(|k| field(k).is_some_and(|v| v.to_lowercase().contains(t)))
        })
        && one_of("account_type[]", "account_type")
        && one_of("billing_entity_codes[]", "billing_entity_code")
        && one_of("countries[]", "country")
        && one_of("states[]", "state")
        && one_of("zipcodes[]", "zipcode")
        && one_of("currencies[]", "currency")
        && first(q, "customer_type").is_none_or(|t| field("customer_type") == Some(t))
        && flag("has_customer_type", set("customer_type"))
        && flag(
            "has_tax_identification_number",
            set("tax_identification_number"),
        )
        && q.iter().all(|(k, want)| {
            let Some(key) = k
                .strip_prefix("metadata[")
                .and_then(|k| k.strip_suffix(']'))
            else {
                return true;
            };
            let value = c.get("metadata").and_then(Value::as_array).and_then(|m| {
                m.iter()
                    .find(|e| e["key"] == key)
                    .map(|e| e["value"].as_str().unwrap_or_default())
            });
            match value {
                Some(v) => v == want,
                None => want.is_empty(),
            }
        })
}

async fn list(State(s): State<Sandbox>, Query(q): Query<Pairs>) -> Response {
    let (page, per_page) = page_params(&q);
    let st = s.lock();
    let matching: Vec<&Map<String, Value>> = st
        .customers
        .iter()
        .filter(|c| matches_filters(c, &q))
        .collect();
    let total = matching.len();
    let items = page_of(matching.into_iter(), page, per_page);
    Json(json!({ "customers": items, "meta": meta(page, per_page, total) })).into_response()
}

async fn retrieve(State(s): State<Sandbox>, Path(id): Path<String>) -> Response {
    match find(&s.lock(), &id) {
        Some(c) => Json(json!({ "customer": c })).into_response(),
        None => not_found("customer"),
    }
}

async fn destroy(State(s): State<Sandbox>, Path(id): Path<String>) -> Response {
    let mut st = s.lock();
    let Some(i) = st
        .customers
        .iter()
        .position(|c| c["external_id"] == id.as_str())
    else {
        return not_found("customer");
    };
    let c = st.customers.remove(i);
    st.subscriptions.retain(|(cust, _)| cust != &id);
    for (cust, coupon) in st.coupons.iter_mut() {
        if cust == &id {
            coupon.insert("status".into(), json!("terminated"));
            coupon.insert("terminated_at".into(), json!(now()));
        }
    }
    Json(json!({ "customer": c })).into_response()
}

async fn delete_coupon(
    State(s): State<Sandbox>,
    Path((id, coupon_id)): Path<(String, String)>,
) -> Response {
    let mut st = s.lock();
    if find(&st, &id).is_none() {
        return not_found("customer");
    }
    let Some((_, coupon)) = st
        .coupons
        .iter_mut()
        .find(|(cust, c)| cust == &id && c["lago_id"] == coupon_id.as_str())
    else {
        return not_found("applied_coupon");
    };
    // Idempotent, like Lago: terminating a terminated coupon answers 200 again.
    if coupon["status"] != "terminated" {
        coupon.insert("status".into(), json!("terminated"));
        coupon.insert("terminated_at".into(), json!(now()));
    }
    Json(json!({ "applied_coupon": coupon })).into_response()
}

async fn checkout_url(State(s): State<Sandbox>, Path(id): Path<String>) -> Response {
    let st = s.lock();
    let Some(c) = find(&st, &id) else {
        return not_found("customer");
    };
    let provider = c["billing_configuration"]["payment_provider"].clone();
    if provider.is_null() {
        return validation(json!({"base": ["no_linked_payment_provider"]}));
    }
    Json(json!({"customer": {
        "lago_customer_id": c["lago_id"],
        "external_customer_id": c["external_id"],
        "payment_provider": provider,
        "payment_provider_code": c["billing_configuration"]["payment_provider_code"],
        "checkout_url": format!("https://checkout.sandbox.invalid/session/{}", uuid(st.next_seq + 7)),
    }}))
    .into_response()
}

fn usage(currency: &Value, from: &str, to: &str, amount: i64) -> Value {
    json!({
        "from_datetime": from, "to_datetime": to, "issuing_date": &to[..10],
        "lago_invoice_id": Value::Null, "currency": currency,
        "amount_cents": amount, "taxes_amount_cents": amount / 5, "total_amount_cents": amount + amount / 5,
        "charges_usage": [{
            "units": "10.0", "total_aggregated_units": "10.0", "events_count": 10,
            "amount_cents": amount, "amount_currency": currency,
            "charge": {"lago_id": uuid(1), "charge_model": "standard", "invoice_display_name": "API calls"},
            "billable_metric": {"lago_id": uuid(2), "name": "API calls", "code": "api_calls", "aggregation_type": "count_agg"},
            "filters": [], "grouped_usage": []
        }]
    })
}

async fn current_usage(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
    Query(q): Query<Pairs>,
) -> Response {
    let st = s.lock();
    let Some(c) = find(&st, &id) else {
        return error(StatusCode::NOT_FOUND, Some("customer_not_found"), None);
    };
    let sub = first(&q, "external_subscription_id");
    if !sub.is_some_and(|sub| {
        st.subscriptions
            .iter()
            .any(|(cust, s)| cust == &id && s == sub)
    }) {
        // Lago answers 405 when the subscription is missing, unknown or not active.
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            Some("no_active_subscription"),
            None,
        );
    }
    let from = format!("{}-01T00:00:00Z", &now()[..7]);
    Json(json!({ "customer_usage": usage(&c["currency"], &from, &now(), 1200) })).into_response()
}

async fn past_usage(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
    Query(q): Query<Pairs>,
) -> Response {
    let Some(sub) = first(&q, "external_subscription_id") else {
        return validation(json!({"external_subscription_id": ["value_is_mandatory"]}));
    };
    let st = s.lock();
    let (page, per_page) = page_params(&q);
    let active = st
        .subscriptions
        .iter()
        .any(|(cust, s)| cust == &id && s == sub);
    // Like Lago, an unknown customer or subscription gives an empty list, not a 404.
    let periods: Vec<Value> = if active {
        let count = first(&q, "periods_count")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(2)
            .min(12);
        let currency = find(&st, &id)
            .map(|c| c["currency"].clone())
            .unwrap_or(Value::Null);
        let today = now();
        // Newest first: the month before this one, then the one before it, ...
        (0..count)
            .map(|i| {
                let (from, to) = past_month(&today, i + 1);
                usage(&currency, &from, &to, 1000 - 100 * i as i64)
            })
            .collect()
    } else {
        Vec::new()
    };
    let total = periods.len();
    let items = page_of(periods.into_iter(), page, per_page);
    Json(json!({ "usage_periods": items, "meta": meta(page, per_page, total) })).into_response()
}

/// The first and last instants of the calendar month `back` months before the one of
/// `today` (an RFC 3339 UTC time), as RFC 3339 times.
fn past_month(today: &str, back: usize) -> (String, String) {
    use chrono::{Datelike, Months, NaiveDate};
    let this_month = today
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .and_then(|d| d.with_day(1))
        .unwrap_or_default();
    let first = this_month
        .checked_sub_months(Months::new(u32::try_from(back).unwrap_or(u32::MAX)))
        .unwrap_or(this_month);
    let last = first
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first);
    (format!("{first}T00:00:00Z"), format!("{last}T23:59:59Z"))
}

async fn portal_url(State(s): State<Sandbox>, Path(id): Path<String>) -> Response {
    let st = s.lock();
    match find(&st, &id) {
        Some(c) => Json(json!({"customer": {
            "portal_url": format!("https://app.sandbox.invalid/customer-portal/{}", uuid(c["sequential_id"].as_u64().unwrap_or(0) + 1000)),
        }}))
        .into_response(),
        None => not_found("customer"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_months_end_on_their_last_day() {
        assert_eq!(
            past_month("2024-03-15T10:00:00Z", 1),
            ("2024-02-01T00:00:00Z".into(), "2024-02-29T23:59:59Z".into())
        );
        assert_eq!(
            past_month("2024-03-15T10:00:00Z", 3),
            ("2023-12-01T00:00:00Z".into(), "2023-12-31T23:59:59Z".into())
        );
        assert_eq!(
            past_month("2023-05-01T00:00:00Z", 3).1,
            "2023-02-28T23:59:59Z"
        );
    }

    #[test]
    fn now_is_rfc3339_utc_to_the_second() {
        let t = now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(chrono::DateTime::parse_from_rfc3339(&t).is_ok(), "{t}");
        assert!(t.ends_with('Z'));
    }
}
