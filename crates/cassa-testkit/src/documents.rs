//! Reading PDFs back the way people and scanners do: pages rasterised with
//! pdftoppm (poppler-utils), codes decoded from the pixels with rxing, text
//! extracted with pdftotext.

use std::path::{Path, PathBuf};
use std::process::Command;

pub use rxing::BarcodeFormat;

/// Rasterises every page of `pdf` at 300 dpi into `dir` as `name-N.png`
/// (kept for people to look at); returns the paths, in page order.
pub fn rasterise(pdf: &[u8], dir: &Path, name: &str) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let pdf_path = dir.join(format!("{name}.pdf"));
    std::fs::write(&pdf_path, pdf).unwrap();
    let is_page = |p: &Path| {
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        file.strip_prefix(&format!("{name}-"))
            .and_then(|rest| rest.strip_suffix(".png"))
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
    };
    let pages = |dir: &Path| -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| is_page(p))
            .collect();
        found.sort();
        found
    };
    for old in pages(dir) {
        std::fs::remove_file(old).unwrap();
    }
    let status = Command::new("pdftoppm")
        .args(["-r", "300", "-png"])
        .arg(&pdf_path)
        .arg(dir.join(name))
        .status()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(status.success(), "pdftoppm failed on {name}");
    pages(dir)
}

/// Every code found on a page image, as (format, text), sorted by text.
pub fn decode(page: &Path) -> Vec<(BarcodeFormat, String)> {
    let image = image::open(page).unwrap();
    let mut found: Vec<(BarcodeFormat, String)> = rxing::helpers::detect_multiple_in_image(image)
        .unwrap_or_default()
        .into_iter()
        .map(|r| (*r.getBarcodeFormat(), r.getText().to_owned()))
        .collect();
    found.sort_by(|a, b| a.1.cmp(&b.1));
    found
}

/// The text of `pdf`, laid out as on the page.
pub fn pdf_text(pdf: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(file.path())
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).unwrap()
}

/// A 160 × 80 blue-and-white checkerboard PNG: an ente's logo in tests.
pub fn sample_logo() -> Vec<u8> {
    let image = image::RgbImage::from_fn(160, 80, |x, y| {
        if (x / 20 + y / 20) % 2 == 0 {
            image::Rgb([0, 102, 204])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}
