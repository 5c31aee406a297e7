//! Ansible inventory importer (INI and YAML), following Ansible's own rules:
//! - groups nest through `children`; a host's groups are its groups and all their ancestors
//!   (`all` and `ungrouped` are left out);
//! - variables: host vars beat group vars; among groups, a child beats its parent (Ansible
//!   sorts by depth, then `ansible_group_priority`, then name; the last one wins);
//! - `ansible_host`, `ansible_port`, `ansible_user` (and their `ansible_ssh_*` forms) become
//!   address, port and user; `ansible_connection=local` the local transport; a jump host is
//!   taken from `-J`/`ProxyJump`/`ProxyCommand ssh -W` in `ansible_ssh_common_args`; other
//!   `ansible_*` settings are left out with one warning per name; other scalar variables are
//!   copied into `vars` as strings.

mod ini;
mod pattern;
mod shlex;
mod ssh_args;
mod yaml;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use toml::Spanned;

use super::{ImportError, Imported, is_plain_host_name};
use crate::inventory::TransportKind;
use crate::inventory::file::{HostEntry, InventoryFile};
use ssh_args::jump_from_ssh_args;

/// Imports an Ansible inventory file. YAML (`.yml`, `.yaml`, `.json`, or content that looks
/// like YAML) or INI (everything else).
pub fn from_ansible(path: &Path) -> Result<Imported, ImportError> {
    let text = fs::read_to_string(path).map_err(|e| ImportError::io(path, "cannot read", e))?;
    let mut model = Model::new();
    match detect(path, &text) {
        Format::Yaml => yaml::parse(path, &text, &mut model)?,
        Format::Ini => ini::parse(path, &text, &mut model)?,
    }
    let mut imported = model.resolve(path);
    for dir in ["group_vars", "host_vars"] {
        if let Some(parent) = path.parent()
            && parent.join(dir).is_dir()
        {
            imported.warnings.push(format!(
                "{}: not read: {} (Ansible loads it next to the inventory; fleetdeck does not)",
                path.display(),
                parent.join(dir).display()
            ));
        }
    }
    Ok(imported)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Ini,
    Yaml,
}

fn detect(path: &Path, text: &str) -> Format {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("yml" | "yaml" | "json") => return Format::Yaml,
        Some("ini" | "cfg") => return Format::Ini,
        _ => {}
    }
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if line == "---" || line.starts_with("%YAML") || line.starts_with('{') {
            return Format::Yaml;
        }
        if line.starts_with('[') {
            return Format::Ini;
        }
        // `all:` or `key: value` is YAML; `host`, `host:2222` and `host k=v` are INI.
        let head = line.split(" #").next().unwrap_or(line).trim_end();
        return if head.ends_with(':') || head.contains(": ") {
            Format::Yaml
        } else {
            Format::Ini
        };
    }
    Format::Ini
}

/// Index of the implicit `all` group.
const ALL: usize = 0;
/// Index of the implicit `ungrouped` group.
const UNGROUPED: usize = 1;

/// A variable value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Text(String),
    /// Lists, mappings, null, vault-encrypted or otherwise tagged values: what it is.
    Unusable(String),
}

#[derive(Debug, Clone)]
struct Var {
    value: Value,
    /// `(line, column)` where it was set, when known.
    place: Option<(usize, usize)>,
}

impl Var {
    fn text(s: impl Into<String>, place: Option<(usize, usize)>) -> Self {
        Self {
            value: Value::Text(s.into()),
            place,
        }
    }
}

#[derive(Debug)]
struct HostRec {
    name: String,
    /// Direct groups, in the order the host was put in them.
    groups: Vec<usize>,
    vars: BTreeMap<String, Var>,
}

#[derive(Debug)]
struct GroupRec {
    name: String,
    parents: Vec<usize>,
    vars: BTreeMap<String, Var>,
    /// Declared (has hosts or children of its own, or a section), not only referred to.
    defined: bool,
    /// Where it was first named as a child, for the warning about undefined groups.
    first_child_ref: Option<(usize, usize)>,
}

/// Hosts and groups as the parsers find them, before variables are resolved.
#[derive(Debug)]
struct Model {
    hosts: Vec<HostRec>,
    host_index: HashMap<String, usize>,
    groups: Vec<GroupRec>,
    group_index: HashMap<String, usize>,
    warnings: Vec<String>,
}

impl Model {
    fn new() -> Self {
        let mut m = Self {
            hosts: Vec::new(),
            host_index: HashMap::new(),
            groups: Vec::new(),
            group_index: HashMap::new(),
            warnings: Vec::new(),
        };
        for name in ["all", "ungrouped"] {
            let g = m.group(name);
            m.groups[g].defined = true;
        }
        m
    }

    fn group(&mut self, name: &str) -> usize {
        if let Some(&g) = self.group_index.get(name) {
            return g;
        }
        let g = self.groups.len();
        self.groups.push(GroupRec {
            name: name.to_string(),
            parents: Vec::new(),
            vars: BTreeMap::new(),
            defined: false,
            first_child_ref: None,
        });
        self.group_index.insert(name.to_string(), g);
        g
    }

    fn define(&mut self, g: usize) {
        self.groups[g].defined = true;
    }

    /// The host `name`, created on first sight, put in group `g`.
    fn host(&mut self, name: &str, g: usize) -> usize {
        let h = match self.host_index.get(name) {
            Some(&h) => h,
            None => {
                let h = self.hosts.len();
                self.hosts.push(HostRec {
                    name: name.to_string(),
                    groups: Vec::new(),
                    vars: BTreeMap::new(),
                });
                self.host_index.insert(name.to_string(), h);
                h
            }
        };
        if !self.hosts[h].groups.contains(&g) {
            self.hosts[h].groups.push(g);
        }
        self.define(g);
        h
    }

    fn set_host_var(&mut self, h: usize, key: &str, var: Var) {
        self.hosts[h].vars.insert(key.to_string(), var);
    }

    fn set_group_var(&mut self, g: usize, key: &str, var: Var) {
        self.groups[g].vars.insert(key.to_string(), var);
    }

    /// Makes `child` a child of `parent`; refuses cycles, as Ansible does.
    fn add_child(&mut self, parent: usize, child: usize) -> Result<(), String> {
        let (p, c) = (&self.groups[parent].name, &self.groups[child].name);
        if child == ALL {
            return Err(format!("`all` cannot be a child of `{p}`"));
        }
        if parent == child || self.is_ancestor(child, parent) {
            return Err(format!(
                "making `{c}` a child of `{p}` creates a loop (`{p}` is already inside `{c}`)"
            ));
        }
        self.define(parent);
        if !self.groups[child].parents.contains(&parent) {
            self.groups[child].parents.push(parent);
        }
        Ok(())
    }

    /// Whether `a` is `b` or one of `b`'s ancestors.
    fn is_ancestor(&self, a: usize, b: usize) -> bool {
        let mut stack = vec![b];
        let mut seen = vec![false; self.groups.len()];
        while let Some(g) = stack.pop() {
            if g == a {
                return true;
            }
            if !std::mem::replace(&mut seen[g], true) {
                stack.extend(&self.groups[g].parents);
            }
        }
        false
    }

    /// Distance from `all` along the longest parent chain (`all` is 0). Iterative: a long
    /// chain of `:children` must not exhaust the stack. Groups have no loops (see
    /// [`Model::add_child`]).
    fn depths(&self) -> Vec<usize> {
        let mut memo: Vec<Option<usize>> = vec![None; self.groups.len()];
        memo[ALL] = Some(0);
        for start in 0..self.groups.len() {
            let mut stack = vec![start];
            while let Some(&g) = stack.last() {
                if memo[g].is_some() {
                    stack.pop();
                    continue;
                }
                let parents = &self.groups[g].parents;
                let pending: Vec<usize> = parents
                    .iter()
                    .copied()
                    .filter(|&p| memo[p].is_none())
                    .collect();
                if pending.is_empty() {
                    let deepest = parents.iter().filter_map(|&p| memo[p]).max().unwrap_or(0);
                    memo[g] = Some(deepest + 1);
                    stack.pop();
                } else {
                    stack.extend(pending);
                }
            }
        }
        memo.into_iter().map(|d| d.unwrap_or(1)).collect()
    }

    fn priority(&self, g: usize) -> i64 {
        match self.groups[g].vars.get("ansible_group_priority") {
            Some(Var {
                value: Value::Text(t),
                ..
            }) => t.trim().parse().unwrap_or(1),
            _ => 1,
        }
    }

    /// Resolves every host's groups and variables into hosts.toml entries.
    fn resolve(mut self, path: &Path) -> Imported {
        let mut notes = Notes::new(path);
        for g in &self.groups {
            if !g.defined {
                notes.add(
                    format!(
                        "group `{}` is listed as a child but never defined; it has no hosts",
                        g.name
                    ),
                    g.first_child_ref,
                );
            }
        }
        let depth = self.depths();
        let priority: Vec<i64> = (0..self.groups.len()).map(|g| self.priority(g)).collect();
        let mut inventory = InventoryFile::default();
        for host in &self.hosts {
            if !is_plain_host_name(&host.name) {
                notes.add(
                    format!("skipped host `{}`: not a plain host name", host.name),
                    None,
                );
                continue;
            }
            let member = self.ancestors(&host.groups);
            let mut layers: Vec<usize> = (0..self.groups.len())
                .filter(|&g| member[g] || g == ALL)
                .collect();
            layers.sort_by(|&a, &b| {
                (depth[a], priority[a], &self.groups[a].name).cmp(&(
                    depth[b],
                    priority[b],
                    &self.groups[b].name,
                ))
            });
            let mut vars: BTreeMap<&str, &Var> = BTreeMap::new();
            for g in layers {
                vars.extend(self.groups[g].vars.iter().map(|(k, v)| (k.as_str(), v)));
            }
            vars.extend(host.vars.iter().map(|(k, v)| (k.as_str(), v)));

            let mut entry = HostEntry::named(&host.name);
            entry.groups = (0..self.groups.len())
                .filter(|&g| member[g] && g != ALL && g != UNGROUPED)
                .map(|g| self.groups[g].name.clone())
                .collect();
            apply_vars(&mut entry, &vars, &mut notes);
            inventory.hosts.push(entry);
        }
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.extend(notes.finish());
        if inventory.hosts.is_empty() {
            warnings.push(format!("{}: no hosts found", path.display()));
        }
        Imported {
            inventory,
            warnings,
        }
    }

    /// `member[g]`: the host is in `g` directly or through a child group.
    fn ancestors(&self, direct: &[usize]) -> Vec<bool> {
        let mut member = vec![false; self.groups.len()];
        let mut stack = direct.to_vec();
        while let Some(g) = stack.pop() {
            if !std::mem::replace(&mut member[g], true) {
                stack.extend(&self.groups[g].parents);
            }
        }
        member
    }
}

/// Warnings that are given once per distinct subject, however many hosts they concern.
struct Notes<'a> {
    path: &'a Path,
    order: Vec<Note>,
    index: HashMap<String, usize>,
}

struct Note {
    msg: String,
    /// `(line, column)` of the first occurrence, when known.
    place: Option<(usize, usize)>,
    count: usize,
}

impl<'a> Notes<'a> {
    fn new(path: &'a Path) -> Self {
        Self {
            path,
            order: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn add(&mut self, msg: String, place: Option<(usize, usize)>) {
        match self.index.get(&msg) {
            Some(&i) => self.order[i].count += 1,
            None => {
                self.index.insert(msg.clone(), self.order.len());
                self.order.push(Note {
                    msg,
                    place,
                    count: 1,
                });
            }
        }
    }

    fn finish(self) -> Vec<String> {
        self.order
            .into_iter()
            .map(|Note { msg, place, count }| {
                let at = match place {
                    Some((l, c)) => format!("{}:{l}:{c}", self.path.display()),
                    None => self.path.display().to_string(),
                };
                if count > 1 {
                    format!("{at}: {msg} ({count} hosts)")
                } else {
                    format!("{at}: {msg}")
                }
            })
            .collect()
    }
}

fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}

fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["password", "passwd", "secret", "token"]
        .iter()
        .any(|w| n.contains(w))
}

/// Turns resolved variables into the entry's fields, noting what is left out.
fn apply_vars(entry: &mut HostEntry, vars: &BTreeMap<&str, &Var>, notes: &mut Notes) {
    // A connection setting, as a usable literal string.
    let setting = |names: &[&str], notes: &mut Notes| -> Option<String> {
        let (name, var) = names.iter().find_map(|n| vars.get(n).map(|v| (*n, *v)))?;
        match &var.value {
            Value::Text(t) if is_template(t) => {
                notes.add(
                    format!(
                        "`{name}` uses a Jinja template, which fleetdeck cannot evaluate; left out"
                    ),
                    var.place,
                );
                None
            }
            Value::Text(t) => Some(t.clone()),
            Value::Unusable(what) => {
                notes.add(format!("`{name}` is {what}; left out"), var.place);
                None
            }
        }
    };
    if let Some(addr) = setting(&["ansible_host", "ansible_ssh_host"], notes)
        && addr != *entry.name.get_ref()
    {
        entry.address = Some(Spanned::new(0..0, addr));
    }
    if let Some(port) = setting(&["ansible_port", "ansible_ssh_port"], notes) {
        // Literal ports were checked while parsing, with their position.
        entry.port = pattern::parse_port(&port).ok().filter(|&p| p != 22);
    }
    entry.user = setting(&["ansible_user", "ansible_ssh_user"], notes);
    if let Some(conn) = setting(&["ansible_connection"], notes) {
        match conn.as_str() {
            "local" => entry.transport = Some(TransportKind::Local),
            "ssh" | "smart" | "paramiko" | "paramiko_ssh" | "" => {}
            other => notes.add(
                format!("ansible_connection `{other}` is not supported; imported as ssh"),
                vars.get("ansible_connection").and_then(|v| v.place),
            ),
        }
    }
    for name in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
        let place = vars.get(name).and_then(|v| v.place);
        let Some(args) = setting(&[name], notes) else {
            continue;
        };
        let (jump, rest) = jump_from_ssh_args(&args);
        if entry.jump.is_none() {
            entry.jump = jump.clone();
        }
        if rest {
            let what = if jump.is_some() {
                "only its jump host was imported"
            } else {
                "left out"
            };
            notes.add(format!("`{name}`: {what}"), place);
        }
    }

    const USED: [&str; 10] = [
        "ansible_host",
        "ansible_ssh_host",
        "ansible_port",
        "ansible_ssh_port",
        "ansible_user",
        "ansible_ssh_user",
        "ansible_connection",
        "ansible_ssh_common_args",
        "ansible_ssh_extra_args",
        "ansible_group_priority",
    ];
    for (&name, var) in vars {
        if USED.contains(&name) {
            continue;
        }
        if name.starts_with("ansible_") {
            notes.add(
                format!("ignored variable `{name}`: an Ansible setting fleetdeck does not use"),
                var.place,
            );
            continue;
        }
        if looks_secret(name) {
            notes.add(
                format!("variable `{name}` looks like a secret; not copied into hosts.toml"),
                var.place,
            );
            continue;
        }
        match &var.value {
            Value::Text(t) => {
                if is_template(t) {
                    notes.add(
                        format!("variable `{name}` uses a Jinja template; copied verbatim"),
                        var.place,
                    );
                }
                entry.vars.insert(name.to_string(), t.clone());
            }
            Value::Unusable(what) => notes.add(
                format!("variable `{name}` is {what}; only plain values are imported"),
                var.place,
            ),
        }
    }
}

#[cfg(test)]
mod tests;
