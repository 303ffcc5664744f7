//! `voxgate cloud`, `voxgate import` and `voxgate doctor` as an operator runs them: a local
//! provider cloud process, a real server process, a CSV file on disk.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use super::{operator, start, voxgate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "f00dfacef00dfacef00dfacef00dface";

#[test]
fn import_a_csv_then_doctor_its_numbers_against_a_local_provider_cloud() {
    let data = std::env::temp_dir().join(format!("voxgate-import-cli-{}", std::process::id()));
    let db = format!("surrealkv://{}", data.join("db").display());
    std::fs::create_dir_all(&data).unwrap();
    let accounts = data.join("cloud.json");
    let cloud_accounts = serde_json::json!([{ "provider": "twilio", "id": SID, "key": SID, "secret": TOKEN,
        "numbers": [{ "number": "+14155550123" }, { "number": "+14155550124" }] }]);
    std::fs::write(&accounts, cloud_accounts.to_string()).unwrap();
    let mut cloud = voxgate().args(["cloud", "--accounts"]).arg(&accounts).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(cloud.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let cloud_url = line.trim().strip_prefix("provider cloud listening on ").expect(&line).to_string();

    let op = |args: &[&str], stdin: &str| String::from_utf8(operator(&data, &db, args, stdin).stdout).unwrap();
    op(&["user", "add", "bulk@example.com"], "correct horse battery\n");
    let token = op(&["token", "create", "bulk@example.com"], "").trim().to_string();
    let mut cmd = voxgate();
    cmd.env("VOXGATE_LISTEN_ADDR", "127.0.0.1:0")
        .env("VOXGATE_DATA_DIR", &data)
        .env("VOXGATE_DATABASE_URL", &db)
        .env("VOXGATE_TWILIO_API_URL", &cloud_url)
        .env("VOXGATE_LOG", "error");
    let (mut server, base) = start(cmd);

    let csv = data.join("numbers.csv");
    let rows = [
        "phoneNumber,displayName,provider,twilioConfig.accountSid,twilioConfig.authToken".to_string(),
        format!("+14155550123,Desk,twilio,{SID},{TOKEN}"),
        format!("+14155550124,Sales,twilio,{SID},{TOKEN}"),
        "not a number,Broken,other,,".to_string(),
    ];
    std::fs::write(&csv, rows.join("\n")).unwrap();
    let import =
        |extra: &[&str]| voxgate().args(["import", "--url", &base]).arg(&csv).args(extra).env("VOXGATE_TOKEN", &token).output().unwrap();
    let out = import(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a failed row fails the command");
    assert!(stdout.contains("3 rows: imported 2, updated 0, unchanged 0, failed 1"), "{stdout}");
    assert!(stdout.contains("line 4: phoneNumber:"), "{stdout}");
    let again = import(&[]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("imported 0, updated 0, unchanged 2"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );

    let doctor = voxgate().args(["doctor", "--url", &base]).env("VOXGATE_TOKEN", &token).output().unwrap();
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(!doctor.status.success(), "a loopback public URL is not ready: {report}");
    assert!(report.contains("+14155550123 (twilio): NOT READY"), "{report}");
    assert!(report.contains("[FAIL] Public URL"), "{report}");
    assert!(report.contains("[ok  ] Number in the account: Twilio account"), "{report}");
    assert!(report.contains("docs/TELEPHONY_SETUP.md#public-url"), "{report}");
    assert!(!report.contains(TOKEN), "no secret in the report");

    server.kill().unwrap();
    server.wait().unwrap();
    cloud.kill().unwrap();
    cloud.wait().unwrap();
    let _ = std::fs::remove_dir_all(data);
}
