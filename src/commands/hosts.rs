//! `fleetdeck hosts`: resolve selectors against the inventory, or import one.

use std::collections::HashSet;
use std::process::ExitCode;

use super::metric_targets::Sampler;
use crate::cli::{HostsArgs, HostsCommand, ImportArgs};
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::inventory::selector::{Selector, SelectorError};
use crate::inventory::{Host, Inventory, import, load};
use crate::ui::printers::hosts::print_hosts;

pub fn run(home: &Home, settings: &Settings, args: &HostsArgs) -> Result<ExitCode, Error> {
    if let Some(HostsCommand::Import(import_args)) = &args.command {
        return run_import(import_args);
    }
    let inventory = load::load(&home.hosts_file()).map_err(Error::Config)?;
    let sampler = Sampler::new(home, settings, args.ssh.ssh_flags());
    let hosts = resolve_targets_sampled(&inventory, &args.targets, Some(&sampler))?;
    tracing::info!(selectors = ?args.targets, inventory = inventory.len(), matched = hosts.len(), "hosts resolved");
    print_hosts(&hosts, args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves one or more `-t` selectors as a union: inventory hosts in inventory order, then
/// plain ssh destinations in the order given. No `-t` means every inventory host. A metric term
/// (`cpu>90`) is refused here: commands that can sample use `resolve_targets_sampled`.
pub fn resolve_targets(inventory: &Inventory, targets: &[String]) -> Result<Vec<Host>, Error> {
    resolve_targets_sampled(inventory, targets, None)
}

/// Like `resolve_targets`; selectors with metric terms are evaluated on one fresh sample of
/// the hosts the rest of each selector picked (`sampler`).
pub fn resolve_targets_sampled(
    inventory: &Inventory,
    targets: &[String],
    sampler: Option<&Sampler<'_>>,
) -> Result<Vec<Host>, Error> {
    if targets.is_empty() {
        return Ok(inventory.hosts().to_vec());
    }
    let invalid = |i: usize, e: SelectorError| {
        let which = if targets.len() > 1 {
            format!(" (-t #{})", i + 1)
        } else {
            String::new()
        };
        Error::Invalid(format!("invalid selector{which}: {e}"))
    };
    let selectors = targets
        .iter()
        .enumerate()
        .map(|(i, text)| Selector::parse(text).map_err(|e| invalid(i, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let facts = match sampler {
        Some(sampler) if selectors.iter().any(Selector::has_metric_terms) => {
            let mut wanted: Vec<Host> = Vec::new();
            let mut seen = HashSet::new();
            for (i, sel) in selectors
                .iter()
                .enumerate()
                .filter(|(_, s)| s.has_metric_terms())
            {
                for host in sel
                    .metric_candidates(inventory)
                    .map_err(|e| invalid(i, e))?
                {
                    if seen.insert(host.name.clone()) {
                        wanted.push(host);
                    }
                }
            }
            let terms = selectors
                .iter()
                .filter(|s| s.has_metric_terms())
                .map(|s| format!("`{}`", s.as_str()))
                .collect::<Vec<_>>()
                .join(", ");
            Some(sampler.facts(&wanted, &terms)?)
        }
        _ => None,
    };
    let mut seen = HashSet::new();
    let mut known: Vec<(usize, Host)> = Vec::new();
    let mut ad_hoc: Vec<Host> = Vec::new();
    for (i, sel) in selectors.iter().enumerate() {
        let resolved = match &facts {
            Some(facts) => sel.resolve_with_metrics(inventory, facts),
            None => sel.resolve(inventory),
        }
        .map_err(|e| invalid(i, e))?;
        for host in resolved {
            if !seen.insert(host.name.clone()) {
                continue;
            }
            match inventory.index_of(&host.name) {
                Some(idx) => known.push((idx, host)),
                None => ad_hoc.push(host),
            }
        }
    }
    known.sort_by_key(|(idx, _)| *idx);
    Ok(known.into_iter().map(|(_, h)| h).chain(ad_hoc).collect())
}

fn run_import(args: &ImportArgs) -> Result<ExitCode, Error> {
    let imported = match (&args.ssh_config, &args.ansible) {
        (Some(path), _) => import::from_ssh_config(path),
        (_, Some(path)) => import::from_ansible(path),
        // clap's group makes one of them required.
        (None, None) => {
            return Err(Error::Invalid(
                "give --ssh-config FILE or --ansible FILE".to_string(),
            ));
        }
    }
    .map_err(|e| Error::Invalid(e.to_string()))?;
    for warning in &imported.warnings {
        eprintln!("fleetdeck: warning: {warning}");
    }
    let text = imported.inventory.to_toml().map_err(|e| {
        Error::Invalid(format!("cannot render the imported inventory as TOML: {e}"))
    })?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
