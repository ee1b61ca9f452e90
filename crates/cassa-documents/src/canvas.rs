//! A small drawing vocabulary over krilla's page surface: styled text that
//! is measured before it is drawn, boxes, lines, code matrices as vector
//! squares, and logos. Coordinates are points from the top-left corner.

use std::sync::LazyLock;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::num::NormalizedF32;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};

use crate::codes::Modules;
use crate::fonts;
use crate::text::Metrics;

/// Millimetres to points.
pub const fn mm(value: f32) -> f32 {
    value * 72.0 / 25.4
}

pub const A4_WIDTH: f32 = 595.28;
pub const A4_HEIGHT: f32 = 841.89;

/// pagoPA's palette: dark blue text, the blue of titles, grey lines.
pub const INK: Rgb = Rgb(0x17, 0x32, 0x4d);
pub const BLUE: Rgb = Rgb(0x00, 0x66, 0xcc);
pub const GREY: Rgb = Rgb(0x5c, 0x6f, 0x82);
pub const RULE: Rgb = Rgb(0xc5, 0xcd, 0xd6);
pub const BAND: Rgb = Rgb(0xeb, 0xf2, 0xfa);
/// Poste asks for the slip's text in black at 70% density.
pub const BLACK_70: Rgb = Rgb(0x4d, 0x4d, 0x4d);
pub const BLACK: Rgb = Rgb(0, 0, 0);

/// A colour that can be a constant.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Weight {
    Regular,
    SemiBold,
    Bold,
}

struct Face {
    font: Font,
    metrics: Metrics,
}

/// The three weights, parsed once per process.
struct Faces {
    regular: Face,
    semibold: Face,
    bold: Face,
}

static FACES: LazyLock<Faces> = LazyLock::new(|| {
    let face = |data: &'static [u8]| Face {
        font: Font::new(data.into(), 0).expect("embedded font parses"),
        metrics: Metrics::new(data).expect("embedded font parses"),
    };
    Faces {
        regular: face(fonts::REGULAR),
        semibold: face(fonts::SEMIBOLD),
        bold: face(fonts::BOLD),
    }
});

fn face(weight: Weight) -> &'static Face {
    match weight {
        Weight::Regular => &FACES.regular,
        Weight::SemiBold => &FACES.semibold,
        Weight::Bold => &FACES.bold,
    }
}

/// How a run of text looks.
#[derive(Copy, Clone, Debug)]
pub struct Style {
    pub weight: Weight,
    pub size: f32,
    pub color: Rgb,
}

impl Style {
    pub const fn new(weight: Weight, size: f32, color: Rgb) -> Style {
        Style {
            weight,
            size,
            color,
        }
    }

    pub fn width(&self, text: &str) -> f32 {
        face(self.weight).metrics.width(text, self.size)
    }

    pub fn fit(&self, text: &str, max: f32) -> String {
        face(self.weight).metrics.fit(text, self.size, max)
    }

    pub fn wrap(&self, text: &str, max: f32, max_lines: usize) -> Vec<String> {
        face(self.weight)
            .metrics
            .wrap(text, self.size, max, max_lines)
    }

    /// Line height: 1.25 × the size.
    pub fn leading(&self) -> f32 {
        self.size * 1.25
    }
}

fn paint(color: Rgb) -> krilla::paint::Paint {
    rgb::Color::new(color.0, color.1, color.2).into()
}

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: paint(color),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

pub struct Canvas<'s, 'p> {
    surface: &'s mut Surface<'p>,
}

impl<'s, 'p> Canvas<'s, 'p> {
    pub fn new(surface: &'s mut Surface<'p>) -> Self {
        Canvas { surface }
    }

    /// `text` with its baseline at `y`, cut with "…" to `max` points.
    pub fn text(&mut self, x: f32, y: f32, style: Style, text: &str, max: f32) {
        self.draw(x, y, style, &style.fit(text, max));
    }

    /// Text already measured to fit.
    fn draw(&mut self, x: f32, y: f32, style: Style, fitted: &str) {
        if fitted.is_empty() {
            return;
        }
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(fill(style.color)));
        let face = face(style.weight);
        let per_unit = 1.0 / face.metrics.units_per_em();
        let glyphs: Vec<KrillaGlyph> = fitted
            .char_indices()
            .map(|(at, c)| {
                let glyph = face.metrics.glyph(c);
                KrillaGlyph {
                    glyph_id: GlyphId::new(u32::from(glyph.id)),
                    text_range: at..at + c.len_utf8(),
                    x_advance: f32::from(glyph.advance) * per_unit,
                    x_offset: 0.0,
                    y_offset: 0.0,
                    y_advance: 0.0,
                    location: None,
                }
            })
            .collect();
        self.surface.draw_glyphs(
            Point::from_xy(x, y),
            &glyphs,
            face.font.clone(),
            fitted,
            style.size,
            false,
        );
    }

    /// `text` ending at `right`.
    pub fn text_right(&mut self, right: f32, y: f32, style: Style, text: &str, max: f32) {
        let fitted = style.fit(text, max);
        self.draw(right - style.width(&fitted), y, style, &fitted);
    }

    /// `text` wrapped into at most `max_lines` lines; returns the baseline
    /// of the line after the last one drawn.
    pub fn paragraph(
        &mut self,
        x: f32,
        y: f32,
        style: Style,
        text: &str,
        max: f32,
        max_lines: usize,
    ) -> f32 {
        let mut baseline = y;
        for line in style.wrap(text, max, max_lines) {
            self.draw(x, baseline, style, &line);
            baseline += style.leading();
        }
        baseline
    }

    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        let Some(rect) = Rect::from_xywh(x, y, w, h) else {
            return;
        };
        let mut path = PathBuilder::new();
        path.push_rect(rect);
        if let Some(path) = path.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(fill(color)));
            self.surface.draw_path(&path);
        }
    }

    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, color: Rgb, width: f32) {
        let mut path = PathBuilder::new();
        path.move_to(x1, y1);
        path.line_to(x2, y2);
        if let Some(path) = path.finish() {
            self.surface.set_fill(None);
            self.surface.set_stroke(Some(Stroke {
                paint: paint(color),
                width,
                ..Stroke::default()
            }));
            self.surface.draw_path(&path);
            self.surface.set_stroke(None);
        }
    }

    /// A code matrix as black squares filling `side` × `side` points; the
    /// quiet zone around it is the caller's blank space. Runs of dark
    /// modules in a row become one rectangle, so the path stays small.
    pub fn modules(&mut self, x: f32, y: f32, side: f32, modules: &Modules) {
        let unit = side / modules.width.max(modules.height) as f32;
        let mut path = PathBuilder::new();
        for row in 0..modules.height {
            let mut col = 0;
            while col < modules.width {
                if !modules.is_dark(col, row) {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < modules.width && modules.is_dark(col, row) {
                    col += 1;
                }
                if let Some(rect) = Rect::from_xywh(
                    x + start as f32 * unit,
                    y + row as f32 * unit,
                    (col - start) as f32 * unit,
                    unit,
                ) {
                    path.push_rect(rect);
                }
            }
        }
        if let Some(path) = path.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(fill(BLACK)));
            self.surface.draw_path(&path);
        }
    }

    /// A PNG scaled to fit `max_w` × `max_h`, centred on the right edge of
    /// that box. Returns `false` (and draws nothing) if it is not a PNG.
    pub fn logo(&mut self, png: &[u8], right: f32, y: f32, max_w: f32, max_h: f32) -> bool {
        let Ok(image) = Image::from_png(png.to_vec().into(), false) else {
            return false;
        };
        let (w, h) = image.size();
        if w == 0 || h == 0 {
            return false;
        }
        let scale = (max_w / w as f32).min(max_h / h as f32);
        let (dw, dh) = (w as f32 * scale, h as f32 * scale);
        let Some(size) = Size::from_wh(dw, dh) else {
            return false;
        };
        self.surface.push_transform(&Transform::from_translate(
            right - dw,
            y + (max_h - dh) / 2.0,
        ));
        self.surface.draw_image(image, size);
        self.surface.pop();
        true
    }
}
