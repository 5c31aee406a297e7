//! The Fleet view's state: the `:target` in force, the `/` filter, the sort, the rows they let
//! through (which the Metrics heatmap shows too), the cursor, the marks, and each host's last
//! recorded result. No I/O.

use std::collections::{BTreeSet, HashMap};

use crate::engine::HostState;
use crate::inventory::{Host, Inventory};
use crate::ui::app::text_input::TextInput;

use super::sort::{Facts, Sort};

/// `:target SELECTOR` in force: the selector text and the names it resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub selector: String,
    pub names: BTreeSet<String>,
}

#[derive(Debug)]
pub struct FleetState {
    /// The fuzzy filter typed after `/`.
    pub filter: TextInput,
    pub target: Option<Target>,
    /// Indexes into `inventory.hosts()` of the rows shown, best match first while filtering.
    pub shown: Vec<usize>,
    /// Row under the cursor, an index into `shown`.
    pub cursor: usize,
    /// Each host's state in the newest recorded run that included it (read at start).
    pub last_result: HashMap<String, HostState>,
    /// Marked host names (they survive filtering).
    pub marked: BTreeSet<String>,
    /// The column the rows are sorted by (`s`, `S`, `:sort`); none: inventory order.
    pub sort: Option<Sort>,
}

impl FleetState {
    /// Every host of `inventory` shown, nothing marked.
    pub fn new(inventory: &Inventory) -> Self {
        FleetState {
            filter: TextInput::filter(),
            target: None,
            shown: (0..inventory.len()).collect(),
            cursor: 0,
            last_result: HashMap::new(),
            marked: BTreeSet::new(),
            sort: None,
        }
    }

    /// Recomputes the rows shown from the target, filter and sort.
    pub fn refresh(&mut self, inventory: &Inventory, facts: &Facts) {
        super::filter::refresh(self, inventory);
        super::sort::order(self, inventory, facts);
    }

    /// The hosts shown, in display order.
    pub fn shown_hosts<'a>(&'a self, inventory: &'a Inventory) -> impl Iterator<Item = &'a Host> {
        let hosts = inventory.hosts();
        self.shown.iter().filter_map(move |&i| hosts.get(i))
    }

    /// The host under the cursor, if any row is shown.
    pub fn current_host<'a>(&self, inventory: &'a Inventory) -> Option<&'a Host> {
        self.shown
            .get(self.cursor)
            .and_then(|&i| inventory.hosts().get(i))
    }
}
