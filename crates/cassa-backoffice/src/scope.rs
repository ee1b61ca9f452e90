//! The route layer of every page under `/backoffice/enti/{cf}`: the ente
//! must exist and the operator must hold a role on it; otherwise the page
//! is "not found", the same as for an ente that does not exist. Handlers
//! receive the ente in an `EnteScope`, whose methods check the role again
//! for the tipo dovuto of what they touch.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use cassa_core::access::{Action, TipoScope};
use cassa_store::{Ente, StoredPosition};

use super::Office;
use crate::BackofficeState;

#[derive(Clone)]
pub struct EnteScope {
    pub ente: Ente,
}

impl EnteScope {
    /// The tipi dovuto of this ente on which `action` may be done.
    pub fn tipi(&self, office: &Office, action: Action) -> TipoScope {
        office.access.tipi(self.ente.id, action)
    }

    pub fn can(&self, office: &Office, tipo_dovuto_id: Option<i64>, action: Action) -> bool {
        office.access.can(self.ente.id, tipo_dovuto_id, action)
    }

    /// A position of this ente the operator may see, or `None` (also for
    /// one outside their tipi dovuto).
    pub async fn position(
        &self,
        state: &BackofficeState,
        office: &Office,
        iupd: &str,
    ) -> Result<Option<StoredPosition>, cassa_store::StoreError> {
        Ok(state
            .store
            .position(self.ente.id, iupd)
            .await?
            .filter(|p| self.can(office, p.tipo_dovuto_id, Action::Read)))
    }
}

pub async fn ente_access(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Path(params): Path<HashMap<String, String>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(fiscal_code) = params.get("cf") else {
        return super::not_found(&office);
    };
    let ente = match state.store.ente_by_fiscal_code(fiscal_code).await {
        Ok(Some(ente)) if office.access.can_some(ente.id, Action::Read) => ente,
        Ok(_) => return super::not_found(&office),
        Err(e) => return super::internal_error(&office, e),
    };
    request.extensions_mut().insert(EnteScope { ente });
    next.run(request).await
}
