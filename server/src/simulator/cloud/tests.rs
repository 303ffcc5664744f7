//! The cloud over real HTTP on loopback, one provider at a time.

use std::net::SocketAddr;

use domain::phone_number::Provider;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Cloud, CloudAccount, CloudNumber, start};

const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
const PLIVO_ID: &str = "MAZDQ1ZWE0ZTBLNMY1NT";

fn numbers(list: &[(&str, bool, Option<&str>)]) -> Vec<CloudNumber> {
    list.iter()
        .map(|(number, voice, app)| CloudNumber { number: number.to_string(), voice: *voice, app: app.map(str::to_string) })
        .collect()
}

fn account(provider: Provider, id: &str, key: &str, secret: &str, list: &[(&str, bool, Option<&str>)]) -> CloudAccount {
    CloudAccount::new(provider, id, key, secret, numbers(list))
}

/// One account per provider with three numbers each, served on loopback.
async fn cloud() -> (Cloud, SocketAddr) {
    let cloud = Cloud::new(vec![
        account(
            Provider::Exotel,
            "exosid",
            "exokey",
            "exotoken",
            &[("+911140000001", true, None), ("+911140000002", true, None), ("+918040000003", false, None)],
        ),
        account(
            Provider::Twilio,
            TWILIO_SID,
            TWILIO_SID,
            "twtoken",
            &[("+14155550100", true, None), ("+14155550101", true, Some("https://vg.example/hook")), ("+14155550102", true, None)],
        ),
        account(
            Provider::Vonage,
            "vgkey",
            "vgkey",
            "vgsecret",
            &[("447700900001", true, None), ("447700900002", true, None), ("14155550123", true, Some("app-1"))],
        ),
        account(
            Provider::Plivo,
            PLIVO_ID,
            PLIVO_ID,
            "pltoken",
            &[("14155550200", true, Some("app-9")), ("14155550201", true, None), ("14155550202", false, None)],
        ),
    ]);
    let addr = start(cloud.clone()).await.unwrap();
    (cloud, addr)
}

/// GET `path` as `user:password`; the status, `Retry-After` and JSON body.
async fn get(addr: SocketAddr, path: &str, user: &str, password: &str) -> (StatusCode, Option<String>, Value) {
    let res = reqwest::Client::new().get(format!("http://{addr}{path}")).basic_auth(user, Some(password)).send().await.unwrap();
    let status = res.status();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (status, retry, res.json().await.unwrap())
}

fn listed(body: &Value, list: &str, field: &str) -> Vec<String> {
    body[list].as_array().unwrap().iter().map(|n| n[field].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn exotel_pages_its_exophones_and_refuses_a_wrong_token() {
    let (_, addr) = cloud().await;
    let base = "/v2_beta/Accounts/exosid/IncomingPhoneNumbers";
    let (status, _, first) = get(addr, &format!("{base}?page=0&page_size=2"), "exokey", "exotoken").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((first["page"].as_u64(), first["page_size"].as_u64()), (Some(0), Some(2)));
    assert_eq!(listed(&first, "incoming_phone_numbers", "phone_number"), ["+911140000001", "+911140000002"]);
    assert_eq!(listed(&first, "incoming_phone_numbers", "friendly_name"), ["01140000001", "01140000002"]);
    assert_eq!(first["incoming_phone_numbers"][0]["capabilities"], json!({ "voice": true, "sms": true }));
    assert_eq!(
        (first["incoming_phone_numbers"][0]["country"].as_str(), first["incoming_phone_numbers"][0]["region"].as_str()),
        (Some("IN"), Some("DL"))
    );
    let (_, _, second) = get(addr, &format!("{base}.json?Page=1&PageSize=2"), "exokey", "exotoken").await;
    assert_eq!(listed(&second, "incoming_phone_numbers", "phone_number"), ["+918040000003"]);
    assert_eq!(second["incoming_phone_numbers"][0]["capabilities"]["voice"], json!(false));
    let (_, _, capped) = get(addr, &format!("{base}?page_size=100000"), "exokey", "exotoken").await;
    assert_eq!(capped["page_size"].as_u64(), Some(100));

    let refused = json!({ "RestException": { "Status": 401, "Message": "Authentication is required to view this page." } });
    let (status, _, body) = get(addr, base, "exokey", "wrong").await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, refused.clone()));
    // Right key and token, but another account's SID.
    let (status, _, body) = get(addr, "/v2_beta/Accounts/othersid/IncomingPhoneNumbers", "exokey", "exotoken").await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, refused));
    let (status, _, body) = get(addr, &format!("{base}?page=-1"), "exokey", "exotoken").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["RestException"]["Status"], json!(400));
}

#[tokio::test]
async fn twilio_follows_next_page_uri_and_filters_by_phone_number() {
    let (_, addr) = cloud().await;
    let base = format!("/2010-04-01/Accounts/{TWILIO_SID}/IncomingPhoneNumbers.json");
    let (status, _, first) = get(addr, &format!("{base}?PageSize=2"), TWILIO_SID, "twtoken").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed(&first, "incoming_phone_numbers", "phone_number"), ["+14155550100", "+14155550101"]);
    assert_eq!(first["incoming_phone_numbers"][0]["friendly_name"], json!("(415) 555-0100"));
    assert!(first["incoming_phone_numbers"][0]["sid"].as_str().unwrap().starts_with("PN"));
    assert_eq!(first["previous_page_uri"], Value::Null);
    let next = first["next_page_uri"].as_str().unwrap();
    assert!(next.starts_with(&base) && next.contains("Page=1") && next.contains("PageToken=PA"), "{next}");
    let (_, _, second) = get(addr, next, TWILIO_SID, "twtoken").await;
    assert_eq!(listed(&second, "incoming_phone_numbers", "phone_number"), ["+14155550102"]);
    assert_eq!((second["page"].as_u64(), second["next_page_uri"].clone()), (Some(1), Value::Null));
    let previous = second["previous_page_uri"].as_str().unwrap();
    let (_, _, back) = get(addr, previous, TWILIO_SID, "twtoken").await;
    assert_eq!(listed(&back, "incoming_phone_numbers", "phone_number"), ["+14155550100", "+14155550101"]);

    let (_, _, one) = get(addr, &format!("{base}?PhoneNumber=%2B14155550101"), TWILIO_SID, "twtoken").await;
    assert_eq!(listed(&one, "incoming_phone_numbers", "phone_number"), ["+14155550101"]);
    assert_eq!(one["incoming_phone_numbers"][0]["voice_url"], json!("https://vg.example/hook"));
    let (_, _, none) = get(addr, &format!("{base}?PhoneNumber=%2B14155550199"), TWILIO_SID, "twtoken").await;
    assert_eq!(none["incoming_phone_numbers"], json!([]));

    let (status, _, body) = get(addr, &base, TWILIO_SID, "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({ "code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401 })
    );
    let (status, _, body) = get(addr, &format!("{base}?PageToken=PAjunk"), TWILIO_SID, "twtoken").await;
    assert_eq!((status, body["status"].as_u64()), (StatusCode::BAD_REQUEST, Some(400)));
    let (_, _, capped) = get(addr, &format!("{base}?PageSize=99999999999"), TWILIO_SID, "twtoken").await;
    assert_eq!(capped["page_size"].as_u64(), Some(1000));
}

#[tokio::test]
async fn vonage_counts_pages_searches_and_omits_numbers_when_none_match() {
    let (_, addr) = cloud().await;
    let (status, _, first) = get(addr, "/account/numbers?size=2&index=1", "vgkey", "vgsecret").await;
    assert_eq!((status, first["count"].as_u64()), (StatusCode::OK, Some(3)));
    assert_eq!(listed(&first, "numbers", "msisdn"), ["447700900001", "447700900002"]);
    assert_eq!(first["numbers"][0]["features"], json!(["VOICE", "SMS"]));
    let (_, _, second) = get(addr, "/account/numbers?size=2&index=2", "vgkey", "vgsecret").await;
    assert_eq!(listed(&second, "numbers", "msisdn"), ["14155550123"]);
    assert_eq!(second["numbers"][0]["app_id"], json!("app-1"));

    let (_, _, starts) = get(addr, "/account/numbers?pattern=4477&search_pattern=0", "vgkey", "vgsecret").await;
    assert_eq!((starts["count"].as_u64(), listed(&starts, "numbers", "msisdn").len()), (Some(2), 2));
    let (_, _, ends) = get(addr, "/account/numbers?pattern=0123&search_pattern=2", "vgkey", "vgsecret").await;
    assert_eq!(listed(&ends, "numbers", "msisdn"), ["14155550123"]);
    let (_, _, starts_only) = get(addr, "/account/numbers?pattern=0123&search_pattern=0", "vgkey", "vgsecret").await;
    assert_eq!(starts_only["count"].as_u64(), Some(0));

    let (status, _, none) = get(addr, "/account/numbers?pattern=999", "vgkey", "vgsecret").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none, json!({ "count": 0 }), "no `numbers` key when nothing matches");

    // Credentials in the query instead of a header.
    let res = reqwest::get(format!("http://{addr}/account/numbers?api_key=vgkey&api_secret=vgsecret")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["count"].as_u64(), Some(3));

    let (status, _, body) = get(addr, "/account/numbers", "vgkey", "wrong").await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, json!({ "error-code": "401", "error-code-label": "authentication failed" })));
    let (status, _, _) = get(addr, "/account/numbers?search_pattern=7", "vgkey", "vgsecret").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn plivo_pages_by_offset_and_404s_a_number_it_does_not_own() {
    let (_, addr) = cloud().await;
    let base = format!("/v1/Account/{PLIVO_ID}/Number/");
    let (status, _, first) = get(addr, &format!("{base}?limit=2"), PLIVO_ID, "pltoken").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed(&first, "objects", "number"), ["14155550200", "14155550201"]);
    assert_eq!((first["meta"]["total_count"].as_u64(), first["meta"]["previous"].clone()), (Some(3), Value::Null));
    assert_eq!(first["objects"][0]["application"], json!(format!("/v1/Account/{PLIVO_ID}/Application/app-9/")));
    assert_eq!(first["objects"][1]["application"], Value::Null);
    let next = first["meta"]["next"].as_str().unwrap();
    let (_, _, second) = get(addr, next, PLIVO_ID, "pltoken").await;
    assert_eq!(listed(&second, "objects", "number"), ["14155550202"]);
    assert_eq!((second["meta"]["offset"].as_u64(), second["meta"]["next"].clone()), (Some(2), Value::Null));
    let (_, _, voice) = get(addr, &format!("{base}?services=voice&number_startswith=1415555020"), PLIVO_ID, "pltoken").await;
    assert_eq!(voice["meta"]["total_count"].as_u64(), Some(2));

    let (status, _, body) = get(addr, &format!("{base}?limit=21"), PLIVO_ID, "pltoken").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("20") && body["api_id"].is_string(), "{body}");

    let (status, _, owned) = get(addr, &format!("{base}14155550200/"), PLIVO_ID, "pltoken").await;
    assert_eq!((status, owned["number"].as_str(), owned["voice_enabled"].as_bool()), (StatusCode::OK, Some("14155550200"), Some(true)));
    let (status, _, missing) = get(addr, &format!("{base}14155550999/"), PLIVO_ID, "pltoken").await;
    assert_eq!((status, missing["error"].as_str()), (StatusCode::NOT_FOUND, Some("not found")));
    assert!(missing["api_id"].is_string());

    let (status, _, body) = get(addr, &base, PLIVO_ID, "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string() && body["api_id"].is_string(), "{body}");
    // The path's auth id is not the Basic user.
    let (status, _, _) = get(addr, "/v1/Account/MAOTHERACCOUNT000000/Number/", PLIVO_ID, "pltoken").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rate_limit_answers_each_providers_429_with_retry_after_then_serves() {
    let (cloud, addr) = cloud().await;
    let twilio = format!("/2010-04-01/Accounts/{TWILIO_SID}/IncomingPhoneNumbers.json");
    let plivo = format!("/v1/Account/{PLIVO_ID}/Number/");
    // Path, user, password, and whether a body is the provider's documented 429.
    type Case<'a> = (&'a str, &'a str, &'a str, fn(&Value) -> bool);
    let cases: [Case<'_>; 4] = [
        ("/v2_beta/Accounts/exosid/IncomingPhoneNumbers", "exokey", "exotoken", |b| b["RestException"]["Status"] == json!(429)),
        (&twilio, TWILIO_SID, "twtoken", |b| b["code"] == json!(20429) && b["status"] == json!(429)),
        ("/account/numbers", "vgkey", "vgsecret", |b| b["error-code"] == json!("429")),
        (&plivo, PLIVO_ID, "pltoken", |b| b["error"].is_string() && b["api_id"].is_string()),
    ];
    for (path, user, password, documented) in cases {
        cloud.rate_limit(1, 7);
        let (status, retry, body) = get(addr, path, user, password).await;
        assert_eq!((status, retry.as_deref()), (StatusCode::TOO_MANY_REQUESTS, Some("7")), "{path}");
        assert!(documented(&body), "{path}: {body}");
        let (status, retry, _) = get(addr, path, user, password).await;
        assert_eq!((status, retry), (StatusCode::OK, None), "{path}");
    }
    assert_eq!(cloud.requests(), 8);
    // Unknown paths are counted too, and are no provider's.
    let res = reqwest::get(format!("http://{addr}/v1/Account/{PLIVO_ID}/Number")).await.unwrap();
    assert_eq!((res.status(), cloud.requests()), (StatusCode::NOT_FOUND, 9));
}

#[test]
fn accounts_load_from_json_with_voice_on_by_default() {
    let cloud = Cloud::from_json(
        r#"[{"provider":"vonage","id":"k","key":"k","secret":"s","numbers":[{"number":"447700900001"},{"number":"447700900002","voice":false,"app":"a"}]}]"#,
    )
    .unwrap();
    let account = cloud.account(Provider::Vonage, None, "k", "s").unwrap();
    assert_eq!(account.numbers.iter().map(|n| (n.voice, n.app.as_deref())).collect::<Vec<_>>(), [(true, None), (false, Some("a"))]);
    assert!(cloud.account(Provider::Vonage, None, "k", "wrong").is_none());
    assert!(cloud.account(Provider::Plivo, None, "k", "s").is_none());
    assert!(Cloud::from_json(r#"[{"provider":"nobody","id":"","key":"","secret":"","numbers":[]}]"#).is_err());
}
