//! Photos and handwritten signatures: raw bytes in, kept byte for byte.

use super::{App, now};
use crate::photo::{IngestLimits, prepare};
use crate::store::PhotoTarget;
use app_core::evidence::Sha256Hex;
use app_core::inspection::Context;
use tablet_api::{ApiError, ApiResult, ErrorCode, PhotoAnswer, PhotoArgs, PhotoLink};

impl App {
    /// Ingests a photo (camera or file): the original kept byte for byte, then linked to
    /// an item or a hazard of the record, or kept loose for a command that comes later
    /// (entrance photo, re-inspection photo). A bad file is refused with nothing stored.
    pub fn ingest_photo(&self, args: &PhotoArgs, bytes: &[u8]) -> ApiResult<PhotoAnswer> {
        let user = self.user()?;
        let prepared = prepare(bytes, &IngestLimits::default()).map_err(|e| {
            ApiError::new(
                ErrorCode::Photo,
                format!("照片无法使用：{}", e.zh()),
                format!("photo refused: {e}"),
            )
            .at("photo")
        })?;
        let info = prepared.commit(&self.blobs).map_err(|e| {
            ApiError::new(
                ErrorCode::Photo,
                format!("照片保存失败：{}", e.zh()),
                format!("photo not stored: {e}"),
            )
            .at("photo")
        })?;
        let target = match &args.link {
            PhotoLink::Item(item) => Some(PhotoTarget::Item(item.clone())),
            PhotoLink::Hazard(hazard) => Some(PhotoTarget::Hazard(hazard.clone())),
            PhotoLink::Loose => None,
        };
        {
            let mut store = self.store();
            if let Some(target) = target {
                let record = store.inspection(&args.id)?;
                let template = store.template(&record.template)?.ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::Storage,
                        "本机缺少该记录的检查表",
                        "template missing",
                    )
                })?;
                let cx = Context {
                    actor: &user,
                    now: now(),
                    template: &template,
                };
                store.attach_photo(&args.id, &target, &info, &cx)?;
            } else {
                crate::app_drafts::record_loose_photo(&store, &info)?;
            }
        }
        let (lat, lon) = info
            .exif
            .gps
            .as_ref()
            .map(|g| (Some(g.lat), Some(g.lon)))
            .unwrap_or((None, None));
        Ok(PhotoAnswer {
            thumb: self.thumb(info.sha256.as_str())?,
            sha256: info.sha256,
            lat,
            lon,
            warning: info.undisplayable.map(|u| u.zh),
        })
    }

    /// Keeps a handwritten signature (a PNG exported from the signature pad) as a blob and
    /// returns its SHA-256, which `SignOutcome::Signed { image }` names.
    pub fn ingest_signature(&self, png: &[u8]) -> ApiResult<Sha256Hex> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        if png.len() < 64 || !png.starts_with(PNG) {
            return Err(ApiError::new(
                ErrorCode::Signature,
                "签名图像无效，请重新签名",
                "signature is not a PNG image",
            )
            .at("signature"));
        }
        // A pad with no ink, or only a dot, is not a signature: the ink must span 20 px.
        let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::Signature,
                    "签名图像无法读取，请重新签名",
                    format!("signature PNG: {e}"),
                )
                .at("signature")
            })?
            .to_rgba8();
        let (mut x0, mut x1, mut y0, mut y1) = (u32::MAX, 0, u32::MAX, 0);
        for (x, y, p) in img.enumerate_pixels() {
            if p.0[3] > 0 {
                (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
            }
        }
        if x0 == u32::MAX || (x1 - x0 < 20 && y1 - y0 < 20) {
            return Err(ApiError::new(
                ErrorCode::Signature,
                "签名为空，请在框内签名",
                "the signature is empty",
            )
            .at("signature"));
        }
        let stored = self.blobs.put(png).map_err(|e| {
            ApiError::new(
                ErrorCode::Signature,
                format!("签名保存失败：{e}"),
                format!("signature not stored: {e}"),
            )
        })?;
        Ok(stored.sha256)
    }
}
