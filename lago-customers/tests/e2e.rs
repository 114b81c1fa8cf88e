//! The built service, over real sockets, in front of a recording stub upstream: every
//! route and tool reaches Lago's endpoint with the method, path, query, bearer token and
//! body the spec prescribes, and returns what the upstream answered.

mod common;

use naftiko_runtime::testing::{RecordingStub, Reply};
use rmcp::model::ProtocolVersion;
use serde_json::{Value, json};

/// (REST method, REST path and query, body) -> (upstream method, path and query, body).
fn rest_cases() -> Vec<(
    &'static str,
    &'static str,
    Option<Value>,
    &'static str,
    &'static str,
)> {
    let customer = json!({"customer": {"external_id": "c-1", "name": "Ann"}});
    vec![
        (
            "POST",
            "/v1/customers",
            Some(customer),
            "POST",
            "/api/v1/customers",
        ),
        ("GET", "/v1/customers", None, "GET", "/api/v1/customers"),
        (
            "DELETE",
            "/v1/customers/c-1/applied-coupons/ac-9",
            None,
            "DELETE",
            "/api/v1/customers/c-1/applied_coupons/ac-9",
        ),
        (
            "POST",
            "/v1/customers/c-1/checkout-url",
            None,
            "POST",
            "/api/v1/customers/c-1/checkout_url",
        ),
        (
            "GET",
            "/v1/customers/c-1/current-usage?external_subscription_id=s-1",
            None,
            "GET",
            "/api/v1/customers/c-1/current_usage?external_subscription_id=s-1",
        ),
        (
            "GET",
            "/v1/customers/c-1/past-usage?external_subscription_id=s-1&billable_metric_code=calls&periods_count=3",
            None,
            "GET",
            "/api/v1/customers/c-1/past_usage?external_subscription_id=s-1&billable_metric_code=calls&periods_count=3",
        ),
        (
            "GET",
            "/v1/customers/c-1/portal-url",
            None,
            "GET",
            "/api/v1/customers/c-1/portal_url",
        ),
        (
            "GET",
            "/v1/customers/c-1",
            None,
            "GET",
            "/api/v1/customers/c-1",
        ),
        (
            "DELETE",
            "/v1/customers/c-1",
            None,
            "DELETE",
            "/api/v1/customers/c-1",
        ),
    ]
}

fn upstream_target(r: &naftiko_runtime::testing::Recorded) -> String {
    match &r.query {
        Some(q) => format!("{}?{q}", r.path),
        None => r.path.clone(),
    }
}

async fn stub() -> RecordingStub {
    let stub = RecordingStub::start().await.unwrap();
    // Echo what was called, so each answer can be told apart.
    stub.respond(|r| Reply::json(200, json!({"called": format!("{} {}", r.method, r.path)})));
    stub
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_reaches_lago_as_the_spec_says() {
    let stub = stub().await;
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base]);
    let http = reqwest::Client::new();
    for (method, path, body, up_method, up_target) in rest_cases() {
        stub.clear();
        let mut req = http.request(method.parse().unwrap(), format!("{}{path}", svc.rest));
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200, "{method} {path}");
        let answer: Value = resp.json().await.unwrap();
        let got = stub.requests();
        assert_eq!(got.len(), 1, "{method} {path}: one upstream call");
        let r = &got[0];
        assert_eq!(
            (r.method.as_str(), upstream_target(r).as_str()),
            (up_method, up_target),
            "{method} {path}"
        );
        assert_eq!(r.header("authorization"), Some("Bearer test-key"));
        assert_eq!(
            r.json(),
            body.clone().unwrap_or(Value::Null),
            "{method} {path}: body"
        );
        assert_eq!(answer, json!({"called": format!("{up_method} {}", r.path)}));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_tool_reaches_lago_as_the_spec_says() {
    let stub = stub().await;
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base]);
    let customer = json!({"customer": {"external_id": "c-1"}});
    let cases = [
        (
            "lago-create-customer",
            json!({"body": customer}),
            "POST /api/v1/customers",
            Some(customer.clone()),
        ),
        (
            "lago-list-all-customers",
            json!({}),
            "GET /api/v1/customers",
            None,
        ),
        (
            "lago-delete-applied-coupon",
            json!({"external_customer_id": "c-1", "applied_coupon_id": "ac-9"}),
            "DELETE /api/v1/customers/c-1/applied_coupons/ac-9",
            None,
        ),
        (
            "lago-generate-customer-payment-provider",
            json!({"external_customer_id": "c-1"}),
            "POST /api/v1/customers/c-1/checkout_url",
            None,
        ),
        (
            "lago-retrieve-customer-current-usage",
            json!({"external_customer_id": "c-1", "external_subscription_id": "s-1"}),
            "GET /api/v1/customers/c-1/current_usage?external_subscription_id=s-1",
            None,
        ),
        (
            "lago-retrieve-customer-past-usage",
            json!({"external_customer_id": "c-1", "external_subscription_id": "s-1", "periods_count": 2}),
            "GET /api/v1/customers/c-1/past_usage?external_subscription_id=s-1&periods_count=2",
            None,
        ),
        (
            "lago-get-customer-portal-url",
            json!({"external_customer_id": "c-1"}),
            "GET /api/v1/customers/c-1/portal_url",
            None,
        ),
        (
            "lago-retrieve-customer",
            json!({"external_id": "c-1"}),
            "GET /api/v1/customers/c-1",
            None,
        ),
        (
            "lago-delete-customer",
            json!({"external_id": "c-1"}),
            "DELETE /api/v1/customers/c-1",
            None,
        ),
    ];
    // The newest protocol version rmcp speaks, and a handshake-era one.
    for version in [None, Some(ProtocolVersion::V_2025_06_18)] {
        let client = common::mcp_client(&svc.mcp, version.clone()).await;
        let tools = client.list_all_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, cases.iter().map(|c| c.0).collect::<Vec<_>>());
        for (tool, args, target, body) in &cases {
            stub.clear();
            let result = common::call(&client, tool, args.clone()).await;
            assert_eq!(
                result.is_error,
                Some(false),
                "{tool}: {}",
                common::text(&result)
            );
            let got = stub.requests();
            assert_eq!(got.len(), 1, "{tool}");
            let r = &got[0];
            assert_eq!(
                format!("{} {}", r.method, upstream_target(r)),
                *target,
                "{tool} ({version:?})"
            );
            assert_eq!(r.header("authorization"), Some("Bearer test-key"));
            assert_eq!(r.json(), body.clone().unwrap_or(Value::Null));
            let expected = json!({"called": format!("{} {}", r.method, r.path)});
            assert_eq!(result.structured_content, Some(expected.clone()));
            assert_eq!(
                serde_json::from_str::<Value>(&common::text(&result)).unwrap(),
                expected
            );
        }
        client.cancel().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lago_errors_pass_through_unchanged() {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|r| match r.path.as_str() {
        p if p.ends_with("/current_usage") => Reply::json(405, json!({"status": 405, "error": "Method Not Allowed", "code": "no_active_subscription"})),
        p if p.ends_with("/checkout_url") => Reply::json(422, json!({"status": 422, "error": "Unprocessable Entity", "code": "validation_errors", "error_details": {"base": ["no_linked_payment_provider"]}})),
        "/api/v1/customers" => Reply::json(401, json!({"status": 401, "error": "Unauthorized"})),
        _ => Reply::json(404, json!({"status": 404, "error": "Not Found", "code": "customer_not_found"})),
    });
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base]);
    let http = reqwest::Client::new();
    let cases = [
        ("GET", "/v1/customers/nope", 404, "customer_not_found"),
        (
            "GET",
            "/v1/customers/c-1/current-usage?external_subscription_id=s",
            405,
            "no_active_subscription",
        ),
        (
            "POST",
            "/v1/customers/c-1/checkout-url",
            422,
            "validation_errors",
        ),
        ("GET", "/v1/customers", 401, ""),
    ];
    for (method, path, status, code) in cases {
        let resp = http
            .request(method.parse().unwrap(), format!("{}{path}", svc.rest))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["status"], status);
        if !code.is_empty() {
            assert_eq!(body["code"], code);
        }
    }
    let client = common::mcp_client(&svc.mcp, None).await;
    let r = common::call(
        &client,
        "lago-retrieve-customer",
        json!({"external_id": "nope"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(
        r.structured_content,
        Some(json!({"status": 404, "error": "Not Found", "code": "customer_not_found"}))
    );
    let r = common::call(
        &client,
        "lago-generate-customer-payment-provider",
        json!({"external_customer_id": "c"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(
        r.structured_content.unwrap()["error_details"],
        json!({"base": ["no_linked_payment_provider"]})
    );
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_never_reaches_lago_or_another_path() {
    let stub = stub().await;
    let base = format!("{}/api/v1", stub.url());
    let svc = common::start(&["--base-url", &base]);
    let http = reqwest::Client::new();
    // Ids with `/`, `..`, `%`, spaces or unicode stay one path segment.
    let ids = [
        ("a%2Fb", "a%2Fb"),
        ("..%2F..%2Fadmin", "..%2F..%2Fadmin"),
        ("50%25", "50%25"),
        ("a%20b", "a%20b"),
        ("caf%C3%A9", "caf%C3%A9"),
        ("x%3Fy%23z", "x%3Fy%23z"),
    ];
    for (sent, upstream) in ids {
        stub.clear();
        let resp = http
            .get(format!("{}/v1/customers/{sent}", svc.rest))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{sent}");
        assert_eq!(
            stub.requests()[0].path,
            format!("/api/v1/customers/{upstream}")
        );
    }
    stub.clear();
    // `.` and `..` as a whole id would name another resource: refused.
    for id in ["%2E%2E", "."] {
        let resp = http
            .delete(format!("{}/v1/customers/x/applied-coupons/{id}", svc.rest))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status() == 400 || resp.status() == 404,
            "{id}: {}",
            resp.status()
        );
    }
    // Missing or mistyped parameters, bodies that are not JSON: 4xx with a JSON error.
    let cases = [
        (
            reqwest::Method::GET,
            "/v1/customers/c/past-usage",
            None,
            400,
        ),
        (
            reqwest::Method::GET,
            "/v1/customers/c/past-usage?external_subscription_id=s&periods_count=abc",
            None,
            400,
        ),
        (
            reqwest::Method::GET,
            "/v1/customers/c/current-usage",
            None,
            400,
        ),
        (reqwest::Method::POST, "/v1/customers", None, 400),
        // A query parameter the route does not take (a typo of `page`).
        (reqwest::Method::GET, "/v1/customers?pgae=2", None, 400),
        (
            reqwest::Method::POST,
            "/v1/customers",
            Some(("application/json", "{\"customer\":")),
            400,
        ),
        (
            reqwest::Method::POST,
            "/v1/customers",
            Some(("text/plain", "customer=x")),
            415,
        ),
        (
            reqwest::Method::POST,
            "/v1/customers",
            Some(("application/json", "[1,2]")),
            400,
        ),
    ];
    for (method, path, body, status) in cases {
        let mut req = http.request(method.clone(), format!("{}{path}", svc.rest));
        if let Some((ct, b)) = body {
            req = req.header("content-type", ct).body(b);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{method} {path} {body:?}");
        let err: Value = resp.json().await.unwrap();
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{err}"
        );
    }
    // Too large a body is 413.
    let big = format!(
        "{{\"customer\":{{\"name\":\"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let resp = http
        .post(format!("{}/v1/customers", svc.rest))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert!(stub.requests().is_empty(), "no upstream call for bad input");

    // The same through MCP: invalid arguments are tool errors, with no upstream call.
    let client = common::mcp_client(&svc.mcp, None).await;
    for (tool, args) in [
        ("lago-retrieve-customer", json!({})),
        ("lago-retrieve-customer", json!({"external_id": 42})),
        (
            "lago-retrieve-customer-past-usage",
            json!({"external_customer_id": "c", "external_subscription_id": "s", "periods_count": "three"}),
        ),
        ("lago-create-customer", json!({"body": "not an object"})),
        ("lago-list-all-customers", json!({"pgae": 2})),
    ] {
        let r = common::call(&client, tool, args.clone()).await;
        assert_eq!(r.is_error, Some(true), "{tool} {args}");
        assert!(
            common::text(&r).starts_with("invalid arguments"),
            "{}",
            common::text(&r)
        );
    }
    let r = common::call(
        &client,
        "lago-retrieve-customer",
        json!({"external_id": "../admin"}),
    )
    .await;
    assert_eq!(r.is_error, Some(false));
    assert_eq!(stub.requests().len(), 1);
    assert_eq!(stub.requests()[0].path, "/api/v1/customers/..%2Fadmin");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_upstream_is_a_502_and_a_tool_error() {
    let closed = naftiko_runtime::testing::free_port();
    let base = format!("http://127.0.0.1:{closed}/api/v1");
    let svc = common::start(&[
        "--base-url",
        &base,
        "--connect-timeout",
        "2",
        "--timeout",
        "5",
    ]);
    let started = std::time::Instant::now();
    let resp = reqwest::get(format!("{}/v1/customers", svc.rest))
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("lago-customers.findallcustomers"),
        "{body}"
    );
    let client = common::mcp_client(&svc.mcp, None).await;
    let r = common::call(&client, "lago-list-all-customers", json!({})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(common::text(&r).contains("lago-customers.findallcustomers"));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    client.cancel().await.unwrap();
}

#[test]
fn missing_api_key_is_a_one_line_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lago-customers"))
        .args([
            "serve",
            "--rest-addr",
            "127.0.0.1:0",
            "--mcp-addr",
            "127.0.0.1:0",
        ])
        .env_remove("LAGO_API_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: LAGO_API_KEY is not set"), "{err}");
    assert!(last.contains("--sandbox"), "{err}");
    assert!(!err.contains("panicked"));
}

/// `completions <SHELL>` prints a script that completes the subcommands and their flags.
#[test]
fn completions_know_the_subcommands_and_flags() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lago-customers"))
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains("complete -F _lago__customers"), "{script}");
    for word in [
        "serve",
        "mcp-stdio",
        "--sandbox",
        "--rest-addr",
        "--shutdown-timeout",
    ] {
        assert!(script.contains(word), "the script lacks `{word}`");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_key_never_reaches_the_logs() {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|r| match r.path.as_str() {
        "/api/v1/customers" => Reply::json(401, json!({"status": 401, "error": "Unauthorized"})),
        _ => Reply::json(503, json!({"status": 503})),
    });
    let base = format!("{}/api/v1", stub.url());
    let log = std::env::temp_dir().join(format!("lago-log-{}.txt", std::process::id()));
    let file = std::fs::File::create(&log).unwrap();
    let (rest_port, mcp_port) = (
        naftiko_runtime::testing::free_port(),
        naftiko_runtime::testing::free_port(),
    );
    let rest = format!("127.0.0.1:{rest_port}");
    let mcp = format!("127.0.0.1:{mcp_port}");
    let key = "lago-key-8f3a9c-secret";
    let mut svc = naftiko_runtime::testing::Service::start_logging_to(
        std::path::Path::new(env!("CARGO_BIN_EXE_lago-customers")),
        &[
            "serve",
            "--base-url",
            &base,
            "--rest-addr",
            &rest,
            "--mcp-addr",
            &mcp,
        ],
        &[("LAGO_API_KEY", key), ("RUST_LOG", "trace")],
        &[rest_port, mcp_port],
        file.into(),
    );
    let http = reqwest::Client::new();
    for path in [
        "/v1/customers",
        "/v1/customers/c-1",
        "/v1/customers/c-1/portal-url",
    ] {
        let _ = http
            .get(format!("http://{rest}{path}"))
            .send()
            .await
            .unwrap();
    }
    let client = common::mcp_client(&format!("http://{mcp}/mcp"), None).await;
    let _ = common::call(&client, "lago-list-all-customers", json!({})).await;
    client.cancel().await.unwrap();
    let _ = svc.0.kill();
    let _ = svc.0.wait();
    let logs = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(
        logs.lines().count() > 10,
        "trace logs were written:\n{logs}"
    );
    assert!(!logs.contains(key), "the API key leaked into the logs");
    assert_eq!(
        stub.requests()[0].header("authorization"),
        Some(format!("Bearer {key}").as_str())
    );
}

/// Every answer carries an `x-request-id` (the caller's, else a new one); `--access-log`
/// writes one line per request with it; `--log-format json` makes every line a JSON object.
#[tokio::test(flavor = "multi_thread")]
async fn request_ids_access_log_and_json_logs() {
    let log = std::env::temp_dir().join(format!("lago-access-{}.txt", std::process::id()));
    let file = std::fs::File::create(&log).unwrap();
    let (rest_port, mcp_port) = (
        naftiko_runtime::testing::free_port(),
        naftiko_runtime::testing::free_port(),
    );
    let rest = format!("127.0.0.1:{rest_port}");
    let mcp = format!("127.0.0.1:{mcp_port}");
    let mut svc = naftiko_runtime::testing::Service::start_logging_to(
        std::path::Path::new(env!("CARGO_BIN_EXE_lago-customers")),
        &[
            "serve",
            "--sandbox",
            "--access-log",
            "--log-format",
            "json",
            "--rest-addr",
            &rest,
            "--mcp-addr",
            &mcp,
        ],
        &[("RUST_LOG", "info")],
        &[rest_port, mcp_port],
        file.into(),
    );
    let http = reqwest::Client::new();
    let r = http
        .get(format!("http://{rest}/v1/customers/demo-customer"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let made = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let r = http
        .get(format!("http://{rest}/v1/customers?pgae=1"))
        .header("x-request-id", "caller-id-7")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-request-id"], "caller-id-7");
    let client = common::mcp_client(&format!("http://{mcp}/mcp"), None).await;
    let _ = common::call(&client, "lago-list-all-customers", json!({})).await;
    client.cancel().await.unwrap();
    let _ = svc.0.kill();
    let _ = svc.0.wait();
    let logs = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let access: Vec<&Value> = lines.iter().filter(|l| l["target"] == "access").collect();
    let find = |id: &str| {
        access
            .iter()
            .find(|l| l["span"]["id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id}:\n{logs}"))
    };
    let ok = find(&made);
    assert_eq!(ok["fields"]["status"], 200);
    assert_eq!(ok["span"]["path"], "/v1/customers/demo-customer");
    assert_eq!(find("caller-id-7")["fields"]["status"], 400);
    assert!(
        access.iter().any(|l| l["span"]["surface"] == "mcp"),
        "{logs}"
    );
    // The query (which may hold customer data) is not logged.
    assert!(!logs.contains("pgae"), "{logs}");
}
