//! One fresh sample of some hosts, now (`fleetdeck metrics`, and selectors with metric terms
//! on the CLI): SSH hosts probed twice about a second apart (CPU needs two readings),
//! exporters scraped twice likewise, agent hosts contacted for their next heartbeat. Every
//! host is sampled side by side with its own timeout; one that cannot be sampled says why.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::plan::{Plan, plan_for};
use super::probe_run::probe;
use crate::config::MetricsSettings;
use crate::inventory::Host;
use crate::metrics::{ExporterSampler, HostSample, Sample, Source, sample_between};
use crate::transport::Transport;
use crate::transport::agent::AgentTransport;

/// Between the two readings a CPU figure is computed from.
pub const READINGS_APART: Duration = Duration::from_secs(1);
/// Probes or scrapes in flight at once.
const AT_ONCE: usize = 64;
/// One probe or scrape at most.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an agent's heartbeat is waited for (a link up, then one heartbeat interval).
const AGENT_WAIT: Duration = Duration::from_secs(15);

/// One host's result.
#[derive(Debug, Clone, PartialEq)]
pub struct HostReport {
    pub host: String,
    /// The source asked (or that would have been: `None` when nothing samples the host).
    pub source: Option<Source>,
    pub result: Result<Sample, String>,
}

/// What `sample_now` may use.
pub struct SampleWith<'a> {
    pub settings: &'a MetricsSettings,
    pub connect_timeout: Duration,
    /// The SSH transport (`Err`: why there is none, e.g. an ssh config that does not parse).
    pub ssh: Result<Arc<dyn Transport>, String>,
    /// The agent transport (`Err`: why there is none).
    pub agent: Result<AgentTransport, String>,
    /// The node_exporter client (`Err`: why there is none).
    pub exporters: Result<Arc<ExporterSampler>, String>,
}

/// Samples `hosts` now; results in the order of `hosts`.
pub async fn sample_now(hosts: &[Host], with: SampleWith<'_>) -> Vec<HostReport> {
    let mut agent_hosts = Vec::new();
    let mut reports: HashMap<String, HostReport> = HashMap::new();
    let mut reads = JoinSet::new();
    let permits = Arc::new(Semaphore::new(AT_ONCE));
    for host in hosts {
        match plan_for(host, with.settings) {
            Plan::None(why) => {
                reports.insert(
                    host.name.clone(),
                    report(host, None, Err(format!("no metrics: {why}"))),
                );
            }
            Plan::Agent => agent_hosts.push(host.clone()),
            Plan::SshProbe => match &with.ssh {
                Ok(ssh) => {
                    let (ssh, host, permits) =
                        (Arc::clone(ssh), host.clone(), Arc::clone(&permits));
                    let connect = with.connect_timeout;
                    reads.spawn(async move {
                        let result = ssh_twice(ssh.as_ref(), &host, connect, &permits).await;
                        report(
                            &host,
                            Some(Source::Ssh),
                            result.map(|s| to_sample(Source::Ssh, &s)),
                        )
                    });
                }
                Err(why) => {
                    reports.insert(
                        host.name.clone(),
                        report(host, Some(Source::Ssh), Err(why.clone())),
                    );
                }
            },
            Plan::Exporter(url) => match &with.exporters {
                Ok(sampler) => {
                    let (sampler, host, permits) =
                        (Arc::clone(sampler), host.clone(), Arc::clone(&permits));
                    reads.spawn(async move {
                        let result = scrape_twice(&sampler, &url, &permits).await;
                        report(&host, Some(Source::NodeExporter), result)
                    });
                }
                Err(why) => {
                    reports.insert(
                        host.name.clone(),
                        report(host, Some(Source::NodeExporter), Err(why.clone())),
                    );
                }
            },
        }
    }
    let agents = async {
        match &with.agent {
            Ok(agent) => from_agents(agent, &agent_hosts).await,
            Err(why) => agent_hosts
                .iter()
                .map(|h| report(h, Some(Source::Agent), Err(why.clone())))
                .collect(),
        }
    };
    let others = async {
        let mut out = Vec::new();
        while let Some(joined) = reads.join_next().await {
            if let Ok(r) = joined {
                out.push(r);
            }
        }
        out
    };
    let (from_agents, from_others) = tokio::join!(agents, others);
    for r in from_agents.into_iter().chain(from_others) {
        reports.insert(r.host.clone(), r);
    }
    hosts
        .iter()
        .map(|h| {
            reports
                .remove(&h.name)
                .unwrap_or_else(|| report(h, None, Err("not sampled".into())))
        })
        .collect()
}

fn report(host: &Host, source: Option<Source>, result: Result<Sample, String>) -> HostReport {
    HostReport {
        host: host.name.clone(),
        source,
        result,
    }
}

/// Two probes `READINGS_APART`; the sample between them.
async fn ssh_twice(
    ssh: &dyn Transport,
    host: &Host,
    connect: Duration,
    permits: &Semaphore,
) -> Result<HostSample, String> {
    let read = async || {
        let _p = permits.acquire().await;
        probe(ssh, host, connect, READ_TIMEOUT)
            .await
            .map_err(|f| f.reason())
    };
    let first = read().await?;
    let at = Instant::now();
    tokio::time::sleep(READINGS_APART).await;
    let second = read().await?;
    Ok(sample_between(&first, &second, at.elapsed()))
}

/// Two scrapes `READINGS_APART`; the second's sample (rates over the interval between them).
async fn scrape_twice(
    sampler: &ExporterSampler,
    url: &str,
    permits: &Semaphore,
) -> Result<Sample, String> {
    let read = async || {
        let _p = permits.acquire().await;
        sampler
            .sample(url)
            .await
            .map_err(|e| format!("node_exporter {url}: {e}"))
    };
    // The sampler keeps each URL's previous reading; a fresh one for this call's pair.
    sampler.forget(url);
    read().await?;
    tokio::time::sleep(READINGS_APART).await;
    read().await
}

fn to_sample(source: Source, s: &HostSample) -> Sample {
    Sample::from_rates(source, SystemTime::now(), s)
}

/// Each agent host's next heartbeat (or the one already received), waited for together.
async fn from_agents(agent: &AgentTransport, hosts: &[Host]) -> Vec<HostReport> {
    if hosts.is_empty() {
        return Vec::new();
    }
    let mut beats = agent.subscribe_heartbeats();
    let mut got: HashMap<String, Sample> = HashMap::new();
    let mut failed: HashMap<String, String> = HashMap::new();
    for host in hosts {
        if let Err(e) = agent.watch(host) {
            failed.insert(host.name.clone(), e.message);
        }
    }
    // A set: a thousand agents' heartbeats each looked up in a list would be quadratic.
    let wanted: HashSet<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    let deadline = tokio::time::Instant::now() + AGENT_WAIT;
    while got.len() + failed.len() < hosts.len() {
        match tokio::time::timeout_at(deadline, beats.recv()).await {
            Ok(Some(beat))
                if wanted.contains(beat.host.as_str()) && !failed.contains_key(&beat.host) =>
            {
                let m = &beat.metrics;
                got.insert(
                    beat.host.clone(),
                    Sample::from_agent(m.received, &m.metrics),
                );
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    hosts
        .iter()
        .map(|h| {
            let result = match (got.remove(&h.name), failed.remove(&h.name)) {
                (Some(s), _) => Ok(s),
                (None, Some(why)) => Err(why),
                (None, None) => Err(agent_silence(agent, h)),
            };
            report(h, Some(Source::Agent), result)
        })
        .collect()
}

/// Why no heartbeat came: the link's own words when it has them.
fn agent_silence(agent: &AgentTransport, host: &Host) -> String {
    use crate::transport::ConnState;
    match crate::transport::Transport::connection(agent, host) {
        ConnState::Failed { reason, .. } => reason,
        _ => format!("no heartbeat within {}s", AGENT_WAIT.as_secs()),
    }
}
