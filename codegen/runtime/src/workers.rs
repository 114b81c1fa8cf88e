//! Thread-per-core serving: one single-threaded tokio runtime per worker thread, each with
//! its own upstream connection pools, fed connections by one acceptor per listener.
//!
//! Why: a proxied request is two short hops over sockets. On tokio's work-stealing runtime
//! the tasks of one request wake each other across cores, and every worker shares one
//! connection pool. Keeping a connection, its request and its upstream call on one thread
//! (as nginx's workers do) removes those cross-core wakeups; `bench/run.sh` measures it.
//! Connections are handed out round-robin by a single acceptor rather than with
//! `SO_REUSEPORT`, so a second copy of the service still fails with "address in use".
//!
//! Each connection is served by hyper with the limits of [`crate::serve::Limits`]: a cap on
//! open connections (taken by the acceptor, so a flood waits in the kernel's backlog rather
//! than exhausting descriptors), a time limit on a request's headers and on an idle
//! keep-alive connection (enforced here, from what the connection reads), a cap on HTTP/2
//! streams, and on shutdown the connections without a request in progress are closed at once.

use std::cell::Cell;
use std::convert::Infallible;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Error;
use crate::serve::Endpoint;

thread_local! {
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// True on a worker thread started by [`spawn`]: its tasks never leave the thread, so
/// per-thread state (like an upstream connection pool) is safe and uncontended there.
pub(crate) fn on_worker() -> bool {
    ON_WORKER.with(Cell::get)
}

/// An accepted connection on its way to a worker, with its place under the connection cap.
type Accepted = (std::net::TcpStream, OwnedSemaphorePermit);

/// Queued connections per worker before the acceptor tries the next worker.
const QUEUE: usize = 256;

/// How long a connection must have been without a request before it may be closed to make
/// room under the connection cap (a client that just connected is about to send one).
const QUIET: Duration = Duration::from_millis(100);

/// Back-off after an accept error (descriptors exhausted, say): doubled up to the maximum.
const BACKOFF_MIN: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Repeated accept errors (and a full connection cap) are reported at most this often.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Errors that concern one connection only (the client went away before `accept`).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Accepts until `cancel`, handing connections to the workers in turn. Dropping the
/// listener on return makes new connections fail fast during the drain.
async fn accept_loop(
    listener: TcpListener,
    workers: Vec<mpsc::Sender<Accepted>>,
    endpoint: Arc<Endpoint>,
    cancel: CancellationToken,
) {
    let limits = &endpoint.limits;
    let mut next = 0usize;
    let mut backoff = BACKOFF_MIN;
    let mut errors = 0u64;
    let mut reported: Option<Instant> = None;
    let mut full_reported: Option<Instant> = None;
    let due = |at: &Option<Instant>| at.is_none_or(|t| t.elapsed() >= REPORT_EVERY);
    loop {
        // A place under the connection cap first: at the cap, idle connections are asked
        // to make room and new ones wait in the kernel's backlog.
        let permit = match limits.connections.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if due(&full_reported) {
                    full_reported = Some(Instant::now());
                    tracing::warn!(
                        "{}: {} connections open (the --max-connections cap); closing idle ones to make room",
                        endpoint.name,
                        limits.max_connections
                    );
                }
                // Asked again while the cap holds: connections become reclaimable as they
                // stay quiet (see `ConnState::reclaimable`).
                loop {
                    limits.reclaim();
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        p = limits.connections.clone().acquire_owned() => match p {
                            Ok(p) => break p,
                            Err(_) => return,
                        },
                        _ = tokio::time::sleep(QUIET) => {}
                    }
                }
            }
        };
        let stream = tokio::select! {
            _ = cancel.cancelled() => return,
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    backoff = BACKOFF_MIN;
                    stream
                }
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of descriptors (EMFILE, ENFILE) or memory: wait, with a growing
                    // back-off, rather than spin; report it now and then, not every time.
                    errors += 1;
                    if due(&reported) {
                        reported = Some(Instant::now());
                        tracing::error!(
                            "{}: cannot accept connections: {e} ({errors} times so far); retrying with back-off",
                            endpoint.name
                        );
                    }
                    limits.reclaim();
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
            },
        };
        // Small JSON answers must not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let Ok(std) = stream.into_std() else {
            continue;
        };
        let mut conn = (std, permit);
        // Round-robin; a worker whose queue is full is skipped, and a connection no
        // worker can take is closed rather than queued without bound.
        for _ in 0..workers.len() {
            let w = &workers[next % workers.len()];
            next = next.wrapping_add(1);
            match w.try_send(conn) {
                Ok(()) => break,
                Err(mpsc::error::TrySendError::Full(c) | mpsc::error::TrySendError::Closed(c)) => {
                    conn = c
                }
            }
        }
    }
}

/// Milliseconds since the first call (a monotonic clock that fits in an atomic); never 0.
fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

fn at_ms(ms: u64) -> tokio::time::Instant {
    let now = now_ms();
    tokio::time::Instant::now() + Duration::from_millis(ms.saturating_sub(now))
}

/// One connection: what its requests are served by, and what its timeouts look at. Each
/// request holds it (an `Arc` per connection: no count shared across workers is touched).
struct ConnState {
    endpoint: Arc<Endpoint>,
    /// This worker's shutdown signal (a child of the server's: waiting on it does not
    /// contend with the other workers).
    shutdown: CancellationToken,
    /// Requests being handled (their body being read, their handler running).
    active: AtomicU32,
    /// When the connection last had no request in progress.
    idle_since: AtomicU64,
    /// When the first byte of a request arrived with no request in progress (0: none yet).
    head_since: AtomicU64,
}

impl ConnState {
    fn new(endpoint: Arc<Endpoint>, shutdown: CancellationToken) -> Self {
        let now = now_ms();
        // A new connection is waiting for its first request's headers from the start.
        ConnState {
            endpoint,
            shutdown,
            active: AtomicU32::new(0),
            idle_since: AtomicU64::new(now),
            head_since: AtomicU64::new(now),
        }
    }

    /// When the connection should be closed if nothing changes, or `None` while a request
    /// is in progress (its body and its upstream call have their own limits).
    fn deadline(&self, header: u64, idle: u64) -> Option<u64> {
        if self.active.load(Ordering::Relaxed) > 0 {
            return None;
        }
        Some(match self.head_since.load(Ordering::Relaxed) {
            0 => self.idle_since.load(Ordering::Relaxed) + idle,
            head => head + header,
        })
    }
}

impl ConnState {
    /// Whether the connection may be closed to make room for another: no request in
    /// progress, and none for a moment (idle keep-alive, or a request that never came).
    fn reclaimable(&self) -> bool {
        self.active.load(Ordering::Relaxed) == 0
            && now_ms().saturating_sub(self.idle_since.load(Ordering::Relaxed))
                >= QUIET.as_millis() as u64
    }
}

/// A request in progress on a connection; the connection is idle again once all are dropped.
struct InProgress(Arc<ConnState>);

impl InProgress {
    fn begin(state: &Arc<ConnState>) -> Self {
        state.active.fetch_add(1, Ordering::Relaxed);
        state.head_since.store(0, Ordering::Relaxed);
        InProgress(state.clone())
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.0.idle_since.store(now_ms(), Ordering::Relaxed);
        }
    }
}

/// A socket that notes when a request starts to arrive on an idle connection (the start of
/// the header timeout). Writes pass straight through.
struct Tracked {
    io: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.io).poll_read(cx, buf);
        if buf.filled().len() > before
            && this.state.active.load(Ordering::Relaxed) == 0
            && this.state.head_since.load(Ordering::Relaxed) == 0
        {
            this.state.head_since.store(now_ms(), Ordering::Relaxed);
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The hyper settings of one endpoint's connections (HTTP/1.1 and HTTP/2, by preface).
fn builder(endpoint: &Endpoint) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    // The header and idle timeouts are this module's (hyper's header timeout would also
    // run while a keep-alive connection waits, so both could not be set apart).
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(endpoint.limits.max_streams);
    b
}

/// Serves one connection until it closes, it times out, it is reclaimed to make room
/// under the connection cap, or the server shuts down.
async fn serve_connection(
    stream: TcpStream,
    endpoint: Arc<Endpoint>,
    shutdown: CancellationToken,
    builder: Arc<auto::Builder<TokioExecutor>>,
    _permit: OwnedSemaphorePermit,
) {
    let state = Arc::new(ConnState::new(endpoint.clone(), shutdown.clone()));
    let io = TokioIo::new(Tracked {
        io: stream,
        state: state.clone(),
    });
    let service = {
        let state = state.clone();
        hyper::service::service_fn(move |req| {
            let in_progress = InProgress::begin(&state);
            async move {
                let conn = &in_progress.0;
                let response = conn.endpoint.handle(req, &conn.shutdown).await;
                drop(in_progress);
                Ok::<_, Infallible>(response)
            }
        })
    };
    let limits = &endpoint.limits;
    let header = limits.header_timeout.as_millis() as u64;
    let idle = limits.idle_timeout.as_millis() as u64;
    // Deadlines are re-read at least this often, so that a request starting while the
    // task sleeps cannot push its own header deadline past the next wake-up.
    let recheck = header.min(idle).max(1);
    let mut conn = pin!(builder.serve_connection(io, service));
    let mut draining = false;
    loop {
        let now = now_ms();
        let wake = state
            .deadline(header, idle)
            .map_or(now + recheck, |d| d.min(now + recheck));
        tokio::select! {
            biased;
            _ = conn.as_mut() => return,
            _ = shutdown.cancelled(), if !draining => {
                // Idle and slow connections (no request in progress) close at once.
                if state.active.load(Ordering::Relaxed) == 0 {
                    return;
                }
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
            _ = limits.reclaimed(), if !draining => {
                if state.reclaimable() && limits.take_reclaim() {
                    return;
                }
            }
            // While draining, requests in progress finish and the connection then closes
            // (HTTP/1 without keep-alive, HTTP/2 after GOAWAY), within --shutdown-timeout.
            _ = tokio::time::sleep_until(at_ms(wake)), if !draining => {
                if state.deadline(header, idle).is_some_and(|d| d <= now_ms()) {
                    // No request is in progress: closing loses nothing (a response still
                    // being written has waited the idle timeout for its reader).
                    return;
                }
            }
        }
    }
}

/// One worker thread: serves its share of every listener until `cancel`, then gives
/// in-flight requests `drain` to finish.
fn worker(
    index: usize,
    shares: Vec<(mpsc::Receiver<Accepted>, Arc<Endpoint>)>,
    cancel: CancellationToken,
    drain: Duration,
) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("worker {index}: cannot start a runtime: {e}")))?;
    ON_WORKER.with(|w| w.set(true));
    crate::client::warm_worker_pools();
    runtime.block_on(async move {
        let tracker = TaskTracker::new();
        for (mut rx, endpoint) in shares {
            let builder = Arc::new(builder(&endpoint));
            let shutdown = endpoint.limits.shutdown.child_token();
            let cancel = cancel.clone();
            let connections = tracker.clone();
            tracker.spawn(async move {
                loop {
                    let accepted = tokio::select! {
                        biased;
                        _ = cancel.cancelled() => None,
                        c = rx.recv() => c,
                    };
                    let Some((stream, permit)) = accepted else {
                        return;
                    };
                    // Registers the socket with this worker's reactor.
                    match TcpStream::from_std(stream) {
                        Ok(s) => {
                            connections.spawn(serve_connection(
                                s,
                                endpoint.clone(),
                                shutdown.clone(),
                                builder.clone(),
                                permit,
                            ));
                        }
                        Err(e) => tracing::warn!(error = %e, "dropping an accepted connection"),
                    }
                }
            });
        }
        cancel.cancelled().await;
        tracker.close();
        if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
            tracing::warn!(
                "worker {index}: requests still running after {drain:?} (--shutdown-timeout); stopping"
            );
        }
    });
    Ok(())
}

/// Starts `workers` threads serving `listeners` and one acceptor task per listener on the
/// calling runtime. The returned receivers complete when each worker has stopped.
pub(crate) fn spawn(
    listeners: Vec<(TcpListener, Arc<Endpoint>)>,
    workers: usize,
    cancel: &CancellationToken,
    drain: Duration,
) -> Result<Vec<oneshot::Receiver<()>>, Error> {
    let workers = workers.max(1);
    let mut shares: Vec<Vec<(mpsc::Receiver<Accepted>, Arc<Endpoint>)>> =
        (0..workers).map(|_| Vec::new()).collect();
    let mut acceptors = Vec::new();
    for (listener, endpoint) in listeners {
        let mut senders = Vec::with_capacity(workers);
        for share in &mut shares {
            let (tx, rx) = mpsc::channel(QUEUE);
            senders.push(tx);
            share.push((rx, endpoint.clone()));
        }
        acceptors.push((listener, senders, endpoint));
    }
    let cancel_all = cancel;
    let mut done = Vec::with_capacity(workers);
    for (index, share) in shares.into_iter().enumerate() {
        let (tx, rx) = oneshot::channel();
        let cancel = cancel.clone();
        std::thread::Builder::new()
            .name(format!("naftiko-worker-{index}"))
            .spawn(move || {
                if let Err(e) = worker(index, share, cancel.clone(), drain) {
                    tracing::error!("{e}");
                    cancel.cancel();
                }
                let _ = tx.send(());
            })
            .map_err(|e| {
                cancel_all.cancel();
                Error::Config(format!("cannot start worker thread {index}: {e}"))
            })?;
        done.push(rx);
    }
    for (listener, senders, endpoint) in acceptors {
        tokio::spawn(accept_loop(listener, senders, endpoint, cancel.clone()));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_follow_the_connection_state() {
        let s = Arc::new(ConnState {
            endpoint: crate::serve::test_endpoint(),
            shutdown: CancellationToken::new(),
            active: AtomicU32::new(0),
            idle_since: AtomicU64::new(now_ms()),
            head_since: AtomicU64::new(now_ms()),
        });
        // A new connection: the header timeout runs from the start.
        let start = s.head_since.load(Ordering::Relaxed);
        assert_eq!(s.deadline(1_000, 5_000), Some(start + 1_000));
        // A request in progress: no deadline here.
        let r = InProgress::begin(&s);
        assert_eq!(s.deadline(1_000, 5_000), None);
        drop(r);
        // Idle after it: the idle timeout, until the next request starts to arrive.
        let idle = s.idle_since.load(Ordering::Relaxed);
        assert_eq!(s.deadline(1_000, 5_000), Some(idle + 5_000));
        s.head_since.store(idle + 7, Ordering::Relaxed);
        assert_eq!(s.deadline(1_000, 5_000), Some(idle + 1_007));
    }
}
