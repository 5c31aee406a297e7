//! A check URL's placeholders: `{name}` (the host's inventory name) and `{address}` (its
//! address, or its name when it has none), like hosts.toml's node_exporter URL. Anything
//! else in braces is an error, found when config.toml is read.

/// The placeholders a check URL may use.
pub const PLACEHOLDERS: [&str; 2] = ["{name}", "{address}"];

/// `url` for the host `name` at `address` (`None`: reached by its name).
pub fn for_host(url: &str, name: &str, address: Option<&str>) -> String {
    url.replace("{name}", name)
        .replace("{address}", address.unwrap_or(name))
}

/// The first `{…}` of `url` that is not a known placeholder.
pub fn unknown_placeholder(url: &str) -> Option<String> {
    let mut rest = url;
    while let Some(open) = rest.find('{') {
        let after = &rest[open..];
        let Some(close) = after.find('}') else {
            return Some(after.to_string());
        };
        let token = &after[..=close];
        if !PLACEHOLDERS.contains(&token) {
            return Some(token.to_string());
        }
        rest = &after[close + 1..];
    }
    None
}
