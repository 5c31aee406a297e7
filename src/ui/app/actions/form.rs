//! The parameter form of one action: a field per parameter (defaults prefilled, enums and
//! bools as pickers, secrets masked), each validated as it is typed (`Param::validate`), and
//! the plan (`action::plan::build`) rebuilt on every change, so the preview is always the
//! exact text that would run. Secret fields become `SecretValue`s in `Inputs.secrets`, never
//! plain values; nothing here prints them (`Debug` included). No I/O.

use std::collections::BTreeMap;

use crate::action::plan::{self, Inputs, Overrides, Plan, PlanError, Problem};
use crate::action::{ParamType, SecretValue, Template};
use crate::config::Settings;
use crate::config::units::format_duration;
use crate::engine::types::SECRET_MASK;
use crate::inventory::Host;

/// One parameter's field.
#[derive(Clone, Default)]
pub struct Field {
    /// As typed (a secret's too: it is only ever shown masked).
    pub text: String,
    /// Why the text is not a valid value, as of the last keystroke.
    pub error: Option<String>,
}

/// The open form.
pub struct ActionForm {
    pub template: Template,
    /// The hosts it would run on (refused ones included: the preview lists them).
    pub hosts: Vec<Host>,
    /// The targets as chosen, for the record.
    pub selector: String,
    /// One per `template.params`, in order.
    pub fields: Vec<Field>,
    /// The field with the focus.
    pub focus: usize,
    /// The plan for the fields as they stand, or every problem that keeps it from building.
    pub plan: Result<Plan, PlanError>,
    /// The run this form reruns (`r` on an action run), for the audit trail.
    pub rerun_of: Option<crate::engine::RunId>,
    /// The incidents this run is a runbook's fix for (`x` in the Incidents view): the run and
    /// how it ends go on their timelines.
    pub for_incidents: Vec<String>,
}

impl std::fmt::Debug for ActionForm {
    // Fields and plan are left out: secrets are typed into the one and carried by the other.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionForm")
            .field("action", &self.template.name)
            .field("hosts", &self.hosts.len())
            .field("focus", &self.focus)
            .finish_non_exhaustive()
    }
}

impl ActionForm {
    /// A form for `template` on `hosts`, fields prefilled from `prefill` (a recorded run's
    /// parameters: secrets and masked values are skipped, they must be typed again) or the
    /// defaults.
    pub fn new(
        template: Template,
        hosts: Vec<Host>,
        selector: String,
        prefill: &BTreeMap<String, String>,
        settings: &Settings,
    ) -> ActionForm {
        let fields = template
            .params
            .iter()
            .map(|p| {
                let recorded = prefill
                    .get(&p.name)
                    .filter(|v| !p.secret && v.as_str() != SECRET_MASK);
                Field {
                    text: recorded.or(p.default.as_ref()).cloned().unwrap_or_default(),
                    error: None,
                }
            })
            .collect();
        let mut form = ActionForm {
            template,
            hosts,
            selector,
            fields,
            focus: 0,
            plan: Err(PlanError {
                problems: Vec::new(),
            }),
            rerun_of: None,
            for_incidents: Vec::new(),
        };
        form.refresh(settings);
        form
    }

    /// Validates every field and rebuilds the plan (after each change).
    pub fn refresh(&mut self, settings: &Settings) {
        for (p, field) in self.template.params.iter().zip(self.fields.iter_mut()) {
            field.error = if field.text.is_empty() {
                (p.required && p.default.is_none()).then(|| match &p.kind {
                    ParamType::Enum { .. } | ParamType::Bool => {
                        "required: ←/→ choose a value".to_string()
                    }
                    _ => "required".to_string(),
                })
            } else {
                p.validate(&field.text).err().map(|e| {
                    if p.secret && e.contains(field.text.as_str()) {
                        // The message would show the secret: say only what is expected.
                        format!("not a valid {}", p.type_summary())
                    } else {
                        e
                    }
                })
            };
        }
        self.plan = self.build(settings, None);
    }

    /// The operator's values as the planner takes them: secrets as `SecretValue`s.
    pub fn inputs(&self) -> Result<Inputs, PlanError> {
        let mut inputs = Inputs::default();
        let mut problems = Vec::new();
        for (p, field) in self.template.params.iter().zip(&self.fields) {
            if field.text.is_empty() {
                continue;
            }
            if p.secret {
                match SecretValue::new(field.text.clone()) {
                    Ok(s) => {
                        inputs.secrets.insert(p.name.clone(), s);
                    }
                    Err(reason) => problems.push(Problem::Invalid {
                        name: p.name.clone(),
                        reason,
                    }),
                }
            } else {
                inputs.values.insert(p.name.clone(), field.text.clone());
            }
        }
        if problems.is_empty() {
            Ok(inputs)
        } else {
            Err(PlanError { problems })
        }
    }

    /// The plan for the fields as they stand; `id` names the run (when submitting).
    pub fn build(&self, settings: &Settings, id: Option<String>) -> Result<Plan, PlanError> {
        let inputs = self.inputs()?;
        let overrides = Overrides {
            id,
            ..Overrides::default()
        };
        plan::build(
            &self.template,
            &inputs,
            self.hosts.clone(),
            &self.selector,
            settings,
            &overrides,
        )
    }

    pub fn focus_next(&mut self, step: isize) {
        let n = self.fields.len() as isize;
        if n > 0 {
            self.focus = (self.focus as isize + step).rem_euclid(n) as usize;
        }
    }

    /// What the focused field is: text fields take typed characters, pickers cycle.
    pub fn focused_kind(&self) -> Option<&ParamType> {
        self.template.params.get(self.focus).map(|p| &p.kind)
    }

    pub fn type_char(&mut self, c: char) {
        if let Some(field) = self.fields.get_mut(self.focus) {
            field.text.push(c);
        }
    }

    pub fn backspace(&mut self) {
        let picker = self.is_picker();
        if let Some(field) = self.fields.get_mut(self.focus) {
            if picker {
                // A picker has no partial text: clearing it leaves the default in force.
                field.text.clear();
            } else {
                field.text.pop();
            }
        }
    }

    pub fn clear(&mut self) {
        if let Some(field) = self.fields.get_mut(self.focus) {
            field.text.clear();
        }
    }

    /// Whether the focused field is an enum or bool picker.
    pub fn is_picker(&self) -> bool {
        matches!(
            self.focused_kind(),
            Some(ParamType::Enum { .. } | ParamType::Bool)
        )
    }

    /// Left/right on a picker: the previous or next choice (bool: toggles). Returns false on
    /// a text field.
    pub fn cycle(&mut self, step: isize) -> bool {
        let (choices, bool) = match self.focused_kind() {
            Some(ParamType::Enum { choices }) => (choices.clone(), false),
            Some(ParamType::Bool) => (vec!["true".to_string(), "false".to_string()], true),
            _ => return false,
        };
        let Some(field) = self.fields.get_mut(self.focus) else {
            return false;
        };
        if choices.is_empty() {
            return true;
        }
        let current = choices
            .iter()
            .position(|c| c == &field.text)
            .or(match bool {
                true if is_true(&field.text) => Some(0),
                true if is_false(&field.text) => Some(1),
                _ => None,
            });
        let next = match current {
            Some(i) => (i as isize + step).rem_euclid(choices.len() as isize) as usize,
            None if step < 0 => choices.len() - 1,
            None => 0,
        };
        field.text = choices[next].clone();
        true
    }

    /// A problem as the form shows it: a secret's in the form's own words (the planner's
    /// reason could quote the value).
    pub fn problem_text(&self, problem: &Problem) -> String {
        match problem {
            Problem::Invalid { name, .. }
                if self.template.param(name).is_some_and(|p| p.secret) =>
            {
                let why = self
                    .template
                    .params
                    .iter()
                    .position(|p| &p.name == name)
                    .and_then(|i| self.fields.get(i))
                    .and_then(|f| f.error.clone())
                    .unwrap_or_else(|| "not a valid value".to_string());
                format!("parameter `{name}`: {why}")
            }
            other => other.to_string(),
        }
    }

    /// The index of the first field with a problem.
    pub fn first_invalid(&self) -> Option<usize> {
        self.fields.iter().position(|f| f.error.is_some())
    }
}

fn is_true(text: &str) -> bool {
    matches!(text.to_ascii_lowercase().as_str(), "true" | "yes" | "1")
}

fn is_false(text: &str) -> bool {
    matches!(text.to_ascii_lowercase().as_str(), "false" | "no" | "0")
}

/// A secret field as shown: one `•` per character typed.
pub fn masked(text: &str) -> String {
    "•".repeat(text.chars().count())
}

/// The guards of a plan in one line: lock, retries, batch and max-fail, fanout, priority.
pub fn guard_summary(plan: &Plan) -> String {
    let r = &plan.request;
    let g = &r.guards;
    let mut bits = Vec::new();
    bits.push(match g.lock_ttl {
        Some(ttl) => format!("lock per host (ttl {})", format_duration(ttl)),
        None => "no lock".to_string(),
    });
    if g.retry.attempts > 1 {
        let on: Vec<String> = g
            .retry
            .on
            .iter()
            .map(|o| format!("{o:?}").to_lowercase())
            .collect();
        bits.push(format!(
            "{} attempts on {} (backoff {})",
            g.retry.attempts,
            on.join("/"),
            format_duration(g.retry.backoff)
        ));
    } else {
        bits.push("no retry".to_string());
    }
    bits.push(format!(
        "batch {}",
        r.batch.map_or_else(|| "all".to_string(), |b| b.to_string())
    ));
    bits.push(format!(
        "max-fail {}",
        r.max_fail
            .map_or_else(|| "none".to_string(), |b| b.to_string())
    ));
    bits.push(format!("fanout {}", r.fanout));
    bits.push(format!("priority {}", r.priority.as_str()));
    if g.allow_concurrent {
        bits.push("concurrent allowed".to_string());
    }
    bits.join(" · ")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::action::template::parse;

    const SRC: &str = r#"
description = "Toggle"
command = "toggle --force={force} --mode={mode} {note}"

[[params]]
name = "force"
type = "bool"
default = "no"

[[params]]
name = "mode"
type = "enum"
choices = ["a", "b"]
required = true

[[params]]
name = "note"
type = "string"
"#;

    fn form() -> ActionForm {
        let t = parse(Path::new("actions/toggle.toml"), SRC).unwrap();
        let hosts = vec![Host::ad_hoc("h1")];
        ActionForm::new(
            t,
            hosts,
            "h1".into(),
            &BTreeMap::new(),
            &Settings::default(),
        )
    }

    #[test]
    fn bool_toggles_from_any_spelling_and_enum_starts_empty() {
        let settings = Settings::default();
        let mut f = form();
        assert_eq!(f.fields[0].text, "no");
        assert!(f.cycle(1));
        assert_eq!(
            f.fields[0].text, "true",
            "no counts as false: the next is true"
        );
        assert!(f.cycle(1));
        assert_eq!(f.fields[0].text, "false");
        f.focus_next(1);
        assert!(f.is_picker());
        f.refresh(&settings);
        assert_eq!(
            f.fields[1].error.as_deref(),
            Some("required: ←/→ choose a value")
        );
        assert!(f.plan.is_err());
        assert!(f.cycle(-1));
        assert_eq!(f.fields[1].text, "b", "left from nothing picks the last");
        f.focus_next(1);
        assert!(!f.is_picker());
        assert!(!f.cycle(1), "a text field is no picker");
        for c in "x y".chars() {
            f.type_char(c);
        }
        f.refresh(&settings);
        let plan = f.plan.as_ref().unwrap();
        assert_eq!(
            plan.preview.groups[0].text,
            "toggle --force=false --mode=b 'x y'"
        );
        // An optional field left empty is no value at all.
        f.clear();
        f.refresh(&settings);
        assert!(!f.inputs().unwrap().values.contains_key("note"));
        f.focus_next(1);
        assert_eq!(f.focus, 0, "focus wraps around");
    }
}
