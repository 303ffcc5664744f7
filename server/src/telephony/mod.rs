//! Telephony: one folder per provider (its parameter names, answer builder, stream codec and
//! request authentication), and the provider-neutral parts every provider plugs into: the
//! call intake ([`calls`]), the parameters it takes ([`params`]), the stream seam
//! ([`stream`]: a codec per provider) and the session task that runs any codec over any
//! socket ([`session`]). The voice pipeline below knows no provider.
//!
//! A new WebSocket provider adds its folder, an arm in [`urls_for`] and a `merge` in [`router`];
//! nothing under `voice/` changes.

pub mod accounts;
pub mod browser;
pub mod calls;
pub mod dial;
pub mod exotel;
pub mod g711;
pub mod outcome;
pub mod params;
pub mod peer;
pub mod plivo;
pub mod session;
pub mod signed;
pub mod stream;
pub mod token;
pub mod transfer;
pub mod twilio;
pub mod vonage;
pub mod xml;

use axum::Router;
use domain::phone_number::Provider;

use crate::db::phone_numbers::NumberRow;
use crate::state::AppState;

/// The URLs a provider is given for a number, built from the public URL.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberUrls {
    /// The answer URL ("a call comes in").
    pub webhook: String,
    /// Where the provider reports the call's progress and end: Vonage's event URL, Plivo's
    /// hangup URL (empty for other providers).
    pub events: String,
    /// The media stream's WebSocket URL.
    pub websocket: String,
    /// Exotel's Voicebot applet dynamic URL (empty for other providers).
    pub voicebot: String,
}

/// The WebSocket origin (`wss://…`, or `ws://…` for a plain-HTTP origin) of the public origin `http`.
pub fn ws_origin(http: &str) -> String {
    match http.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", http.trim_start_matches("http://")),
    }
}

/// The URLs of `number` on its provider. Numbers of other providers (`other`) speak
/// Exotel's protocol, as Voxgate's first provider.
pub fn urls(state: &AppState, number: &NumberRow) -> NumberUrls {
    urls_for(state, number.provider, &number.id, &number.url_secret)
}

/// The URLs of number `id` (secret `secret`) on `provider`.
pub fn urls_for(state: &AppState, provider: Provider, id: &str, secret: &str) -> NumberUrls {
    let origin = state.settings.public_link("");
    match provider {
        Provider::Twilio => twilio::urls::urls(&origin, id),
        Provider::Vonage => vonage::urls::urls(&origin, id),
        Provider::Plivo => plivo::urls::urls(&origin, id),
        Provider::Exotel | Provider::Other => exotel::urls::urls(&origin, id, secret),
    }
}

/// The URLs a provider is given for one outbound call of `number` (see [`dial`]): each names the
/// call by our `dial_id`.
pub struct DialUrls {
    pub answer: String,
    pub events: String,
    pub ring: String,
    pub stream: String,
}

/// The URLs of outbound call `dial_id` of `number`, talked by agent `agent_id`.
pub fn dial_urls(state: &AppState, number: &NumberRow, dial_id: &str, agent_id: &str) -> DialUrls {
    let origin = state.settings.public_link("");
    let (id, tag) = (number.id.as_str(), |url: String| dial::with_param(&url, dial::DIAL_PARAMETER, dial_id));
    match number.provider {
        Provider::Twilio => {
            let events = tag(twilio::urls::status(&origin, id));
            DialUrls { answer: tag(twilio::urls::voice(&origin, id)), ring: events.clone(), events, stream: String::new() }
        }
        Provider::Vonage => {
            let u = vonage::urls::urls(&origin, id);
            DialUrls { answer: tag(u.webhook), events: tag(u.events.clone()), ring: tag(u.events), stream: String::new() }
        }
        Provider::Plivo => DialUrls {
            answer: tag(plivo::urls::answer(&origin, id)),
            events: tag(plivo::urls::hangup(&origin, id)),
            ring: tag(plivo::urls::status(&origin, id)),
            stream: String::new(),
        },
        Provider::Exotel | Provider::Other => {
            let u = exotel::urls::urls(&origin, id, &number.url_secret);
            let events = tag(exotel::urls::status(&origin, id, &number.url_secret));
            DialUrls {
                answer: String::new(),
                ring: events.clone(),
                events,
                stream: exotel::urls::stream_url(&u.websocket, dial_id, Some(agent_id)),
            }
        }
    }
}

/// Every provider's webhook, applet and stream routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(exotel::routes::router())
        .merge(twilio::routes::router())
        .merge(vonage::routes::router())
        .merge(plivo::routes::router())
        .merge(browser::router())
}
