//! The upgrade request's bearer token, checked before the WebSocket upgrade: a missing or
//! unknown token gets `401 Unauthorized` and never a WebSocket.

use std::sync::{Arc, Mutex};

use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{StatusCode, header};

use super::tokens::TokenStore;
use crate::protocol::Scope;

/// The scope the handshake's callback found, read after the upgrade.
pub type ScopeSlot = Arc<Mutex<Option<Scope>>>;

/// The token in `Authorization: Bearer TOKEN` (scheme case-insensitive).
fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

// The error type is tungstenite's (an HTTP response), not ours to shrink.
#[allow(clippy::result_large_err)]
/// The handshake callback: accepts the upgrade for a known token (recording its scope in
/// `slot`), answers 401 otherwise.
pub fn callback(
    tokens: Arc<TokenStore>,
    slot: ScopeSlot,
) -> impl FnOnce(&Request, Response) -> Result<Response, ErrorResponse> + Unpin {
    move |req: &Request, resp: Response| match bearer(req).and_then(|t| tokens.verify(t)) {
        Some(scope) => {
            if let Ok(mut s) = slot.lock() {
                *s = Some(scope);
            }
            Ok(resp)
        }
        None => {
            let mut denied = ErrorResponse::new(Some(
                "a valid token is required: send `Authorization: Bearer TOKEN`\n".to_string(),
            ));
            *denied.status_mut() = StatusCode::UNAUTHORIZED;
            denied.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"fleetdeck-agent\""),
            );
            Err(denied)
        }
    }
}
