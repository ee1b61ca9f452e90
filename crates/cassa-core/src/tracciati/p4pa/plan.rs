//! The debt position the rows of one IUPD describe. Each row is a payment
//! option of cassa's (GPD's) model: a single payment, or an installment of
//! the position's one plan (`isPartialPayment`). Paying either way settles
//! the position.

use std::collections::BTreeMap;

use super::{Header, Row};
use crate::debt::{DebtPositionDraft, Metadata, PaymentOption};
use crate::money::Cents;
use crate::taxonomy::TaxonomyCode;
use crate::tracciati::cells::{Action, FieldError};
use crate::tracciati::creditor::{Creditor, debtor_of, transfers_of};

/// P4PA's kinds of payment option.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OptionType {
    SingleInstallment,
    Installments,
    /// An installment plan whose first installment is a down payment.
    DownPayment,
    /// A single payment reduced for paying early (fines).
    ReducedSingleInstallment,
}

impl OptionType {
    pub fn parse(text: &str) -> Option<OptionType> {
        Some(match text.trim().to_ascii_uppercase().as_str() {
            "SINGLE_INSTALLMENT" => OptionType::SingleInstallment,
            "INSTALLMENTS" => OptionType::Installments,
            "DOWN_PAYMENT" => OptionType::DownPayment,
            "REDUCED_SINGLE_INSTALLMENT" => OptionType::ReducedSingleInstallment,
            _ => return None,
        })
    }

    fn is_single(self) -> bool {
        matches!(
            self,
            OptionType::SingleInstallment | OptionType::ReducedSingleInstallment
        )
    }
}

/// A position read from its rows.
#[derive(Clone, Debug)]
pub struct Position {
    pub draft: DebtPositionDraft,
    /// The IUD of each of the draft's options, in order.
    pub iuds: Vec<String>,
    pub action: Action,
    /// Stored unpublished.
    pub draft_only: bool,
}

/// Why the rows of a position do not make one: the row (its index among
/// the position's rows) and the broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    pub row: usize,
    pub error: FieldError,
}

fn refuse(header: &Header, row: usize, column: &'static str, reason: String) -> PlanError {
    PlanError {
        row,
        error: FieldError {
            column: header.name_in_file(column),
            code: "POSIZIONE",
            reason,
        },
    }
}

/// Builds the position of `rows` (all of one IUPD, in file order). The
/// rows must agree on what applies to the whole position; each option
/// index names one option: a single payment has one row, a plan two or
/// more (a down payment plan may have one). One plan per position, as in
/// pagoPA's GPD.
pub fn position_of(
    header: &Header,
    rows: &[Row],
    creditor: &Creditor,
    default_taxonomy: TaxonomyCode,
) -> Result<Position, PlanError> {
    let first = rows.first().expect("a position has rows");
    for (i, row) in rows.iter().enumerate().skip(1) {
        let differs = if row.action != first.action {
            Some("azione")
        } else if row.tipo_dovuto != first.tipo_dovuto {
            Some("tipoDovuto")
        } else if row.payer.id != first.payer.id {
            Some("codiceIdentificativoUnivoco")
        } else if row.draft != first.draft {
            Some("draft")
        } else {
            None
        };
        if let Some(column) = differs {
            return Err(refuse(
                header,
                i,
                column,
                format!(
                    "diverso dalla prima riga della posizione {}: le righe di una \
                     posizione devono concordare",
                    first.iupd
                ),
            ));
        }
    }
    let mut options: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        options.entry(row.option_index).or_default().push(i);
    }
    let mut singles = Vec::new();
    let mut plan: Option<Vec<usize>> = None;
    for (index, members) in &options {
        let kind = rows[members[0]].option_type;
        if let Some(&other) = members.iter().find(|&&i| rows[i].option_type != kind) {
            return Err(refuse(
                header,
                other,
                "tipoOpzionePagamento",
                format!("l'opzione {index} ha righe di tipo diverso"),
            ));
        }
        let is_plan = match kind {
            _ if kind.is_single() && members.len() > 1 => {
                return Err(refuse(
                    header,
                    members[1],
                    "indiceOpzionePagamento",
                    format!("l'opzione {index} è in unica soluzione: deve avere una sola riga"),
                ));
            }
            OptionType::Installments if members.len() < 2 => {
                return Err(refuse(
                    header,
                    members[0],
                    "tipoOpzionePagamento",
                    format!("l'opzione {index} è a rate e ne ha una sola"),
                ));
            }
            _ => members.len() > 1,
        };
        if !is_plan {
            singles.push(members[0]);
        } else if plan.is_some() {
            return Err(refuse(
                header,
                members[0],
                "indiceOpzionePagamento",
                "una posizione ha al più un piano di rate".into(),
            ));
        } else {
            let mut members = members.clone();
            members.sort_by_key(|&i| rows[i].due_date);
            if let Some(pair) = members
                .windows(2)
                .find(|w| rows[w[0]].due_date == rows[w[1]].due_date)
            {
                return Err(refuse(
                    header,
                    pair[1],
                    "dataEsecuzionePagamento",
                    "due rate dello stesso piano scadono lo stesso giorno".into(),
                ));
            }
            plan = Some(members);
        }
    }
    let plan = plan.unwrap_or_default();
    // The single payments' dataValidita is the position's; installments may
    // have later ones: each is then that installment's window (Caso 1).
    if let Some(&other) = singles
        .iter()
        .find(|&&i| rows[i].validity != rows[singles[0]].validity)
    {
        return Err(refuse(
            header,
            other,
            "dataValidita",
            "i pagamenti in unica soluzione di una posizione devono avere la stessa data".into(),
        ));
    }
    let validity = match singles.first() {
        Some(&i) => rows[i].validity,
        // Plan only: valid from its first window (no date: at once).
        None => plan.iter().map(|&i| rows[i].validity).min().flatten(),
    };
    let start_of = |row: usize, day| {
        crate::italy::start_of(day).ok_or_else(|| {
            refuse(
                header,
                row,
                "dataValidita",
                "data fuori dall'intervallo ammesso".into(),
            )
        })
    };
    let mut draft_options = Vec::with_capacity(rows.len());
    let mut iuds = Vec::with_capacity(rows.len());
    for (i, partial) in singles
        .iter()
        .map(|&i| (i, false))
        .chain(plan.iter().map(|&i| (i, true)))
    {
        let valid_from = match rows[i].validity {
            Some(day) if partial && Some(day) > validity => Some(start_of(i, day)?),
            _ => None,
        };
        draft_options.push(
            option_of(
                header,
                &rows[i],
                partial,
                valid_from,
                creditor,
                default_taxonomy,
            )
            .map_err(|error| PlanError { row: i, error })?,
        );
        iuds.push(rows[i].iud.clone());
    }
    let validity_date = validity.map(|day| start_of(0, day)).transpose()?;
    Ok(Position {
        draft: DebtPositionDraft {
            iupd: first.iupd.clone(),
            debtor: debtor_of(&first.payer),
            company_name: creditor.company_name.clone(),
            office_name: creditor.office_name.clone(),
            validity_date,
            switch_to_expired: false,
            pay_stand_in: true,
            options: draft_options,
        },
        iuds,
        action: first.action,
        draft_only: first.draft,
    })
}

fn option_of(
    header: &Header,
    row: &Row,
    is_partial_payment: bool,
    valid_from: Option<jiff::Timestamp>,
    creditor: &Creditor,
    default_taxonomy: TaxonomyCode,
) -> Result<PaymentOption, FieldError> {
    let iuv = match &row.iuv {
        Some(text) => Some(
            crate::notice::Iuv::parse_for_ente(text, creditor.segregation).map_err(|e| {
                FieldError {
                    column: header.name_in_file("codIUV"),
                    code: "FORMATO",
                    reason: format!("IUV non valido per l'ente: {e}"),
                }
            })?,
        ),
        None => None,
    };
    let due_date = crate::italy::last_second_of(row.due_date).ok_or_else(|| FieldError {
        column: header.name_in_file("dataEsecuzionePagamento"),
        code: "FORMATO",
        reason: "data fuori dall'intervallo ammesso".into(),
    })?;
    let mut metadata = vec![
        Metadata {
            key: "IUD".into(),
            value: row.iud.clone(),
        },
        Metadata {
            key: "descrizionePosizioneDebitoria".into(),
            value: row.description.clone(),
        },
    ];
    if let Some(text) = &row.option_description {
        metadata.push(Metadata {
            key: "descrizioneOpzionePagamento".into(),
            value: text.clone(),
        });
    }
    if let Some(bilancio) = &row.bilancio {
        metadata.push(Metadata {
            key: "bilancio".into(),
            value: crate::text::cut(bilancio, crate::debt::MAX_TEXT),
        });
    }
    Ok(PaymentOption {
        iuv,
        amount: row.amount,
        description: row.remittance.clone(),
        is_partial_payment,
        due_date,
        retention_date: None,
        valid_from,
        fee: Cents::ZERO,
        transfers: transfers_of(
            row.amount,
            &row.remittance,
            row.taxonomy.unwrap_or(default_taxonomy),
            creditor,
            &row.others,
        ),
        metadata,
    })
}
