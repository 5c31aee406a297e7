//! agent.toml: the agent's name, heartbeat and the policy every operation is checked against
//! (allowlist of executables over resolved absolute paths, forbidden paths, limits).

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use super::alerts::{WatcherConfig, check_unique_names};
use crate::config::toml_diag::parse_toml;
use crate::config::units::{ByteSize, HumanDuration};
use crate::diag::Diagnostic;

/// The header and defaults `fleetdeck agent init` writes. The default policy is conservative:
/// read-mostly tools only; no shell, no editors, no tools that run other programs.
pub const DEFAULT_AGENT_TOML: &str = r#"# fleetdeck agent configuration (agent.toml). `fleetdeck agent run` reads it at start-up;
# errors are reported as file:line:column. Every key is optional; unknown keys are errors.
#
# name       shown to consoles in the hello frame (default: this machine's host name)
# heartbeat  time between heartbeats with metrics, e.g. "5s" (1s..=1h)
#
# [policy] decides what a console holding an `exec` token may do:
# allow            globs over the RESOLVED absolute path of the program to run: a bare name
#                  is looked up in the agent's PATH, a relative path against the job's cwd,
#                  then symlinks and `..` are resolved (canonicalize) before matching, so
#                  `../` and symlink tricks land on the real file. `*` stays inside one folder,
#                  `**` crosses folders, `{a,b}` lists alternatives. An entry whose folder is
#                  a symlink (e.g. /bin -> /usr/bin, /bin/sh -> dash) also matches its target.
#                  `shell = true` operations run /bin/sh -c: allow "/bin/sh" to permit them
#                  (this allows anything the agent's user can do).
# forbidden_paths  globs refused as the job's cwd, as a file_validation path and as a program,
#                  checked on the resolved path. The agent's own folder (key, tokens) is
#                  always forbidden. Arguments are not inspected: run the agent as an
#                  unprivileged user.
# max_jobs         operations running at once, over all connections (more get `busy`)
# default_timeout  a job's timeout when the console sets none
# max_timeout      the ceiling: a longer requested timeout is cut down to it
# output_cap       output kept per job; beyond it output is dropped and the job ends with a
#                  "N bytes dropped" note on stderr
# kill_grace       time between SIGTERM and SIGKILL to a cancelled job's process group
#
# [[watchers]] tables raise alerts (systemd unit, process, log pattern, metric threshold);
# see docs/agent.md. Alerts are kept in journal/ and delivered to each console once.
#
# Environment variables that change how programs load (LD_*, BASH_ENV, ENV, GCONV_PATH, ...)
# are always refused in a job's env.

heartbeat = "5s"

[policy]
allow = [
  "/{usr/,}bin/{cat,df,du,echo,false,free,grep,head,id,journalctl,ls,lsblk,ps,sha256sum,sleep,ss,stat,tail,true,uname,uptime,wc,whoami}",
]
forbidden_paths = [
  "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d/**",
  "/root/**", "/home/*/.ssh/**", "/proc/*/environ", "/proc/*/mem",
]
max_jobs = 8
default_timeout = "10m"
max_timeout = "1h"
output_cap = "8MiB"
kill_grace = "3s"
"#;

/// agent.toml as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    heartbeat: Option<Spanned<HumanDuration>>,
    #[serde(default)]
    policy: PolicyFile,
    /// Alert watchers (src/agent/alerts/config.rs documents the tables).
    #[serde(default)]
    watchers: Vec<WatcherConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    #[serde(default)]
    forbidden_paths: Vec<Spanned<String>>,
    #[serde(default)]
    max_jobs: Option<Spanned<u32>>,
    #[serde(default)]
    default_timeout: Option<Spanned<HumanDuration>>,
    #[serde(default)]
    max_timeout: Option<Spanned<HumanDuration>>,
    #[serde(default)]
    output_cap: Option<Spanned<ByteSize>>,
    #[serde(default)]
    kill_grace: Option<Spanned<HumanDuration>>,
}

/// The loaded configuration.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub name: String,
    pub heartbeat: Duration,
    pub policy: Policy,
    pub watchers: Vec<WatcherConfig>,
}

/// What operations may do. Built once at start-up; checks never touch the config again.
#[derive(Debug, Clone)]
pub struct Policy {
    allow: GlobSet,
    forbidden: GlobSet,
    /// The agent's own folder (certificate key, token hashes): never a job's business.
    agent_dir: PathBuf,
    pub max_jobs: usize,
    pub default_timeout: Duration,
    pub max_timeout: Duration,
    pub output_cap: u64,
    pub kill_grace: Duration,
}

/// Variables that make a program load other code or read another startup file.
const REFUSED_ENV: &[&str] = &[
    "BASH_ENV",
    "ENV",
    "GCONV_PATH",
    "LOCPATH",
    "NLSPATH",
    "HOSTALIASES",
    "RESOLV_HOST_CONF",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "IFS",
    "PERL5OPT",
    "PYTHONSTARTUP",
];

impl AgentConfig {
    /// Reads and validates agent.toml in `dir`; every problem names file:line:column.
    pub fn load(dir: &Path) -> Result<Self, Vec<Diagnostic>> {
        let path = dir.join("agent.toml");
        let src = std::fs::read_to_string(&path).map_err(|e| {
            vec![Diagnostic::whole_file(
                &path,
                format!("cannot read the agent configuration: {e} (create it with `fleetdeck agent init`)"),
            )]
        })?;
        Self::parse(&path, &src, dir)
    }

    /// Parses `src`, the text of `path`; `dir` is the agent folder (always forbidden).
    pub fn parse(path: &Path, src: &str, dir: &Path) -> Result<Self, Vec<Diagnostic>> {
        let file: AgentFile = parse_toml(path, src).map_err(|d| vec![d])?;
        let mut diags = Vec::new();
        let at = |span: std::ops::Range<usize>, msg: String| {
            Diagnostic::at_offset(path, src, span.start, msg)
        };

        let heartbeat = match &file.heartbeat {
            Some(h)
                if h.get_ref().0 < Duration::from_secs(1)
                    || h.get_ref().0 > Duration::from_secs(3600) =>
            {
                diags.push(at(
                    h.span(),
                    "heartbeat must be between 1s and 1h".to_string(),
                ));
                Duration::from_secs(5)
            }
            Some(h) => h.get_ref().0,
            None => Duration::from_secs(5),
        };

        let p = &file.policy;
        let allow = build_globs(&p.allow, "allow", &at, &mut diags);
        let forbidden = build_globs(&p.forbidden_paths, "forbidden_paths", &at, &mut diags);
        let agent_dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());

        let max_jobs = match &p.max_jobs {
            Some(n) if *n.get_ref() == 0 || *n.get_ref() > 1024 => {
                diags.push(at(
                    n.span(),
                    "max_jobs must be between 1 and 1024".to_string(),
                ));
                1
            }
            Some(n) => *n.get_ref() as usize,
            None => 8,
        };
        let positive = |v: &Option<Spanned<HumanDuration>>,
                        key: &str,
                        default: Duration,
                        diags: &mut Vec<Diagnostic>| match v {
            Some(d) if d.get_ref().0.is_zero() => {
                diags.push(at(d.span(), format!("{key} must be more than 0s")));
                default
            }
            Some(d) => d.get_ref().0,
            None => default,
        };
        let default_timeout = positive(
            &p.default_timeout,
            "default_timeout",
            Duration::from_secs(600),
            &mut diags,
        );
        let max_timeout = positive(
            &p.max_timeout,
            "max_timeout",
            Duration::from_secs(3600),
            &mut diags,
        );
        if default_timeout > max_timeout
            && let Some(d) = &p.default_timeout
        {
            diags.push(at(
                d.span(),
                "default_timeout is longer than max_timeout".to_string(),
            ));
        }
        let kill_grace = match &p.kill_grace {
            Some(g) if g.get_ref().0 > Duration::from_secs(60) => {
                diags.push(at(g.span(), "kill_grace must be at most 60s".to_string()));
                Duration::from_secs(3)
            }
            Some(g) => g.get_ref().0,
            None => Duration::from_secs(3),
        };
        let output_cap = match &p.output_cap {
            Some(c) if c.get_ref().0 < 1024 => {
                diags.push(at(c.span(), "output_cap must be at least 1KiB".to_string()));
                1024
            }
            Some(c) => c.get_ref().0,
            None => 8 << 20,
        };

        if let Err(e) = check_unique_names(&file.watchers) {
            let offset = src.find("[[watchers]]").unwrap_or(0);
            diags.push(Diagnostic::at_offset(path, src, offset, e));
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        let name = file
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(local_host_name);
        Ok(Self {
            name,
            heartbeat,
            policy: Policy {
                allow,
                forbidden,
                agent_dir,
                max_jobs,
                default_timeout,
                max_timeout,
                output_cap,
                kill_grace,
            },
            watchers: file.watchers,
        })
    }
}

/// Compiles glob entries; each pattern also matches through a symlinked literal prefix.
fn build_globs(
    entries: &[Spanned<String>],
    key: &str,
    at: &impl Fn(std::ops::Range<usize>, String) -> Diagnostic,
    diags: &mut Vec<Diagnostic>,
) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for entry in entries {
        let pattern = entry.get_ref();
        if !pattern.starts_with('/') {
            diags.push(at(
                entry.span(),
                format!("{key} entry `{pattern}` must be an absolute path or glob (start with /)"),
            ));
            continue;
        }
        // `dir/**` also means `dir` itself (a forbidden folder is forbidden as a cwd too).
        let base = pattern
            .strip_suffix("/**")
            .filter(|b| !b.is_empty())
            .map(str::to_string);
        let variants: Vec<String> = std::iter::once(pattern.clone())
            .chain(base)
            .flat_map(|p| {
                let resolved = resolved_variant(&p);
                std::iter::once(p).chain(resolved)
            })
            .collect();
        for variant in variants {
            match GlobBuilder::new(&variant).literal_separator(true).build() {
                Ok(glob) => {
                    builder.add(glob);
                }
                Err(e) => {
                    diags.push(at(entry.span(), format!("{key} entry `{pattern}`: {e}")));
                    break;
                }
            }
        }
    }
    builder.build().unwrap_or_else(|e| {
        diags.push(at(0..0, format!("{key}: {e}")));
        GlobSet::empty()
    })
}

/// The pattern with its literal leading folders (or the whole path, when it has no glob
/// characters) replaced by their canonical form, when that differs: `/bin/*` on a merged-usr
/// system also becomes `/usr/bin/*`, `/bin/sh` also `/usr/bin/dash`.
fn resolved_variant(pattern: &str) -> Option<String> {
    let is_glob = |s: &str| s.contains(['*', '?', '[', '{', '\\']);
    let parts: Vec<&str> = pattern.split('/').collect();
    let literal = parts.iter().take_while(|p| !is_glob(p)).count();
    let (prefix, rest) = parts.split_at(literal);
    let prefix = prefix.join("/");
    if prefix.is_empty() {
        return None;
    }
    let canonical = Path::new(&prefix).canonicalize().ok()?;
    let canonical = canonical.to_string_lossy();
    if canonical == prefix {
        return None;
    }
    let mut out = canonical.into_owned();
    for part in rest {
        out.push('/');
        out.push_str(part);
    }
    Some(out)
}

/// This machine's host name (for the hello frame and the hosts.toml snippet).
pub fn local_host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or
    // truncates, and we stop at the first NUL.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return "localhost".to_string();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    if name.is_empty() {
        "localhost".to_string()
    } else {
        name
    }
}

impl Policy {
    /// The program a `shell_command` runs, resolved and checked: a bare name through the
    /// agent's PATH, a relative path against `cwd`, then canonicalized and matched.
    pub fn resolve_program(&self, command: &str, cwd: &Path) -> Result<PathBuf, String> {
        if command.is_empty() {
            return Err("empty command".to_string());
        }
        let candidate = if command.contains('/') {
            let p = Path::new(command);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                cwd.join(p)
            }
        } else {
            find_in_path(command)
                .ok_or_else(|| format!("`{command}` is not in the agent's PATH"))?
        };
        let resolved = candidate
            .canonicalize()
            .map_err(|e| format!("cannot resolve `{command}`: {e}"))?;
        let meta =
            std::fs::metadata(&resolved).map_err(|e| format!("`{}`: {e}", resolved.display()))?;
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            return Err(format!(
                "`{}` is not an executable file",
                resolved.display()
            ));
        }
        self.check_resolved(&resolved)?;
        if !self.allow.is_match(&resolved) {
            return Err(format!(
                "`{command}` resolves to `{}`, which the agent's allowlist does not allow",
                resolved.display()
            ));
        }
        Ok(resolved)
    }

    /// A job's working folder: must exist and not be forbidden.
    pub fn check_cwd(&self, cwd: &str) -> Result<PathBuf, String> {
        let p = Path::new(cwd);
        if !p.is_absolute() {
            return Err(format!("cwd `{cwd}` must be an absolute path"));
        }
        let resolved = p.canonicalize().map_err(|e| format!("cwd `{cwd}`: {e}"))?;
        if !resolved.is_dir() {
            return Err(format!("cwd `{cwd}` is not a folder"));
        }
        self.check_resolved(&resolved)?;
        Ok(resolved)
    }

    /// A path a check looks at (it may not exist): resolved through its nearest existing
    /// ancestor, then checked against the forbidden paths.
    pub fn check_path(&self, path: &str) -> Result<PathBuf, String> {
        let p = Path::new(path);
        if !p.is_absolute() {
            return Err(format!("path `{path}` must be absolute"));
        }
        let resolved =
            resolve_lenient(p).ok_or_else(|| format!("path `{path}` cannot be resolved"))?;
        self.check_resolved(&resolved)?;
        Ok(resolved)
    }

    fn check_resolved(&self, resolved: &Path) -> Result<(), String> {
        if self.forbidden.is_match(resolved) || resolved.starts_with(&self.agent_dir) {
            return Err(format!("`{}` is a forbidden path", resolved.display()));
        }
        Ok(())
    }

    /// Refuses variables that change how programs load, and names that are not names.
    pub fn check_env(&self, env: &[(String, String)]) -> Result<(), String> {
        for (name, _) in env {
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!("env name `{name}` is not a valid variable name"));
            }
            if name.starts_with("LD_")
                || name.starts_with("DYLD_")
                || name.starts_with("MALLOC_")
                || REFUSED_ENV.contains(&name.as_str())
            {
                return Err(format!("env `{name}` is refused by the agent's policy"));
            }
        }
        Ok(())
    }

    /// The timeout a job runs under: the requested one (or the default) cut to the ceiling.
    pub fn effective_timeout(&self, requested_ms: Option<u64>) -> Duration {
        requested_ms
            .map_or(self.default_timeout, Duration::from_millis)
            .min(self.max_timeout)
    }
}

/// The first executable file called `name` in the agent's PATH.
fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(OsStr::new(name)))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Canonical path of `p`, also when its last parts do not exist yet: the nearest existing
/// ancestor is canonicalized and the rest appended (a `..` in the rest is refused).
fn resolve_lenient(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = p.canonicalize() {
        return Some(c);
    }
    let mut missing = Vec::new();
    let mut cur = p.to_path_buf();
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut out = c;
            for part in missing.iter().rev() {
                out.push(part);
            }
            return Some(out);
        }
        let name = match cur.components().next_back()? {
            Component::Normal(n) => n.to_os_string(),
            _ => return None,
        };
        missing.push(name);
        if !cur.pop() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> Result<AgentConfig, Vec<Diagnostic>> {
        AgentConfig::parse(
            Path::new("agent.toml"),
            src,
            Path::new("/nonexistent/agent"),
        )
    }

    #[test]
    fn default_file_loads_and_is_conservative() {
        let cfg = load(DEFAULT_AGENT_TOML).unwrap();
        let p = &cfg.policy;
        assert!(p.resolve_program("ls", Path::new("/")).is_ok());
        assert!(p.resolve_program("/bin/sh", Path::new("/")).is_err());
        assert!(p.resolve_program("rm", Path::new("/")).is_err());
        assert!(p.check_path("/etc/shadow").is_err());
        assert!(p.check_cwd("/root").is_err(), "dir/** covers dir itself");
        assert!(p.check_path("/etc/hosts").is_ok());
        assert_eq!(cfg.heartbeat, Duration::from_secs(5));
    }

    #[test]
    fn errors_point_at_the_entry() {
        let src = "[policy]\nallow = [\"/usr/bin/ls\", \"bin/*\"]\nmax_jobs = 0\n";
        let diags = load(src).unwrap_err();
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert_eq!((diags[0].line, diags[0].column), (2, 25), "{}", diags[0]);
        assert!(diags[1].message.contains("max_jobs"), "{}", diags[1]);
        let unknown = load("[policy]\nalow = []\n").unwrap_err();
        assert!(
            unknown[0].message.contains("did you mean `allow`"),
            "{}",
            unknown[0]
        );
    }

    #[test]
    fn env_that_loads_code_is_refused() {
        let cfg = load("").unwrap();
        let env = |k: &str| vec![(k.to_string(), "x".to_string())];
        assert!(cfg.policy.check_env(&env("LD_PRELOAD")).is_err());
        assert!(cfg.policy.check_env(&env("BASH_ENV")).is_err());
        assert!(cfg.policy.check_env(&env("A=B")).is_err());
        assert!(cfg.policy.check_env(&env("LANG")).is_ok());
    }

    #[test]
    fn timeouts_are_cut_to_the_ceiling() {
        let cfg = load("[policy]\ndefault_timeout = \"5s\"\nmax_timeout = \"10s\"\n").unwrap();
        assert_eq!(cfg.policy.effective_timeout(None), Duration::from_secs(5));
        assert_eq!(
            cfg.policy.effective_timeout(Some(60_000)),
            Duration::from_secs(10)
        );
        assert_eq!(
            cfg.policy.effective_timeout(Some(100)),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn missing_tail_resolves_through_the_existing_parent() {
        let r = resolve_lenient(Path::new("/tmp/surely/not/here")).unwrap();
        assert!(r.ends_with("surely/not/here"));
    }
}
