//! The `:` command line: editing, tab completion, history (up/down) and the commands
//! themselves (`:target`, `:sort`, `:theme`, `:run`, `:rerun`, `:action`, `:help`, `:q`).

use std::collections::BTreeSet;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::fleet::{Facts, Sort, SortColumn, Target};
use super::model::Model;
use super::msg::Effect;
use super::popup::Popup;
use super::shell::Shell;
use crate::diag::did_you_mean;
use crate::inventory::selector::{FrameFacts, Selector};

/// Every command name, for completion and typo hints.
pub const COMMANDS: [&str; 9] = [
    "action", "help", "q", "quit", "rerun", "run", "sort", "target", "theme",
];

/// The most commands kept for up/down.
const HISTORY_CAP: usize = 200;

/// `:` (empty) or `!` (`run `): the command line takes the keys with `text` typed.
pub fn open(shell: &mut Shell, text: &str) {
    shell.command.input = text.to_string();
    shell.command.history_pos = None;
    shell.command.candidates.clear();
    shell.open(Popup::Command);
}

pub fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let shell = &mut model.shell;
    match key.code {
        KeyCode::Esc => close(shell),
        KeyCode::Char('c') if ctrl => close(shell),
        KeyCode::Enter => {
            let line = std::mem::take(&mut shell.command.input);
            close(shell);
            remember(shell, &line);
            return execute(model, line.trim());
        }
        KeyCode::Backspace => {
            if shell.command.input.pop().is_none() {
                close(shell);
            }
            shell.command.candidates.clear();
        }
        KeyCode::Tab => complete(model),
        KeyCode::Up => browse(shell, -1),
        KeyCode::Down => browse(shell, 1),
        KeyCode::Char(c) if !ctrl => {
            shell.command.input.push(c);
            shell.command.history_pos = None;
            shell.command.candidates.clear();
        }
        _ => {}
    }
    Vec::new()
}

fn close(shell: &mut Shell) {
    shell.close();
    shell.command.history_pos = None;
    shell.command.candidates.clear();
}

fn remember(shell: &mut Shell, line: &str) {
    let line = line.trim();
    let history = &mut shell.command.history;
    if line.is_empty() || history.last().is_some_and(|l| l == line) {
        return;
    }
    history.push(line.to_string());
    if history.len() > HISTORY_CAP {
        history.remove(0);
    }
}

/// Up (`step` -1) goes to older commands, down to newer ones and finally back to an empty line.
fn browse(shell: &mut Shell, step: isize) {
    let cl = &mut shell.command;
    if cl.history.is_empty() {
        return;
    }
    let len = cl.history.len() as isize;
    let at = cl.history_pos.map_or(len, |p| p as isize) + step;
    if at < 0 {
        return;
    }
    if at >= len {
        cl.history_pos = None;
        cl.input.clear();
        return;
    }
    cl.history_pos = Some(at as usize);
    cl.input = cl.history[at as usize].clone();
}

/// Tab: completes the word being typed to the longest common prefix of the candidates; when
/// several remain they are listed above the line.
fn complete(model: &mut Model) {
    let input = model.shell.command.input.clone();
    let (head, word, pool) = match input.split_once(' ') {
        None => (String::new(), input.as_str(), names(&COMMANDS)),
        Some((cmd, rest)) => match cmd {
            "theme" => (format!("{cmd} "), rest, model.shell.theme_names.clone()),
            "action" => (
                format!("{cmd} "),
                rest,
                model.actions.catalog.names().map(str::to_string).collect(),
            ),
            "sort" => (
                format!("{cmd} "),
                rest,
                SortColumn::ALL
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect(),
            ),
            "target" => {
                // Only the last term of a selector is completed: after `,`, `&`, `!` or `^`.
                let cut = rest.rfind([',', '&', '!', '^']).map_or(0, |i| i + 1);
                (
                    format!("{cmd} {}", &rest[..cut]),
                    &rest[cut..],
                    selector_terms(model),
                )
            }
            _ => return,
        },
    };
    let matches: Vec<String> = pool.into_iter().filter(|c| c.starts_with(word)).collect();
    let command = &mut model.shell.command;
    let Some(first) = matches.first() else {
        command.candidates.clear();
        model.shell.error(format!("nothing completes `{word}`"));
        return;
    };
    let common = matches
        .iter()
        .fold(first.clone(), |acc, m| common_prefix(&acc, m));
    let done = matches.len() == 1 && head.is_empty();
    command.input = format!("{head}{common}{}", if done { " " } else { "" });
    command.candidates = if matches.len() > 1 {
        matches
    } else {
        Vec::new()
    };
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn common_prefix(a: &str, b: &str) -> String {
    a.chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

/// What a selector term can be: host names, `@group`, `tag:T`, `env:E`.
fn selector_terms(model: &Model) -> Vec<String> {
    let inv = &model.inventory;
    let mut terms: BTreeSet<String> = inv.hosts().iter().map(|h| h.name.clone()).collect();
    terms.extend(inv.groups().into_iter().map(|g| format!("@{g}")));
    terms.extend(inv.tags().into_iter().map(|t| format!("tag:{t}")));
    terms.extend(inv.envs().into_iter().map(|e| format!("env:{e}")));
    terms.into_iter().collect()
}

fn execute(model: &mut Model, line: &str) -> Vec<Effect> {
    let (cmd, arg) = match line.split_once(' ') {
        Some((c, a)) => (c, a.trim()),
        None => (line, ""),
    };
    match cmd {
        "" => {}
        "q" | "quit" => return super::confirm::ask_quit(model),
        "help" => model.shell.open(Popup::Help { scroll: 0 }),
        "theme" if arg.is_empty() => {
            let text = format!(
                ":theme needs a name: {}",
                model.shell.theme_names.join(", ")
            );
            model.shell.error(text);
        }
        "theme" => return vec![Effect::LoadTheme(arg.to_string())],
        "target" => target(model, arg),
        "sort" => sort(model, arg),
        "run" => super::confirm::ask_run(model, arg),
        "action" => super::actions::keys::command(model, arg),
        "rerun" => super::runs::rerun::rerun_selected(model),
        other => {
            let hint = did_you_mean(other, COMMANDS.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            model
                .shell
                .error(format!("unknown command `:{other}`{hint} (tab completes)"));
        }
    }
    Vec::new()
}

/// `:sort COLUMN [asc|desc]` sorts the Fleet table (and the heatmap) by one column; `:sort`
/// alone goes back to the inventory's order.
fn sort(model: &mut Model, arg: &str) {
    let mut words = arg.split_whitespace();
    let sort = match words.next() {
        None => None,
        Some(name) => {
            let Some(column) = SortColumn::from_name(name) else {
                let names = SortColumn::ALL.map(SortColumn::name);
                let hint = did_you_mean(name, names.iter().copied())
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                model.shell.error(format!(
                    ":sort: no column `{name}`; {hint}columns: {}",
                    names.join(", ")
                ));
                return;
            };
            let mut sort = Sort::new(column);
            match words.next() {
                None => {}
                Some("asc") => sort.descending = false,
                Some("desc") => sort.descending = true,
                Some(other) => {
                    model
                        .shell
                        .error(format!(":sort: `{other}` is neither asc nor desc"));
                    return;
                }
            }
            Some(sort)
        }
    };
    let facts = Facts {
        metrics: &model.metrics_frame,
        connections: &model.connections,
        now: model.shell.now,
    };
    super::fleet::keys::set_sort(
        &mut model.fleet,
        &model.inventory,
        &facts,
        &mut model.shell,
        sort,
    );
}

/// `:target SELECTOR` shows only the selector's hosts; `:target` alone shows all again.
fn target(model: &mut Model, selector: &str) {
    let facts = Facts {
        metrics: &model.metrics_frame,
        connections: &model.connections,
        now: model.shell.now,
    };
    let fleet = &mut model.fleet;
    if selector.is_empty() {
        fleet.target = None;
        fleet.refresh(&model.inventory, &facts);
        model.shell.info("target cleared: all hosts");
        return;
    }
    // Metric terms are evaluated once, on the samples shown now: the target then stays put
    // (rows do not come and go under the cursor as values move).
    let frame_facts = FrameFacts {
        frame: &model.metrics_frame,
        now: model.shell.now,
    };
    let parsed = Selector::parse(selector);
    let by_samples = parsed.as_ref().is_ok_and(Selector::has_metric_terms);
    let resolved = parsed.and_then(|s| s.resolve_with_metrics(&model.inventory, &frame_facts));
    match resolved {
        Ok(hosts) => {
            // The fleet lists inventory hosts only; a plain ssh destination the selector
            // accepts (`pdsh -w` style) has no row to show.
            let names: BTreeSet<String> = hosts
                .iter()
                .filter(|h| h.in_inventory)
                .map(|h| h.name.clone())
                .collect();
            if names.is_empty() {
                model.shell.error(format!(
                    ":target: `{selector}` matches no host of hosts.toml; tab lists names, @groups, tag: and env:"
                ));
                return;
            }
            let folded = crate::inventory::nodeset::fold(names.iter().map(String::as_str));
            let when = if by_samples {
                " (by the samples shown now)"
            } else {
                ""
            };
            model.shell.info(format!(
                "target {selector}: {} hosts{when}: {folded}",
                names.len()
            ));
            fleet.target = Some(Target {
                selector: selector.to_string(),
                names,
            });
            // A new target starts unfiltered: a leftover `/` text would hide its hosts.
            fleet.filter.clear();
            fleet.cursor = 0;
            fleet.refresh(&model.inventory, &facts);
        }
        Err(e) => model.shell.error(format!(":target: {e}")),
    }
}
