//! Configuration: home folders, config.toml and the helpers that give precise errors.

pub mod home;
pub mod local_user;
pub mod settings;
pub mod toml_diag;
pub mod units;

pub use home::{Home, HomeSource};
pub use local_user::{LocalUser, current_user};
pub use settings::{MetricsSettings, Settings};
