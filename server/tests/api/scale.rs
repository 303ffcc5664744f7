//! Two nodes on one database: webhooks answer from each node's memory (no database read), and
//! a change made on one node reaches the other's answers through SurrealDB live queries.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

/// A second node on `a`'s database: its own caches, following changes as `voxgate serve` does.
fn node_b(a: &server::AppState) -> server::AppState {
    let mut b = a.clone();
    b.numbers_cache = Arc::default();
    b.node = "node-b".into();
    b.shutdown = server::shutdown::Shutdown::default();
    tokio::spawn(server::numbers::cache::watch(b.clone()));
    b
}

/// Posts a new call to `url`; the status and the body.
async fn answer(http: &reqwest::Client, url: &str, sid: &str) -> (u16, String) {
    let res = http.post(url).form(&[("CallSid", sid), ("From", "+919876543210")]).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Polls `check` every 20 ms for up to 5 s; whether it came true.
async fn eventually<F: Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    for _ in 0..250 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_or_agent_changed_on_one_node_is_answered_afresh_by_the_other() {
    let a = common::state().await;
    let b = node_b(&a);
    let base_b = common::serve(b.clone()).await;
    let user = common::user(&a, "nodes@example.com").await;
    let agent = domain::agent::AgentInput { name: "Desk".into(), language: "en".into(), ..Default::default() };
    let agent = server::agents::create(&a, &user.owner, agent).await.unwrap();
    let number = common::linked_number(&a, &user.owner, &agent.id).await;
    let path = |url: &str| url.trim_start_matches("http://127.0.0.1:0").to_string();
    let old_url = format!("{base_b}{}", path(&number.webhook_url));
    let http = reqwest::Client::new();

    // Node B answers, and keeps the number (with its agent) for the next call (a read that
    // raced the notifications of node A's writes is not kept: the next one is).
    let (status, xml) = answer(&http, &old_url, "CA-B-1").await;
    assert_eq!(status, 200, "{xml}");
    assert!(xml.contains("<Stream") && xml.contains(&agent.id), "{xml}");
    let mut sid = 0;
    let kept = eventually(|| {
        sid += 1;
        let (http, url, sid, b, id) = (http.clone(), old_url.clone(), format!("CA-B-K{sid}"), b.clone(), number.id.clone());
        async move { answer(&http, &url, &sid).await.0 == 200 && b.numbers_cache.get(&id).is_some() }
    })
    .await;
    assert!(kept, "node B keeps the number it answered");
    assert_eq!(b.numbers_cache.len(), 1);

    // Node A rotates the URL secret: node B refuses the old URL and takes the new one.
    let rotated = server::numbers::rotate_secret(&a, &user.owner, &number.id).await.unwrap();
    let mut sid = 0;
    let refused = eventually(|| {
        sid += 1;
        let (http, url, sid) = (http.clone(), old_url.clone(), format!("CA-B-OLD{sid}"));
        async move { answer(&http, &url, &sid).await.0 == 401 }
    })
    .await;
    assert!(refused, "node B still answers the old key after node A rotated it");
    let new_url = format!("{base_b}{}", path(&rotated.webhook_url));
    assert_eq!(answer(&http, &new_url, "CA-B-2").await.0, 200);

    // Node A takes the number out of service: node B says so instead of streaming.
    let input = domain::phone_number::PhoneNumberInput {
        phone_number: number.phone_number.clone(),
        provider: "other".into(),
        linked_agent_id: Some(agent.id.clone()),
        status: Some("inactive".into()),
        ..Default::default()
    };
    server::numbers::update(&a, &user.owner, &number.id, &input).await.unwrap();
    let mut sid = 0;
    let inactive = eventually(|| {
        sid += 1;
        let (http, url, sid) = (http.clone(), new_url.clone(), format!("CA-B-IN{sid}"));
        async move {
            let (status, xml) = answer(&http, &url, &sid).await;
            status == 200 && !xml.contains("<Stream") && xml.contains("<Hangup")
        }
    })
    .await;
    assert!(inactive, "node B still streams a number node A took out of service");

    // Back in service, then node A deletes the agent: node B answers without it.
    let active = domain::phone_number::PhoneNumberInput { status: Some("active".into()), ..input };
    server::numbers::update(&a, &user.owner, &number.id, &active).await.unwrap();
    server::agents::delete(&a, &user.owner, &agent.id).await.unwrap();
    let mut sid = 0;
    let unlinked = eventually(|| {
        sid += 1;
        let (http, url, sid) = (http.clone(), new_url.clone(), format!("CA-B-UN{sid}"));
        let agent_id = agent.id.clone();
        async move {
            let (status, xml) = answer(&http, &url, &sid).await;
            status == 200 && !xml.contains(&agent_id)
        }
    })
    .await;
    assert!(unlinked, "node B still answers with an agent node A deleted");
    b.shutdown.begin();
}

#[tokio::test]
async fn the_cache_keeps_another_owners_numbers_when_one_owner_changes_an_agent() {
    let a = common::state().await;
    let (u1, u2) = (common::user(&a, "one@example.com").await, common::user(&a, "two@example.com").await);
    let agent1 =
        server::agents::create(&a, &u1.owner, domain::agent::AgentInput { name: "One".into(), ..Default::default() }).await.unwrap();
    let agent2 =
        server::agents::create(&a, &u2.owner, domain::agent::AgentInput { name: "Two".into(), ..Default::default() }).await.unwrap();
    let n1 = common::number(&a, &u1.owner, "+918047491801", Some(&agent1.id)).await;
    let n2 = common::number(&a, &u2.owner, "+918047491802", Some(&agent2.id)).await;
    for n in [&n1, &n2] {
        server::telephony::calls::verify(&a, &n.id, |_| true).await.unwrap();
    }
    assert_eq!(a.numbers_cache.len(), 2);
    let renamed = domain::agent::AgentInput { name: "One renamed".into(), ..Default::default() };
    server::agents::update(&a, &u1.owner, &agent1.id, renamed).await.unwrap();
    assert!(a.numbers_cache.get(&n1.id).is_none(), "the changed owner's number is read again");
    assert!(a.numbers_cache.get(&n2.id).is_some(), "another owner's number stays");
    let v = server::telephony::calls::verify(&a, &n1.id, |_| true).await.unwrap();
    assert_eq!(v.agent.unwrap().settings.name, "One renamed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_answers_is_written_in_groups_each_call_once_and_retries_find_their_row() {
    let state = common::file_state().await;
    let user = common::user(&state, "burst@example.com").await;
    let number = common::number(&state, &user.owner, "+918047491899", None).await;
    let now = state.clock.now_rfc3339();
    let answer = |sid: String| {
        let (state, owner, number, now) = (state.clone(), user.owner.id().to_string(), number.clone(), now.clone());
        tokio::spawn(async move {
            let call = common::ringing(&owner, &number, &sid, "node-a");
            state.call_writer.insert_or_get(&call, &now).await.map(|(row, created)| (row.id, created))
        })
    };
    // 300 new calls at once: fewer transactions than calls (the first answers arrived while a
    // commit was running).
    let first: Vec<String> = (0..300).map(|i| format!("CABURST{i:04}")).collect();
    let results: Vec<(String, bool)> =
        futures_util::future::join_all(first.iter().cloned().map(answer)).await.into_iter().map(|r| r.unwrap().unwrap()).collect();
    assert!(results.iter().all(|(_, created)| *created), "each new call created");
    assert!(state.call_writer.grouped() > 0, "no group was committed together");

    // 300 more at once, each answered twice (a provider's retry racing the first answer), and
    // retries of the first 300: each call created once, every retry finds its row.
    let second: Vec<String> = (300..600).map(|i| format!("CABURST{i:04}")).collect();
    let tries = second.iter().chain(second.iter()).chain(first.iter()).cloned().map(answer);
    let results: Vec<(String, bool)> = futures_util::future::join_all(tries).await.into_iter().map(|r| r.unwrap().unwrap()).collect();
    let created: std::collections::HashSet<&str> = results.iter().filter(|(_, c)| *c).map(|(id, _)| id.as_str()).collect();
    assert_eq!(created.len(), 300, "each call created once");
    assert_eq!(results.iter().filter(|(_, c)| *c).count(), 300, "and only once");
    for sid in &second {
        assert!(created.contains(format!("exotel_{sid}").as_str()));
    }
    for sid in &first {
        let id = format!("exotel_{sid}");
        assert!(results.iter().any(|(found, c)| *found == id && !c), "the retry of {sid} found its row");
    }
    assert_eq!(server::db::calls::count_for_phone(&state.db, &user.owner, &number.id).await.unwrap(), 600);
}
