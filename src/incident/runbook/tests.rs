//! runbooks.toml: checks at file:line:column, first-match-wins, filling, and that a hostile
//! label value stays one quoted word in the command the action renders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::action::plan::{Inputs, render_command, resolve_values};

fn catalog(dir: &Path) -> Catalog {
    let actions = dir.join("actions");
    std::fs::create_dir_all(&actions).unwrap();
    let write = |name: &str, text: &str| std::fs::write(actions.join(name), text).unwrap();
    write(
        "restart.toml",
        "command = \"systemctl restart {unit}\"\n[[params]]\nname = \"unit\"\nrequired = true\n\
         regex = \"[A-Za-z0-9@._:-]+\"\n",
    );
    write(
        "say.toml",
        "command = \"printf %s {msg}; : {flags} {n}\"\n[[params]]\nname = \"msg\"\nrequired = true\n\
         [[params]]\nname = \"flags\"\ntype = \"raw\"\nregex = \"-[a-z]+\"\n\
         [[params]]\nname = \"n\"\ntype = \"int\"\nmax = 5\n",
    );
    write(
        "login.toml",
        "command = \"login {pw}\"\n[[params]]\nname = \"pw\"\nsecret = true\n",
    );
    let (catalog, problems) = Catalog::load_dir(&actions);
    assert!(problems.is_empty(), "{problems:?}");
    catalog
}

fn parse(src: &str) -> Result<Runbooks, String> {
    let dir = tempfile::tempdir().unwrap();
    Runbooks::parse(Path::new("runbooks.toml"), src, &catalog(dir.path())).map_err(|d| {
        d.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn facts(labels: &[(&str, &str)], hosts: &[&str]) -> IncidentFacts {
    IncidentFacts {
        source: Source::Alertmanager,
        title: "Disk almost full on web01".into(),
        severity: Severity::Warning,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        annotations: BTreeMap::new(),
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
    }
}

#[test]
fn first_matching_rule_wins_and_fills_params() {
    let books = parse(
        "[[rules]]\nname = \"unit\"\nmatch.labels = { alertname = \"Unit*\" }\n\
         match.source = [\"agent\", \"alertmanager\"]\nhint = \"restart it\"\naction = \"restart\"\n\
         params = { unit = \"{labels.unit}\" }\n\
         [[rules]]\nmatch.title = \"DISK*\"\nhint = \"disk\"\n\
         [[rules]]\nhint = \"catch-all\"\nrunbook_url = \"https://wiki/x\"\n",
    )
    .unwrap();
    assert_eq!(books.len(), 3);
    let m = books
        .lookup(&facts(
            &[("alertname", "UnitFailed"), ("unit", "nginx.service")],
            &["web01"],
        ))
        .unwrap();
    assert_eq!(m.rule.to_string(), "runbooks.toml:1 (unit)");
    assert_eq!(m.hint, "restart it");
    let action = m.action.unwrap();
    assert_eq!(action.name, "restart");
    assert_eq!(action.params["unit"], "nginx.service");
    assert!(action.is_complete());
    // Title globs ignore case; the first rule's label test fails here.
    let m = books.lookup(&facts(&[("alertname", "Disk")], &[])).unwrap();
    assert_eq!((m.hint.as_str(), m.rule.line), ("disk", 8));
    let mut other = facts(&[], &[]);
    other.title = "something".into();
    let m = books.lookup(&other).unwrap();
    assert_eq!(m.runbook_url.as_deref(), Some("https://wiki/x"));
    // The alert's own runbook_url wins over the rule's.
    other
        .annotations
        .insert("runbook_url".into(), "https://alert/y".into());
    assert_eq!(
        books.lookup(&other).unwrap().runbook_url.as_deref(),
        Some("https://alert/y")
    );
    assert!(parse("").unwrap().lookup(&other).is_none());
}

#[test]
fn missing_labels_and_refused_values_are_reasons_not_empty_values() {
    let books = parse(
        "[[rules]]\nhint = \"h\"\naction = \"say\"\n\
         params = { msg = \"{labels.unit} on {host}\", n = \"{labels.count}\" }\n",
    )
    .unwrap();
    let m = books
        .lookup(&facts(&[("count", "9")], &["web1", "web2"]))
        .unwrap();
    let action = m.action.unwrap();
    assert!(action.params.is_empty(), "{action:?}");
    let reasons: Vec<String> = action
        .unfilled
        .iter()
        .map(|u| format!("{}: {}", u.param, u.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            "msg: the incident has no label `unit` (its labels: count)".to_string(),
            "n: the value from the incident is refused: 9 is more than the maximum 5".to_string(),
        ]
    );
    let empty = books
        .lookup(&facts(&[("unit", ""), ("count", "1")], &["web1"]))
        .unwrap()
        .action
        .unwrap();
    assert_eq!(empty.unfilled[0].reason, "label `unit` is empty");
    let many = books
        .lookup(&facts(&[("unit", "x"), ("count", "1")], &["web1", "web2"]))
        .unwrap()
        .action
        .unwrap();
    assert!(
        many.unfilled[0]
            .reason
            .contains("`{host}` needs exactly one host; the incident has 2 (web[1-2])"),
        "{many:?}"
    );
}

#[test]
fn hostile_label_values_are_refused_by_a_regex_or_quoted_by_the_action() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path());
    let books = Runbooks::parse(
        Path::new("runbooks.toml"),
        "[[rules]]\nmatch.labels = { alertname = \"Unit*\" }\nhint = \"h\"\naction = \"restart\"\n\
         params = { unit = \"{labels.unit}\" }\n\
         [[rules]]\nhint = \"h\"\naction = \"say\"\nparams = { msg = \"{labels.text}\" }\n",
        &catalog,
    )
    .unwrap();
    let marker = dir.path().join("pwned");
    let hostile = format!("x'; touch {} ; echo $(id) `id` \"", marker.display());

    // A parameter with a regex refuses it outright.
    let m = books
        .lookup(&facts(
            &[("alertname", "UnitFailed"), ("unit", &hostile)],
            &["h"],
        ))
        .unwrap();
    let action = m.action.unwrap();
    assert!(action.params.is_empty());
    assert!(
        action.unfilled[0].reason.contains("does not match"),
        "{action:?}"
    );

    // A plain string parameter accepts it, and the action's rendering quotes it into one word
    // that the shell prints back unchanged, running nothing.
    let m = books.lookup(&facts(&[("text", &hostile)], &["h"])).unwrap();
    let action = m.action.unwrap();
    assert_eq!(action.params["msg"], hostile);
    let template = catalog.get("say").unwrap();
    let mut inputs = Inputs {
        values: action.params.clone(),
        ..Inputs::default()
    };
    inputs.values.insert("flags".into(), "-n".into());
    inputs.values.insert("n".into(), "1".into());
    let values = resolve_values(template, &inputs).unwrap().values;
    let (line, _) = render_command(template, &values, &BTreeMap::new()).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&line)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), hostile, "{line}");
    assert!(!marker.exists(), "the label ran a command: {line}");
}

#[test]
fn problems_name_file_line_and_column() {
    let cases: &[(&str, &str)] = &[
        (
            "[[rules]]\nhint = \"h\"\nactoin = \"x\"\n",
            "runbooks.toml:3:1: unknown key `actoin`: did you mean `action`?",
        ),
        (
            "[[rules]]\nmatch.labels = { alertname = \"Disk[\" }\nhint = \"h\"\n",
            "runbooks.toml:2:30: bad glob `Disk[`: unclosed character class",
        ),
        (
            "[[rules]]\nmatch.title = \"a{b\"\nhint = \"h\"\n",
            "runbooks.toml:2:15: bad glob `a{b`",
        ),
        (
            "[[rules]]\nhint = \"h\"\naction = \"restrat\"\n",
            "runbooks.toml:3:10: no action named `restrat`: did you mean `restart`? (`fleetdeck actions` lists them)",
        ),
        (
            "[[rules]]\nhint = \"h\"\naction = \"restart\"\nparams = { unti = \"x\" }\n",
            "runbooks.toml:4:12: action `restart` has no parameter `unti`: did you mean `unit`? (it has unit)",
        ),
        (
            "[[rules]]\nhint = \"h\"\naction = \"restart\"\nparams = { unit = \"{label.unit}\" }\n",
            "runbooks.toml:4:20: `{label.unit}` is not a placeholder: did you mean `{labels.unit}`?",
        ),
        (
            "[[rules]]\nhint = \"h\"\naction = \"restart\"\nparams = { unit = \"a-{labels.unit\" }\n",
            "runbooks.toml:4:22: `{` is not closed",
        ),
        (
            "[[rules]]\nhint = \"h\"\naction = \"login\"\nparams = { pw = \"{labels.pw}\" }\n",
            "runbooks.toml:4:12: parameter `pw` of `login` is a secret",
        ),
        (
            "[[rules]]\nhint = \"h\"\naction = \"say\"\nparams = { flags = \"{labels.f}\" }\n",
            "parameter `flags` is raw (inserted unquoted)",
        ),
        (
            "[[rules]]\nhint = \"h\"\naction = \"say\"\nparams = { n = 7 }\n",
            "runbooks.toml:4:16: parameter `n` of `say`: 7 is more than the maximum 5",
        ),
        (
            "[[rules]]\nhint = \"h\"\nparams = { n = 7 }\n",
            "runbooks.toml:3:12: `params` without an `action`",
        ),
        (
            "[[rules]]\nhint = \" \"\n",
            "runbooks.toml:2:8: `hint` is empty",
        ),
        (
            "[[rules]]\nhint = \"h\"\nmatch.source = \"agnet\"\n",
            "runbooks.toml:3:16: unknown source `agnet`: did you mean `agent`?",
        ),
        (
            "[[rules]]\nhint = \"h\"\nmatch.severity = [\"critical\", \"page\"]\n",
            "unknown severity `page`",
        ),
        (
            "[[rules]]\nname = \"x\"\n",
            "runbooks.toml:1:1: missing field `hint`",
        ),
    ];
    for (src, wanted) in cases {
        let err = parse(src).unwrap_err();
        assert!(err.contains(wanted), "{src}\nwanted {wanted}\ngot {err}");
    }
    // Every problem, not just the first.
    let err = parse(
        "[[rules]]\nhint = \"h\"\naction = \"nope\"\n[[rules]]\nhint = \"h\"\nmatch.title = \"[\"\n",
    )
    .unwrap_err();
    assert_eq!(err.lines().count(), 2, "{err}");
}

#[test]
fn the_shipped_example_is_valid_against_the_shipped_actions() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let (catalog, problems) = Catalog::load_dir(&root.join("actions"));
    assert!(problems.is_empty(), "{problems:?}");
    let books = Runbooks::load_file(&root.join("runbooks.toml"), &catalog).unwrap();
    assert!(books.len() >= 5);
    let mut f = facts(
        &[("alertname", "UnitFailed"), ("unit", "nginx.service")],
        &["web01"],
    );
    f.source = Source::Agent;
    let m = books.lookup(&f).unwrap();
    assert_eq!(m.rule.name.as_deref(), Some("unit down"));
    assert_eq!(m.action.unwrap().params["unit"], "nginx.service");
    let m = books
        .lookup(&facts(
            &[("alertname", "DiskFull"), ("mountpoint", "/var")],
            &["db1"],
        ))
        .unwrap();
    let action = m.action.unwrap();
    assert_eq!(action.params["path"], "/var");
    assert_eq!(action.params["max_percent"], "90");
    // A threshold breach, as the evaluator describes it, finds its rule.
    let mut breach = facts(&[("metric", "disk")], &["db1"]);
    breach.source = Source::Threshold;
    let m = books.lookup(&breach).unwrap();
    assert_eq!(m.rule.name.as_deref(), Some("disk threshold"));
    // A missing file has no rules.
    assert!(
        Runbooks::load_file(&root.join("missing.toml"), &catalog)
            .unwrap()
            .is_empty()
    );
}
