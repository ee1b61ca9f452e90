//! The ZIP of a bulk print, written as pages of positions arrive: PDFs go
//! in stored (they are compressed already), `indice.csv` goes in last.
//!
//! krilla's documents cannot move between threads, so the ZIP is written
//! by one thread of its own for the whole job; the job hands it pages over
//! a channel of one slot, which also bounds memory.

use std::io::{self, Write};

use cassa_documents::{Notice, NoticeBook, render_notice};
use jiff::Timestamp;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{BulkFormat, BulkNoticesResult};
use crate::csv_cell;
use crate::files::PartFile;
use crate::job::JobFailure;

enum Batch {
    Entries(Vec<Entry>),
    /// Everything was sent: finish and commit the file.
    End,
}

/// The job's side of the writing thread.
pub struct ArchiveWriter {
    batches: tokio::sync::mpsc::Sender<Batch>,
    written: tokio::sync::mpsc::UnboundedReceiver<u64>,
    thread: Option<std::thread::JoinHandle<io::Result<BulkNoticesResult>>>,
    done: u64,
}

impl ArchiveWriter {
    pub fn start(
        file: PartFile,
        format: BulkFormat,
        per_book: usize,
        created: Timestamp,
        file_name: String,
    ) -> ArchiveWriter {
        let (batches, mut incoming) = tokio::sync::mpsc::channel(1);
        let (report, written) = tokio::sync::mpsc::unbounded_channel();
        let thread = std::thread::spawn(move || {
            let mut archive = Archive::new(file, format, per_book, created);
            while let Some(batch) = incoming.blocking_recv() {
                match batch {
                    Batch::Entries(entries) => {
                        let count = entries.len() as u64;
                        archive.add(entries)?;
                        let _ = report.send(count);
                    }
                    Batch::End => return archive.finish(&file_name),
                }
            }
            // The job stopped half-way: the file is not committed.
            Err(io::Error::other("the job stopped before the end"))
        });
        ArchiveWriter {
            batches,
            written,
            thread: Some(thread),
            done: 0,
        }
    }

    /// Hands over a page; returns how many entries are written so far.
    pub async fn send(&mut self, entries: Vec<Entry>) -> Result<u64, JobFailure> {
        if self.batches.send(Batch::Entries(entries)).await.is_err() {
            // The thread stopped on an error: joining it says which.
            return Err(match self.join().await {
                Err(failure) => failure,
                Ok(_) => JobFailure::Failed("the ZIP writer stopped early".into()),
            });
        }
        while let Ok(count) = self.written.try_recv() {
            self.done += count;
        }
        Ok(self.done)
    }

    pub async fn finish(mut self) -> Result<BulkNoticesResult, JobFailure> {
        // A send error means the thread has ended already; join says why.
        let _ = self.batches.send(Batch::End).await;
        self.join().await
    }

    async fn join(&mut self) -> Result<BulkNoticesResult, JobFailure> {
        let Some(thread) = self.thread.take() else {
            return Err(JobFailure::Failed("the ZIP writer stopped early".into()));
        };
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(Ok(result))) => Ok(result),
            Ok(Ok(Err(e))) => Err(JobFailure::Failed(format!("writing the ZIP: {e}"))),
            _ => Err(JobFailure::Failed("the ZIP writer crashed".into())),
        }
    }
}

/// One position to print, or the reason it cannot be.
pub struct Entry {
    pub iupd: String,
    pub debtor_fiscal_code: String,
    pub debtor_name: String,
    pub notice: Result<Notice, String>,
}

impl Entry {
    pub fn missing(iupd: &str) -> Entry {
        Entry {
            iupd: iupd.to_owned(),
            debtor_fiscal_code: String::new(),
            debtor_name: String::new(),
            notice: Err("no such debt position, or it is not published or already closed".into()),
        }
    }
}

struct Archive {
    zip: ZipWriter<PartFile>,
    format: BulkFormat,
    per_book: usize,
    created: Timestamp,
    index: csv::Writer<Vec<u8>>,
    /// The merged PDF being filled, and its number.
    book: Option<(NoticeBook, usize)>,
    books: usize,
    printed: u64,
    skipped: u64,
    pdf_files: u64,
}

const INDEX_HEADER: [&str; 8] = [
    "file",
    "iupd",
    "numero_avviso",
    "codice_fiscale_debitore",
    "debitore",
    "importo",
    "scadenza",
    "esito",
];

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

fn stored() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(false)
}

/// A file name from an IUPD: safe characters only, never empty.
fn file_stem(iupd: &str) -> String {
    let stem: String = iupd
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if stem.is_empty() { "_".into() } else { stem }
}

impl Archive {
    fn new(file: PartFile, format: BulkFormat, per_book: usize, created: Timestamp) -> Archive {
        let mut index = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(Vec::new());
        index.write_record(INDEX_HEADER).expect("writing to memory");
        Archive {
            zip: ZipWriter::new(file),
            format,
            per_book: per_book.max(1),
            created,
            index,
            book: None,
            books: 0,
            printed: 0,
            skipped: 0,
            pdf_files: 0,
        }
    }

    /// Renders and writes one page of positions, in their order.
    fn add(&mut self, entries: Vec<Entry>) -> io::Result<()> {
        match self.format {
            BulkFormat::PdfPerPosition => {
                let pdfs = render_in_parallel(&entries);
                for (entry, pdf) in entries.iter().zip(pdfs) {
                    match pdf {
                        Ok((name, bytes)) => {
                            self.zip
                                .start_file(name.as_str(), stored())
                                .map_err(io_error)?;
                            self.zip.write_all(&bytes)?;
                            self.pdf_files += 1;
                            self.printed(&name, entry)?;
                        }
                        Err(why) => self.skipped(entry, &why)?,
                    }
                }
            }
            BulkFormat::Merged => {
                for entry in &entries {
                    let notice = match &entry.notice {
                        Ok(notice) => notice,
                        Err(why) => {
                            self.skipped(entry, why)?;
                            continue;
                        }
                    };
                    let (book, number) = self.book.get_or_insert_with(|| {
                        self.books += 1;
                        let title = format!("Avvisi di pagamento, parte {}", self.books);
                        (NoticeBook::new(&title, self.created), self.books)
                    });
                    let name = book_name(*number);
                    match book.add(notice) {
                        Ok(()) => self.printed(&name, entry)?,
                        Err(e) => self.skipped(entry, &e.to_string())?,
                    }
                    if self
                        .book
                        .as_ref()
                        .is_some_and(|(b, _)| b.notices() >= self.per_book)
                    {
                        self.close_book()?;
                    }
                }
            }
        }
        Ok(())
    }

    fn close_book(&mut self) -> io::Result<()> {
        let Some((book, number)) = self.book.take() else {
            return Ok(());
        };
        if book.notices() == 0 {
            return Ok(());
        }
        let bytes = book.finish().map_err(io_error)?;
        self.zip
            .start_file(book_name(number).as_str(), stored())
            .map_err(io_error)?;
        self.zip.write_all(&bytes)?;
        self.pdf_files += 1;
        Ok(())
    }

    fn printed(&mut self, file: &str, entry: &Entry) -> io::Result<()> {
        self.printed += 1;
        let notice = entry
            .notice
            .as_ref()
            .expect("printed entries have a notice");
        let first = notice.first_payment();
        let total = notice
            .full
            .as_ref()
            .map(|p| p.amount)
            .unwrap_or_else(|| notice.installments.iter().map(|p| p.amount).sum());
        self.row([
            file,
            &entry.iupd,
            first.map(|p| p.notice.as_str()).unwrap_or_default(),
            &entry.debtor_fiscal_code,
            &entry.debtor_name,
            &total.to_decimal(),
            &first
                .and_then(|p| p.due_date)
                .map(|d| d.strftime("%d/%m/%Y").to_string())
                .unwrap_or_default(),
            "STAMPATO",
        ])
    }

    fn skipped(&mut self, entry: &Entry, why: &str) -> io::Result<()> {
        self.skipped += 1;
        let reason = format!("SCARTATO: {why}");
        self.row([
            "",
            &entry.iupd,
            "",
            &entry.debtor_fiscal_code,
            &entry.debtor_name,
            "",
            "",
            &reason,
        ])
    }

    fn row(&mut self, cells: [&str; 8]) -> io::Result<()> {
        self.index
            .write_record(cells.map(csv_cell))
            .map_err(io_error)
    }

    /// Writes the last merged PDF and the index, closes the ZIP, and makes
    /// the file visible.
    fn finish(mut self, file_name: &str) -> io::Result<BulkNoticesResult> {
        self.close_book()?;
        let index = self.index.into_inner().map_err(io_error)?;
        self.zip
            .start_file(
                "indice.csv",
                SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
            )
            .map_err(io_error)?;
        self.zip.write_all(&index)?;
        let file = self.zip.finish().map_err(io_error)?;
        let path = file.commit()?;
        Ok(BulkNoticesResult {
            file_name: file_name.to_owned(),
            bytes: std::fs::metadata(path)?.len(),
            printed: self.printed,
            skipped: self.skipped,
            pdf_files: self.pdf_files,
        })
    }
}

fn book_name(number: usize) -> String {
    format!("avvisi-{number:04}.pdf")
}

/// Each entry's file name and PDF, rendered on every core; order kept.
fn render_in_parallel(entries: &[Entry]) -> Vec<Result<(String, Vec<u8>), String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = entries.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = entries
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || chunk.iter().map(render_one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("rendering thread panicked"))
            .collect()
    })
}

fn render_one(entry: &Entry) -> Result<(String, Vec<u8>), String> {
    let notice = entry.notice.as_ref().map_err(Clone::clone)?;
    let number = notice
        .first_payment()
        .map(|p| p.notice.as_str().to_owned())
        .unwrap_or_default();
    let bytes = render_notice(notice).map_err(|e| e.to_string())?;
    Ok((format!("{}_{number}.pdf", file_stem(&entry.iupd)), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("TARI-2026/0001 bis"), "TARI-2026_0001_bis");
        assert_eq!(file_stem("../../etc"), "______etc");
        assert_eq!(file_stem(""), "_");
        assert_eq!(file_stem(&"x".repeat(200)).len(), 80);
    }
}
