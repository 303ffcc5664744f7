//! Version 20: the nodes sharing one database, and the leases of their background sweeps.

use super::Migration;

/// A row per running node, beaten every few seconds (a node whose beat stops is dead: its live
/// calls are failed by the others), and a lease row per sweep (one node runs it per period).
pub const NODES: Migration = Migration {
    version: 20,
    name: "nodes and sweep leases",
    sql: "
        DEFINE TABLE node SCHEMAFULL;
        DEFINE FIELD started_at ON node TYPE datetime;
        DEFINE FIELD seen_at ON node TYPE datetime;
        DEFINE INDEX node_seen ON node FIELDS seen_at;

        DEFINE TABLE sweep SCHEMAFULL;
        DEFINE FIELD node ON sweep TYPE string;
        DEFINE FIELD held_until ON sweep TYPE datetime;
    ",
};
