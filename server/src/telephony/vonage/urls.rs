//! The URLs of a Vonage number, pasted into the Vonage application's voice capability. Vonage
//! signs its webhooks (a JWT), so they carry no secret: the answer URL, the event URL and the
//! stream (authenticated when it connects by a per-call token the NCCO passes in its headers).

use crate::telephony::NumberUrls;

/// The answer URL of number `id` under the public origin `http` (`https://…`), GET or POST.
pub fn answer(http: &str, id: &str) -> String {
    format!("{http}/api/telephony/vonage/answer/{id}")
}

/// The event URL of number `id` (call and stream events, POST).
pub fn event(http: &str, id: &str) -> String {
    format!("{http}/api/telephony/vonage/event/{id}")
}

/// The URLs of number `id` under the public origin `http`.
pub fn urls(http: &str, id: &str) -> NumberUrls {
    let ws = crate::telephony::ws_origin(http);
    NumberUrls {
        webhook: answer(http, id),
        events: event(http, id),
        websocket: format!("{ws}/api/telephony/vonage/stream/{id}"),
        voicebot: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vonage_number_has_an_answer_and_an_event_url_without_secrets() {
        let u = urls("https://vox.example", "p1");
        assert_eq!(u.webhook, "https://vox.example/api/telephony/vonage/answer/p1");
        assert_eq!(u.events, "https://vox.example/api/telephony/vonage/event/p1");
        assert_eq!(u.websocket, "wss://vox.example/api/telephony/vonage/stream/p1");
        assert_eq!(urls("http://127.0.0.1:3000", "p1").websocket, "ws://127.0.0.1:3000/api/telephony/vonage/stream/p1");
    }
}
