//! OpenTelemetry traces: a span for each inbound request, MCP tool call, aggregate function,
//! orchestration step and upstream call, with the reference engine's names and attributes
//! (semantics.md section 15); W3C `traceparent` taken from callers and sent upstream; the
//! control port's `/traces` ring buffer; OTLP export over HTTP.
//!
//! Spans are made with the OpenTelemetry API directly rather than through `tracing` spans:
//! their names, kinds and attributes are the engine's literal ones, the context crosses the
//! MCP SDK's tasks in request extensions (where a `tracing` span stack does not follow), and
//! with tracing off every hook below costs one atomic load. Tracing is on when the spec's
//! control adapter keeps `/traces` on, or when OTLP export is asked for (by the spec or by
//! `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` /
//! `OTEL_TRACES_EXPORTER=otlp`), and `OTEL_SDK_DISABLED` is not `true`.
//!
//! Without the `otel` feature every function here is a no-op that compiles to nothing, so
//! generated code calls them unconditionally.

use std::future::Future;

#[cfg(feature = "otel")]
mod on;
#[cfg(feature = "otel")]
pub mod ring;

/// What a spec's control adapter says about traces (`observability`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceSpec {
    /// `observability.enabled`: false turns metrics, traces and export off.
    pub enabled: bool,
    /// `traces.local.enabled`: the control port's `/traces`.
    pub local: bool,
    /// `traces.local.bufferSize`: how many traces `/traces` keeps.
    pub buffer: usize,
    /// `traces.sampling`: the share of new traces recorded (`OTEL_TRACES_SAMPLER` wins).
    pub sampling: f64,
    /// `exporters.otlp.endpoint`: the collector's base URL (`OTEL_EXPORTER_OTLP_*` win).
    pub otlp: Option<&'static str>,
}

impl TraceSpec {
    /// The engine's defaults: on, a buffer of 100 traces, every trace sampled, no export.
    pub const DEFAULT: TraceSpec = TraceSpec {
        enabled: true,
        local: true,
        buffer: 100,
        sampling: 1.0,
        otlp: None,
    };

    /// Off: no spans at all.
    pub const OFF: TraceSpec = TraceSpec {
        enabled: false,
        local: false,
        buffer: 0,
        sampling: 1.0,
        otlp: None,
    };
}

/// What a span of a step records.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// A `call` step: `naftiko.step.call` is the `namespace.operation` it calls.
    Call(&'static str),
    /// A `lookup` step: `naftiko.step.match` is the field it matches on.
    Lookup(&'static str),
    /// A `script` step: its file and language.
    Script {
        /// `naftiko.step.script.file`.
        file: &'static str,
        /// `naftiko.step.script.language`.
        language: &'static str,
    },
}

impl Step {
    /// `call`, `lookup` or `script` (the metric's `step.type`).
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Call(_) => "call",
            Step::Lookup(_) => "lookup",
            Step::Script { .. } => "script",
        }
    }
}

/// Starts tracing for this process as `spec` (the control adapter's, when there is one) and
/// the `OTEL_*` variables say; `label` names the service (`naftiko-<label>`). Returns whether
/// spans are recorded. Calling it again does nothing.
pub fn init(spec: Option<&TraceSpec>, label: &str) -> Result<bool, crate::Error> {
    #[cfg(feature = "otel")]
    return on::init(spec, label);
    #[cfg(not(feature = "otel"))]
    {
        let _ = (spec, label);
        Ok(false)
    }
}

/// Exports the spans not sent yet and stops the exporter (at the end of serving).
pub fn shutdown() {
    #[cfg(feature = "otel")]
    on::shutdown();
}

/// Whether spans are recorded in this process.
pub fn active() -> bool {
    #[cfg(feature = "otel")]
    return on::active();
    #[cfg(not(feature = "otel"))]
    false
}

/// Runs one orchestration step of a flow exposed or aggregated under `namespace`: a span
/// `step.<kind>` around it and its duration in `naftiko.step.duration.seconds`.
pub async fn step<F: Future>(
    index: usize,
    step: Step,
    namespace: &'static str,
    fut: F,
) -> F::Output {
    let started = std::time::Instant::now();
    #[cfg(feature = "otel")]
    let out = on::step(index, step, namespace, fut).await;
    #[cfg(not(feature = "otel"))]
    let out = {
        let _ = index;
        fut.await
    };
    crate::metrics::step(step.kind(), namespace, started.elapsed());
    out
}

/// Runs an aggregate function (`reference` is `namespace.function`) in an
/// `aggregate.function` span.
pub async fn aggregate<F: Future>(reference: &'static str, fut: F) -> F::Output {
    #[cfg(feature = "otel")]
    return on::aggregate(reference, fut).await;
    #[cfg(not(feature = "otel"))]
    {
        let _ = reference;
        fut.await
    }
}

/// A REST or skill router with a `rest.request` (or `skill.request`) span around every
/// request, matched or not, its parent taken from the caller's `traceparent`.
#[cfg(feature = "rest")]
pub fn layer(app: axum::Router, adapter: &'static str) -> axum::Router {
    #[cfg(feature = "otel")]
    if active() {
        return on::layer(app, adapter);
    }
    let _ = adapter;
    app
}

/// The control port's `/traces` and `/traces/{id}`.
#[cfg(feature = "rest")]
pub fn routes() -> axum::Router {
    use axum::routing::get;
    #[cfg(feature = "otel")]
    return axum::Router::new()
        .route("/traces", get(on::list_traces))
        .route("/traces/{id}", get(on::get_trace));
    #[cfg(not(feature = "otel"))]
    {
        async fn inactive() -> axum::response::Response {
            inactive_answer()
        }
        axum::Router::new()
            .route("/traces", get(inactive))
            .route("/traces/{id}", get(inactive))
    }
}

/// 503: traces are off in this process.
#[cfg(feature = "rest")]
pub(crate) fn inactive_answer() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        http::StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({
            "error": "OpenTelemetry is not active. Traces require the `otel` feature of naftiko-runtime and traces enabled in the spec's observability block."
        })),
    )
        .into_response()
}

/// The OpenTelemetry context of one inbound message, carried in request extensions to the
/// MCP handler (which the SDK runs in a task of its own).
#[derive(Clone, Debug)]
pub struct Carried {
    #[cfg(feature = "otel")]
    pub(crate) cx: opentelemetry::Context,
}

/// An `mcp.request` span for one JSON-RPC request (`method`), its parent from `headers`;
/// `None` when tracing is off. Run the request in [`within`].
pub fn mcp_request(headers: &http::HeaderMap, method: &str) -> Option<Carried> {
    #[cfg(feature = "otel")]
    return on::mcp_request(headers, method);
    #[cfg(not(feature = "otel"))]
    {
        let _ = (headers, method);
        None
    }
}

/// Runs `fut` in `carried`'s span, then ends the span.
pub async fn within<F: Future>(carried: Option<Carried>, fut: F) -> F::Output {
    #[cfg(feature = "otel")]
    if let Some(c) = carried {
        use opentelemetry::trace::{FutureExt as _, TraceContextExt as _};
        let out = fut.with_context(c.cx.clone()).await;
        c.cx.span().end();
        return out;
    }
    let _ = carried;
    fut.await
}

/// Runs `fut` as a child of `parent`'s span (upstream calls of a resource read, say).
pub async fn under<F: Future>(parent: Option<&Carried>, fut: F) -> F::Output {
    #[cfg(feature = "otel")]
    if let Some(c) = parent {
        use opentelemetry::trace::FutureExt as _;
        return fut.with_context(c.cx.clone()).await;
    }
    let _ = parent;
    fut.await
}

/// Runs a tool call in an `mcp.tool` span under `parent` (the `mcp.request` of its
/// message, when it came over HTTP); `failed` tells from the output whether it is an error.
pub async fn tool<F: Future>(
    name: &str,
    parent: Option<&Carried>,
    fut: F,
    failed: impl FnOnce(&F::Output) -> bool,
) -> F::Output {
    #[cfg(feature = "otel")]
    return on::tool(name, parent, fut, failed).await;
    #[cfg(not(feature = "otel"))]
    {
        let _ = (name, parent, failed);
        fut.await
    }
}

/// An upstream call: an `http.client.<METHOD>` span around `fut`; `status` reads the
/// answer's HTTP status from its output (`None`: no answer came).
pub(crate) async fn client_call<F: Future>(
    method: &http::Method,
    namespace: &str,
    fut: F,
    status: impl FnOnce(&F::Output) -> Option<u16>,
) -> F::Output {
    #[cfg(feature = "otel")]
    if active() {
        return on::client_call(method, namespace, fut, status).await;
    }
    let _ = (method, namespace, status);
    fut.await
}

/// Inside [`client_call`]: adds the current span's `traceparent` to an upstream request's
/// headers and records its URL (`redact`: the query parameter whose value is a secret).
pub(crate) fn outgoing(headers: &mut http::HeaderMap, url: &reqwest::Url, redact: Option<&str>) {
    #[cfg(feature = "otel")]
    if active() {
        on::outgoing(headers, url, redact);
    }
    let _ = (headers, url, redact);
}
