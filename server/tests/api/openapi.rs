//! The OpenAPI document against the code: every REST route in `server/src/http/` (read from its
//! source, so a route added without its `#[utoipa::path]` fails here) is in `/api/openapi.json`
//! with each of its methods, every documented operation is routed, and `/api/docs` shows them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common;

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The methods a method router expression calls: `get(list).post(create)` -> get, post.
fn methods_of(expr: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for m in METHODS {
        let needle = format!("{m}(");
        let mut from = 0;
        while let Some(i) = expr[from..].find(&needle) {
            let at = from + i;
            // A method call starts the expression or follows `.`; `get_agent(` or `x.forget(` do not count.
            let before = expr[..at].trim_end().chars().last();
            if matches!(before, None | Some('.' | ',')) {
                found.push(m);
            }
            from = at + needle.len();
        }
    }
    found
}

/// Every `(path, method)` that a `.route("…", …)` in the REST modules' source serves.
fn routes_in_source(src: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut rest = src;
    while let Some(at) = rest.find(".route(") {
        // The path must be a string literal: a route built any other way fails here, loudly.
        let after = rest[at + ".route(".len()..].trim_start();
        let after =
            after.strip_prefix('"').unwrap_or_else(|| panic!("a route whose path is not a literal: {}", &after[..60.min(after.len())]));
        let end = after.find('"').expect("route path ends");
        let path = &after[..end];
        let args = &after[end + 1..];
        // The method router runs to the parenthesis that closes `.route(`.
        let mut depth = 1;
        let close = args
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .expect("route call closes");
        let methods = methods_of(args[..close].trim_start_matches([',', ' ', '\n']));
        assert!(!methods.is_empty(), "no method found for {path}: {}", &args[..close]);
        routes.extend(methods.into_iter().map(|m| (path.to_string(), m.to_string())));
        rest = &args[close..];
    }
    routes
}

fn source_routes() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rs_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http"), &mut files);
    files.iter().flat_map(|f| routes_in_source(&std::fs::read_to_string(f).unwrap())).collect()
}

fn spec_operations(spec: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                ops.insert((path.clone(), m.to_string()));
            }
        }
    }
    ops
}

async fn spec(base: &str) -> Value {
    let response = reqwest::get(format!("{base}/api/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200, "served without sign-in");
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

#[test]
fn the_source_scanner_reads_method_routers() {
    let src = r#"Router::new()
        .route("/api/a", get(list).post(create))
        .route("/api/a/{id}", get(read).put(update).patch(update).delete(delete))
        .route("/api/b", post(start)).layer(x.forget(y))
        .route(
            "/api/c",
            delete(get_thing),
        )"#;
    let found: Vec<(String, String)> = routes_in_source(src).into_iter().collect();
    let expected = [
        ("/api/a", "get"),
        ("/api/a", "post"),
        ("/api/a/{id}", "delete"),
        ("/api/a/{id}", "get"),
        ("/api/a/{id}", "patch"),
        ("/api/a/{id}", "put"),
        ("/api/b", "post"),
        ("/api/c", "delete"),
    ];
    assert_eq!(found.iter().map(|(p, m)| (p.as_str(), m.as_str())).collect::<Vec<_>>(), expected);
    // A path that is not a literal cannot be checked: the scanner refuses it.
    assert!(std::panic::catch_unwind(|| routes_in_source(".route(PATH, get(x))")).is_err());
}

#[tokio::test]
async fn every_rest_route_is_documented_with_each_method() {
    let base = common::serve(common::state().await).await;
    let spec = spec(&base).await;
    let routes = source_routes();
    // The scanner found the REST API, not nothing: a few routes every version has.
    for known in [("/api/agents", "post"), ("/api/phone-numbers/{id}", "patch"), ("/api/calls/{id}", "delete"), ("/healthz", "get")] {
        assert!(routes.contains(&(known.0.to_string(), known.1.to_string())), "scanner missed {known:?}");
    }
    assert!(routes.len() >= 50, "only {} routes found in server/src/http", routes.len());
    let documented = spec_operations(&spec);
    let missing: Vec<_> = routes.difference(&documented).collect();
    assert!(missing.is_empty(), "routes without #[utoipa::path]: {missing:?}");
    let stale: Vec<_> = documented.difference(&routes).collect();
    assert!(stale.is_empty(), "documented but not routed in server/src/http: {stale:?}");
    // Provider-facing routes are named in the description, not documented as REST.
    assert!(documented.iter().all(|(p, _)| !p.starts_with("/api/telephony/") && !p.ends_with("/test-call")));
    let description = spec["info"]["description"].as_str().unwrap();
    assert!(description.contains("/api/telephony/") && description.contains("/api/agents/{id}/test-call"), "{description}");
    assert_eq!(spec["info"]["title"], "Voxgate");
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
}

#[tokio::test]
async fn operations_are_named_tagged_and_say_how_they_fail() {
    let base = common::serve(common::state().await).await;
    let spec = spec(&base).await;
    let mut ids = BTreeSet::new();
    let schemes = spec["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!((schemes["session"]["in"].as_str(), schemes["session"]["name"].as_str()), (Some("cookie"), Some("vg_session")));
    for (path, method) in spec_operations(&spec) {
        let op = &spec["paths"][&path][&method];
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.to_string()), "operationId {id} used twice");
        assert!(op["tags"].as_array().is_some_and(|t| t.len() == 1), "{method} {path} has no tag");
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path} has no summary");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} has no success response");
        let public = op["security"].as_array().is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty())));
        if !public {
            assert_eq!(
                responses["401"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                "{method} {path}"
            );
        }
        if matches!(method.as_str(), "post" | "put" | "patch" | "delete") {
            assert!(public || responses.contains_key("403"), "{method} {path} does not say cross-site writes are refused");
        }
        if op.get("requestBody").is_some_and(|b| b["content"].get("application/json").is_some()) {
            assert!(responses.contains_key("400") && responses.contains_key("415"), "{method} {path} does not say how a bad body fails");
        }
        for name in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
            let declared = op["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
            assert!(declared, "{method} {path}: path parameter {name} not declared");
        }
    }
    // Global security: bearer token or session cookie.
    let global: Vec<&str> =
        spec["security"].as_array().unwrap().iter().flat_map(|r| r.as_object().unwrap().keys()).map(String::as_str).collect();
    assert_eq!(global, ["bearer", "session"]);
    // The error body is the one every handler sends.
    let error = &spec["components"]["schemas"]["ErrorDetail"];
    assert_eq!(error["required"], serde_json::json!(["code", "message"]));
    assert!(error["properties"].get("callId").is_some() && error["properties"].get("errors").is_some());
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let state = common::state().await;
    let (_, token) = common::user_with_token(&state, "openapi@example.com").await;
    let base = common::serve(state).await;
    let spec = spec(&base).await;
    let client = reqwest::Client::new();
    for (path, method) in spec_operations(&spec) {
        let url = format!("{base}{}", path.replace("{id}", "missing").replace("{job}", "missing"));
        let request = client.request(method.to_uppercase().parse().unwrap(), &url).bearer_auth(&token);
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert_ne!(status, 405, "{method} {path}: method not allowed");
        if status == 404 {
            // The handler's own 404 (a JSON error), not the router's empty one.
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert_eq!(body["error"]["code"], "not_found", "{method} {path}: the router does not know it");
        }
        // `/api/calls/live` stays open: the response is dropped after its headers.
    }
}

#[tokio::test]
async fn the_docs_page_lists_every_operation_without_scripts() {
    let base = common::serve(common::state().await).await;
    let spec = spec(&base).await;
    let response = reqwest::get(format!("{base}/api/docs")).await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"), "{policy}");
    assert!(!policy.contains("unsafe") && !policy.contains("script-src"), "{policy}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains(" src="), "nothing loaded from anywhere");
    assert!(html.contains("<a href=\"/api/openapi.json\">"));
    for (path, method) in spec_operations(&spec) {
        let op = &spec["paths"][&path][&method];
        let heading = format!("<span class=\"method\">{}</span> <code>{path}</code>", method.to_uppercase());
        let at = html.find(&heading).unwrap_or_else(|| panic!("{method} {path} not on the page"));
        let summary = op["summary"].as_str().unwrap();
        let article = &html[at..at + html[at..].find("</article>").unwrap()];
        assert!(article.contains(&summary.replace('"', "&quot;").replace('\'', "&apos;")), "{method} {path}: summary missing");
        if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema/$ref").and_then(Value::as_str) {
            let name = schema.rsplit('/').next().unwrap();
            assert!(article.contains(&format!("<a href=\"#schema-{name}\">{name}</a>")), "{method} {path}: body {name} not linked");
        }
    }
    for tag in spec["tags"].as_array().unwrap() {
        assert!(html.contains(&format!("<h2>{}</h2>", tag["name"].as_str().unwrap())));
    }
    assert!(html.contains("id=\"schema-AgentInput\"") && html.contains("id=\"schema-ErrorBody\""));
}

/// An event-stream response's schema is that of each parsed event (`event`, `data`), as
/// OpenAPI 3.1 readers take it: not a string.
#[test]
fn the_live_stream_documents_each_event() {
    let doc: Value = serde_json::from_str(server::http::openapi::document_json()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let resolve = |v: &Value| match v.get("$ref").and_then(Value::as_str) {
        Some(r) => schemas[r.rsplit('/').next().unwrap()].clone(),
        None => v.clone(),
    };
    let event = resolve(&doc["paths"]["/api/calls/live"]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"]);
    assert_eq!(event["type"], "object", "{event}");
    let required: Vec<&str> = event["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(required.contains(&"event") && required.contains(&"data"), "{event}");
    assert_eq!(event["properties"]["data"]["type"], "string");
    let names = resolve(&event["properties"]["event"]);
    assert_eq!(names["enum"], serde_json::json!(["call", "turn"]), "{names}");
}
