//! Least privilege: Voxgate signed in as a user of its database only (or of its namespace), not
//! root; and a refused sign-in is one clear error that names the settings and never the password.

use server::db::DbError;
use server::state::StartError;

use super::harness::SurrealServer;

/// Defines `user` with `password` and role EDITOR on `level` (DATABASE or NAMESPACE) of
/// voxgate/`database`, as an operator would.
async fn define_user(surreal: &SurrealServer, database: &str, level: &str, user: &str, password: &str) {
    let root = surreal.root("voxgate", database).await;
    root.query(format!("DEFINE NAMESPACE IF NOT EXISTS voxgate; DEFINE DATABASE IF NOT EXISTS {database}")).await.unwrap().check().unwrap();
    // DEFINE USER takes its password as a literal only (the tests' passwords hold no quote).
    root.query(format!("DEFINE USER {user} ON {level} PASSWORD '{password}' ROLES EDITOR")).await.unwrap().check().unwrap();
}

/// Signs up, creates an agent and reads it back: the schema and the rows work for this user.
async fn works(state: &server::AppState, email: &str) {
    assert_eq!(server::db::migrations::current_version(&state.db).await.unwrap(), server::db::migrations::latest_version());
    let user = server::users::sign_up(state, email, "correct horse battery").await.unwrap();
    let agent =
        server::agents::create(state, &user.owner, domain::agent::AgentInput { name: "Desk".into(), ..Default::default() }).await.unwrap();
    assert_eq!(server::agents::get(state, &user.owner, &agent.id).await.unwrap().settings.name, "Desk");
}

#[tokio::test]
async fn a_database_user_with_the_editor_role_runs_voxgate() {
    let surreal = SurrealServer::start().await;
    define_user(&surreal, "least", "DATABASE", "voxgate", "db-user-password-1").await;
    let state = server::AppState::connect(surreal.settings("least", "voxgate", "db-user-password-1", "database"))
        .await
        .expect("a database user signs in and migrates");
    works(&state, "least@example.com").await;
    // Its rights end at its database: another one is out of reach.
    let other = state.db.query("USE DB elsewhere; CREATE probe SET x = 1").await.and_then(|r| r.check());
    assert!(other.is_err(), "a database user reached another database");
}

#[tokio::test]
async fn a_namespace_user_runs_voxgate() {
    let surreal = SurrealServer::start().await;
    define_user(&surreal, "team", "NAMESPACE", "ops", "ns-user-password-1").await;
    let state =
        server::AppState::connect(surreal.settings("team", "ops", "ns-user-password-1", "namespace")).await.expect("a namespace user");
    works(&state, "team@example.com").await;
}

#[tokio::test]
async fn a_refused_sign_in_names_the_settings_and_hides_the_password() {
    let surreal = SurrealServer::start().await;
    define_user(&surreal, "guarded", "DATABASE", "voxgate", "the-right-password").await;
    let wrong = "wrong-password-7f3a";
    for (password, auth) in [
        // A wrong password.
        (wrong, "database"),
        // The right password at the wrong level (VOXGATE_DATABASE_AUTH left at root).
        ("the-right-password", "root"),
    ] {
        let refused = server::AppState::connect(surreal.settings("guarded", "voxgate", password, auth)).await;
        let Err(StartError::Db(e @ DbError::SignIn { .. })) = refused else {
            panic!("{auth}: expected a sign-in error, got {:?}", refused.err());
        };
        let (shown, debug) = (e.to_string(), format!("{e:?}"));
        for setting in ["VOXGATE_DATABASE_USER", "VOXGATE_DATABASE_PASSWORD", "VOXGATE_DATABASE_AUTH"] {
            assert!(shown.contains(setting), "{shown}");
        }
        assert!(shown.contains(&format!("{auth} user \"voxgate\"")), "{shown}");
        assert!(!shown.contains(password) && !debug.contains(password), "the password leaked: {shown} / {debug}");
    }
    // Nothing was written by the refused nodes.
    let root = surreal.root("voxgate", "guarded").await;
    let tables: serde_json::Value = root.query("INFO FOR DB").await.unwrap().take::<Option<serde_json::Value>>(0).unwrap().unwrap();
    assert_eq!(tables["tables"], serde_json::json!({}), "{tables}");
}
