//! The Runs view's layouts with several runs fed from fixed engine events: the run list,
//! `[`/`]`, the host table, the pane grid (h/j/k/l, zoom), the merged stream and the grouped
//! outputs, with TestBackend snapshots.

use super::*;

/// A finished run built from fixed events, so the snapshot does not depend on timing.
fn finished_run() -> Model {
    let mut m = local_model();
    let hosts: Vec<_> = m.inventory.hosts().to_vec();
    let start = RunStart {
        id: "01JTESTRUN000000000000000".into(),
        selector: "lab[1-2]".into(),
        hosts,
        command: "echo hi; exit 3".into(),
        prepared: None,
        rerun_of: None,
        for_incidents: Vec::new(),
    };
    m.runs.list.push(RunView::new(&start));
    m.shell.view = View::Runs;
    let failed = HostState::Failed {
        outcome: ExitOutcome::Code { code: 3 },
    };
    let events = [
        EngineEvent::State {
            host: 0,
            state: HostState::Ok,
        },
        EngineEvent::Output {
            host: 1,
            stream: Stream::Stdout,
            bytes: b"hi\n".to_vec(),
        },
        EngineEvent::Output {
            host: 1,
            stream: Stream::Stderr,
            bytes: b"disk full\n".to_vec(),
        },
        EngineEvent::State {
            host: 1,
            state: failed.clone(),
        },
    ];
    let result = |host: &str, state: HostState, code: i32, ms: u64, err: Option<&str>| HostResult {
        host: host.into(),
        state,
        exit_code: Some(code),
        duration_ms: ms,
        bytes_out: 3,
        bytes_err: 0,
        first_error_line: err.map(Into::into),
        attempts: 1,
    };
    let done = EngineEvent::RunFinished {
        result: Box::new(RunResult {
            id: start.id.clone(),
            user: "op@box".into(),
            started: "2026-01-01T00:00:00Z".into(),
            finished: "2026-01-01T00:00:02Z".into(),
            selector: "lab[1-2]".into(),
            targets: "lab[1-2]".into(),
            command: start.command.clone(),
            status: crate::engine::RunStatus::Failed,
            action: None,
            hosts: vec![
                result("lab1", HostState::Ok, 0, 412, None),
                result("lab2", failed, 3, 1530, Some("disk full")),
            ],
        }),
    };
    for event in events.into_iter().chain([done]) {
        update(
            &mut m,
            Msg::Engine {
                run: start.id.clone(),
                event,
            },
        );
    }
    m
}

#[test]
fn runs_view_finished_80x24() {
    let m = finished_run();
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("disk full"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn runs_view_pane_80x24() {
    let mut m = finished_run();
    press(&mut m, "j enter");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("hi"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn runs_view_without_runs_says_how_to_start_one() {
    let mut m = model();
    press(&mut m, "2");
    assert!(text(&draw(&m, 80, 24)).contains("No runs yet"));
}

#[test]
fn run_list_shows_runs_newest_first_with_gauges_and_counts() {
    let mut m = three_runs();
    let shown = shot(&mut m, 80, 24);
    let row = |needle: &str| shown.lines().position(|l| l.contains(needle)).unwrap();
    // Newest first: the restart, then df, then uptime.
    assert!(row("$ syst") < row("$ df -h"), "{shown}");
    assert!(row("$ df -h") < row("$ uptime"), "{shown}");
    assert!(shown.contains("3/6"), "restart gauge: {shown}");
    assert!(
        shown.contains("ok 2 · failed 1 · running 1 · pending 2"),
        "{shown}"
    );
    assert!(shown.contains("✘ failed"), "{shown}");
    assert!(shown.contains("✔ ok"), "{shown}");
    assert!(shown.contains("▶ running"), "{shown}");
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("run_list_{w}x{h}"), shown);
    }
}

#[test]
fn brackets_select_runs_and_the_table_follows() {
    let mut m = three_runs();
    assert_eq!(m.selected_run().unwrap().id, RESTART);
    press(&mut m, "]");
    assert_eq!(m.selected_run().unwrap().id, DF);
    let shown = shot(&mut m, 80, 24);
    assert!(
        shown.contains("db02") && !shown.contains("web05"),
        "{shown}"
    );
    press(&mut m, "]");
    assert_eq!(m.selected_run().unwrap().id, UPTIME);
    press(&mut m, "]");
    assert_eq!(m.selected_run().unwrap().id, UPTIME);
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("oldest")));
    press(&mut m, "[ [ [");
    assert_eq!(m.selected_run().unwrap().id, RESTART);
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("newest")));
    // The host cursor stays inside the run it lands on.
    press(&mut m, "G");
    assert_eq!(m.runs.cursor, 5);
    press(&mut m, "]");
    assert_eq!(m.runs.cursor, 2);
}

#[test]
fn v_cycles_table_grid_merged_grouped() {
    let mut m = three_runs();
    assert_eq!(m.context(), crate::ui::keymap::Context::Runs);
    let mut seen = Vec::new();
    for _ in 0..4 {
        press(&mut m, "v");
        seen.push(m.runs.layout);
    }
    assert_eq!(
        seen,
        [
            RunLayout::Grid,
            RunLayout::Merged,
            RunLayout::Grouped,
            RunLayout::Table
        ]
    );
    press(&mut m, "v");
    assert_eq!(m.context(), crate::ui::keymap::Context::Pane);
    // `s` toggles the grouped view from the panes and back to the grid.
    press(&mut m, "s");
    assert_eq!(m.runs.layout, RunLayout::Grouped);
    press(&mut m, "s");
    assert_eq!(m.runs.layout, RunLayout::Grid);
    press(&mut m, "esc");
    assert_eq!(m.runs.layout, RunLayout::Table);
}

#[test]
fn grid_shows_every_host_and_hjkl_move_the_focus() {
    let mut m = three_runs();
    press(&mut m, "v");
    let shown = shot(&mut m, 80, 24);
    for needle in [
        "✔ web01",
        "✘ web03",
        "▶ web04",
        "· web06",
        "Job for nginx",
        "waiting for nginx",
    ] {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
    // 6 panes in 80x17: 3 columns, 2 rows.
    assert_eq!(m.runs.cursor, 0);
    press(&mut m, "l");
    assert_eq!(m.runs.cursor, 1);
    press(&mut m, "j");
    assert_eq!(m.runs.cursor, 4);
    press(&mut m, "h");
    assert_eq!(m.runs.cursor, 3);
    press(&mut m, "h");
    assert_eq!(m.runs.cursor, 3, "no pane left of the first column");
    press(&mut m, "k right right");
    assert_eq!(m.runs.cursor, 2);
    press(&mut m, "l");
    assert_eq!(m.runs.cursor, 2, "no pane right of the last column");
    press(&mut m, "g g");
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("grid_{w}x{h}"), shown);
    }
}

#[test]
fn z_zooms_the_focused_pane_and_h_l_flip_hosts() {
    let mut m = three_runs();
    press(&mut m, "v l l z");
    assert!(m.runs.list[2].panes[2].is_zoomed());
    let shown = shot(&mut m, 80, 24);
    assert!(shown.contains("Job for nginx.service failed."), "{shown}");
    assert!(!shown.contains("restarted"), "only web03 shows: {shown}");
    assert!(shown.contains("zoom"), "{shown}");
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("zoomed_{w}x{h}"), shown);
    }
    press(&mut m, "l");
    assert_eq!(m.runs.cursor, 3);
    assert!(m.runs.list[2].panes[3].is_zoomed() && !m.runs.list[2].panes[2].is_zoomed());
    assert!(shot(&mut m, 80, 24).contains("waiting for nginx to stop"));
    press(&mut m, "z");
    assert!(!m.runs.list[2].panes[3].is_zoomed());
    // Enter in the table opens the cursor's host zoomed; esc returns to the table.
    press(&mut m, "esc j enter");
    assert_eq!(m.runs.layout, RunLayout::Grid);
    assert!(m.runs.list[2].panes[4].is_zoomed());
    press(&mut m, "esc");
    assert!(!m.runs.list[2].panes[4].is_zoomed());
}

#[test]
fn merged_stream_prefixes_hosts_in_arrival_order() {
    let mut m = three_runs();
    press(&mut m, "v v");
    assert_eq!(m.runs.layout, RunLayout::Merged);
    let shown = shot(&mut m, 80, 24);
    let row = |needle: &str| shown.lines().position(|l| l.contains(needle)).unwrap();
    assert!(
        row("web01:  restarted") < row("web02:  restarted"),
        "{shown}"
    );
    assert!(
        row("web02:  restarted") < row("web03!: Job for nginx"),
        "{shown}"
    );
    // Later output arrives at the bottom while following.
    feed(&mut m, RESTART, vec![out(4, "restarted\n")]);
    let shown = shot(&mut m, 80, 24);
    assert!(shown.contains("web05:  restarted"), "{shown}");
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("merged_{w}x{h}"), shown);
    }
}

#[test]
fn grouped_view_collapses_identical_outputs_outliers_first() {
    let mut m = three_runs();
    press(&mut m, "] ] v v v");
    assert_eq!(m.runs.layout, RunLayout::Grouped);
    let shown = shot(&mut m, 80, 24);
    let row = |needle: &str| shown.lines().position(|l| l.contains(needle)).unwrap();
    assert!(row("web03 (1)") < row("web[01-02,04] (3)"), "{shown}");
    assert!(row("up 9 days") < row("up 3 days"), "{shown}");
    assert_eq!(shown.matches("up 3 days").count(), 1, "{shown}");
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("grouped_{w}x{h}"), shown);
    }
}

#[test]
fn grouped_view_regroups_on_ticks_as_output_changes() {
    let mut m = three_runs();
    press(&mut m, "v v v");
    // The restart: web01+web02 said the same; web03 failed; web04 runs; web05-06 wait.
    let groups = |m: &Model| -> Vec<String> {
        m.runs.list[2]
            .groups
            .iter()
            .map(|g| g.nodeset.clone())
            .collect()
    };
    assert_eq!(groups(&m), ["web03", "web04", "web[01-02]", "web[05-06]"]);
    feed(
        &mut m,
        RESTART,
        vec![out(4, "restarted\n"), state(4, HostState::Ok)],
    );
    // Grouping reads every line: it waits for the next tick, not each event.
    assert_eq!(groups(&m), ["web03", "web04", "web[01-02]", "web[05-06]"]);
    update(&mut m, crate::ui::app::tests::tick("12:00:01"));
    assert_eq!(groups(&m), ["web03", "web04", "web06", "web[01-02,05]"]);
}
