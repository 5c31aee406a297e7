//! README's configuration reference is checked against the real definitions, so it cannot drift.

use std::path::Path;

use fleetdeck::config::Settings;

fn block_after(readme: &str, heading: &str) -> String {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README lacks {heading}"));
    let rest = &readme[start..];
    let open = rest.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let close = rest[open..].find("```").expect("a closed block");
    rest[open..open + close].to_string()
}

#[test]
fn config_reference_is_exactly_the_defaults() {
    let readme = include_str!("../README.md");
    let block = block_after(readme, "### config.toml");
    let parsed = Settings::parse(Path::new("README.md"), &block).unwrap();
    assert_eq!(parsed, Settings::default());
}

#[test]
fn thresholds_and_runbooks_references_are_valid() {
    let readme = include_str!("../README.md");
    let block = block_after(readme, "### Thresholds");
    let settings = Settings::parse(Path::new("README.md"), &block).unwrap();
    assert_eq!(settings.thresholds.len(), 1);
    assert_eq!(settings.thresholds[0].name, "disk almost full");

    let block = block_after(readme, "### runbooks.toml");
    let actions = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/actions");
    let (catalog, problems) = fleetdeck::action::Catalog::load_dir(&actions);
    assert!(problems.is_empty(), "{problems:?}");
    let books =
        fleetdeck::incident::runbook::Runbooks::parse(Path::new("README.md"), &block, &catalog)
            .unwrap();
    assert_eq!(books.len(), 1);
}

#[test]
fn checks_reference_is_valid() {
    let readme = include_str!("../README.md");
    let block = block_after(readme, "### Checks");
    let settings = Settings::parse(Path::new("README.md"), &block).unwrap();
    assert_eq!(settings.checks.len(), 2);
    let actions = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/actions");
    let (catalog, _) = fleetdeck::action::Catalog::load_dir(&actions);
    for check in &settings.checks {
        if let fleetdeck::incident::check::Probe::Action(a) = &check.probe {
            let template = catalog.find(&a.action).unwrap();
            let inputs = fleetdeck::action::plan::Inputs {
                values: a.params.clone(),
                secrets: Default::default(),
            };
            fleetdeck::action::plan::resolve_values(template, &inputs).unwrap();
        }
    }
}

#[test]
fn hosts_reference_is_a_valid_inventory() {
    let readme = include_str!("../README.md");
    let block = block_after(readme, "### hosts.toml");
    let inv = fleetdeck::inventory::load::parse(Path::new("README.md"), &block).unwrap();
    // web[01-20], app7 and db[1-3], whose exporter URL is made per host.
    assert_eq!(inv.len(), 24);
    let db2 = inv.hosts().iter().find(|h| h.name == "db2").unwrap();
    assert_eq!(
        db2.node_exporter.as_deref(),
        Some("http://db2:9100/metrics")
    );
}

#[test]
fn sample_home_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/home/config");
    Settings::load(&dir.join("config.toml")).unwrap();
    let inv = fleetdeck::inventory::load::load(&dir.join("hosts.toml")).unwrap();
    assert_eq!(inv.len(), 35);
}

/// The default key table in README.md, generated from the built-in keymap: one row per action
/// per section, keys for the same action joined.
fn key_table() -> String {
    use fleetdeck::ui::keymap::{self, Context, key::display_sequence};
    let km = keymap::builtin().unwrap();
    let mut out = String::from("| where | keys | action | what it does |\n|---|---|---|---|\n");
    for ctx in Context::ALL {
        let mut rows: Vec<(fleetdeck::ui::keymap::Action, Vec<String>)> = Vec::new();
        for b in km.section(ctx) {
            let Some(action) = b.action else { continue };
            let keys = format!("`{}`", display_sequence(&b.keys));
            match rows.iter_mut().find(|(a, _)| *a == action) {
                Some((_, k)) => k.push(keys),
                None => rows.push((action, vec![keys])),
            }
        }
        for (action, keys) in rows {
            out.push_str(&format!(
                "| {} | {} | `{}` | {} |\n",
                ctx.title(),
                keys.join(" "),
                action.name(),
                action.description()
            ));
        }
    }
    out
}

#[test]
fn key_table_matches_the_builtin_keymap() {
    let readme = include_str!("../README.md");
    let start = readme
        .find("<!-- keys:start -->\n")
        .expect("README lacks the key table markers")
        + "<!-- keys:start -->\n".len();
    let end = readme
        .find("<!-- keys:end -->")
        .expect("README lacks the key table end marker");
    let expected = key_table();
    assert!(
        readme[start..end] == expected,
        "README's key table is out of date; replace it with:\n{expected}"
    );
}

#[test]
fn theme_scopes_are_documented() {
    let readme = include_str!("../README.md");
    for scope in fleetdeck::ui::theme::scope::SCOPES {
        assert!(
            readme.contains(&format!("`{}`", scope.name)),
            "README lacks scope `{}`",
            scope.name
        );
    }
}

/// The line of README's JSON events table that describes `event`.
fn event_row<'a>(readme: &'a str, event: &str) -> &'a str {
    let head = format!("| `{event}` |");
    readme
        .lines()
        .find(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("README's events table lacks {event}"))
}

/// Every word that appears in JSON or in files for host states, run statuses, error kinds and
/// exit outcomes is listed in README's events table, spelled as the code writes it. The
/// matches are exhaustive: a new variant does not compile until it is listed here (and then
/// fails until README lists it).
#[test]
fn readme_lists_every_state_status_kind_and_outcome_as_written() {
    use fleetdeck::engine::{HostState, RunStatus};
    use fleetdeck::transport::{ErrorKind, ExitOutcome};
    let readme = include_str!("../README.md");
    let state_row = event_row(readme, "state");
    let finished_row = event_row(readme, "run_finished");

    let kinds = [
        ErrorKind::Dns,
        ErrorKind::Connect,
        ErrorKind::HostKey,
        ErrorKind::Auth,
        ErrorKind::Timeout,
        ErrorKind::Io,
        ErrorKind::Protocol,
        ErrorKind::CircuitOpen,
        ErrorKind::Locked,
    ];
    for kind in kinds {
        match kind {
            ErrorKind::Dns
            | ErrorKind::Connect
            | ErrorKind::HostKey
            | ErrorKind::Auth
            | ErrorKind::Timeout
            | ErrorKind::Io
            | ErrorKind::Protocol
            | ErrorKind::CircuitOpen
            | ErrorKind::Locked => {}
        }
        let written = serde_json::to_value(kind).unwrap();
        assert_eq!(written, kind.as_str(), "one spelling for {kind:?}");
        assert!(
            state_row.contains(&format!("`{}`", kind.as_str())),
            "README's state row lacks the kind `{}`",
            kind.as_str()
        );
    }
    // Records written with the old spelling still read.
    let old: ErrorKind = serde_json::from_str("\"host_key\"").unwrap();
    assert_eq!(old, ErrorKind::HostKey);

    let outcome = |o: ExitOutcome| {
        match &o {
            ExitOutcome::Code { .. }
            | ExitOutcome::Signal { .. }
            | ExitOutcome::NoStatus
            | ExitOutcome::TimedOut { .. }
            | ExitOutcome::IdleTimedOut { .. }
            | ExitOutcome::Cancelled => {}
        }
        serde_json::to_value(&o).unwrap()["outcome"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for o in [
        ExitOutcome::Code { code: 1 },
        ExitOutcome::Signal {
            signal: "KILL".into(),
        },
        ExitOutcome::NoStatus,
        ExitOutcome::TimedOut { after_ms: 1 },
        ExitOutcome::IdleTimedOut { after_ms: 1 },
    ] {
        let name = outcome(o);
        assert!(
            state_row.contains(&format!("\"outcome\":\"{name}\"")),
            "README's state row lacks the outcome {name}"
        );
    }

    let reason = || "r".to_string();
    let states = [
        HostState::Pending,
        HostState::Connecting,
        HostState::Running,
        HostState::Ok,
        HostState::Failed {
            outcome: ExitOutcome::NoStatus,
        },
        HostState::Timeout {
            outcome: ExitOutcome::NoStatus,
        },
        HostState::Unreachable {
            kind: ErrorKind::Dns,
            message: reason(),
        },
        HostState::Error {
            kind: ErrorKind::Io,
            message: reason(),
        },
        HostState::Cancelled,
        HostState::Skipped { reason: reason() },
        HostState::Unknown { reason: reason() },
    ];
    for state in &states {
        match state {
            HostState::Pending
            | HostState::Connecting
            | HostState::Running
            | HostState::Ok
            | HostState::Failed { .. }
            | HostState::Timeout { .. }
            | HostState::Unreachable { .. }
            | HostState::Error { .. }
            | HostState::Cancelled
            | HostState::Skipped { .. }
            | HostState::Unknown { .. } => {}
        }
        let written = serde_json::to_value(state).unwrap()["state"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(written, state.label(), "one spelling for {state:?}");
        assert!(
            state_row.contains(&format!("`{written}`")),
            "README's state row lacks the state `{written}`"
        );
    }

    for status in [
        RunStatus::Ok,
        RunStatus::Failed,
        RunStatus::Unreachable,
        RunStatus::Cancelled,
        RunStatus::Interrupted,
    ] {
        match status {
            RunStatus::Ok
            | RunStatus::Failed
            | RunStatus::Unreachable
            | RunStatus::Cancelled
            | RunStatus::Interrupted => {}
        }
        let written = serde_json::to_value(status).unwrap();
        assert_eq!(written, status.as_str());
        assert_eq!(status.as_str().parse::<RunStatus>().unwrap(), status);
        assert!(
            finished_row.contains(&format!("`{}`", status.as_str())),
            "README's run_finished row lacks the status `{}`",
            status.as_str()
        );
    }
}
