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
        HeaderValue::from_str(&format!("{prefix:08x}-{n:016x}"))
            .ok()
            .map(RequestId::new)
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
