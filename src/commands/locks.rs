//! `fleetdeck locks`: list this console's host locks, take hosts for manual work (locally and
//! on each host, all or nothing), release them, or break anyone's with `--force` (audited).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use super::hosts::resolve_targets;
use super::prompt::read_passphrase;
use crate::cli::{LockReachArgs, LockReleaseArgs, LockTakeArgs, LocksArgs, LocksCommand};
use crate::config::{Home, Settings, current_user};
use crate::diag::Error;
use crate::engine::launch::SshFlags;
use crate::engine::locks::{LockError, LockHolder, LockManager, Released};
use crate::engine::session::LockReach;
use crate::engine::session::passphrase::Passphrases;
use crate::engine::{FleetSession, PassphraseFn, SessionOptions, new_run_id};
use crate::inventory::{Host, load};
use crate::ui::printers::{table, write_stdout};

pub fn run(home: &Home, settings: &Settings, args: &LocksArgs) -> Result<ExitCode, Error> {
    let manager = LockManager::new(home, &settings.locks, current_user());
    match &args.command {
        None => list(&manager, args.json),
        Some(LocksCommand::Take(take_args)) => take(home, settings, manager, take_args),
        Some(LocksCommand::Release(release_args)) => release(home, settings, release_args),
    }
}

fn list(manager: &LockManager, json: bool) -> Result<ExitCode, Error> {
    let locks = manager
        .list()
        .map_err(|e| Error::Invalid(e.message.clone()))?;
    let mut out = String::new();
    if json {
        for lock in &locks {
            let value = match lock {
                Ok(h) => {
                    let mut v = serde_json::to_value(h).unwrap_or_default();
                    if let Some(map) = v.as_object_mut() {
                        map.insert("expired".into(), h.is_expired().into());
                    }
                    v
                }
                Err(why) => serde_json::json!({ "error": why }),
            };
            out.push_str(&value.to_string());
            out.push('\n');
        }
    } else if locks.is_empty() {
        out = format!("no host locks in {}\n", manager.folder().display());
    } else {
        let rows: Vec<Vec<String>> = locks
            .iter()
            .map(|lock| match lock {
                Ok(h) => vec![
                    h.host.clone(),
                    h.owner.clone(),
                    h.run_id.clone(),
                    h.expires.clone(),
                    if h.is_expired() { "expired" } else { "held" }.to_string(),
                    h.reason.clone().unwrap_or_default(),
                ],
                Err(why) => vec![
                    "?".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    "unreadable".into(),
                    why.clone(),
                ],
            })
            .collect();
        out = table(
            &["HOST", "OWNER", "RUN", "EXPIRES", "STATE", "REASON"],
            &rows,
        );
    }
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The hosts, a session over them and how to reach them: all checked before anything is done.
struct Reach {
    hosts: Vec<Host>,
    runtime: tokio::runtime::Runtime,
    session: FleetSession,
    reach: LockReach,
}

/// How long the end waits for the SSH servers' goodbyes.
const GOODBYE_GRACE: Duration = Duration::from_secs(5);

fn reach(home: &Home, settings: &Settings, args: &LockReachArgs) -> Result<Reach, Error> {
    let inventory = load::load(&home.hosts_file()).map_err(Error::Config)?;
    let hosts = resolve_targets(&inventory, &args.targets)?;
    if hosts.is_empty() {
        return Err(Error::Invalid(format!(
            "no hosts matched `{}`; nothing was locked or released",
            args.targets.join(" -t ")
        )));
    }
    let connect_timeout = args
        .connect_timeout
        .unwrap_or(settings.run.connect_timeout.0);
    if connect_timeout.is_zero() {
        return Err(Error::Invalid(
            "the connect timeout must be more than 0s".to_string(),
        ));
    }
    for file in &args.known_hosts {
        if !file.is_file() {
            return Err(Error::Invalid(format!(
                "--known-hosts {}: no such file",
                file.display()
            )));
        }
    }
    // As `run`: a passphrase is asked for only when someone is at the terminal.
    let passphrases = if std::io::stdin().is_terminal() {
        let ask: PassphraseFn = Arc::new(|key: &std::path::Path| read_passphrase(key));
        Passphrases::Callback(ask)
    } else {
        Passphrases::Never
    };
    let options = SessionOptions {
        ssh: SshFlags {
            ssh_config: args.ssh_config.clone(),
            known_hosts: args.known_hosts.clone(),
            accept_new: args.accept_new,
        },
        passphrases,
        ..SessionOptions::new(hosts.clone())
    };
    let runtime = runtime()?;
    let session = {
        let _entered = runtime.enter();
        FleetSession::open(home, settings, options)?
    };
    Ok(Reach {
        hosts,
        runtime,
        session,
        reach: LockReach {
            connect_timeout,
            fanout: settings.run.fanout.max(1) as usize,
        },
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))
}

/// 1 if any host refused or failed, else 3 if any was unreachable, else 0.
fn exit_code(errors: &[&LockError]) -> ExitCode {
    if errors.iter().any(|e| !e.kind.is_unreachable()) {
        ExitCode::from(1)
    } else if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}

fn take(
    home: &Home,
    settings: &Settings,
    manager: LockManager,
    args: &LockTakeArgs,
) -> Result<ExitCode, Error> {
    let ttl = args.ttl.unwrap_or_else(|| manager.default_ttl());
    if ttl.is_zero() {
        return Err(Error::Invalid("--ttl must be more than 0s".to_string()));
    }
    let reach = reach(home, settings, &args.reach)?;
    if let Err(e) = home.ensure_writable_dirs() {
        return Err(Error::Invalid(format!(
            "cannot keep locks in this home: {e}"
        )));
    }
    let run_id = new_run_id();
    let Reach {
        hosts,
        runtime,
        session,
        reach,
    } = reach;
    let taken = runtime.block_on(async {
        let taken = session
            .take_locks(&hosts, &run_id, ttl, args.reason.clone(), reach)
            .await;
        session.shutdown(GOODBYE_GRACE).await;
        taken
    });
    for e in &taken.not_given_back {
        eprintln!("fleetdeck: {}", e.message);
    }
    let (taken, failed) = (taken.kept, taken.failed);
    for e in &failed {
        eprintln!("fleetdeck: {}", e.message);
    }
    if failed.is_empty() {
        let mut out = String::new();
        for h in &taken {
            out.push_str(&format!("{}: locked until {}\n", h.host, h.expires));
        }
        out.push_str(&format!(
            "locked {} host(s) as {} (run {run_id}); `fleetdeck locks release -t SELECTOR` gives them back\n",
            taken.len(),
            manager.owner()
        ));
        write_stdout(&out)?;
    } else {
        eprintln!("fleetdeck: nothing was locked (all or nothing)");
    }
    Ok(exit_code(&failed.iter().collect::<Vec<_>>()))
}

fn release(home: &Home, settings: &Settings, args: &LockReleaseArgs) -> Result<ExitCode, Error> {
    let Reach {
        hosts,
        runtime,
        session,
        reach,
    } = reach(home, settings, &args.reach)?;
    let force = args.force;
    // Forced releases are audited by the session, one line per host.
    let results = runtime.block_on(async {
        let results = session.release_locks(&hosts, force, reach).await;
        session.shutdown(GOODBYE_GRACE).await;
        results
    });
    let mut out = String::new();
    let mut errors = Vec::new();
    for (host, result) in &results {
        match result {
            Ok(r) => out.push_str(&released_line(&host.name, r)),
            Err(e) => {
                eprintln!("fleetdeck: {}", e.message);
                errors.push(e);
            }
        }
    }
    write_stdout(&out)?;
    Ok(exit_code(&errors))
}

fn released_line(host: &str, r: &Released) -> String {
    let by = |h: &LockHolder| format!("{} (run {})", h.owner, h.run_id);
    match (&r.remote, &r.local, &r.remote_kept) {
        (_, _, Some(kept)) => format!(
            "{host}: released here; the host's lock had expired and now belongs to {}\n",
            by(kept)
        ),
        (Some(h), _, _) | (None, Some(h), _) => format!("{host}: released the lock of {}\n", by(h)),
        (None, None, None) => format!("{host}: no lock\n"),
    }
}
