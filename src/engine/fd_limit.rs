//! The open-file limit: every host in flight holds a few descriptors (a socket or pipes, plus
//! the run output file), so a wide fan-out needs the soft limit raised, and fan-out capped to
//! what fits when the hard limit is low.

/// Descriptors kept free for everything else (logs, JSONL files, the terminal, the runtime).
const RESERVED_FDS: u64 = 64;
/// Descriptors one host in flight may hold (SSH socket or a process's three pipes, and slack).
const FDS_PER_HOST: u64 = 4;
/// Used when the hard limit is "unlimited": Linux refuses an infinite RLIMIT_NOFILE and caps
/// it at fs.nr_open, whose default is this.
const NR_OPEN_DEFAULT: u64 = 1 << 20;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft limit now in force.
/// Failures are not errors: the current soft limit is returned (and logged) instead.
pub fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own; no other memory is involved.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "cannot read the open-file limit");
        return RESERVED_FDS + FDS_PER_HOST;
    }
    // rlim_t is u64 on Linux, the platform fleetdeck runs on.
    let soft: u64 = lim.rlim_cur;
    let hard: u64 = lim.rlim_max;
    let target = if lim.rlim_max == libc::RLIM_INFINITY {
        nr_open().unwrap_or(NR_OPEN_DEFAULT)
    } else {
        hard
    };
    if soft >= target {
        return soft;
    }
    let raised = libc::rlimit {
        rlim_cur: target,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit reads the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        tracing::warn!(soft, target, error = %std::io::Error::last_os_error(), "cannot raise the open-file limit");
        return soft;
    }
    tracing::debug!(from = soft, to = target, "raised the open-file limit");
    target
}

/// The widest fan-out `limit` open files allow: `(limit - 64) / 4`, at least 1.
pub fn fanout_for_fd_limit(limit: u64) -> usize {
    let hosts = limit.saturating_sub(RESERVED_FDS) / FDS_PER_HOST;
    usize::try_from(hosts).unwrap_or(usize::MAX).max(1)
}

/// Linux's ceiling for RLIMIT_NOFILE.
fn nr_open() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_reaches_the_hard_limit_and_is_idempotent() {
        let first = raise_fd_limit();
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!(lim.rlim_cur, first);
        if lim.rlim_max != libc::RLIM_INFINITY {
            assert_eq!(lim.rlim_cur, lim.rlim_max);
        }
        assert_eq!(raise_fd_limit(), first);
    }

    #[test]
    fn fanout_fits_the_limit() {
        assert_eq!(fanout_for_fd_limit(1024), 240);
        assert_eq!(fanout_for_fd_limit(64), 1);
        assert_eq!(fanout_for_fd_limit(0), 1);
        assert_eq!(fanout_for_fd_limit(1 << 20), ((1 << 20) - 64) / 4);
    }
}
