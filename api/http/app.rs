//! The phone app at `/app/`: the files `build.rs` builds into `pwa/dist/`, embedded in the binary
//! (in debug builds too), so nothing is read from disk or fetched at run time.
//!
//! - `/` and `/app` redirect to `/app/`.
//! - `/app/{path}`: the embedded file by that path. A path that names no file and does not look
//!   like one (no `.` in its last segment: `/app/sessions/…`, `/app/verify-email`) is an app
//!   route and gets the shell, `index.html` (the SPA fallback); a missing file is a 404 problem.
//! - Caching: hashed names (`assets/*`) are immutable for a year; icons keep a day; everything
//!   else (`index.html`, `sw.js`, `sync.js`, `workbox-*.js`, the manifest) is revalidated on
//!   every use (`no-cache`) against a strong `ETag` (the file's SHA-256), answered 304 when it
//!   still matches.
//! - Text files go out gzip- or brotli-compressed when the client asks (`Accept-Encoding`),
//!   compressed once per file and kept; each encoding is its own representation with its own
//!   `ETag` (`"<hash>-gzip"`, `"<hash>-br"`), as RFC 9110 wants of strong validators.
//! - Every answer carries a strict `Content-Security-Policy` (this origin only, no inline script
//!   or style), `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.
//!
//! HEAD is answered like GET without the body; the OpenAPI document lists the GETs.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{LazyLock, OnceLock};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Encoding, Header, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, route};

use crate::error::ApiError;

/// The built app. `build.rs` makes sure the folder exists and is up to date before this compiles.
#[derive(rust_embed::RustEmbed)]
#[folder = "pwa/dist/"]
struct Dist;

/// The policy of every app answer: everything from this origin, nothing inline, no plugins, no
/// framing. The link pages (`/a/{secret}`) keep their own, stricter one (they run no script).
pub const APP_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; \
base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const SHELL: &str = "index.html";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const ONE_DAY: &str = "public, max-age=86400";
const REVALIDATE: &str = "no-cache";

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(open).service(app_without_slash).service(shell).service(file);
}

/// Opens the phone app: a redirect to `/app/` (HEAD too).
#[utoipa::path(
    get,
    path = "/",
    tag = "app",
    operation_id = "open_app",
    responses((status = 302, description = "To the app", headers(("location" = String, description = "`/app/`"))))
)]
#[route("/", method = "GET", method = "HEAD")]
pub async fn open() -> HttpResponse {
    redirect(StatusCode::FOUND, "/app/".to_string())
}

/// `/app` redirects to `/app/` (HEAD too).
///
/// The query is kept; the slash makes the app's relative URLs resolve inside it.
#[utoipa::path(
    get,
    path = "/app",
    tag = "app",
    operation_id = "app_without_slash",
    responses((
        status = 308,
        description = "To the app",
        headers(("location" = String, description = "`/app/`, with the query"))
    ))
)]
#[route("/app", method = "GET", method = "HEAD")]
pub async fn app_without_slash(req: HttpRequest) -> HttpResponse {
    let query = req.query_string();
    let location = if query.is_empty() { "/app/".to_string() } else { format!("/app/?{query}") };
    redirect(StatusCode::PERMANENT_REDIRECT, location)
}

/// The app's shell, `index.html` (HEAD too).
///
/// `Cache-Control: no-cache`: it is revalidated on every use against its `ETag`.
#[utoipa::path(
    get,
    path = "/app/",
    tag = "app",
    operation_id = "app_shell",
    responses(
        (status = 200, description = "The shell, `Cache-Control: no-cache`, with an `ETag`", content_type = "text/html", body = String),
        (status = 304, description = "`If-None-Match` named the current `ETag`"),
    )
)]
#[route("/app/", method = "GET", method = "HEAD")]
pub async fn shell(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(&req, "")
}

/// A file of the app, or the shell for an app route.
///
/// An app route is a path whose last segment has no `.` (`/app/sessions/{id}`,
/// `/app/verify-email`): it gets the shell, and the app shows the page. Hashed `assets/*` are
/// cached for a year (`immutable`), icons for a day, the rest is revalidated (`no-cache`); each
/// has a strong `ETag` and `If-None-Match` gets 304. Text files are gzip- or brotli-compressed
/// per `Accept-Encoding`. HEAD answers the headers alone.
#[utoipa::path(
    get,
    path = "/app/{path}",
    tag = "app",
    operation_id = "app_file",
    params(("path" = String, Path, description = "A file of the app (`assets/index-3f2a1b.js`, `sw.js`, `manifest.webmanifest`, `icons/icon-192.png`) or an app route (`sessions/{id}`, `verify-email`)")),
    responses(
        (status = 200, description = "The file, or the shell for an app route", content(
            ("text/html"), ("text/javascript"), ("text/css"), ("application/manifest+json"), ("image/png"), ("image/svg+xml")
        )),
        (status = 304, description = "`If-None-Match` named the current `ETag`"),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[route("/app/{path:.*}", method = "GET", method = "HEAD")]
pub async fn file(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.match_info().get("path").unwrap_or_default().to_string();
    serve(&req, &path)
}

fn redirect(status: StatusCode, location: String) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::LOCATION, location));
    app_headers(&mut response);
    response.finish()
}

fn app_headers(response: &mut HttpResponseBuilder) {
    response
        .insert_header((header::CONTENT_SECURITY_POLICY, APP_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
}

/// One embedded file, with what its answers need, worked out once.
struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    cache_control: &'static str,
    /// The SHA-256 of the file, hex: the identity `ETag` without its quotes.
    hash: String,
    compressible: bool,
    gzip: OnceLock<Vec<u8>>,
    brotli: OnceLock<Vec<u8>>,
}

static ASSETS: LazyLock<HashMap<String, Asset>> = LazyLock::new(|| {
    Dist::iter()
        .filter_map(|name| {
            let embedded = Dist::get(&name)?;
            let bytes: &'static [u8] = match embedded.data {
                std::borrow::Cow::Borrowed(bytes) => bytes,
                // Embedded files are borrowed from the binary; were one not, keep it for good.
                std::borrow::Cow::Owned(bytes) => Vec::leak(bytes),
            };
            let (content_type, compressible) = content_type(&name);
            let hash = embedded.metadata.sha256_hash().iter().map(|b| format!("{b:02x}")).collect();
            let asset = Asset {
                bytes,
                content_type,
                cache_control: cache_control(&name),
                hash,
                compressible,
                gzip: OnceLock::new(),
                brotli: OnceLock::new(),
            };
            Some((name.into_owned(), asset))
        })
        .collect()
});

/// The type of a file by its extension, and whether it is worth compressing.
fn content_type(name: &str) -> (&'static str, bool) {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => ("text/html; charset=utf-8", true),
        Some("js" | "mjs") => ("text/javascript; charset=utf-8", true),
        Some("css") => ("text/css; charset=utf-8", true),
        Some("webmanifest") => ("application/manifest+json", true),
        Some("json") => ("application/json", true),
        Some("svg") => ("image/svg+xml", true),
        Some("txt") => ("text/plain; charset=utf-8", true),
        Some("png") => ("image/png", false),
        Some("ico") => ("image/x-icon", true),
        Some("webp") => ("image/webp", false),
        Some("woff2") => ("font/woff2", false),
        _ => ("application/octet-stream", false),
    }
}

fn cache_control(name: &str) -> &'static str {
    if name.starts_with("assets/") {
        IMMUTABLE
    } else if name.starts_with("icons/") {
        ONE_DAY
    } else {
        REVALIDATE
    }
}

/// Whether a path names a file (a `.` in its last segment) rather than an app route.
fn looks_like_file(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(|last| last.contains('.'))
}

fn serve(req: &HttpRequest, path: &str) -> Result<HttpResponse, ApiError> {
    let asset = match ASSETS.get(path) {
        Some(asset) => asset,
        None if looks_like_file(path) => return Err(ApiError::NotFound),
        None => ASSETS.get(SHELL).ok_or(ApiError::NotFound)?,
    };
    let encoding = if asset.compressible { negotiate(req) } else { ContentEncoding::Identity };
    let etag = match encoding {
        ContentEncoding::Gzip => format!("\"{}-gzip\"", asset.hash),
        ContentEncoding::Brotli => format!("\"{}-br\"", asset.hash),
        _ => format!("\"{}\"", asset.hash),
    };
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| matches(tags, &etag));

    let mut response = HttpResponse::build(if not_modified { StatusCode::NOT_MODIFIED } else { StatusCode::OK });
    app_headers(&mut response);
    response.insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, asset.cache_control));
    if asset.compressible {
        response.insert_header((header::VARY, "Accept-Encoding"));
    }
    if not_modified {
        return Ok(response.finish());
    }
    response.insert_header((header::CONTENT_TYPE, asset.content_type));
    let body: &'static [u8] = match encoding {
        ContentEncoding::Gzip => asset.gzip.get_or_init(|| gzip(asset.bytes)).as_slice(),
        ContentEncoding::Brotli => asset.brotli.get_or_init(|| brotli(asset.bytes)).as_slice(),
        _ => asset.bytes,
    };
    if encoding != ContentEncoding::Identity {
        response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static(encoding.as_str())));
    }
    // The body is static (the binary's, or kept for good in `ASSETS`): no copy per request.
    Ok(response.body(body_of(body)))
}

/// The encoding the client prefers among brotli, gzip and none (none when it asks for nothing,
/// or for nothing of ours).
fn negotiate(req: &HttpRequest) -> ContentEncoding {
    let supported = [Encoding::brotli(), Encoding::gzip(), Encoding::identity()];
    match AcceptEncoding::parse(req).ok().and_then(|accept| accept.negotiate(supported.iter())) {
        Some(Encoding::Known(encoding)) => encoding,
        _ => ContentEncoding::Identity,
    }
}

/// `If-None-Match` (weak comparison, RFC 9110 13.1.2): `*`, or one of the listed tags.
fn matches(header_value: &str, etag: &str) -> bool {
    header_value.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

fn body_of(bytes: &'static [u8]) -> actix_web::web::Bytes {
    actix_web::web::Bytes::from_static(bytes)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).and_then(|()| encoder.finish()).expect("compressing in memory cannot fail")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
        writer.write_all(bytes).expect("compressing in memory cannot fail");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{looks_like_file, matches};

    #[test]
    fn app_routes_are_told_from_files() {
        for route in ["", "sessions/0193a5a0-7c1e-7d2a-9a51-2b1f3c4d5e6f", "verify-email", "join", "me/", "assets/"] {
            assert!(!looks_like_file(route), "{route}");
        }
        for file in ["sw.js", "assets/index-3f2a.js", "icons/icon-192.png", "x.png", "a/b.c"] {
            assert!(looks_like_file(file), "{file}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_star() {
        assert!(matches("\"abc\"", "\"abc\""));
        assert!(matches("W/\"abc\"", "\"abc\""));
        assert!(matches("\"x\", \"abc\"", "\"abc\""));
        assert!(matches("*", "\"abc\""));
        assert!(!matches("\"abc-gzip\"", "\"abc\""));
        assert!(!matches("\"ab\"", "\"abc\""));
        assert!(!matches("", "\"abc\""));
    }
}
