//! Call logs over REST: what the webhook recorded, filtered and paged, and only for its owner.

mod common;

use reqwest::{Client, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn call_logs_list_filter_detail_and_isolation() {
    let state = common::state().await;
    let (a, a_token) = common::user_with_token(&state, "a@example.com").await;
    let (_, b_token) = common::user_with_token(&state, "b@example.com").await;
    let number = server::numbers::create(&state, &a.owner, &domain::phone_number::PhoneNumberInput {
        phone_number: "+918047491899".into(),
        provider: "other".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let base = common::serve(state.clone()).await;
    let c = Client::new();
    let webhook = format!("{base}{}", number.webhook_url.trim_start_matches("http://127.0.0.1:0"));
    for i in 0..3 {
        let res = c.post(&webhook).form(&[("CallSid", format!("CALOG{i}")), ("From", "+919876543210".into()), ("Region", "MH".into())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    server::db::calls::set_status(&state.db, "exotel_CALOG0", "completed", None, Some(&state.clock.now_rfc3339()), Some(42_000)).await.unwrap();

    let get = |token: &str, path: String| c.get(format!("{base}{path}")).bearer_auth(token.to_string()).send();
    let page: Value = get(&a_token, "/api/calls".into()).await.unwrap().json().await.unwrap();
    assert_eq!(page["total"], 3);
    assert_eq!(page["calls"][0]["phoneNumber"], "+918047491899");
    assert_eq!(page["calls"][0]["caller"], "+919876543210");
    let done: Value = get(&a_token, "/api/calls?status=completed".into()).await.unwrap().json().await.unwrap();
    assert_eq!(done["total"], 1);
    assert_eq!(done["calls"][0]["durationMs"], 42_000);
    let by_number: Value = get(&a_token, format!("/api/calls?phoneId={}&pageSize=2", number.id)).await.unwrap().json().await.unwrap();
    assert_eq!((by_number["total"].as_i64(), by_number["calls"].as_array().unwrap().len()), (Some(3), 2));
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let dated: Value = get(&a_token, format!("/api/calls?from={today}")).await.unwrap().json().await.unwrap();
    assert_eq!(dated["total"], 3);
    let none: Value = get(&a_token, "/api/calls?to=2000-01-01".into()).await.unwrap().json().await.unwrap();
    assert_eq!(none["total"], 0);
    let bad = get(&a_token, "/api/calls?from=yesterday".into()).await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"]["field"], "from");

    let id = page["calls"][2]["id"].as_str().unwrap().to_string();
    let detail: Value = get(&a_token, format!("/api/calls/{id}")).await.unwrap().json().await.unwrap();
    assert_eq!(detail["providerParams"]["Region"], "MH", "raw provider parameters are kept");
    assert!(detail["providerParams"].get("key").is_none());

    // Isolation: B sees none of A's calls and gets 404 on A's call.
    let b_page: Value = get(&b_token, "/api/calls".into()).await.unwrap().json().await.unwrap();
    assert_eq!(b_page["total"], 0);
    assert_eq!(get(&b_token, format!("/api/calls/{id}")).await.unwrap().status(), StatusCode::NOT_FOUND);
    let b_filtered: Value = get(&b_token, format!("/api/calls?phoneId={}", number.id)).await.unwrap().json().await.unwrap();
    assert_eq!(b_filtered["total"], 0);
}
