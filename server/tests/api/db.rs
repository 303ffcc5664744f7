//! Database connection, migrations and the system check against real SurrealDB engines.

use server::config::DatabaseUrl;
use server::db::{self, migrations};
use server::{AppState, Settings};

fn temp_dir(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("voxgate-{tag}-{}", db::new_key()))
}

#[tokio::test]
async fn migrations_apply_once_and_record_their_version() {
    let state = AppState::connect(Settings::for_tests()).await.unwrap();
    assert_eq!(migrations::current_version(&state.db).await.unwrap(), migrations::latest_version());
    // A second start applies nothing and keeps one record per version.
    assert_eq!(migrations::apply(&state.db).await.unwrap(), 0);
    let versions: Vec<i64> = db::rows(&state.db, "SELECT VALUE version FROM schema_migration", serde_json::json!({})).await.unwrap();
    assert_eq!(versions.len(), migrations::all().count());
}

#[tokio::test]
async fn system_check_writes_and_reads_back() {
    let state = AppState::connect(Settings::for_tests()).await.unwrap();
    let first = server::system::run_check(&state.db, "test").await.unwrap();
    let second = server::system::run_check(&state.db, "test").await.unwrap();
    assert_eq!(first.total, 1);
    assert_eq!(second.total, 2);
    assert_ne!(first.id, second.id);
    assert!(first.checked_at.ends_with('Z'), "{}", first.checked_at);
    assert_eq!(db::system_checks::count(&state.db).await.unwrap(), 2);
}

#[tokio::test]
async fn schemafull_tables_refuse_bad_rows() {
    let state = AppState::connect(Settings::for_tests()).await.unwrap();
    let bad =
        db::rows::<serde_json::Value>(&state.db, "CREATE system_check SET checked_at = 'yesterday', source = 'x'", serde_json::json!({}))
            .await;
    assert!(bad.is_err(), "a string is not a datetime");
    let empty =
        db::rows::<serde_json::Value>(&state.db, "CREATE system_check SET checked_at = time::now(), source = ''", serde_json::json!({}))
            .await;
    assert!(empty.is_err(), "source must not be empty");
    assert_eq!(db::system_checks::count(&state.db).await.unwrap(), 0, "nothing half-written");
}

#[tokio::test]
async fn embedded_file_database_keeps_rows_across_restarts() {
    let dir = temp_dir("kv");
    let mut settings = Settings::for_tests();
    settings.database_url = DatabaseUrl::SurrealKv(dir.join("db"));
    settings.data_dir = dir.clone();
    {
        let state = AppState::connect(settings.clone()).await.unwrap();
        server::system::run_check(&state.db, "before restart").await.unwrap();
        state.db.invalidate().await.ok();
        drop(state);
    }
    // Give the engine a moment to release its files, then reopen.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let state = AppState::connect(settings).await.unwrap();
    assert_eq!(db::system_checks::count(&state.db).await.unwrap(), 1);
    assert_eq!(migrations::current_version(&state.db).await.unwrap(), migrations::latest_version());
    drop(state);
    let _ = std::fs::remove_dir_all(dir);
}

/// A call `state` records as answered and streaming, as the telephony side writes it.
async fn live_call(state: &AppState, owner: &str, sid: &str, node: &str) -> String {
    let (call, _) = db::calls::insert_or_get(
        &state.db,
        &db::calls::NewCall {
            owner_id: owner,
            phone_id: "ph1",
            phone_number: "+918047491899",
            agent_id: None,
            provider: domain::phone_number::Provider::Exotel,
            session_id: sid,
            status: domain::call::CallStatus::Ringing,
            caller: None,
            callee: None,
            direction: None,
            params_json: "{}",
            reason: None,
            node,
        },
        &state.clock.now_rfc3339(),
    )
    .await
    .unwrap();
    db::calls::mark_answered(&state.db, &call.id, node, &state.clock.now_rfc3339()).await.unwrap();
    call.id
}

async fn status_and_reason(state: &AppState, key: &str) -> (String, Option<String>) {
    let c = db::calls::get_by_key(&state.db, key).await.unwrap().unwrap();
    (c.status.as_str().to_string(), c.reason)
}

#[tokio::test]
async fn a_restarted_node_fails_the_calls_it_left_live_and_only_those() {
    let dir = temp_dir("restart");
    let mut settings = Settings::for_tests();
    settings.database_url = DatabaseUrl::SurrealKv(dir.join("db"));
    settings.data_dir = dir.clone();
    let (mine, other, ended) = {
        let state = AppState::connect(settings.clone()).await.unwrap();
        let mine = live_call(&state, "u1", "CAMINE", &state.node).await;
        // Another node sharing the database is still running its call.
        let other = live_call(&state, "u1", "CAOTHER", "node-elsewhere").await;
        let ended = live_call(&state, "u1", "CAENDED", &state.node).await;
        db::calls::set_status(&state.db, &ended, domain::call::CallStatus::Completed, Some("callended"), None, None).await.unwrap();
        state.db.invalidate().await.ok();
        (mine, other, ended)
        // The process "dies" here: nothing wrote the end of CAMINE.
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let state = AppState::connect(settings).await.unwrap();
    assert_eq!(server::calls::recover(&state).await.unwrap(), 1);
    assert_eq!(status_and_reason(&state, &mine).await, ("failed".into(), Some("server restarted".into())));
    assert_eq!(status_and_reason(&state, &other).await.0, "in_progress", "another node's call is not ours to end");
    assert_eq!(status_and_reason(&state, &ended).await, ("completed".into(), Some("callended".into())));
    assert_eq!(server::calls::recover(&state).await.unwrap(), 0, "a second pass finds nothing");
    drop(state);
    let _ = std::fs::remove_dir_all(dir);
}
