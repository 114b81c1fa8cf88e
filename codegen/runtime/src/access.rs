//! Request ids and the access log, as tower-http layers on each surface's router.
//!
//! Every request gets an `x-request-id`: the caller's when it sends one, else a new one,
//! unique in the process and across replicas (a random prefix per process and a counter).
//! It is echoed in the answer and, with `--access-log`, names the request's span, so every
//! line logged while it runs carries it, and one INFO line per request says how it ended.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::{HeaderValue, Request, Response};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The request id header.
pub const REQUEST_ID: &str = "x-request-id";

/// Makes ids such as `5f0c2a9e-000000000000002a`: cheaper than a random UUID per request,
/// and as unique (the prefix is random per process).
#[derive(Clone, Copy, Default)]
pub struct NextId;

impl MakeRequestId for NextId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        static PREFIX: OnceLock<u32> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let prefix = *PREFIX.get_or_init(|| {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(std::process::id());
            h.finish() as u32
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        // Written by hand: `format!` took ~1,700 instructions a request (bench/instructions.sh).
        let mut id = [b'-'; 25];
        hex(&prefix.to_be_bytes(), &mut id[..8]);
        hex(&n.to_be_bytes(), &mut id[9..]);
        HeaderValue::from_bytes(&id).ok().map(RequestId::new)
    }
}

/// `bytes` as lowercase hex, two digits each, into `out` (header values built without
/// `format!`: request ids here, `traceparent` in the telemetry).
pub(crate) fn hex(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (b, o) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        o[0] = DIGITS[usize::from(b >> 4)];
        o[1] = DIGITS[usize::from(b & 0xf)];
    }
}

/// `app` with request ids (set, then echoed in the answer) and, when `access_log`, a span
/// per request (`surface`, method, path, id) and one INFO line per answer (status, time).
pub fn layer(app: axum::Router, surface: &'static str, access_log: bool) -> axum::Router {
    let app = app.layer(PropagateRequestIdLayer::x_request_id());
    let app = if access_log {
        app.layer(
            TraceLayer::new_for_http()
                .make_span_with(move |req: &Request<axum::body::Body>| {
                    let id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    // The path only: a query may hold customer data.
                    tracing::info_span!(
                        "request",
                        surface,
                        method = %req.method(),
                        path = %req.uri().path(),
                        id,
                    )
                })
                .on_request(())
                .on_response(
                    |res: &Response<axum::body::Body>, latency: Duration, _: &Span| {
                        tracing::info!(
                            target: "access",
                            status = res.status().as_u16(),
                            micros = latency.as_micros() as u64,
                            "answered"
                        );
                    },
                )
                .on_failure(()),
        )
    } else {
        app
    };
    app.layer(SetRequestIdLayer::x_request_id(NextId))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefix_dash_counter_in_hex_and_distinct() {
        let req = Request::new(());
        let a = NextId.make_request_id(&req).unwrap();
        let b = NextId.make_request_id(&req).unwrap();
        let (a, b) = (
            a.header_value().to_str().unwrap(),
            b.header_value().to_str().unwrap(),
        );
        assert_eq!(a.len(), 25);
        assert_eq!(&a[8..9], "-");
        assert!(
            a.bytes()
                .all(|c| c == b'-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(a[..8], b[..8]);
        let n = |s: &str| u64::from_str_radix(&s[9..], 16).unwrap();
        assert!(n(b) > n(a));
    }

    #[test]
    fn hex_pads_and_orders_digits() {
        let mut out = [0u8; 8];
        hex(&0x2a_u32.to_be_bytes(), &mut out);
        assert_eq!(&out, b"0000002a");
        let mut out = [0u8; 16];
        hex(&u64::MAX.to_be_bytes(), &mut out);
        assert_eq!(&out, b"ffffffffffffffff");
    }
}
