use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use roundtable::clock::SystemClock;
use roundtable::config::Config;
use roundtable::db::Db;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => print_openapi(),
        Command::Migrate => telemetry::init(&cli.config.log, cli.config.log_format).and_then(|()| migrate(&cli.config)),
        Command::Serve => telemetry::init(&cli.config.log, cli.config.log_format).and_then(|()| serve(cli.config)),
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
    // Db::connect applies whatever is pending and logs each version.
    Db::connect(&config.database_url, 1)?;
    println!("migrations applied");
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
