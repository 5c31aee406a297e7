//! From a template, the operator's values and the selected hosts to what will run: the
//! engine's `RunRequest` (built through `engine::launch`, the one way to run things), the
//! hosts the template refuses (with the reason) and a preview of the exact text each host
//! gets. Nothing here does I/O; the CLI and the console share it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::param::{Param, ParamType, Value};
use super::render::{self, Segment};
use super::secret::SecretValue;
use super::template::{AgentTemplate, Confirm, Template};
use crate::config::Settings;
use crate::engine::launch::{self, LimitFlags, Shape};
use crate::engine::types::{ActionUse, Guards, Priority, SECRET_MASK};
use crate::engine::{Limit, RunRequest};
use crate::inventory::nodeset::fold;
use crate::inventory::{Host, TransportKind};
use crate::transport::AgentOp;

/// Exit status of the command when a secret could not be read from stdin.
pub const SECRET_READ_FAILED: i32 = 97;

/// What the operator gave: plain values by parameter name (as typed), and secret values.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub values: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, SecretValue>,
}

/// Flags that win over the template's defaults (which win over config.toml). `id` names the
/// run in advance (the console shows it before the engine starts it).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub id: Option<String>,
    pub fanout: Option<u32>,
    pub batch: Option<Limit>,
    pub max_fail: Option<Limit>,
    pub timeout: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub priority: Option<Priority>,
}

/// A selected host the template does not apply to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub host: String,
    pub reason: String,
}

/// Which form of the action a group of hosts runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    /// The shell command (SSH and local hosts, and agent hosts without an `[agent]` op).
    Command,
    /// The agent operation.
    AgentOp,
}

/// One distinct rendered form and the hosts that run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewGroup {
    pub kind: FormKind,
    /// Exactly what runs: the command line (secrets as `$FLEETDECK_SECRET_…`), or the agent
    /// operation as JSON.
    pub text: String,
    /// The hosts, as a folded node set.
    pub hosts: String,
    pub count: usize,
}

/// What the operator reviews before confirming.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preview {
    pub groups: Vec<PreviewGroup>,
    /// `raw` parameters (inserted unquoted) and their values: always flagged.
    pub raw_params: Vec<(String, String)>,
    /// Secret parameters: sent on stdin, never shown.
    pub secret_params: Vec<String>,
}

/// Everything ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Targets are the selected hosts minus the refused ones.
    pub request: RunRequest,
    pub refused: Vec<Refusal>,
    pub preview: Preview,
    pub confirm: Confirm,
}

/// One thing wrong with the operator's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    UnknownParam {
        name: String,
        suggestion: Option<String>,
    },
    Missing {
        name: String,
    },
    Invalid {
        name: String,
        reason: String,
    },
    /// A secret given as plain text (the console and CLI must pass it as a `SecretValue`).
    SecretAsText {
        name: String,
    },
    /// Limits or settings (e.g. a zero connect timeout).
    Other(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownParam { name, suggestion } => {
                write!(f, "unknown parameter `{name}`")?;
                if let Some(s) = suggestion {
                    write!(f, ": did you mean `{s}`?")?;
                }
                Ok(())
            }
            Problem::Missing { name } => write!(f, "missing required parameter `{name}`"),
            Problem::Invalid { name, reason } => write!(f, "parameter `{name}`: {reason}"),
            Problem::SecretAsText { name } => write!(
                f,
                "parameter `{name}` is a secret and cannot be given as plain text"
            ),
            Problem::Other(text) => f.write_str(text),
        }
    }
}

/// Why a plan could not be built: every problem found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for PlanError {}

/// The operator's values once checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolved {
    /// Each non-secret parameter's value, defaults filled in.
    pub values: BTreeMap<String, Value>,
    /// The values as recorded in history and audit (as typed; secrets as `<secret>`).
    pub recorded: BTreeMap<String, String>,
}

/// Checks every value against the template: unknown names, missing required ones, types and
/// regexes. Returns each non-secret parameter's value (defaults filled in; an optional one
/// without a default is an empty text) and the values as recorded (secrets masked).
pub fn resolve_values(template: &Template, inputs: &Inputs) -> Result<Resolved, PlanError> {
    let mut problems = Vec::new();
    let names = || template.params.iter().map(|p| p.name.as_str());
    for name in inputs.values.keys().chain(inputs.secrets.keys()) {
        if template.param(name).is_none() {
            problems.push(Problem::UnknownParam {
                name: name.clone(),
                suggestion: crate::diag::did_you_mean(name, names()).map(str::to_string),
            });
        }
    }
    let mut values = BTreeMap::new();
    let mut recorded = BTreeMap::new();
    for p in &template.params {
        if p.secret {
            match (
                inputs.values.contains_key(&p.name),
                inputs.secrets.get(&p.name),
            ) {
                (true, _) => problems.push(Problem::SecretAsText {
                    name: p.name.clone(),
                }),
                (false, Some(secret)) => match p.validate(secret.expose()) {
                    Ok(_) => {
                        recorded.insert(p.name.clone(), SECRET_MASK.to_string());
                    }
                    Err(reason) => problems.push(Problem::Invalid {
                        name: p.name.clone(),
                        reason,
                    }),
                },
                (false, None) => problems.push(Problem::Missing {
                    name: p.name.clone(),
                }),
            }
            continue;
        }
        if inputs.secrets.contains_key(&p.name) {
            problems.push(Problem::Invalid {
                name: p.name.clone(),
                reason: "is not a secret parameter: give it as -p name=value".to_string(),
            });
            continue;
        }
        let given = inputs.values.get(&p.name).or(p.default.as_ref());
        match given {
            Some(text) => match p.validate(text) {
                Ok(v) => {
                    values.insert(p.name.clone(), v);
                    recorded.insert(p.name.clone(), text.clone());
                }
                Err(reason) => problems.push(Problem::Invalid {
                    name: p.name.clone(),
                    reason,
                }),
            },
            None if p.required => problems.push(Problem::Missing {
                name: p.name.clone(),
            }),
            None => {
                values.insert(p.name.clone(), Value::Text(String::new()));
            }
        }
    }
    if problems.is_empty() {
        Ok(Resolved { values, recorded })
    } else {
        Err(PlanError { problems })
    }
}

/// Why `host` is refused by the template, if it is.
pub fn refusal(template: &Template, host: &Host) -> Option<String> {
    if !template.envs.is_empty() {
        let list = template.envs.join(", ");
        match &host.env {
            None => return Some(format!("has no env; `{}` applies to {list}", template.name)),
            Some(env) if !template.envs.contains(env) => {
                return Some(format!(
                    "env `{env}` is not one `{}` applies to ({list})",
                    template.name
                ));
            }
            Some(_) => {}
        }
    }
    if !template.tags.is_empty() && !template.tags.iter().any(|t| host.tags.contains(t)) {
        return Some(format!(
            "has none of the tags `{}` needs ({})",
            template.name,
            template.tags.join(", ")
        ));
    }
    if template.command.is_none() && host.transport != TransportKind::Agent {
        let op = template.agent.as_ref().map_or("", |a| a.op.as_str());
        return Some(format!(
            "is reached over {}; `{}` is an agent operation ({op}) with no shell equivalent",
            host.transport.as_str(),
            template.name
        ));
    }
    None
}

/// The command line as run and recorded: one `read` per secret (values come on stdin), then
/// the template with plain values shell-quoted, raw values verbatim and secrets as
/// `"$FLEETDECK_SECRET_NAME"`. Also the secrets in order, for stdin.
pub fn render_command(
    template: &Template,
    values: &BTreeMap<String, Value>,
    secrets: &BTreeMap<String, SecretValue>,
) -> Result<(String, Vec<SecretValue>), String> {
    let segments = template.command_segments();
    let mut prelude = String::new();
    let mut stdin = Vec::new();
    for name in render::names(&segments) {
        if let Some(p) = template.param(name)
            && p.secret
        {
            let secret = secrets
                .get(name)
                .ok_or_else(|| format!("missing required parameter `{name}`"))?;
            prelude.push_str(&format!(
                "IFS= read -r {} || exit {SECRET_READ_FAILED}; ",
                render::secret_var(name)
            ));
            stdin.push(secret.clone());
        }
    }
    let body = render::join(&segments, |name| {
        fill_shell(template.param(name), name, values)
    })?;
    Ok((format!("{prelude}{body}"), stdin))
}

fn fill_shell(
    param: Option<&Param>,
    name: &str,
    values: &BTreeMap<String, Value>,
) -> Result<String, String> {
    let p = param.ok_or_else(|| format!("`{{{name}}}` is not a declared parameter"))?;
    if p.secret {
        return Ok(format!("\"${}\"", render::secret_var(name)));
    }
    let value = values
        .get(name)
        .ok_or_else(|| format!("missing required parameter `{name}`"))?;
    if p.kind == ParamType::Raw {
        Ok(value.rendered())
    } else {
        render::quote(&value.rendered()).map_err(|e| format!("parameter `{name}`: {e}"))
    }
}

/// The agent operation with its placeholders filled: a string that is exactly one
/// placeholder of an int, bool or duration parameter becomes that number (seconds) or
/// boolean; other placeholders are substituted as text, unquoted (the type checks made them
/// safe, and no shell is involved).
pub fn agent_operation(
    agent: &AgentTemplate,
    values: &BTreeMap<String, Value>,
) -> Result<AgentOp, String> {
    let filled = fill_value(&toml::Value::Table(agent.table.clone()), values)?;
    filled
        .try_into::<AgentOp>()
        .map_err(|e| crate::config::toml_diag::humanize(e.message()))
}

fn fill_value(
    value: &toml::Value,
    values: &BTreeMap<String, Value>,
) -> Result<toml::Value, String> {
    Ok(match value {
        toml::Value::String(s) => {
            let segments = render::parse(s).map_err(|e| e.message)?;
            if let [Segment::Param { name, .. }] = segments.as_slice() {
                match values.get(name) {
                    Some(Value::Int(n)) => return Ok(toml::Value::Integer(*n)),
                    Some(Value::Bool(b)) => return Ok(toml::Value::Boolean(*b)),
                    Some(Value::Duration(d)) => {
                        return Ok(toml::Value::Integer(
                            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                        ));
                    }
                    _ => {}
                }
            }
            toml::Value::String(render::join(&segments, |name| {
                values
                    .get(name)
                    .map(Value::rendered)
                    .ok_or_else(|| format!("no value for `{{{name}}}`"))
            })?)
        }
        toml::Value::Array(items) => toml::Value::Array(
            items
                .iter()
                .map(|v| fill_value(v, values))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => {
            let mut out = toml::Table::new();
            for (k, v) in t {
                out.insert(k.clone(), fill_value(v, values)?);
            }
            toml::Value::Table(out)
        }
        other => other.clone(),
    })
}

/// How an agent operation is shown and recorded.
pub fn agent_text(op: &AgentOp) -> String {
    let json = serde_json::to_string(op).unwrap_or_else(|_| "?".to_string());
    format!("agent {json}")
}

/// Builds the plan for `template` on `hosts` (already resolved from `selector`).
pub fn build(
    template: &Template,
    inputs: &Inputs,
    hosts: Vec<Host>,
    selector: &str,
    settings: &Settings,
    overrides: &Overrides,
) -> Result<Plan, PlanError> {
    let Resolved { values, recorded } = resolve_values(template, inputs)?;
    let other = |e: String| PlanError {
        problems: vec![Problem::Other(e)],
    };

    let mut refused = Vec::new();
    let mut targets = Vec::new();
    for host in hosts {
        match refusal(template, &host) {
            Some(reason) => refused.push(Refusal {
                host: host.name.clone(),
                reason,
            }),
            None => targets.push(host),
        }
    }

    let command = match &template.command {
        Some(_) => Some(render_command(template, &values, &inputs.secrets).map_err(other)?),
        None => None,
    };
    let agent_op = match &template.agent {
        Some(a) => Some(agent_operation(a, &values).map_err(other)?),
        None => None,
    };
    let display = match (&command, &agent_op) {
        (Some((line, _)), _) => line.clone(),
        (None, Some(op)) => agent_text(op),
        (None, None) => {
            return Err(other(
                "the action has neither a command nor an agent op".into(),
            ));
        }
    };

    let preview = preview(
        template,
        &targets,
        command.as_ref().map(|c| c.0.as_str()),
        agent_op.as_ref(),
        &values,
    );

    let flags = LimitFlags {
        connect_timeout: overrides.connect_timeout,
        timeout: overrides.timeout.or(template.timeout),
        idle_timeout: overrides.idle_timeout,
    };
    let mut spec =
        launch::exec_spec(&display, settings, flags).map_err(|e| other(e.to_string()))?;
    if let Some((_, secrets)) = &command
        && !secrets.is_empty()
    {
        let mut stdin = Vec::new();
        for s in secrets {
            stdin.extend_from_slice(s.expose().as_bytes());
            stdin.push(b'\n');
        }
        spec.stdin = Some(stdin);
    }
    spec.agent_op = agent_op;

    let shape = Shape {
        fanout: overrides.fanout.or(template.fanout),
        batch: overrides.batch.or(template.batch),
        max_fail: overrides.max_fail.or(template.max_fail),
    };
    let mut request = launch::request(
        overrides.id.clone(),
        targets,
        selector.to_string(),
        display,
        spec,
        settings,
        shape,
    );
    request.guards = Guards {
        success: template.success.clone(),
        retry: template.retry.clone(),
        lock_ttl: template
            .requires_lock
            .then(|| template.lock_ttl.unwrap_or(settings.locks.ttl.0)),
        allow_concurrent: template.allow_concurrent,
    };
    request.action = Some(ActionUse {
        name: template.name.clone(),
        params: recorded,
    });
    request.priority = overrides.priority.unwrap_or(template.priority);
    Ok(Plan {
        request,
        refused,
        preview,
        confirm: template.confirm,
    })
}

fn preview(
    template: &Template,
    targets: &[Host],
    command: Option<&str>,
    agent_op: Option<&AgentOp>,
    values: &BTreeMap<String, Value>,
) -> Preview {
    let (agent_hosts, command_hosts): (Vec<&Host>, Vec<&Host>) = targets
        .iter()
        .partition(|h| agent_op.is_some() && h.transport == TransportKind::Agent);
    let mut groups = Vec::new();
    if let Some(text) = command
        && !command_hosts.is_empty()
    {
        groups.push(PreviewGroup {
            kind: FormKind::Command,
            text: text.to_string(),
            hosts: fold(command_hosts.iter().map(|h| h.name.as_str())),
            count: command_hosts.len(),
        });
    }
    if let Some(op) = agent_op
        && !agent_hosts.is_empty()
    {
        groups.push(PreviewGroup {
            kind: FormKind::AgentOp,
            text: agent_text(op),
            hosts: fold(agent_hosts.iter().map(|h| h.name.as_str())),
            count: agent_hosts.len(),
        });
    }
    let raw_params = template
        .params
        .iter()
        .filter(|p| p.kind == ParamType::Raw)
        .map(|p| {
            let v = values.get(&p.name).map(Value::rendered).unwrap_or_default();
            (p.name.clone(), v)
        })
        .collect();
    let secret_params = template
        .params
        .iter()
        .filter(|p| p.secret)
        .map(|p| p.name.clone())
        .collect();
    Preview {
        groups,
        raw_params,
        secret_params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::template;
    use std::path::Path;

    fn tpl(src: &str) -> Template {
        template::parse(Path::new("/a/t.toml"), src).unwrap()
    }

    fn host(name: &str, env: &str, transport: TransportKind) -> Host {
        let mut h = Host::ad_hoc(name);
        h.env = Some(env.into());
        h.transport = transport;
        h
    }

    fn inputs(pairs: &[(&str, &str)]) -> Inputs {
        Inputs {
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            secrets: BTreeMap::new(),
        }
    }

    const RESTART: &str = "command = \"systemctl restart {unit} -n {n}\"\nenvs = [\"prod\"]\nfanout = 3\ntimeout = \"2m\"\nrequires_lock = true\n[[params]]\nname = \"unit\"\nrequired = true\nregex = \"[a-z.]+\"\n[[params]]\nname = \"n\"\ntype = \"int\"\ndefault = 2\n";

    #[test]
    fn values_are_checked_all_at_once() {
        let t = tpl(RESTART);
        let err = resolve_values(&t, &inputs(&[("unti", "x"), ("n", "x")])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("unknown parameter `unti`: did you mean `unit`?"),
            "{text}"
        );
        assert!(
            text.contains("parameter `n`: `x` is not a whole number"),
            "{text}"
        );
        assert!(text.contains("missing required parameter `unit`"), "{text}");
        let err = resolve_values(&t, &inputs(&[("unit", "a;b")])).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }

    #[test]
    fn a_plan_quotes_refuses_and_takes_the_template_defaults() {
        let t = tpl(RESTART);
        let hosts = vec![
            host("web1", "prod", TransportKind::Ssh),
            host("web2", "prod", TransportKind::Agent),
            host("dev1", "dev", TransportKind::Ssh),
        ];
        let settings = Settings::default();
        let plan = build(
            &t,
            &inputs(&[("unit", "nginx.service")]),
            hosts,
            "all",
            &settings,
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            plan.request.display_command,
            "systemctl restart nginx.service -n 2"
        );
        assert_eq!(plan.request.targets.len(), 2);
        assert_eq!(plan.refused.len(), 1);
        assert_eq!(plan.refused[0].host, "dev1");
        assert!(
            plan.refused[0].reason.contains("env `dev`"),
            "{:?}",
            plan.refused
        );
        assert_eq!(plan.request.fanout, 3);
        assert_eq!(plan.request.spec.timeout, Some(Duration::from_secs(120)));
        assert_eq!(plan.request.guards.lock_ttl, Some(settings.locks.ttl.0));
        assert_eq!(plan.preview.groups.len(), 1);
        assert_eq!(plan.preview.groups[0].hosts, "web[1-2]");
        let action = plan.request.action.unwrap();
        assert_eq!(action.params.get("n").map(String::as_str), Some("2"));
        let over = Overrides {
            fanout: Some(9),
            timeout: Some(Duration::from_secs(5)),
            priority: Some(Priority::High),
            ..Default::default()
        };
        let plan = build(&t, &inputs(&[("unit", "a")]), vec![], "x", &settings, &over).unwrap();
        assert_eq!(plan.request.fanout, 9);
        assert_eq!(plan.request.spec.timeout, Some(Duration::from_secs(5)));
        assert_eq!(plan.request.priority, Priority::High);
    }

    #[test]
    fn hostile_values_are_quoted_and_secrets_go_to_stdin() {
        let t = tpl(
            "command = \"echo {msg}; PGPASSWORD={pw} psql\"\n[[params]]\nname = \"msg\"\n[[params]]\nname = \"pw\"\nsecret = true\n",
        );
        let mut i = inputs(&[("msg", "$(touch x); `id` 'q'")]);
        i.secrets
            .insert("pw".into(), SecretValue::new("hunter2".into()).unwrap());
        let plan = build(
            &t,
            &i,
            vec![Host::ad_hoc("h")],
            "h",
            &Settings::default(),
            &Overrides::default(),
        )
        .unwrap();
        let cmd = &plan.request.display_command;
        assert!(
            cmd.starts_with("IFS= read -r FLEETDECK_SECRET_PW || exit 97; echo '"),
            "{cmd}"
        );
        assert!(
            cmd.ends_with("; PGPASSWORD=\"$FLEETDECK_SECRET_PW\" psql"),
            "{cmd}"
        );
        assert!(!cmd.contains("hunter2"));
        assert_eq!(plan.request.spec.stdin.as_deref(), Some(&b"hunter2\n"[..]));
        let action = plan.request.action.unwrap();
        assert_eq!(
            action.params.get("pw").map(String::as_str),
            Some(SECRET_MASK)
        );
        let mut literal = inputs(&[("msg", "x"), ("pw", "hunter2")]);
        literal.secrets.clear();
        let err = resolve_values(&t, &literal).unwrap_err();
        assert!(
            err.problems
                .contains(&Problem::SecretAsText { name: "pw".into() })
        );
    }

    #[test]
    fn agent_ops_fill_typed_values_and_refuse_shell_hosts_without_equivalent() {
        let t = tpl(
            "[agent]\nop = \"file_validation\"\npath = \"{path}\"\nmodified_within_s = \"{age}\"\nsize_gt_mb = \"{mb}\"\n[[params]]\nname = \"path\"\ntype = \"host_path\"\nrequired = true\n[[params]]\nname = \"age\"\ntype = \"duration\"\ndefault = \"24h\"\n[[params]]\nname = \"mb\"\ntype = \"int\"\ndefault = 1\n",
        );
        let hosts = vec![
            host("a1", "prod", TransportKind::Agent),
            host("s1", "prod", TransportKind::Ssh),
        ];
        let plan = build(
            &t,
            &inputs(&[("path", "/var/log/x.log")]),
            hosts,
            "all",
            &Settings::default(),
            &Overrides::default(),
        )
        .unwrap();
        let Some(AgentOp::FileValidation {
            path,
            modified_within_s,
            size_gt_mb,
            ..
        }) = &plan.request.spec.agent_op
        else {
            panic!("{:?}", plan.request.spec.agent_op);
        };
        assert_eq!(path, "/var/log/x.log");
        assert_eq!(*modified_within_s, Some(86_400));
        assert_eq!(*size_gt_mb, Some(1.0));
        assert_eq!(plan.refused.len(), 1);
        assert!(
            plan.refused[0].reason.contains("no shell equivalent"),
            "{:?}",
            plan.refused
        );
        assert_eq!(plan.preview.groups[0].kind, FormKind::AgentOp);
        assert!(
            plan.request
                .display_command
                .starts_with("agent {\"op\":\"file_validation\"")
        );
    }
}
