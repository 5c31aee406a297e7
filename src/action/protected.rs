//! The guard rail of protected environments (`[safety] protected_envs`): which of them a run
//! touches, and what the operator types to confirm it. The one rule behind `fleetdeck run`,
//! `fleetdeck actions run` and the console's confirmation popup; asking is left to them (a
//! terminal prompt, a popup), so nothing here does I/O.

use crate::inventory::Host;

/// The environments a run's targets are in, as a confirmation shows them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetEnvs {
    /// Every environment of the targets, sorted, each once; `-` stands for hosts without one.
    pub all: Vec<String>,
    /// The protected ones among them, sorted, each once: each name is typed to run there.
    /// A host without an environment is never in a protected one, whatever `-` is called.
    pub protected: Vec<String>,
}

/// Shown for hosts without an environment.
pub const NO_ENV: &str = "-";

impl TargetEnvs {
    /// The environments of `hosts`, and which are among `protected_envs`.
    pub fn of(hosts: &[Host], protected_envs: &[String]) -> TargetEnvs {
        let mut all: Vec<String> = hosts
            .iter()
            .map(|h| h.env.clone().unwrap_or_else(|| NO_ENV.to_string()))
            .collect();
        all.sort();
        all.dedup();
        let mut protected: Vec<String> = hosts
            .iter()
            .filter_map(|h| h.env.as_ref())
            .filter(|env| protected_envs.contains(env))
            .cloned()
            .collect();
        protected.sort();
        protected.dedup();
        TargetEnvs { all, protected }
    }

    /// What must be typed (in one line, as the console asks) before the run starts, if
    /// anything: the protected environments joined by `,`, then the action's name when its
    /// template says `confirm = "typed"` (`typed_name`), after a space.
    pub fn typed_confirmation(&self, typed_name: Option<&str>) -> Option<String> {
        let envs = (!self.protected.is_empty()).then(|| self.protected.join(","));
        match (envs, typed_name) {
            (Some(envs), Some(name)) => Some(format!("{envs} {name}")),
            (Some(envs), None) => Some(envs),
            (None, Some(name)) => Some(name.to_string()),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, env: Option<&str>) -> Host {
        let mut h = Host::ad_hoc(name);
        h.env = env.map(str::to_string);
        h
    }

    fn protected() -> Vec<String> {
        vec![
            "prod".to_string(),
            "production".to_string(),
            "-".to_string(),
        ]
    }

    #[test]
    fn protected_envs_are_found_once_and_sorted() {
        let hosts = [
            host("a", Some("prod")),
            host("b", Some("dev")),
            host("c", Some("prod")),
            host("d", None),
            host("e", Some("production")),
        ];
        let envs = TargetEnvs::of(&hosts, &protected());
        assert_eq!(envs.all, ["-", "dev", "prod", "production"]);
        // `-` in the list does not make hosts without an environment protected.
        assert_eq!(envs.protected, ["prod", "production"]);
        assert_eq!(
            envs.typed_confirmation(None).as_deref(),
            Some("prod,production")
        );
        assert_eq!(
            envs.typed_confirmation(Some("restart")).as_deref(),
            Some("prod,production restart")
        );
    }

    #[test]
    fn nothing_protected_asks_only_for_a_typed_action() {
        let envs = TargetEnvs::of(&[host("b", Some("dev")), host("d", None)], &protected());
        assert!(envs.protected.is_empty());
        assert_eq!(envs.typed_confirmation(None), None);
        assert_eq!(
            envs.typed_confirmation(Some("restart")).as_deref(),
            Some("restart")
        );
        assert_eq!(TargetEnvs::of(&[], &protected()), TargetEnvs::default());
    }
}
