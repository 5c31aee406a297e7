//! The remote command line: env and cwd prefixes, the pid marker that makes a cancel possible
//! without a PTY, and the process-group kill script run over a second channel.
//!
//! Without a PTY, sshd starts the user's shell in a new session (it calls setsid), so the
//! shell's `$$` is the process group of everything the command starts. The shell prints it
//! first, as `\x1efdpid:PID\n` on stdout; the transport strips that line (it is never shown as
//! output) and kills the group with `kill -TERM -PID` when it must stop the command. Closing
//! the channel alone would leave the command running (SSH-NOTES.md, pitfall 4).

use super::super::{ErrorKind, ExecSpec, TransportError};

/// What the shell prints before the command: record separator, tag, pid, newline.
const MARKER_PREFIX: &[u8] = b"\x1efdpid:";
/// The marker is looked for in at most this many leading stdout bytes (a login script may
/// print something first); past it, output flows unchanged and the pid stays unknown.
const MARKER_SCAN_LIMIT: usize = 4096;
/// `kill -0` polls between TERM and KILL: 20 × 0.1 s bounds the remote script to ~2 s.
const KILL_POLLS: u32 = 20;

/// `'text'` for a POSIX shell: single quotes, with each `'` written as `'\''`.
pub fn shell_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A shell variable name (`[A-Za-z_][A-Za-z0-9_]*`): anything else could inject commands.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The line sent in the `exec` request: `[pid marker;] [export K='v';] [cd 'dir' &&] command`.
/// Env travels as an `export` prefix because sshd's AcceptEnv refuses most `env` requests.
pub fn remote_command(host: &str, spec: &ExecSpec) -> Result<String, TransportError> {
    let mut line = String::new();
    if !spec.pty {
        line.push_str("printf '\\036fdpid:%s\\n' \"$$\"; ");
    }
    for (name, value) in &spec.env {
        if !is_env_name(name) {
            return Err(TransportError::new(
                ErrorKind::Io,
                format!(
                    "{host}: invalid environment variable name `{name}` (use letters, digits \
                     and `_`, not starting with a digit)"
                ),
            ));
        }
        line.push_str(&format!("export {name}={}; ", shell_quote(value)));
    }
    if let Some(dir) = &spec.cwd {
        line.push_str(&format!("cd {} && ", shell_quote(dir)));
    }
    line.push_str(&spec.command);
    Ok(line)
}

/// TERM to the command's process group, a bounded wait for it to go, then KILL. Always exits
/// 0: the group may already be gone, which is success.
pub fn kill_group_script(pid: u32) -> String {
    format!(
        "kill -TERM -{pid} 2>/dev/null || exit 0; i=0; \
         while [ $i -lt {KILL_POLLS} ] && kill -0 -{pid} 2>/dev/null; do sleep 0.1; i=$((i+1)); done; \
         kill -KILL -{pid} 2>/dev/null; exit 0"
    )
}

/// Finds and removes the pid marker at the start of stdout.
#[derive(Debug, Default)]
pub struct PidMarker {
    /// Stdout held back while the marker may still be arriving.
    held: Vec<u8>,
    done: bool,
}

/// What [`PidMarker::feed`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum MarkerScan {
    /// Still looking; nothing to show yet.
    Pending,
    /// The marker was found (`pid`) or given up on (`None`); `output` is the rest of the
    /// bytes seen so far, marker line removed.
    Done { pid: Option<u32>, output: Vec<u8> },
    /// Already done earlier: `output` is just these bytes.
    PassThrough(Vec<u8>),
}

impl PidMarker {
    /// A scanner that expects no marker (PTY sessions): everything passes through.
    pub fn disabled() -> Self {
        Self {
            held: Vec::new(),
            done: true,
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    pub fn feed(&mut self, data: &[u8]) -> MarkerScan {
        if self.done {
            return MarkerScan::PassThrough(data.to_vec());
        }
        self.held.extend_from_slice(data);
        if let Some(start) = find(&self.held, MARKER_PREFIX) {
            let digits_at = start + MARKER_PREFIX.len();
            if let Some(nl) = self.held[digits_at..].iter().position(|&b| b == b'\n') {
                let pid = std::str::from_utf8(&self.held[digits_at..digits_at + nl])
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok());
                let mut output = self.held[..start].to_vec();
                output.extend_from_slice(&self.held[digits_at + nl + 1..]);
                return self.finish(pid, output);
            }
        }
        if self.held.len() >= MARKER_SCAN_LIMIT {
            let output = std::mem::take(&mut self.held);
            return self.finish(None, output);
        }
        MarkerScan::Pending
    }

    /// Gives up (stdout ended): whatever was held is output.
    pub fn flush(&mut self) -> MarkerScan {
        if self.done {
            return MarkerScan::PassThrough(Vec::new());
        }
        let output = std::mem::take(&mut self.held);
        self.finish(None, output)
    }

    fn finish(&mut self, pid: Option<u32>, output: Vec<u8>) -> MarkerScan {
        self.done = true;
        self.held = Vec::new();
        MarkerScan::Done { pid, output }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes_and_metacharacters() {
        assert_eq!(shell_quote("plain"), "'plain'");
        assert_eq!(shell_quote("it's $HOME; rm"), "'it'\\''s $HOME; rm'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn command_line_has_marker_env_and_cwd() {
        let mut spec = ExecSpec::new("make deploy");
        spec.env = vec![("GREETING".into(), "it's".into())];
        spec.cwd = Some("/srv/my app".into());
        let line = remote_command("h1", &spec).unwrap();
        assert_eq!(
            line,
            "printf '\\036fdpid:%s\\n' \"$$\"; export GREETING='it'\\''s'; \
             cd '/srv/my app' && make deploy"
        );
        spec.pty = true;
        assert!(!remote_command("h1", &spec).unwrap().contains("fdpid"));
    }

    #[test]
    fn bad_env_names_are_refused() {
        let mut spec = ExecSpec::new("true");
        spec.env = vec![("X; rm -rf /".into(), "v".into())];
        let err = remote_command("h1", &spec).unwrap_err();
        assert!(err.message.contains("invalid environment variable name"));
    }

    #[test]
    fn marker_is_stripped_even_when_split() {
        let mut m = PidMarker::default();
        assert_eq!(m.feed(b"\x1efdpid:12"), MarkerScan::Pending);
        assert_eq!(
            m.feed(b"34\nhello\n"),
            MarkerScan::Done {
                pid: Some(1234),
                output: b"hello\n".to_vec()
            }
        );
        assert_eq!(m.feed(b"x"), MarkerScan::PassThrough(b"x".to_vec()));
    }

    #[test]
    fn marker_after_login_noise_and_missing_marker() {
        let mut m = PidMarker::default();
        assert_eq!(
            m.feed(b"motd\n\x1efdpid:7\nout"),
            MarkerScan::Done {
                pid: Some(7),
                output: b"motd\nout".to_vec()
            }
        );
        let mut m = PidMarker::default();
        assert_eq!(m.feed(b"no marker"), MarkerScan::Pending);
        assert_eq!(
            m.flush(),
            MarkerScan::Done {
                pid: None,
                output: b"no marker".to_vec()
            }
        );
        let mut m = PidMarker::default();
        let big = vec![b'a'; MARKER_SCAN_LIMIT];
        assert!(matches!(m.feed(&big), MarkerScan::Done { pid: None, .. }));
    }

    #[test]
    fn kill_script_is_bounded() {
        let s = kill_group_script(42);
        assert!(s.starts_with("kill -TERM -42 "));
        assert!(s.contains("kill -KILL -42"));
        assert!(s.contains(&format!("-lt {KILL_POLLS}")));
    }
}
