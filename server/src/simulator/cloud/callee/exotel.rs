//! An Exotel outbound call after `POST …/Calls/connect` with a `StreamUrl` (EXOTEL.md §3):
//! no answer webhook; once the callee answers Exotel opens the `StreamUrl` itself (the
//! Voicebot protocol, `start` carrying the call's `Sid`, `from` = the `CallerId`, `to` = the
//! dialed number). The `StatusCallback` (an unsigned form POST) gets `answered` when the dial
//! asked for it, and `terminal` always.

use chrono::{DateTime, Utc};

use super::{Answer, Call, Rang, form, pairs, whole_secs};
use crate::simulator::CallOptions;

/// An accepted Exotel dial.
pub(in crate::simulator::cloud) struct Dial {
    /// The account (`AccountSid`).
    pub account_sid: String,
    /// The call (`CallSid`), 32 hex digits.
    pub sid: String,
    /// The dialed number, as the dial wrote it (`From`).
    pub from: String,
    /// The ExoPhone calling, as the dial wrote it (`CallerId`).
    pub caller_id: String,
    /// The ExoPhone's id (`PhoneNumberSid`).
    pub phone_number_sid: String,
    /// Where Exotel streams the answered call.
    pub stream_url: String,
    /// Where the call's progress is posted.
    pub status_callback: Option<String>,
    /// The dial asked for the `answered` event too.
    pub answered_event: bool,
    /// Echoed in every callback.
    pub custom_field: Option<String>,
    /// When the dial was accepted (`DateCreated`).
    pub created: DateTime<Utc>,
}

/// Exotel's time format (`2024-05-01 10:00:00`).
fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

impl Dial {
    /// A status callback: `Status` (`in-progress`, `completed`, `busy`, `no-answer`,
    /// `failed`), `EventType` (`answered` or `terminal`) and the call.
    fn callback(&self, status: &str, event: &str, more: Vec<(String, String)>) -> Vec<(String, String)> {
        let mut form = pairs([
            ("CallSid", self.sid.clone()),
            ("AccountSid", self.account_sid.clone()),
            ("Status", status.into()),
            ("EventType", event.into()),
            ("From", self.from.clone()),
            ("To", self.caller_id.clone()),
            ("PhoneNumberSid", self.phone_number_sid.clone()),
            ("Direction", "outbound-api".into()),
            ("CustomField", self.custom_field.clone().unwrap_or_default()),
            ("DateCreated", time(self.created)),
            ("DateUpdated", time(Utc::now())),
            ("RecordingUrl", String::new()),
        ]);
        form.extend(more);
        form
    }

    async fn report(&self, call: &Call, status: &str, event: &str, more: Vec<(String, String)>) {
        let Some(url) = self.status_callback.as_deref() else { return };
        let body = self.callback(status, event, more);
        call.send(event, || form(url, body.clone(), Vec::new())).await;
    }
}

/// Plays the call `dial` to its end.
pub(in crate::simulator::cloud) async fn play(call: Call, dial: Dial) {
    let failed = match call.ring().await {
        Rang::Answered { .. } => None,
        Rang::Busy => Some("busy"),
        Rang::NoAnswer => Some("no-answer"),
        Rang::Failed => Some("failed"),
    };
    if let Some(status) = failed {
        return dial.report(&call, status, "terminal", pairs([("ConversationDuration", "0".into())])).await;
    }
    let start = Utc::now();
    if dial.answered_event {
        dial.report(&call, "in-progress", "answered", pairs([("StartTime", time(start))])).await;
    }
    let mut opts = CallOptions::new(dial.stream_url.clone(), Vec::new());
    opts.call_sid.clone_from(&dial.sid);
    opts.from.clone_from(&dial.caller_id);
    opts.to.clone_from(&dial.from);
    let lasted = call.converse(opts, Answer::Stream(&dial.stream_url)).await;
    let more = pairs([("ConversationDuration", whole_secs(lasted).to_string()), ("StartTime", time(start)), ("EndTime", time(Utc::now()))]);
    dial.report(&call, "completed", "terminal", more).await;
}
