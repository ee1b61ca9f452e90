//! Enti, for platform admins: onboard an ente (codice fiscale, name, IPA
//! code, segregation code, CBILL, IBAN and postal IBAN, contacts, modalità
//! di adesione, pagoPA stations), change it, suspend it. Every route here sits behind
//! `require_platform_admin`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use cassa_core::ente::MembershipMode;
use cassa_core::spontaneous::plausible_email;
use cassa_core::{Iban, PartitaIva, SegregationCode};
use cassa_store::{Ente, EnteError, NewEnte};
use jiff::Timestamp;

use super::{Office, forbidden, internal_error, not_found, render, render_with_status};
use crate::BackofficeState;

/// The route layer of the enti admin pages.
pub async fn require_platform_admin(
    Extension(office): Extension<Office>,
    request: Request,
    next: Next,
) -> Response {
    if office.access.platform_admin {
        next.run(request).await
    } else {
        forbidden(&office)
    }
}

#[derive(Template)]
#[template(path = "backoffice/enti_admin.html")]
struct ListPage {
    office: Office,
    enti: Vec<Ente>,
    message: Option<&'static str>,
}

pub async fn list(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let enti = match state.store.list_enti().await {
        Ok(enti) => enti,
        Err(e) => return internal_error(&office, e),
    };
    let message = q.get("esito").map(|_| office.t.ente_saved);
    render(&ListPage {
        office,
        enti,
        message,
    })
}

/// The print settings as the ente's page shows them.
#[derive(Clone, Debug, Default)]
pub struct PrintingForm {
    pub has_logo: bool,
    pub postal_authorization: String,
    pub logo_error: Option<String>,
    pub authorization_error: Option<String>,
    /// Just saved.
    pub saved: bool,
}

impl PrintingForm {
    pub fn of(printing: &cassa_store::EntePrinting) -> PrintingForm {
        PrintingForm {
            has_logo: printing.logo_png.is_some(),
            postal_authorization: printing.postal_authorization.clone().unwrap_or_default(),
            ..PrintingForm::default()
        }
    }
}

#[derive(Default)]
pub struct EnteForm {
    pub values: HashMap<String, String>,
    pub errors: HashMap<&'static str, String>,
    /// An existing ente's print settings (logo, Poste's authorisation).
    pub printing: Option<PrintingForm>,
}

impl EnteForm {
    fn value(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    fn error(&self, key: &str) -> Option<&str> {
        self.errors.get(key).map(String::as_str)
    }

    pub(super) fn of(ente: &Ente) -> EnteForm {
        let pairs = [
            ("fiscal_code", Some(ente.fiscal_code.clone())),
            ("name", Some(ente.name.clone())),
            ("ipa_code", ente.ipa_code.clone()),
            (
                "segregation_code",
                Some(format!("{:02}", ente.segregation_code.get())),
            ),
            ("cbill", ente.cbill.clone()),
            ("iban", ente.iban.clone()),
            ("postal_iban", ente.postal_iban.clone()),
            ("office_name", ente.office_name.clone()),
            ("email", ente.email.clone()),
            ("pec", ente.pec.clone()),
            ("phone", ente.phone.clone()),
            ("website", ente.website.clone()),
            ("address", ente.address.clone()),
            (
                "membership_mode",
                Some(ente.membership_mode.code().to_owned()),
            ),
            ("station_ids", Some(ente.station_ids.join(" "))),
        ];
        let mut values: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.unwrap_or_default()))
            .collect();
        if ente.active {
            values.insert("active".into(), "on".into());
        }
        EnteForm {
            values,
            errors: HashMap::new(),
            printing: None,
        }
    }
}

#[derive(Template)]
#[template(path = "backoffice/ente_admin.html")]
struct EditPage {
    office: Office,
    editing: Option<String>,
    form: EnteForm,
    modes: Vec<(&'static str, &'static str)>,
    error: Option<&'static str>,
}

pub(super) fn edit_page(
    office: Office,
    editing: Option<String>,
    form: EnteForm,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let t = office.t;
    let modes = vec![
        (MembershipMode::Base.code(), t.mode_base),
        (MembershipMode::Flussi.code(), t.mode_flussi),
        (MembershipMode::IniziatoPressoEnte.code(), t.mode_ente),
    ];
    render_with_status(
        status,
        &EditPage {
            office,
            editing,
            form,
            modes,
            error,
        },
    )
}

pub async fn new_form(Extension(office): Extension<Office>) -> Response {
    let mut form = EnteForm::default();
    form.values.insert("membership_mode".into(), "base".into());
    edit_page(office, None, form, None, StatusCode::OK)
}

pub async fn edit_form(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Path(cf): Path<String>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let ente = match state.store.ente_by_fiscal_code(&cf).await {
        Ok(Some(ente)) => ente,
        Ok(None) => return not_found(&office),
        Err(e) => return internal_error(&office, e),
    };
    let mut form = EnteForm::of(&ente);
    match state.store.ente_printing(ente.id).await {
        Ok(printing) => {
            let mut shown = PrintingForm::of(&printing);
            shown.saved = q.get("esito").is_some_and(|e| e == "stampa");
            form.printing = Some(shown);
        }
        Err(e) => return internal_error(&office, e),
    }
    edit_page(office, Some(cf), form, None, StatusCode::OK)
}

/// Reads and checks the form; `existing`: the ente being changed (its
/// codice fiscale and segregation code are kept).
fn read(
    office: &Office,
    posted: HashMap<String, String>,
    existing: Option<&Ente>,
) -> (EnteForm, Option<(NewEnte, bool)>) {
    let t = office.t;
    let mut form = EnteForm {
        values: posted
            .into_iter()
            .filter(|(k, _)| k != "csrf")
            .map(|(k, v)| (k, v.trim().to_owned()))
            .collect(),
        errors: HashMap::new(),
        printing: None,
    };
    if let Some(ente) = existing {
        form.values
            .insert("fiscal_code".into(), ente.fiscal_code.clone());
        form.values.insert(
            "segregation_code".into(),
            format!("{:02}", ente.segregation_code.get()),
        );
    }
    let get = |k: &str| form.values.get(k).cloned().unwrap_or_default();
    let optional = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
    let mut errors: HashMap<&'static str, String> = HashMap::new();
    let fiscal_code = PartitaIva::parse(&get("fiscal_code"));
    if fiscal_code.is_err() {
        errors.insert("fiscal_code", t.field_vat.to_owned());
    }
    let name = get("name");
    if name.is_empty() || name.chars().count() > 140 {
        errors.insert("name", t.field_required.to_owned());
    }
    let segregation = get("segregation_code")
        .parse::<u8>()
        .ok()
        .and_then(|n| SegregationCode::new(n).ok());
    if segregation.is_none() {
        errors.insert("segregation_code", t.field_segregation.to_owned());
    }
    let cbill = get("cbill").to_uppercase();
    let cbill_ok = cbill.len() == 5 && cbill.bytes().all(|b| b.is_ascii_alphanumeric());
    if !cbill.is_empty() && !cbill_ok {
        errors.insert("cbill", t.field_cbill.to_owned());
    }
    let iban = match get("iban").replace(' ', "").to_uppercase().as_str() {
        "" => Ok(None),
        text => Iban::parse(text).map(Some).map_err(|e| e.to_string()),
    };
    if let Err(why) = &iban {
        errors.insert("iban", why.clone());
    }
    let postal_iban = match get("postal_iban").replace(' ', "").to_uppercase().as_str() {
        "" => Ok(None),
        text => match Iban::parse(text) {
            Ok(i) if i.is_postal() => Ok(Some(i)),
            Ok(_) => Err(t.field_not_postal.to_owned()),
            Err(e) => Err(e.to_string()),
        },
    };
    if let Err(why) = &postal_iban {
        errors.insert("postal_iban", why.clone());
    }
    for key in ["email", "pec"] {
        let value = get(key);
        if !value.is_empty() && !plausible_email(&value) {
            errors.insert(
                if key == "email" { "email" } else { "pec" },
                t.field_email.to_owned(),
            );
        }
    }
    let website = get("website");
    let web_url = website.starts_with("https://") || website.starts_with("http://");
    if !website.is_empty() && !web_url {
        errors.insert("website", t.field_url.to_owned());
    }
    let station_ids = cassa_core::ente::parse_station_ids(&get("station_ids"));
    if let Err(why) = &station_ids {
        errors.insert("station_ids", why.clone());
    }
    let mode = MembershipMode::parse(&get("membership_mode"));
    if mode.is_none() {
        errors.insert("membership_mode", t.field_required.to_owned());
    }
    let active = existing.is_none() || form.values.contains_key("active");
    let parsed = match (
        fiscal_code,
        segregation,
        iban,
        postal_iban,
        mode,
        station_ids,
    ) {
        (
            Ok(fiscal_code),
            Some(segregation_code),
            Ok(iban),
            Ok(postal_iban),
            Some(membership_mode),
            Ok(station_ids),
        ) if errors.is_empty() => Some((
            NewEnte {
                fiscal_code,
                name,
                ipa_code: optional("ipa_code"),
                segregation_code,
                cbill: Some(cbill).filter(|c| !c.is_empty()),
                iban,
                postal_iban,
                office_name: optional("office_name"),
                email: optional("email"),
                pec: optional("pec"),
                phone: optional("phone"),
                website: optional("website"),
                address: optional("address"),
                membership_mode,
                station_ids,
            },
            active,
        )),
        _ => None,
    };
    form.errors = errors;
    (form, parsed)
}

fn saved() -> Response {
    Redirect::to("/backoffice/admin/enti?esito=salvato").into_response()
}

pub async fn create(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Form(posted): Form<HashMap<String, String>>,
) -> Response {
    if !office.accepts(posted.get("csrf").map_or("", String::as_str)) {
        return forbidden(&office);
    }
    let (mut form, parsed) = read(&office, posted, None);
    let Some((new, _)) = parsed else {
        let error = Some(office.t.form_errors);
        return edit_page(office, None, form, error, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let actor = format!("operator:{}", office.operator.username);
    match state
        .store
        .create_ente(&new, &actor, Timestamp::now())
        .await
    {
        Ok(_) => saved(),
        Err(EnteError::Duplicate(_)) => {
            form.errors
                .insert("fiscal_code", office.t.field_ente_taken.to_owned());
            let error = Some(office.t.form_errors);
            edit_page(office, None, form, error, StatusCode::CONFLICT)
        }
        Err(e) => internal_error(&office, e),
    }
}

pub async fn update(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Path(cf): Path<String>,
    Form(posted): Form<HashMap<String, String>>,
) -> Response {
    if !office.accepts(posted.get("csrf").map_or("", String::as_str)) {
        return forbidden(&office);
    }
    let existing = match state.store.ente_by_fiscal_code(&cf).await {
        Ok(Some(ente)) => ente,
        Ok(None) => return not_found(&office),
        Err(e) => return internal_error(&office, e),
    };
    let (mut form, parsed) = read(&office, posted, Some(&existing));
    let Some((changes, active)) = parsed else {
        if let Ok(printing) = state.store.ente_printing(existing.id).await {
            form.printing = Some(PrintingForm::of(&printing));
        }
        let error = Some(office.t.form_errors);
        return edit_page(
            office,
            Some(cf),
            form,
            error,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let actor = format!("operator:{}", office.operator.username);
    match state
        .store
        .update_ente(&cf, &changes, active, &actor, Timestamp::now())
        .await
    {
        Ok(_) => saved(),
        Err(EnteError::NotFound(_)) => not_found(&office),
        Err(e) => internal_error(&office, e),
    }
}
