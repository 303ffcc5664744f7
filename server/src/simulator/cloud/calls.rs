//! Outbound calls in the cloud, what the providers' place-call APIs share: who answers a dialed
//! number ([`Callee`], [`Cloud::callee`]), how long it rings, how fast dials may come
//! ([`Cloud::dial_rate`]), and what was dialed ([`Dialed`], the live and finished counts).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use domain::phone_number::Provider;

use super::{Cloud, Refuse};

/// The most dials [`Cloud::dials`] keeps (the oldest go first).
const MAX_DIALS: usize = 100_000;
/// How long a callee rings unless [`Cloud::ring`] says otherwise.
const DEFAULT_RING: Duration = Duration::from_millis(300);

/// What the person (or machine) at a dialed number does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Callee {
    /// Answers, listens to the agent's greeting, then hangs up.
    #[default]
    Human,
    /// The line is busy.
    Busy,
    /// Rings until the provider gives up.
    NoAnswer,
    /// The call cannot be put through (a network failure, an unreachable number).
    Fail,
    /// Voicemail: answers and stays silent; the provider reports a machine when the dial asked
    /// for machine detection.
    Machine,
}

/// One place-call request the cloud accepted.
#[derive(Debug, Clone)]
pub struct Dialed {
    /// Whose API placed it.
    pub provider: Provider,
    /// The call's id as the callbacks carry it: Exotel's and Twilio's `Sid`, Vonage's `uuid`,
    /// Plivo's `CallUUID`.
    pub call_id: String,
    /// The id the place-call response gave: `call_id`, except Plivo's `request_uuid`.
    pub request_id: String,
    /// Our number (the caller id), as `+` and digits.
    pub from: String,
    /// The dialed number, as `+` and digits.
    pub to: String,
    /// When the request was accepted.
    pub at: Instant,
}

/// The outbound side of the cloud's state.
#[derive(Default)]
pub(super) struct Ledger {
    callees: HashMap<String, Callee>,
    default_callee: Callee,
    ring: Option<Duration>,
    dial_rate: Option<u32>,
    /// When the dials of the last second came (at most `dial_rate` of them).
    recent: VecDeque<Instant>,
    dials: VecDeque<Dialed>,
    /// Live calls per dialed number.
    live_to: HashMap<String, usize>,
    live: usize,
    peak_live: usize,
    overlapping: u64,
    finished: usize,
    callback_failures: u64,
    refused_dials: u64,
    voices: Option<Voices>,
    /// What a person says once the agent has greeted them (8 kHz), if anything.
    person_says: Option<std::sync::Arc<[i16]>>,
}

/// What callees say when the provider cannot tell a machine itself (Exotel: the callee speaks
/// first and Voxgate listens): a person's "hello?", a voicemail's greeting and beep; 16-bit
/// samples at 8 kHz (the rate of Exotel's stream).
#[derive(Debug, Clone)]
pub struct Voices {
    pub hello: std::sync::Arc<[i16]>,
    pub voicemail: std::sync::Arc<[i16]>,
}

impl Default for Voices {
    /// Speech-shaped noise: 0.6 s of "hello", and a 4.5 s greeting, a pause and a 1 kHz beep.
    fn default() -> Self {
        let rate = 8000.0;
        let noise = |secs: f64, seed: u32| {
            let mut x = seed;
            (0..(rate * secs) as usize)
                .map(move |i| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    // 120 ms syllables with 40 ms dips.
                    let level = if (i * 1000 / rate as usize) % 160 < 120 { 4000.0 } else { 300.0 };
                    ((f64::from(x) / f64::from(u32::MAX) - 0.5) * 2.0 * level) as i16
                })
                .collect::<Vec<i16>>()
        };
        let silence = |secs: f64| vec![0i16; (rate * secs) as usize];
        let beep: Vec<i16> =
            (0..(rate * 0.4) as usize).map(|i| (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / rate).sin()) as i16).collect();
        Self {
            hello: [silence(0.2), noise(0.6, 7)].concat().into(),
            voicemail: [silence(0.2), noise(4.5, 11), silence(0.3), beep].concat().into(),
        }
    }
}

/// A call between its acceptance and its end; dropping it ends the call.
pub(super) struct Live {
    cloud: Cloud,
    to: String,
}

impl Drop for Live {
    fn drop(&mut self) {
        let mut inner = self.cloud.lock();
        let calls = &mut inner.calls;
        calls.live = calls.live.saturating_sub(1);
        calls.finished += 1;
        if let Some(n) = calls.live_to.get_mut(&self.to) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                calls.live_to.remove(&self.to);
            }
        }
    }
}

/// An accepted dial: what its callee will do, how long it rings, and the call kept live.
pub(super) struct Accepted {
    /// What the callee does.
    pub callee: Callee,
    /// How long it rings first.
    pub ring: Duration,
    /// The call, live until dropped.
    pub live: Live,
}

impl Cloud {
    /// What the callee at `number_e164` (`+` and digits, as dialed) does.
    pub fn callee(&self, number_e164: &str, callee: Callee) {
        self.lock().calls.callees.insert(number_e164.to_string(), callee);
    }

    /// What callees without their own [`Cloud::callee`] do ([`Callee::Human`] unless set).
    pub fn default_callee(&self, callee: Callee) {
        self.lock().calls.default_callee = callee;
    }

    /// How long a dialed number rings before its callee answers or the outcome is known
    /// (300 ms unless set; a dial's own ring timeout cuts it short as no answer).
    pub fn ring(&self, ring: Duration) {
        self.lock().calls.ring = Some(ring);
    }

    /// What callees say on streams where they speak first (Exotel's); see [`Voices`].
    pub fn voices(&self, voices: Voices) {
        self.lock().calls.voices = Some(voices);
    }

    /// What every person who answers says after the agent's greeting (16-bit samples at 8 kHz),
    /// waiting for the agent's reply; `None`: they just listen and hang up.
    pub fn person_says(&self, audio: Option<std::sync::Arc<[i16]>>) {
        self.lock().calls.person_says = audio;
    }

    pub(super) fn person_says_now(&self) -> Option<std::sync::Arc<[i16]>> {
        self.lock().calls.person_says.clone()
    }

    /// The callees' voices ([`Voices::default`] unless set).
    pub(super) fn voices_now(&self) -> Voices {
        self.lock().calls.voices.clone().unwrap_or_default()
    }

    /// Place-call requests beyond `per_second` in any rolling second get the provider's 429
    /// with `Retry-After: 1` (Vonage documents 3 creates a second); `None` lifts the limit.
    pub fn dial_rate(&self, per_second: Option<u32>) {
        let mut inner = self.lock();
        inner.calls.dial_rate = per_second;
        inner.calls.recent.clear();
    }

    /// The accepted place-call requests, oldest first (the last 100,000).
    pub fn dials(&self) -> Vec<Dialed> {
        self.lock().calls.dials.iter().cloned().collect()
    }

    /// Calls accepted and not yet ended.
    pub fn live(&self) -> usize {
        self.lock().calls.live
    }

    /// The most calls live at once so far.
    pub fn peak_live(&self) -> usize {
        self.lock().calls.peak_live
    }

    /// Dials accepted while the same number already had a live call (double dials).
    pub fn overlapping(&self) -> u64 {
        self.lock().calls.overlapping
    }

    /// Calls that have ended (every callback sent, or given up).
    pub fn finished(&self) -> usize {
        self.lock().calls.finished
    }

    /// Place-call requests refused with 429 by [`Cloud::dial_rate`].
    pub fn refused_dials(&self) -> u64 {
        self.lock().calls.refused_dials
    }

    /// Callbacks (status, event, answer requests) that failed after their retries.
    pub fn callback_failures(&self) -> u64 {
        self.lock().calls.callback_failures
    }

    /// Counts a callback that failed for good.
    pub(super) fn callback_failed(&self) {
        self.lock().calls.callback_failures += 1;
    }

    /// Records an accepted dial from our `from` to `to` (both `+` and digits) and makes it live.
    pub(super) fn accept(&self, provider: Provider, call_id: &str, request_id: &str, from: &str, to: &str) -> Accepted {
        let mut inner = self.lock();
        let calls = &mut inner.calls;
        if calls.dials.len() >= MAX_DIALS {
            calls.dials.pop_front();
        }
        let at = Instant::now();
        let (call_id, request_id, from, to) = (call_id.to_string(), request_id.to_string(), from.to_string(), to.to_string());
        calls.dials.push_back(Dialed { provider, call_id, request_id, from, to: to.clone(), at });
        let on_number = calls.live_to.entry(to.clone()).or_default();
        if *on_number > 0 {
            calls.overlapping += 1;
        }
        *on_number += 1;
        calls.live += 1;
        calls.peak_live = calls.peak_live.max(calls.live);
        let callee = calls.callees.get(&to).copied().unwrap_or(calls.default_callee);
        let ring = calls.ring.unwrap_or(DEFAULT_RING);
        drop(inner);
        Accepted { callee, ring, live: Live { cloud: self.clone(), to } }
    }

    /// Takes a place in the last second's dials: `false` when [`Cloud::dial_rate`] has none left.
    fn take_dial_slot(&self) -> bool {
        let mut inner = self.lock();
        let calls = &mut inner.calls;
        let Some(rate) = calls.dial_rate else { return true };
        let now = Instant::now();
        while calls.recent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            calls.recent.pop_front();
        }
        if calls.recent.len() >= rate as usize {
            calls.refused_dials += 1;
            return false;
        }
        calls.recent.push_back(now);
        true
    }
}

/// The place-call routes' gate: the provider's 429 with `Retry-After: 1` beyond the dial rate.
pub(super) async fn dial_gate(State((cloud, refuse)): State<(Cloud, Refuse)>, request: Request, next: Next) -> Response {
    if cloud.take_dial_slot() {
        return next.run(request).await;
    }
    let mut response = refuse(1);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1));
    response
}

/// A dialed or calling number as `+` and 8 to 15 digits: `+…` as written, else international
/// digits (Vonage's and Plivo's `447700900000`); `None` when it is not a phone number.
pub(super) fn e164(number: &str) -> Option<String> {
    let number = number.trim();
    let digits = number.strip_prefix('+').unwrap_or(number);
    (digits.len() >= 8 && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| format!("+{digits}"))
}

/// An Indian number as Exotel's customers write it (`09876543210`, `9876543210`, `+91…`) as
/// `+` and digits; `None` when it is not a phone number.
pub(super) fn e164_india(number: &str) -> Option<String> {
    let cleaned: String = number.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    match cleaned.strip_prefix('0') {
        Some(national) if national.len() == 10 => e164(&format!("+91{national}")),
        _ if cleaned.len() == 10 && !cleaned.starts_with('+') => e164(&format!("+91{cleaned}")),
        _ => e164(&cleaned),
    }
}

/// A random 32-hex-digit id (Exotel's call `Sid`, Twilio's after `CA`).
pub(super) fn hex_id() -> String {
    crate::secrets::random_string(b"0123456789abcdef", 32)
}

/// A dial's timeout or limit in whole seconds as a duration (`None`: not given; 0 is taken as
/// not given, the provider's default, rather than as a call cut at once).
pub(super) fn secs(value: Option<u64>) -> Option<Duration> {
    value.filter(|s| *s > 0).map(Duration::from_secs)
}

/// Whether `raw` is an absolute URL of one of `schemes` (a callback's `http`/`https`, a
/// stream's `ws`/`wss`).
pub(super) fn url_of(raw: &str, schemes: &[&str]) -> bool {
    url::Url::parse(raw).is_ok_and(|u| schemes.contains(&u.scheme()) && u.has_host())
}

/// Web URLs a provider calls back.
pub(super) const WEB: &[&str] = &["http", "https"];
