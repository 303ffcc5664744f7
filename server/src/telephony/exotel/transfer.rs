//! Handing an Exotel call to a person (EXOTEL.md §1.2, §2.5): Exotel takes no call-update
//! request for a Voicebot stream; the bot closes the socket and the flow goes on. A flow built
//! for transfers is Voicebot → Passthru (our URL) → Connect (dynamic URL: ours) → Hangup: the
//! Passthru answers 302 (its second branch, to the Connect) for a call with a transfer and 200
//! otherwise, and the Connect's dynamic URL answers the destination.

use serde_json::{Value, json};

/// Longest ring of the person's phone.
const RING_SECS: u32 = 45;

/// The Connect applet's dynamic URL answer: dial `to`; a warm transfer's `summary` is played to
/// the person (the Connect applet's `start_call_playback`, `playback_to: callee`).
pub fn connect(to: &str, summary: Option<&str>) -> Value {
    let mut answer = json!({
        "fetch_after_attempt": false,
        "destination": { "numbers": [to] },
        "record": false,
        "max_ringing_duration": RING_SECS,
        "max_conversation_duration": 3600,
    });
    if let Some(summary) = summary {
        answer["start_call_playback"] = json!({ "playback_to": "callee", "type": "text", "value": summary });
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connect_answer_dials_the_person_and_plays_the_summary_to_them_alone() {
        let cold = connect("+919876500000", None);
        assert_eq!(cold["destination"]["numbers"], json!(["+919876500000"]));
        assert!(cold.get("start_call_playback").is_none());
        let warm = connect("+919876500000", Some("A caller asked for a person."));
        assert_eq!(warm["start_call_playback"]["playback_to"], "callee");
        assert_eq!(warm["start_call_playback"]["value"], "A caller asked for a person.");
    }
}
