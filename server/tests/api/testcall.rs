//! Test calls from the dashboard: a number's "Test" (the simulator through the number's real
//! webhook and stream, over loopback, with the number's stored credentials).

use domain::test_call::NumberTestReport;
use reqwest::StatusCode;
use server::AppState;

use crate::common;

/// A live server, a user with a token and an agent with a known greeting.
async fn desk() -> (AppState, String, server::users::CurrentUser, String, String) {
    let (state, base) = common::live_server().await;
    let (user, token) = common::user_with_token(&state, "tester@example.com").await;
    let agent = server::agents::create(
        &state,
        &user.owner,
        domain::agent::AgentInput { name: "Desk".into(), greeting: "Thanks for calling the order desk.".into(), ..Default::default() },
    )
    .await
    .unwrap();
    (state, base, user, token, agent.id)
}

async fn test_number(base: &str, token: &str, id: &str) -> (StatusCode, serde_json::Value) {
    let res = reqwest::Client::new().post(format!("{base}/api/phone-numbers/{id}/test")).bearer_auth(token).send().await.unwrap();
    (res.status(), res.json().await.unwrap_or_default())
}

fn step<'a>(r: &'a NumberTestReport, id: &str) -> &'a domain::test_call::TestStep {
    r.steps.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id} in {r:#?}"))
}

/// Every step passes; the greeting and the transcript come from the stored call.
fn assert_went_through(r: &NumberTestReport, state_calls: &serde_json::Value) {
    assert!(r.ok, "{r:#?}");
    let ids: Vec<&str> = r.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["credentials", "webhook", "answer", "stream", "greeting", "caller", "reply", "hangup", "recorded"]);
    assert!(step(r, "webhook").ms.is_some());
    assert!(step(r, "greeting").detail.contains("Thanks for calling the order desk"), "{r:#?}");
    let heard = step(r, "caller").detail.to_lowercase();
    assert!(heard.contains("order"), "the test line is transcribed: {heard}");
    let call = r.call_id.as_deref().expect("the call is named");
    let listed = state_calls["calls"].as_array().unwrap();
    assert!(listed.iter().any(|c| c["id"] == call && c["status"] == "completed" && c["direction"] == "test"), "{listed:?}");
}

#[tokio::test]
async fn a_twilio_number_test_goes_through_every_step_and_is_recorded() {
    let _voice = common::voice_lock().await;
    let (state, base, user, token, agent) = desk().await;
    let number = common::twilio_number(&state, &user.owner, Some(&agent), "active").await;
    let (status, body) = test_number(&base, &token, &number.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let r: NumberTestReport = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(r.provider, "twilio");
    assert!(step(&r, "answer").detail.starts_with("XML"), "{r:#?}");
    assert_went_through(&r, &common::get_json(&base, &token, "/api/calls").await);
    // The number's auth token is used, never shown.
    assert!(!body.to_string().contains(common::TWILIO_TOKEN));
}

#[tokio::test]
async fn a_vonage_number_test_goes_through_every_step() {
    let _voice = common::voice_lock().await;
    let (state, base, user, token, agent) = desk().await;
    let number = common::vonage_number(&state, &user.owner, Some(&agent), 16_000).await;
    let (status, body) = test_number(&base, &token, &number.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let r: NumberTestReport = serde_json::from_value(body).unwrap();
    assert!(step(&r, "answer").detail.starts_with("NCCO") && step(&r, "answer").detail.contains("16000 Hz"), "{r:#?}");
    assert_went_through(&r, &common::get_json(&base, &token, "/api/calls").await);
}

#[tokio::test]
async fn an_inactive_number_fails_at_its_answer_and_skips_the_rest() {
    let (state, base, user, token, agent) = desk().await;
    let number = common::twilio_number(&state, &user.owner, Some(&agent), "inactive").await;
    let (status, body) = test_number(&base, &token, &number.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let r: NumberTestReport = serde_json::from_value(body).unwrap();
    assert!(!r.ok);
    assert_eq!(step(&r, "webhook").status.as_str(), "pass");
    let answer = step(&r, "answer");
    assert_eq!(answer.status.as_str(), "fail");
    assert!(answer.detail.contains("inactive"), "{answer:?}");
    for later in ["stream", "greeting", "caller", "reply", "hangup", "recorded"] {
        assert_eq!(step(&r, later).status.as_str(), "skip", "{later}");
    }
    assert_eq!(r.call_id, None);
}

#[tokio::test]
async fn another_users_number_is_not_found_and_a_third_test_at_once_is_refused() {
    let (state, base, user, token, agent) = desk().await;
    let number = common::twilio_number(&state, &user.owner, Some(&agent), "active").await;
    let (_, other_token) = common::user_with_token(&state, "other@example.com").await;
    let (status, body) = test_number(&base, &other_token, &number.id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let res = reqwest::Client::new().post(format!("{base}/api/phone-numbers/{}/test", number.id)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Two test calls of this user are running: a third waits its turn.
    let held = [state.test_calls.take(user.owner.id()).unwrap(), state.test_calls.take(user.owner.id()).unwrap()];
    let (status, body) = test_number(&base, &token, &number.id).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "busy", "{body}");
    drop(held);
    let (status, _) = test_number(&base, &other_token, &number.id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn plivo_and_exotel_protocol_numbers_test_through_every_step() {
    let _voice = common::voice_lock().await;
    let (state, base, user, token, agent) = desk().await;
    let plivo = common::plivo_number(&state, &user.owner, Some(&agent), "audio/x-mulaw;rate=8000").await;
    let exotel = common::linked_number(&state, &user.owner, &agent).await;
    for (number, answer) in [(plivo.id, "XML: stream ws://"), (exotel.id, "XML: stream ws://")] {
        let (status, body) = test_number(&base, &token, &number).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let r: NumberTestReport = serde_json::from_value(body).unwrap();
        assert!(step(&r, "answer").detail.starts_with(answer), "{r:#?}");
        // The Exotel stream URL's key is not repeated in the report.
        assert!(!step(&r, "answer").detail.contains("key="), "{r:#?}");
        assert_went_through(&r, &common::get_json(&base, &token, "/api/calls").await);
    }
}
