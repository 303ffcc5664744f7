//! A number's ownership checks: the outcome of the last one, and its claim (who holds a number
//! the provider confirmed). Scoped to the owner, as every phone_number read.

use domain::phone_number::{Provider, VerifyStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Db, DbError, row, rows};
use crate::users::Owner;

/// One check's outcome, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRecord {
    pub status: VerifyStatus,
    pub message: String,
    pub retry_after: Option<u64>,
    /// Owned, but sending its calls to another application than the number's (Vonage): the
    /// message says so; not stored apart.
    pub linked_elsewhere: bool,
}

/// The claim of a number its provider confirmed: unique across owners.
pub fn verified_claim(provider: Provider, number: &str) -> String {
    format!("verified:{provider}:{number}")
}

/// The claim of a number without proof: its own, blocking nobody.
pub fn own_claim(id: &str) -> String {
    format!("unverified:{id}")
}

/// Records a check on `owner`'s number. A confirmation takes the verified claim (failing on
/// `phone_number_claim` when another owner holds it); an answer against the number (not owned,
/// credentials refused) drops any proof; an unreachable or busy provider changes only the
/// outcome shown. False when `owner` has no such number.
pub async fn record(db: &Db, owner: &Owner, id: &str, check: &CheckRecord, claim: &str, now: &str) -> Result<bool, DbError> {
    let proof = match check.status {
        VerifyStatus::Verified => ", verified_at = <datetime>$now, claim = $claim",
        s if s.is_answer() => ", verified_at = NONE, claim = $own",
        _ => "",
    };
    let sql = format!(
        "UPDATE phone_number SET verify_status = $status, verify_message = $message, verify_retry_after = $retry ?? NONE,
            verify_checked_at = <datetime>$now{proof}
            WHERE id = type::record('phone_number', $id) AND owner = type::record('user', $owner) RETURN BEFORE"
    );
    let vars = json!({
        "id": id, "owner": owner.id(), "status": check.status, "message": check.message, "retry": check.retry_after,
        "now": now, "claim": claim, "own": own_claim(id),
    });
    let before: Vec<Value> = rows(db, &sql, vars).await?;
    Ok(!before.is_empty())
}

/// Whether an owner other than `owner` holds `claim`.
pub async fn claimed_elsewhere(db: &Db, owner: &Owner, claim: &str) -> Result<bool, DbError> {
    let found: Option<Value> = row(
        db,
        "SELECT id FROM phone_number WHERE claim = $claim AND owner != type::record('user', $owner) LIMIT 1",
        json!({ "claim": claim, "owner": owner.id() }),
    )
    .await?;
    Ok(found.is_some())
}

/// The sealed credentials a number's provider API is asked with (opened by the caller).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SealedCredentials {
    pub exotel_api_key_sealed: Option<String>,
    pub exotel_api_token_sealed: Option<String>,
    pub twilio_auth_token_sealed: Option<String>,
    pub vonage_api_secret_sealed: Option<String>,
    #[serde(default)]
    pub vonage_private_key_sealed: Option<String>,
    pub plivo_auth_token_sealed: Option<String>,
}

/// `owner`'s number's sealed API credentials.
pub async fn sealed_credentials(db: &Db, owner: &Owner, id: &str) -> Result<Option<SealedCredentials>, DbError> {
    row(
        db,
        "SELECT exotel_api_key_sealed, exotel_api_token_sealed, twilio_auth_token_sealed, vonage_api_secret_sealed,
            vonage_private_key_sealed, plivo_auth_token_sealed FROM phone_number
            WHERE id = type::record('phone_number', $id) AND owner = type::record('user', $owner)",
        json!({ "id": id, "owner": owner.id() }),
    )
    .await
}

/// Every number of `owner` (a bulk import compares its rows with them).
pub async fn owner_numbers(db: &Db, owner: &Owner) -> Result<Vec<super::phone_numbers::NumberRow>, DbError> {
    rows(
        db,
        &format!("SELECT {} FROM phone_number WHERE owner = type::record('user', $owner)", super::phone_numbers::PROJECTION),
        json!({ "owner": owner.id() }),
    )
    .await
}
