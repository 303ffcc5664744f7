//! Binding, serving and stopping a fully built router.
//!
//! The accept loop is ours (on hyper-util), for what `axum::serve` cannot set:
//! - at most [`Limits::max_connections`] open connections: beyond them, the listener waits
//!   (the kernel's backlog holds new ones) instead of running out of file descriptors;
//! - a request's headers must arrive within [`Limits::header_timeout`] (a slowloris peer that
//!   trickles a byte at a time is cut off), and its answer (body read included) must be ready
//!   within [`Limits::request_timeout`] (408 otherwise; a WebSocket or an event stream is
//!   answered at once and then lives on);
//! - on stop, the listener closes, open HTTP/1 connections finish their request and close;
//!   upgraded WebSockets and event streams are ended by their own tasks (crate::shutdown).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::Service;
use tower_http::timeout::TimeoutLayer;

/// How much the HTTP server takes on.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_connections: 4096, header_timeout: Duration::from_secs(10), request_timeout: Duration::from_secs(30) }
    }
}

impl Limits {
    /// The defaults, with the connection cap kept under this process's open-file limit (raised
    /// to its hard maximum first): a few hundred descriptors stay for the database, models and
    /// outbound requests.
    pub fn for_this_process() -> Self {
        let files = raise_open_file_limit();
        let mut limits = Self::default();
        if let Some(files) = files {
            limits.max_connections = limits.max_connections.min(files.saturating_sub(256).max(64) as usize);
        }
        limits
    }
}

/// Raises the soft limit on open files to the hard one; returns the limit now in force.
#[allow(unsafe_code)]
fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim = raised;
                }
            }
        }
        Some(lim.rlim_cur)
    }
    #[cfg(not(unix))]
    None
}

/// Resolves when SIGTERM or Ctrl-C arrives.
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
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

/// Binds `addr`; the error names the address.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// Serves with the default [`Limits`] until `shutdown` resolves, then lets open requests finish.
pub async fn run(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    run_with(listener, router, Limits::default(), shutdown).await
}

/// Serves under `limits` until `shutdown` resolves; then stops accepting, asks every open
/// connection to finish its request, and returns when they have.
pub async fn run_with(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router.layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request_timeout));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // `stop` tells connections to finish; each holds a `done` receiver until it has.
    let (stop, _) = watch::channel(false);
    let (done, _) = watch::channel(());
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of descriptors (or a connection reset before we took it): wait a
                    // moment rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move { Ok::<_, Infallible>(router.call(request.map(axum::body::Body::new)).await.unwrap_or_else(|e| match e {})) }
        });
        let (builder, mut stopping, finished) = (builder.clone(), stop.subscribe(), done.subscribe());
        tokio::spawn(async move {
            let _slot = slot;
            let _finished = finished;
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
            tokio::pin!(conn);
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::trace!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    Ok(()) = stopping.changed() => conn.as_mut().graceful_shutdown(),
                }
            }
        });
    }
    drop(listener);
    stop.send_replace(true);
    done.closed().await;
    Ok(())
}
