//! The HTTP side of `/metrics` (hyper, HTTP/1.1).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::engine::http_serve::{plain, serve};
use crate::engine::session::FleetReader;

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
    let task = serve(listener, "/metrics", stop, move |req| {
        answer(Arc::clone(&reader), req)
    });
    Ok(Listening { addr, task })
}

async fn answer(reader: Arc<FleetReader>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.uri().path() != "/metrics" {
        return plain(
            StatusCode::NOT_FOUND,
            "not found: fleetdeck serves /metrics\n",
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "use GET\n");
        resp.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    match super::render(&reader.snapshot(), SystemTime::now()) {
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
    }
}
