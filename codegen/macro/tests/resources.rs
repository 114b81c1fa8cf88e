//! MCP resources and prompts of a generated server, read by rmcp's own client over
//! Streamable HTTP on a real socket: a folder of files, results by fixed URI and by URI
//! template, inline and file prompts, and the errors a client gets for bad URIs and names.

use naftiko_runtime::client::ClientConfig;
use naftiko_runtime::testing::{RecordingStub, Reply};
use rmcp::ServiceExt;
use rmcp::model::{
    ClientConfig as McpClientConfig, GetPromptRequestParams, Implementation,
    ReadResourceRequestParams, ResourceContents,
};
use rmcp::service::{RoleClient, RunningService};
use serde_json::{Value, json};

mod library {
    naftiko_codegen_macro::capability!("tests/specs/library.yaml");
}

struct Server {
    url: String,
    client: RunningService<RoleClient, McpClientConfig>,
    _stub: RecordingStub,
}

async fn start() -> Server {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|r| match r.path.as_str() {
        "/v1/books" => Reply::json(200, json!([{"isbn": "1", "title": "Dune"}])),
        "/v1/books/1" => Reply::json(200, json!({"isbn": "1", "title": "Dune"})),
        _ => Reply::json(404, json!({"error": "no such book"})),
    });
    let base = format!("{}/v1", stub.url());
    let clients =
        library::Clients::with_config(|_| ClientConfig::default().base_url(base.clone())).unwrap();
    let router = naftiko_runtime::mcp::http_router(
        library::library::handler(clients),
        &naftiko_runtime::mcp::HttpOptions::default(),
        Default::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.clone());
    let client = McpClientConfig::new(Default::default(), Implementation::new("t", "1"))
        .serve(transport)
        .await
        .unwrap();
    Server {
        url,
        client,
        _stub: stub,
    }
}

fn text(c: &ResourceContents) -> (&str, Option<&str>) {
    match c {
        ResourceContents::TextResourceContents {
            text, mime_type, ..
        } => (text, mime_type.as_deref()),
        other => panic!("not text: {other:?}"),
    }
}

async fn read(s: &Server, uri: &str) -> Result<Vec<ResourceContents>, String> {
    s.client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .map(|r| r.contents)
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn resources_list_and_read() {
    let s = start().await;
    let caps = s.client.peer_info().unwrap().capabilities.clone();
    assert!(caps.resources.is_some() && caps.prompts.is_some());

    let listed = s.client.list_all_resources().await.unwrap();
    let uris: Vec<(&str, Option<&str>, Option<&str>)> = listed
        .iter()
        .map(|r| (r.uri.as_str(), r.title.as_deref(), r.mime_type.as_deref()))
        .collect();
    // Files sorted by path, then the fixed-URI result; the template is listed apart.
    assert_eq!(
        uris,
        [
            (
                "docs://guides/guides/notes.json",
                Some("Reading guides"),
                Some("application/json")
            ),
            (
                "docs://guides/slow.md",
                Some("Reading guides"),
                Some("text/markdown")
            ),
            ("data://books", Some("Catalogue"), None),
        ]
    );
    let templates = s.client.list_all_resource_templates().await.unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].uri_template, "data://books/{isbn}/title");

    let file = read(&s, "docs://guides/slow.md").await.unwrap();
    assert_eq!(
        text(&file[0]),
        (
            "# Reading slowly\n\nOne chapter a day.\n",
            Some("text/markdown")
        )
    );

    let all = read(&s, "data://books").await.unwrap();
    let (body, mime) = text(&all[0]);
    assert_eq!(mime, Some("application/json"));
    assert_eq!(
        serde_json::from_str::<Value>(body).unwrap()[0]["title"],
        "Dune"
    );

    let title = read(&s, "data://books/1/title").await.unwrap();
    assert_eq!(text(&title[0]), ("\"Dune\"", Some("application/json")));

    for (uri, says) in [
        ("docs://guides/../library.yaml", "Path traversal detected"),
        (
            "docs://guides/a%2Fb",
            "Invalid path segment in resource URI: a%2Fb",
        ),
        ("docs://guides/guides", "directory"),
        ("docs://guides", "directory"),
        ("data://nothing", "Unknown resource URI: data://nothing"),
        ("data://books//title", "Unknown resource URI"),
        ("data://books/9/title", "404"),
    ] {
        let e = read(&s, uri).await.unwrap_err();
        assert!(e.contains(says), "{uri}: {e}");
    }
    s.client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn prompts_list_and_render() {
    let s = start().await;
    let prompts = s.client.list_all_prompts().await.unwrap();
    let listed = serde_json::to_value(&prompts).unwrap();
    assert_eq!(
        listed,
        json!([
            {"name": "review", "title": "Review a book", "description": "Ask for a short review.",
             "arguments": [
                {"name": "title", "description": "The book's title.", "required": true},
                {"name": "tone", "description": "How the review sounds.", "required": false}]},
            {"name": "recommend", "description": "Recommend a next book.",
             "arguments": [{"name": "last", "description": "The last book read.", "required": true}]}
        ])
    );

    let args = |v: Value| v.as_object().cloned();
    let got = s
        .client
        .get_prompt(
            GetPromptRequestParams::new("review")
                .with_arguments(args(json!({"title": "Dune {{tone}}"})).unwrap()),
        )
        .await
        .unwrap();
    let messages = serde_json::to_value(&got.messages).unwrap();
    assert_eq!(
        messages,
        json!([
            {"role": "user", "content": {"type": "text", "text": "Review Dune {{tone}} in a {{tone}} tone."}},
            {"role": "assistant", "content": {"type": "text", "text": "Which aspects matter most to you?"}},
            {"role": "user", "content": {"type": "text", "text": "Plot and style of Dune {{tone}}."}}
        ])
    );

    let got = s
        .client
        .get_prompt(
            GetPromptRequestParams::new("recommend")
                .with_arguments(args(json!({"last": "Dune"})).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&got.messages).unwrap(),
        json!([{"role": "user", "content": {"type": "text",
                "text": "I just read Dune. What should I read next?\n"}}])
    );

    let missing = s
        .client
        .get_prompt(GetPromptRequestParams::new("review"))
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("needs the argument `title`"), "{missing}");
    let unknown = s
        .client
        .get_prompt(GetPromptRequestParams::new("nope"))
        .await
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("Unknown prompt: nope"), "{unknown}");
    s.client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_their_parameters_are_invalid_params() {
    let s = start().await;
    let http = reqwest::Client::new();
    for (body, says) in [
        (
            json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read"}),
            "Invalid params: missing params",
        ),
        (
            json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {}}),
            "Invalid params: uri is required",
        ),
        (
            json!({"jsonrpc": "2.0", "id": 3, "method": "prompts/get", "params": {"name": 7}}),
            "Invalid params: name must be a string",
        ),
        (
            json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {}}),
            "Invalid params: name is required",
        ),
    ] {
        let r = http
            .post(&s.url)
            .header("accept", "application/json, text/event-stream")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let got: Value = r.json().await.unwrap();
        assert_eq!(got["id"], body["id"]);
        assert_eq!(got["error"]["code"], -32602, "{got}");
        assert_eq!(got["error"]["message"], says);
    }
    s.client.cancel().await.unwrap();
}
