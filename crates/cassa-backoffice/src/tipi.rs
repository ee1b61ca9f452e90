//! Tipi dovuto (ente admins): the kinds of payment an ente collects, with
//! the official taxonomy picked from the catalogue, the accounts (IBAN and
//! postal IBAN, checked), the amount rule, the spontaneous-payment form
//! (a form builder without JavaScript: one row per field, plus an empty
//! row to add one), tags for the portal's search, an external URL,
//! accounting fields and the active switch. The portal reads them afresh.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use cassa_core::access::Action;
use cassa_core::debt::InstallmentMode;
use cassa_core::spontaneous::{FieldKind, FormField, check_pattern, fields_of};
use cassa_core::taxonomy::Catalogue;
use cassa_core::tipo_dovuto::AmountRule;
use cassa_core::{Cents, Iban, TaxonomyCode, italy};
use cassa_store::{NewTipoDovuto, TipoDovuto, TipoDovutoError};
use jiff::Timestamp;

use super::scope::EnteScope;
use super::{Office, forbidden, internal_error, not_found, render, render_with_status};
use crate::BackofficeState;

/// The catalogue as a picker: groups "ente type › macro-area", each with
/// its services (code, "service (legal reason)").
pub struct TaxonomyGroup {
    pub label: String,
    pub options: Vec<(String, String)>,
}

fn taxonomy_groups() -> Vec<TaxonomyGroup> {
    let today = italy::date_of(Timestamp::now());
    let mut groups: Vec<TaxonomyGroup> = Vec::new();
    for entry in Catalogue::official()
        .entries()
        .filter(|e| e.is_valid_on(today))
    {
        let label = format!("{} › {}", entry.ente_type_name, entry.macro_area_name);
        let option = (
            entry.code.to_string(),
            format!(
                "{} ({}) – {}",
                entry.service_name,
                entry.code.legal_reason().code(),
                entry.code
            ),
        );
        match groups.last_mut() {
            Some(group) if group.label == label => group.options.push(option),
            _ => groups.push(TaxonomyGroup {
                label,
                options: vec![option],
            }),
        }
    }
    groups
}

#[derive(Template)]
#[template(path = "backoffice/tipi.html")]
struct ListPage {
    office: Office,
    ente_name: String,
    fiscal_code: String,
    tipi: Vec<TipoDovuto>,
    message: Option<&'static str>,
}

fn may_configure(office: &Office, scope: &EnteScope) -> bool {
    scope.can(office, None, Action::ConfigureEnte)
}

/// `GET /backoffice/enti/{cf}/tipi`
pub async fn list(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    if !may_configure(&office, &scope) {
        return forbidden(&office);
    }
    let tipi = match state.store.tipi_dovuto(scope.ente.id).await {
        Ok(tipi) => tipi,
        Err(e) => return internal_error(&office, e),
    };
    let message = q.get("esito").map(|_| office.t.tipo_saved);
    render(&ListPage {
        ente_name: scope.ente.name.clone(),
        fiscal_code: scope.ente.fiscal_code.clone(),
        tipi,
        message,
        office,
    })
}

/// One row of the form builder.
#[derive(Default, Clone)]
pub struct FieldRow {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    pub pattern: String,
    pub help: String,
    pub error: Option<String>,
}

/// The form, as typed, with its errors by field.
#[derive(Default)]
pub struct TipoForm {
    pub code: String,
    pub name: String,
    pub description: String,
    pub taxonomy: String,
    pub iban: String,
    pub postal_iban: String,
    pub rule: String,
    pub fixed: String,
    pub min: String,
    pub max: String,
    pub spontaneous: bool,
    pub external_url: String,
    pub tags: String,
    pub capitolo: String,
    pub accertamento: String,
    pub ufficio: String,
    /// `together` or `in_order` (an `InstallmentMode` code).
    pub installments: String,
    pub active: bool,
    pub fields: Vec<FieldRow>,
    pub errors: HashMap<&'static str, String>,
}

impl TipoForm {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }

    fn of(tipo: &TipoDovuto) -> TipoForm {
        let (rule, fixed, min, max) = match tipo.amount_rule {
            AmountRule::Free => ("free", String::new(), String::new(), String::new()),
            AmountRule::Fixed(a) => ("fixed", a.to_decimal(), String::new(), String::new()),
            AmountRule::Range { min, max } => {
                ("range", String::new(), min.to_decimal(), max.to_decimal())
            }
        };
        TipoForm {
            code: tipo.code.clone(),
            name: tipo.name.clone(),
            description: tipo.description.clone().unwrap_or_default(),
            taxonomy: tipo.taxonomy_code.clone(),
            iban: tipo.iban.clone().unwrap_or_default(),
            postal_iban: tipo.postal_iban.clone().unwrap_or_default(),
            rule: rule.into(),
            fixed,
            min,
            max,
            spontaneous: tipo.spontaneous,
            external_url: tipo.external_url.clone().unwrap_or_default(),
            tags: tipo.tags.join(", "),
            capitolo: tipo.capitolo.clone().unwrap_or_default(),
            accertamento: tipo.accertamento.clone().unwrap_or_default(),
            ufficio: tipo.ufficio.clone().unwrap_or_default(),
            installments: tipo.installment_mode.code().to_owned(),
            active: tipo.active,
            fields: fields_of(&tipo.form_fields)
                .into_iter()
                .map(|f| FieldRow {
                    name: f.name,
                    label: f.label,
                    kind: serde_json::to_value(f.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    required: f.required,
                    pattern: f.pattern.unwrap_or_default(),
                    help: f.help.unwrap_or_default(),
                    error: None,
                })
                .collect(),
            errors: HashMap::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "backoffice/tipo.html")]
struct EditPage {
    office: Office,
    ente_name: String,
    fiscal_code: String,
    /// None: a new one.
    editing: Option<String>,
    form: TipoForm,
    /// The builder's rows: the fields, then an empty one to add.
    rows: Vec<FieldRow>,
    groups: Vec<TaxonomyGroup>,
    kinds: Vec<(&'static str, &'static str)>,
    rules: Vec<(&'static str, &'static str)>,
    error: Option<&'static str>,
}

fn edit_page(
    office: Office,
    scope: &EnteScope,
    editing: Option<String>,
    form: TipoForm,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let mut rows = form.fields.clone();
    rows.push(FieldRow::default());
    let t = office.t;
    let view = EditPage {
        ente_name: scope.ente.name.clone(),
        fiscal_code: scope.ente.fiscal_code.clone(),
        editing,
        rows,
        form,
        groups: taxonomy_groups(),
        kinds: vec![
            ("text", t.kind_text),
            ("number", t.kind_number),
            ("date", t.kind_date),
            ("fiscal_code", t.kind_fiscal_code),
            ("email", t.kind_email),
        ],
        rules: vec![
            ("free", t.rule_free),
            ("fixed", t.rule_fixed),
            ("range", t.rule_range),
        ],
        error,
        office,
    };
    render_with_status(status, &view)
}

/// `GET /backoffice/enti/{cf}/tipi/nuovo`
pub async fn new_form(
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
) -> Response {
    if !may_configure(&office, &scope) {
        return forbidden(&office);
    }
    let form = TipoForm {
        rule: "free".into(),
        spontaneous: true,
        installments: InstallmentMode::Together.code().to_owned(),
        active: true,
        ..TipoForm::default()
    };
    edit_page(office, &scope, None, form, None, StatusCode::OK)
}

/// `GET /backoffice/enti/{cf}/tipi/{code}`
pub async fn edit_form(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Path((_, code)): Path<(String, String)>,
) -> Response {
    if !may_configure(&office, &scope) {
        return forbidden(&office);
    }
    match state.store.tipo_dovuto_by_code(scope.ente.id, &code).await {
        Ok(Some(tipo)) => {
            let form = TipoForm::of(&tipo);
            edit_page(office, &scope, Some(code), form, None, StatusCode::OK)
        }
        Ok(None) => not_found(&office),
        Err(e) => internal_error(&office, e),
    }
}

fn text(posted: &HashMap<String, String>, key: &str) -> String {
    posted
        .get(key)
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

fn optional(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

fn amount(text: &str) -> Option<Cents> {
    Cents::parse_italian(text)
        .or_else(|_| Cents::parse_decimal(text))
        .ok()
        .filter(|c| c.get() > 0)
}

/// Reads and checks the posted form: the form as typed with every error
/// beside its field, and the tipo dovuto (and its active switch) when
/// there is none.
fn read(
    office: &Office,
    posted: &HashMap<String, String>,
    new: bool,
) -> (TipoForm, Option<(NewTipoDovuto, bool)>) {
    let t = office.t;
    let mut form = TipoForm {
        code: text(posted, "code").to_uppercase(),
        name: text(posted, "name"),
        description: text(posted, "description"),
        taxonomy: text(posted, "taxonomy"),
        iban: text(posted, "iban").replace(' ', "").to_uppercase(),
        postal_iban: text(posted, "postal_iban").replace(' ', "").to_uppercase(),
        rule: text(posted, "rule"),
        fixed: text(posted, "fixed"),
        min: text(posted, "min"),
        max: text(posted, "max"),
        spontaneous: posted.contains_key("spontaneous"),
        external_url: text(posted, "external_url"),
        tags: text(posted, "tags"),
        capitolo: text(posted, "capitolo"),
        accertamento: text(posted, "accertamento"),
        ufficio: text(posted, "ufficio"),
        installments: text(posted, "installments"),
        active: new || posted.contains_key("active"),
        fields: Vec::new(),
        errors: HashMap::new(),
    };
    let mut err = |field: &'static str, why: &str| {
        form.errors.insert(field, why.to_owned());
    };
    let code_ok = (1..=64).contains(&form.code.len())
        && form
            .code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if new && !code_ok {
        err("code", t.field_code);
    }
    if form.name.is_empty() || form.name.chars().count() > 140 {
        err("name", t.field_required);
    }
    if form.description.chars().count() > 1000 {
        err("description", t.reason_too_long);
    }
    let taxonomy = TaxonomyCode::parse(&form.taxonomy)
        .ok()
        .filter(|c| Catalogue::official().get(c).is_some());
    if taxonomy.is_none() {
        err("taxonomy", t.field_taxonomy);
    }
    let iban = match form.iban.as_str() {
        "" => Ok(None),
        text => Iban::parse(text).map(Some).map_err(|e| e.to_string()),
    };
    if let Err(why) = &iban {
        err("iban", why);
    }
    let postal_iban = match form.postal_iban.as_str() {
        "" => Ok(None),
        text => match Iban::parse(text) {
            Ok(i) if i.is_postal() => Ok(Some(i)),
            Ok(_) => Err(t.field_not_postal.to_owned()),
            Err(e) => Err(e.to_string()),
        },
    };
    if let Err(why) = &postal_iban {
        err("postal_iban", why);
    }
    let rule = match form.rule.as_str() {
        "fixed" => amount(&form.fixed).map(AmountRule::Fixed).ok_or("fixed"),
        "range" => match (amount(&form.min), amount(&form.max)) {
            (Some(min), Some(max)) if min <= max => Ok(AmountRule::Range { min, max }),
            (Some(_), Some(_)) => Err("max"),
            (None, _) => Err("min"),
            (_, None) => Err("max"),
        },
        _ => Ok(AmountRule::Free),
    };
    if let Err(field) = rule {
        err(field, t.field_amount);
    }
    let url_ok = form.external_url.is_empty()
        || (form.external_url.starts_with("https://") || form.external_url.starts_with("http://"))
            && !form.external_url.contains(char::is_whitespace);
    if !url_ok {
        err("external_url", t.field_url);
    }
    let tags: Vec<String> = form
        .tags
        .split(',')
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .take(20)
        .collect();
    // The form builder's rows.
    let mut fields: Vec<FormField> = Vec::new();
    let mut row_errors = false;
    for i in 0..=50 {
        let key = |k: &str| format!("f{i}_{k}");
        let Some(name) = posted.get(&key("name")) else {
            continue;
        };
        let mut row = FieldRow {
            name: name.trim().to_owned(),
            label: text(posted, &key("label")),
            kind: text(posted, &key("type")),
            required: posted.contains_key(&key("required")),
            pattern: text(posted, &key("pattern")),
            help: text(posted, &key("help")),
            error: None,
        };
        if row.name.is_empty() && row.label.is_empty() || posted.contains_key(&key("remove")) {
            continue;
        }
        let kind: Option<FieldKind> = serde_json::from_value(serde_json::json!(row.kind)).ok();
        let name_ok = (1..=40).contains(&row.name.len())
            && row
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        row.error = if !name_ok {
            Some(t.field_name.to_owned())
        } else if fields.iter().any(|f| f.name == row.name) {
            Some(t.field_duplicate.to_owned())
        } else if row.label.is_empty() || row.label.chars().count() > 140 {
            Some(t.field_label.to_owned())
        } else if kind.is_none() {
            Some(t.field_required.to_owned())
        } else {
            check_pattern(&row.pattern)
                .err()
                .filter(|_| !row.pattern.is_empty())
                .map(|why| format!("{}: {why}", t.field_bad_pattern))
        };
        if row.error.is_some() {
            row_errors = true;
        } else {
            fields.push(FormField {
                name: row.name.clone(),
                label: row.label.clone(),
                required: row.required,
                kind: kind.unwrap_or_default(),
                help: optional(&row.help),
                pattern: optional(&row.pattern),
            });
        }
        form.fields.push(row);
    }
    // A form from before the choice existed keeps the default.
    let installment_mode = match form.installments.as_str() {
        "" => Some(InstallmentMode::Together),
        code => InstallmentMode::parse(code),
    };
    if installment_mode.is_none() {
        form.errors
            .insert("installments", t.field_required.to_owned());
    }
    let parsed = match (taxonomy, iban, postal_iban, rule, installment_mode) {
        (
            Some(taxonomy_code),
            Ok(iban),
            Ok(postal_iban),
            Ok(amount_rule),
            Some(installment_mode),
        ) if form.errors.is_empty() && !row_errors => Some((
            NewTipoDovuto {
                code: form.code.clone(),
                name: form.name.clone(),
                description: optional(&form.description),
                taxonomy_code,
                iban,
                postal_iban,
                amount_rule,
                spontaneous: form.spontaneous,
                form_fields: serde_json::to_value(&fields).unwrap_or_default(),
                tags,
                external_url: optional(&form.external_url),
                capitolo: optional(&form.capitolo),
                accertamento: optional(&form.accertamento),
                ufficio: optional(&form.ufficio),
                installment_mode,
            },
            form.active,
        )),
        _ => None,
    };
    (form, parsed)
}

fn posted_token(posted: &HashMap<String, String>) -> &str {
    posted.get("csrf").map_or("", String::as_str)
}

/// `POST /backoffice/enti/{cf}/tipi/nuovo`
pub async fn create(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Form(posted): Form<HashMap<String, String>>,
) -> Response {
    if !office.accepts(posted_token(&posted)) || !may_configure(&office, &scope) {
        return forbidden(&office);
    }
    let (mut form, parsed) = read(&office, &posted, true);
    let Some((new, _)) = parsed else {
        let error = Some(office.t.form_errors);
        return edit_page(
            office,
            &scope,
            None,
            form,
            error,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let actor = format!("operator:{}", office.operator.username);
    match state
        .store
        .create_tipo_dovuto(scope.ente.id, &new, &actor, Timestamp::now())
        .await
    {
        Ok(_) => saved(&scope),
        Err(TipoDovutoError::Duplicate(_)) => {
            form.errors
                .insert("code", office.t.field_code_taken.to_owned());
            let error = Some(office.t.form_errors);
            edit_page(office, &scope, None, form, error, StatusCode::CONFLICT)
        }
        Err(e) => internal_error(&office, e),
    }
}

fn saved(scope: &EnteScope) -> Response {
    Redirect::to(&format!(
        "/backoffice/enti/{}/tipi?esito=salvato",
        scope.ente.fiscal_code
    ))
    .into_response()
}

/// `POST /backoffice/enti/{cf}/tipi/{code}`
pub async fn update(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Path((_, code)): Path<(String, String)>,
    Form(posted): Form<HashMap<String, String>>,
) -> Response {
    if !office.accepts(posted_token(&posted)) || !may_configure(&office, &scope) {
        return forbidden(&office);
    }
    let (mut form, parsed) = read(&office, &posted, false);
    let Some((changes, active)) = parsed else {
        form.code = code.clone();
        let error = Some(office.t.form_errors);
        return edit_page(
            office,
            &scope,
            Some(code),
            form,
            error,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let actor = format!("operator:{}", office.operator.username);
    match state
        .store
        .update_tipo_dovuto(
            scope.ente.id,
            &code,
            &changes,
            active,
            &actor,
            Timestamp::now(),
        )
        .await
    {
        Ok(_) => saved(&scope),
        Err(TipoDovutoError::NotFound(_)) => not_found(&office),
        Err(e) => internal_error(&office, e),
    }
}
