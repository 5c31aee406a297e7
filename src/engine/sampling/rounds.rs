//! The shape every periodic collector shares: a round of jobs every interval (a tick that
//! falls behind waits, never bursts), the jobs side by side, each result handed over as its
//! job ends, so a slow host delays nobody; everything stops on `stop`. Bounding how many jobs
//! work at once is the jobs' own business (a probe holds its permit while it reads, not while
//! it waits between two readings).

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// Runs `round()`'s jobs every `every` until `stop`; `done` gets each result. A round whose
/// jobs are still running when the next is due finishes first.
pub(crate) async fn every<R, J>(
    every: Duration,
    stop: &CancellationToken,
    mut round: impl FnMut() -> Vec<J>,
    mut done: impl FnMut(R),
) where
    J: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let mut jobs = JoinSet::new();
        for job in round() {
            jobs.spawn(job);
        }
        loop {
            let joined = tokio::select! {
                () = stop.cancelled() => return,
                j = jobs.join_next() => j,
            };
            match joined {
                None => break,
                Some(Ok(result)) => done(result),
                // A job that panicked says nothing about the others.
                Some(Err(e)) => tracing::warn!(error = %e, "a sampling job failed"),
            }
        }
    }
}
