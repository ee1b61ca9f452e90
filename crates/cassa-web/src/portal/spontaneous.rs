//! The spontaneous payment of a tipo dovuto: the fields the ente set up,
//! who pays and how much (fixed, free or within a range), an e-mail, and
//! our own captcha. "Aggiungi al carrello" creates the debt position
//! (origin: portal) and puts its notice in the cart.

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
use rand::Rng;

use super::cart::put_in_cart;
use super::{PageContext, internal_error, pages, render_with_status};
use crate::AppState;

/// How long a spontaneous notice stays due: it is paid now, or the
/// citizen prints it and pays within the month.
const DUE_IN: SignedDuration = SignedDuration::from_hours(24 * 30);
const CAPTCHA_LIFETIME: SignedDuration = SignedDuration::from_mins(20);

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
    captcha_question: String,
    captcha_token: String,
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
    state: &AppState,
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

/// A new captcha: a sum of two small numbers, asked in words.
async fn new_captcha(
    state: &AppState,
    page: &PageContext,
) -> Result<(String, String), cassa_store::StoreError> {
    let (a, b) = {
        let mut rng = rand::rng();
        (rng.random_range(1..=9u8), rng.random_range(1..=9u8))
    };
    let token = crate::token::random_hex(16);
    let now = Timestamp::now();
    state
        .store
        .create_captcha(&token, &(a + b).to_string(), now + CAPTCHA_LIFETIME, now)
        .await?;
    let question = page
        .t
        .captcha_question
        .replace("{a}", &a.to_string())
        .replace("{b}", &b.to_string());
    Ok((question, token))
}

async fn show(
    state: &AppState,
    page: PageContext,
    (ente, tipo): (Ente, TipoDovuto),
    values: HashMap<String, String>,
    errors: HashMap<&'static str, &'static str>,
    field_errors: HashMap<String, &'static str>,
    status: StatusCode,
) -> Response {
    let (captcha_question, captcha_token) = match new_captcha(state, &page).await {
        Ok(captcha) => captcha,
        Err(e) => return internal_error(&page, e),
    };
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
    let error = (!errors.is_empty() || !field_errors.is_empty()).then_some(t.form_errors);
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
        captcha_question,
        captcha_token,
    };
    render_with_status(status, &view.page, &view)
}

pub async fn form(
    State(state): State<AppState>,
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
    State(state): State<AppState>,
    page: PageContext,
    Path((fiscal_code, code)): Path<(String, String)>,
    request: Request,
) -> Response {
    let found = match load(&state, &fiscal_code, &code).await {
        Ok(Some(found)) => found,
        Ok(None) => return pages::not_found(page),
        Err(e) => return internal_error(&page, e),
    };
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
    } else if get("debtor_name").chars().count() > 140 {
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
    // The captcha last, and only when the rest is right: a challenge is
    // used up by any answer.
    if errors.is_empty() && field_errors.is_empty() {
        match state
            .store
            .answer_captcha(get("captcha_token"), get("captcha"), Timestamp::now())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                errors.insert("captcha", t.captcha_wrong);
            }
            Err(e) => return internal_error(&page, e),
        }
    }
    let (Some(debtor), Some(cents), true, true) =
        (debtor, cents, errors.is_empty(), field_errors.is_empty())
    else {
        let mut values = values.clone();
        values.remove("captcha");
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

    let metadata: Vec<Metadata> = fields
        .iter()
        .filter(|f| !get(&format!("f_{}", f.name)).is_empty())
        .take(cassa_core::debt::MAX_METADATA)
        .map(|f| Metadata {
            key: f.name.clone(),
            value: get(&format!("f_{}", f.name)).to_owned(),
        })
        .collect();
    let draft = match crate::single_payment::draft(
        ente,
        tipo,
        crate::single_payment::SinglePayment {
            origin: "SPONT",
            debtor,
            name: get("debtor_name"),
            email: Some(get("email")),
            amount: cents,
            description: "",
            due_date: Timestamp::now() + DUE_IN,
            metadata,
        },
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
            origin: Origin::Portal,
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
