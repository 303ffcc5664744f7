//! TwiML answers (shared/protocols/TWILIO.md §2), written by [`crate::telephony::xml`]: a
//! bidirectional `<Connect><Stream>` whose `<Parameter>`s carry what the stream URL cannot
//! (Twilio drops its query string), or a spoken refusal and `<Hangup/>`.

use crate::telephony::xml::Response;

/// `<Say language>` for an agent language (Twilio's voices: en-US, hi-IN).
pub fn say_language(language: &str) -> &'static str {
    match language {
        "hi" => "hi-IN",
        _ => "en-US",
    }
}

/// Connects the call to our stream; the greeting plays through the stream itself.
pub fn stream(url: &str, status_callback: &str, parameters: &[(&str, &str)]) -> String {
    let mut r = Response::new();
    r.open("Connect", &[]).open("Stream", &[("url", url), ("statusCallback", status_callback), ("statusCallbackMethod", "POST")]);
    for &(name, value) in parameters {
        r.empty("Parameter", &[("name", name), ("value", value)]);
    }
    r.close("Stream").close("Connect");
    r.finish()
}

/// Hangs up.
pub fn hang_up() -> String {
    let mut r = Response::new();
    r.empty("Hangup", &[]);
    r.finish()
}

/// Says `message` and hangs up.
pub fn say_and_hang_up(message: &str, language: &str) -> String {
    let mut r = Response::new();
    r.element("Say", &[("language", say_language(language))], message).empty("Hangup", &[]);
    r.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::xml::read_back;

    #[test]
    fn the_stream_answer_has_its_parameters_and_status_callback() {
        let xml = stream("wss://v.example/api/telephony/twilio/stream/p1", "https://v.example/s?a=1&b=2", &[("voxgate_token", "9.a\"<b")]);
        assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://"#), "{xml}");
        let parts = read_back(&xml);
        let names: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, ["Response", "Connect", "Stream", "Parameter"]);
        assert_eq!(parts[2].1[1], ("statusCallback".to_string(), "https://v.example/s?a=1&b=2".to_string()));
        assert_eq!(parts[2].1[2].1, "POST");
        assert_eq!(parts[3].1, vec![("name".to_string(), "voxgate_token".to_string()), ("value".to_string(), "9.a\"<b".to_string())]);
    }

    #[test]
    fn the_tree_equals_twilios_own_library() {
        // twilio-python 9.x: VoiceResponse() + Connect().stream(url, status_callback,
        // status_callback_method) + .parameter(name, value), printed with str().
        let reference = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream statusCallback="https://v.example/s" statusCallbackMethod="POST" url="wss://v.example/api/telephony/twilio/stream/p1"><Parameter name="voxgate_token" value="9.ab" /></Stream></Connect></Response>"#;
        let ours = stream("wss://v.example/api/telephony/twilio/stream/p1", "https://v.example/s", &[("voxgate_token", "9.ab")]);
        // The same elements, attributes and text; attribute order is not part of XML.
        let sorted = |xml: &str| {
            read_back(xml)
                .into_iter()
                .map(|(name, mut attrs, text)| {
                    attrs.sort();
                    (name, attrs, text)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(sorted(&ours), sorted(reference));
    }

    #[test]
    fn an_inactive_number_hears_a_refusal_and_the_call_hangs_up() {
        let parts = read_back(&say_and_hang_up("Sorry <now> & later", "en"));
        assert_eq!(parts[1], ("Say".to_string(), vec![("language".to_string(), "en-US".to_string())], "Sorry <now> & later".to_string()));
        assert_eq!(parts[2].0, "Hangup");
        assert_eq!(read_back(&say_and_hang_up("x", "hi"))[1].1[0].1, "hi-IN");
    }
}
