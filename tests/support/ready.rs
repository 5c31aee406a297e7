//! Waiting for a server the tests started (node_exporter, Alertmanager) to answer over HTTP on
//! loopback, bounded, telling a server that exited (with its log) from one that is slow.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

/// Whether `GET path` on 127.0.0.1:`port` answers with status 200 (the status line only is read).
pub fn answers_200(port: u16, path: &str) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    if stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .is_err()
    {
        return false;
    }
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

/// `child` (the server `what`, logging to `log`) once `GET path` answers 200 within
/// `timeout`; otherwise it is stopped and the error says whether it exited (with its log) or
/// was too slow.
pub fn when_ready(
    mut child: Child,
    what: &str,
    port: u16,
    path: &str,
    log: &Path,
    timeout: Duration,
) -> io::Result<Child> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Err(io::Error::other(format!(
                "{what} on 127.0.0.1:{port} exited with {status}: {}",
                fs::read_to_string(log).unwrap_or_default().trim()
            )));
        }
        if answers_200(port, path) {
            return Ok(child);
        }
        if Instant::now() >= deadline {
            super::stop_child(&mut child);
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{what} did not answer {path} on 127.0.0.1:{port} within {timeout:?}"),
            ));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// A port picked free can be taken by someone else before the server binds it: tries.
const PORT_ATTEMPTS: usize = 5;

/// `start` on a free port of 127.0.0.1, a few ports tried; the port and what `start` gave.
pub fn on_a_free_port<T>(mut start: impl FnMut(u16) -> io::Result<T>) -> io::Result<(u16, T)> {
    let mut last_error = None;
    for _ in 0..PORT_ATTEMPTS {
        let port = super::free_port()?;
        match start(port) {
            Ok(started) => return Ok((port, started)),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no port attempt was made")))
}
