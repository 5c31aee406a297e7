//! What flows through the console's one `update`: `Msg`, everything that can happen (keys,
//! ticks, engine events, answers to effects), and `Effect`, the I/O `update` asks the event
//! loop to perform. Plain data in a file of their own, so every view's key handler can name
//! them without importing `update` (which imports the handlers).

use std::sync::Arc;
use std::time::SystemTime;

use ratatui::crossterm::event::KeyEvent;

use super::history::{HistoryPage, RunOutput};
use super::runs::RunStart;
use crate::engine::{EngineEvent, RunId};
use crate::metrics::stats::RunStats;
use crate::metrics::{MetricsFrame, Point, Window};
use crate::ui::theme::Theme;

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// A clock tick: the time to show, and the wall-clock time metrics' ages and staleness
    /// are measured at (so views never read the clock).
    Tick {
        clock: String,
        now: SystemTime,
    },
    /// The result of [`Effect::LoadTheme`]: the theme, or the error text (file:line:column).
    ThemeLoaded(Result<Theme, String>),
    /// An event of a run the loop started.
    Engine {
        run: RunId,
        event: EngineEvent,
    },
    /// [`Effect::StartRun`] failed before the engine ran anything (the error says why).
    RunNotStarted {
        run: RunId,
        error: String,
    },
    /// The transports' connection states now (taken by the loop on ticks).
    Connections(super::connections::Connections),
    /// The run queue now (taken by the loop whenever it changes).
    Queue(crate::engine::QueueSnapshot),
    /// A new metrics frame (every host's newest sample and trend), when the session
    /// published one.
    Metrics(Arc<MetricsFrame>),
    /// The answer to [`Effect::LoadSeries`]: `host`'s points over `window`, oldest first,
    /// ending at `at`.
    Series {
        host: String,
        window: Window,
        points: Vec<Point>,
        at: SystemTime,
    },
    /// The transports could not be set up (a broken ssh config): SSH runs will not start.
    TransportsUnavailable(String),
    /// The SSH transport needs this key file's passphrase: open the masked popup.
    PassphraseWanted(std::path::PathBuf),
    /// The answer to [`Effect::LoadHistory`]: the newest runs, or why history.jsonl could
    /// not be read.
    HistoryLoaded {
        request: u64,
        result: Result<HistoryPage, String>,
    },
    /// The answer to [`Effect::LoadRunOutput`]: the run's recorded output, per host.
    RunOutputLoaded {
        id: RunId,
        output: Result<Arc<RunOutput>, String>,
    },
    /// The answer to [`Effect::LoadStats`]: the statistics and the warnings reading them gave
    /// (`engine::read_stats`), or why they could not be read.
    StatsLoaded(Result<(RunStats, Vec<String>), String>),
    /// The session's newest incidents frame (the book changed).
    Incidents(Arc<crate::engine::IncidentsFrame>),
    /// runbooks.toml as read (the Incidents view's hints and suggested actions).
    Runbooks(Arc<crate::incident::runbook::Runbooks>),
    /// The `[notify]` sinks' delivery records, when they changed (taken by the loop on ticks).
    NotifyStatus(Vec<crate::incident::notify::SinkStatus>),
    /// The answer to [`Effect::WriteIncident`]: what was done, or why not.
    IncidentWritten(Result<String, String>),
    /// The action catalog as read (`Catalog::load_partial`), its problems, and its folder.
    ActionsLoaded(ActionsLoad),
}

/// What reading the actions folder found.
#[derive(Debug, Clone)]
pub struct ActionsLoad {
    pub catalog: crate::action::Catalog,
    pub problems: Vec<crate::diag::Diagnostic>,
    pub dir: std::path::PathBuf,
}

/// I/O `update` asks for; the event loop performs it and may answer with a [`Msg`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Quit, cancelling runs in flight first (the user confirmed).
    Quit,
    /// Start the engine on a confirmed run; its events come back as `Msg::Engine`.
    StartRun(RunStart),
    /// Cancel a run in flight: a queued one leaves the queue, a running one is stopped.
    CancelRun(RunId),
    /// Pause a running run before its next host starts.
    PauseRun(RunId),
    /// Resume a paused run.
    ResumeRun(RunId),
    /// Load theme NAME (user file or built-in) and answer with `Msg::ThemeLoaded`.
    LoadTheme(String),
    /// Answer the oldest passphrase question (`None`: declined).
    AnswerPassphrase(Option<super::secret::Secret>),
    /// Read the newest runs of history.jsonl (off the runtime) and answer with
    /// `Msg::HistoryLoaded` carrying `request`.
    LoadHistory { request: u64 },
    /// Read runs/<id>.jsonl (bounded per host) and answer with `Msg::RunOutputLoaded`.
    LoadRunOutput(RunId),
    /// Read the action templates again (`R` in the Actions view): `Msg::ActionsLoaded`.
    LoadActions,
    /// Copy `host`'s metric points over `window` out of the session for the Metrics view's
    /// charts: `Msg::Series`.
    LoadSeries { host: String, window: Window },
    /// Write to an incident through the session (ack, resolve, note): `Msg::IncidentWritten`.
    WriteIncident(IncidentWrite),
    /// Write a runbook's run and how it ended on the timelines of the incidents it was a fix
    /// for: `Msg::IncidentWritten`.
    RecordIncidentRun {
        incidents: Vec<String>,
        run: RunId,
        result: String,
    },
    /// Ask the `[analysis]` endpoint about an incident and write its suggestion on the
    /// timeline: `Msg::IncidentWritten` (an error leaves the runbook's hint standing).
    AnalyseIncident(crate::engine::AnalysisAsk),
    /// Count the run statistics of the runs started in the last `since` (off the runtime,
    /// `engine::read_stats`) for the Metrics view's panel: `Msg::StatsLoaded`.
    LoadStats { since: std::time::Duration },
}

/// A person's write to an incident (`Effect::WriteIncident`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentWrite {
    pub id: String,
    pub act: super::popup::PromptAct,
    /// The comment (ack, resolve; empty: none) or the note.
    pub text: String,
}
