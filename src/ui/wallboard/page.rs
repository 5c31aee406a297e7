//! The wallboard's pages and the `--pages` list: names, order, and the one parser clap uses
//! (an unknown name is refused with the names there are, exit 2).

use std::fmt;

/// One page of the wallboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Page {
    /// Hosts: link, stale marks, cpu/mem/disk/load, last sample age.
    Fleet,
    /// Heatmaps of the four levels with their averages and highest hosts.
    Metrics,
    /// Active incidents, critical first.
    Incidents,
    /// Runs in flight and recent ones from history.jsonl.
    Runs,
}

impl Page {
    pub const ALL: [Page; 4] = [Page::Fleet, Page::Metrics, Page::Incidents, Page::Runs];

    pub fn name(self) -> &'static str {
        match self {
            Page::Fleet => "fleet",
            Page::Metrics => "metrics",
            Page::Incidents => "incidents",
            Page::Runs => "runs",
        }
    }
}

impl fmt::Display for Page {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The pages chosen with `--pages`, in the order given (at least one, none twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pages(pub Vec<Page>);

impl Default for Pages {
    fn default() -> Self {
        Pages(Page::ALL.to_vec())
    }
}

impl Pages {
    /// Parses `fleet,incidents`: names separated by commas, in the order to show them.
    pub fn parse(text: &str) -> Result<Pages, String> {
        let known = || {
            Page::ALL
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut pages = Vec::new();
        for name in text.split(',').map(str::trim) {
            let page = Page::ALL
                .into_iter()
                .find(|p| p.name().eq_ignore_ascii_case(name))
                .ok_or_else(|| format!("unknown page `{name}`: the pages are {}", known()))?;
            if pages.contains(&page) {
                return Err(format!("page `{name}` is listed twice"));
            }
            pages.push(page);
        }
        Ok(Pages(pages))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_keep_the_given_order_and_refuse_unknown_names() {
        assert_eq!(
            Pages::parse("incidents,fleet").unwrap().0,
            [Page::Incidents, Page::Fleet]
        );
        assert_eq!(Pages::default().0.len(), 4);
        let err = Pages::parse("fleet,graphs").unwrap_err();
        assert!(err.contains("unknown page `graphs`"), "{err}");
        assert!(err.contains("fleet, metrics, incidents, runs"), "{err}");
        assert!(Pages::parse("").is_err());
        assert!(Pages::parse("runs,runs").is_err());
    }
}
