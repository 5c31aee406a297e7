//! One action template: the file format (`actions/<name>.toml`) and its validation into a
//! [`Template`]. Every problem is a diagnostic at file:line:column. docs/actions.md documents
//! the format.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::param::{Param, ParamType, valid_name};
use super::render::{self, Segment};
use crate::config::toml_diag::parse_toml;
use crate::config::units::HumanDuration;
use crate::diag::Diagnostic;
use crate::engine::Limit;
use crate::engine::types::{Priority, RetryOn, RetryPolicy, SuccessCriteria};

/// How much the operator must confirm before the action runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confirm {
    /// No question (protected environments still ask).
    #[default]
    None,
    /// A yes/no question (or `--yes`).
    Yes,
    /// The operator types the action's name (or `--yes --confirm NAME`).
    Typed,
}

impl Confirm {
    pub fn as_str(self) -> &'static str {
        match self {
            Confirm::None => "none",
            Confirm::Yes => "yes",
            Confirm::Typed => "typed",
        }
    }
}

/// An agent operation with `{param}` placeholders in its values: the `[agent]` table as
/// written (`op` is `file_validation` or `service_health`).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentTemplate {
    /// `file_validation` or `service_health`.
    pub op: String,
    /// The table, `op` included; string values may hold placeholders.
    pub table: toml::Table,
    /// The parameters its values use, in order of first use.
    pub params: Vec<String>,
}

/// A validated action template.
#[derive(Debug, Clone)]
pub struct Template {
    /// `[a-z0-9][a-z0-9_-]*`; the file stem unless the file says otherwise.
    pub name: String,
    pub description: String,
    pub category: String,
    /// The file it came from.
    pub file: PathBuf,
    /// The shell command template (SSH and local hosts; also agent hosts without `[agent]`).
    pub command: Option<String>,
    /// The agent operation, for agent hosts.
    pub agent: Option<AgentTemplate>,
    pub confirm: Confirm,
    pub requires_lock: bool,
    /// The lock's TTL; `None` is `[locks] ttl`.
    pub lock_ttl: Option<Duration>,
    pub allow_concurrent: bool,
    /// Environments it applies to; empty is any.
    pub envs: Vec<String>,
    /// A host must have one of these tags; empty is any.
    pub tags: Vec<String>,
    pub fanout: Option<u32>,
    pub batch: Option<Limit>,
    pub max_fail: Option<Limit>,
    /// Command timeout; `None` is `[run] command_timeout`.
    pub timeout: Option<Duration>,
    pub priority: Priority,
    pub success: SuccessCriteria,
    pub retry: RetryPolicy,
    pub params: Vec<Param>,
}

impl Template {
    /// The declared parameter `name`.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Whether a parameter inserted verbatim (`raw`) is declared.
    pub fn has_raw(&self) -> bool {
        self.params.iter().any(|p| p.kind == ParamType::Raw)
    }

    /// The command's segments (validated at load, so this does not fail in practice).
    pub fn command_segments(&self) -> Vec<Segment> {
        self.command
            .as_deref()
            .and_then(|c| render::parse(c).ok())
            .unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    command: Option<Spanned<String>>,
    #[serde(default)]
    agent: Option<Spanned<toml::Table>>,
    #[serde(default)]
    confirm: Confirm,
    #[serde(default)]
    requires_lock: bool,
    #[serde(default)]
    lock_ttl: Option<Spanned<HumanDuration>>,
    #[serde(default)]
    allow_concurrent: bool,
    #[serde(default)]
    envs: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    fanout: Option<Spanned<u32>>,
    #[serde(default)]
    batch: Option<Spanned<String>>,
    #[serde(default)]
    max_fail: Option<Spanned<String>>,
    #[serde(default)]
    timeout: Option<HumanDuration>,
    #[serde(default)]
    priority: Option<Spanned<String>>,
    #[serde(default)]
    success: Option<SuccessFile>,
    #[serde(default)]
    retry: Option<Spanned<RetryFile>>,
    #[serde(default)]
    params: Vec<Spanned<ParamFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuccessFile {
    #[serde(default)]
    exit_codes: Vec<i32>,
    #[serde(default)]
    output_contains: Vec<String>,
    #[serde(default)]
    output_not_contains: Vec<String>,
    #[serde(default)]
    max_duration: Option<HumanDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryFile {
    #[serde(default)]
    attempts: Option<u32>,
    #[serde(default)]
    backoff: Option<HumanDuration>,
    #[serde(default)]
    max_backoff: Option<HumanDuration>,
    #[serde(default)]
    on: Option<Vec<RetryOn>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamFile {
    name: Spanned<String>,
    #[serde(rename = "type", default)]
    kind: Option<Spanned<String>>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    default: Option<Spanned<toml::Value>>,
    #[serde(default)]
    regex: Option<Spanned<String>>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    secret: bool,
    #[serde(default)]
    min: Option<i64>,
    #[serde(default)]
    max: Option<i64>,
    #[serde(default)]
    choices: Vec<String>,
}

/// Parses and validates one template file. `path`'s stem is the default name.
pub fn parse(path: &Path, src: &str) -> Result<Template, Vec<Diagnostic>> {
    let file: TemplateFile = parse_toml(path, src).map_err(|d| vec![d])?;
    let mut diags = Vec::new();
    let at = |offset: usize, msg: String| Diagnostic::at_offset(path, src, offset, msg);

    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (name, name_at) = match &file.name {
        Some(n) => (n.get_ref().clone(), n.span().start),
        None => (stem.clone(), 0),
    };
    if !valid_action_name(&name) {
        let why = if file.name.is_none() {
            format!(
                "the file name gives the action name `{name}`, which is not [a-z0-9][a-z0-9_-]*: \
                 rename the file or set `name`"
            )
        } else {
            format!("action name `{name}` is not [a-z0-9][a-z0-9_-]*")
        };
        diags.push(at(name_at, why));
    }

    let params = params(&file.params, &at, &mut diags);
    let declared: BTreeSet<&str> = params.iter().map(|p| p.name.as_str()).collect();

    if file.command.is_none() && file.agent.is_none() {
        diags.push(at(
            0,
            "an action needs a `command` (a shell command template) or an `[agent]` operation"
                .to_string(),
        ));
    }
    let mut used: BTreeSet<String> = BTreeSet::new();
    if let Some(command) = &file.command {
        check_command(command, src, &declared, &mut used, &at, &mut diags);
    }
    let agent = file
        .agent
        .as_ref()
        .and_then(|a| agent_template(a, src, &params, &mut used, &at, &mut diags));
    for p in &file.params {
        let name = p.get_ref().name.get_ref();
        if !used.contains(name) {
            diags.push(at(
                p.get_ref().name.span().start,
                format!(
                    "parameter `{name}` is declared but neither `command` nor `[agent]` uses it"
                ),
            ));
        }
    }

    let limit = |v: &Option<Spanned<String>>, key: &str, diags: &mut Vec<Diagnostic>| {
        v.as_ref().and_then(|s| match Limit::parse(s.get_ref()) {
            Ok(l) => Some(l),
            Err(e) => {
                diags.push(at(s.span().start, format!("{key}: {e}")));
                None
            }
        })
    };
    let batch = limit(&file.batch, "batch", &mut diags);
    let max_fail = limit(&file.max_fail, "max_fail", &mut diags);
    let fanout = file.fanout.as_ref().and_then(|f| {
        let n = *f.get_ref();
        if (1..=4096).contains(&n) {
            Some(n)
        } else {
            diags.push(at(f.span().start, "fanout must be 1 to 4096".to_string()));
            None
        }
    });
    let priority = match &file.priority {
        Some(p) => Priority::parse(p.get_ref()).unwrap_or_else(|e| {
            diags.push(at(p.span().start, e));
            Priority::Normal
        }),
        None => Priority::Normal,
    };
    let lock_ttl = file.lock_ttl.as_ref().and_then(|t| {
        if t.get_ref().0.is_zero() {
            diags.push(at(
                t.span().start,
                "lock_ttl must be more than 0s".to_string(),
            ));
            None
        } else {
            Some(t.get_ref().0)
        }
    });
    let success = file
        .success
        .map(|s| SuccessCriteria {
            exit_codes: s.exit_codes,
            output_contains: s.output_contains,
            output_not_contains: s.output_not_contains,
            max_duration: s.max_duration.map(|d| d.0),
        })
        .unwrap_or_default();
    let retry = retry(file.retry.as_ref(), &at, &mut diags);

    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Template {
        name,
        description: file.description,
        category: file.category,
        file: path.to_path_buf(),
        command: file.command.map(Spanned::into_inner),
        agent,
        confirm: file.confirm,
        requires_lock: file.requires_lock,
        lock_ttl,
        allow_concurrent: file.allow_concurrent,
        envs: file.envs,
        tags: file.tags,
        fanout,
        batch,
        max_fail,
        timeout: file.timeout.map(|t| t.0),
        priority,
        success,
        retry,
        params,
    })
}

/// An action name: `[a-z0-9][a-z0-9_-]*`.
pub fn valid_action_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn retry(
    file: Option<&Spanned<RetryFile>>,
    at: &impl Fn(usize, String) -> Diagnostic,
    diags: &mut Vec<Diagnostic>,
) -> RetryPolicy {
    let mut policy = RetryPolicy::default();
    let Some(spanned) = file else {
        return policy;
    };
    let r = spanned.get_ref();
    if let Some(n) = r.attempts {
        if (1..=100).contains(&n) {
            policy.attempts = n;
        } else {
            diags.push(at(
                spanned.span().start,
                "retry attempts must be 1 to 100 (1 means no retry)".to_string(),
            ));
        }
    }
    if let Some(b) = r.backoff {
        policy.backoff = b.0;
    }
    if let Some(b) = r.max_backoff {
        policy.max_backoff = b.0;
    }
    if policy.max_backoff < policy.backoff {
        diags.push(at(
            spanned.span().start,
            "retry max_backoff must be at least backoff".to_string(),
        ));
    }
    if let Some(on) = &r.on {
        policy.on.clone_from(on);
    }
    policy
}

fn params(
    files: &[Spanned<ParamFile>],
    at: &impl Fn(usize, String) -> Diagnostic,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Param> {
    let mut out: Vec<Param> = Vec::new();
    for spanned in files {
        let p = spanned.get_ref();
        let name = p.name.get_ref().clone();
        let name_at = p.name.span().start;
        if !valid_name(&name) {
            diags.push(at(
                name_at,
                format!("parameter name `{name}` is not [a-z][a-z0-9_]*"),
            ));
            continue;
        }
        if out.iter().any(|o| o.name == name) {
            diags.push(at(name_at, format!("parameter `{name}` is declared twice")));
            continue;
        }
        let (type_name, type_at) = match &p.kind {
            Some(k) => (k.get_ref().as_str(), k.span().start),
            None => ("string", spanned.span().start),
        };
        let kind = match type_name {
            "string" => ParamType::String,
            "int" => ParamType::Int {
                min: p.min,
                max: p.max,
            },
            "bool" => ParamType::Bool,
            "enum" => ParamType::Enum {
                choices: p.choices.clone(),
            },
            "duration" => ParamType::Duration,
            "host_path" => ParamType::HostPath,
            "raw" => ParamType::Raw,
            other => {
                let hint = crate::diag::did_you_mean(other, ParamType::NAMES)
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                diags.push(at(
                    type_at,
                    format!(
                        "unknown parameter type `{other}`: {hint}(one of {})",
                        ParamType::NAMES.join(", ")
                    ),
                ));
                // Still declared, so its placeholders are not reported a second time.
                ParamType::String
            }
        };
        let before = diags.len();
        if matches!(kind, ParamType::Enum { ref choices } if choices.is_empty()) {
            diags.push(at(
                type_at,
                format!("enum parameter `{name}` needs `choices = [...]`"),
            ));
        }
        if !matches!(kind, ParamType::Enum { .. }) && !p.choices.is_empty() {
            diags.push(at(
                type_at,
                "`choices` is only for type = \"enum\"".to_string(),
            ));
        }
        if !matches!(kind, ParamType::Int { .. }) && (p.min.is_some() || p.max.is_some()) {
            diags.push(at(
                type_at,
                "`min`/`max` are only for type = \"int\"".to_string(),
            ));
        }
        if let (Some(a), Some(b)) = (p.min, p.max)
            && a > b
        {
            diags.push(at(type_at, format!("min {a} is more than max {b}")));
        }
        if kind == ParamType::Raw && p.regex.is_none() {
            diags.push(at(
                type_at,
                format!(
                    "raw parameter `{name}` is inserted unquoted, so it must have a `regex` that \
                     limits what it accepts"
                ),
            ));
        }
        let regex =
            p.regex
                .as_ref()
                .and_then(|r| match Regex::new(&format!("^(?:{})$", r.get_ref())) {
                    Ok(re) => Some(re),
                    Err(e) => {
                        diags.push(at(
                            r.span().start,
                            format!("regex does not compile: {}", one_line(&e.to_string())),
                        ));
                        None
                    }
                });
        let mut param = Param {
            name: name.clone(),
            kind,
            required: p.required,
            default: None,
            regex,
            regex_text: p.regex.as_ref().map(|r| r.get_ref().clone()),
            description: p.description.clone(),
            secret: p.secret,
        };
        if let Some(d) = &p.default {
            if p.secret {
                diags.push(at(
                    d.span().start,
                    format!("secret parameter `{name}` cannot have a default (it would sit in this file)"),
                ));
            }
            let text = match d.get_ref() {
                toml::Value::String(s) => Some(s.clone()),
                toml::Value::Integer(n) => Some(n.to_string()),
                toml::Value::Boolean(b) => Some(b.to_string()),
                _ => {
                    diags.push(at(
                        d.span().start,
                        "a default is a string, an integer or a boolean".to_string(),
                    ));
                    None
                }
            };
            if let Some(text) = text {
                if diags.len() == before
                    && let Err(e) = param.validate(&text)
                {
                    diags.push(at(
                        d.span().start,
                        format!("default of `{name}` is not valid: {e}"),
                    ));
                }
                param.default = Some(text);
            }
            if p.required {
                diags.push(at(
                    d.span().start,
                    format!("`{name}` has a default, so it cannot be `required`"),
                ));
            }
        }
        out.push(param);
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks the command's placeholders: well-formed and declared.
fn check_command(
    command: &Spanned<String>,
    src: &str,
    declared: &BTreeSet<&str>,
    used: &mut BTreeSet<String>,
    at: &impl Fn(usize, String) -> Diagnostic,
    diags: &mut Vec<Diagnostic>,
) {
    let text = command.get_ref();
    if text.trim().is_empty() {
        diags.push(at(command.span().start, "`command` is empty".to_string()));
        return;
    }
    match render::parse(text) {
        Ok(segments) => {
            for s in &segments {
                if let Segment::Param { name, offset } = s {
                    used.insert(name.clone());
                    if !declared.contains(name.as_str()) {
                        let pos = src_offset(src, command.span(), text, *offset);
                        diags.push(at(pos, undeclared(name, declared)));
                    }
                }
            }
        }
        Err(e) => {
            let pos = src_offset(src, command.span(), text, e.offset);
            diags.push(at(pos, e.message));
        }
    }
}

fn undeclared(name: &str, declared: &BTreeSet<&str>) -> String {
    let hint = crate::diag::did_you_mean(name, declared.iter().copied())
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    format!("`{{{name}}}` is not a declared parameter{hint}: add a [[params]] entry named `{name}`")
}

/// The byte offset in `src` of byte `offset` of a string value whose literal spans `span`.
/// Exact when the literal has no escapes; otherwise the placeholder text is looked up in the
/// literal, and failing that the literal's start is used.
fn src_offset(src: &str, span: Range<usize>, value: &str, offset: usize) -> usize {
    let Some(raw) = src.get(span.clone()) else {
        return span.start;
    };
    let delim = ["\"\"\"", "'''", "\"", "'"]
        .into_iter()
        .find(|d| raw.starts_with(d) && raw.ends_with(d) && raw.len() >= 2 * d.len())
        .unwrap_or("");
    let mut body_start = delim.len();
    let mut body = &raw[delim.len()..raw.len() - delim.len()];
    if delim.len() == 3 {
        // A newline right after the opening quotes is not part of the value.
        if let Some(rest) = body.strip_prefix("\r\n") {
            body = rest;
            body_start += 2;
        } else if let Some(rest) = body.strip_prefix('\n') {
            body = rest;
            body_start += 1;
        }
    }
    if body == value {
        return span.start + body_start + offset;
    }
    let needle: String = value[offset..].chars().take(16).collect();
    raw.find(&needle).map_or(span.start, |i| span.start + i)
}

/// The `[agent]` table: a supported op whose placeholders are declared, not secret, and which
/// is a valid operation once filled in.
fn agent_template(
    agent: &Spanned<toml::Table>,
    src: &str,
    params: &[Param],
    used: &mut BTreeSet<String>,
    at: &impl Fn(usize, String) -> Diagnostic,
    diags: &mut Vec<Diagnostic>,
) -> Option<AgentTemplate> {
    let table = agent.get_ref();
    let start = agent.span().start;
    let region = table_region(src, start);
    let op = match table.get("op") {
        Some(toml::Value::String(op)) if op == "file_validation" || op == "service_health" => {
            op.clone()
        }
        Some(toml::Value::String(op)) if op == "shell_command" => {
            diags.push(at(
                find_in(src, &region, "shell_command").unwrap_or(start),
                "[agent] op = \"shell_command\": use `command` instead (agent hosts run it too)"
                    .to_string(),
            ));
            return None;
        }
        _ => {
            diags.push(at(
                start,
                "[agent] needs op = \"file_validation\" or op = \"service_health\"".to_string(),
            ));
            return None;
        }
    };
    let declared: BTreeSet<&str> = params.iter().map(|p| p.name.as_str()).collect();
    let mut names: Vec<String> = Vec::new();
    let before = diags.len();
    let mut strings = Vec::new();
    collect_strings(&toml::Value::Table(table.clone()), &mut strings);
    for s in strings {
        match render::parse(&s) {
            Ok(segments) => {
                for name in render::names(&segments) {
                    let pos = find_in(src, &region, &format!("{{{name}}}")).unwrap_or(start);
                    used.insert(name.to_string());
                    match params.iter().find(|p| p.name == name) {
                        None => diags.push(at(pos, undeclared(name, &declared))),
                        Some(p) if p.secret => diags.push(at(
                            pos,
                            format!(
                                "secret parameter `{name}` cannot be used in [agent]: the \
                                 operation is recorded as written"
                            ),
                        )),
                        Some(_) => {
                            if !names.iter().any(|n| n == name) {
                                names.push(name.to_string());
                            }
                        }
                    }
                }
            }
            Err(e) => diags.push(at(find_in(src, &region, &s).unwrap_or(start), e.message)),
        }
    }
    if diags.len() != before {
        return None;
    }
    let template = AgentTemplate {
        op,
        table: table.clone(),
        params: names,
    };
    // Filled with sample values of each type, the table must be a valid operation.
    let samples = params
        .iter()
        .map(|p| (p.name.clone(), sample(p)))
        .collect::<std::collections::BTreeMap<_, _>>();
    if let Err(e) = super::plan::agent_operation(&template, &samples) {
        // The error names no place; a key it quotes (`pathh`) is found in the table's text.
        let pos = e
            .split('`')
            .nth(1)
            .and_then(|key| find_in(src, &region, &format!("\n{key}")))
            .map_or(start, |i| i + 1);
        diags.push(at(pos, format!("[agent]: {e}")));
        return None;
    }
    Some(template)
}

/// A value of the parameter's type, for checking the `[agent]` table's shape.
fn sample(p: &Param) -> super::param::Value {
    use super::param::Value;
    if let Some(v) = p.default.as_deref().and_then(|d| p.validate(d).ok()) {
        return v;
    }
    match &p.kind {
        ParamType::Int { min, .. } => Value::Int(min.unwrap_or(1)),
        ParamType::Bool => Value::Bool(true),
        ParamType::Duration => Value::Duration(Duration::from_secs(60)),
        ParamType::Enum { choices } => Value::Text(choices.first().cloned().unwrap_or_default()),
        ParamType::HostPath => Value::Text("/tmp".to_string()),
        ParamType::String | ParamType::Raw => Value::Text("x".to_string()),
    }
}

fn collect_strings(value: &toml::Value, out: &mut Vec<String>) {
    match value {
        toml::Value::String(s) => out.push(s.clone()),
        toml::Value::Array(a) => a.iter().for_each(|v| collect_strings(v, out)),
        toml::Value::Table(t) => t.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// The text of the table whose header (or first key) is at `start`: up to the next line that
/// opens a table. (toml spans a `[table]` by its header, not its body.)
fn table_region(src: &str, start: usize) -> Range<usize> {
    let body = src.get(start..).unwrap_or_default();
    let first_line = body.find('\n').map_or(body.len(), |i| i + 1);
    let end = body[first_line..]
        .find("\n[")
        .map_or(src.len(), |i| start + first_line + i);
    start..end
}

/// Where `needle` first stands in `src` within `span`.
fn find_in(src: &str, span: &Range<usize>, needle: &str) -> Option<usize> {
    src.get(span.clone())?.find(needle).map(|i| span.start + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(src: &str) -> Result<Template, Vec<Diagnostic>> {
        parse(Path::new("/h/actions/restart-service.toml"), src)
    }

    fn first(src: &str) -> String {
        let diags = parse_str(src).unwrap_err();
        diags[0].to_string()
    }

    const GOOD: &str = r#"description = "Restart a unit"
category = "services"
command = "systemctl restart {unit} && systemctl status --no-pager {unit}"
confirm = "typed"
requires_lock = true
lock_ttl = "10m"
envs = ["staging", "prod"]
fanout = 10
batch = "25%"
max_fail = "1"
timeout = "2m"
priority = "high"

[success]
exit_codes = [0, 3]
output_contains = ["active (running)"]
max_duration = "30s"

[retry]
attempts = 3
backoff = "2s"
max_backoff = "30s"
on = ["unreachable", "timeout"]

[[params]]
name = "unit"
type = "string"
required = true
regex = "[A-Za-z0-9@._-]+"
description = "systemd unit"
"#;

    #[test]
    fn a_full_template_loads() {
        let t = parse_str(GOOD).unwrap();
        assert_eq!(t.name, "restart-service");
        assert_eq!(t.confirm, Confirm::Typed);
        assert_eq!(t.lock_ttl, Some(Duration::from_secs(600)));
        assert_eq!(t.batch, Some(Limit::Percent(25)));
        assert_eq!(t.max_fail, Some(Limit::Count(1)));
        assert_eq!(t.priority, Priority::High);
        assert_eq!(t.success.exit_codes, vec![0, 3]);
        assert_eq!(t.retry.attempts, 3);
        assert_eq!(t.retry.on, vec![RetryOn::Unreachable, RetryOn::Timeout]);
        assert!(t.param("unit").unwrap().required);
    }

    #[test]
    fn errors_name_line_and_column() {
        let src = "command = \"systemctl restart {unti}\"\n\n[[params]]\nname = \"unit\"\n";
        let all = parse_str(src).unwrap_err();
        assert_eq!(
            all[0].to_string(),
            "/h/actions/restart-service.toml:1:30: `{unti}` is not a declared parameter (did \
             you mean `unit`?): add a [[params]] entry named `unti`"
        );
        assert!(
            all[1].to_string().starts_with(
                "/h/actions/restart-service.toml:4:8: parameter `unit` is declared but"
            ),
            "{all:?}"
        );
        let m = first("command = \"echo ${HOME}\"\n");
        assert!(
            m.starts_with("/h/actions/restart-service.toml:1:18: `{HOME}`"),
            "{m}"
        );
        let m = first("command = \"x {p}\"\n[[params]]\nname = \"p\"\ntype = \"raw\"\n");
        assert!(
            m.starts_with("/h/actions/restart-service.toml:4:8: raw parameter `p`"),
            "{m}"
        );
        let m = first("command = \"x {p}\"\n[[params]]\nname = \"p\"\nregex = \"(\"\n");
        assert!(
            m.starts_with("/h/actions/restart-service.toml:4:9: regex does not compile"),
            "{m}"
        );
        let m = first(
            "command = \"x {p}\"\n[[params]]\nname = \"p\"\ntype = \"int\"\ndefault = \"x\"\n",
        );
        assert!(m.contains(":5:11: default of `p` is not valid"), "{m}");
        let m = first("command = \"x {p}\"\n[[params]]\nname = \"p\"\ntype = \"itn\"\n");
        assert!(
            m.contains(":4:8: unknown parameter type `itn`: did you mean `int`?"),
            "{m}"
        );
        let m = first("comand = \"x\"\n");
        assert!(
            m.contains(":1:1: unknown key `comand`: did you mean `command`?"),
            "{m}"
        );
        let m = first("command = \"x\"\nbatch = \"0\"\n");
        assert!(m.contains(":2:9: batch:"), "{m}");
        let m = first("description = \"nothing to run\"\n");
        assert!(m.contains("needs a `command`"), "{m}");
    }

    #[test]
    fn agent_tables_are_checked() {
        let src = "command = \"test -e {path}\"\n[agent]\nop = \"file_validation\"\npath = \"{path}\"\nsize_gt_mb = \"{mb}\"\n\n[[params]]\nname = \"path\"\ntype = \"host_path\"\nrequired = true\n\n[[params]]\nname = \"mb\"\ntype = \"int\"\ndefault = 5\n";
        let t = parse_str(src).unwrap();
        let agent = t.agent.unwrap();
        assert_eq!(agent.op, "file_validation");
        assert_eq!(agent.params, vec!["path".to_string(), "mb".to_string()]);
        let m = first("[agent]\nop = \"file_validation\"\npath = \"{nope}\"\n");
        assert!(
            m.contains(":3:9: `{nope}` is not a declared parameter"),
            "{m}"
        );
        let m = first("[agent]\nop = \"file_validation\"\npath = \"/x\"\npathh = \"/y\"\n");
        assert!(
            m.contains(":4:1: [agent]: unknown key `pathh`: did you mean `path`?"),
            "{m}"
        );
        let m = first("[agent]\nop = \"shell_command\"\ncommand = \"x\"\n");
        assert!(m.contains("use `command` instead"), "{m}");
        let m =
            first("[agent]\nop = \"service_health\"\nurl = \"http://x\"\nexpect_status = \"x\"\n");
        assert!(m.contains("[agent]:"), "{m}");
        let m = first(
            "[agent]\nop = \"service_health\"\nurl = \"{pw}\"\n[[params]]\nname = \"pw\"\nsecret = true\n",
        );
        assert!(
            m.contains("secret parameter `pw` cannot be used in [agent]"),
            "{m}"
        );
    }

    #[test]
    fn names_follow_the_rule() {
        assert!(valid_action_name("db-row-count") && valid_action_name("k8s_x"));
        assert!(!valid_action_name("-x") && !valid_action_name("Restart"));
        let m = first("name = \"Bad Name\"\ncommand = \"x\"\n");
        assert!(m.contains(":1:8: action name `Bad Name`"), "{m}");
    }
}
