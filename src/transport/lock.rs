//! A host's lock held on the host itself, so consoles on different machines exclude each
//! other. Any transport that runs shell commands gets it through [`via_shell`]: a short POSIX
//! sh script (sent on stdin to `sh -s`) that makes an atomic lock directory; the agent
//! transport answers the same request with native protocol messages instead.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::{ErrorKind, ExecEvent, ExecSpec, ExitOutcome, Transport, TransportError};
use crate::inventory::Host;

/// What a lock call returns.
pub type LockFuture<'a> =
    Pin<Box<dyn Future<Output = Result<LockReply, TransportError>> + Send + 'a>>;

/// Take or release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockOp {
    /// Take the lock for `ttl` (by the host's clock). Taking a lock the same run id holds
    /// renews it.
    Take { ttl: Duration },
    /// Release the lock if the run id holds it; `force` releases it whoever holds it.
    Release { force: bool },
}

/// One lock request for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRequest {
    pub op: LockOp,
    /// The lock's name on the host (the inventory name; made safe by each implementation).
    pub name: String,
    /// `user@machine` of the taker.
    pub owner: String,
    pub run_id: String,
    /// Why (`locks take --reason`), shown to whoever is refused.
    pub reason: Option<String>,
    /// Where lock directories are made on shell hosts (`[locks] remote_dir`).
    pub remote_dir: String,
    pub connect_timeout: Duration,
}

/// Who holds a lock on the host, as the host tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteHolder {
    pub owner: String,
    pub run_id: String,
    pub reason: Option<String>,
    /// Time left by the host's clock (zero: expired).
    pub remaining: Duration,
}

/// The host's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockReply {
    /// The lock is ours (new, renewed, or reclaimed from the expired `reclaimed`).
    Taken { reclaimed: Option<RemoteHolder> },
    /// Someone else holds it (a take or a non-forced release was refused).
    Held(RemoteHolder),
    /// Released: the lock that was removed, `None` when there was none.
    Released(Option<RemoteHolder>),
}

/// Longest a lock script may run on a host (it only makes directories and small files).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Output of the script kept at most.
const MAX_OUTPUT: usize = 16 * 1024;
/// A one-line field (owner, run id, reason) kept at most, in characters.
const MAX_FIELD: usize = 200;

/// Takes or releases the lock by running [`script`] on `host` through `transport.exec`.
pub fn via_shell<'a, T: Transport + ?Sized>(
    transport: &'a T,
    host: &Host,
    req: LockRequest,
) -> LockFuture<'a> {
    let host = host.clone();
    Box::pin(async move {
        let text = script(&req)
            .map_err(|e| TransportError::new(ErrorKind::Io, format!("{}: {e}", host.name)))?;
        let mut spec = ExecSpec::new("sh -s");
        spec.stdin = Some(text.into_bytes());
        spec.connect_timeout = req.connect_timeout;
        spec.timeout = Some(SCRIPT_TIMEOUT);
        let mut handle = transport.exec(&host, spec);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let outcome = loop {
            match handle.events.recv().await {
                Some(ExecEvent::Stdout(b)) if out.len() < MAX_OUTPUT => out.extend_from_slice(&b),
                Some(ExecEvent::Stderr(b)) if err.len() < MAX_OUTPUT => err.extend_from_slice(&b),
                Some(ExecEvent::Exited(o)) => break o,
                Some(ExecEvent::Failed(e)) => return Err(e),
                Some(_) => {}
                None => {
                    return Err(TransportError::new(
                        ErrorKind::Protocol,
                        format!("{}: the lock script ended without an exit", host.name),
                    ));
                }
            }
        };
        let out = String::from_utf8_lossy(&out);
        match (outcome, parse_output(&out)) {
            (ExitOutcome::Code { code: 0 }, Ok(reply)) => Ok(reply),
            (outcome, parsed) => {
                let why = match parsed {
                    Err(e) => e,
                    Ok(_) => format!("the script ended with {outcome:?}"),
                };
                let stderr = String::from_utf8_lossy(&err);
                Err(TransportError::new(
                    ErrorKind::Io,
                    format!(
                        "{}: could not {} the lock in {}: {why}{}{}",
                        host.name,
                        match req.op {
                            LockOp::Take { .. } => "take",
                            LockOp::Release { .. } => "release",
                        },
                        req.remote_dir,
                        if stderr.trim().is_empty() {
                            ""
                        } else {
                            "; stderr: "
                        },
                        stderr.trim()
                    ),
                ))
            }
        }
    })
}

/// The lock directory's file name for `name`: safe characters kept, anything else replaced,
/// with a hash of the original appended when something was replaced (so `web 1` and `web_1`
/// stay two locks).
pub fn safe_name(name: &str) -> String {
    let mut safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if safe.starts_with('.') || safe.is_empty() {
        safe.insert(0, '_');
    }
    if safe != name {
        let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
        let hex: String = digest.as_ref()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        safe.push('-');
        safe.push_str(&hex);
    }
    safe
}

/// One line of text for the owner file: control characters (newlines) replaced, bounded.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(MAX_FIELD)
        .collect()
}

fn quote(text: &str, what: &str) -> Result<String, String> {
    shlex::try_quote(text)
        .map(|q| q.into_owned())
        .map_err(|e| format!("cannot quote the {what} for the shell: {e}"))
}

/// The POSIX sh script for `req`. Its first output line is `FDLOCK <status> <host now>`
/// (status: taken, reclaimed, held, released, none), followed for every status but `none`
/// and a plain `taken` by the four lines of the lock's owner file: expiry (host epoch
/// seconds), run id, owner, reason.
pub fn script(req: &LockRequest) -> Result<String, String> {
    let (op, ttl, force) = match req.op {
        LockOp::Take { ttl } => ("take", ttl.as_secs().max(1), false),
        LockOp::Release { force } => ("release", 0, force),
    };
    let name = safe_name(&req.name);
    Ok(format!(
        "d={dir}\nn={name}\nrun={run}\nowner={owner}\nreason={reason}\nttl={ttl}\nop={op}\nforce={force}\n{BODY}",
        dir = quote(&req.remote_dir, "remote lock folder")?,
        name = quote(&name, "lock name")?,
        run = quote(&one_line(&req.run_id), "run id")?,
        owner = quote(&one_line(&req.owner), "owner")?,
        reason = quote(&one_line(req.reason.as_deref().unwrap_or("")), "reason")?,
        force = u8::from(force),
    ))
}

/// The fixed part of the script. The lock is the directory `$d/$n.lock` (mkdir is atomic);
/// its `owner` file is written under a temporary name and renamed in. An expired lock (or one
/// left ownerless for over a minute by a crash) is reclaimed by renaming it aside while
/// holding `$n.reclaim` (another mkdir lock), so only one reclaimer wins.
const BODY: &str = r#"umask 022
l="$d/$n.lock"; g="$d/$n.reclaim"
mkdir -p -m 1777 "$d" 2>/dev/null
[ -d "$d" ] || { echo "cannot create $d" >&2; exit 3; }
now=$(date +%s)
field() { sed -n "$1p" "$2/owner" 2>/dev/null; }
emit() { echo "FDLOCK $1 $now"; [ -n "${2:-}" ] && cat "$2/owner" 2>/dev/null; return 0; }
write_owner() {
  printf '%s\n%s\n%s\n%s\n' "$((now + ttl))" "$run" "$owner" "$reason" >"$l/owner.$$" &&
    mv -f "$l/owner.$$" "$l/owner"
}
old() { [ -n "$(find "$1" -prune -mmin +1 2>/dev/null)" ]; }
expired() {
  e=$(field 1 "$l")
  case "$e" in
    '' | *[!0-9]*) [ ! -f "$l/owner" ] && old "$l" ;;
    *) [ "$e" -le "$now" ] ;;
  esac
}
reclaim() {
  mkdir "$g" 2>/dev/null || { old "$g" && rmdir "$g" 2>/dev/null && mkdir "$g" 2>/dev/null; } || return 1
  t="$d/.$n.stale.$$"; rm -rf "$t"; r=1
  if expired && before=$(cat "$l/owner" 2>/dev/null; echo x) && mv "$l" "$t" 2>/dev/null; then
    after=$(cat "$t/owner" 2>/dev/null; echo x)
    if [ "$before" = "$after" ] && mkdir "$l" 2>/dev/null; then
      write_owner && { emit reclaimed "$t"; r=0; }
    elif [ "$before" != "$after" ] && [ ! -e "$l" ]; then
      mv "$t" "$l" 2>/dev/null
    fi
  fi
  rm -rf "$t"; rmdir "$g" 2>/dev/null
  return $r
}
case "$op" in
take)
  if mkdir "$l" 2>/dev/null; then write_owner && emit taken && exit 0; rm -rf "$l"; exit 4; fi
  if [ -n "$run" ] && [ "$(field 2 "$l")" = "$run" ]; then write_owner && emit taken && exit 0; exit 4; fi
  if expired; then reclaim && exit 0; fi
  if mkdir "$l" 2>/dev/null; then write_owner && emit taken && exit 0; rm -rf "$l"; exit 4; fi
  emit held "$l" ;;
release)
  if [ ! -d "$l" ]; then emit none; exit 0; fi
  if [ "$force" = 1 ] || { [ -n "$run" ] && [ "$(field 2 "$l")" = "$run" ]; }; then
    t="$d/.$n.gone.$$"; rm -rf "$t"
    if mv "$l" "$t" 2>/dev/null; then
      if [ "$force" = 1 ] || [ "$(field 2 "$t")" = "$run" ]; then emit released "$t"; rm -rf "$t"; exit 0; fi
      [ -e "$l" ] || mv "$t" "$l" 2>/dev/null
    elif [ -d "$l" ]; then echo "cannot remove $l (made by another user?)" >&2; exit 5
    else emit none; exit 0; fi
  fi
  emit held "$l" ;;
esac
"#;

/// Reads the script's output (see [`script`]).
pub fn parse_output(out: &str) -> Result<LockReply, String> {
    let mut lines = out.lines().skip_while(|l| !l.starts_with("FDLOCK "));
    let head = lines
        .next()
        .ok_or_else(|| format!("no answer from the lock script (output: {:?})", trim(out)))?;
    let mut words = head.split_whitespace().skip(1);
    let status = words.next().unwrap_or("");
    let now: i64 = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("the host's clock is unreadable (`date +%s`): {head:?}"))?;
    let rest: Vec<&str> = lines.collect();
    let holder = || -> Option<RemoteHolder> {
        let expires: i64 = rest.first()?.trim().parse().ok()?;
        let reason = rest.get(3).map(|r| r.trim()).filter(|r| !r.is_empty());
        Some(RemoteHolder {
            owner: rest.get(2).map_or("", |s| s.trim()).to_string(),
            run_id: rest.get(1).map_or("", |s| s.trim()).to_string(),
            reason: reason.map(str::to_string),
            remaining: Duration::from_secs(u64::try_from(expires - now).unwrap_or(0)),
        })
    };
    match status {
        "taken" => Ok(LockReply::Taken { reclaimed: None }),
        "reclaimed" => Ok(LockReply::Taken {
            reclaimed: holder(),
        }),
        "released" => Ok(LockReply::Released(holder())),
        "none" => Ok(LockReply::Released(None)),
        // A lock whose owner file is still being written (or lost) has no readable holder.
        "held" => Ok(LockReply::Held(holder().unwrap_or(RemoteHolder {
            owner: "unknown (lock being created)".to_string(),
            run_id: String::new(),
            reason: None,
            remaining: Duration::ZERO,
        }))),
        other => Err(format!("unknown answer {other:?} from the lock script")),
    }
}

fn trim(text: &str) -> String {
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    fn request(dir: &str, name: &str, run: &str, op: LockOp) -> LockRequest {
        LockRequest {
            op,
            name: name.to_string(),
            owner: "alice@laptop".to_string(),
            run_id: run.to_string(),
            reason: Some("disk swap; don't `touch` $(this)".to_string()),
            remote_dir: dir.to_string(),
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// Runs the script with the real /bin/sh, as `sh -s` on a host would.
    fn run(req: &LockRequest) -> LockReply {
        let mut child = Command::new("/bin/sh")
            .arg("-s")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script(req).unwrap().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse_output(&stdout).unwrap()
    }

    const ODD: [&str; 7] = [
        "web01",
        "web 01",
        "db'1\"; touch /tmp/x",
        "$(touch pwned)`id`",
        "line\nbreak",
        "ünï-cødé",
        "../../etc",
    ];

    #[test]
    fn odd_names_stay_one_safe_file_name() {
        let mut seen = std::collections::HashSet::new();
        for name in ODD {
            let safe = safe_name(name);
            assert!(!safe.starts_with('.') && !safe.contains('/'), "{safe}");
            assert!(
                safe.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
                "{safe}"
            );
            assert!(seen.insert(safe), "{name}");
        }
        assert_eq!(safe_name("web01"), "web01");
        assert_ne!(safe_name("web 1"), safe_name("web_1"));
    }

    #[test]
    fn the_script_runs_literally_with_odd_names_and_values() {
        let dir = tempfile::tempdir().unwrap();
        // The folder itself has a space and a quote: quoted too.
        let remote = dir.path().join("lock dir 'x'");
        let remote = remote.to_str().unwrap();
        let ttl = LockOp::Take {
            ttl: Duration::from_secs(600),
        };
        for name in ODD {
            let mine = request(remote, name, "01RUNA", ttl);
            assert_eq!(run(&mine), LockReply::Taken { reclaimed: None }, "{name}");
            assert!(
                std::path::Path::new(remote)
                    .join(format!("{}.lock", safe_name(name)))
                    .join("owner")
                    .is_file(),
                "{name}"
            );
            let mut theirs = request(remote, name, "01RUNB", ttl);
            theirs.owner = "bob@desk $(id)".to_string();
            let LockReply::Held(holder) = run(&theirs) else {
                panic!("{name}: a second run took a held lock");
            };
            assert_eq!(holder.owner, "alice@laptop");
            assert_eq!(holder.run_id, "01RUNA");
            assert_eq!(
                holder.reason.as_deref(),
                Some("disk swap; don't `touch` $(this)")
            );
            assert!(holder.remaining > Duration::from_secs(500), "{holder:?}");
            // The same run renews it.
            assert_eq!(run(&mine), LockReply::Taken { reclaimed: None });
            let refused = request(remote, name, "01RUNB", LockOp::Release { force: false });
            assert!(matches!(run(&refused), LockReply::Held(_)), "{name}");
            let release = request(remote, name, "01RUNA", LockOp::Release { force: false });
            assert!(
                matches!(run(&release), LockReply::Released(Some(_))),
                "{name}"
            );
            assert_eq!(run(&release), LockReply::Released(None));
        }
        assert!(!std::path::Path::new("pwned").exists());
    }

    #[test]
    fn an_expired_lock_is_reclaimed_and_force_release_takes_any() {
        let dir = tempfile::tempdir().unwrap();
        let remote = dir.path().to_str().unwrap();
        let take = |run: &str, secs| {
            request(
                remote,
                "web01",
                run,
                LockOp::Take {
                    ttl: Duration::from_secs(secs),
                },
            )
        };
        assert_eq!(run(&take("A", 1)), LockReply::Taken { reclaimed: None });
        // Expired by the host's clock: rewrite the expiry into the past rather than sleep.
        let owner = dir.path().join("web01.lock/owner");
        let text = std::fs::read_to_string(&owner).unwrap();
        let rest: Vec<&str> = text.lines().skip(1).collect();
        std::fs::write(&owner, format!("1\n{}\n", rest.join("\n"))).unwrap();
        let LockReply::Taken {
            reclaimed: Some(old),
        } = run(&take("B", 600))
        else {
            panic!("expired lock not reclaimed");
        };
        assert_eq!((old.run_id.as_str(), old.remaining), ("A", Duration::ZERO));
        assert!(matches!(run(&take("C", 600)), LockReply::Held(h) if h.run_id == "B"));
        let force = request(remote, "web01", "C", LockOp::Release { force: true });
        assert!(matches!(run(&force), LockReply::Released(Some(h)) if h.run_id == "B"));
        assert_eq!(run(&take("C", 600)), LockReply::Taken { reclaimed: None });
        // A lock whose owner file is not written yet is nobody's to release without --force.
        std::fs::create_dir(dir.path().join("web02.lock")).unwrap();
        let anyone = request(remote, "web02", "", LockOp::Release { force: false });
        assert!(
            matches!(run(&anyone), LockReply::Held(h) if h.owner.starts_with("unknown")),
            "an ownerless lock was released"
        );
        let t2 = request(
            remote,
            "web02",
            "D",
            LockOp::Take {
                ttl: Duration::from_secs(60),
            },
        );
        assert!(
            matches!(run(&t2), LockReply::Held(_)),
            "a fresh ownerless lock was taken"
        );
        std::fs::remove_dir(dir.path().join("web02.lock")).unwrap();
        // Nothing left aside.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["web01.lock".to_string()]);
    }

    #[test]
    fn concurrent_reclaimers_of_an_expired_lock_have_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        let remote = dir.path().to_str().unwrap().to_string();
        let take = |run: &str| {
            request(
                &remote,
                "web01",
                run,
                LockOp::Take {
                    ttl: Duration::from_secs(600),
                },
            )
        };
        for round in 0..3 {
            let old = format!("old{round}");
            run(&take(&old));
            let owner = dir.path().join("web01.lock/owner");
            let text = std::fs::read_to_string(&owner).unwrap();
            let rest: Vec<&str> = text.lines().skip(1).collect();
            std::fs::write(&owner, format!("1\n{}\n", rest.join("\n"))).unwrap();
            let replies: Vec<LockReply> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..6)
                    .map(|i| {
                        let req = take(&format!("r{round}-{i}"));
                        s.spawn(move || run(&req))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let winners = replies
                .iter()
                .filter(|r| matches!(r, LockReply::Taken { .. }))
                .count();
            assert_eq!(winners, 1, "round {round}: {replies:?}");
            let force = request(&remote, "web01", "x", LockOp::Release { force: true });
            assert!(matches!(run(&force), LockReply::Released(Some(_))));
        }
    }

    #[test]
    fn unparsable_output_is_an_error_naming_it() {
        assert!(parse_output("sh: date: not found\n").is_err());
        assert!(parse_output("FDLOCK taken x\n").is_err());
        assert!(parse_output("FDLOCK bogus 12\n").is_err());
        assert_eq!(
            parse_output("motd\nFDLOCK none 12\n").unwrap(),
            LockReply::Released(None)
        );
    }
}
