//! End-of-call notifications over real HTTP: a loopback receiver checks every signature with its
//! own HMAC, the queue retries with back-off and resumes after a restart, the guard refuses
//! private addresses, and owners only see their own settings and log.

use std::time::Duration;

use domain::notify::{DeliveryState, NotificationInput};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common;
use crate::common::webhooks::{Receiver, delivered, desk, settings, settled, speech_turn, state_with, verify, webhook};

#[tokio::test]
async fn a_call_end_reaches_the_webhook_signed_with_its_summary_once() {
    let state = state_with(settings(&[200])).await;
    let receiver = Receiver::start(&[]).await;
    let (user, number, secret) = desk(&state, &receiver).await;
    let base = common::serve(state.clone()).await;
    let c = reqwest::Client::new();
    let hook = number.webhook_url.trim_start_matches("http://127.0.0.1:0").to_string();
    let answered = c.post(format!("{base}{hook}")).form(&[("CallSid", "CA900"), ("From", "+919876543210")]).send().await.unwrap();
    assert_eq!(answered.status(), StatusCode::OK);
    // The stream's turns, as the conversation stores them.
    for (seq, role, text) in [(1, domain::call::Role::Agent, "Hello, Desk here."), (2, domain::call::Role::Caller, "When do you open?")] {
        server::db::turns::insert(&state.db, &speech_turn(&state, "exotel_CA900", &user.owner, seq, role, text)).await.unwrap();
    }
    // Exotel's Passthru ends the call, and is retried by Exotel: one delivery all the same.
    let passthru = format!(
        "{base}{}&CallSid=CA900&Stream%5BStatus%5D=completed&Stream%5BDuration%5D=12",
        hook.replace("/webhook/", "/exotel/passthru/")
    );
    for _ in 0..2 {
        assert_eq!(c.get(&passthru).send().await.unwrap().status(), StatusCode::OK);
    }
    let hits = receiver.wait_for(1, 15).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = server::notify::settings::deliveries(&state, &user.owner).await.unwrap();
    assert_eq!(receiver.hits().len(), 1, "one event per call end: {log:?}");
    let hit = &hits[0];
    assert!(verify(&secret, &hit.signature, &hit.body), "signature {}", hit.signature);
    assert!(!verify("whsec_someone_else", &hit.signature, &hit.body));
    let mut tampered = hit.body.clone();
    tampered.push(b' ');
    assert!(!verify(&secret, &hit.signature, &tampered));
    let body = hit.json();
    assert_eq!(hit.event_type, "call.ended");
    assert_eq!(body["id"], hit.event_id.as_str());
    assert_eq!(body["type"], "call.ended");
    assert_eq!(body["call"]["id"], "exotel_CA900");
    assert_eq!(body["call"]["status"], "completed");
    assert_eq!(body["call"]["direction"], "inbound");
    assert_eq!(body["call"]["from"], "+919876543210");
    assert_eq!(body["call"]["durationMs"], 12_000);
    assert_eq!(body["number"]["id"], number.id.as_str());
    assert_eq!(body["number"]["phoneNumber"], "+918047491899");
    assert_eq!(body["agent"]["name"], "Desk");
    assert_eq!(body["agent"]["id"], json!(number.linked_agent_id));
    let transcript = body["transcript"].as_array().unwrap();
    assert_eq!(transcript.len(), 2);
    assert_eq!((transcript[1]["role"].as_str(), transcript[1]["text"].as_str()), (Some("caller"), Some("When do you open?")));
    assert!(body.get("recordingUrl").is_some_and(Value::is_null), "recordingUrl is there, null until recordings exist");
    assert!(!String::from_utf8_lossy(&hit.body).contains(&secret));
    let log = settled(&state, &user.owner, DeliveryState::Delivered, 5).await;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].attempts, log[0].last_status, log[0].call_id.as_deref()), (1, Some(200), Some("exotel_CA900")));
    assert_eq!(log[0].id, hit.event_id);
}

#[tokio::test]
async fn failed_tries_are_retried_with_back_off_until_delivered() {
    let state = state_with(settings(&[300, 600, 600])).await;
    let receiver = Receiver::start(&[500, 429]).await;
    let user = common::user(&state, "ana@example.com").await;
    let secret = server::notify::settings::save(&state, &user.owner, webhook(&receiver.url)).await.unwrap().new_secret.unwrap();
    let first = server::notify::settings::send_test(&state, &user.owner).await.unwrap();
    assert_eq!((first.state, first.attempts, first.last_status), (DeliveryState::Pending, 1, Some(500)));
    assert_eq!(first.last_error.as_deref(), Some("the receiver answered 500"));
    assert!(first.next_at.is_some());
    let hits = receiver.wait_for(3, 10).await;
    assert_eq!(hits.len(), 3);
    assert!(hits.iter().all(|h| h.event_id == first.id && verify(&secret, &h.signature, &h.body)), "the same event each time");
    assert!(hits[1].at - hits[0].at >= Duration::from_millis(300), "first wait {:?}", hits[1].at - hits[0].at);
    assert!(hits[2].at - hits[1].at >= Duration::from_millis(600), "second wait {:?}", hits[2].at - hits[1].at);
    let log = settled(&state, &user.owner, DeliveryState::Delivered, 5).await;
    assert_eq!((log[0].attempts, log[0].last_status, log[0].last_error.as_deref()), (3, Some(200), None));
    assert_eq!(hits[0].json()["type"], "test");
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_is_given_up_and_410_at_once() {
    let state = state_with(settings(&[100, 100])).await;
    let failing = Receiver::start(&[503, 503, 503, 503]).await;
    let user = common::user(&state, "ana@example.com").await;
    server::notify::settings::save(&state, &user.owner, webhook(&failing.url)).await.unwrap();
    server::notify::settings::send_test(&state, &user.owner).await.unwrap();
    let log = settled(&state, &user.owner, DeliveryState::Failed, 10).await;
    assert_eq!(failing.hits().len(), 3, "three tries in all");
    assert_eq!((log[0].state, log[0].attempts, log[0].last_status), (DeliveryState::Failed, 3, Some(503)));
    assert!(log[0].last_error.as_deref().unwrap().contains("gave up after 3 tries"), "{:?}", log[0].last_error);

    let gone = Receiver::start(&[410]).await;
    let other = common::user(&state, "bo@example.com").await;
    server::notify::settings::save(&state, &other.owner, webhook(&gone.url)).await.unwrap();
    let d = server::notify::settings::send_test(&state, &other.owner).await.unwrap();
    assert_eq!((d.state, d.attempts, d.last_status), (DeliveryState::Failed, 1, Some(410)));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(gone.hits().len(), 1, "410 is not tried again");
}

#[tokio::test]
async fn a_private_address_is_refused_recorded_failed_and_never_called() {
    let mut s = settings(&[100]);
    s.outbound_allow = Vec::new();
    let state = state_with(s).await;
    let receiver = Receiver::start(&[]).await;
    let user = common::user(&state, "ana@example.com").await;
    server::notify::settings::save(&state, &user.owner, webhook(&receiver.url)).await.unwrap();
    let d = server::notify::settings::send_test(&state, &user.owner).await.unwrap();
    assert_eq!((d.state, d.attempts, d.last_status), (DeliveryState::Failed, 1, None));
    assert_eq!(d.last_error.as_deref(), Some("refused: 127.0.0.1: loopback address not allowed"));
    // A host name resolving to loopback is refused when it resolves.
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    server::notify::settings::save(&state, &user.owner, webhook(&by_name)).await.unwrap();
    let d = server::notify::settings::send_test(&state, &user.owner).await.unwrap();
    assert_eq!(d.state, DeliveryState::Failed);
    assert!(d.last_error.as_deref().unwrap().starts_with("refused: localhost:"), "{:?}", d.last_error);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(receiver.hits().is_empty(), "no request was made");
}

#[tokio::test]
async fn pending_deliveries_resume_after_a_restart_and_none_is_sent_twice() {
    let dir = std::env::temp_dir().join(format!("voxgate-notify-{}", server::db::new_key()));
    let mut s = settings(&[1500]);
    s.database_url = server::config::DatabaseUrl::SurrealKv(dir.join("db"));
    s.data_dir = dir.clone();
    let receiver = Receiver::start(&[500, 500, 500]).await;
    let owner = {
        let state = state_with(s.clone()).await;
        let user = common::user(&state, "ana@example.com").await;
        server::notify::settings::save(&state, &user.owner, webhook(&receiver.url)).await.unwrap();
        for _ in 0..3 {
            let d = server::notify::settings::send_test(&state, &user.owner).await.unwrap();
            assert_eq!(d.state, DeliveryState::Pending, "each first try got 500");
        }
        // One more is queued and then taken by a node that dies mid-send (its lease runs out).
        let key = "evt_taken_by_a_dead_node";
        let now = state.clock.now_rfc3339();
        let e = server::db::notify_events::NewEvent {
            key,
            owner_id: user.owner.id(),
            channel: domain::notify::Channel::Webhook,
            event: domain::notify::EventKind::Test,
            call_id: None,
            target: &receiver.url,
            detail: None,
            next_at: &now,
        };
        server::db::notify_events::insert(&state.db, &e, 100, &now).await.unwrap();
        let gone = server::clock::rfc3339(state.clock.now() + chrono::Duration::milliseconds(300));
        assert!(server::db::notify_events::claim(&state.db, key, "dead-node", &gone, &now).await.unwrap().is_some());
        state.shutdown.begin();
        state.db.invalidate().await.ok();
        user.owner
        // The process stops here, its retries not yet due.
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.hits().len(), 3);
    // Two nodes come back on the same database at once.
    let a = state_with(s.clone()).await;
    let mut b = a.clone();
    b.shutdown = server::shutdown::Shutdown::default();
    server::notify::worker::spawn(b.clone());
    let log = delivered(&a, &owner, 4, 15).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(log.iter().filter(|d| d.state == DeliveryState::Delivered).count(), 4, "{log:?}");
    let hits = receiver.hits();
    let mut ids: Vec<&str> = hits[3..].iter().map(|h| h.event_id.as_str()).collect();
    ids.sort();
    let before = ids.len();
    ids.dedup();
    assert_eq!((before, ids.len()), (4, 4), "each delivery sent once after the restart: {ids:?}");
    let dead = log.iter().find(|d| d.id == "evt_taken_by_a_dead_node").unwrap();
    assert_eq!(dead.attempts, 2, "the dead node's try counts");
    a.shutdown.begin();
    b.shutdown.begin();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_signing_secret_is_shown_once_sealed_masked_and_rotated() {
    let state = state_with(settings(&[100])).await;
    let receiver = Receiver::start(&[]).await;
    let (_, token) = common::user_with_token(&state, "ana@example.com").await;
    let base = common::serve(state.clone()).await;
    let c = reqwest::Client::new();
    let put = |body: Value| c.put(format!("{base}/api/notifications")).bearer_auth(&token).json(&body).send();
    let first: Value = put(json!({ "webhookUrl": receiver.url })).await.unwrap().json().await.unwrap();
    let secret = first["newSecret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let masked = format!("••••{}", &secret[secret.len() - 4..]);
    assert_eq!(first["settings"]["signingSecret"], masked.as_str());
    let again: Value = put(json!({ "webhookUrl": receiver.url, "keywords": ["Refund"] })).await.unwrap().json().await.unwrap();
    assert!(again["newSecret"].is_null(), "shown once only");
    let read: Value = c.get(format!("{base}/api/notifications")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(read["signingSecret"], masked.as_str());
    assert!(!read.to_string().contains(&secret));
    let stored: Value = server::db::row(&state.db, "SELECT * FROM notify_settings", json!({})).await.unwrap().unwrap();
    assert!(!stored.to_string().contains(&secret[6..]), "sealed at rest");

    let rotated: Value = c.post(format!("{base}/api/notifications/secret")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let d: Value = c.post(format!("{base}/api/notifications/test")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(d["state"], "delivered");
    let hit = &receiver.hits()[0];
    assert!(verify(new_secret, &hit.signature, &hit.body));
    assert!(!verify(&secret, &hit.signature, &hit.body), "the old secret signs nothing any more");
}

#[tokio::test]
async fn owners_see_and_trigger_only_their_own_notifications() {
    let state = state_with(settings(&[100])).await;
    let receiver = Receiver::start(&[]).await;
    let (ana, ana_token) = common::user_with_token(&state, "ana@example.com").await;
    let (_, bo_token) = common::user_with_token(&state, "bo@example.com").await;
    server::notify::settings::save(&state, &ana.owner, webhook(&receiver.url)).await.unwrap();
    server::notify::settings::send_test(&state, &ana.owner).await.unwrap();
    let base = common::serve(state.clone()).await;
    let c = reqwest::Client::new();
    let get = |path: &str, token: &str| c.get(format!("{base}{path}")).bearer_auth(token).send();
    let theirs: Value = get("/api/notifications", &bo_token).await.unwrap().json().await.unwrap();
    assert!(theirs["webhookUrl"].is_null() && theirs["signingSecret"].is_null(), "{theirs}");
    let log: Value = get("/api/notifications/deliveries", &bo_token).await.unwrap().json().await.unwrap();
    assert_eq!(log, json!([]));
    let mine: Value = get("/api/notifications/deliveries", &ana_token).await.unwrap().json().await.unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let res = c.post(format!("{base}/api/notifications/test")).bearer_auth(&bo_token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["field"], "webhookUrl");
    for res in [
        c.get(format!("{base}/api/notifications")).send().await.unwrap(),
        c.get(format!("{base}/api/notifications/deliveries")).send().await.unwrap(),
        c.post(format!("{base}/api/notifications/test")).send().await.unwrap(),
    ] {
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.hits().len(), 1, "only Ana's own test reached her receiver");
}

#[tokio::test]
async fn bad_input_is_a_field_error_and_writes_nothing() {
    let state = state_with(settings(&[100])).await;
    let (ana, token) = common::user_with_token(&state, "ana@example.com").await;
    let (bo, _) = common::user_with_token(&state, "bo@example.com").await;
    let theirs =
        server::agents::create(&state, &bo.owner, domain::agent::AgentInput { name: "Theirs".into(), ..Default::default() }).await.unwrap();
    server::notify::settings::save(&state, &ana.owner, webhook("https://hooks.example.com/a")).await.unwrap();
    let base = common::serve(state.clone()).await;
    let c = reqwest::Client::new();
    for (body, field) in [
        (json!({ "webhookUrl": "hooks.example.com/a" }), "webhookUrl"),
        (json!({ "webhookUrl": "https://user:pw@hooks.example.com/" }), "webhookUrl"),
        (json!({ "webhookUrl": "ftp://hooks.example.com/" }), "webhookUrl"),
        (json!({ "emailTo": "ops@example.com", "emailEvents": ["call_failed"] }), "emailEvents"),
        (json!({ "emailTo": "not-an-address", "emailEvents": [] }), "emailTo"),
        (json!({ "agentWebhooks": [{ "agentId": theirs.id, "url": "https://hooks.example.com/b" }] }), "agentWebhooks.0.agentId"),
        (json!({ "agentWebhooks": [{ "agentId": theirs.id, "url": "nope" }] }), "agentWebhooks.0.url"),
        (json!({ "webhookUrl": 5 }), "webhookUrl"),
        (json!({ "webhookUrl": "https://ok.example.com", "surprise": 1 }), "body"),
    ] {
        let res = c.put(format!("{base}/api/notifications")).bearer_auth(&token).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let err: Value = res.json().await.unwrap();
        let named =
            err["error"]["field"] == field || err["error"]["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["field"] == field));
        assert!(named || (field == "body" && err["error"]["message"].as_str().unwrap().contains("surprise")), "{body}: {err}");
    }
    let now = server::notify::settings::get(&state, &ana.owner).await.unwrap();
    assert_eq!(now.webhook_url.as_deref(), Some("https://hooks.example.com/a"), "nothing changed");
    assert!(now.agent_webhooks.is_empty() && now.email_to.is_none());
    let rows: Vec<Value> = server::db::rows(&state.db, "SELECT * FROM notify_settings", json!({})).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(server::notify::settings::deliveries(&state, &ana.owner).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_agents_webhook_gets_its_calls_besides_the_users_and_the_queue_is_bounded() {
    let state = state_with(settings(&[100])).await;
    let (mine, agents) = (Receiver::start(&[]).await, Receiver::start(&[]).await);
    let user = common::user(&state, "ana@example.com").await;
    let agent =
        server::agents::create(&state, &user.owner, domain::agent::AgentInput { name: "Desk".into(), ..Default::default() }).await.unwrap();
    let input = NotificationInput {
        webhook_url: mine.url.clone(),
        agent_webhooks: vec![domain::notify::AgentWebhook { agent_id: agent.id.clone(), agent_name: None, url: agents.url.clone() }],
        ..Default::default()
    };
    let saved = server::notify::settings::save(&state, &user.owner, input).await.unwrap();
    assert_eq!(saved.settings.agent_webhooks[0].agent_name.as_deref(), Some("Desk"));
    common::place_call(&state, &user, "CA1001").await;
    let key = "exotel_CA1001";
    server::db::calls::set_status(&state.db, key, domain::call::CallStatus::Completed, None, Some(&state.clock.now_rfc3339()), Some(1000))
        .await
        .unwrap();
    // This call has no agent: only the user's webhook.
    assert_eq!(server::notify::queue_call_end(&state, key).await.unwrap(), 1);
    common::place_call(&state, &user, "CA1002").await;
    let agents_call = "exotel_CA1002";
    server::db::rows::<Value>(&state.db, "UPDATE type::record('call', $k) SET agent_id = $a", json!({ "k": agents_call, "a": agent.id }))
        .await
        .unwrap();
    server::db::calls::set_status(
        &state.db,
        agents_call,
        domain::call::CallStatus::Failed,
        Some("x"),
        Some(&state.clock.now_rfc3339()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(server::notify::queue_call_end(&state, agents_call).await.unwrap(), 2, "the user's and the agent's");
    assert_eq!(server::notify::queue_call_end(&state, agents_call).await.unwrap(), 0, "queued once");
    mine.wait_for(2, 10).await;
    let theirs = agents.wait_for(1, 10).await;
    assert_eq!(theirs[0].json()["call"]["id"], agents_call);
    // The queue's bound: past it nothing is written.
    let now = state.clock.now_rfc3339();
    let e = |key: &'static str| server::db::notify_events::NewEvent {
        key,
        owner_id: user.owner.id(),
        channel: domain::notify::Channel::Webhook,
        event: domain::notify::EventKind::Test,
        call_id: None,
        target: "https://hooks.example.com/x",
        detail: None,
        next_at: "2099-01-01T00:00:00Z",
    };
    use server::db::notify_events::{Inserted, insert};
    assert_eq!(insert(&state.db, &e("evt_cap_1"), 2, &now).await.unwrap(), Inserted::Queued);
    assert_eq!(insert(&state.db, &e("evt_cap_2"), 2, &now).await.unwrap(), Inserted::Queued);
    assert_eq!(insert(&state.db, &e("evt_cap_3"), 2, &now).await.unwrap(), Inserted::Full);
    assert!(server::db::notify_events::get(&state.db, &user.owner, "evt_cap_3").await.unwrap().is_none());
}

#[tokio::test]
async fn the_log_forgets_finished_deliveries_past_the_retention_only() {
    let state = state_with(settings(&[100])).await;
    let user = common::user(&state, "ana@example.com").await;
    let now = state.clock.now_rfc3339();
    for (key, deliver_state) in
        [("evt_old_delivered", "delivered"), ("evt_old_failed", "failed"), ("evt_old_pending", "pending"), ("evt_new", "delivered")]
    {
        let e = server::db::notify_events::NewEvent {
            key,
            owner_id: user.owner.id(),
            channel: domain::notify::Channel::Webhook,
            event: domain::notify::EventKind::Test,
            call_id: None,
            target: "https://hooks.example.com/x",
            detail: None,
            next_at: "2099-01-01T00:00:00Z",
        };
        server::db::notify_events::insert(&state.db, &e, 100, &now).await.unwrap();
        let when = if key == "evt_new" { now.clone() } else { "2020-01-01T00:00:00Z".to_string() };
        server::db::rows::<Value>(
            &state.db,
            "UPDATE type::record('notify_event', $k) SET state = $s, updated_at = <datetime>$at",
            json!({ "k": key, "s": deliver_state, "at": when }),
        )
        .await
        .unwrap();
    }
    let cutoff = server::clock::rfc3339(state.clock.now() - chrono::Duration::days(30));
    assert_eq!(server::db::notify_events::prune(&state.db, &cutoff).await.unwrap(), 2);
    let mut left: Vec<String> =
        server::notify::settings::deliveries(&state, &user.owner).await.unwrap().into_iter().map(|d| d.id).collect();
    left.sort();
    assert_eq!(left, ["evt_new", "evt_old_pending"], "a waiting delivery is never pruned");
}
