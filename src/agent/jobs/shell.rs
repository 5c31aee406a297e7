//! `shell_command`: a program in its own process group, output streamed in chunks, timeouts,
//! cancel (TERM to the group, KILL after a grace), exit status and resource use from wait4.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::time::sleep_until;
use tokio_util::sync::CancellationToken;

use super::Reporter;
use super::checks::elapsed_ms;
use crate::config::units::format_size;
use crate::protocol::{ErrorCode, ExitOutcome, MAX_OUTPUT_CHUNK, Message, Stream, Usage};
use crate::transport;
use crate::transport::local::{exit_outcome, piped_in_own_group, signal_group};

/// A command the policy has already resolved and allowed.
#[derive(Debug, Clone)]
pub struct ShellSpec {
    /// The resolved absolute program (what runs: no PATH lookup at exec time).
    pub program: PathBuf,
    /// argv[0] as the console wrote it.
    pub arg0: String,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    pub stdin: Option<Vec<u8>>,
    pub timeout: Duration,
    pub idle_timeout: Option<Duration>,
    pub output_cap: u64,
    pub kill_grace: Duration,
}

/// After the leader exits, how long to keep reading output its descendants may still write.
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(500);

/// What wait4 said about the process group leader.
struct Reaped {
    status: Option<std::process::ExitStatus>,
    usage: Option<Usage>,
}

/// Runs the job to its end and reports it.
pub async fn run(spec: ShellSpec, reporter: Reporter, cancel: CancellationToken) {
    let started = Instant::now();
    let mut cmd = std::process::Command::new(&spec.program);
    cmd.arg0(&spec.arg0)
        .args(&spec.args)
        .current_dir(&spec.cwd)
        .envs(spec.env.iter().map(|(k, v)| (k, v)));
    // Its own process group, so cancel and timeouts reach every descendant.
    piped_in_own_group(&mut cmd, spec.stdin.is_some());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            reporter
                .error(
                    ErrorCode::Failed,
                    format!("cannot start {}: {e}", spec.program.display()),
                )
                .await;
            return;
        }
    };
    let pid = child.id();
    let (stdout, stderr) = match (take_stdout(&mut child), take_stderr(&mut child)) {
        (Ok(o), Ok(e)) => (o, e),
        (Err(e), _) | (_, Err(e)) => {
            signal_group(pid, libc::SIGKILL);
            reap_blocking(pid).await;
            reporter
                .error(
                    ErrorCode::Failed,
                    format!("cannot read the command's output: {e}"),
                )
                .await;
            return;
        }
    };
    if let (Some(bytes), Some(stdin)) = (spec.stdin.clone(), child.stdin.take()) {
        // A command that never reads its stdin must not stall the job: write from a task.
        tokio::spawn(async move {
            if let Ok(mut w) = tokio::process::ChildStdin::from_std(stdin) {
                let _ = w.write_all(&bytes).await;
                let _ = w.shutdown().await;
            }
        });
    }
    // The std Child is never waited on: wait4 below reaps the leader (with its rusage).
    drop(child);
    if !reporter
        .send(Message::Started {
            id: reporter.id.clone(),
            pid: Some(pid),
        })
        .await
    {
        signal_group(pid, libc::SIGKILL);
        reap_blocking(pid).await;
        return;
    }

    let mut run = Running {
        reporter: &reporter,
        pid,
        kept: 0,
        dropped: 0,
        cap: spec.output_cap,
        gone: false,
    };
    let reaped = run.supervise(&spec, stdout, stderr, &cancel, started).await;
    let (outcome, usage) = reaped;
    if run.dropped > 0 {
        let note = format!(
            "\n[fleetdeck agent: {} bytes of output dropped over the {} output cap]\n",
            run.dropped,
            format_size(spec.output_cap)
        );
        reporter.output(Stream::Stderr, note.as_bytes()).await;
    }
    reporter
        .send(Message::Exit {
            id: reporter.id.clone(),
            outcome,
            duration_ms: elapsed_ms(started),
            usage,
            checks: Vec::new(),
        })
        .await;
}

fn take_stdout(child: &mut std::process::Child) -> std::io::Result<tokio::process::ChildStdout> {
    let pipe = child
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("no stdout pipe"))?;
    tokio::process::ChildStdout::from_std(pipe)
}

fn take_stderr(child: &mut std::process::Child) -> std::io::Result<tokio::process::ChildStderr> {
    let pipe = child
        .stderr
        .take()
        .ok_or_else(|| std::io::Error::other("no stderr pipe"))?;
    tokio::process::ChildStderr::from_std(pipe)
}

struct Running<'a> {
    reporter: &'a Reporter,
    pid: u32,
    kept: u64,
    dropped: u64,
    cap: u64,
    /// The connection went away: output is no longer sent.
    gone: bool,
}

impl Running<'_> {
    /// Streams output and enforces timeouts and cancel until the leader is reaped and its
    /// pipes are drained (or the drain window after its exit closes).
    async fn supervise(
        &mut self,
        spec: &ShellSpec,
        mut stdout: impl AsyncRead + Unpin,
        mut stderr: impl AsyncRead + Unpin,
        cancel: &CancellationToken,
        started: Instant,
    ) -> (ExitOutcome, Option<Usage>) {
        let pid = self.pid;
        let mut wait = tokio::task::spawn_blocking(move || reap(pid));
        let deadline = tokio::time::Instant::from_std(started + spec.timeout);
        let mut idle_at = spec.idle_timeout.map(|d| tokio::time::Instant::now() + d);
        let far = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
        let mut out_buf = vec![0u8; MAX_OUTPUT_CHUNK];
        let mut err_buf = vec![0u8; MAX_OUTPUT_CHUNK];
        let (mut out_open, mut err_open) = (true, true);
        let mut reaped: Option<Reaped> = None;
        let mut drain_until = far;
        let mut killed: Option<ExitOutcome> = None;
        let mut kill_at: Option<tokio::time::Instant> = None;

        loop {
            if reaped.is_some() && !out_open && !err_open {
                break;
            }
            tokio::select! {
                r = stdout.read(&mut out_buf), if out_open => match r {
                    Ok(0) | Err(_) => out_open = false,
                    Ok(n) => {
                        idle_at = spec.idle_timeout.map(|d| tokio::time::Instant::now() + d);
                        self.emit(Stream::Stdout, &out_buf[..n]).await;
                    }
                },
                r = stderr.read(&mut err_buf), if err_open => match r {
                    Ok(0) | Err(_) => err_open = false,
                    Ok(n) => {
                        idle_at = spec.idle_timeout.map(|d| tokio::time::Instant::now() + d);
                        self.emit(Stream::Stderr, &err_buf[..n]).await;
                    }
                },
                r = &mut wait, if reaped.is_none() => {
                    reaped = Some(r.unwrap_or(Reaped { status: None, usage: None }));
                    drain_until = tokio::time::Instant::now() + DRAIN_AFTER_EXIT;
                    if killed.is_some() {
                        // Descendants that outlived a TERMed leader go now.
                        signal_group(pid, libc::SIGKILL);
                    }
                },
                () = sleep_until(drain_until), if reaped.is_some() => break,
                () = sleep_until(deadline), if killed.is_none() && reaped.is_none() => {
                    killed = Some(ExitOutcome::TimedOut { after_ms: millis(spec.timeout) });
                    kill_at = Some(self.terminate(spec.kill_grace));
                },
                () = sleep_until(idle_at.unwrap_or(far)), if killed.is_none() && reaped.is_none() && idle_at.is_some() => {
                    let after = spec.idle_timeout.unwrap_or_default();
                    killed = Some(ExitOutcome::IdleTimedOut { after_ms: millis(after) });
                    kill_at = Some(self.terminate(spec.kill_grace));
                },
                () = cancel.cancelled(), if killed.is_none() && reaped.is_none() => {
                    killed = Some(ExitOutcome::Cancelled);
                    kill_at = Some(self.terminate(spec.kill_grace));
                },
                () = sleep_until(kill_at.unwrap_or(far)), if kill_at.is_some() && reaped.is_none() => {
                    signal_group(pid, libc::SIGKILL);
                    kill_at = None;
                },
            }
            if self.gone && killed.is_none() && reaped.is_none() {
                // Nobody is listening any more: stop the command.
                killed = Some(ExitOutcome::Cancelled);
                kill_at = Some(self.terminate(spec.kill_grace));
            }
        }
        let reaped = reaped.unwrap_or(Reaped {
            status: None,
            usage: None,
        });
        let outcome = killed.unwrap_or_else(|| exit_outcome(reaped.status).into());
        (outcome, reaped.usage)
    }

    /// SIGTERM to the group; returns when SIGKILL is due.
    fn terminate(&self, grace: Duration) -> tokio::time::Instant {
        signal_group(self.pid, libc::SIGTERM);
        tokio::time::Instant::now() + grace
    }

    /// Sends output up to the job's cap and counts the rest as dropped.
    async fn emit(&mut self, stream: Stream, bytes: &[u8]) {
        let room = self.cap.saturating_sub(self.kept);
        let take = bytes.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        self.dropped += (bytes.len() - take) as u64;
        self.kept += take as u64;
        if take > 0 && !self.gone && !self.reporter.output(stream, &bytes[..take]).await {
            self.gone = true;
        }
    }
}

/// A process's end as the local transport reads it (shared wait-status decoding), in the
/// wire's words.
impl From<transport::ExitOutcome> for ExitOutcome {
    fn from(o: transport::ExitOutcome) -> ExitOutcome {
        match o {
            transport::ExitOutcome::Code { code } => ExitOutcome::Code { code },
            transport::ExitOutcome::Signal { signal } => ExitOutcome::Signal { signal },
            transport::ExitOutcome::NoStatus => ExitOutcome::NoStatus,
            transport::ExitOutcome::TimedOut { after_ms } => ExitOutcome::TimedOut { after_ms },
            transport::ExitOutcome::IdleTimedOut { after_ms } => {
                ExitOutcome::IdleTimedOut { after_ms }
            }
            transport::ExitOutcome::Cancelled => ExitOutcome::Cancelled,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

async fn reap_blocking(pid: u32) {
    let _ = tokio::task::spawn_blocking(move || reap(pid)).await;
}

/// Waits for the leader with wait4, for its status and resource use.
fn reap(pid: u32) -> Reaped {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return Reaped {
            status: None,
            usage: None,
        };
    };
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, zero is a valid value; wait4 fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own child; status and ru point to valid, writable memory.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if rc == pid {
            break;
        }
        if rc == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return Reaped {
            status: None,
            usage: None,
        };
    }
    let ms = |tv: libc::timeval| {
        u64::try_from(tv.tv_sec).unwrap_or(0) * 1000 + u64::try_from(tv.tv_usec).unwrap_or(0) / 1000
    };
    Reaped {
        status: Some(std::process::ExitStatus::from_raw(status)),
        usage: Some(Usage {
            user_ms: ms(ru.ru_utime),
            sys_ms: ms(ru.ru_stime),
            // Linux reports ru_maxrss in kilobytes.
            max_rss_kb: u64::try_from(ru.ru_maxrss).unwrap_or(0),
        }),
    }
}
