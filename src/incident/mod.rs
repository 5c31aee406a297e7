pub mod alertmanager;
pub mod notify;
