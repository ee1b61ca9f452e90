//! Importing P4PA 2.0 files: rows grouped by IUPD into positions with a
//! single payment and an installment plan, further beneficiaries, drafts;
//! then changes and cancellations; bad files changing nothing.

use cassa_testkit::{Backend, backend_tests};

use super::fixture;
use super::import::zipped;

backend_tests!(
    positions_with_plans_are_imported_changed_and_cancelled,
    a_bad_p4pa_file_changes_nothing_and_names_columns_as_the_file_does,
);

const HEADER: &str = "IUPD;descrizionePosizioneDebitoria;dataValidita;indiceOpzionePagamento;\
tipoOpzionePagamento;descrizioneOpzionePagamento;iud;codIUV;tipoIdentificativoUnivoco;\
codiceIdentificativoUnivoco;anagraficaPagatore;indirizzoPagatore;civicoPagatore;capPagatore;\
localitaPagatore;provinciaPagatore;nazionePagatore;mailPagatore;dataEsecuzionePagamento;\
importoDovuto;tipoDovuto;causaleVersamento;datiSpecificiRiscossione;flgGeneraIuv;flagPagamentoPu;\
bilancio;flagMultiBeneficiario;numeroBeneficiari;codiceFiscaleEnte_2;DenominazioneEnte_2;\
IbanAccreditoEnte_2;CausaleVersamentoEnte_2;importoVersamentoEnte_2;codiceTassonomiaEnte_2;\
azione;draft";

/// One installment row of `HEADER`; `extra` ends the row from
/// flagMultiBeneficiario on (beneficiary 2, action, draft).
fn row(
    iupd: &str,
    iud: &str,
    option: &str,
    kind: &str,
    due: &str,
    amount: &str,
    extra: &str,
) -> String {
    format!(
        "{iupd};TARI 2030 utenza domestica;;{option};{kind};;{iud};;F;RSSMRA85T10A562S;Mario Rossi;\
         Via Roma;1;20121;Milano;MI;IT;mario.rossi@example.org;{due};{amount};TARI;TARI 2030 {iud};;\
         true;true;;{extra}"
    )
}

/// `HEADER` in P4PA's English names (version `2_0-eng`).
const HEADER_ENG: &str = "iupdOrg;description;validityDate;paymentOptionIndex;paymentOptionType;\
paymentOptionDescription;iud;iuv;entityType;fiscalCode;fullName;address;civic;postalCode;location;\
province;nation;email;dueDate;amount;debtPositionTypeCode;remittanceInformation;\
legacyPaymentMetadata;generateNotice;flagPuPagoPaPayment;balance;flagMultiBeneficiary;\
numberBeneficiary;orgFiscalCode_2;orgName_2;iban_2;remittanceInformation_2;amount_2;category_2;\
action;draft";

const INSERT: &str = "false;;;;;;;;I;false";

async fn positions_with_plans_are_imported_changed_and_cancelled(backend: Backend) {
    let f = fixture(backend).await;
    f.tari().await;
    let csv = [
        HEADER.to_owned(),
        row(
            "P-1",
            "P-1-U",
            "1",
            "SINGLE_INSTALLMENT",
            "2030-03-31",
            "300.00",
            INSERT,
        ),
        row(
            "P-1",
            "P-1-R1",
            "2",
            "INSTALLMENTS",
            "2030-03-31",
            "100.00",
            INSERT,
        ),
        // Another position between the rows of the first.
        row(
            "P-2",
            "P-2-U",
            "1",
            "SINGLE_INSTALLMENT",
            "2030-05-31",
            "50.00",
            "true;2;80050050154;Regione Lombardia;IT60X0542811101000000123456;Quota regionale;\
             20.00;9/0201102IM/;I;false",
        ),
        row(
            "P-1",
            "P-1-R3",
            "2",
            "INSTALLMENTS",
            "2030-07-31",
            "100.00",
            INSERT,
        ),
        row(
            "P-1",
            "P-1-R2",
            "2",
            "INSTALLMENTS",
            "2030-05-31",
            "100.00",
            INSERT,
        ),
        row(
            "",
            "SOLO-1",
            "1",
            "SINGLE_INSTALLMENT",
            "2030-05-31",
            "10.00",
            "false;;;;;;;;I;true",
        ),
    ]
    .join("\r\n");
    let name = "c_f205-IUF0100-2_0.zip";
    let (job, result) = f
        .import_with_notices(name, &zipped("c_f205-IUF0100-2_0.csv", &csv), true)
        .await;
    assert!(result.applied, "{result:?}");
    assert_eq!(result.version.as_deref(), Some("2_0"));
    assert_eq!((result.rows, result.inserted, result.refused), (6, 3, 0));

    let p1 = f.store.position(f.ente.id, "P-1").await.unwrap().unwrap();
    let plan: Vec<(bool, i64)> = p1
        .options
        .iter()
        .map(|o| (o.is_partial_payment, o.amount.get()))
        .collect();
    assert_eq!(
        plan,
        [
            (false, 30_000),
            (true, 10_000),
            (true, 10_000),
            (true, 10_000)
        ]
    );
    assert!(
        p1.options
            .windows(2)
            .skip(1)
            .all(|w| w[0].due_date < w[1].due_date),
        "installments in date order"
    );
    let iuvs = f.report(&job, "c_f205-IUF0100-2_0_IUV.csv");
    assert!(iuvs.starts_with("IUPD;iud;codIUV;numeroAvviso"), "{iuvs}");
    for (iud, option) in ["P-1-U", "P-1-R1", "P-1-R2", "P-1-R3"]
        .iter()
        .zip(&p1.options)
    {
        let line = format!("P-1;{iud};{};{}", option.iuv, option.notice_number);
        assert!(iuvs.contains(&line), "{line} in {iuvs}");
    }
    assert_eq!(iuvs.lines().count(), 7, "a header and one line per row");

    let p2 = f.store.position(f.ente.id, "P-2").await.unwrap().unwrap();
    let shares: Vec<i64> = p2.options[0]
        .transfers
        .iter()
        .map(|t| t.amount.get())
        .collect();
    assert_eq!(
        shares,
        [3_000, 2_000],
        "the ente keeps what beneficiary 2 does not"
    );
    // The notices of the published positions, as MyPay hands them back.
    assert_eq!(result.notices, 2, "{result:?}");
    let notices = "c_f205-IUF0100-2_0_AVVISI_PDF.zip";
    assert!(result.files.iter().any(|n| n == notices), "{result:?}");
    let zip = std::fs::File::open(f.files.job_file(job.id, notices).unwrap()).unwrap();
    let mut zip = zip::ZipArchive::new(zip).unwrap();
    let mut index = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("indice.csv").unwrap(), &mut index).unwrap();
    assert!(
        index.contains("P-1") && index.contains("P-2") && !index.contains("SOLO-1"),
        "{index}"
    );
    let pdfs = (0..zip.len())
        .filter(|&i| zip.by_index(i).unwrap().name().unwrap().ends_with(".pdf"))
        .count();
    assert_eq!(pdfs, 2);
    let solo = f
        .store
        .position(f.ente.id, "SOLO-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        solo.status.code(),
        "DRAFT",
        "draft=true keeps it unpublished"
    );

    // The English spelling changes P-1 to a single payment and cancels P-2.
    let csv = [
        HEADER_ENG.to_owned(),
        row(
            "P-1",
            "P-1-U",
            "1",
            "SINGLE_INSTALLMENT",
            "2030-03-31",
            "280.00",
            "false;;;;;;;;M;false",
        ),
        row(
            "P-2",
            "P-2-U",
            "1",
            "SINGLE_INSTALLMENT",
            "2030-05-31",
            "50.00",
            "false;;;;;;;;A;false",
        ),
        // The draft gains a plan of two installments and is published.
        row(
            "SOLO-1",
            "SOLO-1",
            "1",
            "SINGLE_INSTALLMENT",
            "2030-05-31",
            "10.00",
            "false;;;;;;;;M;false",
        ),
        row(
            "SOLO-1",
            "SOLO-1-R1",
            "2",
            "INSTALLMENTS",
            "2030-05-31",
            "5.00",
            "false;;;;;;;;M;false",
        ),
        row(
            "SOLO-1",
            "SOLO-1-R2",
            "2",
            "INSTALLMENTS",
            "2030-06-30",
            "5.00",
            "false;;;;;;;;M;false",
        ),
    ]
    .join("\n");
    let (job, result) = f.import("c_f205-IUF0101-2_0-eng.csv", csv.as_bytes()).await;
    assert!(result.applied, "{result:?}");
    assert_eq!((result.modified, result.annulled), (2, 1));
    let solo_after = f
        .store
        .position(f.ente.id, "SOLO-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(solo_after.status.code(), "VALID");
    assert_eq!(solo_after.options.len(), 3);
    assert_eq!(solo_after.options[0].iuv, solo.options[0].iuv);
    let iuvs = f.report(&job, "c_f205-IUF0101-2_0-eng_IUV.csv");
    assert!(iuvs.starts_with("iupdOrg;iud;iuv;numeroAvviso"), "{iuvs}");
    assert!(
        iuvs.contains(&format!("SOLO-1;SOLO-1-R2;{};", solo_after.options[2].iuv)),
        "{iuvs}"
    );
    let p1_after = f.store.position(f.ente.id, "P-1").await.unwrap().unwrap();
    assert_eq!(p1_after.options.len(), 1);
    assert_eq!(p1_after.options[0].amount.get(), 28_000);
    assert_eq!(
        p1_after.options[0].iuv, p1.options[0].iuv,
        "the notice keeps its IUV"
    );
    let p2_after = f.store.position(f.ente.id, "P-2").await.unwrap().unwrap();
    assert_eq!(p2_after.status.code(), "INVALID");
}

async fn a_bad_p4pa_file_changes_nothing_and_names_columns_as_the_file_does(backend: Backend) {
    let f = fixture(backend).await;
    f.tari().await;
    let csv = [
        HEADER_ENG.to_owned(),
        // Good on its own.
        row(
            "OK-1",
            "OK-1-U",
            "1",
            "SINGLE_INSTALLMENT",
            "2030-03-31",
            "30.00",
            INSERT,
        ),
        // An unknown tipo dovuto.
        row(
            "BAD-1",
            "BAD-1-U",
            "1",
            "SINGLE_INSTALLMENT",
            "2030-03-31",
            "30.00",
            INSERT,
        )
        .replace(";TARI;", ";IMU;"),
        // A plan of one installment.
        row(
            "BAD-2",
            "BAD-2-R1",
            "1",
            "INSTALLMENTS",
            "2030-03-31",
            "30.00",
            INSERT,
        ),
        // An IUD already used above.
        row(
            "BAD-3",
            "OK-1-U",
            "1",
            "SINGLE_INSTALLMENT",
            "2030-03-31",
            "30.00",
            INSERT,
        ),
        // A malformed amount.
        row(
            "BAD-4",
            "BAD-4-U",
            "1",
            "SINGLE_INSTALLMENT",
            "2030-03-31",
            "30,00",
            INSERT,
        ),
    ]
    .join("\n");
    let name = "c_f205-IUF0200-2_0-eng.csv";
    let (job, result) = f.import(name, csv.as_bytes()).await;
    assert!(!result.applied, "{result:?}");
    assert_eq!(result.version.as_deref(), Some("2_0-eng"));
    assert_eq!((result.rows, result.refused), (5, 4));
    assert!(f.store.position(f.ente.id, "OK-1").await.unwrap().is_none());
    let esito = f.report(&job, "esito.csv");
    for expected in [
        "3;BAD-1-U;debtPositionTypeCode;SCONOSCIUTO;",
        "4;BAD-2-R1;paymentOptionType;POSIZIONE;",
        "5;OK-1-U;iud;DUPLICATO;",
        "6;BAD-4-U;amount;FORMATO;",
    ] {
        assert!(esito.contains(expected), "{expected} in {esito}");
    }
    let scarti = f.report(&job, "c_f205-IUF0200-2_0-eng_SCARTI.csv");
    assert!(scarti.starts_with("iupdOrg;description;"), "{scarti}");
    assert_eq!(
        scarti.lines().count(),
        5,
        "the header and the four refused rows"
    );

    // A header without a required column is refused whole, naming it.
    let missing = HEADER_ENG.replace("debtPositionTypeCode;", "");
    let (_, result) = f
        .import("c_f205-IUF0201-2_0-eng.csv", missing.as_bytes())
        .await;
    assert_eq!(
        result.file_error.as_deref(),
        Some("manca la colonna obbligatoria «debtPositionTypeCode»")
    );
    // A column that P4PA does not have is named with its position.
    let unknown = HEADER.replace("bilancio;", "bilancioX;");
    let (_, result) = f.import("c_f205-IUF0202-2_0.csv", unknown.as_bytes()).await;
    let error = result.file_error.unwrap();
    assert!(
        error.contains("«bilancioX»") && error.contains("colonna 26"),
        "{error}"
    );
}
