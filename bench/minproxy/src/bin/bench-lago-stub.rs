//! The stand-in for Lago of bench/run.sh: answers from memory with Lago's full example bodies
//! (assembled from the `example` values of Lago's OpenAPI document), so that typed clients,
//! which fail on a missing required field, parse them:
//!   GET  .../customers        -> EXAMPLES/customers_list.response.json (CustomersPaginated)
//!   GET  .../customers/{id}   -> EXAMPLES/customer.response.json (Customer, all 87 fields)
//!   anything else             -> 404 with Lago's not-found body
//! The bodies are read once at start-up and sent compact, as Lago sends them. It serves one single-threaded runtime per core
//! (SO_REUSEPORT), like bench-minproxy.
//!
//! usage: bench-lago-stub LISTEN_ADDR EXAMPLES_DIR

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse};
use bytes::Bytes;

#[derive(Clone)]
struct Bodies {
    list: Bytes,
    one: Bytes,
}

const NOT_FOUND: &str = r#"{"status":404,"error":"Not Found","code":"customer_not_found"}"#;

fn json(status: StatusCode, body: Bytes) -> axum::response::Response {
    (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn answer(State(b): State<Bodies>, uri: axum::http::Uri) -> axum::response::Response {
    let path = uri.path().trim_end_matches('/');
    match path.split_once("/customers") {
        Some((_, "")) => json(StatusCode::OK, b.list.clone()),
        Some((_, rest)) if rest.len() > 1 && !rest[1..].contains('/') => json(StatusCode::OK, b.one.clone()),
        _ => json(StatusCode::NOT_FOUND, Bytes::from_static(NOT_FOUND.as_bytes())),
    }
}

fn read(dir: &str, name: &str) -> std::io::Result<Bytes> {
    let path = format!("{dir}/{name}");
    let text = std::fs::read(&path).map_err(|e| std::io::Error::other(format!("{path}: {e}")))?;
    Ok(Bytes::from(compact(&text)))
}

/// The JSON text without the whitespace outside its strings.
fn compact(json: &[u8]) -> Vec<u8> {
    let (mut out, mut in_string, mut escaped) = (Vec::with_capacity(json.len()), false, false);
    for &c in json {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if !c.is_ascii_whitespace() {
            in_string = c == b'"';
            out.push(c);
        }
    }
    out
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:4100".into());
    let dir = args.next().unwrap_or_else(|| "../shared/lago/examples".into());
    let bodies = Bodies { list: read(&dir, "customers_list.response.json")?, one: read(&dir, "customer.response.json")? };
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (listen, bodies) = (listen.clone(), bodies.clone());
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(run(listen, bodies))
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| std::io::Error::other("a worker panicked"))??;
    }
    Ok(())
}

async fn run(listen: String, bodies: Bodies) -> std::io::Result<()> {
    let addr: std::net::SocketAddr = listen.parse().map_err(std::io::Error::other)?;
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.set_reuseaddr(true)?;
    sock.set_reuseport(true)?;
    sock.bind(addr)?;
    let listener = sock.listen(1024)?;
    let listener = axum::serve::ListenerExt::tap_io(listener, |t| {
        let _ = t.set_nodelay(true);
    });
    axum::serve(listener, Router::new().fallback(answer).with_state(bodies)).await
}
