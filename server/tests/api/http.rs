//! REST routes over real HTTP on loopback with a fresh in-memory database.

use server::{AppState, Settings};

async fn spawn() -> String {
    crate::common::serve(crate::common::state().await).await
}

#[tokio::test]
async fn healthz_checks_the_database() {
    let base = spawn().await;
    let res = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["schema_version"], server::db::migrations::latest_version());
}

#[tokio::test]
async fn healthz_is_503_with_a_json_error_when_the_database_is_gone() {
    let state = AppState::connect(Settings::for_tests()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Point the state at a namespace/database pair that was never selected.
    let broken = AppState { db: surrealdb::Surreal::init(), ..state };
    tokio::spawn(server::serve::run(listener, server::routes::router(broken, axum::Router::new()), std::future::pending()));
    let res = reqwest::get(format!("http://{addr}/healthz")).await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(body["error"]["message"], "database unavailable");
}
