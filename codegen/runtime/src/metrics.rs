//! Prometheus metrics with the reference engine's names and attributes, rendered by the
//! control port's `/metrics`.
//!
//! Recording goes through the `metrics` facade (a client-only build records into nothing;
//! the exporter comes with the `serve` feature): until `enable` installs the Prometheus
//! recorder (a service with a control port does, once per process), every call below is a
//! no-op that costs one atomic load. Names keep the engine's dots, which the exporter turns
//! into `_` (`naftiko.request.total` is scraped as `naftiko_request_total`); no `_total` or
//! unit suffix is added, as the engine adds none.

#[cfg(feature = "serve")]
use std::sync::OnceLock;
use std::time::Duration;

#[cfg(feature = "serve")]
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

#[cfg(feature = "serve")]
use crate::Error;

/// Every inbound request (`naftiko.adapter.type`, `naftiko.operation.id`, `status`).
pub const REQUEST_TOTAL: &str = "naftiko.request.total";
/// Inbound request durations, in seconds.
pub const REQUEST_DURATION: &str = "naftiko.request.duration.seconds";
/// Inbound requests that failed (`error.type`).
pub const REQUEST_ERRORS: &str = "naftiko.request.errors";
/// Step durations (`step.type`, `naftiko.namespace`), in seconds.
pub const STEP_DURATION: &str = "naftiko.step.duration.seconds";
/// Upstream calls (`http.request.method`, `server.address`, `http.response.status_code` or
/// `error.type=transport`).
pub const CLIENT_TOTAL: &str = "naftiko.http.client.total";
/// Upstream call durations, in seconds.
pub const CLIENT_DURATION: &str = "naftiko.http.client.duration.seconds";
/// Capabilities running in this process (`naftiko.capability`).
pub const CAPABILITY_ACTIVE: &str = "naftiko.capability.active";

/// Histogram buckets in seconds: from 1 ms to 10 s, where upstream calls fall. (The engine
/// keeps OpenTelemetry's defaults, made for milliseconds, on values in seconds.)
#[cfg(feature = "serve")]
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Whether [`enable`] has run (always false without the exporter), or [`record_locally`]
/// is running on this thread.
fn recording() -> bool {
    #[cfg(feature = "serve")]
    if HANDLE.get().is_some() {
        return true;
    }
    LOCAL.with(std::cell::Cell::get)
}

thread_local! {
    static LOCAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with what it records going to `recorder` (on this thread only), whether or
/// not the process records metrics: for tests of what is recorded.
pub fn record_locally<R: ::metrics::Recorder, T>(recorder: &R, f: impl FnOnce() -> T) -> T {
    let before = LOCAL.with(|l| l.replace(true));
    let out = ::metrics::with_local_recorder(recorder, f);
    LOCAL.with(|l| l.set(before));
    out
}

/// The Prometheus text of what `f` records, in a registry of its own (the process's is
/// untouched): the same exporter, buckets and descriptions as `/metrics`.
#[cfg(feature = "serve")]
pub fn render_locally(f: impl FnOnce()) -> Result<String, Error> {
    let recorder = PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .map_err(|e| Error::Config(format!("metrics: {e}")))?
        .build_recorder();
    let handle = recorder.handle();
    record_locally(&recorder, f);
    Ok(handle.render())
}

#[cfg(feature = "serve")]
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Turns recording on for this process and returns the handle that renders the text.
/// Calling it again returns the same handle.
#[cfg(feature = "serve")]
pub fn enable() -> Result<&'static PrometheusHandle, Error> {
    if let Some(h) = HANDLE.get() {
        return Ok(h);
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .map_err(|e| Error::Config(format!("metrics: {e}")))?
        .build_recorder();
    let handle = recorder.handle();
    // Another thread may have won the race; its recorder is the one installed.
    if ::metrics::set_global_recorder(recorder).is_err() && HANDLE.get().is_none() {
        return Err(Error::Config(
            "metrics: another metrics recorder is installed in this process".into(),
        ));
    }
    describe();
    Ok(HANDLE.get_or_init(|| handle))
}

/// The Prometheus text of everything recorded, or `None` when recording is off.
#[cfg(feature = "serve")]
pub fn render() -> Option<String> {
    HANDLE.get().map(|h| {
        h.run_upkeep();
        h.render()
    })
}

/// The descriptions of the engine's metrics (`# HELP` lines).
#[cfg(feature = "serve")]
pub fn describe() {
    ::metrics::describe_counter!(REQUEST_TOTAL, "Inbound requests handled");
    ::metrics::describe_histogram!(REQUEST_DURATION, "Inbound request duration in seconds");
    ::metrics::describe_counter!(REQUEST_ERRORS, "Inbound requests that failed");
    ::metrics::describe_histogram!(STEP_DURATION, "Orchestration step duration in seconds");
    ::metrics::describe_counter!(CLIENT_TOTAL, "Calls to consumed APIs");
    ::metrics::describe_histogram!(CLIENT_DURATION, "Consumed API call duration in seconds");
    ::metrics::describe_gauge!(CAPABILITY_ACTIVE, "Capabilities running");
}

/// One inbound request: `adapter` is `rest`, `mcp` or `skill`; `operation` the route
/// (`/customers/{id} GET`) or the tool; `status` the HTTP code or `OK`/`ERROR`.
pub fn request(adapter: &'static str, operation: &str, status: &str, elapsed: Duration) {
    if !recording() {
        return;
    }
    count_and_time(
        REQUEST_TOTAL,
        REQUEST_DURATION,
        &[
            ("naftiko.adapter.type", adapter),
            ("naftiko.operation.id", operation),
            ("status", status),
        ],
        elapsed,
    );
}

/// Adds one to `counter` and records `elapsed` in `histogram`, both under `labels`.
fn count_and_time(
    counter: &'static str,
    histogram: &'static str,
    labels: &[(&'static str, &str)],
    elapsed: Duration,
) {
    #[cfg(feature = "serve")]
    if HANDLE.get().is_some()
        && !LOCAL.with(std::cell::Cell::get)
        && SERIES
            .try_with(|s| s.borrow_mut().record(counter, histogram, labels, elapsed))
            .unwrap_or(false)
    {
        return;
    }
    let (c, h) = series(counter, histogram, labels);
    c.increment(1);
    h.record(elapsed.as_secs_f64());
}

/// The current recorder's counter and histogram under `labels`.
fn series(
    counter: &'static str,
    histogram: &'static str,
    labels: &[(&'static str, &str)],
) -> (::metrics::Counter, ::metrics::Histogram) {
    let labels: Vec<::metrics::Label> = labels
        .iter()
        .map(|(k, v)| ::metrics::Label::new(*k, (*v).to_owned()))
        .collect();
    (
        ::metrics::counter!(counter, labels.clone()),
        ::metrics::histogram!(histogram, labels),
    )
}

/// Each thread's handles of the global recorder's series, by name and labels: recording
/// then costs one lookup in a small map, where the `metrics` macros build a key (a string
/// per label) and search the shared registry for each of the two series.
#[cfg(feature = "serve")]
#[derive(Default)]
struct Series {
    key: Vec<u8>,
    handles: std::collections::HashMap<Vec<u8>, (::metrics::Counter, ::metrics::Histogram)>,
}

#[cfg(feature = "serve")]
impl Series {
    /// Past this many series a thread keeps no more handles (label values are routes,
    /// tools and statuses: far fewer in practice).
    const MAX: usize = 4096;

    /// Records through the thread's handles; false when they are full and have none for
    /// these labels.
    fn record(
        &mut self,
        counter: &'static str,
        histogram: &'static str,
        labels: &[(&'static str, &str)],
        elapsed: Duration,
    ) -> bool {
        self.key.clear();
        // Each part after its length: a value (a caller's tool name, say) cannot make two
        // label sets one key. Bytes, not `write!`, which cost ~500 instructions a label.
        for part in std::iter::once(counter).chain(labels.iter().flat_map(|(k, v)| [*k, *v])) {
            self.key
                .extend_from_slice(&(part.len() as u64).to_le_bytes());
            self.key.extend_from_slice(part.as_bytes());
        }
        let seconds = elapsed.as_secs_f64();
        if let Some((c, h)) = self.handles.get(self.key.as_slice()) {
            c.increment(1);
            h.record(seconds);
            return true;
        }
        if self.handles.len() >= Self::MAX {
            return false;
        }
        let (c, h) = series(counter, histogram, labels);
        c.increment(1);
        h.record(seconds);
        self.handles.insert(self.key.clone(), (c, h));
        true
    }
}

#[cfg(feature = "serve")]
thread_local! {
    static SERIES: std::cell::RefCell<Series> = std::cell::RefCell::new(Series::default());
}

/// The route a REST request matched (`/customers/{id} GET`), left in the answer's
/// extensions by [`record_rest`] for the layers outside the router (the request's span).
#[derive(Debug, Clone)]
pub struct RouteName(pub String);

/// Records every request of a REST router: its route (`/customers/{id} GET`, the route as
/// matched, so path values never become label values), its status and duration, and leaves
/// the route in the answer as [`RouteName`] when tracing is on. Requests that match no route
/// are not recorded (their paths are the caller's). `adapter` is `rest` or `skill`.
#[cfg(feature = "rest")]
pub fn record_rest(router: axum::Router, adapter: &'static str) -> axum::Router {
    router.route_layer(RecordLayer { adapter })
}

/// [`record_rest`]'s layer: a plain tower layer, so a request costs no boxed future and no
/// clone of a boxed service, as `axum::middleware::from_fn` does.
#[cfg(feature = "rest")]
#[derive(Clone, Copy)]
struct RecordLayer {
    adapter: &'static str,
}

#[cfg(feature = "rest")]
impl<S> tower_layer::Layer<S> for RecordLayer {
    type Service = Record<S>;
    fn layer(&self, inner: S) -> Record<S> {
        Record {
            inner,
            adapter: self.adapter,
        }
    }
}

#[cfg(feature = "rest")]
#[derive(Clone)]
struct Record<S> {
    inner: S,
    adapter: &'static str,
}

#[cfg(feature = "rest")]
impl<S> tower_service::Service<axum::extract::Request> for Record<S>
where
    S: tower_service::Service<axum::extract::Request, Response = axum::response::Response>,
{
    type Response = axum::response::Response;
    type Error = S::Error;
    type Future = RecordFuture<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: axum::extract::Request) -> Self::Future {
        let route = req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| {
                let (path, method) = (p.as_str(), req.method().as_str());
                let mut route = String::with_capacity(path.len() + 1 + method.len());
                route.push_str(path);
                route.push(' ');
                route.push_str(method);
                route
            });
        RecordFuture {
            fut: self.inner.call(req),
            route,
            adapter: self.adapter,
            started: std::time::Instant::now(),
        }
    }
}

#[cfg(feature = "rest")]
pin_project_lite::pin_project! {
    struct RecordFuture<F> {
        #[pin]
        fut: F,
        route: Option<String>,
        adapter: &'static str,
        started: std::time::Instant,
    }
}

#[cfg(feature = "rest")]
impl<F, E> std::future::Future for RecordFuture<F>
where
    F: std::future::Future<Output = Result<axum::response::Response, E>>,
{
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        let mut out = std::task::ready!(this.fut.poll(cx));
        if let (Ok(response), Some(route)) = (&mut out, this.route.take()) {
            let status = response.status();
            request(
                this.adapter,
                &route,
                status.as_str(),
                this.started.elapsed(),
            );
            if status.is_server_error() || status.is_client_error() {
                let kind = status.canonical_reason().unwrap_or("error");
                request_error(this.adapter, &route, kind);
            }
            // Only the request's span reads it.
            if crate::telemetry::active() {
                response.extensions_mut().insert(RouteName(route));
            }
        }
        std::task::Poll::Ready(out)
    }
}

/// One inbound request that failed; `error` names the kind (`handled_error` for a tool
/// result with `isError`, else the error's kind).
pub fn request_error(adapter: &'static str, operation: &str, error: &str) {
    if !recording() {
        return;
    }
    let labels = [
        ("naftiko.adapter.type", adapter.to_owned()),
        ("naftiko.operation.id", operation.to_owned()),
        ("error.type", error.to_owned()),
    ];
    ::metrics::counter!(REQUEST_ERRORS, &labels).increment(1);
}

/// One call to a consumed API: `status` is `None` when no answer came (transport error).
pub fn client_call(method: &str, host: &str, status: Option<u16>, elapsed: Duration) {
    if !recording() {
        return;
    }
    let code = status.map(|s| (s, http::StatusCode::from_u16(s).ok()));
    let other;
    let outcome = match &code {
        Some((_, Some(code))) => ("http.response.status_code", code.as_str()),
        Some((s, None)) => {
            other = s.to_string();
            ("http.response.status_code", other.as_str())
        }
        None => ("error.type", "transport"),
    };
    count_and_time(
        CLIENT_TOTAL,
        CLIENT_DURATION,
        &[
            ("http.request.method", method),
            ("server.address", host),
            outcome,
        ],
        elapsed,
    );
}

/// One orchestration step: `kind` is `call`, `lookup` or `script`.
pub fn step(kind: &'static str, namespace: &str, elapsed: Duration) {
    if !recording() {
        return;
    }
    let labels = [
        ("step.type", kind.to_owned()),
        ("naftiko.namespace", namespace.to_owned()),
    ];
    ::metrics::histogram!(STEP_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// A capability starting (`+1`) or stopping (`-1`).
pub fn capability_active(label: &str, delta: f64) {
    if !recording() {
        return;
    }
    let labels = [("naftiko.capability", label.to_owned())];
    ::metrics::gauge!(CAPABILITY_ACTIVE, &labels).increment(delta);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_label_set_keeps_its_own_series() {
        enable().unwrap();
        // Values that would make one key, were a thread's handles found by values joined
        // with a separator.
        let ms = Duration::from_millis(1);
        request("mcp", "x|status|OK", "200", ms);
        request("mcp", "x|status|OK", "200", ms);
        request("mcp", "x", "OK|status|200", ms);
        std::thread::spawn(move || request("mcp", "x", "OK|status|200", ms))
            .join()
            .unwrap();
        let text = render().unwrap();
        for line in [
            r#"naftiko_request_total{naftiko_adapter_type="mcp",naftiko_operation_id="x|status|OK",status="200"} 2"#,
            r#"naftiko_request_total{naftiko_adapter_type="mcp",naftiko_operation_id="x",status="OK|status|200"} 2"#,
        ] {
            assert!(text.contains(line), "missing {line}\n{text}");
        }
    }

    #[test]
    fn recorded_metrics_render_with_the_engine_names() {
        enable().unwrap();
        request(
            "rest",
            "/customers/{id} GET",
            "200",
            Duration::from_millis(3),
        );
        request(
            "rest",
            "/customers/{id} GET",
            "200",
            Duration::from_millis(30),
        );
        request_error("mcp", "get-customer", "handled_error");
        client_call(
            "GET",
            "api.example.com",
            Some(200),
            Duration::from_millis(2),
        );
        client_call("GET", "api.example.com", None, Duration::from_millis(2));
        step("call", "crew", Duration::from_millis(1));
        capability_active("Lago", 1.0);
        let text = render().unwrap();
        for line in [
            "# TYPE naftiko_request_total counter",
            r#"naftiko_request_total{naftiko_adapter_type="rest",naftiko_operation_id="/customers/{id} GET",status="200"} 2"#,
            "# TYPE naftiko_request_duration_seconds histogram",
            r#"naftiko_request_duration_seconds_bucket{naftiko_adapter_type="rest",naftiko_operation_id="/customers/{id} GET",status="200",le="0.005"} 1"#,
            r#"naftiko_request_duration_seconds_count{naftiko_adapter_type="rest",naftiko_operation_id="/customers/{id} GET",status="200"} 2"#,
            r#"naftiko_request_errors{naftiko_adapter_type="mcp",naftiko_operation_id="get-customer",error_type="handled_error"} 1"#,
            r#"naftiko_http_client_total{http_request_method="GET",server_address="api.example.com",error_type="transport"} 1"#,
            r#"naftiko_http_client_total{http_request_method="GET",server_address="api.example.com",http_response_status_code="200"} 1"#,
            r#"naftiko_step_duration_seconds_count{step_type="call",naftiko_namespace="crew"} 1"#,
            r#"naftiko_capability_active{naftiko_capability="Lago"} 1"#,
        ] {
            assert!(text.contains(line), "missing {line}\n{text}");
        }
    }
}
