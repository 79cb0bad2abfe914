//! Prints an [`app_core::paper::Paper`] on a [`Layout`]: the document's content is app-core's
//! (the tablet shows the same model before signing), the page is this crate's.

use crate::layout::{Align, BODY, Cell, Layout};
use crate::{FormError, Images};
use app_core::paper::{self, Block, Paper};

/// Lays out every block of `paper`; signature images are fetched through `images` and
/// checked against their SHA-256.
pub(crate) fn print(
    doc: &mut Layout<'_>,
    paper: &Paper,
    images: Images<'_>,
) -> Result<(), FormError> {
    for block in &paper.blocks {
        match block {
            Block::Head => doc.head(&paper.unit_name)?,
            Block::Para {
                text,
                indent,
                align,
            } => doc.paragraph(text, BODY, false, align_of(*align), f32::from(*indent))?,
            Block::Space { points } => doc.space(*points),
            Block::Row { cells } => {
                let mut laid = Vec::with_capacity(cells.len());
                for (w, c) in cells {
                    laid.push((*w, cell(doc, c, images)?));
                }
                doc.row(&laid)?;
            }
            Block::Seal { date } => {
                doc.space(14.0);
                doc.ensure(BODY * 1.5 * 3.0)?;
                doc.paragraph(
                    &format!("{}（印章）", paper.unit_name),
                    BODY,
                    false,
                    Align::Right,
                    0.0,
                )?;
                doc.paragraph(date, BODY, false, Align::Right, 0.0)?;
            }
        }
    }
    Ok(())
}

fn align_of(a: paper::Align) -> Align {
    match a {
        paper::Align::Left => Align::Left,
        paper::Align::Right => Align::Right,
    }
}

fn cell(doc: &mut Layout<'_>, c: &paper::Cell, images: Images<'_>) -> Result<Cell, FormError> {
    Ok(match c {
        paper::Cell::Label(t) => Cell::Label(t.clone()),
        paper::Cell::Text(t) => Cell::Text(t.clone()),
        paper::Cell::Sign(s) => {
            let image = match &s.image {
                Some(digest) => {
                    let bytes = images(digest).ok_or_else(|| FormError::MissingSignatureImage {
                        signer: s.signer.clone(),
                        digest: digest.clone(),
                    })?;
                    Some(doc.add_picture(&s.signer, digest, bytes)?)
                }
                None => None,
            };
            Cell::Sign {
                caption: s.caption.clone(),
                image,
                below: s.below.clone(),
            }
        }
    })
}
