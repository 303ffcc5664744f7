//! How an outbound call ended, read from any provider's callback parameters: the status words
//! (Twilio's and Plivo's `CallStatus`, Vonage's `status`, Exotel's `Status`) and the machine
//! verdicts (Twilio's `AnsweredBy`, Vonage's `machine`/`human` events, Plivo's `Machine`).
//! Inbound calls have no outcome (the repository stores it on outbound calls only).

use std::collections::BTreeMap;

use domain::outbound::CallOutcome;

/// The outcome these parameters report, if any; a machine verdict wins over a status.
pub fn of(raw: &BTreeMap<String, String>) -> Option<CallOutcome> {
    let get = |name: &str| raw.get(name).map(|v| v.trim().to_ascii_lowercase());
    if let Some(by) = get("AnsweredBy") {
        if by.starts_with("machine") || by == "fax" {
            return Some(CallOutcome::Machine);
        }
        if by == "human" {
            return Some(CallOutcome::Answered);
        }
    }
    if get("Machine").as_deref() == Some("true") {
        return Some(CallOutcome::Machine);
    }
    let status = get("CallStatus").or_else(|| get("status")).or_else(|| get("Status"))?;
    Some(match status.as_str() {
        "machine" => CallOutcome::Machine,
        "human" | "answered" | "in-progress" | "completed" => CallOutcome::Answered,
        "busy" | "user_busy" => CallOutcome::Busy,
        "no-answer" | "no_answer" | "unanswered" | "timeout" => CallOutcome::NoAnswer,
        "failed" | "rejected" => CallOutcome::Failed,
        "canceled" | "cancelled" | "cancel" => CallOutcome::Canceled,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of_pairs(pairs: &[(&str, &str)]) -> Option<CallOutcome> {
        of(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn each_providers_words_give_one_outcome() {
        use CallOutcome::*;
        // Twilio
        assert_eq!(of_pairs(&[("CallStatus", "no-answer")]), Some(NoAnswer));
        assert_eq!(of_pairs(&[("CallStatus", "in-progress"), ("AnsweredBy", "machine_end_beep")]), Some(Machine));
        assert_eq!(of_pairs(&[("CallStatus", "completed"), ("AnsweredBy", "human")]), Some(Answered));
        assert_eq!(of_pairs(&[("CallStatus", "canceled")]), Some(Canceled));
        assert_eq!(of_pairs(&[("CallStatus", "ringing")]), None);
        assert_eq!(of_pairs(&[("CallStatus", "initiated")]), None);
        // Vonage
        assert_eq!(of_pairs(&[("status", "machine"), ("call_uuid", "u")]), Some(Machine));
        assert_eq!(of_pairs(&[("status", "unanswered")]), Some(NoAnswer));
        assert_eq!(of_pairs(&[("status", "timeout")]), Some(NoAnswer));
        assert_eq!(of_pairs(&[("status", "rejected")]), Some(Failed));
        assert_eq!(of_pairs(&[("status", "started")]), None);
        // Plivo
        assert_eq!(of_pairs(&[("Machine", "true"), ("CallStatus", "in-progress")]), Some(Machine));
        assert_eq!(of_pairs(&[("CallStatus", "busy"), ("HangupCause", "USER_BUSY")]), Some(Busy));
        assert_eq!(of_pairs(&[("CallStatus", "cancel")]), Some(Canceled));
        // Exotel
        assert_eq!(of_pairs(&[("Status", "no-answer")]), Some(NoAnswer));
        assert_eq!(of_pairs(&[("Status", "completed")]), Some(Answered));
        // Stream events say nothing about the outcome.
        assert_eq!(of_pairs(&[("StreamEvent", "stream-stopped")]), None);
    }
}
