//! The OpenAPI document of what we implement, and a readable page of it.
//!
//! The document is pagoPA's own gpd.json (shipped in `openapi/`), amended
//! where cassa differs: the IUV may be left out for cassa to generate, and
//! the server is this installation. Serving the official contract itself
//! keeps us honest: the tests validate our answers against it.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::ApiState;

const OFFICIAL: &str = include_str!("../openapi/gpd.json");

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/docs", get(docs_page))
        .route("/api", get(|| async { Redirect::permanent("/api/docs") }))
}

pub fn openapi_document() -> Value {
    let mut doc: Value =
        serde_json::from_str(OFFICIAL).expect("the shipped gpd.json is valid JSON");
    doc["info"]["title"] = json!("cassa — Debt Positions API (GPD-compatible)");
    doc["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    doc["info"]["description"] = json!(
        "The debt-position API of pagoPA's GPD (Gestione Posizioni Debitorie), served by cassa with the same \
         paths, bodies, status codes and error bodies, so that software written for GPD works unchanged. \
         Authenticate with your ente's API key in the `Ocp-Apim-Subscription-Key` header.\n\n\
         Differences from GPD, all compatible:\n\
         - `iuv` may be left out of a payment option: cassa then generates it (aux digit 3, the ente's \
         segregation code, a 13-digit progressive, check digits) and returns it with its `nav`. On update, an \
         option without `iuv` keeps the IUV of the option in the same place.\n\
         - A supplied `iuv` is checked: 17 digits, the ente's segregation code, valid check digits. A supplied \
         `nav` must carry the same IUV.\n\
         - Codici fiscali, partite IVA, IBANs (mod 97 and CIN; postal IBANs must be Poste accounts) and taxonomy \
         codes are validated, and every wrong field is reported at once as `field: reason`.\n\
         - Dates without an offset are read as UTC, like GPD; dates are written in RFC 3339 with `Z`.\n\
         - `status` is computed at the time of the request (a PUBLISHED position whose validity date has come \
         is VALID). The list's `status` filter uses the stored status, which a sweep refreshes every minute.\n\
         - An installment (`isPartialPayment: true`) may carry `validFrom`: it cannot be paid before that \
         instant (the start of its window), at a PSP or on the portal. Returned only when set."
    );
    doc["servers"] = json!([{ "url": "/", "description": "this cassa installation" }]);
    doc["security"] = json!([{ "ApiKey": [] }]);
    let option = &mut doc["components"]["schemas"]["PaymentOptionModel"];
    if let Some(required) = option["required"].as_array_mut() {
        required.retain(|r| r != "iuv");
    }
    option["properties"]["iuv"]["description"] = json!(
        "The IUV (17 digits for this ente). cassa extension: leave it out and cassa generates it."
    );
    option["properties"]["nav"]["description"] = json!(
        "The notice number: aux digit 3 followed by the IUV. Optional; derived from the IUV."
    );
    for schema in ["PaymentOptionModel", "PaymentOptionModelResponse"] {
        doc["components"]["schemas"][schema]["properties"]["validFrom"] = json!({
            "type": "string",
            "format": "date-time",
            "description": "cassa extension: an installment cannot be paid before this (the start of its window)."
        });
    }
    add_printouts(&mut doc);
    add_jobs(&mut doc);
    add_anomalies(&mut doc);
    doc
}

/// cassa's own operations: receipts kept but not applied.
fn add_anomalies(doc: &mut Value) {
    let organization = json!({ "name": "organizationfiscalcode", "in": "path", "required": true, "schema": { "type": "string" } });
    let text = json!({ "type": "string" });
    let maybe = json!({ "type": "string", "nullable": true });
    doc["components"]["schemas"]["Anomaly"] = json!({
        "type": "object",
        "description": "A receipt the node sent that paid no debt: the money arrived and may have to be refunded.",
        "properties": {
            "id": { "type": "integer", "format": "int64" },
            "receiptId": text, "noticeNumber": text,
            "status": { "type": "string", "enum": ["double_payment", "unknown_notice", "amount_mismatch", "superseded", "cancelled_debt"],
                "description": "double_payment: the notice was already paid; unknown_notice: no debt has it; amount_mismatch: another amount; superseded: the debt was paid another way (at once or in installments); cancelled_debt: the ente cancelled the debt" },
            "amount": { "type": "string", "description": "Euro, two decimals" }, "fee": maybe,
            "pspId": text, "pspCompanyName": text, "payerFiscalCode": maybe, "payerName": maybe,
            "paymentDateTime": maybe, "receivedAt": text,
            "handledAt": maybe, "handledBy": maybe, "handledNote": maybe,
            "rawXml": { "type": "string", "description": "The receipt as received (single anomaly only)" }
        }
    });
    let base = "/organizations/{organizationfiscalcode}/anomalies";
    doc["paths"][base] = json!({ "get": {
        "tags": ["Anomalies API"], "operationId": "listAnomalies",
        "summary": "cassa extension: the ente's receipts that were kept but not applied, newest first",
        "parameters": [organization,
            { "name": "handled", "in": "query", "required": false, "schema": { "type": "boolean" },
              "description": "true: only those handled in the back office; false: only those still to handle" },
            { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 } }],
        "responses": {
            "200": { "description": "The anomalies", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Anomaly" } } } } },
            "401": { "description": "Wrong or missing API key" }
        },
        "security": [{ "ApiKey": [] }]
    }});
    doc["paths"][format!("{base}/{{id}}")] = json!({ "get": {
        "tags": ["Anomalies API"], "operationId": "getAnomaly",
        "summary": "cassa extension: one anomaly, with the receipt's XML as received",
        "parameters": [organization, { "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "format": "int64" } }],
        "responses": {
            "200": { "description": "The anomaly", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Anomaly" } } } },
            "404": { "description": "No such anomaly of this ente" },
            "401": { "description": "Wrong or missing API key" }
        },
        "security": [{ "ApiKey": [] }]
    }});
}

/// cassa's own operations: the notice and receipt PDFs of a position.
fn add_printouts(doc: &mut Value) {
    let pdf_operation = |id: &str, summary: &str, conflict: &str| {
        json!({ "get": {
            "tags": ["Debt Positions API"],
            "operationId": id,
            "summary": summary,
            "parameters": [
                { "name": "organizationfiscalcode", "in": "path", "required": true, "schema": { "type": "string" } },
                { "name": "iupd", "in": "path", "required": true, "schema": { "type": "string" } }
            ],
            "responses": {
                "200": { "description": "The PDF", "content": { "application/pdf": {
                    "schema": { "type": "string", "format": "binary" } } } },
                "401": { "description": "Wrong or missing API key" },
                "404": { "description": "No such debt position",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ProblemJson" } } } },
                "409": { "description": conflict,
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ProblemJson" } } } }
            },
            "security": [{ "ApiKey": [] }]
        }})
    };
    let base = "/organizations/{organizationfiscalcode}/debtpositions/{iupd}";
    doc["paths"][format!("{base}/notice")] = pdf_operation(
        "getDebtPositionNotice",
        "cassa extension: the payment notice (avviso di pagamento) PDF of the unpaid options",
        "The position is a draft, closed, or fully paid",
    );
    doc["paths"][format!("{base}/receipt")] = pdf_operation(
        "getDebtPositionReceipt",
        "cassa extension: the receipts of the paid options, one page each",
        "No option of the position is paid yet",
    );
}

/// cassa's own operations: background jobs (bulk printing of notices).
fn add_jobs(doc: &mut Value) {
    let problem =
        json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ProblemJson" } } });
    let organization = json!({ "name": "organizationfiscalcode", "in": "path", "required": true, "schema": { "type": "string" } });
    let id = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "format": "int64" } });
    let date = json!({ "type": "string", "format": "date" });
    doc["components"]["schemas"]["BulkNoticesRequest"] = json!({
        "type": "object",
        "additionalProperties": false,
        "description": "Which notices to print. Only published, not yet closed positions are printed; every filter given must match.",
        "properties": {
            "format": { "type": "string", "enum": ["PDF_PER_POSITION", "MERGED"], "default": "PDF_PER_POSITION",
                "description": "One PDF per debt position, or merged PDFs (up to noticesPerFile notices each)" },
            "noticesPerFile": { "type": "integer", "minimum": 1, "maximum": 1000, "description": "MERGED only; default 1000" },
            "tipoDovuto": { "type": "string", "description": "The code of one of the ente's tipi dovuto" },
            "dueDateFrom": date, "dueDateTo": date,
            "createdFrom": date, "createdTo": date,
            "iupds": { "type": "array", "maxItems": 10000, "items": { "type": "string" },
                "description": "Only these positions; the ones that cannot be printed are listed as skipped in indice.csv" }
        }
    });
    doc["components"]["schemas"]["Job"] = json!({
        "type": "object",
        "properties": {
            "id": { "type": "integer", "format": "int64" },
            "kind": { "type": "string", "enum": ["bulk_notices", "import_dovuti", "import_notices", "export_pagati"] },
            "state": { "type": "string", "enum": ["QUEUED", "RUNNING", "DONE", "FAILED"] },
            "progress": { "type": "object", "properties": {
                "done": { "type": "integer" }, "total": { "type": "integer" }, "percent": { "type": "integer" } } },
            "request": { "type": "object", "description": "A BulkNoticesRequest, or for an import { fileName, upload }" },
            "result": { "type": "object", "nullable": true, "description": "bulk_notices: fileName, bytes, printed, skipped, pdfFiles. import_dovuti: applied, version, rows, refused, inserted, modified, annulled, notices, noticesPending, noticesError, fileError, files (the reports, at files/{name})",
                "properties": {
                "fileName": { "type": "string" }, "bytes": { "type": "integer" },
                "printed": { "type": "integer" }, "skipped": { "type": "integer" }, "pdfFiles": { "type": "integer" },
                "applied": { "type": "boolean" }, "version": { "type": "string", "nullable": true },
                "rows": { "type": "integer" }, "refused": { "type": "integer" }, "inserted": { "type": "integer" },
                "modified": { "type": "integer" }, "annulled": { "type": "integer" },
                "notices": { "type": "integer" },
                "noticesPending": { "type": "boolean", "description": "The file is applied; its notices are still being printed (the ZIP joins files when done)" },
                "noticesError": { "type": "string", "description": "Why the notices could not be printed; the file is applied" },
                "fileError": { "type": "string", "nullable": true },
                "files": { "type": "array", "items": { "type": "string" } } } },
            "error": { "type": "string", "nullable": true },
            "createdAt": { "type": "string", "format": "date-time" },
            "startedAt": { "type": "string", "format": "date-time", "nullable": true },
            "finishedAt": { "type": "string", "format": "date-time", "nullable": true },
            "download": { "type": "string", "nullable": true, "description": "Where to download the file once DONE" }
        }
    });
    let job = json!({ "application/json": { "schema": { "$ref": "#/components/schemas/Job" } } });
    let base = "/organizations/{organizationfiscalcode}/jobs";
    doc["paths"][format!("{base}/bulk-notices")] = json!({ "post": {
        "tags": ["Jobs API"], "operationId": "startBulkNotices",
        "summary": "cassa extension: print many notices in the background, as one ZIP",
        "description": "Queues a job and answers at once; follow it at the Location URL. The ZIP holds the PDFs and indice.csv (file;iupd;numero_avviso;codice_fiscale_debitore;debitore;importo;scadenza;esito).",
        "parameters": [organization],
        "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/BulkNoticesRequest" } } } },
        "responses": {
            "202": { "description": "Queued", "content": job },
            "400": { "description": "A field is wrong (the detail names it)", "content": problem },
            "401": { "description": "Wrong or missing API key" }
        },
        "security": [{ "ApiKey": [] }]
    }});
    doc["paths"][format!("{base}/imports")] = json!({ "post": {
        "tags": ["Jobs API"], "operationId": "startImport",
        "summary": "cassa extension: import a MyPay (1_0 to 1_4) or P4PA (2_0, 2_0-eng) debt file",
        "description": "The body is the file itself (.csv, or .zip holding one; at most 512 MB), named by fileName as MyPay names it (<codIPA>-<IUF>-<versione>). The whole file is checked, then applied whole or not at all: new debts are staged out of sight, then everything becomes visible at once, in the transaction that marks the job DONE; payments go on meanwhile. The job's result lists the reports (<name>_SCARTI.csv and esito.csv, or <name>_IUV.csv and, when asked, <name>_AVVISI_PDF.zip, which joins the files once printed: noticesPending says it is on its way). The same file sent again is refused with 409 and changes nothing.",
        "parameters": [organization, { "name": "fileName", "in": "query", "required": true, "schema": { "type": "string" } },
            { "name": "notices", "in": "query", "required": false, "schema": { "type": "boolean", "default": false },
              "description": "Also print the notices of the positions applied, in <name>_AVVISI_PDF.zip (listed among the result's files once printed, after the import is DONE)" }],
        "requestBody": { "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
        "responses": {
            "202": { "description": "Queued", "content": job },
            "400": { "description": "No file, or a file name that is not .csv/.zip", "content": problem },
            "401": { "description": "Wrong or missing API key" },
            "409": { "description": "This file was sent before (the detail names that import)", "content": problem },
            "413": { "description": "Larger than 512 MB", "content": problem }
        },
        "security": [{ "ApiKey": [] }]
    }});
    doc["paths"][format!("{base}/exports")] = json!({ "post": {
        "tags": ["Jobs API"], "operationId": "startExport",
        "summary": "cassa extension: export what was paid in a period (MyPay flusso pagati 1_0-1_3, or CSV)",
        "description": "Queues a job; its result names the file (a ZIP named <codIpa>-<id>_ESTRAZIONE_DOVUTI_<yyyyMMddHHmmss>-<versione> for MyPay, or a CSV), downloadable at files/{name}. Dates are Italian days, both included.",
        "parameters": [organization],
        "requestBody": { "content": { "application/json": { "schema": { "type": "object", "required": ["from", "to"],
            "properties": {
                "from": date, "to": date,
                "format": { "type": "string", "enum": ["MYPAY", "CSV"], "default": "MYPAY" },
                "version": { "type": "string", "enum": ["1_0", "1_1", "1_2", "1_3"], "default": "1_3" },
                "withReceipts": { "type": "boolean", "default": false } } } } } },
        "responses": {
            "202": { "description": "Queued", "content": job },
            "400": { "description": "A field is wrong (the detail names it)", "content": problem },
            "401": { "description": "Wrong or missing API key" }
        },
        "security": [{ "ApiKey": [] }]
    }});
    doc["paths"][format!("{base}/{{id}}/files/{{name}}")] = json!({ "get": {
        "tags": ["Jobs API"], "operationId": "getJobFileByName",
        "summary": "cassa extension: one of the files a job lists in its result",
        "parameters": [organization, id.clone(), { "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }],
        "responses": {
            "200": { "description": "The file", "content": { "text/csv": { "schema": { "type": "string" } } } },
            "401": { "description": "Wrong or missing API key" },
            "404": { "description": "No such job, or no such file of it", "content": problem }
        },
        "security": [{ "ApiKey": [] }]
    }});
    doc["paths"][base] = json!({ "get": {
        "tags": ["Jobs API"], "operationId": "listJobs",
        "summary": "cassa extension: the ente's latest 50 jobs, newest first",
        "parameters": [organization],
        "responses": {
            "200": { "description": "The jobs", "content": { "application/json": { "schema": {
                "type": "array", "items": { "$ref": "#/components/schemas/Job" } } } } },
            "401": { "description": "Wrong or missing API key" }
        },
        "security": [{ "ApiKey": [] }]
    }});
    doc["paths"][format!("{base}/{{id}}")] = json!({ "get": {
        "tags": ["Jobs API"], "operationId": "getJob",
        "summary": "cassa extension: a job's state and progress",
        "parameters": [organization, id],
        "responses": {
            "200": { "description": "The job", "content": job },
            "404": { "description": "No such job for this ente", "content": problem }
        },
        "security": [{ "ApiKey": [] }]
    }});
    doc["paths"][format!("{base}/{{id}}/file")] = json!({ "get": {
        "tags": ["Jobs API"], "operationId": "getJobFile",
        "summary": "cassa extension: download what a finished job produced (Range requests allowed)",
        "parameters": [organization, id],
        "responses": {
            "200": { "description": "The ZIP", "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } },
            "404": { "description": "No such job for this ente", "content": problem },
            "409": { "description": "The job has not finished", "content": problem },
            "410": { "description": "The file is no longer kept", "content": problem }
        },
        "security": [{ "ApiKey": [] }]
    }});
}

async fn openapi_json(State(state): State<ApiState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.to_string(),
    )
        .into_response()
}

struct Parameter {
    name: String,
    location: String,
    required: bool,
    schema: String,
    description: String,
}

struct Operation {
    method: String,
    path: String,
    anchor: String,
    summary: String,
    parameters: Vec<Parameter>,
    body: Option<String>,
    responses: Vec<(String, String)>,
}

struct Property {
    name: String,
    kind: String,
    required: bool,
    description: String,
}

struct Schema {
    name: String,
    properties: Vec<Property>,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    title: String,
    description: String,
    operations: Vec<Operation>,
    schemas: Vec<Schema>,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn type_of(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    let base = match schema["type"].as_str() {
        Some("array") => format!("array of {}", type_of(&schema["items"])),
        Some(t) => t.to_owned(),
        None => "object".to_owned(),
    };
    let mut extras = Vec::new();
    if let Some(f) = schema["format"].as_str() {
        extras.push(f.to_owned());
    }
    if let Some(values) = schema["enum"].as_array() {
        extras.push(values.iter().map(text).collect::<Vec<_>>().join(" | "));
    }
    if let Some(p) = schema["pattern"].as_str() {
        extras.push(format!("pattern {p}"));
    }
    for (key, label) in [
        ("maxLength", "max length"),
        ("minimum", "min"),
        ("maximum", "max"),
    ] {
        if let Some(n) = schema[key].as_i64() {
            extras.push(format!("{label} {n}"));
        }
    }
    if extras.is_empty() {
        base
    } else {
        format!("{base} ({})", extras.join(", "))
    }
}

fn page(doc: &Value) -> DocsPage {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        for (method, op) in item.as_object().into_iter().flatten() {
            if method == "parameters" {
                continue;
            }
            let parameters = shared
                .iter()
                .chain(op["parameters"].as_array().into_iter().flatten())
                .map(|p| Parameter {
                    name: text(&p["name"]),
                    location: text(&p["in"]),
                    required: p["required"].as_bool().unwrap_or(false),
                    schema: type_of(&p["schema"]),
                    description: text(&p["description"]),
                })
                .collect();
            operations.push(Operation {
                method: method.to_uppercase(),
                anchor: text(&op["operationId"]),
                path: path.clone(),
                summary: text(&op["summary"]),
                parameters,
                body: op["requestBody"]["content"]["application/json"]
                    .get("schema")
                    .map(type_of),
                responses: op["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(code, r)| {
                        let schema = r["content"]["application/json"].get("schema").map(type_of);
                        let description = text(&r["description"]);
                        (
                            code.clone(),
                            match schema {
                                Some(s) => format!("{description} — {s}"),
                                None => description,
                            },
                        )
                    })
                    .collect(),
            });
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, s)| {
            let required: Vec<&str> = s["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            Schema {
                name: name.clone(),
                properties: s["properties"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(prop, p)| Property {
                        required: required.contains(&prop.as_str()),
                        name: prop.clone(),
                        kind: type_of(p),
                        description: text(&p["description"]),
                    })
                    .collect(),
            }
        })
        .collect();
    DocsPage {
        title: text(&doc["info"]["title"]),
        description: text(&doc["info"]["description"]),
        operations,
        schemas,
    }
}

async fn docs_page(State(state): State<ApiState>) -> Response {
    match page(&state.openapi).render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the API page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
