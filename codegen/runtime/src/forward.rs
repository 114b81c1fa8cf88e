//! REST `forward`: pass-through routes. A request no operation of its resource takes is
//! relayed to a consumed API, and the answer relayed back, both bodies streamed (never
//! held whole in memory).
//!
//! Upstream: the method; the base URI with the route's `path` tail appended; the caller's
//! query string, kept (the engine drops it: a bug); the caller's trusted headers, never a
//! hop-by-hop one; the body with its `Content-Type` and `Content-Encoding`; then the spec's
//! fixed parameters and authentication ([`HttpClient`]). Back to the caller: the status, the
//! body, and the headers that describe it (`Content-Type`, `Content-Length`,
//! `Content-Encoding`). An upstream that cannot be reached is a JSON 502, one that does not
//! answer in time a JSON 504, like every upstream error of the REST surface.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, StatusCode};

use crate::client::HttpClient;

/// A pass-through route, as generated code declares it.
#[derive(Debug)]
pub struct Forward {
    /// Path segments of the route before its `{*path}` tail (`/proxy/{*path}`: 1); `None`
    /// when it has no tail (every request then goes to the base URI itself).
    pub tail_after: Option<usize>,
    /// The inbound headers copied upstream, matched without regard to case.
    pub trusted_headers: &'static [&'static str],
}

/// A pass-through route, as the server sees it before routing: the request bodies of its
/// methods that no operation takes are streamed to the handler instead of read first.
#[derive(Debug)]
pub struct Passthrough {
    /// The route as axum writes it (`/notion/{*path}`).
    pub route: &'static str,
    /// The methods its operations take: their bodies are read first, as on any route.
    pub operations: &'static [&'static str],
}

impl Passthrough {
    /// Whether a request with `method` and `path` goes to this pass-through.
    #[cfg(feature = "serve")]
    pub(crate) fn takes(&self, method: &http::Method, path: &str) -> bool {
        !self.operations.contains(&method.as_str()) && matches(self.route, path)
    }
}

/// Whether `path` matches `route` as axum matches it: a `{name}` is one non-empty segment,
/// a `{*name}` the non-empty rest.
#[cfg(feature = "serve")]
fn matches(route: &str, path: &str) -> bool {
    let mut want = route.strip_prefix('/').unwrap_or(route).split('/');
    let mut have = path.strip_prefix('/').unwrap_or(path).split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), Some(h)) if w.starts_with("{*") => {
                return !h.is_empty() || have.next().is_some();
            }
            (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') => {
                if h.is_empty() {
                    return false;
                }
            }
            (Some(w), Some(h)) if w == h => {}
            _ => return false,
        }
    }
}

/// Headers about one connection, not the message (RFC 9110 section 7.6.1), plus the
/// pre-standard `Proxy-Connection`: never copied, either way. Headers that `Connection`
/// names are hop-by-hop too ([`connection_named`]).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Whether `name` (lower case, as `HeaderName`s are) is hop-by-hop for this message.
fn hop_by_hop(name: &str, named: &[String]) -> bool {
    HOP_BY_HOP.contains(&name) || name.starts_with("proxy-") || named.iter().any(|n| n == name)
}

/// The header names listed in `Connection` (lower case).
fn connection_named(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

/// The part of `path` after its first `after` segments, as the caller wrote it (still
/// percent-encoded, so `%2F` stays inside its segment); `None` when a segment of it is
/// `.` or `..` (encoded or not), which would climb out of the base URI.
fn tail(path: &str, after: usize) -> Option<&str> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let tail = rest.splitn(after + 1, '/').nth(after).unwrap_or("");
    let climbs = tail.split('/').any(|seg| {
        let seg = percent_encoding::percent_decode_str(seg).decode_utf8_lossy();
        seg == "." || seg == ".."
    });
    (!climbs).then_some(tail)
}

/// Relays `request` to `client`'s API as `spec` says, and its answer back.
pub async fn forward(client: &HttpClient, spec: &Forward, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = match spec.tail_after {
        None => "",
        Some(after) => match tail(parts.uri.path(), after) {
            Some(t) => t,
            None => {
                return crate::rest::error_body(
                    StatusCode::BAD_REQUEST,
                    "the forwarded path must not hold `.` or `..` segments",
                );
            }
        },
    };
    let named = connection_named(&parts.headers);
    // A credential this service checked is its own: it never goes upstream, trusted or not.
    let checked_here = parts.extensions.get::<crate::auth::CheckedHere>().is_some();
    let mut headers = HeaderMap::new();
    for name in spec.trusted_headers {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        // `Host` and `Content-Length` are the proxy's to set; the validator warns of them.
        if hop_by_hop(name.as_str(), &named)
            || name == http::header::HOST
            || name == CONTENT_LENGTH
            || (checked_here && name == AUTHORIZATION)
        {
            continue;
        }
        for value in parts.headers.get_all(&name) {
            headers.append(name.clone(), value.clone());
        }
    }
    // The body goes as it came: its media type and encoding go with it.
    for name in [CONTENT_TYPE, CONTENT_ENCODING] {
        if let Some(v) = parts.headers.get(&name)
            && !headers.contains_key(&name)
        {
            headers.insert(name, v.clone());
        }
    }
    let caller_auth = match checked_here {
        true => None,
        false => parts.headers.get(AUTHORIZATION).cloned(),
    };
    let body = match http_body::Body::is_end_stream(&body) {
        true => None,
        false => Some(reqwest::Body::wrap_stream(body.into_data_stream())),
    };
    let answer = client
        .forward_send(
            parts.method.clone(),
            path,
            parts.uri.query(),
            headers,
            caller_auth,
            body,
        )
        .await;
    let upstream = match answer {
        Ok(r) => r,
        Err(e) => return crate::rest::error_response(e),
    };
    let status = upstream.status();
    let named = connection_named(upstream.headers());
    let mut relayed = HeaderMap::new();
    // `Content-Length` and `Content-Encoding` describe the bytes as they come out of
    // reqwest: when reqwest decodes a compressed body (its `gzip`, `brotli`, ... features,
    // which another crate may turn on), it removes both; when it does not, the bytes relayed
    // are the upstream's own, which both describe as they are. Either way they match the
    // body the caller gets. Nothing else is relayed (the engine relays the entity only).
    for name in [CONTENT_TYPE, CONTENT_LENGTH, CONTENT_ENCODING] {
        if hop_by_hop(name.as_str(), &named) {
            continue;
        }
        if let Some(v) = upstream.headers().get(&name) {
            relayed.insert(name, v.clone());
        }
    }
    let body = http::Response::<reqwest::Body>::from(upstream).into_body();
    let mut response = Body::new(Idle::new(body, client.timeout(), "upstream")).into_response();
    *response.status_mut() = status;
    *response.headers_mut() = relayed;
    response
}

/// A body that fails when no frame arrives for `limit`: a stalled peer does not hold the
/// other's connection (and its place) forever. `who` names the peer, for the error.
pub(crate) struct Idle<B> {
    body: B,
    limit: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    who: &'static str,
}

impl<B> Idle<B> {
    pub(crate) fn new(body: B, limit: Duration, who: &'static str) -> Self {
        Idle {
            body,
            limit,
            timer: Box::pin(tokio::time::sleep(limit)),
            who,
        }
    }
}

impl<B> http_body::Body for Idle<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                let next = tokio::time::Instant::now() + this.limit;
                this.timer.as_mut().reset(next);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(format!(
                    "the {} sent nothing for {} s",
                    this.who,
                    this.limit.as_secs_f64()
                )
                .into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_keep_their_encoding_and_never_climb() {
        assert_eq!(tail("/proxy/a/b%2Fc", 1), Some("a/b%2Fc"));
        assert_eq!(tail("/proxy/", 1), Some(""));
        assert_eq!(tail("/a/b/c", 0), Some("a/b/c"));
        assert_eq!(tail("/x/y/deep/er", 2), Some("deep/er"));
        for bad in [
            "/proxy/../admin",
            "/proxy/a/%2e%2E/b",
            "/proxy/.",
            "/proxy/a/%2E",
        ] {
            assert_eq!(tail(bad, 1), None, "{bad}");
        }
        assert_eq!(tail("/proxy/a..b/.c", 1), Some("a..b/.c"));
    }

    #[test]
    fn routes_match_as_axum_matches_them() {
        assert!(matches("/proxy/{*path}", "/proxy/a"));
        assert!(matches("/proxy/{*path}", "/proxy/a/b/c"));
        assert!(!matches("/proxy/{*path}", "/proxy/"));
        assert!(!matches("/proxy/{*path}", "/proxy"));
        assert!(!matches("/proxy/{*path}", "/other/a"));
        assert!(matches("/t/{id}/{*path}", "/t/1/x"));
        assert!(!matches("/t/{id}/{*path}", "/t//x"));
        assert!(matches("/exact", "/exact"));
        assert!(!matches("/exact", "/exact/more"));
        let p = Passthrough {
            route: "/proxy/{*path}",
            operations: &["DELETE"],
        };
        assert!(p.takes(&http::Method::POST, "/proxy/a"));
        assert!(!p.takes(&http::Method::DELETE, "/proxy/a"));
    }

    #[test]
    fn hop_by_hop_headers() {
        let mut h = HeaderMap::new();
        h.append(CONNECTION, "keep-alive, X-Secret".parse().unwrap());
        let named = connection_named(&h);
        for name in [
            "connection",
            "te",
            "upgrade",
            "proxy-foo",
            "x-secret",
            "keep-alive",
        ] {
            assert!(hop_by_hop(name, &named), "{name}");
        }
        for name in ["x-trace", "content-type", "authorization"] {
            assert!(!hop_by_hop(name, &named), "{name}");
        }
    }
}
