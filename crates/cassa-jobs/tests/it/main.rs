//! The worker against a real database (SQLite and PostgreSQL): bulk notice
//! jobs from the queue to the ZIP on disk, whose PDFs are rasterised and
//! their QR codes decoded back.

mod import;
mod import_p4pa;

use std::io::Read;
use std::path::PathBuf;

use cassa_core::Iban;
use cassa_jobs::bulk_notices::{BulkFormat, BulkNotices, BulkNoticesResult, KIND};
use cassa_jobs::{FileStore, Worker};
use cassa_store::{Actor, Ente, Job, JobState, NewJob, Origin, PositionWrite, Store, StoreOptions};
use cassa_testkit::documents::{BarcodeFormat, decode, rasterise};
use cassa_testkit::positions::{draft, now, tipo_dovuto};
use cassa_testkit::{Backend, TestDatabase, backend_tests, fresh_database, new_ente};

backend_tests!(
    one_pdf_per_position_with_an_index,
    merged_pdfs_split_at_the_asked_size,
    named_positions_that_cannot_be_printed_are_listed_as_skipped,
    an_impossible_request_fails_with_its_reason,
);

struct Fixture {
    store: Store,
    ente: Ente,
    worker: Worker,
    files: FileStore,
    _files_dir: tempfile::TempDir,
    _db: TestDatabase,
}

const ACTOR: Actor<'static> = Actor {
    name: "test",
    request_id: None,
};

async fn fixture(backend: Backend) -> Fixture {
    let db = fresh_database(backend).await;
    let store = Store::connect(&db.url, StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut ente = new_ente("01199250158", "Comune di Milano", 2);
    ente.postal_iban = Some(Iban::italian("07601", "01600", "000012345678").unwrap());
    let ente = store.create_ente(&ente, "test", now()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::new(dir.path());
    Fixture {
        worker: Worker::new(store.clone(), files.clone()),
        store,
        ente,
        files,
        _files_dir: dir,
        _db: db,
    }
}

impl Fixture {
    /// Positions `<prefix>-0` … published, of tipo dovuto `tipo` if given.
    async fn positions(&self, prefix: &str, count: usize, tipo: Option<i64>) {
        for i in 0..count {
            let d = draft(&format!("{prefix}-{i}"), &[&[10_000 + i as i64]]);
            self.store
                .create_position(PositionWrite {
                    ente: &self.ente,
                    tipo_dovuto_id: tipo,
                    draft: &d,
                    to_publish: true,
                    origin: Origin::Api,
                    actor: ACTOR,
                    now: now(),
                })
                .await
                .unwrap();
        }
    }

    async fn run(&self, request: &BulkNotices) -> Job {
        self.run_job(KIND, &serde_json::to_string(request).unwrap())
            .await
    }

    /// Queues a job of `kind` for the ente, runs it, answers it as it ended.
    async fn run_job(&self, kind: &str, params: &str) -> Job {
        let job = self
            .store
            .enqueue_job(
                NewJob {
                    ente_id: self.ente.id,
                    kind,
                    params,
                    created_by: "test",
                },
                now(),
            )
            .await
            .unwrap();
        assert_eq!(self.worker.run_next().await.unwrap(), Some(job.id));
        self.store.job(self.ente.id, job.id).await.unwrap().unwrap()
    }

    fn zip(&self, job: &Job) -> (BulkNoticesResult, zip::ZipArchive<std::fs::File>) {
        assert_eq!(job.state, JobState::Done, "{:?}", job.error);
        let result: BulkNoticesResult = serde_json::from_str(job.result.as_ref().unwrap()).unwrap();
        let path = self.files.job_file(job.id, &result.file_name).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), result.bytes);
        let archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        (result, archive)
    }
}

fn entry(archive: &mut zip::ZipArchive<std::fs::File>, name: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    archive
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} is in the ZIP"))
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

fn index_rows(archive: &mut zip::ZipArchive<std::fs::File>) -> Vec<Vec<String>> {
    let index = entry(archive, "indice.csv");
    csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(index.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bulk");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn one_pdf_per_position_with_an_index(backend: Backend) {
    let f = fixture(backend).await;
    let tipo = f
        .store
        .create_tipo_dovuto(f.ente.id, &tipo_dovuto("TARI"), "test", now())
        .await
        .unwrap();
    f.positions("TARI", 5, Some(tipo.id)).await;
    f.positions("MENSA", 2, None).await;

    let job = f
        .run(&BulkNotices {
            tipo_dovuto: Some("TARI".into()),
            ..BulkNotices::default()
        })
        .await;
    assert_eq!((job.progress_done, job.progress_total), (5, 5));
    let (result, mut archive) = f.zip(&job);
    assert_eq!(
        (result.printed, result.skipped, result.pdf_files),
        (5, 0, 5)
    );
    assert_eq!(
        result.file_name,
        format!("avvisi-01199250158-{}.zip", job.id)
    );
    let rows = index_rows(&mut archive);
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .all(|r| r[1].starts_with("TARI-") && r[7] == "STAMPATO")
    );
    assert_eq!(archive.len(), 6, "five PDFs and the index");

    // The third position's notice: its QR code says its notice number,
    // the ente and its amount; the postal slip carries the Data Matrix.
    let third = &rows[2];
    assert_eq!(third[1], "TARI-2");
    assert_eq!(third[5], "100.02");
    assert_eq!(third[0], format!("TARI-2_{}.pdf", third[2]));
    let pdf = entry(&mut archive, &third[0]);
    let pages = rasterise(&pdf, &artifacts(), &format!("per-position-{backend:?}"));
    let codes = decode(&pages[0]);
    assert!(
        codes.contains(&(
            BarcodeFormat::QR_CODE,
            format!("PAGOPA|002|{}|01199250158|10002", third[2])
        )),
        "{codes:?}"
    );
    assert!(
        codes
            .iter()
            .any(|(format, _)| *format == BarcodeFormat::DATA_MATRIX)
    );
}

async fn merged_pdfs_split_at_the_asked_size(backend: Backend) {
    let f = fixture(backend).await;
    f.positions("P", 5, None).await;
    let job = f
        .run(&BulkNotices {
            format: BulkFormat::Merged,
            notices_per_file: Some(2),
            ..BulkNotices::default()
        })
        .await;
    let (result, mut archive) = f.zip(&job);
    assert_eq!((result.printed, result.pdf_files), (5, 3));
    let rows = index_rows(&mut archive);
    let files: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        files,
        [
            "avvisi-0001.pdf",
            "avvisi-0001.pdf",
            "avvisi-0002.pdf",
            "avvisi-0002.pdf",
            "avvisi-0003.pdf"
        ]
    );
    let pdf = entry(&mut archive, "avvisi-0002.pdf");
    let pages = rasterise(&pdf, &artifacts(), &format!("merged-{backend:?}"));
    assert_eq!(pages.len(), 2, "one page per single-payment notice");
    for (page, row) in pages.iter().zip(&rows[2..4]) {
        let qr = decode(page)
            .into_iter()
            .find(|(format, _)| *format == BarcodeFormat::QR_CODE)
            .unwrap();
        assert!(qr.1.starts_with(&format!("PAGOPA|002|{}|01199250158|", row[2])));
    }
}

async fn named_positions_that_cannot_be_printed_are_listed_as_skipped(backend: Backend) {
    let f = fixture(backend).await;
    f.positions("P", 3, None).await;
    f.store
        .invalidate_position(f.ente.id, "P-1", ACTOR, now())
        .await
        .unwrap();
    let job = f
        .run(&BulkNotices {
            iupds: vec!["P-0".into(), "P-1".into(), "=NOPE()".into(), "P-2".into()],
            ..BulkNotices::default()
        })
        .await;
    assert_eq!((job.progress_done, job.progress_total), (4, 4));
    let (result, mut archive) = f.zip(&job);
    assert_eq!((result.printed, result.skipped), (2, 2));
    let rows = index_rows(&mut archive);
    let outcome: Vec<(&str, &str)> = rows.iter().map(|r| (r[1].as_str(), &r[7][..8])).collect();
    // In the order asked; a cell that looks like a formula is defused.
    assert_eq!(
        outcome,
        [
            ("P-0", "STAMPATO"),
            ("P-1", "SCARTATO"),
            ("'=NOPE()", "SCARTATO"),
            ("P-2", "STAMPATO")
        ]
    );
    assert!(rows[1][7].contains("not published or already closed"));
}

async fn an_impossible_request_fails_with_its_reason(backend: Backend) {
    let f = fixture(backend).await;
    f.positions("P", 1, None).await;
    let job = f
        .run(&BulkNotices {
            tipo_dovuto: Some("NONE".into()),
            ..BulkNotices::default()
        })
        .await;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(
        job.error.as_deref(),
        Some("tipoDovuto \"NONE\": no such tipo dovuto")
    );
    // Nothing half-written is left to download.
    assert!(
        !f.files
            .root()
            .join("jobs")
            .join(job.id.to_string())
            .exists()
    );
    // The queue is empty again.
    assert_eq!(f.worker.run_next().await.unwrap(), None);
}
