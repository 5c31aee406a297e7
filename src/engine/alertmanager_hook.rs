//! `[alertmanager] listen`: Alertmanager's webhook, taken as a poke. Alertmanager POSTs a
//! notification when a group of alerts fires or resolves; fleetdeck answers 200 and polls
//! `/api/v2/alerts` at once, so the book learns of an alert within the receiver's
//! `group_wait` instead of the next `poll_interval`. The body is read (bounded) and not
//! trusted: what is recorded always comes from the poll, through the same reconcile as a
//! timed one, so a forged POST can only cause an early poll.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::http_serve::{plain, serve};

/// The path Alertmanager's `webhook_configs` url names.
pub const PATH: &str = "/alertmanager";
/// The largest notification read (Alertmanager's carry every alert of a group).
const MAX_BODY: usize = 4 << 20;

/// Binds `addr` and pokes `poke` on every notification until `stop`; the address bound.
pub async fn listen(
    addr: &str,
    poke: Arc<Notify>,
    stop: CancellationToken,
) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("[alertmanager] listen = \"{addr}\": cannot listen: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("[alertmanager] listen = \"{addr}\": {e}"))?;
    serve(listener, "alertmanager webhook", stop, move |req| {
        answer(Arc::clone(&poke), req)
    });
    Ok(bound)
}

async fn answer(poke: Arc<Notify>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.uri().path() != PATH {
        return plain(
            StatusCode::NOT_FOUND,
            "not found: fleetdeck takes Alertmanager's webhook on /alertmanager\n",
        );
    }
    if req.method() != Method::POST {
        let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "use POST\n");
        resp.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return resp;
    }
    // Read to the end so the sender sees its request taken, then poll.
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(_) => {
            poke.notify_one();
            plain(StatusCode::OK, "ok: polling Alertmanager now\n")
        }
        Err(e) => plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("notification not read: {e}\n"),
        ),
    }
}
