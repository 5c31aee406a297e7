//! The template list: `/` filter, `R` reload, `:action NAME` (completion, typo hints, files
//! that did not load), and TestBackend snapshots of the list, with and without problems.

use super::*;

#[test]
fn filter_narrows_the_list_and_esc_clears_it() {
    let mut m = with_actions(false);
    press(&mut m, "6");
    assert_eq!(m.shell.view, View::Actions);
    assert_eq!(names(&m), ["grep-logs", "restart-service", "uptime"]);
    press(&mut m, "/");
    assert_eq!(m.shell.popup.name(), "filter");
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
    assert_eq!(m.shell.popup.name(), "none");
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
fn reload_asks_the_loop_and_takes_the_answer() {
    let mut m = with_actions(false);
    press(&mut m, "6");
    assert_eq!(press(&mut m, "R"), [Effect::LoadActions]);
    let (_dir, catalog, problems) = load(true);
    update(
        &mut m,
        Msg::ActionsLoaded(crate::ui::app::update::ActionsLoad {
            catalog,
            problems,
            dir: PathBuf::from("/x/actions"),
        }),
    );
    assert!(!m.actions.problems.is_empty());
    assert_eq!(m.actions.dir, PathBuf::from("/x/actions"));
    assert!(matches!(&m.shell.message, Some(Message::Error(t)) if t.contains("problem(s)")));
}

#[test]
fn action_command_completes_and_suggests() {
    let mut m = with_actions(false);
    press(&mut m, ":");
    type_text(&mut m, "act");
    special(&mut m, KeyCode::Tab);
    assert_eq!(m.shell.command.input, "action ");
    type_text(&mut m, "re");
    special(&mut m, KeyCode::Tab);
    assert_eq!(m.shell.command.input, "action restart-service");
    special(&mut m, KeyCode::Esc);
    press(&mut m, ":");
    type_text(&mut m, "action restart-servce");
    enter(&mut m);
    assert!(m.actions.form.is_none());
    let Some(Message::Error(t)) = &m.shell.message else {
        panic!("expected an error, got {:?}", m.shell.message);
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
        matches!(&m.shell.message, Some(Message::Error(t)) if t.contains("did not load")),
        "{:?}",
        m.shell.message
    );
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
