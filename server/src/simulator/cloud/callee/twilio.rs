//! A Twilio outbound call after `POST …/Calls.json` (TWILIO.md §1, §5): status callbacks for
//! the events the dial asked for (`completed` always, with the final `CallStatus`), each a form
//! POST signed with `X-Twilio-Signature` over the `StatusCallback` URL and the form; once
//! answered, the signed request to `Url` (`CallStatus=in-progress`, `Direction=outbound-api`,
//! `AnsweredBy` when the dial asked for machine detection), then the stream.

use super::{Answer, Call, Rang, form, pairs, whole_secs};
use crate::simulator::CallOptions;
use crate::telephony::twilio::signature;

/// Twilio's `MachineDetection` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::simulator::cloud) enum Amd {
    /// `Enable`: reports as soon as it knows (`machine_start`).
    Enable,
    /// `DetectMessageEnd`: waits for the greeting's end (`machine_end_beep`).
    DetectMessageEnd,
}

/// Which optional status callback events the dial asked for.
#[derive(Debug, Clone, Copy, Default)]
pub(in crate::simulator::cloud) struct Events {
    /// `initiated`: dialing began.
    pub initiated: bool,
    /// `ringing`: the callee's phone rings.
    pub ringing: bool,
    /// `answered`: the callee picked up (`CallStatus=in-progress`).
    pub answered: bool,
}

/// Where the call's TwiML comes from.
pub(in crate::simulator::cloud) enum Twiml {
    /// Fetched from `Url` once answered.
    Url(String),
    /// Given inline (`Twiml`).
    Inline(String),
}

/// An accepted Twilio dial.
pub(in crate::simulator::cloud) struct Dial {
    /// The account (`AccountSid`).
    pub account_sid: String,
    /// Signs every request to the dial's URLs.
    pub auth_token: String,
    /// The call (`CallSid`, `CA…`).
    pub sid: String,
    /// Our number, as the dial wrote it (`+…`).
    pub from: String,
    /// The callee, as the dial wrote it (`+…`).
    pub to: String,
    /// The call's TwiML.
    pub twiml: Twiml,
    /// Where status callbacks go (none without it).
    pub status_callback: Option<String>,
    /// The optional events asked for.
    pub events: Events,
    /// `MachineDetection`, when asked.
    pub machine_detection: Option<Amd>,
}

impl Dial {
    /// What Twilio says answered: `None` without machine detection.
    fn answered_by(&self, machine: bool) -> Option<&'static str> {
        self.machine_detection.map(|mode| match (machine, mode) {
            (false, _) => "human",
            (true, Amd::Enable) => "machine_start",
            (true, Amd::DetectMessageEnd) => "machine_end_beep",
        })
    }

    /// A status callback's form (TWILIO.md §5) for `status`, the `seq`th callback of the call.
    fn status_form(&self, status: &str, seq: u32, more: Vec<(String, String)>) -> Vec<(String, String)> {
        let mut form = pairs([
            ("CallSid", self.sid.clone()),
            ("AccountSid", self.account_sid.clone()),
            ("From", self.from.clone()),
            ("To", self.to.clone()),
            ("Caller", self.from.clone()),
            ("Called", self.to.clone()),
            ("Direction", "outbound-api".into()),
            ("ApiVersion", "2010-04-01".into()),
            ("CallStatus", status.into()),
            ("CallbackSource", "call-progress-events".into()),
            ("Timestamp", chrono::Utc::now().to_rfc2822()),
            ("SequenceNumber", seq.to_string()),
        ]);
        form.extend(more);
        form
    }
}

/// The status callbacks of one call, numbered as Twilio numbers them (from 0).
struct Progress<'a> {
    call: &'a Call,
    dial: &'a Dial,
    seq: u32,
}

impl Progress<'_> {
    /// Sends the status callback for `status` (if the dial gave a `StatusCallback`).
    async fn report(&mut self, status: &str, more: Vec<(String, String)>) {
        let Some(url) = self.dial.status_callback.as_deref() else { return };
        let form_body = self.dial.status_form(status, self.seq, more);
        self.seq += 1;
        let token = &self.dial.auth_token;
        self.call
            .send(status, || {
                let sig = signature::signature(token, url, &form_body);
                form(url, form_body.clone(), vec![(signature::HEADER.to_string(), sig)])
            })
            .await;
    }
}

/// Plays the call `dial` to its end.
pub(in crate::simulator::cloud) async fn play(call: Call, dial: Dial) {
    let mut progress = Progress { call: &call, dial: &dial, seq: 0 };
    if dial.events.initiated {
        progress.report("initiated", Vec::new()).await;
    }
    if dial.events.ringing {
        progress.report("ringing", Vec::new()).await;
    }
    let machine = match call.ring().await {
        Rang::Answered { machine } => machine,
        Rang::Busy => return progress.report("busy", pairs([("CallDuration", "0".into())])).await,
        Rang::NoAnswer => return progress.report("no-answer", pairs([("CallDuration", "0".into())])).await,
        Rang::Failed => return progress.report("failed", pairs([("CallDuration", "0".into())])).await,
    };
    let answered_by: Vec<(String, String)> =
        dial.answered_by(machine).map(|by| pairs([("AnsweredBy", by.to_string())])).unwrap_or_default();
    if dial.events.answered {
        progress.report("in-progress", answered_by.clone()).await;
    }
    let url = match &dial.twiml {
        Twiml::Url(url) => url.clone(),
        Twiml::Inline(_) => String::new(),
    };
    let mut opts = CallOptions::twilio(url, Vec::new(), &dial.account_sid, &dial.auth_token);
    opts.call_sid.clone_from(&dial.sid);
    opts.from.clone_from(&dial.from);
    opts.to.clone_from(&dial.to);
    opts.extra = answered_by.clone();
    let answer = match &dial.twiml {
        Twiml::Url(_) => Answer::Webhook,
        Twiml::Inline(twiml) => Answer::Inline(twiml),
    };
    let lasted = call.converse(opts, answer).await;
    let mut more = pairs([("CallDuration", whole_secs(lasted).to_string())]);
    more.extend(answered_by);
    progress.report("completed", more).await;
}
