//! The `otel` feature's side of [`super`]: the SDK, the spans, propagation and `/traces`.

use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};

use super::ring::{Processor, Ring};
use super::{Carried, Step, TraceSpec};
use crate::Error;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static STATE: OnceLock<State> = OnceLock::new();

struct State {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    ring: Option<Arc<Ring>>,
    /// `naftiko.capability` (shared, not copied per span).
    label: Option<opentelemetry::Value>,
    propagation: Propagation,
}

/// How a trace's context travels in headers, to and from callers and upstreams.
enum Propagation {
    /// W3C `traceparent`: read by the SDK's propagator, written here without its formatting.
    W3c(TraceContextPropagator),
    /// B3 multi-header, read and written by its propagator.
    B3(super::b3::B3Multi),
}

impl Propagation {
    /// The caller's context in `headers`, if any.
    fn extract(&self, headers: &http::HeaderMap) -> Context {
        match self {
            Propagation::W3c(p) => p.extract(&HeaderExtractor(headers)),
            Propagation::B3(p) => p.extract(&HeaderExtractor(headers)),
        }
    }
}

/// W3C `traceparent`, or B3 when the spec asks for it; `OTEL_PROPAGATORS` wins
/// (`tracecontext`, `b3multi`).
fn propagation(spec: Option<&TraceSpec>) -> Propagation {
    let b3 = match env("OTEL_PROPAGATORS") {
        Some(p) => {
            let names: Vec<&str> = p.split(',').map(str::trim).collect();
            !names.contains(&"tracecontext") && names.iter().any(|n| n.starts_with("b3"))
        }
        None => spec.is_some_and(|s| s.b3),
    };
    if b3 {
        Propagation::B3(super::b3::B3Multi)
    } else {
        Propagation::W3c(TraceContextPropagator::new())
    }
}

pub(super) fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

fn state() -> Option<&'static State> {
    STATE.get().filter(|_| active())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether the `OTEL_*` variables ask for OTLP export of traces.
fn otlp_from_env() -> bool {
    match env("OTEL_TRACES_EXPORTER") {
        Some(e) => e.split(',').any(|e| e.trim() == "otlp"),
        None => {
            env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
                || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
        }
    }
}

pub(super) fn init(spec: Option<&TraceSpec>, label: &str) -> Result<bool, Error> {
    if STATE.get().is_some() {
        return Ok(active());
    }
    if env("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || spec.is_some_and(|s| !s.enabled)
    {
        return Ok(false);
    }
    let local = spec.is_some_and(|s| s.local && s.buffer > 0);
    let exporter_off = env("OTEL_TRACES_EXPORTER").is_some_and(|e| e.trim() == "none");
    let export = !exporter_off && (spec.is_some_and(|s| s.otlp.is_some()) || otlp_from_env());
    if !local && !export {
        return Ok(false);
    }
    let mut resource = opentelemetry_sdk::Resource::builder();
    if env("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(if label.is_empty() {
            "naftiko".to_owned()
        } else {
            format!("naftiko-{label}")
        });
    }
    let mut builder = SdkTracerProvider::builder().with_resource(resource.build());
    // The spec's ratio, unless OTEL_TRACES_SAMPLER says otherwise (the SDK reads it).
    if env("OTEL_TRACES_SAMPLER").is_none()
        && let Some(s) = spec.map(|s| s.sampling).filter(|s| *s < 1.0)
    {
        builder = builder.with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            s,
        ))));
    }
    let ring = local.then(|| Arc::new(Ring::new(spec.map_or(100, |s| s.buffer))));
    if let Some(r) = &ring {
        builder = builder.with_span_processor(Processor(r.clone()));
    }
    if export {
        use opentelemetry_otlp::WithExportConfig as _;
        let mut exporter = opentelemetry_otlp::SpanExporter::builder().with_http();
        let env_endpoint = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
            || env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some();
        if !env_endpoint && let Some(base) = spec.and_then(|s| s.otlp) {
            // The spec gives the collector's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT does.
            exporter = exporter.with_endpoint(format!("{}/v1/traces", base.trim_end_matches('/')));
        }
        let exporter = exporter
            .build()
            .map_err(|e| Error::Config(format!("OpenTelemetry: the OTLP exporter: {e}")))?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer("io.naftiko.engine");
    let state = State {
        provider,
        tracer,
        ring,
        label: (!label.is_empty())
            .then(|| opentelemetry::StringValue::from(Arc::<str>::from(label)).into()),
        propagation: propagation(spec),
    };
    if STATE.set(state).is_ok() {
        ACTIVE.store(true, Ordering::Relaxed);
    }
    tracing::info!(
        "OpenTelemetry traces on ({}{}{})",
        if local { "/traces" } else { "" },
        if local && export { ", " } else { "" },
        if export { "OTLP export" } else { "" },
    );
    Ok(true)
}

pub(super) fn shutdown() {
    if let Some(s) = STATE.get() {
        ACTIVE.store(false, Ordering::Relaxed);
        if let Err(e) = s.provider.shutdown() {
            tracing::warn!("OpenTelemetry: could not export the last spans: {e}");
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(k, v);
        }
    }
}

/// A span for an inbound request, child of the caller's `traceparent` when it sends one.
/// Always SERVER: OpenTelemetry's conventions make every inbound request's span a server
/// span (the engine makes it INTERNAL when a `traceparent` came; semantics.md 15).
fn server(
    s: &State,
    name: &'static str,
    adapter: &'static str,
    operation: Option<&str>,
    method: Option<&http::Method>,
    headers: &http::HeaderMap,
) -> Context {
    let parent = s.propagation.extract(headers);
    let mut span = s
        .tracer
        .span_builder(name)
        .with_kind(SpanKind::Server)
        .start_with_context(&s.tracer, &parent);
    // Attributes only for a span that records them: a request sampled out builds none.
    if span.is_recording() {
        let mut attributes = Vec::with_capacity(4);
        attributes.push(KeyValue::new("naftiko.adapter.type", adapter));
        if let Some(o) = operation {
            attributes.push(KeyValue::new("naftiko.operation.id", o.to_owned()));
        }
        if let Some(m) = method {
            attributes.push(KeyValue::new("http.request.method", method_value(m)));
        }
        if let Some(l) = &s.label {
            attributes.push(KeyValue::new("naftiko.capability", l.clone()));
        }
        span.set_attributes(attributes);
    }
    parent.with_span(span)
}

/// Whether a span under `parent` would record nothing: its parent was sampled out. Every
/// sampler the SDK offers decides a trace once (parent-based, or by the trace id, or always
/// the same), so such a child is skipped altogether: no span, no attributes, and what goes
/// upstream is the sampled-out parent's context, as W3C allows.
fn sampled_out(parent: &Context) -> bool {
    let parent = parent.span();
    let sc = parent.span_context();
    sc.is_valid() && !sc.is_sampled()
}

/// A child of the current span, unless the trace is sampled out. `attributes` is called
/// only for a span that records.
fn child(
    s: &State,
    name: impl Into<Cow<'static, str>>,
    kind: SpanKind,
    attributes: impl FnOnce() -> Vec<KeyValue>,
) -> Option<Context> {
    let parent = Context::current();
    if sampled_out(&parent) {
        return None;
    }
    let span = s
        .tracer
        .span_builder(name)
        .with_kind(kind)
        .with_attributes(attributes())
        .start_with_context(&s.tracer, &parent);
    Some(parent.with_span(span))
}

/// Ends `span` (when `end`), with status ERROR and `message` when there is one.
pub(super) fn finish(span: &Context, message: Option<String>, end: bool) {
    let span = span.span();
    if let Some(message) = message {
        span.set_status(Status::error(message));
    }
    if end {
        span.end();
    }
}

pub(super) fn step(index: usize, step: Step, namespace: &'static str) -> Option<Context> {
    let s = state()?;
    let name = match step {
        Step::Call(_) => "step.call",
        Step::Lookup(_) => "step.lookup",
        Step::Script { .. } => "step.script",
    };
    child(s, name, SpanKind::Internal, || {
        let index = KeyValue::new("naftiko.step.index", index as i64);
        match step {
            Step::Call(call) => vec![
                index,
                KeyValue::new("naftiko.step.call", call),
                KeyValue::new("naftiko.namespace", namespace),
            ],
            Step::Lookup(field) => vec![index, KeyValue::new("naftiko.step.match", field)],
            Step::Script { file, language } => vec![
                index,
                KeyValue::new("naftiko.step.script.file", file),
                KeyValue::new("naftiko.step.script.language", language),
            ],
        }
    })
}

pub(super) fn aggregate(reference: &'static str) -> Option<Context> {
    let s = state()?;
    child(s, "aggregate.function", SpanKind::Internal, || {
        vec![KeyValue::new("naftiko.aggregate.ref", reference)]
    })
}

pub(super) fn layer(app: axum::Router, adapter: &'static str) -> axum::Router {
    app.layer(InboundLayer { adapter })
}

/// A method name without allocating for the common ones.
fn method_value(m: &http::Method) -> opentelemetry::Value {
    match known_method(m) {
        Some((name, _)) => name.into(),
        None => m.as_str().to_owned().into(),
    }
}

/// A common method's name and its client span's name, both static.
fn known_method(m: &http::Method) -> Option<(&'static str, &'static str)> {
    Some(match *m {
        http::Method::GET => ("GET", "http.client.GET"),
        http::Method::POST => ("POST", "http.client.POST"),
        http::Method::PUT => ("PUT", "http.client.PUT"),
        http::Method::PATCH => ("PATCH", "http.client.PATCH"),
        http::Method::DELETE => ("DELETE", "http.client.DELETE"),
        _ => return None,
    })
}

/// The span of every request to a REST or skill router (a plain tower layer: no boxed
/// future per request, as `axum::middleware::from_fn` has).
#[derive(Clone, Copy)]
struct InboundLayer {
    adapter: &'static str,
}

impl<S> tower_layer::Layer<S> for InboundLayer {
    type Service = Inbound<S>;
    fn layer(&self, inner: S) -> Inbound<S> {
        Inbound {
            inner,
            adapter: self.adapter,
        }
    }
}

#[derive(Clone)]
struct Inbound<S> {
    inner: S,
    adapter: &'static str,
}

impl<S> tower_service::Service<axum::extract::Request> for Inbound<S>
where
    S: tower_service::Service<axum::extract::Request, Response = axum::response::Response>,
{
    type Response = axum::response::Response;
    type Error = S::Error;
    type Future = InboundFuture<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: axum::extract::Request) -> Self::Future {
        let Some(s) = state() else {
            return InboundFuture {
                fut: self.inner.call(req),
                span: None,
            };
        };
        let name = if self.adapter == "skill" {
            "skill.request"
        } else {
            "rest.request"
        };
        let cx = server(
            s,
            name,
            self.adapter,
            None,
            Some(req.method()),
            req.headers(),
        );
        // A request no route matches keeps its path as its operation id.
        let unmatched = cx
            .span()
            .is_recording()
            .then(|| (req.uri().clone(), req.method().clone(), self.adapter));
        let fut = {
            let _attached = cx.clone().attach();
            self.inner.call(req)
        };
        InboundFuture {
            fut,
            span: Some((cx, unmatched)),
        }
    }
}

/// What a request's span needs once it is answered.
type Pending = (Context, Option<(http::Uri, http::Method, &'static str)>);

pin_project_lite::pin_project! {
    struct InboundFuture<F> {
        #[pin]
        fut: F,
        span: Option<Pending>,
    }
}

impl<F, E> Future for InboundFuture<F>
where
    F: Future<Output = Result<axum::response::Response, E>>,
{
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        task: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        let _attached = this.span.as_ref().map(|(cx, _)| cx.clone().attach());
        let mut out = std::task::ready!(this.fut.poll(task));
        if let Some((cx, unmatched)) = this.span.take() {
            let span = cx.span();
            if let Ok(response) = &mut out {
                // The route it matched (`/customers/{id} GET`), so that path values do not
                // make every operation id different.
                let route = response
                    .extensions_mut()
                    .remove::<crate::metrics::RouteName>();
                if let Some((uri, method, adapter)) = unmatched {
                    let operation = match route {
                        Some(r) => r.0,
                        None if adapter == "skill" => uri.path().to_owned(),
                        None => format!("{} {method}", uri.path()),
                    };
                    span.set_attribute(KeyValue::new("naftiko.operation.id", operation));
                }
                let status = response.status();
                span.set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(status.as_u16()),
                ));
                if status.is_server_error() {
                    span.set_status(Status::error(status.to_string()));
                }
            }
            span.end();
        }
        std::task::Poll::Ready(out)
    }
}

pub(super) fn mcp_request(headers: &http::HeaderMap, method: &str) -> Option<Carried> {
    let s = state()?;
    Some(Carried {
        cx: server(s, "mcp.request", "mcp", Some(method), None, headers),
    })
}

pub(super) fn tool(name: &str, parent: Option<&Carried>) -> Option<Context> {
    let s = state()?;
    let parent = parent.map_or_else(Context::current, |c| c.cx.clone());
    if sampled_out(&parent) {
        return None;
    }
    let span = s
        .tracer
        .span_builder("mcp.tool")
        .with_kind(SpanKind::Internal)
        .with_attributes([
            KeyValue::new("naftiko.adapter.type", "mcp"),
            KeyValue::new("naftiko.operation.id", name.to_owned()),
        ])
        .start_with_context(&s.tracer, &parent);
    Some(parent.with_span(span))
}

pub(super) fn client(method: &http::Method, namespace: &'static str) -> Option<Context> {
    let s = state()?;
    let name: Cow<'static, str> = match known_method(method) {
        Some((_, span)) => span.into(),
        None => format!("http.client.{method}").into(),
    };
    child(s, name, SpanKind::Client, || {
        vec![
            KeyValue::new("http.request.method", method_value(method)),
            KeyValue::new("naftiko.namespace", namespace),
        ]
    })
}

pub(super) fn status_code(span: &Context, code: u16) {
    span.span()
        .set_attribute(KeyValue::new("http.response.status_code", i64::from(code)));
}

pub(super) fn outgoing(headers: &mut http::HeaderMap, url: &reqwest::Url, redact: Option<&str>) {
    let Some(s) = state() else {
        return;
    };
    let cx = Context::current();
    let span = cx.span();
    if !span.span_context().is_valid() {
        return;
    }
    // A span sampled out records nothing: its context still goes upstream (flag 00).
    if span.is_recording() {
        span.set_attribute(KeyValue::new("url.full", redacted(url, redact)));
    }
    match &s.propagation {
        Propagation::W3c(_) => {
            let sc = span.span_context();
            if let Ok(v) = http::HeaderValue::from_bytes(&traceparent(sc)) {
                headers.insert(http::HeaderName::from_static("traceparent"), v);
            }
            // An empty `tracestate` is left out, as W3C allows.
            let state = sc.trace_state().header();
            if !state.is_empty()
                && let Ok(v) = http::HeaderValue::from_str(&state)
            {
                headers.insert(http::HeaderName::from_static("tracestate"), v);
            }
        }
        Propagation::B3(p) => p.inject_context(&cx, &mut HeaderInjector(headers)),
    }
}

/// `00-<trace id>-<span id>-<flags>`, the W3C `traceparent` of `sc`, written into a buffer
/// on the stack (the SDK's propagator formats four strings per upstream request).
fn traceparent(sc: &opentelemetry::trace::SpanContext) -> [u8; 55] {
    use crate::access::hex;
    let mut v = *b"00-00000000000000000000000000000000-0000000000000000-00";
    hex(&sc.trace_id().to_bytes(), &mut v[3..35]);
    hex(&sc.span_id().to_bytes(), &mut v[36..52]);
    hex(
        &[(sc.trace_flags() & opentelemetry::trace::TraceFlags::SAMPLED).to_u8()],
        &mut v[53..55],
    );
    v
}

/// The URL with the value of the query parameter `secret` (an API key) replaced: a trace
/// is read by more people than the key should be.
fn redacted(url: &reqwest::Url, secret: Option<&str>) -> String {
    let Some(secret) = secret else {
        return url.to_string();
    };
    let mut u = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == secret {
                "REDACTED".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

pub(super) async fn list_traces(
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state().and_then(|s| s.ring.as_ref()) {
        Some(r) => axum::Json(r.list(
            q.get("operation").map(String::as_str),
            q.get("status").map(String::as_str),
        ))
        .into_response(),
        None => super::inactive_answer(),
    }
}

pub(super) async fn get_trace(
    axum::extract::Path(id): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Some(r) = state().and_then(|s| s.ring.as_ref()) else {
        return super::inactive_answer();
    };
    match r.get(&id) {
        Some(t) => axum::Json(t).into_response(),
        None => (
            http::StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({
                "error": format!("Trace not found: {}", crate::rest::clip(&id))
            })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_the_sdk_propagators() {
        use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
        for flags in [TraceFlags::SAMPLED, TraceFlags::default()] {
            let sc = SpanContext::new(
                TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
                SpanId::from_hex("b7ad6b7169203331").unwrap(),
                flags,
                false,
                TraceState::default(),
            );
            let cx = Context::new().with_remote_span_context(sc.clone());
            let mut headers = http::HeaderMap::new();
            TraceContextPropagator::new().inject_context(&cx, &mut HeaderInjector(&mut headers));
            assert_eq!(
                headers["traceparent"].as_bytes(),
                traceparent(&sc).as_slice()
            );
        }
    }

    #[test]
    fn an_api_key_in_the_query_is_not_recorded() {
        let url =
            reqwest::Url::parse("https://api.example.com/v1/x?api_key=s3cret&q=a%20b").unwrap();
        let r = redacted(&url, Some("api_key"));
        assert!(!r.contains("s3cret"), "{r}");
        assert!(r.contains("api_key=REDACTED"), "{r}");
        assert!(r.contains("q=a+b"), "{r}");
        assert_eq!(redacted(&url, None), url.to_string());
    }
}
