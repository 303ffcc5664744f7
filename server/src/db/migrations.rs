//! Versioned schema migrations, applied in order at start and recorded in `schema_migration`.

pub use apply::{apply, current_version};

/// One schema step; `sql` runs inside a transaction with its version record.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, oldest first. Never edit one that has shipped; add a new one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "system checks",
        sql: "
            DEFINE TABLE system_check SCHEMAFULL;
            DEFINE FIELD checked_at ON system_check TYPE datetime;
            DEFINE FIELD source ON system_check TYPE string ASSERT string::len($value) > 0;
            DEFINE INDEX system_check_checked_at ON system_check FIELDS checked_at;
        ",
    },
    Migration {
        version: 2,
        name: "users, sessions, API tokens",
        sql: "
            DEFINE TABLE user SCHEMAFULL;
            DEFINE FIELD email ON user TYPE string ASSERT string::is_email($value);
            DEFINE FIELD password_hash ON user TYPE string ASSERT string::starts_with($value, '$argon2id$');
            DEFINE FIELD created_at ON user TYPE datetime;
            DEFINE INDEX user_email ON user FIELDS email UNIQUE;

            DEFINE TABLE user_session SCHEMAFULL;
            DEFINE FIELD user ON user_session TYPE record<user>;
            DEFINE FIELD token_hash ON user_session TYPE string;
            DEFINE FIELD created_at ON user_session TYPE datetime;
            DEFINE FIELD expires_at ON user_session TYPE datetime;
            DEFINE INDEX user_session_token ON user_session FIELDS token_hash UNIQUE;
            DEFINE INDEX user_session_user ON user_session FIELDS user;

            DEFINE TABLE api_token SCHEMAFULL;
            DEFINE FIELD user ON api_token TYPE record<user>;
            DEFINE FIELD name ON api_token TYPE string ASSERT string::len($value) > 0;
            DEFINE FIELD prefix ON api_token TYPE string;
            DEFINE FIELD token_hash ON api_token TYPE string;
            DEFINE FIELD created_at ON api_token TYPE datetime;
            DEFINE FIELD last_used_at ON api_token TYPE option<datetime>;
            DEFINE INDEX api_token_hash ON api_token FIELDS token_hash UNIQUE;
            DEFINE INDEX api_token_user ON api_token FIELDS user;
        ",
    },
    Migration {
        version: 3,
        name: "agents and phone numbers",
        sql: "
            DEFINE TABLE agent SCHEMAFULL;
            DEFINE FIELD owner ON agent TYPE record<user>;
            DEFINE FIELD name ON agent TYPE string ASSERT string::len($value) > 0;
            DEFINE FIELD language ON agent TYPE string ASSERT $value IN ['en', 'hi'];
            DEFINE FIELD settings_json ON agent TYPE string;
            DEFINE FIELD created_at ON agent TYPE datetime;
            DEFINE FIELD updated_at ON agent TYPE datetime;
            DEFINE INDEX agent_owner ON agent FIELDS owner, updated_at;

            DEFINE TABLE phone_number SCHEMAFULL;
            DEFINE FIELD owner ON phone_number TYPE record<user>;
            DEFINE FIELD phone_number ON phone_number TYPE string ASSERT string::starts_with($value, '+');
            DEFINE FIELD display_name ON phone_number TYPE string;
            DEFINE FIELD provider ON phone_number TYPE string ASSERT $value IN ['exotel', 'twilio', 'other'];
            DEFINE FIELD account_key ON phone_number TYPE string;
            DEFINE FIELD exotel_sid ON phone_number TYPE option<string>;
            DEFINE FIELD exotel_app_id ON phone_number TYPE option<string>;
            DEFINE FIELD exotel_domain ON phone_number TYPE option<string>;
            DEFINE FIELD exotel_region ON phone_number TYPE option<string>;
            DEFINE FIELD exotel_api_key_sealed ON phone_number TYPE option<string>;
            DEFINE FIELD exotel_api_key_last4 ON phone_number TYPE option<string>;
            DEFINE FIELD exotel_api_token_sealed ON phone_number TYPE option<string>;
            DEFINE FIELD exotel_api_token_last4 ON phone_number TYPE option<string>;
            DEFINE FIELD linked_agent ON phone_number TYPE option<record<agent>>;
            DEFINE FIELD status ON phone_number TYPE string ASSERT $value IN ['active', 'inactive', 'error'];
            DEFINE FIELD last_used ON phone_number TYPE option<datetime>;
            DEFINE FIELD url_secret ON phone_number TYPE string ASSERT string::len($value) >= 20;
            DEFINE FIELD search ON phone_number TYPE string;
            DEFINE FIELD created_at ON phone_number TYPE datetime;
            DEFINE FIELD updated_at ON phone_number TYPE datetime;
            DEFINE INDEX phone_number_unique ON phone_number FIELDS account_key, phone_number UNIQUE;
            DEFINE INDEX phone_number_owner ON phone_number FIELDS owner, created_at;
            DEFINE INDEX phone_number_owner_status ON phone_number FIELDS owner, status;
            DEFINE INDEX phone_number_owner_agent ON phone_number FIELDS owner, linked_agent;
        ",
    },
    Migration {
        version: 4,
        name: "calls",
        sql: "
            DEFINE TABLE call SCHEMAFULL;
            DEFINE FIELD owner ON call TYPE record<user>;
            DEFINE FIELD phone_id ON call TYPE string;
            DEFINE FIELD phone_number ON call TYPE string;
            DEFINE FIELD agent_id ON call TYPE option<string>;
            DEFINE FIELD provider ON call TYPE string;
            DEFINE FIELD session_id ON call TYPE string;
            DEFINE FIELD status ON call TYPE string ASSERT $value IN ['ringing', 'in_progress', 'completed', 'failed', 'rejected'];
            DEFINE FIELD caller ON call TYPE option<string>;
            DEFINE FIELD callee ON call TYPE option<string>;
            DEFINE FIELD direction ON call TYPE option<string>;
            DEFINE FIELD params_json ON call TYPE string;
            DEFINE FIELD reason ON call TYPE option<string>;
            DEFINE FIELD started_at ON call TYPE datetime;
            DEFINE FIELD ended_at ON call TYPE option<datetime>;
            DEFINE FIELD duration_ms ON call TYPE option<int>;
            DEFINE INDEX call_session ON call FIELDS provider, session_id UNIQUE;
            DEFINE INDEX call_owner ON call FIELDS owner, started_at;
            DEFINE INDEX call_phone ON call FIELDS phone_id, started_at;
        ",
    },
    Migration {
        version: 5,
        name: "conversation turns",
        sql: "
            DEFINE TABLE turn SCHEMAFULL;
            DEFINE FIELD call ON turn TYPE record<call>;
            DEFINE FIELD owner ON turn TYPE record<user>;
            DEFINE FIELD seq ON turn TYPE int;
            DEFINE FIELD role ON turn TYPE string ASSERT $value IN ['caller', 'agent'];
            DEFINE FIELD kind ON turn TYPE string ASSERT $value IN ['speech', 'dtmf', 'greeting', 'fallback'];
            DEFINE FIELD text ON turn TYPE string;
            DEFINE FIELD started_at ON turn TYPE datetime;
            DEFINE FIELD ended_at ON turn TYPE datetime;
            DEFINE FIELD interrupted ON turn TYPE bool;
            DEFINE FIELD endpointing_ms ON turn TYPE option<int>;
            DEFINE FIELD stt_ms ON turn TYPE option<int>;
            DEFINE FIELD agent_ms ON turn TYPE option<int>;
            DEFINE FIELD tts_ms ON turn TYPE option<int>;
            DEFINE FIELD first_byte_ms ON turn TYPE option<int>;
            DEFINE FIELD heard_ms ON turn TYPE option<int>;
            DEFINE INDEX turn_call ON turn FIELDS call, seq UNIQUE;
            DEFINE INDEX turn_owner ON turn FIELDS owner;
        ",
    },
    Migration {
        version: 6,
        name: "answered calls, stale-call sweep",
        sql: "
            DEFINE FIELD answered_at ON call TYPE option<datetime>;
            UPDATE call SET answered_at = started_at WHERE status IN ['in_progress', 'completed'] OR (status = 'failed' AND duration_ms != NONE);
            DEFINE INDEX call_status ON call FIELDS status, started_at;
        ",
    },
    Migration {
        version: 7,
        name: "the node that runs each call",
        sql: "
            DEFINE FIELD node ON call TYPE option<string>;
            DEFINE INDEX call_node ON call FIELDS node, status;
        ",
    },
    Migration {
        version: 8,
        name: "sign-up invites",
        sql: "
            DEFINE TABLE invite SCHEMAFULL;
            DEFINE FIELD code_hash ON invite TYPE string;
            DEFINE FIELD created_at ON invite TYPE datetime;
            DEFINE FIELD expires_at ON invite TYPE datetime;
            DEFINE FIELD used_at ON invite TYPE option<datetime>;
            DEFINE FIELD used_by ON invite TYPE option<string>;
            DEFINE INDEX invite_code ON invite FIELDS code_hash UNIQUE;
        ",
    },
    Migration {
        version: 9,
        name: "turns that could not be stored",
        sql: "
            DEFINE FIELD lost_turns ON call TYPE option<int>;
        ",
    },
    Migration {
        version: 10,
        name: "twilio numbers",
        sql: "
            DEFINE FIELD twilio_account_sid ON phone_number TYPE option<string>;
            DEFINE FIELD twilio_auth_token_sealed ON phone_number TYPE option<string>;
            DEFINE FIELD twilio_auth_token_last4 ON phone_number TYPE option<string>;
        ",
    },
    Migration {
        version: 11,
        name: "vonage and plivo numbers",
        sql: "
            DEFINE FIELD OVERWRITE provider ON phone_number TYPE string ASSERT $value IN ['exotel', 'twilio', 'vonage', 'plivo', 'other'];
            DEFINE FIELD vonage_api_key ON phone_number TYPE option<string>;
            DEFINE FIELD vonage_application_id ON phone_number TYPE option<string>;
            DEFINE FIELD vonage_sample_rate ON phone_number TYPE option<int>;
            DEFINE FIELD vonage_api_secret_sealed ON phone_number TYPE option<string>;
            DEFINE FIELD vonage_api_secret_last4 ON phone_number TYPE option<string>;
            DEFINE FIELD vonage_private_key_sealed ON phone_number TYPE option<string>;
            DEFINE FIELD vonage_private_key_last4 ON phone_number TYPE option<string>;
            DEFINE FIELD vonage_signature_secret_sealed ON phone_number TYPE option<string>;
            DEFINE FIELD vonage_signature_secret_last4 ON phone_number TYPE option<string>;
            DEFINE FIELD plivo_auth_id ON phone_number TYPE option<string>;
            DEFINE FIELD plivo_content_type ON phone_number TYPE option<string>;
            DEFINE FIELD plivo_auth_token_sealed ON phone_number TYPE option<string>;
            DEFINE FIELD plivo_auth_token_last4 ON phone_number TYPE option<string>;
        ",
    },
    Migration {
        version: 12,
        name: "number ownership",
        // One owner imports a number once per provider account; across owners, only a number's
        // verified holder is unique (`claim` = verified:<provider>:<number>), so an importer
        // without proof blocks nobody. Unverified rows hold a claim of their own.
        sql: "
            REMOVE INDEX phone_number_unique ON phone_number;
            DEFINE FIELD claim ON phone_number TYPE string;
            DEFINE FIELD verified_at ON phone_number TYPE option<datetime>;
            DEFINE FIELD verify_status ON phone_number TYPE option<string>;
            DEFINE FIELD verify_message ON phone_number TYPE option<string>;
            DEFINE FIELD verify_retry_after ON phone_number TYPE option<int>;
            DEFINE FIELD verify_checked_at ON phone_number TYPE option<datetime>;
            DEFINE FIELD credentials_from_env ON phone_number TYPE bool DEFAULT false;
            UPDATE phone_number SET claim = 'unverified:' + record::id(id), credentials_from_env = false;
            DEFINE INDEX phone_number_owner_unique ON phone_number FIELDS owner, account_key, phone_number UNIQUE;
            DEFINE INDEX phone_number_claim ON phone_number FIELDS claim UNIQUE;
        ",
    },
    Migration {
        version: 13,
        name: "calls by time",
        // Call Logs for a date range: SurrealDB scans a compound index by its first field only,
        // so a day of one owner's calls read all of the owner's calls; this index is read by range.
        sql: "
            DEFINE INDEX call_started ON call FIELDS started_at;
        ",
    },
    Migration {
        version: 14,
        name: "outbound calls",
        // An outbound call's row is made before its provider is asked (keyed by our dial id); the
        // provider's own id, the variables and the outcome arrive later.
        sql: "
            DEFINE FIELD outcome ON call TYPE option<string> ASSERT $value = NONE OR $value IN ['answered', 'machine', 'busy', 'no_answer', 'failed', 'canceled'];
            DEFINE FIELD provider_call_id ON call TYPE option<string>;
            DEFINE FIELD variables_json ON call TYPE option<string>;
            DEFINE FIELD campaign_id ON call TYPE option<string>;
            DEFINE FIELD contact_id ON call TYPE option<string>;
            DEFINE INDEX call_provider_id ON call FIELDS provider, provider_call_id;
        ",
    },
    Migration {
        version: 15,
        name: "campaigns",
        // A contact's `queue` is `<campaign>:<state>`: SurrealDB reads a compound index by its first
        // field only, so the dialer's "due contacts of this campaign" is one indexed equality.
        sql: "
            DEFINE TABLE campaign SCHEMAFULL;
            DEFINE FIELD owner ON campaign TYPE record<user>;
            DEFINE FIELD name ON campaign TYPE string ASSERT string::len($value) > 0;
            DEFINE FIELD agent_id ON campaign TYPE string;
            DEFINE FIELD phone_ids ON campaign TYPE array<string>;
            DEFINE FIELD status ON campaign TYPE string ASSERT $value IN ['scheduled', 'running', 'paused', 'completed', 'canceled'];
            DEFINE FIELD status_reason ON campaign TYPE option<string>;
            DEFINE FIELD start_at ON campaign TYPE datetime;
            DEFINE FIELD hours_from ON campaign TYPE string;
            DEFINE FIELD hours_to ON campaign TYPE string;
            DEFINE FIELD timezone ON campaign TYPE string;
            DEFINE FIELD max_concurrent ON campaign TYPE int;
            DEFINE FIELD calls_per_second ON campaign TYPE float;
            DEFINE FIELD max_attempts ON campaign TYPE int;
            DEFINE FIELD retry_delay_secs ON campaign TYPE int;
            DEFINE FIELD dialer_node ON campaign TYPE option<string>;
            DEFINE FIELD dialer_until ON campaign TYPE option<datetime>;
            DEFINE FIELD created_at ON campaign TYPE datetime;
            DEFINE FIELD updated_at ON campaign TYPE datetime;
            DEFINE INDEX campaign_owner ON campaign FIELDS owner;
            DEFINE INDEX campaign_status ON campaign FIELDS status;
            DEFINE TABLE contact SCHEMAFULL;
            DEFINE FIELD campaign ON contact TYPE record<campaign>;
            DEFINE FIELD owner ON contact TYPE record<user>;
            DEFINE FIELD line ON contact TYPE int;
            DEFINE FIELD phone ON contact TYPE string ASSERT string::starts_with($value, '+');
            DEFINE FIELD timezone ON contact TYPE option<string>;
            DEFINE FIELD variables_json ON contact TYPE string;
            DEFINE FIELD state ON contact TYPE string ASSERT $value IN ['pending', 'dialing', 'done', 'failed', 'canceled'];
            DEFINE FIELD queue ON contact TYPE string;
            DEFINE FIELD attempts ON contact TYPE int;
            DEFINE FIELD outcome ON contact TYPE option<string>;
            DEFINE FIELD call_id ON contact TYPE option<string>;
            DEFINE FIELD reason ON contact TYPE option<string>;
            DEFINE FIELD next_at ON contact TYPE datetime;
            DEFINE FIELD updated_at ON contact TYPE datetime;
            DEFINE INDEX contact_queue ON contact FIELDS queue;
            DEFINE INDEX contact_campaign ON contact FIELDS campaign;
        ",
    },
    Migration {
        version: 16,
        name: "call recordings",
        // One row per recorded call, keyed like the call; `file` is relative to the data
        // directory. `expires_at` NONE keeps the recording until the call is deleted.
        sql: "
            DEFINE TABLE recording SCHEMAFULL;
            DEFINE FIELD owner ON recording TYPE record<user>;
            DEFINE FIELD call ON recording TYPE record<call>;
            DEFINE FIELD file ON recording TYPE string ASSERT string::starts_with($value, 'recordings/');
            DEFINE FIELD rate ON recording TYPE int ASSERT $value > 0;
            DEFINE FIELD started_at ON recording TYPE datetime;
            DEFINE FIELD duration_ms ON recording TYPE option<int>;
            DEFINE FIELD bytes ON recording TYPE option<int>;
            DEFINE FIELD expires_at ON recording TYPE option<datetime>;
            DEFINE INDEX recording_expires ON recording FIELDS expires_at;
        ",
    },
];

mod apply;
mod nodes;
mod notifications;
mod routing;
mod transfers;

/// Migrations kept in their own modules, oldest first, applied after [`MIGRATIONS`].
const LATER: &[Migration] = &[notifications::NOTIFICATIONS, routing::ROUTING, transfers::TRANSFERS, nodes::NODES];

/// Every migration in order.
pub fn all() -> impl Iterator<Item = &'static Migration> {
    MIGRATIONS.iter().chain(LATER.iter())
}

/// The newest version this build knows.
pub fn latest_version() -> i64 {
    all().last().map(|m| m.version).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use domain::Choice;
    use domain::call::{CallStatus, Role, TurnKind};
    use domain::phone_number::{NumberStatus, Provider};

    /// `['a', 'b']`: every string of `T`, as the schema lists them.
    fn listed<T: Choice>() -> String {
        let quoted: Vec<String> = T::ALL.iter().map(|v| format!("'{}'", v.as_str())).collect();
        format!("[{}]", quoted.join(", "))
    }

    #[test]
    fn versions_run_in_order_without_gaps() {
        // `apply` runs what is newer than the last version recorded: one out of order would be
        // skipped by a database that already has a later one.
        let versions: Vec<i64> = super::all().map(|m| m.version).collect();
        assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>());
    }

    #[test]
    fn the_schema_takes_exactly_the_domain_strings() {
        let sql: String = super::all().map(|m| m.sql).collect();
        for (field, values) in [
            ("provider ON phone_number", listed::<Provider>()),
            ("status ON phone_number", listed::<NumberStatus>()),
            ("status ON call", listed::<CallStatus>()),
            ("role ON turn", listed::<Role>()),
            ("kind ON turn", listed::<TurnKind>()),
        ] {
            // The newest definition of the field is the one in force.
            let defined = format!("{field} TYPE string ASSERT $value IN ");
            let last = sql.lines().rfind(|l| l.contains(&defined)).unwrap_or_else(|| panic!("no migration defines {field}"));
            assert!(last.trim().ends_with(&format!("{defined}{values};")), "{field}: `{last}` does not list {values}");
        }
    }
}
