//! Serving generated surfaces: bind, log where each listens, shut down gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::Inbound;
use crate::mcp::{Handler, HttpOptions};
use crate::rest::BodyLimit;
use crate::{Error, Secret};

/// A REST adapter ready to serve.
pub struct RestSurface {
    pub namespace: &'static str,
    pub description: &'static str,
    pub port: u16,
    pub address: Option<&'static str>,
    pub routes: usize,
    pub router: Box<dyn FnOnce() -> Result<axum::Router, Error> + Send>,
}

/// An MCP server ready to serve.
pub struct McpSurface {
    pub namespace: &'static str,
    pub port: Option<u16>,
    pub address: Option<&'static str>,
    pub stdio: bool,
    pub tools: usize,
    /// The inbound authentication the spec declares (or why it could not be built).
    pub auth: Result<Inbound, Error>,
    pub handler: Handler,
}

/// Everything a capability exposes, and the upstreams it calls.
pub struct Surfaces {
    pub capability: &'static str,
    pub label: &'static str,
    /// The grammar and version of the spec (`naftiko 1.0.0-alpha2`), for `/status`.
    pub spec_version: &'static str,
    pub upstreams: Vec<(&'static str, String)>,
    pub rest: Vec<RestSurface>,
    pub mcp: Vec<McpSurface>,
    /// The control port, when the spec declares one.
    pub control: Option<crate::control::ControlSurface>,
}

impl Surfaces {
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
    /// Largest REST request body.
    pub body_limit: usize,
    /// Streamable HTTP settings.
    pub mcp: HttpOptions,
    /// A bearer token MCP callers must present (replaces the spec's inbound auth).
    pub mcp_token: Option<Secret>,
    /// A bearer token REST callers must present (replaces the spec's inbound auth).
    pub rest_token: Option<Secret>,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub drain: Duration,
    /// Requests handled at once per surface; more are shed with 503 rather than queued.
    pub max_concurrency: usize,
    /// Threads serving requests, each with its own runtime and upstream connections
    /// (default: one per CPU).
    pub workers: usize,
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
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

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
        Error::Config(format!("cannot listen on {at} for {what}: {e}"))
    })
}

/// A servable app per listener, bound before anything is served so that errors come first.
pub struct Bound {
    listeners: Vec<(TcpListener, axum::Router)>,
    cancel: CancellationToken,
    drain: Duration,
    workers: usize,
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

    /// Serves until the token is cancelled; in-flight requests then get `drain` to finish.
    ///
    /// Requests are served by [`ServeOptions::workers`] threads, each running its own
    /// single-threaded runtime (see `workers`); this future only accepts connections.
    pub async fn serve(self) -> Result<(), Error> {
        let done = crate::workers::spawn(self.listeners, self.workers, &self.cancel, self.drain)?;
        self.cancel.cancelled().await;
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
        Ok(())
    }
}

/// Binds every HTTP surface and logs where each listens and which upstream it calls.
pub async fn bind_all(surfaces: Surfaces, options: &ServeOptions) -> Result<Bound, Error> {
    let cancel = CancellationToken::new();
    let mut listeners = Vec::new();
    if (options.rest_addr.is_some() && surfaces.rest.len() > 1)
        || (options.mcp_addr.is_some() && surfaces.mcp.len() > 1)
    {
        return Err(Error::Config(
            "an address override needs a spec with one REST adapter and one MCP server".into(),
        ));
    }
    for (ns, url) in &surfaces.upstreams {
        tracing::info!("calls upstream `{ns}` at {url}");
    }
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
        let app = shed_load(
            app.layer(axum::Extension(BodyLimit(options.body_limit))),
            options.max_concurrency,
        );
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Config(e.to_string()))?;
        tracing::info!(
            "REST `{}` listening on http://{addr} ({} routes)",
            r.namespace,
            r.routes
        );
        listeners.push((listener, app));
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
        let app = crate::auth::layer(
            crate::mcp::http_router(m.handler, &mcp_options, cancel.child_token()),
            auth.clone(),
        );
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
        listeners.push((listener, app));
    }
    if listeners.is_empty() {
        return Err(Error::Config(
            "this capability exposes no HTTP surface".into(),
        ));
    }
    Ok(Bound {
        listeners,
        cancel,
        drain: options.drain,
        workers: options.workers,
    })
}

/// Answers 503 (with `Retry-After: 1`) once `limit` requests are in flight, so overload
/// sheds work instead of queueing it without bound.
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
    let cancel = bound.cancel_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        cancel.cancel();
    });
    bound.serve().await
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
pub async fn run_stdio(surfaces: Surfaces, namespace: Option<&str>) -> Result<(), Error> {
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
    crate::mcp::serve_stdio(server.handler).await
}
