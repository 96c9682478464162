//! The command line: parse, run one subcommand, turn failures into one line and an exit code
//! (2: usage, 1: anything else).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::config::{Cli, Command, LogFormat, UsersCommand};
use crate::service::users::UserNew;
use crate::service::{self, Limits};
use crate::startup;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
                || matches!(
                    e.kind(),
                    ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                )
            {
                let _ = e.print();
                return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
            }
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            eprintln!(
                "guichet: {} (see guichet --help)",
                first.trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
    };
    let format = match &cli.command {
        Command::Serve(args) => args.log_format,
        _ => LogFormat::Text,
    };
    init_logging(format);
    let runtime = actix_web::rt::System::new();
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("guichet: {message}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve(args) => startup::serve(*args).await,
        Command::Migrate(db) => {
            startup::open_database(&db.database_url, 1).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Openapi => {
            print!("{}", crate::api::openapi_json());
            Ok(())
        }
        Command::Users { command } => users(command).await,
    }
}

async fn users(command: UsersCommand) -> Result<(), String> {
    match command {
        UsersCommand::Create {
            database,
            email,
            role,
            institution,
            password_stdin,
        } => {
            if role.needs_institution() && institution.is_none() {
                return Err(format!("--institution is required for the role {role}"));
            }
            if !role.needs_institution() && institution.is_some() {
                return Err("operators belong to no institution: drop --institution".into());
            }
            let password = read_password(password_stdin)?;
            if let Some(problem) = crate::api::params::password_problems(&password).first() {
                return Err(format!("password {}", problem.message));
            }
            let db = startup::open_database(&database.database_url, 1).await?;
            let g = startup::build_guichet(db, None, 900, Limits::default()).await?;
            let user = service::users::user_create_unchecked(
                &g,
                UserNew {
                    email,
                    password,
                    role,
                    institution_id: institution,
                    locale: None,
                    contact_id: None,
                },
            )
            .await
            .map_err(|e| match e {
                crate::error::Error::Validation(errors) => errors
                    .iter()
                    .map(|e| format!("{}: {}", e.pointer.trim_start_matches('/'), e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                crate::error::Error::Conflict { detail, .. } => detail.to_string(),
                other => other.to_string(),
            })?;
            println!("created {} {} ({})", user.role, user.email, user.id);
            Ok(())
        }
        UsersCommand::List { database } => {
            let db = startup::open_database(&database.database_url, 1).await?;
            let g = startup::build_guichet(db, None, 900, Limits::default()).await?;
            let users = service::users::user_list_all(&g)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "{:<38} {:<40} {:<18} {:<16} status",
                "id", "email", "role", "institution"
            );
            for u in users {
                println!(
                    "{:<38} {:<40} {:<18} {:<16} {}",
                    u.id,
                    u.email,
                    u.role.as_str(),
                    u.institution_id.as_deref().unwrap_or("-"),
                    if u.disabled { "disabled" } else { "active" }
                );
            }
            Ok(())
        }
    }
}

/// Reads a password from standard input (`--password-stdin`) or from a prompt without echo.
fn read_password(from_stdin: bool) -> Result<String, String> {
    let stdin = std::io::stdin();
    if from_stdin || !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password: {e}"))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = prompt("Password: ")?;
    let second = prompt("Password again: ")?;
    if first != second {
        return Err("the two passwords differ".into());
    }
    Ok(first)
}

fn prompt(label: &str) -> Result<String, String> {
    eprint!("{label}");
    let _ = std::io::stderr().flush();
    // Echo off while typing, through the terminal's own tool: no unsafe code needed.
    let echo_off = std::process::Command::new("stty")
        .arg("-echo")
        .status()
        .is_ok_and(|s| s.success());
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if echo_off {
        let _ = std::process::Command::new("stty").arg("echo").status();
        eprintln!();
    }
    read.map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
