//! Logging: tracing into daily-rotated JSON files under the logs folder, never the terminal
//! (the console owns it, and CLI output is for people and pipes); `fleetdeck watch`, which has
//! no terminal of its own, logs the same JSON to stderr for its service manager.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

use crate::config::Home;
use crate::config::home::ensure_private_dir;
use crate::config::settings::LogLevel;
use crate::diag::Error;

/// Keeps the background log writer alive; dropping it flushes.
pub struct LogGuard {
    _guard: WorkerGuard,
}

/// Days of log files kept.
const KEEP_DAYS: usize = 14;

/// The filter in force: `FLEETDECK_LOG` (tracing syntax) wins, then `-v`, then config.
pub fn filter(env: Option<&str>, verbose: u8, configured: LogLevel) -> Result<EnvFilter, Error> {
    if let Some(spec) = env.filter(|s| !s.trim().is_empty()) {
        // A directive of the user's for tungstenite would beat ours (more specific wins).
        let spec = spec
            .split(',')
            .filter(|d| !is_websocket_directive(d))
            .collect::<Vec<_>>()
            .join(",");
        let filter = EnvFilter::try_new(&spec).map_err(|e| {
            Error::Invalid(format!(
                "FLEETDECK_LOG=`{spec}` is not a valid log filter ({e}); try e.g. FLEETDECK_LOG=debug"
            ))
        })?;
        return Ok(without_secrets(filter));
    }
    let level = match verbose {
        0 => configured.as_str(),
        1 => "debug",
        _ => "trace",
    };
    // Dependencies stay at warn so -v shows fleetdeck's own detail, not every russh packet.
    EnvFilter::try_new(format!("warn,fleetdeck={level}"))
        .map(without_secrets)
        .map_err(|e| Error::Invalid(format!("log level `{level}`: {e}")))
}

fn is_websocket_directive(directive: &str) -> bool {
    let target = directive.trim().trim_start_matches('[');
    target.starts_with("tungstenite") || target.starts_with("tokio_tungstenite")
}

/// tungstenite logs the whole upgrade request, `Authorization: Bearer` included, at debug and
/// trace: its targets are held at info whatever the filter asks, so tokens never reach a log.
fn without_secrets(filter: EnvFilter) -> EnvFilter {
    ["tungstenite=info", "tokio_tungstenite=info"]
        .into_iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, EnvFilter::add_directive)
}

/// Starts file logging. Returns the guard to hold for the life of the process.
pub fn init(home: &Home, filter: EnvFilter) -> Result<LogGuard, Error> {
    ensure_private_dir(&home.log_dir)?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix("fleetdeck")
        .filename_suffix("log")
        .max_log_files(KEEP_DAYS)
        .build(&home.log_dir)
        .map_err(|e| {
            Error::Invalid(format!(
                "cannot open log files in {}: {e}",
                home.log_dir.display()
            ))
        })?;
    json_to(appender, filter)
}

/// Starts JSON logging to stderr (`fleetdeck watch` under systemd, whose journal keeps it).
pub fn init_stderr(filter: EnvFilter) -> Result<LogGuard, Error> {
    json_to(std::io::stderr(), filter)
}

/// JSON lines to `sink`, written off the caller's thread.
fn json_to(
    sink: impl std::io::Write + Send + 'static,
    filter: EnvFilter,
) -> Result<LogGuard, Error> {
    let (writer, guard) = tracing_appender::non_blocking(sink);
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .with_current_span(false)
        .try_init()
        .map_err(|e| Error::Invalid(format!("cannot start logging: {e}")))?;
    Ok(LogGuard { _guard: guard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_beats_verbose_beats_config() {
        let directives = |f: EnvFilter| {
            let mut d: Vec<String> = f.to_string().split(',').map(str::to_string).collect();
            d.sort();
            d.join(",")
        };
        assert_eq!(
            directives(filter(Some("trace"), 0, LogLevel::Info).unwrap()),
            "tokio_tungstenite=info,trace,tungstenite=info"
        );
        assert_eq!(
            directives(filter(None, 1, LogLevel::Warn).unwrap()),
            "fleetdeck=debug,tokio_tungstenite=info,tungstenite=info,warn"
        );
        assert_eq!(
            directives(filter(None, 0, LogLevel::Error).unwrap()),
            "fleetdeck=error,tokio_tungstenite=info,tungstenite=info,warn"
        );
        assert!(filter(Some("fleetdeck=loud"), 0, LogLevel::Info).is_err());
    }

    #[test]
    fn the_websocket_handshake_is_never_traced_even_when_asked() {
        use tracing_subscriber::layer::SubscriberExt;
        for spec in [
            "trace",
            "tungstenite=trace",
            "tungstenite::handshake=trace,trace",
        ] {
            let subscriber =
                tracing_subscriber::registry().with(filter(Some(spec), 0, LogLevel::Info).unwrap());
            tracing::subscriber::with_default(subscriber, || {
                assert!(
                    !tracing::enabled!(target: "tungstenite::handshake::client", tracing::Level::DEBUG),
                    "{spec}"
                );
            });
        }
    }
}
