//! Questions asked on the terminal: confirming a run in a protected environment, and an SSH
//! key's passphrase. Both only when a person is there to answer.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::diag::Error;
use crate::inventory::Host;
use crate::inventory::nodeset::fold;

/// Asks the operator to type each protected environment's name (`envs`, found by
/// [`crate::action::TargetEnvs`]), one at a time, unless `yes`. Without a
/// terminal on stdin there is nobody to ask: that is an error telling them to pass --yes.
pub fn confirm_protected(hosts: &[Host], envs: &[String], yes: bool) -> Result<(), Error> {
    if yes || envs.is_empty() {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Invalid(format!(
            "this run reaches protected environment {}: pass --yes to confirm (stdin is not a \
             terminal, so fleetdeck cannot ask); nothing was run",
            envs.join(", ")
        )));
    }
    for env in envs {
        let names = fold(
            hosts
                .iter()
                .filter(|h| h.env.as_deref() == Some(env.as_str()))
                .map(|h| h.name.as_str()),
        );
        eprint!(
            "{names} {} in protected environment `{env}`. Type {env} to run there: ",
            is_are(hosts, env)
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| Error::Invalid(format!("cannot read the confirmation from stdin: {e}")))?;
        if answer.trim() != env {
            return Err(Error::Invalid(format!(
                "not confirmed (expected `{env}`); nothing was run"
            )));
        }
    }
    Ok(())
}

fn is_are(hosts: &[Host], env: &str) -> &'static str {
    let n = hosts
        .iter()
        .filter(|h| h.env.as_deref() == Some(env))
        .count();
    if n == 1 { "is" } else { "are" }
}

/// Reads a passphrase for `key` from /dev/tty with echo off. `None` when there is no terminal
/// (the transport then reports a clear error instead of hanging).
pub fn read_passphrase(key: &Path) -> Option<String> {
    read_hidden(&format!("Passphrase for {}: ", key.display()))
}

/// Asks `question` on stderr and reads one line from stdin (the caller checked it is a
/// terminal), without its line end.
pub fn ask(question: &str) -> Result<String, Error> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Invalid(format!("cannot read the answer from stdin: {e}")))?;
    Ok(answer.trim_end_matches(['\n', '\r']).to_string())
}

/// Shows `prompt` on /dev/tty and reads a line with echo off (passphrases, secret action
/// parameters). `None` when there is no terminal.
pub fn read_hidden(prompt: &str) -> Option<String> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let fd = tty.as_raw_fd();
    // SAFETY: an all-zero termios is a valid value for tcgetattr to overwrite.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr writes into the struct we own, for a descriptor we hold open.
    if unsafe { libc::tcgetattr(fd, &mut term) } != 0 {
        return None;
    }
    let saved = term;
    term.c_lflag &= !libc::ECHO;
    term.c_lflag |= libc::ECHONL;
    // SAFETY: as above; the struct is fully initialised by tcgetattr.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) };
    let mut writer = &tty;
    let _ = write!(writer, "{prompt}");
    let _ = writer.flush();
    let mut line = String::new();
    let read = BufReader::new(&tty).read_line(&mut line);
    // SAFETY: restores the settings read above on the same descriptor.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    read.ok()?;
    let pass = line.trim_end_matches(['\n', '\r']).to_string();
    Some(pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_or_nothing_protected_asks_nothing() {
        let mut a = Host::ad_hoc("a");
        a.env = Some("prod".into());
        assert!(confirm_protected(std::slice::from_ref(&a), &["prod".into()], true).is_ok());
        assert!(confirm_protected(&[a], &[], false).is_ok());
    }
}
