//! The parameter form: opening it for the targets, validation as typed, pickers, secrets
//! (never in values, messages or Debug), invalid values refused, and form snapshots.

use super::*;

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
    assert_eq!(m.shell.view, View::Fleet);
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
    assert!(matches!(&m.shell.message, Some(Message::Error(t)) if t.starts_with("cannot run")));
    for _ in 0..5 {
        special(&mut m, KeyCode::Backspace);
    }
    assert!(m.shell.message.is_none(), "{:?}", m.shell.message);
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
    assert_eq!(m.shell.view, View::Actions);
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
    assert_eq!(m.shell.popup.name(), "confirm");
    assert!(!format!("{:?}", m.shell.popup.confirm()).contains(SECRET));
    // web01 and web02 are prod, a protected environment: its name is typed.
    assert_eq!(
        m.shell.popup.confirm().unwrap().required.as_deref(),
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
        m.shell
            .message
            .iter()
            .all(|msg| !format!("{msg:?}").contains(SECRET))
    );
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
    assert_eq!(m.shell.popup.name(), "none");
    assert!(
        matches!(&m.shell.message, Some(Message::Error(t)) if t.contains("cannot run `grep-logs`")),
        "{:?}",
        m.shell.message
    );
    // The focus went to the first field with a problem (pattern: required).
    let form = m.actions.form.as_ref().unwrap();
    assert_eq!(form.template.params[form.focus].name, "pattern");
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
        !format!("{:?}", m.shell.message).contains("12ab"),
        "{:?}",
        m.shell.message
    );
    assert!(matches!(&m.shell.message, Some(Message::Error(t)) if t.contains("parameter `pin`")));
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
