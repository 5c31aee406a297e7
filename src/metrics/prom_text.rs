//! A writer of Prometheus' text exposition format (version 0.0.4, what node_exporter's
//! textfile collector and every scraper read): `# HELP` and `# TYPE` once per family, then its
//! samples, label values and help text escaped as the format says, values written the way Go's
//! `ParseFloat` reads them (`NaN`, `+Inf`, `-Inf`).
//!
//! General on purpose: `fleetdeck stats --prometheus` and the console's `/metrics` endpoint
//! both use it. It only builds text; it knows no metric of fleetdeck's and does no I/O.
//! Timestamps are never written (the textfile collector refuses them).
//!
//! ```
//! use fleetdeck::metrics::prom_text::{MetricKind, PromText};
//! let mut p = PromText::new();
//! p.family("fleetdeck_runs_total", MetricKind::Counter, "Runs recorded.")?;
//! p.sample(&[("name", "uptime")], 3.0)?;
//! let text = p.finish();
//! let lines: Vec<&str> = text.lines().collect();
//! assert_eq!(lines[0], "# HELP fleetdeck_runs_total Runs recorded.");
//! assert_eq!(lines[1], "# TYPE fleetdeck_runs_total counter");
//! assert_eq!(lines[2], r#"fleetdeck_runs_total{name="uptime"} 3"#);
//! # Ok::<(), fleetdeck::metrics::prom_text::PromError>(())
//! ```

use std::collections::HashSet;
use std::fmt;

/// A family's `# TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Gauge,
    Counter,
    /// Samples named after the family with a `quantile` label, plus `_sum` and `_count`
    /// samples (written with [`PromText::sample_suffixed`]).
    Summary,
    Untyped,
}

impl MetricKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Gauge => "gauge",
            MetricKind::Counter => "counter",
            MetricKind::Summary => "summary",
            MetricKind::Untyped => "untyped",
        }
    }
}

/// A mistake in what the caller asked to write; nothing of the failed call was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromError {
    #[error("`{0}` is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")]
    MetricName(String),
    #[error("`{0}` is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)")]
    LabelName(String),
    #[error("label `{label}` given twice in one sample of `{family}`")]
    DuplicateLabel { family: String, label: String },
    #[error("family `{0}` was already written: a family's samples must stay together")]
    DuplicateFamily(String),
    #[error("a sample of `{family}` with these labels was already written: {labels}")]
    DuplicateSeries { family: String, labels: String },
    #[error("a sample was given before any family")]
    NoFamily,
    #[error("suffix `{suffix}` does not fit a {kind} family (`{family}`)")]
    Suffix {
        family: String,
        kind: &'static str,
        suffix: String,
    },
}

/// The text being built. Families are written in the order they are declared; a family's
/// samples follow it.
#[derive(Debug, Default)]
pub struct PromText {
    out: String,
    families: HashSet<String>,
    current: Option<Family>,
}

#[derive(Debug)]
struct Family {
    name: String,
    kind: MetricKind,
    /// Sample name suffix + rendered labels already written, to refuse a repeated series.
    series: HashSet<String>,
}

impl PromText {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a family: writes its `# HELP` (escaped) and `# TYPE`. Samples given next belong
    /// to it. A family may be declared only once.
    pub fn family(
        &mut self,
        name: &str,
        kind: MetricKind,
        help: &str,
    ) -> Result<&mut Self, PromError> {
        if !valid_metric_name(name) {
            return Err(PromError::MetricName(name.to_string()));
        }
        if !self.families.insert(name.to_string()) {
            return Err(PromError::DuplicateFamily(name.to_string()));
        }
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        escape_into(&mut self.out, help, false);
        self.out.push('\n');
        self.out
            .push_str(&format!("# TYPE {name} {}\n", kind.as_str()));
        self.current = Some(Family {
            name: name.to_string(),
            kind,
            series: HashSet::new(),
        });
        Ok(self)
    }

    /// One sample of the current family: `name{labels} value`. Labels are written in the order
    /// given; an empty list writes no braces.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> Result<&mut Self, PromError> {
        self.write_sample("", labels, value)
    }

    /// A sample named after the family plus `suffix`: `_sum` or `_count` of a summary.
    pub fn sample_suffixed(
        &mut self,
        suffix: &str,
        labels: &[(&str, &str)],
        value: f64,
    ) -> Result<&mut Self, PromError> {
        let family = self.current.as_ref().ok_or(PromError::NoFamily)?;
        let fits = family.kind == MetricKind::Summary && matches!(suffix, "_sum" | "_count");
        if !fits {
            return Err(PromError::Suffix {
                family: family.name.clone(),
                kind: family.kind.as_str(),
                suffix: suffix.to_string(),
            });
        }
        self.write_sample(suffix, labels, value)
    }

    /// The text, ending with a newline after the last sample (or empty).
    pub fn finish(self) -> String {
        self.out
    }

    fn write_sample(
        &mut self,
        suffix: &str,
        labels: &[(&str, &str)],
        value: f64,
    ) -> Result<&mut Self, PromError> {
        let family = self.current.as_mut().ok_or(PromError::NoFamily)?;
        let mut rendered = String::new();
        for (i, (label, label_value)) in labels.iter().enumerate() {
            if !valid_label_name(label) {
                return Err(PromError::LabelName((*label).to_string()));
            }
            if labels[..i].iter().any(|(earlier, _)| earlier == label) {
                return Err(PromError::DuplicateLabel {
                    family: family.name.clone(),
                    label: (*label).to_string(),
                });
            }
            rendered.push(if i == 0 { '{' } else { ',' });
            rendered.push_str(label);
            rendered.push_str("=\"");
            escape_into(&mut rendered, label_value, true);
            rendered.push('"');
        }
        if !labels.is_empty() {
            rendered.push('}');
        }
        // Prometheus rejects a scrape that repeats a series; refuse it here instead.
        if !family.series.insert(format!("{suffix}{rendered}")) {
            return Err(PromError::DuplicateSeries {
                family: family.name.clone(),
                labels: rendered,
            });
        }
        self.out.push_str(&family.name);
        self.out.push_str(suffix);
        self.out.push_str(&rendered);
        self.out.push(' ');
        self.out.push_str(&format_value(value));
        self.out.push('\n');
        Ok(self)
    }
}

impl fmt::Display for PromText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.out)
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, and not `__…` (reserved for Prometheus' own use).
pub fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    !name.starts_with("__")
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A value as the format writes it: `NaN`, `+Inf`, `-Inf`, or the shortest decimal that
/// reads back as the same `f64` (integers without a fraction).
pub fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value == f64::INFINITY {
        "+Inf".to_string()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        // Rust's shortest round-trip form never uses an exponent, which Go parses as well.
        format!("{value}")
    }
}

/// Help text escapes `\` and newline; label values also escape `"`.
fn escape_into(out: &mut String, text: &str, quote: bool) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_get_help_and_type_once_then_their_samples() {
        let mut p = PromText::new();
        p.family("a_total", MetricKind::Counter, "First.").unwrap();
        p.sample(&[("x", "1")], 1.0).unwrap();
        p.sample(&[("x", "2")], 2.5).unwrap();
        p.family("b", MetricKind::Gauge, "Second.").unwrap();
        p.sample(&[], 0.0).unwrap();
        assert_eq!(
            p.finish(),
            "# HELP a_total First.\n# TYPE a_total counter\na_total{x=\"1\"} 1\n\
             a_total{x=\"2\"} 2.5\n# HELP b Second.\n# TYPE b gauge\nb 0\n"
        );
    }

    #[test]
    fn label_values_escape_backslash_quote_and_newline_and_help_escapes_its_own() {
        let mut p = PromText::new();
        p.family("m", MetricKind::Gauge, "back\\slash \"quoted\"\nnext")
            .unwrap();
        p.sample(&[("cmd", "echo \"a\\b\"\nls"), ("empty", "")], 1.0)
            .unwrap();
        let text = p.finish();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "# HELP m back\\\\slash \"quoted\"\\nnext");
        assert_eq!(lines[2], r#"m{cmd="echo \"a\\b\"\nls",empty=""} 1"#);
        assert_eq!(lines.len(), 3, "a newline in a value never starts a line");
    }

    #[test]
    fn unicode_and_other_characters_pass_as_they_are() {
        let mut p = PromText::new();
        p.family("m", MetricKind::Gauge, "h").unwrap();
        p.sample(&[("v", "héllo\t{},=")], 1.0).unwrap();
        assert!(p.finish().ends_with("m{v=\"héllo\t{},=\"} 1\n"));
    }

    #[test]
    fn special_values_are_written_as_the_format_says() {
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(-0.25), "-0.25");
        assert_eq!(format_value(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_value(1e21), "1000000000000000000000");
        for v in [0.1, 1e-7, 123_456.789, 1e300, f64::MAX, f64::MIN_POSITIVE] {
            assert_eq!(format_value(v).parse::<f64>().unwrap(), v, "round trip");
        }
    }

    #[test]
    fn metric_and_label_names_are_checked() {
        for good in ["a", "_a", ":a", "fleetdeck_runs_total", "a:b_c9"] {
            assert!(valid_metric_name(good), "{good}");
        }
        for bad in ["", "9a", "a-b", "a b", "é", "a.b"] {
            assert!(!valid_metric_name(bad), "{bad}");
        }
        for good in ["a", "_a", "a9_b"] {
            assert!(valid_label_name(good), "{good}");
        }
        for bad in ["", "9a", "a:b", "__name__", "__x", "a-b"] {
            assert!(!valid_label_name(bad), "{bad}");
        }
        let mut p = PromText::new();
        assert_eq!(
            p.family("runs-total", MetricKind::Counter, "x")
                .unwrap_err(),
            PromError::MetricName("runs-total".into())
        );
        assert_eq!(p.sample(&[], 1.0).unwrap_err(), PromError::NoFamily);
        p.family("ok", MetricKind::Gauge, "x").unwrap();
        assert_eq!(
            p.sample(&[("bad-label", "v")], 1.0).unwrap_err(),
            PromError::LabelName("bad-label".into())
        );
        assert!(matches!(
            p.sample(&[("a", "1"), ("a", "2")], 1.0),
            Err(PromError::DuplicateLabel { .. })
        ));
        assert_eq!(
            p.finish(),
            "# HELP ok x\n# TYPE ok gauge\n",
            "failed calls write nothing"
        );
    }

    #[test]
    fn a_family_or_a_series_cannot_repeat() {
        let mut p = PromText::new();
        p.family("m", MetricKind::Gauge, "x").unwrap();
        p.sample(&[("a", "1")], 1.0).unwrap();
        assert!(matches!(
            p.sample(&[("a", "1")], 2.0),
            Err(PromError::DuplicateSeries { .. })
        ));
        p.family("n", MetricKind::Gauge, "y").unwrap();
        assert_eq!(
            p.family("m", MetricKind::Gauge, "x").unwrap_err(),
            PromError::DuplicateFamily("m".into())
        );
    }

    #[test]
    fn summaries_take_quantiles_sum_and_count() {
        let mut p = PromText::new();
        p.family("d_seconds", MetricKind::Summary, "Durations.")
            .unwrap()
            .sample(&[("n", "x"), ("quantile", "0.95")], 1.5)
            .unwrap()
            .sample_suffixed("_sum", &[("n", "x")], 4.0)
            .unwrap()
            .sample_suffixed("_count", &[("n", "x")], 3.0)
            .unwrap();
        assert_eq!(
            p.to_string(),
            "# HELP d_seconds Durations.\n# TYPE d_seconds summary\n\
             d_seconds{n=\"x\",quantile=\"0.95\"} 1.5\nd_seconds_sum{n=\"x\"} 4\n\
             d_seconds_count{n=\"x\"} 3\n"
        );
        p.family("g", MetricKind::Gauge, "x").unwrap();
        assert!(matches!(
            p.sample_suffixed("_sum", &[], 1.0),
            Err(PromError::Suffix { .. })
        ));
        p.family("s", MetricKind::Summary, "x").unwrap();
        assert!(matches!(
            p.sample_suffixed("_bucket", &[], 1.0),
            Err(PromError::Suffix { .. })
        ));
    }
}
