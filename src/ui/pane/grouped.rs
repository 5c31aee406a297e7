//! The grouped view: hosts whose output is identical are shown once, under their folded node
//! set and count, the smallest groups (the outliers) first, like `fleetdeck run --gather` and
//! `clush -b`. Grouping is a pure function over per-host keys (usually the host's lines; pair
//! them with its end state to split hosts that printed the same but ended differently). It
//! reads every line, so the console regroups when output changed, not on every frame.

use std::collections::HashMap;
use std::hash::Hash;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::draw::draw_seq;
use super::scrollback::Scrollback;
use super::styles::PaneStyles;
use super::view::frame;
use crate::inventory::nodeset::fold;

/// Hosts with the same output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputGroup {
    /// Host indexes, ascending; the first one's output is the one shown.
    pub members: Vec<usize>,
    /// The members' names folded (`web[01-06,08-20]`).
    pub nodeset: String,
}

/// Groups `hosts` (name, key) by equal keys: smallest groups first, then by first member.
pub fn group_outputs<K: Hash + Eq>(hosts: &[(&str, K)]) -> Vec<OutputGroup> {
    let mut by_key: HashMap<&K, Vec<usize>> = HashMap::new();
    for (i, (_, key)) in hosts.iter().enumerate() {
        by_key.entry(key).or_default().push(i);
    }
    let mut groups: Vec<OutputGroup> = by_key
        .into_values()
        .map(|members| OutputGroup {
            nodeset: fold(members.iter().filter_map(|&i| hosts.get(i).map(|h| h.0))),
            members,
        })
        .collect();
    groups.sort_by_key(|g| (g.members.len(), g.members.first().copied()));
    groups
}

/// Rows the grouped view has: a header per group, then its output (with the dropped-lines
/// marker when lines were dropped). For clamping the scroll position.
pub fn grouped_row_count(groups: &[OutputGroup], outputs: &[&Scrollback]) -> usize {
    groups.iter().map(|g| group_rows(g, outputs)).sum()
}

fn group_rows(group: &OutputGroup, outputs: &[&Scrollback]) -> usize {
    let shown = group
        .members
        .first()
        .and_then(|&i| outputs.get(i))
        .map_or(0, |sb| {
            usize::try_from(sb.end() - sb.start()).unwrap_or(usize::MAX)
        });
    1 + shown
}

/// Draws `groups` from row `top_row` on; `outputs` are the hosts' scrollbacks, by host index.
/// Long lines are cut at the edge. Cost: O(groups + rows shown).
#[allow(clippy::too_many_arguments)] // the pane's arguments plus the groups and the offset
pub fn render_grouped(
    area: Rect,
    buf: &mut Buffer,
    groups: &[OutputGroup],
    outputs: &[&Scrollback],
    top_row: usize,
    title: &str,
    focused: bool,
    styles: &PaneStyles,
) {
    let status = match groups.len() {
        1 => "1 group".to_string(),
        n => format!("{n} groups"),
    };
    let block = frame(title, &status, focused, styles);
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.is_empty() {
        return;
    }
    let mut skip = top_row;
    let mut y = 0u16;
    for group in groups {
        if y >= inner.height {
            break;
        }
        let rows = group_rows(group, outputs);
        if skip >= rows {
            skip -= rows;
            continue;
        }
        if skip == 0 {
            header(
                buf,
                Rect {
                    y: inner.y + y,
                    height: 1,
                    ..inner
                },
                group,
                styles,
            );
            y += 1;
        }
        let Some(sb) = group.members.first().and_then(|&i| outputs.get(i)) else {
            skip = 0;
            continue;
        };
        let mut seq = sb.start() + (skip.saturating_sub(1)) as u64;
        skip = 0;
        while y < inner.height && seq < sb.end() {
            let row = Rect {
                y: inner.y + y,
                height: inner.height - y,
                ..inner
            };
            let drawn = draw_seq(buf, row, sb, seq, 0, false, styles, None);
            y = y.saturating_add(u16::try_from(drawn).unwrap_or(u16::MAX));
            seq += 1;
        }
    }
}

/// `─ web[01-06] (6) ───…`
fn header(buf: &mut Buffer, row: Rect, group: &OutputGroup, styles: &PaneStyles) {
    let label = format!(" {} ({}) ", group.nodeset, group.members.len());
    let fill = usize::from(row.width).saturating_sub(label.chars().count() + 1);
    let line = Line::from(vec![
        Span::styled("─", styles.border),
        Span::styled(label, styles.title),
        Span::styled("─".repeat(fill), styles.border),
    ]);
    buf.set_line(row.x, row.y, &line, row.width);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_outputs_collapse_outliers_first() {
        let hosts = [
            ("web01", vec!["up 3 days"]),
            ("web02", vec!["up 3 days"]),
            ("web03", vec!["command not found"]),
            ("web04", vec!["up 3 days"]),
            ("db01", vec![]),
            ("db02", vec![]),
        ];
        let groups = group_outputs(&hosts);
        let summary: Vec<(&str, Vec<usize>)> = groups
            .iter()
            .map(|g| (g.nodeset.as_str(), g.members.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("web03", vec![2]),
                ("db[01-02]", vec![4, 5]),
                ("web[01-02,04]", vec![0, 1, 3]),
            ]
        );
        assert!(group_outputs::<Vec<&str>>(&[]).is_empty());
    }
}
