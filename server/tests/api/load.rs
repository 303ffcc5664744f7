//! A load test past capacity, small enough for the test command: twice as many simulated
//! callers as the node takes. The calls over the cap are turned away as busy (and recorded so),
//! the calls under it are answered. `voxgate bench calls --max-calls` runs the same at scale
//! and reports the latency at the cap.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use server::simulator::{CallOptions, Step};

#[tokio::test]
async fn calls_past_capacity_are_turned_away_and_the_others_answered() {
    let _serial = common::voice_lock().await;
    let (state, _) = common::live_server_with(|s| (s.max_calls, s.max_calls_per_user) = (2, 2)).await;
    let user = common::user(&state, "load@example.com").await;
    let mut agent = domain::agent::AgentInput { name: "Echo".into(), ..Default::default() };
    agent.providers.llm = "echo".into();
    let agent = server::agents::create(&state, &user.owner, agent).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    let voice = state.voice.pipeline(&domain::agent::AgentInput::default(), None);
    let utterance: Arc<[i16]> = voice.tts.synthesize("Hello, I would like to check my order, please.", 8000).await.unwrap().into();

    let calls = (0..4).map(|i| {
        let mut opts = CallOptions::new(number.webhook_url.clone(), vec![Step::Say { label: "hello".into(), audio: utterance.clone() }]);
        opts.call_sid = format!("CALOAD{i}");
        opts.keep_audio = false;
        opts.reply_timeout = Duration::from_secs(15);
        tokio::spawn(server::simulator::run(opts))
    });
    let reports = futures_util::future::join_all(calls).await;
    let answered = reports
        .iter()
        .filter_map(|r| r.as_ref().ok()?.as_ref().ok())
        .filter(|r| r.turns.iter().any(|t| t.reply_after_ms.is_some()))
        .count();
    let busy: Vec<String> =
        server::db::rows(&state.db, "SELECT VALUE reason FROM call WHERE status = 'rejected' ORDER BY reason", json!({})).await.unwrap();
    assert_eq!(busy, vec!["busy: the server is at its limit of 2 at once"; 2], "two calls over the cap");
    assert_eq!(answered, 2, "the two under the cap were answered: {reports:?}");
    for _ in 0..100 {
        if state.calls.held() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(state.calls.held(), 0, "every place was given back");
}
