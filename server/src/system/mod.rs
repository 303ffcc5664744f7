//! System service: database checks used by the Setup Guide and `/healthz`.

use serde::Serialize;

use crate::db::{self, Db, DbError};

/// What a dashboard database check reports.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckReport {
    pub id: String,
    pub checked_at: String,
    pub total: i64,
    pub schema_version: i64,
}

/// Records a check (write + read in one transaction) and reports the schema version.
pub async fn run_check(db: &Db, source: &str) -> Result<CheckReport, DbError> {
    let row = db::system_checks::record(db, source).await?;
    let schema_version = db::migrations::current_version(db).await?;
    Ok(CheckReport { id: row.id, checked_at: row.checked_at, total: row.total, schema_version })
}

/// Health as `/healthz` reports it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
    pub schema_version: i64,
    pub version: &'static str,
}

/// Asks the database for something real (the schema version), bounded by a timeout.
pub async fn health(db: &Db) -> Result<Health, DbError> {
    let schema_version = db::migrations::current_version(db).await?;
    Ok(Health { status: "ok", database: "ok", schema_version, version: env!("CARGO_PKG_VERSION") })
}
