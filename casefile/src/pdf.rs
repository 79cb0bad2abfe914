//! The enforcement documents of a case file, rendered by `pdf-forms` from the signed
//! version: every form the record has material for ([`pdf_forms::forms_for`]). Signature
//! images are read from the same place as the photos.

use crate::case::CaseRenderer;
use crate::export::{DocumentRenderer, PhotoSource, RenderError, RenderedDocument};
use app_core::checklist::ChecklistTemplate;
use app_core::evidence::Sha256Hex;
use app_core::inspection::Inspection;
use app_core::penalty::PenaltyCase;
use std::io::Read;

/// An image's bytes from `source` (`None` when it cannot be read: pdf-forms says so).
fn read_image(source: &dyn PhotoSource, sha: &Sha256Hex) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    source.open(sha).ok()?.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Renders the record's forms as PDF.
pub struct PdfForms<'a> {
    /// The checklist template the record was made with (item titles and legal bases).
    pub template: Option<&'a ChecklistTemplate>,
    /// The issuing unit's full name, printed on the forms.
    pub unit_name: &'a str,
    /// Where signature images are read from (by SHA-256; pdf-forms checks the bytes).
    pub images: &'a dyn PhotoSource,
}

impl std::fmt::Debug for PdfForms<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfForms")
            .field("template", &self.template.map(|t| t.reference()))
            .field("unit_name", &self.unit_name)
            .finish_non_exhaustive()
    }
}

impl DocumentRenderer for PdfForms<'_> {
    fn render(&self, signed: &Inspection) -> Result<Vec<RenderedDocument>, RenderError> {
        let images = |sha: &Sha256Hex| read_image(self.images, sha);
        let input = pdf_forms::FormInput {
            record: signed,
            template: self.template,
            unit_name: self.unit_name,
            images: &images,
        };
        pdf_forms::forms_for(signed)
            .into_iter()
            .map(|kind| {
                let rendered = pdf_forms::render(kind, &input)?;
                Ok(RenderedDocument {
                    file_name: kind.file_name().to_owned(),
                    title_zh: kind.title_zh().to_owned(),
                    bytes: rendered.pdf,
                    warnings: rendered.warnings,
                })
            })
            .collect()
    }
}

/// Renders a penalty case's documents as PDF (`pdf_forms::render_case_file`): the 卷内目录
/// first as `00-卷内目录.pdf`, then each signed document in its order as
/// `NN-<文书名称>-<文号>.pdf`.
pub struct CasePdfForms<'a> {
    /// The issuing unit's full name, printed on the documents.
    pub unit_name: &'a str,
    /// Where the 询问笔录's signature images are read from (by SHA-256; pdf-forms checks the
    /// bytes).
    pub images: &'a dyn PhotoSource,
}

impl std::fmt::Debug for CasePdfForms<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CasePdfForms")
            .field("unit_name", &self.unit_name)
            .finish_non_exhaustive()
    }
}

/// A 文号 as part of a file name: characters an archive name refuses become `_`.
fn file_name_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

impl CaseRenderer for CasePdfForms<'_> {
    fn render(&self, case: &PenaltyCase) -> Result<Vec<RenderedDocument>, RenderError> {
        let images = |sha: &Sha256Hex| read_image(self.images, sha);
        let input = pdf_forms::CaseInput {
            unit_name: self.unit_name,
            images: &images,
        };
        let parts = pdf_forms::render_case_file(case, &input)?;
        Ok(parts
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let mut file_name = format!("{i:02}-{}", file_name_part(&part.title));
                if !part.number.is_empty() {
                    file_name.push('-');
                    file_name.push_str(&file_name_part(&part.number));
                }
                file_name.push_str(".pdf");
                RenderedDocument {
                    file_name,
                    title_zh: part.title,
                    bytes: part.rendered.pdf,
                    warnings: part.rendered.warnings,
                }
            })
            .collect())
    }
}
