//! Inbound authentication of exposed surfaces, compared in constant time.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use subtle::ConstantTimeEq;

use crate::Secret;

/// What callers of a surface must present.
#[derive(Debug, Clone)]
pub enum Inbound {
    /// No credential: every request is allowed.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// A key in a header (or query parameter).
    ApiKey {
        /// The header (or query parameter) that carries the key.
        name: &'static str,
        /// The expected key.
        value: Secret,
        /// Whether the key is a query parameter rather than a header.
        in_query: bool,
    },
    /// HTTP basic authentication.
    Basic {
        /// The expected user name.
        username: String,
        /// The expected password.
        password: Secret,
    },
}

fn same(a: &[u8], b: &[u8]) -> bool {
    // Lengths may leak; contents do not.
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The credentials of an `Authorization` header in `scheme`, which is matched without
/// regard to case (RFC 9110, section 11.1: `Bearer`, `bearer` and `BEARER` are one scheme).
fn credentials<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let header = header.trim_start();
    let (given, rest) = header.split_at_checked(scheme.len())?;
    if !given.eq_ignore_ascii_case(scheme) || !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some(rest.trim())
}

impl Inbound {
    /// Whether the surface is open: no credential is asked for.
    pub fn is_none(&self) -> bool {
        matches!(self, Inbound::None)
    }

    /// Whether the request carries the expected credential.
    pub fn allows(&self, req: &http::request::Parts) -> bool {
        let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
        match self {
            Inbound::None => true,
            Inbound::Bearer(token) => header(AUTHORIZATION.as_str())
                .and_then(|h| credentials(h, "Bearer"))
                .is_some_and(|t| same(t.as_bytes(), token.expose().as_bytes())),
            Inbound::ApiKey {
                name,
                value,
                in_query: false,
            } => header(name).is_some_and(|v| same(v.as_bytes(), value.expose().as_bytes())),
            Inbound::ApiKey {
                name,
                value,
                in_query: true,
            } => req
                .uri
                .query()
                .map(|q| form_urlencoded::parse(q.as_bytes()))
                .and_then(|mut pairs| pairs.find(|(k, _)| k == name))
                .is_some_and(|(_, v)| same(v.as_bytes(), value.expose().as_bytes())),
            Inbound::Basic { username, password } => {
                use base64::Engine as _;
                let expected = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()));
                header(AUTHORIZATION.as_str())
                    .and_then(|h| credentials(h, "Basic"))
                    .is_some_and(|c| same(c.as_bytes(), expected.as_bytes()))
            }
        }
    }

    fn challenge(&self) -> &'static str {
        match self {
            Inbound::Basic { .. } => "Basic realm=\"naftiko\"",
            Inbound::ApiKey { .. } => "ApiKey",
            _ => "Bearer",
        }
    }

    /// The 401 answer for a request without the credential.
    pub fn reject(&self) -> Response {
        let mut r =
            crate::rest::error_body(StatusCode::UNAUTHORIZED, "missing or invalid credentials");
        r.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(self.challenge()));
        r
    }
}

/// Marks a request whose credential this service checked: the credential is the service's
/// own, so it is never passed on upstream (a `forward` resource drops the caller's
/// `Authorization` then).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckedHere;

/// Middleware: rejects requests that do not carry the credential.
pub async fn require(auth: std::sync::Arc<Inbound>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    if !auth.allows(&parts) {
        tracing::debug!(path = %clip(parts.uri.path()), "rejected: missing or invalid credentials");
        return auth.reject();
    }
    parts.extensions.insert(CheckedHere);
    next.run(Request::from_parts(parts, body)).await
}

/// At most 200 characters of caller input, for logs.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(200) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Adds `auth` to `router` (nothing for [`Inbound::None`]).
pub fn layer(router: axum::Router, auth: Inbound) -> axum::Router {
    if auth.is_none() {
        return router;
    }
    let auth = std::sync::Arc::new(auth);
    router.layer(axum::middleware::from_fn(move |req, next| {
        require(auth.clone(), req, next)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(h: &str) -> http::request::Parts {
        http::Request::builder()
            .header("authorization", h)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    #[test]
    fn bearer() {
        let a = Inbound::Bearer(Secret::new("s3cret"));
        assert!(a.allows(&parts("Bearer s3cret")));
        assert!(!a.allows(&parts("Bearer s3cret2")));
        assert!(!a.allows(&parts("Basic s3cret")));
        // The scheme is case-insensitive (RFC 9110); the token is not.
        for h in [
            "bearer s3cret",
            "BEARER s3cret",
            "bEaReR  s3cret ",
            "Bearer\ts3cret",
        ] {
            assert!(a.allows(&parts(h)), "{h}");
        }
        for h in ["Bearer S3CRET", "Bearers3cret", "Bear s3cret", "Bearer"] {
            assert!(!a.allows(&parts(h)), "{h}");
        }
    }

    #[test]
    fn basic_scheme_is_case_insensitive() {
        let a = Inbound::Basic {
            username: "u".into(),
            password: Secret::new("p"),
        };
        // base64("u:p") = dTpw
        assert!(a.allows(&parts("Basic dTpw")));
        assert!(a.allows(&parts("BASIC dTpw")));
        assert!(!a.allows(&parts("Bearer dTpw")));
    }
}
