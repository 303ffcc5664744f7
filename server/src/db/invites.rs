//! `invite` rows: sign-up invite codes, stored as SHA-256 hashes (crate::users::signup).

use serde_json::json;

use super::{Db, DbError, rows};

pub async fn insert(db: &Db, code_hash: &str, now: &str, expires: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "CREATE invite SET code_hash = $hash, created_at = <datetime>$now, expires_at = <datetime>$expires RETURN NONE",
        json!({ "hash": code_hash, "now": now, "expires": expires }),
    )
    .await
    .map(|_| ())
}

/// Marks the code used by `email` if it is unused and unexpired; `true` when it was.
pub async fn redeem(db: &Db, code_hash: &str, email: &str, now: &str) -> Result<bool, DbError> {
    let used: Vec<serde_json::Value> = rows(
        db,
        "UPDATE invite SET used_at = <datetime>$now, used_by = $user
            WHERE code_hash = $hash AND used_at = NONE AND expires_at > <datetime>$now RETURN VALUE id",
        json!({ "hash": code_hash, "user": email, "now": now }),
    )
    .await?;
    Ok(!used.is_empty())
}

/// Makes a redeemed code usable again.
pub async fn release(db: &Db, code_hash: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPDATE invite SET used_at = NONE, used_by = NONE WHERE code_hash = $hash RETURN NONE",
        json!({ "hash": code_hash }),
    )
    .await
    .map(|_| ())
}
