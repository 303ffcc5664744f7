//! Plivo XML answers (shared/protocols/PLIVO.md §2), written by [`crate::telephony::xml`]: a
//! bidirectional `<Stream>` that keeps the call on the stream (the WebSocket URL, with its
//! per-call token in the query, is the element's text; nothing follows it, so the call ends
//! with the stream), or a spoken refusal and `<Hangup/>`.

use crate::telephony::xml::Response;

/// Seconds a stream may last (`streamTimeout`; Plivo's default is a day): the session's own
/// limit is an hour.
pub const STREAM_TIMEOUT_SECS: &str = "3600";

/// `<Speak language>` for an agent language (Plivo's voices: en-US, hi-IN).
pub fn speak_language(language: &str) -> &'static str {
    match language {
        "hi" => "hi-IN",
        _ => "en-US",
    }
}

/// Connects the call to our stream at `ws_url` (`wss://…`, query included) with audio as
/// `content_type` (one of [`super::media::AudioFormat::content_type`]); Plivo reports the
/// stream's life to `status_callback` (POST). The greeting plays through the stream itself.
pub fn stream(ws_url: &str, content_type: &str, status_callback: &str) -> String {
    let mut r = Response::new();
    r.element(
        "Stream",
        &[
            ("bidirectional", "true"),
            ("keepCallAlive", "true"),
            ("contentType", content_type),
            ("streamTimeout", STREAM_TIMEOUT_SECS),
            ("statusCallbackUrl", status_callback),
            ("statusCallbackMethod", "POST"),
        ],
        ws_url,
    );
    r.finish()
}

/// Hangs up.
pub fn hang_up() -> String {
    let mut r = Response::new();
    r.empty("Hangup", &[]);
    r.finish()
}

/// Speaks `message` in the agent's `language` and hangs up.
pub fn speak_and_hang_up(message: &str, language: &str) -> String {
    let mut r = Response::new();
    r.element("Speak", &[("language", speak_language(language))], message).empty("Hangup", &[]);
    r.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::xml::{Element, read_back};

    const WS: &str = "wss://v.example/api/telephony/plivo/stream/p1?voxgate_token=9.ab&x=1";

    /// The elements with sorted attributes and trimmed text (attribute order and the
    /// indentation of a pretty printer are not part of the document).
    fn tree(xml: &str) -> Vec<Element> {
        read_back(xml)
            .into_iter()
            .map(|(name, mut attrs, text)| {
                attrs.sort();
                (name, attrs, text.trim().to_string())
            })
            .collect()
    }

    #[test]
    fn the_stream_is_the_only_element_and_its_url_its_text() {
        let xml = stream(WS, "audio/x-mulaw;rate=8000", "https://v.example/api/telephony/plivo/status/p1");
        assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Stream bidirectional="true""#), "{xml}");
        // The URL escaped, with no whitespace around it, and nothing after the stream.
        assert!(xml.ends_with(">wss://v.example/api/telephony/plivo/stream/p1?voxgate_token=9.ab&amp;x=1</Stream></Response>"), "{xml}");
        let parts = read_back(&xml);
        let names: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, ["Response", "Stream"]);
        assert_eq!(parts[1].2, WS);
        let attr = |name: &str| parts[1].1.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(attr("contentType"), Some("audio/x-mulaw;rate=8000"));
        assert_eq!(attr("keepCallAlive"), Some("true"));
        assert_eq!(attr("bidirectional"), Some("true"));
        assert_eq!(attr("streamTimeout"), Some("3600"));
        assert_eq!(attr("statusCallbackMethod"), Some("POST"));
        assert_eq!(attr("audioTrack"), None, "bidirectional streams take only the default inbound track");
    }

    #[test]
    fn the_tree_equals_plivos_own_library() {
        // plivo-python: plivoxml.ResponseElement().add(plivoxml.StreamElement(url,
        // bidirectional=True, keepCallAlive=True, contentType='audio/x-l16;rate=16000',
        // streamTimeout=3600, statusCallbackUrl=…, statusCallbackMethod='POST')).to_string()
        // (lxml, pretty-printed, booleans lowercased by map_type).
        let reference = "<Response>\n  <Stream bidirectional=\"true\" streamTimeout=\"3600\" \
            statusCallbackUrl=\"https://v.example/api/telephony/plivo/status/p1?a=1&amp;b=2\" \
            statusCallbackMethod=\"POST\" contentType=\"audio/x-l16;rate=16000\" keepCallAlive=\"true\">\
            wss://v.example/api/telephony/plivo/stream/p1?voxgate_token=9.ab&amp;x=1</Stream>\n</Response>\n";
        let ours = stream(WS, "audio/x-l16;rate=16000", "https://v.example/api/telephony/plivo/status/p1?a=1&b=2");
        assert_eq!(tree(&ours), tree(reference));
        // And a difference would show: another content type is another tree.
        assert_ne!(tree(&stream(WS, "audio/x-l16;rate=8000", "https://v.example/api/telephony/plivo/status/p1?a=1&b=2")), tree(reference));
    }

    #[test]
    fn an_inactive_number_hears_a_refusal_and_the_call_hangs_up() {
        let xml = speak_and_hang_up("Sorry <now> & later", "en");
        assert!(xml.ends_with("<Hangup/></Response>"), "{xml}");
        let parts = read_back(&xml);
        assert_eq!(parts[1], ("Speak".to_string(), vec![("language".to_string(), "en-US".to_string())], "Sorry <now> & later".to_string()));
        assert_eq!(parts[2].0, "Hangup");
        assert_eq!(parts.len(), 3);
        assert_eq!(read_back(&speak_and_hang_up("x", "hi"))[1].1[0].1, "hi-IN");
        // plivo-python: ResponseElement().add(SpeakElement('Bye', language='en-US')).add(HangupElement())
        let reference = "<Response>\n  <Speak language=\"en-US\">Bye</Speak>\n  <Hangup/>\n</Response>\n";
        assert_eq!(tree(&speak_and_hang_up("Bye", "en")), tree(reference));
    }
}
