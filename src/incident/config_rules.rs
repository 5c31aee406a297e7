//! What config.toml's incident arrays (`[[thresholds]]`, `[[checks]]`) check alike: a
//! selector that parses and has no metric terms, and names used once.

use crate::inventory::selector::Selector;

/// `text` (the value of `key`) as a selector without metric terms; `why` says why they do not
/// belong there.
pub(crate) fn plain_selector(text: &str, key: &str, why: &str) -> Result<(), String> {
    let selector = Selector::parse(text).map_err(|e| format!("{key} `{text}`: {}", e.message))?;
    if selector.has_metric_terms() {
        return Err(format!("{key} `{text}` has a metric term: {why}"));
    }
    Ok(())
}

/// The first name given twice, as the message for it (`what`: "checks", "thresholds").
pub(crate) fn unique_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
    what: &str,
) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(format!(
                "two {what} are named `{name}`: give one of them another `name`"
            ));
        }
    }
    Ok(())
}
