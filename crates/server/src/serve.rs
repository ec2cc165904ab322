//! Serving HTTP with the bounds a public server needs: a cap on open
//! connections (below the open-file limit, which start-up raises as far
//! as the system allows), a time limit on reading a request's headers —
//! which also closes a connection left idle — and on its body, and, on
//! SIGTERM, an end to
//! the live streams and a bounded drain of what is in flight.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How the server treats connections.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Connections open at once; more wait in the kernel's queue.
    pub max_connections: usize,
    /// The time a client has to send a request's headers (and the most a
    /// connection may sit idle between requests).
    pub header_read: Duration,
    /// The time a client has to send a request's whole body.
    pub body_read: Duration,
    /// On shutdown, how long requests in flight may take to finish.
    pub drain: Duration,
}

/// File descriptors kept for everything that is not a client connection
/// (the database pool, outgoing requests, logs).
const RESERVED_FILES: u64 = 256;

/// Raises this process's open-file limit to the hard limit and caps
/// `wanted` connections to fit under it. Returns the cap and the limit.
pub fn fit_connections(wanted: usize) -> (usize, u64) {
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let room = usize::try_from(limit.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
    (wanted.min(room).max(1), limit)
}

/// Serves `router` on `listener` until `stop` resolves; then tells the
/// live streams (`streams_end`) and waits at most `limits.drain` for the
/// rest.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()>,
    streams_end: impl FnOnce(),
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(limits.header_read.max(Duration::from_secs(10)));
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => p.expect("the semaphore stays open"),
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of files or the like: wait a moment, keep serving.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = tower::ServiceBuilder::new()
            .layer(tower_http::timeout::RequestBodyDeadlineLayer::new(
                limits.body_read,
            ))
            .map_request(move |mut req: axum::http::Request<_>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            })
            .service(router.clone());
        let service = hyper_util::service::TowerToHyperService::new(service);
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let header_read = limits.header_read;
        tokio::spawn(async move {
            // The first bytes (which tell HTTP/1 from HTTP/2) have the same
            // time limit as headers: a connection that says nothing goes.
            let mut first = [0u8; 1];
            if let Ok(Ok(1..)) = tokio::time::timeout(header_read, stream.peek(&mut first)).await {
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let _ = watcher.watch(conn).await;
            }
            drop(permit);
        });
    }
    tracing::info!("stopping: live streams end, requests in flight may finish");
    streams_end();
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            secs = limits.drain.as_secs(),
            "connections still open after the drain: closed"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cap_fits_under_the_file_limit() {
        let (cap, limit) = super::fit_connections(usize::MAX);
        assert!(limit >= 1024);
        assert_eq!(
            cap as u64,
            limit - super::RESERVED_FILES,
            "room for everything else"
        );
        assert_eq!(super::fit_connections(100).0, 100);
    }
}
