//! Migration 18: call routing per number (kept in its own file; migrations.rs is near its size).

use super::Migration;

/// A number's routing (the domain's `Routing` as JSON), the agents it names (so an agent still
/// routed to cannot be deleted), and on each call the route it took.
pub const ROUTING: Migration = Migration {
    version: 18,
    name: "call routing",
    sql: "
        DEFINE FIELD routing_json ON phone_number TYPE option<string>;
        DEFINE FIELD routing_agents ON phone_number TYPE option<array<string>>;
        DEFINE FIELD route ON call TYPE option<string>;
    ",
};
