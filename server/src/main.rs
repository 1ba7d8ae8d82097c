//! The `ssoplane` command line: `serve`, `token create|list|revoke`, `openapi`, `check-config`.
#![forbid(unsafe_code)]
// A panic on input is a denial of service: production code returns errors.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ssoplane_server::config::{self, Config, Overrides};
use ssoplane_server::store::Role;
use ssoplane_server::{api, app, settings, telemetry, tokens};

#[derive(Parser)]
#[command(
    name = "ssoplane",
    version,
    about = "SSO control plane: admin API, settings store and SAML service provider"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// TOML config file (optional; defaults < file < SSOPLANE__... env < flags).
    #[arg(long, env = "SSOPLANE_CONFIG")]
    config: Option<PathBuf>,
    /// sqlite://path or postgres://user:pass@host/db (default: sqlite://{data_dir}/ssoplane.db).
    #[arg(long)]
    database_url: Option<String>,
    /// Directory of the embedded database and the generated secret key file (default: ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Public base URL (default http://{listen}).
        #[arg(long)]
        root_url: Option<String>,
    },
    /// Manage admin API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage the break-glass local administrator (server.local_login).
    LocalAdmin {
        #[command(subcommand)]
        command: LocalAdminCommand,
    },
    /// Print the OpenAPI document of the admin API.
    Openapi,
    /// Validate the configuration (file, environment) and exit.
    CheckConfig {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Reader,
    /// SCIM provisioning (/scim/v2 only), bound to --provider.
    Scim,
}

#[derive(Subcommand)]
enum LocalAdminCommand {
    /// Set the local administrator's username and password (the password is read from stdin).
    SetPassword {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value = "admin")]
        username: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it once (it is stored hashed).
    Create {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// For --role scim: the SAML provider whose users the token provisions
        /// (externalId is linked to that provider's external uid).
        #[arg(long)]
        provider: Option<String>,
    },
    /// List tokens (names and roles; never the tokens).
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Revoke a token by name.
    Revoke {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        name: String,
    },
}

fn load(
    common: &Common,
    listen: Option<String>,
    root_url: Option<String>,
) -> anyhow::Result<Config> {
    let overrides = Overrides {
        listen,
        root_url,
        database_url: common.database_url.clone(),
        data_dir: common.data_dir.clone(),
    };
    Ok(config::load(common.config.as_deref(), &overrides)?)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            common,
            listen,
            root_url,
        } => {
            let config = load(&common, listen, root_url)?;
            telemetry::init_logging(config.server.log_format, &config.server.log_level);
            let listener = app::listen(&config.server.listen).await?;
            app::serve(&config, listener, app::shutdown_signal()).await?;
        }
        Command::Token { command } => match command {
            TokenCommand::Create {
                common,
                name,
                role,
                provider,
            } => {
                let config = load(&common, None, None)?;
                let store = app::open_store(&config).await?;
                let role = match role {
                    RoleArg::Admin => Role::Admin,
                    RoleArg::Reader => Role::Reader,
                    RoleArg::Scim => Role::Scim,
                };
                let token =
                    tokens::create_bound(&store, &name, role, provider.as_deref().unwrap_or(""))
                        .await;
                let token = match token {
                    Ok(t) => t,
                    Err(e) => {
                        store.close().await;
                        return Err(e.into());
                    }
                };
                store.close().await;
                println!("{token}");
            }
            TokenCommand::List { common } => {
                let config = load(&common, None, None)?;
                let store = app::open_store(&config).await?;
                for t in store.list_tokens().await? {
                    let state = t
                        .revoked_at
                        .map(|at| format!("revoked {at}"))
                        .unwrap_or_else(|| "active".into());
                    let role = if t.provider.is_empty() {
                        t.role
                    } else {
                        format!("{} ({})", t.role, t.provider)
                    };
                    println!("{}\t{}\t{}\t{}", t.name, role, t.created_at, state);
                }
                store.close().await;
            }
            TokenCommand::Revoke { common, name } => {
                let config = load(&common, None, None)?;
                let store = app::open_store(&config).await?;
                let revoked = store.revoke_token(&name, &settings::now()).await?;
                store.close().await;
                if !revoked {
                    anyhow::bail!("no active token named {name:?}");
                }
                eprintln!(
                    "revoked {name} (servers may accept it for up to {:?} more)",
                    tokens::CACHE_TTL
                );
            }
        },
        Command::LocalAdmin {
            command: LocalAdminCommand::SetPassword { common, username },
        } => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            let config = load(&common, None, None)?;
            let store = app::open_store(&config).await?;
            let result =
                ssoplane_server::identity::local_admin::set_password(&store, &username, password)
                    .await;
            store.close().await;
            result?;
            eprintln!(
                "local administrator {username:?} set; enable it with server.local_login = true"
            );
        }
        Command::Openapi => print!("{}", api::openapi::render(api::routes().specs())?),
        Command::CheckConfig { common } => {
            let config = load(&common, None, None)?;
            let providers = settings::system::load(&config.saml).await?;
            println!(
                "configuration is valid; {} provider(s) from file/env: {}",
                providers.len(),
                providers.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ssoplane: {e:#}");
            ExitCode::FAILURE
        }
    }
}
