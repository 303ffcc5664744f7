//! Campaigns: an agent calls a list of contacts from one number or a pool of them, within
//! calling hours, at a bounded pace, retrying busy and unanswered contacts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::outbound::CallOutcome;
use crate::{FieldError, check_len};

/// Most concurrent calls a campaign may ask for.
pub const MAX_CONCURRENT: u32 = 200;
/// Most calls started per second a campaign may ask for.
pub const MAX_CALLS_PER_SECOND: f64 = 20.0;
/// Most attempts per contact.
pub const MAX_ATTEMPTS: u32 = 10;
/// Shortest wait before a contact is dialed again: longer than the longest ring, so an attempt
/// the provider may still be ringing is never overlapped by the next.
pub const MIN_RETRY_DELAY_SECS: u32 = 60;
/// Most contacts in one campaign.
pub const MAX_CONTACTS: usize = 100_000;
/// Most numbers in a campaign's caller pool.
pub const MAX_POOL: usize = 50;

choice_enum! {
    /// Where a campaign is (serde: snake_case).
    pub enum CampaignStatus {
        /// Waiting for its start time.
        Scheduled = ("scheduled", "Scheduled"),
        Running = ("running", "Running"),
        Paused = ("paused", "Paused"),
        /// Every contact reached an end.
        Completed = ("completed", "Completed"),
        Canceled = ("canceled", "Canceled"),
    }
}

choice_enum! {
    /// Where one contact is (serde: snake_case).
    pub enum ContactState {
        /// Waiting to be dialed (first time, or again after a retryable outcome).
        Pending = ("pending", "Pending"),
        /// A call to the contact is being placed or is going on.
        Dialing = ("dialing", "Dialing"),
        /// Reached: answered by a person or a machine.
        Done = ("done", "Done"),
        /// Not reached after every attempt, or refused.
        Failed = ("failed", "Failed"),
        /// The campaign was canceled first.
        Canceled = ("canceled", "Canceled"),
    }
}

/// A campaign as a user creates it. Defaults stay below providers' documented limits (Exotel
/// ≈200 API calls a minute, Vonage 3 calls a second, Plivo 2 calls a second).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct CampaignInput {
    pub name: String,
    pub agent_id: String,
    /// The caller numbers; calls are spread over them.
    pub phone_ids: Vec<String>,
    /// The contacts: a CSV file with a `phone` column, optionally `timezone`, and one column per
    /// variable.
    pub contacts_csv: String,
    /// When to start (RFC 3339); now when empty.
    pub start_at: Option<String>,
    /// Calling hours, `HH:MM` in the contact's time zone (their `timezone` column, their
    /// number's country when it has one zone, else the campaign's). Empty: any time.
    pub hours_from: String,
    pub hours_to: String,
    /// The campaign's time zone (IANA, e.g. `Asia/Kolkata`).
    pub timezone: String,
    pub max_concurrent: u32,
    pub calls_per_second: f64,
    pub max_attempts: u32,
    /// Wait before the second attempt; each later one waits twice as long as the one before.
    pub retry_delay_secs: u32,
}

impl Default for CampaignInput {
    fn default() -> Self {
        Self {
            name: String::new(),
            agent_id: String::new(),
            phone_ids: Vec::new(),
            contacts_csv: String::new(),
            start_at: None,
            hours_from: String::new(),
            hours_to: String::new(),
            timezone: "UTC".into(),
            max_concurrent: 5,
            calls_per_second: 1.0,
            max_attempts: 3,
            retry_delay_secs: 300,
        }
    }
}

/// Minutes after midnight of `HH:MM`.
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && s.trim().len() == 5).then_some(h * 60 + m)
}

impl CampaignInput {
    /// The problems of every field but the contacts (read by the server) and the time zone's
    /// name (checked against the time zone database there).
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_len(&mut errors, "name", &self.name, 1, 100, "a name");
        if self.agent_id.trim().is_empty() {
            errors.push(FieldError::new("agentId", "Choose the agent that talks."));
        }
        if self.phone_ids.iter().all(|p| p.trim().is_empty()) {
            errors.push(FieldError::new("phoneIds", "Choose at least one number to call from."));
        } else if self.phone_ids.len() > MAX_POOL {
            errors.push(FieldError::new("phoneIds", format!("Use at most {MAX_POOL} numbers.")));
        }
        match (self.hours_from.trim().is_empty(), self.hours_to.trim().is_empty()) {
            (true, true) => {}
            (false, false) => {
                for (field, v) in [("hoursFrom", &self.hours_from), ("hoursTo", &self.hours_to)] {
                    if parse_hhmm(v).is_none() {
                        errors.push(FieldError::new(field, "Write the time as HH:MM, e.g. 09:30."));
                    }
                }
                if parse_hhmm(&self.hours_from).is_some() && parse_hhmm(&self.hours_from) == parse_hhmm(&self.hours_to) {
                    errors.push(FieldError::new("hoursTo", "Calling hours must not start and end at the same time."));
                }
            }
            (true, false) => errors.push(FieldError::new("hoursFrom", "Give both ends of the calling hours, or neither.")),
            (false, true) => errors.push(FieldError::new("hoursTo", "Give both ends of the calling hours, or neither.")),
        }
        if self.max_concurrent == 0 || self.max_concurrent > MAX_CONCURRENT {
            errors.push(FieldError::new("maxConcurrent", format!("Use 1 to {MAX_CONCURRENT} concurrent calls.")));
        }
        if !(self.calls_per_second > 0.0 && self.calls_per_second <= MAX_CALLS_PER_SECOND) {
            errors.push(FieldError::new("callsPerSecond", format!("Use more than 0 and at most {MAX_CALLS_PER_SECOND} calls a second.")));
        }
        if self.max_attempts == 0 || self.max_attempts > MAX_ATTEMPTS {
            errors.push(FieldError::new("maxAttempts", format!("Use 1 to {MAX_ATTEMPTS} attempts.")));
        }
        if self.retry_delay_secs < MIN_RETRY_DELAY_SECS || self.retry_delay_secs > 7 * 86_400 {
            errors.push(FieldError::new(
                "retryDelaySecs",
                format!("Wait at least {MIN_RETRY_DELAY_SECS} seconds (longer than a call rings) and at most a week."),
            ));
        }
        errors
    }
}

/// How a campaign's contacts stand.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CampaignCounts {
    pub total: i64,
    /// Calls placed so far (every attempt).
    pub dialed: i64,
    /// Contacts whose last call was answered by a person.
    pub answered: i64,
    pub machine: i64,
    pub no_answer: i64,
    pub busy: i64,
    pub failed: i64,
    /// Being dialed now.
    pub in_progress: i64,
    /// Still to be dialed (first time or again).
    pub remaining: i64,
    pub canceled: i64,
}

impl CampaignCounts {
    /// Percent of contacts that reached an end (0..=100).
    pub fn percent_done(&self) -> u32 {
        if self.total <= 0 {
            return 0;
        }
        let open = self.remaining + self.in_progress;
        (((self.total - open).max(0) * 100) / self.total) as u32
    }
}

/// A campaign as the dashboard and the REST API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CampaignView {
    pub id: String,
    pub name: String,
    pub agent_id: String,
    pub agent_name: Option<String>,
    pub phone_ids: Vec<String>,
    pub status: CampaignStatus,
    /// Why it paused by itself (a provider refused the credentials…).
    pub status_reason: Option<String>,
    pub start_at: String,
    pub hours_from: String,
    pub hours_to: String,
    pub timezone: String,
    pub max_concurrent: u32,
    pub calls_per_second: f64,
    pub max_attempts: u32,
    pub retry_delay_secs: u32,
    pub counts: CampaignCounts,
    pub created_at: String,
    pub updated_at: String,
}

/// One contact of a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    pub id: String,
    /// The CSV line it came from.
    pub line: u32,
    pub phone: String,
    pub timezone: Option<String>,
    pub variables: BTreeMap<String, String>,
    pub state: ContactState,
    pub attempts: u32,
    pub outcome: Option<CallOutcome>,
    /// The last call to the contact.
    pub call_id: Option<String>,
    /// Why the last attempt failed.
    pub reason: Option<String>,
    /// When it is dialed next (pending contacts).
    pub next_at: Option<String>,
}

/// A CSV row that did not become a contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RejectedRow {
    pub line: u32,
    pub errors: Vec<FieldError>,
}

/// What creating a campaign did: the campaign, and the rows left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CampaignCreated {
    pub campaign: CampaignView,
    pub contacts: usize,
    pub rejected: Vec<RejectedRow>,
}

/// One page of a campaign's contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContactPage {
    pub contacts: Vec<ContactView>,
    pub page: u32,
    pub page_size: u32,
    pub total: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CampaignInput {
        CampaignInput { name: "Reminders".into(), agent_id: "a1".into(), phone_ids: vec!["p1".into()], ..Default::default() }
    }

    #[test]
    fn defaults_pass_and_each_limit_names_its_field() {
        assert!(input().check().is_empty(), "{:?}", input().check());
        let bad = CampaignInput {
            name: String::new(),
            phone_ids: vec![],
            hours_from: "9:00".into(),
            hours_to: "18:00".into(),
            max_concurrent: 0,
            calls_per_second: 0.0,
            max_attempts: 11,
            retry_delay_secs: 10,
            ..input()
        };
        let fields: Vec<String> = bad.check().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "phoneIds", "hoursFrom", "maxConcurrent", "callsPerSecond", "maxAttempts", "retryDelaySecs"]);
        let half = CampaignInput { hours_from: "09:00".into(), ..input() };
        assert_eq!(half.check()[0].field, "hoursTo");
    }

    #[test]
    fn hours_are_hh_mm() {
        assert_eq!(parse_hhmm("09:30"), Some(570));
        assert_eq!(parse_hhmm("23:59"), Some(1439));
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(parse_hhmm("9:30"), None);
        assert_eq!(parse_hhmm("nine"), None);
    }

    #[test]
    fn progress_counts_what_reached_an_end() {
        let c = CampaignCounts { total: 10, remaining: 3, in_progress: 2, ..Default::default() };
        assert_eq!(c.percent_done(), 50);
        assert_eq!(CampaignCounts::default().percent_done(), 0);
        let statuses: Vec<&str> = CampaignStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(statuses, ["scheduled", "running", "paused", "completed", "canceled"]);
    }
}
