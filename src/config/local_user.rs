//! Who and where we are: what OpenSSH's `%u %d %i %l %L` tokens and the default `User` mean,
//! and the `user@machine` that history, audit and agent alert acknowledgements name.

use std::ffi::CStr;
use std::path::PathBuf;

/// The local account and machine a config is resolved for. OpenSSH takes these from the
/// password database (not `$HOME`/`$USER`), so `~` in a config means the same to both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUser {
    /// Login name (`%u`, and the remote user when nothing else names one).
    pub name: String,
    /// Home directory (`~` and `%d`).
    pub home: PathBuf,
    /// Numeric user id (`%i`).
    pub uid: u32,
    /// This machine's host name as gethostname(2) reports it (`%l`; `%L` is up to the first dot).
    pub host_name: String,
}

impl LocalUser {
    /// The account this process runs as: getpwuid(getuid()), falling back to `$USER` and
    /// `$HOME` when the password database has no entry (containers with an arbitrary uid).
    pub fn current() -> LocalUser {
        // SAFETY: getuid cannot fail and has no preconditions.
        let uid = unsafe { libc::getuid() };
        let (pw_name, pw_home) = passwd_entry(uid).unwrap_or_default();
        let name = Some(pw_name)
            .filter(|n| !n.is_empty())
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| uid.to_string());
        let home = Some(pw_home)
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOME").ok().filter(|h| !h.is_empty()))
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/"));
        LocalUser {
            name,
            home,
            uid,
            host_name: host_name().unwrap_or_else(|| "localhost".to_string()),
        }
    }

    /// `%L`: the host name up to its first dot.
    pub fn short_host_name(&self) -> &str {
        self.host_name
            .split('.')
            .next()
            .unwrap_or(self.host_name.as_str())
    }
}

/// Login name and home directory of `uid`, from the password database.
fn passwd_entry(uid: libc::uid_t) -> Option<(String, String)> {
    // SAFETY: sysconf only reads a constant.
    let hint = unsafe { libc::sysconf(libc::_SC_GETPW_R_SIZE_MAX) };
    let mut buf = vec![0u8; usize::try_from(hint).unwrap_or(0).clamp(1024, 1 << 20)];
    // SAFETY: an all-zero passwd is a valid value for getpwuid_r to overwrite.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to memory we own, with its true length; the strings in
    // `pwd` point into `buf`, which outlives their use below.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        )
    };
    if rc != 0 || found.is_null() {
        return None;
    }
    let text = |p: *const libc::c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: a non-null passwd string is NUL-terminated inside `buf`.
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    };
    Some((text(pwd.pw_name), text(pwd.pw_dir)))
}

/// "user@machine" for history and audit: the login name of this process's uid and the host
/// name, falling back to `$USER` and "unknown".
pub fn current_user() -> String {
    let me = LocalUser::current();
    let machine = if me.host_name.is_empty() {
        "unknown"
    } else {
        &me.host_name
    };
    format!("{}@{machine}", me.name)
}

fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into our buffer.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return None;
    }
    // POSIX does not promise a NUL when the name is truncated: stop at the buffer's end.
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_at_machine() {
        let who = current_user();
        let (user, machine) = who.split_once('@').unwrap();
        assert!(!user.is_empty() && !machine.is_empty(), "{who}");
    }
}
