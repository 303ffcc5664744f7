//! Exotel's XML answers ("ExoML", TwiML's shape), written by [`crate::telephony::xml`].

use crate::telephony::xml::Response;
pub use crate::telephony::xml::not_in_service;

/// The `language` attribute for an agent language.
pub fn say_language(language: &str) -> &'static str {
    match language {
        "hi" => "hi-IN",
        _ => "en-IN",
    }
}

/// What the answer tells the provider to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer<'a> {
    /// Speak the greeting, then connect the bidirectional stream with these parameters.
    Stream { greeting: &'a str, language: &'a str, url: &'a str, parameters: &'a [(&'a str, &'a str)] },
    /// Speak a message and hang up (inactive number).
    SayAndHangUp { message: &'a str, language: &'a str },
}

/// Renders an answer as an XML document.
pub fn to_xml(answer: &Answer<'_>) -> String {
    let mut r = Response::new();
    match answer {
        Answer::Stream { greeting, language, url, parameters } => {
            if !greeting.is_empty() {
                r.element("Say", &[("language", say_language(language))], greeting);
            }
            r.open("Connect", &[]).open("Stream", &[("url", url)]);
            for &(name, value) in *parameters {
                r.empty("Parameter", &[("name", name), ("value", value)]);
            }
            r.close("Stream").close("Connect");
        }
        Answer::SayAndHangUp { message, language } => {
            r.element("Say", &[("language", say_language(language))], message).empty("Hangup", &[]);
        }
    }
    r.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::xml::read_back;

    #[test]
    fn stream_answer_escapes_and_round_trips() {
        let greeting = "Hi <caller> & \"friends\"";
        let url = "wss://v.example.com/api/telephony/ws/n1?key=a&sample-rate=8000";
        let xml = to_xml(&Answer::Stream { greeting, language: "en", url, parameters: &[("session_id", "CA1\"<"), ("agent_id", "ag1")] });
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say language=\"en-IN\">"), "{xml}");
        assert!(!xml.contains("<caller>"));
        let parts = read_back(&xml);
        let names: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, ["Response", "Say", "Connect", "Stream", "Parameter", "Parameter"]);
        assert_eq!(parts[1].2, greeting);
        assert_eq!(parts[3].1, vec![("url".to_string(), url.to_string())]);
        assert_eq!(parts[4].1[1].1, "CA1\"<");
    }

    #[test]
    fn inactive_numbers_say_sorry_and_hang_up_in_the_agents_language() {
        let xml = to_xml(&Answer::SayAndHangUp { message: not_in_service("hi"), language: "hi" });
        let parts = read_back(&xml);
        assert_eq!(parts[1].1[0].1, "hi-IN");
        assert!(parts[1].2.contains("सेवा"));
        assert_eq!(parts[2].0, "Hangup");
    }
}
