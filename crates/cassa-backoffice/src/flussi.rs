//! Gestione Flussi: an operator uploads a MyPay or P4PA debt file, follows its
//! import (a background job) and downloads what it left: the refused rows
//! and why, or the IUV given to each IUD. Uploading the same file again
//! changes nothing and says so.

use askama::Template;
use axum::Extension;
use axum::extract::{Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cassa_core::access::Action;
use cassa_jobs::export_pagati::{self, ExportFormat, ExportRequest, ExportResult};
use cassa_jobs::import_dovuti::{ImportRequest, ImportResult, KIND};
use cassa_store::{JobState, QueuedImport};
use tower::ServiceExt;

use super::scope::EnteScope;
use super::{Office, forbidden, internal_error, not_found, render_with_status};
use crate::BackofficeState;
use cassa_http::uploads::{UploadError, receive, short_text};

pub struct ImportLine {
    pub id: i64,
    /// An export ("Scarica flussi") rather than an import.
    pub export: bool,
    pub file_name: String,
    pub state: &'static str,
    pub percent: i64,
    pub summary: String,
    pub files: Vec<String>,
    pub at: String,
}

#[derive(Template)]
#[template(path = "backoffice/flussi.html")]
struct FlussiPage {
    office: Office,
    ente_name: String,
    fiscal_code: String,
    imports: Vec<ImportLine>,
    message: Option<(&'static str, String)>,
}

fn state_label(t: &super::i18n::BoTexts, state: JobState) -> &'static str {
    match state {
        JobState::Queued => t.job_queued,
        JobState::Running => t.job_running,
        JobState::Done => t.job_done,
        JobState::Failed => t.job_failed,
    }
}

fn may_import(office: &Office, scope: &EnteScope) -> bool {
    scope.can(office, None, Action::ManageDebts)
}

/// The page again, with `why` the form was refused.
async fn refused(
    state: &BackofficeState,
    office: Office,
    scope: &EnteScope,
    why: String,
) -> Response {
    let message = Some(("danger", why));
    page(
        state,
        office,
        scope,
        message,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn page(
    state: &BackofficeState,
    office: Office,
    scope: &EnteScope,
    message: Option<(&'static str, String)>,
    status: StatusCode,
) -> Response {
    let jobs = match state.store.jobs_of_ente(scope.ente.id, 50).await {
        Ok(jobs) => jobs,
        Err(e) => return internal_error(&office, e),
    };
    let t = office.t;
    let imports = jobs
        .into_iter()
        .filter(|j| j.kind == KIND || j.kind == export_pagati::KIND)
        .map(|j| {
            if j.kind == export_pagati::KIND {
                let result: Option<ExportResult> = j
                    .result
                    .as_deref()
                    .and_then(|r| serde_json::from_str(r).ok());
                return ImportLine {
                    id: j.id,
                    export: true,
                    file_name: result
                        .as_ref()
                        .map(|r| r.file_name.clone())
                        .unwrap_or_default(),
                    state: state_label(t, j.state),
                    percent: if j.state == JobState::Done { 100 } else { 0 },
                    summary: match (&j.state, &result) {
                        (JobState::Done, Some(r)) if j.files_expired_at.is_some() => {
                            format!("{} {}, {}", r.rows, t.export_rows, t.export_expired)
                        }
                        (JobState::Done, Some(r)) => format!(
                            "{} {}, {} KB",
                            r.rows,
                            t.export_rows,
                            r.bytes.div_ceil(1024)
                        ),
                        (JobState::Failed, _) => format!(
                            "{}: {}",
                            t.import_failed,
                            j.error.clone().unwrap_or_default()
                        ),
                        _ => t.import_running.to_owned(),
                    },
                    files: match j.files_expired_at {
                        Some(_) => Vec::new(),
                        None => result.map(|r| r.files).unwrap_or_default(),
                    },
                    at: j
                        .created_at
                        .to_zoned(cassa_core::italy::time_zone())
                        .strftime("%d/%m/%Y %H:%M")
                        .to_string(),
                };
            }
            let request: Option<ImportRequest> = serde_json::from_str(&j.params).ok();
            let result: Option<ImportResult> = j
                .result
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok());
            let summary = match (&j.state, &result) {
                (JobState::Done, Some(r)) if r.applied => {
                    let mut summary = format!(
                        "{}: {} {}, {} {}, {} {}",
                        t.import_applied,
                        r.inserted,
                        t.import_inserted,
                        r.modified,
                        t.import_modified,
                        r.annulled,
                        t.import_annulled
                    );
                    if r.notices_pending {
                        summary.push_str(&format!(", {}", t.import_notices_pending));
                    } else if let Some(why) = &r.notices_error {
                        summary.push_str(&format!(", {}: {why}", t.import_notices_failed));
                    } else if r.notices > 0 {
                        summary.push_str(&format!(", {} {}", r.notices, t.import_notices_printed));
                    }
                    summary
                }
                (JobState::Done, Some(r)) => match &r.file_error {
                    Some(e) => format!("{}: {e}", t.import_refused),
                    None => format!(
                        "{}: {} / {} {}",
                        t.import_refused, r.refused, r.rows, t.import_rows_refused
                    ),
                },
                (JobState::Failed, _) => format!(
                    "{}: {}",
                    t.import_failed,
                    j.error.clone().unwrap_or_default()
                ),
                _ => t.import_running.to_owned(),
            };
            ImportLine {
                id: j.id,
                export: false,
                file_name: request.map(|r| r.file_name).unwrap_or_default(),
                state: state_label(t, j.state),
                percent: match (j.state, j.progress_total) {
                    (JobState::Done, _) => 100,
                    (_, 0) => 0,
                    (_, total) => (j.progress_done * 100 / total).clamp(0, 100),
                },
                summary,
                files: result.map(|r| r.files).unwrap_or_default(),
                at: j
                    .created_at
                    .to_zoned(cassa_core::italy::time_zone())
                    .strftime("%d/%m/%Y %H:%M")
                    .to_string(),
            }
        })
        .collect();
    render_with_status(
        status,
        &FlussiPage {
            ente_name: scope.ente.name.clone(),
            fiscal_code: scope.ente.fiscal_code.clone(),
            imports,
            message,
            office,
        },
    )
}

/// `GET /backoffice/enti/{cf}/flussi`
pub async fn list(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    if !may_import(&office, &scope) {
        return forbidden(&office);
    }
    let message = match q.get("esito").map(String::as_str) {
        Some("caricato") => Some(("success", office.t.import_queued.to_owned())),
        Some("esportazione") => Some(("success", office.t.export_queued.to_owned())),
        _ => None,
    };
    page(&state, office, &scope, message, StatusCode::OK).await
}

/// `POST /backoffice/enti/{cf}/flussi` (multipart: `csrf`, then `file`).
pub async fn upload(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    mut form: Multipart,
) -> Response {
    if !may_import(&office, &scope) {
        return forbidden(&office);
    }
    let t = office.t;
    let (mut token_ok, mut notices) = (false, false);
    let mut uploaded = None;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("csrf") => {
                token_ok = short_text(field, 256)
                    .await
                    .is_some_and(|v| office.accepts(&v))
            }
            // The token comes first in the form: no file is stored without it.
            Some("file") if token_ok && uploaded.is_none() => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let received = receive(
                    &state.store,
                    &state.files,
                    scope.ente.id,
                    &name,
                    None,
                    field,
                )
                .await;
                uploaded = Some((received, name));
            }
            Some("notices") => notices = true,
            _ => {}
        }
    }
    if !token_ok {
        return forbidden(&office);
    }
    let (upload, name) = match uploaded {
        Some((Ok(upload), name)) => (upload, name),
        Some((Err(UploadError::Io(e)), _)) => return internal_error(&office, e),
        Some((Err(UploadError::Store(e)), _)) => return internal_error(&office, e),
        Some((Err(e @ (UploadError::TooManyImports | UploadError::NoRoom)), _)) => {
            let message = Some(("warning", format!("{}: {e}", t.import_bad_file)));
            return page(
                &state,
                office,
                &scope,
                message,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
        }
        Some((Err(e), _)) => {
            return refused(
                &state,
                office,
                &scope,
                format!("{}: {e}", t.import_bad_file),
            )
            .await;
        }
        None => {
            return refused(&state, office, &scope, t.import_no_file.to_owned()).await;
        }
    };
    let actor = format!("operator:{}", office.operator.username);
    let queued = cassa_http::uploads::queue_import(
        &state.store,
        scope.ente.id,
        &actor,
        &name,
        &upload,
        notices,
    )
    .await;
    if !matches!(queued, Ok(QueuedImport::Queued(_))) {
        cassa_http::uploads::forget(&state.files, &upload).await;
    }
    match queued {
        Ok(QueuedImport::Queued(_)) => Redirect::to(&format!(
            "/backoffice/enti/{}/flussi?esito=caricato",
            scope.ente.fiscal_code
        ))
        .into_response(),
        Ok(QueuedImport::AlreadySent { job_id, file_name }) => {
            let message = Some((
                "warning",
                format!("{} ({file_name}, n. {job_id})", t.import_duplicate),
            ));
            page(&state, office, &scope, message, StatusCode::CONFLICT).await
        }
        Ok(QueuedImport::TooMany { .. }) => {
            let why = UploadError::TooManyImports;
            let message = Some(("warning", format!("{}: {why}", t.import_bad_file)));
            page(
                &state,
                office,
                &scope,
                message,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await
        }
        Err(e) => internal_error(&office, e),
    }
}

/// `GET /backoffice/enti/{cf}/flussi/{id}/{name}`: a report of an import.
pub async fn download(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Path((_, id, name)): Path<(String, i64, String)>,
    request: Request,
) -> Response {
    if !may_import(&office, &scope) {
        return forbidden(&office);
    }
    let job = match state.store.job(scope.ente.id, id).await {
        Ok(Some(job)) if job.kind == KIND || job.kind == export_pagati::KIND => job,
        Ok(_) => return not_found(&office),
        Err(e) => return internal_error(&office, e),
    };
    // Both kinds list their files under `files`.
    let listed = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
        .is_some_and(|r| {
            r["files"]
                .as_array()
                .is_some_and(|f| f.iter().any(|n| n == &name))
        });
    let Some(path) = state.files.job_file(job.id, &name).filter(|_| listed) else {
        return not_found(&office);
    };
    match tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
    {
        Ok(response) => {
            let mut response = response.map(axum::body::Body::new);
            let headers = response.headers_mut();
            let kind = if name.ends_with(".zip") {
                "application/zip"
            } else {
                "text/csv; charset=utf-8"
            };
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(e) => internal_error(&office, e),
    }
}

#[derive(serde::Deserialize)]
pub struct ExportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    receipts: Option<String>,
}

/// `POST /backoffice/enti/{cf}/flussi/esporta`: "Scarica flussi".
pub async fn export(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    axum::Form(form): axum::Form<ExportForm>,
) -> Response {
    if !office.accepts(&form.csrf) || !may_import(&office, &scope) {
        return forbidden(&office);
    }
    let t = office.t;
    let request = match (form.from.parse(), form.to.parse()) {
        (Ok(from), Ok(to)) => ExportRequest {
            from,
            to,
            format: if form.format == "csv" {
                ExportFormat::Csv
            } else {
                ExportFormat::Mypay
            },
            version: if form.version.is_empty() {
                "1_3".into()
            } else {
                form.version
            },
            with_receipts: form.receipts.is_some(),
        },
        _ => {
            return refused(&state, office, &scope, t.export_dates.to_owned()).await;
        }
    };
    if let Err(why) = request.check() {
        return refused(&state, office, &scope, format!("{}: {why}", t.export_dates)).await;
    }
    let actor = format!("operator:{}", office.operator.username);
    match cassa_jobs::export_pagati::queue(&state.store, scope.ente.id, &actor, &request).await {
        Ok(_) => Redirect::to(&format!(
            "/backoffice/enti/{}/flussi?esito=esportazione",
            scope.ente.fiscal_code
        ))
        .into_response(),
        Err(e) => internal_error(&office, e),
    }
}
