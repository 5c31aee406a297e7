use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Everything fleetdeck creates (history, audit, logs, known_hosts) is private to the user.
    // SAFETY: umask only changes this process's file-creation mask; no other thread exists yet.
    unsafe {
        libc::umask(0o077);
    }
    let cli = fleetdeck::cli::Cli::parse();
    match fleetdeck::commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
