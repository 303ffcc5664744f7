//! The one state shared by REST routes, provider webhooks and Leptos server functions.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::net::guard::GuardedClient;
use crate::slots::Slots;
use crate::users::limiter::LoginLimiter;

/// Why the state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Key(#[from] crate::secrets::KeyFileError),
    #[error(transparent)]
    Node(#[from] crate::node::NodeIdError),
    #[error("cannot build the outbound HTTP client: {0}")]
    Outbound(#[from] reqwest::Error),
}

/// Cheap to clone; every handler receives it.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub login_limiter: Arc<LoginLimiter>,
    /// When each number's `last_used` was last written, so busy numbers write it at most once a second.
    /// (Bounded: a number forgotten here gets one more write.)
    pub last_used_writes: Arc<quick_cache::sync::Cache<String, std::time::Instant>>,
    /// Writes the calls' rows as answers create them, in groups (crate::db::call_writer).
    pub call_writer: crate::db::call_writer::CallWriter,
    /// The numbers webhooks answer, with their agents (crate::numbers::cache).
    pub numbers_cache: Arc<crate::numbers::cache::NumberCache>,
    /// Offline models and the greeting cache, shared by every call.
    pub voice: Arc<crate::voice::engine::VoiceEngine>,
    /// The one client for requests to URLs a tenant chose (agents' providers): public
    /// addresses only, besides the operator's `VOXGATE_OUTBOUND_ALLOW`.
    pub outbound: GuardedClient,
    /// The client for providers' REST APIs (ownership checks): their public hosts, or where the
    /// operator pointed them (VOXGATE_*_API_URL, trusted whatever the address).
    pub provider_api: GuardedClient,
    /// Bulk imports running in the background on this node (the dashboard's progress bar).
    pub imports: Arc<crate::numbers::import_jobs::ImportJobs>,
    /// Listing totals of numbers and of calls, counted once and reused (crate::db::counts).
    pub number_counts: Arc<crate::db::counts::CountCache>,
    pub call_counts: Arc<crate::db::counts::CountCache>,
    /// Open live-event streams, in all and per user (caps in crate::calls::live).
    pub live_streams: Arc<Slots>,
    /// Heard by calls and event streams when the server stops (crate::shutdown).
    pub shutdown: crate::shutdown::Shutdown,
    /// This process's node id, written on the calls it runs (crate::node).
    pub node: Arc<str>,
    /// Calls streaming on this node, in all and per user (VOXGATE_MAX_CALLS, _PER_USER).
    pub calls: Arc<Slots>,
    /// Test calls running (a number's Test button, a browser test call), in all and per user
    /// (caps in crate::test_calls).
    pub test_calls: Arc<Slots>,
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
        let node: Arc<str> = crate::node::id(&settings)?.into();
        let db = crate::db::connect(&settings).await?;
        let outbound = GuardedClient::from_settings(&settings)?;
        let provider_api = if settings.provider_apis.overridden() {
            let everything = vec![
                ipnet::IpNet::new_assert(std::net::Ipv4Addr::UNSPECIFIED.into(), 0),
                ipnet::IpNet::new_assert(std::net::Ipv6Addr::UNSPECIFIED.into(), 0),
            ];
            GuardedClient::new(Arc::new(crate::net::guard::GuardPolicy::new(everything)), crate::net::guard::CONNECT_TIMEOUT)?
        } else {
            GuardedClient::new(Arc::default(), crate::net::guard::CONNECT_TIMEOUT)?
        };
        let options = crate::voice::engine::EngineOptions { sampled_voice: settings.sampled_voice };
        let voice = crate::voice::engine::VoiceEngine::with_options(
            crate::voice::models::ModelFiles::new(&settings.models_dir, &settings.stt_model),
            settings.voice_threads,
            settings.provider_timeout,
            options,
            outbound.clone(),
        );
        let calls = Slots::new(settings.max_calls, settings.max_calls_per_user);
        let call_writer = crate::db::call_writer::CallWriter::start(db.clone());
        Ok(Self {
            db,
            settings: Arc::new(settings),
            clock: Clock::default(),
            login_limiter: Arc::default(),
            last_used_writes: Arc::new(quick_cache::sync::Cache::new(crate::numbers::cache::CAPACITY)),
            numbers_cache: Arc::default(),
            call_writer,
            voice,
            outbound,
            provider_api,
            imports: Arc::default(),
            number_counts: Arc::new(crate::db::counts::CountCache::new(crate::db::counts::NUMBERS_TTL)),
            call_counts: Arc::new(crate::db::counts::CountCache::new(crate::db::counts::CALLS_TTL)),
            live_streams: Slots::new(crate::calls::live::MAX_STREAMS, crate::calls::live::MAX_STREAMS_PER_USER),
            shutdown: crate::shutdown::Shutdown::default(),
            node,
            calls,
            test_calls: Slots::new(crate::test_calls::MAX_TEST_CALLS, crate::test_calls::MAX_TEST_CALLS_PER_USER),
        })
    }
}

impl AppState {
    /// The key that seals stored credentials (always loaded by [`AppState::connect`]).
    pub fn secret_key(&self) -> &crate::secrets::SecretKey {
        self.settings.secret_key.as_ref().unwrap_or_else(|| unreachable!("AppState::connect loads the key"))
    }
}
