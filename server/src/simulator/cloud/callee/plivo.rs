//! A Plivo outbound call after `POST …/Call/` (PLIVO.md §1, §4, §5, §6): form POSTs signed
//! with `X-Plivo-Signature-V3` (and `-Ma-V3`, and the nonce) to the `ring_url` when it rings,
//! the `machine_detection_url` when voicemail answers a dial with machine detection, the
//! `answer_url` once answered (`CallUUID`, `ALegRequestUUID` = the `request_uuid` the API
//! answered, `CallStatus=in-progress`, `Direction=outbound`), then the stream, and the
//! `hangup_url` at the end (`CallStatus`, `HangupCause`, `Duration`, `BillDuration`).

use chrono::{DateTime, Utc};

use super::{Answer, Call, Rang, form, pairs, whole_secs};
use crate::simulator::{CallOptions, plivo};

/// Plivo's `machine_detection` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::simulator::cloud) enum Amd {
    /// `true`: report and go on.
    Detect,
    /// `hangup`: hang up on a machine.
    Hangup,
}

/// An accepted Plivo dial.
pub(in crate::simulator::cloud) struct Dial {
    /// The account.
    pub auth_id: String,
    /// Signs every callback.
    pub auth_token: String,
    /// The call's id (`CallUUID`), which the dial's answer does not carry.
    pub call_uuid: String,
    /// What the dial's answer carried (`request_uuid`).
    pub request_uuid: String,
    /// Our number, digits.
    pub from: String,
    /// The callee, digits.
    pub to: String,
    /// Asked for the call's XML once answered.
    pub answer_url: String,
    /// Told when it rings.
    pub ring_url: Option<String>,
    /// Told when it ends, and how.
    pub hangup_url: Option<String>,
    /// `machine_detection`, when asked.
    pub machine_detection: Option<Amd>,
    /// Told when a machine answered.
    pub machine_detection_url: Option<String>,
}

/// Plivo's time format (`2024-05-01 10:00:00`).
fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

impl Dial {
    /// The fields every callback of the call has.
    fn fields(&self, more: Vec<(String, String)>) -> Vec<(String, String)> {
        let mut form = pairs([
            ("CallUUID", self.call_uuid.clone()),
            ("RequestUUID", self.request_uuid.clone()),
            ("ALegUUID", self.call_uuid.clone()),
            ("ALegRequestUUID", self.request_uuid.clone()),
            ("From", self.from.clone()),
            ("To", self.to.clone()),
            ("Direction", "outbound".into()),
            ("ParentAuthID", self.auth_id.clone()),
        ]);
        form.extend(more);
        form
    }

    /// Posts the callback `more` (with the call's fields) to `url` (if any), signed.
    async fn report(&self, call: &Call, what: &str, url: Option<&str>, more: Vec<(String, String)>) {
        let Some(url) = url else { return };
        let body = self.fields(more);
        call.send(what, || form(url, body.clone(), plivo::signed_headers(&self.auth_token, url, &body))).await;
    }

    /// The `hangup_url` callback: the final `CallStatus`, the `HangupCause`, and `lasted`
    /// seconds of conversation from `answered` (if it was).
    async fn hang_up(&self, call: &Call, status: &str, cause: &str, answered: Option<DateTime<Utc>>, lasted: u64) {
        let mut more = pairs([
            ("CallStatus", status.into()),
            ("Event", "Hangup".into()),
            ("HangupCause", cause.into()),
            ("Duration", lasted.to_string()),
            ("BillDuration", lasted.to_string()),
            ("EndTime", time(Utc::now())),
        ]);
        if let Some(at) = answered {
            more.extend(pairs([("AnswerTime", time(at)), ("StartTime", time(at))]));
        }
        self.report(call, "hangup", self.hangup_url.as_deref(), more).await;
    }
}

/// Plays the call `dial` to its end.
pub(in crate::simulator::cloud) async fn play(call: Call, dial: Dial) {
    let ringing = pairs([("CallStatus", "ringing".into()), ("Event", "Ring".into())]);
    dial.report(&call, "ring", dial.ring_url.as_deref(), ringing).await;
    let machine = match call.ring().await {
        Rang::Answered { machine } => machine,
        Rang::Busy => return dial.hang_up(&call, "busy", "USER_BUSY", None, 0).await,
        Rang::NoAnswer => return dial.hang_up(&call, "no-answer", "NO_ANSWER", None, 0).await,
        Rang::Failed => return dial.hang_up(&call, "failed", "NORMAL_TEMPORARY_FAILURE", None, 0).await,
    };
    let answered = Utc::now();
    if let (Some(mode), true) = (dial.machine_detection, machine) {
        let verdict = pairs([("Machine", "true".into()), ("CallStatus", "in-progress".into())]);
        dial.report(&call, "machine", dial.machine_detection_url.as_deref(), verdict).await;
        if mode == Amd::Hangup {
            call.end();
            return dial.hang_up(&call, "completed", "NORMAL_CLEARING", Some(answered), 0).await;
        }
    }
    let mut opts = CallOptions::plivo(dial.answer_url.clone(), Vec::new(), &dial.auth_id, &dial.auth_token);
    opts.call_sid.clone_from(&dial.call_uuid);
    opts.from = format!("+{}", dial.from);
    opts.to = format!("+{}", dial.to);
    opts.extra = pairs([
        ("RequestUUID", dial.request_uuid.clone()),
        ("ALegUUID", dial.call_uuid.clone()),
        ("ALegRequestUUID", dial.request_uuid.clone()),
    ]);
    let lasted = call.converse(opts, Answer::Webhook).await;
    dial.hang_up(&call, "completed", "NORMAL_CLEARING", Some(answered), whole_secs(lasted)).await;
}
