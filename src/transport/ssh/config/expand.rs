//! `~`, `%` tokens and `${VAR}` in path-like values, as OpenSSH expands them
//! (`tilde_expand_filename`, then `percent_dollar_expand`).

use std::path::{Path, PathBuf};

use crate::config::LocalUser;

/// What the `%` tokens stand for, for one host.
pub(super) struct Tokens<'a> {
    pub local: &'a LocalUser,
    /// `%h`: the final host name.
    pub host_name: &'a str,
    /// `%n`: the name as given (the alias).
    pub original: &'a str,
    /// `%p`
    pub port: u16,
    /// `%r`: the remote user.
    pub user: &'a str,
    /// `%k`: HostKeyAlias, else the name as given.
    pub host_key_alias: &'a str,
    /// `%j`: the ProxyJump value, or empty (OpenSSH 9.3+; 9.2 rejects `%j`).
    pub jump: &'a str,
}

impl Tokens<'_> {
    fn value(&self, token: char) -> Option<String> {
        Some(match token {
            '%' => "%".to_string(),
            'C' => self.connection_hash(),
            'd' => self.local.home.to_string_lossy().into_owned(),
            'h' => self.host_name.to_string(),
            'i' => self.local.uid.to_string(),
            'j' => self.jump.to_string(),
            'k' => self.host_key_alias.to_string(),
            'L' => self.local.short_host_name().to_string(),
            'l' => self.local.host_name.clone(),
            'n' => self.original.to_string(),
            'p' => self.port.to_string(),
            'r' => self.user.to_string(),
            'u' => self.local.name.clone(),
            _ => return None,
        })
    }

    /// `%C`: SHA-1 of `%l%h%p%r` in hex, as OpenSSH 9.2 computes it.
    fn connection_hash(&self) -> String {
        let text = format!(
            "{}{}{}{}",
            self.local.host_name, self.host_name, self.port, self.user
        );
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, text.as_bytes());
        digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// `~`, then `%` tokens and `${VAR}`: the path a value names.
pub(super) fn expand_path(raw: &str, tokens: &Tokens<'_>) -> Result<PathBuf, String> {
    let tilde = expand_tilde(raw, &tokens.local.home)?;
    expand_tokens(&tilde, tokens).map(PathBuf::from)
}

/// A leading `~` or `~/` is the home directory; `~user` is not supported.
pub(super) fn expand_tilde(raw: &str, home: &Path) -> Result<String, String> {
    let Some(rest) = raw.strip_prefix('~') else {
        return Ok(raw.to_string());
    };
    if rest.is_empty() {
        return Ok(home.to_string_lossy().into_owned());
    }
    match rest.strip_prefix('/') {
        Some(rest) => Ok(home.join(rest).to_string_lossy().into_owned()),
        None => Err(format!("`{raw}`: ~user paths are not supported")),
    }
}

/// OpenSSH `percent_dollar_expand`: `%x` tokens and `${VAR}` environment variables.
fn expand_tokens(raw: &str, tokens: &Tokens<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '%' => {
                let Some((_, token)) = chars.next() else {
                    return Err(format!(
                        "`{raw}`: `%` at the end (write %% for a percent sign)"
                    ));
                };
                let value = tokens
                    .value(token)
                    .ok_or_else(|| format!("`{raw}`: unknown token %{token}"))?;
                out.push_str(&value);
            }
            '$' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                let after = &raw[i + 2..];
                let end = after
                    .find('}')
                    .ok_or_else(|| format!("`{raw}`: unterminated ${{"))?;
                let name = &after[..end];
                let value = std::env::var(name)
                    .map_err(|_| format!("`{raw}`: environment variable {name} is not set"))?;
                out.push_str(&value);
                // Skip `{NAME}`.
                for _ in 0..name.chars().count() + 2 {
                    chars.next();
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `HostName` takes only `%h` (the name as given) and `%%`.
pub(super) fn expand_host_name(raw: &str, original: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(original),
            Some('%') => out.push('%'),
            Some(other) => return Err(format!("HostName `{raw}`: unknown token %{other}")),
            None => return Err(format!("HostName `{raw}`: `%` at the end")),
        }
    }
    Ok(out)
}
