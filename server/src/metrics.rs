//! Prometheus metrics at `GET /metrics` (OpenMetrics text): request and webhook latency,
//! live calls and frames per provider, late audio chunks, turn latency by stage, provider
//! errors, and the depths of the node's queues. Labels are bounded sets (route templates,
//! providers, stages): never an id, a number or a tenant.
//!
//! The metrics are the process's (one registry, as Prometheus scrapes a process); the gauges
//! of queues are read from the state when scraped. With `VOXGATE_METRICS_TOKEN` set, a scrape
//! must bear it (`Authorization: Bearer …`).

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::phone_number::Provider;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::http::ApiError;
use crate::state::AppState;

/// A chunk of agent audio that left later than this against its real-time schedule is late.
pub const LATE_CHUNK_MS: usize = 20;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabel {
    provider: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabel {
    stage: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabel {
    queue: &'static str,
}

/// Latency buckets from 0.25 ms to about 8 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    webhooks: Family<ProviderLabel, Histogram, fn() -> Histogram>,
    live_calls: Family<ProviderLabel, Gauge>,
    frames_in: Family<ProviderLabel, Counter>,
    frames_out: Family<ProviderLabel, Counter>,
    chunks: Counter,
    late_chunks: Counter,
    turn_stages: Family<StageLabel, Histogram, fn() -> Histogram>,
    provider_errors: Family<KindLabel, Counter>,
    queues: Family<QueueLabel, Gauge>,
    scrapes: Counter,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn get() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("voxgate");
        let requests = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency as fn() -> Histogram);
        let webhooks = Family::<ProviderLabel, Histogram, fn() -> Histogram>::new_with_constructor(latency as fn() -> Histogram);
        let turn_stages = Family::<StageLabel, Histogram, fn() -> Histogram>::new_with_constructor(latency as fn() -> Histogram);
        let m = Self {
            registry: Registry::default(),
            requests,
            webhooks,
            live_calls: Family::default(),
            frames_in: Family::default(),
            frames_out: Family::default(),
            chunks: Counter::default(),
            late_chunks: Counter::default(),
            turn_stages,
            provider_errors: Family::default(),
            queues: Family::default(),
            scrapes: Counter::default(),
        };
        registry.register(
            "http_request_duration_seconds",
            "REST and telephony requests by route template, method and status",
            m.requests.clone(),
        );
        registry.register("webhook_duration_seconds", "Provider webhooks (answers, status callbacks) by provider", m.webhooks.clone());
        registry.register("calls_live", "Calls streaming on this node by provider", m.live_calls.clone());
        registry.register("frames_received", "Stream messages received from providers", m.frames_in.clone());
        registry.register("frames_sent", "Stream messages of agent audio sent to providers", m.frames_out.clone());
        registry.register("audio_chunks", "Chunks of agent audio paced out (counted when a call ends)", m.chunks.clone());
        registry.register(
            "audio_chunks_late",
            "Chunks of agent audio that left over 20 ms late (counted when a call ends)",
            m.late_chunks.clone(),
        );
        registry.register("turn_stage_seconds", "Turn latency by stage: endpointing, stt, agent, tts, first_byte", m.turn_stages.clone());
        registry.register("provider_errors", "Failed requests to speech and agent providers by kind", m.provider_errors.clone());
        registry.register("queue_depth", "Items waiting or held in the node's bounded queues", m.queues.clone());
        registry.register("metrics_scrapes", "Scrapes of this endpoint", m.scrapes.clone());
        Self { registry, ..m }
    }

    /// A provider stream's message arrived.
    pub fn frame_in(&self, provider: Provider) {
        self.frames_in.get_or_create(&ProviderLabel { provider: provider.as_str() }).inc();
    }

    /// A message of agent audio went to the provider.
    pub fn frame_out(&self, provider: Provider) {
        self.frames_out.get_or_create(&ProviderLabel { provider: provider.as_str() }).inc();
    }

    /// A call started streaming on this node; it stops counting when the guard drops.
    pub fn call_live(&'static self, provider: Provider) -> LiveCall {
        self.live_calls.get_or_create(&ProviderLabel { provider: provider.as_str() }).inc();
        LiveCall { provider }
    }

    /// A call's paced chunks: `late` of `total` left over [`LATE_CHUNK_MS`] late.
    pub fn chunks(&self, total: u64, late: u64) {
        self.chunks.inc_by(total);
        self.late_chunks.inc_by(late);
    }

    /// One stage of a turn took `ms`.
    pub fn turn_stage(&self, stage: &'static str, ms: u64) {
        self.turn_stages.get_or_create(&StageLabel { stage }).observe(ms as f64 / 1000.0);
    }

    /// A request to a speech or agent provider failed (`kind`: stt, agent, tts).
    pub fn provider_error(&self, kind: &'static str) {
        self.provider_errors.get_or_create(&KindLabel { kind }).inc();
    }

    /// The text exposition, with the queue depths of `state`.
    pub fn render(&self, state: &AppState) -> String {
        self.scrapes.inc();
        let queues = [
            ("calls", state.calls.held() as i64),
            ("test_calls", state.test_calls.held() as i64),
            ("live_event_streams", state.live_streams.held() as i64),
            ("number_imports", state.imports.running() as i64),
            ("numbers_cache", state.numbers_cache.len() as i64),
        ];
        for (queue, depth) in queues {
            self.queues.get_or_create(&QueueLabel { queue }).set(depth);
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Counts a live call until dropped.
pub struct LiveCall {
    provider: Provider,
}

impl Drop for LiveCall {
    fn drop(&mut self) {
        get().live_calls.get_or_create(&ProviderLabel { provider: self.provider.as_str() }).dec();
    }
}

/// The provider a telephony route template belongs to (Exotel's first routes are unprefixed).
fn webhook_provider(route: &str) -> Option<&'static str> {
    let rest = route.strip_prefix("/api/telephony/")?;
    let provider = match rest.split('/').next()? {
        "twilio" => "twilio",
        "vonage" => "vonage",
        "plivo" => "plivo",
        "exotel" | "webhook" => "exotel",
        _ => return None,
    };
    // Streams are WebSocket upgrades: their time is the call's, not an answer's.
    (!rest.contains("/stream/")).then_some(provider)
}

/// Middleware (after routing): times each request under its route template.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let route = route.unwrap_or_else(|| "unmatched".into());
    let m = get();
    if let Some(provider) = webhook_provider(&route) {
        m.webhooks.get_or_create(&ProviderLabel { provider }).observe(seconds);
    }
    m.requests.get_or_create(&RequestLabels { route, method, status: response.status().as_u16() }).observe(seconds);
    response
}

/// `GET /metrics`: the exposition; 401 without the configured token.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = &state.settings.ops.metrics_token {
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let ok = given.is_some_and(|g| bool::from(subtle::ConstantTimeEq::ct_eq(g.as_bytes(), token.0.as_bytes())));
        if !ok {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "this endpoint needs the metrics token as a bearer token"));
        }
    }
    let body = get().render(&state);
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_routes_name_their_provider_and_streams_are_not_answers() {
        assert_eq!(webhook_provider("/api/telephony/webhook/{id}"), Some("exotel"));
        assert_eq!(webhook_provider("/api/telephony/twilio/voice/{id}"), Some("twilio"));
        assert_eq!(webhook_provider("/api/telephony/vonage/event/{id}"), Some("vonage"));
        assert_eq!(webhook_provider("/api/telephony/plivo/stream/{id}"), None);
        assert_eq!(webhook_provider("/api/telephony/ws/{id}"), None);
        assert_eq!(webhook_provider("/api/agents"), None);
    }
}
