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
    let broken = AppState { db: std::sync::Arc::new(surrealdb::Surreal::init()), ..state };
    tokio::spawn(server::serve::run(listener, server::routes::router(broken, axum::Router::new()), std::future::pending()));
    let res = reqwest::get(format!("http://{addr}/healthz")).await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(body["error"]["message"], "database unavailable");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let base = spawn().await;
    for path in ["/healthz", "/api/agents", "/nosuch"] {
        let res = reqwest::get(format!("{base}{path}")).await.unwrap();
        let h = res.headers();
        assert_eq!(h["content-security-policy"], server::http::headers::API_POLICY, "{path}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert!(h.get("strict-transport-security").is_none(), "no HSTS over plain http");
    }
    // Behind https, browsers are told to stay on https.
    let mut settings = Settings::for_tests();
    settings.public_url = url::Url::parse("https://voice.example.com").unwrap();
    let base = crate::common::serve(AppState::connect(settings).await.unwrap()).await;
    let res = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(res.headers()["strict-transport-security"], server::http::headers::HSTS);
}

#[test]
fn a_page_policy_allows_only_its_own_nonce_and_origin() {
    let policy = server::http::headers::page_policy("abc123");
    assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"));
    assert!(!policy.contains("unsafe-eval'") || policy.contains("wasm-unsafe-eval"));
    assert!(!policy.contains("script-src 'self' 'unsafe-inline'"));
}
