//! A campaign's contact list from CSV: a `phone` column (also `to`, `number`, `phoneNumber`),
//! an optional `timezone` (IANA), and every other column a variable for the agent. Each bad row
//! is reported with its line and fields, as the number import does; good rows are kept.

use std::collections::{BTreeMap, HashSet};

use domain::FieldError;
use domain::campaign::{MAX_CONTACTS, RejectedRow};
use domain::outbound::{check_variables, variable_name_ok};

use crate::db::campaigns::NewContact;

/// Largest contact file read, in bytes.
pub const MAX_BYTES: usize = 20 << 20;

/// Column names that hold the number to call.
const PHONE_COLUMNS: &[&str] = &["phone", "to", "number", "phonenumber", "phone_number"];

/// The contacts of `text` and the rows left out; `Err` when the file as a whole cannot be read
/// (the field error names `contactsCsv`).
pub fn read(text: &str) -> Result<(Vec<NewContact>, Vec<RejectedRow>), FieldError> {
    let field = |m: String| FieldError::new("contactsCsv", m);
    if text.len() > MAX_BYTES {
        return Err(field(format!("Use a file of at most {} MB.", MAX_BYTES >> 20)));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers: Vec<String> =
        reader.headers().map_err(|e| field(format!("The header line cannot be read: {e}")))?.iter().map(str::to_string).collect();
    let phone_at = headers
        .iter()
        .position(|h| PHONE_COLUMNS.contains(&h.to_ascii_lowercase().as_str()))
        .ok_or_else(|| field("Add a `phone` column with the numbers to call.".into()))?;
    let tz_at = headers.iter().position(|h| h.eq_ignore_ascii_case("timezone"));
    if let Some(bad) = headers.iter().enumerate().find(|(i, h)| *i != phone_at && Some(*i) != tz_at && !variable_name_ok(h)) {
        return Err(field(format!("Column {:?}: name variable columns with letters, digits and _, starting with a letter.", bad.1)));
    }
    let (mut contacts, mut rejected, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as u32);
                rejected.push(RejectedRow { line, errors: vec![FieldError::new("row", format!("This row cannot be read: {e}"))] });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as u32);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if contacts.len() >= MAX_CONTACTS {
            return Err(field(format!("Use at most {MAX_CONTACTS} contacts in one campaign.")));
        }
        let mut errors = Vec::new();
        let phone = domain::phone_number::normalize_e164(record.get(phone_at).unwrap_or_default()).unwrap_or_else(|m| {
            errors.push(FieldError::new("phone", m));
            String::new()
        });
        let timezone = tz_at.and_then(|i| record.get(i)).filter(|t| !t.is_empty()).map(str::to_string);
        if let Some(tz) = &timezone
            && tz.parse::<chrono_tz::Tz>().is_err()
        {
            errors.push(FieldError::new("timezone", format!("{tz:?} is not a time zone; use a name like Asia/Kolkata.")));
        }
        let variables: BTreeMap<String, String> = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != phone_at && Some(*i) != tz_at)
            .map(|(i, h)| (h.clone(), record.get(i).unwrap_or_default().to_string()))
            .collect();
        check_variables(&variables, &mut errors);
        if errors.is_empty() && !seen.insert(phone.clone()) {
            errors.push(FieldError::new("phone", format!("{phone} is already in this list; each contact is called once.")));
        }
        if !errors.is_empty() {
            rejected.push(RejectedRow { line, errors });
            continue;
        }
        let variables_json = serde_json::to_string(&variables).unwrap_or_else(|_| "{}".into());
        contacts.push(NewContact { line, phone, timezone, variables_json });
    }
    Ok((contacts, rejected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_contacts_with_their_variables() {
        let csv = "\u{feff}phone,name,due_date,timezone\n+1 415 555 2671,Asha,5 Dec,America/Los_Angeles\n+919876543210,Ravi,,\n";
        let (contacts, rejected) = read(csv).unwrap();
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(contacts.len(), 2);
        assert_eq!((contacts[0].line, contacts[0].phone.as_str()), (2, "+14155552671"));
        assert_eq!(contacts[0].timezone.as_deref(), Some("America/Los_Angeles"));
        assert_eq!(contacts[0].variables_json, r#"{"due_date":"5 Dec","name":"Asha"}"#);
        assert_eq!(contacts[1].timezone, None);
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_field_and_the_rest_kept() {
        let csv = "to,name,timezone\n12345,A,\n+14155552671,B,Mars/Base\n+14155552671,C,\n+14155550100,D,\n+14155550100,E,\n";
        let (contacts, rejected) = read(csv).unwrap();
        assert_eq!(contacts.iter().map(|c| c.line).collect::<Vec<_>>(), [4, 5]);
        let lines: Vec<(u32, &str)> = rejected.iter().map(|r| (r.line, r.errors[0].field.as_str())).collect();
        assert_eq!(lines, [(2, "phone"), (3, "timezone"), (6, "phone")]);
        assert!(rejected[2].errors[0].message.contains("already"));
    }

    #[test]
    fn a_file_without_a_phone_column_or_with_bad_names_is_refused_whole() {
        assert!(read("name\nA\n").unwrap_err().message.contains("phone"));
        assert!(read("phone,due-date\n+14155552671,x\n").unwrap_err().message.contains("due-date"));
        let ragged = read("phone,name\n+14155552671\n+14155550100,B\n").unwrap();
        assert_eq!((ragged.0.len(), ragged.1.len()), (1, 1), "a short row is that row's error");
    }
}
