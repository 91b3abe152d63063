//! `spawn_app()`: the real server on a random port with a fresh database (SQLite file, or a new
//! PostgreSQL database when ROUNDTABLE_TEST_PG_URL names a server), a manual clock, and a real
//! SMTP server (mailin-embedded) that keeps what it receives.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::web;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use mailin_embedded::response::{self, Response};
use mailin_embedded::{Handler, Server, SslConfig};
use roundtable::clock::ManualClock;
use roundtable::config::{Config, LogFormat};
use roundtable::db::AnyConnection;
use roundtable::startup::Application;
use roundtable::state::AppState;
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery";

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: Option<String>,
    pub date: Option<String>,
    /// `X-Roundtable-Kind`.
    pub kind: Option<String>,
    /// `List-Id`, `List-Unsubscribe` and `List-Unsubscribe-Post`, as sent.
    pub list_id: Option<String>,
    pub list_unsubscribe: Option<String>,
    pub list_unsubscribe_post: Option<String>,
    /// `multipart/alternative` at the top.
    pub alternative: bool,
}

impl ReceivedMail {
    /// The secret after `#token=` in the mail's link.
    /// The URL on the text part's line `label: URL`.
    pub fn link(&self, label: &str) -> Option<String> {
        let prefix = format!("{label}: ");
        self.text.lines().find_map(|line| line.strip_prefix(&prefix)).map(|url| url.trim().to_string())
    }

    pub fn link_token(&self) -> String {
        let start = self.text.find("#token=").expect("mail has a link") + "#token=".len();
        self.text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')).collect()
    }
}

#[derive(Clone, Default)]
struct SinkHandler {
    current_to: Vec<String>,
    current: Vec<u8>,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    refuse: Arc<AtomicBool>,
}

impl Handler for SinkHandler {
    fn rcpt(&mut self, _to: &str) -> Response {
        if self.refuse.load(Ordering::SeqCst) { response::INTERNAL_ERROR } else { response::OK }
    }
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current_to = to.to_vec();
        self.current.clear();
        response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        let parsed = mail_parser::MessageParser::default().parse(&self.current).expect("parsable mail");
        self.received.lock().unwrap().push(ReceivedMail {
            to: std::mem::take(&mut self.current_to),
            subject: parsed.subject().unwrap_or_default().to_string(),
            text: parsed.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
            html: parsed.body_html(0).map(|t| t.to_string()).unwrap_or_default(),
            message_id: parsed.message_id().map(str::to_string),
            date: parsed.date().map(|d| d.to_rfc3339()),
            kind: parsed.header("X-Roundtable-Kind").and_then(|h| h.as_text()).map(|t| t.trim().to_string()),
            list_id: parsed.header_raw("List-Id").map(|t| t.trim().to_string()),
            list_unsubscribe: parsed.header_raw("List-Unsubscribe").map(|t| t.trim().to_string()),
            list_unsubscribe_post: parsed.header_raw("List-Unsubscribe-Post").map(|t| t.trim().to_string()),
            alternative: parsed
                .header_raw("Content-Type")
                .is_some_and(|ct| ct.trim().to_ascii_lowercase().starts_with("multipart/alternative")),
        });
        response::OK
    }
}

/// A real SMTP server on a loopback port, running on its own thread.
#[derive(Clone)]
pub struct MailSink {
    pub port: u16,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    pub refuse: Arc<AtomicBool>,
}

impl MailSink {
    pub fn start() -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    pub fn start_on(listener: TcpListener) -> Self {
        let port = listener.local_addr().unwrap().port();
        let handler = SinkHandler::default();
        let (received, refuse) = (handler.received.clone(), handler.refuse.clone());
        let mut server = Server::new(handler);
        // Threads for more connections than the mailer keeps open at once (its pool, and the mails
        // it sends side by side), as a real mail server would serve them.
        server
            .with_name("sink.test")
            .with_ssl(SslConfig::None)
            .unwrap()
            .with_num_threads(24)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self { port, received, refuse }
    }

    pub fn mails_to(&self, address: &str) -> Vec<ReceivedMail> {
        self.received.lock().unwrap().iter().filter(|m| m.to.iter().any(|t| t == address)).cloned().collect()
    }

    /// Waits (up to 10 s) for a mail to `address` with this subject.
    pub async fn wait_for_subject(&self, address: &str, subject: &str) -> ReceivedMail {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(mail) = self.mails_to(address).into_iter().find(|m| m.subject == subject) {
                return mail;
            }
            assert!(Instant::now() < deadline, "expected a mail {subject:?} to {address}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to 10 s) until `count` mails to `address` have arrived.
    pub async fn wait_for(&self, address: &str, count: usize) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mails = self.mails_to(address);
            if mails.len() >= count {
                return mails;
            }
            assert!(Instant::now() < deadline, "expected {count} mail(s) to {address}, got {}", mails.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub state: web::Data<AppState>,
    pub mail: Option<MailSink>,
    pub database_url: String,
    pub pg_admin_url: Option<String>,
    _dir: tempfile::TempDir,
}

pub struct Options {
    /// Start an SMTP server for the app (otherwise the app gets `smtp_url`).
    pub mail_sink: bool,
    pub smtp_url: Option<String>,
    pub background_jobs: bool,
    pub rate_limit_ip_per_minute: u32,
    pub rate_limit_account_per_hour: u32,
    pub cors_origins: Vec<String>,
    /// How often the app reads events into notifications by itself (tests drive it by hand).
    pub notify_poll_seconds: u64,
    /// `ROUNDTABLE_WEBHOOK_ALLOW_PRIVATE`: webhooks may call the test's loopback receivers.
    pub webhook_allow_private: bool,
    /// `ROUNDTABLE_SIGNUP`.
    pub signup: roundtable::config::SignupMode,
    /// `ROUNDTABLE_TRUSTED_PROXIES`.
    pub trusted_proxies: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            mail_sink: true,
            smtp_url: None,
            background_jobs: true,
            rate_limit_ip_per_minute: 1000,
            rate_limit_account_per_hour: 1000,
            cors_origins: Vec::new(),
            notify_poll_seconds: 3600,
            webhook_allow_private: false,
            signup: roundtable::config::SignupMode::Open,
            trusted_proxies: Vec::new(),
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

/// A fresh database: a new PostgreSQL database, or a SQLite file in `dir`.
pub fn fresh_database(dir: &std::path::Path) -> (String, Option<String>) {
    match std::env::var("ROUNDTABLE_TEST_PG_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("rt_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = diesel::PgConnection::establish(&admin_url).expect("connect to the test PostgreSQL server");
            admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create test database");
            let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin_url).to_string();
            (format!("{base}/{name}"), Some(admin_url))
        }
        _ => (format!("sqlite://{}", dir.join("roundtable.db").display()), None),
    }
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg_admin_url) = fresh_database(dir.path());
    let clock = ManualClock::starting_at(chrono::Utc::now());
    let mut app = spawn_app_on(&database_url, pg_admin_url, clock, options).await;
    app._dir = dir; // the SQLite file lives as long as the app
    app
}

/// A signed-up user and a fresh sign-in.
pub struct TestUser {
    pub id: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl TestApp {
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use roundtable::clock::Clock;
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn mail(&self) -> &MailSink {
        self.mail.as_ref().expect("this app has a mail sink")
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client.post(self.url(path)).json(body).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn delete_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client.delete(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn patch_as(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client.patch(self.url(path)).bearer_auth(token).json(body).send().await.unwrap()
    }

    /// A POST without a body, as the caller.
    pub async fn post_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client.post(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    /// A POST of raw bytes with the given content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &'static str) -> reqwest::Response {
        self.client.post(self.url(path)).header("content-type", content_type).body(body).send().await.unwrap()
    }

    pub async fn signup(&self, email: &str) -> reqwest::Response {
        self.post(
            "/api/v1/auth/signup",
            &json!({"email": email, "password": PASSWORD, "display_name": "Test Person", "time_zone": "Europe/Berlin"}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post("/api/v1/auth/login", &json!({"email": email, "password": password})).await
    }

    /// A fresh access token for an existing user (e.g. after moving the clock past expiry).
    pub async fn sign_in(&self, email: &str) -> String {
        let tokens: Value = self.login(email, PASSWORD).await.json().await.unwrap();
        tokens["access_token"].as_str().expect("signed in").to_string()
    }

    /// A fresh access token for `email` with `password`.
    pub async fn sign_in_with(&self, email: &str, password: &str) -> String {
        let tokens: Value = self.login(email, password).await.json().await.unwrap();
        tokens["access_token"].as_str().expect("signed in").to_string()
    }

    /// Signs up `email`, signs in, and confirms the address with the link from the mail while signed
    /// in (when the app has a mail sink), as its owner would.
    pub async fn user(&self, email: &str) -> TestUser {
        let id = self.signed_up(email).await;
        let user = self.logged_in(email, id).await;
        if let Some(sink) = &self.mail {
            let token = sink.wait_for_subject(email, "Confirm your email address for Roundtable").await.link_token();
            let confirmed = self
                .post_json_as("/api/v1/auth/email-verifications/redeem", &user.access_token, &json!({"token": token}))
                .await;
            assert_eq!(confirmed.status(), 204, "confirm {email}");
        }
        user
    }

    /// Signs up `email` and signs in, leaving the address unconfirmed.
    pub async fn unconfirmed_user(&self, email: &str) -> TestUser {
        let id = self.signed_up(email).await;
        self.logged_in(email, id).await
    }

    async fn signed_up(&self, email: &str) -> String {
        let created = self.signup(email).await;
        assert_eq!(created.status(), 201, "signup {email}");
        created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    }

    async fn logged_in(&self, email: &str, id: String) -> TestUser {
        let tokens: Value = self.login(email, PASSWORD).await.json().await.unwrap();
        TestUser {
            id,
            access_token: tokens["access_token"].as_str().unwrap().to_string(),
            refresh_token: tokens["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    pub async fn put_as(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.send(reqwest::Method::PUT, path, Some(token), Some(body)).await
    }

    /// Any request: `token` as bearer, `body` as JSON.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    pub async fn post_json_as(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(token), Some(body)).await
    }

    /// Creates a cohort as `token`'s user (its organizer) and returns its id.
    pub async fn cohort(&self, token: &str, name: &str) -> String {
        let response =
            self.post_json_as("/api/v1/cohorts", token, &json!({"name": name, "time_zone": "Europe/Berlin"})).await;
        assert_eq!(response.status(), 201, "create cohort");
        response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    }

    /// An invite link's code for the cohort, made by an organizer.
    pub async fn invite_code(&self, organizer_token: &str, cohort_id: &str) -> String {
        let response =
            self.post_json_as(&format!("/api/v1/cohorts/{cohort_id}/invite-links"), organizer_token, &json!({})).await;
        assert_eq!(response.status(), 201, "create invite link");
        response.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string()
    }

    /// Signs up `email` and makes them a member of the cohort (through an invite link).
    pub async fn member(&self, organizer_token: &str, cohort_id: &str, email: &str) -> TestUser {
        let user = self.user(email).await;
        let code = self.invite_code(organizer_token, cohort_id).await;
        let joined = self.post_json_as("/api/v1/invite-links/join", &user.access_token, &json!({"code": code})).await;
        assert_eq!(joined.status(), 201, "join");
        user
    }

    /// Sets a member's role (as an organizer).
    pub async fn set_role(&self, organizer_token: &str, cohort_id: &str, user_id: &str, role: &str) {
        let path = format!("/api/v1/cohorts/{cohort_id}/members/{user_id}");
        let response = self.patch_as(&path, organizer_token, &json!({"role": role})).await;
        assert_eq!(response.status(), 200, "set role");
    }

    /// A personal access token of `token`'s user with these scopes.
    pub async fn personal_token(&self, token: &str, scopes: &[&str]) -> String {
        let response = self.post_json_as("/api/v1/me/tokens", token, &json!({"name": "test", "scopes": scopes})).await;
        assert_eq!(response.status(), 201, "create token");
        response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
    }

    /// A direct connection to the app's database, for arranging failures and checking effects.
    /// A connection of the test's own to the app's database. On SQLite it waits for the app's
    /// writers (busy_timeout) as the app's own connections do, instead of failing at once while
    /// the app's background work holds the write lock.
    pub fn db(&self) -> AnyConnection {
        let url = self.database_url.strip_prefix("sqlite://").unwrap_or(&self.database_url);
        let mut conn = AnyConnection::establish(url).expect("connect to the test database");
        if let AnyConnection::Sqlite(lite) = &mut conn {
            lite.batch_execute("PRAGMA busy_timeout = 5000;").expect("busy_timeout");
        }
        conn
    }
}

/// Asserts a problem+json response with the given status and code, and returns its body.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response.headers().get("x-request-id").unwrap().to_str().unwrap().to_string();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "code in {body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], format!("urn:roundtable:problem:{code}"));
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(body["title"].is_string() && body["detail"].is_string());
    body
}

/// The built binary, started as a self-hoster starts it, on port 0 with `DATABASE_URL` and the
/// given settings (no SMTP: mail goes to the log). Killed when dropped, so a failing test leaves no
/// server behind holding the files and locks it inherited.
pub struct Binary {
    pub child: std::process::Child,
    /// `http://127.0.0.1:port`, as the binary printed it.
    pub address: String,
}

impl Binary {
    pub fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        use std::io::BufRead;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_roundtable"));
        command
            .args(["--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", database_url)
            .env_remove("ROUNDTABLE_SMTP_URL")
            .env_remove("ROUNDTABLE_JWT_SECRET")
            .env("ROUNDTABLE_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        let mut child = command.spawn().expect("start the binary");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line.trim().strip_prefix("listening on ").expect("prints where it listens").to_string();
        Self { child, address }
    }

    /// SIGKILL, and wait until it is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Another replica of `app`: a second server on the same database, with background jobs on, the
/// same clock (so both see the same "now") and an SMTP sink of its own.
pub async fn spawn_replica(app: &TestApp) -> TestApp {
    spawn_app_on(&app.database_url, app.pg_admin_url.clone(), app.clock.clone(), Options::default()).await
}

/// `n` servers started at the same moment on one fresh, empty database (none has migrated it),
/// sharing one clock.
pub async fn spawn_replicas(n: usize) -> (Vec<TestApp>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg_admin_url) = fresh_database(dir.path());
    let clock = ManualClock::starting_at(chrono::Utc::now());
    let starts = (0..n).map(|_| spawn_app_on(&database_url, pg_admin_url.clone(), clock.clone(), Options::default()));
    (futures_util::future::join_all(starts).await, dir)
}

/// A server on an existing database `database_url` (the caller keeps the database alive).
pub async fn spawn_app_on(
    database_url: &str,
    pg_admin_url: Option<String>,
    clock: ManualClock,
    options: Options,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mail = options.mail_sink.then(MailSink::start);
    let smtp_url = mail.as_ref().map(|sink| format!("smtp://127.0.0.1:{}", sink.port)).or(options.smtp_url);
    let config = Config {
        bind: "127.0.0.1:0".into(),
        database_url: database_url.to_string(),
        base_url: None,
        smtp_url,
        mail_from: "Roundtable <roundtable@example.com>".into(),
        jwt_secret: None,
        log: std::env::var("ROUNDTABLE_TEST_LOG").unwrap_or_else(|_| "error".into()),
        log_format: LogFormat::Text,
        db_pool_size: Some(4),
        rate_limit_ip_per_minute: options.rate_limit_ip_per_minute,
        rate_limit_account_per_hour: options.rate_limit_account_per_hour,
        max_body_bytes: 16 * 1024,
        mail_sweep_seconds: 3600,
        smtp_connections: 8,
        reminder_sweep_seconds: 3600,
        notify_poll_seconds: options.notify_poll_seconds,
        workers: Some(1),
        cors_origins: options.cors_origins,
        background_jobs: options.background_jobs,
        webhook_allow_private: options.webhook_allow_private,
        signup: options.signup,
        trusted_proxies: options.trusted_proxies,
    };
    let app = Application::build(&config, Arc::new(clock.clone())).await.expect("app builds");
    let base = format!("http://{}", app.address());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: reqwest::Client::new(),
        clock,
        state,
        mail,
        database_url: database_url.to_string(),
        pg_admin_url,
        _dir: dir,
    }
}

impl TestApp {
    /// `n` active members of the cohort at once, written straight to the database (no sign-up,
    /// no password hashing), each with a sign-in and an access token: for races that need
    /// hundreds of distinct people.
    pub async fn members_in_bulk(&self, cohort_id: &str, n: usize) -> Vec<TestUser> {
        use diesel::prelude::*;
        use roundtable::db::schema::{auth_sessions, memberships, users};
        let now = self.clock_now();
        let at = now.naive_utc();
        let people: Vec<(String, String)> =
            (0..n).map(|_| (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string())).collect();
        let conn = &mut self.db();
        for (i, (user_id, sign_in)) in people.iter().enumerate() {
            let email = format!("bulk{i}-{}@example.com", &user_id[..8]);
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(user_id),
                    users::email.eq(&email),
                    users::email_lower.eq(&email),
                    users::password_hash.eq("not a hash: this member never signs in with a password"),
                    users::display_name.eq(format!("Member {i}")),
                    users::time_zone.eq("UTC"),
                    users::locale.eq("en"),
                    users::email_verified_at.eq(Some(at)),
                    users::created_at.eq(at),
                    users::updated_at.eq(at),
                ))
                .execute(conn)
                .unwrap();
            diesel::insert_into(memberships::table)
                .values((
                    memberships::cohort_id.eq(cohort_id),
                    memberships::user_id.eq(user_id),
                    memberships::role.eq("member"),
                    memberships::state.eq("active"),
                    memberships::joined_at.eq(at),
                    memberships::state_changed_at.eq(at),
                ))
                .execute(conn)
                .unwrap();
            diesel::insert_into(auth_sessions::table)
                .values((
                    auth_sessions::id.eq(sign_in),
                    auth_sessions::user_id.eq(user_id),
                    auth_sessions::method.eq("password"),
                    auth_sessions::created_at.eq(at),
                    auth_sessions::last_used_at.eq(at),
                ))
                .execute(conn)
                .unwrap();
        }
        people
            .into_iter()
            .map(|(id, sign_in)| TestUser {
                access_token: self
                    .state
                    .jwt
                    .issue(&roundtable::db::UserId::from_untyped(id.as_str()), &sign_in, now)
                    .unwrap(),
                refresh_token: String::new(),
                id,
            })
            .collect()
    }
}

impl TestApp {
    /// Waits until no queued mail is due or being sent (the app's own mail worker may hold a
    /// batch while the test's pass found nothing left to claim).
    pub async fn outbox_settled(&self) {
        use diesel::prelude::*;
        use roundtable::db::schema::outbound_mail as mail;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = self.clock_now().naive_utc();
            let busy: i64 = mail::table
                .filter(mail::status.eq("sending").or(mail::status.eq("pending").and(mail::next_attempt_at.le(now))))
                .count()
                .get_result(&mut self.db())
                .unwrap();
            if busy == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "{busy} mail(s) still due or sending");
            self.state.mailer.deliver_due().await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Another replica of `app` with these options (same database and clock).
pub async fn spawn_replica_with(app: &TestApp, options: Options) -> TestApp {
    spawn_app_on(&app.database_url, app.pg_admin_url.clone(), app.clock.clone(), options).await
}

/// One request a `WebhookReceiver` got.
#[derive(Debug, Clone)]
pub struct ReceivedHook {
    pub headers: std::collections::HashMap<String, String>,
    pub body: String,
}

/// A real HTTP receiver on loopback: records every request and answers `status` (settable);
/// `stop` closes the port (connections are refused) and `start` opens it again.
pub struct WebhookReceiver {
    pub port: u16,
    pub received: Arc<Mutex<Vec<ReceivedHook>>>,
    pub status: Arc<std::sync::atomic::AtomicU16>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl WebhookReceiver {
    /// A receiver whose port is reserved but which is down until `start`.
    pub fn down() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Self { port, received: Arc::default(), status: Arc::new(200.into()), task: None }
    }

    pub async fn up() -> Self {
        let mut receiver = Self::down();
        receiver.start().await;
        receiver
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub async fn start(&mut self) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let (received, status) = (self.received.clone(), self.status.clone());
        self.task = Some(tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else { return };
                let (received, status) = (received.clone(), status.clone());
                tokio::spawn(async move {
                    let mut data = Vec::new();
                    let mut buf = [0u8; 8192];
                    let (head, body_start) = loop {
                        let Ok(n) = stream.read(&mut buf).await else { return };
                        if n == 0 {
                            return;
                        }
                        data.extend_from_slice(&buf[..n]);
                        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                            break (String::from_utf8_lossy(&data[..at]).to_string(), at + 4);
                        }
                    };
                    let headers: std::collections::HashMap<String, String> = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
                        .collect();
                    let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                    while data.len() < body_start + length {
                        let Ok(n) = stream.read(&mut buf).await else { return };
                        if n == 0 {
                            return;
                        }
                        data.extend_from_slice(&buf[..n]);
                    }
                    let body = String::from_utf8_lossy(&data[body_start..body_start + length]).to_string();
                    let code = status.load(Ordering::SeqCst);
                    received.lock().unwrap().push(ReceivedHook { headers, body });
                    let answer = format!("HTTP/1.1 {code} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
                    let _ = stream.write_all(answer.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        }));
        tokio::task::yield_now().await;
    }

    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<ReceivedHook> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Checks each (secret, webhook-id, webhook-timestamp, webhook-signature, body) with the
/// reference implementation of Standard Webhooks (Python `standardwebhooks` 1.1 from PyPI,
/// installed into a virtualenv under the target dir on first use): true for each whose signature
/// list holds the signature the reference library computes. Panics when it cannot be installed.
pub fn standardwebhooks_check(items: &[(String, String, String, String, String)]) -> Vec<bool> {
    use std::io::Write;
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = root.join("standardwebhooks-1.1-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let building = root.join(format!("standardwebhooks-venv-{}", uuid::Uuid::new_v4().simple()));
        let made = std::process::Command::new("python3").arg("-m").arg("venv").arg(&building).status().unwrap();
        assert!(made.success(), "python3 -m venv failed");
        let pip = std::process::Command::new(building.join("bin/pip"))
            .args(["install", "-q", "standardwebhooks==1.1.0"])
            .status()
            .unwrap();
        assert!(pip.success(), "pip could not install standardwebhooks 1.1.0: the independent check cannot run");
        // Another test process may have finished first; either venv is complete.
        if std::fs::rename(&building, &venv).is_err() {
            let _ = std::fs::remove_dir_all(&building);
        }
    }
    let script = r#"
import json, sys
from datetime import datetime, timezone
from standardwebhooks import Webhook
out = []
for secret, msg_id, ts, signatures, body in json.load(sys.stdin):
    expected = Webhook(secret).sign(msg_id, datetime.fromtimestamp(int(ts), tz=timezone.utc), body)
    out.append(expected in signatures.split(" "))
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(serde_json::to_string(items).unwrap().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the standardwebhooks check failed to run");
    serde_json::from_slice(&output.stdout).expect("a JSON list of booleans")
}

/// `PATH` with the PostgreSQL tools of the throwaway test cluster first: the newest
/// `/usr/lib/postgresql/*/bin` holding `pg_dump`, the folder tests/pg.sh takes `postgres` from
/// (`PGBIN`), so `roundtable backup`/`restore` use the client tools of the server they talk to.
pub fn path_with_pg_tools() -> String {
    let mut versions: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin)| bin.join("pg_dump").is_file())
        .collect();
    versions.sort();
    let path = std::env::var("PATH").unwrap_or_default();
    match versions.pop() {
        Some((_, bin)) => format!("{}:{path}", bin.display()),
        None => path,
    }
}

/// Runs `roundtable ARGS` against `database_url` (PostgreSQL tools on PATH) and waits.
pub fn run_binary(database_url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_roundtable"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("PATH", path_with_pg_tools())
        .env("ROUNDTABLE_LOG", "warn")
        .output()
        .expect("run the binary")
}
