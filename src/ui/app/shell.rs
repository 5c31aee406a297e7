//! The console's shell: what stays the same whichever view is on screen (the view shown, the
//! popup that has the keys, keymap and theme, the message line, the `:` command line, the
//! clock, the layout of the screen, quitting). Views' key handlers get it beside their own
//! state and report through it (`info`, `error`, `open`) instead of writing fields of a
//! model they do not own. No I/O.

use std::time::SystemTime;

use super::layout::ScreenLayout;
use super::popup::Popup;
use super::view_id::View;
use crate::ui::keymap::{KeyDispatcher, Keymap};
use crate::ui::theme::{Graphics, Theme};

/// A line for the message area under the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Info(String),
    Error(String),
}

/// The `:` command line: the text being typed, its history and the last completion offered.
#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    pub input: String,
    /// Commands entered, oldest first.
    pub history: Vec<String>,
    /// Position while browsing history with up/down; `None` when editing fresh text.
    pub history_pos: Option<usize>,
    /// Candidates the last tab found when more than one matched (shown above the line).
    pub candidates: Vec<String>,
}

#[derive(Debug)]
pub struct Shell {
    pub view: View,
    /// Who has the keys besides the keymap, and that popup's data.
    pub popup: Popup,
    pub keymap: Keymap,
    pub dispatcher: KeyDispatcher,
    pub theme: Theme,
    /// Names `:theme` completes (built-in and user themes, read at start).
    pub theme_names: Vec<String>,
    pub message: Option<Message>,
    pub command: CommandLine,
    /// Wall-clock time for the status bar, set by ticks so views never read the clock.
    pub clock: String,
    /// The same time as a `SystemTime`: metrics' ages and staleness are measured at it.
    pub now: SystemTime,
    /// What the terminal draws besides text (braille, blocks, ASCII), for charts and trends.
    pub graphics: Graphics,
    /// The screen as of the last resize: keys page and scroll by what is drawn.
    pub layout: ScreenLayout,
    pub quit: bool,
}

impl Shell {
    pub fn new(keymap: Keymap, theme: Theme, theme_names: Vec<String>) -> Shell {
        Shell {
            view: View::Fleet,
            popup: Popup::None,
            keymap,
            dispatcher: KeyDispatcher::new(),
            theme,
            theme_names,
            message: None,
            command: CommandLine::default(),
            clock: String::new(),
            now: SystemTime::UNIX_EPOCH,
            graphics: Graphics::default(),
            layout: ScreenLayout::default(),
            quit: false,
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message::Info(text.into()));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message::Error(text.into()));
    }

    pub fn clear_message(&mut self) {
        self.message = None;
    }

    /// Gives the keys to `popup`. A chord half-typed before it opened is dropped, so its
    /// first key cannot complete a binding after the popup closes.
    pub fn open(&mut self, popup: Popup) {
        self.dispatcher.reset();
        self.popup = popup;
    }

    /// Gives the keys back to the keymap; returns what was open.
    pub fn close(&mut self) -> Popup {
        std::mem::take(&mut self.popup)
    }

    /// Rows a list shows on screen now (`C-d` / `C-u` move half of it).
    pub fn page_rows(&self) -> usize {
        self.layout.page_rows()
    }
}
