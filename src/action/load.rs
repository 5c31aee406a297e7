//! The catalog: every `actions/*.toml` in the config folder, one action per file.

use std::collections::BTreeMap;
use std::path::Path;

use super::template::{self, Template};
use crate::config::Home;
use crate::diag::Diagnostic;

/// The loaded templates, sorted by name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    templates: Vec<Template>,
}

impl Catalog {
    /// Every template in the home's actions folder; any problem in any file is an error
    /// (every problem, each at file:line:column).
    pub fn load(home: &Home) -> Result<Catalog, Vec<Diagnostic>> {
        let (catalog, problems) = Catalog::load_partial(home);
        if problems.is_empty() {
            Ok(catalog)
        } else {
            Err(problems)
        }
    }

    /// What loads, plus the problems of the files that did not (for the console and
    /// `fleetdeck actions`, which show the rest). A name defined in two files is left out
    /// and reported on both.
    pub fn load_partial(home: &Home) -> (Catalog, Vec<Diagnostic>) {
        Catalog::load_dir(&home.actions_dir())
    }

    /// As [`Catalog::load_partial`], for a folder. A missing folder is an empty catalog.
    pub fn load_dir(dir: &Path) -> (Catalog, Vec<Diagnostic>) {
        let mut problems = Vec::new();
        let mut loaded = Vec::new();
        for file in crate::config::toml_diag::toml_files(dir, &mut problems) {
            match std::fs::read_to_string(&file) {
                Ok(src) => match template::parse(&file, &src) {
                    Ok(t) => loaded.push(t),
                    Err(diags) => problems.extend(diags),
                },
                Err(e) => problems.push(Diagnostic::whole_file(&file, format!("cannot read: {e}"))),
            }
        }
        let mut by_name: BTreeMap<String, Vec<Template>> = BTreeMap::new();
        for t in loaded {
            by_name.entry(t.name.clone()).or_default().push(t);
        }
        let mut templates = Vec::new();
        for (name, mut same) in by_name {
            if same.len() == 1 {
                templates.extend(same.pop());
                continue;
            }
            let files: Vec<String> = same.iter().map(|t| t.file.display().to_string()).collect();
            for t in &same {
                problems.push(Diagnostic::whole_file(
                    &t.file,
                    format!(
                        "action `{name}` is defined in more than one file ({}): rename one",
                        files.join(" and ")
                    ),
                ));
            }
        }
        (Catalog { templates }, problems)
    }

    /// The template called `name`.
    pub fn get(&self, name: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.name == name)
    }

    /// The template called `name`, or a message naming the closest one and how to list them.
    pub fn find(&self, name: &str) -> Result<&Template, String> {
        self.get(name).ok_or_else(|| {
            let hint = crate::diag::did_you_mean(name, self.names())
                .map(|c| format!(": did you mean `{c}`?"))
                .unwrap_or_default();
            format!("no action named `{name}`{hint} (`fleetdeck actions` lists them)")
        })
    }

    /// Every name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.templates.iter().map(|t| t.name.as_str())
    }

    /// Every template, sorted by name.
    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_reported_on_both_files_and_names_suggested() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.toml"),
            "name = \"same\"\ncommand = \"true\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b.toml"),
            "name = \"same\"\ncommand = \"true\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("disk-usage.toml"), "command = \"df -h\"\n").unwrap();
        std::fs::write(dir.path().join("broken.toml"), "command = [\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not an action").unwrap();
        let (catalog, problems) = Catalog::load_dir(dir.path());
        assert_eq!(catalog.names().collect::<Vec<_>>(), vec!["disk-usage"]);
        assert_eq!(problems.len(), 3, "{problems:?}");
        let dup: Vec<_> = problems
            .iter()
            .filter(|d| d.message.contains("more than one file"))
            .collect();
        assert_eq!(dup.len(), 2);
        assert!(dup[0].message.contains("a.toml and") && dup[0].message.contains("b.toml"));
        let e = catalog.find("disk-usgae").unwrap_err();
        assert!(e.contains("did you mean `disk-usage`?"), "{e}");
        let (empty, none) = Catalog::load_dir(&dir.path().join("missing"));
        assert!(empty.is_empty() && none.is_empty());
    }
}
