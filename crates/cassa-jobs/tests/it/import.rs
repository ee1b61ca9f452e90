//! Importing MyPay debt files: a good file applied whole, a bad one
//! changing nothing and saying row by row why, bad headers named.

use std::io::Write;

use cassa_core::tracciati::mypay::Version;
use cassa_jobs::import_dovuti::{ImportRequest, ImportResult, KIND};
use cassa_store::{Job, JobState};
use cassa_testkit::positions::{now, tipo_dovuto};
use cassa_testkit::{Backend, backend_tests};

use super::{Fixture, fixture};

backend_tests!(
    a_good_file_is_applied_whole_and_reported,
    a_file_with_bad_rows_changes_nothing_and_says_why,
    bad_headers_and_separators_are_named,
    a_debt_being_paid_is_not_changed_by_a_file,
);

fn header(version: Version) -> String {
    version.columns().join(";")
}

/// A 1_4 row: IUD, fiscal code, amount, tipo dovuto, taxonomy, action.
fn row(iud: &str, code: &str, amount: &str, tipo: &str, taxonomy: &str, action: &str) -> String {
    let mut cells: Vec<String> = [
        iud,
        "",
        "F",
        code,
        "Mario Rossi",
        "Via Roma",
        "1",
        "20121",
        "Milano",
        "MI",
        "IT",
        "mario.rossi@example.org",
        "2030-12-31",
        amount,
        "",
        tipo,
        "",
        "TARI 2030",
        taxonomy,
        "",
        "true",
        "false",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    cells.extend(std::iter::repeat_n(String::new(), 12));
    cells.push(action.into());
    cells.join(";")
}

impl Fixture {
    pub(crate) async fn import(&self, file_name: &str, bytes: &[u8]) -> (Job, ImportResult) {
        self.import_with_notices(file_name, bytes, false).await
    }

    pub(crate) async fn import_with_notices(
        &self,
        file_name: &str,
        bytes: &[u8],
        notices: bool,
    ) -> (Job, ImportResult) {
        let (token, mut part) = self.files.create_upload(file_name).unwrap();
        part.write_all(bytes).unwrap();
        part.commit().unwrap();
        let params = serde_json::to_string(&ImportRequest {
            file_name: file_name.into(),
            upload: token,
            notices,
        })
        .unwrap();
        let job = self.run_job(KIND, &params).await;
        assert_eq!(job.state, JobState::Done, "{:?}", job.error);
        let result: ImportResult = serde_json::from_str(job.result.as_deref().unwrap()).unwrap();
        if !(notices && result.applied) {
            return (job, result);
        }
        // Applied first; a follow-up job prints the notices and adds the
        // ZIP to the import's result.
        assert!(result.notices_pending, "{result:?}");
        let follow_up = self
            .worker
            .run_next()
            .await
            .unwrap()
            .expect("a follow-up job");
        let printing = self
            .store
            .job(self.ente.id, follow_up)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(printing.kind, cassa_jobs::import_dovuti::NOTICES_KIND);
        assert_eq!(printing.state, JobState::Done, "{:?}", printing.error);
        let job = self.store.job(self.ente.id, job.id).await.unwrap().unwrap();
        let result: ImportResult = serde_json::from_str(job.result.as_deref().unwrap()).unwrap();
        assert!(!result.notices_pending, "{result:?}");
        (job, result)
    }

    pub(crate) fn report(&self, job: &Job, name: &str) -> String {
        std::fs::read_to_string(self.files.job_file(job.id, name).unwrap()).unwrap()
    }

    pub(crate) async fn tari(&self) {
        self.store
            .create_tipo_dovuto(self.ente.id, &tipo_dovuto("TARI"), "test", now())
            .await
            .unwrap();
    }
}

pub(crate) fn zipped(name: &str, csv: &str) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    zip.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(csv.as_bytes()).unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

async fn a_good_file_is_applied_whole_and_reported(backend: Backend) {
    let f = fixture(backend).await;
    f.tari().await;
    let csv = [
        header(Version::V1_4),
        row(
            "TARI-001",
            "RSSMRA85T10A562S",
            "125.50",
            "TARI",
            "9/0101100IM/",
            "I",
        ),
        row(
            "TARI-002",
            "BNCGLI90C45F205Y",
            "80.00",
            "TARI",
            "9/0101100IM/",
            "I",
        ),
        row(
            "TARI-003",
            "01199250158",
            "1000.00",
            "TARI",
            "9/0101100IM/",
            "I",
        ),
    ]
    .join("\r\n");
    let name = "c_f205-IUF0001-1_4.zip";
    let (job, result) = f
        .import(name, &zipped("c_f205-IUF0001-1_4.csv", &csv))
        .await;
    assert!(result.applied, "{result:?}");
    assert_eq!((result.rows, result.inserted, result.refused), (3, 3, 0));
    assert_eq!(result.version.as_deref(), Some("1_4"));
    let position = f
        .store
        .position(f.ente.id, "TARI-001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(position.options[0].amount.get(), 12_550);
    assert_eq!(position.status.code(), "VALID");
    assert!(position.tipo_dovuto_id.is_some());
    let iuv = f.report(&job, "c_f205-IUF0001-1_4_IUV.csv");
    assert!(iuv.starts_with("IUD;codIuv;numeroAvviso"));
    assert!(iuv.contains(&format!(
        "TARI-001;{};{}",
        position.options[0].iuv, position.options[0].notice_number
    )));

    // A second file changes one and cancels another (1_0: 20 columns).
    let v10 = |r: String| {
        let cells: Vec<&str> = r.split(';').collect();
        let mut kept: Vec<&str> = cells[..19].to_vec();
        kept.push(cells[34]);
        kept.join(";")
    };
    let csv = [
        header(Version::V1_0),
        v10(row(
            "TARI-001",
            "RSSMRA85T10A562S",
            "130.00",
            "TARI",
            "9/0101100IM/",
            "M",
        )),
        v10(row(
            "TARI-002",
            "BNCGLI90C45F205Y",
            "80.00",
            "TARI",
            "9/0101100IM/",
            "A",
        )),
    ]
    .join("\n");
    let (_, result) = f.import("c_f205-IUF0002-1_0.csv", csv.as_bytes()).await;
    assert!(result.applied, "{result:?}");
    assert_eq!((result.modified, result.annulled), (1, 1));
    let changed = f
        .store
        .position(f.ente.id, "TARI-001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.options[0].amount.get(), 13_000);
    assert_eq!(
        changed.options[0].iuv, position.options[0].iuv,
        "the notice keeps its IUV"
    );
    let cancelled = f
        .store
        .position(f.ente.id, "TARI-002")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.status.code(), "INVALID");
}

/// A row that changes or cancels a debt someone is paying right now is
/// refused with that reason, and the file changes nothing.
async fn a_debt_being_paid_is_not_changed_by_a_file(backend: Backend) {
    let f = fixture(backend).await;
    f.tari().await;
    let insert = [
        header(Version::V1_4),
        row(
            "BUSY-1",
            "RSSMRA85T10A562S",
            "10.00",
            "TARI",
            "9/0101100IM/",
            "I",
        ),
        row(
            "FREE-1",
            "RSSMRA85T10A562S",
            "20.00",
            "TARI",
            "9/0101100IM/",
            "I",
        ),
    ]
    .join("\n");
    let (_, result) = f.import("c_f205-BUSY1-1_4.csv", insert.as_bytes()).await;
    assert!(result.applied, "{result:?}");
    let busy = f
        .store
        .position(f.ente.id, "BUSY-1")
        .await
        .unwrap()
        .unwrap();
    let notice = busy.options[0].notice_number.clone();
    f.store
        .activate_notice(&cassa_store::ActivationRequest {
            ente_id: f.ente.id,
            notice_number: &notice,
            operation: "paGetPaymentV2",
            transfer_type: None,
            payment_note: None,
            stamps_allowed: true,
            validity: jiff::SignedDuration::from_mins(30),
            now: jiff::Timestamp::now(),
        })
        .await
        .unwrap()
        .unwrap();
    let change = [
        header(Version::V1_4),
        row(
            "FREE-1",
            "RSSMRA85T10A562S",
            "21.00",
            "TARI",
            "9/0101100IM/",
            "M",
        ),
        row(
            "BUSY-1",
            "RSSMRA85T10A562S",
            "11.00",
            "TARI",
            "9/0101100IM/",
            "A",
        ),
    ]
    .join("\n");
    let (job, result) = f.import("c_f205-BUSY2-1_4.csv", change.as_bytes()).await;
    assert!(!result.applied, "{result:?}");
    assert_eq!(result.refused, 1);
    let esito = f.report(&job, "esito.csv");
    assert!(
        esito.contains("PAGAMENTO_IN_CORSO") && esito.contains(&notice),
        "{esito}"
    );
    let free = f
        .store
        .position(f.ente.id, "FREE-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(free.options[0].amount.get(), 2_000, "nothing applied");
    let busy = f
        .store
        .position(f.ente.id, "BUSY-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(busy.status.code(), "VALID");
}

async fn a_file_with_bad_rows_changes_nothing_and_says_why(backend: Backend) {
    let f = fixture(backend).await;
    f.tari().await;
    let mut csv = [
        header(Version::V1_4),
        row(
            "OK-1",
            "RSSMRA85T10A562S",
            "10.00",
            "TARI",
            "9/0101100IM/",
            "I",
        ),
        row(
            "BAD-AMOUNT",
            "RSSMRA85T10A562S",
            "10,00",
            "TARI",
            "9/0101100IM/",
            "I",
        ),
        row(
            "BAD-TIPO",
            "RSSMRA85T10A562S",
            "10.00",
            "ICI",
            "9/0101100IM/",
            "I",
        ),
        row(
            "BAD-TAX",
            "RSSMRA85T10A562S",
            "10.00",
            "TARI",
            "9/9999999IM/",
            "I",
        ),
        row(
            "OK-1",
            "RSSMRA85T10A562S",
            "10.00",
            "TARI",
            "9/0101100IM/",
            "I",
        ),
        row(
            "NOT-THERE",
            "RSSMRA85T10A562S",
            "10.00",
            "TARI",
            "9/0101100IM/",
            "M",
        ),
        "SHORT-ROW;;F;RSSMRA85T10A562S".to_owned(),
        row(
            "=HYPERLINK(1)",
            "RSSMRA85T10A562S",
            "10.00",
            "TARI",
            "9/0101100IM/",
            "I",
        )
        .replace("2030-12-31", "31/12/2030"),
    ]
    .join("\n")
    .into_bytes();
    // A row saved as Latin-1: "Nicolò" with ò as the single byte 0xF2.
    csv.extend_from_slice(b"\n");
    let latin_row = row(
        "LATIN",
        "RSSMRA85T10A562S",
        "10.00",
        "TARI",
        "9/0101100IM/",
        "I",
    );
    let (before, after) = latin_row.split_once("Mario Rossi").unwrap();
    csv.extend_from_slice(before.as_bytes());
    csv.extend_from_slice(b"Nicol\xf2");
    csv.extend_from_slice(after.as_bytes());
    let (job, result) = f.import("c_f205-IUF0003-1_4.csv", &csv).await;
    assert!(!result.applied);
    assert_eq!(result.rows, 9);
    assert_eq!(result.refused, 8, "{result:?}");
    assert!(
        f.store.position(f.ente.id, "OK-1").await.unwrap().is_none(),
        "nothing was applied"
    );
    let esito = f.report(&job, "esito.csv");
    for (iud, column) in [
        ("BAD-AMOUNT", "importoDovuto"),
        ("BAD-TIPO", "tipoDovuto"),
        ("BAD-TAX", "datiSpecificiRiscossione"),
        ("OK-1", "IUD"),
        ("NOT-THERE", "IUD"),
        ("'=HYPERLINK(1)", "dataScadenzaPagamento"),
    ] {
        assert!(
            esito.contains(&format!(";{iud};{column};")),
            "{iud} {column}:\n{esito}"
        );
    }
    assert!(esito.contains("anagraficaPagatore;CODIFICA"), "{esito}");
    let scarti = f.report(&job, "c_f205-IUF0003-1_4_SCARTI.csv");
    assert!(
        scarti
            .lines()
            .next()
            .unwrap()
            .ends_with(";azione;cod_rifiuto;de_rifiuto")
    );
    assert_eq!(
        scarti.lines().count(),
        9,
        "the header and each refused row:\n{scarti}"
    );
    assert!(
        scarti.contains("SHORT-ROW;;F;RSSMRA85T10A562S;COLONNE;"),
        "a short row is kept as it was:\n{scarti}"
    );
    assert!(scarti.contains("'=HYPERLINK(1)"), "formulas are defused");
}

async fn bad_headers_and_separators_are_named(backend: Backend) {
    let f = fixture(backend).await;
    f.tari().await;
    let good = row(
        "X-1",
        "RSSMRA85T10A562S",
        "10.00",
        "TARI",
        "9/0101100IM/",
        "I",
    );
    let renamed = header(Version::V1_4).replace("importoDovuto", "importo");
    let cases = [
        (
            renamed.clone(),
            "la colonna 14 dell'intestazione è «importo», era attesa «importoDovuto»",
        ),
        (header(Version::V1_4).replace(';', ","), "punto e virgola"),
        (header(Version::V1_3), "ne prevede 35"),
    ];
    for (head, expected) in cases {
        let csv = format!("{head}\n{good}\n");
        let (_, result) = f.import("c_f205-IUF0004-1_4.csv", csv.as_bytes()).await;
        assert!(!result.applied);
        let error = result.file_error.unwrap_or_default();
        assert!(error.contains(expected), "{error}");
    }
    let (_, result) = f.import("c_f205-IUF0005-1_4.csv", b"").await;
    assert_eq!(result.file_error.as_deref(), Some("il file è vuoto"));
    assert!(f.store.position(f.ente.id, "X-1").await.unwrap().is_none());
}

backend_tests!(what_was_imported_and_paid_comes_back_in_the_export);

async fn what_was_imported_and_paid_comes_back_in_the_export(backend: Backend) {
    use cassa_jobs::export_pagati::{ExportFormat, ExportRequest, ExportResult, mypay_columns};
    use std::io::Read;
    let f = fixture(backend).await;
    f.tari().await;
    let csv = [
        header(Version::V1_4),
        row(
            "EXP-1",
            "RSSMRA85T10A562S",
            "125.50",
            "TARI",
            "9/0101100IM/",
            "I",
        ),
        row(
            "EXP-2",
            "BNCGLI90C45F205Y",
            "80.00",
            "TARI",
            "9/0101100IM/",
            "I",
        ),
        row(
            "EXP-3",
            "BNCGLI90C45F205Y",
            "10.00",
            "TARI",
            "9/0101100IM/",
            "I",
        ),
    ]
    .join("\n");
    let (_, imported) = f.import("c_f205-EXP-1_4.csv", csv.as_bytes()).await;
    assert!(imported.applied);
    // Two of the three are paid (the node's receipts).
    for (iud, cents) in [("EXP-1", 12_550), ("EXP-2", 8_000)] {
        let p = f.store.position(f.ente.id, iud).await.unwrap().unwrap();
        let notice = p.options[0].notice_number.clone();
        let receipt_id = format!("rt-{iud}");
        let r = cassa_store::NewReceipt {
            ente_id: f.ente.id,
            receipt_id: &receipt_id,
            notice_number: &notice,
            ok: true,
            amount: cassa_core::Cents::new(cents),
            fee: None,
            psp_id: "SIMPSPIT",
            psp_company_name: "PSP Simulato",
            channel_id: "00000000000_01",
            payment_method: None,
            payer_fiscal_code: Some("RSSMRA85T10A562S"),
            payer_name: Some("=cmd|' /C calc'!A0"),
            payer_email: None,
            debtor_email: None,
            payment_note: None,
            payment_date_time: Some(now()),
            application_date: None,
            transfer_date: None,
            operation: "paSendRTV2",
            raw_xml: "<receipt>x</receipt>",
            now: now(),
        };
        f.store.record_receipt(&r).await.unwrap();
    }
    let today = cassa_core::italy::date_of(now());
    let f = &f;
    let run = |request: ExportRequest| async move {
        let params = serde_json::to_string(&request).unwrap();
        let job = f.run_job(cassa_jobs::export_pagati::KIND, &params).await;
        assert_eq!(job.state, JobState::Done, "{:?}", job.error);
        let result: ExportResult = serde_json::from_str(job.result.as_deref().unwrap()).unwrap();
        (job, result)
    };
    let (job, result) = run(ExportRequest {
        from: today,
        to: today,
        format: ExportFormat::Mypay,
        version: "1_3".into(),
        with_receipts: true,
    })
    .await;
    assert_eq!(result.rows, 2);
    assert!(
        result.file_name.contains("_ESTRAZIONE_DOVUTI_") && result.file_name.ends_with("-1_3.zip")
    );
    let mut archive = zip::ZipArchive::new(
        std::fs::File::open(f.files.job_file(job.id, &result.file_name).unwrap()).unwrap(),
    )
    .unwrap();
    let mut text = String::new();
    archive
        .by_index(0)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(';').collect();
    assert_eq!(head, mypay_columns("1_3", true));
    assert_eq!(head.len(), 64 + 4 + 6);
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(';').map(str::to_owned).collect())
        .collect();
    let iuds: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(
        iuds,
        ["EXP-1", "EXP-2"],
        "imported and paid, in payment order"
    );
    assert_eq!(rows[0][54], "125.50");
    assert_eq!(rows[0][63], "TARI");
    assert!(
        rows[0].iter().any(|c| c.starts_with("'=cmd")),
        "formulas are defused"
    );
    assert_eq!(
        rows[0][head.len() - 5],
        "PHJlY2VpcHQ+eDwvcmVjZWlwdD4=",
        "the receipt, in base64"
    );

    let (job, result) = run(ExportRequest {
        from: today,
        to: today,
        format: ExportFormat::Csv,
        version: "1_3".into(),
        with_receipts: false,
    })
    .await;
    let text =
        std::fs::read_to_string(f.files.job_file(job.id, &result.file_name).unwrap()).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.lines().nth(2).unwrap().starts_with("EXP-2;"));

    // Kept 30 days after the job ended, then deleted; the job stays.
    use cassa_jobs::retention::{EXPORT_RETENTION, expire_exports};
    let ended = job.finished_at.unwrap();
    let day = jiff::SignedDuration::from_hours(24);
    let path = f.files.job_file(job.id, &result.file_name).unwrap();
    assert_eq!(
        expire_exports(&f.store, &f.files, ended + EXPORT_RETENTION - day)
            .await
            .unwrap(),
        0
    );
    assert!(path.exists());
    assert_eq!(
        expire_exports(&f.store, &f.files, ended + EXPORT_RETENTION + day)
            .await
            .unwrap(),
        2,
        "both exports"
    );
    assert!(!path.exists());
    let job = f.store.job(f.ente.id, job.id).await.unwrap().unwrap();
    assert!(job.files_expired_at.is_some());
    assert_eq!(
        expire_exports(&f.store, &f.files, ended + EXPORT_RETENTION + day)
            .await
            .unwrap(),
        0,
        "each once"
    );
}
