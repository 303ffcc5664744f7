//! The ownership check over real HTTP: Voxgate's REST API on loopback asks a local server that
//! speaks each provider's numbers API (server::simulator::cloud: Basic auth, paging, error
//! bodies, 429 with Retry-After). Import and "Verify" for all four providers, each refusal with
//! its own message and field, claims across tenants, and the operator's default credentials.

use crate::common::{self, TWILIO_SID, TWILIO_TOKEN};

use domain::phone_number::Provider;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::bench::{PLIVO_ACCOUNT, VONAGE_ACCOUNT};
use server::simulator::cloud::{Cloud, CloudAccount, CloudNumber};

const EXOTEL: (&str, &str, &str) = ("acme1", "KEY-abcdef1234", "TOKEN-secret-9876");

fn owned(number: &str, app: Option<&str>) -> CloudNumber {
    CloudNumber { number: number.into(), voice: true, app: app.map(str::to_string) }
}

/// The provider accounts of these tests, each owning a few numbers (more than a page for Twilio
/// and Exotel, so the check pages or filters).
fn accounts() -> Vec<CloudAccount> {
    let many = |prefix: &str, n: usize| (0..n).map(|i| owned(&format!("{prefix}{i:04}"), None)).collect::<Vec<_>>();
    let mut exotel_numbers = many("+9180474900", 120);
    exotel_numbers.push(owned("+919876543210", None));
    let mut twilio_numbers = many("+1415555", 60);
    twilio_numbers.push(owned("+14155552671", None));
    vec![
        CloudAccount {
            provider: Provider::Exotel,
            id: EXOTEL.0.into(),
            key: EXOTEL.1.into(),
            secret: EXOTEL.2.into(),
            numbers: exotel_numbers,
            application_id: None,
            public_key: None,
            signature_secret: None,
        },
        CloudAccount {
            provider: Provider::Twilio,
            id: TWILIO_SID.into(),
            key: TWILIO_SID.into(),
            secret: TWILIO_TOKEN.into(),
            numbers: twilio_numbers,
            application_id: None,
            public_key: None,
            signature_secret: None,
        },
        CloudAccount {
            provider: Provider::Vonage,
            id: VONAGE_ACCOUNT.api_key.into(),
            key: VONAGE_ACCOUNT.api_key.into(),
            secret: VONAGE_ACCOUNT.api_secret.into(),
            numbers: vec![owned("442079460958", Some(VONAGE_ACCOUNT.application_id)), owned("442079460959", Some("another-app"))],
            application_id: None,
            public_key: None,
            signature_secret: None,
        },
        CloudAccount {
            provider: Provider::Plivo,
            id: PLIVO_ACCOUNT.0.into(),
            key: PLIVO_ACCOUNT.0.into(),
            secret: PLIVO_ACCOUNT.1.into(),
            numbers: vec![owned("14155552671", Some("29981234"))],
            application_id: None,
            public_key: None,
            signature_secret: None,
        },
    ]
}

struct World {
    cloud: Cloud,
    base: String,
    state: server::AppState,
    http: Client,
}

async fn world_with(change: impl FnOnce(&mut server::Settings)) -> World {
    let (cloud, state, base) = common::cloud_server(accounts(), change).await;
    World { cloud, base, state, http: Client::new() }
}

async fn world() -> World {
    world_with(|_| {}).await
}

fn exotel_body(number: &str, token: &str) -> Value {
    json!({ "phoneNumber": number, "provider": "exotel",
        "exotelConfig": { "sid": EXOTEL.0, "apiKey": EXOTEL.1, "apiToken": token, "region": "in" } })
}

fn twilio_body(number: &str) -> Value {
    json!({ "phoneNumber": number, "provider": "twilio", "twilioConfig": { "accountSid": TWILIO_SID, "authToken": TWILIO_TOKEN } })
}

fn vonage_body(number: &str) -> Value {
    let mut input = serde_json::to_value(server::bench::vonage_input(16000)).unwrap();
    input["phoneNumber"] = json!(number);
    input
}

fn plivo_body(number: &str, token: &str) -> Value {
    json!({ "phoneNumber": number, "provider": "plivo", "plivoConfig": { "authId": PLIVO_ACCOUNT.0, "authToken": token } })
}

impl World {
    async fn token(&self, email: &str) -> String {
        common::user_with_token(&self.state, email).await.1
    }

    async fn import(&self, token: &str, body: &Value) -> (StatusCode, Value) {
        let r = self.http.post(format!("{}/api/phone-numbers", self.base)).bearer_auth(token).json(body).send().await.unwrap();
        (r.status(), r.json().await.unwrap())
    }

    async fn verify(&self, token: &str, id: &str) -> (StatusCode, Option<String>, Value) {
        let r = self.http.post(format!("{}/api/phone-numbers/{id}/verify", self.base)).bearer_auth(token).send().await.unwrap();
        let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        (r.status(), retry, r.json().await.unwrap())
    }

    async fn count(&self, token: &str) -> i64 {
        common::get_json(&self.base, token, "/api/phone-numbers").await["total"].as_i64().unwrap()
    }
}

#[tokio::test]
async fn each_provider_confirms_its_number_on_import_and_the_card_shows_when() {
    let w = world().await;
    let t = w.token("own@example.com").await;
    for body in [
        exotel_body("+91 98765 43210", EXOTEL.2),
        twilio_body("+14155552671"),
        vonage_body("+442079460958"),
        plivo_body("+14155552671", PLIVO_ACCOUNT.1),
    ] {
        let (status, n) = w.import(&t, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{body} → {n}");
        assert_eq!(n["verification"]["status"], "verified", "{n}");
        assert!(n["lastVerified"].as_str().is_some_and(|s| s.starts_with("20")), "{n}");
        assert!(n["verification"]["message"].as_str().unwrap().contains("owns this number"), "{n}");
    }
    assert!(w.cloud.requests() >= 5, "Exotel's 121 numbers take two pages, the others one request each");
}

#[tokio::test]
async fn a_number_not_in_the_account_or_refused_credentials_are_errors_next_to_their_field_and_write_nothing() {
    let w = world().await;
    let t = w.token("wrong@example.com").await;
    let cases = [
        (exotel_body("+919876543219", EXOTEL.2), "phoneNumber", "does not have"),
        (exotel_body("+919876543210", "TOKEN-wrong"), "exotelConfig.apiToken", "refused"),
        (twilio_body("+14155552672"), "phoneNumber", "does not have"),
        (plivo_body("+14155552671", "WrongPlivoToken00000000000000000000000bec4"), "plivoConfig.authToken", "refused"),
        (vonage_body("+442079460957"), "phoneNumber", "does not have"),
    ];
    for (body, field, says) in cases {
        let (status, e) = w.import(&t, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
        assert_eq!(e["error"]["field"], field, "{e}");
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        assert!(!message.contains("TOKEN-wrong") && !message.contains("WrongPlivo"), "no secret in errors: {message}");
    }
    assert_eq!(w.count(&t).await, 0, "nothing was written");
}

#[tokio::test]
async fn a_busy_or_unreachable_provider_saves_the_number_unverified_and_verify_says_why() {
    let w = world().await;
    let t = w.token("busy@example.com").await;
    w.cloud.rate_limit(1, 7);
    let (status, n) = w.import(&t, &twilio_body("+14155552671")).await;
    assert_eq!(status, StatusCode::CREATED, "{n}");
    assert_eq!((n["verification"]["status"].as_str(), n["verification"]["retryAfter"].as_u64()), (Some("rate_limited"), Some(7)), "{n}");
    assert!(n["lastVerified"].is_null());
    let id = n["id"].as_str().unwrap();

    w.cloud.rate_limit(1, 9);
    let (status, retry, e) = w.verify(&t, id).await;
    assert_eq!(
        (status, retry.as_deref(), e["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("9"), Some("provider_rate_limited"))
    );
    assert!(e["error"]["message"].as_str().unwrap().contains("9 s"), "{e}");

    let (status, _, n) = w.verify(&t, id).await;
    assert_eq!(status, StatusCode::OK, "{n}");
    assert_eq!(n["verification"]["status"], "verified");
    assert!(n["lastVerified"].is_string());

    // The same number in a world whose provider cannot be reached.
    let (state, base) = common::live_server().await;
    let (_, t2) = common::user_with_token(&state, "offline@example.com").await;
    let far = World { cloud: Cloud::new(vec![]), base, state, http: Client::new() };
    let (status, n) = far.import(&t2, &twilio_body("+14155552671")).await;
    assert_eq!((status, n["verification"]["status"].as_str()), (StatusCode::CREATED, Some("unreachable")), "{n}");
    let (status, _, e) = far.verify(&t2, n["id"].as_str().unwrap()).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_GATEWAY, Some("provider_unreachable")));
    assert!(e["error"]["message"].as_str().unwrap().contains("Could not reach Twilio"), "{e}");
}

#[tokio::test]
async fn a_verified_number_beats_an_importer_without_proof_and_is_held_by_one_account() {
    let w = world().await;
    let squatter = w.token("first@example.com").await;
    let owner = w.token("owner@example.com").await;
    let late = w.token("late@example.com").await;
    // The first importer has no proof: the provider could not answer then.
    w.cloud.rate_limit(1, 1);
    let (status, first) = w.import(&squatter, &plivo_body("+14155552671", PLIVO_ACCOUNT.1)).await;
    assert_eq!((status, first["verification"]["status"].as_str()), (StatusCode::CREATED, Some("rate_limited")));
    // The account's real owner imports it anyway, and is verified.
    let (status, n) = w.import(&owner, &plivo_body("+14155552671", PLIVO_ACCOUNT.1)).await;
    assert_eq!((status, n["verification"]["status"].as_str()), (StatusCode::CREATED, Some("verified")), "{n}");
    // Now the first importer cannot verify it too, and nobody can import it without proof.
    let (status, _, e) = w.verify(&squatter, first["id"].as_str().unwrap()).await;
    assert_eq!((status, e["error"]["field"].as_str()), (StatusCode::CONFLICT, Some("phoneNumber")), "{e}");
    // Its provider check says so too, instead of passing on the credentials it was given.
    let doctor = common::get_json(&w.base, &squatter, &format!("/api/phone-numbers/{}/doctor", first["id"].as_str().unwrap())).await;
    let own = doctor["checks"].as_array().unwrap().iter().find(|c| c["id"] == "ownership").unwrap();
    assert_eq!(own["status"], "fail", "{doctor}");
    assert!(own["message"].as_str().unwrap().contains("Another Voxgate account has verified"), "{own}");
    w.cloud.rate_limit(1, 1);
    let (status, e) = w.import(&late, &plivo_body("+14155552671", PLIVO_ACCOUNT.1)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("Another Voxgate account has verified"), "{e}");
    // The same account importing it twice is refused as before.
    let (status, e) = w.import(&owner, &plivo_body("+14155552671", PLIVO_ACCOUNT.1)).await;
    assert_eq!((status, e["error"]["field"].as_str()), (StatusCode::CONFLICT, Some("phoneNumber")));
}

#[tokio::test]
async fn a_vonage_number_linked_to_another_application_is_owned_but_flagged() {
    let w = world().await;
    let t = w.token("vapp@example.com").await;
    let (status, n) = w.import(&t, &vonage_body("+442079460959")).await;
    assert_eq!((status, n["verification"]["status"].as_str()), (StatusCode::CREATED, Some("verified")), "{n}");
    let message = n["verification"]["message"].as_str().unwrap();
    assert!(message.contains("another-app") && message.contains(VONAGE_ACCOUNT.application_id), "{message}");
}

#[tokio::test]
async fn the_operators_credentials_serve_numbers_imported_without_any_only_with_signup_closed() {
    use server::config::Password;
    use server::config::providers::{OperatorDefaults, TwilioDefaults};
    let defaults = OperatorDefaults {
        twilio: Some(TwilioDefaults { account_sid: TWILIO_SID.into(), auth_token: Password(TWILIO_TOKEN.into()) }),
        ..Default::default()
    };
    let bare = json!({ "phoneNumber": "+14155552671", "provider": "twilio" });
    let closed = {
        let d = defaults.clone();
        world_with(move |s| {
            s.signup = server::users::signup::SignupMode::Closed;
            s.operator_defaults = d;
        })
        .await
    };
    let t = closed.token("operator@example.com").await;
    let (status, n) = closed.import(&t, &bare).await;
    assert_eq!(status, StatusCode::CREATED, "{n}");
    assert_eq!((n["verification"]["status"].as_str(), n["credentialsFromEnv"].as_bool()), (Some("verified"), Some(true)));
    assert_eq!(n["twilioConfig"]["authToken"], server::numbers::OPERATOR_DEFAULT, "never shown, not even its last 4");
    assert!(!n["twilioConfig"].to_string().contains(&TWILIO_TOKEN[TWILIO_TOKEN.len() - 4..]), "{n}");

    let open = world_with(move |s| s.operator_defaults = defaults).await;
    let t = open.token("stranger@example.com").await;
    let (status, e) = open.import(&t, &bare).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["error"]["field"].as_str().unwrap().starts_with("twilioConfig"), "{e}");
}
