//! A call's transfer to a person: where it goes, the summary the person hears (warm transfers),
//! and how far it got; kept on the `call` row, whose outcome becomes `transferred`.

use domain::outbound::CallOutcome;
use serde::Deserialize;
use serde_json::json;

use super::{Db, DbError, row, rows};

/// A call's transfer as its whisper and dial answers need it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TransferRow {
    pub phone_id: String,
    pub phone_number: String,
    pub to: String,
    pub summary: Option<String>,
    pub state: String,
}

/// Records (or updates) the transfer of call `key`.
pub async fn set(db: &Db, key: &str, to: &str, summary: Option<&str>, state: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('call', $key) SET transfer_to = $to, transfer_summary = (IF $summary THEN $summary ELSE NONE END), transfer_state = $state,
            outcome = $transferred RETURN NONE",
        json!({ "key": key, "to": to, "summary": summary, "state": state, "transferred": CallOutcome::Transferred }),
    )
    .await
    .map(|_| ())
}

/// The transfer of call `key`, if it has one.
pub async fn of(db: &Db, key: &str) -> Result<Option<TransferRow>, DbError> {
    row(
        db,
        "SELECT phone_id, phone_number, transfer_to AS to, transfer_summary AS summary, transfer_state AS state
         FROM type::record('call', $key) WHERE transfer_to != NONE",
        json!({ "key": key }),
    )
    .await
}
