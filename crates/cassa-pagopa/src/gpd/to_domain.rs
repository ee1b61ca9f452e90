//! From a GPD request body to a domain draft, checking each field and
//! naming every one that is missing or wrong.

use cassa_core::debt::{
    DebtPositionDraft, Debtor, DebtorKind, Destination, Metadata, PaymentOption, RevenueStamp,
    Transfer, Violation, ViolationKind,
};
use cassa_core::taxonomy::Catalogue;
use cassa_core::{
    Cents, DebtorId, Iban, Iuv, NoticeNumber, PartitaIva, SegregationCode, TaxonomyCode,
};
use jiff::Timestamp;

use super::model::{MetadataModel, PaymentOptionRequest, PaymentPositionRequest, TransferRequest};
use crate::time::parse_datetime;

/// What the mapping needs to know of the ente the position belongs to.
#[derive(Copy, Clone, Debug)]
pub struct EnteContext<'a> {
    pub fiscal_code: &'a str,
    pub segregation_code: SegregationCode,
}

/// The longest IUPD we accept (MyPay's IUD is at most 35; GPD sets no limit).
pub const MAX_IUPD: usize = 140;

#[derive(Default)]
struct Errors(Vec<Violation>);

impl Errors {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation {
            field: field.into(),
            message: message.into(),
            kind: ViolationKind::Field,
        });
    }

    /// The value, or an error "`<what>` is required" when absent or blank.
    fn required<T>(&mut self, value: Option<T>, field: &str, what: &str) -> Option<T>
    where
        T: AsRef<str>,
    {
        match value {
            Some(v) if !v.as_ref().trim().is_empty() => Some(v),
            _ => {
                self.add(field, format!("{what} is required"));
                None
            }
        }
    }

    fn present<T>(&mut self, value: Option<T>, field: &str, what: &str) -> Option<T> {
        if value.is_none() {
            self.add(field, format!("{what} is required"));
        }
        value
    }

    fn date(&mut self, value: Option<&str>, field: &str) -> Option<Timestamp> {
        match parse_datetime(value?) {
            Ok(ts) => Some(ts),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }
}

/// Optional text: blank counts as absent.
fn text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// GPD's IUPD path pattern `[\w*\h-]+`: letters, digits, `_`, `*`, `-`, blanks.
fn valid_iupd(iupd: &str) -> bool {
    iupd.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '-' | ' ' | '\t'))
}

fn metadata(errors: &mut Errors, list: Option<Vec<MetadataModel>>, field: &str) -> Vec<Metadata> {
    list.unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let key = errors.present(m.key, &format!("{field}[{i}].key"), "key");
            let value = errors.present(m.value, &format!("{field}[{i}].value"), "value");
            Some(Metadata {
                key: key?,
                value: value?,
            })
        })
        .collect()
}

fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace())
        && !domain.contains('@')
}

/// Maps a create/update body to a draft for the ente in `ctx`.
pub fn to_draft(
    req: PaymentPositionRequest,
    ctx: EnteContext<'_>,
) -> Result<DebtPositionDraft, Vec<Violation>> {
    let mut e = Errors::default();

    let iupd = e
        .required(req.iupd, "iupd", "iupd")
        .map(|s| s.trim().to_owned());
    if let Some(iupd) = &iupd {
        if iupd.chars().count() > MAX_IUPD {
            e.add("iupd", format!("must be at most {MAX_IUPD} characters"));
        } else if !valid_iupd(iupd) {
            e.add(
                "iupd",
                "may contain only letters, digits, '_', '*', '-' and blanks",
            );
        }
    }
    let kind = match e.required(req.kind, "type", "type").as_deref() {
        Some("F") => Some(DebtorKind::Person),
        Some("G") => Some(DebtorKind::LegalEntity),
        Some(other) => {
            e.add(
                "type",
                format!("{other:?} is not F (person) or G (legal entity)"),
            );
            None
        }
        None => None,
    };
    let debtor_id = e
        .required(req.fiscal_code, "fiscalCode", "fiscal code")
        .and_then(|cf| match DebtorId::parse(&cf) {
            Ok(id) => Some(id),
            Err(err) => {
                e.add(
                    "fiscalCode",
                    format!("{cf:?} is not a valid codice fiscale, partita IVA or ANONIMO: {err}"),
                );
                None
            }
        });
    let full_name = e.required(req.full_name, "fullName", "full name");
    let switch_to_expired = e.present(
        req.switch_to_expired,
        "switchToExpired",
        "switch to expired value",
    );
    let company_name = e.required(req.company_name, "companyName", "company name");
    let country = text(req.country);
    if let Some(c) = &country
        && !(c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        e.add(
            "country",
            "The country must be reported with two capital letters (example: IT)",
        );
    }
    let email = text(req.email);
    if let Some(mail) = &email
        && !looks_like_email(mail)
    {
        e.add("email", "Please provide a valid email address");
    }
    let validity_date = e.date(req.validity_date.as_deref(), "validityDate");

    let options: Vec<Option<PaymentOption>> = req
        .payment_option
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, o)| option(&mut e, o, &format!("paymentOption[{i}]"), ctx))
        .collect();

    if !e.0.is_empty() {
        return Err(e.0);
    }
    match (
        iupd,
        kind,
        debtor_id,
        full_name,
        switch_to_expired,
        company_name,
    ) {
        (
            Some(iupd),
            Some(kind),
            Some(id),
            Some(full_name),
            Some(switch_to_expired),
            Some(company_name),
        ) => Ok(DebtPositionDraft {
            iupd,
            debtor: Debtor {
                kind,
                id,
                full_name,
                street_name: text(req.street_name),
                civic_number: text(req.civic_number),
                postal_code: text(req.postal_code),
                city: text(req.city),
                province: text(req.province),
                region: text(req.region),
                country,
                email,
                phone: text(req.phone),
            },
            company_name,
            office_name: text(req.office_name),
            validity_date,
            switch_to_expired,
            pay_stand_in: req.pay_stand_in.unwrap_or(true),
            options: options.into_iter().flatten().collect(),
        }),
        _ => unreachable!("every missing field was reported"),
    }
}

fn option(
    e: &mut Errors,
    o: PaymentOptionRequest,
    at: &str,
    ctx: EnteContext<'_>,
) -> Option<PaymentOption> {
    let field = |name: &str| format!("{at}.{name}");
    let mut iuv =
        text(o.iuv).and_then(
            |iuv| match Iuv::parse_for_ente(&iuv, ctx.segregation_code) {
                Ok(iuv) => Some(iuv),
                Err(err) => {
                    e.add(field("iuv"), format!("{iuv:?}: {err}"));
                    None
                }
            },
        );
    if let Some(nav) = text(o.nav) {
        match NoticeNumber::parse(&nav) {
            Ok(parsed) if parsed.notice.aux_digit() == 3 => {
                let from_nav = parsed.notice.iuv();
                match &iuv {
                    Some(iuv) if *iuv != from_nav => {
                        e.add(
                            field("nav"),
                            format!("the notice number {nav} does not carry the IUV {iuv}"),
                        );
                    }
                    Some(_) => {}
                    None => match Iuv::parse_for_ente(from_nav.as_str(), ctx.segregation_code) {
                        Ok(valid) => iuv = Some(valid),
                        Err(err) => e.add(field("nav"), format!("{nav:?}: {err}")),
                    },
                }
            }
            Ok(_) => e.add(
                field("nav"),
                format!("{nav:?}: notice numbers of this ente start with aux digit 3"),
            ),
            Err(err) => e.add(field("nav"), format!("{nav:?}: {err}")),
        }
    }
    let amount = e.present(o.amount, &field("amount"), "amount");
    let description = e.required(
        o.description,
        &field("description"),
        "payment option description",
    );
    let is_partial_payment = e.present(
        o.is_partial_payment,
        &field("isPartialPayment"),
        "is partial payment",
    );
    let due_date = match o.due_date {
        Some(d) => e.date(Some(&d), &field("dueDate")),
        None => {
            e.add(field("dueDate"), "due date is required");
            None
        }
    };
    let retention_date = e.date(o.retention_date.as_deref(), &field("retentionDate"));
    let valid_from = e.date(o.valid_from.as_deref(), &field("validFrom"));
    let metadata = metadata(
        e,
        o.payment_option_metadata,
        &field("paymentOptionMetadata"),
    );
    let transfers: Vec<Option<Transfer>> = o
        .transfer
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(j, t)| transfer(e, t, &format!("{at}.transfer[{j}]"), ctx))
        .collect();
    Some(PaymentOption {
        iuv,
        amount: Cents::new(amount?),
        description: description?,
        is_partial_payment: is_partial_payment?,
        due_date: due_date?,
        retention_date,
        valid_from,
        fee: Cents::new(o.fee.unwrap_or(0)),
        transfers: transfers.into_iter().collect::<Option<Vec<_>>>()?,
        metadata,
    })
}

fn iban(e: &mut Errors, value: &str, field: String, postal: bool) -> Option<Iban> {
    match Iban::parse(value) {
        Ok(iban) if postal && !iban.is_postal() => {
            e.add(
                field,
                format!("{value:?} is not a Poste Italiane postal account (ABI 07601)"),
            );
            None
        }
        Ok(iban) => Some(iban),
        Err(err) => {
            e.add(field, format!("{value:?} is not a valid IBAN: {err}"));
            None
        }
    }
}

fn transfer(
    e: &mut Errors,
    t: TransferRequest,
    at: &str,
    ctx: EnteContext<'_>,
) -> Option<Transfer> {
    let field = |name: &str| format!("{at}.{name}");
    let id = e
        .required(t.id_transfer, &field("idTransfer"), "id transfer")
        .and_then(|id| match id.trim().parse::<u8>() {
            Ok(n @ 1..=5) => Some(n),
            _ => {
                e.add(
                    field("idTransfer"),
                    format!("{id:?} is not one of 1, 2, 3, 4, 5"),
                );
                None
            }
        });
    let amount = e.present(t.amount, &field("amount"), "amount");
    let remittance = e.required(
        t.remittance_information,
        &field("remittanceInformation"),
        "remittance information",
    );
    let category = e
        .required(t.category, &field("category"), "category")
        .and_then(|c| match TaxonomyCode::parse(&c) {
            Ok(code) if Catalogue::official().get(&code).is_some() => Some(code),
            Ok(_) => {
                e.add(
                    field("category"),
                    format!("{c:?} is not in the official pagoPA taxonomy catalogue"),
                );
                None
            }
            Err(err) => {
                e.add(
                    field("category"),
                    format!("{c:?} is not a taxonomy code: {err}"),
                );
                None
            }
        });
    let organization = match text(t.organization_fiscal_code) {
        None => PartitaIva::parse(ctx.fiscal_code).ok(),
        Some(cf) => match PartitaIva::parse(&cf) {
            Ok(p) => Some(p),
            Err(err) => {
                e.add(
                    field("organizationFiscalCode"),
                    format!("{cf:?} is not an ente's codice fiscale: {err}"),
                );
                None
            }
        },
    };
    let stamp = t.stamp.filter(|s| {
        [&s.hash_document, &s.stamp_type, &s.provincial_residence]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| !v.is_empty()))
    });
    let iban_text = text(t.iban);
    let postal_text = text(t.postal_iban);
    let destination = match (iban_text, postal_text, stamp) {
        (Some(i), postal, None) => {
            let main = iban(e, &i, field("iban"), false);
            let postal = postal.map(|p| iban(e, &p, field("postalIban"), true));
            match (main, postal) {
                (Some(iban), None) => Some(Destination::Account {
                    iban,
                    postal_iban: None,
                }),
                (Some(iban), Some(Some(p))) => Some(Destination::Account {
                    iban,
                    postal_iban: Some(p),
                }),
                _ => None,
            }
        }
        (None, None, Some(s)) => stamp_of(e, s, at),
        (None, None, None) => {
            e.add(field("iban"), "a transfer needs an IBAN or a revenue stamp");
            None
        }
        _ => {
            e.add(
                field("iban"),
                "The Iban may be present (optionally combined with the Postal Iban) or the Stamp. Not all at the same time",
            );
            None
        }
    };
    let company_name = text(t.company_name);
    let metadata = metadata(e, t.transfer_metadata, &field("transferMetadata"));
    Some(Transfer {
        id: id?,
        amount: Cents::new(amount?),
        organization_fiscal_code: organization?,
        company_name,
        remittance_information: remittance?,
        category: category?,
        destination: destination?,
        metadata,
    })
}

fn stamp_of(e: &mut Errors, s: super::model::StampModel, at: &str) -> Option<Destination> {
    let field = |name: &str| format!("{at}.stamp.{name}");
    let hash = e.required(s.hash_document, &field("hashDocument"), "hash document");
    let kind = e.required(s.stamp_type, &field("stampType"), "stamp type");
    let province = e.required(
        s.provincial_residence,
        &field("provincialResidence"),
        "provincial residence",
    );
    if let Some(h) = &hash
        && h.len() > 72
    {
        e.add(
            field("hashDocument"),
            "must be at most 72 characters (base64 of a SHA-256)",
        );
    }
    if let Some(k) = &kind
        && k.chars().count() != 2
    {
        e.add(field("stampType"), "must be 2 characters");
    }
    if let Some(p) = &province
        && !(p.len() == 2 && p.bytes().all(|b| b.is_ascii_uppercase()))
    {
        e.add(
            field("provincialResidence"),
            "must be a province code of two capital letters (example: RM)",
        );
    }
    Some(Destination::Stamp(RevenueStamp {
        hash_document: hash?,
        stamp_type: kind?,
        provincial_residence: province?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpd::model::parse_body;

    fn ctx() -> EnteContext<'static> {
        EnteContext {
            fiscal_code: "01199250158",
            segregation_code: SegregationCode::new(2).unwrap(),
        }
    }

    fn body() -> serde_json::Value {
        serde_json::json!({
            "iupd": "IUPD-1", "type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi",
            "switchToExpired": false, "companyName": "Comune di Milano", "country": "IT",
            "paymentOption": [{
                "iuv": "02000000000000184", "amount": 12050, "description": "TARI 2026",
                "isPartialPayment": false, "dueDate": "2030-12-31T23:59:59",
                "transfer": [
                    {"idTransfer": "1", "amount": 10000, "remittanceInformation": "TARI", "category": "9/0101101IM/",
                     "iban": "IT60X0542811101000000123456"},
                    {"idTransfer": "2", "amount": 2050, "remittanceInformation": "TEFA", "category": "9/0201102IM/",
                     "organizationFiscalCode": "80050050154",
                     "stamp": {"hashDocument": "wHpFSLCGZjIvNSXxqtGbxg7275t446DRTk5ZrsdUQ6E=", "stampType": "01", "provincialResidence": "MI"}}
                ]
            }]
        })
    }

    fn map(v: serde_json::Value) -> Result<DebtPositionDraft, Vec<Violation>> {
        to_draft(parse_body(v.to_string().as_bytes()).unwrap(), ctx())
    }

    fn fields(r: Result<DebtPositionDraft, Vec<Violation>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn maps_a_complete_body() {
        let d = map(body()).unwrap();
        assert_eq!(d.iupd, "IUPD-1");
        assert_eq!(d.debtor.kind, DebtorKind::Person);
        assert!(d.pay_stand_in);
        let o = &d.options[0];
        assert_eq!(o.iuv.as_ref().unwrap().as_str(), "02000000000000184");
        assert_eq!(
            o.due_date,
            "2030-12-31T23:59:59Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            o.transfers[0].organization_fiscal_code.as_str(),
            "01199250158"
        );
        assert!(matches!(o.transfers[1].destination, Destination::Stamp(_)));
    }

    #[test]
    fn an_absent_iuv_is_left_to_cassa_and_a_nav_gives_it() {
        let mut b = body();
        b["paymentOption"][0].as_object_mut().unwrap().remove("iuv");
        assert_eq!(map(b.clone()).unwrap().options[0].iuv, None);
        b["paymentOption"][0]["nav"] = "302000000000000184".into();
        assert_eq!(
            map(b).unwrap().options[0].iuv.as_ref().unwrap().as_str(),
            "02000000000000184"
        );
    }

    #[test]
    fn names_every_missing_field() {
        let got = fields(map(
            serde_json::json!({ "paymentOption": [{ "transfer": [{}] }] }),
        ));
        assert_eq!(
            got,
            [
                "iupd",
                "type",
                "fiscalCode",
                "fullName",
                "switchToExpired",
                "companyName",
                "paymentOption[0].amount",
                "paymentOption[0].description",
                "paymentOption[0].isPartialPayment",
                "paymentOption[0].dueDate",
                "paymentOption[0].transfer[0].idTransfer",
                "paymentOption[0].transfer[0].amount",
                "paymentOption[0].transfer[0].remittanceInformation",
                "paymentOption[0].transfer[0].category",
                "paymentOption[0].transfer[0].iban",
            ]
        );
    }

    #[test]
    fn explains_wrong_values() {
        let mut b = body();
        b["fiscalCode"] = "RSSMRA85T10A562X".into();
        b["type"] = "X".into();
        b["country"] = "it".into();
        b["email"] = "not-an-email".into();
        b["paymentOption"][0]["iuv"] = "01000000000000184".into();
        b["paymentOption"][0]["transfer"][0]["iban"] = "IT60X0542811101000000123457".into();
        b["paymentOption"][0]["transfer"][0]["category"] = "9/0101101XX/".into();
        b["paymentOption"][0]["transfer"][0]["postalIban"] = "IT60X0542811101000000123456".into();
        b["paymentOption"][0]["transfer"][1]["idTransfer"] = "7".into();
        b["paymentOption"][0]["transfer"][1]["iban"] = "IT60X0542811101000000123456".into();
        let errors = map(b).unwrap_err();
        let text: Vec<String> = errors
            .iter()
            .map(|v| format!("{}: {}", v.field, v.message))
            .collect();
        let all = text.join("\n");
        for expected in [
            "type: \"X\" is not F (person) or G (legal entity)",
            "fiscalCode: \"RSSMRA85T10A562X\" is not a valid codice fiscale",
            "country: The country must be reported",
            "email: Please provide a valid email address",
            "paymentOption[0].iuv: \"01000000000000184\": the segregation code 01 is not this ente's (02)",
            "paymentOption[0].transfer[0].category: \"9/0101101XX/\" is not a taxonomy code",
            "paymentOption[0].transfer[0].iban: \"IT60X0542811101000000123457\" is not a valid IBAN",
            "paymentOption[0].transfer[0].postalIban: \"IT60X0542811101000000123456\" is not a Poste Italiane postal account",
            "paymentOption[0].transfer[1].idTransfer: \"7\" is not one of 1, 2, 3, 4, 5",
            "paymentOption[0].transfer[1].iban: The Iban may be present",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in\n{all}");
        }
    }

    #[test]
    fn refuses_iupds_gpd_could_not_address() {
        let mut b = body();
        b["iupd"] = "a/b".into();
        assert_eq!(fields(map(b)), ["iupd"]);
    }
}
