//! Administration commands: migrate, enti, API keys. Each prints what
//! scripts need on stdout and explains failures on stderr.

use anyhow::{Context, anyhow, bail};
use cassa_core::ente::MembershipMode;
use cassa_core::{Iban, PartitaIva, SegregationCode};
use cassa_store::{Ente, NewEnte, Store};
use cassa_web::api_key;
use clap::Subcommand;
use jiff::Timestamp;

use crate::config::Config;
use crate::config::redact;
use crate::database::open_store;

/// Who did it, in the audit log, for changes made from the command line.
const CLI_ACTOR: &str = "cli";

#[derive(Subcommand)]
pub enum EnteCommand {
    /// Onboard an ente.
    Add(Box<EnteArgs>),
    /// List the enti, one per line: codice fiscale, segregation code, name.
    List,
    /// Set what an ente's notices and receipts print: its logo and Poste's
    /// authorisation for the postal slip. Options left out stay as they are.
    Printing {
        /// Codice fiscale of the ente.
        #[arg(long)]
        ente: String,
        /// A PNG file with the ente's logo (at most 512 KiB).
        #[arg(long, conflicts_with = "no_logo")]
        logo: Option<std::path::PathBuf>,
        /// Print without a logo from now on.
        #[arg(long)]
        no_logo: bool,
        /// Poste's authorisation, e.g. "Aut. n. 123456 del 01/01/2026"; "" removes it.
        #[arg(long)]
        postal_authorization: Option<String>,
    },
}

#[derive(clap::Args)]
pub struct EnteArgs {
    /// Codice fiscale of the ente (11 digits); it is also its pagoPA idPA.
    #[arg(long)]
    fiscal_code: String,
    #[arg(long)]
    name: String,
    /// Segregation code (2 digits) of the ente's IUVs.
    #[arg(long)]
    segregation_code: String,
    /// IPA code (Indice PA).
    #[arg(long)]
    ipa_code: Option<String>,
    /// Treasury IBAN (default destination of the ente's transfers).
    #[arg(long)]
    iban: Option<String>,
    /// Poste Italiane postal account IBAN.
    #[arg(long)]
    postal_iban: Option<String>,
    /// CBILL code (5 alphanumeric characters).
    #[arg(long)]
    cbill: Option<String>,
    #[arg(long)]
    office_name: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    pec: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    website: Option<String>,
    #[arg(long)]
    address: Option<String>,
    /// Membership mode: base, flussi or ente.
    #[arg(long, default_value = "base")]
    mode: String,
    /// pagoPA stations the ente is reached through besides cassa's own
    /// (comma-separated, e.g. 80050050154_02).
    #[arg(long, default_value = "")]
    stations: String,
}

#[derive(Subcommand)]
pub enum ApikeyCommand {
    /// Create a key for an ente and print only the secret (shown once).
    Create {
        /// Codice fiscale of the ente.
        #[arg(long)]
        ente: String,
        /// What the key is for, e.g. the name of the calling application.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List an ente's keys: id, prefix, created, revoked, label.
    List {
        #[arg(long)]
        ente: String,
    },
    /// Revoke a key by its id.
    Revoke {
        #[arg(long)]
        ente: String,
        #[arg(long)]
        id: i64,
    },
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    println!(
        "database schema up to date ({})",
        redact(&config.database_url()?)
    );
    store.close().await;
    Ok(())
}

pub async fn ente(config: &Config, command: EnteCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    match command {
        EnteCommand::Add(args) => {
            let new = new_ente(*args)?;
            let ente = store.create_ente(&new, CLI_ACTOR, Timestamp::now()).await?;
            println!("{}", ente.fiscal_code);
        }
        EnteCommand::Printing {
            ente,
            logo,
            no_logo,
            postal_authorization,
        } => {
            let found = store
                .ente_by_fiscal_code(&ente)
                .await?
                .ok_or_else(|| anyhow!("--ente {ente}: no such ente"))?;
            let mut printing = store.ente_printing(found.id).await?;
            if let Some(path) = logo {
                let png = std::fs::read(&path)
                    .with_context(|| format!("--logo {}: cannot read it", path.display()))?;
                printing.logo_png = Some(png);
            } else if no_logo {
                printing.logo_png = None;
            }
            if let Some(text) = postal_authorization {
                printing.postal_authorization = Some(text).filter(|t| !t.is_empty());
            }
            store
                .set_ente_printing(found.id, &printing, CLI_ACTOR, Timestamp::now())
                .await
                .map_err(|e| anyhow!("--ente {ente}: {e}"))?;
            println!(
                "logo={}\npostal_authorization={}",
                printing
                    .logo_png
                    .as_ref()
                    .map_or("none".to_owned(), |l| format!("{} bytes", l.len())),
                printing.postal_authorization.as_deref().unwrap_or("none")
            );
        }
        EnteCommand::List => {
            for ente in store.list_enti().await? {
                println!(
                    "{}\t{:02}\t{}",
                    ente.fiscal_code,
                    ente.segregation_code.get(),
                    ente.name
                );
            }
        }
    }
    store.close().await;
    Ok(())
}

fn new_ente(args: EnteArgs) -> anyhow::Result<NewEnte> {
    let fiscal_code = PartitaIva::parse(&args.fiscal_code)
        .map_err(|e| anyhow!("--fiscal-code {:?}: {e}", args.fiscal_code))?;
    let segregation_code = args
        .segregation_code
        .parse::<u8>()
        .ok()
        .filter(|_| args.segregation_code.len() <= 2)
        .and_then(|n| SegregationCode::new(n).ok())
        .ok_or_else(|| {
            anyhow!(
                "--segregation-code {:?}: must be two digits, 00 to 99",
                args.segregation_code
            )
        })?;
    let iban = |flag: &str, value: Option<String>| -> anyhow::Result<Option<Iban>> {
        value
            .map(|v| Iban::parse(&v).map_err(|e| anyhow!("{flag} {v:?}: {e}")))
            .transpose()
    };
    let postal_iban = iban("--postal-iban", args.postal_iban)?;
    if let Some(p) = &postal_iban
        && !p.is_postal()
    {
        bail!("--postal-iban {p}: not a Poste Italiane account (ABI 07601)");
    }
    if let Some(cbill) = &args.cbill
        && !(cbill.len() == 5 && cbill.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        bail!("--cbill {cbill:?}: must be 5 letters or digits");
    }
    if args.name.trim().is_empty() {
        bail!("--name: must not be empty");
    }
    let membership_mode = MembershipMode::parse(&args.mode)
        .ok_or_else(|| anyhow!("--mode {:?}: must be base, flussi or ente", args.mode))?;
    Ok(NewEnte {
        fiscal_code,
        name: args.name.trim().to_owned(),
        ipa_code: args.ipa_code,
        segregation_code,
        cbill: args.cbill.map(|c| c.to_uppercase()),
        iban: iban("--iban", args.iban)?,
        postal_iban,
        office_name: args.office_name,
        email: args.email,
        pec: args.pec,
        phone: args.phone,
        website: args.website,
        address: args.address,
        membership_mode,
        station_ids: cassa_core::ente::parse_station_ids(&args.stations)
            .map_err(|e| anyhow!("--stations: {e}"))?,
    })
}

async fn find_ente(store: &Store, fiscal_code: &str) -> anyhow::Result<Ente> {
    store
        .ente_by_fiscal_code(fiscal_code)
        .await?
        .with_context(|| {
            format!("no ente with codice fiscale {fiscal_code:?}; see `cassa ente list`")
        })
}

/// Creates a key and returns its secret.
pub async fn create_key(store: &Store, ente: &Ente, label: &str) -> anyhow::Result<String> {
    let secret = api_key::generate();
    store
        .create_api_key(
            ente.id,
            &secret.prefix,
            &secret.hash,
            label,
            CLI_ACTOR,
            Timestamp::now(),
        )
        .await?;
    Ok(secret.secret)
}

pub async fn apikey(config: &Config, command: ApikeyCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    match command {
        ApikeyCommand::Create { ente, label } => {
            let ente = find_ente(&store, &ente).await?;
            println!("{}", create_key(&store, &ente, &label).await?);
        }
        ApikeyCommand::List { ente } => {
            let ente = find_ente(&store, &ente).await?;
            for key in store.api_keys(ente.id).await? {
                let revoked = key
                    .revoked_at
                    .map_or_else(|| "-".to_owned(), |t| t.to_string());
                println!(
                    "{}\t{}\t{}\t{revoked}\t{}",
                    key.id, key.prefix, key.created_at, key.label
                );
            }
        }
        ApikeyCommand::Revoke { ente, id } => {
            let ente = find_ente(&store, &ente).await?;
            if !store
                .revoke_api_key(ente.id, id, CLI_ACTOR, Timestamp::now())
                .await?
            {
                bail!("ente {} has no active key with id {id}", ente.fiscal_code);
            }
            println!("revoked {id}");
        }
    }
    store.close().await;
    Ok(())
}
