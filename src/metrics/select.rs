//! Which interfaces and file systems a host's figures add up: one rule for every source (the
//! agent's sysinfo sampler, the SSH probe and node_exporter scrapes), so a host reads the same
//! whichever reports it.

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

/// Name prefixes of interfaces with no hardware behind them, for sources that see only names
/// (node_exporter has no /sys/devices/virtual/net list): loopback, container and VM links,
/// bridges, tunnels and VPNs, and bonds and teams (their member NICs carry the same bytes).
pub const VIRTUAL_INTERFACE_PREFIXES: [&str; 26] = [
    "lo",
    "veth",
    "docker",
    "br",
    "virbr",
    "vnet",
    "tun",
    "tap",
    "ifb",
    "dummy",
    "wg",
    "tailscale",
    "zt",
    "flannel",
    "cni",
    "cali",
    "vxlan",
    "genev",
    "kube-",
    "lxc",
    "bond",
    "team",
    "gre",
    "sit",
    "ip6tnl",
    "tunl",
];

/// Whether an interface looks virtual by its name alone (see
/// [`VIRTUAL_INTERFACE_PREFIXES`]); a VLAN (`eth0.100`) is virtual too. A guess, for sources
/// without sysfs: an unknown name counts as hardware, so nothing is left out by mistake.
pub fn is_virtual_interface_name(name: &str) -> bool {
    VIRTUAL_INTERFACE_PREFIXES
        .iter()
        .any(|p| name.starts_with(p))
        || name.contains('.')
}

/// Whether a file system a source lists is storage: a device under /dev/ other than a loop
/// device (snaps, images), or a container's overlay root. Tmpfs, network and pseudo file
/// systems are left out.
pub fn is_storage(device: &str) -> bool {
    (device.starts_with("/dev/") && !device.starts_with("/dev/loop")) || device == "overlay"
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

    #[test]
    fn interface_names_tell_virtual_links_apart() {
        for name in [
            "lo", "veth12ab", "docker0", "br-1a2b", "virbr0", "eth0.100", "bond0",
        ] {
            assert!(is_virtual_interface_name(name), "{name}");
        }
        for name in ["eth0", "ens3", "enp0s31f6", "wlan0", "eno1"] {
            assert!(!is_virtual_interface_name(name), "{name}");
        }
        let host = ["lo", "eth0", "docker0", "veth12ab", "br-1a2b"];
        let got = counted_interfaces(host.into_iter(), is_virtual_interface_name);
        assert_eq!(got, HashSet::from(["eth0"]));
    }

    #[test]
    fn storage_is_a_block_device_or_an_overlay_root() {
        assert!(is_storage("/dev/vda1"));
        assert!(is_storage("/dev/mapper/vg-root"));
        assert!(is_storage("overlay"));
        assert!(!is_storage("/dev/loop3"));
        assert!(!is_storage("tmpfs"));
        assert!(!is_storage("server:/export"));
    }
}
