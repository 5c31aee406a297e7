//! `A`: ask the optional `[analysis]` endpoint about the incident opened (or under the
//! cursor). The question carries the runbook's hint and the action names the answer may
//! suggest; the session gathers the rest (samples, run errors, the alert's excerpt), redacts
//! it, asks, and writes the answer on the timeline, labelled as a suggestion with the model's
//! name. Nothing it says is run. Off, or failing, the message line says so and the hint stands.

use crate::engine::AnalysisAsk;
use crate::ui::app::model::Model;
use crate::ui::app::msg::Effect;

pub fn ask(model: &mut Model) -> Option<Effect> {
    let s = &model.incidents;
    let Some(incident) = s.opened().or_else(|| s.selected()) else {
        model.shell.info("no incident selected");
        return None;
    };
    let settings = &model.actions.settings.analysis;
    if settings.endpoint().is_none() {
        model.shell.error(
            "analysis is off: set [analysis] endpoint in config.toml (an OpenAI-compatible chat-completions URL); the runbook's hint stands",
        );
        return None;
    }
    let ask = AnalysisAsk {
        id: incident.id.clone(),
        hint: s.runbooks.lookup(&incident.facts()).map(|m| m.hint),
        actions: model.actions.catalog.names().map(str::to_string).collect(),
    };
    model.shell.info(format!(
        "asking {} about incident {}… (a suggestion: nothing is run)",
        settings.model, incident.id
    ));
    Some(Effect::AnalyseIncident(ask))
}
