//! Upstream stubs: real HTTP servers on loopback that answer a case's `upstream` entries
//! and record what they received.
//!
//! One server per consumed namespace, so that the same path in two namespaces cannot be
//! confused; namespaces without entries share a server that answers 404 to everything.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::case::Upstream;

/// What the stubs received, in order.
#[derive(Debug, Default)]
pub struct Log {
    /// Per upstream entry (by index), its first matching request.
    pub per_entry: Vec<Option<Value>>,
    /// Every request, matched or not.
    pub all: Vec<Value>,
    /// Requests no entry matched (`METHOD path?query`).
    pub unmatched: Vec<String>,
}

/// Running stubs; dropped (aborted) after the case.
pub struct Stubs {
    /// Origin (`http://127.0.0.1:port`) per namespace.
    pub origins: BTreeMap<String, String>,
    /// Origin for namespaces that have no entry.
    pub fallback: String,
    pub log: Arc<Mutex<Log>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Stubs {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Stubs {
    /// The origin calls to `namespace` go to.
    pub fn origin(&self, namespace: &str) -> &str {
        self.origins.get(namespace).unwrap_or(&self.fallback)
    }

    /// Every request received so far, in order.
    pub fn all(&self) -> Vec<Value> {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .all
            .clone()
    }

    /// A copy of the log.
    pub fn snapshot(&self) -> (Vec<Option<Value>>, Option<Value>, Vec<String>) {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        (
            log.per_entry.clone(),
            log.all.last().cloned(),
            log.unmatched.clone(),
        )
    }
}

struct Shared {
    /// `(index, entry)` of this server's namespace.
    entries: Vec<(usize, Upstream)>,
    log: Arc<Mutex<Log>>,
    origin: String,
}

/// Starts the stubs of `entries`. An unreachable namespace gets a closed port, or, when
/// `record_unreachable` holds, a listener that records the request and closes the
/// connection without answering (so the request can still be checked).
pub async fn start(entries: &[Upstream], record_unreachable: bool) -> Result<Stubs, String> {
    let log = Arc::new(Mutex::new(Log {
        per_entry: vec![None; entries.len()],
        ..Log::default()
    }));
    let mut by_ns: BTreeMap<String, Vec<(usize, Upstream)>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_ns
            .entry(e.namespace.clone())
            .or_default()
            .push((i, e.clone()));
    }
    let mut origins = BTreeMap::new();
    let mut tasks = Vec::new();
    for (ns, list) in by_ns {
        let unreachable = list.iter().all(|(_, e)| e.unreachable);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let origin = format!(
            "http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let shared = Arc::new(Shared {
            entries: list,
            log: log.clone(),
            origin: origin.clone(),
        });
        if unreachable && !record_unreachable {
            // Nothing listens there any more: connection refused.
            drop(listener);
        } else if unreachable {
            tasks.push(tokio::spawn(black_hole(listener, shared)));
        } else {
            tasks.push(tokio::spawn(serve(listener, shared)));
        }
        origins.insert(ns, origin);
    }
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let fallback = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    tasks.push(tokio::spawn(serve(
        listener,
        Arc::new(Shared {
            entries: Vec::new(),
            log: log.clone(),
            origin: fallback.clone(),
        }),
    )));
    Ok(Stubs {
        origins,
        fallback,
        log,
        tasks,
    })
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let app = axum::Router::new().fallback(answer).with_state(shared);
    let _ = axum::serve(listener, app).await;
}

/// Percent-decodes a path or query component (`+` kept: paths do not use form encoding).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[i + 1..i + 3])
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query pairs, form-decoded (`+` is a space).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

fn with_slash(p: &str) -> String {
    if p.starts_with('/') {
        p.to_owned()
    } else {
        format!("/{p}")
    }
}

/// Whether a request matches an entry: method (an empty one matches any), path (raw or
/// decoded; `*` matches any), and the entry's query pairs among the request's.
fn matches(e: &Upstream, method: &str, path: &str, query: &[(String, String)]) -> bool {
    let want = with_slash(&e.path);
    (e.method.is_empty() || e.method.eq_ignore_ascii_case(method))
        && (e.path == "*" || want == path || want == decode(path) || decode(&want) == decode(path))
        && e.query.iter().all(|q| query.contains(q))
}

/// Records a request; returns the index of the entry it matched.
fn record(
    shared: &Shared,
    method: &str,
    path_and_query: &str,
    headers: Vec<(String, String)>,
    body: &[u8],
) -> Option<usize> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let pairs = query_pairs(query);
    let mut hmap = Map::new();
    for (k, v) in headers {
        let k = k.to_ascii_lowercase();
        let v = match hmap.get(&k) {
            Some(Value::String(prev)) => format!("{prev}, {v}"),
            _ => v,
        };
        hmap.insert(k, Value::String(v));
    }
    let qmap: Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let seen = json!({
        "method": method,
        "path": path,
        "query": qmap,
        "url": format!("{}{}", shared.origin, path_and_query),
        "headers": hmap,
        "body_text": String::from_utf8_lossy(body),
    });
    let hit = shared
        .entries
        .iter()
        .find(|(_, e)| matches(e, method, path, &pairs))
        .map(|(i, _)| *i);
    let mut log = shared.log.lock().unwrap_or_else(|e| e.into_inner());
    match hit {
        Some(i) => {
            if log.per_entry[i].is_none() {
                log.per_entry[i] = Some(seen.clone());
            }
        }
        None => log.unmatched.push(format!("{method} {path_and_query}")),
    }
    log.all.push(seen);
    hit
}

async fn answer(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20)
        .await
        .unwrap_or_default();
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let hit = record(&shared, parts.method.as_str(), &pq, headers, &body);
    let Some(entry) = hit
        .and_then(|i| shared.entries.iter().find(|(j, _)| *j == i))
        .map(|(_, e)| e)
    else {
        let mut r = Response::new(Body::from(format!("no stub for {} {pq}", parts.method)));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    };
    let mut r = Response::new(Body::from(entry.body.clone().unwrap_or_default()));
    *r.status_mut() = StatusCode::from_u16(entry.status).unwrap_or(StatusCode::OK);
    if let Some(ct) = &entry.content_type
        && let Ok(v) = HeaderValue::from_str(ct)
    {
        r.headers_mut().insert(axum::http::header::CONTENT_TYPE, v);
    }
    r
}

/// Accepts connections, records the request head (and body, by `Content-Length`), then
/// closes the connection without an answer.
async fn black_hole(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
            loop {
                if tokio::time::timeout_at(deadline, stream.readable())
                    .await
                    .is_err()
                {
                    break;
                }
                let mut chunk = [0u8; 4096];
                match stream.try_read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                    Err(_) => break,
                }
                if let Some(end) = find(&buf, b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.trim()
                                .eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0usize);
                    if buf.len() >= end + 4 + len {
                        let mut lines = head.lines();
                        let mut first = lines.next().unwrap_or("").split_whitespace();
                        let method = first.next().unwrap_or("").to_owned();
                        let target = first.next().unwrap_or("/").to_owned();
                        let headers = lines
                            .filter_map(|l| l.split_once(':'))
                            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                            .collect();
                        record(
                            &shared,
                            &method,
                            &target,
                            headers,
                            &buf[end + 4..end + 4 + len],
                        );
                        break;
                    }
                }
            }
            drop(stream);
        });
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, query: &[(&str, &str)]) -> Upstream {
        Upstream {
            namespace: "ns".into(),
            method: "GET".into(),
            path: path.into(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            unreachable: false,
            status: 200,
            content_type: None,
            body: None,
            received: None,
        }
    }

    #[test]
    fn matching() {
        let e = entry("databases/x y/query", &[]);
        assert!(matches(&e, "GET", "/databases/x%20y/query", &[]));
        assert!(!matches(&e, "POST", "/databases/x%20y/query", &[]));
        let q = entry("/ships", &[("status", "active")]);
        assert!(matches(
            &q,
            "GET",
            "/ships",
            &query_pairs("status=active&x=1")
        ));
        assert!(!matches(&q, "GET", "/ships", &[]));
        assert_eq!(
            query_pairs("q=ice+class&a=%2F"),
            vec![("q".into(), "ice class".into()), ("a".into(), "/".into())]
        );
    }
}
