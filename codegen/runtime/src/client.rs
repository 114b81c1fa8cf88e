//! The HTTP client behind every generated client: one pooled `reqwest::Client`, auth from
//! the spec, path segments that cannot escape, bounded response bodies.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde_json::Value;

use crate::{Error, Response, Secret};

/// Everything but RFC 3986 unreserved characters is escaped in a path segment, `/` included.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Query keys and values: the same set, so `&`, `=`, `+` and `#` are always escaped.
const QUERY: &AsciiSet = SEGMENT;

/// Where a fixed parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// A query parameter.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

/// Outbound authentication, as the spec declares it.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credential is sent.
    None,
    /// `Authorization: Bearer <token>` on every call.
    Bearer(Secret),
    /// A key on every call, in a header (or query parameter).
    ApiKey {
        /// The header (or query parameter) that carries the key.
        name: &'static str,
        /// The key.
        value: Secret,
        /// Whether the key is a query parameter rather than a header.
        in_query: bool,
    },
    /// HTTP basic authentication on every call.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// HTTP digest: the first 401 challenge is answered once.
    Digest {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
}

/// Settings of a client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Replaces the spec's `baseUri` (e.g. another region, a self-hosted server, a mock).
    pub base_url: Option<String>,
    /// Limit to establish a connection.
    pub connect_timeout: Duration,
    /// Limit for a whole call, body included.
    pub timeout: Duration,
    /// Largest upstream body accepted.
    pub max_response_bytes: usize,
    /// A shared `reqwest::Client` (connection pool); one is built otherwise.
    pub http: Option<reqwest::Client>,
    /// Values of `binds` variables that replace the environment (secrets from a vault, tests).
    pub vars: Vec<(String, Secret)>,
    /// When calls that are safe to repeat are tried again.
    pub retry: RetryPolicy,
}

/// Retries, all within the call's one deadline ([`ClientConfig::timeout`]): a GET (HEAD,
/// OPTIONS) after a connection error or a 429, 502, 503 or 504, with jittered exponential
/// backoff, honouring `Retry-After` and, on a 429, `X-RateLimit-Reset`; any other method
/// only when the request provably never reached the upstream (the connection could not be
/// made), so that nothing the upstream received is sent twice. A name that does not
/// resolve fails at once. A wait that would end past the deadline is not waited for: the
/// answer goes back to the caller.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Backoff before the first retry; doubled for each next one, with jitter.
    pub base_delay: Duration,
    /// Longest backoff between two attempts.
    pub max_delay: Duration,
    /// Longest `Retry-After` (or `X-RateLimit-Reset`) that is waited for; after a longer
    /// one, the answer is returned to the caller.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The backoff before retry number `retry` (1-based): exponential, full jitter in [d/2, d].
    fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let d = exp.min(self.max_delay);
        let half = d / 2;
        half + Duration::from_nanos(jitter(half.as_nanos() as u64))
    }
}

/// A pseudo-random number in `0..=max` (std only: hash of a counter and the clock).
fn jitter(max: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    if max == 0 {
        return 0;
    }
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.write_u128(now);
    h.finish() % (max + 1)
}

/// The delay a `Retry-After` header asks for (seconds, or an HTTP date).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// When the rate-limit window ends, from `X-RateLimit-Reset` (or `RateLimit-Reset`): the
/// seconds until then (Lago, the IETF draft), or a Unix time (GitHub and others).
fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    let v = headers
        .get("x-ratelimit-reset")
        .or_else(|| headers.get("ratelimit-reset"))?
        .to_str()
        .ok()?
        .trim();
    let n = v
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)?;
    // No window is a billion seconds (31 years) long: that is a point in time.
    if n >= 1.0e9 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs_f64();
        return Some(Duration::from_secs_f64((n - now).max(0.0)));
    }
    Some(Duration::from_secs_f64(n))
}

/// The wait the upstream asks for before a retry: `Retry-After`, and on a 429 also the end
/// of the rate-limit window, whichever is later.
fn upstream_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    let reset = match status {
        StatusCode::TOO_MANY_REQUESTS => rate_limit_reset(headers),
        _ => None,
    };
    match (retry_after(headers), reset) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

tokio::task_local! {
    /// The rate-limit headers of the upstream answers of one REST request (see
    /// [`collect_rate_limits`]).
    static RATE_LIMITS: std::cell::RefCell<HeaderMap>;
}

/// Runs `f` (a REST request), collecting the rate-limit headers (`Retry-After`,
/// `X-RateLimit-*`, `RateLimit-*`) of the upstream answers its calls got, to pass on to the
/// caller; the last answer's value of each wins.
#[cfg(feature = "serve")]
pub(crate) async fn collect_rate_limits<F: std::future::Future>(f: F) -> (F::Output, HeaderMap) {
    let mut scoped = std::pin::pin!(RATE_LIMITS.scope(Default::default(), f));
    let out = scoped.as_mut().await;
    let headers = scoped
        .as_mut()
        .take_value()
        .map(std::cell::RefCell::into_inner)
        .unwrap_or_default();
    (out, headers)
}

/// Whether a header is about rate limits (passed on to REST callers).
fn is_rate_limit_header(name: &HeaderName) -> bool {
    let n = name.as_str();
    n == "retry-after" || n.starts_with("x-ratelimit-") || n.starts_with("ratelimit")
}

/// Notes the rate-limit headers of an upstream answer, when a REST request collects them.
fn note_rate_limits(headers: &HeaderMap) {
    let _ = RATE_LIMITS.try_with(|collected| {
        let mut collected = collected.borrow_mut();
        for (name, value) in headers {
            if is_rate_limit_header(name) {
                collected.insert(name.clone(), value.clone());
            }
        }
    });
}

/// Redirects followed at most, each to the same origin and without credentials.
const MAX_REDIRECTS: usize = 5;

/// Whether two URLs have the same origin (scheme, host, port).
fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Where one attempt goes: the call's URL, or where a redirect led.
struct Target {
    url: reqwest::Url,
    method: Method,
    /// Whether the body is sent (a 303, or a 301/302 after a POST, turns it into a GET).
    body: bool,
    /// Whether credentials are sent: never after a redirect.
    credentials: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: None,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            max_response_bytes: 16 * 1024 * 1024,
            http: None,
            vars: Vec::new(),
            retry: RetryPolicy::default(),
        }
    }
}

impl ClientConfig {
    /// Sends calls to `url` instead of the spec's `baseUri`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// Sets the limit to establish a connection (default: 5 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Sets the limit for a whole call, retries and body included (default: 30 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
    /// Sets the largest upstream body accepted, in bytes (default: 16 MiB).
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }
    /// Sets when calls are tried again (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// Gives the `binds` variable `name` this value instead of the environment's.
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.push((name.into(), Secret::new(value)));
        self
    }
    /// The value of the variable `name`: an override, else the environment variable.
    pub fn var(&self, name: &str) -> Result<String, Error> {
        crate::binds::value(&[], name, &self.vars)
    }

    /// The value of the variable `name` declared in `binds`: an override, else where the
    /// spec says it is (an environment variable or a key of a file).
    pub fn var_in(&self, binds: &[crate::binds::Bind], name: &str) -> Result<String, Error> {
        crate::binds::value(binds, name, &self.vars)
    }
}

/// A pooled client for one consumed namespace. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// Tells this client's per-worker pools apart (see [`HttpClient::pool`]).
    id: u64,
    namespace: &'static str,
    base: String,
    /// `base`, parsed once: each call only sets its path and query, so the host is not
    /// parsed (and IDNA-mapped) again per request.
    base_url: reqwest::Url,
    http: reqwest::Client,
    /// Settings to build a pool per worker thread; `None` for a caller-supplied client.
    connect_timeout: Option<Duration>,
    auth: Auth,
    /// The header `auth` adds to every call, built once (and checked at start-up).
    auth_header: Option<(HeaderName, HeaderValue)>,
    fixed: Vec<(Loc, &'static str, String)>,
    timeout: Duration,
    max_body: usize,
    retry: RetryPolicy,
}

/// Clients that build a pool per worker thread, so that a worker builds its pools when it
/// starts rather than on its first request (a pool loads the system's root certificates,
/// which took 8 ms here: a latency spike on each worker's first call).
static LIVE: Mutex<Vec<Weak<Inner>>> = Mutex::new(Vec::new());

/// Builds this worker thread's pools for every live client (see `workers`).
#[cfg(feature = "serve")]
pub(crate) fn warm_worker_pools() {
    let live: Vec<Arc<Inner>> = LIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    for inner in live {
        HttpClient { inner }.pool();
    }
}

/// A base URL built from `binds` variables that does not make a URL: the error names them.
pub fn base_from_binds(e: Error, vars: &[&str]) -> Error {
    match e {
        Error::Config(m) => Error::Config(format!(
            "{m} (the spec builds it from the variable{} {})",
            if vars.len() == 1 { "" } else { "s" },
            vars.iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        e => e,
    }
}

/// A keep-alive connection pool with the runtime's settings.
fn build_pool(connect_timeout: Duration) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        // Redirects are followed by `send` (same origin only, without credentials); a
        // `Referer` would carry the previous URL, and with it a key placed in the query.
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .user_agent(concat!("naftiko-runtime/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("HTTP client: {e}")))
}

/// The header that outbound `auth` adds to every call, marked sensitive so that it is
/// never printed; `None` for no auth, a query key, or digest (answered per challenge).
fn auth_header(auth: &Auth) -> Result<Option<(HeaderName, HeaderValue)>, Error> {
    let (name, value, what) = match auth {
        Auth::Bearer(t) => (
            AUTHORIZATION,
            format!("Bearer {}", t.expose()),
            "the bearer token",
        ),
        Auth::ApiKey {
            name,
            value,
            in_query: false,
        } => (
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::Config(format!("invalid API key header name `{name}`")))?,
            value.expose().to_owned(),
            "the API key",
        ),
        Auth::Basic { username, password } => {
            use base64::Engine as _;
            let pair = format!("{username}:{}", password.expose());
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            (
                AUTHORIZATION,
                format!("Basic {encoded}"),
                "the basic credentials",
            )
        }
        _ => return Ok(None),
    };
    let mut value = HeaderValue::from_str(&value)
        .map_err(|_| Error::Config(format!("{what} holds characters not allowed in a header")))?;
    value.set_sensitive(true);
    Ok(Some((name, value)))
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match self.inner.auth {
            Auth::None => "none",
            Auth::Bearer(_) => "bearer",
            Auth::ApiKey { .. } => "apikey",
            Auth::Basic { .. } => "basic",
            Auth::Digest { .. } => "digest",
        };
        f.debug_struct("HttpClient")
            .field("namespace", &self.inner.namespace)
            .field("base", &self.inner.base)
            .field("auth", &auth)
            .finish()
    }
}

impl HttpClient {
    /// A client of the consumed `namespace` at `base_uri` (unless `config` replaces it),
    /// with its `auth` and the spec's `fixed` parameters, each `(where, name, value)`.
    /// Fails with [`Error::Config`] for a base URL that is not http(s) or has a query, or a
    /// credential that cannot be a header.
    pub fn new(
        namespace: &'static str,
        base_uri: &str,
        auth: Auth,
        fixed: Vec<(Loc, &'static str, String)>,
        config: ClientConfig,
    ) -> Result<Self, Error> {
        let base = config
            .base_url
            .as_deref()
            .unwrap_or(base_uri)
            .trim_end_matches('/')
            .to_owned();
        let base_url = match reqwest::Url::parse(&base) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.query().is_none() => u,
            _ => {
                return Err(Error::Config(format!(
                    "base URL `{base}` of `{namespace}` must be an http(s) URL without a query"
                )));
            }
        };
        let auth_header = auth_header(&auth)?;
        let (http, connect_timeout) = match config.http {
            Some(h) => (h, None),
            None => (
                build_pool(config.connect_timeout)?,
                Some(config.connect_timeout),
            ),
        };
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let client = HttpClient {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                namespace,
                base,
                base_url,
                http,
                connect_timeout,
                auth,
                auth_header,
                fixed,
                timeout: config.timeout,
                max_body: config.max_response_bytes,
                retry: config.retry,
            }),
        };
        if client.inner.connect_timeout.is_some() {
            let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
            live.retain(|c| c.strong_count() > 0);
            live.push(Arc::downgrade(&client.inner));
        }
        Ok(client)
    }

    /// The connection pool for this call. On a serving worker thread (see `workers`) that
    /// is the thread's own pool, so a request and its upstream connection stay on one
    /// thread; elsewhere, the shared one.
    fn pool(&self) -> reqwest::Client {
        let inner = &*self.inner;
        let Some(connect_timeout) = inner.connect_timeout else {
            return inner.http.clone();
        };
        #[cfg(feature = "serve")]
        let on_worker = crate::workers::on_worker();
        #[cfg(not(feature = "serve"))]
        let on_worker = false;
        if !on_worker {
            return inner.http.clone();
        }
        thread_local! {
            static POOLS: RefCell<Vec<(u64, reqwest::Client)>> = const { RefCell::new(Vec::new()) };
        }
        POOLS.with_borrow_mut(|pools| {
            if let Some((_, c)) = pools.iter().find(|(id, _)| *id == inner.id) {
                return c.clone();
            }
            // Building cannot fail where the shared pool was built; fall back if it does.
            let c = build_pool(connect_timeout).unwrap_or_else(|_| inner.http.clone());
            pools.push((inner.id, c.clone()));
            c
        })
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Starts a call of `operation`.
    pub fn request(&self, method: Method, operation: &'static str) -> Request {
        Request {
            method,
            operation,
            format: crate::formats::Format::Json,
            schema: None,
            path: String::with_capacity(64),
            query: String::new(),
            headers: HeaderMap::new(),
            cookies: String::new(),
            body: None,
            fields: None,
        }
    }

    fn operation(&self, req: &Request) -> String {
        format!("{}.{}", self.inner.namespace, req.operation)
    }

    /// Sends the call; a non-2xx answer is [`Error::Upstream`] with its status and body.
    pub async fn send(&self, req: Request) -> Result<Response, Error> {
        let started = Instant::now();
        let method = req.method.clone();
        let status_of = |result: &Result<Response, Error>| match result {
            Ok(r) => Some(r.status.as_u16()),
            Err(Error::Upstream { status, .. }) => Some(status.as_u16()),
            Err(_) => None,
        };
        let result = crate::telemetry::client_call(
            &method,
            self.inner.namespace,
            self.exchange(req),
            status_of,
        )
        .await;
        let status = status_of(&result);
        crate::metrics::client_call(
            method.as_str(),
            self.inner.base_url.host_str().unwrap_or(""),
            status,
            started.elapsed(),
        );
        result
    }

    /// [`Client::send`], before it is counted.
    async fn exchange(&self, mut req: Request) -> Result<Response, Error> {
        let inner = &*self.inner;
        if let Some(fields) = req.fields.take() {
            let body = serde_json::to_vec(&Value::Object(fields))
                .map_err(|e| Error::invalid(format!("body: {e}")))?;
            req.body = Some((
                HeaderValue::from_static("application/json"),
                Bytes::from(body),
            ));
        }
        for (loc, name, value) in &inner.fixed {
            match loc {
                Loc::Query => push_pair(&mut req.query, name, value),
                Loc::Header => req.header(name, value.as_str())?,
                Loc::Cookie => req.cookie(name, value.as_str()),
            }
        }
        if let Auth::ApiKey {
            name,
            value,
            in_query: true,
        } = &inner.auth
        {
            push_pair(&mut req.query, name, value.expose());
        }
        let url = self.url(&req);
        let secret_param = match &inner.auth {
            Auth::ApiKey {
                name,
                in_query: true,
                ..
            } => Some(*name),
            _ => None,
        };
        crate::telemetry::outgoing(&mut req.headers, &url, secret_param);
        if !req.cookies.is_empty() {
            let v = HeaderValue::from_str(&req.cookies)
                .map_err(|_| Error::invalid("invalid cookie value"))?;
            req.headers.insert(COOKIE, v);
        }
        let started = Instant::now();
        // One deadline for the whole call: attempts, waits between them, redirects, body.
        let deadline = started + inner.timeout;
        let safe = matches!(req.method, Method::GET | Method::HEAD | Method::OPTIONS);
        let policy = &inner.retry;
        let mut attempt = 1;
        let mut redirects = 0;
        let mut target = Target {
            url,
            method: req.method.clone(),
            body: true,
            credentials: true,
        };
        let mut resp = loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(self.timed_out(&req));
            }
            // The digest exchange is rare and its future large: boxed, it does not make every
            // call's future (moved by value through axum and hyper) larger.
            let result = match inner.auth {
                Auth::Digest { .. } if target.credentials => {
                    Box::pin(self.digest_attempt(&req, &target, remaining)).await
                }
                _ => self.attempt(&req, &target, None, remaining).await,
            };
            if let Ok(r) = &result
                && r.status().is_redirection()
                && let Some(next) = self.redirect(&req, &target, r, &mut redirects)?
            {
                target = next;
                continue;
            }
            let result = result.map_err(|e| (Failure::of(&e), self.transport_error(&req, e)));
            let wait = match &result {
                // A name that does not resolve will not resolve in 100 ms either.
                Err((Failure::Timeout | Failure::Dns, _)) => None,
                // Nothing was sent: any method may try again.
                Err((Failure::NotSent, _)) => Some(policy.backoff(attempt)),
                // The request may have reached the upstream: only a GET is tried again.
                Err((Failure::MaybeSent, _)) => safe.then(|| policy.backoff(attempt)),
                Ok(r) if safe && matches!(r.status().as_u16(), 429 | 502 | 503 | 504) => {
                    match upstream_wait(r.status(), r.headers()) {
                        Some(d) if d > policy.max_retry_after => None,
                        Some(d) => Some(d),
                        None => Some(policy.backoff(attempt)),
                    }
                }
                Ok(_) => None,
            };
            match wait {
                // The wait must end, and leave time for one more try, before the deadline.
                Some(d)
                    if attempt < policy.max_attempts
                        && Instant::now() + d + MIN_ATTEMPT <= deadline =>
                {
                    let why = match &result {
                        Ok(r) => r.status().to_string(),
                        Err((_, e)) => e.to_string(),
                    };
                    tracing::warn!(
                        operation = %self.operation(&req),
                        attempt,
                        delay_ms = d.as_millis() as u64,
                        "retrying after {why}"
                    );
                    tokio::time::sleep(d).await;
                    attempt += 1;
                }
                _ => break result.map_err(|(_, e)| e)?,
            }
        };
        note_rate_limits(resp.headers());
        let status = resp.status();
        let content_type = resp.headers().get(CONTENT_TYPE).cloned();
        let body = self.read_body(&req, &mut resp).await?;
        tracing::debug!(
            operation = %self.operation(&req),
            method = %req.method,
            path = %req.path,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "upstream call"
        );
        if status.is_success() {
            Ok(Response {
                status,
                content_type,
                body,
                format: req.format,
                schema: req.schema,
                namespace: inner.namespace,
                operation: req.operation,
            })
        } else {
            Err(Error::Upstream {
                operation: self.operation(&req),
                status,
                content_type,
                body,
            })
        }
    }

    /// The call's URL: the base with the call's path appended and its query.
    fn url(&self, req: &Request) -> reqwest::Url {
        let base = &self.inner.base_url;
        let mut url = base.clone();
        let base_path = base.path().trim_end_matches('/');
        let mut path = String::with_capacity(base_path.len() + req.path.len());
        path.push_str(base_path);
        path.push_str(&req.path);
        url.set_path(&path);
        if !req.query.is_empty() {
            url.set_query(Some(&req.query));
        }
        url
    }

    /// Where a redirect answer leads, when it is followed: to the same origin only, at most
    /// [`MAX_REDIRECTS`] times, and without credentials. A redirect to another origin is
    /// an error (following it could hand the request, and a key in its query, to anyone).
    fn redirect(
        &self,
        req: &Request,
        target: &Target,
        resp: &reqwest::Response,
        redirects: &mut usize,
    ) -> Result<Option<Target>, Error> {
        let status = resp.status();
        if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
            return Ok(None);
        }
        let Some(next) = resp
            .headers()
            .get(http::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| target.url.join(l).ok())
        else {
            return Ok(None);
        };
        let invalid = |message: String| Error::InvalidResponse {
            operation: self.operation(req),
            message,
        };
        if !same_origin(&next, &target.url) {
            return Err(invalid(format!(
                "the upstream redirected ({status}) to another origin, {}; not followed",
                next.origin().ascii_serialization()
            )));
        }
        if *redirects >= MAX_REDIRECTS {
            return Err(invalid(format!(
                "more than {MAX_REDIRECTS} redirects; not followed"
            )));
        }
        *redirects += 1;
        // As browsers do: a 303, and a 301 or 302 after a POST, become a GET without body.
        let to_get = status == StatusCode::SEE_OTHER
            || (matches!(status.as_u16(), 301 | 302) && target.method == Method::POST);
        tracing::debug!(
            operation = %self.operation(req),
            status = status.as_u16(),
            path = %next.path(),
            "following a redirect (without credentials)"
        );
        Ok(Some(Target {
            url: next,
            method: if to_get {
                Method::GET
            } else {
                target.method.clone()
            },
            body: target.body && !to_get,
            credentials: false,
        }))
    }

    /// One attempt that answers a digest challenge once.
    async fn digest_attempt(
        &self,
        req: &Request,
        target: &Target,
        timeout: Duration,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let started = Instant::now();
        let resp = self.attempt(req, target, None, timeout).await?;
        let Auth::Digest { username, password } = &self.inner.auth else {
            return Ok(resp);
        };
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Ok(mut prompt) = digest_auth::parse(challenge) else {
            return Ok(resp);
        };
        let uri = match req.query.is_empty() {
            true => req.path.clone(),
            false => format!("{}?{}", req.path, req.query),
        };
        let body = req.body.as_ref().map(|(_, b)| b.to_vec());
        let ctx = digest_auth::AuthContext::new_with_method(
            username.as_str(),
            password.expose(),
            uri,
            body,
            digest_auth::HttpMethod::from(req.method.as_str().to_owned()),
        );
        let left = timeout.saturating_sub(started.elapsed());
        match prompt.respond(&ctx) {
            Ok(answer) if !left.is_zero() => {
                self.attempt(req, target, Some(answer.to_header_string()), left)
                    .await
            }
            _ => Ok(resp),
        }
    }

    async fn attempt(
        &self,
        req: &Request,
        target: &Target,
        digest: Option<String>,
        timeout: Duration,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let inner = &*self.inner;
        let mut rb = self
            .pool()
            .request(target.method.clone(), target.url.clone())
            .timeout(timeout);
        if target.credentials {
            if !req.headers.is_empty() {
                rb = rb.headers(req.headers.clone());
            }
            if let Some((name, value)) = &inner.auth_header {
                rb = rb.header(name, value.clone());
            }
            if let Some(d) = digest
                && let Ok(mut v) = HeaderValue::from_str(&d)
            {
                v.set_sensitive(true);
                rb = rb.header(AUTHORIZATION, v);
            }
        } else {
            // After a redirect: the call's own headers, without anything that may be a
            // credential (cookies, authorization, and the spec's fixed headers, which
            // can carry keys).
            let mut headers = req.headers.clone();
            for h in [AUTHORIZATION, COOKIE, http::header::PROXY_AUTHORIZATION] {
                headers.remove(h);
            }
            for (loc, name, _) in &inner.fixed {
                if *loc == Loc::Header {
                    headers.remove(*name);
                }
            }
            if !headers.is_empty() {
                rb = rb.headers(headers);
            }
        }
        if target.body
            && let Some((ct, body)) = &req.body
        {
            rb = rb.header(CONTENT_TYPE, ct.clone()).body(body.clone());
        }
        rb.send().await
    }

    async fn read_body(&self, req: &Request, resp: &mut reqwest::Response) -> Result<Bytes, Error> {
        let max = self.inner.max_body;
        if resp.content_length().is_some_and(|n| n as usize > max) {
            return Err(self.too_large(req));
        }
        let mut next = async || resp.chunk().await.map_err(|e| self.transport_error(req, e));
        let Some(first) = next().await? else {
            return Ok(Bytes::new());
        };
        if first.len() > max {
            return Err(self.too_large(req));
        }
        // A body that arrives in one piece (the usual small JSON answer) is not copied.
        let Some(second) = next().await? else {
            return Ok(first);
        };
        let mut buf = BytesMut::from(first);
        let mut chunk = Some(second);
        while let Some(c) = chunk {
            if buf.len() + c.len() > max {
                return Err(self.too_large(req));
            }
            buf.extend_from_slice(&c);
            chunk = next().await?;
        }
        Ok(buf.freeze())
    }

    fn too_large(&self, req: &Request) -> Error {
        Error::InvalidResponse {
            operation: self.operation(req),
            message: format!("the body exceeds {} bytes", self.inner.max_body),
        }
    }

    fn timed_out(&self, req: &Request) -> Error {
        Error::Timeout {
            operation: self.operation(req),
            seconds: self.inner.timeout.as_secs_f64(),
        }
    }

    fn transport_error(&self, req: &Request, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            return self.timed_out(req);
        }
        connect_error(self.operation(req), e)
    }

    /// A pass-through call (`forward`, see [`crate::forward`]): `method` to the base URL
    /// with `tail` (percent-encoded, `/`-separated) appended and the caller's raw `query`
    /// kept, carrying `headers` (the caller's trusted ones) and `body`, streamed.
    ///
    /// On top of them go the spec's fixed parameters (consumes-level `inputParameters`,
    /// rendered from `binds` when the client was built) and its authentication, through the
    /// same code as every call, so the credential is never printed. A client without
    /// authentication passes on `caller_auth`, the caller's `Authorization` (as the
    /// engine does). Digest authentication answers the upstream's challenge for a request
    /// without a body only (a streamed body cannot be sent twice).
    ///
    /// No retries and no redirects followed (the answer is relayed as it is); the client's
    /// timeout bounds the wait for the answer's head, not the streaming of the bodies.
    /// The call is counted in the client metrics like any other.
    #[cfg(feature = "rest")]
    pub(crate) async fn forward_send(
        &self,
        method: Method,
        tail: &str,
        query: Option<&str>,
        mut headers: HeaderMap,
        caller_auth: Option<HeaderValue>,
        body: Option<reqwest::Body>,
    ) -> Result<reqwest::Response, Error> {
        let inner = &*self.inner;
        let operation = || format!("{}.forward", inner.namespace);
        let mut url = inner.base_url.clone();
        let mut path = url.path().trim_end_matches('/').to_owned();
        if !tail.is_empty() {
            path.push('/');
            path.push_str(tail);
        }
        url.set_path(&path);
        let mut q = query.unwrap_or("").to_owned();
        let mut cookies = String::new();
        for (loc, name, value) in &inner.fixed {
            match loc {
                Loc::Query => push_pair(&mut q, name, value),
                Loc::Header => {
                    let n = HeaderName::from_bytes(name.as_bytes())
                        .map_err(|_| Error::Config(format!("invalid header name `{name}`")))?;
                    let v = HeaderValue::from_str(value).map_err(|_| {
                        Error::Config(format!(
                            "header `{name}` holds characters not allowed in a header"
                        ))
                    })?;
                    headers.insert(n, v);
                }
                Loc::Cookie => {
                    if !cookies.is_empty() {
                        cookies.push_str("; ");
                    }
                    let _ = write!(
                        cookies,
                        "{}={}",
                        utf8_percent_encode(name, SEGMENT),
                        utf8_percent_encode(value, SEGMENT)
                    );
                }
            }
        }
        if !cookies.is_empty() {
            let all = match headers.get(COOKIE).and_then(|c| c.to_str().ok()) {
                Some(theirs) => format!("{theirs}; {cookies}"),
                None => cookies,
            };
            let v =
                HeaderValue::from_str(&all).map_err(|_| Error::invalid("invalid cookie value"))?;
            headers.insert(COOKIE, v);
        }
        match &inner.auth {
            // The caller's own credential, unless a trusted or fixed header already set one.
            Auth::None => {
                if let Some(mut a) = caller_auth
                    && !headers.contains_key(AUTHORIZATION)
                {
                    a.set_sensitive(true);
                    headers.insert(AUTHORIZATION, a);
                }
            }
            Auth::ApiKey {
                name,
                value,
                in_query: true,
            } => push_pair(&mut q, name, value.expose()),
            _ => {}
        }
        if let Some((name, value)) = &inner.auth_header {
            headers.insert(name.clone(), value.clone());
        }
        if !q.is_empty() {
            url.set_query(Some(&q));
        }
        let bodiless = body.is_none();
        let send = |headers: HeaderMap, body: Option<reqwest::Body>| {
            let mut rb = self
                .pool()
                .request(method.clone(), url.clone())
                .headers(headers);
            if let Some(b) = body {
                rb = rb.body(b);
            }
            rb.send()
        };
        let started = Instant::now();
        let deadline = started + inner.timeout;
        let timed_out = || Error::Timeout {
            operation: operation(),
            seconds: inner.timeout.as_secs_f64(),
        };
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                timed_out()
            } else {
                connect_error(operation(), e)
            }
        };
        let result =
            match tokio::time::timeout_at(deadline.into(), send(headers.clone(), body)).await {
                Err(_) => Err(timed_out()),
                Ok(r) => r.map_err(failed),
            };
        let result = match (result, &inner.auth) {
            (Ok(r), Auth::Digest { username, password })
                if bodiless && r.status() == StatusCode::UNAUTHORIZED =>
            {
                let challenge = r
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|c| digest_auth::parse(c).ok());
                let uri = match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_owned(),
                };
                let ctx = digest_auth::AuthContext::new_with_method(
                    username.as_str(),
                    password.expose(),
                    uri,
                    None::<Vec<u8>>,
                    digest_auth::HttpMethod::from(method.as_str().to_owned()),
                );
                match challenge.and_then(|mut c| c.respond(&ctx).ok()) {
                    Some(answer) => match HeaderValue::from_str(&answer.to_header_string()) {
                        Ok(mut v) => {
                            v.set_sensitive(true);
                            headers.insert(AUTHORIZATION, v);
                            match tokio::time::timeout_at(deadline.into(), send(headers, None))
                                .await
                            {
                                Err(_) => Err(timed_out()),
                                Ok(r) => r.map_err(failed),
                            }
                        }
                        Err(_) => Ok(r),
                    },
                    None => Ok(r),
                }
            }
            (result, _) => result,
        };
        crate::metrics::client_call(
            method.as_str(),
            inner.base_url.host_str().unwrap_or(""),
            result.as_ref().ok().map(|r| r.status().as_u16()),
            started.elapsed(),
        );
        // The path only: the query may carry an API key. (A failure is logged with the
        // caller's 502 or 504.)
        if let Ok(r) = &result {
            tracing::debug!(
                operation = %operation(),
                method = %method,
                path = %url.path(),
                status = r.status().as_u16(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "forwarded call"
            );
        }
        result
    }

    /// How long a call may take (for a forwarded one: until the answer's head).
    #[cfg(feature = "rest")]
    pub(crate) fn timeout(&self) -> Duration {
        self.inner.timeout
    }
}

/// A transport error as [`Error::Connect`], with its causes and without its URL.
fn connect_error(operation: String, e: reqwest::Error) -> Error {
    // The URL may carry an API key in its query: never print it.
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let _ = write!(message, ": {s}");
        source = s.source();
    }
    Error::Connect { operation, message }
}

/// The shortest time worth one more attempt: a wait that leaves less before the deadline
/// is not waited for.
const MIN_ATTEMPT: Duration = Duration::from_millis(100);

/// Whether a transport error is a name that did not resolve.
fn is_dns_error(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.to_string().starts_with("dns error") {
            return true;
        }
        source = s.source();
    }
    false
}

/// What a failed attempt says about the request, for the retry decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// The deadline passed.
    Timeout,
    /// The upstream's name did not resolve.
    Dns,
    /// The connection could not be made: nothing was sent.
    NotSent,
    /// The connection broke: the upstream may have received the request.
    MaybeSent,
}

impl Failure {
    fn of(e: &reqwest::Error) -> Failure {
        if e.is_timeout() {
            Failure::Timeout
        } else if is_dns_error(e) {
            Failure::Dns
        } else if e.is_connect() {
            Failure::NotSent
        } else {
            Failure::MaybeSent
        }
    }
}

/// One upstream call being built by generated code.
#[derive(Debug)]
pub struct Request {
    method: Method,
    operation: &'static str,
    format: crate::formats::Format,
    schema: Option<&'static crate::formats::Schema>,
    path: String,
    query: String,
    headers: HeaderMap,
    cookies: String,
    body: Option<(HeaderValue, Bytes)>,
    fields: Option<serde_json::Map<String, Value>>,
}

impl Request {
    /// How the answer is read (`outputRawFormat` and `outputSchema`); JSON by default.
    pub fn format(
        &mut self,
        format: crate::formats::Format,
        schema: Option<&'static crate::formats::Schema>,
    ) {
        self.format = format;
        self.schema = schema;
    }

    /// Appends a literal part of the path.
    pub fn path(&mut self, literal: &str) {
        self.path.push_str(literal);
    }

    /// Appends one path parameter as exactly one percent-encoded segment: `/` is escaped,
    /// and the empty string, `.` and `..` are refused (they would name another resource).
    pub fn path_param<T: Text + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Error> {
        let text = value.text();
        if text.is_empty() || text == "." || text == ".." {
            return Err(Error::invalid(format!(
                "path parameter `{name}` must not be empty, `.` or `..`"
            )));
        }
        let _ = write!(self.path, "{}", utf8_percent_encode(&text, SEGMENT));
        Ok(())
    }

    /// Adds a query parameter; `None` adds nothing, a list repeats the name.
    pub fn query<T: QueryValue + ?Sized>(&mut self, name: &str, value: &T) {
        value.push_query(name, &mut self.query);
    }

    /// Sets a header; `None` sets nothing.
    pub fn header<T: Text + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Error> {
        if value.is_absent() {
            return Ok(());
        }
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::invalid(format!("invalid header name `{name}`")))?;
        let v = HeaderValue::from_str(&value.text()).map_err(|_| {
            Error::invalid(format!(
                "header `{name}` holds characters not allowed in a header"
            ))
        })?;
        self.headers.append(n, v);
        Ok(())
    }

    /// Adds a cookie; `None` adds nothing.
    pub fn cookie<T: Text + ?Sized>(&mut self, name: &str, value: &T) {
        if value.is_absent() {
            return;
        }
        if !self.cookies.is_empty() {
            self.cookies.push_str("; ");
        }
        let _ = write!(
            self.cookies,
            "{}={}",
            utf8_percent_encode(name, SEGMENT),
            utf8_percent_encode(&value.text(), SEGMENT)
        );
    }

    /// Sends `value` as the JSON body; `None` (JSON `null`) sends no body.
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let v = serde_json::to_value(value).map_err(|e| Error::invalid(format!("body: {e}")))?;
        if !v.is_null() {
            let bytes = serde_json::to_vec(&v).map_err(|e| Error::invalid(format!("body: {e}")))?;
            self.body = Some((
                HeaderValue::from_static("application/json"),
                Bytes::from(bytes),
            ));
        }
        Ok(())
    }

    /// Adds one field to a JSON object body; `None` adds nothing.
    pub fn body_field<T: Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
    ) -> Result<(), Error> {
        let v = serde_json::to_value(value)
            .map_err(|e| Error::invalid(format!("body field `{name}`: {e}")))?;
        let fields = self.fields.get_or_insert_with(Default::default);
        if !v.is_null() {
            fields.insert(name.to_owned(), v);
        }
        Ok(())
    }

    /// Sends a rendered body with its content type.
    pub fn raw_body(&mut self, content_type: &'static str, body: String) {
        self.body = Some((HeaderValue::from_static(content_type), Bytes::from(body)));
    }

    /// Sends a `multipart/form-data` body of `parts`, in order. The body is built whole (not
    /// streamed) so that a retried call sends the same bytes again.
    pub fn multipart(&mut self, parts: &[FormPart<'_>]) {
        let (content_type, body) = multipart_body(parts);
        match HeaderValue::from_str(&content_type) {
            Ok(ct) => self.body = Some((ct, body)),
            // Cannot happen: the boundary is hex digits.
            Err(_) => self.raw_body("multipart/form-data", String::new()),
        }
    }

    /// Sends `application/x-www-form-urlencoded` fields.
    pub fn form(&mut self, fields: &[(&str, String)]) {
        let mut s = String::new();
        for (k, v) in fields {
            push_pair(&mut s, k, v);
        }
        self.body = Some((
            HeaderValue::from_static("application/x-www-form-urlencoded"),
            Bytes::from(s),
        ));
    }
}

/// One part of a `multipart/form-data` body ([`Request::multipart`]).
#[derive(Clone, Debug)]
pub struct FormPart<'a> {
    /// The form field's name.
    pub name: &'a str,
    /// The part's content, sent as it is.
    pub value: String,
    /// A file part's file name.
    pub filename: Option<&'a str>,
    /// The part's media type (none: the receiver's default, `text/plain`).
    pub content_type: Option<&'a str>,
}

/// The content type (with its boundary) and the bytes of a `multipart/form-data` body
/// (RFC 7578). The boundary is random and checked against every part's content.
pub(crate) fn multipart_body(parts: &[FormPart<'_>]) -> (String, Bytes) {
    use std::hash::{BuildHasher, Hasher};
    // Quotes and line breaks in names are percent-encoded, as browsers do (RFC 7578, 4.2).
    let quoted = |s: &str| {
        s.replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let mut n = 0u64;
    let boundary = loop {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        let b = format!(
            "naftiko-{:016x}{:016x}",
            h.finish(),
            n.wrapping_mul(0x9e37_79b9)
        );
        if !parts.iter().any(|p| p.value.contains(&b)) {
            break b;
        }
        n += 1;
    };
    let mut body = Vec::new();
    for p in parts {
        let _ = write!(
            BytesWriter(&mut body),
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"",
            quoted(p.name)
        );
        if let Some(f) = p.filename {
            let _ = write!(BytesWriter(&mut body), "; filename=\"{}\"", quoted(f));
        }
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = p.content_type {
            let _ = write!(BytesWriter(&mut body), "Content-Type: {}\r\n", quoted(ct));
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(p.value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    let _ = write!(BytesWriter(&mut body), "--{boundary}--\r\n");
    (
        format!("multipart/form-data; boundary={boundary}"),
        Bytes::from(body),
    )
}

/// `fmt::Write` into a byte buffer.
struct BytesWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for BytesWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn push_pair(out: &mut String, name: &str, value: &str) {
    if !out.is_empty() {
        out.push('&');
    }
    let _ = write!(
        out,
        "{}={}",
        utf8_percent_encode(name, QUERY),
        utf8_percent_encode(value, QUERY)
    );
}

/// A value as text (path segments, headers, templates).
pub trait Text {
    /// The value as text: `None` and `null` are empty, a list of strings is joined with
    /// commas.
    fn text(&self) -> String;
    /// Whether the value is absent (`None`, `null`): such a header or cookie is not sent.
    fn is_absent(&self) -> bool {
        false
    }
}

impl Text for str {
    fn text(&self) -> String {
        self.to_owned()
    }
}
impl Text for String {
    fn text(&self) -> String {
        self.clone()
    }
}
impl Text for &str {
    fn text(&self) -> String {
        (*self).to_owned()
    }
}
impl Text for i64 {
    fn text(&self) -> String {
        self.to_string()
    }
}
impl Text for f64 {
    fn text(&self) -> String {
        self.to_string()
    }
}
impl Text for bool {
    fn text(&self) -> String {
        self.to_string()
    }
}
impl Text for Value {
    fn text(&self) -> String {
        match self {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            v => v.to_string(),
        }
    }
    fn is_absent(&self) -> bool {
        self.is_null()
    }
}
impl Text for Vec<String> {
    fn text(&self) -> String {
        self.join(",")
    }
}
impl<T: Text> Text for Option<T> {
    fn text(&self) -> String {
        self.as_ref().map(Text::text).unwrap_or_default()
    }
    fn is_absent(&self) -> bool {
        self.as_ref().is_none_or(Text::is_absent)
    }
}

/// The text of any parameter value (for templates).
pub fn text<T: Text + ?Sized>(value: &T) -> String {
    value.text()
}

/// A value that can be a query parameter.
pub trait QueryValue {
    /// Appends the value's escaped `name=value` pairs to the query string `out`: none when
    /// absent, one per item of a list.
    fn push_query(&self, name: &str, out: &mut String);
}

macro_rules! scalar_query {
    ($($t:ty),*) => {$(
        impl QueryValue for $t {
            fn push_query(&self, name: &str, out: &mut String) {
                push_pair(out, name, &self.text());
            }
        }
    )*};
}
scalar_query!(str, String, i64, f64, bool);

impl QueryValue for Vec<String> {
    fn push_query(&self, name: &str, out: &mut String) {
        for v in self {
            push_pair(out, name, v);
        }
    }
}

impl QueryValue for Value {
    /// Arrays repeat the name; objects use `name[key]=value` (deepObject).
    fn push_query(&self, name: &str, out: &mut String) {
        match self {
            Value::Null => {}
            Value::Array(items) => items.iter().for_each(|v| v.push_query(name, out)),
            Value::Object(map) => {
                for (k, v) in map {
                    v.push_query(&format!("{name}[{k}]"), out);
                }
            }
            v => push_pair(out, name, &v.text()),
        }
    }
}

impl<T: QueryValue> QueryValue for Option<T> {
    fn push_query(&self, name: &str, out: &mut String) {
        if let Some(v) = self {
            v.push_query(name, out);
        }
    }
}

/// Writes `value` as JSON (outside a JSON string of a body template).
pub fn push_json<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), Error> {
    let s = serde_json::to_string(value).map_err(|e| Error::invalid(format!("body: {e}")))?;
    out.push_str(&s);
    Ok(())
}

/// Writes `text` escaped as the content of a JSON string (inside quotes of a body template).
pub fn push_json_str(out: &mut String, text: &str) {
    let quoted = Value::String(text.to_owned()).to_string();
    out.push_str(&quoted[1..quoted.len() - 1]);
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_multipart_body_has_a_boundary_that_no_part_holds() {
        let parts = [
            FormPart {
                name: "a \"b\"",
                value: "x\r\n--naftiko-".into(),
                filename: None,
                content_type: None,
            },
            FormPart {
                name: "f",
                value: "data".into(),
                filename: Some("r.txt"),
                content_type: Some("text/plain"),
            },
        ];
        let (ct, body) = multipart_body(&parts);
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let body = std::str::from_utf8(&body).unwrap();
        assert_eq!(
            body,
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"a %22b%22\"\r\n\r\nx\r\n--naftiko-\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"r.txt\"\r\nContent-Type: text/plain\r\n\r\ndata\r\n\
                 --{boundary}--\r\n"
            )
        );
        assert_eq!(body.matches(boundary).count(), 3);
    }
    use super::*;

    fn client() -> HttpClient {
        HttpClient::new(
            "ns",
            "http://127.0.0.1:1/api",
            Auth::None,
            vec![],
            ClientConfig::default(),
        )
        .unwrap()
    }

    #[test]
    fn path_params_stay_one_segment() {
        let c = client();
        let mut r = c.request(Method::GET, "op");
        r.path("/c/");
        r.path_param("id", "a/../b c%é?#").unwrap();
        assert_eq!(r.path, "/c/a%2F..%2Fb%20c%25%C3%A9%3F%23");
        for bad in ["", ".", ".."] {
            assert!(r.path_param("id", bad).is_err());
        }
    }

    #[test]
    fn query_values() {
        let c = client();
        let mut r = c.request(Method::GET, "op");
        r.query("a", &Some(3i64));
        r.query("b", &None::<String>);
        r.query("s[]", &vec!["x&y".to_owned(), "z".to_owned()]);
        r.query("t", &true);
        assert_eq!(r.query, "a=3&s%5B%5D=x%26y&s%5B%5D=z&t=true");
    }

    #[test]
    fn json_template_escapes() {
        let mut s = String::from("{\"a\":\"");
        push_json_str(&mut s, "x\"}, \"evil\": \"1");
        s.push_str("\",\"b\":");
        push_json(&mut s, &vec![1, 2]).unwrap();
        s.push('}');
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["a"], "x\"}, \"evil\": \"1");
        assert_eq!(v["b"], serde_json::json!([1, 2]));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Any id is one segment that decodes back to itself; `&`, `=`, `#` never split a query.
        #[test]
        fn encoding_round_trips(id in "\\PC{1,40}", value in "\\PC{0,40}") {
            let c = client();
            let mut r = c.request(Method::GET, "op");
            r.path("/c/");
            match r.path_param("id", id.as_str()) {
                Ok(()) => {
                    let seg = r.path.strip_prefix("/c/").unwrap();
                    proptest::prop_assert!(!seg.contains('/') && !seg.contains('?') && !seg.contains('#'));
                    let decoded = percent_encoding::percent_decode_str(seg).decode_utf8().unwrap();
                    proptest::prop_assert_eq!(decoded, id.as_str());
                }
                Err(_) => proptest::prop_assert!(id == "." || id == ".."),
            }
            r.query("q", &value);
            r.query("n", &3i64);
            let pairs: Vec<(String, String)> = form_urlencoded::parse(r.query.as_bytes()).into_owned().collect();
            proptest::prop_assert_eq!(pairs, vec![("q".to_owned(), value.clone()), ("n".to_owned(), "3".to_owned())]);
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn upstream_waits() {
        let s = Duration::from_secs;
        let too_many = StatusCode::TOO_MANY_REQUESTS;
        // Lago: seconds until the window resets.
        assert_eq!(
            upstream_wait(too_many, &headers(&[("x-ratelimit-reset", "2")])),
            Some(s(2))
        );
        // The later of the two.
        assert_eq!(
            upstream_wait(
                too_many,
                &headers(&[("x-ratelimit-reset", "2"), ("retry-after", "5")])
            ),
            Some(s(5))
        );
        // A Unix time: the seconds until then.
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 30;
        let d = upstream_wait(
            too_many,
            &headers(&[("x-ratelimit-reset", &at.to_string())]),
        )
        .unwrap();
        assert!(d > s(28) && d <= s(30), "{d:?}");
        // On a 503 only Retry-After counts; nonsense counts for nothing.
        let unavailable = StatusCode::SERVICE_UNAVAILABLE;
        assert_eq!(
            upstream_wait(unavailable, &headers(&[("x-ratelimit-reset", "2")])),
            None
        );
        assert_eq!(
            upstream_wait(too_many, &headers(&[("x-ratelimit-reset", "soon")])),
            None
        );
    }

    #[test]
    fn origins_and_rate_limit_headers() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(same_origin(
            &u("https://a.example/x"),
            &u("https://a.example:443/y")
        ));
        assert!(!same_origin(
            &u("https://a.example/x"),
            &u("http://a.example/x")
        ));
        assert!(!same_origin(
            &u("https://a.example/x"),
            &u("https://b.example/x")
        ));
        assert!(!same_origin(
            &u("http://a.example/x"),
            &u("http://a.example:8080/x")
        ));
        for (name, passed) in [
            ("retry-after", true),
            ("x-ratelimit-remaining", true),
            ("ratelimit-policy", true),
            ("x-request-id", false),
            ("set-cookie", false),
        ] {
            assert_eq!(
                is_rate_limit_header(&HeaderName::from_static(name)),
                passed,
                "{name}"
            );
        }
    }

    #[test]
    fn base_url_is_checked() {
        assert!(
            HttpClient::new("ns", "ftp://x", Auth::None, vec![], ClientConfig::default()).is_err()
        );
        let c = HttpClient::new(
            "ns",
            "http://x/",
            Auth::None,
            vec![],
            ClientConfig::default().base_url("http://y/v1/"),
        )
        .unwrap();
        assert_eq!(c.base_url(), "http://y/v1");
    }
}
