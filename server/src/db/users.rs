//! `user`, `user_session` and `api_token` rows. Tokens are stored as SHA-256 hashes only.

use serde::Deserialize;
use serde_json::json;

use super::{Db, DbError, row, rows};
use crate::users::Owner;

/// A user row as the login path needs it.
#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
}

/// Who a session or API token belongs to.
#[derive(Debug, Clone, Deserialize)]
pub struct Principal {
    pub user_id: String,
    pub email: String,
}

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// Creates a user; a taken e-mail fails on the unique index `user_email`.
pub async fn insert_user(db: &Db, key: &str, email: &str, password_hash: &str, now: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "CREATE type::record('user', $key) SET email = $email, password_hash = $hash, created_at = <datetime>$now RETURN NONE",
        json!({ "key": key, "email": email, "hash": password_hash, "now": now }),
    )
    .await
    .map(|_| ())
}

/// The user with this (normalized) e-mail.
pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<UserRow>, DbError> {
    row(db, "SELECT record::id(id) AS id, email, password_hash FROM user WHERE email = $email LIMIT 1", json!({ "email": email })).await
}

/// Stores a session by the hash of its token.
pub async fn insert_session(db: &Db, user_id: &str, token_hash: &str, now: &str, expires: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "CREATE user_session SET user = type::record('user', $user), token_hash = $hash,
            created_at = <datetime>$now, expires_at = <datetime>$expires RETURN NONE",
        json!({ "user": user_id, "hash": token_hash, "now": now, "expires": expires }),
    )
    .await
    .map(|_| ())
}

/// The owner of an unexpired session.
pub async fn session_principal(db: &Db, token_hash: &str, now: &str) -> Result<Option<Principal>, DbError> {
    row(
        db,
        "SELECT record::id(user) AS user_id, user.email AS email FROM user_session
            WHERE token_hash = $hash AND expires_at > <datetime>$now LIMIT 1",
        json!({ "hash": token_hash, "now": now }),
    )
    .await
}

/// Ends a session (logout); also sweeps this user's expired sessions.
pub async fn delete_session(db: &Db, token_hash: &str, now: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "LET $s = (SELECT VALUE user FROM user_session WHERE token_hash = $hash);
         DELETE user_session WHERE token_hash = $hash OR (user IN $s AND expires_at <= <datetime>$now) RETURN NONE",
        json!({ "hash": token_hash, "now": now }),
    )
    .await
    .map(|_| ())
}

/// Stores a new API token for `owner`.
pub async fn insert_token(
    db: &Db,
    owner: &Owner,
    key: &str,
    name: &str,
    prefix: &str,
    token_hash: &str,
    now: &str,
) -> Result<TokenRow, DbError> {
    row(
        db,
        "CREATE ONLY type::record('api_token', $key) SET user = type::record('user', $owner), name = $name,
            prefix = $prefix, token_hash = $hash, created_at = <datetime>$now;
         SELECT record::id(id) AS id, name, prefix, created_at, last_used_at FROM ONLY type::record('api_token', $key)",
        json!({ "key": key, "owner": owner.id(), "name": name, "prefix": prefix, "hash": token_hash, "now": now }),
    )
    .await?
    .ok_or_else(|| DbError::Decode(serde::de::Error::custom("token not stored")))
}

/// `owner`'s tokens, newest first.
pub async fn list_tokens(db: &Db, owner: &Owner) -> Result<Vec<TokenRow>, DbError> {
    rows(
        db,
        "SELECT record::id(id) AS id, name, prefix, created_at, last_used_at FROM api_token
            WHERE user = type::record('user', $owner) ORDER BY created_at DESC",
        json!({ "owner": owner.id() }),
    )
    .await
}

/// Deletes `owner`'s token `id`; false when no such token belongs to `owner`.
pub async fn delete_token(db: &Db, owner: &Owner, id: &str) -> Result<bool, DbError> {
    let deleted: Vec<serde_json::Value> = rows(
        db,
        "DELETE api_token WHERE id = type::record('api_token', $id) AND user = type::record('user', $owner) RETURN BEFORE",
        json!({ "id": id, "owner": owner.id() }),
    )
    .await?;
    Ok(!deleted.is_empty())
}

/// The owner of an API token, marking it used (best effort: concurrent requests with one
/// token would otherwise conflict on that row).
pub async fn token_principal(db: &Db, token_hash: &str, now: &str) -> Result<Option<Principal>, DbError> {
    let found: Option<Principal> = row(
        db,
        "SELECT record::id(user) AS user_id, user.email AS email FROM api_token WHERE token_hash = $hash LIMIT 1",
        json!({ "hash": token_hash }),
    )
    .await?;
    if found.is_some()
        && let Err(e) = rows::<serde_json::Value>(
            db,
            "UPDATE api_token SET last_used_at = <datetime>$now WHERE token_hash = $hash RETURN NONE",
            json!({ "hash": token_hash, "now": now }),
        )
        .await
        && !e.is_write_conflict()
    {
        return Err(e);
    }
    Ok(found)
}
