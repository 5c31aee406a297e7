//! `fleetdeck locks`: list this console's host locks, take hosts for manual work (locally and
//! on each host, all or nothing), release them, or break anyone's with `--force` (audited).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;

use super::hosts::resolve_targets;
use super::prompt::read_passphrase;
use crate::cli::{LockReachArgs, LockReleaseArgs, LockTakeArgs, LocksArgs, LocksCommand};
use crate::config::current_user;
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::launch::{self, SshFlags};
use crate::engine::locks::{LockError, LockHolder, LockManager, Released};
use crate::engine::{AuditRecord, Records, Transports, new_run_id};
use crate::inventory::{Host, load};
use crate::transport::ErrorKind;
use crate::transport::ssh::{PassphraseFn, SshTransport};
use crate::ui::printers::{table, write_stdout};

pub fn run(home: &Home, settings: &Settings, args: &LocksArgs) -> Result<ExitCode, Error> {
    let manager = LockManager::new(home, &settings.locks, current_user());
    match &args.command {
        None => list(&manager, args.json),
        Some(LocksCommand::Take(take_args)) => take(home, settings, manager, take_args),
        Some(LocksCommand::Release(release_args)) => release(home, settings, manager, release_args),
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

/// The hosts, their transports and the connect timeout: all checked before anything is done.
struct Reach {
    hosts: Vec<Host>,
    transports: Transports,
    ssh: Option<SshTransport>,
    connect_timeout: Duration,
    fanout: usize,
}

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
    let flags = SshFlags {
        ssh_config: args.ssh_config.clone(),
        known_hosts: args.known_hosts.clone(),
        accept_new: args.accept_new,
    };
    // As `run`: a passphrase is asked for only when someone is at the terminal.
    let passphrase: Option<PassphraseFn> = std::io::stdin().is_terminal().then(|| {
        let ask: PassphraseFn = Arc::new(|key: &std::path::Path| read_passphrase(key));
        ask
    });
    let (transports, ssh) = launch::transports(&hosts, home, settings, &flags, passphrase)?;
    Ok(Reach {
        hosts,
        transports,
        ssh,
        connect_timeout,
        fanout: settings.run.fanout.max(1) as usize,
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))
}

fn no_transport(host: &Host) -> LockError {
    LockError::new(
        ErrorKind::Io,
        format!(
            "{}: no {:?} transport is set up for this host",
            host.name, host.transport
        ),
    )
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
    let manager = Arc::new(manager);
    let reason = args.reason.clone();
    let runtime = runtime()?;
    let (taken, failed) = runtime.block_on(async {
        let results: Vec<Result<_, LockError>> = stream::iter(reach.hosts.iter())
            .map(|host| {
                let manager = Arc::clone(&manager);
                let transport = reach.transports.get(host.transport);
                let (run_id, reason) = (run_id.clone(), reason.clone());
                async move {
                    let transport = transport.ok_or_else(|| no_transport(host))?;
                    manager
                        .acquire_with(host, transport, &run_id, ttl, reach.connect_timeout, reason)
                        .await
                }
            })
            .buffered(reach.fanout)
            .collect()
            .await;
        let mut taken = Vec::new();
        let mut failed = Vec::new();
        for r in results {
            match r {
                Ok(lock) => taken.push(lock),
                Err(e) => failed.push(e),
            }
        }
        // All or nothing: a partly locked set is not what was asked for.
        let mut kept = Vec::new();
        if failed.is_empty() {
            kept = taken.into_iter().map(|l| l.keep()).collect();
        } else {
            for lock in taken {
                let host = lock.holder().host.clone();
                if let Err(e) = lock.release().await {
                    eprintln!("fleetdeck: {host}: could not give the lock back: {e}");
                }
            }
        }
        if let Some(ssh) = &reach.ssh {
            ssh.shutdown().await;
        }
        (kept, failed)
    });
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

fn release(
    home: &Home,
    settings: &Settings,
    manager: LockManager,
    args: &LockReleaseArgs,
) -> Result<ExitCode, Error> {
    let reach = reach(home, settings, &args.reach)?;
    let force = args.force;
    let manager = Arc::new(manager);
    let runtime = runtime()?;
    let results: Vec<(Host, Result<Released, LockError>)> = runtime.block_on(async {
        let results = stream::iter(reach.hosts.iter())
            .map(|host| {
                let manager = Arc::clone(&manager);
                let transport = reach.transports.get(host.transport);
                async move {
                    let result = match transport {
                        Some(t) => {
                            manager
                                .release_host(host, t, force, reach.connect_timeout)
                                .await
                        }
                        None => Err(no_transport(host)),
                    };
                    (host.clone(), result)
                }
            })
            .buffered(reach.fanout)
            .collect()
            .await;
        if let Some(ssh) = &reach.ssh {
            ssh.shutdown().await;
        }
        results
    });
    let records = Records::new(home, &settings.store);
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
        if force {
            audit_force(&records, manager.owner(), &host.name, result);
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

/// One audit line per forced release: who broke whose lock, and how it went.
fn audit_force(records: &Records, who: &str, host: &str, result: &Result<Released, LockError>) {
    let previous = match result {
        Ok(r) => r.remote.as_ref().or(r.local.as_ref()).cloned(),
        Err(e) => e.holder.as_deref().cloned(),
    };
    let outcome = match result {
        Ok(_) if previous.is_some() => "ok".to_string(),
        Ok(_) => "none".to_string(),
        Err(e) => format!("failed: {}", e.message),
    };
    let record = AuditRecord::force_unlock(who, host, previous.as_ref(), &outcome);
    if let Err(e) = records.append_audit(&record) {
        eprintln!("fleetdeck: warning: the forced release on {host} was not audited: {e}");
    }
}
