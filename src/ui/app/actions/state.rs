//! The Actions view's state: the catalog of action templates read at start (and on `R`), the
//! files that did not load (each problem at file:line:column, so a broken template is seen,
//! never silently missing), the `/` fuzzy filter, the cursor and the open parameter form.
//! No I/O: the console reads the folder (`Catalog::load_partial`) and hands the result here.

use std::cell::RefCell;
use std::path::PathBuf;

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use super::form::ActionForm;
use crate::action::{Catalog, Plan, Template};
use crate::config::Settings;
use crate::diag::Diagnostic;
use crate::engine::RunRequest;
use crate::ui::app::text_input::TextInput;

thread_local! {
    // As the fleet filter: one matcher per thread, reused for every keystroke.
    static MATCHER: RefCell<Matcher> = RefCell::new(Matcher::new(Config::DEFAULT));
}

/// Everything the Actions view shows and edits.
#[derive(Debug, Default)]
pub struct ActionsState {
    pub catalog: Catalog,
    /// Files (or names) that did not load, shown above the list.
    pub problems: Vec<Diagnostic>,
    /// The folder templates are read from, for the empty state.
    pub dir: PathBuf,
    /// config.toml, for building plans (limits, timeouts, lock TTL).
    pub settings: Settings,
    /// The fuzzy filter typed after `/`.
    pub filter: TextInput,
    /// Indexes into `catalog.templates()` of the rows shown, best match first while filtering.
    pub shown: Vec<usize>,
    /// Row under the cursor, an index into `shown`.
    pub cursor: usize,
    /// The parameter form, while one is open (it takes the keys).
    pub form: Option<ActionForm>,
}

impl ActionsState {
    /// Takes a freshly read catalog and its problems (from `dir`).
    pub fn set_catalog(&mut self, catalog: Catalog, problems: Vec<Diagnostic>, dir: PathBuf) {
        self.catalog = catalog;
        self.problems = problems;
        self.dir = dir;
        self.refilter();
    }

    /// Recomputes `shown` from the filter; each word must match the name, category or
    /// description (fzf syntax, as the fleet filter).
    pub fn refilter(&mut self) {
        let pattern = Pattern::parse(
            self.filter.text(),
            CaseMatching::Smart,
            Normalization::Smart,
        );
        let mut scored: Vec<(u32, usize)> = MATCHER.with_borrow_mut(|matcher| {
            let mut buf = Vec::new();
            self.catalog
                .templates()
                .iter()
                .enumerate()
                .filter_map(|(i, t)| score(&pattern, t, matcher, &mut buf).map(|s| (s, i)))
                .collect()
        });
        scored.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
        self.shown = scored.into_iter().map(|(_, i)| i).collect();
        self.cursor = self.cursor.min(self.shown.len().saturating_sub(1));
    }

    /// The templates shown, in display order.
    pub fn shown_templates(&self) -> impl Iterator<Item = &Template> {
        let all = self.catalog.templates();
        self.shown.iter().filter_map(move |&i| all.get(i))
    }

    /// The template under the cursor.
    pub fn current(&self) -> Option<&Template> {
        self.shown
            .get(self.cursor)
            .and_then(|&i| self.catalog.templates().get(i))
    }
}

/// Every word must match one field; a name hit ranks above the same hit elsewhere.
fn score(
    pattern: &Pattern,
    t: &Template,
    matcher: &mut Matcher,
    buf: &mut Vec<char>,
) -> Option<u32> {
    let mut total = 0u32;
    for atom in &pattern.atoms {
        let mut field = |text: &str| atom.score(Utf32Str::new(text, buf), matcher).map(u32::from);
        let name = field(&t.name);
        let category = field(&t.category);
        let description = field(&t.description);
        if atom.negative {
            name?;
            category?;
            description?;
            continue;
        }
        total += [name.map(|s| s + 16), category, description]
            .into_iter()
            .flatten()
            .max()?;
    }
    Some(total)
}

/// An action's run, built and previewed by `action::plan::build`, carried by `RunStart` to
/// the queue instead of a request built from the command text. Its `Debug` never prints the
/// request: secret values travel in the request's stdin.
#[derive(Clone)]
pub struct PreparedRun {
    pub plan: Box<Plan>,
}

impl PreparedRun {
    pub fn new(plan: Plan) -> Self {
        PreparedRun {
            plan: Box::new(plan),
        }
    }

    pub fn request(&self) -> &RunRequest {
        &self.plan.request
    }

    pub fn into_request(self) -> RunRequest {
        self.plan.request
    }
}

impl std::fmt::Debug for PreparedRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.plan.request;
        f.debug_struct("PreparedRun")
            .field("id", &r.id)
            .field("action", &r.action)
            .field("display_command", &r.display_command)
            .field("targets", &r.targets.len())
            .finish_non_exhaustive()
    }
}

/// Two prepared runs are the same when they would run the same thing: the request in full
/// (what the engine gets) and what the operator was shown.
impl PartialEq for PreparedRun {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.plan.request, &other.plan.request);
        a.id == b.id
            && a.user == b.user
            && a.selector == b.selector
            && a.targets == b.targets
            && a.display_command == b.display_command
            && a.spec == b.spec
            && a.fanout == b.fanout
            && a.batch == b.batch
            && a.max_fail == b.max_fail
            && a.output_cap == b.output_cap
            && a.guards == b.guards
            && a.action == b.action
            && a.priority == b.priority
            && self.plan.refused == other.plan.refused
            && self.plan.preview == other.plan.preview
            && self.plan.confirm == other.plan.confirm
    }
}

impl Eq for PreparedRun {}
