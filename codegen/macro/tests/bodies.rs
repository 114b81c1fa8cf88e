//! Each request body type of `consumes`, as a stub upstream receives it over a socket: JSON,
//! text, XML, form-encoded and multipart (read back by a real multipart parser, multer via
//! axum), from the typed client and through a REST route.

use std::sync::{Arc, Mutex};

use naftiko_runtime::client::ClientConfig;
use naftiko_runtime::testing::{RecordingStub, Reply};
use serde_json::{Value, json};

mod bodies {
    naftiko_codegen_macro::capability!("tests/specs/bodies.yaml");
}

use bodies::up;

async fn client() -> (up::Client, RecordingStub) {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|_| Reply::json(200, json!({"ok": true})));
    let config = ClientConfig::default().base_url(format!("{}/v1", stub.url()));
    (up::Client::new(config).unwrap(), stub)
}

fn content_type(stub: &RecordingStub) -> String {
    stub.requests()[0]
        .header("content-type")
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn json_text_xml_and_form_bodies_are_sent_as_declared() {
    let (c, stub) = client().await;
    let params = up::JsonOpParams {
        name: Some(json!("Ann \"A\"")),
        note: Some(json!(3)),
    };
    c.json_op(&params).await.unwrap();
    assert_eq!(content_type(&stub), "application/json");
    let sent: Value = serde_json::from_slice(&stub.requests()[0].body).unwrap();
    // A placeholder inside a JSON string stays a string.
    assert_eq!(sent, json!({"name": "Ann \"A\"", "note": "3"}));

    stub.clear();
    c.text_op(&up::TextOpParams {
        name: Some(json!("Bo")),
    })
    .await
    .unwrap();
    assert!(content_type(&stub).starts_with("text/plain"));
    assert_eq!(&stub.requests()[0].body[..], b"Hello Bo");

    // Values go in as they are, as the engine renders them (no escaping): a value may be
    // an XML fragment of its own.
    stub.clear();
    c.xml_op(&up::XmlOpParams {
        name: Some(json!("<b>Cy</b>")),
    })
    .await
    .unwrap();
    assert_eq!(content_type(&stub), "application/xml");
    assert_eq!(
        std::str::from_utf8(&stub.requests()[0].body).unwrap(),
        "<item><name><b>Cy</b></name></item>"
    );

    stub.clear();
    let form = up::FormOpParams {
        name: Some(json!("+1 555")),
        note: Some(json!("a&b=c")),
    };
    c.form_op(&form).await.unwrap();
    assert_eq!(content_type(&stub), "application/x-www-form-urlencoded");
    let pairs: Vec<(String, String)> = form_urlencoded(&stub.requests()[0].body);
    assert_eq!(
        pairs,
        [
            ("To".into(), "+1 555".into()),
            ("Body".into(), "a&b=c".into())
        ]
    );
}

fn form_urlencoded(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// What a multipart parser read: (name, filename, content type, text) per part.
type Parts = Vec<(String, Option<String>, Option<String>, String)>;

/// An upstream that parses `multipart/form-data` with axum's extractor (multer).
async fn multipart_upstream() -> (String, Arc<Mutex<Parts>>) {
    let seen: Arc<Mutex<Parts>> = Arc::default();
    let keep = seen.clone();
    let app = axum::Router::new().route(
        "/v1/items",
        axum::routing::post(move |mut form: axum::extract::Multipart| {
            let keep = keep.clone();
            async move {
                let mut parts = Parts::new();
                while let Some(field) = form.next_field().await.map_err(|e| e.to_string())? {
                    let name = field.name().unwrap_or_default().to_owned();
                    let file = field.file_name().map(str::to_owned);
                    let ct = field.content_type().map(str::to_owned);
                    let text = field.text().await.map_err(|e| e.to_string())?;
                    parts.push((name, file, ct, text));
                }
                *keep.lock().unwrap() = parts;
                Ok::<_, String>(axum::Json(json!({"ok": true})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn a_multipart_body_is_read_back_by_a_real_parser() {
    let (url, seen) = multipart_upstream().await;
    let c = up::Client::new(ClientConfig::default().base_url(url)).unwrap();
    let params = up::MultipartOpParams {
        name: Some(json!("Quarterly \"report\"")),
        note: Some(json!("line 1\r\n--not-a-boundary\r\nline 3")),
    };
    let answer = c.multipart_op(&params).await.unwrap();
    assert_eq!(answer.json().unwrap(), json!({"ok": true}));
    let parts = seen.lock().unwrap().clone();
    assert_eq!(
        parts,
        [
            (
                "title".to_owned(),
                None,
                None,
                "Quarterly \"report\"".to_owned()
            ),
            (
                "attachment".to_owned(),
                Some("notes %221%22.txt".to_owned()),
                Some("text/plain".to_owned()),
                "line 1\r\n--not-a-boundary\r\nline 3".to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn a_rest_route_sends_its_inputs_as_multipart() {
    let (url, seen) = multipart_upstream().await;
    let clients =
        bodies::Clients::with_config(|_| ClientConfig::default().base_url(url.clone())).unwrap();
    let router = bodies::up_rest::router(clients).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/items?name=Dee&note=hello%20there"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let parts = seen.lock().unwrap().clone();
    assert_eq!(parts[0].3, "Dee");
    assert_eq!(parts[1].3, "hello there");
}
