//! The REST side of generated routers: request inputs, responses, errors.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};

use axum::response::{IntoResponse, Response as HttpResponse};
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use serde_json::Value;

use crate::inputs::{Inputs, Raw};
use crate::{Error, InputSpec, Reply, Source};

/// A request to a generated route: its path parameters, query, headers and body.
#[derive(Debug)]
pub struct RestRequest {
    path: Vec<(String, String)>,
    parts: http::request::Parts,
    body: Bytes,
}

/// The largest request body a route accepts; set by the server as a request extension.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Without a server-set limit, bodies up to 1 MiB are read.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

impl<S: Send + Sync> FromRequest<S> for RestRequest {
    type Rejection = HttpResponse;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let path = match RawPathParams::from_request_parts(&mut parts, state).await {
            Ok(p) => p
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            Err(e) => return Err(error_body(StatusCode::BAD_REQUEST, &e.body_text())),
        };
        let limit = parts
            .extensions
            .get::<BodyLimit>()
            .map_or(DEFAULT_BODY_LIMIT, |l| l.0);
        let body = match axum::body::to_bytes(body, limit).await {
            Ok(b) => b,
            Err(e) => {
                let too_large = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
                return Err(if too_large {
                    error_body(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        &format!("the request body exceeds {limit} bytes"),
                    )
                } else {
                    error_body(
                        StatusCode::BAD_REQUEST,
                        &format!("cannot read the request body: {e}"),
                    )
                });
            }
        };
        Ok(RestRequest { path, parts, body })
    }
}

impl RestRequest {
    /// Reads and checks the inputs `specs` declares.
    pub fn inputs(self, specs: &'static [InputSpec]) -> Result<Inputs, Error> {
        let needs_body = specs.iter().any(|s| {
            matches!(
                s.source,
                Source::Body | Source::BodyPath(_) | Source::BodyField(_)
            )
        });
        let body = if needs_body { self.json_body()? } else { None };
        let query: Vec<(String, String)> = match self.parts.uri.query() {
            Some(q) if !q.is_empty() => form_urlencoded::parse(q.as_bytes()).into_owned().collect(),
            _ => Vec::new(),
        };
        unknown_query(specs, &query)?;
        Inputs::collect(specs, |spec| {
            Ok(match spec.source {
                Source::Path(n) => self
                    .path
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| Raw::Text(v.clone())),
                Source::Query(n) => {
                    let vals: Vec<String> = query
                        .iter()
                        .filter(|(k, _)| k == n)
                        .map(|(_, v)| v.clone())
                        .collect();
                    (!vals.is_empty()).then_some(Raw::Texts(vals))
                }
                Source::Header(n) => {
                    let vals: Vec<String> = self
                        .parts
                        .headers
                        .get_all(n)
                        .iter()
                        .map(|v| v.to_str().map(str::to_owned))
                        .collect::<Result<_, _>>()
                        .map_err(|_| Error::invalid(format!("header `{n}` is not valid text")))?;
                    (!vals.is_empty()).then_some(Raw::Texts(vals))
                }
                Source::Cookie(n) => self.cookie(n).map(Raw::Text),
                Source::Body => body.clone().map(Raw::Json),
                Source::BodyPath(p) => body.as_ref().map(|b| Raw::Json(crate::shape::select(b, p))),
                Source::BodyField(n) => body.as_ref().map(|b| {
                    Raw::Json(match b.get(n) {
                        Some(v) => v.clone(),
                        // No such field: the whole body, when it is what the input takes (a
                        // missing `email` stays missing rather than "must be a string").
                        None if spec.ty.accepts(b) => b.clone(),
                        None => Value::Null,
                    })
                }),
                Source::Arg(n) => self
                    .path
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| Raw::Text(v.clone())),
                Source::Const(v) => Some(Raw::Text(v.to_owned())),
            })
        })
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
    }

    /// The body as JSON: `None` when empty; 415 for another media type, 400 when malformed.
    fn json_body(&self) -> Result<Option<Value>, Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        if let Some(ct) = self.parts.headers.get(CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(Error::UnsupportedMediaType(format!(
                    "unsupported media type `{essence}`: the body must be application/json"
                )));
            }
        }
        serde_json::from_slice(&self.body)
            .map(Some)
            .map_err(|e| Error::invalid(format!("the request body is not valid JSON: {e}")))
    }
}

/// Refuses a query parameter the route does not declare, naming the ones it takes: dropping
/// it silently would answer as if it had been applied (`?page=2` giving page 1), and the MCP
/// surface refuses unknown arguments too.
fn unknown_query(specs: &[InputSpec], query: &[(String, String)]) -> Result<(), Error> {
    let known = |k: &str| {
        specs
            .iter()
            .any(|s| matches!(s.source, Source::Query(n) if n == k))
    };
    let Some((unknown, _)) = query.iter().find(|(k, _)| !known(k)) else {
        return Ok(());
    };
    let unknown = clip(unknown);
    let names: Vec<String> = specs
        .iter()
        .filter_map(|s| match s.source {
            Source::Query(n) => Some(format!("`{n}`")),
            _ => None,
        })
        .collect();
    Err(Error::invalid(if names.is_empty() {
        format!("unknown query parameter `{unknown}`: this route takes no query parameters")
    } else {
        format!(
            "unknown query parameter `{unknown}`: this route takes {}",
            names.join(", ")
        )
    }))
}

/// The JSON error body of this adapter's own errors (upstream errors pass through as they are).
pub fn error_body(status: StatusCode, message: &str) -> HttpResponse {
    let body = serde_json::json!({
        "status": status.as_u16(),
        "error": status.canonical_reason().unwrap_or("Error"),
        "message": message,
    });
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body.to_string(),
    )
        .into_response()
}

/// The response to a caller for an error.
pub fn error_response(e: Error) -> HttpResponse {
    match e {
        Error::Upstream {
            status,
            content_type,
            body,
            ..
        } if is_json(content_type.as_ref(), &body) => {
            let mut r = HttpResponse::new(Body::from(body));
            *r.status_mut() = status;
            if let Some(ct) = content_type {
                r.headers_mut().insert(CONTENT_TYPE, ct);
            }
            r
        }
        // Not JSON (an HTML error page, plain text, nothing): wrapped, status kept, so
        // that every error body a caller gets is JSON.
        Error::Upstream {
            status,
            content_type,
            body,
            ..
        } => {
            let mut v = serde_json::json!({
                "status": status.as_u16(),
                "error": status.canonical_reason().unwrap_or("Error"),
                "message": if body.is_empty() {
                    format!("the upstream answered {status} with no body")
                } else {
                    format!("the upstream answered {status} with a body that is not JSON")
                },
            });
            if !body.is_empty() {
                const MAX: usize = 64 * 1024;
                let text = String::from_utf8_lossy(&body[..body.len().min(MAX)]);
                v["upstream_body"] = Value::String(text.into_owned());
                if body.len() > MAX {
                    v["upstream_body_truncated"] = Value::Bool(true);
                }
                if let Some(ct) = content_type.as_ref().and_then(|c| c.to_str().ok()) {
                    v["upstream_content_type"] = Value::String(ct.to_owned());
                }
            }
            (
                status,
                [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                v.to_string(),
            )
                .into_response()
        }
        e => {
            let status = e.status();
            if status.is_server_error() {
                tracing::warn!(error = %e, "request failed");
            }
            error_body(status, &e.to_string())
        }
    }
}

/// Whether an upstream body is JSON: a JSON media type (or none) and a body that parses.
fn is_json(content_type: Option<&HeaderValue>, body: &[u8]) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.contains("json"))
        && crate::formats::is_json(body)
}

/// The caller's response for a flow's result: an upstream answer passed through (JSON
/// checked, other formats with their media type), a JSON result, or the error.
pub fn reply(result: Result<Reply, Error>) -> HttpResponse {
    let r = match result {
        Ok(Reply::Raw(r)) => r,
        Ok(Reply::Json { status, value }) => {
            if status == StatusCode::NO_CONTENT {
                return status.into_response();
            }
            return (
                status,
                [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                value.to_string(),
            )
                .into_response();
        }
        Err(e) => return error_response(e),
    };
    if r.body.is_empty() {
        return r.status.into_response();
    }
    let mut content_type = HeaderValue::from_static("application/json");
    if r.format == crate::formats::Format::Json {
        // Passed through without re-serializing, once it is known to be JSON.
        let is_json = r
            .content_type
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| ct.contains("json"));
        if !is_json || !crate::formats::is_json(&r.body) {
            return error_body(
                StatusCode::BAD_GATEWAY,
                "the upstream answered with a body that is not JSON",
            );
        }
    } else if let Some(ct) = r.content_type {
        // Another format, unmapped: the upstream's bytes and media type, as they are.
        content_type = ct;
    }
    let mut resp = HttpResponse::new(Body::from(r.body));
    *resp.status_mut() = r.status;
    resp.headers_mut().insert(CONTENT_TYPE, content_type);
    resp
}

impl IntoResponse for Error {
    fn into_response(self) -> HttpResponse {
        error_response(self)
    }
}

/// JSON errors for requests no route takes: 404 for an unknown path, 405 (with `Allow`,
/// set by axum) for a method the path does not take.
pub fn with_fallbacks(router: axum::Router) -> axum::Router {
    router
        .fallback(|uri: http::Uri| async move {
            error_body(
                StatusCode::NOT_FOUND,
                &format!("no route for `{}`", clip(uri.path())),
            )
        })
        .method_not_allowed_fallback(|method: http::Method, uri: http::Uri| async move {
            error_body(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("`{}` does not take {method}", clip(uri.path())),
            )
        })
}

/// At most 200 characters of caller input, for messages.
pub(crate) fn clip(s: &str) -> String {
    if s.chars().count() > 200 {
        format!("{}...", s.chars().take(200).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// Applies the inbound authentication a spec declares to a generated router.
pub fn with_auth(router: axum::Router, auth: crate::auth::Inbound) -> Result<axum::Router, Error> {
    Ok(crate::auth::layer(router, auth))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ty;

    fn request(uri: &str) -> RestRequest {
        let (parts, ()) = http::Request::builder()
            .uri(uri)
            .body(())
            .unwrap()
            .into_parts();
        RestRequest {
            path: Vec::new(),
            parts,
            body: Bytes::new(),
        }
    }

    const fn query_input(name: &'static str, ty: Ty) -> InputSpec {
        InputSpec {
            name,
            source: Source::Query(name),
            ty,
            required: false,
            pattern: None,
            description: None,
        }
    }

    static PAGED: [InputSpec; 2] = [
        query_input("page", Ty::Integer),
        query_input("countries", Ty::Array),
    ];

    #[test]
    fn declared_query_parameters_are_read() {
        let inputs = request("/c?page=2&countries=FR&countries=US")
            .inputs(&PAGED)
            .unwrap();
        assert_eq!(inputs.value("page"), serde_json::json!(2));
        assert_eq!(inputs.value("countries"), serde_json::json!(["FR", "US"]));
    }

    #[test]
    fn an_unknown_query_parameter_is_refused_with_the_known_ones() {
        let e = request("/c?page=2&pgae=3").inputs(&PAGED).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
        assert_eq!(
            e.to_string(),
            "unknown query parameter `pgae`: this route takes `page`, `countries`"
        );
    }

    #[test]
    fn a_route_without_query_parameters_refuses_any() {
        let e = request("/c?page=1").inputs(&[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown query parameter `page`: this route takes no query parameters"
        );
        // An empty query is no parameter at all.
        assert!(request("/c?").inputs(&[]).is_ok());
    }
}
