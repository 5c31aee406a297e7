//! Selectors with metric terms on the CLI (`run -t 'env:prod&disk>90'`): one fresh sample of
//! the hosts the rest of the selector picked, then the terms are evaluated on it. Sampling
//! goes through a session of its own (the same transports a run uses), on a thread of its own
//! so that it works whether or not the caller is inside an async runtime.

use std::time::Duration;

use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::launch::SshFlags;
use crate::engine::sampling::once::HostReport;
use crate::engine::{FleetSession, SessionOptions};
use crate::inventory::Host;
use crate::inventory::selector::MetricView;

/// How long closing the sampling session's connections may take.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What a command needs to sample hosts for its selectors.
pub struct Sampler<'a> {
    pub home: &'a Home,
    pub settings: &'a Settings,
    pub ssh: SshFlags,
}

impl<'a> Sampler<'a> {
    pub fn new(home: &'a Home, settings: &'a Settings, ssh: SshFlags) -> Sampler<'a> {
        Sampler {
            home,
            settings,
            ssh,
        }
    }

    /// One fresh sample of each of `hosts`.
    pub fn sample(&self, hosts: &[Host]) -> Result<Vec<HostReport>, Error> {
        if hosts.is_empty() {
            return Ok(Vec::new());
        }
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_multi_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| {
                            Error::Invalid(format!("cannot start the async runtime: {e}"))
                        })?;
                    runtime.block_on(async {
                        let options = SessionOptions {
                            ssh: self.ssh.clone(),
                            ..SessionOptions::new(hosts.to_vec())
                        };
                        let session = FleetSession::open(self.home, self.settings, options)?;
                        let reports = session.sample_now(hosts, self.settings).await;
                        session.shutdown(CLOSE_GRACE).await;
                        Ok(reports)
                    })
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(Error::Invalid("sampling hosts failed unexpectedly".into()))
                })
        })
    }

    /// The facts metric terms are evaluated on: every sample taken (fresh by construction);
    /// hosts that could not be sampled are said on stderr and match no comparison (`stale`
    /// matches them).
    pub fn facts(&self, hosts: &[Host], terms: &str) -> Result<MetricView, Error> {
        let reports = self.sample(hosts)?;
        let mut view = MetricView::new();
        let mut failed = Vec::new();
        for r in reports {
            match r.result {
                Ok(sample) => view.insert(r.host, sample, true),
                Err(why) => failed.push((r.host, why)),
            }
        }
        eprintln!(
            "fleetdeck: sampled {} host(s) for {terms}{}",
            hosts.len() - failed.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!("; {} could not be sampled and count as stale", failed.len())
            }
        );
        for (host, why) in failed.iter().take(10) {
            eprintln!("fleetdeck:   {host}: {why}");
        }
        if failed.len() > 10 {
            eprintln!(
                "fleetdeck:   … and {} more (fleetdeck metrics -t … shows each)",
                failed.len() - 10
            );
        }
        Ok(view)
    }
}
