//! Recording a new host key (trust on first use): one whole line appended under an exclusive
//! lock, so concurrent fleetdeck tasks and processes never interleave or duplicate lines.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use russh::keys::PublicKey;

use super::entry::{Marker, lookup_name, parse_line};
use crate::diag::Error;

/// How long to wait for another writer's lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(10);
const LOCK_POLL: Duration = Duration::from_millis(10);

/// Appends `[host]:port key` (or `host key` for port 22) to `file`, creating it 0600 (and its
/// folder 0700) if needed. Plain, not hashed, like OpenSSH's default `HashKnownHosts no`.
///
/// Under the lock the file is read again: a line with this very key makes this a no-op, and a
/// line with a different key of the same type for the name is an error (someone else recorded
/// another key meanwhile: refusing is the only safe answer).
///
/// Blocking (file I/O, and up to 10 s waiting for another writer's lock): call it from
/// `spawn_blocking` in async code.
pub fn learn(file: &Path, name: &str, port: u16, key: &PublicKey) -> Result<(), Error> {
    check_name(name)?;
    let lookup = lookup_name(name, port);
    let encoded = PublicKey::new(key.key_data().clone(), "")
        .to_openssh()
        .map_err(|e| Error::Invalid(format!("cannot encode the host key of {lookup}: {e}")))?;
    let record = format!("{lookup} {}\n", encoded.trim_end());

    let io_err = |action: &'static str| move |e: io::Error| Error::io(file, action, e);
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(dir, "cannot create the known_hosts folder", e))?;
    }
    let mut f = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(file)
        .map_err(io_err("cannot open known_hosts for writing"))?;
    lock_exclusive(&f).map_err(io_err("cannot lock known_hosts"))?;

    let mut existing = Vec::new();
    f.read_to_end(&mut existing)
        .map_err(io_err("cannot read known_hosts"))?;
    let text = String::from_utf8_lossy(&existing);
    for (i, line) in text.lines().enumerate() {
        let Ok(Some((Marker::None, hosts, recorded))) = parse_line(line) else {
            continue;
        };
        if !hosts.matches(&lookup) {
            continue;
        }
        if &recorded == key.key_data() {
            return Ok(());
        }
        if recorded.algorithm() == key.key_data().algorithm() {
            return Err(Error::Invalid(format!(
                "{}:{}: already holds a different {} key for {lookup}; not adding {} (the \
                 host key may have changed: check with the host's owner)",
                file.display(),
                i + 1,
                recorded.algorithm(),
                super::fingerprint(key)
            )));
        }
    }
    let mut out = String::with_capacity(record.len() + 1);
    if existing.last().is_some_and(|&b| b != b'\n') {
        out.push('\n');
    }
    out.push_str(&record);
    // One write on an O_APPEND descriptor: the line lands whole at the end.
    f.write_all(out.as_bytes())
        .map_err(io_err("cannot append to known_hosts"))?;
    f.sync_data().map_err(io_err("cannot flush known_hosts"))?;
    // The lock goes with the descriptor.
    Ok(())
}

/// A name that would read back as something else (a pattern, a list, a marker) is refused.
fn check_name(name: &str) -> Result<(), Error> {
    let bad = name.is_empty()
        || name.starts_with(['|', '@', '#', '!'])
        || name.contains(|c: char| c.is_whitespace() || c.is_control() || ",*?".contains(c));
    if bad {
        return Err(Error::Invalid(format!(
            "cannot record a host key under `{name}`: not a plain host name"
        )));
    }
    Ok(())
}

/// flock(LOCK_EX), polled so that a stuck writer costs at most [`LOCK_WAIT`].
fn lock_exclusive(f: &File) -> io::Result<()> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        // SAFETY: flock on a descriptor we own; no memory is passed.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EWOULDBLOCK) | Some(libc::EINTR) if Instant::now() < deadline => {
                thread::sleep(LOCK_POLL)
            }
            Some(libc::EWOULDBLOCK) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "another writer held the lock for more than {}s",
                        LOCK_WAIT.as_secs()
                    ),
                ));
            }
            _ => return Err(err),
        }
    }
}
