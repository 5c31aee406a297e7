//! Host key trust: our own known_hosts reader, because russh's skips `@revoked` (a security
//! gap), wildcards, negation and case (see SSH-NOTES.md).
//!
//! Supported, as OpenSSH's hostfile.c reads it:
//! - Host fields: plain names, comma lists, `[host]:port`, wildcards `*` `?`, negation `!`
//!   (a matching negated pattern excludes the line), hashed `|1|salt|hash` (HMAC-SHA1, as
//!   written by `ssh-keygen -H` or `HashKnownHosts yes`); names compare case-insensitively.
//! - `@revoked`: a key on any `@revoked` line, in any file and whatever that line's host
//!   patterns, is [`HostKeyCheck::Revoked`] before anything else is looked at. (OpenSSH only
//!   consults revocations whose patterns match the host; refusing a revoked key everywhere is
//!   stricter and never lets a compromised key through.)
//! - Verdicts follow OpenSSH's `check_key_in_hostkeys`: the same key on any line for the name
//!   is [`HostKeyCheck::Known`]; else a different key of the same type (ECDSA curves count as
//!   types) is [`HostKeyCheck::Changed`], naming the first such line; else
//!   [`HostKeyCheck::Unknown`], also when the host has keys of other types only. Like ssh, a
//!   client that prefers the types it already knows ([`KnownHosts::known_key_types`]) avoids
//!   that case; a new type for a known host is "unknown", as ssh treats it.
//! - Files are read in order (user files, then global ones); missing files are fine; an
//!   unreadable file is an error naming it; malformed lines (and keys of types this build
//!   cannot read) are skipped, counted and described in [`KnownHosts::problems`].
//!
//! Not supported: `@cert-authority` lines are counted ([`LoadStats::cert_authority`]) and
//! otherwise ignored: fleetdeck does not accept host certificates yet, so a host that only a CA
//! line vouches for is `Unknown`. `CheckHostIP` (matching the address too) and
//! `RevokedHostKeys` files are not consulted.

mod entry;
mod learn;

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use russh::keys::{HashAlg, PublicKey};

use crate::diag::Error;
use entry::{Entry, Marker, lookup_name, parse_line};
pub use learn::learn;

/// How many malformed lines [`KnownHosts::problems`] describes (all are counted).
const MAX_PROBLEMS: usize = 100;

/// The verdict on a host key presented by a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyCheck {
    /// A line for this host holds this key.
    Known,
    /// No line for this host holds a key of this type.
    Unknown { fingerprint: String },
    /// A line for this host holds a different key of the same type: refuse, loudly.
    Changed {
        fingerprint: String,
        file: PathBuf,
        line: usize,
    },
    /// The key is marked `@revoked`.
    Revoked { file: PathBuf, line: usize },
}

/// What loading found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Files that existed and were read.
    pub files_read: usize,
    /// Usable host key lines (without markers).
    pub entries: usize,
    /// `@revoked` lines.
    pub revoked: usize,
    /// `@cert-authority` lines (ignored).
    pub cert_authority: usize,
    /// Lines skipped as unreadable.
    pub malformed: usize,
}

/// The known_hosts files of one connection, in order, parsed once and checked many times.
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    files: Vec<PathBuf>,
    entries: Vec<Entry>,
    /// Entries whose host field is plain names only, by lowercased name.
    by_name: HashMap<String, Vec<usize>>,
    /// Entries that must be matched one by one (wildcards, negations, hashed).
    patterned: Vec<usize>,
    revoked: Vec<usize>,
    stats: LoadStats,
    problems: Vec<String>,
}

impl KnownHosts {
    /// Reads `files` in order. Missing files are fine; an unreadable one is an error naming
    /// it; malformed lines are skipped and counted.
    pub fn load(files: &[PathBuf]) -> Result<KnownHosts, Error> {
        let mut kh = KnownHosts {
            files: files.to_vec(),
            ..KnownHosts::default()
        };
        for (index, path) in files.iter().enumerate() {
            let bytes = match fs::read(path) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(path, "cannot read known_hosts", e)),
            };
            kh.stats.files_read += 1;
            kh.add_file(index, path, &String::from_utf8_lossy(&bytes));
        }
        Ok(kh)
    }

    fn add_file(&mut self, file: usize, path: &Path, text: &str) {
        for (i, line) in text.lines().enumerate() {
            let (marker, hosts, key) = match parse_line(line) {
                Ok(Some(parsed)) => parsed,
                Ok(None) => continue,
                Err(why) => {
                    self.stats.malformed += 1;
                    if self.problems.len() < MAX_PROBLEMS {
                        self.problems
                            .push(format!("{}:{}: skipped: {why}", path.display(), i + 1));
                    }
                    continue;
                }
            };
            let index = self.entries.len();
            match marker {
                Marker::CertAuthority => {
                    self.stats.cert_authority += 1;
                    continue;
                }
                Marker::Revoked => {
                    self.stats.revoked += 1;
                    self.revoked.push(index);
                }
                Marker::None => {
                    self.stats.entries += 1;
                    match hosts.plain_names() {
                        Some(names) => {
                            for name in names {
                                self.by_name
                                    .entry(name.to_string())
                                    .or_default()
                                    .push(index);
                            }
                        }
                        None => self.patterned.push(index),
                    }
                }
            }
            self.entries.push(Entry {
                file,
                line: i + 1,
                hosts,
                key,
            });
        }
    }

    /// Checks the key a server presented. `name` is what OpenSSH looks up: HostKeyAlias if set
    /// (then pass port 22: ssh stores an alias without a port), else the host name; it is
    /// matched as `name` for port 22 and `[name]:port` otherwise. See
    /// `ResolvedHost::host_key_target`.
    pub fn check(&self, name: &str, port: u16, key: &PublicKey) -> HostKeyCheck {
        let presented = key.key_data();
        if let Some(e) = self
            .revoked
            .iter()
            .map(|&i| &self.entries[i])
            .find(|e| &e.key == presented)
        {
            return HostKeyCheck::Revoked {
                file: self.files[e.file].clone(),
                line: e.line,
            };
        }
        let lookup = lookup_name(name, port);
        let lines = self.lines_for(&lookup);
        if lines.iter().any(|e| &e.key == presented) {
            return HostKeyCheck::Known;
        }
        let algorithm = presented.algorithm();
        match lines.iter().find(|e| e.key.algorithm() == algorithm) {
            Some(e) => HostKeyCheck::Changed {
                fingerprint: fingerprint(key),
                file: self.files[e.file].clone(),
                line: e.line,
            },
            None => HostKeyCheck::Unknown {
                fingerprint: fingerprint(key),
            },
        }
    }

    /// Key types (e.g. `ssh-ed25519`) already known for the host, in file order without
    /// repeats: a client should offer these host key algorithms first, as ssh does, so that a
    /// host with a known key never shows a new one.
    pub fn known_key_types(&self, name: &str, port: u16) -> Vec<String> {
        let mut types: Vec<String> = Vec::new();
        for e in self.lines_for(&lookup_name(name, port)) {
            let t = e.key.algorithm().to_string();
            if !types.contains(&t) {
                types.push(t);
            }
        }
        types
    }

    /// The plain (unmarked) lines for a lookup name, in file order.
    fn lines_for(&self, lookup: &str) -> Vec<&Entry> {
        let mut indexes: Vec<usize> = self.by_name.get(lookup).cloned().unwrap_or_default();
        indexes.extend(
            self.patterned
                .iter()
                .copied()
                .filter(|&i| self.entries[i].hosts.matches(lookup)),
        );
        indexes.sort_unstable();
        indexes.dedup();
        indexes.into_iter().map(|i| &self.entries[i]).collect()
    }

    /// The files given to [`load`](Self::load), in order (missing ones included).
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    pub fn stats(&self) -> &LoadStats {
        &self.stats
    }

    /// `file:line: skipped: why` for the first malformed lines.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

/// `SHA256:…` (unpadded base64), as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}
