//! Which view is on screen: the six views in tab order, their titles, and the note a view
//! not built yet shows instead of made-up data. Plain data the shell and the model share.

/// The six views, in tab order (`tab`, `1`..`6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Fleet,
    Runs,
    Metrics,
    Incidents,
    History,
    Actions,
}

impl View {
    pub const ALL: [View; 6] = [
        View::Fleet,
        View::Runs,
        View::Metrics,
        View::Incidents,
        View::History,
        View::Actions,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Fleet => "fleet",
            View::Runs => "runs",
            View::Metrics => "metrics",
            View::Incidents => "incidents",
            View::History => "history",
            View::Actions => "actions",
        }
    }

    fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }

    /// The view `step` tabs away, wrapping around.
    pub fn shifted(self, step: isize) -> View {
        let n = View::ALL.len() as isize;
        let i = (self.index() as isize + step).rem_euclid(n);
        View::ALL[i as usize]
    }
}
