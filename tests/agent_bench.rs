//! Measurement, not a test (ignored; run in release): one console's agent transport to N real
//! `fleetdeck agent` processes on 127.0.0.1 (TLS, pinned certificates, heartbeat 1 s).
//! Prints connect-all time, exec round trips (one at a time and all at once), heartbeats per
//! second sustained, and each agent's RSS and CPU. Nothing is asserted about speed.
//!
//! `AGENTS=200 cargo test --release --test agent_bench -- --ignored --nocapture`

mod support;

use std::time::{Duration, Instant, SystemTime};

use fleetdeck::inventory::Host;
use fleetdeck::transport::agent::{AgentConnection, AgentTransport};
use fleetdeck::transport::{ExecEvent, ExecSpec, ExitOutcome, Transport};
use support::agent::Agent;

/// Upper bound for any one wait (the measurement gives up rather than hang).
const PATIENCE: Duration = Duration::from_secs(120);
/// How long heartbeats and agent CPU are watched.
const WINDOW: Duration = Duration::from_secs(30);

async fn run_true(t: &AgentTransport, host: &Host) -> Duration {
    let start = Instant::now();
    let mut handle = t.exec(host, ExecSpec::new("true"));
    loop {
        let ev = tokio::time::timeout(PATIENCE, handle.events.recv())
            .await
            .expect("an answer in time")
            .expect("a terminal event");
        match ev {
            ExecEvent::Exited(ExitOutcome::Code { code: 0 }) => return start.elapsed(),
            ev if ev.is_terminal() => panic!("{}: {ev:?}", host.name),
            _ => {}
        }
    }
}

/// utime + stime of `pid` in clock ticks, and its RSS in KiB.
fn proc_usage(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields after the name: state is [0], utime [11], stime [12].
    let ticks = fields
        .get(11)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    (ticks, rss)
}

fn agent_pid(a: &Agent) -> u32 {
    a.child.as_ref().map_or(0, std::process::Child::id)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[ignore = "a measurement: run in release with --ignored --nocapture"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_console_to_many_agents() {
    let n: usize = std::env::var("AGENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
        .clamp(1, 500);
    let root = tempfile::tempdir().unwrap();
    let spawned = Instant::now();
    let agents: Vec<Agent> = (0..n)
        .map(|i| {
            Agent::start(
                &root.path().join(format!("agent{i:03}")),
                &format!("agent{i:03}"),
                "",
            )
        })
        .collect();
    println!(
        "{n} agents started one after another in {:.1} s",
        spawned.elapsed().as_secs_f64()
    );
    let hosts: Vec<Host> = agents
        .iter()
        .enumerate()
        .map(|(i, a)| a.host(&format!("agent{i:03}")))
        .collect();
    let t = AgentTransport::new(root.path(), "bench@agent-bench");

    // Connect-all: TLS + upgrade + hello to every agent at once.
    let start = Instant::now();
    for h in &hosts {
        t.watch(h).unwrap();
    }
    for h in &hosts {
        while t.connection(&h.name) != AgentConnection::Connected {
            assert!(
                start.elapsed() < PATIENCE,
                "{}: {:?}",
                h.name,
                t.connection(&h.name)
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    println!("connect-all: {}", ms(start.elapsed()));

    // Exec round trip over the open connections, one host at a time.
    let mut one: Vec<Duration> = Vec::with_capacity(n);
    for h in &hosts {
        one.push(run_true(&t, h).await);
    }
    one.sort();
    println!(
        "exec round trip (`true`, one at a time): median {}, p99 {}, max {}",
        ms(percentile(&one, 0.5)),
        ms(percentile(&one, 0.99)),
        ms(*one.last().unwrap())
    );
    // All at once.
    let start = Instant::now();
    let jobs: Vec<_> = hosts
        .iter()
        .map(|h| {
            let (t, h) = (t.clone(), h.clone());
            tokio::spawn(async move { run_true(&t, &h).await })
        })
        .collect();
    for j in jobs {
        j.await.unwrap();
    }
    println!("exec on all {n} at once: {}", ms(start.elapsed()));

    // Heartbeats sustained, and what the agents cost meanwhile.
    let before: Vec<(u64, u64)> = agents.iter().map(|a| proc_usage(agent_pid(a))).collect();
    let mut me_before = unsafe { std::mem::zeroed::<libc::rusage>() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut me_before) };
    let mut last: Vec<Option<SystemTime>> = vec![None; n];
    let mut beats = 0u64;
    let start = Instant::now();
    while start.elapsed() < WINDOW {
        for (i, h) in hosts.iter().enumerate() {
            if let Some(m) = t.latest_metrics(&h.name)
                && last[i] != Some(m.received)
            {
                if last[i].is_some() {
                    beats += 1;
                }
                last[i] = Some(m.received);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let window = start.elapsed().as_secs_f64();
    let mut me_after = unsafe { std::mem::zeroed::<libc::rusage>() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut me_after) };
    let cpu = |r: &libc::rusage| {
        r.ru_utime.tv_sec as f64
            + r.ru_utime.tv_usec as f64 / 1e6
            + r.ru_stime.tv_sec as f64
            + r.ru_stime.tv_usec as f64 / 1e6
    };
    println!(
        "heartbeats: {:.1}/s sustained over {window:.0} s ({n} agents at 1 s); console side CPU {:.1}%",
        beats as f64 / window,
        (cpu(&me_after) - cpu(&me_before)) / window * 100.0
    );
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let mut cpus: Vec<f64> = Vec::with_capacity(n);
    let mut rss: Vec<u64> = Vec::with_capacity(n);
    for (a, (t0, _)) in agents.iter().zip(&before) {
        let (t1, r) = proc_usage(agent_pid(a));
        cpus.push((t1.saturating_sub(*t0)) as f64 / ticks / window * 100.0);
        rss.push(r);
    }
    cpus.sort_by(f64::total_cmp);
    rss.sort();
    println!(
        "agent CPU with 1 s heartbeats and a console connected: median {:.2}%, max {:.2}%",
        cpus[n / 2],
        cpus[n - 1]
    );
    println!(
        "agent RSS: median {:.1} MiB, max {:.1} MiB",
        rss[n / 2] as f64 / 1024.0,
        rss[n - 1] as f64 / 1024.0
    );
    t.shutdown();
}
