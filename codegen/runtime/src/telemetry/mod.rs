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
mod b3;
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
    /// `traces.propagation` other than `w3c`: B3 multi-header propagation instead of W3C
    /// `traceparent` (`OTEL_PROPAGATORS` wins).
    pub b3: bool,
}

impl TraceSpec {
    /// The engine's defaults: on, a buffer of 100 traces, every trace sampled, no export.
    pub const DEFAULT: TraceSpec = TraceSpec {
        enabled: true,
        local: true,
        buffer: 100,
        sampling: 1.0,
        otlp: None,
        b3: false,
    };

    /// Whether the control port serves `/traces`.
    pub fn serves_traces(&self) -> bool {
        self.enabled && self.local
    }
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

/// The OpenTelemetry context a [`Traced`] future runs in (nothing without `otel`).
#[cfg(feature = "otel")]
type Span = opentelemetry::Context;
#[cfg(not(feature = "otel"))]
type Span = std::convert::Infallible;

/// What a [`Traced`] future does when it completes, besides ending its span.
#[derive(Debug, Clone, Copy)]
enum After {
    Nothing,
    /// Record `naftiko.step.duration.seconds` for a step of this kind and namespace.
    StepMetric(&'static str, &'static str, std::time::Instant),
}

pin_project_lite::pin_project! {
    /// A future run in a span of its own (when tracing is on), which ends with it: its
    /// status ERROR when `error` finds one in the output. A plain future, not an `async fn`,
    /// so that wrapping adds no state machine (debug builds keep their stacks small).
    #[must_use = "futures do nothing unless polled"]
    pub struct Traced<F, E> {
        #[pin]
        fut: F,
        span: Option<Span>,
        error: Option<E>,
        after: After,
        // Only the span of an inbound message is shared with others, which end it.
        end: bool,
    }
}

impl<F: Future, E: FnOnce(&F::Output) -> Option<String>> Future for Traced<F, E> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        #[cfg(feature = "otel")]
        let _attached = this.span.as_ref().map(|s| s.clone().attach());
        let out = std::task::ready!(this.fut.poll(cx));
        if let After::StepMetric(kind, namespace, started) = *this.after {
            crate::metrics::step(kind, namespace, started.elapsed());
        }
        #[cfg(feature = "otel")]
        if let Some(span) = this.span.take() {
            let message = this.error.take().and_then(|e| e(&out));
            on::finish(&span, message, *this.end);
        }
        #[cfg(not(feature = "otel"))]
        let _ = (this.span, this.error, this.end);
        std::task::Poll::Ready(out)
    }
}

/// The output of a future whose errors do not change its span's status.
type NoError<T> = fn(&T) -> Option<String>;

fn no_error<T>(_: &T) -> Option<String> {
    None
}

fn traced<F: Future, E>(
    fut: F,
    span: Option<Span>,
    error: E,
    after: After,
    end: bool,
) -> Traced<F, E> {
    Traced {
        fut,
        span,
        error: Some(error),
        after,
        end,
    }
}

/// Runs one orchestration step of a flow exposed or aggregated under `namespace`: a span
/// `step.<kind>` around it and its duration in `naftiko.step.duration.seconds`.
pub fn step<F: Future>(
    index: usize,
    step: Step,
    namespace: &'static str,
    fut: F,
) -> Traced<F, NoError<F::Output>> {
    #[cfg(feature = "otel")]
    let span = on::step(index, step, namespace);
    #[cfg(not(feature = "otel"))]
    let span = {
        let _ = index;
        None
    };
    let after = After::StepMetric(step.kind(), namespace, std::time::Instant::now());
    traced(fut, span, no_error, after, true)
}

/// Runs an aggregate function (`reference` is `namespace.function`) in an
/// `aggregate.function` span.
pub fn aggregate<F: Future>(reference: &'static str, fut: F) -> Traced<F, NoError<F::Output>> {
    #[cfg(feature = "otel")]
    let span = on::aggregate(reference);
    #[cfg(not(feature = "otel"))]
    let span = {
        let _ = reference;
        None
    };
    traced(fut, span, no_error, After::Nothing, true)
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
pub fn within<F: Future>(carried: Option<Carried>, fut: F) -> Traced<F, NoError<F::Output>> {
    #[cfg(feature = "otel")]
    let span = carried.map(|c| c.cx);
    #[cfg(not(feature = "otel"))]
    let span = carried.and(None);
    traced(fut, span, no_error, After::Nothing, true)
}

/// Runs `fut` as a child of `parent`'s span (upstream calls of a resource read, say).
pub fn under<F: Future>(parent: Option<&Carried>, fut: F) -> Traced<F, NoError<F::Output>> {
    #[cfg(feature = "otel")]
    let span = parent.map(|c| c.cx.clone());
    #[cfg(not(feature = "otel"))]
    let span = parent.and(None);
    traced(fut, span, no_error, After::Nothing, false)
}

/// Runs a tool call in an `mcp.tool` span under `parent` (the `mcp.request` of its
/// message, when it came over HTTP); `failed` tells from the output whether it is an error.
pub fn tool<F: Future>(
    name: &str,
    parent: Option<&Carried>,
    fut: F,
    failed: impl FnOnce(&F::Output) -> bool,
) -> Traced<F, impl FnOnce(&F::Output) -> Option<String>> {
    #[cfg(feature = "otel")]
    let span = on::tool(name, parent);
    #[cfg(not(feature = "otel"))]
    let span = {
        let _ = (name, parent);
        None
    };
    traced(
        fut,
        span,
        move |out: &F::Output| failed(out).then(|| "isError".to_owned()),
        After::Nothing,
        true,
    )
}

/// An upstream call: an `http.client.<METHOD>` span around `fut`; `status` reads the
/// answer's HTTP status from its output (`None`: no answer came).
pub(crate) fn client_call<F: Future>(
    method: &http::Method,
    namespace: &'static str,
    fut: F,
    status: impl FnOnce(&F::Output) -> Option<u16>,
) -> Traced<F, impl FnOnce(&F::Output) -> Option<String>> {
    #[cfg(feature = "otel")]
    let span = on::client(method, namespace);
    #[cfg(not(feature = "otel"))]
    let span = {
        let _ = (method, namespace);
        None
    };
    #[cfg(feature = "otel")]
    let recorder = span.clone();
    let error = move |out: &F::Output| {
        let code = status(out);
        #[cfg(feature = "otel")]
        if let (Some(span), Some(code)) = (&recorder, code) {
            on::status_code(span, code);
        }
        match code {
            Some(code) if code >= 500 => Some(format!("upstream answered {code}")),
            Some(_) => None,
            None => Some("no answer (transport error)".to_owned()),
        }
    };
    traced(fut, span, error, After::Nothing, true)
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
