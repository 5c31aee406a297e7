//! The local transport: a process on this machine (`sh -c`), for kubectl/aws/terraform
//! wrappers and for `transport = "local"` hosts. It runs in its own process group so a cancel
//! or timeout kills everything it started.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::{
    EVENT_BUFFER, ErrorKind, ExecEvent, ExecHandle, ExecSpec, ExitOutcome, Transport,
    TransportError,
};
use crate::inventory::Host;

/// Read size per pipe read.
const CHUNK: usize = 32 * 1024;
/// After the command exits, output still in flight is read for at most this long (a
/// background child holding the pipe open must not hang the run).
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// Between SIGTERM and SIGKILL of the process group.
const KILL_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Default, Clone)]
pub struct LocalTransport;

impl Transport for LocalTransport {
    fn exec(&self, host: &Host, spec: ExecSpec) -> ExecHandle {
        let name = host.name.clone();
        spawn_exec(move |tx, cancel| async move { run(&name, spec, &tx, cancel).await })
    }
}

/// Runs one command in a task, as every transport does: `Connecting` first, then whatever
/// `run` sends, then its end (`Exited` or `Failed`). `run` gets the event sender and the
/// token that [`ExecHandle::cancel`] cancels.
pub(crate) fn spawn_exec<F, Fut>(run: F) -> ExecHandle
where
    F: FnOnce(mpsc::Sender<ExecEvent>, CancellationToken) -> Fut,
    Fut: Future<Output = Result<ExitOutcome, TransportError>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(EVENT_BUFFER);
    let cancel = CancellationToken::new();
    let running = run(tx.clone(), cancel.clone());
    tokio::spawn(async move {
        let _ = tx.send(ExecEvent::Connecting).await;
        let event = match running.await {
            Ok(outcome) => ExecEvent::Exited(outcome),
            Err(e) => ExecEvent::Failed(e),
        };
        let _ = tx.send(event).await;
    });
    ExecHandle { events: rx, cancel }
}

async fn run(
    host: &str,
    spec: ExecSpec,
    tx: &mpsc::Sender<ExecEvent>,
    cancel: CancellationToken,
) -> Result<ExitOutcome, TransportError> {
    let mut sh = std::process::Command::new("/bin/sh");
    sh.arg("-c")
        .arg(&spec.command)
        // Wrappers (kubectl contexts, cloud accounts) learn which inventory host they stand for.
        .env("FLEETDECK_HOST", host)
        .envs(spec.env.iter().map(|(k, v)| (k, v)));
    if let Some(cwd) = &spec.cwd {
        sh.current_dir(cwd);
    }
    piped_in_own_group(&mut sh, spec.stdin.is_some());
    let mut cmd = Command::from(sh);
    cmd.kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| {
        TransportError::new(ErrorKind::Io, format!("{host}: cannot start /bin/sh: {e}"))
    })?;
    let pid = child.id();
    let _ = tx.send(ExecEvent::Started { pid }).await;

    if let (Some(input), Some(mut stdin)) = (spec.stdin, child.stdin.take()) {
        // A command that ignores stdin must not block us: write in the background.
        tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
            let _ = stdin.shutdown().await;
        });
    }
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut out_buf = vec![0u8; CHUNK];
    let mut err_buf = vec![0u8; CHUNK];

    let started = Instant::now();
    let deadline = spec.timeout.map(|t| started + t);
    let mut idle_deadline = spec.idle_timeout.map(|t| started + t);
    let far = started + Duration::from_secs(100 * 365 * 86_400);
    let mut status = None;
    let mut drain_until: Option<Instant> = None;

    loop {
        if stdout.is_none() && stderr.is_none() && status.is_some() {
            break;
        }
        let stop_at = drain_until.unwrap_or(far);
        tokio::select! {
            r = read_some(&mut stdout, &mut out_buf) => {
                if let Some(bytes) = r {
                    idle_deadline = spec.idle_timeout.map(|t| Instant::now() + t);
                    let _ = tx.send(ExecEvent::Stdout(bytes)).await;
                }
            }
            r = read_some(&mut stderr, &mut err_buf) => {
                if let Some(bytes) = r {
                    idle_deadline = spec.idle_timeout.map(|t| Instant::now() + t);
                    let _ = tx.send(ExecEvent::Stderr(bytes)).await;
                }
            }
            s = child.wait(), if status.is_none() => {
                let s = s.map_err(|e| TransportError::new(ErrorKind::Io, format!("{host}: waiting for the command: {e}")))?;
                status = Some(s);
                drain_until = Some(Instant::now() + DRAIN_GRACE);
            }
            () = sleep_until(stop_at), if drain_until.is_some() => break,
            () = sleep_until(deadline.unwrap_or(far)), if deadline.is_some() && status.is_none() => {
                kill_group(&mut child, pid).await;
                return Ok(ExitOutcome::TimedOut { after_ms: millis(started.elapsed()) });
            }
            () = sleep_until(idle_deadline.unwrap_or(far)), if idle_deadline.is_some() && status.is_none() => {
                kill_group(&mut child, pid).await;
                return Ok(ExitOutcome::IdleTimedOut { after_ms: millis(spec.idle_timeout.unwrap_or_default()) });
            }
            () = cancel.cancelled(), if status.is_none() => {
                kill_group(&mut child, pid).await;
                return Ok(ExitOutcome::Cancelled);
            }
        }
    }
    Ok(exit_outcome(status))
}

/// How a process ended, from its wait status (`None`: no status was had). Shared with the
/// agent's `shell_command` jobs.
pub fn exit_outcome(status: Option<std::process::ExitStatus>) -> ExitOutcome {
    match status.map(|s| (s.code(), s.signal())) {
        Some((Some(code), _)) => ExitOutcome::Code { code },
        Some((None, Some(sig))) => ExitOutcome::Signal {
            signal: signal_name(sig),
        },
        Some((None, None)) | None => ExitOutcome::NoStatus,
    }
}

/// Reads one chunk; `None` (and the pipe closed) at EOF or error. Pends forever on a closed
/// pipe so `select!` keeps serving the other branches.
async fn read_some<R: AsyncReadExt + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut [u8],
) -> Option<Vec<u8>> {
    let Some(reader) = pipe.as_mut() else {
        return std::future::pending().await;
    };
    match reader.read(buf).await {
        Ok(0) | Err(_) => {
            *pipe = None;
            None
        }
        Ok(n) => Some(buf[..n].to_vec()),
    }
}

/// Pipes `cmd`'s stdout and stderr (and stdin when there is input for it, else /dev/null)
/// and starts it as the leader of a process group of its own, so a cancel or timeout can
/// signal every descendant ([`signal_group`]). Shared with the agent's `shell_command` jobs.
pub fn piped_in_own_group(
    cmd: &mut std::process::Command,
    with_stdin: bool,
) -> &mut std::process::Command {
    cmd.stdin(if with_stdin {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0)
}

/// Sends `signal` to the process group led by `pid` (started by [`piped_in_own_group`]).
pub fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pgid) = libc::pid_t::try_from(pid) {
        // SAFETY: killpg only sends a signal; a group that is already gone gives ESRCH.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }
}

/// TERM to the whole process group, KILL after a grace period, then reap.
async fn kill_group(child: &mut Child, pid: Option<u32>) {
    let Some(pid) = pid else {
        let _ = child.kill().await;
        return;
    };
    signal_group(pid, libc::SIGTERM);
    let waited = tokio::time::timeout(KILL_GRACE, child.wait()).await;
    // Past the grace the leader gets KILL too; if it is gone, stragglers in the group get
    // KILL so nothing outlives a cancel.
    signal_group(pid, libc::SIGKILL);
    if waited.is_err() {
        let _ = child.wait().await;
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The conventional name of a signal number (`TERM`, `KILL`...), as OpenSSH reports them.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "HUP",
        libc::SIGINT => "INT",
        libc::SIGQUIT => "QUIT",
        libc::SIGILL => "ILL",
        libc::SIGTRAP => "TRAP",
        libc::SIGABRT => "ABRT",
        libc::SIGBUS => "BUS",
        libc::SIGFPE => "FPE",
        libc::SIGKILL => "KILL",
        libc::SIGSEGV => "SEGV",
        libc::SIGPIPE => "PIPE",
        libc::SIGALRM => "ALRM",
        libc::SIGTERM => "TERM",
        libc::SIGUSR1 => "USR1",
        libc::SIGUSR2 => "USR2",
        _ => return format!("SIG{sig}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(spec: ExecSpec) -> (Vec<u8>, Vec<u8>, ExecEvent) {
        let mut handle = LocalTransport.exec(&Host::ad_hoc("local"), spec);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        while let Some(ev) = handle.events.recv().await {
            match ev {
                ExecEvent::Stdout(b) => out.extend(b),
                ExecEvent::Stderr(b) => err.extend(b),
                e if e.is_terminal() => return (out, err, e),
                _ => {}
            }
        }
        panic!("no terminal event");
    }

    #[tokio::test]
    async fn output_and_exit_code() {
        let (out, err, end) = collect(ExecSpec::new("echo hi; echo oops >&2; exit 3")).await;
        assert_eq!(out, b"hi\n");
        assert_eq!(err, b"oops\n");
        assert_eq!(end, ExecEvent::Exited(ExitOutcome::Code { code: 3 }));
    }

    #[tokio::test]
    async fn signal_exit() {
        let (_, _, end) = collect(ExecSpec::new("kill -TERM $$")).await;
        assert_eq!(
            end,
            ExecEvent::Exited(ExitOutcome::Signal {
                signal: "TERM".into()
            })
        );
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let mut spec = ExecSpec::new(format!("(sleep 3; touch {}) & sleep 30", marker.display()));
        spec.timeout = Some(Duration::from_millis(300));
        let (_, _, end) = collect(spec).await;
        assert!(
            matches!(end, ExecEvent::Exited(ExitOutcome::TimedOut { .. })),
            "{end:?}"
        );
        tokio::time::sleep(Duration::from_millis(3500)).await;
        assert!(!marker.exists(), "a background child outlived the timeout");
    }

    #[tokio::test]
    async fn idle_timeout_and_cancel() {
        let mut spec = ExecSpec::new("echo start; sleep 30");
        spec.idle_timeout = Some(Duration::from_millis(300));
        let (out, _, end) = collect(spec).await;
        assert_eq!(out, b"start\n");
        assert!(
            matches!(end, ExecEvent::Exited(ExitOutcome::IdleTimedOut { .. })),
            "{end:?}"
        );

        let mut handle = LocalTransport.exec(&Host::ad_hoc("local"), ExecSpec::new("sleep 30"));
        loop {
            if let Some(ExecEvent::Started { .. }) = handle.events.recv().await {
                break;
            }
        }
        handle.cancel.cancel();
        let mut last = None;
        while let Some(ev) = handle.events.recv().await {
            last = Some(ev);
        }
        assert_eq!(last, Some(ExecEvent::Exited(ExitOutcome::Cancelled)));
    }

    #[tokio::test]
    async fn stdin_env_and_cwd() {
        let mut spec = ExecSpec::new("read line; echo \"$line $GREETING $(pwd) $FLEETDECK_HOST\"");
        spec.stdin = Some(b"secret-value\n".to_vec());
        spec.env = vec![("GREETING".into(), "hello".into())];
        spec.cwd = Some("/tmp".into());
        let (out, _, _) = collect(spec).await;
        assert_eq!(out, b"secret-value hello /tmp local\n");
    }

    #[tokio::test]
    async fn a_background_child_holding_the_pipe_does_not_hang() {
        let (out, _, end) = collect(ExecSpec::new("echo a; sleep 20 & exit 0")).await;
        assert_eq!(out, b"a\n");
        assert_eq!(end, ExecEvent::Exited(ExitOutcome::Code { code: 0 }));
    }
}
