//! Bearer tokens: generated from the system's CSPRNG, stored only as SHA-256 hashes with
//! their scope (tokens.toml), checked in constant time.

use std::path::Path;

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::config::toml_diag::parse_toml;
use crate::diag::Diagnostic;
use crate::protocol::Scope;

/// tokens.toml: one `[[tokens]]` per token, its scope and the hex SHA-256 of the token text.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    tokens: Vec<TokenEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    scope: Scope,
    sha256: String,
}

/// The hashed tokens the agent accepts.
#[derive(Debug, Clone, Default)]
pub struct TokenStore {
    entries: Vec<([u8; 32], Scope)>,
}

/// A new random token: 32 bytes from the OS, as 64 hex digits.
pub fn generate() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "the system random number generator failed".to_string())?;
    Ok(hex(&bytes))
}

fn digest(token: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, token.trim().as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The text of tokens.toml holding these (token, scope) pairs, hashed.
pub fn render(tokens: &[(&str, Scope)]) -> String {
    let file = TokensFile {
        tokens: tokens
            .iter()
            .map(|(t, scope)| TokenEntry {
                scope: *scope,
                sha256: hex(&digest(t)),
            })
            .collect(),
    };
    let body = toml::to_string(&file).unwrap_or_default();
    format!(
        "# Tokens this agent accepts, as SHA-256 hashes (the tokens themselves are not kept).\n\
         # scope: read (heartbeats, metrics, alerts) or exec (operations too).\n\
         # Add one: sha256sum of the token text, without the newline.\n\n{body}"
    )
}

impl TokenStore {
    /// Reads tokens.toml in `dir`.
    pub fn load(dir: &Path) -> Result<Self, Diagnostic> {
        let path = dir.join("tokens.toml");
        let src = std::fs::read_to_string(&path).map_err(|e| {
            Diagnostic::whole_file(&path, format!("cannot read the token hashes: {e}"))
        })?;
        let file: TokensFile = parse_toml(&path, &src)?;
        let mut entries = Vec::new();
        for t in &file.tokens {
            let hash = unhex(&t.sha256).ok_or_else(|| {
                let offset = src.find(&t.sha256).unwrap_or(0);
                Diagnostic::at_offset(&path, &src, offset, "sha256 must be 64 hex digits")
            })?;
            entries.push((hash, t.scope));
        }
        if entries.is_empty() {
            return Err(Diagnostic::whole_file(
                &path,
                "no tokens: nobody could connect (run `fleetdeck agent init --force` for new ones)",
            ));
        }
        Ok(Self { entries })
    }

    /// The scope of a presented token, comparing its hash against every stored hash in
    /// constant time (every entry is compared, whatever matches).
    pub fn verify(&self, presented: &str) -> Option<Scope> {
        let h = digest(presented);
        let mut found = None;
        for (stored, scope) in &self.entries {
            let eq: bool = stored.ct_eq(&h).into();
            if eq && found.is_none_or(|f| *scope > f) {
                found = Some(*scope);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hashes_verify_the_tokens_and_nothing_else() {
        let read = generate().unwrap();
        let exec = generate().unwrap();
        assert_eq!(read.len(), 64);
        assert_ne!(read, exec);
        let text = render(&[(&read, Scope::Read), (&exec, Scope::Exec)]);
        assert!(
            !text.contains(&read) && !text.contains(&exec),
            "raw token stored"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tokens.toml"), text).unwrap();
        let store = TokenStore::load(dir.path()).unwrap();
        assert_eq!(store.verify(&read), Some(Scope::Read));
        assert_eq!(store.verify(&exec), Some(Scope::Exec));
        assert_eq!(store.verify("nope"), None);
        assert_eq!(store.verify(""), None);
    }
}
