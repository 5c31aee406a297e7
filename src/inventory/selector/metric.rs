//! Metric terms of a selector (`cpu>90`, `mem>=80`, `load<0.5`, `disk=95`, `stale`) and the
//! facts they are evaluated on.
//!
//! Nothing here samples a host: whoever holds the latest samples (the CLI after sampling the
//! candidates, the console from its snapshot) answers [`MetricFacts`]. [`MetricView`] is the
//! plain answer built from samples in hand.

use std::collections::HashMap;
use std::fmt;

use crate::diag::did_you_mean;
use crate::metrics::{Metric, Sample};

/// What a selector's metric terms read: each host's latest values, and whether they are fresh.
///
/// A comparison (`cpu>90`) matches only a host that is not stale and whose latest sample has
/// that metric: missing data never matches. `stale` matches exactly the stale hosts.
pub trait MetricFacts {
    /// The latest value of `metric` on `host`; `None` when the host has no sample or its latest
    /// sample lacks the metric. Asked only for hosts that are not stale.
    fn latest(&self, host: &str, metric: Metric) -> Option<f64>;

    /// Whether `host` has no fresh sample: none at all, or only one too old to act on (what
    /// counts as too old is the caller's call, e.g. three sampling intervals).
    fn is_stale(&self, host: &str) -> bool;
}

/// Hosts' latest samples, each marked fresh or not; a host not in the view is stale.
///
/// Collecting `(host, sample)` pairs gives a view where every sample is fresh (samples just
/// taken, as the CLI does before evaluating).
#[derive(Debug, Clone, Default)]
pub struct MetricView {
    hosts: HashMap<String, (Sample, bool)>,
}

impl MetricView {
    pub fn new() -> MetricView {
        MetricView::default()
    }

    /// Sets `host`'s latest sample; `fresh: false` keeps it for nothing but `stale`.
    pub fn insert(&mut self, host: impl Into<String>, sample: Sample, fresh: bool) {
        self.hosts.insert(host.into(), (sample, fresh));
    }
}

/// A console's metrics frame read at `now`: what its `:target` evaluates metric terms on (a
/// sample older than three of its source's intervals is stale).
pub struct FrameFacts<'a> {
    pub frame: &'a crate::metrics::MetricsFrame,
    pub now: std::time::SystemTime,
}

impl MetricFacts for FrameFacts<'_> {
    fn latest(&self, host: &str, metric: Metric) -> Option<f64> {
        self.frame
            .host(host)
            .and_then(|n| n.fresh(metric, self.now))
    }

    fn is_stale(&self, host: &str) -> bool {
        self.frame.host(host).is_none_or(|n| n.is_stale(self.now))
    }
}

impl FromIterator<(String, Sample)> for MetricView {
    fn from_iter<I: IntoIterator<Item = (String, Sample)>>(iter: I) -> Self {
        MetricView {
            hosts: iter.into_iter().map(|(h, s)| (h, (s, true))).collect(),
        }
    }
}

impl MetricFacts for MetricView {
    fn latest(&self, host: &str, metric: Metric) -> Option<f64> {
        self.hosts.get(host).and_then(|(s, _)| s.get(metric))
    }

    fn is_stale(&self, host: &str) -> bool {
        !self.hosts.get(host).is_some_and(|(_, fresh)| *fresh)
    }
}

/// A comparison operator of a metric term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
}

impl Cmp {
    fn as_str(self) -> &'static str {
        match self {
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Eq => "=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Compare {
        metric: Metric,
        cmp: Cmp,
        value: f64,
        /// Half a unit of the last digit written: `=` compares at the precision written.
        half_ulp: f64,
    },
    Stale,
}

/// One metric term, as parsed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct MetricTerm {
    test: Test,
    /// The term as written, for messages.
    text: String,
}

/// Why a metric term does not parse: a byte offset in the term, the message, a hint.
pub(super) type TermError = (usize, String, Option<String>);

impl MetricTerm {
    /// The characters that make a term a comparison. No host name may hold them (hosts.toml
    /// refuses them, and ssh destinations cannot contain `<` or `>`).
    pub(super) const COMPARISON_CHARS: [char; 3] = ['<', '>', '='];

    /// Parses `text` (a whole term, trimmed) if it is a metric term: `stale`, or anything
    /// holding `<`, `>` or `=`. `None`: not a metric term.
    pub(super) fn parse(text: &str) -> Option<Result<MetricTerm, TermError>> {
        if text == "stale" {
            return Some(Ok(MetricTerm {
                test: Test::Stale,
                text: text.to_string(),
            }));
        }
        let op_at = text.find(Self::COMPARISON_CHARS)?;
        Some(parse_comparison(text, op_at).map(|test| MetricTerm {
            test,
            text: text.to_string(),
        }))
    }

    /// Whether `host` matches, on `facts`.
    pub(super) fn matches(&self, facts: &dyn MetricFacts, host: &str) -> bool {
        if facts.is_stale(host) {
            return self.test == Test::Stale;
        }
        let Test::Compare {
            metric,
            cmp,
            value,
            half_ulp,
        } = self.test
        else {
            return false;
        };
        let Some(v) = facts.latest(host, metric).filter(|v| v.is_finite()) else {
            return false;
        };
        match cmp {
            Cmp::Gt => v > value,
            Cmp::Ge => v >= value,
            Cmp::Lt => v < value,
            Cmp::Le => v <= value,
            Cmp::Eq => value - half_ulp <= v && v < value + half_ulp,
        }
    }
}

impl fmt::Display for MetricTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn metric_names() -> [&'static str; 4] {
    Metric::LEVELS.map(Metric::name)
}

fn metric_list() -> String {
    let names = metric_names();
    format!("{}, {}, {} or {}", names[0], names[1], names[2], names[3])
}

/// `NAME OP NUMBER`, the operator at byte `op_at` of `text`. Spaces around the operator are
/// allowed (`cpu > 90`): the term runs to the next selector operator anyway.
fn parse_comparison(text: &str, op_at: usize) -> Result<Test, TermError> {
    let rest = &text[op_at..];
    let cmp = if rest.starts_with(">=") {
        Cmp::Ge
    } else if rest.starts_with("<=") {
        Cmp::Le
    } else if rest.starts_with('>') {
        Cmp::Gt
    } else if rest.starts_with('<') {
        Cmp::Lt
    } else {
        Cmp::Eq
    };
    let num_raw = &rest[cmp.as_str().len()..];
    let num_at = op_at + cmp.as_str().len() + (num_raw.len() - num_raw.trim_start().len());
    let num = num_raw.trim();
    let name = text[..op_at].trim_end();
    if name.is_empty() {
        return Err((
            0,
            format!("comparison `{text}` without a metric"),
            Some(format!(
                "write it as `cpu{}{num}`; metrics: {}",
                cmp.as_str(),
                metric_list()
            )),
        ));
    }
    let Some(metric) = Metric::LEVELS.into_iter().find(|m| m.name() == name) else {
        // Lowercase first so `CPU>90` still gets its suggestion.
        let hint = did_you_mean(&name.to_lowercase(), metric_names()).map_or_else(
            || format!("metrics: {}", metric_list()),
            |s| format!("did you mean `{s}{}{num}`?", cmp.as_str()),
        );
        return Err((0, format!("unknown metric `{name}`"), Some(hint)));
    };
    let (digits, percent) = match num.strip_suffix('%') {
        Some(d) => (d.trim_end(), true),
        None => (num, false),
    };
    if digits.is_empty() {
        return Err((
            num_at,
            format!("missing number after `{name}{}`", cmp.as_str()),
            Some(example(metric)),
        ));
    }
    let Some((value, decimals)) = parse_decimal(digits) else {
        return Err((
            num_at,
            format!("invalid number `{num}` in `{text}`"),
            Some(example(metric)),
        ));
    };
    if metric.is_percent() {
        if value > 100.0 {
            return Err((
                num_at,
                format!("{name} is a percentage: `{num}` is more than 100"),
                None,
            ));
        }
    } else if percent {
        return Err((
            num_at + digits.len(),
            format!("{name} is not a percentage: drop the `%`"),
            None,
        ));
    }
    Ok(Test::Compare {
        metric,
        cmp,
        value,
        half_ulp: 0.5 / 10f64.powi(decimals),
    })
}

fn example(metric: Metric) -> String {
    if metric.is_percent() {
        format!("a number such as `{metric}>90` or `{metric}<=12.5`")
    } else {
        format!("a number such as `{metric}>4` or `{metric}<0.5`")
    }
}

/// A plain decimal (`90`, `1.5`, `.5`), no sign, exponent, NaN or infinity, and the number of
/// digits after its point.
fn parse_decimal(s: &str) -> Option<(f64, i32)> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |p: &str| p.bytes().all(|c| c.is_ascii_digit());
    if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let decimals = i32::try_from(frac.len()).ok()?;
    let value: f64 = s.parse().ok()?;
    value.is_finite().then_some((value, decimals))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_of(text: &str) -> Test {
        MetricTerm::parse(text)
            .expect("a metric term")
            .unwrap_or_else(|e| panic!("{text}: {e:?}"))
            .test
    }

    #[test]
    fn parses_comparisons() {
        assert_eq!(
            test_of("cpu>90"),
            Test::Compare {
                metric: Metric::Cpu,
                cmp: Cmp::Gt,
                value: 90.0,
                half_ulp: 0.5
            }
        );
        assert_eq!(
            test_of("load >= 1.25"),
            Test::Compare {
                metric: Metric::Load,
                cmp: Cmp::Ge,
                value: 1.25,
                half_ulp: 0.005
            }
        );
        assert!(matches!(
            test_of("mem<=80%"),
            Test::Compare {
                cmp: Cmp::Le,
                value: 80.0,
                ..
            }
        ));
        assert!(matches!(
            test_of("disk=.5"),
            Test::Compare { cmp: Cmp::Eq, .. }
        ));
        assert!(matches!(
            test_of("load<4."),
            Test::Compare { cmp: Cmp::Lt, .. }
        ));
        assert_eq!(test_of("stale"), Test::Stale);
        assert!(MetricTerm::parse("web01").is_none());
        assert!(MetricTerm::parse("stale1").is_none());
    }

    #[test]
    fn decimals_are_plain() {
        for bad in [
            "", ".", "1e3", "NaN", "inf", "-1", "+1", "1.2.3", "0x10", "1_0",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
        assert_eq!(parse_decimal("007.50"), Some((7.5, 2)));
    }
}
