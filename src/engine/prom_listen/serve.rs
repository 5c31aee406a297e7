//! The HTTP side of `/metrics` (hyper, HTTP/1.1).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::engine::session::FleetReader;

/// Connections served at once; more wait in the kernel's backlog.
const CONNECTIONS: usize = 16;
/// A client that sends no complete request head in this time is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// A running `/metrics` server.
pub struct Listening {
    pub addr: SocketAddr,
    pub task: JoinHandle<()>,
}

/// Binds `addr` and serves `reader`'s gauges until `stop`. The bind error is returned (a
/// port in use is said at once, not discovered by a scraper later).
pub async fn listen(
    addr: &str,
    reader: FleetReader,
    stop: CancellationToken,
) -> Result<Listening, String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("[metrics] listen = \"{addr}\": cannot listen: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("[metrics] listen = \"{addr}\": {e}"))?;
    let reader = Arc::new(reader);
    let permits = Arc::new(Semaphore::new(CONNECTIONS));
    let task = tokio::spawn(async move {
        loop {
            let permit = tokio::select! {
                () = stop.cancelled() => return,
                p = Arc::clone(&permits).acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return,
                },
            };
            let accepted = tokio::select! {
                () = stop.cancelled() => return,
                a = listener.accept() => a,
            };
            let (stream, _) = match accepted {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "/metrics: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let reader = Arc::clone(&reader);
            let stop = stop.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let service = service_fn(move |req| answer(Arc::clone(&reader), req));
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    () = stop.cancelled() => {}
                    r = conn => if let Err(e) = r {
                        tracing::debug!(error = %e, "/metrics: connection ended");
                    },
                }
            });
        }
    });
    Ok(Listening { addr, task })
}

fn plain(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

async fn answer(
    reader: Arc<FleetReader>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() != "/metrics" {
        return Ok(plain(
            StatusCode::NOT_FOUND,
            "not found: fleetdeck serves /metrics\n",
        ));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "use GET\n");
        resp.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return Ok(resp);
    }
    Ok(match super::render(&reader.snapshot(), SystemTime::now()) {
        Ok(text) => {
            let mut resp = plain(StatusCode::OK, "");
            *resp.body_mut() = Full::new(Bytes::from(text));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            resp
        }
        Err(e) => {
            tracing::warn!(error = %e, "/metrics: cannot render");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot render the fleet's metrics\n",
            )
        }
    })
}
