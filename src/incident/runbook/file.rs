//! runbooks.toml as written: `[[rules]]` with a `match` table, a `hint`, and optionally an
//! `action` with `params`. Positions are kept (`Spanned`) so every problem names its place.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunbooksFile {
    #[serde(default)]
    pub rules: Vec<Spanned<RuleFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "match", default)]
    pub matches: MatchFile,
    pub hint: Spanned<String>,
    #[serde(default)]
    pub action: Option<Spanned<String>>,
    #[serde(default)]
    pub params: BTreeMap<Spanned<String>, Spanned<ParamText>>,
    /// Shown when the alert carries no `annotations.runbook_url` of its own.
    #[serde(default)]
    pub runbook_url: Option<String>,
}

/// Every condition given must hold; an empty `match` matches every incident.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchFile {
    /// Label name → glob on its value (the label must be present).
    #[serde(default)]
    pub labels: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub source: Option<OneOrMany<crate::incident::facts::Source>>,
    #[serde(default)]
    pub severity: Option<OneOrMany<crate::incident::facts::Severity>>,
    /// Glob on the title, case-insensitive.
    #[serde(default)]
    pub title: Option<Spanned<String>>,
}

/// One value or a list of them (`source = "agent"` or `source = ["agent", "check"]`).
#[derive(Debug, Clone)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: FromStr<Err = String>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: FromStr<Err = String>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                s.parse().map(|v| OneOrMany(vec![v])).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s.parse().map_err(de::Error::custom)?);
                }
                if out.is_empty() {
                    return Err(de::Error::custom("an empty list matches nothing"));
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A `params` value: text (placeholders allowed), or a number or boolean written bare
/// (`max_percent = 90`), kept as the text an operator would type.
#[derive(Debug, Clone)]
pub struct ParamText(pub String);

impl<'de> Deserialize<'de> for ParamText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ParamText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, a number or a boolean")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ParamText, E> {
                Ok(ParamText(s.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ParamText, E> {
                Ok(ParamText(n.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ParamText, E> {
                Ok(ParamText(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<ParamText, E> {
                Ok(ParamText(n.to_string()))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<ParamText, E> {
                Ok(ParamText(b.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}
