//! A loopback HTTP/1.1 receiver for what fleetdeck POSTs (Slack, webhooks): it records each
//! request and answers as the test scripts it (a status, or never). What is sent is the thing
//! under test, so this is the peer, written here. Runs on the test's tokio runtime.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How long `wait_for` waits for requests to arrive.
const WAIT: Duration = Duration::from_secs(20);

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// Reads the request and never answers.
    Hang,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        match serde_json::from_slice(&self.body) {
            Ok(v) => v,
            Err(e) => panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            ),
        }
    }
}

/// An HTTP/1.1 server on 127.0.0.1 that records each request and answers the n-th one with
/// `script[n]`, later ones with `then`. Error answers quote the request path (as a careless
/// server might), so the tests can check it is scrubbed.
pub struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Received>>>,
    server: JoinHandle<()>,
}

impl Receiver {
    pub async fn start(script: Vec<Reply>, then: Reply) -> Receiver {
        let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await {
            Ok(l) => l,
            Err(e) => panic!("cannot listen: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("no address: {e}"),
        };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&seen);
        let server = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let recorded = Arc::clone(&recorded);
                let script = script.clone();
                connections.spawn(async move {
                    let _ = answer(stream, &recorded, &script, then).await;
                });
            }
        });
        Receiver { addr, seen, server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits (bounded) until `n` requests have arrived; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("{} of {n} requests arrived within {WAIT:?}", got.len());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // Dropping the server task drops its JoinSet, which aborts every connection.
        self.server.abort();
    }
}

async fn answer(
    mut stream: TcpStream,
    seen: &Mutex<Vec<Received>>,
    script: &[Reply],
    then: Reply,
) -> io::Result<()> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 || data.len() > 64 << 10 {
            return Ok(());
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while data.len() < head_end + length && data.len() < (1 << 20) {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let index = {
        let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.push(Received {
            path: path.clone(),
            body: data[head_end..].to_vec(),
        });
        seen.len() - 1
    };
    match script.get(index).copied().unwrap_or(then) {
        Reply::Hang => {
            std::future::pending::<()>().await;
            Ok(())
        }
        Reply::Status(code) => {
            let body = if code < 300 {
                "ok".to_string()
            } else {
                format!("no_service for {path}")
            };
            let reply = format!(
                "HTTP/1.1 {code} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(reply.as_bytes()).await?;
            stream.shutdown().await
        }
    }
}
