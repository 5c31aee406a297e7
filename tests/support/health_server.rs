//! A loopback HTTP health endpoint whose answer the test switches (healthy, unhealthy) while
//! it runs, and which counts the requests it got: the peer of `[[checks]]` HTTP checks.
//! Runs on the test's tokio runtime; dropping it stops the server.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The most request head read before answering.
const MAX_HEAD: usize = 16 << 10;

pub struct HealthServer {
    addr: SocketAddr,
    healthy: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    server: JoinHandle<()>,
}

impl HealthServer {
    /// Listens on 127.0.0.1; answers `200 ok` while healthy, `500 down` otherwise.
    pub async fn start(healthy: bool) -> std::io::Result<HealthServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let healthy = Arc::new(AtomicBool::new(healthy));
        let requests = Arc::new(AtomicUsize::new(0));
        let (h, r) = (Arc::clone(&healthy), Arc::clone(&requests));
        let server = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (h, r) = (Arc::clone(&h), Arc::clone(&r));
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    // Bounded in size and time: a client that never finishes its head is dropped.
                    let read = async {
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
                            match stream.read(&mut buf).await {
                                Ok(0) | Err(_) => return false,
                                Ok(n) => head.extend_from_slice(&buf[..n]),
                            }
                        }
                        true
                    };
                    if !matches!(
                        tokio::time::timeout(Duration::from_secs(5), read).await,
                        Ok(true)
                    ) {
                        return;
                    }
                    r.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = if h.load(Ordering::SeqCst) {
                        ("200 OK", "ok")
                    } else {
                        ("500 Internal Server Error", "down")
                    };
                    let answer = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Ok(HealthServer {
            addr,
            healthy,
            requests,
            server,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn set_healthy(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::SeqCst);
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for HealthServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}
