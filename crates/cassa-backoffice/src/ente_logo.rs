//! An ente's print settings, for platform admins, on the ente's page: the
//! logo its notices carry (a PNG) and Poste's authorisation text printed on
//! the postal slip.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cassa_store::{EntePrinting, PrintingError};
use jiff::Timestamp;

use super::enti_admin::{EnteForm, PrintingForm, edit_page};
use super::{Office, forbidden, internal_error, not_found};
use crate::BackofficeState;

/// `POST /backoffice/admin/enti/{cf}/stampa`: a new logo (or none), and the
/// authorisation text. A logo left empty keeps the one there is.
pub async fn save(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Path(cf): Path<String>,
    mut form: Multipart,
) -> Response {
    let ente = match state.store.ente_by_fiscal_code(&cf).await {
        Ok(Some(ente)) => ente,
        Ok(None) => return not_found(&office),
        Err(e) => return internal_error(&office, e),
    };
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut logo: Option<Vec<u8>> = None;
    let (mut token_ok, mut unreadable) = (false, false);
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "csrf" => token_ok = field.text().await.is_ok_and(|v| office.accepts(&v)),
            // The token comes first in the form: nothing is read without it.
            "logo" if token_ok => match field.bytes().await {
                Ok(bytes) if !bytes.is_empty() => logo = Some(bytes.to_vec()),
                Ok(_) => {}
                // Past the request's size limit, most likely.
                Err(_) => {
                    unreadable = true;
                    break;
                }
            },
            _ if token_ok => {
                fields.insert(name, field.text().await.unwrap_or_default());
            }
            _ => {}
        }
    }
    if !token_ok {
        return forbidden(&office);
    }
    let current = match state.store.ente_printing(ente.id).await {
        Ok(printing) => printing,
        Err(e) => return internal_error(&office, e),
    };
    let authorization = fields
        .get("postal_authorization")
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    if unreadable {
        let mut shown = PrintingForm::of(&current);
        shown.logo_error = Some(format!(
            "{}: {}",
            office.t.logo_refused, office.t.logo_field
        ));
        return refused(office, cf, &ente, shown);
    }
    let printing = EntePrinting {
        logo_png: match logo {
            Some(png) => Some(png),
            None if fields.contains_key("remove_logo") => None,
            None => current.logo_png.clone(),
        },
        postal_authorization: authorization.clone(),
    };
    let actor = format!("operator:{}", office.operator.username);
    let why = match state
        .store
        .set_ente_printing(ente.id, &printing, &actor, Timestamp::now())
        .await
    {
        Ok(()) => {
            return Redirect::to(&format!("/backoffice/admin/enti/{cf}?esito=stampa"))
                .into_response();
        }
        Err(PrintingError::Store(e)) => return internal_error(&office, e),
        Err(e) => e,
    };
    let mut shown = PrintingForm::of(&current);
    shown.postal_authorization = authorization.unwrap_or_default();
    match why {
        PrintingError::Logo(reason) => {
            shown.logo_error = Some(format!("{}: {reason}", office.t.logo_refused))
        }
        _ => shown.authorization_error = Some(office.t.postal_authorization_help.to_owned()),
    }
    refused(office, cf, &ente, shown)
}

/// The ente's page again, the print form showing why it was refused.
fn refused(office: Office, cf: String, ente: &cassa_store::Ente, shown: PrintingForm) -> Response {
    let mut page = EnteForm::of(ente);
    page.printing = Some(shown);
    let error = Some(office.t.form_errors);
    edit_page(
        office,
        Some(cf),
        page,
        error,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// `GET /backoffice/admin/enti/{cf}/logo.png`: the logo, to preview it.
pub async fn logo(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Path(cf): Path<String>,
) -> Response {
    let ente = match state.store.ente_by_fiscal_code(&cf).await {
        Ok(Some(ente)) => ente,
        Ok(None) => return not_found(&office),
        Err(e) => return internal_error(&office, e),
    };
    match state.store.ente_printing(ente.id).await {
        Ok(EntePrinting {
            logo_png: Some(png),
            ..
        }) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        Ok(_) => not_found(&office),
        Err(e) => internal_error(&office, e),
    }
}
