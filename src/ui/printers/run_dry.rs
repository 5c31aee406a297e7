//! `fleetdeck run --dry-run`: what would run where, and with which limits. Nothing runs.

use super::sanitize::sanitize;
use super::table;
use crate::inventory::nodeset::fold;
use crate::inventory::{Host, TransportKind};

/// The limits a run would use, already formatted (`10s`, `off`, `5%`).
pub struct DryRunLimits {
    pub fanout: usize,
    pub connect_timeout: String,
    pub timeout: String,
    pub idle_timeout: String,
    pub batch: String,
    pub max_fail: String,
}

/// The folded targets and count, one row per host (transport, destination, command), the
/// limits, and which protected environments a real run would ask to confirm. `destinations`
/// holds, per host, where the ssh config sends it (`None`: described from the inventory).
pub fn render_dry_run(
    hosts: &[Host],
    destinations: &[Option<String>],
    command: &str,
    limits: &DryRunLimits,
    protected: &[String],
) -> String {
    let folded = fold(hosts.iter().map(|h| h.name.as_str()));
    let noun = if hosts.len() == 1 { "host" } else { "hosts" };
    let mut out = format!(
        "dry run: nothing will run. {} {noun}: {folded}\n\n",
        hosts.len()
    );
    let shown = sanitize(command.as_bytes(), false);
    let rows: Vec<Vec<String>> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let run = match h.transport {
                TransportKind::Local => format!("/bin/sh -c {}", shell_quote(&shown)),
                _ => shown.clone(),
            };
            vec![
                h.name.clone(),
                h.transport.to_string(),
                destinations
                    .get(i)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| destination(h)),
                run,
            ]
        })
        .collect();
    out.push_str(&table(
        &["HOST", "TRANSPORT", "DESTINATION", "COMMAND"],
        &rows,
    ));
    out.push_str(&format!(
        "\nfanout {} · connect timeout {} · timeout {} · idle timeout {} · batch {} · max-fail {}\n",
        limits.fanout,
        limits.connect_timeout,
        limits.timeout,
        limits.idle_timeout,
        limits.batch,
        limits.max_fail
    ));
    if !protected.is_empty() {
        out.push_str(&format!(
            "protected environment {}: a real run asks you to confirm (or pass --yes)\n",
            protected.join(", ")
        ));
    }
    out
}

/// `user@address:port via jump` from the inventory; names left to the ssh config say so.
pub fn destination(h: &Host) -> String {
    match h.transport {
        TransportKind::Local => "this machine".to_string(),
        TransportKind::Agent => h
            .agent
            .as_ref()
            .map_or_else(|| "(no agent url)".to_string(), |a| a.url.clone()),
        TransportKind::Ssh => {
            let mut d = String::new();
            if let Some(user) = &h.user {
                d.push_str(user);
                d.push('@');
            }
            d.push_str(h.destination());
            if let Some(port) = h.port {
                d.push_str(&format!(":{port}"));
            }
            if let Some(jump) = &h.jump {
                d.push_str(&format!(" via {jump}"));
            }
            if h.address.is_none() {
                d.push_str(" (ssh config)");
            }
            d
        }
    }
}

/// Single-quotes `s` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_show_transport_destination_and_command() {
        let mut web = Host::ad_hoc("web01");
        web.in_inventory = true;
        web.address = Some("10.0.1.1".into());
        web.user = Some("deploy".into());
        web.port = Some(2222);
        web.jump = Some("bastion".into());
        let mut local = Host::ad_hoc("builder");
        local.transport = TransportKind::Local;
        let limits = DryRunLimits {
            fanout: 64,
            connect_timeout: "10s".into(),
            timeout: "10m".into(),
            idle_timeout: "off".into(),
            batch: "-".into(),
            max_fail: "-".into(),
        };
        let text = render_dry_run(
            &[web, local, Host::ad_hoc("db9"), Host::ad_hoc("h1")],
            &[
                None,
                None,
                None,
                Some("me@127.0.0.1:2222 via bastion".into()),
            ],
            "echo 'hi'",
            &limits,
            &["prod".into()],
        );
        assert!(
            text.starts_with("dry run: nothing will run. 4 hosts: builder,db9,h1,web01\n"),
            "{text}"
        );
        assert!(
            text.contains("h1       ssh        me@127.0.0.1:2222 via bastion     echo 'hi'\n"),
            "{text}"
        );
        assert!(
            text.contains("web01    ssh        deploy@10.0.1.1:2222 via bastion  echo 'hi'\n"),
            "{text}"
        );
        assert!(text.contains("builder  local      this machine                      /bin/sh -c 'echo '\\''hi'\\'''\n"), "{text}");
        assert!(
            text.contains("db9      ssh        db9 (ssh config)"),
            "{text}"
        );
        assert!(text.contains("protected environment prod"), "{text}");
    }
}
