//! Nodes starting at once on a new database: every migration is applied once, and every node
//! starts.

use std::collections::{BTreeMap, BTreeSet};

use super::harness::SurrealServer;

/// Tables and their indexes as the migrations leave them (later REMOVEs applied).
fn expected_schema() -> BTreeMap<String, BTreeSet<String>> {
    let mut schema: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in server::db::migrations::all() {
        for statement in m.sql.split(';').map(|s| s.split_whitespace().collect::<Vec<_>>()) {
            match statement.as_slice() {
                ["DEFINE", "TABLE", table, ..] => {
                    schema.entry(table.to_string()).or_default();
                }
                ["DEFINE", "INDEX", index, "ON", table, ..] => {
                    schema.entry(table.to_string()).or_default().insert(index.to_string());
                }
                ["REMOVE", "INDEX", index, "ON", table, ..] => {
                    schema.entry(table.to_string()).or_default().remove(*index);
                }
                _ => {}
            }
        }
    }
    schema
}

#[tokio::test]
async fn nodes_starting_at_once_apply_each_migration_once() {
    let surreal = SurrealServer::start().await;
    // Three rounds of three nodes racing on a new database each.
    for round in 0..3 {
        let database = format!("race{round}");
        let connect = |id: &str| {
            let mut settings = surreal.root_settings(&database);
            settings.node_id = Some(id.to_string());
            server::AppState::connect(settings)
        };
        let (a, b, c) = tokio::join!(connect("a"), connect("b"), connect("c"));
        let (a, _b, _c) = (a.expect("node a starts"), b.expect("node b starts"), c.expect("node c starts"));

        let mut response = a.db.query("SELECT version, count() AS n FROM schema_migration GROUP BY version").await.unwrap();
        let recorded: Vec<serde_json::Value> = response.take(0).unwrap();
        let versions: Vec<(i64, i64)> = recorded.iter().map(|r| (r["version"].as_i64().unwrap(), r["n"].as_i64().unwrap())).collect();
        let latest = server::db::migrations::latest_version();
        assert_eq!(versions, (1..=latest).map(|v| (v, 1)).collect::<Vec<_>>(), "round {round}: each version once");

        let root = surreal.root("voxgate", &database).await;
        for (table, indexes) in expected_schema() {
            let info: serde_json::Value =
                root.query(format!("INFO FOR TABLE {table}")).await.unwrap().take::<Option<serde_json::Value>>(0).unwrap().unwrap();
            let found: BTreeSet<String> = info["indexes"].as_object().unwrap().keys().cloned().collect();
            assert_eq!(found, indexes, "round {round}: indexes of {table}");
            assert!(!info["fields"].as_object().unwrap().is_empty(), "round {round}: {table} has its fields");
        }
        let info: serde_json::Value = root.query("INFO FOR DB").await.unwrap().take::<Option<serde_json::Value>>(0).unwrap().unwrap();
        let tables: BTreeSet<String> = info["tables"].as_object().unwrap().keys().cloned().collect();
        let mut expected: BTreeSet<String> = expected_schema().into_keys().collect();
        expected.insert("schema_migration".into());
        assert_eq!(tables, expected, "round {round}: tables");
    }
}
