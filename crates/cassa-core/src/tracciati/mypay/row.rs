//! One data row of a MyPay file, read into typed values or into every
//! broken rule, each naming its column.

use jiff::civil::Date;

use super::Version;
use crate::money::Cents;
use crate::taxonomy::TaxonomyCode;
use crate::tracciati::cells::{
    Action, FieldError, Payer, PayerColumns, Reader, Secondary, SecondaryColumns,
};

const PAYER_COLUMNS: PayerColumns = PayerColumns::italian("emailPagatore");

const SECONDARY_COLUMNS: SecondaryColumns = SecondaryColumns {
    fiscal_code: "codiceFiscaleEnteSecondario",
    name: "denominazioneEnteSecondario",
    iban: "ibanAccreditoEnteSecondario",
    taxonomy: "datiSpecificiRiscossioneEnteSecondario",
    remittance: "causaleVersamentoEnteSecondario",
    amount: "importoVersamentoEnteSecondario",
};

/// One row, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub iud: String,
    /// Empty: cassa generates it.
    pub iuv: Option<String>,
    pub payer: Payer,
    pub due_date: Date,
    pub amount: Cents,
    pub fee: Option<Cents>,
    pub tipo_dovuto: String,
    pub tipo_versamento: Option<String>,
    pub remittance: String,
    pub taxonomy: TaxonomyCode,
    pub bilancio: Option<String>,
    pub generate_iuv: bool,
    pub secondary: Option<Secondary>,
    pub action: Action,
}

/// Reads one data row of `version`. All broken rules are reported at once.
pub fn read_row(version: Version, fields: &[&str]) -> Result<Row, Vec<FieldError>> {
    let columns = version.columns();
    let mut r = Reader::new(&columns, fields);
    if fields.len() != columns.len() {
        return Err(vec![FieldError {
            column: "riga",
            code: "COLONNE",
            reason: format!(
                "la riga ha {} colonne, l'intestazione {}",
                fields.len(),
                columns.len()
            ),
        }]);
    }
    let iud = r.text("IUD", 35, true);
    let iuv = r.digits("codIuv", 35);
    let payer = r.payer(&PAYER_COLUMNS);
    let due_date = r.date("dataScadenzaPagamento", true);
    let amount = r.amount("importoDovuto", true);
    let fee = r.fee("commissioneCaricoPa");
    let tipo_dovuto = r.text("tipoDovuto", 64, true);
    let tipo_versamento = r.text("tipoVersamento", 32, false);
    let remittance = r.text("causaleVersamento", 1024, true);
    let taxonomy = r.taxonomy("datiSpecificiRiscossione", true);
    let bilancio = if version >= Version::V1_2 {
        r.text("bilancio", 4096, false)
    } else {
        None
    };
    // Without an IUV cassa generates one, flag or not (as MyPay does for
    // enti that let the platform number their notices).
    let generate_iuv = version >= Version::V1_3 && r.flag("flagGeneraIuv");
    let secondary = if version >= Version::V1_4 && r.flag("flagMultiBeneficiario") {
        r.secondary(&SECONDARY_COLUMNS, amount)
    } else {
        None
    };
    let action = r.action("azione");
    match (
        iud,
        payer,
        due_date,
        amount,
        tipo_dovuto,
        remittance,
        taxonomy,
        action,
    ) {
        (
            Some(iud),
            Some(payer),
            Some(due_date),
            Some(amount),
            Some(tipo_dovuto),
            Some(remittance),
            Some(taxonomy),
            Some(action),
        ) if r.errors.is_empty() => Ok(Row {
            iud,
            iuv,
            payer,
            due_date,
            amount,
            fee,
            tipo_dovuto,
            tipo_versamento,
            remittance,
            taxonomy,
            bilancio,
            generate_iuv,
            secondary,
            action,
        }),
        _ => Err(r.errors),
    }
}
