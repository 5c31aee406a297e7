//! A loopback HTTP server that answers every request one fixed way, for the bad-input tests
//! of HTTP clients (an exporter that hangs, answers HTML, 50 MB or gzip). Never a stand-in
//! for a real peer's good answers: those come from the real programs.
//!
//! Runs on the test's tokio runtime; dropping it stops the server and every connection.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The most request head read before answering.
const MAX_HEAD: usize = 64 << 10;

/// How every request is answered.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Reads the request and never answers (the connection stays open until drop).
    Hang,
    /// A whole answer with a Content-Length.
    Fixed {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// `body` gzip-compressed (`Content-Encoding: gzip`) when the request accepts gzip, plain
    /// otherwise, as node_exporter does.
    Gzip { body: Vec<u8> },
    /// `total` bytes of `line` repeated, streamed in 64 KiB writes without a length (the body
    /// ends when the connection closes), as a runaway exporter would send.
    Stream { line: &'static str, total: u64 },
    /// Already-gzipped bytes sent with `Content-Encoding: gzip` (a body that unpacks large).
    RawGzip { compressed: Arc<Vec<u8>> },
}

/// What the server saw and did, shared with the test.
#[derive(Debug, Default)]
pub struct Seen {
    pub requests: AtomicUsize,
    /// A request listed gzip in Accept-Encoding.
    pub gzip_asked: AtomicBool,
    /// Body bytes written so far (streamed answers).
    pub body_sent: AtomicU64,
    /// A streamed answer stopped (finished, or the client went away).
    pub stream_ended: AtomicBool,
}

pub struct HttpStub {
    addr: SocketAddr,
    seen: Arc<Seen>,
    server: JoinHandle<()>,
}

impl HttpStub {
    /// Listens on 127.0.0.1 on a port of the system's choice.
    pub async fn start(answer: Answer) -> std::io::Result<HttpStub> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Seen::default());
        let server = tokio::spawn(serve(listener, answer, Arc::clone(&seen)));
        Ok(HttpStub { addr, seen, server })
    }

    pub fn url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    pub fn seen(&self) -> &Seen {
        &self.seen
    }

    /// Waits (at most `limit`) until a streamed answer has stopped; true if it did.
    pub async fn wait_stream_ended(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            if self.seen.stream_ended.load(Ordering::SeqCst) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }
}

impl Drop for HttpStub {
    fn drop(&mut self) {
        // Dropping the server task drops its JoinSet, which aborts every connection.
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, answer: Answer, seen: Arc<Seen>) {
    let mut connections = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        connections.spawn(answer_one(stream, answer.clone(), Arc::clone(&seen)));
    }
}

async fn answer_one(mut stream: TcpStream, answer: Answer, seen: Arc<Seen>) {
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    seen.requests.fetch_add(1, Ordering::SeqCst);
    let accepts_gzip = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("accept-encoding:") && l.contains("gzip")
    });
    if accepts_gzip {
        seen.gzip_asked.store(true, Ordering::SeqCst);
    }
    match answer {
        Answer::Hang => {
            // Hold the connection open without a word; the server's drop ends this.
            std::future::pending::<()>().await;
        }
        Answer::Fixed {
            status,
            content_type,
            body,
        } => {
            let _ = send(&mut stream, status, content_type, None, &body).await;
        }
        Answer::Gzip { body } => {
            if accepts_gzip {
                let _ = send(&mut stream, 200, TEXT, Some("gzip"), &gzip(&body)).await;
            } else {
                let _ = send(&mut stream, 200, TEXT, None, &body).await;
            }
        }
        Answer::RawGzip { compressed } => {
            let _ = send(&mut stream, 200, TEXT, Some("gzip"), &compressed).await;
        }
        Answer::Stream { line, total } => {
            stream_body(&mut stream, line, total, &seen).await;
            seen.stream_ended.store(true, Ordering::SeqCst);
        }
    }
}

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The request head, up to the blank line; `None` if the client went away or sent too much.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(head).ok()
}

async fn send(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    encoding: Option<&str>,
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n",
        reason(status),
        body.len()
    );
    if let Some(encoding) = encoding {
        head.push_str(&format!("Content-Encoding: {encoding}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

async fn stream_body(stream: &mut TcpStream, line: &str, total: u64, seen: &Seen) {
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {TEXT}\r\nConnection: close\r\n\r\n");
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = line.repeat((64 << 10) / line.len().max(1)).into_bytes();
    let mut sent = 0u64;
    while sent < total {
        let n = chunk
            .len()
            .min(usize::try_from(total - sent).unwrap_or(usize::MAX));
        if stream.write_all(&chunk[..n]).await.is_err() {
            return;
        }
        sent += n as u64;
        seen.body_sent.store(sent, Ordering::SeqCst);
    }
    let _ = stream.shutdown().await;
}

/// gzip of `body`, as an exporter that was asked for it sends.
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
