//! The outbound authentication kinds the grammar defines, as the runtime sends them.

use naftiko_runtime::client::{Auth, ClientConfig, HttpClient, Loc};
use naftiko_runtime::testing::{RecordingStub, Reply};
use naftiko_runtime::{Method, Secret};
use serde_json::json;

async fn call(stub: &RecordingStub, auth: Auth, fixed: Vec<(Loc, &'static str, String)>) -> u16 {
    let client = HttpClient::new(
        "ns",
        "http://unused.invalid",
        auth,
        fixed,
        ClientConfig::default().base_url(stub.url()),
    )
    .unwrap();
    let mut req = client.request(Method::GET, "op");
    req.path("/things");
    req.query("q", "a b");
    match client.send(req).await {
        Ok(r) => r.status.as_u16(),
        Err(naftiko_runtime::Error::Upstream { status, .. }) => status.as_u16(),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn bearer_apikey_basic_and_fixed_parameters() {
    let stub = RecordingStub::start().await.unwrap();
    call(&stub, Auth::Bearer(Secret::new("t0k")), vec![]).await;
    assert_eq!(
        stub.requests()[0].header("authorization"),
        Some("Bearer t0k")
    );

    stub.clear();
    call(
        &stub,
        Auth::ApiKey {
            name: "X-Api-Key",
            value: Secret::new("k1"),
            in_query: false,
        },
        vec![],
    )
    .await;
    assert_eq!(stub.requests()[0].header("x-api-key"), Some("k1"));

    stub.clear();
    call(
        &stub,
        Auth::ApiKey {
            name: "api_key",
            value: Secret::new("k&2"),
            in_query: true,
        },
        vec![],
    )
    .await;
    assert_eq!(
        stub.requests()[0].query.as_deref(),
        Some("q=a%20b&api_key=k%262")
    );

    stub.clear();
    call(
        &stub,
        Auth::Basic {
            username: "ann".into(),
            password: Secret::new("pw"),
        },
        vec![],
    )
    .await;
    assert_eq!(
        stub.requests()[0].header("authorization"),
        Some("Basic YW5uOnB3")
    );

    stub.clear();
    let fixed = vec![
        (Loc::Header, "Registry-Version", "2026-01".to_owned()),
        (Loc::Query, "v", "2".to_owned()),
        (Loc::Cookie, "session", "s 1".to_owned()),
    ];
    call(&stub, Auth::None, fixed).await;
    let r = &stub.requests()[0];
    assert_eq!(r.header("registry-version"), Some("2026-01"));
    assert_eq!(r.query.as_deref(), Some("q=a%20b&v=2"));
    assert_eq!(r.header("cookie"), Some("session=s%201"));
    assert!(r.header("authorization").is_none());
}

#[tokio::test]
async fn digest_answers_the_challenge_once() {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|r| match r.header("authorization") {
        Some(a) if a.starts_with("Digest ") => Reply::json(200, json!({"ok": true})),
        _ => Reply::json(401, json!({"error": "auth"})).header(
            "www-authenticate",
            r#"Digest realm="api", qop="auth", nonce="abc123", opaque="xyz", algorithm=MD5"#,
        ),
    });
    let status = call(
        &stub,
        Auth::Digest {
            username: "ann".into(),
            password: Secret::new("pw"),
        },
        vec![],
    )
    .await;
    assert_eq!(status, 200);
    let reqs = stub.requests();
    assert_eq!(reqs.len(), 2);
    let answer = reqs[1].header("authorization").unwrap();
    assert!(
        answer.contains(r#"username="ann""#)
            && answer.contains(r#"realm="api""#)
            && answer.contains(r#"uri="/things?q=a%20b""#),
        "{answer}"
    );
    assert!(!answer.contains("pw"));
    // A wrong password gets the upstream's 401 back, after one answer only.
    stub.clear();
    stub.respond(|_| {
        Reply::json(401, json!({"error": "auth"}))
            .header("www-authenticate", r#"Digest realm="api", nonce="n""#)
    });
    let status = call(
        &stub,
        Auth::Digest {
            username: "ann".into(),
            password: Secret::new("bad"),
        },
        vec![],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output_and_errors() {
    let client = HttpClient::new(
        "ns",
        "http://127.0.0.1:1",
        Auth::ApiKey {
            name: "key",
            value: Secret::new("very-secret"),
            in_query: true,
        },
        vec![],
        ClientConfig::default().with_var("X", "very-secret"),
    )
    .unwrap();
    assert!(!format!("{client:?}").contains("very-secret"));
    let mut req = client.request(Method::GET, "op");
    req.path("/x");
    let err = client.send(req).await.unwrap_err();
    assert!(!err.to_string().contains("very-secret"), "{err}");
    assert!(
        !format!("{:?}", ClientConfig::default().with_var("X", "very-secret"))
            .contains("very-secret")
    );
}
