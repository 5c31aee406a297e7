//! Alertmanager as a source of incidents: poll, reconcile, acknowledge. The engine's collector
//! calls [`AlertmanagerSource::poll`] every `poll_interval` and hands the observations to the
//! incident book; the console's "acknowledge" calls [`AlertmanagerSource::ack`].

use std::collections::BTreeMap;
use std::time::Duration;

use time::OffsetDateTime;

use super::client::AlertmanagerClient;
use super::error::AmError;
use super::hosts::HostIndex;
use super::reconcile::{Observation, Reconciler};
use super::settings::AlertmanagerSettings;
use super::silence::NewSilence;
use crate::config::current_user;

/// One Alertmanager, what was firing at its last good poll, and the ack duration.
#[derive(Debug)]
pub struct AlertmanagerSource {
    client: AlertmanagerClient,
    reconciler: Reconciler,
    ack_silence: Duration,
    poll_interval: Duration,
}

impl AlertmanagerSource {
    pub fn new(
        client: AlertmanagerClient,
        ack_silence: Duration,
        poll_interval: Duration,
    ) -> AlertmanagerSource {
        AlertmanagerSource {
            client,
            reconciler: Reconciler::new(),
            ack_silence,
            poll_interval,
        }
    }

    /// The source `[alertmanager]` describes; `None` when its `url` is empty (off).
    pub fn from_settings(
        settings: &AlertmanagerSettings,
    ) -> Result<Option<AlertmanagerSource>, AmError> {
        Ok(AlertmanagerClient::from_settings(settings)?.map(|client| {
            AlertmanagerSource::new(client, settings.ack_silence.0, settings.poll_interval.0)
        }))
    }

    pub fn client(&self) -> &AlertmanagerClient {
        &self.client
    }

    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// Alerts firing as of the last good poll.
    pub fn firing(&self) -> usize {
        self.reconciler.firing()
    }

    /// Takes an alert the incident book has open (from an earlier run) as firing, so the next
    /// poll resolves it if it ended meanwhile; call before the first poll.
    pub fn remember(
        &mut self,
        fingerprint: &str,
        labels: BTreeMap<String, String>,
        hosts: Vec<String>,
    ) {
        self.reconciler.remember(fingerprint, labels, hosts);
    }

    /// Reads the alerts and says what changed since the last good poll. On an error nothing
    /// changes: an Alertmanager that cannot be reached resolves nothing.
    pub async fn poll(&mut self, hosts: &HostIndex) -> Result<Vec<Observation>, AmError> {
        let alerts = self.client.alerts().await?;
        Ok(self
            .reconciler
            .observe(alerts, hosts, OffsetDateTime::now_utc()))
    }

    /// Acknowledges an alert the karma way: a silence of its labels for `ack_silence`, made by
    /// this user@machine with `comment`. Returns the silence id.
    pub async fn ack(
        &self,
        labels: &BTreeMap<String, String>,
        comment: &str,
    ) -> Result<String, AmError> {
        self.ack_as(labels, &current_user(), comment).await
    }

    /// [`Self::ack`] on behalf of `created_by` (the console passes who is at the keyboard).
    pub async fn ack_as(
        &self,
        labels: &BTreeMap<String, String>,
        created_by: &str,
        comment: &str,
    ) -> Result<String, AmError> {
        let silence = NewSilence::for_alert(
            labels,
            created_by,
            comment,
            OffsetDateTime::now_utc(),
            self.ack_silence,
        );
        self.client.create_silence(&silence).await
    }
}
