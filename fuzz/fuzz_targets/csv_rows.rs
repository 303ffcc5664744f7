//! The bulk import's CSV reading on any bytes: never a panic; a file is refused whole or read
//! into rows whose lines rise and stay inside the file, and a refused file names a line or a
//! column in words a person can act on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::numbers::csv_rows;

fuzz_target!(|data: &[u8]| {
    let defaults = serde_json::json!({ "provider": "other" });
    match csv_rows::parse(data, &defaults) {
        Ok(rows) => {
            let lines = data.iter().filter(|b| **b == b'\n').count() as u64 + 1;
            let mut last = 0;
            for row in &rows {
                assert!(row.line > last && row.line <= lines, "line {} after {last} of {lines}", row.line);
                last = row.line;
                if let Err(errors) = &row.result {
                    assert!(!errors.is_empty() && errors.iter().all(|e| !e.field.is_empty() && !e.message.is_empty()));
                }
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
