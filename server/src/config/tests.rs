use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name);
    std::fs::read_to_string(path).expect("repository file")
}

#[test]
fn defaults_without_file_or_env() {
    let s = Settings::from_sources(None, &HashMap::new()).unwrap();
    assert_eq!(s.listen_addr.to_string(), "127.0.0.1:3000");
    assert_eq!(s.public_url.as_str(), "http://127.0.0.1:3000/");
    assert_eq!(s.database_url, DatabaseUrl::SurrealKv("data/db".into()));
    assert_eq!(s.database_namespace, "voxgate");
    assert!(s.secret_key.is_none());
}

#[test]
fn env_overrides_file_and_file_overrides_defaults() {
    let file = "[voxgate]\npublic-url = \"https://file.example.com\"\ndatabase-name = \"fromfile\"\n";
    let s = Settings::from_sources(Some(file), &env(&[("VOXGATE_PUBLIC_URL", "https://env.example.com")])).unwrap();
    assert_eq!(s.public_link("/x"), "https://env.example.com/x");
    assert_eq!(s.database_name, "fromfile");
}

#[test]
fn bad_values_name_the_setting_in_one_line() {
    let cases = [
        ("VOXGATE_LISTEN_ADDR", "not-an-addr"),
        ("VOXGATE_PUBLIC_URL", "ftp://x"),
        ("VOXGATE_PUBLIC_URL", "https://x.example.com/path"),
        ("VOXGATE_DATABASE_URL", "postgres://x"),
        ("VOXGATE_DATABASE_URL", "mem://junk"),
        ("VOXGATE_DATABASE_NAMESPACE", "a b"),
        ("VOXGATE_SECRET_KEY", "abc"),
        ("VOXGATE_LOG", "info,[[["),
        ("VOXGATE_OUTBOUND_ALLOW", "10.0.0.0/8,internal.example"),
    ];
    for (name, value) in cases {
        let err = Settings::from_sources(None, &env(&[(name, value)])).err().unwrap_or_else(|| panic!("{name}={value} should be refused"));
        assert_eq!(err.name, name);
        let line = err.to_string();
        assert!(!line.contains('\n'), "one line: {line}");
        assert!(line.contains(name), "{line}");
    }
}

#[test]
fn secret_key_value_never_appears_in_errors_or_debug() {
    let bad = "zz".repeat(32);
    let err = Settings::from_sources(None, &env(&[("VOXGATE_SECRET_KEY", &bad)])).err().unwrap();
    assert!(!err.to_string().contains(&bad));
    let good = "ab".repeat(32);
    let s = Settings::from_sources(
        None,
        &env(&[
            ("VOXGATE_SECRET_KEY", &good),
            ("VOXGATE_DATABASE_USER", "root"),
            ("VOXGATE_DATABASE_PASSWORD", "hunter2"),
            ("VOXGATE_DATABASE_URL", "ws://127.0.0.1:8000"),
        ]),
    )
    .unwrap();
    let dbg = format!("{s:?}");
    assert!(!dbg.contains(&good) && !dbg.contains("hunter2"), "{dbg}");
}

#[test]
fn outbound_allow_list_parses_from_env_or_file() {
    assert!(Settings::from_sources(None, &HashMap::new()).unwrap().outbound_allow.is_empty(), "only public addresses by default");
    let s = Settings::from_sources(None, &env(&[("VOXGATE_OUTBOUND_ALLOW", "10.0.0.0/8, 192.168.1.5,fd00::/8")])).unwrap();
    let shown: Vec<String> = s.outbound_allow.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["10.0.0.0/8", "192.168.1.5/32", "fd00::/8"]);
    let s = Settings::from_sources(Some("[voxgate]\noutbound-allow = \"127.0.0.1\"\n"), &HashMap::new()).unwrap();
    assert_eq!(s.outbound_allow.len(), 1);
    assert!(format!("{s:?}").contains("127.0.0.1/32"));
    assert_eq!(Settings::for_tests().outbound_allow.len(), 2, "the tests' fake providers on loopback");
}

#[test]
fn database_password_needs_a_user() {
    let err = Settings::from_sources(None, &env(&[("VOXGATE_DATABASE_PASSWORD", "x")])).err().unwrap();
    assert_eq!(err.name, "VOXGATE_DATABASE_USER");
}

#[test]
fn database_urls_parse() {
    assert_eq!(DatabaseUrl::parse("mem://").unwrap(), DatabaseUrl::Memory);
    assert_eq!(DatabaseUrl::parse("ws://db:8000").unwrap().engine_address(), "ws://db:8000");
    assert_eq!(DatabaseUrl::parse("surrealkv:///var/lib/vg").unwrap(), DatabaseUrl::SurrealKv("/var/lib/vg".into()));
    assert!(DatabaseUrl::parse("surrealkv://").is_err());
    // Sync on every commit is pinned, and cannot be turned off through the URL.
    assert_eq!(DatabaseUrl::parse("surrealkv://data/db").unwrap().engine_address(), "surrealkv://data/db?sync=every");
    assert!(DatabaseUrl::parse("surrealkv://data/db?sync=never").unwrap_err().contains("options are set by Voxgate"));
}

#[test]
fn unknown_keys_in_leptos_toml_are_refused() {
    let err = Settings::from_sources(Some("[voxgate]\npublic-ur = \"x\"\n"), &HashMap::new()).err().unwrap();
    assert_eq!(err.name, "Leptos.toml");
}

#[test]
fn leptos_toml_parses_and_matches_cargo_leptos_metadata() {
    let leptos = repo_file("Leptos.toml");
    let s = Settings::from_sources(Some(&leptos), &HashMap::new()).unwrap();
    let cargo: toml::Value = toml::from_str(&repo_file("Cargo.toml")).unwrap();
    let meta = &cargo["workspace"]["metadata"]["leptos"][0];
    assert_eq!(meta["output-name"].as_str(), Some(s.site.output_name.as_str()));
    assert_eq!(meta["site-root"].as_str(), Some(s.site.site_root.as_str()));
    assert_eq!(meta["site-pkg-dir"].as_str(), Some(s.site.site_pkg_dir.as_str()));
    assert_eq!(meta["site-addr"].as_str(), Some(s.site.site_addr.to_string().as_str()));
    assert_eq!(meta["reload-port"].as_integer(), Some(i64::from(s.site.reload_port)));
}

#[test]
fn the_readme_documents_every_setting() {
    let readme = repo_file("README.md");
    for (name, _) in ENV_VARS.iter().chain(providers::PROVIDER_VARS) {
        assert!(readme.contains(&format!("`{name}`")), "README's configuration table lacks {name}");
    }
}

#[test]
fn the_database_user_level_is_read_and_needs_a_user() {
    let with_user = |auth: &str| {
        Settings::from_sources(
            None,
            &env(&[("VOXGATE_DATABASE_USER", "voxgate"), ("VOXGATE_DATABASE_PASSWORD", "pw-1"), ("VOXGATE_DATABASE_AUTH", auth)]),
        )
    };
    assert_eq!(with_user("database").unwrap().database_auth, DatabaseAuth::Database);
    assert_eq!(with_user("namespace").unwrap().database_auth, DatabaseAuth::Namespace);
    assert_eq!(Settings::from_sources(None, &HashMap::new()).unwrap().database_auth, DatabaseAuth::Root);
    let bad = with_user("scope").unwrap_err();
    assert_eq!(bad.name, "VOXGATE_DATABASE_AUTH");
    assert!(bad.reason.contains("root, namespace or database"), "{bad}");
    let alone = Settings::from_sources(None, &env(&[("VOXGATE_DATABASE_AUTH", "database")])).unwrap_err();
    assert_eq!(alone.name, "VOXGATE_DATABASE_AUTH");
    assert!(alone.reason.contains("VOXGATE_DATABASE_USER"), "{alone}");
}
