//! The incident book: incidents.jsonl read into the fold, and the only way lines get written
//! to it.
//!
//! Several processes (console, CLI, wallboard) keep books on one file. Every write is a
//! transaction under an exclusive `flock` on `incidents.jsonl.book.lock`: catch up with the
//! lines others appended since this book last read (from where it stopped: linear, never a
//! re-read), decide on the fold as it now stands, append one line (`JsonlWriter`: one `write`
//! on `O_APPEND`), sync it to disk, read it back. So no event is lost, lines never interleave,
//! and two processes never open two incidents for one dedup key. Reading needs no lock.
//!
//! Rotation is the book's own (its writer never rotates by itself): when a line would take
//! the file past `[store] rotate_at`, the file is shifted to incidents.1.jsonl (… keeping
//! `[store] keep`), and the new file starts with a `carried` line (the whole incident, its
//! bounded timeline included) for every active incident. Loading reads the rotated files
//! oldest first and then the current one, so resolved incidents stay listed (and can be
//! reopened) while their files are kept, and deleting the oldest file never loses an active
//! incident. A rotation that would not make the file smaller (everything in it is active) is
//! put off.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::decide;
use super::event::{BOOK_VERSION, Event, What};
use super::fold::Folded;
use super::id::{self, IdError};
use super::model::{Incident, Observation, State};
use super::scan::{Line, Position, read_after};
use crate::config::Home;
use crate::config::settings::StoreSettings;
use crate::store::lock::LockFile;
use crate::store::{
    CorruptLine, JsonlWriter, MAX_ROTATED_FILES, Rotation, StoreError, rfc3339_millis,
    rotate_files, rotated_path,
};

/// Longest title kept; longer ones are cut (sources are not trusted to be brief).
pub const MAX_TITLE_CHARS: usize = 512;
/// Longest comment, note, analysis text, label or annotation value kept.
pub const MAX_TEXT_CHARS: usize = 8 * 1024;
/// Most hosts, labels and annotations kept per incident.
pub const MAX_ITEMS: usize = 256;

/// Why the book could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The id given does not name one incident.
    #[error(transparent)]
    Id(#[from] IdError),
    /// The incident is not in a state that allows it (acknowledging a resolved incident).
    #[error("incident {id} is {state}: {why}")]
    State {
        id: String,
        state: State,
        why: &'static str,
    },
    /// Bad input (an empty note, an observation without a fingerprint).
    #[error("{0}")]
    Invalid(String),
}

impl BookError {
    /// Whether the caller's input was at fault (exit 2), rather than the file system.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, BookError::Store(_))
    }
}

/// The current file as far as this book has read it.
struct Cursor {
    file: File,
    dev: u64,
    ino: u64,
    pos: Position,
}

struct Writing {
    lock: LockFile,
    /// Opened at the first line written (a refused action creates no book file).
    writer: Option<JsonlWriter>,
}

/// See the module doc.
pub struct Book {
    path: PathBuf,
    rotation: Rotation,
    folded: Folded,
    cursor: Option<Cursor>,
    writing: Option<Writing>,
    damaged: Vec<CorruptLine>,
    events: u64,
}

/// A suggestion for an incident (from a model or the rule-based hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub who: Option<String>,
    pub model: Option<String>,
    pub text: String,
    /// An action template it suggests (never run by recording it).
    pub action: Option<String>,
}

impl Book {
    /// The book of `home` (data/incidents.jsonl), rotating like history and audit.
    pub fn for_home(home: &Home, store: &StoreSettings) -> Result<Book, BookError> {
        Book::open(&home.incidents_file(), rotation_of(store))
    }

    /// Reads the book at `path` (rotated files oldest first, then the file itself); a missing
    /// file is an empty book. Damaged lines are skipped and kept in `damaged`.
    pub fn open(path: &Path, rotation: Rotation) -> Result<Book, BookError> {
        let mut book = Book {
            path: path.to_path_buf(),
            rotation,
            folded: Folded::default(),
            cursor: None,
            writing: None,
            damaged: Vec::new(),
            events: 0,
        };
        book.catch_up()?;
        Ok(book)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads what other processes appended since the last read.
    pub fn refresh(&mut self) -> Result<(), BookError> {
        self.catch_up()
    }

    /// Every incident, in no particular order.
    pub fn incidents(&self) -> impl Iterator<Item = &Incident> {
        self.folded.iter()
    }

    /// Newest first (by last seen); resolved ones only with `include_resolved`.
    pub fn list(&self, include_resolved: bool) -> Vec<&Incident> {
        self.folded.newest_first(include_resolved)
    }

    pub fn get(&self, id: &str) -> Option<&Incident> {
        self.folded.get(id)
    }

    /// The incident a unique id prefix names.
    pub fn find(&self, prefix: &str) -> Result<&Incident, IdError> {
        let id = id::resolve(self.folded.iter().map(|i| i.id.as_str()), prefix)?;
        self.folded.get(&id).ok_or(IdError::Unknown(id))
    }

    /// Events read so far (every valid line, whether it applied or not).
    pub fn events_read(&self) -> u64 {
        self.events
    }

    /// Lines skipped so far (damaged, or events that could not apply), each with file:line.
    pub fn damaged(&self) -> &[CorruptLine] {
        &self.damaged
    }

    /// The skipped lines not taken before (so a long-lived book reports each once).
    pub fn take_damaged(&mut self) -> Vec<CorruptLine> {
        std::mem::take(&mut self.damaged)
    }

    /// What a source saw: writes `opened`, `seen`, `resolved` or `reopened` as the rules in
    /// `decide` say, or nothing. Durable (synced) when it returns. The event written, if any.
    pub fn observe(&mut self, obs: &Observation) -> Result<Option<Event>, BookError> {
        if obs.fingerprint.trim().is_empty() {
            return Err(BookError::Invalid(format!(
                "a {} observation needs a fingerprint",
                obs.source
            )));
        }
        let obs = bounded(obs);
        self.write(|folded, now| Ok(decide::observe(folded, &obs, now)))
    }

    /// Acknowledges the incident `id` names (open or acknowledged already).
    pub fn ack(&mut self, id: &str, who: &str, comment: Option<&str>) -> Result<Event, BookError> {
        let (who, comment) = (who.to_string(), comment.map(clip_text));
        self.person(id, "nothing to acknowledge", move |_| What::Acked {
            who,
            comment,
        })
    }

    /// Resolves the incident `id` names by hand.
    pub fn resolve(
        &mut self,
        id: &str,
        who: &str,
        comment: Option<&str>,
    ) -> Result<Event, BookError> {
        let (who, comment) = (who.to_string(), comment.map(clip_text));
        self.person(id, "resolved already", move |_| What::Resolved {
            who: Some(who),
            comment,
            at: None,
        })
    }

    /// Adds a note to the timeline of the incident `id` names (any state).
    pub fn note(&mut self, id: &str, who: &str, text: &str) -> Result<Event, BookError> {
        if text.trim().is_empty() {
            return Err(BookError::Invalid(
                "the note is empty; nothing was written".to_string(),
            ));
        }
        let (who, text) = (who.to_string(), clip_text(text));
        self.on_incident(id, move |_| Ok(What::Note { who, text }))
    }

    /// Adds an analysis (a suggestion) to the timeline.
    pub fn record_analysis(&mut self, id: &str, analysis: &Analysis) -> Result<Event, BookError> {
        let what = What::Analysis {
            who: analysis.who.clone(),
            model: analysis.model.as_deref().map(clip_text),
            text: clip_text(&analysis.text),
            action: analysis.action.as_deref().map(clip_text),
        };
        self.on_incident(id, move |_| Ok(what))
    }

    /// Adds a run made for the incident (its id and how it ended) to the timeline.
    pub fn record_action_run(
        &mut self,
        id: &str,
        run_id: &str,
        result: &str,
        who: Option<&str>,
    ) -> Result<Event, BookError> {
        let what = What::ActionRun {
            who: who.map(str::to_string),
            run_id: run_id.to_string(),
            result: clip_text(result),
        };
        self.on_incident(id, move |_| Ok(what))
    }

    /// Ack and resolve: refused (nothing written) on a resolved incident.
    fn person(
        &mut self,
        id: &str,
        why: &'static str,
        what: impl FnOnce(&Incident) -> What,
    ) -> Result<Event, BookError> {
        self.on_incident(id, move |incident| {
            if incident.state == State::Resolved {
                return Err(BookError::State {
                    id: incident.id.clone(),
                    state: incident.state,
                    why,
                });
            }
            Ok(what(incident))
        })
    }

    /// A person's event on the incident `prefix` names, resolved after catching up (an
    /// incident another process just opened can be named).
    fn on_incident(
        &mut self,
        prefix: &str,
        what: impl FnOnce(&Incident) -> Result<What, BookError>,
    ) -> Result<Event, BookError> {
        let prefix = prefix.to_string();
        let written = self.write(move |folded, _| {
            let id = id::resolve(folded.iter().map(|i| i.id.as_str()), &prefix)?;
            let incident = folded.get(&id).ok_or(IdError::Unknown(id.clone()))?;
            Ok(Some((Some(id), what(incident)?)))
        })?;
        written.ok_or_else(|| BookError::Invalid("nothing was written".to_string()))
    }

    /// One transaction (see the module doc). `decide` gets the caught-up fold and the time.
    fn write(
        &mut self,
        decide: impl FnOnce(
            &Folded,
            OffsetDateTime,
        ) -> Result<Option<(Option<String>, What)>, BookError>,
    ) -> Result<Option<Event>, BookError> {
        self.with_writing(|book, writing| book.write_with(writing, decide))?
    }

    /// Runs `f` with this book's writing side (its lock file opened at the first write).
    fn with_writing<R>(
        &mut self,
        f: impl FnOnce(&mut Self, &mut Writing) -> R,
    ) -> Result<R, BookError> {
        let mut writing = match self.writing.take() {
            Some(w) => w,
            None => Writing {
                lock: create_lock(&self.path)?,
                writer: None,
            },
        };
        let result = f(self, &mut writing);
        self.writing = Some(writing);
        Ok(result)
    }

    fn write_with(
        &mut self,
        writing: &mut Writing,
        decide: impl FnOnce(
            &Folded,
            OffsetDateTime,
        ) -> Result<Option<(Option<String>, What)>, BookError>,
    ) -> Result<Option<Event>, BookError> {
        let _held = writing.lock.exclusive()?;
        let Some(event) = self.append_one(&mut writing.writer, decide)? else {
            return Ok(None);
        };
        if let Some(writer) = &mut writing.writer {
            writer.sync()?;
        }
        // Read back through the fold, like any other process's line.
        self.catch_up()?;
        Ok(Some(event))
    }

    /// Under the book lock: catches up, decides, appends (not synced yet). The caller syncs.
    fn append_one(
        &mut self,
        slot: &mut Option<JsonlWriter>,
        decide: impl FnOnce(
            &Folded,
            OffsetDateTime,
        ) -> Result<Option<(Option<String>, What)>, BookError>,
    ) -> Result<Option<Event>, BookError> {
        self.catch_up()?;
        let now = OffsetDateTime::now_utc();
        let Some((id, what)) = decide(&self.folded, now)? else {
            return Ok(None);
        };
        let id = id.unwrap_or_else(|| id::new_id(&self.folded));
        let event = Event {
            v: None,
            ts: rfc3339_millis(now),
            id,
            what,
        };
        let writer = match slot {
            Some(w) => w,
            None => slot.insert(JsonlWriter::open(
                &self.path,
                Rotation::NEVER,
                BOOK_VERSION,
            )?),
        };
        self.rotate_if_needed(writer, &event, now)?;
        writer.append(&event)?;
        Ok(Some(event))
    }

    /// Records a source's observations in one transaction: one lock and one sync for the
    /// batch (an Alertmanager poll brings thousands), each decided on the fold as the ones
    /// before it left it. One result per observation, in order; when the final sync fails,
    /// every line written is reported failed (its source tries again; redeliveries change
    /// nothing).
    pub fn observe_all(&mut self, batch: &[Observation]) -> Vec<Result<Option<Event>, BookError>> {
        self.with_writing(|book, writing| book.observe_all_with(writing, batch))
            .unwrap_or_else(|e| all_failed(batch.len(), &e))
    }

    fn observe_all_with(
        &mut self,
        writing: &mut Writing,
        batch: &[Observation],
    ) -> Vec<Result<Option<Event>, BookError>> {
        let held = match writing.lock.exclusive() {
            Ok(held) => held,
            Err(e) => return all_failed(batch.len(), &e.into()),
        };
        let mut results: Vec<Result<Option<Event>, BookError>> = batch
            .iter()
            .map(|obs| {
                if obs.fingerprint.trim().is_empty() {
                    return Err(BookError::Invalid(format!(
                        "a {} observation needs a fingerprint",
                        obs.source
                    )));
                }
                let obs = bounded(obs);
                self.append_one(&mut writing.writer, |folded, now| {
                    Ok(decide::observe(folded, &obs, now))
                })
            })
            .collect();
        let wrote = results.iter().any(|r| matches!(r, Ok(Some(_))));
        if wrote
            && let Some(writer) = &mut writing.writer
            && let Err(e) = writer.sync()
        {
            let text = format!("not synced to disk: {e}");
            for r in &mut results {
                if matches!(r, Ok(Some(_))) {
                    *r = Err(BookError::Invalid(text.clone()));
                }
            }
        }
        if let Err(e) = self.catch_up() {
            tracing::warn!(error = %e, "incident book: cannot read back the batch just written");
        }
        drop(held);
        results
    }

    /// Rotates (see the module doc) when `event` would take the file past the limit and
    /// rotating makes it smaller. The caller holds the book lock.
    fn rotate_if_needed(
        &mut self,
        writer: &mut JsonlWriter,
        event: &Event,
        now: OffsetDateTime,
    ) -> Result<(), BookError> {
        let size = match fs::metadata(&self.path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(StoreError::io(&self.path, "stat", e).into()),
        };
        let line_len = serde_json::to_vec(event).map_or(0, |l| l.len()) + 40;
        if !self.rotation.needs_rotation(size, line_len) {
            return Ok(());
        }
        let ts = rfc3339_millis(now);
        let carried: Vec<Event> = self
            .folded
            .iter()
            .filter(|i| i.state.is_active())
            .map(|i| Event {
                v: None,
                ts: ts.clone(),
                id: i.id.clone(),
                what: What::Carried {
                    incident: Box::new(i.clone()),
                },
            })
            .collect();
        let carried_len: usize = carried
            .iter()
            .map(|e| serde_json::to_vec(e).map_or(0, |l| l.len()) + 40)
            .sum();
        if (carried_len + line_len) as u64 >= size {
            // Rotating would not shrink the file (everything in it is still active).
            return Ok(());
        }
        {
            let store_lock = LockFile::create_for(&self.path)?;
            let _exclusive = store_lock.exclusive()?;
            rotate_files(&self.path, self.rotation.keep)?;
        }
        for e in &carried {
            writer.append(e)?;
        }
        Ok(())
    }

    /// Reads what is new: the rest of the current file, or, after a rotation by another
    /// process, the rest of the file this book was reading and everything newer.
    fn catch_up(&mut self) -> Result<(), BookError> {
        // Shared: no rotation moves files while we go from one to the next.
        let store_lock = LockFile::open_existing_for(&self.path)?;
        let _shared = store_lock.as_ref().map(LockFile::shared).transpose()?;
        let Some(mut cursor) = self.cursor.take() else {
            // No current file when last read (a new book, or rotated away by a writer that
            // has not appended yet): read everything there is, afresh.
            self.folded = Folded::default();
            self.events = 0;
            self.damaged.clear();
            return self.load_all();
        };
        cursor.pos = self.read_file(&cursor.file, &self.path.clone(), cursor.pos, true)?;
        match identity(&self.path)? {
            Some(now) if now == (cursor.dev, cursor.ino) => {
                self.cursor = Some(cursor);
                return Ok(());
            }
            None => {
                // Rotated away and nothing appended since: keep reading from our file (now
                // a rotated one) until a new current file appears.
                self.cursor = Some(cursor);
                return Ok(());
            }
            Some(_) => {}
        }
        // Ours is now incidents.N.jsonl: read N-1 … 1 whole, then the new current file.
        let ours = (1..=MAX_ROTATED_FILES)
            .map(|n| (n, rotated_path(&self.path, n)))
            .take_while(|(_, p)| p.exists())
            .find(|(_, p)| identity(p).ok().flatten() == Some((cursor.dev, cursor.ino)))
            .map(|(n, _)| n);
        let Some(n) = ours else {
            // Rotated past what is kept: start again from what there is.
            self.folded = Folded::default();
            self.events = 0;
            self.damaged.clear();
            return self.load_all();
        };
        for m in (1..n).rev() {
            self.read_whole(&rotated_path(&self.path, m))?;
        }
        self.open_current()
    }

    /// Every file, oldest first, from the start.
    fn load_all(&mut self) -> Result<(), BookError> {
        let rotated: Vec<PathBuf> = (1..=MAX_ROTATED_FILES)
            .map(|n| rotated_path(&self.path, n))
            .take_while(|p| p.exists())
            .collect();
        for path in rotated.iter().rev() {
            self.read_whole(path)?;
        }
        self.open_current()
    }

    /// Opens the current file and reads it from the start, keeping the cursor.
    fn open_current(&mut self) -> Result<(), BookError> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.cursor = None;
                return Ok(());
            }
            Err(e) => return Err(StoreError::io(&self.path, "open", e).into()),
        };
        let meta = file
            .metadata()
            .map_err(|e| StoreError::io(&self.path, "stat", e))?;
        let path = self.path.clone();
        let pos = self.read_file(&file, &path, Position::default(), true)?;
        self.cursor = Some(Cursor {
            file,
            dev: meta.dev(),
            ino: meta.ino(),
            pos,
        });
        Ok(())
    }

    fn read_whole(&mut self, path: &Path) -> Result<(), BookError> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io(path, "open", e).into()),
        };
        self.read_file(&file, path, Position::default(), false)?;
        Ok(())
    }

    fn read_file(
        &mut self,
        file: &File,
        path: &Path,
        from: Position,
        last_file: bool,
    ) -> Result<Position, BookError> {
        let (folded, damaged, events) = (&mut self.folded, &mut self.damaged, &mut self.events);
        read_after(file, path, from, last_file, |line| match line {
            Line::Event { line, event } => {
                *events += 1;
                if let Err(message) = folded.apply(event) {
                    damaged.push(CorruptLine {
                        file: path.to_path_buf(),
                        line,
                        numbering: crate::store::LineNumbering::FromStart,
                        message,
                    });
                }
            }
            Line::Damaged(c) => damaged.push(c),
        })
        .map_err(|e| StoreError::io(path, "read", e).into())
    }
}

/// The book's rotation from `[store]`.
pub fn rotation_of(store: &StoreSettings) -> Rotation {
    Rotation {
        max_bytes: store.rotate_at.0,
        keep: usize::try_from(store.keep).unwrap_or(usize::MAX),
    }
}

/// `incidents.jsonl` → `incidents.jsonl.book.lock`: the writers' transaction lock (apart from
/// the store's own `.lock`, which every append takes shared).
pub fn book_lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".book.lock");
    PathBuf::from(name)
}

/// The book lock, its folder created (0700) if missing.
fn create_lock(path: &Path) -> Result<LockFile, BookError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::config::home::ensure_private_dir(parent)
            .map_err(|e| BookError::Invalid(e.to_string()))?;
    }
    Ok(LockFile::create_at(book_lock_path(path))?)
}

fn identity(path: &Path) -> Result<Option<(u64, u64)>, StoreError> {
    match fs::metadata(path) {
        Ok(m) => Ok(Some((m.dev(), m.ino()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io(path, "stat", e)),
    }
}

fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn clip_text(text: &str) -> String {
    clip(text, MAX_TEXT_CHARS)
}

/// `obs` with every text and list cut to the book's bounds.
/// `n` results, each the failure `e` (a batch that could not be written at all).
pub fn all_failed(n: usize, e: &BookError) -> Vec<Result<Option<Event>, BookError>> {
    let text = e.to_string();
    (0..n)
        .map(|_| Err(BookError::Invalid(text.clone())))
        .collect()
}

fn bounded(obs: &Observation) -> Observation {
    let map = |m: &std::collections::BTreeMap<String, String>| {
        m.iter()
            .take(MAX_ITEMS)
            .map(|(k, v)| (clip(k, MAX_TITLE_CHARS), clip_text(v)))
            .collect()
    };
    Observation {
        source: obs.source,
        fingerprint: clip(&obs.fingerprint, MAX_TITLE_CHARS),
        title: clip(&obs.title, MAX_TITLE_CHARS),
        severity: obs.severity,
        hosts: obs
            .hosts
            .iter()
            .take(MAX_ITEMS)
            .map(|h| clip(h, MAX_TITLE_CHARS))
            .collect(),
        labels: map(&obs.labels),
        annotations: map(&obs.annotations),
        firing: obs.firing,
        ts: clip(&obs.ts, 64),
    }
}
