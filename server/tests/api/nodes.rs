//! Two nodes on one database (two states sharing one SurrealDB handle and one clock): a node
//! whose heartbeat stops has its live calls failed by the other, and each shared sweep runs on
//! one node at a time.

use std::time::Duration;

use domain::call::CallStatus;
use futures_util::SinkExt;
use server::AppState;
use server::node::liveness::{self, DEAD_AFTER};
use server::node::sweeps::{self, Sweep};
use tokio_tungstenite::tungstenite::Message;

use crate::common;
use crate::common::webhooks::{Receiver, desk, settings, state_with};

/// A second node on `a`'s database: its own id, call slots and shutdown; the same database and clock.
fn other_node(a: &AppState, id: &str) -> AppState {
    AppState { node: id.into(), calls: server::slots::Slots::new(10, 10), shutdown: Default::default(), ..a.clone() }
}

/// Opens call `sid`'s Exotel stream on the node serving `base` and waits until it is in progress.
async fn stream_on(
    state: &AppState,
    base: &str,
    number: &domain::phone_number::PhoneNumberView,
    sid: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!("{}{}", base.replace("http://", "ws://"), number.websocket_url.trim_start_matches("ws://127.0.0.1:0"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::Text(r#"{"event":"connected"}"#.into())).await.unwrap();
    ws.send(common::start_message(sid)).await.unwrap();
    let key = format!("exotel_{sid}");
    for _ in 0..200 {
        // Before the stream creates it, reading the call fails (SELECT FROM ONLY a missing record).
        if let Ok(Some(c)) = server::db::calls::get_by_key(&state.db, &key).await
            && c.status == CallStatus::InProgress
        {
            return ws;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{key} never went in progress");
}

async fn status_and_reason(state: &AppState, key: &str) -> (CallStatus, Option<String>) {
    let c = server::db::calls::get_by_key(&state.db, key).await.unwrap().unwrap();
    (c.status, c.reason)
}

#[tokio::test]
async fn a_dead_nodes_calls_are_failed_by_the_survivor_and_only_those() {
    let a = state_with(settings(&[])).await;
    let b = other_node(&a, "node-b");
    let receiver = Receiver::start(&[]).await;
    let (user, number, _secret) = desk(&a, &receiver).await;
    let base_a = common::serve(a.clone()).await;
    // Node B's server, kept to be stopped when B "dies".
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_b = format!("http://{}", listener.local_addr().unwrap());
    let serving_b =
        tokio::spawn(server::serve::run(listener, server::routes::router(b.clone(), axum::Router::new()), std::future::pending()));
    let (_, token) = server::users::create_token(&a, &user.owner, "live").await.unwrap();
    // The dashboard's live view is open on node A.
    let live = reqwest::Client::new().get(format!("{base_a}/api/calls/live")).bearer_auth(&token).send().await.unwrap();
    assert!(live.status().is_success());
    let events = tokio::spawn(common::sse_events(live, Duration::from_secs(6)));

    let _on_a = stream_on(&a, &base_a, &number, "CANODEA1").await;
    let _on_b = stream_on(&b, &base_b, &number, "CANODEB1").await;
    liveness::beat(&a).await.unwrap();
    liveness::beat(&b).await.unwrap();
    assert_eq!(sweeps::run_if_due(&a, Sweep::DeadNodes).await.unwrap(), Some(0), "both nodes are alive");

    // Node B dies: it stops serving and beating (its open stream is left hanging, as a killed
    // process's would be until the provider gives up). Node A goes on beating.
    serving_b.abort();
    let _ = serving_b.await;
    let refused = reqwest::Client::new().get(format!("{base_b}/healthz")).send().await;
    assert!(refused.is_err(), "node B still serves");
    a.clock.advance(DEAD_AFTER + chrono::Duration::seconds(1));
    liveness::beat(&a).await.unwrap();
    assert_eq!(sweeps::run_if_due(&a, Sweep::DeadNodes).await.unwrap(), Some(1));
    assert_eq!(status_and_reason(&a, "exotel_CANODEB1").await, (CallStatus::Failed, Some("node node-b stopped".into())));
    let on_a = status_and_reason(&a, "exotel_CANODEA1").await;
    assert_eq!(on_a.0, CallStatus::InProgress, "the live node's call goes on: {on_a:?}");

    // The failed call's end is notified, as a restarted node's are.
    let hits = receiver.wait_for(1, 20).await;
    assert_eq!(hits.len(), 1, "one notification: the failed call's");
    let body = hits[0].json();
    assert_eq!((body["call"]["id"].as_str(), body["call"]["status"].as_str()), (Some("exotel_CANODEB1"), Some("failed")));
    assert_eq!(body["call"]["reason"], "node node-b stopped");

    // The live view on node A heard node B's call start and fail.
    let heard: Vec<(String, serde_json::Value)> =
        events.await.unwrap().into_iter().filter(|(_, e)| e["callId"] == "exotel_CANODEB1").collect();
    let statuses: Vec<&str> = heard.iter().filter_map(|(_, e)| e["status"].as_str()).collect();
    assert!(statuses.contains(&"in_progress") && statuses.last() == Some(&"failed"), "{heard:?}");

    // Node B is forgotten: a later pass (and a later death of nothing) fails nothing more.
    a.clock.advance(DEAD_AFTER);
    liveness::beat(&a).await.unwrap();
    assert_eq!(sweeps::run_if_due(&a, Sweep::DeadNodes).await.unwrap(), Some(0));
    assert_eq!(status_and_reason(&a, "exotel_CANODEA1").await.0, CallStatus::InProgress);
}

#[tokio::test]
async fn a_node_never_fails_its_own_calls_nor_a_beating_nodes() {
    let a = common::state().await;
    let b = other_node(&a, "node-b");
    let user = common::user(&a, "own@example.com").await;
    common::place_call(&a, &user, "CAOWN01").await;
    common::place_call(&b, &user, "CAOWN02").await;
    liveness::beat(&a).await.unwrap();
    liveness::beat(&b).await.unwrap();
    // Both were silent a long time (a paused machine); B beats again before A's sweep runs.
    a.clock.advance(DEAD_AFTER * 3);
    liveness::beat(&b).await.unwrap();
    assert_eq!(liveness::fail_dead(&a).await.unwrap(), 0, "A is alive since it sweeps; B beat again");
    assert_eq!(status_and_reason(&a, "exotel_CAOWN01").await.0, CallStatus::InProgress);
    assert_eq!(status_and_reason(&a, "exotel_CAOWN02").await.0, CallStatus::InProgress);
    // B's sweep, run while A is the silent one, fails A's call and not its own.
    assert_eq!(liveness::fail_dead(&b).await.unwrap(), 1);
    assert_eq!(status_and_reason(&a, "exotel_CAOWN01").await, (CallStatus::Failed, Some(format!("node {} stopped", a.node))));
    assert_eq!(status_and_reason(&a, "exotel_CAOWN02").await.0, CallStatus::InProgress);
}

#[tokio::test]
async fn each_sweep_runs_on_one_node_per_period() {
    let a = common::state().await;
    let b = other_node(&a, "node-b");
    let c = other_node(&a, "node-c");
    for sweep in Sweep::ALL {
        for round in 0..5 {
            let (x, y, z) = tokio::join!(sweeps::run_if_due(&a, sweep), sweeps::run_if_due(&b, sweep), sweeps::run_if_due(&c, sweep));
            let ran = [x.unwrap(), y.unwrap(), z.unwrap()].iter().filter(|r| r.is_some()).count();
            assert_eq!(ran, 1, "{sweep:?} round {round}: three nodes asked at once");
            for node in [&a, &b, &c] {
                assert_eq!(sweeps::run_if_due(node, sweep).await.unwrap(), None, "{sweep:?} round {round}: held for its period");
            }
            a.clock.advance(chrono::Duration::from_std(sweep.period()).unwrap());
        }
    }
}

#[tokio::test]
async fn the_stale_sweep_still_ends_stale_calls_under_its_lease() {
    let a = common::state().await;
    let b = other_node(&a, "node-b");
    let user = common::user(&a, "stale@example.com").await;
    common::place_call(&a, &user, "CASTALE1").await;
    // A's sweep runs first and finds nothing; B asks while A holds the lease.
    assert_eq!(sweeps::run_if_due(&a, Sweep::Stale).await.unwrap(), Some(0));
    a.clock.advance(chrono::Duration::hours(2));
    assert_eq!(sweeps::run_if_due(&b, Sweep::Stale).await.unwrap(), Some(1), "the lease ran out long ago: B runs it");
    assert_eq!(status_and_reason(&a, "exotel_CASTALE1").await, (CallStatus::Failed, Some("the stream ended without a stop".into())));
}
