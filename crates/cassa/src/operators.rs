//! `cassa operator …`: back-office accounts from the command line (the
//! first platform admin has to come from somewhere).

use std::io::Read;

use anyhow::{Context, bail};
use cassa_core::access::{Grant, Role, check_password};
use cassa_store::{NewOperator, Store};
use clap::{Args, Subcommand};
use jiff::Timestamp;

use crate::config::Config;
use crate::console::announce;
use crate::database::open_store;

#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Create an account. The password is read from stdin with
    /// --password-stdin, or generated and printed.
    Add {
        #[arg(long)]
        username: String,
        /// The name shown in the back office.
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// The person's codice fiscale: they may then log in through the
        /// identity gateway (SPID, CIE) as this account.
        #[arg(long)]
        fiscal_code: Option<String>,
        /// Every ente, every power.
        #[arg(long)]
        platform_admin: bool,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        grant: Option<GrantArgs>,
    },
    /// Give an account a role on an ente.
    Grant {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        grant: GrantArgs,
    },
}

#[derive(Args, Clone)]
#[group(requires_all = ["ente", "role"], multiple = true)]
pub struct GrantArgs {
    /// The ente's codice fiscale.
    #[arg(long)]
    ente: String,
    /// ente_admin, operator or read_only.
    #[arg(long)]
    role: String,
    /// Only this tipo dovuto (its code).
    #[arg(long)]
    tipo_dovuto: Option<String>,
}

pub use cassa_web::backoffice::generate_password;

async fn grant_of(store: &Store, args: &GrantArgs) -> anyhow::Result<Grant> {
    let ente = store
        .ente_by_fiscal_code(&args.ente)
        .await?
        .with_context(|| format!("no ente with codice fiscale {}", args.ente))?;
    let role = Role::parse(&args.role)
        .with_context(|| format!("role {}: ente_admin, operator or read_only", args.role))?;
    let tipo_dovuto_id = match &args.tipo_dovuto {
        Some(code) => Some(
            store
                .tipo_dovuto_by_code(ente.id, code)
                .await?
                .with_context(|| format!("{} has no tipo dovuto {code}", args.ente))?
                .id,
        ),
        None => None,
    };
    Ok(Grant {
        ente_id: ente.id,
        role,
        tipo_dovuto_id,
    })
}

/// Creates an account with a checked password; answers the operator's id.
pub async fn add_operator(
    store: &Store,
    username: &str,
    name: &str,
    email: Option<&str>,
    platform_admin: bool,
    password: &str,
) -> anyhow::Result<i64> {
    let problems = check_password(password, username);
    if !problems.is_empty() {
        let reasons: Vec<String> = problems.iter().map(ToString::to_string).collect();
        bail!("password refused: {}", reasons.join("; "));
    }
    let owned = password.to_owned();
    let hash =
        tokio::task::spawn_blocking(move || cassa_web::backoffice::hash_password(&owned)).await?;
    let operator = store
        .create_operator(
            &NewOperator {
                username,
                display_name: name,
                email,
                password_hash: &hash,
                platform_admin,
                // Typed or printed for the operator: theirs to keep.
                must_change_password: false,
            },
            "cli",
            Timestamp::now(),
        )
        .await?;
    Ok(operator.id)
}

pub async fn run(config: &Config, command: OperatorCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    match command {
        OperatorCommand::Add {
            username,
            name,
            email,
            fiscal_code,
            platform_admin,
            password_stdin,
            grant,
        } => {
            let fiscal_code = match fiscal_code {
                Some(cf) => Some(
                    cassa_core::CodiceFiscale::parse(&cf.to_uppercase())
                        .map_err(|e| anyhow::anyhow!("--fiscal-code {cf}: {e}"))?
                        .as_str()
                        .to_owned(),
                ),
                None => None,
            };
            let (password, generated) = if password_stdin {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                (text.trim_end_matches(['\n', '\r']).to_owned(), false)
            } else {
                (generate_password(), true)
            };
            let grant = match &grant {
                Some(args) => Some(grant_of(&store, args).await?),
                None => None,
            };
            let id = add_operator(
                &store,
                &username,
                &name,
                email.as_deref(),
                platform_admin,
                &password,
            )
            .await?;
            if let Some(grant) = grant {
                store
                    .grant_role(id, &grant, "cli", Timestamp::now())
                    .await?;
            }
            if let Some(cf) = &fiscal_code
                && !store
                    .set_operator_fiscal_code(id, Some(cf), "cli", Timestamp::now())
                    .await?
            {
                bail!("another operator is linked to the codice fiscale {cf}");
            }
            announce(&format!("operator.username={username}\n"));
            if generated {
                announce(&format!("operator.password={password}\n"));
            }
        }
        OperatorCommand::Grant { username, grant } => {
            let grant = grant_of(&store, &grant).await?;
            let (operator, _) = store
                .operator_for_login(&username)
                .await?
                .with_context(|| format!("no operator {username}"))?;
            store
                .grant_role(operator.id, &grant, "cli", Timestamp::now())
                .await?;
        }
    }
    store.close().await;
    Ok(())
}
