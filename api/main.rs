use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use roundtable::clock::{Clock, SystemClock};
use roundtable::config::Config;
use roundtable::startup::{Application, openapi_spec};
use roundtable::telemetry;

#[derive(Parser)]
#[command(name = "roundtable", version, about = "Peer-learning cohorts: API, phone app and reminders in one binary")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Put a mail whose delivery is `unknown` (or `failed`) back in the queue, due now. Only when
    /// you know it did not arrive: it will be sent again.
    MailRequeue {
        /// The mail's id (`outbound_mail.id`).
        id: String,
    },
    /// Write a consistent copy of the database to PATH while the server keeps running (SQLite:
    /// VACUUM INTO; PostgreSQL: pg_dump --format=custom, found on PATH). Prints its size and the
    /// latest migration in it.
    Backup {
        /// The file to write (written beside it first, then renamed).
        path: std::path::PathBuf,
        /// Replace PATH if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Put a backup in place of the database, then migrate it. Stop the server first: a database
    /// that another process has open is refused.
    Restore {
        /// A file written by `roundtable backup`.
        path: std::path::PathBuf,
        /// Replace a database that already holds tables.
        #[arg(long)]
        force: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => print_openapi(),
        Command::Migrate => telemetry::init(&cli.config.log, cli.config.log_format).and_then(|()| migrate(&cli.config)),
        Command::Serve => telemetry::init(&cli.config.log, cli.config.log_format).and_then(|()| serve(cli.config)),
        Command::MailRequeue { id } => {
            telemetry::init(&cli.config.log, cli.config.log_format).and_then(|()| requeue_mail(&cli.config, &id))
        }
        Command::Backup { path, force } => telemetry::init(&cli.config.log, cli.config.log_format)
            .and_then(|()| roundtable::db::backup::backup(&cli.config.database_url, &path, force))
            .map(|report| println!("{report}")),
        Command::Restore { path, force } => telemetry::init(&cli.config.log, cli.config.log_format)
            .and_then(|()| roundtable::db::backup::restore(&cli.config.database_url, &path, force))
            .map(|report| println!("{report}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_openapi() -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(&openapi_spec())?;
    writeln!(std::io::stdout(), "{json}")?;
    Ok(())
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    // The same locked run as at server start: replicas starting meanwhile wait for it.
    let applied = roundtable::db::migrate(&config.database_url)?;
    for version in &applied {
        tracing::info!(%version, "applied migration");
    }
    println!("migrations applied");
    Ok(())
}

fn requeue_mail(config: &Config, id: &str) -> anyhow::Result<()> {
    let db = roundtable::db::Db::connect(&config.database_url, 1)?;
    let (id, now) = (id.to_string(), SystemClock.now());
    let requeued = db.write_blocking(|conn| roundtable::mail::outbox::requeue(conn, &id, now))?;
    anyhow::ensure!(requeued, "no mail {id} in state unknown or failed");
    println!("mail {id} queued again");
    Ok(())
}

#[actix_web::main]
async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(&config, Arc::new(SystemClock)).await?;
    println!("listening on http://{}", app.address());
    std::io::stdout().flush()?;
    app.run_until_stopped().await?;
    Ok(())
}
