//! Who has the keys when the keymap does not: one [`Popup`] value, carrying the data of the
//! popup or prompt that is open (a confirmation's question and typed text, the help's scroll,
//! a search being typed, the passphrase being typed over whatever it interrupted). Data only:
//! the keys of each live in confirm.rs, commands.rs, passphrase.rs and the views' folders.

use std::path::PathBuf;

use super::runs::RunStart;
use super::secret::Secret;
use super::text_input::TextInput;

/// The popup or prompt that has the keys; `None`: they go through the keymap.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Popup {
    #[default]
    None,
    /// `/`: typed characters edit the filter of the view on screen (it lives in the view's
    /// state: the list narrows as it is typed, and the filter stays after enter).
    Filter,
    /// `:`: typed characters edit the command line (`Shell::command`, with its history).
    Command,
    /// `/` over an output pane of the Runs view: the search being typed, applied on enter.
    Search(TextInput),
    /// `?`: the help, scrolled down by `scroll` lines.
    Help { scroll: u16 },
    /// A question before something happens (a run, quitting, cancelling a run).
    Confirm(Confirm),
    /// The Incidents view asks for a comment or note before writing to an incident.
    Prompt(IncidentPrompt),
    /// The SSH transport needs a key's passphrase. `under` is what it interrupted (a
    /// half-typed filter or command line, a confirmation), restored once it is answered.
    Passphrase {
        prompt: PassphrasePrompt,
        under: Box<Popup>,
    },
}

impl Popup {
    /// A short name, for tests and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Popup::None => "none",
            Popup::Filter => "filter",
            Popup::Command => "command",
            Popup::Search(_) => "search",
            Popup::Help { .. } => "help",
            Popup::Confirm(_) => "confirm",
            Popup::Passphrase { .. } => "passphrase",
            Popup::Prompt(_) => "prompt",
        }
    }

    /// The open confirmation, if that is what has the keys.
    pub fn confirm(&self) -> Option<&Confirm> {
        match self {
            Popup::Confirm(c) => Some(c),
            _ => None,
        }
    }

    /// The pane search being typed, if one is (also while a passphrase popup is over it:
    /// the prompt stays on screen under the popup).
    pub fn search(&self) -> Option<&TextInput> {
        match self {
            Popup::Search(s) => Some(s),
            Popup::Passphrase { under, .. } => under.search(),
            _ => None,
        }
    }
}

/// What a confirmation popup asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmKind {
    Run(RunStart),
    /// Quit while runs are in flight (they are cancelled first).
    Quit,
    /// Cancel this running run (its remote commands are stopped).
    CancelRun(crate::engine::RunId),
}

/// A confirmation popup: what it confirms and, for protected environments, the text to type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub kind: ConfirmKind,
    /// Distinct environments of the targets (`-` for hosts without one).
    pub envs: Vec<String>,
    /// The protected environment names the operator must type (joined by `,`), if any.
    pub required: Option<String>,
    pub typed: String,
}

impl Confirm {
    /// A yes/no question (nothing to type).
    pub fn simple(kind: ConfirmKind) -> Self {
        Confirm {
            kind,
            envs: Vec::new(),
            required: None,
            typed: String::new(),
        }
    }
}

/// The open passphrase popup (`Popup::Passphrase`, which also keeps what it interrupted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassphrasePrompt {
    /// The key file asked about.
    pub key: PathBuf,
    pub typed: Secret,
}

/// What an incident prompt writes once its text is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptAct {
    Ack,
    Resolve,
    Note,
}

impl PromptAct {
    /// The popup's title and what it asks for.
    pub fn question(self) -> (&'static str, &'static str) {
        match self {
            PromptAct::Ack => ("acknowledge", "comment (optional)"),
            PromptAct::Resolve => ("resolve", "comment (optional)"),
            PromptAct::Note => ("note", "note"),
        }
    }
}

/// The open incident prompt: which incident, what it writes, the text typed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentPrompt {
    pub act: PromptAct,
    pub id: String,
    /// The incident's title (sanitized when drawn).
    pub title: String,
    pub input: TextInput,
}
