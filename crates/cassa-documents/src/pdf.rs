//! One PDF document: A4 pages, Titillium embedded and subset, PDF/A-2b
//! (archival) checked by krilla as it writes.

use krilla::configure::{Configuration, Validator};
use krilla::geom::Size;
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::{Document, SerializeSettings};

use crate::DocumentError;
use crate::canvas::{A4_HEIGHT, A4_WIDTH, Canvas};

pub struct Pdf {
    document: Document,
}

impl Pdf {
    /// A document titled `title`, dated `created` (UTC).
    pub fn new(title: &str, created: jiff::Timestamp) -> Pdf {
        let settings = SerializeSettings {
            configuration: Configuration::new_with_validator(Validator::A2_B),
            ..SerializeSettings::default()
        };
        let mut document = Document::new_with(settings);
        let utc = created.to_zoned(jiff::tz::TimeZone::UTC);
        let date = DateTime::new(utc.year() as u16)
            .month(utc.month() as u8)
            .day(utc.day() as u8)
            .hour(utc.hour() as u8)
            .minute(utc.minute() as u8)
            .second(utc.second() as u8)
            .utc_offset_hour(0)
            .utc_offset_minute(0);
        document.set_metadata(
            Metadata::new()
                .title(title.to_owned())
                .language("it-IT".to_owned())
                .creator("cassa".to_owned())
                .creation_date(date),
        );
        Pdf { document }
    }

    /// Draws one A4 page.
    pub fn page(&mut self, draw: impl FnOnce(&mut Canvas<'_, '_>)) {
        let size = Size::from_wh(A4_WIDTH, A4_HEIGHT).expect("A4 is not empty");
        let mut page = self.document.start_page_with(PageSettings::new(size));
        let mut surface = page.surface();
        draw(&mut Canvas::new(&mut surface));
        surface.finish();
        page.finish();
    }

    pub fn finish(self) -> Result<Vec<u8>, DocumentError> {
        self.document
            .finish()
            .map_err(|e| DocumentError::Pdf(format!("{e:?}")))
    }
}
