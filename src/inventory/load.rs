//! Loading hosts.toml: node-set expansion, defaults, address patterns and validation, with every
//! problem reported at its file:line:column (all of them, not just the first).

use std::collections::HashMap;
use std::path::Path;

use super::file::{HostDefaults, HostEntry, InventoryFile};
use super::host::{Host, Inventory, TransportKind};
use super::nodeset;
use crate::config::toml_diag::parse_toml;
use crate::diag::Diagnostic;

/// Loads hosts.toml; a missing file is an empty inventory (plain ssh destinations still work).
pub fn load(path: &Path) -> Result<Inventory, Vec<Diagnostic>> {
    match std::fs::read_to_string(path) {
        Ok(src) => parse(path, &src),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Inventory::default()),
        Err(e) => Err(vec![Diagnostic::whole_file(
            path,
            format!("cannot read: {e}"),
        )]),
    }
}

/// Parses the text of a hosts.toml.
pub fn parse(path: &Path, src: &str) -> Result<Inventory, Vec<Diagnostic>> {
    let file: InventoryFile = parse_toml(path, src).map_err(|d| vec![d])?;
    let mut diags = Vec::new();
    let mut hosts: Vec<Host> = Vec::new();
    // name -> (line of its entry, the entry's name as written)
    let mut seen: HashMap<String, (usize, String)> = HashMap::new();

    let at = |offset: usize, msg: String| Diagnostic::at_offset(path, src, offset, msg);

    for entry in &file.hosts {
        let name_pattern = entry.name.get_ref();
        let name_start = entry.name.span().start;
        // The span includes the opening quote of the string.
        let value_start = name_start + usize::from(src[name_start..].starts_with(['"', '\'']));
        let names = match nodeset::expand(name_pattern) {
            Ok(names) => names,
            Err(e) => {
                diags.push(at(
                    value_start + e.offset,
                    format!("host name `{}`: {e}", name_pattern.escape_debug()),
                ));
                continue;
            }
        };
        let addresses = match expand_addresses(entry, names.len(), src) {
            Ok(a) => a,
            Err((offset, msg)) => {
                diags.push(at(offset, msg));
                continue;
            }
        };
        // An invalid entry still claims its names, so a later duplicate is reported too.
        let valid = match validate_entry(entry, &file.defaults) {
            Ok(()) => true,
            Err((key, msg)) => {
                // At the offending key's value when it is in this entry, else at the name.
                let offset = key
                    .and_then(|k| key_offset(src, name_start, k))
                    .unwrap_or(name_start);
                diags.push(at(
                    offset,
                    format!("host `{}`: {msg}", name_pattern.escape_debug()),
                ));
                false
            }
        };
        let (line, _) = crate::diag::line_col(src, name_start);
        for (i, name) in names.iter().enumerate() {
            if let Err(msg) = validate_name(name) {
                diags.push(at(value_start, msg));
                break;
            }
            if let Some((first_line, first_pattern)) = seen.get(name) {
                diags.push(at(
                    name_start,
                    format!(
                        "duplicate host `{name}`: already defined at line {first_line} (by `{first_pattern}`)"
                    ),
                ));
                continue;
            }
            seen.insert(name.clone(), (line, name_pattern.clone()));
            if !valid {
                continue;
            }
            hosts.push(build_host(
                name,
                addresses.get(i).cloned().flatten(),
                entry,
                &file.defaults,
            ));
        }
    }
    if diags.is_empty() {
        Ok(Inventory::new(hosts))
    } else {
        Err(diags)
    }
}

/// One address per expanded name (None where the name is the destination).
fn expand_addresses(
    entry: &HostEntry,
    count: usize,
    src: &str,
) -> Result<Vec<Option<String>>, (usize, String)> {
    let Some(address) = &entry.address else {
        return Ok(vec![None; count]);
    };
    let text = address.get_ref();
    let start = address.span().start;
    let value_start = start + usize::from(src[start..].starts_with(['"', '\'']));
    if text.trim().is_empty() {
        return Err((value_start, "address is empty".to_string()));
    }
    if text.contains("{name}") {
        let names =
            nodeset::expand(entry.name.get_ref()).map_err(|e| (value_start, e.to_string()))?;
        return Ok(names
            .iter()
            .map(|n| Some(text.replace("{name}", n)))
            .collect());
    }
    if count == 1 {
        // A single host takes its address literally (IPv6 literals contain brackets).
        return Ok(vec![Some(text.clone())]);
    }
    let addresses = nodeset::expand(text).map_err(|e| {
        (
            value_start + e.offset,
            format!("address pattern `{text}`: {e}"),
        )
    })?;
    if addresses.len() != count {
        return Err((
            value_start,
            format!(
                "address pattern `{text}` gives {} address(es) but the name `{}` gives {count} hosts; use a node set of the same size (e.g. 10.0.0.[1-{count}]) or `{{name}}`",
                addresses.len(),
                entry.name.get_ref()
            ),
        ));
    }
    Ok(addresses.into_iter().map(Some).collect())
}

/// Where the value of `key` is written in the `[[hosts]]` table holding the name at
/// `name_start` (keys may come before or after `name`); `None` when it is not written there
/// (inherited from `[defaults]`, or an inline-table entry).
fn key_offset(src: &str, name_start: usize, key: &str) -> Option<usize> {
    let table_start = src[..name_start].rfind("\n[").map_or(0, |i| i + 1);
    let table_end = src[name_start..]
        .find("\n[")
        .map_or(src.len(), |i| name_start + i);
    let mut offset = table_start;
    for line in src[table_start..table_end].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key)
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            let value_at = line.len() - value.trim_start().len();
            return Some(offset + value_at);
        }
        offset += line.len();
    }
    None
}

/// Checks an entry; on a problem, the key it is about (to point at its line) and what is wrong.
fn validate_entry(
    entry: &HostEntry,
    defaults: &HostDefaults,
) -> Result<(), (Option<&'static str>, String)> {
    let whole = |msg: String| (None, msg);
    let transport = entry.transport.or(defaults.transport).unwrap_or_default();
    if entry.port == Some(0) || (entry.port.is_none() && defaults.port == Some(0)) {
        return Err((Some("port"), "port 0 is not a valid port".to_string()));
    }
    if let Some(jump) = entry.jump.as_ref().or(defaults.jump.as_ref()) {
        if jump.trim().is_empty() {
            return Err((
                Some("jump"),
                "jump is empty; remove it, or name a host: [user@]host[:port]".to_string(),
            ));
        }
        match crate::inventory::jump::parse_jump_list(jump) {
            Ok(_) => {}
            Err(why) => {
                return Err((
                    Some("jump"),
                    format!(
                        "jump `{}`: {why}; write [user@]host[:port], hops separated by commas",
                        jump.escape_debug()
                    ),
                ));
            }
        }
    }
    match (transport, &entry.agent) {
        (TransportKind::Agent, None) => {
            return Err(whole(
                "transport is `agent` but no `agent = { url = \"wss://…\" }` is given".to_string(),
            ));
        }
        (TransportKind::Agent, Some(agent))
            if !(agent.url.starts_with("wss://") || agent.url.starts_with("ws://")) =>
        {
            return Err((
                Some("agent"),
                format!(
                    "agent url `{}` must start with wss:// (or ws:// for loopback demos)",
                    agent.url
                ),
            ));
        }
        (TransportKind::Agent, Some(_)) => {}
        (other, Some(_)) => {
            return Err((
                Some("agent"),
                format!(
                    "`agent` settings are given but transport is `{other}`; set transport = \"agent\" or remove them"
                ),
            ));
        }
        _ => {}
    }
    if let Some(url) = entry
        .metrics
        .as_ref()
        .and_then(|m| m.node_exporter.as_ref())
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err((
            Some("metrics"),
            format!(
                "node_exporter `{url}` must be an http:// or https:// URL, e.g. \"http://{{address}}:9100/metrics\""
            ),
        ));
    }
    let words = entry
        .tags
        .iter()
        .chain(&defaults.tags)
        .map(|t| ("tag", t))
        .chain(
            entry
                .groups
                .iter()
                .chain(&defaults.groups)
                .map(|g| ("group", g)),
        )
        .chain(entry.env.iter().chain(&defaults.env).map(|e| ("env", e)));
    for (kind, word) in words {
        if word.is_empty()
            || word.contains(|c: char| c.is_whitespace() || c.is_control() || ",&!^@~".contains(c))
        {
            let key = match kind {
                "tag" => "tags",
                "group" => "groups",
                _ => "env",
            };
            return Err((
                Some(key),
                format!(
                    "{kind} `{}` must be non-empty, without spaces, control characters or any of , & ! ^ @ ~ (they are selector operators)",
                    word.escape_debug()
                ),
            ));
        }
    }
    Ok(())
}

/// A name must mean itself in a selector: no operator (`, & ! ^`), glob, bracket, prefix or
/// comparison character (`< > =` make a metric term), and not a keyword (`all`, `stale`).
fn validate_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name == "all"
        || name == "stale"
        || name.starts_with(['~', '@', '!'])
        || name
            .contains(|c: char| c.is_whitespace() || c.is_control() || ",&!^*?[]:<>=".contains(c));
    if bad {
        // Escaped: a control character in the name must not reach the terminal.
        return Err(format!(
            "host name `{}` is not usable in selectors: no spaces, control characters or any of , & ! ^ * ? [ ] : < > =, not `all` or `stale`, not starting with ~ or @",
            name.escape_debug()
        ));
    }
    Ok(())
}

fn build_host(name: &str, address: Option<String>, e: &HostEntry, d: &HostDefaults) -> Host {
    let mut vars = d.vars.clone();
    vars.extend(e.vars.clone());
    let node_exporter = e
        .metrics
        .as_ref()
        .and_then(|m| m.node_exporter.as_ref())
        .map(|url| {
            url.replace("{name}", name)
                .replace("{address}", address.as_deref().unwrap_or(name))
        });
    Host {
        name: name.to_string(),
        address,
        port: e.port.or(d.port),
        user: e.user.clone().or_else(|| d.user.clone()),
        transport: e.transport.or(d.transport).unwrap_or_default(),
        tags: d.tags.iter().chain(&e.tags).cloned().collect(),
        env: e.env.clone().or_else(|| d.env.clone()),
        groups: d.groups.iter().chain(&e.groups).cloned().collect(),
        vars,
        jump: e.jump.clone().or_else(|| d.jump.clone()),
        agent: e.agent.clone(),
        node_exporter,
        in_inventory: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(src: &str) -> Result<Inventory, Vec<String>> {
        parse(Path::new("hosts.toml"), src).map_err(|d| d.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn node_set_names_expand_with_zipped_addresses_and_defaults() {
        let inv = parse_str(
            "[defaults]\nuser = \"deploy\"\ntags = [\"linux\"]\nenv = \"prod\"\n\n[[hosts]]\nname = \"web[01-03]\"\naddress = \"10.0.0.[1-3]\"\ntags = [\"web\"]\ngroups = [\"frontend\"]\n\n[[hosts]]\nname = \"db1\"\nenv = \"staging\"\nport = 2222\n",
        )
        .unwrap();
        let names: Vec<_> = inv.hosts().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["web01", "web02", "web03", "db1"]);
        let web02 = inv.get("web02").unwrap();
        assert_eq!(web02.address.as_deref(), Some("10.0.0.2"));
        assert_eq!(web02.user.as_deref(), Some("deploy"));
        assert!(web02.tags.contains("linux") && web02.tags.contains("web"));
        assert_eq!(web02.env.as_deref(), Some("prod"));
        let db1 = inv.get("db1").unwrap();
        assert_eq!(db1.env.as_deref(), Some("staging"));
        assert_eq!(db1.port, Some(2222));
        assert_eq!(db1.destination(), "db1");
    }

    #[test]
    fn name_placeholder_in_address() {
        let inv = parse_str("[[hosts]]\nname = \"app[1-2]\"\naddress = \"{name}.example.net\"\n")
            .unwrap();
        assert_eq!(inv.get("app2").unwrap().destination(), "app2.example.net");
    }

    #[test]
    fn duplicates_are_errors_naming_the_first_definition() {
        let errs = parse_str("[[hosts]]\nname = \"web[01-05]\"\n\n[[hosts]]\nname = \"web03\"\n")
            .unwrap_err();
        assert_eq!(
            errs,
            ["hosts.toml:5:8: duplicate host `web03`: already defined at line 2 (by `web[01-05]`)"]
        );
    }

    #[test]
    fn bad_node_set_points_into_the_name() {
        let errs = parse_str("[[hosts]]\nname = \"web[3-1]\"\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("hosts.toml:2:"), "{errs:?}");
        assert!(errs[0].contains("web[3-1]"), "{errs:?}");
    }

    #[test]
    fn names_that_would_read_as_selector_operators_are_refused() {
        for name in ["web^1", "cpu>90", "a<b", "k=v", "stale", "all"] {
            let errs = parse_str(&format!("[[hosts]]\nname = \"{name}\"\n")).unwrap_err();
            assert!(
                errs[0].contains("is not usable in selectors"),
                "{name}: {errs:?}"
            );
        }
        let errs = parse_str("[[hosts]]\nname = \"a\"\ngroups = [\"x^y\"]\n").unwrap_err();
        assert!(errs[0].contains("group `x^y` must be"), "{errs:?}");
        assert!(parse_str("[[hosts]]\nname = \"stale1\"\ntags = [\"k=v\"]\n").is_ok());
    }

    #[test]
    fn mismatched_address_pattern() {
        let errs =
            parse_str("[[hosts]]\nname = \"web[1-3]\"\naddress = \"10.0.0.[1-2]\"\n").unwrap_err();
        assert!(
            errs[0].starts_with("hosts.toml:3:12: address pattern `10.0.0.[1-2]` gives 2"),
            "{errs:?}"
        );
    }

    #[test]
    fn all_problems_are_reported_together() {
        let errs = parse_str(
            "[[hosts]]\nname = \"a\"\ntransport = \"agent\"\n\n[[hosts]]\nname = \"b\"\ntags = [\"x,y\"]\n\n[[hosts]]\nname = \"a\"\n",
        )
        .unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].contains("no `agent = "), "{errs:?}");
        assert!(errs[1].contains("tag `x,y`"), "{errs:?}");
        assert!(
            errs[2].starts_with("hosts.toml:10:8: duplicate host `a`: already defined at line 2"),
            "{errs:?}"
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types() {
        let errs = parse_str("[[hosts]]\nname = \"a\"\nadress = \"x\"\n").unwrap_err();
        assert!(
            errs[0].starts_with("hosts.toml:3:1: unknown key `adress`: did you mean `address`?"),
            "{errs:?}"
        );
        let errs = parse_str("[[hosts]]\nname = \"a\"\nport = \"22\"\n").unwrap_err();
        assert!(errs[0].starts_with("hosts.toml:3:8:"), "{errs:?}");
        let errs = parse_str("[[hosts]]\nname = \"a\"\ntransport = \"sshh\"\n").unwrap_err();
        assert!(errs[0].contains("did you mean `ssh`"), "{errs:?}");
    }

    #[test]
    fn a_bad_jump_or_port_is_reported_at_its_own_line() {
        for (jump, why) in [
            ("bastion:0", "invalid port"),
            ("a@b:notaport", "invalid port"),
            ("", "jump is empty"),
            ("a,,b", "missing host name"),
        ] {
            let src = format!("[[hosts]]\nname = \"a1\"\nuser = \"ops\"\njump = \"{jump}\"\n");
            let err = parse_str(&src).unwrap_err();
            assert_eq!(err.len(), 1, "{err:?}");
            assert!(err[0].starts_with("hosts.toml:4:"), "{jump}: {}", err[0]);
            assert!(err[0].contains(why), "{jump}: {}", err[0]);
        }
        // `host:` is accepted, as ssh accepts it; `none` means no jump.
        assert!(parse_str("[[hosts]]\nname = \"a1\"\njump = \"u@h:\"\n").is_ok());
        assert!(parse_str("[[hosts]]\nname = \"a1\"\njump = \"none\"\n").is_ok());
        // Keys before the name are found too.
        let err = parse_str("[[hosts]]\nport = 0\nname = \"p0\"\n").unwrap_err();
        assert!(err[0].starts_with("hosts.toml:2:8:"), "{}", err[0]);
        let err = parse_str("[[hosts]]\nname = \"p0\"\n\nport = 0\n").unwrap_err();
        assert!(err[0].starts_with("hosts.toml:4:8:"), "{}", err[0]);
    }

    #[test]
    fn control_characters_in_names_and_tags_are_refused_and_never_printed_raw() {
        let err = parse_str("[[hosts]]\nname = \"db\\u001bc\\u0007x\"\n").unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert!(err[0].contains("control characters"), "{}", err[0]);
        assert!(
            !err[0].contains('\u{1b}') && !err[0].contains('\u{7}'),
            "{:?}",
            err[0]
        );
        assert!(err[0].contains("\\u{1b}"), "{:?}", err[0]);
        let err = parse_str("[[hosts]]\nname = \"a\\nb\"\n").unwrap_err();
        assert!(!err[0].contains('\n'), "one line: {:?}", err[0]);
        let err = parse_str("[[hosts]]\nname = \"w1\"\ntags = [\"a\\u001b\"]\n").unwrap_err();
        assert!(!err[0].contains('\u{1b}'), "{:?}", err[0]);
    }
}
