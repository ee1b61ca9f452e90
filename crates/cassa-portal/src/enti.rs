//! Ricerca Ente and the Pagina Ente ("cosa puoi pagare").

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use cassa_core::search;
use cassa_store::{Ente, TipoDovuto};
use serde::Deserialize;

use super::notice::NoticeForm;
use super::{PageContext, pages, render};
use crate::PortalState;

#[derive(Deserialize, Default)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    cerca: String,
}

#[derive(Template)]
#[template(path = "portal/enti.html")]
struct EntiPage {
    page: PageContext,
    query: String,
    enti: Vec<Ente>,
}

pub async fn search(
    State(state): State<PortalState>,
    page: PageContext,
    Query(params): Query<SearchParams>,
) -> Response {
    let query = search::Query::new(&params.q);
    let enti = match state.store.list_enti().await {
        Ok(enti) => enti,
        Err(e) => return super::internal_error(&page, e),
    };
    let enti = enti
        .into_iter()
        .filter(|e| e.active && query.matches([e.name.as_str()]))
        .collect();
    let view = EntiPage {
        page,
        query: params.q,
        enti,
    };
    render(&view.page, &view)
}

#[derive(Template)]
#[template(path = "portal/ente.html")]
struct EntePage {
    page: PageContext,
    ente: Ente,
    keyword: String,
    tipi: Vec<TipoDovuto>,
    form: NoticeForm,
}

pub async fn ente_page(
    State(state): State<PortalState>,
    page: PageContext,
    Path(fiscal_code): Path<String>,
    Query(params): Query<SearchParams>,
) -> Response {
    let ente = match state.store.ente_by_fiscal_code(&fiscal_code).await {
        Ok(Some(ente)) if ente.active => ente,
        Ok(_) => return pages::not_found(page),
        Err(e) => return super::internal_error(&page, e),
    };
    let tipi = match state.store.tipi_dovuto(ente.id).await {
        Ok(tipi) => tipi,
        Err(e) => return super::internal_error(&page, e),
    };
    let keyword = search::Query::new(&params.cerca);
    let tipi = tipi
        .into_iter()
        .filter(|t| t.active && (t.spontaneous || t.external_url.is_some()))
        .filter(|t| {
            let texts = std::iter::once(t.name.as_str())
                .chain(t.description.as_deref())
                .chain(t.tags.iter().map(String::as_str));
            keyword.matches(texts.collect::<Vec<_>>())
        })
        .collect();
    let view = EntePage {
        page,
        ente,
        keyword: params.cerca,
        tipi,
        form: NoticeForm::default(),
    };
    render(&view.page, &view)
}
