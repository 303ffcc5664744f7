//! The URLs of a Twilio number. Twilio signs its requests, so they carry no secret: the voice
//! webhook (pasted into the number's "A call comes in", HTTP POST), the stream status callback,
//! and the stream (authenticated at `start` by a per-call token).

use crate::telephony::NumberUrls;

/// The voice webhook of number `id` under the public origin `http` (`https://…`).
pub fn voice(http: &str, id: &str) -> String {
    format!("{http}/api/telephony/twilio/voice/{id}")
}

/// The stream status callback of number `id`.
pub fn status(http: &str, id: &str) -> String {
    format!("{http}/api/telephony/twilio/status/{id}")
}

/// The URLs of number `id` under the public origin `http`.
pub fn urls(http: &str, id: &str) -> NumberUrls {
    let ws = crate::telephony::ws_origin(http);
    NumberUrls {
        webhook: voice(http, id),
        events: String::new(),
        websocket: format!("{ws}/api/telephony/twilio/stream/{id}"),
        voicebot: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_twilio_number_has_no_secret_in_its_urls() {
        let u = urls("https://vox.example", "p1");
        assert_eq!(u.webhook, "https://vox.example/api/telephony/twilio/voice/p1");
        assert_eq!(u.websocket, "wss://vox.example/api/telephony/twilio/stream/p1");
        assert_eq!(status("https://vox.example", "p1"), "https://vox.example/api/telephony/twilio/status/p1");
        assert_eq!(urls("http://127.0.0.1:3000", "p1").websocket, "ws://127.0.0.1:3000/api/telephony/twilio/stream/p1");
    }
}
