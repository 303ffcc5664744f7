//! Answers that go without waiting for their call's row (the call writer was busy with other
//! calls): every such call is still recorded once, its stream finds its row, and a call id of
//! another number answered that way is refused when its stream starts.

use std::collections::HashSet;

use futures_util::SinkExt;

use crate::common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_that_did_not_wait_are_all_recorded_and_a_claimed_call_id_is_refused_at_its_stream() {
    let state = common::file_state().await;
    let base = common::serve(state.clone()).await;
    let alice = common::user(&state, "alice@example.com").await;
    let ours = common::number(&state, &alice.owner, "+918047491899", None).await;
    let mallory = common::user(&state, "mallory@example.com").await;
    let theirs = common::number(&state, &mallory.owner, "+918047491898", None).await;
    let http = reqwest::Client::new();
    let webhook =
        |number: &domain::phone_number::PhoneNumberView| format!("{base}{}", number.webhook_url.trim_start_matches("http://127.0.0.1:0"));
    let (ours_url, theirs_url) = (webhook(&ours), webhook(&theirs));
    // Alice's call, recorded first.
    let first = http.post(&ours_url).form(&[("CallSid", "CAOWNED")]).send().await.unwrap();
    assert_eq!(first.status(), 200);
    // 300 calls to Alice's number at once, and Mallory's number claiming Alice's call id among them.
    let mut tasks = Vec::new();
    for i in 0..300 {
        let (client, url) = (http.clone(), ours_url.clone());
        tasks.push(tokio::spawn(async move {
            client.post(url).form(&[("CallSid", format!("CABUSY{i:04}"))]).send().await.unwrap().status().as_u16()
        }));
        if i == 150 {
            let (http, url) = (http.clone(), theirs_url.clone());
            tasks.push(tokio::spawn(async move {
                // Answered 409 when the writer was idle; 200 when the answer did not wait.
                let status = http.post(url).form(&[("CallSid", "CAOWNED")]).send().await.unwrap().status().as_u16();
                assert!(status == 200 || status == 409, "{status}");
                200
            }));
        }
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert!(state.call_writer.unwaited() > 0, "no answer went without waiting for its row");
    state.call_writer.flush().await;
    assert_eq!(server::db::calls::count_for_phone(&state.db, &alice.owner, &ours.id).await.unwrap(), 301, "each call recorded once");
    assert_eq!(server::db::calls::count_for_phone(&state.db, &mallory.owner, &theirs.id).await.unwrap(), 0);
    let ids: HashSet<String> =
        server::db::rows(&state.db, "SELECT VALUE session_id FROM call", serde_json::json!({})).await.unwrap().into_iter().collect();
    assert!((0..300).all(|i| ids.contains(&format!("CABUSY{i:04}"))));
    // Mallory's stream for Alice's call is refused, and the call stays Alice's.
    let ws = |n: &domain::phone_number::PhoneNumberView| {
        format!("{}{}", base.replace("http://", "ws://"), n.websocket_url.trim_start_matches("ws://127.0.0.1:0"))
    };
    let (mut claimed, _) = tokio_tungstenite::connect_async(ws(&theirs)).await.unwrap();
    claimed.send(common::start_message("CAOWNED")).await.unwrap();
    assert_eq!(common::close_of(&mut claimed).await.map(|(code, _)| code), Some(1011));
    let call = server::db::calls::get_by_key(&state.db, "exotel_CAOWNED").await.unwrap().unwrap();
    assert_eq!((call.phone_id.as_str(), call.status), (ours.id.as_str(), domain::call::CallStatus::Ringing));
    // A stream of a call answered without waiting finds its row and takes it in progress.
    let (mut stream, _) = tokio_tungstenite::connect_async(ws(&ours)).await.unwrap();
    stream.send(common::start_message("CABUSY0299")).await.unwrap();
    let in_progress = async {
        for _ in 0..250 {
            let call = server::db::calls::get_by_key(&state.db, "exotel_CABUSY0299").await.unwrap().unwrap();
            if call.status == domain::call::CallStatus::InProgress {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        false
    };
    assert!(in_progress.await, "the stream took its call in progress");
}
