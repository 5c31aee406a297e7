//! `{…}` placeholders in a rule's `params` values: what they may name (`{labels.NAME}`,
//! `{annotations.NAME}`, `{title}`, `{severity}`, `{source}`, `{host}`, `{hosts}`; `{{` and
//! `}}` are literal braces) and how they are filled from an incident. A missing label is a
//! reason, never an empty value.

use crate::incident::facts::IncidentFacts;

/// What a placeholder reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Label(String),
    Annotation(String),
    Title,
    Severity,
    Source,
    /// The incident's only host (an incident on several hosts cannot fill it).
    Host,
    /// Every host, comma-separated.
    Hosts,
}

/// A piece of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Field(Field),
}

/// A malformed placeholder and its byte offset in the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceholderError {
    pub offset: usize,
    pub message: String,
}

const FIELDS: &str =
    "{labels.NAME}, {annotations.NAME}, {title}, {severity}, {source}, {host}, {hosts}";

/// Splits a value into text and placeholders.
pub fn parse(text: &str) -> Result<Vec<Piece>, PlaceholderError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(c) = rest.chars().next() {
        let doubled = rest[c.len_utf8()..].starts_with(c);
        match c {
            '{' | '}' if doubled => {
                literal.push(c);
                rest = &rest[2..];
                offset += 2;
            }
            '{' => {
                let Some(end) = rest.find('}') else {
                    return Err(PlaceholderError {
                        offset,
                        message: "`{` is not closed: write `{{` for a literal brace".into(),
                    });
                };
                let field =
                    field(&rest[1..end]).map_err(|message| PlaceholderError { offset, message })?;
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Field(field));
                rest = &rest[end + 1..];
                offset += end + 1;
            }
            '}' => {
                return Err(PlaceholderError {
                    offset,
                    message: "a lone `}`: write `}}` for a literal brace".into(),
                });
            }
            c => {
                literal.push(c);
                rest = &rest[c.len_utf8()..];
                offset += c.len_utf8();
            }
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

fn field(inner: &str) -> Result<Field, String> {
    let named = |prefix: &str| -> Option<Result<String, String>> {
        let name = inner.strip_prefix(prefix)?;
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        Some(if ok {
            Ok(name.to_string())
        } else {
            Err(format!(
                "`{{{inner}}}`: a {} name is letters, digits, `_`, `-` or `.`",
                prefix.trim_end_matches('.')
            ))
        })
    };
    if let Some(name) = named("labels.") {
        return name.map(Field::Label);
    }
    if let Some(name) = named("annotations.") {
        return name.map(Field::Annotation);
    }
    match inner {
        "title" => Ok(Field::Title),
        "severity" => Ok(Field::Severity),
        "source" => Ok(Field::Source),
        "host" => Ok(Field::Host),
        "hosts" => Ok(Field::Hosts),
        _ => {
            let hint = if let Some(rest) = inner.strip_prefix("label.") {
                format!(": did you mean `{{labels.{rest}}}`?")
            } else if let Some(rest) = inner.strip_prefix("annotation.") {
                format!(": did you mean `{{annotations.{rest}}}`?")
            } else {
                crate::diag::did_you_mean(inner, ["title", "severity", "source", "host", "hosts"])
                    .map(|c| format!(": did you mean `{{{c}}}`?"))
                    .unwrap_or_default()
            };
            Err(format!(
                "`{{{inner}}}` is not a placeholder{hint} (placeholders: {FIELDS}; `{{{{` and `}}}}` are literal braces)"
            ))
        }
    }
}

/// Whether the value has any placeholder.
pub fn has_fields(pieces: &[Piece]) -> bool {
    pieces.iter().any(|p| matches!(p, Piece::Field(_)))
}

/// The value filled from `facts`, or why it cannot be.
pub fn fill(pieces: &[Piece], facts: &IncidentFacts) -> Result<String, String> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Field(f) => out.push_str(&value(f, facts)?),
        }
    }
    Ok(out)
}

fn value(field: &Field, facts: &IncidentFacts) -> Result<String, String> {
    let non_empty = |v: &str, what: String| {
        if v.is_empty() {
            Err(format!("{what} is empty"))
        } else {
            Ok(v.to_string())
        }
    };
    match field {
        Field::Label(name) => match facts.labels.get(name) {
            Some(v) => non_empty(v, format!("label `{name}`")),
            None => Err(format!(
                "the incident has no label `{name}` ({})",
                listed("labels", facts.labels.keys())
            )),
        },
        Field::Annotation(name) => match facts.annotations.get(name) {
            Some(v) => non_empty(v, format!("annotation `{name}`")),
            None => Err(format!(
                "the incident has no annotation `{name}` ({})",
                listed("annotations", facts.annotations.keys())
            )),
        },
        Field::Title => non_empty(&facts.title, "the title".to_string()),
        Field::Severity => Ok(facts.severity.as_str().to_string()),
        Field::Source => Ok(facts.source.as_str().to_string()),
        Field::Host => match facts.hosts.as_slice() {
            [one] => non_empty(one, "the host name".to_string()),
            [] => Err("`{host}` needs the incident's host, and it has none".to_string()),
            many => Err(format!(
                "`{{host}}` needs exactly one host; the incident has {} ({})",
                many.len(),
                crate::inventory::nodeset::fold(many.iter().map(String::as_str))
            )),
        },
        Field::Hosts if facts.hosts.is_empty() => {
            Err("`{hosts}` needs the incident's hosts, and it has none".to_string())
        }
        Field::Hosts => Ok(facts.hosts.join(",")),
    }
}

fn listed<'a>(what: &str, names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        format!("it has no {what}")
    } else {
        format!("its {what}: {}", names.join(", "))
    }
}
