//! Configuration: one struct read from flags and environment variables (flags win), with defaults
//! that need nothing installed: a SQLite file under ./data and mail written to the log.

use clap::{Args, ValueEnum};

#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (the server prints the one it got).
    #[arg(long, env = "ROUNDTABLE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// `sqlite://path`, a bare file path, or `postgres://user@host/db`.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = "sqlite://./data/roundtable.db")]
    pub database_url: String,

    /// Public URL of this server, used in links inside mail (default: http://BIND).
    #[arg(long, env = "ROUNDTABLE_BASE_URL")]
    pub base_url: Option<String>,

    /// `smtp://host:port` (plain), `smtp://host?tls=required` (STARTTLS) or `smtps://host` (TLS),
    /// with optional `user:password@`. Unset: mail is written to the log instead of being sent.
    #[arg(long, env = "ROUNDTABLE_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// Sender of every mail.
    #[arg(long, env = "ROUNDTABLE_MAIL_FROM", default_value = "Roundtable <roundtable@localhost>")]
    pub mail_from: String,

    /// HS256 secret for access tokens (at least 32 bytes). Unset: one is generated on first run
    /// and kept in the database, so every replica shares it.
    #[arg(long, env = "ROUNDTABLE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Log filter in `tracing` syntax, e.g. `info` or `roundtable=debug,actix_web=info`.
    #[arg(long, env = "ROUNDTABLE_LOG", default_value = "info")]
    pub log: String,

    #[arg(long, env = "ROUNDTABLE_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Connections in the database pool (default: twice the CPU cores; more only adds
    /// contention, measured in README "Measured").
    #[arg(long, env = "ROUNDTABLE_DB_POOL_SIZE")]
    pub db_pool_size: Option<u32>,

    /// Sign-in and mail-sending requests allowed per client IP per minute.
    #[arg(long, env = "ROUNDTABLE_RATE_LIMIT_IP_PER_MINUTE", default_value_t = 30)]
    pub rate_limit_ip_per_minute: u32,

    /// Sign-in and mail-sending requests allowed per account (email address) per hour.
    #[arg(long, env = "ROUNDTABLE_RATE_LIMIT_ACCOUNT_PER_HOUR", default_value_t = 20)]
    pub rate_limit_account_per_hour: u32,

    /// Largest accepted JSON body, in bytes.
    #[arg(long, env = "ROUNDTABLE_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// SMTP connections the mailer sends over at once (1 to 256).
    #[arg(long, env = "ROUNDTABLE_SMTP_CONNECTIONS", default_value_t = crate::mail::IN_FLIGHT)]
    pub smtp_connections: usize,

    /// Seconds between sweeps of the mail queue (mail is also sent right after it is queued).
    #[arg(long, env = "ROUNDTABLE_MAIL_SWEEP_SECONDS", default_value_t = 30)]
    pub mail_sweep_seconds: u64,

    /// Seconds between plannings of due reminders: each session's, duty's and skill share's
    /// "soon" reminders of the next 15 days are written (and the ones no longer called for
    /// withdrawn). One replica plans per period (a lease).
    #[arg(long, env = "ROUNDTABLE_REMINDER_SWEEP_SECONDS", default_value_t = 60)]
    pub reminder_sweep_seconds: u64,

    /// Seconds between passes in which each process reads new events (a session moved, a swap
    /// asked) into notifications and queues the mail of those due.
    #[arg(long, env = "ROUNDTABLE_NOTIFY_POLL_SECONDS", default_value_t = 2)]
    pub notify_poll_seconds: u64,

    /// Web origins (`https://app.example.org`, comma-separated) whose pages may call the API from
    /// a browser (CORS). Empty: none; the app this server serves is same-origin and needs none.
    #[arg(long, env = "ROUNDTABLE_CORS_ORIGINS", value_delimiter = ',', default_value = "")]
    pub cors_origins: Vec<String>,

    /// Let webhooks call loopback, private and link-local addresses (tests, closed networks).
    /// Off by default: a webhook URL must resolve to public addresses only, checked when it is
    /// registered and again before every delivery.
    #[arg(long, env = "ROUNDTABLE_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,

    /// Who may create an account: `open` (anyone) or `invite-only` (only someone with a pending
    /// invitation to a cohort sent to the address signed up with, or with a usable invite link's
    /// code in the sign-up's `invite_code`). Existing accounts are never affected.
    #[arg(long, env = "ROUNDTABLE_SIGNUP", value_enum, default_value = "open")]
    pub signup: SignupMode,

    /// Reverse proxies (IPs or CIDRs, comma-separated, e.g. `127.0.0.1,10.0.0.0/8`) whose
    /// `X-Forwarded-For` names the client: only a request whose TCP peer is one of them is read
    /// that way (the rightmost address that is not itself a trusted proxy). Empty: the header is
    /// never believed, and the client is the TCP peer.
    #[arg(long, env = "ROUNDTABLE_TRUSTED_PROXIES", value_delimiter = ',', default_value = "")]
    pub trusted_proxies: Vec<String>,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "ROUNDTABLE_WORKERS")]
    pub workers: Option<usize>,

    /// Run the mail worker and the periodic sweep in this process. Tests turn it off to drive
    /// delivery step by step.
    #[arg(skip = true)]
    pub background_jobs: bool,
}

/// `ROUNDTABLE_SIGNUP`: who may create an account.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SignupMode {
    /// Anyone may sign up.
    #[default]
    Open,
    /// Only people invited to a cohort (a pending invitation to their address, or an invite
    /// link's code given at sign-up).
    InviteOnly,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// The configured CORS origins, checked: each is `scheme://host[:port]`; `*` is refused
    /// (every caller sends its token, so no wildcard).
    pub fn cors_origins(&self) -> anyhow::Result<Vec<String>> {
        let mut origins = Vec::new();
        for raw in self.cors_origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
            let origin = raw.trim_end_matches('/');
            let valid = origin.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains(['/', '*', ' ', '?', '#'])
            });
            anyhow::ensure!(valid, "ROUNDTABLE_CORS_ORIGINS: {raw:?} is not an origin like https://app.example.org");
            origins.push(origin.to_string());
        }
        Ok(origins)
    }

    /// The configured trusted proxies, checked.
    pub fn trusted_proxies(&self) -> anyhow::Result<crate::http::forwarded::TrustedProxies> {
        crate::http::forwarded::TrustedProxies::parse(&self.trusted_proxies).map_err(anyhow::Error::msg)
    }

    pub fn pool_size(&self) -> u32 {
        self.db_pool_size.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
            (2 * cores).max(2)
        })
    }

    pub fn base_url(&self, bound: std::net::SocketAddr) -> String {
        match &self.base_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{bound}"),
        }
    }
}
