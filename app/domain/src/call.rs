//! Calls: one record per provider call, as the dashboard and the REST API show it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Call statuses, in the order a call moves through them.
pub const STATUSES: &[(&str, &str)] =
    &[("ringing", "Ringing"), ("in_progress", "In progress"), ("completed", "Completed"), ("failed", "Failed"), ("rejected", "Rejected")];

/// A call in a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    pub id: String,
    /// The provider's call id (Exotel `CallSid`), also the session id.
    pub session_id: String,
    pub provider: String,
    pub phone_id: String,
    pub phone_number: String,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub caller: Option<String>,
    pub direction: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_ms: Option<i64>,
    /// Turns stored so far (caller and agent).
    #[serde(default)]
    pub turn_count: i64,
}

/// One call with everything the provider sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: CallView,
    /// Every webhook/applet parameter as received (never our URL key).
    pub provider_params: BTreeMap<String, String>,
    /// The conversation, in order.
    pub turns: Vec<TurnView>,
}

/// One page of calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallPage {
    pub calls: Vec<CallView>,
    pub page: u32,
    pub page_size: u32,
    pub total: i64,
}

/// Filters for a call listing; every one is optional. Dates are RFC 3339 or `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CallQuery {
    pub phone_id: Option<String>,
    pub agent_id: Option<String>,
    pub status: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

/// Turn kinds: caller speech or keypad digits; agent greeting, reply, or fallback line.
pub const TURN_KINDS: &[&str] = &["speech", "dtmf", "greeting", "fallback"];

/// Where the time of a turn went, in milliseconds. On an agent turn each stage is the wait it
/// added after the caller's end of speech was detected (a reply can start during the caller's
/// pause, so STT may already be done), and they add up to `first_byte_ms`; `endpointing_ms`
/// is the silence waited before that, so endpointing + first byte is the caller's
/// voice-to-voice wait. On a caller turn `stt_ms` is the transcription's own run time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnTimings {
    /// Silence waited before the caller's turn was taken as finished.
    pub endpointing_ms: Option<i64>,
    pub stt_ms: Option<i64>,
    /// Until the agent's first token.
    pub agent_ms: Option<i64>,
    /// Until the first sentence's audio.
    pub tts_ms: Option<i64>,
    pub first_byte_ms: Option<i64>,
    pub heard_ms: Option<i64>,
}

/// One turn of a call's conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnView {
    pub seq: i64,
    /// `caller` or `agent`.
    pub role: String,
    pub kind: String,
    pub text: String,
    pub started_at: String,
    pub ended_at: String,
    /// The caller spoke over this agent turn (barge-in); the rest was not played.
    pub interrupted: bool,
    pub timings: TurnTimings,
}

/// Figures for one number or agent over the chosen days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsRow {
    pub id: String,
    pub label: String,
    pub calls: i64,
    /// Calls whose audio stream began (a conversation took place), not rejected or unanswered.
    pub answered: i64,
    pub avg_duration_ms: Option<i64>,
    pub turns_per_call: Option<f64>,
    pub voice_to_voice_p50_ms: Option<i64>,
    pub voice_to_voice_p90_ms: Option<i64>,
}

/// One day of the chart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsDay {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub calls: i64,
    pub answered: i64,
    pub voice_to_voice_p50_ms: Option<i64>,
    pub voice_to_voice_p90_ms: Option<i64>,
}

/// The analytics page: totals, per number, per agent, and per day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Analytics {
    pub days: u32,
    /// The number or agent `total` and `by_day` are limited to (none: every call).
    #[serde(default)]
    pub phone_id: Option<String>,
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Of the chosen number or agent (or every call).
    pub total: AnalyticsRow,
    /// Every number and every agent of the period, whatever was chosen.
    pub by_number: Vec<AnalyticsRow>,
    pub by_agent: Vec<AnalyticsRow>,
    /// Of the chosen number or agent (or every call).
    pub by_day: Vec<AnalyticsDay>,
}
