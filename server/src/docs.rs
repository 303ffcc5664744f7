//! The setup guide (docs/TELEPHONY_SETUP.md), rendered for the dashboard's Setup Guide page with
//! the operator's own public URL in its examples. One text for the repository and the app.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// The guide as the repository has it.
pub const SETUP_GUIDE: &str = include_str!("../../docs/TELEPHONY_SETUP.md");

/// The public URL the guide's examples use.
pub const EXAMPLE_URL: &str = "https://voxgate.example.com";

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as dashes.
pub fn anchor(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn level(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// The guide as HTML, its examples pointing at `public_url` (an origin such as
/// `https://voice.acme.com`), every heading carrying its GitHub anchor as its id and one level
/// down (the page has its own `h1`).
pub fn setup_guide_html(public_url: &str) -> String {
    let origin = public_url.trim_end_matches('/');
    let ws = origin.replacen("https://", "wss://", 1).replacen("http://", "ws://", 1);
    let host = origin.split("://").nth(1).unwrap_or(origin);
    let text = SETUP_GUIDE.replace("wss://voxgate.example.com", &ws).replace(EXAMPLE_URL, origin).replace("voxgate.example.com", host);
    let parser = Parser::new_ext(&text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let mut events: Vec<Event> = Vec::new();
    let mut heading: Option<(u8, Vec<Event>)> = None;
    for event in parser {
        match event {
            Event::Start(Tag::Heading { level: l, .. }) => heading = Some(((level(l) + 1).min(6), Vec::new())),
            Event::End(TagEnd::Heading(_)) => {
                let Some((n, inner)) = heading.take() else { continue };
                let text: String = inner
                    .iter()
                    .filter_map(|e| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                events.push(Event::Html(CowStr::from(format!("<h{n} id=\"{}\">", anchor(&text)))));
                events.extend(inner);
                events.push(Event::Html(CowStr::from(format!("</h{n}>"))));
            }
            e => match &mut heading {
                Some((_, inner)) => inner.push(e),
                None => events.push(e),
            },
        }
    }
    let mut html = String::with_capacity(text.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_githubs_anchors_and_the_examples_the_operators_url() {
        assert_eq!(anchor("Exotel credentials"), "exotel-credentials");
        assert_eq!(anchor("Provider check (doctor)"), "provider-check-doctor");
        let html = setup_guide_html("https://voice.acme.com/");
        for id in [
            "public-url",
            "exotel-credentials",
            "twilio-ownership",
            "vonage-stream-settings",
            "plivo-credentials",
            "agent",
            "number-status",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "the guide has no #{id}");
        }
        for id in ["doctor", "errors", "security"] {
            assert!(html.contains(&format!("<a id=\"{id}\">")), "the guide has no #{id}");
        }
        assert!(html.contains("https://voice.acme.com/"), "examples use the operator's URL");
        assert!(!html.contains("voxgate.example.com"));
        assert!(!html.contains("<h1"), "the page's own h1 stays the only one");
    }
}
