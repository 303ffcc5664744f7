//! `/api/docs`: the OpenAPI document as one plain HTML page, rendered on the server from the
//! same JSON that `/api/openapi.json` serves. No scripts and nothing fetched from elsewhere (a
//! Swagger UI would load its bundle from a CDN), so it works offline; its one inline style is
//! allowed by hash in the page's Content-Security-Policy.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use pulldown_cmark::{Event, Parser};
use quick_xml::escape::escape;
use serde_json::Value;
use sha2::{Digest, Sha256};

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:68rem;margin:2rem auto;padding:0 1rem;color:#1f2937}\
h1,h2,h3{line-height:1.25}h2{margin-top:2.5rem;border-bottom:1px solid #e5e7eb;padding-bottom:.25rem}\
article{border:1px solid #e5e7eb;border-radius:.5rem;padding:.25rem 1rem;margin:1rem 0}\
code{background:#f3f4f6;padding:0 .25rem;border-radius:.25rem}table{border-collapse:collapse;margin:.5rem 0}\
th,td{border:1px solid #e5e7eb;padding:.25rem .5rem;text-align:left;vertical-align:top}\
.method{display:inline-block;min-width:4.5rem;font-weight:700;color:#3730a3}.muted{color:#6b7280}";

/// The page with its headers: HTML, and a policy that allows only its own inline style.
pub fn response() -> Response {
    static PAGE: OnceLock<(String, HeaderValue)> = OnceLock::new();
    let (html, policy) = PAGE.get_or_init(|| {
        let spec: Value = serde_json::from_str(super::openapi::document_json()).unwrap_or(Value::Null);
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
        let policy = format!("default-src 'none'; style-src 'sha256-{hash}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
        (render(&spec), HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(super::headers::API_POLICY)))
    });
    let headers =
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")), (header::CONTENT_SECURITY_POLICY, policy.clone())];
    (headers, html.clone()).into_response()
}

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

/// Text escaped for HTML.
fn esc(text: &str) -> String {
    escape(text).into_owned()
}

/// A Markdown description as HTML; any raw HTML in it is shown as text.
fn markdown(text: &str) -> String {
    let events = Parser::new(text).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        e => e,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// The element id of a tag's section.
fn tag_id(tag: &str) -> String {
    format!("tag-{}", tag.replace(|c: char| !c.is_ascii_alphanumeric(), "-"))
}

/// A schema's type in a few words, with named schemas linked to their section.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = esc(r.rsplit('/').next().unwrap_or(r));
        return format!("<a href=\"#schema-{name}\">{name}</a>");
    }
    for (key, join) in [("oneOf", " | "), ("anyOf", " | "), ("allOf", " &amp; ")] {
        if let Some(parts) = schema.get(key).and_then(Value::as_array) {
            return parts.iter().map(type_of).collect::<Vec<_>>().join(join);
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values.iter().map(|v| format!("<code>{}</code>", esc(&v.to_string()))).collect::<Vec<_>>().join(" | ");
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let described: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "array" => format!("array of {}", schema.get("items").map(type_of).unwrap_or_else(|| "any".into())),
            "object" => match schema.get("additionalProperties") {
                Some(v @ Value::Object(_)) => format!("map of {}", type_of(v)),
                _ => "object".to_string(),
            },
            t => esc(t),
        })
        .collect();
    if described.is_empty() { "any".to_string() } else { described.join(" | ") }
}

/// The schema names of a request or response body, by content type.
fn content_of(body: &Value) -> String {
    match body.get("content").and_then(Value::as_object) {
        Some(content) if !content.is_empty() => content
            .iter()
            .map(|(kind, media)| {
                let schema = media.get("schema").map(type_of).unwrap_or_else(|| "any".into());
                format!("<code>{}</code>: {schema}", esc(kind))
            })
            .collect::<Vec<_>>()
            .join("<br>"),
        _ => "<span class=\"muted\">no body</span>".to_string(),
    }
}

fn parameters(out: &mut String, op: &Value) {
    let Some(params) = op.get("parameters").and_then(Value::as_array).filter(|p| !p.is_empty()) else { return };
    out.push_str("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>required</th><th>description</th></tr>");
    for p in params {
        let text = |k: &str| esc(p.get(k).and_then(Value::as_str).unwrap_or_default());
        let required = if p.get("required").and_then(Value::as_bool).unwrap_or(false) { "yes" } else { "no" };
        let kind = p.get("schema").map(type_of).unwrap_or_else(|| "any".into());
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{kind}</td><td>{required}</td><td>{}</td></tr>",
            text("name"),
            text("in"),
            text("description")
        );
    }
    out.push_str("</table>");
}

fn operation(out: &mut String, path: &str, method: &str, op: &Value) {
    let id = esc(op.get("operationId").and_then(Value::as_str).unwrap_or(method));
    let _ = write!(
        out,
        "<article id=\"op-{}-{id}\"><h3><span class=\"method\">{}</span> <code>{}</code></h3>",
        esc(method),
        method.to_uppercase(),
        esc(path)
    );
    if let Some(summary) = op.get("summary").and_then(Value::as_str) {
        let _ = write!(out, "<p><strong>{}</strong></p>", esc(summary));
    }
    if let Some(description) = op.get("description").and_then(Value::as_str).filter(|d| !d.is_empty()) {
        out.push_str(&markdown(description));
    }
    if op.get("security").and_then(Value::as_array).is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty()))) {
        out.push_str("<p class=\"muted\">No sign-in needed.</p>");
    }
    parameters(out, op);
    if let Some(body) = op.get("requestBody") {
        let required = if body.get("required").and_then(Value::as_bool).unwrap_or(false) { " (required)" } else { "" };
        let _ = write!(out, "<h4>Request body{required}</h4><p>{}</p>", content_of(body));
    }
    out.push_str("<h4>Responses</h4><table><tr><th>status</th><th>when</th><th>body</th></tr>");
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        for (status, response) in responses {
            let when = response.get("description").and_then(Value::as_str).unwrap_or_default();
            let when = markdown(when);
            // One paragraph in a table cell: without its <p>, so it sits level with the others.
            let when =
                when.trim_end().strip_prefix("<p>").and_then(|w| w.strip_suffix("</p>")).filter(|w| !w.contains("<p>")).unwrap_or(&when);
            let _ = write!(out, "<tr><td>{}</td><td>{when}</td><td>{}</td></tr>", esc(status), content_of(response));
        }
    }
    out.push_str("</table></article>");
}

fn schemas(out: &mut String, spec: &Value) {
    let Some(schemas) = spec.pointer("/components/schemas").and_then(Value::as_object) else { return };
    out.push_str("<h2 id=\"schemas\">Schemas</h2>");
    for (name, schema) in schemas {
        let name = esc(name);
        let _ = write!(out, "<article id=\"schema-{name}\"><h3>{name}</h3>");
        if let Some(description) = schema.get("description").and_then(Value::as_str) {
            out.push_str(&markdown(description));
        }
        let required: Vec<&str> =
            schema.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        match schema.get("properties").and_then(Value::as_object) {
            Some(props) => {
                out.push_str("<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>");
                for (field, prop) in props {
                    let description = prop.get("description").and_then(Value::as_str).unwrap_or_default();
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(field),
                        type_of(prop),
                        if required.contains(&field.as_str()) { "yes" } else { "no" },
                        esc(description)
                    );
                }
                out.push_str("</table>");
            }
            None => {
                let _ = write!(out, "<p>{}</p>", type_of(schema));
            }
        }
        out.push_str("</article>");
    }
}

/// The page for `spec` (an OpenAPI document as JSON).
pub fn render(spec: &Value) -> String {
    let text = |p: &str| spec.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let mut out = String::with_capacity(128 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} API</title><style>{STYLE}</style></head><body><h1>{title} API <span class=\"muted\">{version}</span></h1>\
         <p>OpenAPI {openapi}: <a href=\"/api/openapi.json\">/api/openapi.json</a></p>",
        title = esc(text("/info/title")),
        version = esc(text("/info/version")),
        openapi = esc(text("/openapi")),
    );
    out.push_str(&markdown(text("/info/description")));
    let tags: Vec<(&str, &str)> = spec
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(|t| Some((t.get("name")?.as_str()?, t.get("description").and_then(Value::as_str).unwrap_or_default())))
                .collect()
        })
        .unwrap_or_default();
    out.push_str("<nav><h2>Contents</h2><ul>");
    for (tag, description) in &tags {
        let _ = write!(out, "<li><a href=\"#{}\">{}</a>: {}</li>", tag_id(tag), esc(tag), esc(description));
    }
    out.push_str("<li><a href=\"#schemas\">Schemas</a></li></ul></nav>");
    let paths = spec.get("paths").and_then(Value::as_object);
    for (tag, description) in &tags {
        let _ = write!(out, "<section id=\"{}\"><h2>{}</h2><p>{}</p>", tag_id(tag), esc(tag), esc(description));
        for (path, item) in paths.into_iter().flatten() {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let tagged = op.get("tags").and_then(Value::as_array).is_some_and(|t| t.iter().any(|t| t.as_str() == Some(tag)));
                if tagged {
                    operation(&mut out, path, method, op);
                }
            }
        }
        out.push_str("</section>");
    }
    schemas(&mut out, spec);
    out.push_str("</body></html>");
    out
}
