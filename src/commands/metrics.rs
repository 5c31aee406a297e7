//! `fleetdeck metrics`: one fresh sample of each selected host, through the same session
//! and transports a run uses (pooled SSH, agent links) plus node_exporter scrapes.

use std::process::ExitCode;

use super::hosts::resolve_targets_sampled;
use super::metric_targets::Sampler;
use crate::cli::MetricsArgs;
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::{FleetSession, SessionOptions};
use crate::inventory::load;
use crate::ui::printers::metrics::{render_json, render_table};
use crate::ui::printers::write_stdout;

/// How long closing connections may take after sampling.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

pub fn run(home: &Home, settings: &Settings, args: &MetricsArgs) -> Result<ExitCode, Error> {
    let inventory = load::load(&home.hosts_file()).map_err(Error::Config)?;
    let sampler = Sampler::new(home, settings, args.ssh.ssh_flags());
    let hosts = resolve_targets_sampled(&inventory, &args.targets, Some(&sampler))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))?;
    let reports = runtime.block_on(async {
        let options = SessionOptions {
            ssh: args.ssh.ssh_flags(),
            ..SessionOptions::new(hosts.clone())
        };
        let session = FleetSession::open(home, settings, options)?;
        let reports = session.sample_now(&hosts, settings).await;
        session.shutdown(CLOSE_GRACE).await;
        Ok::<_, Error>(reports)
    })?;
    let text = if args.json {
        render_json(&reports)?
    } else {
        render_table(&reports)
    };
    write_stdout(&text)?;
    if reports.iter().any(|r| r.result.is_err()) {
        Ok(ExitCode::from(3))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}
