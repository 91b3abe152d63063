//! The phone app, served by the binary at /app/: the shell and its files as they ship (embedded
//! at build time), their caching, their security headers, compression and the SPA fallback.
//! Everything here reads what the server answers, never the files on disk.

use std::io::Read;

use reqwest::{Method, Response, StatusCode, header};
use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, spawn_app};

const APP_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; \
base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

fn header_of(response: &Response, name: impl header::AsHeaderName) -> String {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// The headers every answer of the app carries.
fn assert_app_headers(response: &Response, what: &str) {
    assert_eq!(header_of(response, header::CONTENT_SECURITY_POLICY), APP_POLICY, "{what}: CSP");
    assert_eq!(header_of(response, header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
    assert_eq!(header_of(response, header::REFERRER_POLICY), "no-referrer", "{what}");
}

/// The value of `attribute` in each tag `<name ...>` of `html`.
fn attributes<'a>(html: &'a str, name: &str, attribute: &str) -> Vec<Option<&'a str>> {
    let open = format!("<{name}");
    html.match_indices(&open)
        .filter(|(at, _)| html[at + open.len()..].starts_with([' ', '>', '\n', '\t']))
        .map(|(at, _)| {
            let tag = &html[at..at + html[at..].find('>').expect("tag ends")];
            let needle = format!(" {attribute}=\"");
            tag.find(&needle).map(|start| {
                let value = &tag[start + needle.len()..];
                &value[..value.find('"').expect("attribute ends")]
            })
        })
        .collect()
}

/// The `href` of the `<link>` whose `rel` is `rel`.
fn link_href<'a>(html: &'a str, rel: &str) -> Vec<&'a str> {
    let tag_of = format!("rel=\"{rel}\"");
    html.match_indices("<link")
        .map(|(at, _)| &html[at..=at + html[at..].find('>').unwrap()])
        .filter(|tag| tag.contains(&tag_of))
        .filter_map(|tag| attributes(tag, "link", "href").pop().flatten())
        .collect()
}

async fn shell(app: &TestApp) -> String {
    let response = app.get("/app/").await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The app's main script, as the shell names it.
async fn main_script(app: &TestApp) -> String {
    let html = shell(app).await;
    let scripts: Vec<&str> = attributes(&html, "script", "src").into_iter().flatten().collect();
    assert!(!scripts.is_empty(), "the shell loads a script: {html}");
    scripts[0].to_string()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

#[tokio::test]
async fn the_root_and_app_without_a_slash_redirect_to_the_app() {
    let app = spawn_app().await;
    let client = no_redirects();
    for (method, path) in [(Method::GET, "/"), (Method::HEAD, "/"), (Method::GET, "/app"), (Method::HEAD, "/app")] {
        let response = client.request(method.clone(), app.url(path)).send().await.unwrap();
        assert!(
            [StatusCode::FOUND, StatusCode::PERMANENT_REDIRECT].contains(&response.status()),
            "{method} {path}: {}",
            response.status()
        );
        assert_eq!(header_of(&response, header::LOCATION), "/app/", "{method} {path}");
    }
    let with_query = client.get(app.url("/app?from=mail")).send().await.unwrap();
    assert_eq!(header_of(&with_query, header::LOCATION), "/app/?from=mail");
    // Followed, the redirect lands on the shell.
    let landed = app.get("/").await;
    assert_eq!(landed.url().path(), "/app/");
    assert_eq!(landed.status(), 200);
    assert!(header_of(&landed, header::CONTENT_TYPE).starts_with("text/html"));
}

#[tokio::test]
async fn the_shell_has_a_strict_policy_is_revalidated_and_runs_no_inline_script() {
    let app = spawn_app().await;
    for path in ["/app/", "/app/index.html"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header_of(&response, header::CONTENT_TYPE), "text/html; charset=utf-8", "{path}");
        assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache", "{path}");
        assert_app_headers(&response, path);
        let html = response.text().await.unwrap();
        assert!(html.contains("<div id=\"app\">"), "{path} is the app's shell: {html}");
        let scripts = attributes(&html, "script", "src");
        assert!(!scripts.is_empty(), "{path} loads its script");
        assert!(scripts.iter().all(Option::is_some), "{path}: every <script> has a src, none is inline: {html}");
        assert!(!html.contains("http://") && !html.contains("https://"), "{path} names no external URL: {html}");
        assert!(!html.contains(" style=\""), "{path}: no inline style (the policy would block it)");
    }
}

#[tokio::test]
async fn app_routes_and_every_mail_target_answer_the_shell() {
    let app = spawn_app().await;
    let html = shell(&app).await;
    for path in [
        "/app/sessions/0193a5a0-7c1e-7d2a-9a51-2b1f3c4d5e6f",
        "/app/cohorts/0193a5a0-7c1e-7d2a-9a51-2b1f3c4d5e6f/charter",
        "/app/me/notifications",
        "/app/verify-email",
        "/app/invitation",
        "/app/magic-link",
        "/app/reset-password",
        "/app/join",
        "/app/join?code=x",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header_of(&response, header::CONTENT_TYPE), "text/html; charset=utf-8", "{path}");
        assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache", "{path}");
        assert_app_headers(&response, path);
        assert_eq!(response.text().await.unwrap(), html, "{path} answers the shell");
    }
}

#[tokio::test]
async fn hashed_assets_are_javascript_cached_for_a_year() {
    let app = spawn_app().await;
    let script = main_script(&app).await;
    assert!(script.starts_with("/app/assets/"), "{script}");
    let response = app.get(&script).await;
    assert_eq!(response.status(), 200, "{script}");
    assert_eq!(header_of(&response, header::CONTENT_TYPE), "text/javascript; charset=utf-8");
    assert_eq!(header_of(&response, header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    let etag = header_of(&response, header::ETAG);
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 20, "a strong ETag: {etag}");
    assert_app_headers(&response, &script);
    assert!(!response.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_service_worker_and_what_it_loads_are_revalidated() {
    let app = spawn_app().await;
    let sw = app.get("/app/sw.js").await;
    assert_eq!(sw.status(), 200);
    assert_eq!(header_of(&sw, header::CONTENT_TYPE), "text/javascript; charset=utf-8");
    assert_eq!(header_of(&sw, header::CACHE_CONTROL), "no-cache");
    assert_app_headers(&sw, "sw.js");
    let code = sw.text().await.unwrap();
    // The worker's runtime, named by the worker itself (`./workbox-<hash>`).
    let start = code.find("workbox-").expect("the worker loads workbox");
    let name: String =
        code[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    for path in [format!("/app/{name}.js"), "/app/sync.js".to_string()] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header_of(&response, header::CONTENT_TYPE), "text/javascript; charset=utf-8", "{path}");
        assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache", "{path}");
    }
}

#[tokio::test]
async fn the_manifest_is_linked_names_the_app_and_its_icons_are_served() {
    let app = spawn_app().await;
    let html = shell(&app).await;
    let manifests = link_href(&html, "manifest");
    assert_eq!(manifests, ["/app/manifest.webmanifest"], "the shell links its manifest: {html}");
    let response = app.get(manifests[0]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header_of(&response, header::CONTENT_TYPE), "application/manifest+json");
    assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache");
    assert_app_headers(&response, "the manifest");
    let text = response.text().await.unwrap();
    assert!(!text.contains("http://") && !text.contains("https://"), "no external URL in the manifest: {text}");
    let manifest: Value = serde_json::from_str(&text).expect("the manifest is JSON");
    assert_eq!(manifest["start_url"], "/app/");
    assert_eq!(manifest["scope"], "/app/");
    assert!(manifest["name"].as_str().is_some_and(|n| !n.is_empty()));
    let icons = manifest["icons"].as_array().expect("icons");
    assert!(!icons.is_empty());
    let manifest_url = reqwest::Url::parse(&app.url(manifests[0])).unwrap();
    let mut icon_paths: Vec<String> =
        icons.iter().map(|icon| manifest_url.join(icon["src"].as_str().unwrap()).unwrap().path().to_string()).collect();
    icon_paths.extend(link_href(&html, "icon").into_iter().map(String::from));
    icon_paths.extend(link_href(&html, "apple-touch-icon").into_iter().map(String::from));
    assert!(icon_paths.len() > icons.len(), "the shell names icons too: {html}");
    for path in icon_paths {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        let content_type = header_of(&response, header::CONTENT_TYPE);
        assert!(content_type == "image/png" || content_type == "image/svg+xml", "{path} is an image: {content_type}");
        assert_eq!(header_of(&response, header::CACHE_CONTROL), "public, max-age=86400", "{path}");
        let bytes = response.bytes().await.unwrap();
        if content_type == "image/png" {
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{path} is a PNG");
        } else {
            assert!(String::from_utf8_lossy(&bytes).contains("<svg"), "{path} is an SVG");
        }
    }
}

#[tokio::test]
async fn a_missing_file_is_a_404_problem() {
    let app = spawn_app().await;
    for path in [
        "/app/assets/nope.js",
        "/app/x.png",
        "/app/icons/nope.svg",
        "/app/sessions/missing.css",
        "/app/..%2F..%2FCargo.toml",
        "/app/%2e%2e/%2e%2e/Cargo.toml",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_problem(response, 404, "not_found").await;
    }
    // A write to the app is refused like any other wrong method.
    let response = app.client.post(app.url("/app/manifest.webmanifest")).send().await.unwrap();
    assert_eq!(header_of(&response, header::ALLOW), "GET");
    assert_problem(response, 405, "method_not_allowed").await;
    // Deeper app routes too (the route spans slashes).
    let response = app.client.post(app.url("/app/sessions/123")).send().await.unwrap();
    assert_eq!(header_of(&response, header::ALLOW), "GET");
    assert_problem(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn a_known_etag_is_answered_304() {
    let app = spawn_app().await;
    let script = main_script(&app).await;
    for path in [script.as_str(), "/app/", "/app/sw.js", "/app/sessions/1"] {
        let first = app.get(path).await;
        let etag = header_of(&first, header::ETAG);
        assert!(!etag.is_empty() && !etag.starts_with("W/"), "{path} has a strong ETag: {etag}");
        let again = app.client.get(app.url(path)).header(header::IF_NONE_MATCH, &etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(header_of(&again, header::ETAG), etag, "{path}");
        assert!(!header_of(&again, header::CACHE_CONTROL).is_empty(), "{path}: a 304 repeats the caching");
        assert!(again.bytes().await.unwrap().is_empty(), "{path}: a 304 has no body");
        let listed = format!("\"other\", {etag}");
        let among = app.client.get(app.url(path)).header(header::IF_NONE_MATCH, listed).send().await.unwrap();
        assert_eq!(among.status(), 304, "{path}: one of several tags");
        let any = app.client.get(app.url(path)).header(header::IF_NONE_MATCH, "*").send().await.unwrap();
        assert_eq!(any.status(), 304, "{path}: *");
        let stale = app.client.get(app.url(path)).header(header::IF_NONE_MATCH, "\"stale\"").send().await.unwrap();
        assert_eq!(stale.status(), 200, "{path}: another tag gets the file");
    }
    let shell_tag = header_of(&app.get("/app/").await, header::ETAG);
    let script_tag = header_of(&app.get(&script).await, header::ETAG);
    assert_ne!(shell_tag, script_tag, "each file has its own tag");
}

#[tokio::test]
async fn head_answers_the_headers_without_a_body() {
    let app = spawn_app().await;
    let script = main_script(&app).await;
    for path in ["/app/", script.as_str(), "/app/manifest.webmanifest", "/app/join"] {
        let get = app.get(path).await;
        let head = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "{path}");
        for name in [header::CONTENT_TYPE, header::CACHE_CONTROL, header::ETAG, header::CONTENT_SECURITY_POLICY] {
            assert_eq!(header_of(&head, &name), header_of(&get, &name), "{path}: {name}");
        }
        assert!(head.bytes().await.unwrap().is_empty(), "{path}: no body");
    }
    let missing = app.client.head(app.url("/app/assets/nope.js")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn files_are_compressed_when_the_client_asks() {
    let app = spawn_app().await;
    let script = main_script(&app).await;
    for path in ["/app/", script.as_str(), "/app/sw.js", "/app/manifest.webmanifest"] {
        let plain = app.get(path).await;
        assert_eq!(header_of(&plain, header::CONTENT_ENCODING), "", "{path}: not compressed unasked");
        let plain_tag = header_of(&plain, header::ETAG);
        let plain = plain.bytes().await.unwrap();

        let gzip = app.client.get(app.url(path)).header(header::ACCEPT_ENCODING, "gzip").send().await.unwrap();
        assert_eq!(gzip.status(), 200, "{path}");
        assert_eq!(header_of(&gzip, header::CONTENT_ENCODING), "gzip", "{path}");
        assert!(header_of(&gzip, header::VARY).to_lowercase().contains("accept-encoding"), "{path}: Vary");
        let gzip_tag = header_of(&gzip, header::ETAG);
        assert_ne!(gzip_tag, plain_tag, "{path}: each encoding is its own representation");
        let compressed = gzip.bytes().await.unwrap();
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..]).read_to_end(&mut unzipped).expect("gzip");
        assert_eq!(unzipped, plain, "{path}: gzip holds the same file");
        let again = app
            .client
            .get(app.url(path))
            .header(header::ACCEPT_ENCODING, "gzip")
            .header(header::IF_NONE_MATCH, &gzip_tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}: the gzip tag revalidates");

        let brotli =
            app.client.get(app.url(path)).header(header::ACCEPT_ENCODING, "gzip, deflate, br").send().await.unwrap();
        assert_eq!(header_of(&brotli, header::CONTENT_ENCODING), "br", "{path}");
        let compressed = brotli.bytes().await.unwrap();
        let mut unpacked = Vec::new();
        brotli::Decompressor::new(&compressed[..], 4096).read_to_end(&mut unpacked).expect("brotli");
        assert_eq!(unpacked, plain, "{path}: brotli holds the same file");
    }
    // The API's answers are left as they were.
    let api = app.client.get(app.url("/healthz")).header(header::ACCEPT_ENCODING, "gzip, br").send().await.unwrap();
    assert_eq!(api.status(), 200);
    assert_eq!(header_of(&api, header::CONTENT_ENCODING), "");
}

#[tokio::test]
async fn the_app_routes_are_in_the_openapi_document() {
    let app = spawn_app().await;
    let spec: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    for path in ["/", "/app", "/app/", "/app/{path}"] {
        let get = &spec["paths"][path]["get"];
        assert_eq!(get["tags"][0], "app", "{path} is documented under the tag app: {get}");
    }
    assert!(spec["tags"].as_array().unwrap().iter().any(|t| t["name"] == "app"), "the tag app is described");
}
