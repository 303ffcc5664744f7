//! The greeting cache: greetings and fallback lines, rendered once per voice, text and rate.
//!
//! - Bounded in bytes: quick_cache weighs each entry by its samples' bytes and lets the coldest
//!   go first (CLOCK-Pro, an approximation of least recently used).
//! - Single flight: concurrent requests for one entry share one rendering; the others wait for
//!   it (a call answered while its greeting renders does not start a second eSpeak and Piper).
//! - A rendering that failed is not retried by the requests that waited for it: they get its
//!   error for [`FAILURE_TTL`], then the next request tries again.
//! - Renderings (a text-to-speech run; resampling a cached rendering is not one) are limited per
//!   tenant: [`RENDER_BURST`] at once, then one per [`RENDER_PERIOD`].

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::VoiceError;

/// Bytes of audio the cache holds by default (about 23 minutes at 24 kHz).
pub const DEFAULT_BUDGET_BYTES: u64 = 64 * 1024 * 1024;
/// Renderings one tenant may start at once...
pub const RENDER_BURST: u32 = 20;
/// ...then one more per this period.
pub const RENDER_PERIOD: Duration = Duration::from_secs(3);
/// How long a failed rendering's error is handed to the requests that waited for it.
pub const FAILURE_TTL: Duration = Duration::from_secs(5);
/// Failed renderings remembered at most (then forgotten all at once).
const MAX_FAILURES: usize = 1024;

type Audio = Arc<Vec<i16>>;

/// Weighs an entry by its bytes of audio.
#[derive(Clone)]
struct Bytes;

impl quick_cache::Weighter<u64, Audio> for Bytes {
    fn weight(&self, _key: &u64, audio: &Audio) -> u64 {
        (audio.len() as u64 * 2).max(1)
    }
}

/// The cache, shared by every call of the process.
pub struct Greetings {
    cache: quick_cache::sync::Cache<u64, Audio, Bytes>,
    failures: Mutex<HashMap<u64, (Instant, VoiceError)>>,
    renders: DefaultKeyedRateLimiter<String>,
    rendered: AtomicU64,
}

/// The cache key of `text` in the voice `voice_key` at `rate`.
pub fn key(voice_key: &str, text: &str, rate: u32) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (voice_key, text, rate).hash(&mut h);
    h.finish()
}

impl Default for Greetings {
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET_BYTES, RENDER_BURST)
    }
}

impl Greetings {
    /// A cache of at most `budget_bytes` of audio, allowing each tenant `burst` renderings at once.
    pub fn new(budget_bytes: u64, burst: u32) -> Self {
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(RENDER_PERIOD).map(|q| q.allow_burst(burst)).unwrap_or_else(|| Quota::per_minute(burst));
        // A greeting is a few seconds: about 200 KB at 24 kHz.
        let estimated = (budget_bytes / 200_000).clamp(16, 100_000) as usize;
        Self {
            cache: quick_cache::sync::Cache::with_weighter(estimated, budget_bytes, Bytes),
            failures: Mutex::default(),
            renders: RateLimiter::keyed(quota),
            rendered: AtomicU64::new(0),
        }
    }

    /// The cached audio for `key`, if any.
    pub fn get(&self, key: u64) -> Option<Audio> {
        self.cache.get(&key)
    }

    /// Bytes of audio held.
    pub fn bytes(&self) -> u64 {
        self.cache.weight()
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// Renderings started since the process began (tests, benchmarks).
    pub fn rendered(&self) -> u64 {
        self.rendered.load(Ordering::Relaxed)
    }

    /// The audio for `key`: cached, or shared from a rendering in flight, or rendered by `render`
    /// now. `tenant` (None: the process itself, e.g. its start-up warm-up) is charged one
    /// rendering when `counts` and the cache had nothing; over its limit, nothing is rendered.
    pub async fn get_or_render<F, Fut>(&self, key: u64, tenant: Option<&str>, counts: bool, render: F) -> Result<Audio, VoiceError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<i16>, VoiceError>>,
    {
        let guard = match self.cache.get_value_or_guard_async(&key).await {
            Ok(audio) => return Ok(audio),
            Err(guard) => guard,
        };
        if let Some(e) = self.recent_failure(key) {
            return Err(e);
        }
        if counts && let Some(tenant) = tenant {
            if self.renders.check_key(&tenant.to_string()).is_err() {
                tracing::warn!(tenant, "greeting renderings over the limit");
                return Err(VoiceError::Busy("too many greetings rendered for this account; try again in a minute".into()));
            }
            if self.rendered.load(Ordering::Relaxed) % 256 == 255 {
                self.renders.retain_recent();
            }
        }
        if counts {
            self.rendered.fetch_add(1, Ordering::Relaxed);
        }
        match render().await {
            Ok(audio) => {
                let audio = Arc::new(audio);
                // Larger than the whole budget: served, not kept.
                let _ = guard.insert(audio.clone());
                Ok(audio)
            }
            Err(e) => {
                let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
                if failures.len() >= MAX_FAILURES {
                    failures.clear();
                }
                failures.insert(key, (Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    fn recent_failure(&self, key: u64) -> Option<VoiceError> {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        match failures.get(&key) {
            Some((at, e)) if at.elapsed() < FAILURE_TTL => Some(e.clone()),
            Some(_) => {
                failures.remove(&key);
                None
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests;
