//! Text as printed: Italian amounts and dates, upper-case ASCII for the
//! Data Matrix, and fitting text into a width (cut with an ellipsis, or
//! wrapped into lines) using the font's own advance widths.

use cassa_core::Cents;
use jiff::civil::Date;

/// `1.234,56`: Italian thousands and decimal separators, no currency sign.
pub fn amount(cents: Cents) -> String {
    cents.to_italian().trim_end_matches(" €").to_owned()
}

/// `31/12/2026`.
pub fn date(d: Date) -> String {
    d.strftime("%d/%m/%Y").to_string()
}

/// Upper-case ASCII: accented letters lose their accents, anything else
/// outside printable ASCII becomes a space or a plain equivalent.
pub fn ascii_upper(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'À' | 'Á' | 'Â' | 'Ä' => 'A',
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'E',
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
            'ò' | 'ó' | 'ô' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Ö' => 'O',
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
            'ç' | 'Ç' => 'C',
            'ñ' | 'Ñ' => 'N',
            '’' | '‘' | '`' | '´' => '\'',
            '–' | '—' => '-',
            c if c.is_ascii_graphic() => c.to_ascii_uppercase(),
            _ => ' ',
        })
        .collect()
}

/// One glyph as drawn: its id in the font and its advance in font units.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct GlyphAdvance {
    pub id: u16,
    pub advance: u16,
}

/// Glyphs and advance widths of one font, to measure text before drawing
/// it and to draw exactly what was measured. No shaping: cassa prints
/// Latin text, and shaping every run (rustybuzz re-reads the font's tables
/// each time) was a fifth of a notice's rendering time.
pub struct Metrics {
    face: ttf_parser::Face<'static>,
    units_per_em: f32,
    /// Each char below U+0250 (Latin), looked up once.
    latin: Vec<GlyphAdvance>,
}

impl Metrics {
    pub fn new(font_data: &'static [u8]) -> Option<Metrics> {
        let face = ttf_parser::Face::parse(font_data, 0).ok()?;
        let mut metrics = Metrics {
            units_per_em: f32::from(face.units_per_em()),
            face,
            latin: Vec::new(),
        };
        metrics.latin = (0u32..0x250)
            .map(|u| metrics.look_up(char::from_u32(u).unwrap_or('?')))
            .collect();
        Some(metrics)
    }

    /// A char without a glyph of its own is drawn as "?".
    fn look_up(&self, c: char) -> GlyphAdvance {
        let glyph = |c: char| {
            let id = self.face.glyph_index(c)?;
            Some(GlyphAdvance {
                id: id.0,
                advance: self.face.glyph_hor_advance(id).unwrap_or(0),
            })
        };
        glyph(c)
            .or_else(|| glyph('?'))
            .unwrap_or(GlyphAdvance { id: 0, advance: 0 })
    }

    pub fn glyph(&self, c: char) -> GlyphAdvance {
        match self.latin.get(c as usize) {
            Some(known) => *known,
            None => self.look_up(c),
        }
    }

    pub fn units_per_em(&self) -> f32 {
        self.units_per_em
    }

    /// Width of `text` at `size` points, as drawn.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text.chars().map(|c| u32::from(self.glyph(c).advance)).sum();
        units as f32 * size / self.units_per_em
    }

    /// `text` as is if it fits in `max` points, else cut with "…".
    pub fn fit(&self, text: &str, size: f32, max: f32) -> String {
        if self.width(text, size) <= max {
            return text.to_owned();
        }
        let ellipsis = self.width("…", size);
        let mut out = String::new();
        let mut used = 0.0;
        for c in text.chars() {
            let w = self.width(c.encode_utf8(&mut [0; 4]), size);
            if used + w + ellipsis > max {
                break;
            }
            used += w;
            out.push(c);
        }
        format!("{}…", out.trim_end())
    }

    /// `text` wrapped at spaces into at most `max_lines` lines of `max`
    /// points; the last line is cut with "…" if the text goes on.
    pub fn wrap(&self, text: &str, size: f32, max: f32, max_lines: usize) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut current = String::new();
        for word in text.split_whitespace() {
            let candidate = if current.is_empty() {
                word.to_owned()
            } else {
                format!("{current} {word}")
            };
            if self.width(&candidate, size) <= max || current.is_empty() {
                current = candidate;
            } else {
                lines.push(std::mem::replace(&mut current, word.to_owned()));
            }
        }
        if !current.is_empty() {
            lines.push(current);
        }
        if lines.len() > max_lines {
            let rest = lines[max_lines - 1..].join(" ");
            lines.truncate(max_lines - 1);
            lines.push(self.fit(&format!("{rest} …"), size, max));
        }
        lines
            .into_iter()
            .map(|line| self.fit(&line, size, max))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fonts::REGULAR;

    #[test]
    fn amounts_and_dates_are_italian() {
        assert_eq!(amount(Cents::new(1)), "0,01");
        assert_eq!(amount(Cents::new(99_999_999_999)), "999.999.999,99");
        assert_eq!(date(Date::constant(2026, 3, 5)), "05/03/2026");
    }

    #[test]
    fn ascii_upper_drops_accents() {
        assert_eq!(ascii_upper("Niccolò D’Amà – ç"), "NICCOLO D'AMA - C");
    }

    #[test]
    fn fit_cuts_long_text_within_the_width() {
        let m = Metrics::new(REGULAR).unwrap();
        let long = "Comune di ".repeat(30);
        let cut = m.fit(&long, 10.0, 200.0);
        assert!(cut.ends_with('…'));
        assert!(m.width(&cut, 10.0) <= 200.0);
        assert_eq!(m.fit("Comune", 10.0, 200.0), "Comune");
    }

    #[test]
    fn wrap_keeps_lines_within_the_width_and_count() {
        let m = Metrics::new(REGULAR).unwrap();
        let text = "Tassa sui rifiuti anno 2026 seconda rata con conguaglio ".repeat(10);
        let lines = m.wrap(&text, 12.0, 250.0, 3);
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| m.width(l, 12.0) <= 250.0));
        assert!(lines[2].ends_with('…'));
        assert_eq!(m.wrap("Breve", 12.0, 250.0, 3), vec!["Breve"]);
    }

    #[test]
    fn printed_chars_have_their_own_glyphs() {
        let m = Metrics::new(REGULAR).unwrap();
        let question = m.glyph('?');
        for c in "AZaz09àèéìòùÀÈ€…’–—«»°".chars() {
            let g = m.glyph(c);
            assert_ne!(g, question, "{c:?} falls back to '?'");
            assert!(g.advance > 0, "{c:?} has no width");
        }
        // A char the font lacks is drawn, and measured, as "?".
        assert_eq!(m.glyph('\u{4e2d}'), question);
        assert_eq!(m.width("\u{4e2d}", 10.0), m.width("?", 10.0));
    }
}
