//! A node on `ws://`: migrations, accounts, agents and numbers, and a live query that sees what
//! another node writes.

use std::time::Duration;

use domain::call::CallStatus;
use futures_util::StreamExt;
use server::calls::live::LiveEvent;

use super::harness::SurrealServer;

#[tokio::test]
async fn a_node_on_a_surrealdb_server_migrates_and_keeps_what_it_writes() {
    let surreal = SurrealServer::start().await;
    let state = server::AppState::connect(surreal.root_settings("main")).await.expect("connects over ws://");
    let db = &state.db;
    assert_eq!(server::db::migrations::current_version(db).await.unwrap(), server::db::migrations::latest_version());

    let user = server::users::sign_up(&state, "ana@example.com", "correct horse battery").await.unwrap();
    let agent = server::agents::create(
        &state,
        &user.owner,
        domain::agent::AgentInput { name: "Front desk".into(), greeting: "Hello, front desk.".into(), ..Default::default() },
    )
    .await
    .unwrap();
    let input = domain::phone_number::PhoneNumberInput {
        phone_number: "+918047491899".into(),
        provider: "other".into(),
        linked_agent_id: Some(agent.id.clone()),
        ..Default::default()
    };
    let number = server::numbers::create(&state, &user.owner, &input).await.unwrap();

    // Another process (a second node, or this one restarted) reads it all back from the server.
    drop(state);
    let again = server::AppState::connect(surreal.root_settings("main")).await.unwrap();
    assert_eq!(server::db::migrations::apply(&again.db).await.unwrap(), 0, "nothing left to migrate");
    let (signed_in, _session) =
        server::users::log_in(&again, "ana@example.com", "correct horse battery", None).await.expect("the account is kept");
    assert_eq!(signed_in.owner.id(), user.owner.id());
    let read = server::agents::get(&again, &user.owner, &agent.id).await.unwrap();
    assert_eq!((read.settings.name.as_str(), read.settings.greeting.as_str()), ("Front desk", "Hello, front desk."));
    assert_eq!(read.linked_numbers, 1);
    let read = server::numbers::get(&again, &user.owner, &number.id).await.unwrap();
    assert_eq!(read.phone_number, "+918047491899");
    assert_eq!(read.linked_agent_id.as_deref(), Some(agent.id.as_str()));
}

#[tokio::test]
async fn a_live_view_on_one_node_hears_a_call_that_another_node_answers() {
    let surreal = SurrealServer::start().await;
    let a = surreal.node("live", "node-a").await;
    let b = surreal.node("live", "node-b").await;
    let user = server::users::sign_up(&a, "live@example.com", "correct horse battery").await.unwrap();
    let number = server::numbers::create(
        &b,
        &user.owner,
        &domain::phone_number::PhoneNumberInput { phone_number: "+918047491800".into(), provider: "other".into(), ..Default::default() },
    )
    .await
    .unwrap();
    let events = server::calls::live::subscribe(&a, &user.owner).await.expect("a live query on the server");

    // Node B answers and streams the call: its own connection to the server.
    let call = server::db::calls::NewCall {
        owner_id: user.owner.id(),
        phone_id: &number.id,
        phone_number: &number.phone_number,
        agent_id: None,
        provider: domain::phone_number::Provider::Exotel,
        session_id: "CAnodeb01",
        status: CallStatus::Ringing,
        caller: Some("+919876543210"),
        callee: None,
        direction: None,
        params_json: "{}",
        reason: None,
        node: &b.node,
    };
    let (row, created) = server::db::calls::insert_or_get(&b.db, &call, &b.clock.now_rfc3339()).await.unwrap();
    assert!(created);
    server::db::calls::mark_answered(&b.db, &row.id, &b.node, &b.clock.now_rfc3339()).await.unwrap();

    let seen: Vec<LiveEvent> = events.take(2).take_until(tokio::time::sleep(Duration::from_secs(10))).collect().await;
    assert_eq!(
        seen,
        [
            LiveEvent::Call { call_id: row.id.clone(), status: CallStatus::Ringing },
            LiveEvent::Call { call_id: row.id.clone(), status: CallStatus::InProgress },
        ],
        "node A's live view follows the call on node B"
    );
}

#[tokio::test]
async fn the_rest_api_answers_over_a_surrealdb_server() {
    let surreal = SurrealServer::start().await;
    let state = server::AppState::connect(surreal.root_settings("rest")).await.unwrap();
    let user = server::users::sign_up(&state, "rest@example.com", "correct horse battery").await.unwrap();
    let (_, token) = server::users::create_token(&state, &user.owner, "rest").await.unwrap();
    let base = crate::common::serve(state).await;
    // Every request clones the state: each must still reach the database signed in.
    let client = reqwest::Client::new();
    let answers = futures_util::future::join_all((0..20).map(|_| {
        let request = client.get(format!("{base}/api/me")).bearer_auth(&token).send();
        async move { request.await.map(|r| r.status().as_u16()).unwrap_or(0) }
    }))
    .await;
    assert_eq!(answers, vec![200; 20]);
    let health: serde_json::Value = client.get(format!("{base}/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["schema_version"], server::db::migrations::latest_version());
}
