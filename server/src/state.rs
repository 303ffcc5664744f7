//! The one state shared by REST routes, provider webhooks and Leptos server functions.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::users::limiter::LoginLimiter;

/// Cheap to clone; every handler receives it.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub login_limiter: Arc<LoginLimiter>,
}

impl AppState {
    /// Connects the configured database (applying migrations) and builds the state.
    pub async fn connect(settings: Settings) -> Result<Self, crate::db::DbError> {
        let db = crate::db::connect(&settings).await?;
        Ok(Self { db, settings: Arc::new(settings), clock: Clock::default(), login_limiter: Arc::default() })
    }
}
