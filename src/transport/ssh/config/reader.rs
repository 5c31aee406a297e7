//! Reads config files (and everything they `Include`) into one flat list of directives, in
//! OpenSSH's reading order, with every value of a keyword fleetdeck uses already checked.
//! Nothing here depends on the host being resolved: `eval` walks the list per host.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ssh2_config::{DefaultAlgorithms, Host as HostBlock, HostClause, HostParams};

use super::glob::glob_paths;
use super::lexer::{Line, tokenize};
use super::values::{parse_count, parse_flag, parse_port, parse_strict, parse_time};
use super::{JumpHop, StrictMode};
use crate::diag::{Diagnostic, Error};
use crate::inventory::jump::parse_jump_list;

/// OpenSSH refuses deeper `Include` nesting (READCONF_MAX_DEPTH).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Where a setting was read: index into the file list, 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Origin {
    pub file: usize,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug)]
pub(super) enum Directive {
    /// Start of a top-level file: OpenSSH reads each one starting "active" again.
    TopFile,
    /// A `Host` line.
    Host(HostLine),
    /// A `Match` line: every criterion must hold.
    Match(Vec<Criterion>),
    /// An included file starts (blocks in it never apply if the `Include` line was inactive)
    /// and ends (the including block's state comes back).
    IncludeBegin,
    IncludeEnd,
    Set(Setting, Origin),
}

/// A `Host` line's patterns. Matching (wildcards, `!` negation) is ssh2-config's; lines of
/// plain names only take a string-compare shortcut (a generated fleet config has hundreds).
#[derive(Debug)]
pub(super) struct HostLine {
    /// Boxed: HostParams is large and unused here.
    block: Box<HostBlock>,
    literal: bool,
}

impl HostLine {
    fn new(clauses: Vec<HostClause>) -> Self {
        let literal = clauses.iter().all(|c| !c.pattern.contains(['*', '?']));
        let params = HostParams::new(&DefaultAlgorithms::empty());
        let block = Box::new(HostBlock::new(clauses, params));
        Self { block, literal }
    }

    /// OpenSSH's rule: some pattern matches the name as given and no negated one does.
    pub fn matches(&self, name: &str) -> bool {
        if !self.literal {
            return self.block.intersects(name);
        }
        let mut hit = false;
        for c in &self.block.pattern {
            if c.pattern == name {
                if c.negated {
                    return false;
                }
                hit = true;
            }
        }
        hit
    }
}

#[derive(Debug)]
pub(super) struct Criterion {
    pub kind: CriterionKind,
    pub negated: bool,
    /// A comma-separated pattern list (empty for `all`).
    pub patterns: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CriterionKind {
    All,
    Host,
    OriginalHost,
    User,
    LocalUser,
    /// `exec`, `canonical`, `final`, `localnetwork`, …: not evaluated; the block never applies.
    Never,
}

/// The keywords fleetdeck uses, with checked values. Paths stay raw: `~`, `%` tokens and
/// `${VAR}` are expanded per host.
#[derive(Debug, Clone)]
pub(super) enum Setting {
    HostName(String),
    User(String),
    Port(u16),
    IdentityFile(String),
    IdentitiesOnly(bool),
    IdentityAgent(String),
    /// `None` hops: `ProxyJump none`. `text` is the raw value (the `%j` token).
    ProxyJump {
        hops: Option<Vec<JumpHop>>,
        text: String,
    },
    /// `None`: `ProxyCommand none`.
    ProxyCommand(Option<String>),
    ConnectTimeout(Duration),
    ServerAliveInterval(Duration),
    ServerAliveCountMax(u32),
    HostKeyAlias(String),
    /// `None`: `none` (no files).
    UserKnownHostsFile(Option<Vec<String>>),
    GlobalKnownHostsFile(Option<Vec<String>>),
    StrictHostKeyChecking(StrictMode),
    /// Only for its effect on the ServerAliveInterval default.
    BatchMode(bool),
}

/// What [`read`] produces.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    pub files: Vec<PathBuf>,
    pub directives: Vec<Directive>,
    pub warnings: Vec<String>,
}

/// One top-level file to read.
pub(super) struct TopFile<'a> {
    pub path: &'a Path,
    /// A user file (`~/.ssh/config` or `-F`): relative includes are under `~/.ssh`, and `~`
    /// is allowed. System files include relative to `/etc/ssh`.
    pub user: bool,
    /// A missing file is an error (`--ssh-config FILE`) rather than nothing to read.
    pub required: bool,
}

/// Reads the files in order. Unreadable files fail at once; problems inside files are
/// collected and reported together (`file:line:column: message`).
pub(super) fn read(tops: &[TopFile<'_>], home: &Path) -> Result<Parsed, Error> {
    let mut reader = Reader {
        home,
        parsed: Parsed::default(),
        stack: Vec::new(),
        errors: Vec::new(),
    };
    for top in tops {
        let text = match fs::read(top.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !top.required => continue,
            Err(e) => return Err(Error::io(top.path, "cannot read ssh config", e)),
        };
        reader.parsed.directives.push(Directive::TopFile);
        reader.stack.push(canonical(top.path));
        reader.file(top.path, &text, top.user, 0)?;
        reader.stack.pop();
    }
    if reader.errors.is_empty() {
        Ok(reader.parsed)
    } else {
        Err(Error::Config(reader.errors))
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

struct Reader<'a> {
    home: &'a Path,
    parsed: Parsed,
    /// Canonical paths of the files being read, to name an `Include` cycle.
    stack: Vec<PathBuf>,
    errors: Vec<Diagnostic>,
}

impl Reader<'_> {
    fn file(&mut self, path: &Path, bytes: &[u8], user: bool, depth: usize) -> Result<(), Error> {
        let text = String::from_utf8_lossy(bytes);
        let file = self.parsed.files.len();
        self.parsed.files.push(path.to_path_buf());
        for (i, raw) in text.lines().enumerate() {
            let raw = if i == 0 {
                raw.strip_prefix('\u{feff}').unwrap_or(raw)
            } else {
                raw
            };
            let at = |offset: usize| Origin {
                file,
                line: i + 1,
                column: raw[..offset.min(raw.len())].chars().count() + 1,
            };
            let line = match tokenize(raw) {
                Ok(Some(line)) => line,
                Ok(None) => continue,
                Err((offset, msg)) => {
                    self.error(at(offset), msg);
                    continue;
                }
            };
            let keyword = line.keyword.to_ascii_lowercase();
            match keyword.as_str() {
                "host" => self.host(&line, &at),
                "match" => self.match_line(&line, &at),
                "include" => self.include(&line, user, depth, &at)?,
                _ => match setting(&keyword, &line) {
                    Ok(Some(s)) => {
                        let origin = at(line.args_offset);
                        self.parsed.directives.push(Directive::Set(s, origin));
                    }
                    // A keyword fleetdeck does not use: ssh validates it, we need not.
                    Ok(None) => {}
                    Err((offset, msg)) => {
                        self.error(at(offset), format!("{}: {msg}", line.keyword))
                    }
                },
            }
        }
        Ok(())
    }

    fn error(&mut self, o: Origin, message: impl Into<String>) {
        self.errors.push(Diagnostic {
            file: self.parsed.files[o.file].clone(),
            line: o.line,
            column: o.column,
            message: message.into(),
        });
    }

    fn warn(&mut self, o: Origin, message: impl AsRef<str>) {
        let place = format!(
            "{}:{}:{}",
            self.parsed.files[o.file].display(),
            o.line,
            o.column
        );
        self.parsed
            .warnings
            .push(format!("{place}: {}", message.as_ref()));
    }

    fn host(&mut self, line: &Line, at: &dyn Fn(usize) -> Origin) {
        let mut clauses = Vec::with_capacity(line.args.len());
        for arg in &line.args {
            let (pattern, negated) = match arg.text.strip_prefix('!') {
                Some(p) => (p, true),
                None => (arg.text.as_str(), false),
            };
            if pattern.is_empty() {
                self.error(at(arg.offset), "Host: empty pattern");
                return;
            }
            clauses.push(HostClause::new(pattern.to_string(), negated));
        }
        if clauses.is_empty() {
            self.error(at(line.args_offset), "Host needs at least one pattern");
            return;
        }
        self.parsed
            .directives
            .push(Directive::Host(HostLine::new(clauses)));
    }

    /// OpenSSH `match_cfg_line` syntax: criteria with arguments, `all` alone.
    fn match_line(&mut self, line: &Line, at: &dyn Fn(usize) -> Origin) {
        let mut criteria = Vec::new();
        let mut args = line.args.iter();
        let mut unsupported = Vec::new();
        while let Some(arg) = args.next() {
            let (word, negated) = match arg.text.strip_prefix('!') {
                Some(w) => (w.to_ascii_lowercase(), true),
                None => (arg.text.to_ascii_lowercase(), false),
            };
            let kind = match word.as_str() {
                "all" => CriterionKind::All,
                "host" => CriterionKind::Host,
                "originalhost" => CriterionKind::OriginalHost,
                "user" => CriterionKind::User,
                "localuser" => CriterionKind::LocalUser,
                _ => CriterionKind::Never,
            };
            let takes_argument = !matches!(word.as_str(), "all" | "canonical" | "final");
            let patterns = if takes_argument {
                match args.next() {
                    Some(a) => a.text.clone(),
                    None => {
                        self.error(at(arg.offset), format!("Match {word}: missing argument"));
                        return;
                    }
                }
            } else {
                String::new()
            };
            if kind == CriterionKind::Never {
                unsupported.push(word.clone());
            }
            criteria.push(Criterion {
                kind,
                negated,
                patterns,
            });
        }
        if criteria.is_empty() {
            self.error(at(line.args_offset), "Match needs at least one criterion");
            return;
        }
        let has_all = criteria.iter().any(|c| c.kind == CriterionKind::All);
        let others = line.args.iter().any(|a| {
            let w = a.text.trim_start_matches('!').to_ascii_lowercase();
            !matches!(w.as_str(), "all" | "canonical" | "final")
        });
        if has_all && others {
            self.error(at(line.args_offset), "Match all must appear alone");
            return;
        }
        if !unsupported.is_empty() {
            self.warn(
                at(line.keyword_offset),
                format!(
                    "Match {} is not evaluated by fleetdeck: the settings of this block are \
                     not applied to any host",
                    unsupported.join(", ")
                ),
            );
        }
        self.parsed.directives.push(Directive::Match(criteria));
    }

    fn include(
        &mut self,
        line: &Line,
        user: bool,
        depth: usize,
        at: &dyn Fn(usize) -> Origin,
    ) -> Result<(), Error> {
        if depth + 1 > MAX_INCLUDE_DEPTH {
            self.error(
                at(line.keyword_offset),
                format!("Include nested more than {MAX_INCLUDE_DEPTH} levels deep"),
            );
            return Ok(());
        }
        for arg in &line.args {
            let origin = at(arg.offset);
            let pattern = match self.include_pattern(&arg.text, user) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    let msg = format!("Include `{}`: `~user` paths are not supported", arg.text);
                    self.warn(origin, msg);
                    continue;
                }
                Err(msg) => {
                    self.error(origin, msg);
                    continue;
                }
            };
            let found = match glob_paths(&pattern) {
                Ok(found) => found,
                Err(msg) => {
                    self.error(origin, msg);
                    continue;
                }
            };
            // No match is fine, as for OpenSSH (`Include config.d/*` with an empty folder).
            for path in found {
                if path.is_dir() {
                    let msg = format!("Include: {} is a directory; skipped", path.display());
                    self.warn(origin, msg);
                    continue;
                }
                let canonical = canonical(&path);
                if self.stack.contains(&canonical) {
                    let msg = format!("Include cycle: {} is already being read", path.display());
                    self.error(origin, msg);
                    continue;
                }
                let bytes =
                    fs::read(&path).map_err(|e| Error::io(&path, "cannot read ssh config", e))?;
                self.parsed.directives.push(Directive::IncludeBegin);
                self.stack.push(canonical);
                let result = self.file(&path, &bytes, user, depth + 1);
                self.stack.pop();
                self.parsed.directives.push(Directive::IncludeEnd);
                result?;
            }
        }
        Ok(())
    }

    /// The glob an `Include` argument stands for; `None` for unsupported `~user` paths.
    fn include_pattern(&self, arg: &str, user: bool) -> Result<Option<PathBuf>, String> {
        if arg.starts_with('~') {
            if !user {
                return Err(format!(
                    "Include `{arg}`: `~` is not allowed in a system-wide config"
                ));
            }
            return Ok(arg
                .strip_prefix('~')
                .filter(|rest| rest.is_empty() || rest.starts_with('/'))
                .map(|rest| self.home.join(rest.trim_start_matches('/'))));
        }
        let path = Path::new(arg);
        Ok(Some(if path.is_absolute() {
            path.to_path_buf()
        } else if user {
            self.home.join(".ssh").join(path)
        } else {
            Path::new("/etc/ssh").join(path)
        }))
    }
}

/// Keywords [`setting`] understands (lowercase).
const KEYWORDS: [&str; 16] = [
    "batchmode",
    "hostname",
    "user",
    "port",
    "identityfile",
    "identitiesonly",
    "identityagent",
    "proxyjump",
    "proxycommand",
    "connecttimeout",
    "serveraliveinterval",
    "serveralivecountmax",
    "hostkeyalias",
    "userknownhostsfile",
    "globalknownhostsfile",
    "stricthostkeychecking",
];

/// The checked value of a keyword fleetdeck uses; `Ok(None)` for any other keyword.
/// Errors carry the byte offset to point at.
fn setting(keyword: &str, line: &Line) -> Result<Option<Setting>, (usize, String)> {
    if !KEYWORDS.contains(&keyword) {
        return Ok(None);
    }
    // `Port #comment` tokenises to no argument at all.
    let Some(first) = line.args.first() else {
        return Err((line.args_offset, "missing argument".into()));
    };
    let one = || -> Result<&str, (usize, String)> {
        match line.args.get(1) {
            Some(extra) => Err((
                extra.offset,
                format!("unexpected argument `{}`", extra.text),
            )),
            None if first.text.is_empty() => Err((first.offset, "empty argument".into())),
            None => Ok(first.text.as_str()),
        }
    };
    let at_first = |msg: String| (first.offset, msg);
    let list = || {
        let files: Vec<String> = line.args.iter().map(|a| a.text.clone()).collect();
        if files.len() == 1 && files[0].eq_ignore_ascii_case("none") {
            None
        } else {
            Some(files)
        }
    };
    Ok(Some(match keyword {
        "hostname" => Setting::HostName(one()?.to_string()),
        "user" => Setting::User(one()?.to_string()),
        "port" => Setting::Port(parse_port(one()?).map_err(at_first)?),
        "identityfile" => Setting::IdentityFile(one()?.to_string()),
        "identitiesonly" => Setting::IdentitiesOnly(parse_flag(one()?).map_err(at_first)?),
        "identityagent" => Setting::IdentityAgent(one()?.to_string()),
        "proxyjump" => {
            let text = one()?;
            Setting::ProxyJump {
                hops: parse_jump_list(text).map_err(at_first)?,
                text: text.to_string(),
            }
        }
        "proxycommand" => {
            let command: Vec<&str> = line.args.iter().map(|a| a.text.as_str()).collect();
            let command = command.join(" ");
            Setting::ProxyCommand((!command.eq_ignore_ascii_case("none")).then_some(command))
        }
        "connecttimeout" => Setting::ConnectTimeout(parse_time(one()?).map_err(at_first)?),
        "serveraliveinterval" => {
            Setting::ServerAliveInterval(parse_time(one()?).map_err(at_first)?)
        }
        "serveralivecountmax" => {
            Setting::ServerAliveCountMax(parse_count(one()?).map_err(at_first)?)
        }
        "hostkeyalias" => Setting::HostKeyAlias(one()?.to_string()),
        "userknownhostsfile" => Setting::UserKnownHostsFile(list()),
        "globalknownhostsfile" => Setting::GlobalKnownHostsFile(list()),
        "stricthostkeychecking" => {
            Setting::StrictHostKeyChecking(parse_strict(one()?).map_err(at_first)?)
        }
        "batchmode" => Setting::BatchMode(parse_flag(one()?).map_err(at_first)?),
        _ => return Ok(None),
    }))
}
