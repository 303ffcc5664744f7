//! The URLs an Exotel number is given: the answer webhook, the Voicebot WebSocket (which
//! Exotel opens with the number's secret in its query) and the Voicebot applet's dynamic URL.

use crate::telephony::NumberUrls;

/// The URLs of number `id` with secret `secret`, under the public origin `http` (`https://…`).
pub fn urls(http: &str, id: &str, secret: &str) -> NumberUrls {
    let ws = crate::telephony::ws_origin(http);
    NumberUrls {
        webhook: format!("{http}/api/telephony/webhook/{id}?key={secret}"),
        events: String::new(),
        websocket: format!("{ws}/api/telephony/ws/{id}?key={secret}&sample-rate=8000"),
        voicebot: format!("{http}/api/telephony/exotel/voicebot/{id}?key={secret}"),
    }
}

/// The StatusCallback of number `id` with secret `secret` (outbound calls).
pub fn status(http: &str, id: &str, secret: &str) -> String {
    format!("{http}/api/telephony/exotel/status/{id}?key={secret}")
}

/// The stream URL for one call: the number's WebSocket URL plus the call and its agent.
pub fn stream_url(websocket: &str, session_id: &str, agent_id: Option<&str>) -> String {
    let mut url = format!("{websocket}&session={session_id}");
    if let Some(a) = agent_id {
        url.push_str(&format!("&agent={a}"));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_origins_give_wss_streams() {
        let u = urls("https://vox.example", "p1", "k");
        assert_eq!(u.websocket, "wss://vox.example/api/telephony/ws/p1?key=k&sample-rate=8000");
        assert_eq!(u.webhook, "https://vox.example/api/telephony/webhook/p1?key=k");
        assert_eq!(urls("http://127.0.0.1:3000", "p1", "k").websocket, "ws://127.0.0.1:3000/api/telephony/ws/p1?key=k&sample-rate=8000");
        assert_eq!(stream_url(&u.websocket, "CA1", Some("a1")), format!("{}&session=CA1&agent=a1", u.websocket));
    }
}
