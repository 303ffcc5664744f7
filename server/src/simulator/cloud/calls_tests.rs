//! The place-call APIs over real HTTP on loopback: each provider's auth, validation errors,
//! answer, the dial rate's 429, and the dial log (the callee only rings busy here: no stream).

use std::net::SocketAddr;
use std::time::Duration;

use domain::phone_number::Provider;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Callee, Cloud, CloudAccount, CloudNumber, start};

pub(super) const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub(super) const PLIVO_ID: &str = "MAZDQ1ZWE0ZTBLNMY1NT";
/// The application whose key pair signs Vonage JWTs, and one without a key in the cloud.
pub(super) const VONAGE_APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
pub(super) const VONAGE_APP_NO_KEY: &str = "bbbbbbbb-bbbb-4ccc-8ddd-0123456789ab";
pub(super) const VONAGE_SECRET: &str = "vonage-signature-secret-0123456789";
const PRIVATE_PEM: &str = include_str!("../../bench/throwaway-rsa.pem");
const PUBLIC_PEM: &str = include_str!("../../bench/throwaway-rsa.pub.pem");

fn account(provider: Provider, id: &str, secret: &str, numbers: &[&str]) -> CloudAccount {
    let numbers = numbers.iter().map(|n| CloudNumber { number: n.to_string(), voice: true, app: None }).collect();
    CloudAccount::new(provider, id, id, secret, numbers)
}

/// One account per provider (two for Vonage: with and without the application's public key),
/// served on loopback.
pub(super) async fn cloud() -> (Cloud, SocketAddr) {
    let mut vonage = account(Provider::Vonage, "vgkey", "vgsecret", &["447700900001"]);
    vonage.application_id = Some(VONAGE_APP.into());
    vonage.public_key = Some(PUBLIC_PEM.into());
    vonage.signature_secret = Some(VONAGE_SECRET.into());
    let mut keyless = account(Provider::Vonage, "vgkey2", "vgsecret2", &["447700900002"]);
    keyless.application_id = Some(VONAGE_APP_NO_KEY.into());
    let mut exotel = account(Provider::Exotel, "exosid", "exotoken", &["+911140000001"]);
    exotel.key = "exokey".into();
    let cloud = Cloud::new(vec![
        exotel,
        account(Provider::Twilio, TWILIO_SID, "twtoken", &["+14155550100"]),
        vonage,
        keyless,
        account(Provider::Plivo, PLIVO_ID, "pltoken", &["14155550200"]),
    ]);
    let addr = start(cloud.clone()).await.unwrap();
    (cloud, addr)
}

/// A request's credentials.
pub(super) enum Auth<'a> {
    Basic(&'a str, &'a str),
    Bearer(String),
}

/// A request's body.
pub(super) enum Body<'a> {
    Form(&'a [(&'a str, &'a str)]),
    Json(Value),
}

/// POSTs `body` to `path`; the status, `Retry-After` and JSON body.
pub(super) async fn post(addr: SocketAddr, path: &str, auth: Auth<'_>, body: Body<'_>) -> (StatusCode, Option<String>, Value) {
    let request = reqwest::Client::new().post(format!("http://{addr}{path}"));
    let request = match auth {
        Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
        Auth::Bearer(token) => request.bearer_auth(token),
    };
    let request = match body {
        Body::Form(form) => request.form(form),
        Body::Json(json) => request.json(&json),
    };
    let res = request.send().await.unwrap();
    let status = res.status();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (status, retry, res.json().await.unwrap_or(Value::Null))
}

/// A JWT of the application `application_id`, signed with the test key pair's private key.
pub(super) fn app_jwt(application_id: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "application_id": application_id, "iat": now, "exp": now + 900, "jti": crate::secrets::random_string(b"abcdef0123456789", 16) });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(PRIVATE_PEM.as_bytes()).unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key).unwrap()
}

pub(super) const EXOTEL_CONNECT: &str = "/v1/Accounts/exosid/Calls/connect.json";
pub(super) fn twilio_calls() -> String {
    format!("/2010-04-01/Accounts/{TWILIO_SID}/Calls.json")
}
pub(super) fn plivo_calls() -> String {
    format!("/v1/Account/{PLIVO_ID}/Call/")
}

/// A Vonage dial from `from` to `to` with an answer URL.
pub(super) fn vonage_dial(from: &str, to: &str) -> Value {
    json!({
        "to": [{ "type": "phone", "number": to }],
        "from": { "type": "phone", "number": from },
        "answer_url": ["http://127.0.0.1:9/answer"],
    })
}

#[tokio::test]
async fn exotel_connect_checks_its_key_caller_id_and_stream_url() {
    let (cloud, addr) = cloud().await;
    cloud.default_callee(Callee::Busy);
    let auth = || Auth::Basic("exokey", "exotoken");
    let ok = [("From", "09876543210"), ("CallerId", "01140000001"), ("StreamUrl", "wss://vg.example/ws"), ("StreamType", "bidirectional")];
    let (status, _, body) = post(addr, EXOTEL_CONNECT, Auth::Basic("exokey", "wrong"), Body::Form(&ok)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({ "RestException": { "Status": 401, "Message": "Authentication is required to view this page." } }));
    for (form, what) in [
        (&[("From", "09876543210"), ("CallerId", "01140000009"), ("StreamUrl", "wss://vg.example/ws")][..], "CallerId"),
        (&[("From", "123"), ("CallerId", "01140000001"), ("StreamUrl", "wss://vg.example/ws")][..], "From"),
        (&[("From", "09876543210"), ("CallerId", "+911140000001")][..], "StreamUrl"),
        (&[("From", "09876543210"), ("CallerId", "+911140000001"), ("StreamUrl", "https://vg.example/ws")][..], "StreamUrl"),
    ] {
        let (status, _, body) = post(addr, EXOTEL_CONNECT, auth(), Body::Form(form)).await;
        assert_eq!((status, body["RestException"]["Status"].as_u64()), (StatusCode::BAD_REQUEST, Some(400)), "{what}");
        assert!(body["RestException"]["Message"].as_str().unwrap().contains(what), "{what}: {body}");
    }
    let (status, _, body) = post(addr, "/v1/Accounts/exosid/Calls/connect", auth(), Body::Form(&ok)).await;
    assert_eq!(status, StatusCode::OK);
    let call = &body["Call"];
    let sid = call["Sid"].as_str().unwrap();
    assert!(sid.len() == 32 && sid.bytes().all(|b| b.is_ascii_hexdigit()), "{sid}");
    assert_eq!((call["Status"].as_str(), call["Direction"].as_str()), (Some("in-progress"), Some("outbound-api")));
    assert_eq!((call["From"].as_str(), call["To"].as_str()), (Some("09876543210"), Some("01140000001")));
    let dials = cloud.dials();
    assert_eq!(dials.len(), 1, "only accepted requests are logged");
    assert_eq!((dials[0].provider, dials[0].call_id.as_str()), (Provider::Exotel, sid));
    assert_eq!((dials[0].from.as_str(), dials[0].to.as_str()), ("+911140000001", "+919876543210"));
}

#[tokio::test]
async fn twilio_create_call_answers_its_error_codes_and_a_queued_call() {
    let (cloud, addr) = cloud().await;
    cloud.default_callee(Callee::Busy);
    let path = twilio_calls();
    let auth = || Auth::Basic(TWILIO_SID, "twtoken");
    let ok = [("To", "+14155552671"), ("From", "+14155550100"), ("Url", "http://127.0.0.1:9/answer")];
    let (status, _, body) = post(addr, &path, Auth::Basic(TWILIO_SID, "wrong"), Body::Form(&ok)).await;
    assert_eq!((status, body["code"].as_u64(), body["status"].as_u64()), (StatusCode::UNAUTHORIZED, Some(20003), Some(401)));
    let cases: [(&[(&str, &str)], u64); 3] = [
        (&[("To", "+14155552671"), ("From", "+14155550199"), ("Url", "http://h/a")], 21210),
        (&[("To", "4155552671"), ("From", "+14155550100"), ("Url", "http://h/a")], 21211),
        (&[("To", "+14155552671"), ("From", "+14155550100")], 21205),
    ];
    for (form, code) in cases {
        let (status, _, body) = post(addr, &path, auth(), Body::Form(form)).await;
        assert_eq!((status, body["code"].as_u64()), (StatusCode::BAD_REQUEST, Some(code)), "{body}");
        assert_eq!(body["more_info"], json!(format!("https://www.twilio.com/docs/errors/{code}")));
    }
    let (_, _, unverified) = post(addr, &path, auth(), Body::Form(cases[0].0)).await;
    assert!(unverified["message"].as_str().unwrap().starts_with("The source phone number provided, +14155550199, is not yet verified"));
    let (status, _, call) = post(addr, &path, auth(), Body::Form(&ok)).await;
    assert_eq!(status, StatusCode::CREATED);
    let sid = call["sid"].as_str().unwrap();
    assert!(sid.starts_with("CA") && sid.len() == 34, "{sid}");
    assert_eq!((call["status"].as_str(), call["direction"].as_str()), (Some("queued"), Some("outbound-api")));
    assert_eq!(
        (call["to"].as_str(), call["from"].as_str(), call["account_sid"].as_str()),
        (Some("+14155552671"), Some("+14155550100"), Some(TWILIO_SID))
    );
    assert_eq!(call["uri"], json!(format!("/2010-04-01/Accounts/{TWILIO_SID}/Calls/{sid}.json")));
    assert_eq!(cloud.dials().iter().map(|d| d.call_id.as_str()).collect::<Vec<_>>(), [sid]);
}

#[tokio::test]
async fn vonage_create_call_wants_the_applications_jwt_and_owned_from() {
    let (cloud, addr) = cloud().await;
    cloud.default_callee(Callee::Busy);
    let unauthorized = json!({ "title": "Unauthorized", "detail": "You did not provide correct credentials." });
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({ "application_id": VONAGE_APP, "iat": 1, "jti": "x" }),
        &jsonwebtoken::EncodingKey::from_secret(b"not the private key"),
    )
    .unwrap();
    for token in ["not-a-jwt".to_string(), hs256, app_jwt("another-application")] {
        let (status, _, body) = post(addr, "/v1/calls", Auth::Bearer(token), Body::Json(vonage_dial("447700900001", "447700900100"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!((&body["title"], &body["detail"]), (&unauthorized["title"], &unauthorized["detail"]));
        assert!(body["type"].as_str().unwrap().ends_with("#unauthorized"), "{body}");
    }
    let bad = json!({ "to": [{ "type": "phone", "number": "12" }], "from": { "type": "phone", "number": "447700900001" } });
    let (status, _, body) = post(addr, "/v1/calls", Auth::Bearer(app_jwt(VONAGE_APP)), Body::Json(bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let names: Vec<&str> = body["invalid_parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["to", "answer_url"]);
    let (status, _, body) =
        post(addr, "/v1/calls", Auth::Bearer(app_jwt(VONAGE_APP)), Body::Json(vonage_dial("447700900002", "447700900100"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another account's number: {body}");
    assert!(body["type"].as_str().unwrap().starts_with("https://developer.nexmo.com/api-errors/voice#"), "{body}");
    let (status, _, call) =
        post(addr, "/v1/calls", Auth::Bearer(app_jwt(VONAGE_APP)), Body::Json(vonage_dial("447700900001", "447700900100"))).await;
    assert_eq!(status, StatusCode::CREATED, "{call}");
    assert_eq!((call["status"].as_str(), call["direction"].as_str()), (Some("started"), Some("outbound")));
    assert!(call["conversation_uuid"].as_str().unwrap().starts_with("CON-") && call["uuid"].as_str().unwrap().len() == 36);
    // Without the application's public key, any well-formed JWT naming the application does.
    let unsigned = format!("{}.", app_jwt(VONAGE_APP_NO_KEY).rsplit_once('.').unwrap().0);
    let (status, _, _) = post(addr, "/v1/calls", Auth::Bearer(unsigned), Body::Json(vonage_dial("447700900002", "447700900100"))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(cloud.dials().iter().map(|d| d.to.as_str()).collect::<Vec<_>>(), ["+447700900100", "+447700900100"]);
}

#[tokio::test]
async fn plivo_call_fires_with_a_request_uuid_that_is_not_the_call_uuid() {
    let (cloud, addr) = cloud().await;
    cloud.default_callee(Callee::Busy);
    let path = plivo_calls();
    let dial =
        |from: &str| json!({ "from": from, "to": "14155552671", "answer_url": "http://127.0.0.1:9/answer", "answer_method": "POST" });
    let (status, _, body) = post(addr, &path, Auth::Basic(PLIVO_ID, "wrong"), Body::Json(dial("14155550200"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["api_id"].is_string() && body["error"].is_string(), "{body}");
    let (status, _, body) = post(addr, &path, Auth::Basic(PLIVO_ID, "pltoken"), Body::Json(dial("14155550299"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["api_id"].is_string() && body["error"].as_str().unwrap().contains("14155550299"), "{body}");
    let no_answer_url = json!({ "from": "14155550200", "to": "14155552671" });
    let (status, _, body) = post(addr, &path, Auth::Basic(PLIVO_ID, "pltoken"), Body::Json(no_answer_url)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("answer_url is required")));
    let (status, _, fired) = post(addr, &path, Auth::Basic(PLIVO_ID, "pltoken"), Body::Json(dial("14155550200"))).await;
    assert_eq!((status, fired["message"].as_str()), (StatusCode::CREATED, Some("call fired")));
    let dials = cloud.dials();
    assert_eq!(fired["request_uuid"].as_str(), Some(dials[0].request_id.as_str()));
    assert_ne!(dials[0].call_id, dials[0].request_id);
    assert_eq!((dials[0].from.as_str(), dials[0].to.as_str()), ("+14155550200", "+14155552671"));
}

#[tokio::test]
async fn dial_rate_refuses_with_each_providers_429_and_retry_after_1() {
    let (cloud, addr) = cloud().await;
    cloud.default_callee(Callee::Busy);
    cloud.ring(Duration::from_millis(10));
    let exotel = [("From", "09876543210"), ("CallerId", "01140000001"), ("StreamUrl", "wss://vg.example/ws")];
    let twilio = [("To", "+14155552671"), ("From", "+14155550100"), ("Url", "http://127.0.0.1:9/answer")];
    let plivo = json!({ "from": "14155550200", "to": "14155552671", "answer_url": "http://127.0.0.1:9/answer" });
    for provider in 0..4 {
        cloud.dial_rate(Some(2));
        let send = || async {
            match provider {
                0 => post(addr, EXOTEL_CONNECT, Auth::Basic("exokey", "exotoken"), Body::Form(&exotel)).await,
                1 => post(addr, &twilio_calls(), Auth::Basic(TWILIO_SID, "twtoken"), Body::Form(&twilio)).await,
                2 => {
                    post(addr, "/v1/calls", Auth::Bearer(app_jwt(VONAGE_APP)), Body::Json(vonage_dial("447700900001", "447700900100")))
                        .await
                }
                _ => post(addr, &plivo_calls(), Auth::Basic(PLIVO_ID, "pltoken"), Body::Json(plivo.clone())).await,
            }
        };
        for _ in 0..2 {
            let (status, retry, _) = send().await;
            assert!(status.is_success() && retry.is_none(), "provider {provider}: {status}");
        }
        let (status, retry, body) = send().await;
        assert_eq!((status, retry.as_deref()), (StatusCode::TOO_MANY_REQUESTS, Some("1")), "provider {provider}");
        let documented = match provider {
            0 => body["RestException"]["Status"] == json!(429),
            1 => body["code"] == json!(20429),
            2 => body["type"].as_str().is_some_and(|t| t.contains("api-errors")) && body["title"].is_string(),
            _ => body["api_id"].is_string() && body["error"].is_string(),
        };
        assert!(documented, "provider {provider}: {body}");
    }
    assert_eq!((cloud.dials().len(), cloud.refused_dials()), (8, 4), "refused dials are counted, not logged");
    cloud.dial_rate(None);
    let (status, _, _) = post(addr, &plivo_calls(), Auth::Basic(PLIVO_ID, "pltoken"), Body::Json(plivo)).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn double_dials_are_counted_while_the_first_call_is_live() {
    let (cloud, addr) = cloud().await;
    cloud.default_callee(Callee::Busy);
    cloud.callee("+14155552672", Callee::NoAnswer);
    cloud.ring(Duration::from_millis(400));
    let dial = |to: &'static str| async move {
        let form = [("To", to), ("From", "+14155550100"), ("Url", "http://127.0.0.1:9/answer")];
        post(addr, &twilio_calls(), Auth::Basic(TWILIO_SID, "twtoken"), Body::Form(&form)).await.0
    };
    for to in ["+14155552671", "+14155552671", "+14155552672"] {
        assert_eq!(dial(to).await, StatusCode::CREATED);
    }
    assert_eq!((cloud.live(), cloud.peak_live(), cloud.overlapping(), cloud.finished()), (3, 3, 1, 0));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while cloud.finished() < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!((cloud.live(), cloud.peak_live(), cloud.finished()), (0, 3, 3));
    assert_eq!(dial("+14155552671").await, StatusCode::CREATED);
    assert_eq!(cloud.overlapping(), 1, "the earlier calls have ended");
    assert_eq!(cloud.callback_failures(), 0, "no callback URLs, no callbacks");
}
