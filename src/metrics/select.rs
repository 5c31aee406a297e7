//! Which interfaces and file systems a host's figures add up: one rule for every source (the
//! agent's sysinfo sampler and the SSH probe), so a host reads the same whichever reports it.

use std::collections::{HashMap, HashSet};

/// Left out of network rates: loopback traffic is the machine talking to itself (the agent's
/// own loopback connections among it), not fleet traffic.
pub const LOOPBACK: &str = "lo";

/// Mount points under these are the kernel's and the container runtime's, not storage.
pub const PSEUDO_MOUNT_PREFIXES: [&str; 3] = ["/proc", "/sys", "/dev"];

/// The interfaces whose traffic the rates add up: the ones with hardware behind them, so a
/// packet from a container is not counted on its veth, the bridge and the NIC alike. Where
/// every interface is virtual (inside a container, or a VM with only virtual links) all of
/// them but loopback count.
pub fn counted_interfaces<'a>(
    names: impl Iterator<Item = &'a str>,
    is_virtual: impl Fn(&str) -> bool,
) -> HashSet<&'a str> {
    let all: HashSet<&str> = names.filter(|n| *n != LOOPBACK).collect();
    let physical: HashSet<&str> = all.iter().copied().filter(|n| !is_virtual(n)).collect();
    if physical.is_empty() { all } else { physical }
}

/// One mounted file system as a source lists it (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub device: String,
    /// The file system type, where the source knows it (empty otherwise).
    pub fs: String,
    pub mount: String,
    pub total: u64,
    pub available: u64,
}

impl Mount {
    /// Used bytes as the views count them: all but what is available to users.
    pub fn used(&self) -> u64 {
        self.total.saturating_sub(self.available)
    }

    /// Used share in percent.
    pub fn used_pct(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.used() as f64 * 100.0 / self.total as f64
        }
    }
}

/// The mounts worth showing, sorted by mount point (sources leave out proc, sysfs, tmpfs,
/// squashfs and the like first). On top of that this drops:
/// - mounts of size 0 (autofs placeholders and other empty pseudo mounts);
/// - mounts under `/proc`, `/sys` and `/dev`;
/// - the same file system mounted more than once (bind mounts, and the files a container
///   runtime bind-mounts such as `/etc/hosts`): one entry per (device, type, size), under its
///   shortest mount point, so a disk is not counted twice.
///
/// Overlay roots (containers) are kept: they are where the container's writes go.
pub fn real_mounts(mounts: impl Iterator<Item = Mount>) -> Vec<Mount> {
    let mut by_fs: HashMap<(String, String, u64), Mount> = HashMap::new();
    for m in mounts {
        if m.total == 0 {
            continue;
        }
        if PSEUDO_MOUNT_PREFIXES
            .iter()
            .any(|p| m.mount == *p || m.mount.starts_with(&format!("{p}/")))
        {
            continue;
        }
        by_fs
            .entry((m.device.clone(), m.fs.clone(), m.total))
            .and_modify(|kept| {
                if (m.mount.len(), &m.mount) < (kept.mount.len(), &kept.mount) {
                    *kept = m.clone();
                }
            })
            .or_insert(m);
    }
    let mut mounts: Vec<Mount> = by_fs.into_values().collect();
    mounts.sort_by(|a, b| a.mount.cmp(&b.mount));
    mounts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_selection_drops_pseudo_and_duplicate_mounts() {
        let mounts = [
            ("/dev/vda", "ext4", "/etc/hosts", 100, 40),
            ("/dev/vda", "ext4", "/", 100, 40),
            ("/dev/vda", "ext4", "/etc/resolv.conf", 100, 40),
            ("/dev/vdb", "xfs", "/data", 500, 500),
            ("overlay", "overlay", "/var/lib/docker/x/merged", 300, 100),
            ("shm", "tmpfs", "/dev/shm", 64, 64),
            ("none", "autofs", "/mnt/auto", 0, 0),
            ("cg", "cgroup2", "/sys/fs/cgroup", 10, 10),
        ];
        let got = real_mounts(
            mounts
                .iter()
                .map(|(device, fs, mount, total, available)| Mount {
                    device: device.to_string(),
                    fs: fs.to_string(),
                    mount: mount.to_string(),
                    total: *total,
                    available: *available,
                }),
        );
        let shown: Vec<(&str, u64, u64)> = got
            .iter()
            .map(|m| (m.mount.as_str(), m.used(), m.total))
            .collect();
        assert_eq!(
            shown,
            [
                ("/", 60, 100),
                ("/data", 0, 500),
                ("/var/lib/docker/x/merged", 200, 300),
            ]
        );
    }

    #[test]
    fn network_rates_count_hardware_interfaces_or_else_all_but_loopback() {
        let host = ["lo", "eth0", "docker0", "veth12ab"];
        let virt = |n: &str| n != "eth0";
        let got = counted_interfaces(host.into_iter(), virt);
        assert_eq!(got, HashSet::from(["eth0"]));
        let container = ["lo", "eth0"];
        let got = counted_interfaces(container.into_iter(), |_| true);
        assert_eq!(got, HashSet::from(["eth0"]));
    }
}
