//! Rerunning a run where it did not succeed: `r` in the Runs view and `:rerun` take the
//! selected finished run's hosts that did not end ok (`RunResult::rerun_targets`, the same
//! rule as `fleetdeck history rerun` and the History view) into the usual confirmation
//! (`confirm::ask_run_on`): nothing runs without it.

use crate::ui::app::confirm::ask_rerun_on;
use crate::ui::app::model::Model;

/// `r` / `:rerun`: asks to rerun the selected run's hosts that did not end ok, once the run
/// has finished.
pub fn rerun_selected(model: &mut Model) {
    let Some(run) = model.selected_run() else {
        model
            .shell
            .info("no run to rerun: run something first (`!` or :run CMD)");
        return;
    };
    let Some(result) = &run.finished else {
        let note = if run.in_flight() {
            format!(
                "run {} is still in flight: rerun its failures once it ends (X cancels it)",
                run.id
            )
        } else {
            format!("run {} did not start: nothing to rerun", run.id)
        };
        model.shell.info(note);
        return;
    };
    let hosts = result.rerun_targets(&model.inventory);
    if hosts.is_empty() {
        let note = format!(
            "run {} has no failed, timed-out, unreachable, cancelled or skipped hosts to rerun",
            run.id
        );
        model.shell.info(note);
        return;
    }
    if result.action.is_some() {
        let result = result.clone();
        crate::ui::app::actions::keys::rerun_action(model, &result, hosts);
        return;
    }
    let (command, id) = (run.command.clone(), run.id.clone());
    ask_rerun_on(model, hosts, &command, &id);
}
