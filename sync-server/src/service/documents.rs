//! The documents of a record (现场检查记录, 责令限期整改指令书, 整改复查意见书) as the console
//! links them: rendered by pdf-forms from the latest signed version, exactly as the case-file
//! export renders them, for a viewer who may read the record (one the viewer may not read is
//! indistinguishable from a missing one).

use crate::reference::ReferenceData;
use crate::service::access;
use crate::store::records;
use crate::store::{PlanStore, RecordStore, StoreError};
use app_core::access::can_read_record;
use app_core::evidence::Sha256Hex;
use app_core::user::User;
use pdf_forms::FormKind;

/// Why a document cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// No such record, not readable, not signed yet, or no such document.
    #[error("not found")]
    NotFound,
    /// pdf-forms refused (a number missing, …): its English message.
    #[error("{0}")]
    Render(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The forms the record's latest signed version has material for (none before signing).
pub fn forms(doc: &mut app_core::document::InspectionDoc) -> Vec<FormKind> {
    let Some(v) = doc.record().latest_signed_version() else {
        return Vec::new();
    };
    match doc.signed_record(&v) {
        Ok(signed) => pdf_forms::forms_for(&signed),
        Err(_) => Vec::new(),
    }
}

/// Form `n` (an index into [`forms`]) of stored record `id`, as PDF: its file name and bytes.
pub fn render<S>(
    store: &S,
    reference: &ReferenceData,
    viewer: &User,
    blobs: &crate::blobstore::Blobs,
    id: &str,
    n: usize,
) -> Result<(&'static str, Vec<u8>), DocumentError>
where
    S: RecordStore + PlanStore + ?Sized,
{
    let scope = access::scope(store, reference, id)?.ok_or(DocumentError::NotFound)?;
    if !can_read_record(viewer, &scope, &reference.units) {
        return Err(DocumentError::NotFound);
    }
    let mut stored = records::load(store, id)?.ok_or(DocumentError::NotFound)?;
    let v = stored
        .doc
        .record()
        .latest_signed_version()
        .ok_or(DocumentError::NotFound)?;
    let signed = stored
        .doc
        .signed_record(&v)
        .map_err(|e| DocumentError::Render(e.to_string()))?;
    let kind = *pdf_forms::forms_for(&signed)
        .get(n)
        .ok_or(DocumentError::NotFound)?;
    let unit_name = reference.unit_name(signed.unit.as_str());
    let images = |sha: &Sha256Hex| blobs.read_blocking(sha).ok().flatten();
    let input = pdf_forms::FormInput {
        record: &signed,
        template: reference.templates.get(&signed.template),
        unit_name: &unit_name,
        images: &images,
    };
    let rendered =
        pdf_forms::render(kind, &input).map_err(|e| DocumentError::Render(e.to_string()))?;
    for warning in &rendered.warnings {
        tracing::warn!(record = id, document = kind.file_name(), %warning, "document rendered with a warning");
    }
    Ok((kind.file_name(), rendered.pdf))
}
