use super::*;
use domain::phone_number::{ExotelConfigInput, PlivoConfigInput, TwilioConfigInput, VonageConfigInput};
use serde_json::json;

fn read(csv: &str) -> Result<Vec<Row>, FileError> {
    parse(csv.as_bytes(), &Value::Null)
}

fn file_error(csv: &str) -> FileError {
    read(csv).unwrap_err()
}

/// Each row's input; fails on any row error.
fn inputs(csv: &str, defaults: &Value) -> Vec<PhoneNumberInput> {
    parse(csv.as_bytes(), defaults).unwrap().into_iter().map(|r| r.result.unwrap()).collect()
}

fn lines(rows: &[Row]) -> Vec<u64> {
    rows.iter().map(|r| r.line).collect()
}

fn errors(row: &Row) -> Vec<(&str, &str)> {
    row.result.as_ref().unwrap_err().iter().map(|e| (e.field.as_str(), e.message.as_str())).collect()
}

/// `n` rows with distinct numbers under a minimal header.
fn many(n: usize) -> String {
    let mut csv = String::from("phoneNumber,provider\n");
    for i in 0..n {
        csv.push_str(&format!("+9198{i:08},exotel\n"));
    }
    csv
}

#[test]
fn a_file_with_three_providers_reads_each_row() {
    let csv = "\
phoneNumber,displayName,provider,exotelConfig.apiKey,exotelConfig.sid,exotelConfig.region,twilioConfig.accountSid,twilioConfig.authToken,vonageConfig.apiKey,vonageConfig.sampleRate,status
 +919876543210 , Support ,exotel,key1,acme1,in,,,,,
+14155552671,\"Sales, West\",twilio,,,,AC0123,tok,,,inactive
+442079460958,,vonage,,,,,,a1b2c3d4,8000,
";
    let rows = read(csv).unwrap();
    assert_eq!(lines(&rows), [2, 3, 4]);
    let got: Vec<PhoneNumberInput> = rows.into_iter().map(|r| r.result.unwrap()).collect();
    let exotel = PhoneNumberInput {
        phone_number: "+919876543210".into(),
        display_name: "Support".into(),
        provider: "exotel".into(),
        exotel_config: Some(ExotelConfigInput {
            api_key: Some("key1".into()),
            sid: "acme1".into(),
            region: "in".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let twilio = PhoneNumberInput {
        phone_number: "+14155552671".into(),
        display_name: "Sales, West".into(),
        provider: "twilio".into(),
        twilio_config: Some(TwilioConfigInput { account_sid: "AC0123".into(), auth_token: Some("tok".into()) }),
        status: Some("inactive".into()),
        ..Default::default()
    };
    let vonage = PhoneNumberInput {
        phone_number: "+442079460958".into(),
        provider: "vonage".into(),
        vonage_config: Some(VonageConfigInput { api_key: "a1b2c3d4".into(), sample_rate: Some(8000), ..Default::default() }),
        ..Default::default()
    };
    assert_eq!(got, [exotel, twilio, vonage]);
}

#[test]
fn defaults_lie_under_every_row_and_a_cell_wins() {
    let defaults = json!({
        "provider": "exotel", "displayName": "Desk",
        "exotelConfig": { "sid": "acme1", "apiKey": "k", "apiToken": "t", "region": "in" }
    });
    let csv = "phoneNumber,exotelConfig.sid,provider\n+919876543210,,\n+919876543211,other1,\n+14155552671,,twilio\n";
    let got = inputs(csv, &defaults);
    let exotel = |n: &PhoneNumberInput| n.exotel_config.clone().unwrap();
    assert_eq!((got[0].provider.as_str(), got[0].display_name.as_str()), ("exotel", "Desk"));
    assert_eq!((exotel(&got[0]).sid, exotel(&got[0]).api_token), ("acme1".to_string(), Some("t".to_string())));
    // One setting from the row, the others of the same object still from the defaults.
    assert_eq!((exotel(&got[1]).sid, exotel(&got[1]).api_key), ("other1".to_string(), Some("k".to_string())));
    assert_eq!(got[2].provider, "twilio");
    let rows = parse(b"phoneNumber\n+919876543210\n", &json!("exotel")).unwrap();
    assert_eq!(errors(&rows[0]), [("defaults", "The defaults must be a JSON object shaped like the request body.")]);
}

#[test]
fn a_utf8_bom_is_stripped() {
    let rows = read("\u{FEFF}phoneNumber,provider\r\n+919876543210,exotel\r\n").unwrap();
    assert_eq!(rows[0].result.as_ref().unwrap().phone_number, "+919876543210");
    assert_eq!(file_error("\u{FEFF}"), FileError::Empty);
}

#[test]
fn a_utf16_file_is_refused() {
    let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain("phoneNumber\n".bytes().flat_map(|b| [b, 0])).collect();
    let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain("phoneNumber\n".bytes().flat_map(|b| [0, b])).collect();
    let bare: Vec<u8> = "phoneNumber\n+91\n".bytes().flat_map(|b| [b, 0]).collect();
    for bytes in [le, be, bare] {
        assert_eq!(parse(&bytes, &Value::Null), Err(FileError::Utf16Bom));
    }
    assert!(FileError::Utf16Bom.to_string().contains("CSV UTF-8"));
}

#[test]
fn an_unknown_column_names_the_closest_known_one() {
    let unknown = |header: &str| match file_error(&format!("phoneNumber,{header}\n+919876543210,x\n")) {
        FileError::UnknownColumn { column, suggestion } => (column, suggestion),
        other => panic!("{other:?}"),
    };
    assert_eq!(unknown(" dispalyName "), ("dispalyName".into(), Some("displayName".into())));
    assert_eq!(unknown("exotelConfig.regoin"), ("exotelConfig.regoin".into(), Some("exotelConfig.region".into())));
    assert_eq!(unknown("Phone Number").1.as_deref(), Some("phoneNumber"));
    assert_eq!(unknown("sid").1.as_deref(), Some("exotelConfig.sid"), "a bare setting names its column");
    assert_eq!(unknown("colour"), ("colour".into(), None));
    let message = FileError::UnknownColumn { column: "colour".into(), suggestion: None }.to_string();
    assert_eq!(message, "The header has an unknown column \"colour\". Use the column names of the template.");
    assert_eq!(unknown(&"x".repeat(5000)).0.chars().count(), 61, "clipped for the message");
    let message = FileError::UnknownColumn { column: "dispalyName".into(), suggestion: Some("displayName".into()) }.to_string();
    assert_eq!(
        message,
        "The header has an unknown column \"dispalyName\". Did you mean \"displayName\"? Otherwise use the column names of the template."
    );
}

#[test]
fn column_names_are_trimmed_and_matched_ignoring_case() {
    let got = inputs(" PhoneNumber ,EXOTELCONFIG.SID,provider\n+919876543210,acme1,exotel\n", &Value::Null);
    assert_eq!((got[0].phone_number.as_str(), got[0].exotel_config.clone().unwrap().sid.as_str()), ("+919876543210", "acme1"));
}

#[test]
fn a_column_named_twice_is_refused() {
    assert_eq!(file_error("phoneNumber,provider,Provider\n+919876543210,a,b\n"), FileError::DuplicateColumn { column: "provider".into() });
}

#[test]
fn the_phone_number_column_is_required() {
    let e = file_error("displayName,provider\nSupport,exotel\n");
    assert_eq!(e, FileError::MissingColumn { column: "phoneNumber" });
    assert_eq!(e.to_string(), "The header has no \"phoneNumber\" column; add it, with one number per row.");
}

#[test]
fn a_row_of_the_wrong_length_names_its_line() {
    for eol in ["\n", "\r\n"] {
        let csv = ["phoneNumber,provider", "+919876543210,exotel", "", "+919876543211,exotel,extra", ""].join(eol);
        let e = file_error(&csv);
        assert_eq!(
            e,
            FileError::Malformed {
                line: 4,
                reason: "this row has 3 fields, the header has 2 (a value containing a comma must be in double quotes)".into()
            },
            "{eol:?}"
        );
        assert!(e.to_string().starts_with("Line 4: this row has 3 fields"));
    }
    let short = file_error("phoneNumber,provider,status\n+919876543210,exotel\n");
    assert!(matches!(short, FileError::Malformed { line: 2, ref reason } if reason.contains("a quote may be unclosed")), "{short:?}");
}

#[test]
fn an_unclosed_quote_names_its_line() {
    let csv = "phoneNumber,displayName\n+919876543210,ok\n+919876543211,\"Sales\n+919876543212,x\n";
    match file_error(csv) {
        FileError::Malformed { line, reason } => assert_eq!((line, reason.contains("never closed")), (3, true)),
        other => panic!("{other:?}"),
    }
    // An error on an earlier row is still the one reported.
    assert!(matches!(file_error("phoneNumber,displayName\n1,2,3\n4,\"5\n"), FileError::Malformed { line: 2, .. }));
}

#[test]
fn a_quoted_value_may_span_lines_and_hold_quotes() {
    let csv = "phoneNumber,vonageConfig.privateKey,displayName\n\
+442079460958,\"-----BEGIN PRIVATE KEY-----\r\nMIIE\r\n-----END PRIVATE KEY-----\",\"The \"\"main\"\" line\"\n\
+442079460959,,5\" screen\n";
    let rows = read(csv).unwrap();
    assert_eq!(lines(&rows), [2, 5]);
    let first = rows[0].result.as_ref().unwrap();
    assert_eq!(
        first.vonage_config.as_ref().unwrap().private_key.as_deref(),
        Some("-----BEGIN PRIVATE KEY-----\r\nMIIE\r\n-----END PRIVATE KEY-----")
    );
    assert_eq!(first.display_name, "The \"main\" line");
    assert_eq!(rows[1].result.as_ref().unwrap().display_name, "5\" screen", "a quote inside a bare value is kept");
}

#[test]
fn a_file_that_is_not_utf8_names_the_line() {
    let e = parse(b"phoneNumber,displayName\n+919876543210,ok\n+919876543211,Caf\xe9\n", &Value::Null).unwrap_err();
    assert_eq!(e, FileError::NotUtf8 { line: Some(3) });
    assert!(e.to_string().contains("(line 3)"), "{e}");
}

#[test]
fn a_number_twice_in_the_file_is_an_error_on_the_later_row() {
    let csv = "phoneNumber,provider\n+91 98765-43210,exotel\n+919876543211,exotel\n(91) 9876543210,twilio\n0091 98765 43211,exotel\n";
    let rows = read(csv).unwrap();
    assert!(rows[0].result.is_ok() && rows[1].result.is_ok());
    assert_eq!(errors(&rows[2]), [("phoneNumber", "Same number as line 2.")]);
    assert_eq!(errors(&rows[3]), [("phoneNumber", "Same number as line 3.")], "00 is read as +");
}

#[test]
fn a_sample_rate_that_is_not_a_number_is_a_field_error() {
    let rows = read("phoneNumber,provider,vonageConfig.sampleRate\n+442079460958,vonage,abc\n+442079460959,vonage,8000\n").unwrap();
    let e = rows[0].result.as_ref().unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].field, "vonageConfig.sampleRate");
    assert!(e[0].message.contains("abc"), "{}", e[0].message);
    assert_eq!(rows[1].result.as_ref().unwrap().vonage_config.as_ref().unwrap().sample_rate, Some(8000));
    let rows = read("phoneNumber,vonageConfig.sampleRate\n+442079460958,99999999999\n").unwrap();
    assert_eq!(rows[0].result.as_ref().unwrap_err()[0].field, "vonageConfig.sampleRate", "too large for the field");
}

#[test]
fn empty_rows_are_skipped() {
    let rows = read("\n\nphoneNumber,provider\n\n,\n  ,  \n   \n+919876543210,exotel\n,\n").unwrap();
    assert_eq!(lines(&rows), [8]);
    assert_eq!(file_error("phoneNumber,provider\n,\n\n ,\n"), FileError::NoRows);
}

#[test]
fn a_file_without_a_header_is_empty() {
    for csv in ["", "\n\r\n", "  \n", ",,\n"] {
        assert_eq!(file_error(csv), FileError::Empty, "{csv:?}");
    }
}

#[test]
fn an_unnamed_column_must_stay_empty() {
    assert_eq!(lines(&read("phoneNumber,,provider,\n+919876543210,,exotel,\n").unwrap()), [2]);
    let e = file_error("phoneNumber,,provider\n+919876543210,,exotel\n+919876543211,oops,exotel\n");
    assert!(matches!(e, FileError::Malformed { line: 3, ref reason } if reason.starts_with("column 2 has no name")), "{e:?}");
}

#[test]
fn ten_thousand_rows_parse() {
    let rows = read(&many(10_000)).unwrap();
    assert_eq!(rows.len(), 10_000);
    assert!(rows.iter().all(|r| r.result.is_ok()));
    assert_eq!((rows[0].line, rows[9_999].line), (2, 10_001));
    assert_eq!(rows[9_999].result.as_ref().unwrap().phone_number, "+919800009999");
}

#[test]
fn too_many_rows_are_refused() {
    assert_eq!(read(&many(MAX_ROWS)).unwrap().len(), MAX_ROWS);
    assert_eq!(file_error(&many(MAX_ROWS + 1)), FileError::TooManyRows { limit: MAX_ROWS });
}

#[test]
fn a_file_over_the_limit_is_refused_before_parsing() {
    let junk = vec![b'"'; 50 * 1024 * 1024];
    assert_eq!(parse(&junk, &Value::Null), Err(FileError::TooLarge { limit: MAX_BYTES }));
    assert_eq!(FileError::TooLarge { limit: MAX_BYTES }.to_string(), "The file is larger than 20 MB; split it into smaller files.");
}

#[test]
fn junk_bytes_never_panic() {
    // xorshift64: fixed seed, so a failure replays.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // Odd rounds are rows of two cells under a valid header, some cells broken, so rows get
    // read and not only refused.
    let cells: &[&[u8]] = &[b"+9198765", b"abc", b"8000", b"", b" ", b"\"a,\r\nb\"", b"\"x\"\"y\"", b"5\" tv", b"\"", b",", b"\xFF"];
    let (mut read, mut refused) = (0, 0);
    for round in 0..2_000 {
        let len = (next() % 400) as usize;
        let mut bytes = Vec::with_capacity(len);
        if round % 2 == 1 {
            bytes.extend_from_slice(b"phoneNumber,vonageConfig.sampleRate\n");
        }
        while bytes.len() < len {
            if round % 2 == 0 {
                bytes.push(next() as u8);
                continue;
            }
            // Broken cells (the last three) one time in 32.
            let mut cell = || {
                let r = next();
                let pick = if r % 32 == 0 { cells.len() - 1 - (r / 32 % 3) as usize } else { (r / 32 % (cells.len() as u64 - 3)) as usize };
                cells[pick]
            };
            let (a, b) = (cell(), cell());
            bytes.extend_from_slice(&[a, b",", b, if next() % 2 == 0 { b"\n" } else { b"\r\n" }].concat());
        }
        match parse(&bytes, &json!({ "provider": "vonage" })) {
            Ok(rows) => {
                read += 1;
                assert!(rows.windows(2).all(|w| w[0].line < w[1].line) && rows[0].line >= 2, "lines rise past the header: {bytes:?}");
            }
            Err(FileError::Malformed { line, .. } | FileError::NotUtf8 { line: Some(line) }) => {
                refused += 1;
                assert!(line >= 1 && line <= bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1, "{line}: {bytes:?}");
            }
            Err(_) => {}
        }
    }
    assert!(read > 100 && refused > 100, "the junk reaches the rows: {read} read, {refused} refused");
}

#[test]
fn the_template_reads_back_without_errors() {
    let template = template();
    assert_eq!(template.lines().next().unwrap().split(',').collect::<Vec<_>>(), columns().collect::<Vec<_>>());
    let rows = read(&template).unwrap();
    assert_eq!(lines(&rows), [2]);
    let input = rows[0].result.clone().unwrap();
    assert_eq!(input.provider, "exotel");
    let valid = input.validate(false).unwrap();
    assert_eq!(valid.exotel.unwrap().domain, "api.in.exotel.com");
}

/// Dotted paths of every leaf of `v`.
fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, bool)>) {
    match v {
        Value::Object(m) => {
            m.iter().for_each(|(k, v)| leaves(&if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, v, out))
        }
        other => out.push((prefix.to_string(), other.is_number())),
    }
}

#[test]
fn the_column_table_matches_the_input_type() {
    let s = || Some(String::new());
    let full = PhoneNumberInput {
        exotel_config: Some(ExotelConfigInput { api_key: s(), api_token: s(), app_id: s(), ..Default::default() }),
        twilio_config: Some(TwilioConfigInput { auth_token: s(), ..Default::default() }),
        vonage_config: Some(VonageConfigInput {
            api_secret: s(),
            private_key: s(),
            signature_secret: s(),
            sample_rate: Some(8000),
            ..Default::default()
        }),
        plivo_config: Some(PlivoConfigInput { auth_token: s(), content_type: s(), ..Default::default() }),
        linked_agent_id: s(),
        status: s(),
        ..Default::default()
    };
    let mut fields = Vec::new();
    leaves("", &serde_json::to_value(full).unwrap(), &mut fields);
    fields.sort();
    let mut table: Vec<(String, bool)> = COLUMNS.iter().map(|(name, kind, _)| (name.to_string(), *kind == Kind::Integer)).collect();
    table.sort();
    assert_eq!(table, fields, "one column per field, numbers as Integer");
}
