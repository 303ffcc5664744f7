//! The one state shared by REST routes, provider webhooks and Leptos server functions.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::users::limiter::LoginLimiter;

/// Why the state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Key(#[from] crate::secrets::KeyFileError),
}

/// Open live-event streams per user id.
pub type StreamCounts = Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>;

/// Cheap to clone; every handler receives it.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub login_limiter: Arc<LoginLimiter>,
    /// When each number's `last_used` was last written, so busy numbers write it at most once a second.
    pub last_used_writes: Arc<std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>>,
    /// Offline models and the greeting cache, shared by every call.
    pub voice: Arc<crate::voice::engine::VoiceEngine>,
    /// Open live-event streams per user (capped in crate::calls::live).
    pub live_streams: StreamCounts,
}

impl AppState {
    /// Loads the sealing key (generating data/secret.key on first run), connects the
    /// configured database (applying migrations) and builds the state.
    pub async fn connect(mut settings: Settings) -> Result<Self, StartError> {
        if settings.secret_key.is_none() {
            let (key, created) = crate::secrets::load_or_create(&settings.data_dir)?;
            if created {
                tracing::info!(path = %settings.data_dir.join("secret.key").display(), "generated a new secret key");
            }
            settings.secret_key = Some(key);
        }
        let db = crate::db::connect(&settings).await?;
        let options = crate::voice::engine::EngineOptions { sampled_voice: settings.sampled_voice };
        let voice = crate::voice::engine::VoiceEngine::with_options(
            crate::voice::models::ModelFiles::new(&settings.models_dir, &settings.stt_model),
            settings.voice_threads,
            settings.provider_timeout,
            options,
        );
        Ok(Self {
            db,
            settings: Arc::new(settings),
            clock: Clock::default(),
            login_limiter: Arc::default(),
            last_used_writes: Arc::default(),
            voice,
            live_streams: Arc::default(),
        })
    }
}

impl AppState {
    /// The key that seals stored credentials (always loaded by [`AppState::connect`]).
    pub fn secret_key(&self) -> &crate::secrets::SecretKey {
        self.settings.secret_key.as_ref().unwrap_or_else(|| unreachable!("AppState::connect loads the key"))
    }
}
