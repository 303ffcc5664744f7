//! SurrealDB: connection (surrealkv:// | mem:// | ws://), schema migrations, one repository per table.

pub mod agents;
pub mod call_writer;
pub mod calls;
pub mod campaigns;
pub mod contacts;
pub mod counts;
pub mod invites;
pub mod migrations;
pub mod nodes;
pub mod notify_events;
pub mod notify_settings;
pub mod number_checks;
pub mod outbound;
pub mod phone_numbers;
pub mod recordings;
pub mod routing;
pub mod system_checks;
pub mod transfers;
pub mod turns;
pub mod users;

use serde::de::DeserializeOwned;
use surrealdb::Surreal;
use surrealdb::engine::any::{self, Any};
use surrealdb::opt::auth::{Database, Namespace, Root};

use crate::config::{DatabaseAuth, DatabaseUrl, Settings};

/// The database handle every repository takes: one SurrealDB session shared by its clones.
/// (A clone of `Surreal` itself opens a new session; on a SurrealDB server that is an attach
/// and a replayed sign-in per clone, and the state is cloned for every request.)
pub type Db = std::sync::Arc<Surreal<Any>>;

/// Database failures; the message is for logs, never sent to clients as is.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Shown without the values SurrealDB quotes (a turn's text, an e-mail in a unique index):
    /// errors reach logs, and keypad digits or addresses must not.
    #[error("database: {}", without_values(&.0.to_string()))]
    Surreal(#[from] surrealdb::Error),
    #[error("database row did not decode: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("database {0} is in use by another process (is `voxgate serve` running?)")]
    Locked(String),
    #[error("cannot prepare {0}: {1}")]
    Io(String, std::io::Error),
    /// The server refused VOXGATE_DATABASE_USER / _PASSWORD at the level VOXGATE_DATABASE_AUTH
    /// names; the reason is SurrealDB's, without quoted values (never the password).
    #[error(
        "the SurrealDB server refused {auth} user {user:?} ({reason}): check VOXGATE_DATABASE_USER, VOXGATE_DATABASE_PASSWORD and VOXGATE_DATABASE_AUTH (root, namespace or database)"
    )]
    SignIn { auth: DatabaseAuth, user: String, reason: String },
}

/// `message` with every quoted value ('…') and bracketed list ([…]) elided; names in
/// backticks (tables, fields, indexes, record ids) are kept.
pub fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        let close = match c {
            '\'' => '\'',
            '"' => '"',
            '[' => ']',
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push(c);
        out.push('…');
        let mut depth = 0;
        for d in chars.by_ref() {
            if close == ']' && d == '[' {
                depth += 1;
            } else if d == close {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
        }
        out.push(close);
    }
    out
}

impl DbError {
    /// Whether a concurrent transaction wrote the same rows first. SurrealKV says "Transaction
    /// write conflict", a SurrealDB server "Transaction conflict: Write conflict", the in-memory
    /// engine (`mem://`) "Transaction conflict: … This transaction can be retried".
    pub fn is_write_conflict(&self) -> bool {
        matches!(self, Self::Surreal(_)) && {
            let text = self.to_string();
            text.contains("Transaction write conflict")
                || text.contains("Transaction conflict")
                || text.contains("This transaction can be retried")
        }
    }

    /// Whether this is a violation of the unique index `index`.
    pub fn is_unique_violation(&self, index: &str) -> bool {
        matches!(self, Self::Surreal(_)) && {
            let text = self.to_string();
            text.contains(index) && text.contains("already contains")
        }
    }
}

/// Opens the configured database, selects namespace and database, and applies migrations.
pub async fn connect(settings: &Settings) -> Result<Db, DbError> {
    if let DatabaseUrl::SurrealKv(path) = &settings.database_url
        && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|e| DbError::Io(parent.display().to_string(), e))?;
    }
    let address = settings.database_url.engine_address();
    let db: Db = any::connect(address.as_str()).await.map(std::sync::Arc::new).map_err(|e| {
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("lock") { DbError::Locked(address.clone()) } else { DbError::Surreal(e) }
    })?;
    if let (Some(username), Some(password)) = (&settings.database_user, &settings.database_password) {
        sign_in(&db, settings, username, &password.0).await?;
    }
    // On a new database, USE defines the namespace and the database: nodes starting at once
    // write the same definitions, and all but one meet a write conflict.
    retry_conflicts(|| async {
        db.use_ns(settings.database_namespace.as_str()).use_db(settings.database_name.as_str()).await.map_err(DbError::from)
    })
    .await?;
    migrations::apply(&db).await?;
    Ok(db)
}

/// Whether a failed `sql` can simply run again: one statement, or one transaction, commits
/// nothing when it fails (a query of several statements may have committed its first ones).
fn atomic(sql: &str) -> bool {
    let sql = sql.trim();
    sql.starts_with("BEGIN") || !sql.trim_end_matches(';').contains(';')
}

/// Runs `sql`, again when a concurrent transaction wrote the same rows first and the query is
/// [`atomic`] (see [`retry_conflicts`]): a write conflict is a reason to retry, not an error for
/// the caller (a provider's callback racing the dialer on one call row, say).
async fn run(db: &Db, sql: &str, vars: serde_json::Value) -> Result<surrealdb::IndexedResults, DbError> {
    let once = || async { db.query(sql).bind(vars.clone()).await.and_then(|r| r.check()).map_err(DbError::from) };
    if atomic(sql) { retry_conflicts(once).await } else { once().await }
}

/// Signs in as the configured user at its level (a database user's session is then in its
/// namespace and database already).
async fn sign_in(db: &Db, settings: &Settings, username: &str, password: &str) -> Result<(), DbError> {
    let (username, password) = (username.to_string(), password.to_string());
    let (namespace, database) = (settings.database_namespace.clone(), settings.database_name.clone());
    let signed = match settings.database_auth {
        DatabaseAuth::Root => db.signin(Root { username, password }).await,
        DatabaseAuth::Namespace => db.signin(Namespace { namespace, username, password }).await,
        DatabaseAuth::Database => db.signin(Database { namespace, database, username, password }).await,
    };
    signed.map(|_| ()).map_err(|e| DbError::SignIn {
        auth: settings.database_auth,
        user: settings.database_user.clone().unwrap_or_default(),
        reason: without_values(&e.to_string()),
    })
}

/// Runs one query with JSON variables and decodes the rows of its last statement
/// (so a query wrapped in BEGIN/COMMIT must not expect rows back).
pub async fn rows<T: DeserializeOwned>(db: &Db, sql: &str, vars: serde_json::Value) -> Result<Vec<T>, DbError> {
    let mut response = run(db, sql, vars).await?;
    let last = response.num_statements().saturating_sub(1);
    let values: Vec<serde_json::Value> = response.take(last)?;
    values.into_iter().map(|v| serde_json::from_value(v).map_err(DbError::from)).collect()
}

/// Runs a multi-statement query; read each statement's rows with [`take`].
pub async fn query(db: &Db, sql: &str, vars: serde_json::Value) -> Result<surrealdb::IndexedResults, DbError> {
    run(db, sql, vars).await
}

/// Decodes the rows of statement `index` of a [`query`] response.
pub fn take<T: DeserializeOwned>(response: &mut surrealdb::IndexedResults, index: usize) -> Result<Vec<T>, DbError> {
    let values: Vec<serde_json::Value> = response.take(index)?;
    values.into_iter().map(|v| serde_json::from_value(v).map_err(DbError::from)).collect()
}

/// Like [`rows`], for a statement that yields at most one row.
pub async fn row<T: DeserializeOwned>(db: &Db, sql: &str, vars: serde_json::Value) -> Result<Option<T>, DbError> {
    Ok(rows(db, sql, vars).await?.into_iter().next())
}

/// Runs `attempt` again, up to 6 times and briefly apart (10-60 ms, with jitter), while a
/// concurrent transaction wrote the same rows first (a request and a background task, e.g. the
/// campaign dialer's lease). Only for a single statement or one transaction: the conflict left
/// it undone, so trying again changes nothing twice.
async fn retry_conflicts<T, F, Fut>(mut attempt: F) -> Result<T, DbError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DbError>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(e) if e.is_write_conflict() && tries < 6 => {
                tries += 1;
                // Growing, with jitter: two writers that met once do not meet again in step.
                let wait = 10 * tries + rand::random_range(0..10);
                tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            }
            other => return other,
        }
    }
}

/// A new random record key: 20 lowercase letters and digits.
pub fn new_key() -> String {
    crate::secrets::random_string(b"abcdefghijklmnopqrstuvwxyz0123456789", 20)
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn only_a_single_statement_or_a_transaction_is_retried() {
        assert!(super::atomic("UPDATE call SET status = $s WHERE id = $id"));
        assert!(super::atomic("UPDATE call SET status = $s;\n"));
        assert!(super::atomic("BEGIN TRANSACTION; UPDATE a SET x = 1; UPDATE b SET y = 2; COMMIT TRANSACTION;"));
        assert!(!super::atomic("CREATE a SET x = 1; UPDATE b SET y = 2;"));
    }

    #[test]
    fn quoted_values_are_elided_and_names_kept() {
        assert_eq!(
            without_values("Found '4929123412341234' for field `text`, with record `turn:abc`, but field must conform to: false"),
            "Found '…' for field `text`, with record `turn:abc`, but field must conform to: false"
        );
        assert_eq!(
            without_values("Database index `user_email` already contains ['ana@example.com'], with record `user:x`"),
            "Database index `user_email` already contains […], with record `user:x`"
        );
        assert_eq!(without_values("nested [[1, 2], 'x'] and \"quoted\" end"), "nested […] and \"…\" end");
        assert_eq!(without_values("unterminated 'abc"), "unterminated '…'");
    }
}
