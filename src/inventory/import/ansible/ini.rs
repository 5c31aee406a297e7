//! Ansible's INI inventory format: hosts before any section are ungrouped; `[group]` lists
//! hosts (`name[:port] [key=value …]`), `[group:children]` child groups, `[group:vars]`
//! `key=value` lines; `#` and `;` start comment lines.

use std::net::Ipv6Addr;
use std::path::Path;

use super::{Model, UNGROUPED, Var, is_template, pattern, shlex};
use crate::inventory::import::{ImportError, column_of};

#[derive(Debug, Clone, Copy)]
enum Section {
    Hosts(usize),
    Children(usize),
    Vars(usize),
}

pub(super) fn parse(path: &Path, text: &str, model: &mut Model) -> Result<(), ImportError> {
    let mut section = Section::Hosts(UNGROUPED);
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let raw = if i == 0 {
            raw.strip_prefix('\u{feff}').unwrap_or(raw)
        } else {
            raw
        };
        let lead = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        let at = |offset: usize| (line_no, column_of(raw, offset));
        let err = |offset: usize, msg: String| {
            let (l, c) = at(offset);
            ImportError::syntax(path, l, c, msg)
        };

        if line.starts_with('[') && !is_bracketed_v6_host(line) {
            let (name, kind) = section_header(line).map_err(|m| err(lead, m))?;
            let g = model.group(name);
            section = match kind {
                "hosts" => {
                    model.define(g);
                    Section::Hosts(g)
                }
                "children" => {
                    model.define(g);
                    Section::Children(g)
                }
                _ => Section::Vars(g),
            };
            continue;
        }

        match section {
            Section::Hosts(g) => {
                host_line(raw, model, g, &at).map_err(|(off, m)| err(off, m))?;
            }
            Section::Children(g) => {
                let tokens = shlex::split(raw).map_err(|(off, m)| err(off, m))?;
                let [child] = tokens.as_slice() else {
                    let off = tokens.get(1).map_or(lead, |t| t.offset);
                    return Err(err(
                        off,
                        "expected one group name per line in a :children section".into(),
                    ));
                };
                let c = model.group(&child.text);
                model.groups[c]
                    .first_child_ref
                    .get_or_insert(at(child.offset));
                model.add_child(g, c).map_err(|m| err(child.offset, m))?;
            }
            Section::Vars(g) => {
                let Some((key, value)) = line.split_once('=') else {
                    return Err(err(lead, format!("expected key=value, got `{line}`")));
                };
                let key = key.trim();
                if key.is_empty() || key.contains(char::is_whitespace) {
                    return Err(err(lead, format!("`{key}` is not a variable name")));
                }
                let value_offset = lead + line.find('=').map_or(0, |i| i + 1);
                let value_offset = value_offset
                    + (raw[value_offset..].len() - raw[value_offset..].trim_start().len());
                let (value, kept_comment) = group_var_value(value.trim());
                check_port(key, &value).map_err(|m| err(value_offset, m))?;
                if kept_comment {
                    let (l, c) = at(value_offset);
                    model.warnings.push(format!(
                        "{}:{l}:{c}: the value of `{key}` keeps its `#` comment (Ansible does not \
                         strip comments in :vars sections)",
                        path.display()
                    ));
                }
                model.set_group_var(g, key, Var::text(value, Some(at(lead))));
            }
        }
    }
    Ok(())
}

/// `[name]`, `[name:children]` or `[name:vars]`, possibly followed by a comment.
fn section_header(line: &str) -> Result<(&str, &str), String> {
    let Some(close) = line.find(']') else {
        return Err(format!("unclosed section header `{line}`: missing `]`"));
    };
    let after = line[close + 1..].trim_start();
    let inner = &line[1..close];
    let (name, kind) = inner.split_once(':').unwrap_or((inner, "hosts"));
    let bad_name = name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == '[');
    if bad_name || !(after.is_empty() || after.starts_with(['#', ';'])) {
        return Err(format!(
            "invalid section header `{line}`: expected [group], [group:children] or \
             [group:vars], without spaces"
        ));
    }
    match kind {
        "hosts" | "children" | "vars" => Ok((name, kind)),
        other => Err(format!(
            "section [{inner}] has unknown type `{other}` (expected children or vars)"
        )),
    }
}

/// `[2001:db8::1]:22 …` is a host line, not a section.
fn is_bracketed_v6_host(line: &str) -> bool {
    line[1..]
        .split_once(']')
        .is_some_and(|(inside, after)| inside.parse::<Ipv6Addr>().is_ok() && after.starts_with(':'))
}

/// `pattern [key=value …]`. Errors carry a byte offset into `raw`.
fn host_line(
    raw: &str,
    model: &mut Model,
    g: usize,
    at: &dyn Fn(usize) -> (usize, usize),
) -> Result<(), (usize, String)> {
    let tokens = shlex::split(raw)?;
    let Some((first, rest)) = tokens.split_first() else {
        return Ok(());
    };
    if first.text.contains('=') {
        return Err((
            first.offset,
            format!("expected a host name before `{}`", first.text),
        ));
    }
    let hosts = pattern::parse(&first.text).map_err(|e| (first.offset + e.offset, e.message))?;
    let mut vars = Vec::with_capacity(rest.len());
    for t in rest {
        let Some((key, value)) = t.text.split_once('=') else {
            return Err((
                t.offset,
                format!("expected key=value after the host name, got `{}`", t.text),
            ));
        };
        if key.is_empty() {
            return Err((t.offset, format!("missing variable name in `{}`", t.text)));
        }
        let value_offset = t.offset + key.len() + 1;
        check_port(key, value).map_err(|m| (value_offset, m))?;
        vars.push((key, value, at(t.offset)));
    }
    for name in &hosts.names {
        let h = model.host(name, g);
        if let Some(port) = hosts.port {
            let place = Some(at(first.offset));
            model.set_host_var(h, "ansible_port", Var::text(port.to_string(), place));
        }
        for &(key, value, place) in &vars {
            model.set_host_var(h, key, Var::text(value, Some(place)));
        }
    }
    Ok(())
}

/// Rejects a literal `ansible_port` that is not a port (templates are checked later).
fn check_port(key: &str, value: &str) -> Result<(), String> {
    if matches!(key, "ansible_port" | "ansible_ssh_port") && !is_template(value) {
        pattern::parse_port(value).map(|_| ())?;
    }
    Ok(())
}

/// A `[group:vars]` value, read as Ansible does: a Python literal when it is one (quotes
/// removed, a trailing comment dropped), else the raw text, comment included. The flag says
/// a `#` comment was kept.
fn group_var_value(v: &str) -> (String, bool) {
    if let Some(q) = v.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let mut out = String::new();
        let mut chars = v[1..].char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '\\' {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
                continue;
            }
            if c == q {
                let tail = v[1 + i + 1..].trim_start();
                if tail.is_empty() || tail.starts_with('#') {
                    return (out, false);
                }
                break;
            }
            out.push(c);
        }
    }
    if let Some(hash) = v.find(" #").or_else(|| v.find("\t#")) {
        let before = v[..hash].trim_end();
        let literal = before.parse::<f64>().is_ok() || matches!(before, "True" | "False" | "None");
        if literal {
            return (before.to_string(), false);
        }
        return (v.to_string(), true);
    }
    (v.to_string(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_var_values_follow_ansible() {
        assert_eq!(group_var_value("deploy"), ("deploy".into(), false));
        assert_eq!(group_var_value("\"a b\" # c"), ("a b".into(), false));
        assert_eq!(group_var_value("'it\\'s'"), ("it's".into(), false));
        assert_eq!(group_var_value("2222 # ssh"), ("2222".into(), false));
        assert_eq!(group_var_value("x # y"), ("x # y".into(), true));
        assert_eq!(group_var_value("\"a\" b"), ("\"a\" b".into(), false));
    }

    #[test]
    fn sections() {
        assert_eq!(section_header("[web]"), Ok(("web", "hosts")));
        assert_eq!(
            section_header("[web:children] # x"),
            Ok(("web", "children"))
        );
        assert!(section_header("[web").unwrap_err().contains("unclosed"));
        assert!(
            section_header("[web servers]")
                .unwrap_err()
                .contains("invalid")
        );
        assert!(
            section_header("[web:foo]")
                .unwrap_err()
                .contains("unknown type")
        );
        assert!(is_bracketed_v6_host("[2001:db8::1]:22 a=b"));
        assert!(!is_bracketed_v6_host("[web]"));
    }
}
