//! Which columns the Fleet table shows at a width, and how wide the metric trends are. Columns
//! are dropped by priority (name, then cpu, mem, disk, load, last run, env, connection,
//! transport, tags), and the trends shrink first (8 glyphs, 4 glyphs, an arrow) so that a
//! 40-column terminal still shows names and the main metrics. Pure arithmetic on widths.

use ratatui::layout::Constraint;

/// A column of the table, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Column {
    Mark,
    Name,
    Transport,
    Connection,
    Env,
    Cpu,
    Mem,
    Disk,
    Load,
    LastRun,
    Tags,
}

/// How a metric cell shows its trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// Value and the last 8 points as glyphs.
    Glyphs8,
    /// Value and the last 4 points.
    Glyphs4,
    /// Value and an arrow (up, down, flat).
    Arrow,
}

impl Trend {
    /// Glyphs drawn after the value (0 for the arrow style).
    pub fn glyphs(self) -> usize {
        match self {
            Trend::Glyphs8 => 8,
            Trend::Glyphs4 => 4,
            Trend::Arrow => 0,
        }
    }

    /// The cell's width: value (4), a space, the trend. The arrow style keeps room for a stale
    /// sample's `87% 12m`.
    fn width(self) -> u16 {
        match self {
            Trend::Glyphs8 => 13,
            Trend::Glyphs4 => 9,
            Trend::Arrow => 7,
        }
    }
}

/// The columns chosen for one width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// In display order.
    pub shown: Vec<Column>,
    pub trend: Trend,
    name_w: u16,
    env_w: u16,
}

/// Tags fill what is left but are shown only with this much room.
const TAGS_MIN: u16 = 4;
const LAST_RUN_W: u16 = 13;
const TRANSPORT_W: u16 = 10;
/// `↻ connecting` is the longest connection label.
const CONNECTION_W: u16 = 12;
const METRICS: [Column; 4] = [Column::Cpu, Column::Mem, Column::Disk, Column::Load];
/// What gets the room, most wanted first (mark and name are always shown).
const PRIORITY: [Column; 9] = [
    Column::Cpu,
    Column::Mem,
    Column::Disk,
    Column::Load,
    Column::LastRun,
    Column::Env,
    Column::Connection,
    Column::Transport,
    Column::Tags,
];

impl Columns {
    /// The columns for a table `inner` columns wide (inside its borders) whose longest name
    /// and env are `name_w` and `env_w` wide.
    pub fn choose(inner: u16, name_w: u16, env_w: u16) -> Columns {
        let mut chosen = Columns {
            shown: vec![Column::Mark, Column::Name],
            trend: Trend::Arrow,
            name_w,
            env_w,
        };
        // The widest trend with which the metrics and the columns around them still fit.
        for trend in [Trend::Glyphs8, Trend::Glyphs4] {
            let wanted: &[Column] = match trend {
                Trend::Glyphs8 => &PRIORITY,
                _ => &[
                    Column::Cpu,
                    Column::Mem,
                    Column::Disk,
                    Column::Load,
                    Column::LastRun,
                    Column::Env,
                ],
            };
            let trial = Columns {
                shown: [Column::Mark, Column::Name]
                    .into_iter()
                    .chain(wanted.iter().copied())
                    .collect(),
                trend,
                name_w,
                env_w,
            };
            if trial.total() <= inner {
                chosen.trend = trend;
                break;
            }
        }
        for column in PRIORITY {
            chosen.shown.push(column);
            if chosen.total() > inner {
                chosen.shown.pop();
            }
        }
        chosen.shown.sort_unstable();
        chosen
    }

    /// Whether `column` is shown.
    pub fn has(&self, column: Column) -> bool {
        self.shown.contains(&column)
    }

    fn width(&self, column: Column) -> u16 {
        match column {
            Column::Mark => 1,
            Column::Name => self.name_w,
            Column::Transport => TRANSPORT_W,
            Column::Connection => CONNECTION_W,
            Column::Env => self.env_w,
            c if METRICS.contains(&c) => self.trend.width(),
            Column::LastRun => LAST_RUN_W,
            _ => TAGS_MIN,
        }
    }

    /// Columns plus the one-column gaps between them.
    fn total(&self) -> u16 {
        let widths: u16 = self.shown.iter().map(|c| self.width(*c)).sum();
        widths + self.shown.len().saturating_sub(1) as u16
    }

    /// The constraints of the shown columns (tags take what is left).
    pub fn constraints(&self) -> Vec<Constraint> {
        self.shown
            .iter()
            .map(|c| match c {
                Column::Tags => Constraint::Fill(1),
                c => Constraint::Length(self.width(*c)),
            })
            .collect()
    }
}

impl Column {
    pub fn title(self) -> &'static str {
        match self {
            Column::Mark => "",
            Column::Name => "NAME",
            Column::Transport => "TRANSPORT",
            Column::Connection => "CONNECTION",
            Column::Env => "ENV",
            Column::Cpu => "CPU",
            Column::Mem => "MEM",
            Column::Disk => "DISK",
            Column::Load => "LOAD",
            Column::LastRun => "LAST RUN",
            Column::Tags => "TAGS",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(c: &Columns) -> Vec<&'static str> {
        c.shown.iter().map(|c| c.title()).collect()
    }

    #[test]
    fn wide_terminals_show_everything_with_long_trends() {
        let c = Columns::choose(198, 6, 7);
        assert_eq!(c.trend, Trend::Glyphs8);
        assert_eq!(c.shown.len(), 11);
    }

    #[test]
    fn eighty_columns_keep_metrics_last_run_and_env() {
        let c = Columns::choose(78, 5, 7);
        assert_eq!(c.trend, Trend::Glyphs4);
        assert_eq!(
            names(&c),
            [
                "", "NAME", "ENV", "CPU", "MEM", "DISK", "LOAD", "LAST RUN", "TAGS"
            ]
        );
    }

    #[test]
    fn forty_columns_keep_names_and_the_main_metrics() {
        let c = Columns::choose(38, 5, 7);
        assert_eq!(c.trend, Trend::Arrow);
        assert_eq!(names(&c), ["", "NAME", "CPU", "MEM", "DISK", "TAGS"]);
        // Long names leave room for fewer.
        let c = Columns::choose(38, 20, 7);
        assert_eq!(names(&c), ["", "NAME", "CPU", "MEM"]);
    }
}
