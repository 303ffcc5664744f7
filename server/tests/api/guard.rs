//! The guarded outbound client (requests to URLs a tenant chose) against real servers on
//! loopback: an address it must not reach is refused before any connection is made (the server
//! sees nothing), whether written in the URL, behind a name or in a redirect.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use server::net::guard::{self, CONNECT_TIMEOUT, GuardPolicy, GuardedClient, Refused};
use server::voice::openai::{OpenAi, OpenAiStt, OpenAiTts};
use server::voice::{SpeechToText, TextToSpeech};

#[derive(Clone)]
struct Local {
    hits: Arc<AtomicUsize>,
    location: Arc<str>,
}

/// Counts every request; `/redirect` redirects to the server's `location`, `/loop` to itself.
async fn handle(State(local): State<Local>, uri: Uri) -> Response {
    local.hits.fetch_add(1, Ordering::SeqCst);
    match uri.path() {
        "/redirect" => (StatusCode::FOUND, [(header::LOCATION, local.location.to_string())]).into_response(),
        "/loop" => (StatusCode::FOUND, [(header::LOCATION, "/loop")]).into_response(),
        _ => "ok".into_response(),
    }
}

/// A server on 127.0.0.1: its base URL, port and request count.
async fn local_server(location: &str) -> (String, u16, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let app = Router::new().fallback(handle).with_state(Local { hits: hits.clone(), location: location.into() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), addr.port(), hits)
}

fn client(allow: &str) -> GuardedClient {
    GuardedClient::new(Arc::new(GuardPolicy::new(GuardPolicy::parse_allow(allow).unwrap())), CONNECT_TIMEOUT).unwrap()
}

fn hits(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_loopback_address_is_refused_unless_the_operator_allows_it() {
    let (base, port, seen) = local_server("").await;
    let err = client("").get(&format!("{base}/")).unwrap_err();
    assert!(matches!(err, Refused::Address { reason: "loopback", .. }), "{err}");
    assert_eq!(err.to_string(), "127.0.0.1: loopback address not allowed");
    // The IPv4-mapped spelling of the same address is the same address.
    assert!(client("").get(&format!("http://[::ffff:127.0.0.1]:{port}/")).is_err());
    assert_eq!(hits(&seen), 0, "nothing was sent");

    let res = client("127.0.0.1/32").get(&format!("{base}/")).unwrap().send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(hits(&seen), 1);
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_when_connecting() {
    let (_, port, seen) = local_server("").await;
    let url = format!("http://localhost:{port}/");
    // A name passes the URL check; the resolver refuses every address it has.
    let err = client("").get(&url).unwrap().send().await.unwrap_err();
    let refused = guard::refusal(&err).unwrap_or_else(|| panic!("not refused by the guard: {err:?}"));
    assert_eq!(refused, &Refused::Address { host: "localhost".into(), reason: "loopback" });
    assert_eq!(hits(&seen), 0, "no connection was made");

    // Allowed 127.0.0.1 only, the resolver hands over that address alone (not ::1): it arrives.
    let res = client("127.0.0.1/32").get(&url).unwrap().send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(hits(&seen), 1);
}

#[tokio::test]
async fn a_redirect_to_a_refused_address_is_not_followed() {
    // Were any of these followed, the request would fail otherwise (nothing listens on [::1]:9;
    // the metadata address never answers here) and no refusal would be found.
    for location in ["http://[::1]:9/v1", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:10.0.0.1]/", "http://0x7f.0.0.2/"] {
        let (base, _, seen) = local_server(location).await;
        let started = std::time::Instant::now();
        let err = client("127.0.0.1/32").get(&format!("{base}/redirect")).unwrap().send().await.unwrap_err();
        let refused = guard::refusal(&err).unwrap_or_else(|| panic!("{location}: not refused by the guard: {err:?}"));
        assert!(matches!(refused, Refused::Address { .. }), "{location}: {refused}");
        assert_eq!(hits(&seen), 1, "{location}: only the first hop was sent");
        assert!(started.elapsed() < Duration::from_secs(2), "{location}: refused without trying to connect");
    }
}

#[tokio::test]
async fn redirects_are_limited() {
    let (base, _, seen) = local_server("").await;
    let err = client("127.0.0.1/32").get(&format!("{base}/loop")).unwrap().send().await.unwrap_err();
    assert_eq!(guard::refusal(&err), Some(&Refused::TooManyRedirects(guard::MAX_REDIRECTS)), "{err:?}");
    assert_eq!(hits(&seen), guard::MAX_REDIRECTS + 1, "the first request and each redirect followed");
}

#[tokio::test]
async fn a_provider_on_a_refused_address_fails_with_a_clear_message() {
    let (_, port, seen) = local_server("").await;
    let api = |base_url: String| OpenAi {
        base_url,
        api_key: Some("sk-test-secret".into()),
        model: "m".into(),
        client: client(""),
        timeout: Duration::from_secs(2),
    };
    let tts = OpenAiTts { api: api("http://169.254.169.254/v1".into()), voice: "alloy".into() };
    let err = tts.synthesize("Hello", 8000).await.unwrap_err().to_string();
    assert_eq!(err, "text-to-speech failed: audio/speech: address not allowed");
    let stt = OpenAiStt { api: api(format!("http://localhost:{port}/v1")), language: "en".into() };
    let err = stt.transcribe(vec![0; 1600]).await.unwrap_err().to_string();
    assert_eq!(err, "speech-to-text failed: audio/transcriptions: address not allowed");
    assert!(!err.contains("sk-test-secret") && !err.contains("localhost"));
    assert_eq!(hits(&seen), 0);
}

#[tokio::test]
async fn the_test_state_reaches_fake_providers_on_loopback_only() {
    let state = common::state().await;
    let (base, _, seen) = local_server("").await;
    let res = state.outbound.get(&format!("{base}/")).unwrap().send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(hits(&seen), 1);
    assert!(state.outbound.get("http://10.0.0.1/v1").is_err(), "only loopback is allowed in tests");
}

#[tokio::test]
async fn a_new_base_url_needs_the_api_key_again() {
    let state = common::state().await;
    let user = common::user(&state, "moves@example.com").await;
    let mut input = domain::agent::AgentInput { name: "Cloud".into(), ..Default::default() };
    input.providers.llm = "openai".into();
    input.providers.model = "gpt-test".into();
    input.providers.base_url = "https://api.example.com/v1".into();
    input.providers.api_key = "sk-first-key-1234".into();
    let agent = server::agents::create(&state, &user.owner, input).await.unwrap();
    let (db, owner, id) = (&state.db, &user.owner, &agent.id);
    let stored = || async move { server::db::agents::get(db, owner, id).await.unwrap().unwrap().settings_json };
    let before = stored().await;

    // Same URL, no key: the saved key is kept.
    let mut edit = agent.settings.clone();
    edit.greeting = "Hello again".into();
    let kept = server::agents::update(&state, &user.owner, &agent.id, edit.clone()).await.unwrap();
    assert_eq!(kept.settings.providers.api_key_hint.as_deref(), Some("••••1234"));

    // Another URL, no key: refused on the key's field, and nothing is written.
    let before_move = stored().await;
    assert_ne!(before, before_move);
    edit.providers.base_url = "https://attacker.example/v1".into();
    match server::agents::update(&state, &user.owner, &agent.id, edit.clone()).await {
        Err(server::errors::DomainError::Invalid(errors)) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "providers.apiKey");
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    assert_eq!(stored().await, before_move, "the refused edit changed nothing");

    // Another URL with its key: saved.
    edit.providers.api_key = "sk-second-key-5678".into();
    let moved = server::agents::update(&state, &user.owner, &agent.id, edit).await.unwrap();
    assert_eq!(moved.settings.providers.base_url, "https://attacker.example/v1");
    assert_eq!(moved.settings.providers.api_key_hint.as_deref(), Some("••••5678"));
}
