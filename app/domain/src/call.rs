//! Calls: one record per provider call, as the dashboard and the REST API show it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::phone_number::Provider;

choice_enum! {
    /// A call's status, in the order a call moves through them (serde: snake_case).
    pub enum CallStatus {
        Ringing = ("ringing", "Ringing"),
        InProgress = ("in_progress", "In progress"),
        Completed = ("completed", "Completed"),
        Failed = ("failed", "Failed"),
        /// Turned away: the number was not active, or a cap on concurrent calls was reached.
        Rejected = ("rejected", "Rejected"),
    }
}

impl CallStatus {
    /// Whether the call may still be going on (ringing or in progress).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Ringing | Self::InProgress)
    }
}

choice_enum! {
    /// What a turn was: caller speech or keypad digits; agent greeting, reply (`Speech`), or
    /// fallback line (serde: lowercase).
    pub enum TurnKind {
        Speech = ("speech", "Speech"),
        Dtmf = ("dtmf", "Keypad"),
        Greeting = ("greeting", "Greeting"),
        Fallback = ("fallback", "Fallback line"),
        /// The agent's line before it hands the caller to a person.
        Transfer = ("transfer", "Transfer"),
    }
}

choice_enum! {
    /// Who spoke a turn (serde: lowercase).
    pub enum Role {
        Caller = ("caller", "Caller"),
        Agent = ("agent", "Agent"),
    }
}

/// A call in a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    pub id: String,
    /// The provider's call id (Exotel `CallSid`), also the session id.
    pub session_id: String,
    pub provider: Provider,
    pub phone_id: String,
    pub phone_number: String,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub caller: Option<String>,
    pub direction: Option<String>,
    pub status: CallStatus,
    pub reason: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_ms: Option<i64>,
    /// Whom an outbound call dialed (our number called them); `None` for inbound calls.
    #[serde(default)]
    pub callee: Option<String>,
    /// How an outbound call ended, as its provider reported it.
    #[serde(default)]
    pub outcome: Option<crate::outbound::CallOutcome>,
    /// The route an inbound call took through its number's routing (`open/menu:2/agent`).
    #[serde(default)]
    pub route: Option<String>,
    /// Turns stored so far (caller and agent).
    #[serde(default)]
    pub turn_count: i64,
    /// Turns that could not be stored (the transcript has gaps), after retries.
    #[serde(default)]
    pub lost_turns: i64,
}

/// One call with everything the provider sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: CallView,
    /// Every webhook/applet parameter as received (never our URL key).
    pub provider_params: BTreeMap<String, String>,
    /// The conversation, in order.
    pub turns: Vec<TurnView>,
    /// Where the call's stereo WAV (caller left, agent right) is fetched, when it was recorded.
    #[serde(default)]
    pub recording_url: Option<String>,
    /// The recording's length, once the call has ended.
    #[serde(default)]
    pub recording_ms: Option<i64>,
    /// When the recording is deleted (its agent's retention); none keeps it with the call.
    #[serde(default)]
    pub recording_expires_at: Option<String>,
}

/// One page of calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CallPage {
    pub calls: Vec<CallView>,
    pub page: u32,
    pub page_size: u32,
    pub total: i64,
}

/// Filters for a call listing; every one is optional. Dates are RFC 3339 or `YYYY-MM-DD`;
/// `status` is a [`CallStatus`] string (kept a string so a bad one is a field error).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
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

/// Where the time of a turn went, in milliseconds. On an agent turn each stage is the wait it
/// added after the caller's end of speech was detected (a reply can start during the caller's
/// pause, so STT may already be done), and they add up to `first_byte_ms`; `endpointing_ms`
/// is the silence waited before that, so endpointing + first byte is the caller's
/// voice-to-voice wait. On a caller turn `stt_ms` is the transcription's own run time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TurnView {
    pub seq: i64,
    pub role: Role,
    pub kind: TurnKind,
    pub text: String,
    pub started_at: String,
    pub ended_at: String,
    /// The caller spoke over this agent turn (barge-in); the rest was not played.
    pub interrupted: bool,
    pub timings: TurnTimings,
}

/// Figures for one number or agent over the chosen days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsRow {
    pub id: String,
    pub label: String,
    pub calls: i64,
    /// Calls whose audio stream began (a conversation took place), not rejected or unanswered.
    pub answered: i64,
    /// Outbound calls among `calls`, and those an answering machine took.
    #[serde(default)]
    pub outbound: i64,
    #[serde(default)]
    pub machine: i64,
    pub avg_duration_ms: Option<i64>,
    pub turns_per_call: Option<f64>,
    pub voice_to_voice_p50_ms: Option<i64>,
    pub voice_to_voice_p90_ms: Option<i64>,
}

/// One day of the chart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, StrDeserializer};

    use super::*;
    use crate::{UnknownChoice, choose_message, parse_choice};

    fn from_serde<'de, T: Deserialize<'de>>(s: &'de str) -> Result<T, Error> {
        let d: StrDeserializer<'de, Error> = s.into_deserializer();
        T::deserialize(d)
    }

    #[test]
    fn call_statuses_keep_their_strings() {
        let wire: Vec<&str> = CallStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(wire, ["ringing", "in_progress", "completed", "failed", "rejected"]);
        let labels: Vec<&str> = CallStatus::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(labels, ["Ringing", "In progress", "Completed", "Failed", "Rejected"]);
        for &s in CallStatus::ALL {
            assert_eq!(from_serde::<CallStatus>(s.as_str()).unwrap(), s, "serde reads as_str");
            assert_eq!(s.as_str().parse::<CallStatus>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(CallStatus::from_str(" In_Progress "), Ok(CallStatus::InProgress));
        assert_eq!("in progress".parse::<CallStatus>(), Err(UnknownChoice));
        assert_eq!("busy".parse::<CallStatus>(), Err(UnknownChoice));
        assert_eq!("".parse::<CallStatus>(), Err(UnknownChoice));
        assert!(from_serde::<CallStatus>("InProgress").is_err(), "serde takes only the exact string");
        assert!(from_serde::<CallStatus>("Completed").is_err());
    }

    #[test]
    fn only_ringing_and_in_progress_calls_are_live() {
        let live: Vec<CallStatus> = CallStatus::ALL.iter().copied().filter(|s| s.is_live()).collect();
        assert_eq!(live, [CallStatus::Ringing, CallStatus::InProgress]);
    }

    #[test]
    fn turn_kinds_and_roles_keep_their_strings() {
        let kinds: Vec<&str> = TurnKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, ["speech", "dtmf", "greeting", "fallback", "transfer"]);
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(roles, ["caller", "agent"]);
        for &k in TurnKind::ALL {
            assert_eq!(from_serde::<TurnKind>(k.as_str()).unwrap(), k);
            assert_eq!(k.as_str().to_uppercase().parse::<TurnKind>(), Ok(k));
        }
        for &r in Role::ALL {
            assert_eq!(from_serde::<Role>(r.as_str()).unwrap(), r);
            assert_eq!(r.to_string().parse::<Role>(), Ok(r));
        }
        assert_eq!("user".parse::<Role>(), Err(UnknownChoice));
        assert_eq!("keypad".parse::<TurnKind>(), Err(UnknownChoice), "labels are not values");
        assert!(from_serde::<Role>("Agent").is_err());
        assert_eq!(format!("[{:<6}]", Role::Agent), "[agent ]", "Display pads like a string");
    }

    #[test]
    fn a_status_filter_parses_or_names_the_choices() {
        assert_eq!(parse_choice::<CallStatus>("status", None), Ok(None));
        assert_eq!(parse_choice::<CallStatus>("status", Some("  ")), Ok(None));
        assert_eq!(parse_choice::<CallStatus>("status", Some("Failed")), Ok(Some(CallStatus::Failed)));
        let e = parse_choice::<CallStatus>("status", Some("busy")).unwrap_err();
        assert_eq!((e.field.as_str(), e.message.as_str()), ("status", "Choose ringing, in_progress, completed, failed or rejected."));
        assert_eq!(choose_message::<Role>(), "Choose caller or agent.");
    }
}
