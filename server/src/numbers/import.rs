//! Bulk import from CSV (the dashboard, `voxgate import`, `POST /api/phone-numbers/import`).
//! The whole file is read before anything is written (a malformed file imports nothing); then
//! each valid row is imported on its own, so one bad row stops no other. A row naming a number
//! this account already has changes it only when its settings differ: the same file twice
//! changes nothing. Each provider account is asked for its numbers once per file.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use domain::FieldError;
use domain::phone_number::{ImportReport, ImportRowError, PhoneNumberInput, PreviewRow, ValidPhoneNumber};
use serde_json::Value;

use super::csv_rows::{self, FileError};
use super::{partial, verify};
use crate::db::number_checks;
use crate::errors::DomainError;
use crate::state::AppState;
use crate::users::Owner;

/// Most rows a preview lists.
pub const MAX_PREVIEW: usize = 1000;

/// What the import does besides importing.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Laid under every row (credentials given once for the file).
    pub defaults: Value,
    /// Check every row but write nothing (the dashboard's preview).
    pub dry_run: bool,
}

/// The settings every row takes from the dashboard's "credentials for every row": the account
/// and secrets of `provider` (empty values are left to the rows).
pub fn defaults_for(provider: &str, account: &str, key: &str, secret: &str) -> Value {
    let (provider, account, key, secret) = (provider.trim(), account.trim(), key.trim(), secret.trim());
    let config = match provider {
        "exotel" => serde_json::json!({ "exotelConfig": { "sid": account, "apiKey": key, "apiToken": secret } }),
        "twilio" => serde_json::json!({ "twilioConfig": { "accountSid": account, "authToken": secret } }),
        "vonage" => serde_json::json!({ "vonageConfig": { "apiKey": account, "apiSecret": secret } }),
        "plivo" => serde_json::json!({ "plivoConfig": { "authId": account, "authToken": secret } }),
        _ => return Value::Null,
    };
    let mut out = serde_json::json!({ "provider": provider });
    if let (Some(o), Value::Object(c)) = (out.as_object_mut(), config) {
        for (name, settings) in c {
            let kept: serde_json::Map<String, Value> = settings
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, v)| v.as_str().is_some_and(|s| !s.is_empty()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !kept.is_empty() {
                o.insert(name, Value::Object(kept));
            }
        }
    }
    out
}

/// Starts importing `bytes` in the background (the file is read first: a malformed one is
/// refused here); its progress is read from `state.imports`.
pub fn spawn(
    state: &AppState,
    owner: &Owner,
    bytes: Vec<u8>,
    options: Options,
) -> Result<domain::phone_number::ImportProgress, DomainError> {
    let total = csv_rows::parse(&bytes, &options.defaults).map_err(|e| file_error(&e))?.len();
    let (id, done) = state.imports.start(owner.id(), total).map_err(|b| {
        let message = match b {
            super::import_jobs::Busy::Running => "An import of yours is still running; wait for it to finish.",
            super::import_jobs::Busy::Full => "Too many imports are running; try again in a minute.",
        };
        DomainError::Conflict(FieldError::new("file", message))
    })?;
    let (state2, owner2, job) = (state.clone(), owner.clone(), id.clone());
    tokio::spawn(async move {
        let result = import(&state2, &owner2, &bytes, &options, &done).await.map_err(|e| e.to_string());
        state2.imports.finish(&job, result);
    });
    state.imports.get(owner.id(), &id).ok_or(DomainError::NotFound("import"))
}

/// A file problem as the client sees it: 413 when too large, else 400 naming the file.
pub fn file_error(e: &FileError) -> DomainError {
    DomainError::field("file", e.to_string())
}

/// The key that says two rows are the same number of the same provider account.
fn identity(v: &ValidPhoneNumber) -> String {
    let account = v
        .exotel
        .as_ref()
        .map(|e| e.sid.as_str())
        .or(v.twilio.as_ref().map(|t| t.account_sid.as_str()))
        .or(v.vonage.as_ref().map(|c| c.api_key.as_str()))
        .or(v.plivo.as_ref().map(|c| c.auth_id.as_str()))
        .unwrap_or("");
    format!("{}:{account}:{}", v.provider, v.phone_number)
}

/// `v` without its secrets (what a stored number can be compared with).
fn settings_of(mut v: ValidPhoneNumber) -> ValidPhoneNumber {
    if let Some(e) = &mut v.exotel {
        (e.api_key, e.api_token) = (None, None);
    }
    if let Some(t) = &mut v.twilio {
        t.auth_token = None;
    }
    if let Some(c) = &mut v.vonage {
        (c.api_secret, c.private_key, c.signature_secret) = (None, None, None);
    }
    if let Some(p) = &mut v.plivo {
        p.auth_token = None;
    }
    v
}

fn row_error(line: u64, input: Option<&PhoneNumberInput>, errors: Vec<FieldError>) -> ImportRowError {
    ImportRowError { line, phone_number: input.map(|i| i.phone_number.trim().to_string()).filter(|s| !s.is_empty()), errors }
}

fn errors_of(e: DomainError) -> Result<Vec<FieldError>, DomainError> {
    match e {
        DomainError::Invalid(v) => Ok(v),
        DomainError::Conflict(f) => Ok(vec![f]),
        DomainError::NotFound(what) => Ok(vec![FieldError::new("body", format!("{what} not found"))]),
        DomainError::ProviderBusy { message, .. } | DomainError::ProviderUnreachable(message) | DomainError::Busy(message) => {
            Ok(vec![FieldError::new("provider", message)])
        }
        e @ (DomainError::Db(_) | DomainError::Storage(_)) => Err(e),
    }
}

/// Imports `bytes` for `owner`; `done` counts the rows handled so far (a progress bar's).
pub async fn import(
    state: &AppState,
    owner: &Owner,
    bytes: &[u8],
    options: &Options,
    done: &AtomicUsize,
) -> Result<ImportReport, DomainError> {
    let rows = csv_rows::parse(bytes, &options.defaults).map_err(|e| file_error(&e))?;
    let mut report = ImportReport { rows: rows.len(), dry_run: options.dry_run, ..Default::default() };
    // The owner's numbers by identity, to find a row's number and compare its settings.
    let mut existing: HashMap<String, (String, ValidPhoneNumber)> = HashMap::new();
    for r in number_checks::owner_numbers(&state.db, owner).await? {
        let view = super::view(state, r);
        if let Ok(v) = partial::input_of(&view).validate(true) {
            existing.insert(identity(&v), (view.id, v));
        }
    }
    let mut checker = verify::Checker::bulk();
    for row in rows {
        done.fetch_add(1, Ordering::Relaxed);
        let input = match row.result {
            Ok(input) => input,
            Err(errors) => {
                report.failed.push(row_error(row.line, None, errors));
                continue;
            }
        };
        let mut show = |action: &str| {
            if options.dry_run && report.preview.len() < MAX_PREVIEW {
                report.preview.push(PreviewRow {
                    line: row.line,
                    phone_number: input.phone_number.trim().to_string(),
                    display_name: input.display_name.trim().to_string(),
                    provider: input.provider.trim().to_string(),
                    action: action.to_string(),
                });
            }
        };
        // Checked as an edit would be (secrets may come from the stored number).
        let filled = super::defaults::fill(&state.settings, &input).0;
        let valid = match filled.validate(true) {
            Ok(v) => v,
            Err(errors) => {
                show("error");
                report.failed.push(row_error(row.line, Some(&input), errors));
                continue;
            }
        };
        let key = identity(&valid);
        let was_there = existing.contains_key(&key);
        let outcome = match existing.get(&key) {
            Some((_, stored)) if *stored == settings_of(valid.clone()) => {
                show("unchanged");
                report.unchanged += 1;
                continue;
            }
            _ if options.dry_run => match filled.validate(was_there) {
                Ok(_) => {
                    show(if was_there { "update" } else { "import" });
                    Ok(())
                }
                Err(errors) => {
                    show("error");
                    Err(DomainError::Invalid(errors))
                }
            },
            Some((id, _)) => super::update_with(state, owner, id, &input, &mut checker).await.map(|_| ()),
            None => super::create_with(state, owner, &input, &mut checker).await.map(|id| {
                existing.insert(key.clone(), (id, settings_of(valid.clone())));
            }),
        };
        match outcome {
            Ok(()) if was_there => report.updated += 1,
            Ok(()) => report.imported += 1,
            Err(e) => report.failed.push(row_error(row.line, Some(&input), errors_of(e)?)),
        }
    }
    tracing::info!(user_id = %owner.id(), rows = report.rows, imported = report.imported, failed = report.failed.len(), "numbers imported");
    Ok(report)
}
