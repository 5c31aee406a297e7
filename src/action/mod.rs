//! Action templates (docs/actions.md): named, parameterised operations kept in
//! `actions/*.toml`. `load` reads the catalog, `template` and `param` validate a file, `render`
//! substitutes values (shell-quoted), `secret` keeps secret values out of argv and records,
//! and `plan` turns a template, values and hosts into the engine's `RunRequest` with a
//! preview and the hosts the template refuses; `protected` is the protected-environment
//! rule every run (ad hoc or not) is confirmed by. No terminal I/O here: the CLI and the
//! console are the front ends.

pub mod load;
pub mod param;
pub mod plan;
pub mod protected;
pub mod render;
pub mod secret;
pub mod template;

pub use load::Catalog;
pub use param::{Param, ParamType, Value};
pub use plan::{
    FormKind, Inputs, Overrides, Plan, PlanError, Preview, PreviewGroup, Problem, Refusal,
    Resolved, build,
};
pub use protected::TargetEnvs;
pub use secret::{SecretSource, SecretValue};
pub use template::{AgentTemplate, Confirm, Template};
