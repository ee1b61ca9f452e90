//! Exporting what was paid in a period: MyPay's "flusso pagati" (versions
//! 1_0 to 1_3, with or without the receipts), zipped as MyPay names it, or
//! a plain CSV. Read a page of receipts at a time and written straight to
//! disk; cells that look like formulas are defused.

use std::io::Write;

use cassa_store::{Job, PaidLine, StoreError};
use jiff::civil::Date;
use jiff::{Timestamp, tz::TimeZone};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::csv_cell;
use crate::job::{JobContext, JobFailure};

pub const KIND: &str = "export_pagati";
const PAGE: i64 = 2_000;

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExportFormat {
    /// MyPay's flusso pagati, in a ZIP.
    #[default]
    Mypay,
    /// One plain CSV.
    Csv,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRequest {
    /// Payments from this Italian day…
    pub from: Date,
    /// …to this one, both included.
    pub to: Date,
    #[serde(default)]
    pub format: ExportFormat,
    /// `1_0` to `1_3` (MyPay only).
    #[serde(default = "default_version")]
    pub version: String,
    /// Add each payment's receipt (MyPay only).
    #[serde(default)]
    pub with_receipts: bool,
}

/// Queues an export for `ente_id` (from the API or the back office).
pub async fn queue(
    store: &cassa_store::Store,
    ente_id: i64,
    actor: &str,
    request: &ExportRequest,
) -> Result<Job, StoreError> {
    let params = serde_json::to_string(request).expect("a request serializes");
    let job = cassa_store::NewJob {
        ente_id,
        kind: KIND,
        params: &params,
        created_by: actor,
    };
    store.enqueue_job(job, Timestamp::now()).await
}

fn default_version() -> String {
    "1_3".into()
}

impl ExportRequest {
    pub fn check(&self) -> Result<(), String> {
        if self.to < self.from {
            return Err("to: before from".into());
        }
        if !["1_0", "1_1", "1_2", "1_3"].contains(&self.version.as_str()) {
            return Err(format!(
                "version: {:?} is not 1_0, 1_1, 1_2 or 1_3",
                self.version
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportResult {
    pub file_name: String,
    pub rows: u64,
    pub bytes: u64,
    pub files: Vec<String>,
}

const BASE: [&str; 64] = [
    "iuf",
    "numRigaFlusso",
    "codIud",
    "codIuv",
    "versioneOggetto",
    "identificativoDominio",
    "identificativoStazioneRichiedente",
    "identificativoMessaggioRicevuta",
    "dataOraMessaggioRicevuta",
    "riferimentoMessaggioRichiesta",
    "riferimentoDataRichiesta",
    "tipoIdentificativoUnivoco",
    "codiceIdentificativoUnivoco",
    "denominazioneAttestante",
    "codiceUnitOperAttestante",
    "denomUnitOperAttestante",
    "indirizzoAttestante",
    "civicoAttestante",
    "capAttestante",
    "localitaAttestante",
    "provinciaAttestante",
    "nazioneAttestante",
    "enteBenefTipoIdentificativoUnivoco",
    "enteBenefCodiceIdentificativoUnivoco",
    "denominazioneBeneficiario",
    "codiceUnitOperBeneficiario",
    "denomUnitOperBeneficiario",
    "indirizzoBeneficiario",
    "civicoBeneficiario",
    "capBeneficiario",
    "localitaBeneficiario",
    "provinciaBeneficiario",
    "nazioneBeneficiario",
    "soggVersTipoIdentificativoUnivoco",
    "soggVersCodiceIdentificativoUnivoco",
    "anagraficaVersante",
    "indirizzoVersante",
    "civicoVersante",
    "capVersante",
    "localitaVersante",
    "provinciaVersante",
    "nazioneVersante",
    "emailVersante",
    "soggPagTipoIdentificativoUnivoco",
    "soggPagCodiceIdentificativoUnivoco",
    "anagraficaPagatore",
    "indirizzoPagatore",
    "civicoPagatore",
    "capPagatore",
    "localitaPagatore",
    "provinciaPagatore",
    "nazionePagatore",
    "emailPagatore",
    "codiceEsitoPagamento",
    "importoTotalePagato",
    "identificativoUnivocoVersamento",
    "codiceContestoPagamento",
    "singoloImportoPagato",
    "esitoSingoloPagamento",
    "dataEsitoSingoloPagamento",
    "identificativoUnivocoRiscoss",
    "causaleVersamento",
    "datiSpecificiRiscossione",
    "tipoDovuto",
];

const RECEIPT: [&str; 6] = [
    "tipoFirma",
    "rt",
    "indiceDatiSingoloPagamento",
    "numRtDatiPagDatiSingPagCommissioniApplicatePsp",
    "codRtDatiPagDatiSingPagAllegatoRicevutaTipo",
    "blbRtDatiPagDatiSingPagAllegatoRicevutaTest",
];

/// The header of a MyPay export: the 64 base columns, the version's
/// additions, then the receipt's columns when asked for.
pub fn mypay_columns(version: &str, with_receipts: bool) -> Vec<&'static str> {
    let mut columns = BASE.to_vec();
    match version {
        "1_2" => columns.push("bilancio"),
        "1_3" => columns.extend([
            "bilancio",
            "cod_fiscale_pa1",
            "de_nome_pa1",
            "cod_tassonomico_dovuto_pa1",
        ]),
        _ => {}
    }
    if with_receipts {
        columns.extend(RECEIPT);
    }
    columns
}

fn euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// What every line says of the ente, and the zone its times are shown in.
struct Ente<'a> {
    fiscal_code: &'a str,
    name: &'a str,
    tz: TimeZone,
}

fn mypay_line(
    n: u64,
    l: &PaidLine,
    ente: &Ente<'_>,
    version: &str,
    with_receipts: bool,
) -> Vec<String> {
    let at = l.paid_at.to_zoned(ente.tz.clone());
    let day = at.strftime("%Y-%m-%d").to_string();
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let payer_kind = match l.payer_fiscal_code.as_deref() {
        Some(code) if code.len() == 11 => "G",
        Some(_) => "F",
        None => "",
    };
    let mut cells = vec![
        String::new(), // iuf: the reporting flow, once reconciled
        n.to_string(),
        l.iud.clone(),
        l.iuv.clone(),
        "6.2".into(),
        ente.fiscal_code.into(),
        // identificativoStazioneRichiedente: left empty, the station id
        // lives in the node endpoint's settings, which jobs do not see.
        String::new(),
        l.receipt_id.clone(),
        at.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        l.receipt_id.clone(),
        day.clone(),
        "B".into(),
        l.psp_id.clone(),
        l.psp_company_name.clone(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        "G".into(),
        ente.fiscal_code.into(),
        ente.name.into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        payer_kind.into(),
        o(&l.payer_fiscal_code),
        o(&l.payer_name),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        l.debtor_type.clone(),
        l.debtor_fiscal_code.clone(),
        l.debtor_name.clone(),
        o(&l.street_name),
        o(&l.civic_number),
        o(&l.postal_code),
        o(&l.city),
        o(&l.province),
        o(&l.country),
        o(&l.email),
        "0".into(),
        euros(l.amount),
        l.iuv.clone(),
        l.receipt_id.clone(),
        euros(l.amount),
        "ESEGUITO".into(),
        day,
        l.receipt_id.clone(),
        l.description.clone(),
        o(&l.taxonomy),
        o(&l.tipo_dovuto),
    ];
    match version {
        "1_2" => cells.push(String::new()),
        "1_3" => cells.extend([
            String::new(),
            ente.fiscal_code.into(),
            ente.name.into(),
            o(&l.taxonomy),
        ]),
        _ => {}
    }
    if with_receipts {
        cells.extend([
            String::new(),
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                l.raw_xml.as_bytes(),
            ),
            "1".into(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    cells
}

const PLAIN: [&str; 12] = [
    "IUD",
    "IUV",
    "numeroAvviso",
    "codiceFiscaleDebitore",
    "debitore",
    "importo",
    "dataPagamento",
    "psp",
    "idRicevuta",
    "tipoDovuto",
    "causale",
    "codiceFiscalePagatore",
];

fn plain_line(l: &PaidLine) -> Vec<String> {
    vec![
        l.iud.clone(),
        l.iuv.clone(),
        l.notice_number.clone(),
        l.debtor_fiscal_code.clone(),
        l.debtor_name.clone(),
        euros(l.amount),
        l.paid_at.to_string(),
        l.psp_company_name.clone(),
        l.receipt_id.clone(),
        l.tipo_dovuto.clone().unwrap_or_default(),
        l.description.clone(),
        l.payer_fiscal_code.clone().unwrap_or_default(),
    ]
}

pub async fn run(ctx: &JobContext, job: &Job) -> Result<String, JobFailure> {
    let request: ExportRequest = serde_json::from_str(&job.params)
        .map_err(|e| JobFailure::Failed(format!("invalid request: {e}")))?;
    request.check().map_err(JobFailure::Failed)?;
    let ente = ctx
        .store()
        .ente_by_id(job.ente_id)
        .await?
        .ok_or_else(|| JobFailure::Failed("the ente is gone".into()))?;
    let (from, to) = cassa_core::italy::days(request.from, request.to)
        .ok_or_else(|| JobFailure::Failed("dates out of range".into()))?;
    let ipa = ente
        .ipa_code
        .clone()
        .unwrap_or_else(|| ente.fiscal_code.clone());
    let stamp = Timestamp::now()
        .to_zoned(cassa_core::italy::time_zone())
        .strftime("%Y%m%d%H%M%S")
        .to_string();
    let base = format!(
        "{ipa}-{}_ESTRAZIONE_DOVUTI_{stamp}-{}",
        job.id, request.version
    );
    let (file_name, header) = match request.format {
        ExportFormat::Mypay => (
            format!("{base}.zip"),
            mypay_columns(&request.version, request.with_receipts),
        ),
        ExportFormat::Csv => (
            format!("pagati_{}_{}.csv", request.from, request.to),
            PLAIN.to_vec(),
        ),
    };
    let part = ctx
        .files()
        .create(job.id, &file_name)
        .map_err(|e| JobFailure::Failed(format!("file: {e}")))?;
    let names = Ente {
        fiscal_code: &ente.fiscal_code,
        name: &ente.name,
        tz: cassa_core::italy::time_zone(),
    };
    let lines = Lines {
        ctx,
        ente_id: ente.id,
        from,
        to,
        request: &request,
        header: &header,
        names: &names,
    };
    let (path, rows) = match request.format {
        // The CSV goes straight into the ZIP entry as it is made.
        ExportFormat::Mypay => {
            let mut zip = zip::ZipWriter::new(part);
            zip.start_file(
                format!("{base}.csv"),
                zip::write::SimpleFileOptions::default(),
            )
            .map_err(failure)?;
            let rows = lines.write(&mut zip).await?;
            (
                zip.finish().map_err(failure)?.commit().map_err(failure)?,
                rows,
            )
        }
        ExportFormat::Csv => {
            let mut part = part;
            let rows = lines.write(&mut part).await?;
            (part.commit().map_err(failure)?, rows)
        }
    };
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let result = ExportResult {
        files: vec![file_name.clone()],
        file_name,
        rows,
        bytes,
    };
    Ok(serde_json::to_string(&result).expect("a result serializes"))
}

fn failure(e: impl std::fmt::Display) -> JobFailure {
    JobFailure::Failed(format!("file: {e}"))
}

/// The export's rows, read a page at a time.
struct Lines<'a> {
    ctx: &'a JobContext,
    ente_id: i64,
    from: Timestamp,
    to: Timestamp,
    request: &'a ExportRequest,
    header: &'a [&'static str],
    names: &'a Ente<'a>,
}

impl Lines<'_> {
    /// The page after `after`, read on another task so the database works
    /// on it while this one writes the page before.
    fn fetch(&self, after: Option<PaidLine>) -> JoinHandle<Result<Vec<PaidLine>, StoreError>> {
        let (store, ente_id, period) =
            (self.ctx.store().clone(), self.ente_id, (self.from, self.to));
        let with_xml = self.request.with_receipts;
        tokio::spawn(async move {
            store
                .paid_lines(ente_id, period, after.as_ref(), PAGE, with_xml)
                .await
        })
    }

    async fn write(&self, out: impl Write) -> Result<u64, JobFailure> {
        let mut csv = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
        csv.write_record(self.header).map_err(failure)?;
        let mut rows = 0u64;
        let mut next = self.fetch(None);
        loop {
            let page = next
                .await
                .map_err(|e| JobFailure::Failed(format!("the reader stopped: {e}")))??;
            let Some(last) = page.last() else { break };
            next = self.fetch(Some(last.clone()));
            // Formatting, base64 and deflate are CPU work: off the async
            // workers, which answer the node and the portal meanwhile.
            rows = tokio::task::block_in_place(|| -> Result<u64, JobFailure> {
                for line in &page {
                    rows += 1;
                    let cells = match self.request.format {
                        ExportFormat::Mypay => mypay_line(
                            rows,
                            line,
                            self.names,
                            &self.request.version,
                            self.request.with_receipts,
                        ),
                        ExportFormat::Csv => plain_line(line),
                    };
                    csv.write_record(cells.iter().map(|c| csv_cell(c)))
                        .map_err(failure)?;
                }
                Ok(rows)
            })?;
            self.ctx.progress(rows, rows).await?;
        }
        csv.flush().map_err(failure)?;
        Ok(rows)
    }
}
