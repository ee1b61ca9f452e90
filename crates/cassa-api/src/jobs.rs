//! Background jobs over the API (a cassa extension to GPD): start a bulk
//! print of notices, follow its progress, download the ZIP when done.
//! Same API key and scoping as the debt positions: an ente sees its own
//! jobs only.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cassa_jobs::bulk_notices::{self, BulkNotices};
use cassa_pagopa::gpd::titles;
use cassa_store::{Job, JobState, NewJob};
use jiff::Timestamp;
use serde::Serialize;
use tower::ServiceExt;

use super::auth::EnteAccess;
use super::errors::ApiError;
use crate::ApiState;

/// How many jobs the list shows, newest first.
const LISTED: i64 = 50;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Progress {
    done: i64,
    total: i64,
    percent: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobModel {
    id: i64,
    kind: String,
    state: JobState,
    progress: Progress,
    request: serde_json::Value,
    result: Option<serde_json::Value>,
    error: Option<String>,
    created_at: Timestamp,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    /// Where to fetch what it produced, once done.
    download: Option<String>,
}

fn job_path(organization: &str, id: i64) -> String {
    format!("/organizations/{organization}/jobs/{id}")
}

fn model(organization: &str, job: Job) -> JobModel {
    let percent = match (job.state, job.progress_total) {
        (JobState::Done, _) => 100,
        (_, 0) => 0,
        (_, total) => (job.progress_done * 100 / total).clamp(0, 100),
    };
    let json = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    JobModel {
        id: job.id,
        download: (job.state == JobState::Done)
            .then(|| format!("{}/file", job_path(organization, job.id))),
        kind: job.kind,
        state: job.state,
        progress: Progress {
            done: job.progress_done,
            total: job.progress_total,
            percent,
        },
        request: json(&job.params),
        result: job.result.as_deref().map(json),
        error: job.error,
        created_at: job.created_at,
        started_at: job.started_at,
        finished_at: job.finished_at,
    }
}

/// `POST /organizations/{cf}/jobs/bulk-notices`: queues a bulk print.
pub async fn start_bulk_notices(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path(organization): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: BulkNotices = if body.iter().all(u8::is_ascii_whitespace) {
        BulkNotices::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the request body: {e}")))?
    };
    request.check().map_err(ApiError::bad_request)?;
    if let Some(code) = &request.tipo_dovuto
        && state
            .store
            .tipo_dovuto_by_code(access.ente.id, code)
            .await?
            .is_none()
    {
        return Err(ApiError::bad_request(format!(
            "tipoDovuto: {code:?} is not a tipo dovuto of organization {organization}"
        )));
    }
    let params = serde_json::to_string(&request).map_err(ApiError::internal)?;
    let job = state
        .store
        .enqueue_job(
            NewJob {
                ente_id: access.ente.id,
                kind: bulk_notices::KIND,
                params: &params,
                created_by: &access.actor,
            },
            Timestamp::now(),
        )
        .await?;
    let location = job_path(&organization, job.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(model(&organization, job)),
    )
        .into_response())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportQuery {
    #[serde(default)]
    file_name: String,
    /// Also print the notices of what the file applies.
    #[serde(default)]
    notices: bool,
}

/// `POST /organizations/{cf}/jobs/imports?fileName=…`: the body is a MyPay
/// or P4PA debt file (`.csv`, or a `.zip` holding one), streamed to disk; answers
/// 202 with the import job, or 409 naming the import of the same file.
pub async fn start_import(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path(organization): Path<String>,
    axum::extract::Query(query): axum::extract::Query<ImportQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    use cassa_http::uploads::UploadError;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let upload = cassa_http::uploads::receive(
        &state.store,
        &state.files,
        access.ente.id,
        &query.file_name,
        declared,
        body.into_data_stream(),
    )
    .await
    .map_err(|e| match e {
        UploadError::TooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large",
            e.to_string(),
        ),
        UploadError::TooManyImports => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            e.to_string(),
        ),
        UploadError::NoRoom => ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "Insufficient Storage",
            e.to_string(),
        ),
        UploadError::Io(_) | UploadError::Store(_) => ApiError::internal(e),
        other => ApiError::bad_request(format!("fileName / body: {other}")),
    })?;
    let queued = cassa_http::uploads::queue_import(
        &state.store,
        access.ente.id,
        &access.actor,
        &query.file_name,
        &upload,
        query.notices,
    )
    .await;
    if !matches!(queued, Ok(cassa_store::QueuedImport::Queued(_))) {
        cassa_http::uploads::forget(&state.files, &upload).await;
    }
    match queued? {
        cassa_store::QueuedImport::Queued(job) => Ok((
            StatusCode::ACCEPTED,
            [(header::LOCATION, job_path(&organization, job.id))],
            Json(model(&organization, *job)),
        )
            .into_response()),
        cassa_store::QueuedImport::AlreadySent { job_id, file_name } => Err(ApiError::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "this file was already sent as {file_name} (job {job_id}, {}): nothing was changed",
                job_path(&organization, job_id)
            ),
        )),
        cassa_store::QueuedImport::TooMany { .. } => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            cassa_http::uploads::UploadError::TooManyImports.to_string(),
        )),
    }
}

/// `POST /organizations/{cf}/jobs/exports`: queues an export of what was
/// paid (MyPay's flusso pagati, or a plain CSV).
pub async fn start_export(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path(organization): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: cassa_jobs::export_pagati::ExportRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the request body: {e}")))?;
    request.check().map_err(ApiError::bad_request)?;
    let job =
        cassa_jobs::export_pagati::queue(&state.store, access.ente.id, &access.actor, &request)
            .await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, job_path(&organization, job.id))],
        Json(model(&organization, job)),
    )
        .into_response())
}

/// `GET .../jobs/{id}/files/{name}`: one of the files a job left (an
/// import's reports), by the name its result lists.
pub async fn named_file(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path((organization, id, name)): Path<(String, i64, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let job = stored_job(&state, &access, &organization, id).await?;
    let listed = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
        .is_some_and(|r| {
            r["files"]
                .as_array()
                .is_some_and(|f| f.iter().any(|n| n == &name))
                || r["fileName"] == name
        });
    let path = state
        .files
        .job_file(job.id, &name)
        .filter(|_| listed)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                titles::NO_DOCUMENT,
                format!("job {id} has no file {name}"),
            )
        })?;
    let mut response = tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?
        .map(axum::body::Body::new);
    if name.ends_with(".csv") {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
    }
    Ok(response)
}

pub async fn list(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path(organization): Path<String>,
) -> Result<Response, ApiError> {
    let jobs = state.store.jobs_of_ente(access.ente.id, LISTED).await?;
    let models: Vec<JobModel> = jobs.into_iter().map(|j| model(&organization, j)).collect();
    Ok(Json(models).into_response())
}

async fn stored_job(
    state: &ApiState,
    access: &EnteAccess,
    organization: &str,
    id: i64,
) -> Result<Job, ApiError> {
    state.store.job(access.ente.id, id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            titles::NOT_FOUND,
            format!("Not found a job {id} for Organization Fiscal Code {organization}"),
        )
    })
}

pub async fn get_one(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path((organization, id)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    let job = stored_job(&state, &access, &organization, id).await?;
    Ok(Json(model(&organization, job)).into_response())
}

/// `GET .../jobs/{id}/file`: the ZIP, streamed from disk (ranges allowed,
/// so a broken download can resume).
pub async fn file(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path((organization, id)): Path<(String, i64)>,
    request: Request,
) -> Result<Response, ApiError> {
    let job = stored_job(&state, &access, &organization, id).await?;
    let file_name = job
        .result
        .as_deref()
        .filter(|_| job.state == JobState::Done)
        .and_then(|r| serde_json::from_str::<bulk_notices::BulkNoticesResult>(r).ok())
        .map(|r| r.file_name)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                titles::NO_DOCUMENT,
                format!(
                    "job {id} is {}: there is no file to download yet",
                    job.state.code()
                ),
            )
        })?;
    let path = state
        .files
        .job_file(job.id, &file_name)
        .ok_or_else(|| ApiError::internal(format!("job {id}: file name {file_name:?}")))?;
    let mut response = tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?
        .map(axum::body::Body::new);
    if response.status() == StatusCode::NOT_FOUND {
        return Err(ApiError::new(
            StatusCode::GONE,
            titles::NO_DOCUMENT,
            format!("the file of job {id} is no longer kept"),
        ));
    }
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
