//! Starts `voxgate-surreal` and builds Voxgate settings pointing at it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use server::{AppState, Settings};

/// The `voxgate-surreal` binary beside this test binary (target/debug/deps/api-… →
/// target/debug/voxgate-surreal), or VOXGATE_SURREAL_BIN.
fn binary() -> PathBuf {
    let path = std::env::var_os("VOXGATE_SURREAL_BIN").map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap();
        exe.parent().and_then(|deps| deps.parent()).unwrap().join("voxgate-surreal")
    });
    assert!(path.is_file(), "{} is missing: build it first with `cargo build -p voxgate-surreal`", path.display());
    path
}

/// A SurrealDB server process, killed when dropped.
pub struct SurrealServer {
    child: Child,
    /// Its address, `127.0.0.1:<port>`.
    pub addr: String,
    /// The root user's password.
    pub root_password: String,
    log: PathBuf,
}

impl SurrealServer {
    /// Starts an in-memory server with a root user and waits until it answers.
    pub async fn start() -> Self {
        server::telemetry::init("warn,surrealdb=error");
        let root_password = format!("root-{}", server::db::new_key());
        // A port another test took between our probe and the server's bind: try another.
        let mut exits = Vec::new();
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let addr = format!("127.0.0.1:{port}");
            let log = std::env::temp_dir().join(format!("voxgate-surreal-{port}-{}.log", server::db::new_key()));
            let child = Command::new(binary())
                .args(["start", "--bind", &addr, "--user", "root", "--pass", &root_password, "--no-banner", "--log", "warn", "memory"])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("voxgate-surreal starts");
            let mut server = Self { child, addr, root_password: root_password.clone(), log };
            match server.ready().await {
                Ok(()) => return server,
                Err(exit) => exits.push(exit),
            }
        }
        panic!("voxgate-surreal did not start in five tries: {exits:?}");
    }

    /// Whether the server answers /health before it exits (its log) or a minute passes.
    async fn ready(&mut self) -> Result<(), String> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Err(format!("exited with {status}: {}", std::fs::read_to_string(&self.log).unwrap_or_default()));
            }
            if let Ok(r) = client.get(format!("http://{}/health", self.addr)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("voxgate-surreal did not answer within a minute: {}", std::fs::read_to_string(&self.log).unwrap_or_default());
    }

    /// Settings of a Voxgate node on database `database` of this server as `user` at `auth` level.
    pub fn settings(&self, database: &str, user: &str, password: &str, auth: &str) -> Settings {
        let mut env = HashMap::new();
        for (k, v) in [
            ("VOXGATE_DATABASE_URL", format!("ws://{}", self.addr)),
            ("VOXGATE_DATABASE_NAME", database.to_string()),
            ("VOXGATE_DATABASE_USER", user.to_string()),
            ("VOXGATE_DATABASE_PASSWORD", password.to_string()),
            ("VOXGATE_DATABASE_AUTH", auth.to_string()),
            ("VOXGATE_LISTEN_ADDR", "127.0.0.1:0".to_string()),
            ("VOXGATE_SECRET_KEY", "22".repeat(32)),
            // Without it, a node would keep a generated id in its data dir (./data).
            ("VOXGATE_NODE_ID", format!("node-{}", server::db::new_key())),
        ] {
            env.insert(k.to_string(), v);
        }
        let mut settings = Settings::from_sources(None, &env).expect("settings");
        // The models the set-up command unpacked; the same voice every run.
        settings.models_dir = Settings::for_tests().models_dir;
        settings.sampled_voice = false;
        settings
    }

    /// Settings of a node signed in as root.
    pub fn root_settings(&self, database: &str) -> Settings {
        self.settings(database, "root", &self.root_password, "root")
    }

    /// A node (state) signed in as root on `database`.
    pub async fn node(&self, database: &str, id: &str) -> AppState {
        let mut settings = self.root_settings(database);
        settings.node_id = Some(id.to_string());
        AppState::connect(settings).await.expect("a node connects")
    }

    /// A root connection for set-up statements, in `namespace` / `database`.
    pub async fn root(&self, namespace: &str, database: &str) -> surrealdb::Surreal<surrealdb::engine::any::Any> {
        let db = surrealdb::engine::any::connect(format!("ws://{}", self.addr)).await.unwrap();
        db.signin(surrealdb::opt::auth::Root { username: "root".into(), password: self.root_password.clone() }).await.unwrap();
        db.use_ns(namespace).use_db(database).await.unwrap();
        db
    }
}

impl Drop for SurrealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
