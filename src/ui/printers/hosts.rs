//! `fleetdeck hosts` output: a table and a folded summary, or one JSON object.

use serde::Serialize;

use super::{table, write_stdout};
use crate::diag::Error;
use crate::inventory::Host;
use crate::inventory::nodeset::fold;

#[derive(Serialize)]
struct HostsJson<'a> {
    count: usize,
    folded: String,
    hosts: &'a [Host],
}

pub fn print_hosts(hosts: &[Host], json: bool) -> Result<(), Error> {
    let text = if json {
        render_json(hosts)?
    } else {
        render_table(hosts)
    };
    write_stdout(&text)
}

pub fn render_json(hosts: &[Host]) -> Result<String, Error> {
    let doc = HostsJson {
        count: hosts.len(),
        folded: fold(hosts.iter().map(|h| h.name.as_str())),
        hosts,
    };
    serde_json::to_string(&doc)
        .map(|s| s + "\n")
        .map_err(|e| Error::Invalid(format!("cannot encode hosts as JSON: {e}")))
}

pub fn render_table(hosts: &[Host]) -> String {
    if hosts.is_empty() {
        return "no hosts matched\n".to_string();
    }
    let rows: Vec<Vec<String>> = hosts
        .iter()
        .map(|h| {
            let address = match (&h.address, h.port) {
                _ if !h.in_inventory => "(ssh config)".to_string(),
                (Some(a), Some(p)) => format!("{a}:{p}"),
                (Some(a), None) => a.clone(),
                (None, Some(p)) => format!("{}:{p}", h.name),
                (None, None) => "-".to_string(),
            };
            vec![
                h.name.clone(),
                address,
                h.transport.to_string(),
                h.env.clone().unwrap_or_else(|| "-".to_string()),
                h.tags.iter().cloned().collect::<Vec<_>>().join(","),
            ]
        })
        .collect();
    let mut out = table(&["NAME", "ADDRESS", "TRANSPORT", "ENV", "TAGS"], &rows);
    let folded = fold(hosts.iter().map(|h| h.name.as_str()));
    let noun = if hosts.len() == 1 { "host" } else { "hosts" };
    out.push_str(&format!("\n{} {noun}: {folded}\n", hosts.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_summary() {
        let mut a = Host::ad_hoc("web01");
        a.in_inventory = true;
        a.address = Some("10.0.0.1".into());
        a.env = Some("prod".into());
        a.tags.insert("web".into());
        let mut b = a.clone();
        b.name = "web02".into();
        b.address = None;
        let c = Host::ad_hoc("db9");
        let text = render_table(&[a, b, c]);
        assert_eq!(
            text,
            "NAME   ADDRESS       TRANSPORT  ENV   TAGS\n\
             web01  10.0.0.1      ssh        prod  web\n\
             web02  -             ssh        prod  web\n\
             db9    (ssh config)  ssh        -\n\
             \n3 hosts: db9,web[01-02]\n"
        );
    }
}
