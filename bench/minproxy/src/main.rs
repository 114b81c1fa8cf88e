//! The smallest Rust proxies in front of the bench stub, as yardsticks for bench/run.sh:
//! `/r` forwards with reqwest (what naftiko-runtime uses), `/h` with hyper-util's client.
//! Neither checks inputs, maps outputs or handles errors: they show what the stack costs.
//!
//! usage: bench-minproxy LISTEN_ADDR UPSTREAM_URL

use axum::{Router, extract::State, response::IntoResponse};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

#[derive(Clone)]
struct Proxy {
    upstream: String,
    reqwest: reqwest::Client,
    hyper: Client<HttpConnector, Empty<Bytes>>,
}

async fn via_reqwest(State(p): State<Proxy>) -> axum::response::Response {
    match p.reqwest.get(&p.upstream).send().await {
        Ok(r) => match r.bytes().await {
            Ok(b) => ([(axum::http::header::CONTENT_TYPE, "application/json")], b).into_response(),
            Err(_) => axum::http::StatusCode::BAD_GATEWAY.into_response(),
        },
        Err(_) => axum::http::StatusCode::BAD_GATEWAY.into_response(),
    }
}

async fn via_hyper(State(p): State<Proxy>) -> axum::response::Response {
    let Ok(uri) = p.upstream.parse() else {
        return axum::http::StatusCode::BAD_GATEWAY.into_response();
    };
    match p.hyper.get(uri).await {
        Ok(r) => match r.into_body().collect().await {
            Ok(b) => ([(axum::http::header::CONTENT_TYPE, "application/json")], b.to_bytes()).into_response(),
            Err(_) => axum::http::StatusCode::BAD_GATEWAY.into_response(),
        },
        Err(_) => axum::http::StatusCode::BAD_GATEWAY.into_response(),
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:4600".into());
    let upstream = args.next().unwrap_or_else(|| "http://127.0.0.1:4100/api/v1/customers".into());
    if let Ok(n) = std::env::var("PER_CORE") {
        let n: usize = n.parse().unwrap_or(2);
        let shared = std::env::var("SHARED").is_ok().then(|| reqwest::Client::builder().tcp_nodelay(true).build().unwrap());
        let threads: Vec<_> = (0..n)
            .map(|_| {
                let (listen, upstream, shared) = (listen.clone(), upstream.clone(), shared.clone());
                std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap()
                        .block_on(run(listen, upstream, true, shared))
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap()?;
        }
        return Ok(());
    }
    tokio::runtime::Runtime::new()?.block_on(run(listen, upstream, false, None))
}

async fn run(listen: String, upstream: String, reuse: bool, shared: Option<reqwest::Client>) -> std::io::Result<()> {
    let reqwest = match shared { Some(c) => c, None => reqwest::Client::builder().tcp_nodelay(true).build().map_err(std::io::Error::other)? };
    let proxy = Proxy { upstream, reqwest, hyper: Client::builder(TokioExecutor::new()).build_http() };
    let app = Router::new()
        .route("/r", axum::routing::get(via_reqwest))
        .route("/h", axum::routing::get(via_hyper))
        .with_state(proxy);
    let addr: std::net::SocketAddr = listen.parse().map_err(std::io::Error::other)?;
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.set_reuseaddr(true)?;
    if reuse {
        sock.set_reuseport(true)?;
    }
    sock.bind(addr)?;
    let listener = sock.listen(1024)?;
    let listener = axum::serve::ListenerExt::tap_io(listener, |t| {
        let _ = t.set_nodelay(true);
    });
    axum::serve(listener, app).await
}
