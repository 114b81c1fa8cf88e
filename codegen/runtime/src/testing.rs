//! A recording stub upstream for tests of generated services (feature `testing`).
//!
//! It listens on loopback, records every request as it arrived on the wire (raw path and
//! query, headers, body) and answers with what the test's responder says.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

/// One request the stub received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method (`GET`).
    pub method: String,
    /// The path as sent, still percent-encoded.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The headers, as sent.
    pub headers: HeaderMap,
    /// The body, as sent.
    pub body: Bytes,
}

impl Recorded {
    /// The first value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The body as JSON (`null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    /// The decoded query pairs.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .as_deref()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default()
    }
}

/// What the stub answers: status, JSON body, and an optional delay.
pub struct Reply {
    /// The status answered.
    pub status: StatusCode,
    /// The body, sent as JSON.
    pub body: Value,
    /// How long to wait before answering.
    pub delay: Option<Duration>,
    /// Headers added to the answer, `(name, value)`.
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// Answers `body` as JSON with `status` (500 if `status` is not a valid code), at once.
    pub fn json(status: u16, body: Value) -> Self {
        Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
            delay: None,
            headers: Vec::new(),
        }
    }
    /// Answers only after `d`.
    pub fn after(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }
    /// Adds a response header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

type Responder = dyn Fn(&Recorded) -> Reply + Send + Sync;

#[derive(Clone)]
struct Shared {
    log: Arc<Mutex<Vec<Recorded>>>,
    responder: Arc<Mutex<Arc<Responder>>>,
}

/// A recording stub upstream on `127.0.0.1`.
pub struct RecordingStub {
    addr: std::net::SocketAddr,
    shared: Shared,
}

async fn handle(State(s): State<Shared>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let rec = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    };
    let responder: Option<Arc<Responder>> = s.responder.lock().ok().map(|r| r.clone());
    if let Ok(mut l) = s.log.lock() {
        l.push(rec.clone());
    }
    let reply = match responder {
        Some(r) => r(&rec),
        None => Reply::json(500, json!({"error": "stub poisoned"})),
    };
    if let Some(d) = reply.delay {
        tokio::time::sleep(d).await;
    }
    let mut resp = (reply.status, axum::Json(reply.body)).into_response();
    for (k, v) in reply.headers {
        if let Ok(v) = http::HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

impl RecordingStub {
    /// Starts a stub that answers `200 {"ok": true}` until told otherwise.
    pub async fn start() -> std::io::Result<Self> {
        let shared = Shared {
            log: Arc::default(),
            responder: Arc::new(Mutex::new(Arc::new(|_: &Recorded| {
                Reply::json(200, json!({"ok": true}))
            }))),
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(RecordingStub { addr, shared })
    }

    /// The stub's base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets how the stub answers from now on.
    pub fn respond(&self, f: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) {
        if let Ok(mut r) = self.shared.responder.lock() {
            *r = Arc::new(f);
        }
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// Forgets the requests received so far.
    pub fn clear(&self) {
        if let Ok(mut l) = self.shared.log.lock() {
            l.clear();
        }
    }
}

/// A port that was free a moment ago, and that this process has not been given before: the
/// kernel may hand the same ephemeral port to two binds in a row once the first is closed,
/// and a service given two equal ports would fail to start.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..100 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(0);
        if port != 0 && !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
    0
}

/// A service process, killed when dropped.
pub struct Service(pub std::process::Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Service {
    /// Starts `bin` with `args` and extra environment, then waits until every port in
    /// `ports` accepts connections (30 s at most). Panics when the process exits first.
    pub fn start(
        bin: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
        ports: &[u16],
    ) -> Service {
        Self::start_logging_to(bin, args, env, ports, std::process::Stdio::inherit())
    }

    /// Like [`Service::start`], with the process's stderr (its logs) going to `stderr`.
    pub fn start_logging_to(
        bin: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
        ports: &[u16],
        stderr: std::process::Stdio,
    ) -> Service {
        let mut cmd = std::process::Command::new(bin);
        cmd.args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut service = Service(cmd.spawn().expect("start the service"));
        let start = std::time::Instant::now();
        for port in ports {
            while std::net::TcpStream::connect(("127.0.0.1", *port)).is_err() {
                if let Ok(Some(status)) = service.0.try_wait() {
                    panic!("the service exited early: {status}");
                }
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "nothing listens on port {port}"
                );
                std::thread::sleep(Duration::from_millis(25));
            }
        }
        service
    }
}

/// Requests over HTTP/2 (prior knowledge, as `h2c`) whose bodies never arrive: a client
/// that opens streams and stalls them. Dropping it closes the connection.
pub struct StalledStreams {
    /// One per stream: its answer (status), once the server gives one.
    pub answers: Vec<tokio::task::JoinHandle<Option<u16>>>,
    _connection: tokio::task::JoinHandle<()>,
}

impl Drop for StalledStreams {
    fn drop(&mut self) {
        self._connection.abort();
        for a in &self.answers {
            a.abort();
        }
    }
}

/// A request body that never sends a byte.
struct Stalled;

impl http_body::Body for Stalled {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

impl StalledStreams {
    /// Opens one HTTP/2 connection to `addr` and `streams` POSTs to `path` on it, each
    /// with a JSON body that never arrives.
    pub async fn open(
        addr: std::net::SocketAddr,
        path: &str,
        streams: usize,
    ) -> std::io::Result<Self> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let (sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(tcp),
        )
        .await
        .map_err(std::io::Error::other)?;
        let connection = tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut answers = Vec::with_capacity(streams);
        for _ in 0..streams {
            let mut sender = sender.clone();
            let req = http::Request::post(format!("http://{addr}{path}"))
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(Stalled)
                .map_err(std::io::Error::other)?;
            answers.push(tokio::spawn(async move {
                sender.ready().await.ok()?;
                let r = sender.send_request(req).await.ok()?;
                Some(r.status().as_u16())
            }));
        }
        Ok(StalledStreams {
            answers,
            _connection: connection,
        })
    }
}
