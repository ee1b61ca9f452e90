//! Reading MyPay files: versions, headers, rows, positions.

use super::*;
use crate::fiscal_code::PartitaIva;
use crate::iban::Iban;
use jiff::civil::Date;
use proptest::prelude::*;

fn row_1_4() -> Vec<String> {
    let mut values: Vec<String> = vec![
        "IUD-0001",
        "",
        "F",
        "RSSMRA85T10A562S",
        "Mario Rossi",
        "Via Roma",
        "1",
        "20121",
        "Milano",
        "MI",
        "IT",
        "mario.rossi@example.org",
        "2026-12-31",
        "125.50",
        "",
        "TARI",
        "",
        "TARI 2026 rata unica",
        "9/0101100IM/",
        "",
        "true",
        "false",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    values.extend(std::iter::repeat_n(String::new(), 12));
    values.push("I".into());
    values
}

fn read(version: Version, values: &[String]) -> Result<Row, Vec<FieldError>> {
    let fields: Vec<&str> = values.iter().map(String::as_str).collect();
    read_row(version, &fields)
}

#[test]
fn versions_have_their_columns() {
    assert_eq!(Version::V1_0.columns().len(), 20);
    assert_eq!(Version::V1_1.columns().len(), 20);
    assert_eq!(Version::V1_2.columns().len(), 21);
    assert_eq!(Version::V1_3.columns().len(), 22);
    assert_eq!(Version::V1_4.columns().len(), 35);
    assert_eq!(Version::V1_4.columns()[34], "azione");
    assert_eq!(
        Version::from_file_name("c_f205-IUF0001-1_4.zip"),
        Some(Version::V1_4)
    );
    assert_eq!(
        Version::from_file_name("/tmp/x/c_f205-IUF-0001-1_2.csv"),
        Some(Version::V1_2)
    );
    assert_eq!(Version::from_file_name("dovuti.csv"), None);
}

#[test]
fn headers_are_checked_column_by_column() {
    let header = Version::V1_4.columns();
    assert_eq!(
        check_header(&header, Some(Version::V1_4)),
        Ok(Version::V1_4)
    );
    assert_eq!(check_header(&header, None), Ok(Version::V1_4));
    let mut bom: Vec<String> = header.iter().map(|c| c.to_lowercase()).collect();
    bom[0] = format!("\u{feff}{}", bom[0]);
    let bom: Vec<&str> = bom.iter().map(String::as_str).collect();
    assert_eq!(
        check_header(&bom, None),
        Ok(Version::V1_4),
        "case and BOM do not matter"
    );
    let mut wrong = header.clone();
    wrong[13] = "importo";
    assert_eq!(
        check_header(&wrong, Some(Version::V1_4)),
        Err(HeaderError::Column {
            position: 14,
            expected: "importoDovuto",
            found: "importo".into()
        })
    );
    assert!(matches!(
        check_header(&header[..20], Some(Version::V1_4)),
        Err(HeaderError::ColumnCount {
            expected: 35,
            found: 20,
            ..
        })
    ));
    assert_eq!(
        check_header(&header[..7], None),
        Err(HeaderError::UnknownVersion(7))
    );
    assert!(
        check_header(&header[..20], None).is_err(),
        "20 names of 1_4 are not a 1_1 header"
    );
}

#[test]
fn a_good_row_reads() {
    let row = read(Version::V1_4, &row_1_4()).unwrap();
    assert_eq!(row.iud, "IUD-0001");
    assert_eq!(row.amount.get(), 12_550);
    assert_eq!(row.due_date, Date::constant(2026, 12, 31));
    assert!(row.generate_iuv && row.iuv.is_none() && row.secondary.is_none());
    assert_eq!(row.action, Action::Insert);
    assert_eq!(row.payer.province.as_deref(), Some("MI"));
}

#[test]
fn every_broken_rule_names_its_column() {
    let mut values = row_1_4();
    values[0] = String::new(); // IUD
    values[3] = "RSSMRA85T10A562X".into(); // bad check character
    values[12] = "31/12/2026".into();
    values[13] = "12,50".into();
    values[9] = "MIL".into();
    values[34] = "X".into();
    let errors = read(Version::V1_4, &values).unwrap_err();
    let columns: Vec<&str> = errors.iter().map(|e| e.column).collect();
    assert_eq!(
        columns,
        [
            "IUD",
            "codiceIdentificativoUnivoco",
            "provinciaPagatore",
            "dataScadenzaPagamento",
            "importoDovuto",
            "azione"
        ]
    );
    assert_eq!(errors[0].code, "OBBLIGATORIO");
    assert_eq!(errors[2].code, "LUNGHEZZA");
}

#[test]
fn a_second_beneficiary_needs_its_data_and_a_smaller_share() {
    let mut values = row_1_4();
    values[21] = "true".into();
    let errors = read(Version::V1_4, &values).unwrap_err();
    let columns: Vec<&str> = errors.iter().map(|e| e.column).collect();
    assert!(columns.contains(&"codiceFiscaleEnteSecondario"));
    assert!(columns.contains(&"ibanAccreditoEnteSecondario"));
    assert!(columns.contains(&"importoVersamentoEnteSecondario"));
    values[22] = "01199250158".into();
    values[23] = "Comune di Milano".into();
    values[24] = "IT60X0542811101000000123456".into();
    values[33] = "25.00".into();
    let row = read(Version::V1_4, &values).unwrap();
    assert_eq!(row.secondary.unwrap().amount.get(), 2_500);
    values[33] = "125.50".into();
    assert!(read(Version::V1_4, &values).is_err());
}

#[test]
fn older_versions_read_their_columns() {
    let v14 = row_1_4();
    let mut v10: Vec<String> = v14[..19].to_vec();
    v10.push("M".into());
    let row = read(Version::V1_0, &v10).unwrap();
    assert_eq!(row.action, Action::Modify);
    assert!(!row.generate_iuv);
    assert!(
        read(Version::V1_2, &v10).is_err(),
        "a 1_0 row is not a 1_2 row"
    );
}

fn creditor() -> Creditor {
    Creditor {
        fiscal_code: PartitaIva::parse("01199250158").unwrap(),
        company_name: "Comune di Milano".into(),
        office_name: Some("Tributi".into()),
        segregation: crate::notice::SegregationCode::new(2).unwrap(),
        iban: Iban::parse("IT60X0542811101000000123456").unwrap(),
        postal_iban: None,
    }
}

#[test]
fn a_row_becomes_a_valid_position() {
    let mut values = row_1_4();
    values[21] = "true".into();
    values[22] = "80050050154".into();
    values[23] = "Regione Lombardia".into();
    values[24] = "IT60X0542811101000000123456".into();
    values[33] = "25.50".into();
    let row = read(Version::V1_4, &values).unwrap();
    let draft = draft_of(&row, &creditor()).unwrap();
    assert_eq!(draft.iupd, "IUD-0001");
    let option = &draft.options[0];
    assert_eq!(option.transfers.len(), 2);
    assert_eq!(option.transfers[0].amount.get(), 10_000);
    assert_eq!(option.transfers[1].amount.get(), 2_550);
    assert_eq!(
        option.due_date.to_string(),
        "2026-12-31T22:59:59Z",
        "the end of the Italian day"
    );
    let now: jiff::Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
    let problems = crate::debt::check_position(&draft, crate::debt::Mode::Create, now);
    assert!(problems.is_empty(), "{problems:?}");
    // An IUV of another ente's segregation code is refused by column.
    let mut with_iuv = row.clone();
    with_iuv.iuv = Some("01000000000000143".into());
    assert_eq!(
        draft_of(&with_iuv, &creditor()).unwrap_err().column,
        "codIuv"
    );
}

proptest! {
    /// Whatever the cells hold, reading never panics, and a refusal
    /// names only columns of the version (or the row).
    #[test]
    fn any_cells_read_or_are_refused_by_column(cells in proptest::collection::vec(".{0,40}", 35)) {
        let fields: Vec<&str> = cells.iter().map(String::as_str).collect();
        if let Err(errors) = read_row(Version::V1_4, &fields) {
            prop_assert!(!errors.is_empty());
            let columns = Version::V1_4.columns();
            for e in errors {
                prop_assert!(columns.contains(&e.column) || e.column == "riga", "{}", e.column);
            }
        }
    }
}
