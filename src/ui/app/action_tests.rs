//! The Actions view driven by keys (filter, form, validation as typed, pickers, submit,
//! confirmation, `:action`, History's `a`), and TestBackend snapshots of the list, the form
//! and the confirmation. Templates are real files read by `Catalog::load_dir`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{ConfirmKind, Message, Mode, Model, View};
use super::runs::RunStart;
use super::tests::{draw, key, model, press, text, type_text};
use super::update::{Effect, Msg, update};
use crate::action::Catalog;
use crate::engine::types::{ActionUse, Priority, RetryOn, SECRET_MASK};
use crate::engine::{HostResult, HostState, Limit, RunResult};

const RESTART: &str = r#"
description = "Restart a systemd unit"
category = "services"
command = "systemctl {mode} {unit}"
confirm = "typed"
requires_lock = true
lock_ttl = "10m"
envs = ["prod", "staging"]
batch = "25%"
max_fail = "1"
priority = "high"

[retry]
attempts = 3
backoff = "5s"
max_backoff = "30s"
on = ["unreachable"]

[[params]]
name = "unit"
type = "string"
required = true
regex = "[A-Za-z0-9@._-]+"
description = "systemd unit"

[[params]]
name = "mode"
type = "enum"
choices = ["restart", "reload", "try-restart"]
default = "restart"
"#;

const GREP: &str = r#"
description = "Grep recent logs, report to the collector"
category = "logs"
command = "journalctl -n {lines} | grep -E {pattern} | curl -sf --user ops:{token} --data-binary @- http://collector/{tag}"
confirm = "yes"

[[params]]
name = "pattern"
type = "raw"
required = true
regex = "[A-Za-z0-9 |.*'-]+"
description = "extended regex, inserted as written"

[[params]]
name = "token"
type = "string"
secret = true
required = true

[[params]]
name = "lines"
type = "int"
default = 100
min = 1
max = 1000

[[params]]
name = "tag"
type = "string"
default = "ops"
"#;

const UPTIME: &str = r#"
description = "Show uptime and load"
category = "basics"
command = "uptime"
"#;

/// The secret the tests type; it must appear in no frame and no message.
const SECRET: &str = "hunter2-Zq9";

const BROKEN: &str =
    "description = \"half written\"\ncommand = \"echo {nope}\"\nconfrim = \"yes\"\n";

/// Writes the templates (and, with `broken`, a file that does not load) and reads them the
/// way the console does.
fn load(broken: bool) -> (tempfile::TempDir, Catalog, Vec<crate::diag::Diagnostic>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("restart-service.toml"), RESTART).unwrap();
    std::fs::write(dir.path().join("grep-logs.toml"), GREP).unwrap();
    std::fs::write(dir.path().join("uptime.toml"), UPTIME).unwrap();
    if broken {
        std::fs::write(dir.path().join("broken.toml"), BROKEN).unwrap();
    }
    let (catalog, mut problems) = Catalog::load_dir(dir.path());
    // Stable paths for the snapshots.
    for p in &mut problems {
        p.file = Path::new("actions").join(p.file.file_name().unwrap());
    }
    (dir, catalog, problems)
}

pub(super) fn with_actions(broken: bool) -> Model {
    let mut m = model();
    let (_dir, catalog, problems) = load(broken);
    if broken {
        assert!(!problems.is_empty(), "the broken file is reported");
    } else {
        assert!(problems.is_empty(), "{problems:?}");
    }
    m.actions.set_catalog(
        catalog,
        problems,
        PathBuf::from("/home/op/.config/fleetdeck/actions"),
    );
    m.protected_envs = vec!["prod".to_string()];
    m
}

fn enter(m: &mut Model) -> Vec<Effect> {
    update(m, Msg::Key(key(KeyCode::Enter)))
}

fn special(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    update(m, Msg::Key(key(code)))
}

fn names(m: &Model) -> Vec<String> {
    m.actions
        .shown_templates()
        .map(|t| t.name.clone())
        .collect()
}

fn field<'a>(m: &'a Model, name: &str) -> &'a super::action_form::Field {
    let form = m.actions.form.as_ref().expect("a form is open");
    let i = form
        .template
        .params
        .iter()
        .position(|p| p.name == name)
        .unwrap();
    &form.fields[i]
}

fn focus(m: &mut Model, name: &str) {
    for _ in 0..10 {
        let form = m.actions.form.as_ref().unwrap();
        if form.template.params[form.focus].name == name {
            return;
        }
        special(m, KeyCode::Tab);
    }
    panic!("no field {name}");
}

fn started(effects: &[Effect]) -> &RunStart {
    match effects {
        [Effect::StartRun(start)] => start,
        other => panic!("expected one StartRun, got {other:?}"),
    }
}

/// `:action grep-logs` on the marked web01..web02, pattern and secret typed.
fn grep_form() -> Model {
    let mut m = with_actions(false);
    press(&mut m, "space space");
    press(&mut m, ":");
    type_text(&mut m, "action grep-logs");
    enter(&mut m);
    type_text(&mut m, "err|warn");
    focus(&mut m, "token");
    type_text(&mut m, SECRET);
    m
}

#[test]
fn filter_narrows_the_list_and_esc_clears_it() {
    let mut m = with_actions(false);
    press(&mut m, "6");
    assert_eq!(m.view, View::Actions);
    assert_eq!(names(&m), ["grep-logs", "restart-service", "uptime"]);
    press(&mut m, "/");
    assert_eq!(m.mode, Mode::Filter);
    // `j` is typed into the filter, not a move.
    type_text(&mut m, "logs");
    assert_eq!(names(&m), ["grep-logs"]);
    special(&mut m, KeyCode::Backspace);
    special(&mut m, KeyCode::Backspace);
    special(&mut m, KeyCode::Backspace);
    special(&mut m, KeyCode::Backspace);
    // Categories and descriptions match too.
    type_text(&mut m, "services");
    assert_eq!(names(&m), ["restart-service"]);
    enter(&mut m);
    assert_eq!(m.mode, Mode::Normal);
    assert_eq!(names(&m), ["restart-service"]);
    press(&mut m, "esc");
    assert_eq!(names(&m).len(), 3);
    press(&mut m, "G");
    assert_eq!(m.actions.current().unwrap().name, "uptime");
    press(&mut m, "k");
    assert_eq!(m.actions.current().unwrap().name, "restart-service");
    press(&mut m, "g g");
    assert_eq!(m.actions.current().unwrap().name, "grep-logs");
}

#[test]
fn enter_opens_the_form_with_defaults_for_the_target() {
    let mut m = with_actions(false);
    press(&mut m, ":");
    type_text(&mut m, "target env:staging");
    enter(&mut m);
    press(&mut m, "6 j");
    enter(&mut m);
    let form = m.actions.form.as_ref().expect("the form opened");
    assert_eq!(form.template.name, "restart-service");
    assert_eq!(form.selector, "env:staging");
    let hosts: Vec<&str> = form.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(hosts, ["web07", "web08"]);
    assert_eq!(field(&m, "unit").text, "");
    assert_eq!(field(&m, "unit").error.as_deref(), Some("required"));
    assert_eq!(field(&m, "mode").text, "restart");
    assert!(field(&m, "mode").error.is_none());
    // esc closes the form; keys go to the keymap again.
    special(&mut m, KeyCode::Esc);
    assert!(m.actions.form.is_none());
    press(&mut m, "1");
    assert_eq!(m.view, View::Fleet);
}

#[test]
fn validation_follows_each_keystroke() {
    let mut m = with_actions(false);
    press(&mut m, "6 j");
    enter(&mut m);
    // Typed keys go to the field: `j`, `6`, `:` and `q` included.
    type_text(&mut m, "nginx j6:q");
    assert_eq!(field(&m, "unit").text, "nginx j6:q");
    let e = field(&m, "unit")
        .error
        .clone()
        .expect("the space breaks the regex");
    assert!(e.contains("does not match"), "{e}");
    assert!(m.actions.form.as_ref().unwrap().plan.is_err());
    // Enter is refused with the reason; the next edit clears that (now stale) message.
    enter(&mut m);
    assert!(matches!(&m.message, Some(Message::Error(t)) if t.starts_with("cannot run")));
    for _ in 0..5 {
        special(&mut m, KeyCode::Backspace);
    }
    assert!(m.message.is_none(), "{:?}", m.message);
    type_text(&mut m, ".service");
    assert_eq!(field(&m, "unit").text, "nginx.service");
    assert!(field(&m, "unit").error.is_none());
    let plan = m.actions.form.as_ref().unwrap().plan.as_ref().unwrap();
    assert_eq!(
        plan.preview.groups[0].text,
        "systemctl restart nginx.service"
    );
    // C-u clears the field.
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    assert_eq!(field(&m, "unit").text, "");
    assert_eq!(m.view, View::Actions);
}

#[test]
fn enum_picker_cycles_and_ignores_typing() {
    let mut m = with_actions(false);
    press(&mut m, "6 j");
    enter(&mut m);
    focus(&mut m, "mode");
    special(&mut m, KeyCode::Right);
    assert_eq!(field(&m, "mode").text, "reload");
    special(&mut m, KeyCode::Right);
    special(&mut m, KeyCode::Right);
    assert_eq!(field(&m, "mode").text, "restart", "wraps around");
    special(&mut m, KeyCode::Left);
    assert_eq!(field(&m, "mode").text, "try-restart");
    type_text(&mut m, "xyz");
    assert_eq!(field(&m, "mode").text, "try-restart");
    // Backspace on a picker clears it: the default applies.
    special(&mut m, KeyCode::Backspace);
    assert_eq!(field(&m, "mode").text, "");
    assert!(field(&m, "mode").error.is_none());
    // Shift-tab goes back to the first field.
    special(&mut m, KeyCode::BackTab);
    type_text(&mut m, "sshd");
    let plan = m.actions.form.as_ref().unwrap().plan.as_ref().unwrap();
    assert_eq!(plan.preview.groups[0].text, "systemctl restart sshd");
}

#[test]
fn secret_goes_to_secrets_never_to_values_or_messages() {
    let mut m = grep_form();
    let form = m.actions.form.as_ref().unwrap();
    let inputs = form.inputs().unwrap();
    assert!(!inputs.values.contains_key("token"));
    assert_eq!(inputs.secrets["token"].expose(), SECRET);
    assert!(!format!("{m:?}").contains(SECRET), "Debug of the model");
    let effects = enter(&mut m);
    assert!(effects.is_empty(), "confirm = yes asks first");
    assert_eq!(m.mode, Mode::Confirm);
    assert!(!format!("{:?}", m.confirm).contains(SECRET));
    // web01 and web02 are prod, a protected environment: its name is typed.
    assert_eq!(
        m.confirm.as_ref().unwrap().required.as_deref(),
        Some("prod")
    );
    type_text(&mut m, "prod");
    let effects = enter(&mut m);
    let start = started(&effects);
    assert!(
        !format!("{effects:?}").contains(SECRET),
        "Debug of the effect"
    );
    let req = start.prepared.as_ref().unwrap().request();
    assert_eq!(
        req.action.as_ref().unwrap().params["token"],
        SECRET_MASK,
        "recorded as <secret>"
    );
    assert!(!req.display_command.contains(SECRET));
    assert!(req.display_command.contains("$FLEETDECK_SECRET_TOKEN"));
    // The secret reaches the host on stdin only.
    let stdin = String::from_utf8(req.spec.stdin.clone().unwrap()).unwrap();
    assert_eq!(stdin, format!("{SECRET}\n"));
    assert!(m.actions.form.is_none(), "the form left with the run");
    assert!(
        m.message
            .iter()
            .all(|msg| !format!("{msg:?}").contains(SECRET))
    );
}

#[test]
fn submit_confirm_typed_starts_the_prepared_request() {
    let mut m = with_actions(false);
    // web06 (prod), web07 (staging) and lab1 (lab: refused by the template's envs).
    press(&mut m, "G space");
    press(&mut m, ":");
    type_text(&mut m, "target web[06-07],lab1");
    enter(&mut m);
    press(&mut m, "space space");
    assert_eq!(m.marked.len(), 3, "{:?}", m.marked);
    press(&mut m, ":");
    type_text(&mut m, "action restart-service");
    enter(&mut m);
    type_text(&mut m, "nginx.service");
    focus(&mut m, "mode");
    special(&mut m, KeyCode::Right);
    let effects = enter(&mut m);
    assert!(effects.is_empty());
    assert_eq!(m.mode, Mode::Confirm);
    let confirm = m.confirm.as_ref().unwrap();
    // prod is protected and the template wants its name typed: both.
    assert_eq!(confirm.required.as_deref(), Some("prod restart-service"));
    assert_eq!(confirm.envs, ["prod", "staging"]);
    // Enter does nothing until the text matches; `y` is just a typed letter.
    assert!(enter(&mut m).is_empty());
    assert!(press(&mut m, "y").is_empty());
    assert_eq!(m.mode, Mode::Confirm);
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
    assert_eq!(m.view, View::Runs);
    assert_eq!(m.runs.last().unwrap().id, start.id);
    assert_eq!(
        m.runs.last().unwrap().command,
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
        m.confirm.as_ref().unwrap().required.as_deref(),
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
    assert_eq!(m.mode, Mode::Confirm);
    assert!(m.confirm.as_ref().unwrap().required.is_none());
    special(&mut m, KeyCode::Esc);
    assert_eq!(m.mode, Mode::Normal);
    assert!(m.actions.form.is_some(), "cancelling keeps the form");
    enter(&mut m);
    let effects = press(&mut m, "y");
    let req = started(&effects).prepared.as_ref().unwrap().request();
    assert_eq!(req.display_command, "uptime");
    assert_eq!(req.priority, Priority::Normal);
    assert_eq!(req.guards.lock_ttl, None);
    assert_eq!(req.targets.len(), 2);
}

#[test]
fn invalid_values_are_not_submitted() {
    let mut m = with_actions(false);
    press(&mut m, "space");
    press(&mut m, ":");
    type_text(&mut m, "action grep-logs");
    enter(&mut m);
    focus(&mut m, "lines");
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    type_text(&mut m, "0");
    assert!(field(&m, "lines").error.is_some());
    assert!(enter(&mut m).is_empty());
    assert_eq!(m.mode, Mode::Normal);
    assert!(
        matches!(&m.message, Some(Message::Error(t)) if t.contains("cannot run `grep-logs`")),
        "{:?}",
        m.message
    );
    // The focus went to the first field with a problem (pattern: required).
    let form = m.actions.form.as_ref().unwrap();
    assert_eq!(form.template.params[form.focus].name, "pattern");
}

#[test]
fn action_command_completes_and_suggests() {
    let mut m = with_actions(false);
    press(&mut m, ":");
    type_text(&mut m, "act");
    special(&mut m, KeyCode::Tab);
    assert_eq!(m.command.input, "action ");
    type_text(&mut m, "re");
    special(&mut m, KeyCode::Tab);
    assert_eq!(m.command.input, "action restart-service");
    special(&mut m, KeyCode::Esc);
    press(&mut m, ":");
    type_text(&mut m, "action restart-servce");
    enter(&mut m);
    assert!(m.actions.form.is_none());
    let Some(Message::Error(t)) = &m.message else {
        panic!("expected an error, got {:?}", m.message);
    };
    assert!(t.contains("no action named `restart-servce`"), "{t}");
    assert!(t.contains("did you mean `restart-service`?"), "{t}");
}

#[test]
fn unknown_action_mentions_files_that_did_not_load() {
    let mut m = with_actions(true);
    press(&mut m, ":");
    type_text(&mut m, "action broken");
    enter(&mut m);
    assert!(
        matches!(&m.message, Some(Message::Error(t)) if t.contains("did not load")),
        "{:?}",
        m.message
    );
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
    assert_eq!(m.view, View::History);
    // An ad-hoc run has no action to open.
    press(&mut m, "j a");
    assert!(m.actions.form.is_none());
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("not an action")));
    press(&mut m, "k a");
    assert_eq!(m.view, View::Actions);
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
    assert!(m.confirm.is_none());
    assert_eq!(m.view, View::Actions);
    let form = m.actions.form.as_ref().expect("the form opened");
    assert_eq!(form.template.name, "grep-logs");
    let hosts: Vec<&str> = form.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(hosts, ["db02"]);
    assert_eq!(field(&m, "pattern").text, "timeout");
    assert_eq!(field(&m, "token").text, "");
}

#[test]
fn reload_asks_the_loop_and_takes_the_answer() {
    let mut m = with_actions(false);
    press(&mut m, "6");
    assert_eq!(press(&mut m, "R"), [Effect::LoadActions]);
    let (_dir, catalog, problems) = load(true);
    update(
        &mut m,
        Msg::ActionsLoaded(super::update::ActionsLoad {
            catalog,
            problems,
            dir: PathBuf::from("/x/actions"),
        }),
    );
    assert!(!m.actions.problems.is_empty());
    assert_eq!(m.actions.dir, PathBuf::from("/x/actions"));
    assert!(matches!(&m.message, Some(Message::Error(t)) if t.contains("problem(s)")));
}

// ---- snapshots ----

fn sized(mut m: Model, width: u16, height: u16) -> Model {
    update(&mut m, Msg::Resize(width, height));
    m
}

fn list(broken: bool, width: u16, height: u16) -> String {
    let mut m = sized(with_actions(broken), width, height);
    press(&mut m, "6 j");
    text(&draw(&m, width, height))
}

#[test]
fn list_80x24() {
    insta::assert_snapshot!(list(false, 80, 24));
}

#[test]
fn list_200x50() {
    insta::assert_snapshot!(list(false, 200, 50));
}

#[test]
fn list_40x12() {
    insta::assert_snapshot!(list(false, 40, 12));
}

#[test]
fn list_with_problem_80x24() {
    let shown = list(true, 80, 24);
    assert!(shown.contains("actions/broken.toml:"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn list_with_problem_200x50() {
    insta::assert_snapshot!(list(true, 200, 50));
}

#[test]
fn list_with_problem_40x12() {
    insta::assert_snapshot!(list(true, 40, 12));
}

#[test]
fn empty_list_says_where_templates_go_80x24() {
    let mut m = model();
    m.actions.set_catalog(
        Catalog::default(),
        Vec::new(),
        PathBuf::from("/home/op/.config/fleetdeck/actions"),
    );
    press(&mut m, "6");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("examples/actions/"), "{shown}");
    insta::assert_snapshot!(shown);
}

fn invalid_form(width: u16, height: u16) -> String {
    let mut m = sized(with_actions(false), width, height);
    press(&mut m, "6 j");
    enter(&mut m);
    type_text(&mut m, "nginx service");
    text(&draw(&m, width, height))
}

#[test]
fn form_invalid_80x24() {
    let shown = invalid_form(80, 24);
    assert!(shown.contains("does not match"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn form_invalid_200x50() {
    insta::assert_snapshot!(invalid_form(200, 50));
}

#[test]
fn form_invalid_40x12() {
    insta::assert_snapshot!(invalid_form(40, 12));
}

fn valid_form(width: u16, height: u16) -> String {
    let m = sized(grep_form(), width, height);
    let shown = text(&draw(&m, width, height));
    assert!(!shown.contains(SECRET), "the secret is on screen:\n{shown}");
    assert!(
        !shown.contains("hunter"),
        "part of the secret is on screen:\n{shown}"
    );
    shown
}

#[test]
fn form_valid_preview_80x24() {
    let shown = valid_form(80, 24);
    assert!(shown.contains("RAW `pattern`"), "{shown}");
    assert!(shown.contains("•••••••••••"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn form_valid_preview_200x50() {
    let shown = valid_form(200, 50);
    // Quoting is visible: the plain value quoted, the raw one as typed.
    assert!(shown.contains("grep -E err|warn"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn form_valid_preview_40x12() {
    insta::assert_snapshot!(valid_form(40, 12));
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
        m.confirm.as_ref().map(|c| &c.kind),
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

#[test]
fn an_invalid_secret_is_never_quoted_back() {
    let dir = tempfile::tempdir().unwrap();
    let src = "description = \"Unlock\"\ncommand = \"unlock {pin}\"\n\n[[params]]\nname = \"pin\"\n\
               type = \"int\"\nsecret = true\nrequired = true\n";
    std::fs::write(dir.path().join("unlock.toml"), src).unwrap();
    let (catalog, problems) = Catalog::load_dir(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    let mut m = model();
    m.actions
        .set_catalog(catalog, problems, dir.path().to_path_buf());
    press(&mut m, "space");
    press(&mut m, ":");
    type_text(&mut m, "action unlock");
    enter(&mut m);
    type_text(&mut m, "12ab");
    let e = field(&m, "pin").error.clone().expect("not a number");
    assert!(!e.contains("12ab"), "{e}");
    assert!(enter(&mut m).is_empty());
    let shown = text(&draw(&m, 120, 30));
    assert!(!shown.contains("12ab"), "{shown}");
    assert!(
        !format!("{:?}", m.message).contains("12ab"),
        "{:?}",
        m.message
    );
    assert!(matches!(&m.message, Some(Message::Error(t)) if t.contains("parameter `pin`")));
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
    let mut m = super::run_tests::local_model();
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
    super::run_tests::run_through_the_queue(&mut m, &home, &settings, start).await;
    let run = &m.runs[0];
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
