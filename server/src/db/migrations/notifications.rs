//! Migration 17: end-of-call notifications (kept apart so migrations.rs stays small).

use super::Migration;

/// Notification settings (one row per user, keyed by the user's key) and the delivery queue.
pub const NOTIFICATIONS: Migration = Migration {
    version: 17,
    name: "notifications",
    // A delivery row is the queue and the log at once: `pending` rows wait for `next_at`, a node
    // takes one by a conditional update to `sending` with its own lease (so two nodes, or a
    // restarted one, never send it at the same time), and it ends `delivered` or `failed`.
    // Its key is the event id the receiver sees; an end-of-call event's key is derived from the
    // call, so every path that ends a call may enqueue it and only the first one counts.
    sql: "
        DEFINE TABLE notify_settings SCHEMAFULL;
        DEFINE FIELD owner ON notify_settings TYPE record<user>;
        DEFINE FIELD webhook_url ON notify_settings TYPE option<string>;
        DEFINE FIELD secret_sealed ON notify_settings TYPE option<string>;
        DEFINE FIELD secret_last4 ON notify_settings TYPE option<string>;
        DEFINE FIELD email_to ON notify_settings TYPE option<string>;
        DEFINE FIELD email_events ON notify_settings TYPE array<string>;
        DEFINE FIELD keywords ON notify_settings TYPE array<string>;
        DEFINE FIELD agent_webhooks_json ON notify_settings TYPE string;
        DEFINE FIELD updated_at ON notify_settings TYPE datetime;
        DEFINE INDEX notify_settings_owner ON notify_settings FIELDS owner UNIQUE;

        DEFINE TABLE notify_event SCHEMAFULL;
        DEFINE FIELD owner ON notify_event TYPE record<user>;
        DEFINE FIELD channel ON notify_event TYPE string ASSERT $value IN ['webhook', 'email'];
        DEFINE FIELD event ON notify_event TYPE string ASSERT $value IN ['call.ended', 'call.failed', 'transfer.requested', 'keyword.said', 'test'];
        DEFINE FIELD call_id ON notify_event TYPE option<string>;
        DEFINE FIELD target ON notify_event TYPE string ASSERT string::len($value) > 0;
        DEFINE FIELD detail ON notify_event TYPE option<string>;
        DEFINE FIELD state ON notify_event TYPE string ASSERT $value IN ['pending', 'sending', 'delivered', 'failed'];
        DEFINE FIELD attempts ON notify_event TYPE int;
        DEFINE FIELD next_at ON notify_event TYPE datetime;
        DEFINE FIELD lease ON notify_event TYPE option<string>;
        DEFINE FIELD lease_until ON notify_event TYPE option<datetime>;
        DEFINE FIELD last_status ON notify_event TYPE option<int>;
        DEFINE FIELD last_error ON notify_event TYPE option<string>;
        DEFINE FIELD created_at ON notify_event TYPE datetime;
        DEFINE FIELD updated_at ON notify_event TYPE datetime;
        DEFINE INDEX notify_event_state ON notify_event FIELDS state;
        DEFINE INDEX notify_event_owner ON notify_event FIELDS owner;
        DEFINE INDEX notify_event_updated ON notify_event FIELDS updated_at;
    ",
};
