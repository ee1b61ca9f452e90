//! Registro attività: the audit log, searchable by ente, object and
//! author. Platform admins see every ente's; an ente admin sees the enti
//! they administer; other operators do not see it.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use cassa_core::access::Action;
use cassa_store::{AuditFilter, Ente};

use super::{Office, forbidden, internal_error, render};
use crate::BackofficeState;

pub struct Line {
    pub at: String,
    pub actor: String,
    pub ente: String,
    pub action: String,
    pub entity: String,
    pub key: String,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "backoffice/audit.html")]
struct AuditPage {
    office: Office,
    enti: Vec<Ente>,
    chosen: String,
    key: String,
    actor: String,
    lines: Vec<Line>,
}

pub async fn search(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let enti: Vec<Ente> = match state.store.list_enti().await {
        Ok(enti) => enti
            .into_iter()
            .filter(|e| office.access.can(e.id, None, Action::ConfigureEnte))
            .collect(),
        Err(e) => return internal_error(&office, e),
    };
    if enti.is_empty() {
        return forbidden(&office);
    }
    let get = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let chosen = get("ente").and_then(|cf| enti.iter().find(|e| e.fiscal_code == cf));
    // Without a choice, a platform admin sees everything; an ente admin
    // their first ente.
    let ente_id = match (chosen, office.sees_all_activity()) {
        (Some(e), _) => Some(e.id),
        (None, true) => None,
        (None, false) => Some(enti[0].id),
    };
    let events = match state
        .store
        .audit_events(&AuditFilter {
            ente_id,
            entity: None,
            entity_key: get("oggetto"),
            actor: get("autore"),
            limit: Some(200),
        })
        .await
    {
        Ok(events) => events,
        Err(e) => return internal_error(&office, e),
    };
    let name_of = |id: Option<i64>| {
        id.and_then(|id| enti.iter().find(|e| e.id == id))
            .map(|e| e.name.clone())
            .unwrap_or_default()
    };
    let json =
        |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    let lines = events
        .iter()
        .map(|e| Line {
            at: e
                .at
                .to_zoned(cassa_core::italy::time_zone())
                .strftime("%d/%m/%Y %H:%M:%S")
                .to_string(),
            actor: e.actor.clone(),
            ente: name_of(e.ente_id),
            action: e.action.clone(),
            entity: e.entity.clone(),
            key: e.entity_key.clone(),
            before: json(&e.before),
            after: json(&e.after),
        })
        .collect();
    let chosen = chosen.map(|e| e.fiscal_code.clone()).unwrap_or_default();
    render(&AuditPage {
        office,
        enti,
        chosen,
        key: get("oggetto").unwrap_or_default(),
        actor: get("autore").unwrap_or_default(),
        lines,
    })
}
