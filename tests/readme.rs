//! README's configuration reference is checked against the real definitions, so it cannot drift.

use std::path::Path;

use fleetdeck::config::Settings;

fn block_after(readme: &str, heading: &str) -> String {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README lacks {heading}"));
    let rest = &readme[start..];
    let open = rest.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let close = rest[open..].find("```").expect("a closed block");
    rest[open..open + close].to_string()
}

#[test]
fn config_reference_is_exactly_the_defaults() {
    let readme = include_str!("../README.md");
    let block = block_after(readme, "### config.toml");
    let parsed = Settings::parse(Path::new("README.md"), &block).unwrap();
    assert_eq!(parsed, Settings::default());
}

#[test]
fn hosts_reference_is_a_valid_inventory() {
    let readme = include_str!("../README.md");
    let block = block_after(readme, "### hosts.toml");
    let inv = fleetdeck::inventory::load::parse(Path::new("README.md"), &block).unwrap();
    assert_eq!(inv.len(), 21);
}

#[test]
fn sample_home_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/home/config");
    Settings::load(&dir.join("config.toml")).unwrap();
    let inv = fleetdeck::inventory::load::load(&dir.join("hosts.toml")).unwrap();
    assert_eq!(inv.len(), 35);
}
