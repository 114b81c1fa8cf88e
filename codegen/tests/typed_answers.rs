//! Typed answers from an OpenAPI document (`Builder::openapi`), end to end: the Bookshelf
//! spec generated with a small OpenAPI 3.0 document of its API (tests/data), built in a
//! crate of its own with clippy's warnings denied, and its typed methods called over a
//! real socket against a recording stub upstream. A body that does not match its model is
//! the documented error, naming the operation and the JSON path of the mismatch.

mod support;

use std::process::Command;

const SPEC: &str = "specs/bookshelf.yaml";
const OPENAPI: &str = "codegen/tests/data/bookshelf-openapi.yaml";

#[test]
fn typed_methods_read_answers_into_the_documents_models() {
    let root = support::root();
    let g = naftiko_codegen::generate_with_openapi(root.join(SPEC), root.join(OPENAPI))
        .unwrap_or_else(|d| panic!("{d}"));
    // The operations the document leaves out, or describes without a JSON body, are named.
    let warnings = g.warnings.to_string();
    assert_eq!(g.warnings.0.len(), 2, "{warnings}");
    assert!(
        warnings.contains("`bookshelf.delete-book` matches `DELETE /books/{id}` of the OpenAPI document, which declares no JSON success answer"),
        "{warnings}"
    );
    assert!(
        warnings.contains("does not describe `bookshelf.replace-book` (PUT /books/{{book_id}}), `bookshelf.update-book` (PATCH /books/{{book_id}})"),
        "{warnings}"
    );
    for typed in [
        "pub async fn list_books_typed(",
        "pub async fn create_book_typed(",
        "pub async fn get_book_typed(",
        "pub async fn lend_book_typed(",
        "pub mod models {",
    ] {
        assert!(g.source.contains(typed), "no {typed}");
    }
    // The raw methods stay as they were: the output without the document is all there.
    let plain = naftiko_codegen::generate(root.join(SPEC)).unwrap().source;
    assert!(!plain.contains("_typed(") && !plain.contains("pub mod models"));
    for line in plain.lines().filter(|l| l.contains("pub async fn ")) {
        assert!(g.source.contains(line), "lost: {line}");
    }
    // Same input, same bytes.
    assert_eq!(
        naftiko_codegen::generate_with_openapi(root.join(SPEC), root.join(OPENAPI))
            .unwrap()
            .source,
        g.source
    );

    let dir = support::e2e_target().join("typed-answers");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/bookshelf.rs"), &g.source).unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "//! The generated Bookshelf code.\n\npub mod api {\n    include!(\"bookshelf.rs\");\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), DRIVER).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"typed-answers\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n[dependencies]\nnaftiko-runtime = {{ path = \"{}\", features = [\"testing\"] }}\ntokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n",
            root.join("codegen/runtime").display()
        ),
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    support::cargo(&dir, &["clippy", "--quiet", "--", "-D", "warnings"]);
    support::cargo(&dir, &["build", "--quiet"]);
    let bin = support::e2e_target().join("debug").join("typed-answers");
    let out = Command::new(&bin).output().expect("run the driver");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the driver failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "mismatch: upstream call `bookshelf.get-book` returned an invalid response: the body does not match the model `BookEnvelope` at `book.title`: invalid type: integer `42`, expected a string"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("unknown status: upstream call `bookshelf.list-books` returned an invalid response: the body does not match the model `BookPage` at `books[0].status`: unknown variant `archived`"),
        "{stdout}"
    );
    assert!(stdout.contains("all typed calls ok"), "{stdout}");
}

/// The generated crate's program: typed calls against a stub, each checked.
const DRIVER: &str = r#"//! Calls the typed methods of the generated Bookshelf client against a recording stub.

use naftiko_runtime::client::ClientConfig;
use naftiko_runtime::serde_json::json;
use naftiko_runtime::testing::{RecordingStub, Reply};
use typed_answers::api::bookshelf::{Client, CreateBookParams, LendBookParams, ListBooksParams, models};

#[tokio::main]
async fn main() {
    let stub = RecordingStub::start().await.expect("stub");
    stub.respond(|r| {
        let book = json!({"id": "b1", "title": "Dune", "status": "available", "rating": null,
            "added": "1965-08-01T00:00:00Z", "tags": {"genre": ["sf", "classic"]}, "edition": "first",
            "isbn-13": "9780441013593", "publisher": "Chilton"});
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/api/books") if r.query_pairs().contains(&("q".into(), "archive".into())) => {
                Reply::json(200, json!({"books": [{"id": "b9", "title": "Old", "status": "archived"}]}))
            }
            ("GET", "/api/books") => {
                Reply::json(200, json!({"books": [book], "next": null, "total": 1}))
            }
            ("POST", "/api/books") => Reply::json(201, json!({"book": {"id": "b2", "title": "New", "edition": 3}})),
            ("GET", "/api/books/b1") => Reply::json(200, json!({"book": book, "etag": "7"})),
            ("GET", "/api/books/bad") => Reply::json(200, json!({"book": {"id": "b2", "title": 42}})),
            ("POST", "/api/books/b1/loans") => Reply::json(
                201,
                json!({"loan": {"member": "m1", "days": 14, "due": null}, "queue-length": 2}),
            ),
            _ => Reply::json(404, json!({"error": "no such book"})),
        }
    });
    let config = ClientConfig::default()
        .base_url(format!("{}/api", stub.url()))
        .with_var("BOOKSHELF_API_KEY", "k-1");
    let client = Client::new(config).expect("client");

    let params = ListBooksParams { limit: 5, ..Default::default() };
    let page: models::BookPage = client.list_books_typed(&params).await.expect("list");
    let b = &page.books[0];
    assert_eq!((b.id.as_str(), b.title.as_str()), ("b1", "Dune"));
    assert_eq!(b.status, Some(models::Status::Available));
    assert_eq!(b.rating, None);
    assert_eq!(b.added.as_deref(), Some("1965-08-01T00:00:00Z"));
    assert_eq!(b.tags["genre"], vec!["sf".to_owned(), "classic".to_owned()]);
    assert_eq!(b.edition, Some(models::BookEdition::String("first".into())));
    assert_eq!(b.isbn_13.as_deref(), Some("9780441013593"));
    assert_eq!(page.next, None);
    // The raw method keeps what the typed view ignores.
    let raw = client.list_books(&params).await.expect("raw").json().expect("json");
    assert_eq!(raw["books"][0]["publisher"], "Chilton");
    assert_eq!(raw["total"], 1);

    let created = client
        .create_book_typed(&CreateBookParams { body: json!({"title": "New"}) })
        .await
        .expect("create");
    assert_eq!(created.book.edition, Some(models::BookEdition::Integer(3)));
    let one = client.get_book_typed("b1").await.expect("get");
    assert_eq!(one.etag.as_deref(), Some("7"));
    assert_eq!(one.book.title, "Dune");
    let loan = client
        .lend_book_typed("b1", &LendBookParams::default())
        .await
        .expect("lend");
    assert_eq!((loan.loan.member.as_str(), loan.loan.days, loan.queue_length), ("m1", 14, Some(2)));
    assert_eq!(loan.loan.due, None);

    // A body that does not match: the operation and the path of the mismatch.
    match client.get_book_typed("bad").await {
        Err(e @ naftiko_runtime::Error::InvalidResponse { .. }) => println!("mismatch: {e}"),
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
    let params = ListBooksParams { q: Some("archive".into()), limit: 5, ..Default::default() };
    match client.list_books_typed(&params).await {
        Err(e @ naftiko_runtime::Error::InvalidResponse { .. }) => println!("unknown status: {e}"),
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
    // Upstream errors are the raw method's.
    match client.get_book_typed("missing").await {
        Err(naftiko_runtime::Error::Upstream { status, .. }) => assert_eq!(status, 404),
        other => panic!("expected Upstream, got {other:?}"),
    }
    println!("all typed calls ok");
}
"#;
