//! Version 19: transfers to a person.

use super::Migration;

/// A transfer's destination, summary and state on its call; the turn kind and outcome it adds.
pub const TRANSFERS: Migration = Migration {
    version: 19,
    name: "transfers",
    sql: "
        DEFINE FIELD OVERWRITE kind ON turn TYPE string ASSERT $value IN ['speech', 'dtmf', 'greeting', 'fallback', 'transfer'];
        DEFINE FIELD OVERWRITE outcome ON call TYPE option<string> ASSERT $value = NONE OR $value IN ['answered', 'machine', 'busy', 'no_answer', 'failed', 'canceled', 'transferred'];
        DEFINE FIELD transfer_to ON call TYPE option<string>;
        DEFINE FIELD transfer_summary ON call TYPE option<string>;
        DEFINE FIELD transfer_state ON call TYPE option<string>;
    ",
};
