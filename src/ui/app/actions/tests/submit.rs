//! Submitting a form: the confirmation with the blast radius (typed, none, protected
//! environments), History's `a` and `r` on an action run, snapshots of the confirmation, and
//! a confirmed action through the real queue, recorded without its secret.

use super::*;

#[test]
fn submit_confirm_typed_starts_the_prepared_request() {
    let mut m = with_actions(false);
    // web06 (prod), web07 (staging) and lab1 (lab: refused by the template's envs).
    press(&mut m, "G space");
    press(&mut m, ":");
    type_text(&mut m, "target web[06-07],lab1");
    enter(&mut m);
    press(&mut m, "space space");
    assert_eq!(m.fleet.marked.len(), 3, "{:?}", m.fleet.marked);
    press(&mut m, ":");
    type_text(&mut m, "action restart-service");
    enter(&mut m);
    type_text(&mut m, "nginx.service");
    focus(&mut m, "mode");
    special(&mut m, KeyCode::Right);
    let effects = enter(&mut m);
    assert!(effects.is_empty());
    assert_eq!(m.shell.popup.name(), "confirm");
    let confirm = m.shell.popup.confirm().unwrap();
    // prod is protected and the template wants its name typed: both.
    assert_eq!(confirm.required.as_deref(), Some("prod restart-service"));
    assert_eq!(confirm.envs, ["prod", "staging"]);
    // Enter does nothing until the text matches; `y` is just a typed letter.
    assert!(enter(&mut m).is_empty());
    assert!(press(&mut m, "y").is_empty());
    assert_eq!(m.shell.popup.name(), "confirm");
    special(&mut m, KeyCode::Backspace);
    type_text(&mut m, "prod restart-service");
    let effects = enter(&mut m);
    let start = started(&effects);
    let names: Vec<&str> = start.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["web06", "web07"], "lab1 is refused, not run");
    assert_eq!(start.command, "systemctl reload nginx.service");
    let prepared = start.prepared.as_ref().unwrap();
    assert_eq!(prepared.plan.refused.len(), 1);
    assert_eq!(prepared.plan.refused[0].host, "lab1");
    let req = prepared.request();
    assert_eq!(req.id, start.id);
    assert_eq!(req.display_command, "systemctl reload nginx.service");
    assert_eq!(
        req.action,
        Some(ActionUse {
            name: "restart-service".into(),
            params: BTreeMap::from([
                ("mode".to_string(), "reload".to_string()),
                ("unit".to_string(), "nginx.service".to_string()),
            ]),
        })
    );
    assert_eq!(req.guards.lock_ttl, Some(Duration::from_secs(600)));
    assert_eq!(req.guards.retry.attempts, 3);
    assert_eq!(req.guards.retry.on, [RetryOn::Unreachable]);
    assert_eq!(req.batch, Some(Limit::Percent(25)));
    assert_eq!(req.max_fail, Some(Limit::Count(1)));
    assert_eq!(req.priority, Priority::High);
    // Shown in the Runs view like any run.
    assert_eq!(m.shell.view, View::Runs);
    assert_eq!(m.runs.list.last().unwrap().id, start.id);
    assert_eq!(
        m.runs.list.last().unwrap().command,
        "systemctl reload nginx.service"
    );
}

#[test]
fn typed_confirmation_without_protected_env_wants_the_name() {
    let mut m = with_actions(false);
    press(&mut m, ":");
    type_text(&mut m, "target env:staging");
    enter(&mut m);
    press(&mut m, ":");
    type_text(&mut m, "action restart-service");
    enter(&mut m);
    type_text(&mut m, "sshd");
    enter(&mut m);
    assert_eq!(
        m.shell.popup.confirm().unwrap().required.as_deref(),
        Some("restart-service")
    );
    type_text(&mut m, "restart-servic");
    assert!(enter(&mut m).is_empty(), "one letter short");
    type_text(&mut m, "e");
    assert_eq!(started(&enter(&mut m)).hosts.len(), 2);
}

#[test]
fn confirm_none_still_shows_the_confirmation_and_esc_returns_to_the_form() {
    let mut m = with_actions(false);
    press(&mut m, ":");
    type_text(&mut m, "target env:staging");
    enter(&mut m);
    press(&mut m, ":");
    type_text(&mut m, "action uptime");
    enter(&mut m);
    assert!(
        enter(&mut m).is_empty(),
        "confirm = none still shows what will run"
    );
    assert_eq!(m.shell.popup.name(), "confirm");
    assert!(m.shell.popup.confirm().unwrap().required.is_none());
    special(&mut m, KeyCode::Esc);
    assert_eq!(m.shell.popup.name(), "none");
    assert!(m.actions.form.is_some(), "cancelling keeps the form");
    enter(&mut m);
    let effects = press(&mut m, "y");
    let req = started(&effects).prepared.as_ref().unwrap().request();
    assert_eq!(req.display_command, "uptime");
    assert_eq!(req.priority, Priority::Normal);
    assert_eq!(req.guards.lock_ttl, None);
    assert_eq!(req.targets.len(), 2);
}

fn recorded_action_run() -> RunResult {
    let host = |name: &str| HostResult {
        host: name.into(),
        state: HostState::Ok,
        exit_code: Some(0),
        duration_ms: 10,
        bytes_out: 1,
        bytes_err: 0,
        first_error_line: None,
        attempts: 1,
    };
    RunResult {
        id: "01JTESTRUNACTION0000000000".into(),
        user: "ana@ops1".into(),
        started: "2026-01-05T09:30:00.120Z".into(),
        finished: "2026-01-05T09:30:01.120Z".into(),
        selector: "db[01-02]".into(),
        targets: "db[01-02]".into(),
        command: "journalctl …".into(),
        status: crate::engine::RunStatus::Ok,
        hosts: vec![host("db01"), host("db02")],
        action: Some(ActionUse {
            name: "grep-logs".into(),
            params: BTreeMap::from([
                ("pattern".to_string(), "timeout".to_string()),
                ("token".to_string(), SECRET_MASK.to_string()),
                ("lines".to_string(), "50".to_string()),
                ("tag".to_string(), "ops".to_string()),
            ]),
        }),
    }
}

#[test]
fn history_a_opens_the_form_prefilled_secrets_empty() {
    let mut m = with_actions(false);
    let mut adhoc = recorded_action_run();
    adhoc.id = "01JTESTRUNADHOC00000000000".into();
    adhoc.action = None;
    m.history.set_runs(vec![recorded_action_run(), adhoc]);
    press(&mut m, "5");
    assert_eq!(m.shell.view, View::History);
    // An ad-hoc run has no action to open.
    press(&mut m, "j a");
    assert!(m.actions.form.is_none());
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("not an action")));
    press(&mut m, "k a");
    assert_eq!(m.shell.view, View::Actions);
    let form = m.actions.form.as_ref().expect("the form opened");
    assert_eq!(form.template.name, "grep-logs");
    assert_eq!(form.selector, "db[01-02]");
    let hosts: Vec<&str> = form.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(hosts, ["db01", "db02"]);
    assert_eq!(field(&m, "pattern").text, "timeout");
    assert_eq!(field(&m, "lines").text, "50");
    assert_eq!(field(&m, "token").text, "", "secrets are typed again");
    assert_eq!(field(&m, "token").error.as_deref(), Some("required"));
    focus(&mut m, "token");
    type_text(&mut m, SECRET);
    assert!(m.actions.form.as_ref().unwrap().plan.is_ok());
}

#[test]
fn history_r_on_an_action_run_reopens_its_form_for_the_failed_hosts() {
    let mut m = with_actions(false);
    let mut run = recorded_action_run();
    run.status = crate::engine::RunStatus::Failed;
    run.hosts[1].state = HostState::Failed {
        outcome: crate::engine::ExitOutcome::Code { code: 97 },
    };
    m.history.set_runs(vec![run]);
    press(&mut m, "5 r");
    // Not the recorded command through the plain confirmation: the action's form, because
    // its secret must be typed again.
    assert!(m.shell.popup.confirm().is_none());
    assert_eq!(m.shell.view, View::Actions);
    let form = m.actions.form.as_ref().expect("the form opened");
    assert_eq!(form.template.name, "grep-logs");
    let hosts: Vec<&str> = form.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(hosts, ["db02"]);
    assert_eq!(field(&m, "pattern").text, "timeout");
    assert_eq!(field(&m, "token").text, "");
}

fn confirmation(width: u16, height: u16) -> String {
    let mut m = sized(with_actions(false), width, height);
    press(&mut m, ":");
    type_text(&mut m, "target web[05-08],lab1");
    enter(&mut m);
    press(&mut m, ":");
    type_text(&mut m, "action restart-service");
    enter(&mut m);
    type_text(&mut m, "nginx.service");
    enter(&mut m);
    assert!(matches!(
        m.shell.popup.confirm().map(|c| &c.kind),
        Some(ConfirmKind::Run(_))
    ));
    type_text(&mut m, "prod");
    text(&draw(&m, width, height))
}

#[test]
fn confirmation_80x24() {
    let shown = confirmation(80, 24);
    assert!(shown.contains("│  prod restart-service"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn confirmation_200x50() {
    insta::assert_snapshot!(confirmation(200, 50));
}

#[test]
fn confirmation_40x12() {
    insta::assert_snapshot!(confirmation(40, 12));
}

/// Every file under `dir`, read as bytes (for "the secret is nowhere on disk").
fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_action_runs_through_the_queue_and_is_recorded_without_its_secret() {
    use crate::config::{Home, Settings};

    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    let settings = Settings::default();
    std::fs::create_dir_all(home.actions_dir()).unwrap();
    let src = "description = \"Say a word, check the token's length\"\n\
               command = \"echo word={word}; t={token}; echo len=${{#t}}\"\n\
               confirm = \"yes\"\n\n\
               [[params]]\nname = \"word\"\ntype = \"string\"\nrequired = true\n\n\
               [[params]]\nname = \"token\"\ntype = \"string\"\nsecret = true\nrequired = true\n";
    std::fs::write(home.actions_dir().join("say.toml"), src).unwrap();
    let (catalog, problems) = Catalog::load_partial(&home);
    assert!(problems.is_empty(), "{problems:?}");
    let mut m = crate::ui::app::runs::tests::local_model();
    m.actions.settings = settings.clone();
    m.actions.set_catalog(catalog, problems, home.actions_dir());
    press(&mut m, ":");
    type_text(&mut m, "action say");
    enter(&mut m);
    // A quote and a `$(…)` run literally: the value is shell-quoted.
    type_text(&mut m, "it's $(id)");
    special(&mut m, KeyCode::Tab);
    type_text(&mut m, SECRET);
    enter(&mut m);
    let start = started(&press(&mut m, "y")).clone();
    assert_eq!(start.hosts.len(), 2);
    crate::ui::app::runs::tests::run_through_the_queue(&mut m, &home, &settings, start).await;
    let run = &m.runs.list[0];
    assert_eq!(run.states, [HostState::Ok, HostState::Ok]);
    let out: Vec<String> = run.outputs[0]
        .lines()
        .map(|l| l.text().to_string())
        .collect();
    assert_eq!(out, ["word=it's $(id)", &format!("len={}", SECRET.len())]);
    let finished = run.finished.as_ref().unwrap();
    let used = finished
        .action
        .as_ref()
        .expect("history records the action");
    assert_eq!(used.name, "say");
    assert_eq!(used.params["token"], SECRET_MASK);
    assert_eq!(used.params["word"], "it's $(id)");
    let history = std::fs::read_to_string(home.history_file()).unwrap();
    assert!(history.contains("\"say\""), "{history}");
    for (path, bytes) in all_files(dir.path()) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(SECRET),
            "the secret is in {}",
            path.display()
        );
    }
}
