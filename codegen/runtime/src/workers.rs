//! Thread-per-core serving: one single-threaded tokio runtime per worker thread, each with
//! its own upstream connection pools, fed connections by one acceptor per listener.
//!
//! Why: a proxied request is two short hops over sockets. On tokio's work-stealing runtime
//! the tasks of one request wake each other across cores, and every worker shares one
//! connection pool. Keeping a connection, its request and its upstream call on one thread
//! (as nginx's workers do) removes those cross-core wakeups; `bench/run.sh` measures it.
//! Connections are handed out round-robin by a single acceptor rather than with
//! `SO_REUSEPORT`, so a second copy of the service still fails with "address in use".

use std::cell::Cell;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::Error;

thread_local! {
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// True on a worker thread started by [`spawn`]: its tasks never leave the thread, so
/// per-thread state (like an upstream connection pool) is safe and uncontended there.
pub(crate) fn on_worker() -> bool {
    ON_WORKER.with(Cell::get)
}

/// Connections accepted elsewhere, handed to one worker; an axum listener.
struct Handoff {
    rx: mpsc::Receiver<(std::net::TcpStream, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for Handoff {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.rx.recv().await {
                // Registers the socket with this worker's reactor.
                Some((stream, peer)) => match TcpStream::from_std(stream) {
                    Ok(s) => return (s, peer),
                    Err(e) => tracing::warn!(error = %e, "dropping an accepted connection"),
                },
                // The acceptor has stopped: graceful shutdown ends this listener's loop.
                None => std::future::pending::<()>().await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// Queued connections per worker before the acceptor tries the next worker.
const QUEUE: usize = 256;

/// Accepts until `cancel`, handing connections to the workers in turn. Dropping the
/// listener on return makes new connections fail fast during the drain.
async fn accept_loop(
    mut listener: TcpListener,
    workers: Vec<mpsc::Sender<(std::net::TcpStream, SocketAddr)>>,
    cancel: CancellationToken,
) {
    let mut next = 0usize;
    loop {
        let (stream, peer) = tokio::select! {
            _ = cancel.cancelled() => return,
            // axum's accept logs and backs off on errors such as EMFILE.
            c = axum::serve::Listener::accept(&mut listener) => c,
        };
        // Small JSON answers must not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let Ok(mut conn) = stream.into_std().map(|s| (s, peer)) else {
            continue;
        };
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

/// One worker thread: serves its share of every listener until `cancel`, then gives
/// in-flight requests `drain` to finish.
fn worker(
    index: usize,
    apps: Vec<(Handoff, axum::Router)>,
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
        let mut servers = tokio::task::JoinSet::new();
        for (listener, app) in apps {
            let cancel = cancel.clone();
            servers.spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move { cancel.cancelled().await })
                    .await
            });
        }
        let all = async {
            while let Some(r) = servers.join_next().await {
                match r {
                    Ok(Err(e)) => tracing::error!(error = %e, "server error"),
                    Err(e) => tracing::error!(error = %e, "server task failed"),
                    Ok(Ok(())) => {}
                }
            }
        };
        tokio::select! {
            _ = all => {}
            _ = async { cancel.cancelled().await; tokio::time::sleep(drain).await } => {
                tracing::warn!("worker {index}: requests still running after {drain:?}; stopping");
            }
        }
    });
    Ok(())
}

/// Starts `workers` threads serving `listeners` and one acceptor task per listener on the
/// calling runtime. The returned receivers complete when each worker has stopped.
pub(crate) fn spawn(
    listeners: Vec<(TcpListener, axum::Router)>,
    workers: usize,
    cancel: &CancellationToken,
    drain: Duration,
) -> Result<Vec<oneshot::Receiver<()>>, Error> {
    let workers = workers.max(1);
    let mut shares: Vec<Vec<(Handoff, axum::Router)>> = (0..workers).map(|_| Vec::new()).collect();
    let mut acceptors = Vec::new();
    for (listener, app) in listeners {
        let local = listener
            .local_addr()
            .map_err(|e| Error::Config(e.to_string()))?;
        let mut senders = Vec::with_capacity(workers);
        for share in &mut shares {
            let (tx, rx) = mpsc::channel(QUEUE);
            senders.push(tx);
            share.push((Handoff { rx, local }, app.clone()));
        }
        acceptors.push((listener, senders));
    }
    let cancel_all = cancel;
    let mut done = Vec::with_capacity(workers);
    for (index, apps) in shares.into_iter().enumerate() {
        let (tx, rx) = oneshot::channel();
        let cancel = cancel.clone();
        std::thread::Builder::new()
            .name(format!("naftiko-worker-{index}"))
            .spawn(move || {
                if let Err(e) = worker(index, apps, cancel.clone(), drain) {
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
    for (listener, senders) in acceptors {
        tokio::spawn(accept_loop(listener, senders, cancel.clone()));
    }
    Ok(done)
}
