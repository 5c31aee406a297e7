//! Snapshot tests of the pane views (ratatui `Buffer`s) and the reader-facing state
//! transitions. Text snapshots show layout; `{:?}` snapshots of a `Buffer` also list styles,
//! for colours, markers and search highlights.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::*;
use crate::engine::Stream;

fn caps(lines: usize) -> ScrollbackCaps {
    ScrollbackCaps {
        max_lines: lines,
        max_bytes: 64 << 20,
    }
}

/// A host's log: numbered lines, every 7th on stderr, every 5th with a coloured word.
fn log(lines: usize) -> Scrollback {
    let mut sb = Scrollback::new(caps(1_000_000));
    append_log(&mut sb, 0..lines);
    sb
}

fn append_log(sb: &mut Scrollback, range: std::ops::Range<usize>) {
    for i in range {
        if i % 7 == 3 {
            sb.append(
                Stream::Stderr,
                format!("warning: retry {i} after timeout\n").as_bytes(),
            );
        } else if i % 5 == 0 {
            sb.append(
                Stream::Stdout,
                format!("line {i:>4} \x1b[32mok\x1b[0m request served\n").as_bytes(),
            );
        } else {
            sb.append(
                Stream::Stdout,
                format!("line {i:>4} request served in {}ms\n", i % 40).as_bytes(),
            );
        }
    }
}

fn draw(width: u16, height: u16, f: impl FnOnce(Rect, &mut Buffer)) -> Buffer {
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    f(area, &mut buf);
    buf
}

/// The buffer's text, one line per row.
fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut skip = 0;
        for x in area.left()..area.right() {
            // A wide character's second cell holds nothing to print.
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            skip = ratatui::buffer::CellWidth::cell_width(symbol).saturating_sub(1);
            out.push_str(symbol);
        }
        out.push('\n');
    }
    out
}

fn pane(width: u16, height: u16, sb: &Scrollback, state: &PaneState, focused: bool) -> Buffer {
    draw(width, height, |area, buf| {
        render_pane(
            area,
            buf,
            sb,
            state,
            "web01",
            focused,
            &PaneStyles::default(),
        );
    })
}

fn view(width: u16, height: u16) -> Viewport {
    pane_viewport(Rect::new(0, 0, width, height))
}

/// The first text row of the pane, trimmed.
fn top_line(sb: &Scrollback, state: &PaneState, width: u16, height: u16) -> String {
    let buf = pane(width, height, sb, state, false);
    let rows = text(&buf);
    rows.lines()
        .nth(1)
        .map(|r| {
            r.trim_start_matches('│')
                .trim_end_matches('│')
                .trim_end()
                .to_string()
        })
        .unwrap_or_default()
}

// ---- snapshots: one pane ----

#[test]
fn pane_80x24_following() {
    let sb = log(100);
    insta::assert_snapshot!(text(&pane(80, 24, &sb, &PaneState::new(), true)));
}

#[test]
fn pane_80x24_scrolled_up_stays_put_while_output_arrives() {
    let mut sb = log(100);
    let mut state = PaneState::new();
    state.scroll_up(&sb, view(80, 24), 30);
    let before = text(&pane(80, 24, &sb, &state, true));
    append_log(&mut sb, 100..112);
    let after = text(&pane(80, 24, &sb, &state, true));
    // Only the status changes: "paused" becomes "paused +12".
    assert_eq!(
        before.lines().skip(1).collect::<Vec<_>>(),
        after.lines().skip(1).collect::<Vec<_>>()
    );
    insta::assert_snapshot!(after);
}

#[test]
fn pane_200x50_wrapped() {
    let mut sb = log(40);
    sb.append(
        Stream::Stdout,
        format!("{}\n", "long-line-".repeat(60)).as_bytes(),
    );
    sb.append(
        Stream::Stderr,
        format!("{}\n", "stderr wraps too; ".repeat(25)).as_bytes(),
    );
    sb.append(Stream::Stdout, "日本語のログ ".repeat(30).as_bytes());
    sb.finish();
    let mut state = PaneState::new();
    state.toggle_wrap(&sb, view(200, 50));
    insta::assert_snapshot!(text(&pane(200, 50, &sb, &state, false)));
}

#[test]
fn pane_40x12_following_wrapped_with_stderr() {
    let mut sb = log(20);
    sb.append(
        Stream::Stderr,
        b"error: connection reset by peer while reading\n",
    );
    let mut state = PaneState::new();
    state.toggle_wrap(&sb, view(40, 12));
    insta::assert_snapshot!(text(&pane(40, 12, &sb, &state, true)));
}

#[test]
fn pane_40x12_search_highlights_every_match_and_the_current_one() {
    let sb = log(60);
    let mut state = PaneState::new();
    let v = view(40, 12);
    // "ok" is on every 5th line (coloured green there): lines 50..=59 are shown.
    assert_eq!(state.set_search("ok", &sb, v), Ok(Jump::Found));
    // The newest match (line 55) is on screen with context: the view stays, following.
    assert!(state.is_following());
    assert_eq!(state.current_match().map(|m| m.seq), Some(55));
    // Line 50 is the top row, without context above it: the view moves up and pauses.
    assert_eq!(state.prev_match(&sb, v), Jump::Found);
    assert!(!state.is_following());
    assert_eq!(state.current_match().map(|m| m.seq), Some(50));
    assert_eq!(
        top_line(&sb, &state, 40, 12),
        "line   47 request served in 7ms"
    );
    let buf = pane(40, 12, &sb, &state, true);
    insta::assert_snapshot!("pane_40x12_search_text", text(&buf));
    insta::assert_debug_snapshot!("pane_40x12_search_styles", buf);
}

#[test]
fn pane_80x24_dropped_lines_and_engine_drops() {
    let mut sb = Scrollback::new(caps(40));
    append_log(&mut sb, 0..20);
    sb.note_dropped(65_536);
    sb.note_dropped(131_072);
    append_log(&mut sb, 20..50);
    let mut state = PaneState::new();
    state.scroll_to_top(&sb, view(80, 24));
    assert_eq!(sb.lines_dropped(), 11);
    insta::assert_snapshot!(text(&pane(80, 24, &sb, &state, false)));
}

#[test]
fn pane_40x12_ansi_colours() {
    let mut sb = Scrollback::new(ScrollbackCaps::default());
    for line in [
        "\x1b[1;31mFAIL\x1b[0m disk /var 98%",
        "\x1b[32mPASS\x1b[39m \x1b[4munderlined\x1b[24m",
        "\x1b[38;5;208m256-colour\x1b[0m \x1b[38;2;10;200;30mtruecolour",
        "\x1b[7mreverse\x1b[27m \x1b[3mitalic\x1b[m plain",
        "\x1b[44;97mwhite on blue\x1b[0m",
    ] {
        sb.append(Stream::Stdout, format!("{line}\n").as_bytes());
    }
    sb.append(
        Stream::Stderr,
        b"\x1b[33mstderr, own colour\x1b[0m then base\n",
    );
    let buf = pane(40, 12, &sb, &PaneState::new(), false);
    insta::assert_snapshot!("pane_40x12_ansi_text", text(&buf));
    insta::assert_debug_snapshot!("pane_40x12_ansi_styles", buf);
}

#[test]
fn pane_80x24_hostile_escapes_are_shown_not_obeyed() {
    let mut sb = Scrollback::new(ScrollbackCaps::default());
    for line in [
        b"title \x1b]0;pwned\x07 set".to_vec(),
        b"clear \x1b[2J\x1b[H home".to_vec(),
        b"clipboard \x1b]52;c;ZXZpbA==\x07".to_vec(),
        b"dcs \x1bP+q544e\x1b\\".to_vec(),
        b"progress 10%\r20%\r30%".to_vec(),
        "c1 \u{9b}31m csi".as_bytes().to_vec(),
        "bidi a\u{202e}cba".as_bytes().to_vec(),
        b"bad utf8 \xff\xfe end".to_vec(),
        b"tab\tstops\tkept".to_vec(),
        b"\x1b[31mred\x1b[2Kthen erase".to_vec(),
    ] {
        sb.append(Stream::Stdout, &line);
        sb.append(Stream::Stdout, b"\n");
    }
    let buf = pane(80, 24, &sb, &PaneState::new(), false);
    let shown = text(&buf);
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "{shown:?}"
    );
    insta::assert_snapshot!("pane_80x24_hostile_text", shown);
    insta::assert_debug_snapshot!("pane_80x24_hostile_styles", buf);
}

// ---- snapshots: grid, merged, grouped ----

fn fleet(n: usize) -> (Vec<String>, Vec<Scrollback>) {
    let names: Vec<String> = (1..=n).map(|i| format!("web{i:02}")).collect();
    let outputs = (0..n)
        .map(|i| {
            let mut sb = Scrollback::new(ScrollbackCaps::default());
            for j in 0..(3 + i % 4) {
                sb.append(
                    Stream::Stdout,
                    format!("host {} line {j}\n", i + 1).as_bytes(),
                );
            }
            if i % 3 == 1 {
                sb.append(Stream::Stderr, b"df: /mnt: stale handle\n");
            }
            sb
        })
        .collect();
    (names, outputs)
}

fn grid(n: usize, width: u16, height: u16, focused: usize, zoomed: bool) -> String {
    let (names, outputs) = fleet(n);
    let states = vec![PaneState::new(); n];
    let panes: Vec<(&str, &Scrollback, &PaneState)> = names
        .iter()
        .zip(&outputs)
        .zip(&states)
        .map(|((n, sb), st)| (n.as_str(), sb, st))
        .collect();
    text(&draw(width, height, |area, buf| {
        render_pane_grid(area, buf, &panes, focused, zoomed, &PaneStyles::default());
    }))
}

#[test]
fn grid_1_pane() {
    insta::assert_snapshot!(grid(1, 80, 24, 0, false));
}

#[test]
fn grid_4_panes() {
    insta::assert_snapshot!(grid(4, 80, 24, 1, false));
}

#[test]
fn grid_9_panes() {
    insta::assert_snapshot!(grid(9, 80, 24, 4, false));
}

#[test]
fn grid_50_panes_80x24_pages() {
    insta::assert_snapshot!(grid(50, 80, 24, 20, false));
}

#[test]
fn grid_50_panes_200x50() {
    insta::assert_snapshot!(grid(50, 200, 50, 0, false));
}

#[test]
fn grid_zoomed() {
    insta::assert_snapshot!(grid(9, 80, 24, 4, true));
}

#[test]
fn merged_stream_80x24() {
    let mut m = MergedStream::new(
        vec!["web01".into(), "web02".into(), "db-primary".into()],
        ScrollbackCaps::default(),
    );
    m.append(
        0,
        Stream::Stdout,
        b" 12:01:07 up 3 days,  load average: 0.12\n",
    );
    m.append(2, Stream::Stdout, b" 12:01:07 up 41 days");
    m.append(1, Stream::Stderr, b"uptime: command not found\n");
    m.append(2, Stream::Stdout, b",  load average: \x1b[31m7.90\x1b[0m\n");
    m.note_dropped(1, 4096);
    m.append(
        0,
        Stream::Stdout,
        format!("{}\n", "a long line that wraps ".repeat(6)).as_bytes(),
    );
    let sb = m.scrollback();
    let mut state = PaneState::new();
    let plain = draw(80, 24, |area, buf| {
        render_pane(
            area,
            buf,
            sb,
            &state,
            "run 01JABC · 3 hosts",
            true,
            &PaneStyles::default(),
        );
    });
    insta::assert_snapshot!("merged_stream_80x24", text(&plain));
    state.toggle_wrap(sb, view(80, 24));
    let wrapped = draw(80, 24, |area, buf| {
        render_pane(
            area,
            buf,
            sb,
            &state,
            "run 01JABC · 3 hosts",
            true,
            &PaneStyles::default(),
        );
    });
    insta::assert_snapshot!("merged_stream_80x24_wrapped", text(&wrapped));
}

#[test]
fn grouped_view_80x24() {
    let names: Vec<String> = (1..=12).map(|i| format!("web{i:02}")).collect();
    let outputs: Vec<Scrollback> = (0..12)
        .map(|i| {
            let mut sb = Scrollback::new(ScrollbackCaps::default());
            match i {
                6 => sb.append(Stream::Stderr, b"uptime: command not found\n"),
                9 | 10 => sb.append(Stream::Stdout, b" 12:01:07 up 1 day,  load average: 3.10\n"),
                _ => sb.append(
                    Stream::Stdout,
                    b" 12:01:07 up 3 days,  load average: 0.12\n",
                ),
            }
            sb
        })
        .collect();
    let keys: Vec<(&str, Vec<&PaneLine>)> = names
        .iter()
        .zip(&outputs)
        .map(|(n, sb)| (n.as_str(), sb.lines().collect()))
        .collect();
    let groups = group_outputs(&keys);
    let refs: Vec<&Scrollback> = outputs.iter().collect();
    assert_eq!(grouped_row_count(&groups, &refs), 6);
    let full = draw(80, 24, |area, buf| {
        render_grouped(
            area,
            buf,
            &groups,
            &refs,
            0,
            "grouped · uptime",
            true,
            &PaneStyles::default(),
        );
    });
    insta::assert_snapshot!("grouped_view_80x24", text(&full));
    let scrolled = draw(40, 12, |area, buf| {
        render_grouped(
            area,
            buf,
            &groups,
            &refs,
            3,
            "grouped",
            false,
            &PaneStyles::default(),
        );
    });
    insta::assert_snapshot!("grouped_view_40x12_scrolled", text(&scrolled));
}

// ---- state transitions ----

#[test]
fn follow_keeps_the_newest_line_at_the_bottom() {
    let mut sb = log(50);
    let state = PaneState::new();
    let last = |sb: &Scrollback| {
        let rows = text(&pane(60, 10, sb, &state, false));
        rows.lines()
            .nth(8)
            .map(|r| r.trim_matches('│').trim_end().to_string())
    };
    assert_eq!(
        last(&sb).as_deref(),
        Some("line   49 request served in 9ms")
    );
    append_log(&mut sb, 50..52);
    assert_eq!(
        last(&sb).as_deref(),
        Some("line   51 request served in 11ms")
    );
}

#[test]
fn scrolling_up_pauses_and_g_resumes() {
    let mut sb = log(50);
    let mut state = PaneState::new();
    let v = view(60, 10);
    state.scroll_down(&sb, v, 5); // following: nothing below
    assert!(state.is_following());
    state.scroll_up(&sb, v, 3);
    assert!(!state.is_following());
    // Rows 42..50 were shown; three up puts line 39 on top.
    assert_eq!(
        top_line(&sb, &state, 60, 10),
        "line   39 request served in 39ms"
    );
    append_log(&mut sb, 50..60);
    assert_eq!(
        top_line(&sb, &state, 60, 10),
        "line   39 request served in 39ms"
    );
    assert_eq!(state.new_lines_while_paused(&sb), 10);
    // Down stops at the bottom and stays paused.
    state.scroll_down(&sb, v, 1000);
    assert!(!state.is_following());
    assert_eq!(
        top_line(&sb, &state, 60, 10),
        "! warning: retry 52 after timeout"
    );
    state.follow();
    assert!(state.is_following());
    assert_eq!(state.new_lines_while_paused(&sb), 0);
    // `f` toggles: pausing freezes the view where it is.
    state.toggle_follow(&sb, v);
    assert!(!state.is_following());
    append_log(&mut sb, 60..70);
    assert_eq!(
        top_line(&sb, &state, 60, 10),
        "! warning: retry 52 after timeout"
    );
    state.toggle_follow(&sb, v);
    assert!(state.is_following());
}

#[test]
fn short_output_never_pauses() {
    let sb = log(3);
    let mut state = PaneState::new();
    state.scroll_up(&sb, view(60, 10), 5);
    state.scroll_to_top(&sb, view(60, 10));
    assert!(state.is_following());
}

#[test]
fn dropped_lines_move_a_paused_view_only_as_far_as_they_must() {
    let mut sb = Scrollback::new(caps(20));
    append_log(&mut sb, 0..20);
    let mut state = PaneState::new();
    let v = view(60, 10);
    state.scroll_to_top(&sb, v);
    assert_eq!(top_line(&sb, &state, 60, 10), "line    0 ok request served");
    append_log(&mut sb, 20..25);
    // Lines 0..5 went: the marker stands where they were.
    assert_eq!(top_line(&sb, &state, 60, 10), "… 5 lines dropped …");
    state.scroll_down(&sb, v, 1);
    assert_eq!(top_line(&sb, &state, 60, 10), "line    5 ok request served");
}

#[test]
fn wrap_toggle_keeps_the_top_line() {
    let mut sb = Scrollback::new(ScrollbackCaps::default());
    for i in 0..40 {
        sb.append(
            Stream::Stdout,
            format!("{i:02} {}\n", "x".repeat(100)).as_bytes(),
        );
    }
    let mut state = PaneState::new();
    let v = view(40, 10);
    state.scroll_up(&sb, v, 10);
    let top = top_line(&sb, &state, 40, 10);
    assert!(top.starts_with("22 "), "{top}");
    state.toggle_wrap(&sb, v);
    assert!(top_line(&sb, &state, 40, 10).starts_with("22 "));
    // Wrapped, each line takes 3 rows: 3 rows down shows the next line.
    state.scroll_down(&sb, v, 3);
    assert!(top_line(&sb, &state, 40, 10).starts_with("23 "));
    state.scroll_up(&sb, v, 1);
    assert_eq!(top_line(&sb, &state, 40, 10), "x".repeat(103 - 38 - 38));
    state.toggle_wrap(&sb, v);
    assert!(top_line(&sb, &state, 40, 10).starts_with("22 "));
    assert!(!state.is_zoomed());
    state.toggle_zoom();
    assert!(state.is_zoomed());
}

#[test]
fn search_jumps_keep_context_and_wrap_around() {
    let mut sb = Scrollback::new(ScrollbackCaps::default());
    for i in 0..100 {
        let text = if i == 10 || i == 70 {
            format!("{i} NEEDLE here")
        } else {
            format!("{i} hay")
        };
        sb.append(Stream::Stdout, format!("{text}\n").as_bytes());
    }
    let mut state = PaneState::new();
    let v = view(40, 12); // 10 rows
    state.scroll_to_top(&sb, v);
    assert_eq!(state.set_search("needle", &sb, v), Ok(Jump::Found));
    // Lines 0..=9 are on screen, line 10 is not: the view moves to keep SEARCH_CONTEXT lines
    // above it.
    assert_eq!(
        top_line(&sb, &state, 40, 12),
        format!("{} hay", 10 - SEARCH_CONTEXT)
    );
    assert_eq!(state.next_match(&sb, v), Jump::Found);
    assert_eq!(state.current_match().map(|m| m.seq), Some(70));
    assert_eq!(
        top_line(&sb, &state, 40, 12),
        format!("{} hay", 70 - SEARCH_CONTEXT)
    );
    assert_eq!(state.next_match(&sb, v), Jump::Wrapped);
    assert_eq!(state.current_match().map(|m| m.seq), Some(10));
    assert_eq!(state.prev_match(&sb, v), Jump::Wrapped);
    assert_eq!(state.current_match().map(|m| m.seq), Some(70));
    // A match near the end: the view stops at the bottom, the match still in view.
    sb.append(Stream::Stdout, b"last NEEDLE\n");
    assert_eq!(state.next_match(&sb, v), Jump::Found);
    assert_eq!(state.current_match().map(|m| m.seq), Some(100));
    assert_eq!(top_line(&sb, &state, 40, 12), "91 hay");
    assert_eq!(state.set_search("absent", &sb, v), Ok(Jump::NotFound));
    assert_eq!(state.next_match(&sb, v), Jump::NotFound);
    assert_eq!(state.set_search("", &sb, v), Ok(Jump::NoQuery));
    assert_eq!(state.search_query(), None);
    assert_eq!(state.next_match(&sb, v), Jump::NoQuery);
}

#[test]
fn search_in_wrapped_lines_reveals_the_matching_row() {
    let mut sb = Scrollback::new(ScrollbackCaps::default());
    for i in 0..30 {
        sb.append(
            Stream::Stdout,
            format!("{i:02} {}\n", "y".repeat(90)).as_bytes(),
        );
    }
    sb.append(
        Stream::Stdout,
        format!("{} TARGET\n", "z".repeat(200)).as_bytes(),
    );
    for i in 0..30 {
        sb.append(Stream::Stdout, format!("after {i}\n").as_bytes());
    }
    let mut state = PaneState::new();
    let v = view(40, 12);
    state.toggle_wrap(&sb, v);
    assert_eq!(state.set_search("TARGET", &sb, v), Ok(Jump::Found));
    let buf = pane(40, 12, &sb, &state, false);
    let rows = text(&buf);
    let row = rows.lines().skip(1).position(|r| r.contains("TARGET"));
    // The match's row has SEARCH_CONTEXT rows above it.
    assert_eq!(row, Some(SEARCH_CONTEXT), "{rows}");
}

// ---- cost ----

#[test]
fn rendering_touches_only_visible_lines_of_200k() {
    let mut sb = Scrollback::new(caps(300_000));
    let chunk: String = (0..1000)
        .map(|i| format!("line {i} of a long run\n"))
        .collect();
    for _ in 0..200 {
        sb.append(Stream::Stdout, chunk.as_bytes());
    }
    assert_eq!(sb.len(), 200_000);
    let rows = 22; // 80x24 less the border
    let mut state = PaneState::new();
    sb.take_touched();
    let _ = pane(80, 24, &sb, &state, true);
    // Following: one walk back over a screen to find the top, one forward to draw it.
    let following = sb.take_touched();
    assert!(
        following <= 2 * rows + 2,
        "following touched {following} lines"
    );

    state.toggle_wrap(&sb, view(80, 24));
    sb.take_touched();
    let _ = pane(80, 24, &sb, &state, true);
    let wrapped = sb.take_touched();
    assert!(wrapped <= 2 * rows + 2, "wrapped touched {wrapped} lines");

    state.scroll_up(&sb, view(80, 24), 100_000);
    sb.take_touched();
    let _ = pane(80, 24, &sb, &state, true);
    let paused = sb.take_touched();
    // Paused: the bottom (to clamp against), the stored top, and the screen.
    assert!(paused <= 3 * rows + 3, "paused touched {paused} lines");

    let (names, _) = fleet(1);
    let panes = [(names[0].as_str(), &sb, &state)];
    sb.take_touched();
    let _ = draw(200, 50, |area, buf| {
        render_pane_grid(area, buf, &panes, 0, false, &PaneStyles::default());
    });
    let grid = sb.take_touched();
    assert!(grid <= 3 * 48 + 3, "grid touched {grid} lines");
}

#[test]
fn colours_and_matches_continue_across_wrapped_rows() {
    let mut sb = Scrollback::new(ScrollbackCaps::default());
    // 30 red characters, then plain text with a match that straddles a row edge.
    let line = format!("\x1b[31m{}\x1b[0m plain t NEEDLE end\n", "r".repeat(30));
    sb.append(Stream::Stdout, line.as_bytes());
    let mut state = PaneState::new();
    let v = view(22, 8); // 20 columns of text
    state.toggle_wrap(&sb, v);
    assert_eq!(state.set_search("needle", &sb, v), Ok(Jump::Found));
    let buf = pane(22, 8, &sb, &state, false);
    let rows = text(&buf);
    let rows: Vec<&str> = rows.lines().collect();
    assert_eq!(rows[2], "│rrrrrrrrrr plain t N│");
    assert_eq!(rows[3], "│EEDLE end           │");
    // The second row starts with the last 10 red characters.
    assert_eq!(buf[(1, 2)].fg, ratatui::style::Color::Red);
    assert_eq!(buf[(10, 2)].fg, ratatui::style::Color::Red);
    assert_eq!(buf[(11, 2)].fg, ratatui::style::Color::Reset);
    // The current match is highlighted on both rows it spans.
    let current = PaneStyles::default().search_current.bg;
    assert_eq!(Some(buf[(20, 2)].bg), current);
    assert_eq!(Some(buf[(1, 3)].bg), current);
    assert_eq!(Some(buf[(5, 3)].bg), current);
    assert_eq!(buf[(6, 3)].bg, ratatui::style::Color::Reset);
}
