//! A Vonage outbound call after `POST /v1/calls` (VONAGE.md §1, §4, §6): events to the
//! `event_url` (JSON POSTs, `Authorization: Bearer` HS256 JWT signed with the account's
//! signature secret, with the body's `payload_hash`) `started`, `ringing`, then `answered`
//! (and `human`/`machine` with machine detection) and, after the stream, `completed` with the
//! `duration`; or `busy`/`timeout`/`failed`. Once answered, the signed GET to the `answer_url`
//! (or the dial's `ncco`), then the stream.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::{Answer, Body, Call, Hook, Rang, whole_secs};
use crate::simulator::{CallOptions, vonage};

/// Vonage's `machine_detection` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::simulator::cloud) enum Amd {
    /// `continue`: report and go on.
    Continue,
    /// `hangup`: report and hang up on a machine.
    Hangup,
}

/// Where the call's NCCO comes from.
pub(in crate::simulator::cloud) enum Ncco {
    /// Fetched from `answer_url` once answered.
    Url(String),
    /// Given inline (`ncco`), as JSON text.
    Inline(String),
}

/// An accepted Vonage dial.
pub(in crate::simulator::cloud) struct Dial {
    /// The account (`api_key` claim of the signatures).
    pub api_key: String,
    /// The application that placed the call.
    pub application_id: String,
    /// Signs the callbacks; without it they go unsigned (an application without signed
    /// callbacks).
    pub signature_secret: Option<String>,
    /// The call leg (`uuid`).
    pub uuid: String,
    /// Its conversation (`CON-…`).
    pub conversation_uuid: String,
    /// Our number, digits.
    pub from: String,
    /// The callee, digits.
    pub to: String,
    /// The call's NCCO.
    pub ncco: Ncco,
    /// Where events go (none without it).
    pub event_url: Option<String>,
    /// `machine_detection`, when asked.
    pub machine_detection: Option<Amd>,
}

/// Vonage's timestamps: ISO 8601 with milliseconds.
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Dial {
    /// The fields every event of the call has, with `status`.
    fn event(&self, status: &str) -> Map<String, Value> {
        let event = json!({
            "from": self.from,
            "to": self.to,
            "uuid": self.uuid,
            "conversation_uuid": self.conversation_uuid,
            "status": status,
            "direction": "outbound",
            "timestamp": time(Utc::now()),
        });
        event.as_object().cloned().unwrap_or_default()
    }

    /// Posts `event` to the `event_url` (if any), signed when the account has a secret.
    async fn report(&self, call: &Call, event: Map<String, Value>) {
        let Some(url) = self.event_url.as_deref() else { return };
        let what = event.get("status").and_then(Value::as_str).unwrap_or("event").to_string();
        let body = serde_json::to_vec(&event).unwrap_or_default();
        call.send(&what, || {
            let headers = self.signature_secret.as_deref().map(|secret| {
                let app = vonage::App { api_key: &self.api_key, secret, application_id: &self.application_id };
                ("Authorization".to_string(), vonage::bearer(&app, &body))
            });
            Hook { url: url.to_string(), body: Body::Json(body.clone()), headers: headers.into_iter().collect() }
        })
        .await;
    }

    /// `completed` after `lasted` of conversation from `start`.
    fn completed(&self, start: DateTime<Utc>, lasted: u64) -> Map<String, Value> {
        let mut event = self.event("completed");
        for (k, v) in [
            ("start_time", time(start)),
            ("end_time", time(Utc::now())),
            ("duration", lasted.to_string()),
            ("rate", "0.01000000".into()),
            ("price", "0.00000000".into()),
            ("network", "GB-FIXED".into()),
        ] {
            event.insert(k.into(), v.into());
        }
        event
    }
}

/// Plays the call `dial` to its end.
pub(in crate::simulator::cloud) async fn play(call: Call, dial: Dial) {
    dial.report(&call, dial.event("started")).await;
    dial.report(&call, dial.event("ringing")).await;
    let machine = match call.ring().await {
        Rang::Answered { machine } => machine,
        Rang::Busy => return dial.report(&call, dial.event("busy")).await,
        Rang::NoAnswer => return dial.report(&call, dial.event("timeout")).await,
        Rang::Failed => return dial.report(&call, dial.event("failed")).await,
    };
    let start = Utc::now();
    let mut answered = dial.event("answered");
    for k in ["start_time", "rate", "network"] {
        answered.insert(k.into(), Value::Null);
    }
    dial.report(&call, answered).await;
    if let Some(mode) = dial.machine_detection {
        // Machine detection reports the call as `call_uuid`, not `uuid`.
        let mut verdict = dial.event(if machine { "machine" } else { "human" });
        if let Some(uuid) = verdict.remove("uuid") {
            verdict.insert("call_uuid".into(), uuid);
        }
        dial.report(&call, verdict).await;
        if machine && mode == Amd::Hangup {
            call.end();
            return dial.report(&call, dial.completed(start, 0)).await;
        }
    }
    let url = match &dial.ncco {
        Ncco::Url(url) => url.clone(),
        Ncco::Inline(_) => String::new(),
    };
    let secret = dial.signature_secret.as_deref().unwrap_or_default();
    let mut opts = CallOptions::vonage(url, Vec::new(), &dial.api_key, secret, &dial.application_id);
    opts.call_sid.clone_from(&dial.uuid);
    opts.from = format!("+{}", dial.from);
    opts.to = format!("+{}", dial.to);
    opts.extra = vec![("conversation_uuid".into(), dial.conversation_uuid.clone())];
    let answer = match &dial.ncco {
        Ncco::Url(_) => Answer::Webhook,
        Ncco::Inline(ncco) => Answer::Inline(ncco),
    };
    let lasted = call.converse(opts, answer).await;
    dial.report(&call, dial.completed(start, whole_secs(lasted))).await;
}
