//! Action parameters: their types and the validation of a value typed by an operator. Used by
//! the CLI (`-p key=value`) and, as-you-type, by the console's parameter form.

use std::time::Duration;

use regex::Regex;

use crate::config::units::{format_duration, parse_duration};

/// What kind of value a parameter takes.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    /// Any text without NUL; substituted shell-quoted.
    String,
    /// A whole number, optionally bounded.
    Int { min: Option<i64>, max: Option<i64> },
    /// `true`/`false` (also `yes`/`no`, `1`/`0`); rendered `true` or `false`.
    Bool,
    /// One of the listed choices, exactly.
    Enum { choices: Vec<String> },
    /// A duration (`90s`, `5m`, `1h30m`); rendered as whole seconds.
    Duration,
    /// An absolute path on the host, without NUL or newline.
    HostPath,
    /// Inserted verbatim, unquoted: needs a regex, and is flagged in every preview.
    Raw,
}

impl ParamType {
    /// The type's name as written in a template.
    pub fn name(&self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int { .. } => "int",
            ParamType::Bool => "bool",
            ParamType::Enum { .. } => "enum",
            ParamType::Duration => "duration",
            ParamType::HostPath => "host_path",
            ParamType::Raw => "raw",
        }
    }

    /// The type names a template may use.
    pub const NAMES: [&'static str; 7] = [
        "string",
        "int",
        "bool",
        "enum",
        "duration",
        "host_path",
        "raw",
    ];
}

/// A validated value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// string, enum, host_path and raw values.
    Text(String),
    Int(i64),
    Bool(bool),
    Duration(Duration),
}

impl Value {
    /// The text substituted into a command (before quoting): durations as whole seconds.
    pub fn rendered(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Duration(d) => d.as_secs().to_string(),
        }
    }
}

/// One declared parameter of a template.
#[derive(Debug, Clone)]
pub struct Param {
    /// `[a-z][a-z0-9_]*`; `{name}` in the command.
    pub name: String,
    pub kind: ParamType,
    /// Must be given (a parameter with a default never is).
    pub required: bool,
    /// The default as text, already validated against the type.
    pub default: Option<String>,
    /// Must match the whole value (anchored).
    pub regex: Option<Regex>,
    /// The regex as written, for `actions show` and the console.
    pub regex_text: Option<String>,
    pub description: String,
    /// Never on a command line, in a file or on screen: comes from `env:VAR`, `file:PATH` or
    /// a masked prompt, and reaches the host on stdin.
    pub secret: bool,
}

impl Param {
    /// Checks `raw` as this parameter's value (type, bounds, choices, regex). The message
    /// says what is wrong and what is expected, without repeating a secret value.
    pub fn validate(&self, raw: &str) -> Result<Value, String> {
        // A secret's value is never quoted back, whatever the type check found.
        let value = typed(&self.kind, raw).map_err(|e| {
            if self.secret {
                format!("the value is not a valid {}", self.type_summary())
            } else {
                e
            }
        })?;
        if let Some(re) = &self.regex
            && !re.is_match(raw)
        {
            let pattern = self.regex_text.as_deref().unwrap_or_default();
            return Err(if self.secret {
                format!("the value does not match `{pattern}`")
            } else {
                format!("`{}` does not match `{pattern}`", shown(raw))
            });
        }
        Ok(value)
    }

    /// What the parameter takes, in a few words (`int 1..=100`, `one of a, b`).
    pub fn type_summary(&self) -> String {
        match &self.kind {
            ParamType::Int { min, max } => match (min, max) {
                (None, None) => "int".to_string(),
                (Some(a), None) => format!("int >= {a}"),
                (None, Some(b)) => format!("int <= {b}"),
                (Some(a), Some(b)) => format!("int {a}..={b}"),
            },
            ParamType::Enum { choices } => format!("one of {}", choices.join(", ")),
            other => other.name().to_string(),
        }
    }
}

/// A value as shown in a message: at most 60 characters, control characters escaped.
fn shown(raw: &str) -> String {
    let mut out: String = raw.chars().take(60).flat_map(char::escape_debug).collect();
    if raw.chars().count() > 60 {
        out.push('…');
    }
    out
}

fn typed(kind: &ParamType, raw: &str) -> Result<Value, String> {
    if raw.contains('\0') {
        return Err("a value cannot contain a NUL byte".to_string());
    }
    match kind {
        ParamType::String => Ok(Value::Text(raw.to_string())),
        ParamType::Raw => Ok(Value::Text(raw.to_string())),
        ParamType::Int { min, max } => {
            let n: i64 = raw
                .trim()
                .parse()
                .map_err(|_| format!("`{}` is not a whole number", shown(raw)))?;
            if let Some(min) = min
                && n < *min
            {
                return Err(format!("{n} is less than the minimum {min}"));
            }
            if let Some(max) = max
                && n > *max
            {
                return Err(format!("{n} is more than the maximum {max}"));
            }
            Ok(Value::Int(n))
        }
        ParamType::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("`{}` is not true or false", shown(raw))),
        },
        ParamType::Enum { choices } => {
            if choices.iter().any(|c| c == raw) {
                Ok(Value::Text(raw.to_string()))
            } else {
                let hint = crate::diag::did_you_mean(raw, choices.iter().map(String::as_str))
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                Err(format!(
                    "`{}` is not one of {}{hint}",
                    shown(raw),
                    choices.join(", ")
                ))
            }
        }
        ParamType::Duration => {
            let d = parse_duration(raw)?;
            if d.subsec_nanos() != 0 {
                return Err(format!(
                    "`{}` is not a whole number of seconds (durations are passed as seconds)",
                    format_duration(d)
                ));
            }
            Ok(Value::Duration(d))
        }
        ParamType::HostPath => {
            if !raw.starts_with('/') {
                Err(format!(
                    "`{}` is not an absolute path (it must start with /)",
                    shown(raw)
                ))
            } else if raw.contains(['\n', '\r']) {
                Err("a path cannot contain a newline".to_string())
            } else {
                Ok(Value::Text(raw.to_string()))
            }
        }
    }
}

/// A parameter name: `[a-z][a-z0-9_]*` (it becomes part of a shell variable name).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(kind: ParamType, regex: Option<&str>) -> Param {
        Param {
            name: "p".into(),
            kind,
            required: true,
            default: None,
            regex: regex.map(|r| Regex::new(&format!("^(?:{r})$")).unwrap()),
            regex_text: regex.map(str::to_string),
            description: String::new(),
            secret: false,
        }
    }

    #[test]
    fn types_validate_and_render() {
        let int = param(
            ParamType::Int {
                min: Some(1),
                max: Some(10),
            },
            None,
        );
        assert_eq!(int.validate("5"), Ok(Value::Int(5)));
        assert!(int.validate("0").unwrap_err().contains("minimum 1"));
        assert!(int.validate("11").unwrap_err().contains("maximum 10"));
        assert!(int.validate("x").unwrap_err().contains("whole number"));
        let b = param(ParamType::Bool, None);
        assert_eq!(b.validate("yes").unwrap().rendered(), "true");
        assert!(b.validate("maybe").is_err());
        let e = param(
            ParamType::Enum {
                choices: vec!["start".into(), "stop".into()],
            },
            None,
        );
        assert!(e.validate("stop").is_ok());
        assert!(
            e.validate("stpo")
                .unwrap_err()
                .contains("did you mean `stop`")
        );
        let d = param(ParamType::Duration, None);
        assert_eq!(d.validate("1h30m").unwrap().rendered(), "5400");
        assert!(d.validate("1500ms").is_err());
        let p = param(ParamType::HostPath, None);
        assert!(p.validate("/var/log/syslog").is_ok());
        assert!(p.validate("var/log").is_err());
        assert!(p.validate("/a\nb").is_err());
        let s = param(ParamType::String, None);
        assert!(s.validate("a\0b").is_err());
    }

    #[test]
    fn the_regex_must_match_the_whole_value() {
        let p = param(ParamType::String, Some("[a-z]+"));
        assert!(p.validate("abc").is_ok());
        assert!(
            p.validate("abc; rm")
                .unwrap_err()
                .contains("does not match")
        );
        assert!(valid_name("unit_2") && !valid_name("Unit") && !valid_name("2x"));
    }

    #[test]
    fn a_secret_is_never_quoted_back_whatever_its_type() {
        let kinds = [
            ParamType::Int {
                min: Some(1),
                max: None,
            },
            ParamType::Bool,
            ParamType::Enum {
                choices: vec!["a".into(), "b".into()],
            },
            ParamType::HostPath,
            ParamType::Duration,
        ];
        for kind in kinds {
            let mut p = param(kind, None);
            p.secret = true;
            let err = p.validate("hunter2-Zq").unwrap_err();
            assert!(!err.contains("hunter2"), "{err}");
        }
        let mut p = param(ParamType::String, Some("[a-z]+"));
        p.secret = true;
        assert!(!p.validate("Hunter2").unwrap_err().contains("Hunter2"));
    }
}
