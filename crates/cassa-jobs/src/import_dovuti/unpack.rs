//! An upload made safe to read: a ZIP holds exactly one `.csv`, which is
//! extracted within a size and a compression-ratio limit (a deflate bomb
//! expands a thousandfold); every line of the CSV is at most
//! [`Limits::max_line`] bytes (a line with no end would grow a record in
//! memory without bound); and nothing is written without room on the disk.
//! Each refusal says why, and leaves nothing behind.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Copy, Clone, Debug)]
pub struct Limits {
    /// The most an extracted CSV may hold.
    pub max_bytes: u64,
    /// How many times its compressed size an entry may expand to. Real
    /// debt files compress 5 to 30 times.
    pub max_ratio: u64,
    /// The longest line, in bytes (MyPay's widest row is a few KiB).
    pub max_line: usize,
    /// Room left on the disk after the extraction, for the database and
    /// the receipts that share it.
    pub reserve: u64,
}

pub const LIMITS: Limits = Limits {
    max_bytes: 2 * 1024 * 1024 * 1024,
    max_ratio: 200,
    max_line: 64 * 1024,
    reserve: 1024 * 1024 * 1024,
};

/// The CSV to read for the upload at `path`: the file itself (its lines
/// checked), or the `.csv` of a ZIP extracted beside it once.
pub fn csv_of_upload(path: &Path, limits: &Limits) -> Result<PathBuf, String> {
    let mut file = File::open(path).map_err(|e| format!("il file non si può leggere: {e}"))?;
    let mut magic = [0u8; 4];
    let zipped = file.read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04";
    drop(file);
    if !zipped {
        let file = File::open(path).map_err(|e| format!("il file non si può leggere: {e}"))?;
        copy_lines(BufReader::new(file), std::io::sink(), limits, u64::MAX)?;
        return Ok(path.to_owned());
    }
    let extracted = path.with_extension("extracted.csv");
    if !extracted.exists() {
        extract(path, &extracted, limits)?;
    }
    Ok(extracted)
}

fn extract(zip_path: &Path, extracted: &Path, limits: &Limits) -> Result<(), String> {
    let invalid = |e: &dyn std::fmt::Display| format!("archivio ZIP non valido: {e}");
    let mut archive = zip::ZipArchive::new(File::open(zip_path).map_err(|e| e.to_string())?)
        .map_err(|e| invalid(&e))?;
    let files: Vec<usize> = (0..archive.len())
        .filter(|&i| {
            archive
                .name_for_index(i)
                .is_some_and(|n| n.is_ok_and(|n| !n.ends_with('/')))
        })
        .collect();
    let [index] = files[..] else {
        return Err(format!(
            "l'archivio ZIP deve contenere un solo file .csv, ne contiene {}",
            files.len()
        ));
    };
    let mut entry = archive.by_index(index).map_err(|e| invalid(&e))?;
    let name = entry.name().map_err(|e| invalid(&e))?;
    if !name.to_ascii_lowercase().ends_with(".csv") {
        return Err("l'archivio ZIP non contiene un file .csv".into());
    }
    let compressed = entry.compressed_size().max(1);
    let allowed = limits
        .max_bytes
        .min(compressed.saturating_mul(limits.max_ratio));
    if entry.size() > allowed {
        return Err(too_big(entry.size(), compressed, limits));
    }
    // Room for the most that may come out, not for what the header says.
    let free = crate::files::free_bytes_at(extracted.parent().unwrap_or(Path::new(".")));
    if free < allowed.saturating_add(limits.reserve) {
        return Err(format!(
            "non c'è spazio su disco per estrarre il file ({} MB liberi): riprovare più tardi",
            free / 1024 / 1024
        ));
    }
    let part = extracted.with_extension("part");
    let out = File::create(&part).map_err(|e| e.to_string())?;
    // The declared size may lie: the bytes that come out are what count.
    let copied = copy_lines(
        (&mut entry).take(allowed + 1),
        std::io::BufWriter::new(out),
        limits,
        allowed,
    );
    match copied {
        Ok(_) => std::fs::rename(&part, extracted).map_err(|e| e.to_string()),
        Err(why) => {
            let _ = std::fs::remove_file(&part);
            Err(if why == OVER_LIMIT {
                too_big(allowed + 1, compressed, limits)
            } else {
                why
            })
        }
    }
}

const OVER_LIMIT: &str = "over the limit";

fn too_big(size: u64, compressed: u64, limits: &Limits) -> String {
    if size > limits.max_bytes {
        format!(
            "il file estratto supererebbe {} MB: è rifiutato",
            limits.max_bytes / 1024 / 1024
        )
    } else {
        format!(
            "il file si espande oltre {} volte la sua dimensione compressa ({compressed} byte): è rifiutato come archivio malevolo",
            limits.max_ratio
        )
    }
}

/// Copies `from` into `to`, refusing a record (a line, or lines within
/// quotes) longer than the limit or more than `max_bytes` in all; answers
/// the bytes copied.
fn copy_lines(
    mut from: impl Read,
    mut to: impl Write,
    limits: &Limits,
    max_bytes: u64,
) -> Result<u64, String> {
    let mut buffer = vec![0u8; 256 * 1024];
    let (mut total, mut line, mut record_length) = (0u64, 1u64, 0usize);
    let (mut in_quotes, mut after_cr, mut record_line) = (false, false, 1u64);
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("il file non si può leggere: {e}")),
        };
        total += n as u64;
        if total > max_bytes {
            return Err(OVER_LIMIT.into());
        }
        let chunk = &buffer[..n];
        // A record ends at a line end outside quotes: a quote left open
        // makes one record of the rest of the file, as the CSV reader
        // would read it, and that is what must stay short.
        let mut start = 0;
        for at in memchr::memchr3_iter(b'\n', b'\r', b'"', chunk) {
            record_length += at - start;
            start = at + 1;
            let byte = chunk[at];
            let after_cr = std::mem::replace(&mut after_cr, byte == b'\r');
            if byte == b'"' {
                in_quotes = !in_quotes;
                record_length += 1;
                continue;
            }
            if !(byte == b'\n' && after_cr) {
                line += 1;
            }
            if in_quotes {
                record_length += 1;
            } else {
                record_length = 0;
                record_line = line;
            }
            if record_length > limits.max_line {
                return Err(long_line(record_line, limits));
            }
        }
        record_length += n - start;
        if record_length > limits.max_line {
            return Err(long_line(record_line, limits));
        }
        to.write_all(chunk)
            .map_err(|e| format!("il file non si può scrivere: {e}"))?;
    }
    to.flush()
        .map_err(|e| format!("il file non si può scrivere: {e}"))?;
    Ok(total)
}

fn long_line(line: u64, limits: &Limits) -> String {
    format!(
        "la riga {line} è più lunga di {} KB, o apre delle virgolette che non chiude: il file è rifiutato",
        limits.max_line / 1024
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const SMALL: Limits = Limits {
        max_bytes: 1024 * 1024,
        max_ratio: 50,
        max_line: 100,
        reserve: 0,
    };

    fn zip_of(dir: &Path, entries: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join("upload.zip");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    #[test]
    fn a_zip_with_one_reasonable_csv_is_extracted() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<u8> = (0..200)
            .flat_map(|i| format!("IUD-{i};{i}\n").into_bytes())
            .collect();
        let zip = zip_of(dir.path(), &[("dovuti.csv", &rows)]);
        let csv = csv_of_upload(&zip, &SMALL).unwrap();
        assert_eq!(std::fs::read(csv).unwrap(), rows);
    }

    #[test]
    fn a_bomb_is_refused_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let zeros = vec![b'0'; 900 * 1024];
        let zip = zip_of(dir.path(), &[("bomba.csv", &zeros)]);
        let why = csv_of_upload(&zip, &SMALL).unwrap_err();
        assert!(why.contains("50 volte"), "{why}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the upload stays: {left:?}");
    }

    #[test]
    fn more_than_the_total_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let lines: Vec<u8> = (0..100_000u32)
            .flat_map(|i| format!("{:08x}{:08x}\n", i.wrapping_mul(2_654_435_761), i).into_bytes())
            .collect();
        let zip = zip_of(dir.path(), &[("grande.csv", &lines)]);
        let limits = Limits {
            max_ratio: 1000,
            ..SMALL
        };
        let why = csv_of_upload(&zip, &limits).unwrap_err();
        assert!(why.contains("supererebbe 1 MB"), "{why}");
    }

    #[test]
    fn one_entry_only_and_a_csv() {
        let dir = tempfile::tempdir().unwrap();
        let two = zip_of(dir.path(), &[("a.csv", b"x\n"), ("b.csv", b"y\n")]);
        assert!(
            csv_of_upload(&two, &SMALL)
                .unwrap_err()
                .contains("ne contiene 2")
        );
        let other = zip_of(dir.path(), &[("a.exe", b"x\n")]);
        assert!(csv_of_upload(&other, &SMALL).unwrap_err().contains(".csv"));
    }

    #[test]
    fn a_line_without_end_is_refused_zipped_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = b"ok;1\nok;2\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 101));
        let plain = dir.path().join("righe.csv");
        std::fs::write(&plain, &text).unwrap();
        let why = csv_of_upload(&plain, &SMALL).unwrap_err();
        assert!(why.contains("la riga 3"), "{why}");
        let zip = zip_of(dir.path(), &[("righe.csv", &text)]);
        assert!(
            csv_of_upload(&zip, &SMALL)
                .unwrap_err()
                .contains("la riga 3")
        );
        // Exactly at the limit is fine.
        std::fs::write(&plain, vec![b'y'; 100]).unwrap();
        assert!(csv_of_upload(&plain, &SMALL).is_ok());
    }

    #[test]
    fn a_bomb_that_lies_about_its_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        // Short lines: only the count of what comes out can refuse it.
        let rows = b"IUD-1;RSSMRA85T10A562S;Mario Rossi;12.00\n".repeat(20_000);
        let zip = zip_of(dir.path(), &[("bugiarda.csv", &rows)]);
        // Both headers claim 1,000 bytes once extracted.
        let mut bytes = std::fs::read(&zip).unwrap();
        for (signature, at) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
            let start = bytes.windows(4).position(|w| w == signature).unwrap();
            bytes[start + at..start + at + 4].copy_from_slice(&1000u32.to_le_bytes());
        }
        std::fs::write(&zip, bytes).unwrap();
        let why = csv_of_upload(&zip, &SMALL).unwrap_err();
        // Refused by the zip reader's own check, or by our count.
        assert!(
            why.contains("declared uncompressed size") || why.contains("oltre 50 volte"),
            "{why}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the upload stays: {left:?}");
    }

    #[test]
    fn no_room_on_the_disk_refuses_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let zip = zip_of(dir.path(), &[("dovuti.csv", b"a;1\n")]);
        let greedy = Limits {
            reserve: u64::MAX / 2,
            ..SMALL
        };
        let why = csv_of_upload(&zip, &greedy).unwrap_err();
        assert!(why.contains("spazio su disco"), "{why}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_open_quote_makes_one_long_record_and_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let plain = |name: &str, text: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            csv_of_upload(&path, &SMALL)
        };
        // A quote never closed: the CSV reader would read the rest of the
        // file as one field, however short its lines.
        let mut open = b"IUD;causale\nA-1;\"mensa\n".to_vec();
        open.extend(b"riga breve\n".repeat(20));
        let why = plain("aperta.csv", &open).unwrap_err();
        assert!(
            why.contains("riga 2 ") && why.contains("virgolette"),
            "{why}"
        );
        // A quoted field with a line end inside, and quotes doubled, is fine.
        let quoted = b"IUD;causale\nA-1;\"mensa\nmarzo \"\"A\"\"\"\nA-2;x\n";
        assert!(plain("citata.csv", quoted).is_ok());
        // Lines ended by CR alone (old Mac files) are lines.
        let cr = b"IUD;causale\rA-1;mensa\r".repeat(20);
        assert!(plain("cr.csv", &cr).is_ok());
        let crlf = b"IUD;causale\r\nA-1;mensa\r\n".repeat(20);
        assert!(plain("crlf.csv", &crlf).is_ok());
    }
}
