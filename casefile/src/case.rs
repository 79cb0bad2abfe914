//! The case file (电子案卷) of an administrative penalty case: one archive, written in one
//! pass by the same machinery as an inspection's ([`crate::export`]), in the order a 案卷
//! review reads it:
//!
//! | file | content |
//! | --- | --- |
//! | `documents/00-卷内目录.pdf` | the 卷内目录, listing every signed document with its page count |
//! | `documents/NN-<文书名称>-<文号>.pdf` | each signed document, in the 卷内目录's order (`PenaltyCase::documents_in_file_order`) |
//! | `case.json` | the case as its document reads at the export (JSON) |
//! | `case.automerge` | the case's Automerge document at those heads |
//! | `audit-trail.json` | every change of the case (who, when, on which device, which command), hash-chained |
//! | `photos/<sha256>.<ext>` | the photos of the case's evidence and the 询问笔录's signature images, byte for byte |
//! | `media/<sha256>.<ext>` | the case's audio and video recordings, byte for byte |
//! | `manifest.json`, `manifest.sig` | as in an inspection's case file, with `case` set to the case's id |
//!
//! Every original (photo or recording) is streamed: read once for its CRC-32 and checked
//! against its name, then copied into the archive through a fixed buffer and hashed again on
//! the way; none is held in memory whole. The verifier ([`crate::verify()`]) checks such a
//! file like an inspection's, reading `case.json` and `case.automerge` where the manifest
//! says it is a case's.

use crate::archive::{ZIP64_AT, ZipWriter};
use crate::export::{
    DocumentWarning, ExportError, ExportSummary, PhotoSource, Planned, Progress, RenderError,
    RenderedDocument, check_key, media_extension, photo_extension, plan_documents, pretty,
    write_signed,
};
use crate::manifest::{
    self, CASE_AUTOMERGE, CASE_JSON, MEDIA_DIR, Manifest, PHOTOS_DIR, SignerIdentity, TRAIL,
};
use crate::trail;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::ids::InspectionId;
use app_core::penalty::{CaseDoc, CaseStage, MediaKind, PenaltyCase};
use ed25519_dalek::SigningKey;
use std::collections::BTreeSet;
use std::io::Write;

/// Makes the PDFs of a case: the 卷内目录 first, then each signed document in the
/// 卷内目录's order. Any closure `Fn(&PenaltyCase) -> Result<Vec<RenderedDocument>,
/// RenderError>` is one; [`crate::pdf::CasePdfForms`] makes the real ones.
pub trait CaseRenderer {
    fn render(&self, case: &PenaltyCase) -> Result<Vec<RenderedDocument>, RenderError>;
}

impl<F> CaseRenderer for F
where
    F: Fn(&PenaltyCase) -> Result<Vec<RenderedDocument>, RenderError>,
{
    fn render(&self, case: &PenaltyCase) -> Result<Vec<RenderedDocument>, RenderError> {
        self(case)
    }
}

/// Everything the export of a case needs.
pub struct CaseExportInput<'a> {
    /// The case's Automerge document, as saved: the case file shows it as it reads now.
    pub document: &'a [u8],
    /// Where the originals are (photos, signature images, recordings: the blob store).
    pub originals: &'a dyn PhotoSource,
    pub documents: &'a dyn CaseRenderer,
    pub signer: SignerIdentity,
    /// The exporting device's key; its public half must be `signer.public_key`.
    pub key: &'a SigningKey,
    pub exported_at: Timestamp,
}

impl std::fmt::Debug for CaseExportInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseExportInput")
            .field("document_len", &self.document.len())
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

/// The stage's code as the case's JSON writes it (`closed` …): the manifest's
/// `signed_version` of a case's file.
pub fn stage_code(stage: CaseStage) -> String {
    serde_json::to_string(&stage)
        .expect("stages serialise")
        .trim_matches('"')
        .to_owned()
}

/// The SHA-256 of the case's compact JSON: the manifest's `content_hash` of a case's file.
pub fn case_hash(case: &PenaltyCase) -> Sha256Hex {
    Sha256Hex::of(&serde_json::to_vec(case).expect("cases serialise"))
}

/// The images a case's file holds under `photos/`: the photos among its evidence and the
/// signature images of its 询问笔录 pages.
pub fn case_photos(case: &PenaltyCase) -> BTreeSet<Sha256Hex> {
    // The originals that are not recordings (those go under `media/`).
    case.originals()
        .into_iter()
        .filter(|sha| {
            case.media
                .get(sha)
                .is_none_or(|m| m.kind == MediaKind::Photo)
        })
        .collect()
}

/// Writes the case file of the case in `input.document` to `out`. `progress` is called as
/// files are written (at least once per file and per MiB).
pub fn export_case(
    input: &CaseExportInput<'_>,
    out: impl Write,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportSummary, ExportError> {
    export_case_with_zip64_at(input, out, ZIP64_AT, progress)
}

/// [`export_case`] writing the ZIP64 form from `zip64_at` bytes on (tests only: a case file
/// under 4 GiB with ZIP64 entries, read back with the same threshold).
#[doc(hidden)]
pub fn export_case_with_zip64_at(
    input: &CaseExportInput<'_>,
    out: impl Write,
    zip64_at: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportSummary, ExportError> {
    let public_key = check_key(input.key, &input.signer)?;
    let mut doc = CaseDoc::load(input.document, &input.signer.device)?;
    let heads: Vec<String> = doc.heads().iter().map(ToString::to_string).collect();
    let trail = trail::build(&doc.history(), &|_| false);
    let trail_head = trail::head(&trail).to_owned();
    let at_export = doc.save();
    let case = doc.into_case();

    let rendered = input.documents.render(&case).map_err(ExportError::Render)?;
    let mut plan = Vec::new();
    let mut warnings: Vec<DocumentWarning> = Vec::new();
    plan_documents(rendered, &mut plan, &mut warnings)?;
    plan.push(Planned::made(
        CASE_JSON.into(),
        pretty(&case),
        "行政处罚案件（JSON）",
        "the penalty case (JSON)",
    ));
    plan.push(Planned::made(
        CASE_AUTOMERGE.into(),
        at_export,
        "案件的 Automerge 文档",
        "the case's Automerge document",
    ));
    plan.push(Planned::made(
        TRAIL.into(),
        pretty(&trail),
        "审计轨迹（哈希链）",
        "the audit trail (hash-chained)",
    ));
    for sha in case_photos(&case) {
        plan.push(Planned::streamed(
            input.originals,
            &sha,
            true,
            PHOTOS_DIR,
            photo_extension,
            "原始照片（原样）".into(),
            "original photo, byte for byte".into(),
        )?);
    }
    for m in case.media.values().filter(|m| m.kind != MediaKind::Photo) {
        let (zh, en) = match m.kind {
            MediaKind::Audio => ("录音", "audio recording"),
            _ => ("录像", "video recording"),
        };
        plan.push(Planned::streamed(
            input.originals,
            &m.sha256,
            false,
            MEDIA_DIR,
            media_extension,
            format!("{zh}：{}", m.note),
            format!("{en}: {}", m.note),
        )?);
    }

    let stage = stage_code(case.stage);
    let manifest = |files| Manifest {
        format: manifest::FORMAT.into(),
        inspection: InspectionId::from(case.id.as_str()),
        case: Some(case.id.clone()),
        signed_version: stage.clone(),
        heads,
        content_hash: case_hash(&case),
        amended: false,
        exported_at: input.exported_at,
        signer: input.signer.clone(),
        trail_head: trail_head.clone(),
        files,
    };
    let written = write_signed(
        ZipWriter::with_zip64_at(out, zip64_at),
        &plan,
        input.originals,
        input.key,
        manifest,
        progress,
    )?;
    Ok(ExportSummary {
        bytes: written.bytes,
        files: plan.len() + 2,
        photos: plan.iter().filter(|p| p.is_photo()).count(),
        media: plan.iter().filter(|p| p.is_media()).count(),
        signed_version: stage,
        amended: false,
        manifest_sha256: Sha256Hex::of(&written.manifest_bytes),
        public_key,
        fingerprint: manifest::fingerprint(&input.key.verifying_key()),
        trail_head,
        warnings,
    })
}
