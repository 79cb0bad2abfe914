//! The enforcement documents of a case file, rendered by `pdf-forms` from the signed
//! version: every form the record has material for ([`pdf_forms::forms_for`]). Signature
//! images are read from the same place as the photos.

use crate::export::{DocumentRenderer, PhotoSource, RenderError, RenderedDocument};
use app_core::checklist::ChecklistTemplate;
use app_core::evidence::Sha256Hex;
use app_core::inspection::Inspection;
use std::io::Read;

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
        let images = |sha: &Sha256Hex| -> Option<Vec<u8>> {
            let mut bytes = Vec::new();
            self.images.open(sha).ok()?.read_to_end(&mut bytes).ok()?;
            Some(bytes)
        };
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
