//! Secret parameter values: where they may come from, and a type that never prints them.
//! A secret reaches the host on the command's stdin and is read into a shell variable, so it
//! is in no argv, no recorded command, no file and no log.

use std::fmt;
use std::path::Path;

/// A secret value. `Debug` and `Display` print `<secret>`; only [`SecretValue::expose`]
/// gives the text, for writing it to a command's stdin.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps `value`: refused when it holds a newline or NUL (it travels as one stdin line).
    pub fn new(value: String) -> Result<Self, String> {
        if value.contains(['\n', '\r', '\0']) {
            return Err(
                "a secret value cannot contain a newline or NUL (it is sent as one line on the \
                 command's stdin)"
                    .to_string(),
            );
        }
        Ok(Self(value))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::engine::types::SECRET_MASK)
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::engine::types::SECRET_MASK)
    }
}

/// Where a secret given with `-p name=…` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `env:VAR`
    Env(String),
    /// `file:PATH`: its first line.
    File(String),
}

/// Reads `-p name=SOURCE` for secret parameter `name`. A literal value is refused: it would
/// sit in the shell history and in the process list.
pub fn parse_source(name: &str, text: &str) -> Result<SecretSource, String> {
    if let Some(var) = text.strip_prefix("env:")
        && !var.is_empty()
    {
        return Ok(SecretSource::Env(var.to_string()));
    }
    if let Some(path) = text.strip_prefix("file:")
        && !path.is_empty()
    {
        return Ok(SecretSource::File(path.to_string()));
    }
    Err(format!(
        "`{name}` is a secret: a value on the command line would sit in your shell history and \
         in the process list. Pass `-p {name}=env:VAR` (an environment variable), \
         `-p {name}=file:PATH` (the file's first line), or leave it out to be asked for it on \
         the terminal"
    ))
}

/// The value from its source.
pub fn resolve(name: &str, source: &SecretSource) -> Result<SecretValue, String> {
    let value = match source {
        SecretSource::Env(var) => std::env::var(var).map_err(|e| match e {
            std::env::VarError::NotPresent => {
                format!("secret `{name}`: environment variable {var} is not set")
            }
            std::env::VarError::NotUnicode(_) => {
                format!("secret `{name}`: environment variable {var} is not valid UTF-8")
            }
        })?,
        SecretSource::File(path) => first_line(Path::new(path))
            .map_err(|e| format!("secret `{name}`: cannot read {path}: {e}"))?,
    };
    SecretValue::new(value).map_err(|e| format!("secret `{name}`: {e}"))
}

/// The file's first line without its line end.
fn first_line(path: &Path) -> std::io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    let line = text.split('\n').next().unwrap_or_default();
    Ok(line.strip_suffix('\r').unwrap_or(line).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_refused_and_sources_read() {
        assert!(
            parse_source("pw", "hunter2")
                .unwrap_err()
                .contains("shell history")
        );
        assert!(parse_source("pw", "env:").is_err());
        assert_eq!(
            parse_source("pw", "env:PGPASS"),
            Ok(SecretSource::Env("PGPASS".into()))
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\nignored\n").unwrap();
        let source = parse_source("pw", &format!("file:{}", file.display())).unwrap();
        let value = resolve("pw", &source).unwrap();
        assert_eq!(value.expose(), "s3cret");
        assert_eq!(format!("{value} {value:?}"), "<secret> <secret>");
        assert!(resolve("pw", &SecretSource::Env("FLEETDECK_TEST_UNSET_VAR".into())).is_err());
        assert!(SecretValue::new("a\nb".into()).is_err());
    }
}
