//! Serving generated surfaces: bind, log where each listens, shut down gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::auth::Inbound;
use crate::control::{Adapter, ControlSpec, ControlSurface, Health};
use crate::mcp::{Handler, HttpOptions};
use crate::rest::BodyLimit;
use crate::{Error, Secret};

/// A REST adapter ready to serve.
pub struct RestSurface {
    /// `rest`, or `skill` for a skill catalogue (its spans, metrics and readiness say so).
    pub kind: &'static str,
    /// The adapter's `namespace` in the spec.
    pub namespace: &'static str,
    /// Its description in the spec (its namespace when it has none).
    pub description: &'static str,
    /// The port the spec declares (0: any free port).
    pub port: u16,
    /// The host the spec declares; loopback otherwise.
    pub address: Option<&'static str>,
    /// The number of routes, for the start-up log.
    pub routes: usize,
    /// Its pass-through routes (`forward`), whose request bodies are streamed rather than
    /// read before the router runs.
    pub streamed: &'static [crate::forward::Passthrough],
    /// Builds the router as serving starts; an `Err` is returned before anything is served.
    pub router: Box<dyn FnOnce() -> Result<axum::Router, Error> + Send>,
}

/// An MCP server ready to serve.
pub struct McpSurface {
    /// The server's `namespace` in the spec.
    pub namespace: &'static str,
    /// The port the spec declares (`None` over stdio; 0: any free port).
    pub port: Option<u16>,
    /// The host the spec declares; loopback otherwise.
    pub address: Option<&'static str>,
    /// Whether it is served over stdio (`mcp-stdio`) rather than HTTP.
    pub stdio: bool,
    /// The number of tools, for the start-up log.
    pub tools: usize,
    /// The inbound authentication the spec declares (or why it could not be built).
    pub auth: Result<Inbound, Error>,
    /// The MCP handler that answers its requests.
    pub handler: Handler,
}

/// Everything a capability exposes, and the upstreams it calls.
pub struct Surfaces {
    /// The capability's name, for `/status`.
    pub capability: &'static str,
    /// The capability's label (`info.label`), for `/status` and the metrics.
    pub label: &'static str,
    /// The grammar and version of the spec (`naftiko 1.0.0-alpha2`), for `/status`.
    pub spec_version: &'static str,
    /// Each consumed namespace and the base URL it calls, for the start-up log.
    pub upstreams: Vec<(&'static str, String)>,
    /// The REST adapters (and skill catalogues), in the order of the spec.
    pub rest: Vec<RestSurface>,
    /// The MCP servers, in the order of the spec.
    pub mcp: Vec<McpSurface>,
    /// The control port, when the spec declares one.
    pub control: Option<crate::control::ControlSurface>,
}

impl Surfaces {
    /// Nothing exposed yet: the generated `surfaces` function pushes each adapter.
    pub fn new(capability: &'static str, label: &'static str) -> Self {
        Surfaces {
            capability,
            label,
            spec_version: "",
            upstreams: Vec::new(),
            rest: Vec::new(),
            mcp: Vec::new(),
            control: None,
        }
    }
}

/// Server settings (the CLI fills them).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Overrides the REST address (the spec's port on loopback otherwise).
    pub rest_addr: Option<SocketAddr>,
    /// Overrides the MCP address.
    pub mcp_addr: Option<SocketAddr>,
    /// Addresses by surface namespace; they win over `rest_addr`, `mcp_addr` and the spec.
    pub listen: Vec<(String, SocketAddr)>,
    /// Largest request body (REST and MCP).
    pub body_limit: usize,
    /// Streamable HTTP settings.
    pub mcp: HttpOptions,
    /// A bearer token MCP callers must present (replaces the spec's inbound auth).
    pub mcp_token: Option<Secret>,
    /// A bearer token REST callers must present (replaces the spec's inbound auth).
    pub rest_token: Option<Secret>,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub drain: Duration,
    /// Requests handled at once per surface (MCP: calls, that is POSTs); more are shed with
    /// 503 rather than queued. A request counts once its body has arrived.
    pub max_concurrency: usize,
    /// Open connections per surface; at the cap, idle connections are closed to make room
    /// and new ones wait. Lowered to what the descriptor limit allows.
    pub max_connections: usize,
    /// Time for a request's headers to arrive, from its first byte (a new connection: from
    /// the connection).
    pub header_timeout: Duration,
    /// Time for a whole request body to arrive; then 408.
    pub body_timeout: Duration,
    /// Time a connection may stay open with no request in progress.
    pub idle_timeout: Duration,
    /// Concurrent HTTP/2 streams per connection.
    pub max_streams: u32,
    /// Threads serving requests, each with its own runtime and upstream connections
    /// (default: one per CPU).
    pub workers: usize,
    /// Where the control port listens: overrides the spec's, or turns one on (health,
    /// status, metrics) for a spec without one.
    pub control_addr: Option<SocketAddr>,
    /// After a shutdown signal, how long readiness reports down while requests are still
    /// accepted, so that load balancers stop sending before the listeners close.
    pub shutdown_delay: Duration,
    /// One INFO line per request (surface, method, path, request id, status, time), and the
    /// request id on every line logged while it runs. Request ids are always set.
    pub access_log: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            rest_addr: None,
            mcp_addr: None,
            listen: Vec::new(),
            body_limit: crate::rest::DEFAULT_BODY_LIMIT,
            mcp: HttpOptions::default(),
            mcp_token: None,
            rest_token: None,
            drain: Duration::from_secs(30),
            max_concurrency: 1024,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(75),
            max_streams: 128,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            control_addr: None,
            shutdown_delay: Duration::ZERO,
            access_log: false,
        }
    }
}

/// Open connections per surface by default (nginx's `worker_connections` is 512 per worker).
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

impl ServeOptions {
    /// The address the surface `namespace` listens on, when one is set: a `listen` entry
    /// for it, else `fallback` (the `--rest-addr` / `--mcp-addr` override).
    fn addr_of(&self, namespace: &str, fallback: Option<SocketAddr>) -> Option<SocketAddr> {
        self.listen
            .iter()
            .rev()
            .find(|(ns, _)| ns == namespace)
            .map(|(_, a)| *a)
            .or(fallback)
    }
}

async fn bind(
    addr: Option<SocketAddr>,
    host: Option<&str>,
    port: u16,
    what: &str,
) -> Result<TcpListener, Error> {
    let res = match addr {
        Some(a) => TcpListener::bind(a).await,
        None => TcpListener::bind((host.unwrap_or("127.0.0.1"), port)).await,
    };
    res.map_err(|e| {
        let at = addr
            .map(|a| a.to_string())
            .unwrap_or_else(|| format!("{}:{port}", host.unwrap_or("127.0.0.1")));
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            " (another process listens there: stop it, or choose another address with \
             --rest-addr, --mcp-addr, --control-addr or --listen NAMESPACE=ADDR)"
        } else {
            ""
        };
        Error::Config(format!("cannot listen on {at} for {what}: {e}{hint}"))
    })
}

/// A servable app per listener, bound before anything is served so that errors come first.
pub struct Bound {
    listeners: Vec<(TcpListener, Arc<Endpoint>)>,
    cancel: CancellationToken,
    /// Cancelled when a shutdown starts (see `Limits::closing`).
    closing: CancellationToken,
    /// Cancels the MCP servers' own work (session streams) once their calls have finished.
    mcp_stop: CancellationToken,
    /// Whether MCP sessions are kept (their event streams stay open until `mcp_stop`).
    sessions: bool,
    drain: Duration,
    workers: usize,
    /// What the control port reports, when there is one.
    health: Option<Arc<Health>>,
    shutdown_delay: Duration,
}

impl Bound {
    /// The addresses listened on, REST first, in the order of the spec.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|(l, _)| l.local_addr().ok())
            .collect()
    }

    /// A token that stops the servers when cancelled.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Starts a graceful shutdown: readiness goes down at once, and the listeners close
    /// after [`ServeOptions::shutdown_delay`]; requests in flight then get the drain time.
    pub fn shutdown(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (health, cancel, closing, delay) = (
            self.health.clone(),
            self.cancel.clone(),
            self.closing.clone(),
            self.shutdown_delay,
        );
        async move {
            if let Some(h) = &health {
                h.start_draining();
            }
            closing.cancel();
            if !delay.is_zero() {
                tracing::info!("readiness is down; closing the listeners in {delay:?}");
                tokio::time::sleep(delay).await;
            }
            cancel.cancel();
        }
    }

    /// Serves until the token is cancelled; in-flight requests then get `drain` to finish.
    ///
    /// Requests are served by [`ServeOptions::workers`] threads, each running its own
    /// single-threaded runtime (see `workers`); this future only accepts connections.
    pub async fn serve(self) -> Result<(), Error> {
        let mcp: Vec<Arc<Endpoint>> = self
            .listeners
            .iter()
            .filter(|(_, e)| e.kind == Kind::Mcp)
            .map(|(_, e)| e.clone())
            .collect();
        let done = crate::workers::spawn(self.listeners, self.workers, &self.cancel, self.drain)?;
        if let Some(h) = &self.health {
            for a in &h.adapters {
                a.set_started(true);
            }
        }
        self.cancel.cancelled().await;
        if let Some(h) = &self.health {
            // Readiness is down from the moment the listeners close, whoever closed them.
            h.start_draining();
            for a in &h.adapters {
                a.set_started(false);
            }
        }
        // MCP calls in flight finish like REST requests do. With sessions, their event
        // streams would hold connections open until the drain ends: once no call has been
        // in flight for a moment, the MCP servers are told to end them. (Stateless, there
        // is nothing to end; the servers stop with the workers.)
        let mcp_stop = self.mcp_stop.clone();
        let sessions = self.sessions;
        let calls_done = tokio::spawn(async move {
            if !sessions {
                return;
            }
            let mut quiet = 0;
            while quiet < 5 {
                tokio::time::sleep(Duration::from_millis(10)).await;
                match mcp.iter().any(|e| e.limits.in_flight() > 0) {
                    true => quiet = 0,
                    false => quiet += 1,
                }
            }
            mcp_stop.cancel();
        });
        let all = async {
            for d in done {
                let _ = d.await;
            }
        };
        // Workers enforce the drain themselves; this bound is a backstop.
        if tokio::time::timeout(self.drain + Duration::from_secs(1), all)
            .await
            .is_err()
        {
            tracing::warn!(
                "some requests were still running after {:?}; stopping",
                self.drain
            );
        }
        calls_done.abort();
        self.mcp_stop.cancel();
        Ok(())
    }
}

/// Starts OpenTelemetry as the control adapter's `observability` and the `OTEL_*`
/// variables say. The OTLP exporter's blocking HTTP client is built off the async threads.
async fn start_tracing(
    traces: Option<crate::telemetry::TraceSpec>,
    label: &'static str,
) -> Result<(), Error> {
    tokio::task::spawn_blocking(move || crate::telemetry::init(traces.as_ref(), label))
        .await
        .map_err(|e| Error::Config(format!("OpenTelemetry: {e}")))?
        .map(|_| ())
}

/// Binds every HTTP surface and logs where each listens and which upstream it calls.
pub async fn bind_all(surfaces: Surfaces, options: &ServeOptions) -> Result<Bound, Error> {
    let cancel = CancellationToken::new();
    // Cancelled first when a shutdown starts; with `cancel` at the latest.
    let closing = cancel.child_token();
    let mcp_stop = CancellationToken::new();
    let mut listeners = Vec::new();
    if (options.rest_addr.is_some() && surfaces.rest.len() > 1)
        || (options.mcp_addr.is_some() && surfaces.mcp.len() > 1)
    {
        return Err(Error::Config(
            "an address override needs a spec with one REST adapter and one MCP server".into(),
        ));
    }
    let descriptors = raise_descriptor_limit();
    let http_surfaces = surfaces.rest.len()
        + surfaces.mcp.iter().filter(|m| !m.stdio).count()
        + usize::from(surfaces.control.is_some() || options.control_addr.is_some());
    let max_connections = connection_cap(options.max_connections, descriptors, http_surfaces);
    for (ns, url) in &surfaces.upstreams {
        tracing::info!("calls upstream `{ns}` at {url}");
    }
    // The control port: the spec's, or the default one `--control-addr` turns on.
    let control = surfaces.control.or_else(|| {
        options.control_addr.map(|_| ControlSurface {
            spec: ControlSpec::DEFAULT,
            auth: Ok(Inbound::None),
            extra: Vec::new(),
        })
    });
    let metrics = control.as_ref().is_some_and(|c| c.spec.metrics);
    if metrics {
        crate::metrics::enable()?;
        crate::metrics::capability_active(surfaces.label, 1.0);
    }
    start_tracing(control.as_ref().map(|c| c.spec.traces), surfaces.label).await?;
    let mut adapters = Vec::new();
    for r in surfaces.rest {
        let listener = bind(
            options.addr_of(r.namespace, options.rest_addr),
            r.address,
            r.port,
            &format!("REST `{}`", r.namespace),
        )
        .await?;
        let mut app = (r.router)()?;
        if let Some(token) = &options.rest_token {
            app = crate::auth::layer(app, Inbound::Bearer(token.clone()));
        }
        // Each request's route, for its metrics and its span's operation id.
        if metrics || crate::telemetry::active() {
            app = crate::metrics::record_rest(app, r.kind);
        }
        let app = crate::telemetry::layer(app, r.kind);
        let app = app.layer(axum::Extension(BodyLimit(options.body_limit)));
        let app = crate::access::layer(app, "rest", options.access_log);
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Config(e.to_string()))?;
        adapters.push(Adapter::new(r.kind, r.namespace, Some(addr.port())));
        tracing::info!(
            "REST `{}` listening on http://{addr} ({} routes)",
            r.namespace,
            r.routes
        );
        let endpoint = Endpoint::new(
            Kind::Rest,
            format!("REST `{}`", r.namespace),
            app,
            Limits::new(options, max_connections, cancel.clone(), closing.clone()),
        )
        .streaming(r.streamed);
        listeners.push((listener, endpoint));
    }
    for m in surfaces.mcp {
        if m.stdio {
            tracing::info!(surface = %m.namespace, "MCP `{}` uses stdio: run the `mcp-stdio` command", m.namespace);
            continue;
        }
        let port = m.port.unwrap_or(0);
        let listener = bind(
            options.addr_of(m.namespace, options.mcp_addr),
            m.address,
            port,
            &format!("MCP `{}`", m.namespace),
        )
        .await?;
        let auth = match &options.mcp_token {
            Some(t) => Inbound::Bearer(t.clone()),
            None => m.auth?,
        };
        let mut mcp_options = options.mcp.clone();
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Config(e.to_string()))?;
        // The bound host:port is always acceptable as `Host`, whatever the listen address.
        mcp_options.allowed_hosts.push(addr.to_string());
        adapters.push(Adapter::new("mcp", m.namespace, Some(addr.port())));
        // The SDK's token stops its work at once (a call in flight would get a bare 500):
        // it is cancelled only once the calls in flight have finished (see `Bound::serve`).
        let app = crate::auth::layer(
            crate::mcp::http_router(m.handler, &mcp_options, mcp_stop.child_token()),
            auth.clone(),
        );
        let app = crate::access::layer(app, "mcp", options.access_log);
        tracing::info!(
            "MCP `{}` listening on http://{addr}/mcp ({} tools, Streamable HTTP{}{})",
            m.namespace,
            m.tools,
            if mcp_options.sessions {
                ", sessions"
            } else {
                ", stateless"
            },
            if auth.is_none() {
                ""
            } else {
                ", bearer token required"
            },
        );
        let endpoint = Endpoint::new(
            Kind::Mcp,
            format!("MCP `{}`", m.namespace),
            app,
            Limits::new(options, max_connections, cancel.clone(), closing.clone()),
        );
        listeners.push((listener, endpoint));
    }
    let mut health = None;
    if let Some(c) = control {
        let listener = bind(
            options.control_addr,
            c.spec.address,
            c.spec.port,
            "the control port",
        )
        .await?;
        let h = Arc::new(Health::new(
            surfaces.capability,
            surfaces.label,
            surfaces.spec_version,
            adapters,
        ));
        let app = crate::auth::layer(crate::control::router(&c.spec, h.clone(), c.extra), c.auth?);
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Config(e.to_string()))?;
        let routes: Vec<&str> = [
            (c.spec.health, "health"),
            (c.spec.info, "status"),
            (c.spec.metrics, "metrics"),
            (
                c.spec.traces.serves_traces() && crate::telemetry::active(),
                "traces",
            ),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        tracing::info!(
            "control port listening on http://{addr} ({})",
            routes.join(", ")
        );
        let endpoint = Endpoint::new(
            Kind::Rest,
            "the control port".into(),
            app,
            Limits::new(options, max_connections, cancel.clone(), closing.clone()),
        );
        listeners.push((listener, endpoint));
        health = Some(h);
    }
    if listeners.is_empty() {
        return Err(Error::Config(
            "this capability exposes no HTTP surface".into(),
        ));
    }
    Ok(Bound {
        listeners,
        cancel,
        closing,
        mcp_stop,
        sessions: options.mcp.sessions,
        drain: options.drain,
        workers: options.workers,
        health,
        shutdown_delay: options.shutdown_delay,
    })
}

/// Descriptors kept for everything but client connections (listeners, runtimes, logs).
const RESERVED_DESCRIPTORS: u64 = 64;

/// Raises the soft limit of open descriptors to the hard one (as nginx's
/// `worker_rlimit_nofile` does); returns the soft limit in force, when known.
#[cfg(unix)]
fn raise_descriptor_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current?;
    // No hard limit (macOS): go as far as the kernel takes for one process.
    let wanted = limit.maximum.unwrap_or(10_240);
    if current >= wanted {
        return Some(current);
    }
    let raised = Rlimit {
        current: Some(wanted),
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => {
            tracing::debug!("open descriptor limit raised from {current} to {wanted}");
            Some(wanted)
        }
        Err(e) => {
            tracing::debug!("cannot raise the open descriptor limit from {current}: {e}");
            Some(current)
        }
    }
}

#[cfg(not(unix))]
fn raise_descriptor_limit() -> Option<u64> {
    None
}

/// The connection cap per surface: `wanted`, lowered so that the client connections of all
/// `surfaces` take at most half the descriptors left (the other half is for upstream
/// connections), so that descriptors never run out before the cap is reached.
fn connection_cap(wanted: usize, descriptors: Option<u64>, surfaces: usize) -> usize {
    let wanted = wanted.max(1);
    let Some(limit) = descriptors else {
        return wanted;
    };
    let fits = (limit.saturating_sub(RESERVED_DESCRIPTORS) / 2 / surfaces.max(1) as u64).max(4);
    if (wanted as u64) <= fits {
        return wanted;
    }
    tracing::warn!(
        "at most {fits} connections per surface (not {wanted}): {limit} open descriptors allowed; raise it with `ulimit -n`"
    );
    fits as usize
}

/// An endpoint for unit tests of the serving loop.
#[cfg(test)]
pub(crate) fn test_endpoint() -> Arc<Endpoint> {
    Endpoint::new(
        Kind::Rest,
        "REST `test`".into(),
        axum::Router::new(),
        Limits::new(
            &ServeOptions::default(),
            16,
            CancellationToken::new(),
            CancellationToken::new(),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_fits_the_descriptors() {
        assert_eq!(connection_cap(4096, None, 2), 4096);
        assert_eq!(connection_cap(4096, Some(1_048_576), 2), 4096);
        // 1024 descriptors, two surfaces: (1024 - 64) / 2 / 2.
        assert_eq!(connection_cap(4096, Some(1024), 2), 240);
        assert_eq!(connection_cap(100, Some(1024), 2), 100);
        assert_eq!(connection_cap(4096, Some(10), 1), 4);
    }
}

/// The limits of one surface, shared by every worker serving it.
pub(crate) struct Limits {
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) header_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_streams: u32,
    pub(crate) max_connections: usize,
    max_concurrency: usize,
    /// Requests handled at once (`max_concurrency`).
    calls: Arc<Semaphore>,
    /// Open connections (`max_connections`), held by each connection's task.
    pub(crate) connections: Arc<Semaphore>,
    /// Cancelled on shutdown.
    pub(crate) shutdown: CancellationToken,
    /// Cancelled when a shutdown starts (before `shutdown`, by the shutdown delay): answers
    /// then close their HTTP/1 connections, so that a load balancer's pooled connections are
    /// gone before the listeners close, rather than reset under a request it has just sent.
    pub(crate) closing: CancellationToken,
    /// Idle connections asked to close to make room under the connection cap, and how
    /// many more of them may still do so.
    reclaim: Notify,
    reclaim_budget: AtomicUsize,
}

/// Idle connections closed at a time when the connection cap is reached.
const RECLAIM_BATCH: usize = 32;

impl Limits {
    fn new(
        options: &ServeOptions,
        max_connections: usize,
        shutdown: CancellationToken,
        closing: CancellationToken,
    ) -> Self {
        let max_concurrency = options.max_concurrency.max(1);
        Limits {
            body_limit: options.body_limit,
            body_timeout: options.body_timeout,
            header_timeout: options.header_timeout,
            idle_timeout: options.idle_timeout,
            max_streams: options.max_streams.max(1),
            max_connections,
            max_concurrency,
            calls: Arc::new(Semaphore::new(max_concurrency)),
            connections: Arc::new(Semaphore::new(max_connections)),
            shutdown,
            closing,
            reclaim: Notify::new(),
            reclaim_budget: AtomicUsize::new(0),
        }
    }

    /// Requests being handled now.
    pub(crate) fn in_flight(&self) -> usize {
        self.max_concurrency
            .saturating_sub(self.calls.available_permits())
    }

    /// Asks idle connections to close, a batch at a time, to make room for new ones.
    pub(crate) fn reclaim(&self) {
        self.reclaim_budget.store(RECLAIM_BATCH, Ordering::Relaxed);
        self.reclaim.notify_waiters();
    }

    /// Resolves when idle connections are asked to close.
    pub(crate) fn reclaimed(&self) -> tokio::sync::futures::Notified<'_> {
        self.reclaim.notified()
    }

    /// Takes one place in the current batch of connections to close.
    pub(crate) fn take_reclaim(&self) -> bool {
        self.reclaim_budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// What a listener serves: how its own refusals are shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// JSON errors (`rest::error_body`).
    Rest,
    /// JSON-RPC errors.
    Mcp,
}

/// One listener's app and limits, as the workers serve it.
pub(crate) struct Endpoint {
    pub(crate) kind: Kind,
    /// For logs: `REST `namespace``.
    pub(crate) name: String,
    app: axum::Router,
    pub(crate) limits: Limits,
    /// Pass-through routes: their request bodies are streamed, not read first.
    streamed: &'static [crate::forward::Passthrough],
}

/// Why a request body was not read.
enum BodyProblem {
    TooLarge,
    Slow,
    ShuttingDown,
    Broken(String),
}

impl Endpoint {
    fn new(kind: Kind, name: String, app: axum::Router, limits: Limits) -> Arc<Self> {
        Arc::new(Endpoint {
            kind,
            name,
            app,
            limits,
            streamed: &[],
        })
    }

    /// The same endpoint, with the pass-through routes whose bodies it streams.
    fn streaming(self: Arc<Self>, streamed: &'static [crate::forward::Passthrough]) -> Arc<Self> {
        match Arc::try_unwrap(self) {
            Ok(mut e) => {
                e.streamed = streamed;
                Arc::new(e)
            }
            Err(shared) => shared,
        }
    }

    /// Handles one request: its whole body is read first (bounded in size and time), then
    /// it takes a place under `max_concurrency`, then the app answers. A client that is
    /// slow to send its body therefore never holds a place that others need.
    pub(crate) async fn handle(
        &self,
        req: http::Request<hyper::body::Incoming>,
        shutdown: &CancellationToken,
    ) -> axum::response::Response {
        use tower_service::Service as _;
        let (parts, body) = req.into_parts();
        let http1 = parts.version < http::Version::HTTP_2;
        if self.kind == Kind::Mcp && !names_host(&parts) {
            return self.refuse(
                StatusCode::FORBIDDEN,
                "Forbidden: the request names no host (a Host header is required)",
                None,
            );
        }
        let streamed = self.kind == Kind::Rest
            && self
                .streamed
                .iter()
                .any(|s| s.takes(&parts.method, parts.uri.path()));
        let (req, permit) = if streamed {
            // A pass-through (`forward`): the body goes upstream as it arrives, never held
            // whole, so neither the body limit nor waiting for it applies; the request
            // takes its place at once, and a body that stops arriving for `body_timeout`
            // fails the call.
            let permit = match self.limits.calls.try_acquire() {
                Ok(p) => p,
                Err(_) => return self.busy(&[]),
            };
            let body = crate::forward::Idle::new(body, self.limits.body_timeout, "caller");
            let req = http::Request::from_parts(parts, axum::body::Body::new(body));
            (req, Some(permit))
        } else {
            let bytes = match read_body(body, &self.limits, shutdown).await {
                Ok(b) => b,
                Err(problem) => return self.refuse_body(problem),
            };
            // MCP: calls (POST) count; a session's event stream (GET) or its end (DELETE) do not.
            let counted = self.kind == Kind::Rest || parts.method == http::Method::POST;
            let permit = match counted {
                true => match self.limits.calls.try_acquire() {
                    Ok(p) => Some(p),
                    Err(_) => return self.busy(&bytes),
                },
                false => None,
            };
            (
                http::Request::from_parts(parts, axum::body::Body::from(bytes)),
                permit,
            )
        };
        let mut app = self.app.clone();
        let mut response = match self.kind {
            Kind::Rest => {
                // The upstream's rate-limit headers are passed on to the caller.
                let (r, pass_on) = crate::client::collect_rate_limits(app.call(req)).await;
                let mut r = r.unwrap_or_else(|e| match e {});
                for (name, value) in pass_on {
                    if let Some(name) = name
                        && !r.headers().contains_key(&name)
                    {
                        r.headers_mut().insert(name, value);
                    }
                }
                r
            }
            Kind::Mcp => app.call(req).await.unwrap_or_else(|e| match e {}),
        };
        // A streamed answer (an MCP event stream) holds its place until it ends.
        if let Some(permit) = permit
            && http_body::Body::size_hint(response.body())
                .exact()
                .is_none()
        {
            // Given back when the body is dropped, not when this function returns.
            permit.forget();
            let place = Place(self.limits.calls.clone());
            response = response.map(|b| {
                axum::body::Body::new(Holding {
                    body: b,
                    _place: place,
                })
            });
        }
        if http1 && self.limits.closing.is_cancelled() {
            response.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
        }
        response
    }

    /// The answer to a request this layer refuses: JSON (REST) or a JSON-RPC error (MCP).
    fn refuse(
        &self,
        status: StatusCode,
        message: &str,
        id: Option<serde_json::Value>,
    ) -> axum::response::Response {
        match self.kind {
            Kind::Rest => crate::rest::error_body(status, message),
            Kind::Mcp => {
                use axum::response::IntoResponse;
                let code = match status {
                    StatusCode::SERVICE_UNAVAILABLE => -32000,
                    _ => -32600,
                };
                let body = serde_json::json!({
                    "jsonrpc": "2.0",
                    "id": id.unwrap_or(serde_json::Value::Null),
                    "error": {"code": code, "message": message},
                });
                (
                    status,
                    [(
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    body.to_string(),
                )
                    .into_response()
            }
        }
    }

    fn refuse_body(&self, problem: BodyProblem) -> axum::response::Response {
        let limits = &self.limits;
        let (status, message) = match problem {
            BodyProblem::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body exceeds {} bytes", limits.body_limit),
            ),
            BodyProblem::Slow => (
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    limits.body_timeout.as_secs_f64()
                ),
            ),
            BodyProblem::ShuttingDown => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down; retry".to_owned(),
            ),
            BodyProblem::Broken(e) => (
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {e}"),
            ),
        };
        let message = match self.kind {
            Kind::Rest => message,
            Kind::Mcp => format!("Invalid Request: {message}"),
        };
        let mut r = self.refuse(status, &message, None);
        // The rest of the body was not read: the connection cannot carry another request.
        r.headers_mut()
            .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }

    /// 503 with `Retry-After` once `max_concurrency` requests are in flight; over MCP, with
    /// a JSON-RPC error that answers the request's id.
    fn busy(&self, body: &[u8]) -> axum::response::Response {
        let id = match self.kind {
            Kind::Rest => None,
            Kind::Mcp => {
                #[derive(serde::Deserialize)]
                struct Id {
                    id: Option<serde_json::Value>,
                }
                serde_json::from_slice::<Id>(body).ok().and_then(|i| i.id)
            }
        };
        let message = match self.kind {
            Kind::Rest => "too many requests in flight; retry shortly",
            Kind::Mcp => "Server busy: too many calls in flight; retry shortly",
        };
        let mut r = self.refuse(StatusCode::SERVICE_UNAVAILABLE, message, id);
        r.headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        r
    }
}

/// Whether a request names the host it is for: HTTP/1 requires a `Host` header (an
/// absolute URI alone would let a page served elsewhere name this server); HTTP/2 carries
/// it in `:authority`.
fn names_host(parts: &http::request::Parts) -> bool {
    parts.headers.contains_key(http::header::HOST)
        || (parts.version >= http::Version::HTTP_2 && parts.uri.authority().is_some())
}

/// Reads a whole request body, at most `body_limit` bytes within `body_timeout`; a body
/// still arriving when the server shuts down is abandoned.
async fn read_body(
    body: hyper::body::Incoming,
    limits: &Limits,
    shutdown: &CancellationToken,
) -> Result<Bytes, BodyProblem> {
    use http_body::Body as _;
    use http_body_util::BodyExt as _;
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    let limit = limits.body_limit;
    let read = async move {
        let mut body = body;
        let declared = body.size_hint().lower();
        if declared > limit as u64 {
            drain(body, declared).await;
            return Err(BodyProblem::TooLarge);
        }
        // Chunks kept as they came: a body in one frame (the usual case) is not copied.
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut len = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| BodyProblem::Broken(e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                len += data.len();
                if len > limit {
                    let rest = body.size_hint().lower();
                    drain(body, rest).await;
                    return Err(BodyProblem::TooLarge);
                }
                chunks.push(data);
            }
        }
        Ok(match chunks.len() {
            0 => Bytes::new(),
            1 => chunks.pop().unwrap_or_default(),
            _ => chunks.concat().into(),
        })
    };
    tokio::select! {
        biased;
        r = read => r,
        _ = tokio::time::sleep(limits.body_timeout) => Err(BodyProblem::Slow),
        _ = shutdown.cancelled() => Err(BodyProblem::ShuttingDown),
    }
}

/// Most of a too-large body read and thrown away before the 413 goes out, so that a client
/// still sending it reads the answer instead of a broken pipe (nginx's lingering close).
const DRAIN_BYTES: u64 = 16 * 1024 * 1024;
/// Longest time spent throwing a too-large body away.
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// Reads and discards what is left of a refused body (`declared` bytes or more), within
/// [`DRAIN_BYTES`] and [`DRAIN_TIME`]; a body declared larger is not read at all.
async fn drain(mut body: hyper::body::Incoming, declared: u64) {
    use http_body_util::BodyExt as _;
    if declared > DRAIN_BYTES {
        return;
    }
    let mut left = DRAIN_BYTES;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                match left.checked_sub(data.len() as u64) {
                    Some(l) => left = l,
                    None => return,
                }
            }
        }
    })
    .await;
}

/// A place under `max_concurrency`, given back when dropped.
struct Place(Arc<Semaphore>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.add_permits(1);
    }
}

/// A response body that keeps a place under `max_concurrency` until it ends.
struct Holding {
    body: axum::body::Body,
    _place: Place,
}

impl http_body::Body for Holding {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Answers 503 (with `Retry-After: 1`) once `limit` requests are in flight, so overload
/// sheds work instead of queueing it without bound. (The server of [`bind_all`] does this
/// itself, once a request's body has arrived; this layer is for a router served otherwise.)
pub fn shed_load(router: axum::Router, limit: usize) -> axum::Router {
    let permits = Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
    router.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let permits = permits.clone();
            async move {
                match permits.try_acquire_owned() {
                    Ok(_permit) => next.run(req).await,
                    Err(_) => {
                        let mut r = crate::rest::error_body(
                            http::StatusCode::SERVICE_UNAVAILABLE,
                            "too many requests in flight; retry shortly",
                        );
                        r.headers_mut().insert(
                            http::header::RETRY_AFTER,
                            http::HeaderValue::from_static("1"),
                        );
                        r
                    }
                }
            }
        },
    ))
}

/// Serves every surface until Ctrl-C or SIGTERM, then drains in-flight requests.
pub async fn run(surfaces: Surfaces, options: ServeOptions) -> Result<(), Error> {
    let bound = bind_all(surfaces, &options).await?;
    let shutdown = bound.shutdown();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        shutdown.await;
    });
    let served = bound.serve().await;
    // The last spans go out before the process exits (the exporter blocks while it sends).
    let _ = tokio::task::spawn_blocking(crate::telemetry::shutdown).await;
    served
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Serves the MCP server `namespace` (or the only one) over stdio.
///
/// Each line from stdin that is not UTF-8 is answered here with the JSON-RPC parse error
/// (-32700), with the request's id when it can be read, so that the client does not wait
/// for an answer forever (the SDK drops such lines silently); other lines go to the SDK.
pub async fn run_stdio(surfaces: Surfaces, namespace: Option<&str>) -> Result<(), Error> {
    use rmcp::ServiceExt as _;
    start_tracing(
        surfaces.control.as_ref().map(|c| c.spec.traces),
        surfaces.label,
    )
    .await?;
    let mut servers = surfaces.mcp.into_iter();
    let server = match namespace {
        Some(ns) => servers.find(|m| m.namespace == ns),
        None => servers.next(),
    };
    let Some(server) = server else {
        return Err(Error::Config(
            "this capability exposes no MCP server".into(),
        ));
    };
    tracing::info!(surface = %server.namespace, "MCP `{}` serving on stdio ({} tools)", server.namespace, server.tools);
    let (sdk_in, lines_in) = tokio::io::duplex(64 * 1024);
    let (lines_out, sdk_out) = tokio::io::duplex(64 * 1024);
    let (errors, errors_rx) = tokio::sync::mpsc::channel(16);
    // Non-blocking pipes when the client started us with pipes (as MCP clients do): tokio's
    // own stdin/stdout go through its blocking thread pool on every read and write, which
    // cost more than the rest of the call (bench/mcp_modes.sh). Anything else (a terminal, a
    // file) falls back to them.
    let (stdin, stdout) = rmcp::transport::stdio_pipes();
    let reader = tokio::spawn(stdio::forward_input(stdin, lines_in, errors));
    let writer = tokio::spawn(stdio::forward_output(lines_out, errors_rx, stdout));
    let service = server
        .handler
        .serve((sdk_in, sdk_out))
        .await
        .map_err(|e| Error::Config(format!("MCP stdio: {e}")))?;
    let result = service
        .waiting()
        .await
        .map_err(|e| Error::Config(format!("MCP stdio: {e}")));
    reader.abort();
    // What the server wrote last is flushed before returning.
    let _ = writer.await;
    let _ = tokio::task::spawn_blocking(crate::telemetry::shutdown).await;
    result.map(|_| ())
}

/// The stdio transport's line filter.
mod stdio {
    use tokio::io::{
        AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
    };
    use tokio::sync::mpsc;

    /// Longest line looked at (the SDK's own limit); longer ones are dropped, as it does.
    const MAX_LINE: usize = 16 * 1024 * 1024;

    /// Copies lines from `input` to the SDK; a line that is not UTF-8 is answered instead.
    pub(super) async fn forward_input(
        input: impl AsyncRead + Unpin,
        mut sdk: impl AsyncWrite + Unpin,
        errors: mpsc::Sender<Vec<u8>>,
    ) {
        let mut input = BufReader::new(input);
        let mut line = Vec::new();
        loop {
            line.clear();
            match (&mut input)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut line)
                .await
            {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line.len() > MAX_LINE && line.last() != Some(&b'\n') {
                // Skip the rest of an oversized line.
                let mut rest = Vec::new();
                loop {
                    rest.clear();
                    match (&mut input)
                        .take(64 * 1024)
                        .read_until(b'\n', &mut rest)
                        .await
                    {
                        Ok(0) | Err(_) => return,
                        Ok(_) if rest.last() == Some(&b'\n') => break,
                        Ok(_) => {}
                    }
                }
                tracing::error!("an incoming message exceeds {MAX_LINE} bytes; dropped");
                continue;
            }
            if std::str::from_utf8(&line).is_ok() {
                if sdk.write_all(&line).await.is_err() {
                    return;
                }
                continue;
            }
            tracing::debug!("an incoming message is not UTF-8: answered with a parse error");
            if errors.send(parse_error(&line)).await.is_err() {
                return;
            }
        }
    }

    /// The -32700 answer to a line that is not UTF-8, with its id when one can be read.
    pub(super) fn parse_error(line: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(line);
        let id = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("id").cloned())
            .filter(|id| id.is_string() || id.is_number())
            .unwrap_or(serde_json::Value::Null);
        let answer = serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": -32700, "message": "Parse error: the message is not valid UTF-8"},
        });
        let mut out = answer.to_string().into_bytes();
        out.push(b'\n');
        out
    }

    /// Copies the SDK's output to `output` line by line, with the answers of
    /// [`forward_input`] in between (never inside a line).
    pub(super) async fn forward_output(
        sdk: impl AsyncRead + Unpin,
        mut errors: mpsc::Receiver<Vec<u8>>,
        mut output: impl AsyncWrite + Unpin,
    ) {
        let mut sdk = BufReader::new(sdk);
        let mut line = Vec::new();
        let mut errors_open = true;
        loop {
            tokio::select! {
                // Cancel-safe: a partial line stays in `line` for the next call.
                n = sdk.read_until(b'\n', &mut line) => {
                    match n {
                        Ok(0) | Err(_) => break,
                        Ok(_) if line.last() == Some(&b'\n') => {
                            if output.write_all(&line).await.is_err() || output.flush().await.is_err() {
                                return;
                            }
                            line.clear();
                        }
                        Ok(_) => {}
                    }
                }
                e = errors.recv(), if errors_open => match e {
                    Some(e) => {
                        if output.write_all(&e).await.is_err() || output.flush().await.is_err() {
                            return;
                        }
                    }
                    None => errors_open = false,
                },
            }
        }
        if !line.is_empty() {
            let _ = output.write_all(&line).await;
        }
        let _ = output.flush().await;
    }

    #[cfg(test)]
    mod tests {
        #[tokio::test]
        async fn lines_pass_and_bad_ones_are_answered() {
            let input: &[u8] = b"{\"id\":1}\n{\"id\":2,\"x\":\"\xff\"}\n{\"id\":3}\n";
            let (mut sdk, sdk_end) = tokio::io::duplex(1024);
            let (tx, mut rx) = tokio::sync::mpsc::channel(4);
            super::forward_input(input, sdk_end, tx).await;
            let mut passed = String::new();
            tokio::io::AsyncReadExt::read_to_string(&mut sdk, &mut passed)
                .await
                .unwrap();
            assert_eq!(passed, "{\"id\":1}\n{\"id\":3}\n");
            let answer: serde_json::Value =
                serde_json::from_slice(&rx.recv().await.unwrap()).unwrap();
            assert_eq!(
                (answer["id"].as_i64(), answer["error"]["code"].as_i64()),
                (Some(2), Some(-32700))
            );
        }

        #[test]
        fn parse_error_keeps_the_id() {
            let e = super::parse_error(
                b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\",\"x\":\"\xff\"}\n",
            );
            let v: serde_json::Value = serde_json::from_slice(&e).unwrap();
            assert_eq!(v["id"], 7);
            assert_eq!(v["error"]["code"], -32700);
            let e = super::parse_error(b"\xff\xfe\n");
            let v: serde_json::Value = serde_json::from_slice(&e).unwrap();
            assert!(v["id"].is_null());
        }
    }
}
