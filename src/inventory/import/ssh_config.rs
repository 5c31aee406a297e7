//! `~/.ssh/config` importer: one `[[hosts]]` entry per concrete `Host` alias.
//!
//! How it works, and why:
//! - A line scanner (the ssh transport's lexer, `transport::ssh::config::lexer`: OpenSSH's
//!   tokenising rules, `Key value`, `Key=value`, quotes, `#` comments) walks the file and
//!   everything it `Include`s, in OpenSSH's order, recording each `Host` pattern with its
//!   position. ssh2-config keeps no positions and has no `Match`.
//! - The scanner writes one flattened config for ssh2-config: includes inlined, every `Match`
//!   block disabled (its settings would otherwise be credited to the block before it), and the
//!   blocks of an `Include` made inside a `Host` block narrowed to the aliases that match both.
//! - ssh2-config parses that text and `query()` resolves each alias the way OpenSSH does (first
//!   value wins, `Host *` defaults apply). A value it rejects is located by re-parsing line by
//!   line, so the error names the file, line and column.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use ssh2_config::{ParseRule, SshConfig, SshParserError};
use toml::Spanned;

use super::{ImportError, Imported, column_of, is_name_char, is_plain_host_name};
use crate::inventory::file::{HostEntry, InventoryFile};
use crate::transport::ssh::config::glob::{glob_paths, wildmatch};
use crate::transport::ssh::config::lexer::{Line, tokenize};

/// OpenSSH refuses deeper `Include` nesting (READCONF_MAX_DEPTH).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Imports the concrete `Host` aliases of an OpenSSH client config. Relative `Include` paths
/// are resolved against `~/.ssh` (against `/etc/ssh` for a file under `/etc/ssh`), as ssh does.
pub fn from_ssh_config(path: &Path) -> Result<Imported, ImportError> {
    let home = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
    import(path, home.as_deref())
}

/// [`from_ssh_config`] with an explicit home directory (tests use fixture homes).
pub(crate) fn import(path: &Path, home: Option<&Path>) -> Result<Imported, ImportError> {
    let mut scan = Scanner::new(path, home);
    let canonical = path
        .canonicalize()
        .map_err(|e| ImportError::io(path, "cannot read", e))?;
    scan.stack.push(canonical);
    scan.file(path, None, 0)?;

    let chosen = scan.choose_hosts();
    let names: Vec<&str> = chosen
        .iter()
        .map(|&i| scan.candidates[i].name.as_str())
        .collect();
    let flat = scan.flatten(&names);
    let config = parse_ssh2(&flat, home).map_err(|e| scan.locate(path, home, e))?;

    let mut inventory = InventoryFile::default();
    for i in chosen {
        let (name, origin) = (scan.candidates[i].name.clone(), scan.candidates[i].origin);
        let entry = scan.entry(&config, &name, origin);
        inventory.hosts.push(entry);
    }
    let mut warnings = scan.warnings;
    if inventory.hosts.is_empty() {
        warnings.push(format!(
            "{}: no concrete Host entries found",
            path.display()
        ));
    }
    Ok(Imported {
        inventory,
        warnings,
    })
}

fn rules() -> ParseRule {
    ParseRule::ALLOW_UNKNOWN_FIELDS | ParseRule::ALLOW_UNSUPPORTED_FIELDS
}

fn parse_ssh2(text: &str, home: Option<&Path>) -> Result<SshConfig, SshParserError> {
    let mut config = SshConfig::default();
    if let Some(home) = home {
        config = config.home_dir(home);
    }
    config.parse(&mut text.as_bytes(), rules())
}

/// `line` rewritten so that ssh2-config reads the arguments OpenSSH reads: it only knows
/// double quotes and strips `#` anywhere. `None` when that cannot be expressed (several
/// arguments of which one needs quoting); the raw line is used then.
fn normalized(line: &Line) -> Option<String> {
    let needs_quotes =
        |t: &str| t.is_empty() || t.contains(|c: char| c.is_whitespace() || "\"'#\\=".contains(c));
    let args = match line.args.as_slice() {
        [one] if needs_quotes(&one.text) => {
            let escaped = one.text.replace('\\', "\\\\").replace('"', "\\\"");
            format!("\"{escaped}\"")
        }
        many if many.iter().any(|a| needs_quotes(&a.text)) => return None,
        many => many
            .iter()
            .map(|a| a.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    };
    Some(format!("{} {args}", line.keyword))
}

/// One `Host` pattern: `pattern`, or `!pattern` when negated.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    pattern: String,
    negated: bool,
}

impl Clause {
    /// OpenSSH's rule for a pattern list: some pattern matches and no negated one does.
    fn list_matches(clauses: &[Clause], name: &str) -> bool {
        let mut hit = false;
        for c in clauses {
            if wildmatch(&c.pattern, name) {
                if c.negated {
                    return false;
                }
                hit = true;
            }
        }
        hit
    }

    fn is_star(clauses: &[Clause]) -> bool {
        matches!(clauses, [c] if c.pattern == "*" && !c.negated)
    }
}

/// A `Host` (or `Match`) block header.
#[derive(Debug, Clone)]
struct Header {
    clauses: Vec<Clause>,
    /// Patterns of the enclosing blocks of the `Include`s this header sits in: all must match.
    outer: Vec<Vec<Clause>>,
    /// A `Match` block (not evaluated), or a block included from one: never applies.
    never: bool,
}

impl Header {
    fn applies_to(&self, name: &str) -> bool {
        !self.never
            && Clause::list_matches(&self.clauses, name)
            && self.outer.iter().all(|c| Clause::list_matches(c, name))
    }
}

#[derive(Debug, Clone, Copy)]
struct Origin {
    file: usize,
    line: usize,
    column: usize,
}

#[derive(Debug)]
enum Item {
    Header(usize),
    Setting {
        keyword: String,
        text: String,
        origin: Origin,
    },
}

#[derive(Debug)]
struct Candidate {
    name: String,
    header: usize,
    origin: Origin,
}

struct Scanner<'a> {
    home: Option<&'a Path>,
    /// Where relative `Include` paths point (`~/.ssh`, or `/etc/ssh` for system files).
    include_dir: Option<PathBuf>,
    files: Vec<PathBuf>,
    /// Canonical paths of the files being read, for cycle detection.
    stack: Vec<PathBuf>,
    headers: Vec<Header>,
    /// A `Host *` header that restores the global section after an `Include`.
    global_header: Option<usize>,
    items: Vec<Item>,
    candidates: Vec<Candidate>,
    warnings: Vec<String>,
}

impl<'a> Scanner<'a> {
    fn new(top: &Path, home: Option<&'a Path>) -> Self {
        let system = top
            .canonicalize()
            .map(|p| p.starts_with("/etc/ssh"))
            .unwrap_or(false);
        let include_dir = if system {
            Some(PathBuf::from("/etc/ssh"))
        } else {
            home.map(|h| h.join(".ssh"))
        };
        Self {
            home,
            include_dir,
            files: Vec::new(),
            stack: Vec::new(),
            headers: Vec::new(),
            global_header: None,
            items: Vec::new(),
            candidates: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn place(&self, o: Origin) -> String {
        format!("{}:{}:{}", self.files[o.file].display(), o.line, o.column)
    }

    fn warn(&mut self, o: Origin, msg: impl AsRef<str>) {
        let w = format!("{}: {}", self.place(o), msg.as_ref());
        self.warnings.push(w);
    }

    /// Reads one file. `ctx` is the block the file was included from (`None`: global).
    fn file(&mut self, path: &Path, ctx: Option<usize>, depth: usize) -> Result<(), ImportError> {
        let text = fs::read_to_string(path).map_err(|e| ImportError::io(path, "cannot read", e))?;
        let file = self.files.len();
        self.files.push(path.to_path_buf());
        let mut current = ctx;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let raw = if i == 0 {
                raw.strip_prefix('\u{feff}').unwrap_or(raw)
            } else {
                raw
            };
            let line = match tokenize(raw) {
                Ok(Some(line)) => line,
                Ok(None) => continue,
                Err((offset, msg)) => {
                    return Err(ImportError::syntax(
                        path,
                        line_no,
                        column_of(raw, offset),
                        msg,
                    ));
                }
            };
            let at = |offset: usize| Origin {
                file,
                line: line_no,
                column: column_of(raw, offset),
            };
            match line.keyword.to_ascii_lowercase().as_str() {
                "host" => current = Some(self.host(&line, ctx, &at)?),
                "match" => current = Some(self.match_block(&line, ctx, &at)),
                "include" => {
                    self.include(&line, current, depth, &at)?;
                    // The included file may have opened blocks of its own: return to ours.
                    let restore = match current {
                        Some(h) => h,
                        None => self.global_header(),
                    };
                    self.items.push(Item::Header(restore));
                }
                _ => self.items.push(Item::Setting {
                    keyword: line.keyword.clone(),
                    text: normalized(&line).unwrap_or_else(|| raw.trim().to_string()),
                    origin: at(line.args_offset),
                }),
            }
        }
        Ok(())
    }

    fn global_header(&mut self) -> usize {
        if let Some(h) = self.global_header {
            return h;
        }
        let h = self.headers.len();
        self.headers.push(Header {
            clauses: vec![Clause {
                pattern: "*".into(),
                negated: false,
            }],
            outer: Vec::new(),
            never: false,
        });
        self.global_header = Some(h);
        h
    }

    /// The scope a block opened inside a file included from `ctx` is limited to.
    fn scope_of(&self, ctx: Option<usize>) -> (Vec<Vec<Clause>>, bool) {
        match ctx {
            None => (Vec::new(), false),
            Some(h) => {
                let header = &self.headers[h];
                let mut outer = header.outer.clone();
                if !Clause::is_star(&header.clauses) {
                    outer.push(header.clauses.clone());
                }
                (outer, header.never)
            }
        }
    }

    fn host(
        &mut self,
        line: &Line,
        ctx: Option<usize>,
        at: &dyn Fn(usize) -> Origin,
    ) -> Result<usize, ImportError> {
        if line.args.is_empty() {
            let o = at(line.args_offset);
            return Err(self.error(o, "Host needs at least one pattern"));
        }
        let mut clauses = Vec::with_capacity(line.args.len());
        for arg in &line.args {
            if arg.text.is_empty() || arg.text == "!" {
                return Err(self.error(at(arg.offset), "empty Host pattern"));
            }
            clauses.push(match arg.text.strip_prefix('!') {
                Some(p) => Clause {
                    pattern: p.to_string(),
                    negated: true,
                },
                None => Clause {
                    pattern: arg.text.clone(),
                    negated: false,
                },
            });
        }
        let (outer, never) = self.scope_of(ctx);
        let h = self.headers.len();
        self.headers.push(Header {
            clauses,
            outer,
            never,
        });
        self.items.push(Item::Header(h));
        for arg in &line.args {
            let origin = at(arg.offset);
            let text = &arg.text;
            if text.contains(['*', '?', '!']) {
                self.warn(
                    origin,
                    format!(
                        "skipped Host pattern `{text}`: not a concrete host (its settings still \
                         apply to the imported hosts it matches)"
                    ),
                );
            } else if !is_plain_host_name(text) {
                self.warn(
                    origin,
                    format!("skipped Host `{text}`: not a plain host name"),
                );
            } else {
                self.candidates.push(Candidate {
                    name: text.clone(),
                    header: h,
                    origin,
                });
            }
        }
        Ok(h)
    }

    fn match_block(
        &mut self,
        line: &Line,
        ctx: Option<usize>,
        at: &dyn Fn(usize) -> Origin,
    ) -> usize {
        let all = matches!(line.args.as_slice(), [a] if a.text.eq_ignore_ascii_case("all"));
        let (outer, parent_never) = self.scope_of(ctx);
        let h = self.headers.len();
        self.headers.push(Header {
            clauses: vec![Clause {
                pattern: "*".into(),
                negated: false,
            }],
            outer,
            never: parent_never || !all,
        });
        self.items.push(Item::Header(h));
        if !all {
            self.warn(
                at(line.keyword_offset),
                "Match blocks are not evaluated: the settings under this Match are not applied \
                 to any imported host",
            );
        }
        h
    }

    fn include(
        &mut self,
        line: &Line,
        current: Option<usize>,
        depth: usize,
        at: &dyn Fn(usize) -> Origin,
    ) -> Result<(), ImportError> {
        if depth + 1 > MAX_INCLUDE_DEPTH {
            let o = at(line.keyword_offset);
            return Err(self.error(
                o,
                format!("Include nested more than {MAX_INCLUDE_DEPTH} levels deep"),
            ));
        }
        for arg in &line.args {
            let origin = at(arg.offset);
            let pattern = match self.resolve_include(&arg.text) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    self.warn(
                        origin,
                        format!(
                            "Include `{}`: `~user` paths are not supported; skipped",
                            arg.text
                        ),
                    );
                    continue;
                }
                Err(msg) => return Err(self.error(origin, msg)),
            };
            let found = glob_paths(&pattern).map_err(|msg| self.error(origin, msg))?;
            if found.is_empty() {
                self.warn(
                    origin,
                    format!(
                        "Include `{}` matched no files (looked for {})",
                        arg.text,
                        pattern.display()
                    ),
                );
                continue;
            }
            for path in found {
                if path.is_dir() {
                    self.warn(
                        origin,
                        format!(
                            "Include `{}`: {} is a directory; skipped",
                            arg.text,
                            path.display()
                        ),
                    );
                    continue;
                }
                let canonical = path
                    .canonicalize()
                    .map_err(|e| ImportError::io(&path, "cannot read", e))?;
                if self.stack.contains(&canonical) {
                    return Err(self.error(
                        origin,
                        format!("Include cycle: {} is already being read", path.display()),
                    ));
                }
                self.stack.push(canonical);
                let result = self.file(&path, current, depth + 1);
                self.stack.pop();
                result?;
            }
        }
        Ok(())
    }

    /// The glob an `Include` argument stands for; `None` for unsupported `~user` paths.
    fn resolve_include(&self, arg: &str) -> Result<Option<PathBuf>, String> {
        if arg == "~" || arg.starts_with("~/") {
            let home = self
                .home
                .ok_or_else(|| format!("cannot expand `{arg}`: no home directory"))?;
            return Ok(Some(
                home.join(arg.trim_start_matches('~').trim_start_matches('/')),
            ));
        }
        if arg.starts_with('~') {
            return Ok(None);
        }
        let path = Path::new(arg);
        if path.is_absolute() {
            return Ok(Some(path.to_path_buf()));
        }
        match &self.include_dir {
            Some(dir) => Ok(Some(dir.join(path))),
            None => Err(format!(
                "cannot resolve relative Include `{arg}`: no home directory"
            )),
        }
    }

    fn error(&self, o: Origin, msg: impl Into<String>) -> ImportError {
        ImportError::syntax(&self.files[o.file], o.line, o.column, msg)
    }

    /// Indexes into `candidates` of the hosts to import: first occurrence of each alias whose
    /// block can apply to it.
    fn choose_hosts(&mut self) -> Vec<usize> {
        let mut seen = HashSet::new();
        let mut chosen = Vec::new();
        let mut notes = Vec::new();
        for (i, c) in self.candidates.iter().enumerate() {
            let header = &self.headers[c.header];
            if header.applies_to(&c.name) {
                if seen.insert(c.name.clone()) {
                    chosen.push(i);
                }
                continue;
            }
            let why = if header.never {
                "it is in a file included from a Match block, which is not evaluated"
            } else if !Clause::list_matches(&header.clauses, &c.name) {
                "a negated pattern on the same line excludes it"
            } else {
                "it is in a file included from a Host block that does not match it, so ssh \
                 never applies this block to it"
            };
            notes.push((c.origin, format!("skipped Host `{}`: {why}", c.name)));
        }
        for (o, msg) in notes {
            self.warn(o, msg);
        }
        chosen
    }

    /// The config text handed to ssh2-config.
    fn flatten(&self, names: &[&str]) -> String {
        let mut out = String::new();
        for item in &self.items {
            match item {
                Item::Header(h) => {
                    out.push_str("Host ");
                    out.push_str(&self.emit_patterns(&self.headers[*h], names));
                }
                Item::Setting { text, .. } => out.push_str(text),
            }
            out.push('\n');
        }
        out
    }

    fn emit_patterns(&self, header: &Header, names: &[&str]) -> String {
        // `!*` never matches anything.
        const NOTHING: &str = "!*";
        if header.never {
            return NOTHING.into();
        }
        let list: Vec<String> = if header.outer.is_empty() {
            // Patterns that cannot match a plain name cannot matter for the names we query.
            header
                .clauses
                .iter()
                .filter(|c| {
                    c.pattern
                        .chars()
                        .all(|ch| ch == '*' || ch == '?' || is_name_char(ch))
                })
                .map(|c| {
                    if c.negated {
                        format!("!{}", c.pattern)
                    } else {
                        c.pattern.clone()
                    }
                })
                .collect()
        } else {
            // ssh2-config cannot intersect pattern lists: spell out the names that match.
            names
                .iter()
                .filter(|n| header.applies_to(n))
                .map(|n| n.to_string())
                .collect()
        };
        if list.iter().all(|p| p.starts_with('!')) {
            NOTHING.into()
        } else {
            list.join(" ")
        }
    }

    /// Turns an ssh2-config error on the flattened text into one at a place in a real file.
    fn locate(&self, top: &Path, home: Option<&Path>, err: SshParserError) -> ImportError {
        for item in &self.items {
            if let Item::Setting {
                keyword,
                text,
                origin,
            } = item
                && let Err(e) = parse_ssh2(text, home)
            {
                return self.error(*origin, format!("{keyword}: {e}"));
            }
        }
        ImportError::invalid(top, err.to_string())
    }

    fn entry(&mut self, config: &SshConfig, name: &str, origin: Origin) -> HostEntry {
        let params = config.query(name);
        let mut entry = HostEntry::named(name);
        if let Some(host_name) = &params.host_name {
            let (expanded, unknown) = expand_host_name(host_name, name);
            if let Some(token) = unknown {
                self.warn(
                    origin,
                    format!(
                        "`{name}`: HostName `{host_name}` uses %{token}, which only ssh can \
                         expand; copied as is"
                    ),
                );
            }
            if expanded != name {
                entry.address = Some(Spanned::new(0..0, expanded));
            }
        }
        entry.port = params.port.filter(|&p| p != 22);
        entry.user = params.user.clone();
        entry.jump = params
            .proxy_jump
            .as_ref()
            .filter(|hops| !matches!(hops.as_slice(), [h] if h.eq_ignore_ascii_case("none")))
            .map(|hops| hops.join(","));
        let proxy_command = params
            .unsupported_fields
            .iter()
            .chain(&params.ignored_fields)
            .find(|(k, _)| k.eq_ignore_ascii_case("proxycommand"))
            .map(|(_, v)| v.join(" "));
        if let Some(cmd) = proxy_command
            && !cmd.eq_ignore_ascii_case("none")
            && entry.jump.is_none()
        {
            self.warn(
                origin,
                format!(
                    "`{name}`: ProxyCommand is not supported by fleetdeck; imported without it \
                     (use ProxyJump)"
                ),
            );
        }
        entry
    }
}

/// Expands the tokens OpenSSH allows in HostName (`%h`, `%%`). Returns the first other token.
fn expand_host_name(value: &str, alias: &str) -> (String, Option<char>) {
    let mut out = String::with_capacity(value.len());
    let mut unknown = None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(alias),
            Some('%') => out.push('%'),
            Some(other) => {
                unknown.get_or_insert(other);
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    (out, unknown)
}

#[cfg(test)]
mod tests;
