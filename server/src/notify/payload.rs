//! The JSON an end-of-call webhook carries, built from the call as stored when it is sent.

use domain::call::CallDetail;
use domain::notify::EventKind;
use serde_json::{Value, json};

/// The summary of a call's end: the call, its number, its agent, the transcript and the
/// recording's link (`recordingUrl`, null when the call was not recorded).
pub fn call_summary(event_id: &str, kind: EventKind, created_at: &str, c: &CallDetail, recording_url: Option<&str>) -> Value {
    let v = &c.call;
    let (from, to) = if v.direction.as_deref() == Some("outbound") {
        (Some(v.phone_number.clone()), v.callee.clone())
    } else {
        (v.caller.clone(), Some(v.phone_number.clone()))
    };
    json!({
        "id": event_id,
        "type": kind.as_str(),
        "createdAt": created_at,
        "call": {
            "id": v.id,
            "providerCallId": v.session_id,
            "direction": v.direction.as_deref().unwrap_or("inbound"),
            "status": v.status,
            "outcome": v.outcome,
            "reason": v.reason,
            "from": from,
            "to": to,
            "startedAt": v.started_at,
            "endedAt": v.ended_at,
            "durationMs": v.duration_ms,
            "lostTurns": v.lost_turns,
        },
        "number": { "id": v.phone_id, "phoneNumber": v.phone_number, "provider": v.provider },
        "agent": v.agent_id.as_ref().map(|id| json!({ "id": id, "name": v.agent_name })),
        "transcript": c.turns.iter().map(|t| json!({
            "seq": t.seq, "role": t.role, "kind": t.kind, "text": t.text, "startedAt": t.started_at, "endedAt": t.ended_at,
            "interrupted": t.interrupted,
        })).collect::<Vec<_>>(),
        "recordingUrl": recording_url,
    })
}

/// The body of a "Send test" delivery: the same shape, with no call.
pub fn test_event(event_id: &str, created_at: &str) -> Value {
    json!({
        "id": event_id,
        "type": EventKind::Test.as_str(),
        "createdAt": created_at,
        "message": "A test event from Voxgate: your endpoint received and can verify it.",
        "call": null,
        "number": null,
        "agent": null,
        "transcript": [],
        "recordingUrl": null,
    })
}
