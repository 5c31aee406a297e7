//! The Actions view driven by keys (filter, form, validation as typed, pickers, submit,
//! confirmation, `:action`, History's `a`), and TestBackend snapshots of the list, the form
//! and the confirmation. Templates are real files read by `Catalog::load_dir`. By topic: the
//! list (list.rs), the form (form.rs), submitting it (submit.rs); here, the shared fixtures.

mod form;
mod list;
mod submit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::action::Catalog;
use crate::engine::types::{ActionUse, Priority, RetryOn, SECRET_MASK};
use crate::engine::{HostResult, HostState, Limit, RunResult};
use crate::ui::app::model::{Model, View};
use crate::ui::app::popup::ConfirmKind;
use crate::ui::app::runs::RunStart;
use crate::ui::app::shell::Message;
use crate::ui::app::tests::{draw, key, model, press, text, type_text};
use crate::ui::app::update::{Effect, Msg, update};

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

pub(crate) fn with_actions(broken: bool) -> Model {
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

fn field<'a>(m: &'a Model, name: &str) -> &'a crate::ui::app::actions::form::Field {
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

fn sized(mut m: Model, width: u16, height: u16) -> Model {
    update(&mut m, Msg::Resize(width, height));
    m
}
