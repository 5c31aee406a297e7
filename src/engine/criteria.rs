//! Success criteria of a host: which exit codes count as success, text its output must or
//! must not contain, and how long it may take. Output is watched as it streams by, keeping
//! only a small window per stream so text split across chunks is still found.

use std::time::Duration;

use super::types::{HostState, Stream, SuccessCriteria};
use crate::transport::ExitOutcome;

/// Starts the first-error line and stderr note of a host whose criteria are not met.
pub const UNMET_PREFIX: &str = "success criteria not met: ";

/// Watches one attempt's output for the criteria's texts.
#[derive(Debug)]
pub struct OutputWatch {
    /// (needle, seen) for `output_contains`, then for `output_not_contains`.
    contains: Vec<(Vec<u8>, bool)>,
    not_contains: Vec<(Vec<u8>, bool)>,
    /// The last `keep` bytes of each stream, where a needle may have started.
    tails: [Vec<u8>; 2],
    keep: usize,
}

impl OutputWatch {
    pub fn new(criteria: &SuccessCriteria) -> Self {
        let needles = |list: &[String]| -> Vec<(Vec<u8>, bool)> {
            list.iter()
                .filter(|s| !s.is_empty())
                .map(|s| (s.as_bytes().to_vec(), false))
                .collect()
        };
        let contains = needles(&criteria.output_contains);
        let not_contains = needles(&criteria.output_not_contains);
        let longest = contains
            .iter()
            .chain(&not_contains)
            .map(|(n, _)| n.len())
            .max()
            .unwrap_or(0);
        OutputWatch {
            contains,
            not_contains,
            tails: [Vec::new(), Vec::new()],
            keep: longest.saturating_sub(1),
        }
    }

    fn active(&self) -> bool {
        self.contains.iter().any(|(_, seen)| !seen)
            || self.not_contains.iter().any(|(_, seen)| !seen)
    }

    /// Looks at the next piece of `stream`.
    pub fn feed(&mut self, stream: Stream, bytes: &[u8]) {
        if !self.active() || bytes.is_empty() {
            return;
        }
        let tail = &mut self.tails[stream_index(stream)];
        let mut window = std::mem::take(tail);
        window.extend_from_slice(bytes);
        for (needle, seen) in self.contains.iter_mut().chain(&mut self.not_contains) {
            if !*seen && find(&window, needle) {
                *seen = true;
            }
        }
        let from = window.len().saturating_sub(self.keep);
        window.drain(..from);
        *tail = window;
    }

    /// What is not met, in words: `output lacks "active (running)"`.
    fn unmet(&self) -> Vec<String> {
        let missing = self
            .contains
            .iter()
            .filter(|(_, seen)| !seen)
            .map(|(n, _)| format!("output lacks \"{}\"", String::from_utf8_lossy(n)));
        let present = self
            .not_contains
            .iter()
            .filter(|(_, seen)| *seen)
            .map(|(n, _)| format!("output contains \"{}\"", String::from_utf8_lossy(n)));
        missing.chain(present).collect()
    }
}

fn stream_index(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

/// Whether `needle` (non-empty) occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    hay.iter()
        .enumerate()
        .any(|(i, &b)| b == first && hay.get(i + 1..i + needle.len()).is_some_and(|r| r == rest))
}

/// An attempt's final state under the criteria: an exit code listed in `exit_codes` is a
/// success; a success with unmet output or duration criteria is a failure. Returns the
/// state and, when a criterion turned it into a failure, why (`success criteria not met: …`).
/// States other than an exit (timeouts, errors, cancels) pass through unchanged.
pub fn judge(
    criteria: &SuccessCriteria,
    state: HostState,
    watch: &OutputWatch,
    took: Duration,
) -> (HostState, Option<String>) {
    let code = match &state {
        HostState::Ok => 0,
        HostState::Failed {
            outcome: ExitOutcome::Code { code },
        } => *code,
        _ => return (state, None),
    };
    let mut unmet = Vec::new();
    let code_ok = if criteria.exit_codes.is_empty() {
        code == 0
    } else {
        criteria.exit_codes.contains(&code)
    };
    if !code_ok {
        if code != 0 {
            // An ordinary failure: its stderr says more than the criteria would.
            return (state, None);
        }
        unmet.push(format!(
            "exit code 0 is not one of {:?}",
            criteria.exit_codes
        ));
    }
    unmet.extend(watch.unmet());
    if let Some(max) = criteria.max_duration
        && took > max
    {
        unmet.push(format!(
            "took {:.1}s, more than the {:.1}s allowed",
            took.as_secs_f64(),
            max.as_secs_f64()
        ));
    }
    if unmet.is_empty() {
        return (HostState::Ok, None);
    }
    let why = format!("{UNMET_PREFIX}{}", unmet.join("; "));
    let failed = HostState::Failed {
        outcome: ExitOutcome::Code { code },
    };
    (failed, Some(why))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criteria() -> SuccessCriteria {
        SuccessCriteria::default()
    }

    fn failed(code: i32) -> HostState {
        HostState::Failed {
            outcome: ExitOutcome::Code { code },
        }
    }

    #[test]
    fn defaults_change_nothing() {
        let c = criteria();
        let w = OutputWatch::new(&c);
        let t = Duration::from_secs(1);
        assert_eq!(judge(&c, HostState::Ok, &w, t), (HostState::Ok, None));
        assert_eq!(judge(&c, failed(1), &w, t), (failed(1), None));
        let timeout = HostState::Timeout {
            outcome: ExitOutcome::TimedOut { after_ms: 3 },
        };
        assert_eq!(judge(&c, timeout.clone(), &w, t), (timeout, None));
    }

    #[test]
    fn listed_exit_codes_succeed() {
        let c = SuccessCriteria {
            exit_codes: vec![0, 3],
            ..criteria()
        };
        let w = OutputWatch::new(&c);
        let t = Duration::ZERO;
        assert_eq!(judge(&c, failed(3), &w, t).0, HostState::Ok);
        assert_eq!(judge(&c, HostState::Ok, &w, t).0, HostState::Ok);
        assert_eq!(judge(&c, failed(1), &w, t), (failed(1), None));
        let only_one = SuccessCriteria {
            exit_codes: vec![1],
            ..criteria()
        };
        let (state, why) = judge(&only_one, HostState::Ok, &w, t);
        assert_eq!(state, failed(0));
        assert_eq!(
            why.as_deref(),
            Some("success criteria not met: exit code 0 is not one of [1]")
        );
    }

    #[test]
    fn text_split_across_chunks_and_streams() {
        let c = SuccessCriteria {
            output_contains: vec!["active (running)".into(), "ready".into()],
            output_not_contains: vec!["ERROR".into()],
            ..criteria()
        };
        let mut w = OutputWatch::new(&c);
        for piece in ["Active: act", "ive (r", "u", "nning) since"] {
            w.feed(Stream::Stdout, piece.as_bytes());
        }
        // A needle is not made of the end of one stream and the start of the other.
        w.feed(Stream::Stdout, b"rea");
        w.feed(Stream::Stderr, b"dy");
        let (state, why) = judge(&c, HostState::Ok, &w, Duration::ZERO);
        assert_eq!(state, failed(0));
        assert_eq!(
            why.as_deref(),
            Some("success criteria not met: output lacks \"ready\"")
        );
        w.feed(Stream::Stderr, b"\nready\nERR");
        w.feed(Stream::Stderr, b"OR: disk");
        let (_, why) = judge(&c, HostState::Ok, &w, Duration::ZERO);
        assert_eq!(
            why.as_deref(),
            Some("success criteria not met: output contains \"ERROR\"")
        );
        // Only a window of needle length is kept.
        assert!(w.tails.iter().all(|t| t.len() < "active (running)".len()));
    }

    #[test]
    fn long_output_keeps_a_small_window() {
        let c = SuccessCriteria {
            output_contains: vec!["needle".into()],
            ..criteria()
        };
        let mut w = OutputWatch::new(&c);
        for _ in 0..100 {
            w.feed(Stream::Stdout, &[b'x'; 4096]);
            assert!(w.tails[0].len() <= 5);
        }
        w.feed(Stream::Stdout, b"nee");
        w.feed(Stream::Stdout, b"dle");
        assert_eq!(
            judge(&c, HostState::Ok, &w, Duration::ZERO).0,
            HostState::Ok
        );
    }

    #[test]
    fn max_duration() {
        let c = SuccessCriteria {
            max_duration: Some(Duration::from_secs(2)),
            ..criteria()
        };
        let w = OutputWatch::new(&c);
        assert_eq!(
            judge(&c, HostState::Ok, &w, Duration::from_secs(1)).0,
            HostState::Ok
        );
        let (state, why) = judge(&c, HostState::Ok, &w, Duration::from_millis(2500));
        assert_eq!(state, failed(0));
        assert_eq!(
            why.as_deref(),
            Some("success criteria not met: took 2.5s, more than the 2.0s allowed")
        );
    }

    #[test]
    fn substring_search() {
        assert!(find(b"abcabd", b"abd"));
        assert!(!find(b"abcab", b"abd"));
        assert!(find(b"x", b"x"));
        assert!(!find(b"", b"x"));
    }
}
