//! Authentication and CSRF over real HTTP.

use crate::common;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn missing_or_bad_credentials_are_401_json() {
    let state = common::state().await;
    let base = common::serve(state).await;
    let c = Client::new();
    for req in [
        c.get(format!("{base}/api/me")),
        c.get(format!("{base}/api/me")).bearer_auth("vg_not-a-real-token"),
        c.get(format!("{base}/api/me")).header("cookie", "vg_session=forged"),
    ] {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
}

#[tokio::test]
async fn expired_sessions_are_refused() {
    let state = common::state().await;
    let u = common::user(&state, "ana@example.com").await;
    let token = server::users::open_session(&state, &u.owner).await.unwrap();
    let base = common::serve(state.clone()).await;
    let c = Client::new();
    let cookie = format!("vg_session={token}");
    assert_eq!(c.get(format!("{base}/api/me")).header("cookie", &cookie).send().await.unwrap().status(), 200);
    state.clock.advance(chrono::Duration::days(30));
    assert_eq!(c.get(format!("{base}/api/me")).header("cookie", &cookie).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn cross_site_posts_with_a_session_cookie_are_refused_and_change_nothing() {
    let state = common::state().await;
    let u = common::user(&state, "ana@example.com").await;
    let session = server::users::open_session(&state, &u.owner).await.unwrap();
    let base = common::serve(state.clone()).await;
    let c = Client::new();
    let cookie = format!("vg_session={session}");
    let post = |origin: Option<&str>| {
        let mut r = c.post(format!("{base}/api/tokens")).header("cookie", &cookie).json(&json!({ "name": "x" }));
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r
    };
    let evil = post(Some("https://evil.example.com")).send().await.unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let no_origin = post(None).send().await.unwrap();
    assert_eq!(no_origin.status(), StatusCode::FORBIDDEN);
    assert!(server::users::list_tokens(&state, &u.owner).await.unwrap().is_empty(), "nothing written");

    let ours = post(Some(&base)).send().await.unwrap();
    assert_eq!(ours.status(), StatusCode::CREATED);
    // A bearer token is not ambient authority: no Origin needed.
    let (_, bearer) = server::users::create_token(&state, &u.owner, "script").await.unwrap();
    let res = c.post(format!("{base}/api/tokens")).bearer_auth(bearer).json(&json!({ "name": "y" })).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn bad_json_bodies_name_the_problem() {
    let state = common::state().await;
    let (_, token) = common::user_with_token(&state, "ana@example.com").await;
    let base = common::serve(state).await;
    let c = Client::new();
    let not_json = c.post(format!("{base}/api/tokens")).bearer_auth(&token).body("name=x").send().await.unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let wrong_type = c.post(format!("{base}/api/tokens")).bearer_auth(&token).json(&json!({ "name": 5 })).send().await.unwrap();
    assert_eq!(wrong_type.status(), StatusCode::BAD_REQUEST);
    let body: Value = wrong_type.json().await.unwrap();
    assert_eq!(body["error"]["field"], "name");
    let empty = c.post(format!("{base}/api/tokens")).bearer_auth(&token).json(&json!({})).send().await.unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert_eq!(empty.json::<Value>().await.unwrap()["error"]["field"], "name");
}

#[tokio::test]
async fn session_cookies_are_http_only_lax_and_secure_behind_https() {
    let mut state = common::state().await;
    let cookie = server::http::auth::session_cookie(&state, "tok");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");
    let mut settings = (*state.settings).clone();
    settings.public_url = "https://voice.example.com".parse().unwrap();
    state.settings = std::sync::Arc::new(settings);
    let secure = server::http::auth::session_cookie(&state, "tok");
    assert!(secure.contains("Secure") && secure.contains("HttpOnly"), "{secure}");
    assert!(server::http::auth::clear_session_cookie(&state).contains("Max-Age=0"));
}

/// Every request marks its API token used: requests sent at once with one token conflict on that
/// row (when the time they write differs), and must still all succeed (found by schemathesis on
/// the in-memory engine, whose conflict error reads differently from SurrealKV's). Several threads,
/// as in `voxgate serve`: on one, the database's transactions never overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_sent_at_once_with_one_token_all_succeed() {
    let state = common::state().await;
    let (_, token) = common::user_with_token(&state, "ana@example.com").await;
    let base = common::serve(state.clone()).await;
    // A second passes between any two requests, so each one really writes `last_used_at`.
    let clock = state.clock.clone();
    let ticking = tokio::spawn(async move {
        loop {
            clock.advance(chrono::Duration::seconds(1));
            tokio::task::yield_now().await;
        }
    });
    let c = Client::new();
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..100 {
        requests.spawn(c.get(format!("{base}/api/me")).bearer_auth(&token).send());
    }
    let statuses: Vec<u16> = requests.join_all().await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    ticking.abort();
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
}
