//! The control port: health, readiness, status and Prometheus metrics of a running
//! capability, on a listener of its own (an `exposes` entry of type `control`, or
//! `serve --control-addr`).
//!
//! Routes (GET): `/health/live`, `/health/ready` (when `health`), `/status` (when `info`),
//! `/metrics` (when `metrics`), `/traces` and `/traces/{id}` (when traces are kept), plus what the generated code mounts beside them (the
//! scripting governance). Anything else is a JSON 404 or 405. Control requests are not
//! counted in the metrics they serve.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use serde_json::{Value, json};

use crate::Error;
use crate::auth::Inbound;

/// What a control port serves, as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct ControlSpec {
    /// The host it binds, as the spec declares it (loopback otherwise).
    pub address: Option<&'static str>,
    /// The port (0: any free port).
    pub port: u16,
    /// `/health/live` and `/health/ready`.
    pub health: bool,
    /// `/status`.
    pub info: bool,
    /// `/metrics`.
    pub metrics: bool,
    /// Traces: `/traces` when `traces.local`, sampling and OTLP export.
    pub traces: crate::telemetry::TraceSpec,
}

impl ControlSpec {
    /// What `serve --control-addr` turns on for a spec without a control adapter.
    pub const DEFAULT: ControlSpec = ControlSpec {
        address: None,
        port: 0,
        health: true,
        info: true,
        metrics: true,
        traces: crate::telemetry::TraceSpec::DEFAULT,
    };
}

/// A control port ready to serve.
pub struct ControlSurface {
    /// What it serves, and where.
    pub spec: ControlSpec,
    /// The inbound authentication the spec declares (or why it could not be built).
    pub auth: Result<Inbound, Error>,
    /// More routes on the same port (e.g. `/scripting`).
    pub extra: Vec<Router>,
}

/// One adapter as readiness and status report it.
#[derive(Debug)]
pub struct Adapter {
    /// `rest`, `mcp` or `skill`.
    pub kind: &'static str,
    /// The adapter's `namespace` in the spec.
    pub namespace: &'static str,
    /// The port it listens on (`None` over stdio).
    pub port: Option<u16>,
    started: AtomicBool,
}

impl Adapter {
    /// An adapter, reported as stopped until [`Adapter::set_started`].
    pub fn new(kind: &'static str, namespace: &'static str, port: Option<u16>) -> Self {
        Adapter {
            kind,
            namespace,
            port,
            started: AtomicBool::new(false),
        }
    }

    /// Marks the adapter as listening (or not).
    pub fn set_started(&self, started: bool) {
        self.started.store(started, Ordering::Release);
    }

    fn entry(&self) -> Value {
        let mut e = json!({
            "type": self.kind,
            "namespace": self.namespace,
            "state": if self.started.load(Ordering::Acquire) { "started" } else { "stopped" },
        });
        if let Some(p) = self.port.filter(|p| *p > 0) {
            e["port"] = json!(p);
        }
        e
    }
}

/// The state the control port reports, shared with the server that runs the adapters.
#[derive(Debug)]
pub struct Health {
    /// The capability's name, as `/status` reports it.
    pub capability: &'static str,
    /// The capability's label (`info.label`), as `/status` reports it.
    pub label: &'static str,
    /// The grammar and version the spec was written in (`naftiko 1.0.0-alpha2`).
    pub spec_version: &'static str,
    /// The adapters whose state readiness and `/status` report.
    pub adapters: Vec<Adapter>,
    started: Instant,
    draining: AtomicBool,
}

impl Health {
    /// The state of a capability starting now: not draining, uptime counted from here.
    pub fn new(
        capability: &'static str,
        label: &'static str,
        spec_version: &'static str,
        adapters: Vec<Adapter>,
    ) -> Self {
        Health {
            capability,
            label,
            spec_version,
            adapters,
            started: Instant::now(),
            draining: AtomicBool::new(false),
        }
    }

    /// From now on readiness is down: the process is shutting down, so load balancers
    /// stop sending new requests while the ones in flight finish.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Ready: not draining, and every adapter listening.
    pub fn ready(&self) -> bool {
        !self.draining.load(Ordering::Acquire)
            && self
                .adapters
                .iter()
                .all(|a| a.started.load(Ordering::Acquire))
    }

    fn adapters(&self) -> Vec<Value> {
        self.adapters.iter().map(Adapter::entry).collect()
    }
}

/// The control router for `spec`, reporting `health`.
pub fn router(spec: &ControlSpec, health: Arc<Health>, extra: Vec<Router>) -> Router {
    let mut router = Router::new();
    if spec.health {
        router = router
            .route("/health/live", get(live))
            .route("/health/ready", get(ready));
    }
    if spec.info {
        router = router.route("/status", get(status));
    }
    if spec.metrics {
        router = router.route("/metrics", get(metrics));
    }
    let mut router = router.with_state(health);
    if spec.traces.serves_traces() {
        router = router.merge(crate::telemetry::routes());
    }
    for r in extra {
        router = router.merge(r);
    }
    crate::rest::with_fallbacks(router)
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body.to_string(),
    )
        .into_response()
}

async fn live() -> Response {
    json_response(StatusCode::OK, json!({"status": "UP"}))
}

async fn ready(State(health): State<Arc<Health>>) -> Response {
    let (status, code) = if health.ready() {
        ("UP", StatusCode::OK)
    } else {
        ("DEGRADED", StatusCode::SERVICE_UNAVAILABLE)
    };
    let mut body = json!({"status": status, "adapters": health.adapters()});
    if health.draining.load(Ordering::Acquire) {
        body["draining"] = json!(true);
    }
    json_response(code, body)
}

async fn status(State(health): State<Arc<Health>>) -> Response {
    let uptime = health.started.elapsed();
    let body = json!({
        "capability": {
            "name": health.capability,
            "label": health.label,
            "specVersion": health.spec_version,
        },
        "engine": {
            "name": "naftiko-runtime",
            "version": env!("CARGO_PKG_VERSION"),
            "native": true,
        },
        "uptime": format!("PT{:.3}S", uptime.as_secs_f64()),
        "metrics": {"status": if crate::metrics::render().is_some() { "active" } else { "inactive" }},
        "otel": {"status": if crate::telemetry::active() { "active" } else { "inactive" }},
        "adapters": health.adapters(),
    });
    json_response(StatusCode::OK, body)
}

async fn metrics() -> Response {
    match crate::metrics::render() {
        Some(text) => (
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        None => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "metrics are not being recorded in this process"}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get_json(router: &Router, path: &str) -> (StatusCode, Value) {
        let r = router
            .clone()
            .oneshot(
                http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = r.status();
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    #[tokio::test]
    async fn readiness_follows_the_adapters_and_draining() {
        let health = Arc::new(Health::new(
            "fleet",
            "Fleet",
            "ikanos 1.0.0-beta5",
            vec![
                Adapter::new("rest", "fleet-rest", Some(8080)),
                Adapter::new("mcp", "fleet-mcp", None),
            ],
        ));
        let router = router(&ControlSpec::DEFAULT, health.clone(), Vec::new());
        assert_eq!(
            get_json(&router, "/health/live").await,
            (StatusCode::OK, json!({"status": "UP"}))
        );
        let (code, body) = get_json(&router, "/health/ready").await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "DEGRADED");
        assert_eq!(
            body["adapters"][0],
            json!({"type": "rest", "namespace": "fleet-rest", "port": 8080, "state": "stopped"})
        );
        for a in &health.adapters {
            a.set_started(true);
        }
        assert_eq!(get_json(&router, "/health/ready").await.0, StatusCode::OK);
        health.start_draining();
        let (code, body) = get_json(&router, "/health/ready").await;
        assert_eq!(
            (code, body["draining"].clone()),
            (StatusCode::SERVICE_UNAVAILABLE, json!(true))
        );
        let (code, body) = get_json(&router, "/status").await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(body["capability"]["specVersion"], "ikanos 1.0.0-beta5");
        assert_eq!(get_json(&router, "/nope").await.0, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn routes_follow_the_spec() {
        let health = Arc::new(Health::new("x", "X", "v", Vec::new()));
        let spec = ControlSpec {
            info: false,
            metrics: false,
            ..ControlSpec::DEFAULT
        };
        let router = router(&spec, health, Vec::new());
        assert_eq!(get_json(&router, "/status").await.0, StatusCode::NOT_FOUND);
        assert_eq!(get_json(&router, "/metrics").await.0, StatusCode::NOT_FOUND);
        assert_eq!(get_json(&router, "/health/ready").await.0, StatusCode::OK);
    }
}
