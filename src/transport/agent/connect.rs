//! One connection to an agent: TCP, TLS with the pinned certificate (or plain on loopback),
//! the WebSocket upgrade with the bearer token, and the hello exchange. Every failure becomes
//! the transport error kind SSH would give for the same situation.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage, Utf8Bytes};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};
use tokio_util::either::Either;

use super::super::{ErrorKind, TransportError};
use super::endpoint::Endpoint;
use super::tls;
use crate::protocol::{Frame, Hello, MAX_FRAME_BYTES, Message, READ_BUFFER_BYTES};

/// A connected agent: TLS with the pinned certificate, or plain TCP on loopback.
pub type AgentSocket = WebSocketStream<Either<TlsStream<TcpStream>, TcpStream>>;

/// Frames and messages over the protocol's limit end the connection (tungstenite's defaults,
/// 16/64 MiB, are far too large); the read buffer: see `READ_BUFFER_BYTES`.
fn limits() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES))
        .read_buffer_size(READ_BUFFER_BYTES)
}

/// Connects and greets; the whole of it bounded by `timeout` (a `Timeout` error after).
pub async fn connect(
    name: &str,
    endpoint: &Endpoint,
    consumer: &str,
    timeout: Duration,
) -> Result<(AgentSocket, Hello), TransportError> {
    match tokio::time::timeout(timeout, connect_inner(name, endpoint, consumer)).await {
        Ok(r) => r,
        Err(_) => Err(TransportError::new(
            ErrorKind::Timeout,
            format!(
                "{name}: no connection to the agent at {} within {:.1} s",
                endpoint.url,
                timeout.as_secs_f32()
            ),
        )),
    }
}

async fn connect_inner(
    name: &str,
    endpoint: &Endpoint,
    consumer: &str,
) -> Result<(AgentSocket, Hello), TransportError> {
    // Read first: a missing token must not cost a connection.
    let token = endpoint.read_token(name)?;
    let tcp = tcp_connect(name, endpoint).await?;
    let io = match &endpoint.pin {
        Some(pin) if endpoint.tls => {
            Either::Left(tls::handshake(name, &endpoint.url, &endpoint.host, pin, tcp).await?)
        }
        _ => Either::Right(tcp),
    };
    let mut request = endpoint.url.as_str().into_client_request().map_err(|e| {
        TransportError::new(
            ErrorKind::Io,
            format!("{name}: agent url `{}`: {e}", endpoint.url),
        )
    })?;
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        TransportError::new(
            ErrorKind::Auth,
            format!(
                "{name}: the token in {} has characters a header cannot carry",
                token_path(endpoint)
            ),
        )
    })?;
    value.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, value);

    // tungstenite refuses an upgrade answer over 64 KiB; the caller's timeout bounds its time.
    let (mut ws, _response) = client_async_with_config(request, io, Some(limits()))
        .await
        .map_err(|e| upgrade_error(name, endpoint, e))?;
    let hello = read_hello(name, &mut ws).await?;
    let ours = Frame::new(Message::Hello(Hello {
        software: format!("fleetdeck {}", env!("CARGO_PKG_VERSION")),
        name: consumer.to_string(),
        scopes: Vec::new(),
        heartbeat_s: None,
        max_frame_bytes: None,
    }));
    ws.send(WsMessage::text(ours.encode())).await.map_err(|e| {
        TransportError::new(
            ErrorKind::Connect,
            format!("{name}: sending our hello to the agent failed: {e}"),
        )
    })?;
    Ok((ws, hello))
}

async fn tcp_connect(name: &str, endpoint: &Endpoint) -> Result<TcpStream, TransportError> {
    let addrs: Vec<_> = tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(|e| {
            TransportError::new(
                ErrorKind::Dns,
                format!("{name}: cannot resolve {}: {e}", endpoint.host),
            )
        })?
        .collect();
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = Some(format!("{addr}: {e}")),
        }
    }
    Err(TransportError::new(
        ErrorKind::Connect,
        format!(
            "{name}: cannot connect to the agent at {}: {} (is `fleetdeck agent run` listening \
             there?)",
            endpoint.url,
            last.unwrap_or_else(|| format!("{} has no address", endpoint.host))
        ),
    ))
}

fn upgrade_error(name: &str, endpoint: &Endpoint, error: WsError) -> TransportError {
    let broke = |why: String| {
        TransportError::new(
            ErrorKind::Connect,
            format!(
                "{name}: the connection to {} broke during the WebSocket upgrade: {why}{}",
                endpoint.url,
                if endpoint.tls {
                    ""
                } else {
                    " (does the agent use TLS? then the url is wss:// with a fingerprint)"
                }
            ),
        )
    };
    match error {
        WsError::Http(response) => match response.status().as_u16() {
            code @ (401 | 403) => TransportError::new(
                ErrorKind::Auth,
                format!(
                    "{name}: the agent at {} refused the token from {} (HTTP {code}); put an \
                     exec token from `fleetdeck agent init` in that file",
                    endpoint.url,
                    token_path(endpoint)
                ),
            ),
            code => TransportError::new(
                ErrorKind::Connect,
                format!(
                    "{name}: {} answered HTTP {code} instead of a WebSocket upgrade (is it a \
                     fleetdeck agent?)",
                    endpoint.url
                ),
            ),
        },
        WsError::Io(e) => broke(e.to_string()),
        WsError::Protocol(ProtocolError::HandshakeIncomplete) => {
            broke("the agent closed the connection".to_string())
        }
        WsError::AttackAttempt => TransportError::new(
            ErrorKind::Connect,
            format!(
                "{name}: {} is not a fleetdeck agent WebSocket: the upgrade answer is too large",
                endpoint.url
            ),
        ),
        e => TransportError::new(
            ErrorKind::Connect,
            format!(
                "{name}: {} is not a fleetdeck agent WebSocket: {e}",
                endpoint.url
            ),
        ),
    }
}

/// The text of a received message; `Ok(None)` for frames with no text (tungstenite answers
/// pings itself; the protocol has no binary frames); `Err` says why the connection ended
/// (frames over `MAX_FRAME_BYTES` end it too).
pub fn text_of(received: Option<Result<WsMessage, WsError>>) -> Result<Option<Utf8Bytes>, String> {
    match received {
        Some(Ok(WsMessage::Text(text))) => Ok(Some(text)),
        Some(Ok(WsMessage::Binary(_))) => {
            tracing::debug!("agent sent a binary frame; the protocol is text only");
            Ok(None)
        }
        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => Ok(None),
        Some(Ok(WsMessage::Close(_)))
        | Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)))
        | None => Err("the agent closed the connection".into()),
        Some(Err(WsError::Io(e))) => Err(format!("reading from the agent failed: {e}")),
        Some(Err(e)) => Err(format!("the agent broke the protocol: {e}")),
    }
}

/// Waits for the server's hello; anything else first is a protocol error.
async fn read_hello(name: &str, ws: &mut AgentSocket) -> Result<Hello, TransportError> {
    // Bounded by the connect timeout around the whole connect.
    let text = loop {
        match text_of(ws.next().await) {
            Ok(Some(text)) => break text,
            Ok(None) => {}
            Err(why) => {
                return Err(TransportError::new(
                    ErrorKind::Connect,
                    format!("{name}: {why} (before its hello)"),
                ));
            }
        }
    };
    match Frame::decode(&text) {
        Ok(Frame {
            msg: Message::Hello(hello),
            ..
        }) => Ok(hello),
        Ok(Frame {
            msg: Message::Error { code, message, .. },
            ..
        }) => Err(TransportError::new(
            ErrorKind::Protocol,
            format!("{name}: the agent refused the session ({code:?}): {message}"),
        )),
        Ok(other) => Err(TransportError::new(
            ErrorKind::Protocol,
            format!(
                "{name}: the agent spoke before its hello ({})",
                other.encode().chars().take(80).collect::<String>()
            ),
        )),
        Err(e) => Err(TransportError::new(
            ErrorKind::Protocol,
            format!("{name}: the agent's hello is not understood: {e}"),
        )),
    }
}

fn token_path(endpoint: &Endpoint) -> String {
    endpoint.token_path("").map_or_else(
        |_| "(no token file)".to_string(),
        |p| p.display().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{AgentEndpoint, Host, TransportKind};
    use tokio::net::TcpListener;

    /// A `ws://` endpoint on loopback `port` with a token file in `dir`.
    fn endpoint(dir: &std::path::Path, port: u16) -> Endpoint {
        std::fs::write(dir.join("t.token"), "s3cret-token\n").unwrap();
        let mut host = Host::ad_hoc("a1");
        host.transport = TransportKind::Agent;
        host.agent = Some(AgentEndpoint {
            url: format!("ws://127.0.0.1:{port}"),
            token_file: Some("t.token".into()),
            read_token_file: None,
            fingerprint: None,
        });
        Endpoint::resolve(&host, dir).unwrap()
    }

    const LIMIT: Duration = Duration::from_secs(10);

    #[test]
    fn received_messages_map_to_text_or_why_the_connection_ended() {
        let text = text_of(Some(Ok(WsMessage::text("hi")))).unwrap().unwrap();
        assert_eq!(&*text, "hi");
        for quiet in [
            WsMessage::Ping(Vec::new().into()),
            WsMessage::binary(vec![1]),
        ] {
            assert_eq!(text_of(Some(Ok(quiet))), Ok(None));
        }
        let reset = WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake);
        for closed in [None, Some(Ok(WsMessage::Close(None))), Some(Err(reset))] {
            assert_eq!(
                text_of(closed).unwrap_err(),
                "the agent closed the connection"
            );
        }
        let io = WsError::Io(std::io::ErrorKind::ConnectionReset.into());
        assert!(
            text_of(Some(Err(io)))
                .unwrap_err()
                .starts_with("reading from the agent")
        );
    }

    /// Our side of the limits: a peer's frame over `MAX_FRAME_BYTES` ends the connection as a
    /// protocol breach, one at the limit is delivered. The peer is tokio-tungstenite's server
    /// (a real agent never sends such a frame).
    #[tokio::test]
    async fn frames_over_the_limit_end_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let peer = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            let hello = Frame::new(Message::Hello(Hello {
                software: "test".into(),
                name: "a1".into(),
                scopes: Vec::new(),
                heartbeat_s: Some(1),
                max_frame_bytes: None,
            }));
            ws.send(WsMessage::text(hello.encode())).await.unwrap();
            let ours = text_of(ws.next().await).unwrap().unwrap();
            assert!(ours.contains("hello"), "{}", &*ours);
            ws.send(WsMessage::text("x".repeat(MAX_FRAME_BYTES)))
                .await
                .unwrap();
            // The client may already be gone; only the sending matters.
            let _ = ws
                .send(WsMessage::text("x".repeat(MAX_FRAME_BYTES + 1)))
                .await;
        });
        let e = endpoint(dir.path(), port);
        let (mut ws, hello) = connect("a1", &e, "me@here", LIMIT).await.unwrap();
        assert_eq!(hello.name, "a1");
        let at_limit = tokio::time::timeout(LIMIT, ws.next()).await.unwrap();
        assert_eq!(text_of(at_limit).unwrap().unwrap().len(), MAX_FRAME_BYTES);
        let over = tokio::time::timeout(LIMIT, ws.next()).await.unwrap();
        let why = text_of(over).unwrap_err();
        assert!(why.starts_with("the agent broke the protocol"), "{why}");
        tokio::time::timeout(LIMIT, peer).await.unwrap().unwrap();
    }

    /// Reads an HTTP request head (bounded in size).
    async fn read_request(tcp: &mut TcpStream) -> String {
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tokio::io::AsyncReadExt::read(tcp, &mut buf).await.unwrap();
            assert!(n > 0 && got.len() < 64 * 1024);
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    /// A peer that closes during the upgrade (e.g. a TLS agent reached with ws://) is a
    /// connect error with the TLS hint; an HTTP 401/403 is an auth error naming the token
    /// file, never showing the token.
    #[tokio::test]
    async fn upgrade_failures_keep_their_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let peer = tokio::spawn(async move {
            // First connection: closed after the request (end of stream, not a reset).
            let (mut tcp, _) = listener.accept().await.unwrap();
            assert!(read_request(&mut tcp).await.contains("Bearer s3cret-token"));
            drop(tcp);
            for status in ["403 Forbidden", "401 Unauthorized"] {
                let (mut tcp, _) = listener.accept().await.unwrap();
                read_request(&mut tcp).await;
                let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
                tokio::io::AsyncWriteExt::write_all(&mut tcp, answer.as_bytes())
                    .await
                    .unwrap();
            }
        });
        let e = endpoint(dir.path(), port);
        let err = connect("a1", &e, "me@here", LIMIT).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Connect, "{err}");
        assert!(
            err.message.contains("during the WebSocket upgrade"),
            "{err}"
        );
        assert!(err.message.contains("does the agent use TLS?"), "{err}");
        for code in ["403", "401"] {
            let err = connect("a1", &e, "me@here", LIMIT).await.unwrap_err();
            assert_eq!(err.kind, ErrorKind::Auth, "{err}");
            assert!(err.message.contains(&format!("HTTP {code}")), "{err}");
            assert!(err.message.contains("t.token"), "{err}");
            assert!(!err.message.contains("s3cret"), "{err}");
        }
        tokio::time::timeout(LIMIT, peer).await.unwrap().unwrap();
    }
}
