//! The spontaneous payment of a tipo dovuto: the fields the ente set up,
//! who pays and how much (fixed, free or within a range), an e-mail, and
//! a proof-of-work challenge for visitors who did not log in
//! ([`super::challenge`]). Showing the form writes nothing. "Aggiungi al
//! carrello" creates the debt position and puts its notice in the cart,
//! within daily limits per client and per debtor; a debt asked for by
//! anyone but the debtor, logged in, is not listed in the debtor's
//! personal area until it is paid.

use cassa_core::debt::MAX_TEXT;
use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use cassa_core::debt::Metadata;
use cassa_core::spontaneous::{FieldProblem, FormField, fields_of, plausible_email};
use cassa_core::tipo_dovuto::AmountRule;
use cassa_core::{Cents, DebtorId};
use cassa_store::{Actor, Ente, Origin, PositionWrite, TipoDovuto};
use jiff::{SignedDuration, Timestamp};

use super::cart::put_in_cart;
use super::challenge::{MAX_NUMBER, Refused};
use super::{PageContext, internal_error, pages, render_with_status};
use crate::PortalState;
use cassa_http::RateLimit;

/// How long a spontaneous notice stays due: it is paid now, or the
/// citizen prints it and pays within the month.
const DUE_IN: SignedDuration = SignedDuration::from_hours(24 * 30);

/// One configured field with what was typed and what is wrong with it.
pub struct FieldView {
    pub field: FormField,
    pub input_type: &'static str,
    pub value: String,
    pub error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "portal/spontaneous.html")]
struct SpontaneousPage {
    page: PageContext,
    ente: Ente,
    tipo: TipoDovuto,
    fixed_amount: Option<String>,
    amount_help: String,
    fields: Vec<FieldView>,
    values: HashMap<String, String>,
    errors: HashMap<&'static str, &'static str>,
    error: Option<&'static str>,
    /// The challenge as JSON, for visitors who did not log in.
    challenge: Option<String>,
}

impl SpontaneousPage {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn error_of(&self, name: &str) -> Option<&'static str> {
        self.errors.get(name).copied()
    }
}

async fn load(
    state: &PortalState,
    fiscal_code: &str,
    code: &str,
) -> Result<Option<(Ente, TipoDovuto)>, cassa_store::StoreError> {
    let Some(ente) = state.store.ente_by_fiscal_code(fiscal_code).await? else {
        return Ok(None);
    };
    let tipo = state.store.tipo_dovuto_by_code(ente.id, code).await?;
    Ok(tipo
        .filter(|t| ente.active && t.active && t.spontaneous && t.external_url.is_none())
        .map(|t| (ente, t)))
}

fn input_type(field: &FormField) -> &'static str {
    use cassa_core::spontaneous::FieldKind;
    match field.kind {
        FieldKind::Date => "date",
        FieldKind::Email => "email",
        FieldKind::Number => "text",
        FieldKind::Text | FieldKind::FiscalCode => "text",
    }
}

fn problem_text(page: &PageContext, problem: FieldProblem) -> &'static str {
    let t = page.t;
    match problem {
        FieldProblem::Required => t.field_required,
        FieldProblem::TooLong => t.field_too_long,
        FieldProblem::NotANumber => t.field_not_a_number,
        FieldProblem::NotADate => t.field_not_a_date,
        FieldProblem::NotAFiscalCode => t.field_fiscal_code_invalid,
        FieldProblem::NotAnEmail => t.field_email_invalid,
        FieldProblem::Pattern => t.field_pattern,
    }
}

async fn show(
    state: &PortalState,
    page: PageContext,
    (ente, tipo): (Ente, TipoDovuto),
    values: HashMap<String, String>,
    errors: HashMap<&'static str, &'static str>,
    field_errors: HashMap<String, &'static str>,
    status: StatusCode,
) -> Response {
    let challenge = page.citizen.is_none().then(|| {
        let issued = super::challenge::issue(&state.sealer, MAX_NUMBER, Timestamp::now());
        serde_json::to_string(&issued).unwrap_or_default()
    });
    let fields = fields_of(&tipo.form_fields)
        .into_iter()
        .map(|field| FieldView {
            input_type: input_type(&field),
            value: values
                .get(&format!("f_{}", field.name))
                .cloned()
                .unwrap_or_default(),
            error: field_errors.get(&field.name).copied(),
            field,
        })
        .collect();
    let t = page.t;
    let (fixed_amount, amount_help) = match tipo.amount_rule {
        AmountRule::Fixed(amount) => (Some(amount.to_italian()), String::new()),
        AmountRule::Free => (None, t.amount_help_free.to_owned()),
        AmountRule::Range { min, max } => (
            None,
            t.amount_help_range
                .replace("{min}", &min.to_italian())
                .replace("{max}", &max.to_italian()),
        ),
    };
    // A page-wide refusal (a limit) says itself; field errors are listed.
    let error = errors
        .get("form")
        .copied()
        .or_else(|| (!errors.is_empty() || !field_errors.is_empty()).then_some(t.form_errors));
    let view = SpontaneousPage {
        page,
        ente,
        tipo,
        fixed_amount,
        amount_help,
        fields,
        values,
        errors,
        error,
        challenge,
    };
    render_with_status(status, &view.page, &view)
}

pub async fn form(
    State(state): State<PortalState>,
    page: PageContext,
    Path((fiscal_code, code)): Path<(String, String)>,
) -> Response {
    // A logged-in citizen pays for themselves unless they change it.
    let mut values = HashMap::new();
    if let Some(citizen) = &page.citizen
        && let Some(cf) = citizen.citizen.fiscal_code()
    {
        values.insert("debtor_fiscal_code".to_owned(), cf.to_owned());
        values.insert("debtor_name".to_owned(), citizen.full_name());
    }
    match load(&state, &fiscal_code, &code).await {
        Ok(Some(found)) => {
            show(
                &state,
                page,
                found,
                values,
                HashMap::new(),
                HashMap::new(),
                StatusCode::OK,
            )
            .await
        }
        Ok(None) => pages::not_found(page),
        Err(e) => internal_error(&page, e),
    }
}

/// The amount typed in euros (`12,50`, `12.50`, `12`), or the fixed one.
fn amount(rule: AmountRule, typed: &str) -> Option<Cents> {
    if let AmountRule::Fixed(amount) = rule {
        return Some(amount);
    }
    let typed = typed.trim().trim_end_matches('€').trim();
    Cents::parse_italian(typed)
        .or_else(|_| Cents::parse_decimal(typed))
        .ok()
}

pub async fn submit(
    State(state): State<PortalState>,
    page: PageContext,
    Path((fiscal_code, code)): Path<(String, String)>,
    request: Request,
) -> Response {
    let found = match load(&state, &fiscal_code, &code).await {
        Ok(Some(found)) => found,
        Ok(None) => return pages::not_found(page),
        Err(e) => return internal_error(&page, e),
    };
    let client = cassa_http::client_addr::Client::of(&request);
    let values: HashMap<String, String> =
        match Form::<Vec<(String, String)>>::from_request(request, &state).await {
            Ok(Form(pairs)) => pairs
                .into_iter()
                .map(|(k, v)| (k, v.trim().to_owned()))
                .collect(),
            Err(_) => HashMap::new(),
        };
    let get = |name: &str| values.get(name).map_or("", String::as_str);
    if !page.csrf.accepts(get("csrf")) {
        return super::notice::expired(&page);
    }
    let t = page.t;
    let mut errors: HashMap<&'static str, &'static str> = HashMap::new();
    let mut field_errors: HashMap<String, &'static str> = HashMap::new();

    let debtor = DebtorId::parse(&get("debtor_fiscal_code").to_uppercase())
        .ok()
        .filter(|d| !matches!(d, DebtorId::Anonymous));
    if get("debtor_fiscal_code").is_empty() {
        errors.insert("debtor_fiscal_code", t.field_required);
    } else if debtor.is_none() {
        errors.insert("debtor_fiscal_code", t.field_fiscal_code_invalid);
    }
    if get("debtor_name").is_empty() {
        errors.insert("debtor_name", t.field_required);
    } else if get("debtor_name").chars().count() > MAX_TEXT {
        errors.insert("debtor_name", t.field_too_long);
    }
    if get("email").is_empty() {
        errors.insert("email", t.field_required);
    } else if !plausible_email(get("email")) {
        errors.insert("email", t.field_email_invalid);
    }
    let (ente, tipo) = &found;
    let cents = amount(tipo.amount_rule, get("amount"));
    match cents {
        None => {
            errors.insert(
                "amount",
                if get("amount").is_empty() {
                    t.field_required
                } else {
                    t.field_amount_invalid
                },
            );
        }
        Some(cents) if tipo.amount_rule.check(cents).is_err() => {
            errors.insert("amount", t.field_amount_outside_rule);
        }
        Some(_) => {}
    }
    let fields = fields_of(&tipo.form_fields);
    for field in &fields {
        if let Err(problem) = field.check(get(&format!("f_{}", field.name))) {
            field_errors.insert(field.name.clone(), problem_text(&page, problem));
        }
    }
    // Whoever logged in as the debtor asks for their own debt; anyone
    // else (or anyone not logged in) for someone else's.
    let citizen = page.citizen.as_ref().map(|c| c.citizen.clone());
    let by_debtor = matches!(
        (&citizen, &debtor),
        (Some(c), Some(d)) if c.fiscal_code() == Some(d.as_str())
    );
    // The challenge last, and only when the rest is right.
    let mut solved = None;
    if errors.is_empty() && field_errors.is_empty() && citizen.is_none() {
        match super::challenge::check(&state.sealer, get("altcha"), Timestamp::now()) {
            Ok(ok) => solved = Some(ok),
            Err(refused) => {
                let text = match refused {
                    Refused::Missing => t.challenge_missing,
                    Refused::Expired => t.challenge_expired,
                    Refused::Forged | Refused::Wrong => t.challenge_wrong,
                };
                errors.insert("altcha", text);
            }
        }
    }
    let (Some(debtor), Some(cents), true, true) =
        (debtor, cents, errors.is_empty(), field_errors.is_empty())
    else {
        let mut values = values.clone();
        values.remove("altcha");
        return show(
            &state,
            page,
            found,
            values,
            errors,
            field_errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };

    // The solution is spent first: a request the limits refuse has
    // used up its work too.
    if let Some(solved) = &solved {
        match state
            .store
            .spend_token(&solved.token_hash, solved.expires_at)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                let mut errors = HashMap::new();
                errors.insert("altcha", t.challenge_wrong);
                let mut values = values.clone();
                values.remove("altcha");
                return show(
                    &state,
                    page,
                    found,
                    values,
                    errors,
                    field_errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
            Err(e) => return internal_error(&page, e),
        }
    }
    // Daily limits, per client and per debtor: however the work is done,
    // nobody is flooded with debts.
    // Strangers' requests for one debtor are what a flood would be: the
    // debtor's own, logged in, are not held back by them.
    let mut limits = vec![(RateLimit::SPONTANEOUS, client.limit_key())];
    if !by_debtor {
        limits.push((
            RateLimit::SPONTANEOUS_PER_DEBTOR,
            debtor.as_str().to_owned(),
        ));
    }
    for (limit, key) in &limits {
        if !limit.allow(&state.store, key).await {
            let mut errors = HashMap::new();
            errors.insert("form", t.spontaneous_too_many);
            let mut values = values.clone();
            values.remove("altcha");
            return show(
                &state,
                page,
                found,
                values,
                errors,
                field_errors,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
        }
    }
    let metadata: Vec<Metadata> = fields
        .iter()
        .filter(|f| !get(&format!("f_{}", f.name)).is_empty())
        .take(cassa_core::debt::MAX_METADATA)
        .map(|f| Metadata {
            key: f.name.clone(),
            value: get(&format!("f_{}", f.name)).to_owned(),
        })
        .collect();
    let draft = match cassa_core::debt::single_payment::draft(
        &tipo.beneficiary(ente),
        cassa_core::debt::single_payment::SinglePayment {
            origin: "SPONT",
            debtor,
            name: get("debtor_name"),
            email: Some(get("email")),
            amount: cents,
            description: "",
            due_date: Timestamp::now() + DUE_IN,
            metadata,
        },
        Timestamp::now(),
        rand::random(),
    ) {
        Some(draft) => draft,
        None => {
            return internal_error(
                &page,
                format!("tipo dovuto {} has no usable IBAN or taxonomy", tipo.code),
            );
        }
    };
    let now = Timestamp::now();
    let position = match state
        .store
        .create_position(PositionWrite {
            ente,
            tipo_dovuto_id: Some(tipo.id),
            draft: &draft,
            to_publish: true,
            origin: if by_debtor {
                Origin::Portal
            } else {
                Origin::PortalThirdParty
            },
            actor: Actor {
                name: "portal",
                request_id: None,
            },
            now,
        })
        .await
    {
        Ok(position) => position,
        Err(e) => return internal_error(&page, format!("spontaneous position: {e:?}")),
    };
    let notice = &position.options[0].notice_number;
    put_in_cart(&state, &page, ente.id, notice, Some(get("email"))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_the_italian_way_or_with_a_point() {
        assert_eq!(amount(AmountRule::Free, "12,50"), Some(Cents::new(1250)));
        assert_eq!(amount(AmountRule::Free, "12.50"), Some(Cents::new(1250)));
        assert_eq!(
            amount(AmountRule::Free, "1.234,56 €"),
            Some(Cents::new(123_456))
        );
        assert_eq!(amount(AmountRule::Free, "dodici"), None);
        assert_eq!(
            amount(AmountRule::Fixed(Cents::new(2_221)), "1"),
            Some(Cents::new(2_221)),
            "a fixed amount is the rule's, whatever was sent"
        );
    }
}
