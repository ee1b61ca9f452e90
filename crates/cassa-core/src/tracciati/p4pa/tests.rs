//! Reading P4PA files: headers in either language, rows, positions.

use super::*;
use crate::fiscal_code::PartitaIva;
use crate::iban::Iban;
use crate::taxonomy::TaxonomyCode;
use crate::tracciati::{Action, Creditor};
use jiff::civil::Date;
use proptest::prelude::*;

const HEADER: [&str; 31] = [
    "IUPD",
    "descrizionePosizioneDebitoria",
    "dataValidita",
    "indiceOpzionePagamento",
    "tipoOpzionePagamento",
    "descrizioneOpzionePagamento",
    "iud",
    "codIUV",
    "tipoIdentificativoUnivoco",
    "codiceIdentificativoUnivoco",
    "anagraficaPagatore",
    "mailPagatore",
    "dataEsecuzionePagamento",
    "importoDovuto",
    "tipoDovuto",
    "causaleVersamento",
    "datiSpecificiRiscossione",
    "flgGeneraIuv",
    "flagPagamentoPu",
    "flagMultiBeneficiario",
    "numeroBeneficiari",
    "codiceFiscaleEnte_2",
    "DenominazioneEnte_2",
    "IbanAccreditoEnte_2",
    "CausaleVersamentoEnte_2",
    "importoVersamentoEnte_2",
    "codiceTassonomiaEnte_2",
    "azione",
    "draft",
    "bilancio",
    "dataNotifica",
];

fn header() -> Header {
    check_header(&HEADER, Some(Language::Italian)).unwrap()
}

/// A row of `HEADER`: an installment `index` of option `option`.
fn row(iupd: &str, iud: &str, option: &str, kind: &str, due: &str, amount: &str) -> Vec<String> {
    let mut cells = vec![String::new(); HEADER.len()];
    let mut set = |name: &str, value: &str| {
        let i = HEADER.iter().position(|h| *h == name).unwrap();
        cells[i] = value.to_owned();
    };
    set("IUPD", iupd);
    set("descrizionePosizioneDebitoria", "TARI 2027");
    set("indiceOpzionePagamento", option);
    set("tipoOpzionePagamento", kind);
    set("iud", iud);
    set("tipoIdentificativoUnivoco", "F");
    set("codiceIdentificativoUnivoco", "RSSMRA85T10A562S");
    set("anagraficaPagatore", "Mario Rossi");
    set("dataEsecuzionePagamento", due);
    set("importoDovuto", amount);
    set("tipoDovuto", "TARI");
    set("causaleVersamento", "TARI 2027");
    set("flgGeneraIuv", "true");
    set("flagPagamentoPu", "true");
    set("azione", "I");
    cells
}

fn read(cells: &[String]) -> Result<Row, Vec<crate::tracciati::FieldError>> {
    let fields: Vec<&str> = cells.iter().map(String::as_str).collect();
    read_row(&header(), &fields)
}

fn creditor() -> Creditor {
    Creditor {
        fiscal_code: PartitaIva::parse("01199250158").unwrap(),
        company_name: "Comune di Milano".into(),
        office_name: None,
        segregation: crate::notice::SegregationCode::new(2).unwrap(),
        iban: Iban::parse("IT60X0542811101000000123456").unwrap(),
        postal_iban: None,
    }
}

fn tari() -> TaxonomyCode {
    TaxonomyCode::parse("9/0101100IM/").unwrap()
}

#[test]
fn file_names_and_headers_tell_the_language() {
    assert_eq!(
        Language::from_file_name("c_f205-IUF01-2_0-eng.zip"),
        Some(Language::English)
    );
    assert_eq!(
        Language::from_file_name("c_f205-IUF01-2_0.csv"),
        Some(Language::Italian)
    );
    assert_eq!(Language::from_file_name("c_f205-IUF01-1_4.csv"), None);
    assert!(is_p4pa_header(&HEADER));
    assert!(!is_p4pa_header(&["IUD", "codIuv", "azione"]));
    let english = [
        "iupdOrg",
        "description",
        "paymentOptionIndex",
        "paymentOptionType",
        "iud",
        "iuv",
        "entityType",
        "fiscalCode",
        "fullName",
        "dueDate",
        "amount",
        "debtPositionTypeCode",
        "remittanceInformation",
        "action",
    ];
    let header = check_header(&english, None).unwrap();
    assert_eq!(header.language, Language::English);
    assert_eq!(header.name_in_file("importoDovuto"), "amount");
}

#[test]
fn a_bad_header_names_the_column() {
    let mut wrong = HEADER.to_vec();
    wrong[13] = "importo";
    assert_eq!(
        check_header(&wrong, None),
        Err(HeaderError::Unknown {
            position: 14,
            version: "2_0",
            found: "importo".into()
        })
    );
    let without: Vec<&str> = HEADER
        .iter()
        .copied()
        .filter(|h| *h != "tipoDovuto")
        .collect();
    assert_eq!(
        check_header(&without, None),
        Err(HeaderError::Missing("tipoDovuto"))
    );
    let mut twice = HEADER.to_vec();
    twice.push("IUD");
    assert_eq!(
        check_header(&twice, None),
        Err(HeaderError::Repeated("IUD".into()))
    );
}

#[test]
fn a_good_row_reads_and_a_bad_one_names_every_column() {
    let r = read(&row(
        "P1",
        "R1",
        "1",
        "SINGLE_INSTALLMENT",
        "2027-03-31",
        "90.00",
    ))
    .unwrap();
    assert_eq!((r.iupd.as_str(), r.iud.as_str()), ("P1", "R1"));
    assert_eq!(r.option_type, OptionType::SingleInstallment);
    assert_eq!(r.amount.get(), 9_000);
    assert_eq!(r.action, Action::Insert);
    let no_iupd = read(&row("", "R9", "1", "SINGLE_INSTALLMENT", "2027-03-31", "9")).unwrap();
    assert_eq!(
        no_iupd.iupd, "R9",
        "without an IUPD the IUD keys the position"
    );

    let mut bad = row("P1", "R1", "0", "RATE", "31/03/2027", "9,00");
    bad[HEADER
        .iter()
        .position(|h| *h == "flagMultiBeneficiario")
        .unwrap()] = "true".into();
    let errors = read(&bad).unwrap_err();
    let columns: Vec<&str> = errors.iter().map(|e| e.column).collect();
    assert_eq!(
        columns,
        [
            "indiceOpzionePagamento",
            "tipoOpzionePagamento",
            "dataEsecuzionePagamento",
            "importoDovuto",
            "numeroBeneficiari"
        ]
    );
}

#[test]
fn beneficiaries_take_their_share() {
    let mut cells = row(
        "P1",
        "R1",
        "1",
        "SINGLE_INSTALLMENT",
        "2027-03-31",
        "100.00",
    );
    for (name, value) in [
        ("flagMultiBeneficiario", "true"),
        ("numeroBeneficiari", "2"),
        ("codiceFiscaleEnte_2", "80050050154"),
        ("DenominazioneEnte_2", "Regione Lombardia"),
        ("IbanAccreditoEnte_2", "IT60X0542811101000000123456"),
        ("importoVersamentoEnte_2", "30.00"),
    ] {
        cells[HEADER.iter().position(|h| *h == name).unwrap()] = value.into();
    }
    let r = read(&cells).unwrap();
    let p = position_of(&header(), &[r], &creditor(), tari()).unwrap();
    let transfers = &p.draft.options[0].transfers;
    assert_eq!(transfers.len(), 2);
    assert_eq!(transfers[0].amount.get(), 7_000);
    assert_eq!(transfers[1].amount.get(), 3_000);
    assert_eq!(
        transfers[0].category,
        tari(),
        "the tipo dovuto's code fills in"
    );
}

#[test]
fn a_single_payment_and_a_plan_make_one_position() {
    let rows: Vec<Row> = [
        row("P1", "R3", "2", "INSTALLMENTS", "2027-09-30", "30.00"),
        row("P1", "R1", "1", "SINGLE_INSTALLMENT", "2027-03-31", "90.00"),
        row("P1", "R2", "2", "INSTALLMENTS", "2027-03-31", "60.00"),
    ]
    .iter()
    .map(|c| read(c).unwrap())
    .collect();
    let p = position_of(&header(), &rows, &creditor(), tari()).unwrap();
    assert_eq!(
        p.iuds,
        ["R1", "R2", "R3"],
        "the single payment, then the plan by date"
    );
    let partial: Vec<bool> = p
        .draft
        .options
        .iter()
        .map(|o| o.is_partial_payment)
        .collect();
    assert_eq!(partial, [false, true, true]);
    assert_eq!(p.draft.iupd, "P1");
    let errors = crate::debt::check_position(
        &p.draft,
        crate::debt::Mode::Create,
        "2026-12-01T00:00:00Z".parse().unwrap(),
    );
    assert!(errors.is_empty(), "{errors:?}");
}

/// `cells` with `dataValidita` set.
fn valid_from(mut cells: Vec<String>, day: &str) -> Vec<String> {
    cells[HEADER.iter().position(|h| *h == "dataValidita").unwrap()] = day.into();
    cells
}

#[test]
fn later_validity_dates_of_installments_are_their_windows() {
    let rows: Vec<Row> = [
        valid_from(
            row("P1", "R1", "1", "SINGLE_INSTALLMENT", "2027-03-31", "90"),
            "2027-01-01",
        ),
        valid_from(
            row("P1", "R2", "2", "INSTALLMENTS", "2027-03-31", "45"),
            "2027-01-01",
        ),
        valid_from(
            row("P1", "R3", "2", "INSTALLMENTS", "2027-06-30", "45"),
            "2027-06-01",
        ),
    ]
    .iter()
    .map(|c| read(c).unwrap())
    .collect();
    let p = position_of(&header(), &rows, &creditor(), tari()).unwrap();
    let start = |day: &str| crate::italy::start_of(day.parse().unwrap());
    assert_eq!(p.draft.validity_date, start("2027-01-01"));
    let windows: Vec<_> = p.draft.options.iter().map(|o| o.valid_from).collect();
    assert_eq!(windows, [None, None, start("2027-06-01")]);
    let errors = crate::debt::check_position(
        &p.draft,
        crate::debt::Mode::Create,
        "2026-12-01T00:00:00Z".parse().unwrap(),
    );
    assert!(errors.is_empty(), "{errors:?}");

    // A plan alone is valid from its first window.
    let plan_only = p4pa_rows(&[
        valid_from(
            row("P2", "R1", "1", "INSTALLMENTS", "2027-03-31", "45"),
            "2027-02-01",
        ),
        valid_from(
            row("P2", "R2", "1", "INSTALLMENTS", "2027-06-30", "45"),
            "2027-05-01",
        ),
    ]);
    let p = position_of(&header(), &plan_only, &creditor(), tari()).unwrap();
    assert_eq!(p.draft.validity_date, start("2027-02-01"));
    let windows: Vec<_> = p.draft.options.iter().map(|o| o.valid_from).collect();
    assert_eq!(windows, [None, start("2027-05-01")]);

    // Two single payments must agree.
    let singles = p4pa_rows(&[
        valid_from(
            row("P3", "R1", "1", "SINGLE_INSTALLMENT", "2027-03-31", "90"),
            "2027-01-01",
        ),
        valid_from(
            row(
                "P3",
                "R2",
                "2",
                "REDUCED_SINGLE_INSTALLMENT",
                "2027-03-31",
                "80",
            ),
            "2027-02-01",
        ),
    ]);
    let e = position_of(&header(), &singles, &creditor(), tari()).unwrap_err();
    assert_eq!((e.row, e.error.column), (1, "dataValidita"));
}

fn p4pa_rows(rows: &[Vec<String>]) -> Vec<Row> {
    rows.iter().map(|c| read(c).unwrap()).collect()
}

#[test]
fn rows_that_do_not_make_a_position_are_refused() {
    let read_all =
        |rows: &[Vec<String>]| -> Vec<Row> { rows.iter().map(|c| read(c).unwrap()).collect() };
    let two_singles = read_all(&[
        row("P1", "R1", "1", "SINGLE_INSTALLMENT", "2027-03-31", "90"),
        row("P1", "R2", "1", "SINGLE_INSTALLMENT", "2027-04-30", "90"),
    ]);
    let e = position_of(&header(), &two_singles, &creditor(), tari()).unwrap_err();
    assert_eq!((e.row, e.error.column), (1, "indiceOpzionePagamento"));

    let lonely_plan = read_all(&[row("P1", "R1", "1", "INSTALLMENTS", "2027-03-31", "90")]);
    let e = position_of(&header(), &lonely_plan, &creditor(), tari()).unwrap_err();
    assert_eq!(e.error.column, "tipoOpzionePagamento");

    let two_plans = read_all(&[
        row("P1", "R1", "1", "INSTALLMENTS", "2027-03-31", "45"),
        row("P1", "R2", "1", "INSTALLMENTS", "2027-04-30", "45"),
        row("P1", "R3", "2", "INSTALLMENTS", "2027-03-31", "30"),
        row("P1", "R4", "2", "INSTALLMENTS", "2027-04-30", "30"),
    ]);
    let e = position_of(&header(), &two_plans, &creditor(), tari()).unwrap_err();
    assert_eq!(e.row, 2);

    let mut other_debtor = row("P1", "R2", "2", "INSTALLMENTS", "2027-04-30", "45");
    other_debtor[HEADER
        .iter()
        .position(|h| *h == "codiceIdentificativoUnivoco")
        .unwrap()] = "VRDGPP80A01F205X".into();
    let mixed = read_all(&[
        row("P1", "R1", "2", "INSTALLMENTS", "2027-03-31", "45"),
        other_debtor,
    ]);
    let e = position_of(&header(), &mixed, &creditor(), tari()).unwrap_err();
    assert_eq!((e.row, e.error.column), (1, "codiceIdentificativoUnivoco"));
}

proptest! {
    /// Columns are found by name: any order of the header reads the same row.
    #[test]
    fn column_order_does_not_matter(seed in any::<u64>()) {
        let cells = row("P7", "R7", "1", "SINGLE_INSTALLMENT", "2027-05-31", "12.34");
        let mut order: Vec<usize> = (0..HEADER.len()).collect();
        let mut state = seed;
        for i in (1..order.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (state >> 33) as usize % (i + 1));
        }
        let names: Vec<&str> = order.iter().map(|&i| HEADER[i]).collect();
        let values: Vec<&str> = order.iter().map(|&i| cells[i].as_str()).collect();
        let shuffled = check_header(&names, None).unwrap();
        prop_assert_eq!(read_row(&shuffled, &values).unwrap(), read(&cells).unwrap());
    }

    /// A plan of installments on distinct days keeps every installment,
    /// ordered by due date, each a partial payment.
    #[test]
    fn a_plan_keeps_its_installments_in_date_order(days in proptest::collection::btree_set(1u32..300, 2..8)) {
        let start = Date::constant(2027, 1, 1);
        let cells: Vec<Vec<String>> = days
            .iter()
            .rev()
            .enumerate()
            .map(|(k, d)| {
                let due = start.checked_add(jiff::Span::new().days(i64::from(*d))).unwrap();
                row("P1", &format!("R{k}"), "1", "INSTALLMENTS", &due.to_string(), "10.00")
            })
            .collect();
        let rows: Vec<Row> = cells.iter().map(|c| read(c).unwrap()).collect();
        let p = position_of(&header(), &rows, &creditor(), tari()).unwrap();
        prop_assert_eq!(p.draft.options.len(), days.len());
        prop_assert!(p.draft.options.iter().all(|o| o.is_partial_payment));
        prop_assert!(p.draft.options.windows(2).all(|w| w[0].due_date < w[1].due_date));
    }
}
