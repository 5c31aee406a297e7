//! Running the `fleetdeck` binary against a throwaway home.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;

use super::sshd::SshdFleet;

/// Liveness bound for one run of the binary (never a speed assertion).
const TIMEOUT: Duration = Duration::from_secs(60);

/// `fleetdeck --home HOME`, unaffected by the caller's FLEETDECK_HOME, FLEETDECK_LOG and
/// NO_COLOR.
pub fn fleetdeck(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("fleetdeck").unwrap();
    cmd.arg("--home")
        .arg(home)
        .env_remove("FLEETDECK_HOME")
        .env_remove("FLEETDECK_LOG")
        .env_remove("NO_COLOR")
        .timeout(TIMEOUT);
    cmd
}

/// Writes `HOME/config/NAME` (NAME may have folders), creating the folders.
pub fn write_config(home: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = home.join("config").join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, contents).unwrap();
    path
}

/// A fresh home whose `config/hosts.toml` is `hosts_toml`.
pub fn home_with(hosts_toml: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), "hosts.toml", hosts_toml);
    home
}

/// A fresh home whose hosts.toml lists the fleet's aliases, then `extra` entries.
pub fn ssh_home(fleet: &SshdFleet, extra: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let hosts = home.path().join("config/hosts.toml");
    fs::create_dir_all(hosts.parent().unwrap()).unwrap();
    fleet.write_hosts_toml(&hosts).unwrap();
    let mut text = fs::read_to_string(&hosts).unwrap();
    text.push_str(extra);
    fs::write(&hosts, text).unwrap();
    home
}

/// Where the run history of `home` is recorded.
pub fn history_file(home: &Path) -> PathBuf {
    home.join("data/history.jsonl")
}

/// How one run of the binary ended.
pub struct Out {
    /// The exit code; -1 when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Out {
    fn from(out: Output) -> Self {
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// `fleetdeck --home HOME ARGS…`, run to its end.
pub fn run(home: &Path, args: &[&str]) -> Out {
    fleetdeck(home).args(args).output().unwrap().into()
}

/// A loopback port with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A hosts.toml entry for `name`: an ssh host at a loopback port nothing listens on.
pub fn unreachable_host(name: &str) -> String {
    let port = closed_port();
    format!("\n[[hosts]]\nname = \"{name}\"\naddress = \"127.0.0.1\"\nport = {port}\n")
}

/// How many times `needle` stands in the fleet's sshd log.
pub fn count_in_log(fleet: &SshdFleet, needle: &str) -> usize {
    fs::read_to_string(fleet.log_path())
        .unwrap_or_default()
        .matches(needle)
        .count()
}

/// Writes `dir/ssh_config_encrypted`: the fleet's ssh_config with every host logging in
/// through the encrypted user key, and no ssh-agent to fall back on. Returns its path.
pub fn encrypted_key_ssh_config(fleet: &SshdFleet, dir: &Path) -> PathBuf {
    let config = dir.join("ssh_config_encrypted");
    let text = fs::read_to_string(fleet.ssh_config_path())
        .unwrap()
        .replace(
            &format!("IdentityFile {}\n", fleet.user_key_path().display()),
            &format!(
                "IdentityFile {}\n    IdentityAgent none\n",
                fleet.encrypted_user_key_path().display()
            ),
        );
    assert!(text.contains("IdentityAgent none"), "{text}");
    fs::write(&config, text).unwrap();
    config
}
