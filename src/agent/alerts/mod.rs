//! Alerts: watchers and the on-disk alert journal with sequence numbers.
