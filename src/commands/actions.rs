//! `fleetdeck actions [show NAME]` and `fleetdeck run --action NAME -p key=value`: the
//! catalog for people, and an action run. Every check (parameters, secrets, refused hosts,
//! confirmation) happens before anything runs or is recorded; failures exit 2.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use super::prompt::{ask, read_hidden};
use super::run::{check_jump_chains, check_known_hosts_files, run_request};
use crate::action::plan::{self, Inputs, Overrides, Plan, Problem};
use crate::action::secret::{self, SecretValue};
use crate::action::{Catalog, Confirm, FormKind, ParamType, Template};
use crate::cli::{ActionsArgs, ActionsCommand, RunArgs, RunOptions};
use crate::config::units::format_duration;
use crate::config::{Home, Settings};
use crate::diag::{Diagnostic, Error};
use crate::engine::types::{Priority, RetryOn};
use crate::ui::printers::write_stdout;

/// `fleetdeck actions [--json] [show NAME]`.
pub fn run(home: &Home, args: &ActionsArgs) -> Result<ExitCode, Error> {
    let (catalog, problems) = Catalog::load_partial(home);
    match &args.command {
        Some(ActionsCommand::Show { name }) => {
            let template = catalog
                .find(name)
                .map_err(|e| with_problems(e, &problems))?;
            write_stdout(&render_show(template))?;
        }
        None if args.json => {
            let mut text = String::new();
            for t in catalog.templates() {
                let line = serde_json::json!({
                    "name": t.name,
                    "category": t.category,
                    "description": t.description,
                    "file": t.file.display().to_string(),
                });
                text.push_str(&line.to_string());
                text.push('\n');
            }
            write_stdout(&text)?;
        }
        None => write_stdout(&render_list(&catalog, home))?,
    }
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    // The rest is listed; a broken file still makes the exit code say so.
    for d in &problems {
        eprintln!("{d}");
    }
    Ok(ExitCode::from(2))
}

/// `message`, followed by the catalog's problems (a broken file may be why a name is
/// unknown).
pub(super) fn with_problems(message: String, problems: &[Diagnostic]) -> Error {
    if problems.is_empty() {
        return Error::Invalid(message);
    }
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    Error::Invalid(format!(
        "{message}\nthese action files have problems:\n{}",
        lines.join("\n")
    ))
}

fn render_list(catalog: &Catalog, home: &Home) -> String {
    let dir = home.actions_dir();
    if catalog.is_empty() {
        return format!(
            "no actions in {}: add actions/NAME.toml files (docs/actions.md; examples/actions \
             has samples)\n",
            dir.display()
        );
    }
    let rows: Vec<[String; 3]> = catalog
        .templates()
        .iter()
        .map(|t| [t.name.clone(), t.category.clone(), t.description.clone()])
        .collect();
    let headers = ["NAME", "CATEGORY", "DESCRIPTION"];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([headers[i].len()])
            .max()
            .unwrap_or(0)
    };
    let (w0, w1) = (width(0), width(1));
    let mut out = format!("{:w0$}  {:w1$}  {}\n", headers[0], headers[1], headers[2]);
    for r in &rows {
        out.push_str(&format!("{:w0$}  {:w1$}  {}\n", r[0], r[1], r[2]));
    }
    let noun = if rows.len() == 1 { "action" } else { "actions" };
    out.push_str(&format!("{} {noun} in {}\n", rows.len(), dir.display()));
    out
}

/// Everything an operator needs to know about one action before running it.
pub fn render_show(t: &Template) -> String {
    let mut out = t.name.clone();
    if !t.description.is_empty() {
        out.push_str(&format!(" — {}", t.description));
    }
    out.push('\n');
    // Continuation lines of a multi-line value line up under its first line.
    let mut field =
        |k: &str, v: String| out.push_str(&format!("  {k:<11} {}\n", indent(v.trim_end(), 14)));
    if !t.category.is_empty() {
        field("category", t.category.clone());
    }
    field("file", t.file.display().to_string());
    if let Some(c) = &t.command {
        field("command", c.clone());
    }
    if let Some(a) = &t.agent {
        let json = serde_json::to_string(&a.table).unwrap_or_default();
        field("agent op", format!("{} {json}", a.op));
        if t.command.is_none() {
            field("", "(agent hosts only: no shell equivalent)".to_string());
        }
    }
    let any = |v: &[String]| {
        if v.is_empty() {
            "any".to_string()
        } else {
            v.join(", ")
        }
    };
    field("envs", any(&t.envs));
    field("tags", any(&t.tags));
    field("confirm", t.confirm.as_str().to_string());
    field(
        "lock",
        if t.requires_lock {
            t.lock_ttl.map_or_else(
                || "per host, [locks] ttl".to_string(),
                |d| format!("per host, ttl {}", format_duration(d)),
            )
        } else {
            "none".to_string()
        },
    );
    field(
        "concurrent",
        if t.allow_concurrent {
            "allowed"
        } else {
            "one action per host at a time"
        }
        .to_string(),
    );
    let opt = |v: Option<String>| v.unwrap_or_else(|| "config.toml".to_string());
    field(
        "shape",
        format!(
            "fanout {} · batch {} · max-fail {} · timeout {} · priority {}",
            opt(t.fanout.map(|f| f.to_string())),
            t.batch.map_or_else(|| "-".to_string(), |b| b.to_string()),
            t.max_fail
                .map_or_else(|| "-".to_string(), |b| b.to_string()),
            opt(t.timeout.map(format_duration)),
            t.priority.as_str()
        ),
    );
    let s = &t.success;
    let mut success = vec![format!(
        "exit {}",
        if s.exit_codes.is_empty() {
            "0".to_string()
        } else {
            s.exit_codes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    )];
    for c in &s.output_contains {
        success.push(format!("output contains {c:?}"));
    }
    for c in &s.output_not_contains {
        success.push(format!("output lacks {c:?}"));
    }
    if let Some(d) = s.max_duration {
        success.push(format!("within {}", format_duration(d)));
    }
    field("success", success.join(" · "));
    let r = &t.retry;
    field(
        "retry",
        if r.attempts <= 1 {
            "no".to_string()
        } else {
            let on: Vec<&str> = r.on.iter().map(|o| retry_on(*o)).collect();
            format!(
                "{} attempts, backoff {} up to {}, on {}",
                r.attempts,
                format_duration(r.backoff),
                format_duration(r.max_backoff),
                on.join(", ")
            )
        },
    );
    if t.params.is_empty() {
        out.push_str("  no parameters\n");
        return out;
    }
    out.push_str("  parameters:\n");
    for p in &t.params {
        let mut bits = vec![p.type_summary()];
        if p.required {
            bits.push("required".to_string());
        }
        if let Some(d) = &p.default {
            bits.push(format!("default {d:?}"));
        }
        if let Some(re) = &p.regex_text {
            bits.push(format!("regex {re:?}"));
        }
        if p.secret {
            bits.push("secret".to_string());
        }
        if p.kind == ParamType::Raw {
            bits.push("RAW: inserted unquoted".to_string());
        }
        out.push_str(&format!("    {:<12} {}", p.name, bits.join(", ")));
        if !p.description.is_empty() {
            out.push_str(&format!("  — {}", p.description));
        }
        out.push('\n');
    }
    out
}

/// `text` with every line after the first indented by `by` spaces.
fn indent(text: &str, by: usize) -> String {
    text.replace('\n', &format!("\n{}", " ".repeat(by)))
}

fn retry_on(on: RetryOn) -> &'static str {
    match on {
        RetryOn::Unreachable => "unreachable",
        RetryOn::Timeout => "timeout",
        RetryOn::Failed => "failed",
        RetryOn::Error => "error",
    }
}

/// `fleetdeck run -t SEL --action NAME -p k=v …`.
pub fn run_action(home: &Home, settings: &Settings, args: &RunArgs) -> Result<ExitCode, Error> {
    let name = args.action.as_deref().unwrap_or_default();
    if !args.command.is_empty() {
        return Err(Error::Invalid(format!(
            "give either a command after `--` or --action {name}, not both; nothing was run"
        )));
    }
    let (catalog, problems) = Catalog::load_partial(home);
    let template = catalog
        .find(name)
        .map_err(|e| with_problems(e, &problems))?;
    let (hosts, selector) = super::run::targets(home, settings, &args.options, &args.targets)?;
    check_known_hosts_files(&args.options)?;

    let mut inputs = parse_params(template, &args.params)?;
    ask_missing_secrets(template, &mut inputs)?;
    let how = Launch {
        options: &args.options,
        priority: args.priority,
        confirm: args.confirm.as_deref(),
    };
    let plan = plan_on(template, &inputs, hosts, &selector, settings, &how)?;
    launch(home, settings, template, plan, &how)
}

/// How an action run was asked for besides its parameters (shared by `run --action` and
/// `history rerun`).
pub(super) struct Launch<'a> {
    pub options: &'a RunOptions,
    pub priority: Option<Priority>,
    /// `--confirm NAME`, for a template with `confirm = "typed"` and no terminal.
    pub confirm: Option<&'a str>,
}

/// Asks for the secrets `inputs` lacks, once the plain values check out (so nobody types a
/// password only to learn of a typo); without a terminal, says how to pass them.
pub(super) fn ask_missing_secrets(template: &Template, inputs: &mut Inputs) -> Result<(), Error> {
    let missing_secrets: Vec<String> = template
        .params
        .iter()
        .filter(|p| p.secret && !inputs.secrets.contains_key(&p.name))
        .map(|p| p.name.clone())
        .collect();
    if let Err(e) = plan::resolve_values(template, inputs) {
        let left: Vec<&Problem> = e
            .problems
            .iter()
            .filter(|p| !matches!(p, Problem::Missing { name } if missing_secrets.contains(name)))
            .collect();
        if !left.is_empty() {
            return Err(invalid_params(template, &left));
        }
    }
    for name in &missing_secrets {
        inputs
            .secrets
            .insert(name.clone(), prompt_secret(template, name)?);
    }
    Ok(())
}

/// The plan of `template` on `hosts`; any refused host is an error listing each with why.
pub(super) fn plan_on(
    template: &Template,
    inputs: &Inputs,
    hosts: Vec<crate::inventory::Host>,
    selector: &str,
    settings: &Settings,
    how: &Launch,
) -> Result<Plan, Error> {
    let o = how.options;
    let overrides = Overrides {
        id: None,
        fanout: o.fanout,
        batch: o.batch,
        max_fail: o.max_fail,
        timeout: o.timeout,
        connect_timeout: o.connect_timeout,
        idle_timeout: o.idle_timeout,
        priority: how.priority,
    };
    let plan = plan::build(template, inputs, hosts, selector, settings, &overrides)
        .map_err(|e| invalid_params(template, &e.problems.iter().collect::<Vec<_>>()))?;
    if !plan.refused.is_empty() {
        let lines: Vec<String> = plan
            .refused
            .iter()
            .map(|r| format!("  {}: {}", r.host, r.reason))
            .collect();
        return Err(Error::Invalid(format!(
            "action `{}` does not apply to {} of the selected hosts:\n{}\nnothing was run \
             (narrow the selector, e.g. with &env:NAME or &tag:NAME)",
            template.name,
            plan.refused.len(),
            lines.join("\n")
        )));
    }
    Ok(plan)
}

/// `--dry-run` prints the preview; otherwise the template's confirmation, then the run.
pub(super) fn launch(
    home: &Home,
    settings: &Settings,
    template: &Template,
    plan: Plan,
    how: &Launch,
) -> Result<ExitCode, Error> {
    check_jump_chains(&plan.request.targets, how.options)?;
    if how.options.dry_run {
        write_stdout(&render_preview(template, &plan))?;
        return Ok(ExitCode::SUCCESS);
    }
    confirm_action(template, &plan, how)?;
    tracing::info!(action = %template.name, "action run requested");
    run_request(home, settings, plan.request, how.options)
}

/// `-p key=value` pairs into plain values and secrets (from `env:`/`file:`).
pub(super) fn parse_params(template: &Template, params: &[String]) -> Result<Inputs, Error> {
    let mut inputs = Inputs::default();
    let mut seen = BTreeMap::new();
    for text in params {
        let Some((key, value)) = text.split_once('=') else {
            return Err(Error::Invalid(format!(
                "-p {text}: write it as KEY=VALUE; nothing was run"
            )));
        };
        if seen.insert(key.to_string(), ()).is_some() {
            return Err(Error::Invalid(format!(
                "parameter `{key}` is given twice; nothing was run"
            )));
        }
        match template.param(key) {
            Some(p) if p.secret => {
                let source = secret::parse_source(key, value)
                    .map_err(|e| Error::Invalid(format!("{e}; nothing was run")))?;
                let value = secret::resolve(key, &source)
                    .map_err(|e| Error::Invalid(format!("{e}; nothing was run")))?;
                inputs.secrets.insert(key.to_string(), value);
            }
            _ => {
                inputs.values.insert(key.to_string(), value.to_string());
            }
        }
    }
    Ok(inputs)
}

pub(super) fn invalid_params(template: &Template, problems: &[&Problem]) -> Error {
    let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    Error::Invalid(format!(
        "action `{}`:\n{}\nnothing was run (fleetdeck actions show {} lists its parameters)",
        template.name,
        lines.join("\n"),
        template.name
    ))
}

/// Asks for a secret on the terminal, echo off; without one, says how to pass it.
fn prompt_secret(template: &Template, name: &str) -> Result<SecretValue, Error> {
    let how = format!(
        "pass -p {name}=env:VAR or -p {name}=file:PATH (a value on the command line is refused)"
    );
    if !std::io::stdin().is_terminal() {
        return Err(Error::Invalid(format!(
            "action `{}` needs secret `{name}` and stdin is not a terminal to ask for it: {how}; \
             nothing was run",
            template.name
        )));
    }
    let value = read_hidden(&format!("{} ({}): ", name, template.name))
        .ok_or_else(|| Error::Invalid(format!("cannot read secret `{name}`: {how}")))?;
    SecretValue::new(value).map_err(|e| Error::Invalid(format!("secret `{name}`: {e}")))
}

/// The template's confirmation level: `yes` asks y/N (or `--yes`); `typed` needs the name
/// typed (or `--yes --confirm NAME`).
fn confirm_action(template: &Template, plan: &Plan, how: &Launch) -> Result<(), Error> {
    let yes = how.options.yes;
    let name = &template.name;
    match template.confirm {
        Confirm::None => return Ok(()),
        Confirm::Yes if yes => return Ok(()),
        Confirm::Typed if yes => {
            return match how.confirm {
                Some(c) if c == name => Ok(()),
                Some(c) => Err(Error::Invalid(format!(
                    "--confirm {c} does not match the action's name `{name}`; nothing was run"
                ))),
                None => Err(Error::Invalid(format!(
                    "action `{name}` must be confirmed by name: pass --confirm {name} as well as \
                     --yes; nothing was run"
                ))),
            };
        }
        _ => {}
    }
    if !std::io::stdin().is_terminal() {
        let flags = if template.confirm == Confirm::Typed {
            format!("--yes --confirm {name}")
        } else {
            "--yes".to_string()
        };
        return Err(Error::Invalid(format!(
            "action `{name}` asks for confirmation and stdin is not a terminal: pass {flags}; \
             nothing was run"
        )));
    }
    eprint!("{}", render_preview(template, plan));
    let count = plan.request.targets.len();
    let folded = plan.request.folded_targets();
    if template.confirm == Confirm::Typed {
        let answer = ask(&format!(
            "Type {name} to run it on {count} host(s) {folded}: "
        ))?;
        if answer.trim() != name {
            return Err(Error::Invalid(format!(
                "not confirmed (expected `{name}`); nothing was run"
            )));
        }
    } else {
        let answer = ask(&format!("Run {name} on {count} host(s) {folded}? [y/N] "))?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(Error::Invalid("not confirmed; nothing was run".to_string()));
        }
    }
    Ok(())
}

/// What will run where: each distinct form with its hosts, raw parameters flagged, and the
/// run's shape and guards.
pub fn render_preview(template: &Template, plan: &Plan) -> String {
    let r = &plan.request;
    let count = r.targets.len();
    let folded = r.folded_targets();
    let mut out = format!("action {} on {count} host(s): {folded}\n", template.name);
    for g in &plan.preview.groups {
        let what = match g.kind {
            FormKind::Command => "command",
            FormKind::AgentOp => "agent operation",
        };
        out.push_str(&format!(
            "  {} ({}) · {what}:\n    {}\n",
            g.hosts,
            g.count,
            indent(g.text.trim_end(), 4)
        ));
    }
    for (name, value) in &plan.preview.raw_params {
        out.push_str(&format!(
            "  RAW parameter {name} = {value:?} is inserted unquoted\n"
        ));
    }
    for name in &plan.preview.secret_params {
        out.push_str(&format!(
            "  secret {name}: sent on the command's stdin, never shown or recorded\n"
        ));
    }
    let off = |d: Option<std::time::Duration>| d.map_or_else(|| "off".to_string(), format_duration);
    out.push_str(&format!(
        "  fanout {} · batch {} · max-fail {} · timeout {} · priority {}",
        r.fanout,
        r.batch.map_or_else(|| "-".to_string(), |b| b.to_string()),
        r.max_fail
            .map_or_else(|| "-".to_string(), |b| b.to_string()),
        off(r.spec.timeout),
        r.priority.as_str()
    ));
    if let Some(ttl) = r.guards.lock_ttl {
        out.push_str(&format!(" · lock ttl {}", format_duration(ttl)));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::template;
    use std::path::Path;

    #[test]
    fn show_lists_params_guards_and_applicability() {
        let t = template::parse(
            Path::new("/h/actions/x.toml"),
            "description = \"d\"\ncommand = \"run {a} {b}\"\nenvs = [\"prod\"]\nconfirm = \"typed\"\n[[params]]\nname = \"a\"\ntype = \"raw\"\nregex = \"[a-z]+\"\n[[params]]\nname = \"b\"\nsecret = true\n",
        )
        .unwrap();
        let text = render_show(&t);
        assert!(text.starts_with("x — d\n"), "{text}");
        assert!(text.contains("  envs        prod\n"), "{text}");
        assert!(text.contains("  confirm     typed\n"), "{text}");
        assert!(
            text.contains("    a            raw, regex \"[a-z]+\", RAW: inserted unquoted"),
            "{text}"
        );
        assert!(text.contains("    b            string, secret"), "{text}");
    }

    #[test]
    fn params_are_split_once_and_literal_secrets_refused() {
        let t = template::parse(
            Path::new("/h/actions/x.toml"),
            "command = \"echo {a} {pw}\"\n[[params]]\nname = \"a\"\n[[params]]\nname = \"pw\"\nsecret = true\n",
        )
        .unwrap();
        let inputs = parse_params(&t, &["a=b=c".into()]).unwrap();
        assert_eq!(inputs.values.get("a").map(String::as_str), Some("b=c"));
        assert!(parse_params(&t, &["a".into()]).is_err());
        assert!(parse_params(&t, &["a=1".into(), "a=2".into()]).is_err());
        let e = parse_params(&t, &["pw=hunter2".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("shell history") && !e.contains("hunter2"), "{e}");
    }
}
