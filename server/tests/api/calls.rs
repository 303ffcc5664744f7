//! Call logs over REST: what the webhook recorded, filtered and paged, and only for its owner.

use crate::common;

use domain::call::{CallStatus, Role, TurnKind};
use reqwest::{Client, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn call_logs_list_filter_detail_and_isolation() {
    let state = common::state().await;
    let (a, a_token) = common::user_with_token(&state, "a@example.com").await;
    let (_, b_token) = common::user_with_token(&state, "b@example.com").await;
    let number = common::number(&state, &a.owner, "+918047491899", None).await;
    let base = common::serve(state.clone()).await;
    let c = Client::new();
    let webhook = format!("{base}{}", number.webhook_url.trim_start_matches("http://127.0.0.1:0"));
    for i in 0..3 {
        let res = c
            .post(&webhook)
            .form(&[("CallSid", format!("CALOG{i}")), ("From", "+919876543210".into()), ("Region", "MH".into())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    server::db::calls::set_status(&state.db, "exotel_CALOG0", CallStatus::Completed, None, Some(&state.clock.now_rfc3339()), Some(42_000))
        .await
        .unwrap();

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

#[tokio::test]
async fn agent_filter_paging_turns_analytics_and_stale_calls() {
    let state = common::state().await;
    let (a, token) = common::user_with_token(&state, "a@example.com").await;
    let agent =
        server::agents::create(&state, &a.owner, domain::agent::AgentInput { name: "Desk".into(), ..Default::default() }).await.unwrap();
    let linked = common::linked_number(&state, &a.owner, &agent.id).await;
    let plain = common::number(&state, &a.owner, "+918047491800", None).await;
    let base = common::serve(state.clone()).await;
    let c = Client::new();
    let hook = |n: &domain::phone_number::PhoneNumberView| format!("{base}{}", n.webhook_url.trim_start_matches("http://127.0.0.1:0"));
    // Three calls on the linked number (its agent), two on the other (the latest agent too, as
    // no agent is linked: every call names the agent that answered it).
    for (n, sid) in [(&linked, "CAP1"), (&linked, "CAP2"), (&linked, "CAP3"), (&plain, "CAQ1"), (&plain, "CAQ2")] {
        assert_eq!(c.post(hook(n)).form(&[("CallSid", sid), ("From", "+919876543210")]).send().await.unwrap().status(), StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await; // distinct start times
    }
    let get = |path: String| c.get(format!("{base}{path}")).bearer_auth(token.clone()).send();
    let json = |path: String| async move { get(path).await.unwrap().json::<Value>().await.unwrap() };

    // Agent filter and paging.
    let by_agent = json(format!("/api/calls?agentId={}", agent.id)).await;
    assert_eq!(by_agent["total"], 5);
    let none = json("/api/calls?agentId=nosuchagent".into()).await;
    assert_eq!(none["total"], 0);
    let p1 = json("/api/calls?pageSize=2&page=1".into()).await;
    let p3 = json("/api/calls?pageSize=2&page=3".into()).await;
    assert_eq!((p1["calls"].as_array().unwrap().len(), p3["calls"].as_array().unwrap().len()), (2, 1));
    assert_eq!((p3["page"].as_i64(), p3["total"].as_i64()), (Some(3), Some(5)));
    let mut seen: Vec<String> = Vec::new();
    for page in 1..=3 {
        for call in json(format!("/api/calls?pageSize=2&page={page}")).await["calls"].as_array().unwrap() {
            seen.push(call["id"].as_str().unwrap().into());
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "pages neither repeat nor skip a call");
    for (q, field) in
        [("pageSize=0", "pageSize"), ("pageSize=201", "pageSize"), ("page=0", "page"), ("status=busy", "status"), ("to=2026-13-01", "to")]
    {
        let res = get(format!("/api/calls?{q}")).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"]["field"], field, "{q}");
    }
    // A plain `to` date includes that whole day.
    let today = state.clock.now().format("%Y-%m-%d").to_string();
    assert_eq!(json(format!("/api/calls?from={today}&to={today}")).await["total"], 5);

    // A streamed call with its turns and timings.
    server::db::calls::mark_answered(&state.db, "exotel_CAP1", &state.node, &state.clock.now_rfc3339()).await.unwrap();
    let turn = |seq, role: Role, kind: TurnKind, text: &str, timings| server::db::turns::NewTurn {
        call_key: "exotel_CAP1".into(),
        owner_id: a.owner.id().to_string(),
        seq,
        role,
        kind,
        text: text.into(),
        started_at: state.clock.now_rfc3339(),
        ended_at: state.clock.now_rfc3339(),
        interrupted: seq == 3,
        timings,
    };
    let replied = domain::call::TurnTimings {
        endpointing_ms: Some(700),
        stt_ms: Some(300),
        agent_ms: Some(5),
        tts_ms: Some(200),
        first_byte_ms: Some(520),
        heard_ms: None,
    };
    for t in [
        turn(1, Role::Caller, TurnKind::Speech, "What are your opening hours?", Default::default()),
        turn(2, Role::Agent, TurnKind::Speech, "Nine to five.", replied.clone()),
        turn(
            3,
            Role::Agent,
            TurnKind::Speech,
            "Anything else?",
            domain::call::TurnTimings { first_byte_ms: Some(880), endpointing_ms: Some(700), ..Default::default() },
        ),
        turn(4, Role::Caller, TurnKind::Dtmf, "1", Default::default()),
    ] {
        server::db::turns::insert(&state.db, &t).await.unwrap();
    }
    server::db::calls::set_status(
        &state.db,
        "exotel_CAP1",
        CallStatus::Completed,
        Some("callended"),
        Some(&state.clock.now_rfc3339()),
        Some(60_000),
    )
    .await
    .unwrap();
    let detail = json("/api/calls/exotel_CAP1".into()).await;
    assert_eq!(detail["turnCount"], 4);
    let turns = detail["turns"].as_array().unwrap();
    assert_eq!(turns.iter().map(|t| t["role"].as_str().unwrap()).collect::<Vec<_>>(), ["caller", "agent", "agent", "caller"]);
    assert_eq!(
        turns[1]["timings"],
        serde_json::json!({"endpointingMs": 700, "sttMs": 300, "agentMs": 5, "ttsMs": 200, "firstByteMs": 520, "heardMs": null})
    );
    assert_eq!((turns[2]["interrupted"].as_bool(), turns[3]["kind"].as_str()), (Some(true), Some("dtmf")));

    // Analytics: five calls, one answered (its stream began), its duration, four turns,
    // voice-to-voice = end-of-speech silence + detection to first byte (1220 and 1580 ms).
    let all = json("/api/analytics?days=7".into()).await;
    assert_eq!((all["days"].as_i64(), all["total"]["calls"].as_i64(), all["total"]["answered"].as_i64()), (Some(7), Some(5), Some(1)));
    assert_eq!(all["total"]["avgDurationMs"], 60_000);
    assert_eq!(all["total"]["turnsPerCall"], 4.0);
    assert_eq!((all["total"]["voiceToVoiceP50Ms"].as_i64(), all["total"]["voiceToVoiceP90Ms"].as_i64()), (Some(1580), Some(1580)));
    assert_eq!(all["byDay"].as_array().unwrap().len(), 7);
    assert_eq!(all["byDay"][6]["calls"], 5, "today is the last day");
    let rows = all["byNumber"].as_array().unwrap();
    assert_eq!(
        rows.iter().map(|r| (r["id"].as_str().unwrap(), r["calls"].as_i64().unwrap())).collect::<Vec<_>>(),
        [(linked.id.as_str(), 3), (plain.id.as_str(), 2)]
    );
    // Scoped to the other number: its two calls only; the tables still list every number.
    let other = json(format!("/api/analytics?phoneId={}", plain.id)).await;
    assert_eq!(
        (other["total"]["calls"].as_i64(), other["total"]["answered"].as_i64(), other["phoneId"].as_str()),
        (Some(2), Some(0), Some(plain.id.as_str()))
    );
    assert_eq!(other["byNumber"].as_array().unwrap().len(), 2);
    assert_eq!(json(format!("/api/analytics?agentId={}", agent.id)).await["total"]["calls"], 5);
    assert_eq!(json("/api/analytics?days=500".into()).await["days"], 90, "at most 90 days");

    // The number's card data shows its newest call.
    let card = json(format!("/api/phone-numbers/{}", plain.id)).await;
    assert_eq!((card["lastCall"]["id"].as_str(), card["lastCall"]["status"].as_str()), (Some("exotel_CAQ2"), Some("ringing")));

    // Calls whose stream never opened stop ringing after two minutes.
    assert_eq!(server::calls::end_stale(&state).await.unwrap(), 0, "not yet");
    state.clock.advance(chrono::Duration::minutes(3));
    assert_eq!(server::calls::end_stale(&state).await.unwrap(), 4);
    let failed = json("/api/calls?status=failed".into()).await;
    assert_eq!(failed["total"], 4);
    assert_eq!(failed["calls"][0]["reason"], "the stream never opened");
    assert_eq!(json("/api/calls?status=completed".into()).await["total"], 1, "a finished call is left alone");
}
