//! Walks the directives for one host the way OpenSSH's readconf does: a `Host` or `Match`
//! line switches settings on or off, the first value of each keyword wins (IdentityFile
//! accumulates), and an `Include` made from an inactive block can never apply.

use std::time::Duration;

use ssh2_config::HostClause;

use super::expand::expand_host_name;
use super::reader::{Criterion, CriterionKind, Directive, Origin, Setting};
use super::{JumpHop, StrictMode};
use crate::config::LocalUser;

/// The settings that applied to one host, still raw (no expansion, no defaults).
#[derive(Debug, Default)]
pub(super) struct Collected {
    /// Raw HostName (`%h` not yet expanded).
    pub host_name: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<(String, Option<Origin>)>,
    pub identities_only: Option<bool>,
    pub identity_agent: Option<(String, Origin)>,
    pub proxy: Option<Proxy>,
    pub connect_timeout: Option<Duration>,
    pub server_alive_interval: Option<Duration>,
    pub server_alive_count_max: Option<u32>,
    pub host_key_alias: Option<String>,
    pub user_known_hosts: Option<(Option<Vec<String>>, Origin)>,
    pub global_known_hosts: Option<Option<Vec<String>>>,
    pub strict: Option<StrictMode>,
    pub batch_mode: Option<bool>,
}

/// ProxyJump and ProxyCommand exclude each other: whichever comes first wins, `none` too.
#[derive(Debug, Clone)]
pub(super) enum Proxy {
    Jump {
        hops: Option<Vec<JumpHop>>,
        text: String,
    },
    Command {
        command: Option<String>,
        origin: Origin,
    },
}

/// Applies `directives` to `c` (which may hold command-line-like values already: those win).
pub(super) fn collect(
    directives: &[Directive],
    original: &str,
    local: &LocalUser,
    c: &mut Collected,
) {
    let mut active = true;
    // Inside a file included from an inactive block: no block can become active.
    let mut never = false;
    let mut saved: Vec<(bool, bool)> = Vec::new();
    for d in directives {
        match d {
            Directive::TopFile => {
                active = true;
                never = false;
                saved.clear();
            }
            Directive::Host(line) => active = !never && line.matches(original),
            Directive::Match(criteria) => {
                active = !never
                    && criteria
                        .iter()
                        .all(|k| criterion_holds(k, original, local, c))
            }
            Directive::IncludeBegin => {
                saved.push((active, never));
                never = never || !active;
            }
            Directive::IncludeEnd => {
                if let Some((a, n)) = saved.pop() {
                    active = a;
                    never = n;
                }
            }
            Directive::Set(setting, origin) if active => apply(c, setting, *origin),
            Directive::Set(..) => {}
        }
    }
}

fn apply(c: &mut Collected, setting: &Setting, origin: Origin) {
    fn first<T: Clone>(slot: &mut Option<T>, value: &T) {
        if slot.is_none() {
            *slot = Some(value.clone());
        }
    }
    match setting {
        Setting::HostName(v) => first(&mut c.host_name, v),
        Setting::User(v) => first(&mut c.user, v),
        Setting::Port(v) => first(&mut c.port, v),
        Setting::IdentityFile(v) => c.identity_files.push((v.clone(), Some(origin))),
        Setting::IdentitiesOnly(v) => first(&mut c.identities_only, v),
        Setting::IdentityAgent(v) => first(&mut c.identity_agent, &(v.clone(), origin)),
        Setting::ProxyJump { hops, text } => first(
            &mut c.proxy,
            &Proxy::Jump {
                hops: hops.clone(),
                text: text.clone(),
            },
        ),
        Setting::ProxyCommand(command) => first(
            &mut c.proxy,
            &Proxy::Command {
                command: command.clone(),
                origin,
            },
        ),
        Setting::ConnectTimeout(v) => first(&mut c.connect_timeout, v),
        Setting::ServerAliveInterval(v) => first(&mut c.server_alive_interval, v),
        Setting::ServerAliveCountMax(v) => first(&mut c.server_alive_count_max, v),
        Setting::HostKeyAlias(v) => first(&mut c.host_key_alias, v),
        Setting::UserKnownHostsFile(v) => first(&mut c.user_known_hosts, &(v.clone(), origin)),
        Setting::GlobalKnownHostsFile(v) => first(&mut c.global_known_hosts, v),
        Setting::StrictHostKeyChecking(v) => first(&mut c.strict, v),
        Setting::BatchMode(v) => first(&mut c.batch_mode, v),
    }
}

/// One `Match` criterion against what is known so far (OpenSSH `match_cfg_line`, first pass).
fn criterion_holds(k: &Criterion, original: &str, local: &LocalUser, c: &Collected) -> bool {
    let holds = match k.kind {
        CriterionKind::All => true,
        // Never: the criterion is not evaluated, and not even `!exec` may apply the block.
        CriterionKind::Never => return false,
        CriterionKind::Host => {
            let host = match &c.host_name {
                Some(raw) => expand_host_name(raw, original).unwrap_or_else(|_| raw.clone()),
                None => original.to_string(),
            };
            pattern_list_matches(&k.patterns, &host, true)
        }
        CriterionKind::OriginalHost => pattern_list_matches(&k.patterns, original, true),
        CriterionKind::User => {
            let user = c.user.as_deref().unwrap_or(&local.name);
            pattern_list_matches(&k.patterns, user, false)
        }
        CriterionKind::LocalUser => pattern_list_matches(&k.patterns, &local.name, false),
    };
    holds != k.negated
}

/// OpenSSH `match_pattern_list`: comma-separated patterns, a matching `!pattern` vetoes.
/// Host names compare case-insensitively.
fn pattern_list_matches(list: &str, text: &str, fold_case: bool) -> bool {
    let text = if fold_case {
        text.to_ascii_lowercase()
    } else {
        text.to_string()
    };
    let mut hit = false;
    for item in list.split(',') {
        let (pattern, negated) = match item.strip_prefix('!') {
            Some(p) => (p, true),
            None => (item, false),
        };
        let pattern = if fold_case {
            pattern.to_ascii_lowercase()
        } else {
            pattern.to_string()
        };
        if HostClause::new(pattern, false).intersects(&text) {
            if negated {
                return false;
            }
            hit = true;
        }
    }
    hit
}
