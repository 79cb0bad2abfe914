//! Turns laid-out pages into a PDF with krilla, which embeds each font of the chain that is
//! used as a subset (CIDFontType2 for TrueType outlines) with a ToUnicode CMap built from the
//! text each glyph stands for.

use crate::FormError;
use crate::fonts::Fonts;
use crate::layout::{Laid, Op, PAGE_H, PAGE_W};
use krilla::Document;
use krilla::geom::{PathBuilder, Point, Size, Transform};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use std::collections::BTreeMap;

pub(crate) fn to_pdf(laid: &Laid, fonts: &Fonts, title: &str) -> Result<Vec<u8>, FormError> {
    let mut krilla_fonts: BTreeMap<usize, Font> = BTreeMap::new();
    let mut font = |i: usize| -> Result<Font, FormError> {
        if let Some(f) = krilla_fonts.get(&i) {
            return Ok(f.clone());
        }
        let (data, index) = fonts.data(i)?;
        let f = Font::new(data.into(), index).ok_or_else(|| FormError::Font {
            path: format!("font {i} of the chain"),
            reason: "krilla cannot read it".into(),
        })?;
        krilla_fonts.insert(i, f.clone());
        Ok(f)
    };

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(title.to_owned())
            .language("zh-CN".to_owned())
            .creator("pdf-forms".to_owned()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4 is a valid page size");
    for ops in &laid.pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold,
                    runs,
                } => {
                    surface.set_fill(Some(Fill::default()));
                    // WenQuanYi Micro Hei has no bold face: titles are filled and stroked.
                    surface.set_stroke(bold.then(|| Stroke {
                        width: size * 0.035,
                        ..Stroke::default()
                    }));
                    let mut cx = *x;
                    for run in runs {
                        let glyphs: Vec<KrillaGlyph> = run
                            .glyphs
                            .iter()
                            .map(|(gid, adv, range)| {
                                KrillaGlyph::new(
                                    GlyphId::new(*gid),
                                    *adv,
                                    0.0,
                                    0.0,
                                    0.0,
                                    range.clone(),
                                    None,
                                )
                            })
                            .collect();
                        surface.draw_glyphs(
                            Point::from_xy(cx, *y),
                            &glyphs,
                            font(run.font)?,
                            &run.text,
                            *size,
                            false,
                        );
                        cx += run.glyphs.iter().map(|g| g.1).sum::<f32>() * size;
                    }
                }
                Op::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y1);
                    pb.line_to(*x2, *y2);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            width: *width,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                    }
                }
                Op::Image { x, y, w, h, index } => {
                    if let Some(size) = Size::from_wh(*w, *h) {
                        surface.push_transform(&Transform::from_translate(*x, *y));
                        surface.draw_image(laid.pictures[*index].image.clone(), size);
                        surface.pop();
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| FormError::Pdf(format!("{e:?}")))
}
