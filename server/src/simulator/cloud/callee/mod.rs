//! The callee of one accepted dial and the provider's callbacks about it, played in a spawned
//! task: the phone rings, the callee answers (or is busy, or does not answer, or the call
//! fails), the provider fetches the answer and streams (the simulator on the answer's stream),
//! and reports the call's progress to the dial's callback URLs.
//!
//! - here: what every provider shares: the ring, the conversation, sending a callback.
//! - `exotel`, `twilio`, `vonage`, `plivo`: each provider's sequence and callback fields.

pub(super) mod exotel;
pub(super) mod plivo;
pub(super) mod twilio;
pub(super) mod vonage;

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use super::calls::{Accepted, Callee, Live};
use super::{Cloud, CloudAccount};
use crate::simulator::{self, CallOptions, Step};

/// How long one callback request may take.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries of a callback after a 5xx or a connection error (Exotel documents at most 2).
const RETRIES: u32 = 2;
/// The longest call when the dial set no time limit (the providers' 4 h default).
const MAX_CALL: Duration = Duration::from_secs(4 * 3600);

/// The client every callback is sent with.
static CLIENT: LazyLock<reqwest::Client> =
    LazyLock::new(|| reqwest::Client::builder().timeout(CALLBACK_TIMEOUT).build().unwrap_or_default());

/// How the ringing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rang {
    /// Picked up.
    Answered {
        /// By voicemail.
        machine: bool,
    },
    /// The line was busy.
    Busy,
    /// Nobody picked up in time.
    NoAnswer,
    /// The call could not be put through.
    Failed,
}

/// One accepted dial on its way: the callee, the dial's timers, and the call kept live.
pub(super) struct Call {
    /// The cloud, which counts failed callbacks.
    pub cloud: Cloud,
    /// What the callee does.
    pub callee: Callee,
    /// How long it rings before the callee does it.
    ring: Duration,
    /// How long the dial lets it ring (`Timeout`, `ringing_timer`, `ring_timeout`).
    ring_timeout: Option<Duration>,
    /// The longest conversation the dial allows (`TimeLimit`, `length_timer`, `time_limit`).
    time_limit: Option<Duration>,
    /// Counted live until the call ends: before its final callback, as a provider's own
    /// concurrency counts it (the dialer may dial again as soon as it hears the end).
    live: std::sync::Mutex<Option<Live>>,
}

/// Where the conversation's stream comes from.
pub(super) enum Answer<'a> {
    /// The answer webhook of the options, then its stream.
    Webhook,
    /// An answer the dial carried (Twilio's `Twiml`, Vonage's `ncco`).
    Inline(&'a str),
    /// A stream URL, opened straight away (Exotel's `StreamUrl`).
    Stream(&'a str),
}

/// One callback request: a POST of a form or of JSON, with its signature headers.
pub(super) struct Hook {
    /// Where it goes.
    pub url: String,
    /// What it carries.
    pub body: Body,
    /// Its signature headers.
    pub headers: Vec<(String, String)>,
}

/// A callback's body.
pub(super) enum Body {
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(String, String)>),
    /// `application/json`, as bytes (signatures hash them).
    Json(Vec<u8>),
}

impl Call {
    /// The dial `accepted` of `cloud`, with its ring timeout and time limit.
    pub(super) fn new(cloud: &Cloud, accepted: Accepted, ring_timeout: Option<Duration>, time_limit: Option<Duration>) -> Self {
        let Accepted { callee, ring, live } = accepted;
        Self { cloud: cloud.clone(), callee, ring, ring_timeout, time_limit, live: std::sync::Mutex::new(Some(live)) }
    }

    /// The call is over (its final callback follows).
    fn end(&self) {
        let live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        drop(live);
    }

    /// Runs `script` in a spawned task (the dial's answer is sent meanwhile).
    pub(super) fn spawn(script: impl Future<Output = ()> + Send + 'static) {
        tokio::spawn(script);
    }

    /// Lets it ring; how the ringing ended. A callee who would answer after the dial's ring
    /// timeout does not answer.
    pub(super) async fn ring(&self) -> Rang {
        let timeout = self.ring_timeout.unwrap_or(Duration::MAX);
        let (wait, rang) = match self.callee {
            Callee::Human | Callee::Machine if self.ring > timeout => (timeout, Rang::NoAnswer),
            Callee::Human => (self.ring, Rang::Answered { machine: false }),
            Callee::Machine => (self.ring, Rang::Answered { machine: true }),
            Callee::Busy => (self.ring.min(timeout), Rang::Busy),
            Callee::NoAnswer => (self.ring.min(timeout), Rang::NoAnswer),
            Callee::Fail => (self.ring.min(timeout), Rang::Failed),
        };
        tokio::time::sleep(wait).await;
        if !matches!(rang, Rang::Answered { .. }) {
            self.end();
        }
        rang
    }

    /// Talks as the callee on the answer's stream (`opts` say whose side and which call) until
    /// either side hangs up or the dial's time limit; how long the call lasted. A failed answer
    /// or stream is logged: the call then just ends.
    pub(super) async fn converse(&self, mut opts: CallOptions, answer: Answer<'_>) -> Duration {
        // A person waits for the agent's greeting and hangs up after it, except on Exotel's
        // stream, where Voxgate listens first: there a person says "hello?" first. A voicemail
        // always plays its greeting and beep first, then records what it hears.
        // A voicemail plays its greeting whoever listens.
        let speaks_first = matches!(answer, Answer::Stream(_)) || self.callee == Callee::Machine;
        let voices = if speaks_first { Some(self.cloud.voices_now()) } else { None };
        opts.steps = match (self.callee, voices) {
            (Callee::Machine, Some(v)) => vec![Step::Ask { label: "voicemail".into(), audio: v.voicemail }, Step::WaitReply],
            (_, Some(v)) => vec![Step::Ask { label: "hello".into(), audio: v.hello }, Step::WaitReply],
            (_, None) => Vec::new(),
        };
        if let (Callee::Human, Some(audio)) = (self.callee, self.cloud.person_says_now()) {
            opts.steps.push(Step::Say { label: "person".into(), audio });
        }
        // The voices are at 8 kHz; the simulator resamples them to the stream's rate.
        opts.audio_rate = Some(8000);
        opts.keep_audio = false;
        opts.outbound = true;
        let call_id = opts.call_sid.clone();
        let began = Instant::now();
        let talk = async move {
            match answer {
                Answer::Webhook => simulator::run(opts).await,
                Answer::Inline(body) => simulator::run_answer(opts, body).await,
                Answer::Stream(url) => simulator::run_stream(opts, url).await,
            }
        };
        match tokio::time::timeout(self.time_limit.unwrap_or(MAX_CALL), talk).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(call = %call_id, error = %e, "the callee's side of the call failed"),
            Err(_) => tracing::debug!(call = %call_id, "the call reached its time limit"),
        }
        self.end();
        began.elapsed()
    }

    /// Sends the callback `make` builds (anew for each try: fresh nonces and token ids),
    /// retrying after a 5xx or a connection error; whether it was taken (2xx). Failures are
    /// logged and counted ([`Cloud::callback_failures`]).
    pub(super) async fn send(&self, what: &str, make: impl Fn() -> Hook) -> bool {
        let mut url = String::new();
        for attempt in 0..=RETRIES {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(250) * attempt).await;
            }
            let hook = make();
            url.clone_from(&hook.url);
            let mut request = CLIENT.post(&hook.url);
            request = match hook.body {
                Body::Form(form) => request.form(&form),
                Body::Json(json) => request.header("content-type", "application/json").body(json),
            };
            for (name, value) in hook.headers {
                request = request.header(name, value);
            }
            match request.send().await {
                Ok(res) if res.status().is_success() => return true,
                Ok(res) if res.status().is_server_error() => {
                    tracing::debug!(%url, status = %res.status(), callback = what, "callback refused; retrying");
                }
                Ok(res) => {
                    tracing::warn!(%url, status = %res.status(), callback = what, "callback refused");
                    self.cloud.callback_failed();
                    return false;
                }
                Err(e) => tracing::debug!(%url, error = %e, callback = what, "callback not delivered; retrying"),
            }
        }
        tracing::warn!(%url, callback = what, "callback failed after its retries");
        self.cloud.callback_failed();
        false
    }
}

/// A form callback to `url` without signature headers.
pub(super) fn form(url: &str, form: Vec<(String, String)>, headers: Vec<(String, String)>) -> Hook {
    Hook { url: url.to_string(), body: Body::Form(form), headers }
}

/// Names and values from `&str` names.
pub(super) fn pairs<const N: usize>(list: [(&str, String); N]) -> Vec<(String, String)> {
    list.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A call's length in whole seconds, rounded up (a call that was answered lasted at least 1 s).
pub(super) fn whole_secs(duration: Duration) -> u64 {
    duration.as_millis().div_ceil(1000).max(1).try_into().unwrap_or(u64::MAX)
}

/// The account's number that is `number` (`+` and digits), if any and if it takes calls.
pub(super) fn owned<'a>(account: &'a CloudAccount, number: &str) -> Option<&'a super::CloudNumber> {
    account.numbers.iter().find(|n| n.voice && super::calls::e164(&n.number).is_some_and(|ours| ours == number))
}
