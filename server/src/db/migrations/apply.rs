//! Applying the migrations: in order, each in a transaction with its version record, safe for
//! several nodes starting at once on one database.

use super::all;
use crate::db::{Db, DbError, rows};

const BOOTSTRAP: &str = "
    DEFINE TABLE IF NOT EXISTS schema_migration SCHEMAFULL;
    DEFINE FIELD IF NOT EXISTS version ON schema_migration TYPE int;
    DEFINE FIELD IF NOT EXISTS name ON schema_migration TYPE string;
    DEFINE FIELD IF NOT EXISTS applied_at ON schema_migration TYPE datetime;
    DEFINE INDEX IF NOT EXISTS schema_migration_version ON schema_migration FIELDS version UNIQUE;
";

/// Tries of one step while other nodes migrate the same database at the same time.
const TRIES: u32 = 30;

/// Applies every migration newer than the recorded version; returns how many ran here.
///
/// Several nodes may start at once on a new database: each step commits with its version record
/// (unique), so only one node's step counts; a node that loses the race sees the version
/// recorded and goes on, or retries after a write conflict.
pub async fn apply(db: &Db) -> Result<usize, DbError> {
    settle(db, 0, || run(db, BOOTSTRAP, serde_json::json!({}))).await?;
    let mut current = current_version(db).await?;
    let mut ran = 0;
    for m in all() {
        if m.version <= current {
            continue;
        }
        let sql = format!(
            "BEGIN TRANSACTION;\n{}\nCREATE schema_migration SET version = $version, name = $name, applied_at = time::now();\nCOMMIT TRANSACTION;",
            m.sql
        );
        let vars = serde_json::json!({ "version": m.version, "name": m.name });
        let applied = settle(db, m.version, || run(db, &sql, vars.clone())).await?;
        if applied {
            tracing::info!(version = m.version, name = m.name, "applied schema migration");
            ran += 1;
        }
        current = m.version;
    }
    Ok(ran)
}

/// Runs `step` (migration `version`, or 0 for the bootstrap) until it succeeds (`true`) or
/// another node is seen to have applied it (`false`). Errors that a concurrent migration
/// explains are retried; any other is returned.
async fn settle<F, Fut>(db: &Db, version: i64, step: F) -> Result<bool, DbError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), DbError>>,
{
    let mut tries = 0;
    loop {
        let error = match step().await {
            Ok(()) => return Ok(true),
            Err(e) => e,
        };
        if version > 0 && current_version(db).await? >= version {
            return Ok(false);
        }
        tries += 1;
        if tries >= TRIES || !raced(&error) {
            return Err(error);
        }
        tracing::debug!(version, error = %error, "schema migration raced another node; trying again");
        // Spread the nodes' retries apart.
        tokio::time::sleep(std::time::Duration::from_millis(20 + rand::random::<u64>() % (30 * tries as u64))).await;
    }
}

/// The words of SurrealDB for the other statements of a transaction that failed.
const NOT_EXECUTED: &str = "not executed due to a failed transaction";

/// Runs `sql`; on failure, the statement error that caused it (in a failed transaction the
/// other statements all say [`NOT_EXECUTED`]; when only they do, the commit itself failed).
async fn run(db: &Db, sql: &str, vars: serde_json::Value) -> Result<(), DbError> {
    let mut response = db.query(sql).bind(vars).await?;
    let mut errors: Vec<(usize, surrealdb::Error)> = response.take_errors().into_iter().collect();
    errors.sort_by_key(|(statement, _)| *statement);
    let cause = errors.iter().position(|(_, e)| !e.to_string().contains(NOT_EXECUTED)).unwrap_or(0);
    match errors.into_iter().nth(cause) {
        Some((_, e)) => Err(e.into()),
        None => Ok(()),
    }
}

/// Whether `error` is what two nodes migrating at once cause: a write conflict, a definition the
/// other node has just made, or its version record.
fn raced(error: &DbError) -> bool {
    let text = error.to_string();
    error.is_write_conflict()
        || error.is_unique_violation("schema_migration_version")
        || text.contains("already exists")
        || text.contains("can be retried")
        || text.contains(NOT_EXECUTED)
}

/// The highest applied migration version (0 on a new database).
pub async fn current_version(db: &Db) -> Result<i64, DbError> {
    let versions: Vec<i64> =
        rows(db, "SELECT VALUE version FROM schema_migration ORDER BY version DESC LIMIT 1", serde_json::json!({})).await?;
    Ok(versions.first().copied().unwrap_or(0))
}
