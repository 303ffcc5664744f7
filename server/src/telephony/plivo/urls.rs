//! The URLs of a Plivo number, pasted into the Plivo application the number is linked to.
//! Plivo signs its requests (`X-Plivo-Signature-V3`), so they carry no secret: the answer URL,
//! the hangup URL, the stream's status callback, and the stream (its URL carries a per-call
//! token the answer issues).

use crate::telephony::NumberUrls;

/// The answer URL of number `id` under the public origin `http` (`https://…`), POST or GET.
pub fn answer(http: &str, id: &str) -> String {
    format!("{http}/api/telephony/plivo/answer/{id}")
}

/// The hangup URL of number `id` (POST).
pub fn hangup(http: &str, id: &str) -> String {
    format!("{http}/api/telephony/plivo/hangup/{id}")
}

/// The stream's status callback of number `id` (POST).
pub fn status(http: &str, id: &str) -> String {
    format!("{http}/api/telephony/plivo/status/{id}")
}

/// The URLs of number `id` under the public origin `http`.
pub fn urls(http: &str, id: &str) -> NumberUrls {
    let ws = crate::telephony::ws_origin(http);
    NumberUrls {
        webhook: answer(http, id),
        events: hangup(http, id),
        websocket: format!("{ws}/api/telephony/plivo/stream/{id}"),
        voicebot: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plivo_number_has_an_answer_and_a_hangup_url_without_secrets() {
        let u = urls("https://vox.example", "p1");
        assert_eq!(u.webhook, "https://vox.example/api/telephony/plivo/answer/p1");
        assert_eq!(u.events, "https://vox.example/api/telephony/plivo/hangup/p1");
        assert_eq!(status("https://vox.example", "p1"), "https://vox.example/api/telephony/plivo/status/p1");
        assert_eq!(u.websocket, "wss://vox.example/api/telephony/plivo/stream/p1");
    }
}
