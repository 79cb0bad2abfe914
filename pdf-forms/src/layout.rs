//! Page layout: text set glyph by glyph through the font chain, wrapped at any CJK character
//! (and at spaces between Latin words), boxed table rows that continue on the next page when
//! they are long, and a footer on every page. The result is a list of pages of drawing
//! operations ([`Op`]) that `paint` turns into PDF; laying out first lets the footer say
//! "page i of N".

use crate::FormError;
use crate::fonts::{Fonts, GlyphInfo};
use app_core::evidence::Sha256Hex;
use std::collections::HashMap;
use std::ops::Range;

/// A4 in PDF points.
pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 56.0;
const MARGIN_TOP: f32 = 50.0;
/// The body ends here; the footer sits below.
const BODY_BOTTOM: f32 = PAGE_H - 62.0;
pub(crate) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const PAD: f32 = 4.0;
/// 五号 (10.5 pt), the usual size of body text in Chinese official forms.
pub(crate) const BODY: f32 = 10.5;
const LINE: f32 = 1.5;
/// Height of the area a signature image is fitted into.
pub(crate) const SIGN_H: f32 = 34.0;

/// Consecutive characters set in one font.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub font: usize,
    pub text: String,
    /// Glyph id, advance in em, and the glyph's bytes in `text` (for ToUnicode).
    pub glyphs: Vec<(u32, f32, Range<usize>)>,
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// Text whose baseline starts at (x, y); y grows downwards from the top of the page.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        runs: Vec<Run>,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
    },
    Image {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        index: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

/// What a table cell holds.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    /// A field label, centred.
    Label(String),
    /// A value, left-aligned and wrapped.
    Text(String),
    /// A signature: a caption, the image (or nothing), and lines below it.
    Sign {
        caption: String,
        image: Option<usize>,
        below: String,
    },
}

/// A cell's content laid out in lines.
#[derive(Debug, Clone)]
struct CellLines {
    lines: Vec<String>,
    /// Picture index and its size on the page.
    picture: Option<(usize, f32, f32)>,
    below: Vec<String>,
    label: bool,
}

/// A signature or other picture, decoded and checked.
#[derive(Debug, Clone)]
pub(crate) struct Picture {
    pub image: krilla::image::Image,
    pub width: u32,
    pub height: u32,
}

/// Pages ready to paint.
#[derive(Debug)]
pub(crate) struct Laid {
    pub pages: Vec<Vec<Op>>,
    pub pictures: Vec<Picture>,
    pub warnings: Vec<crate::FormWarning>,
}

#[derive(Debug)]
pub(crate) struct Layout<'f> {
    fonts: &'f Fonts,
    cache: HashMap<char, GlyphInfo>,
    pages: Vec<Vec<Op>>,
    y: f32,
    title: String,
    number: String,
    pub(crate) pictures: Vec<Picture>,
    /// Characters no font covers, each with the text it was first seen in (printed as
    /// placeholders, reported as warnings).
    pub(crate) uncovered: Vec<(char, String)>,
    /// Fallback fonts that could not be read (source, reason), skipped.
    pub(crate) skipped_fonts: Vec<(String, String)>,
}

/// What a character no font covers is printed as: `[U+2EBF0]`.
pub(crate) fn placeholder(ch: char) -> String {
    format!("[U+{:04X}]", u32::from(ch))
}

/// Characters that have no look of their own and are left out of the printed text (the
/// record keeps them): variation selectors (e.g. an ideographic variation sequence's
/// U+E0100), zero-width joiners and spaces, the byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(u32::from(c),
        0x200B..=0x200D | 0x2060 | 0xFE00..=0xFE0F | 0xFEFF | 0xE0100..=0xE01EF)
}

fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x2E80..=0x303F | 0x3040..=0x9FFF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Characters that must not start a line (closing punctuation, 避头点).
fn no_break_before(c: char) -> bool {
    "，。、；：？！）》」』】〕〉”’%,.;:?!)]}·…—".contains(c)
}

/// Characters that must not end a line (opening punctuation).
fn no_break_after(c: char) -> bool {
    "（《「『【〔〈“‘([{".contains(c)
}

impl<'f> Layout<'f> {
    pub(crate) fn new(fonts: &'f Fonts, title: &str, number: String) -> Self {
        Self {
            fonts,
            cache: HashMap::new(),
            pages: vec![Vec::new()],
            y: MARGIN_TOP,
            title: title.to_owned(),
            number,
            pictures: Vec::new(),
            uncovered: Vec::new(),
            skipped_fonts: Vec::new(),
        }
    }

    /// The glyph of `ch`, or `None` when no font of the chain has it.
    fn lookup(&mut self, ch: char) -> Result<Option<GlyphInfo>, FormError> {
        if let Some(g) = self.cache.get(&ch) {
            return Ok(Some(*g));
        }
        let g = self.fonts.glyph(ch, &mut self.skipped_fonts)?;
        if let Some(g) = g {
            self.cache.insert(ch, g);
        }
        Ok(g)
    }

    /// The glyph of a character of text that went through [`Layout::printable`]; only the
    /// placeholder's own characters (ASCII) can be missing here, when the body font lacks
    /// them.
    fn glyph(&mut self, ch: char, text: &str) -> Result<GlyphInfo, FormError> {
        self.lookup(ch)?
            .ok_or_else(|| FormError::UncoveredCharacter {
                ch,
                field: format!("text {:?}", text.chars().take(40).collect::<String>()),
            })
    }

    /// `text` as it is printed: a character no font covers becomes a placeholder naming it
    /// (`[U+2EBF0]`, noted for the warnings), invisible characters are left out, controls
    /// print as spaces. Text already printable comes back unchanged.
    pub(crate) fn printable(&mut self, text: &str) -> Result<String, FormError> {
        let mut out = String::with_capacity(text.len());
        for ch in text.chars() {
            if ch == '\n' || ch == '\r' {
                out.push(ch);
                continue;
            }
            if is_invisible(ch) {
                continue;
            }
            let shown = if ch.is_control() { ' ' } else { ch };
            if self.lookup(shown)?.is_some() {
                out.push(shown);
            } else {
                if !self.uncovered.iter().any(|(c, _)| *c == shown) {
                    let context: String = text.chars().take(40).collect();
                    self.uncovered.push((shown, context));
                }
                out.push_str(&placeholder(shown));
            }
        }
        Ok(out)
    }

    /// Splits `text` (one line, no line breaks) into runs by font.
    pub(crate) fn shape(&mut self, text: &str) -> Result<Vec<Run>, FormError> {
        let mut runs: Vec<Run> = Vec::new();
        for ch in text.chars() {
            // Tabs and other controls print as a space; line breaks are handled by callers.
            let shown = if ch.is_control() { ' ' } else { ch };
            let g = self.glyph(shown, text)?;
            match runs.last_mut() {
                Some(r) if r.font == g.font => {
                    let at = r.text.len();
                    r.glyphs
                        .push((g.glyph, g.advance, at..at + shown.len_utf8()));
                    r.text.push(shown);
                }
                _ => runs.push(Run {
                    font: g.font,
                    text: shown.to_string(),
                    glyphs: vec![(g.glyph, g.advance, 0..shown.len_utf8())],
                }),
            }
        }
        Ok(runs)
    }

    pub(crate) fn measure(&mut self, text: &str, size: f32) -> Result<f32, FormError> {
        let mut w = 0.0;
        for ch in text.chars() {
            let shown = if ch.is_control() { ' ' } else { ch };
            w += self.glyph(shown, text)?.advance * size;
        }
        Ok(w)
    }

    /// Wraps `text` into lines no wider than `width`. Explicit line breaks are kept; a line may
    /// break before or after any CJK character (except before closing or after opening
    /// punctuation) and at spaces; a Latin word longer than the line is cut.
    pub(crate) fn wrap(
        &mut self,
        text: &str,
        size: f32,
        width: f32,
    ) -> Result<Vec<String>, FormError> {
        let text = self.printable(text)?;
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let para = para.trim_end_matches('\r');
            let chars: Vec<char> = para.chars().collect();
            let mut start = 0;
            while start < chars.len() {
                let mut w = 0.0;
                let mut last_break: Option<usize> = None;
                let mut end = start;
                while end < chars.len() {
                    let c = chars[end];
                    if end > start && self.can_break(&chars, end) {
                        last_break = Some(end);
                    }
                    let shown = if c.is_control() { ' ' } else { c };
                    let adv = self.glyph(shown, para)?.advance * size;
                    if w + adv > width && end > start {
                        break;
                    }
                    w += adv;
                    end += 1;
                }
                let cut = if end < chars.len() {
                    last_break.filter(|b| *b > start).unwrap_or(end)
                } else {
                    end
                };
                let line: String = chars[start..cut].iter().collect();
                lines.push(line.trim_end().to_owned());
                start = cut;
                while start < chars.len() && chars[start] == ' ' {
                    start += 1;
                }
            }
            if chars.is_empty() {
                lines.push(String::new());
            }
        }
        Ok(lines)
    }

    /// Whether a line may break between `chars[i - 1]` and `chars[i]`.
    fn can_break(&self, chars: &[char], i: usize) -> bool {
        let (a, b) = (chars[i - 1], chars[i]);
        if no_break_before(b) || no_break_after(a) {
            return false;
        }
        a == ' ' || is_cjk(a) || is_cjk(b)
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page is always open")
    }

    fn new_page(&mut self) -> Result<(), FormError> {
        self.pages.push(Vec::new());
        self.y = MARGIN_TOP;
        // Continuation pages repeat the title and number, so a loose page is identifiable.
        let head = format!("{}（续）", self.title);
        let number = self.number.clone();
        self.put_text(
            MARGIN_X,
            self.y + 9.0,
            9.0,
            false,
            &head,
            Align::Left,
            CONTENT_W,
        )?;
        self.put_text(
            MARGIN_X,
            self.y + 9.0,
            9.0,
            false,
            &number,
            Align::Right,
            CONTENT_W,
        )?;
        self.y += 16.0;
        Ok(())
    }

    fn room(&self) -> f32 {
        BODY_BOTTOM - self.y
    }

    /// Makes sure `h` points fit, starting a new page if they do not.
    pub(crate) fn ensure(&mut self, h: f32) -> Result<(), FormError> {
        if h > self.room() {
            self.new_page()?;
        }
        Ok(())
    }

    pub(crate) fn space(&mut self, h: f32) {
        self.y += h;
    }

    /// Draws one line of text with its baseline at `y`, aligned within `[x, x + width]`.
    #[allow(clippy::too_many_arguments)]
    fn put_text(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        text: &str,
        align: Align,
        width: f32,
    ) -> Result<(), FormError> {
        if text.is_empty() {
            return Ok(());
        }
        let text = &self.printable(text)?;
        let w = self.measure(text, size)?;
        let x = match align {
            Align::Left => x,
            Align::Center => x + (width - w) / 2.0,
            Align::Right => x + width - w,
        };
        let runs = self.shape(text)?;
        self.ops().push(Op::Text {
            x,
            y,
            size,
            bold,
            runs,
        });
        Ok(())
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32) {
        self.ops().push(Op::Line {
            x1,
            y1,
            x2,
            y2,
            width,
        });
    }

    /// A paragraph across the content width, continuing on the next page when needed.
    /// `indent` em of first-line indent (2 for body text in official documents).
    pub(crate) fn paragraph(
        &mut self,
        text: &str,
        size: f32,
        bold: bool,
        align: Align,
        indent: f32,
    ) -> Result<(), FormError> {
        let lh = size * LINE;
        let indent_text: String = std::iter::repeat_n('\u{3000}', indent as usize).collect();
        let full = format!("{indent_text}{text}");
        for line in self.wrap(&full, size, CONTENT_W)? {
            self.ensure(lh)?;
            let y = self.y + size;
            self.put_text(MARGIN_X, y, size, bold, &line, align, CONTENT_W)?;
            self.y += lh;
        }
        Ok(())
    }

    /// Decodes a signature image and keeps it for drawing; the bytes must hash to `digest`.
    pub(crate) fn add_picture(
        &mut self,
        signer: &str,
        digest: &Sha256Hex,
        bytes: Vec<u8>,
    ) -> Result<usize, FormError> {
        let found = Sha256Hex::of(&bytes);
        if &found != digest {
            return Err(FormError::SignatureImageMismatch {
                signer: signer.to_owned(),
                digest: digest.clone(),
                found,
            });
        }
        let bad = |reason: String| FormError::BadSignatureImage {
            signer: signer.to_owned(),
            digest: digest.clone(),
            reason,
        };
        let image = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            krilla::image::Image::from_png(bytes.into(), true).map_err(bad)?
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            krilla::image::Image::from_jpeg(bytes.into(), true).map_err(bad)?
        } else {
            return Err(bad("neither PNG nor JPEG signature bytes".into()));
        };
        let (width, height) = image.size();
        if width == 0 || height == 0 {
            return Err(bad("the image is empty".into()));
        }
        self.pictures.push(Picture {
            image,
            width,
            height,
        });
        Ok(self.pictures.len() - 1)
    }

    /// A row of boxed cells; `cells` are (share of the content width, content). A text row
    /// taller than the room left continues on the next page (labels marked 续).
    pub(crate) fn row(&mut self, cells: &[(f32, Cell)]) -> Result<(), FormError> {
        let size = BODY;
        let lh = size * LINE;
        let total: f32 = cells.iter().map(|(s, _)| s).sum();
        let widths: Vec<f32> = cells.iter().map(|(s, _)| s / total * CONTENT_W).collect();
        // Lay out every cell's lines.
        let mut laid: Vec<CellLines> = Vec::new();
        for ((_, cell), w) in cells.iter().zip(&widths) {
            let inner = w - 2.0 * PAD;
            laid.push(match cell {
                Cell::Label(t) | Cell::Text(t) => CellLines {
                    lines: self.wrap(t, size, inner)?,
                    picture: None,
                    below: Vec::new(),
                    label: matches!(cell, Cell::Label(_)),
                },
                Cell::Sign {
                    caption,
                    image,
                    below,
                } => {
                    let pic = image.map(|i| {
                        let p = &self.pictures[i];
                        let scale = (inner / p.width as f32).min(SIGN_H / p.height as f32);
                        (i, p.width as f32 * scale, p.height as f32 * scale)
                    });
                    let below = if below.is_empty() {
                        Vec::new()
                    } else {
                        self.wrap(below, size, inner)?
                    };
                    CellLines {
                        lines: self.wrap(caption, size, inner)?,
                        picture: pic,
                        below,
                        label: false,
                    }
                }
            });
        }
        let has_sign = cells.iter().any(|(_, c)| matches!(c, Cell::Sign { .. }));
        let height_of = |l: &CellLines| {
            let sign = if has_sign { SIGN_H } else { 0.0 };
            (l.lines.len() + l.below.len()) as f32 * lh + sign + 2.0 * PAD
        };
        let mut height = laid.iter().map(height_of).fold(0.0, f32::max);
        loop {
            if height <= self.room() {
                self.draw_row(cells, &widths, &laid, height)?;
                return Ok(());
            }
            let fit = ((self.room() - 2.0 * PAD) / lh).floor() as usize;
            let full_page_lines =
                ((BODY_BOTTOM - MARGIN_TOP - 16.0 - 2.0 * PAD) / lh).floor() as usize;
            let longest = laid.iter().map(|l| l.lines.len()).max().unwrap_or(0);
            if has_sign || fit < 2 || (fit < 4 && longest <= full_page_lines) {
                self.new_page()?;
                continue;
            }
            // Split: the first `fit` lines of every cell here, the rest on the next page.
            // Labels are short and repeated on every part.
            let head: Vec<CellLines> = laid
                .iter()
                .map(|l| CellLines {
                    lines: if l.label {
                        l.lines.clone()
                    } else {
                        l.lines.iter().take(fit).cloned().collect()
                    },
                    ..l.clone()
                })
                .collect();
            let h = fit as f32 * lh + 2.0 * PAD;
            self.draw_row(cells, &widths, &head, h)?;
            for l in laid.iter_mut().filter(|l| !l.label) {
                l.lines = l.lines.split_off(fit.min(l.lines.len()));
            }
            // The next part's labels say 续, wrapped to their column like any text (a label
            // that just fits would otherwise run into the cell beside it).
            for (((_, cell), w), l) in cells.iter().zip(&widths).zip(laid.iter_mut()) {
                if let Cell::Label(t) = cell {
                    l.lines = self.wrap(&format!("{t}（续）"), size, w - 2.0 * PAD)?;
                }
            }
            height = laid.iter().map(height_of).fold(0.0, f32::max);
            self.new_page()?;
        }
    }

    fn draw_row(
        &mut self,
        cells: &[(f32, Cell)],
        widths: &[f32],
        laid: &[CellLines],
        height: f32,
    ) -> Result<(), FormError> {
        let size = BODY;
        let lh = size * LINE;
        let top = self.y;
        let mut x = MARGIN_X;
        for (((_, cell), w), l) in cells.iter().zip(widths).zip(laid) {
            let (lines, pic, below) = (&l.lines, &l.picture, &l.below);
            let inner = w - 2.0 * PAD;
            let align = if matches!(cell, Cell::Label(_)) {
                Align::Center
            } else {
                Align::Left
            };
            // Labels are centred vertically; values start at the top.
            let text_h = lines.len() as f32 * lh;
            let mut y = if matches!(cell, Cell::Label(_)) {
                top + (height - text_h) / 2.0
            } else {
                top + PAD
            };
            for line in lines {
                self.put_text(x + PAD, y + size, size, false, line, align, inner)?;
                y += lh;
            }
            if matches!(cell, Cell::Sign { .. }) {
                if let Some((index, iw, ih)) = pic {
                    self.ops().push(Op::Image {
                        x: x + PAD,
                        y: y + (SIGN_H - ih) / 2.0,
                        w: *iw,
                        h: *ih,
                        index: *index,
                    });
                }
                y += SIGN_H;
                for line in below {
                    self.put_text(x + PAD, y + size, size, false, line, Align::Left, inner)?;
                    y += lh;
                }
            }
            // The cell's box.
            self.line(x, top, x + w, top, 0.6);
            self.line(x, top + height, x + w, top + height, 0.6);
            self.line(x, top, x, top + height, 0.6);
            self.line(x + w, top, x + w, top + height, 0.6);
            x += w;
        }
        self.y = top + height;
        Ok(())
    }

    /// The form's head: issuing unit, title, and the number at the top right.
    pub(crate) fn head(&mut self, unit_name: &str) -> Result<(), FormError> {
        let title = self.title.clone();
        let number = self.number.clone();
        self.paragraph(unit_name, 14.0, false, Align::Center, 0.0)?;
        self.space(4.0);
        // 二号 (22 pt) title, letter-spaced a little as printed forms are.
        let spaced: String = title
            .chars()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("\u{2009}");
        self.paragraph(&spaced, 22.0, true, Align::Center, 0.0)?;
        self.space(4.0);
        self.paragraph(&number, BODY, false, Align::Right, 0.0)?;
        self.space(6.0);
        Ok(())
    }

    /// Adds the footer to every page and returns the pages.
    pub(crate) fn finish(mut self, hash: &Sha256Hex) -> Result<Laid, FormError> {
        let n = self.pages.len();
        let pages = std::mem::take(&mut self.pages);
        let mut out = Vec::with_capacity(n);
        for (i, page) in pages.into_iter().enumerate() {
            self.pages = vec![page];
            let y = BODY_BOTTOM + 18.0;
            self.line(MARGIN_X, y - 10.0, MARGIN_X + CONTENT_W, y - 10.0, 0.4);
            let pageno = format!("第 {} 页 共 {} 页", i + 1, n);
            self.put_text(MARGIN_X, y, 8.0, false, &pageno, Align::Right, CONTENT_W)?;
            let label = format!("内容哈希 SHA-256：{hash}");
            self.put_text(MARGIN_X, y, 7.0, false, &label, Align::Left, CONTENT_W)?;
            out.push(self.pages.pop().expect("page"));
        }
        let mut warnings: Vec<crate::FormWarning> = self
            .skipped_fonts
            .into_iter()
            .map(|(font, reason)| crate::FormWarning::FontSkipped { font, reason })
            .collect();
        warnings.extend(self.uncovered.into_iter().map(|(ch, context)| {
            crate::FormWarning::UncoveredCharacter {
                ch,
                field: format!("text {context:?}"),
            }
        }));
        Ok(Laid {
            pages: out,
            pictures: self.pictures,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text op of a page as (baseline, left, right, text), its width measured from the
    /// glyph advances.
    fn texts(page: &[Op]) -> Vec<(f32, f32, f32, String)> {
        page.iter()
            .filter_map(|op| match op {
                Op::Text {
                    x, y, size, runs, ..
                } => {
                    let w: f32 = runs
                        .iter()
                        .flat_map(|r| r.glyphs.iter().map(|g| g.1))
                        .sum::<f32>()
                        * size;
                    let text: String = runs.iter().map(|r| r.text.as_str()).collect();
                    Some((*y, *x, x + w, text))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn continued_labels_stay_in_their_column_and_no_text_overlaps_another() {
        let mut doc = Layout::new(
            Fonts::system(),
            "现场检查记录",
            "玄应急检记〔2026〕1号".into(),
        );
        let problems: Vec<String> = (1..=150)
            .map(|n| format!("{n}. [GM-PX-{n:02}] 抛光车间干式除尘系统未设置泄爆装置：不符合。"))
            .collect();
        doc.row(&[
            (0.2, Cell::Label("发现的问题及依据".into())),
            (0.8, Cell::Text(problems.join("\n"))),
        ])
        .unwrap();
        let laid = doc.finish(&Sha256Hex::of(b"record")).unwrap();
        assert!(laid.pages.len() >= 3, "{} pages", laid.pages.len());
        let (left, right) = (MARGIN_X + PAD, MARGIN_X + 0.2 * CONTENT_W - PAD);
        let mut continued = 0;
        for (n, page) in laid.pages.iter().enumerate() {
            let texts = texts(page);
            // The label column's lines (the page head and footer start at the margin too but
            // sit above and below the table).
            for (y, x0, x1, text) in texts.iter().filter(|t| t.1 < right) {
                if *y < MARGIN_TOP + 16.0 || *y > BODY_BOTTOM {
                    continue;
                }
                assert!(
                    *x0 >= left - 0.01 && *x1 <= right + 0.01,
                    "page {n}: label {text:?} spans {x0:.1}–{x1:.1}, its column {left:.1}–{right:.1}"
                );
                continued += usize::from(text.contains('续'));
            }
            // No two texts on one baseline overlap.
            for (i, a) in texts.iter().enumerate() {
                for b in &texts[i + 1..] {
                    if (a.0 - b.0).abs() < 0.01 {
                        assert!(
                            a.2 <= b.1 + 0.01 || b.2 <= a.1 + 0.01,
                            "page {n}: {:?} ({:.1}–{:.1}) overlaps {:?} ({:.1}–{:.1})",
                            a.3,
                            a.1,
                            a.2,
                            b.3,
                            b.1,
                            b.2
                        );
                    }
                }
            }
        }
        assert_eq!(
            continued,
            laid.pages.len() - 1,
            "one 续 label per later page"
        );
    }
}
