//! Bulk import over real HTTP: `POST /api/phone-numbers/import` with a CSV body (or JSON with
//! credentials given once), per-row errors with line and field, valid rows imported when others
//! fail, the same file twice changing nothing, malformed files refused whole, a background import
//! with progress, and each provider account asked once per file (a local provider cloud).

use crate::common::{self, TWILIO_SID, TWILIO_TOKEN};

use domain::phone_number::Provider;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::simulator::cloud::{Cloud, CloudAccount, CloudNumber};

const EXOTEL: (&str, &str, &str) = ("acme1", "KEY-abcdef1234", "TOKEN-secret-9876");

struct World {
    cloud: Cloud,
    base: String,
    http: Client,
    token: String,
}

async fn world(exotel_numbers: usize) -> World {
    let numbers = (0..exotel_numbers).map(|i| CloudNumber { number: format!("+9180{i:08}"), voice: true, app: None }).collect();
    let cloud = vec![
        CloudAccount {
            provider: Provider::Exotel,
            id: EXOTEL.0.into(),
            key: EXOTEL.1.into(),
            secret: EXOTEL.2.into(),
            numbers,
            application_id: None,
            public_key: None,
            signature_secret: None,
        },
        CloudAccount {
            provider: Provider::Twilio,
            id: TWILIO_SID.into(),
            key: TWILIO_SID.into(),
            secret: TWILIO_TOKEN.into(),
            numbers: vec![CloudNumber { number: "+14155552671".into(), voice: true, app: None }],
            application_id: None,
            public_key: None,
            signature_secret: None,
        },
    ];
    let (cloud, state, base) = common::cloud_server(cloud, |_| {}).await;
    let (_, token) = common::user_with_token(&state, "bulk@example.com").await;
    World { cloud, base, http: Client::new(), token }
}

impl World {
    async fn send_csv(&self, csv: impl Into<reqwest::Body>, query: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/api/phone-numbers/import{query}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn total(&self) -> i64 {
        common::get_json(&self.base, &self.token, "/api/phone-numbers").await["total"].as_i64().unwrap()
    }
}

fn exotel_row(i: usize) -> String {
    format!("+9180{i:08},Line {i},exotel,{},{},{},in", EXOTEL.0, EXOTEL.1, EXOTEL.2)
}

const EXOTEL_HEADER: &str =
    "phoneNumber,displayName,provider,exotelConfig.sid,exotelConfig.apiKey,exotelConfig.apiToken,exotelConfig.region";

#[tokio::test]
async fn valid_rows_are_imported_bad_rows_named_and_the_same_file_twice_changes_nothing() {
    let w = world(3).await;
    let csv = format!(
        "phoneNumber,displayName,provider,twilioConfig.accountSid,twilioConfig.authToken\n\
         +14155552671,Front desk,twilio,{TWILIO_SID},{TWILIO_TOKEN}\n\
         +14155552672,Not ours,twilio,{TWILIO_SID},{TWILIO_TOKEN}\n\
         12345,Bad number,other,,\n\
         +918047491899,Spare,other,,\n\
         +918047491899,Again,other,,\n"
    );
    let (status, r) = w.send_csv(csv.clone(), "").await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!((r["rows"].as_u64(), r["imported"].as_u64(), r["unchanged"].as_u64()), (Some(5), Some(2), Some(0)), "{r}");
    let failed: Vec<(u64, String)> = r["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["errors"][0]["field"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(failed, [(3, "phoneNumber".to_string()), (4, "phoneNumber".to_string()), (6, "phoneNumber".to_string())], "{r}");
    assert!(r["failed"][0]["errors"][0]["message"].as_str().unwrap().contains("does not have"), "{r}");
    assert!(r["failed"][2]["errors"][0]["message"].as_str().unwrap().contains("line 5"), "{r}");
    assert_eq!(w.total().await, 2);

    let (status, again) = w.send_csv(csv, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (again["imported"].as_u64(), again["unchanged"].as_u64(), again["updated"].as_u64()),
        (Some(0), Some(2), Some(0)),
        "{again}"
    );
    assert_eq!(w.total().await, 2, "re-importing changed nothing");

    let changed = "phoneNumber,displayName,provider\n+918047491899,Renamed,other\n";
    let (_, r) = w.send_csv(changed, "").await;
    assert_eq!((r["updated"].as_u64(), r["imported"].as_u64()), (Some(1), Some(0)), "{r}");
}

#[tokio::test]
async fn credentials_given_once_serve_every_row_and_each_account_is_asked_once() {
    let w = world(250).await;
    let rows: Vec<String> = (0..200).map(|i| format!("+9180{i:08},Line {i}")).collect();
    let body = json!({
        "csv": format!("phoneNumber,displayName\n{}\n", rows.join("\n")),
        "defaults": { "provider": "exotel", "exotelConfig": { "sid": EXOTEL.0, "apiKey": EXOTEL.1, "apiToken": EXOTEL.2, "region": "in" } },
    });
    let before = w.cloud.requests();
    let r: Value = w
        .http
        .post(format!("{}/api/phone-numbers/import", w.base))
        .bearer_auth(&w.token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((r["imported"].as_u64(), r["failed"].as_array().map(Vec::len)), (Some(200), Some(0)), "{r}");
    let asked = w.cloud.requests() - before;
    assert!((2..=4).contains(&asked), "250 numbers listed in a few pages once for 200 rows, not per row: {asked} requests");
    let list: Value =
        w.http.get(format!("{}/api/phone-numbers?pageSize=1", w.base)).bearer_auth(&w.token).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["phoneNumbers"][0]["verification"]["status"], "verified", "{list}");
}

#[tokio::test]
async fn a_malformed_file_is_refused_whole_with_a_clear_error() {
    let w = world(3).await;
    let unclosed = format!("{EXOTEL_HEADER}\n{}\n\"+918000000001,Line,exotel\n", exotel_row(0));
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (unclosed.into_bytes(), StatusCode::BAD_REQUEST, "line"),
        (b"phoneNumber,colour\n+918000000000,red\n".to_vec(), StatusCode::BAD_REQUEST, "colour"),
        ([&[0xFF, 0xFE][..], "p\0h\0".as_bytes()].concat(), StatusCode::BAD_REQUEST, "UTF-8"),
        (vec![b'x'; 50 * 1024 * 1024], StatusCode::PAYLOAD_TOO_LARGE, "larger"),
    ];
    for (body, want, says) in cases {
        let (status, e) = w.send_csv(body, "").await;
        assert_eq!(status, want, "{e}");
        assert_eq!(e["error"]["field"], "file", "{e}");
        assert!(e["error"]["message"].as_str().unwrap().to_lowercase().contains(&says.to_lowercase()), "{e}");
    }
    assert_eq!(w.total().await, 0, "nothing was imported half-way");
    let r = w.http.post(format!("{}/api/phone-numbers/import", w.base)).bearer_auth(&w.token).body("a,b").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn a_preview_writes_nothing_and_a_background_import_reports_progress() {
    let w = world(600).await;
    let csv = format!("{EXOTEL_HEADER}\n{}\n", (0..600).map(exotel_row).collect::<Vec<_>>().join("\n"));
    let (status, preview) = w.send_csv(csv.clone(), "?dryRun=true").await;
    assert_eq!((status, preview["dryRun"].as_bool(), preview["imported"].as_u64()), (StatusCode::OK, Some(true), Some(600)), "{preview}");
    assert_eq!(w.total().await, 0, "a preview writes nothing");

    let (status, started) = w.send_csv(csv, "?background=true").await;
    assert_eq!((status, started["total"].as_u64()), (StatusCode::ACCEPTED, Some(600)), "{started}");
    let job = started["jobId"].as_str().unwrap().to_string();
    let mut seen_partial = false;
    let report = loop {
        let p = common::get_json(&w.base, &w.token, &format!("/api/phone-numbers/import/{job}")).await;
        let done = p["done"].as_u64().unwrap();
        seen_partial |= done > 0 && done < 600;
        if p["finished"] == true {
            break p["report"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(report["imported"].as_u64(), Some(600), "{report}");
    assert!(seen_partial, "the progress moved while the import ran");
    assert_eq!(w.total().await, 600);
}

#[tokio::test]
async fn a_file_of_ten_thousand_rows_is_read_whole_and_previewed() {
    let w = world(0).await;
    let csv = format!(
        "phoneNumber,displayName,provider\n{}\n",
        (0..10_000).map(|i| format!("+9180{i:08},Line {i},other")).collect::<Vec<_>>().join("\n")
    );
    let (status, r) = w.send_csv(csv, "?dryRun=true").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((r["rows"].as_u64(), r["imported"].as_u64(), r["failed"].as_array().map(Vec::len)), (Some(10_000), Some(10_000), Some(0)));
    assert_eq!(r["preview"].as_array().map(Vec::len), Some(server::numbers::import::MAX_PREVIEW), "the preview is bounded");
    assert_eq!((r["preview"][0]["line"].as_u64(), r["preview"][0]["action"].as_str()), (Some(2), Some("import")));
    assert_eq!(w.total().await, 0);
}
