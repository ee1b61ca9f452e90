//! Demo data: the Regione, the capital and a small comune, each with the
//! kinds of payment they really collect (official taxonomy codes) and open
//! debt positions a citizen can pay. `cassa demo` prints what a tester
//! needs as `key=value` lines.

use anyhow::{Context, bail};
use cassa_core::debt::{
    DebtPositionDraft, Debtor, DebtorKind, Destination, Metadata, PaymentOption, Transfer,
};
use cassa_core::ente::MembershipMode;
use cassa_core::tipo_dovuto::AmountRule;
use cassa_core::{Cents, DebtorId, Iban, PartitaIva, SegregationCode, TaxonomyCode};
use cassa_store::{Actor, Ente, NewEnte, NewTipoDovuto, Origin, PositionWrite, Store};
use jiff::{Timestamp, ToSpan, civil};

use crate::admin::create_key;
use crate::config::Config;
use crate::database::open_store;

const ACTOR: &str = "demo";

pub struct LoadedEnte {
    pub fiscal_code: String,
    pub name: String,
    pub api_key: String,
}

pub struct LoadedNotice {
    pub ente: String,
    pub iupd: String,
    /// The debtor's codice fiscale or partita IVA.
    pub debtor: String,
    pub number: String,
    pub amount: Cents,
    pub due_date: civil::Date,
    pub description: String,
}

#[derive(Default)]
pub struct Loaded {
    pub enti: Vec<LoadedEnte>,
    pub notices: Vec<LoadedNotice>,
    /// Back-office accounts: (key, username, password).
    pub operators: Vec<(&'static str, &'static str, String)>,
}

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    if !store.list_enti().await?.is_empty() {
        bail!("the store already holds enti: demo data is loaded only into an empty store");
    }
    let loaded = load(&store).await?;
    print(&loaded, config, &config.pagopa(true)?);
    store.close().await;
    Ok(())
}

/// Prints what a tester needs, as `key=value` lines.
pub fn print(loaded: &Loaded, config: &Config, pagopa: &crate::config::PagopaIdentity) {
    let mut out = String::new();
    let mut line = |key: String, value: &str| out.push_str(&format!("{key}={value}\n"));
    line("station.broker_id".into(), &pagopa.broker_id);
    line("station.id".into(), &pagopa.station_id);
    line("station.endpoint_path".into(), "/pagopa/paForNode");
    line(
        "backoffice.url".into(),
        &format!("{}/backoffice", config.public_url()),
    );
    for (key, username, password) in &loaded.operators {
        line(format!("backoffice.{key}.username"), username);
        line(format!("backoffice.{key}.password"), password);
    }
    for (i, ente) in loaded.enti.iter().enumerate() {
        let n = i + 1;
        line(format!("ente.{n}.fiscal_code"), &ente.fiscal_code);
        line(format!("ente.{n}.name"), &ente.name);
        line(format!("ente.{n}.api_key"), &ente.api_key);
    }
    for (i, notice) in loaded.notices.iter().enumerate() {
        let n = i + 1;
        line(format!("notice.{n}.ente"), &notice.ente);
        line(format!("notice.{n}.number"), &notice.number);
        line(format!("notice.{n}.amount"), &notice.amount.to_decimal());
        line(format!("notice.{n}.due_date"), &notice.due_date.to_string());
        line(format!("notice.{n}.description"), &notice.description);
        line(format!("notice.{n}.iupd"), &notice.iupd);
        line(format!("notice.{n}.debtor"), &notice.debtor);
        line(
            format!("notice.{n}.pdf_path"),
            &format!(
                "/organizations/{}/debtpositions/{}/notice",
                notice.ente, notice.iupd
            ),
        );
    }
    match write_import_sample(config) {
        Ok(path) => out.push_str(&format!("backoffice.import_file={}\n", path.display())),
        Err(e) => tracing::warn!(error = %e, "the demo import file could not be written"),
    }
    match write_p4pa_sample(config) {
        Ok(path) => out.push_str(&format!("backoffice.import_file_p4pa={}\n", path.display())),
        Err(e) => tracing::warn!(error = %e, "the demo P4PA file could not be written"),
    }
    crate::console::announce(&out);
}

/// A MyPay 1_4 file of new TARI debts for the Comune di Milano, for
/// trying Gestione Flussi: `<data_dir>/demo/c_f205-DEMO0001-1_4.csv`.
fn write_import_sample(config: &Config) -> std::io::Result<std::path::PathBuf> {
    use cassa_core::tracciati::mypay::Version;
    let dir = config.data_dir.join("demo");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("c_f205-DEMO0001-1_4.csv");
    let mut lines = vec![Version::V1_4.columns().join(";")];
    let debtors = [
        ("RSSMRA85T10A562S", "Mario Rossi", "Via Roma 1", "312.00"),
        (
            "BNCGLI90C45F205Y",
            "Giulia Bianchi",
            "Corso Buenos Aires 10",
            "187.50",
        ),
        ("VRDLCU72M12F205G", "Luca Verdi", "Via Padova 44", "96.00"),
    ];
    let year = jiff::Timestamp::now()
        .to_zoned(cassa_core::italy::time_zone())
        .year()
        + 1;
    for (i, (code, name, street, amount)) in debtors.iter().enumerate() {
        let mut cells: Vec<String> = [
            &format!("TARI-{year}-IMP-{:04}", i + 1),
            "",
            "F",
            code,
            name,
            street,
            "",
            "20100",
            "Milano",
            "MI",
            "IT",
            "",
            &format!("{year}-03-31"),
            amount,
            "",
            "TARI",
            "",
            &format!("TARI {year} - rata unica"),
            "9/0101101IM/",
            "",
            "true",
            "false",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        cells.extend(std::iter::repeat_n(String::new(), 12));
        cells.push("I".into());
        lines.push(cells.join(";"));
    }
    std::fs::write(&path, lines.join("\r\n") + "\r\n")?;
    Ok(path)
}

/// A P4PA 2.0 file for the Comune di Milano: a TARI debt payable at once
/// or in three installments, `<data_dir>/demo/c_f205-DEMO0002-2_0.csv`.
fn write_p4pa_sample(config: &Config) -> std::io::Result<std::path::PathBuf> {
    let dir = config.data_dir.join("demo");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("c_f205-DEMO0002-2_0.csv");
    let year = jiff::Timestamp::now()
        .to_zoned(cassa_core::italy::time_zone())
        .year()
        + 1;
    let mut lines = vec![
        "IUPD;descrizionePosizioneDebitoria;indiceOpzionePagamento;tipoOpzionePagamento;\
         descrizioneOpzionePagamento;iud;codIUV;tipoIdentificativoUnivoco;codiceIdentificativoUnivoco;\
         anagraficaPagatore;indirizzoPagatore;capPagatore;localitaPagatore;provinciaPagatore;\
         nazionePagatore;mailPagatore;dataEsecuzionePagamento;importoDovuto;tipoDovuto;\
         causaleVersamento;datiSpecificiRiscossione;flgGeneraIuv;flagPagamentoPu;azione;draft"
            .to_owned(),
    ];
    let options = [
        (
            "1",
            "SINGLE_INSTALLMENT",
            "Unica soluzione",
            "U",
            "03-31",
            "360.00",
        ),
        ("2", "INSTALLMENTS", "Tre rate", "R1", "03-31", "120.00"),
        ("2", "INSTALLMENTS", "Tre rate", "R2", "06-30", "120.00"),
        ("2", "INSTALLMENTS", "Tre rate", "R3", "09-30", "120.00"),
    ];
    for (index, kind, label, suffix, day, amount) in options {
        lines.push(format!(
            "TARI-{year}-P4PA-0001;TARI {year} utenza domestica;{index};{kind};{label};\
             TARI-{year}-P4PA-0001-{suffix};;F;RSSMRA85T10A562S;Mario Rossi;Via Roma 1;20100;\
             Milano;MI;IT;;{year}-{day};{amount};TARI;TARI {year} {label};9/0101101IM/;true;true;I;\
             false"
        ));
    }
    std::fs::write(&path, lines.join("\r\n") + "\r\n")?;
    Ok(path)
}

struct EnteSpec {
    fiscal_code: &'static str,
    name: &'static str,
    ipa_code: &'static str,
    segregation: u8,
    office: &'static str,
    email: &'static str,
    website: &'static str,
    address: &'static str,
    /// ABI, CAB, account of the treasury account.
    treasury: (&'static str, &'static str, &'static str),
    /// The ente's code in the banks' CBILL circuit.
    cbill: &'static str,
    /// A Poste account (CAB, account): its notices carry the postal slip.
    postal: Option<(&'static str, &'static str)>,
    tipi: &'static [TipoSpec],
}

struct TipoSpec {
    code: &'static str,
    name: &'static str,
    taxonomy: &'static str,
    rule: AmountRule,
    spontaneous: bool,
}

const fn tipo(
    code: &'static str,
    name: &'static str,
    taxonomy: &'static str,
    rule: AmountRule,
    spontaneous: bool,
) -> TipoSpec {
    TipoSpec {
        code,
        name,
        taxonomy,
        rule,
        spontaneous,
    }
}

const ENTI: [EnteSpec; 3] = [
    EnteSpec {
        fiscal_code: "80050050154",
        name: "Regione Lombardia",
        ipa_code: "r_lombar",
        segregation: 1,
        office: "Direzione Centrale Bilancio e Finanza",
        email: "pagamenti@regione.lombardia.example",
        website: "https://www.regione.lombardia.it",
        address: "Piazza Città di Lombardia 1, 20124 Milano (MI)",
        treasury: ("03069", "09790", "100000046001"),
        cbill: "A0RLO",
        postal: None,
        tipi: &[
            tipo(
                "BOLLO_AUTO",
                "Tassa automobilistica (bollo auto)",
                "9/0301105TS/",
                AmountRule::Free,
                false,
            ),
            tipo(
                "TASSA_DSU",
                "Tassa regionale per il diritto allo studio universitario",
                "9/0301130TS/",
                AmountRule::Fixed(Cents::new(14_000)),
                true,
            ),
            tipo(
                "CACCIA_PESCA",
                "Tassa di concessione caccia e pesca",
                "9/0301106TS/",
                AmountRule::Range {
                    min: Cents::new(2_300),
                    max: Cents::new(17_300),
                },
                true,
            ),
        ],
    },
    EnteSpec {
        fiscal_code: "01199250158",
        name: "Comune di Milano",
        ipa_code: "c_f205",
        segregation: 2,
        office: "Area Entrate",
        email: "entrate@comune.milano.example",
        website: "https://www.comune.milano.it",
        address: "Piazza della Scala 2, 20121 Milano (MI)",
        treasury: ("05696", "01600", "000000300X71"),
        cbill: "A0MIL",
        postal: None,
        tipi: &[
            tipo(
                "TARI",
                "Tassa sui rifiuti (TARI)",
                "9/0101101IM/",
                AmountRule::Free,
                false,
            ),
            tipo(
                "MENSA",
                "Refezione scolastica",
                "9/0107101TS/",
                AmountRule::Free,
                true,
            ),
            tipo(
                "CDS",
                "Sanzioni al Codice della Strada",
                "9/0102100SA/",
                AmountRule::Free,
                false,
            ),
            tipo(
                "CIE",
                "Carta d'identità elettronica",
                "9/0104100TS/",
                AmountRule::Fixed(Cents::new(2_221)),
                true,
            ),
            tipo(
                "CUP",
                "Canone unico patrimoniale",
                "9/0101107TS/",
                AmountRule::Free,
                false,
            ),
        ],
    },
    EnteSpec {
        fiscal_code: "83000120150",
        name: "Comune di Valbrona Demo",
        ipa_code: "c_demo1",
        segregation: 3,
        office: "Ufficio Tributi",
        email: "tributi@valbrona-demo.example",
        website: "https://valbrona-demo.example",
        address: "Via Municipio 1, 22039 Valbrona Demo (CO)",
        treasury: ("08430", "51010", "000000001234"),
        cbill: "A0VAL",
        postal: Some(("10900", "000012345678")),
        tipi: &[
            tipo(
                "TARI",
                "Tassa sui rifiuti (TARI)",
                "9/0101101IM/",
                AmountRule::Free,
                false,
            ),
            tipo(
                "LAMPADE_VOTIVE",
                "Lampade votive",
                "9/0114100TS/",
                AmountRule::Fixed(Cents::new(2_500)),
                true,
            ),
            tipo(
                "DIRITTI_SEGRETERIA",
                "Diritti di segreteria",
                "9/0103100TS/",
                AmountRule::Range {
                    min: Cents::new(100),
                    max: Cents::new(10_000),
                },
                true,
            ),
        ],
    },
];

/// What the spontaneous-payment form of a demo tipo dovuto asks.
fn demo_form(code: &str) -> serde_json::Value {
    match code {
        "MENSA" => serde_json::json!([
            { "name": "alunno", "label": "Nome e cognome dell'alunno", "required": true },
            { "name": "scuola", "label": "Scuola", "required": false },
            { "name": "anno_scolastico", "label": "Anno scolastico", "type": "number",
              "required": true, "help": "L'anno in cui inizia, ad esempio 2026" }
        ]),
        "CIE" => serde_json::json!([
            { "name": "richiedente", "label": "Codice fiscale del richiedente", "type": "fiscal_code", "required": true },
            { "name": "appuntamento", "label": "Data dell'appuntamento", "type": "date", "required": false }
        ]),
        "DIRITTI_SEGRETERIA" => serde_json::json!([
            { "name": "pratica", "label": "Numero della pratica", "required": true }
        ]),
        "CACCIA_PESCA" => serde_json::json!([
            { "name": "licenza", "label": "Numero della licenza", "required": true }
        ]),
        _ => serde_json::json!([]),
    }
}

/// Words citizens search the demo tipi dovuto by.
fn demo_tags(code: &str) -> Vec<String> {
    let tags: &[&str] = match code {
        "MENSA" => &["scuola", "pasti", "refezione"],
        "CIE" => &["documenti", "carta d'identità", "anagrafe"],
        "LAMPADE_VOTIVE" => &["cimitero", "luce votiva"],
        "DIRITTI_SEGRETERIA" => &["certificati", "pratiche"],
        "CACCIA_PESCA" => &["licenza", "caccia", "pesca"],
        "TASSA_DSU" => &["università", "studenti"],
        _ => &[],
    };
    tags.iter().map(|t| (*t).to_owned()).collect()
}

/// The Città metropolitana di Milano, which receives the TEFA share of TARI.
const CITTA_METROPOLITANA: &str = "08911820960";

struct Person {
    kind: DebtorKind,
    id: &'static str,
    name: &'static str,
    street: &'static str,
    city: &'static str,
    province: &'static str,
    postal_code: &'static str,
}

const GIULIA: Person = Person {
    kind: DebtorKind::Person,
    id: "BNCGLI90C45F205Y",
    name: "Giulia Bianchi",
    street: "Via Paolo Sarpi 12",
    city: "Milano",
    province: "MI",
    postal_code: "20154",
};
/// pagopa-sim's demo SPID citizen: log in as him to see the personal area.
const MARIO: Person = Person {
    kind: DebtorKind::Person,
    id: "RSSMRA80A01F205X",
    name: "Mario Rossi",
    street: "Via Dante 7",
    city: "Milano",
    province: "MI",
    postal_code: "20121",
};
const LUCA: Person = Person {
    kind: DebtorKind::Person,
    id: "VRDLCU72M12F205G",
    name: "Luca Verdi",
    street: "Corso Buenos Aires 40",
    city: "Milano",
    province: "MI",
    postal_code: "20124",
};
const ANNA: Person = Person {
    kind: DebtorKind::Person,
    id: "FRRNNA65D50B157X",
    name: "Anna Ferri",
    street: "Via Milano 3",
    city: "Brescia",
    province: "BS",
    postal_code: "25121",
};
const PAOLO: Person = Person {
    kind: DebtorKind::Person,
    id: "CLMPLA88R22I829P",
    name: "Paolo Colombo",
    street: "Via Roma 8",
    city: "Sondrio",
    province: "SO",
    postal_code: "23100",
};
const SARA: Person = Person {
    kind: DebtorKind::Person,
    id: "GLLSRA95E41F205O",
    name: "Sara Galli",
    street: "Viale Monza 101",
    city: "Milano",
    province: "MI",
    postal_code: "20125",
};
const TRATTORIA: Person = Person {
    kind: DebtorKind::LegalEntity,
    id: "12345670157",
    name: "Trattoria Da Gino S.r.l.",
    street: "Via Vigevano 5",
    city: "Milano",
    province: "MI",
    postal_code: "20144",
};

/// One share of an option: amount, beneficiary (None: the ente itself), taxonomy.
type Share = (i64, Option<&'static str>, &'static str);

struct PositionSpec {
    ente: usize,
    tipo: &'static str,
    iupd: &'static str,
    debtor: Person,
    /// Options: description, days until due, shares.
    options: Vec<(&'static str, i64, Vec<Share>)>,
}

/// Plans whose installments have windows (rateizzazione Caso 1).
const WINDOWED: &[&str] = &["TARI-2026-0099"];

fn positions() -> Vec<PositionSpec> {
    let tari = "9/0101101IM/";
    let tefa = "9/0201102IM/";
    vec![
        PositionSpec {
            ente: 0,
            tipo: "BOLLO_AUTO",
            iupd: "BOLLO-2026-FX123YZ",
            debtor: PAOLO,
            options: vec![(
                "Tassa automobilistica 2026 targa FX123YZ",
                45,
                vec![(18_734, None, "9/0301105TS/")],
            )],
        },
        PositionSpec {
            ente: 0,
            tipo: "TASSA_DSU",
            iupd: "DSU-2026-0042",
            debtor: SARA,
            options: vec![(
                "Tassa DSU anno accademico 2026/2027",
                30,
                vec![(14_000, None, "9/0301130TS/")],
            )],
        },
        PositionSpec {
            ente: 1,
            tipo: "TARI",
            iupd: "TARI-2026-000123",
            debtor: GIULIA,
            options: vec![
                (
                    "TARI 2026 - rata unica",
                    30,
                    vec![
                        (29_640, None, tari),
                        (1_560, Some(CITTA_METROPOLITANA), tefa),
                    ],
                ),
                (
                    "TARI 2026 - rata 1 di 3",
                    30,
                    vec![(9_880, None, tari), (520, Some(CITTA_METROPOLITANA), tefa)],
                ),
                (
                    "TARI 2026 - rata 2 di 3",
                    90,
                    vec![(9_880, None, tari), (520, Some(CITTA_METROPOLITANA), tefa)],
                ),
                (
                    "TARI 2026 - rata 3 di 3",
                    150,
                    vec![(9_880, None, tari), (520, Some(CITTA_METROPOLITANA), tefa)],
                ),
            ],
        },
        PositionSpec {
            ente: 1,
            tipo: "MENSA",
            iupd: "MENSA-2026-11-VRDLCU",
            debtor: LUCA,
            options: vec![(
                "Refezione scolastica novembre 2026",
                20,
                vec![(8_550, None, "9/0107101TS/")],
            )],
        },
        PositionSpec {
            ente: 1,
            tipo: "CDS",
            iupd: "CDS-2026-V-98765",
            debtor: ANNA,
            options: vec![(
                "Verbale n. 98765/V/2026 - art. 7 C.d.S.",
                60,
                vec![(4_200, None, "9/0102100SA/")],
            )],
        },
        PositionSpec {
            ente: 1,
            tipo: "CUP",
            iupd: "CUP-2026-DEHORS-55",
            debtor: TRATTORIA,
            options: vec![(
                "Canone unico 2026 - dehors Via Vigevano 5",
                40,
                vec![(64_000, None, "9/0101107TS/")],
            )],
        },
        PositionSpec {
            ente: 2,
            tipo: "TARI",
            iupd: "TARI-2026-0007",
            debtor: SARA,
            options: vec![("TARI 2026 - rata unica", 35, vec![(18_700, None, tari)])],
        },
        PositionSpec {
            ente: 2,
            tipo: "LAMPADE_VOTIVE",
            iupd: "LV-2026-0311",
            debtor: ANNA,
            options: vec![(
                "Lampade votive 2026 - loculo 311",
                25,
                vec![(2_500, None, "9/0114100TS/")],
            )],
        },
        // Mario Rossi's debts of two enti, one payable in installments.
        PositionSpec {
            ente: 0,
            tipo: "BOLLO_AUTO",
            iupd: "BOLLO-2026-GA456BC",
            debtor: MARIO,
            options: vec![(
                "Tassa automobilistica 2026 targa GA456BC",
                50,
                vec![(21_450, None, "9/0301105TS/")],
            )],
        },
        PositionSpec {
            ente: 1,
            tipo: "TARI",
            iupd: "TARI-2026-000456",
            debtor: MARIO,
            options: vec![
                ("TARI 2026 - rata unica", 30, vec![(24_000, None, tari)]),
                ("TARI 2026 - rata 1 di 3", 30, vec![(8_000, None, tari)]),
                ("TARI 2026 - rata 2 di 3", 90, vec![(8_000, None, tari)]),
                ("TARI 2026 - rata 3 di 3", 150, vec![(8_000, None, tari)]),
            ],
        },
        PositionSpec {
            ente: 2,
            tipo: "TARI",
            iupd: "TARI-2026-0099",
            debtor: MARIO,
            options: vec![
                ("TARI 2026 - rata unica", 40, vec![(12_000, None, tari)]),
                ("TARI 2026 - rata 1 di 2", 40, vec![(6_000, None, tari)]),
                ("TARI 2026 - rata 2 di 2", 100, vec![(6_000, None, tari)]),
            ],
        },
    ]
}

/// End of the day `days` from today, Italian time, as UTC.
fn due_in(days: i64, now: Timestamp) -> anyhow::Result<(Timestamp, civil::Date)> {
    let today = now.in_tz("Europe/Rome")?.date();
    let day = today.checked_add(days.days())?;
    let end = day.at(23, 59, 59, 0).in_tz("Europe/Rome")?.timestamp();
    Ok((end, day))
}

pub async fn load(store: &Store) -> anyhow::Result<Loaded> {
    let now = Timestamp::now();
    let mut loaded = Loaded::default();
    let mut enti: Vec<(Ente, Iban, Vec<cassa_store::TipoDovuto>)> = Vec::new();
    for spec in &ENTI {
        let iban = Iban::italian(spec.treasury.0, spec.treasury.1, spec.treasury.2)
            .context("demo IBAN")?;
        let ente = store
            .create_ente(
                &NewEnte {
                    fiscal_code: PartitaIva::parse(spec.fiscal_code)?,
                    name: spec.name.into(),
                    ipa_code: Some(spec.ipa_code.into()),
                    segregation_code: SegregationCode::new(spec.segregation)?,
                    cbill: Some(spec.cbill.into()),
                    iban: Some(iban.clone()),
                    postal_iban: spec
                        .postal
                        .map(|(cab, account)| Iban::italian("07601", cab, account))
                        .transpose()
                        .context("demo postal IBAN")?,
                    office_name: Some(spec.office.into()),
                    email: Some(spec.email.into()),
                    pec: None,
                    phone: None,
                    website: Some(spec.website.into()),
                    address: Some(spec.address.into()),
                    membership_mode: MembershipMode::IniziatoPressoEnte,
                    station_ids: Vec::new(),
                },
                ACTOR,
                now,
            )
            .await?;
        let mut tipi = Vec::new();
        for t in spec.tipi {
            let new = NewTipoDovuto {
                code: t.code.into(),
                name: t.name.into(),
                description: None,
                taxonomy_code: TaxonomyCode::parse(t.taxonomy)?,
                iban: Some(iban.clone()),
                postal_iban: None,
                amount_rule: t.rule,
                spontaneous: t.spontaneous,
                form_fields: demo_form(t.code),
                tags: demo_tags(t.code),
                external_url: None,
                capitolo: None,
                accertamento: None,
                ufficio: None,
                installment_mode: cassa_core::debt::InstallmentMode::Together,
            };
            tipi.push(store.create_tipo_dovuto(ente.id, &new, ACTOR, now).await?);
        }
        let api_key = create_key(store, &ente, "demo").await?;
        loaded.enti.push(LoadedEnte {
            fiscal_code: ente.fiscal_code.clone(),
            name: ente.name.clone(),
            api_key,
        });
        enti.push((ente, iban, tipi));
    }
    // The TEFA share goes to the Città metropolitana's treasury account.
    let metropolitana_iban = Iban::italian("01000", "03245", "000000061300")?;

    for spec in positions() {
        let (ente, iban, tipi) = &enti[spec.ente];
        let tipo = tipi
            .iter()
            .find(|t| t.code == spec.tipo)
            .context("demo tipo dovuto")?;
        let mut options = Vec::new();
        let mut due_days = Vec::new();
        let installments = spec.options.len() > 1;
        for (i, (description, days, shares)) in spec.options.iter().enumerate() {
            let (due_date, day) = due_in(*days, now)?;
            due_days.push(day);
            let transfers = shares
                .iter()
                .enumerate()
                .map(|(j, (amount, beneficiary, taxonomy))| {
                    let (organization, account) = match beneficiary {
                        None => (ente.fiscal_code.as_str(), iban.clone()),
                        Some(cf) => (*cf, metropolitana_iban.clone()),
                    };
                    Ok(Transfer {
                        id: u8::try_from(j + 1)?,
                        amount: Cents::new(*amount),
                        organization_fiscal_code: PartitaIva::parse(organization)?,
                        company_name: None,
                        remittance_information: (*description).into(),
                        category: TaxonomyCode::parse(taxonomy)?,
                        destination: Destination::Account {
                            iban: account,
                            postal_iban: None,
                        },
                        metadata: Vec::new(),
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            options.push(PaymentOption {
                iuv: None,
                amount: Cents::new(shares.iter().map(|s| s.0).sum()),
                description: (*description).into(),
                // The single payment and the installments are alternatives.
                is_partial_payment: installments && i > 0,
                due_date,
                retention_date: None,
                // Installments after the first open a month before they are due.
                valid_from: (installments && i > 1 && WINDOWED.contains(&spec.iupd))
                    .then(|| due_date - jiff::SignedDuration::from_hours(24 * 30)),
                fee: Cents::ZERO,
                transfers,
                metadata: vec![Metadata {
                    key: "anno".into(),
                    value: "2026".into(),
                }],
            });
        }
        let debtor = spec.debtor;
        let draft = DebtPositionDraft {
            iupd: spec.iupd.into(),
            debtor: Debtor {
                kind: debtor.kind,
                id: DebtorId::parse(debtor.id)?,
                full_name: debtor.name.into(),
                street_name: Some(debtor.street.into()),
                civic_number: None,
                postal_code: Some(debtor.postal_code.into()),
                city: Some(debtor.city.into()),
                province: Some(debtor.province.into()),
                region: None,
                country: Some("IT".into()),
                email: None,
                phone: None,
            },
            company_name: ente.name.clone(),
            office_name: ente.office_name.clone(),
            validity_date: None,
            switch_to_expired: false,
            pay_stand_in: true,
            options,
        };
        let stored = store
            .create_position(PositionWrite {
                ente,
                tipo_dovuto_id: Some(tipo.id),
                draft: &draft,
                to_publish: true,
                origin: Origin::Import,
                actor: Actor {
                    name: ACTOR,
                    request_id: None,
                },
                now,
            })
            .await
            .map_err(|e| anyhow::anyhow!("demo position {}: {e}", spec.iupd))?;
        for (option, day) in stored.options.iter().zip(due_days) {
            loaded.notices.push(LoadedNotice {
                ente: ente.fiscal_code.clone(),
                iupd: stored.iupd.clone(),
                debtor: stored.debtor_fiscal_code.clone(),
                number: option.notice_number.clone(),
                amount: option.amount,
                due_date: day,
                description: option.description.clone(),
            });
        }
    }
    crate::demo_anomaly::record(store, &enti[1].0, now).await?;
    // A platform admin, and an operator of the Comune di Milano only.
    let admin_password = crate::operators::generate_password();
    crate::operators::add_operator(
        store,
        "admin",
        "Amministratore demo",
        None,
        true,
        &admin_password,
    )
    .await?;
    loaded.operators.push(("admin", "admin", admin_password));
    let milano = &enti[1].0;
    let operator_password = crate::operators::generate_password();
    let operator = crate::operators::add_operator(
        store,
        "operatore.milano",
        "Operatore Comune di Milano",
        Some("tributi@comune.milano.example"),
        false,
        &operator_password,
    )
    .await?;
    store
        .grant_role(
            operator,
            &cassa_core::access::Grant {
                ente_id: milano.id,
                role: cassa_core::access::Role::Operator,
                tipo_dovuto_id: None,
            },
            ACTOR,
            now,
        )
        .await?;
    loaded
        .operators
        .push(("operator", "operatore.milano", operator_password));
    Ok(loaded)
}
