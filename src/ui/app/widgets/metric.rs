//! How a host's metric is written wherever the console shows one (the Fleet table's columns,
//! the heatmap, the top lists, the detail lines): what is known of it at a moment
//! ([`Reading`]), its text, its level 0-9 and that level's style, a trend as glyphs or an
//! arrow, and a sample's age. The text or glyph always says what the colour says.

use std::time::{Duration, SystemTime};

use ratatui::style::Style;

use crate::metrics::{Availability, HostNow, Metric, Point};
use crate::ui::theme::{Graphics, Theme, scope};

/// What a view can say about one metric of one host at a moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// A fresh sample with this value.
    Fresh(f64),
    /// A fresh sample whose source does not give this metric (no real filesystem, say).
    NotGiven,
    /// The newest sample is older than three intervals: its value (if any) and its age.
    Stale { value: Option<f64>, age: Duration },
    /// No sample yet, and nothing wrong known.
    Waiting,
    /// No sample, and the host cannot give any or its sampling fails (the reason is in
    /// the host's [`availability_note`]).
    Unavailable,
}

impl Reading {
    pub fn of(host: Option<&HostNow>, metric: Metric, now: SystemTime) -> Reading {
        let Some(host) = host else {
            return Reading::Waiting;
        };
        match &host.latest {
            Some(s) if host.is_stale(now) => Reading::Stale {
                value: s.get(metric),
                age: s.age(now),
            },
            Some(s) => s.get(metric).map_or(Reading::NotGiven, Reading::Fresh),
            None => match host.availability {
                Availability::NoMetrics(_) | Availability::Failing(_) => Reading::Unavailable,
                Availability::Waiting | Availability::Sampled => Reading::Waiting,
            },
        }
    }

    /// The value only when it is live.
    pub fn fresh(self) -> Option<f64> {
        match self {
            Reading::Fresh(v) => Some(v),
            _ => None,
        }
    }
}

/// The level 0-9 of a value: tenths of a percentage, the load itself (9 meaning 9 or more).
/// Rates have no level of their own (0).
pub fn level(metric: Metric, value: f64) -> u8 {
    let tenths = match metric {
        Metric::Cpu | Metric::Mem | Metric::Disk => value / 10.0,
        Metric::Load => value,
        Metric::NetRx | Metric::NetTx => 0.0,
    };
    // `as` saturates and maps NaN to 0; the clamp keeps 100% at 9.
    (tenths.floor() as i64).clamp(0, 9) as u8
}

/// The theme's style for a level: 0-5 low, 6-7 mid, 8 high, 9 critical.
pub fn level_style(theme: &Theme, level: u8) -> Style {
    theme.style(match level {
        0..=5 => scope::METRIC_LOW,
        6..=7 => scope::METRIC_MID,
        8 => scope::METRIC_HIGH,
        _ => scope::METRIC_CRITICAL,
    })
}

/// A value as columns show it, at most 4 characters for the four levels: `87%`, `1.25`,
/// `12.5`, `143`; rates in bytes per second with a unit (`12K`, `3.4M`).
pub fn value_text(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Cpu | Metric::Mem | Metric::Disk => format!("{value:.0}%"),
        Metric::Load if value < 10.0 => format!("{value:.2}"),
        Metric::Load if value < 100.0 => format!("{value:.1}"),
        Metric::Load => format!("{value:.0}"),
        Metric::NetRx | Metric::NetTx => rate_text(value),
    }
}

/// Bytes per second with a binary unit: `512`, `12K`, `3.4M`, `1.1G`.
pub fn rate_text(bps: f64) -> String {
    const UNITS: [&str; 5] = ["", "K", "M", "G", "T"];
    let mut v = bps.max(0.0);
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit > 0 && v < 10.0 {
        format!("{v:.1}{}", UNITS[unit])
    } else {
        format!("{v:.0}{}", UNITS[unit])
    }
}

/// An age in at most three characters: `45s`, `12m`, `5h`, `3d` (`99d` at most).
pub fn age_text(age: Duration) -> String {
    let s = age.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", (s / 86_400).min(99)),
    }
}

/// The lowest top of a load trend's scale: a load of 1 is a small bar, not a full one.
const LOAD_SCALE_MIN: f64 = 4.0;

/// The top of a trend's scale: 100 for percentages, else the highest point (at least 4 for
/// load, 1 for rates).
fn scale(metric: Metric, points: &[Point]) -> f64 {
    if metric.is_percent() {
        return 100.0;
    }
    let floor = if metric == Metric::Load {
        LOAD_SCALE_MIN
    } else {
        1.0
    };
    points
        .iter()
        .filter_map(|p| p.get(metric))
        .fold(floor, f64::max)
}

/// The last `width` points of `trend` as glyphs, newest on the right, padded on the left; a
/// point without this metric is a space.
pub fn trend_glyphs(trend: &[Point], metric: Metric, width: usize, graphics: Graphics) -> String {
    let ramp = graphics.ramp();
    let tail = &trend[trend.len().saturating_sub(width)..];
    let top = scale(metric, tail);
    let mut out = " ".repeat(width - tail.len());
    for p in tail {
        match p.get(metric) {
            Some(v) => {
                let i = ((v / top) * 7.0).round().clamp(0.0, 7.0) as usize;
                out.push_str(ramp[i]);
            }
            None => out.push(' '),
        }
    }
    out
}

/// Where the trend goes: up, down or flat (a move of less than a twentieth of its scale),
/// from the oldest point with this metric to the newest.
pub fn trend_arrow(trend: &[Point], metric: Metric, graphics: Graphics) -> &'static str {
    let [up, down, flat] = graphics.arrows();
    let mut values = trend.iter().filter_map(|p| p.get(metric));
    let (Some(first), Some(last)) = (values.next(), values.next_back()) else {
        return flat;
    };
    let step = scale(metric, trend) / 20.0;
    if last - first > step {
        up
    } else if first - last > step {
        down
    } else {
        flat
    }
}

/// One line about a host's metrics for a detail line: where the newest sample came from and
/// how old it is, or why there is none.
pub fn availability_note(host: Option<&HostNow>, now: SystemTime) -> String {
    let Some(host) = host else {
        return "no metrics yet".to_string();
    };
    let reason = host.availability.reason();
    match (&host.latest, &host.availability) {
        (Some(s), _) if host.is_stale(now) => {
            let mut note = format!("stale: {} sample {} ago", s.source, age_text(s.age(now)));
            if let Some(why) = reason {
                note.push_str(&format!(" ({why})"));
            }
            note
        }
        (Some(s), Availability::Failing(why)) => {
            format!(
                "{} sample {} ago, last try failed: {why}",
                s.source,
                age_text(s.age(now))
            )
        }
        (Some(s), _) => format!("{} sample {} ago", s.source, age_text(s.age(now))),
        (None, Availability::NoMetrics(why)) => format!("no metrics: {why}"),
        (None, Availability::Failing(why)) => format!("metrics failing: {why}"),
        (None, _) => "no sample yet".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Sample, Source};

    fn point(secs: u64, cpu: Option<f64>, load: Option<f64>) -> Point {
        let mut s = Sample::empty(
            Source::Agent,
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        );
        s.cpu_pct = cpu;
        s.load1 = load;
        Point::from_sample(&s)
    }

    #[test]
    fn levels_are_tenths_and_load_itself() {
        assert_eq!(level(Metric::Cpu, 0.0), 0);
        assert_eq!(level(Metric::Cpu, 59.9), 5);
        assert_eq!(level(Metric::Mem, 87.0), 8);
        assert_eq!(level(Metric::Disk, 100.0), 9);
        assert_eq!(level(Metric::Load, 2.7), 2);
        assert_eq!(level(Metric::Load, 40.0), 9);
        assert_eq!(level(Metric::Load, f64::NAN), 0);
    }

    #[test]
    fn values_fit_four_columns() {
        assert_eq!(value_text(Metric::Cpu, 87.4), "87%");
        assert_eq!(value_text(Metric::Cpu, 100.0), "100%");
        assert_eq!(value_text(Metric::Load, 1.254), "1.25");
        assert_eq!(value_text(Metric::Load, 12.54), "12.5");
        assert_eq!(value_text(Metric::Load, 143.0), "143");
        assert_eq!(rate_text(512.0), "512");
        assert_eq!(rate_text(3.5 * 1024.0 * 1024.0), "3.5M");
        assert_eq!(rate_text(20.0 * 1024.0), "20K");
        assert_eq!(age_text(Duration::from_secs(45)), "45s");
        assert_eq!(age_text(Duration::from_secs(150)), "2m");
        assert_eq!(age_text(Duration::from_secs(7200)), "2h");
        assert_eq!(age_text(Duration::from_secs(400 * 86_400)), "99d");
    }

    #[test]
    fn trends_as_glyphs_and_arrows() {
        let trend: Vec<Point> = [0.0, 50.0, 100.0]
            .iter()
            .enumerate()
            .map(|(i, v)| point(i as u64, Some(*v), None))
            .collect();
        let g = Graphics::Braille;
        assert_eq!(trend_glyphs(&trend, Metric::Cpu, 4, g), " ▁▅█");
        assert_eq!(trend_glyphs(&trend, Metric::Cpu, 2, g), "▅█");
        assert_eq!(trend_glyphs(&trend, Metric::Mem, 3, g), "   ");
        assert_eq!(trend_glyphs(&trend, Metric::Cpu, 3, Graphics::Ascii), "_=#");
        assert_eq!(trend_arrow(&trend, Metric::Cpu, g), "↑");
        assert_eq!(trend_arrow(&trend[..1], Metric::Cpu, g), "→");
        let falling: Vec<Point> = trend.iter().rev().copied().collect();
        assert_eq!(trend_arrow(&falling, Metric::Cpu, Graphics::Ascii), "v");
        // Load is scaled to its own highest point, 4 at least.
        let load = [point(0, None, Some(1.0)), point(1, None, Some(8.0))];
        assert_eq!(trend_glyphs(&load, Metric::Load, 2, g), "▂█");
        let low = [point(0, None, Some(1.0)), point(1, None, Some(2.0))];
        assert_eq!(trend_glyphs(&low, Metric::Load, 2, g), "▃▅");
    }

    #[test]
    fn readings_never_show_a_stale_value_as_live() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut s = Sample::empty(Source::Ssh, now - Duration::from_secs(120));
        s.cpu_pct = Some(87.0);
        let host = HostNow {
            latest: Some(s),
            availability: Availability::Sampled,
            interval: Some(Duration::from_secs(15)),
            trend: Vec::new(),
        };
        assert_eq!(
            Reading::of(Some(&host), Metric::Cpu, now),
            Reading::Stale {
                value: Some(87.0),
                age: Duration::from_secs(120)
            }
        );
        assert_eq!(Reading::of(Some(&host), Metric::Cpu, now).fresh(), None);
        let fresh_at = now - Duration::from_secs(90);
        assert_eq!(
            Reading::of(Some(&host), Metric::Cpu, fresh_at),
            Reading::Fresh(87.0)
        );
        assert_eq!(
            Reading::of(Some(&host), Metric::Disk, fresh_at),
            Reading::NotGiven
        );
        let none = HostNow {
            availability: Availability::NoMetrics("not Linux".into()),
            ..HostNow::default()
        };
        assert_eq!(
            Reading::of(Some(&none), Metric::Cpu, now),
            Reading::Unavailable
        );
        assert_eq!(availability_note(Some(&none), now), "no metrics: not Linux");
        assert_eq!(Reading::of(None, Metric::Cpu, now), Reading::Waiting);
        assert_eq!(
            availability_note(Some(&host), now),
            "stale: ssh sample 2m ago"
        );
    }
}
