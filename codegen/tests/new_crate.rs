//! `naftiko-codegen new` for a spec of another API (specs/bookshelf.yaml): the generated
//! crate builds, and its service, driven over real sockets, calls a recording stub upstream
//! exactly as the spec prescribes.

mod support;

use std::process::Command;

use naftiko_runtime::testing::{RecordingStub, Reply, Service, free_port};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn generated_crate_serves_rest_and_mcp_against_a_stub() {
    let root = support::root();
    let dir = support::e2e_target().join("bookshelf-crate");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_naftiko-codegen"))
        .args(["new", "specs/bookshelf.yaml", "--out"])
        .arg(&dir)
        // This checkout, wherever the target directory lies (CARGO_TARGET_DIR may be elsewhere).
        .arg("--codegen-path")
        .arg(root.join("codegen"))
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Same dependency versions as the workspace.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    support::cargo(&dir, &["build", "--quiet"]);
    let bin = support::e2e_target().join("debug").join("bookshelf");

    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/api/books") => Reply::json(
            200,
            json!({"books": [{"id": "b1", "title": "Dune", "isbn": "x"}]}),
        ),
        ("GET", "/api/books/missing") => Reply::json(404, json!({"error": "no such book"})),
        ("GET", _) => Reply::json(
            200,
            json!({"book": {"id": "b1", "title": "Dune"}, "etag": "1"}),
        ),
        _ => Reply::json(200, json!({"ok": true})),
    });
    let (rest_port, mcp_port) = (free_port(), free_port());
    let rest_addr = format!("127.0.0.1:{rest_port}");
    let mcp_addr = format!("127.0.0.1:{mcp_port}");
    let base = format!("{}/api", stub.url());
    let _service = Service::start(
        &bin,
        &[
            "serve",
            "--rest-addr",
            &rest_addr,
            "--mcp-addr",
            &mcp_addr,
            "--base-url",
            &base,
        ],
        &[("BOOKSHELF_API_KEY", "k-123")],
        &[rest_port, mcp_port],
    );
    let http = reqwest::Client::new();
    let rest = format!("http://{rest_addr}");

    // Typed query parameters of every kind, renamed (min-rating -> min_rating), repeated arrays.
    let r = http
        .get(format!(
            "{rest}/books?q=dune%20messiah&limit=5&min-rating=4.5&available=true&tag=sf&tag=classic"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!([{"id": "b1", "title": "Dune"}])
    );
    let req = stub.requests().pop().unwrap();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/api/books")
    );
    assert_eq!(
        req.query_pairs(),
        vec![
            ("q".into(), "dune messiah".into()),
            ("limit".into(), "5".into()),
            ("min_rating".into(), "4.5".into()),
            ("available".into(), "true".into()),
            ("tag[]".into(), "sf".into()),
            ("tag[]".into(), "classic".into()),
        ]
    );
    assert_eq!(req.header("x-api-key"), Some("k-123"));
    assert_eq!(req.header("accept"), Some("application/json"));

    // Mistyped or missing required parameters: 400 with a JSON error, and no upstream call.
    stub.clear();
    for q in [
        "limit=abc",
        "limit=5&available=yes",
        "limit=5&min-rating=high",
        "q=x",
    ] {
        let r = http.get(format!("{rest}/books?{q}")).send().await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("query parameter"),
            "{body}"
        );
    }
    assert!(stub.requests().is_empty());

    // PUT and PATCH with JSON bodies; the id stays one path segment.
    for (method, m) in [
        (reqwest::Method::PUT, "PUT"),
        (reqwest::Method::PATCH, "PATCH"),
        (reqwest::Method::DELETE, "DELETE"),
    ] {
        stub.clear();
        let r = http
            .request(method, format!("{rest}/books/a%2F..%2Fb"))
            .json(&json!({"title": "Dune"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{m}");
        let req = stub.requests().pop().unwrap();
        assert_eq!(
            (req.method.as_str(), req.path.as_str()),
            (m, "/api/books/a%2F..%2Fb")
        );
        if m != "DELETE" {
            assert_eq!(req.json(), json!({"title": "Dune"}));
        }
    }
    // A non-JSON body is refused before any upstream call.
    stub.clear();
    let r = http
        .put(format!("{rest}/books/b1"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = http
        .put(format!("{rest}/books/b1"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(stub.requests().is_empty());

    // A templated JSON body from body fields, a header, and a constant.
    let r = http
        .post(format!("{rest}/books/b1/loans"))
        .header("X-Request-Id", "req-7")
        .json(&json!({"member": {"id": "m\"1"}, "days": 14}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let req = stub.requests().pop().unwrap();
    assert_eq!(req.path, "/api/books/b1/loans");
    assert_eq!(req.header("x-request-id"), Some("req-7"));
    assert_eq!(
        req.json(),
        json!({"member": "m\"1", "days": 14, "note": "lent via rest"})
    );

    // Output mapping `$.book`, and upstream errors passed through with status and body.
    let r = http.get(format!("{rest}/books/b1")).send().await.unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"id": "b1", "title": "Dune"})
    );
    let r = http
        .get(format!("{rest}/books/missing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "no such book"})
    );

    // MCP, through rmcp's client.
    let transport =
        rmcp::transport::StreamableHttpClientTransport::from_uri(format!("http://{mcp_addr}/mcp"));
    let client = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("e2e", "1"),
    )
    .serve(transport)
    .await
    .unwrap();
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        ["search-books", "get-book", "update-book", "lend-book"]
    );
    let search = &tools[0];
    assert_eq!(search.title.as_deref(), Some("Search books"));
    assert_eq!(search.input_schema["required"], json!(["query", "limit"]));
    assert_eq!(
        search.input_schema["properties"]["min_rating"]["type"],
        "number"
    );
    let annotations = search.annotations.as_ref().unwrap();
    assert_eq!(annotations.read_only_hint, Some(true));
    assert_eq!(annotations.open_world_hint, Some(true));

    stub.clear();
    let args =
        json!({"query": "dune", "limit": 2, "min_rating": 4, "available": false, "tags": ["sf"]});
    let result = client
        .call_tool(
            CallToolRequestParams::new("search-books")
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false));
    let req = stub.requests().pop().unwrap();
    assert_eq!(
        req.query.as_deref(),
        Some("q=dune&limit=2&min_rating=4&available=false&tag%5B%5D=sf")
    );

    let args = json!({"book_id": "b 1", "member": "m1", "days": 3});
    let result = client
        .call_tool(
            CallToolRequestParams::new("lend-book")
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false));
    let req = stub.requests().pop().unwrap();
    assert_eq!(req.path, "/api/books/b%201/loans");
    assert_eq!(
        req.json(),
        json!({"member": "m1", "days": 3, "note": "lent via mcp"})
    );

    // Invalid arguments are tool errors, with no upstream call.
    stub.clear();
    let args = json!({"query": "dune", "limit": "two"});
    let result = client
        .call_tool(
            CallToolRequestParams::new("search-books")
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    assert!(stub.requests().is_empty());
    // Upstream errors are tool errors carrying the upstream body.
    let args = json!({"book_id": "missing"});
    let result = client
        .call_tool(
            CallToolRequestParams::new("get-book")
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    assert_eq!(
        result.structured_content,
        Some(json!({"error": "no such book"}))
    );
    client.cancel().await.unwrap();
}

/// A beta5 spec that imports its API from another file: `new` copies both, keeping their
/// layout; the crate builds with relative path dependencies (never absolute ones); editing
/// the imported file regenerates the code.
#[test]
fn new_crate_of_a_beta5_spec_with_imports_rebuilds_when_an_import_changes() {
    let root = support::root();
    let dir = support::e2e_target().join("fleet-crate");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_naftiko-codegen"))
        .args(["new", "codegen/macro/tests/specs/fleet.yaml", "--out"])
        .arg(&dir)
        // This checkout, wherever the target directory lies (CARGO_TARGET_DIR may be elsewhere).
        .arg("--codegen-path")
        .arg(root.join("codegen"))
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    // No absolute path (a relative one may pass through the root on its way to the checkout).
    assert!(!manifest.contains("path = \"/"), "{manifest}");
    // A relative path that leads to this checkout's runtime.
    let runtime = manifest
        .lines()
        .find(|l| l.starts_with("naftiko-runtime"))
        .and_then(|l| l.split("path = \"").nth(1))
        .and_then(|p| p.split('"').next())
        .unwrap_or_else(|| panic!("no runtime path: {manifest}"));
    assert!(runtime.starts_with(".."), "{manifest}");
    assert_eq!(
        dir.join(runtime).canonicalize().unwrap(),
        root.join("codegen/runtime").canonicalize().unwrap()
    );
    assert!(dir.join("Cargo.lock").is_file());
    let imported = dir.join("specs/shared/fleet-consumes.yaml");
    assert!(dir.join("specs/fleet.yaml").is_file() && imported.is_file());
    // The bind's file holds secrets: it is read at run time, never copied.
    assert!(!dir.join("specs/shared/secrets.yaml").exists());
    support::cargo(&dir, &["build", "--quiet"]);
    let generated = || -> String {
        let build = support::e2e_target().join("debug/build");
        std::fs::read_dir(&build)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("fleet-"))
            // The newest: a reused target directory keeps the outputs of earlier runs.
            .filter_map(|e| {
                let file = e.path().join("out/fleet.rs");
                let modified = std::fs::metadata(&file).and_then(|m| m.modified()).ok()?;
                Some((modified, file))
            })
            .max_by_key(|(modified, _)| *modified)
            .and_then(|(_, file)| std::fs::read_to_string(file).ok())
            .unwrap_or_default()
    };
    assert!(!generated().contains("list_ports"));
    let text = std::fs::read_to_string(&imported).unwrap();
    let added = text.replace(
        "    crew:\n",
        "    ports:\n      path: /ports\n      operations:\n        list-ports:\n          method: GET\n    crew:\n",
    );
    assert_ne!(text, added);
    std::fs::write(&imported, added).unwrap();
    support::cargo(&dir, &["build", "--quiet"]);
    assert!(
        generated().contains("pub async fn list_ports"),
        "the build did not rerun"
    );
}

/// `completions <SHELL>` prints a script that knows every subcommand, and a closed pipe
/// (`| head`) is not a panic.
#[test]
fn completions_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(env!("CARGO_BIN_EXE_naftiko-codegen"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for sub in ["check", "expand", "openapi", "new", "completions"] {
            assert!(script.contains(sub), "{shell} script lacks `{sub}`");
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_naftiko-codegen"))
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// `Builder::build_server(false)` with the runtime's `client` feature alone: the crate
/// compiles reqwest and serde but no axum, rmcp or clap, and its typed client calls the
/// upstream as the spec prescribes.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_only_crate_has_no_server_stack_and_calls_its_upstream() {
    let root = support::root();
    let dir = support::e2e_target().join("client-only-crate");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let path = |p: &str| root.join(p).display().to_string().replace('\\', "/");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            r#"[package]
name = "client-only"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
naftiko-runtime = {{ path = "{}", default-features = false, features = ["client"] }}
tokio = {{ version = "1", features = ["rt-multi-thread", "macros"] }}

[build-dependencies]
naftiko-codegen = {{ path = "{}" }}

[workspace]
"#,
            path("codegen/runtime"),
            path("codegen")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("build.rs"),
        format!(
            "fn main() {{ naftiko_codegen::Builder::new().build_server(false).compile({:?}); }}\n",
            path("specs/bookshelf.yaml")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        r#"include!(concat!(env!("OUT_DIR"), "/bookshelf.rs"));

#[tokio::main]
async fn main() -> Result<(), naftiko_runtime::Error> {
    let base = std::env::args().nth(1).expect("base URL");
    let config = naftiko_runtime::client::ClientConfig::default().base_url(base);
    let client = bookshelf::Client::new(config)?;
    let params = bookshelf::ListBooksParams { limit: 2, tag: Some(vec!["sf".into()]), ..Default::default() };
    let books = client.list_books(&params).await?;
    println!("{}", books.json()?);
    Ok(())
}
"#,
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    support::cargo(&dir, &["build", "--quiet"]);

    // The dependency graph holds the client stack and none of the server's.
    let tree = Command::new(env!("CARGO"))
        .args(["tree", "-e", "normal", "--prefix", "none", "--offline"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", support::e2e_target())
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&tree.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(crates.contains(&"reqwest"), "{tree}");
    for server in [
        "axum",
        "rmcp",
        "clap",
        "tracing-subscriber",
        "metrics-exporter-prometheus",
    ] {
        assert!(
            !crates.contains(&server),
            "{server} in the client-only graph:\n{tree}"
        );
    }

    let stub = RecordingStub::start().await.unwrap();
    stub.respond(|_| Reply::json(200, json!({"books": [{"id": "b1", "title": "Dune"}]})));
    let out = Command::new(support::e2e_target().join("debug").join("client-only"))
        .arg(format!("{}/api", stub.url()))
        .env("BOOKSHELF_API_KEY", "k-1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["books"][0]["title"], "Dune");
    let sent = stub.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/api/books");
    assert_eq!(sent[0].header("x-api-key"), Some("k-1"));
    assert_eq!(
        sent[0].query_pairs(),
        [
            ("limit".to_owned(), "2".to_owned()),
            ("tag[]".to_owned(), "sf".to_owned())
        ]
    );
}
