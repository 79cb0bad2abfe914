//! The enterprise's copy: the signed documents (and the 送达回证) written as PDF files to the
//! export folder the case files use, to share from the tablet, and a QR code carrying what
//! the enterprise needs to check its copy later: the record, the signed version and the
//! SHA-256 of each file.

use super::App;
use super::export::document_notice;
use super::records::record_template;
use app_core::evidence::Sha256Hex;
use app_core::ids::InspectionId;
use pdf_forms::{FormInput, forms_for, render, render_receipt};
use std::path::Path;
use tablet_api::{ApiError, ApiResult, CopyFile, EnterpriseCopy, ErrorCode};

impl App {
    /// Writes the enterprise's copy of record `id`'s latest signed version to the export
    /// folder (`企业副本_<number>_<document>.pdf`), with the 送达回证 when a service is
    /// recorded, and answers the files with their SHA-256 and the QR code.
    pub fn enterprise_copy(&self, id: &InspectionId) -> ApiResult<EnterpriseCopy> {
        let user = self.user()?;
        let failed = |zh: String, en: String| ApiError::new(ErrorCode::Export, zh, en);
        let (record, version, signed, template, unit_name) = {
            let mut store = self.store();
            let record = store.inspection(id)?;
            let template = record_template(&store, &record)?;
            let unit_name = super::records::unit_name(&store, &user)?;
            let Some(version) = record.latest_signed_version() else {
                return Err(failed(
                    "记录尚未签署，没有可交给企业的文书".into(),
                    "the record is not signed: there is nothing to give the enterprise".into(),
                ));
            };
            let signed = store.document(id)?.signed_record(&version).map_err(|e| {
                failed(
                    format!("签署版本校验失败：{e}"),
                    format!("the signed version does not verify: {e}"),
                )
            })?;
            (record, version, signed, template, unit_name)
        };
        let version = &version;
        let blobs = self.blobs.root().to_path_buf();
        let images = move |d: &Sha256Hex| {
            std::fs::read(app_core::evidence::blob_layout::path(&blobs, d)).ok()
        };
        let pdf_err = |e: pdf_forms::FormError| {
            failed(
                format!("文书生成失败：{e}"),
                format!("the document cannot be made: {e}"),
            )
        };
        let number = app_core::paper::number_of(
            &signed,
            app_core::docnumber::DocumentKind::InspectionRecord,
        )
        .map_or_else(|| id.to_string(), |d| d.number.clone());
        let mut files = Vec::new();
        let mut write = |name: &str, bytes: Vec<u8>| -> ApiResult<()> {
            let file = format!("企业副本_{number}_{name}");
            let path = self.config.exports.join(&file);
            write_durably(&path, &bytes).map_err(|e| {
                failed(
                    format!("写入文件失败：{e}"),
                    format!("writing {file} failed: {e}"),
                )
            })?;
            files.push(CopyFile {
                name: file,
                path: path.to_string_lossy().into_owned(),
                sha256: Sha256Hex::of(&bytes),
                bytes: bytes.len() as u64,
            });
            Ok(())
        };
        let input = FormInput {
            record: &signed,
            template: Some(&template),
            unit_name: &unit_name,
            images: &images,
        };
        let mut warnings = Vec::new();
        for kind in forms_for(&signed) {
            let rendered = render(kind, &input).map_err(pdf_err)?;
            let file = format!("企业副本_{number}_{}", kind.file_name());
            warnings.extend(
                rendered
                    .warnings
                    .iter()
                    .map(|w| document_notice(&file, kind.title_zh(), w)),
            );
            write(kind.file_name(), rendered.pdf)?;
        }
        let now = FormInput {
            record: &record,
            template: Some(&template),
            unit_name: &unit_name,
            images: &images,
        };
        if let Some(receipt) = render_receipt(&now).map_err(pdf_err)? {
            let file = format!("企业副本_{number}_{}", pdf_forms::RECEIPT_FILE_NAME);
            warnings.extend(
                receipt
                    .warnings
                    .iter()
                    .map(|w| document_notice(&file, "送达回证", w)),
            );
            write(pdf_forms::RECEIPT_FILE_NAME, receipt.pdf)?;
        }
        let payload = copy_payload(id, version, &files);
        let qr = qrcode::QrCode::new(payload.as_bytes())
            .map_err(|e| failed(format!("二维码生成失败：{e}"), format!("QR code: {e}")))?
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(240, 240)
            .build();
        Ok(EnterpriseCopy {
            version: version.clone(),
            files,
            payload,
            qr_svg: qr,
            warnings,
        })
    }
}

/// What the QR code carries: the record, the signed version, each file's SHA-256 (one line
/// each), so the enterprise can check the copy it later fetches or is sent.
pub(crate) fn copy_payload(id: &InspectionId, version: &str, files: &[CopyFile]) -> String {
    let mut s = format!("企业副本 v1\nrecord={id}\nversion={version}\n");
    for f in files {
        s.push_str(&format!("{}={}\n", f.name, f.sha256));
    }
    s
}

/// `path` holds `bytes` whole once this returns (temporary name, fsync, rename).
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("partial");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
