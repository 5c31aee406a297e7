//! Where fleetdeck keeps its files: XDG folders through `directories`, or one folder given by
//! `--home DIR` / `FLEETDECK_HOME` (config, data, state and logs under it).

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::diag::Error;

/// Where the home came from, shown by `fleetdeck paths`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeSource {
    /// `--home DIR` or `FLEETDECK_HOME` (clap reads both into one flag).
    Explicit,
    /// The platform's XDG folders.
    Xdg,
}

/// The resolved folders. Nothing is created until something is written (`ensure_*`).
#[derive(Debug, Clone)]
pub struct Home {
    pub source: HomeSource,
    pub root: Option<PathBuf>,
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl Home {
    /// Resolves the home: an explicit folder wins, else XDG.
    pub fn resolve(explicit: Option<&Path>) -> Result<Self, Error> {
        if let Some(root) = explicit {
            return Ok(Self::under(root));
        }
        let dirs = directories::ProjectDirs::from("", "", "fleetdeck").ok_or_else(|| {
            Error::Invalid(
                "cannot find a home folder for fleetdeck (no $HOME?): pass --home DIR or set FLEETDECK_HOME"
                    .to_string(),
            )
        })?;
        // Not every platform has a state folder; fall back to the data folder there.
        let state_dir = dirs
            .state_dir()
            .map_or_else(|| dirs.data_local_dir().join("state"), Path::to_path_buf);
        Ok(Self {
            source: HomeSource::Xdg,
            root: None,
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
            log_dir: state_dir.join("logs"),
            state_dir,
        })
    }

    /// Everything under one folder.
    pub fn under(root: &Path) -> Self {
        Self {
            source: HomeSource::Explicit,
            root: Some(root.to_path_buf()),
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            state_dir: root.join("state"),
            log_dir: root.join("logs"),
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
    pub fn hosts_file(&self) -> PathBuf {
        self.config_dir.join("hosts.toml")
    }
    pub fn actions_dir(&self) -> PathBuf {
        self.config_dir.join("actions")
    }
    /// Incident rules: hints and actions to prefill (runbooks.toml).
    pub fn runbooks_file(&self) -> PathBuf {
        self.config_dir.join("runbooks.toml")
    }
    pub fn themes_dir(&self) -> PathBuf {
        self.config_dir.join("themes")
    }
    pub fn keymaps_dir(&self) -> PathBuf {
        self.config_dir.join("keymaps")
    }
    pub fn history_file(&self) -> PathBuf {
        self.data_dir.join("history.jsonl")
    }
    pub fn audit_file(&self) -> PathBuf {
        self.data_dir.join("audit.jsonl")
    }
    pub fn incidents_file(&self) -> PathBuf {
        self.data_dir.join("incidents.jsonl")
    }
    pub fn runs_dir(&self) -> PathBuf {
        self.data_dir.join("runs")
    }
    pub fn metrics_dir(&self) -> PathBuf {
        self.data_dir.join("metrics")
    }
    /// The newest counts a running console, watcher or wallboard wrote (`fleetdeck status`).
    pub fn status_file(&self) -> PathBuf {
        self.data_dir.join("status.json")
    }
    /// Held (flock) by the one `fleetdeck watch` of this home, with its pid, user@host and
    /// start time inside.
    pub fn watch_lock_file(&self) -> PathBuf {
        self.state_dir.join("watch.lock")
    }
    /// `fleetdeck agent`'s folder (certificate, key, tokens, policy, alert journal).
    pub fn agent_dir(&self) -> PathBuf {
        self.data_dir.join("agent")
    }
    /// fleetdeck's own known_hosts, consulted after the user's.
    pub fn known_hosts_file(&self) -> PathBuf {
        self.state_dir.join("known_hosts")
    }

    /// Creates the data, state and log folders (0700) before something is written there.
    pub fn ensure_writable_dirs(&self) -> Result<(), Error> {
        for dir in [&self.data_dir, &self.state_dir, &self.log_dir] {
            ensure_private_dir(dir)?;
        }
        Ok(())
    }
}

/// Creates `dir` and missing parents with mode 0700. An existing folder is left as it is:
/// the user may have loosened it on purpose.
pub fn ensure_private_dir(dir: &Path) -> Result<(), Error> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(dir, "cannot create folder", e))
}

/// Writes a whole file atomically (temp file in the same folder, then rename) with mode 0600,
/// so a crash never leaves a half-written config behind.
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        ensure_private_dir(parent)?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600))?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, "cannot write file", e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn explicit_home_puts_everything_under_it() {
        let home = Home::under(Path::new("/tmp/fd"));
        assert_eq!(home.config_file(), Path::new("/tmp/fd/config/config.toml"));
        assert_eq!(home.history_file(), Path::new("/tmp/fd/data/history.jsonl"));
        assert_eq!(home.log_dir, Path::new("/tmp/fd/logs"));
    }

    #[test]
    fn created_folders_and_files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::under(&tmp.path().join("h"));
        home.ensure_writable_dirs().unwrap();
        let mode = fs::metadata(&home.data_dir).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let f = home.config_dir.join("x.toml");
        write_private_file(&f, b"a = 1\n").unwrap();
        assert_eq!(fs::metadata(&f).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::read_to_string(&f).unwrap(), "a = 1\n");
    }
}
