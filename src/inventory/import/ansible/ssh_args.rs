//! The jump host hidden in `ansible_ssh_common_args` / `ansible_ssh_extra_args`.

use super::shlex;

/// The jump host in ssh arguments (`-J`, `-o ProxyJump=`, `-o ProxyCommand="ssh -W %h:%p
/// …"`), and whether anything else was there.
pub(super) fn jump_from_ssh_args(args: &str) -> (Option<String>, bool) {
    let Some(words) = shlex::words(args) else {
        return (None, true);
    };
    let mut jump = None;
    let mut rest = false;
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if w == "-J" {
            jump = it.next().cloned();
        } else if let Some(j) = w.strip_prefix("-J") {
            jump = Some(j.to_string());
        } else if w == "-o" || w.starts_with("-o") {
            let opt = if w == "-o" {
                it.next().cloned().unwrap_or_default()
            } else {
                w[2..].to_string()
            };
            let (key, value) = opt
                .split_once(|c: char| c == '=' || c.is_whitespace())
                .map(|(k, v)| (k.trim(), v.trim()))
                .unwrap_or((opt.as_str(), ""));
            if key.eq_ignore_ascii_case("ProxyJump") && !value.is_empty() {
                jump = Some(value.to_string());
            } else if key.eq_ignore_ascii_case("ProxyCommand")
                && let Some(j) = jump_from_proxy_command(value)
            {
                jump = Some(j);
            } else {
                rest = true;
            }
        } else {
            rest = true;
        }
    }
    (jump, rest)
}

/// `ssh [-q] [-p PORT] [-l USER] -W %h:%p [USER@]HOST` → `[USER@]HOST[:PORT]`.
fn jump_from_proxy_command(cmd: &str) -> Option<String> {
    let words = shlex::words(cmd)?;
    let (prog, args) = words.split_first()?;
    if prog != "ssh" && !prog.ends_with("/ssh") {
        return None;
    }
    const WITH_ARG: &str = "BbcDEeFIiJLlmOopQRSWw";
    let (mut port, mut user, mut dest, mut forward) = (None, None, None, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(flags) = a.strip_prefix('-') else {
            if dest.is_none() {
                dest = Some(a.clone());
            }
            continue;
        };
        // Flags may be bundled (`-qW %h:%p`); the first one taking an argument ends the bundle.
        for (i, f) in flags.char_indices() {
            if !WITH_ARG.contains(f) {
                continue;
            }
            let inline = &flags[i + f.len_utf8()..];
            let value = if inline.is_empty() {
                it.next().cloned().unwrap_or_default()
            } else {
                inline.to_string()
            };
            match f {
                'W' => forward = value == "%h:%p",
                'p' => port = Some(value),
                'l' => user = Some(value),
                _ => {}
            }
            break;
        }
    }
    let dest = dest.filter(|_| forward)?;
    let mut jump = match user {
        Some(u) if !dest.contains('@') => format!("{u}@{dest}"),
        _ => dest,
    };
    if let Some(p) = port {
        jump = format!("{jump}:{p}");
    }
    Some(jump)
}
