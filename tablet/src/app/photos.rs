//! Photos and handwritten signatures: raw bytes in, kept byte for byte; thumbnails out by
//! URL (the shell's `thumb://` protocol answers through [`App::thumb_response`]).

use super::{App, now};
use crate::photo::{IngestLimits, prepare};
use crate::store::PhotoTarget;
use app_core::evidence::Sha256Hex;
use app_core::inspection::Context;
use app_core::messages::photo;
use tablet_api::{ApiError, ApiResult, ErrorCode, PhotoAnswer, PhotoArgs, PhotoLink};

/// The answer to a request of the thumbnail protocol, for the shell to send as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThumbResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl ThumbResponse {
    fn error(status: u16, message: &str) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: message.as_bytes().to_vec(),
        }
    }
}

/// A thumbnail's content type, by its first bytes (JPEG for photos, PNG for placeholders
/// if ever drawn as one).
fn image_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        "image/webp"
    } else {
        "image/jpeg"
    }
}

impl App {
    /// Ingests a photo (camera or file): the original kept byte for byte, then linked to
    /// an item or a hazard of the record, or kept loose for a command that comes later
    /// (entrance photo, re-inspection photo). A bad file is refused with nothing stored.
    pub fn ingest_photo(&self, args: &PhotoArgs, bytes: &[u8]) -> ApiResult<PhotoAnswer> {
        let user = self.user()?;
        let prepared = prepare(bytes, &IngestLimits::default()).map_err(|e| {
            ApiError::new(
                ErrorCode::Photo,
                format!("{}{}", photo::REFUSED.0, e.zh()),
                format!("{}{e}", photo::REFUSED.1),
            )
            .at("photo")
        })?;
        let info = prepared.commit(&self.blobs).map_err(|e| {
            ApiError::new(
                ErrorCode::Photo,
                format!("{}{}", photo::NOT_STORED.0, e.zh()),
                format!("{}{e}", photo::NOT_STORED.1),
            )
            .at("photo")
        })?;
        let target = match &args.link {
            PhotoLink::Item(item) => Some(PhotoTarget::Item(item.clone())),
            PhotoLink::Hazard(hazard) => Some(PhotoTarget::Hazard(hazard.clone())),
            PhotoLink::Loose => None,
        };
        let change = {
            let mut store = self.store();
            if let Some(target) = target {
                let (_, change) = self.edit(&mut store, &args.id, |store, record| {
                    let template = super::records::record_template(store, record)?;
                    let cx = Context {
                        actor: &user,
                        now: now(),
                        template: &template,
                    };
                    Ok(store.attach_photo(&args.id, &target, &info, &cx)?)
                })?;
                Some(change)
            } else {
                crate::app_drafts::record_loose_photo(&store, &info)?;
                None
            }
        };
        let (lat, lon) = info
            .exif
            .gps
            .as_ref()
            .map(|g| (Some(g.lat), Some(g.lon)))
            .unwrap_or((None, None));
        Ok(PhotoAnswer {
            thumb: tablet_api::thumb_url(info.sha256.as_str()),
            sha256: info.sha256,
            lat,
            lon,
            warning: info.undisplayable.map(|u| u.zh),
            change,
        })
    }

    /// The thumbnail of a photo ingested on this tablet, by the original's SHA-256, with its
    /// content type; `None` for a digest this tablet did not ingest (a thumbnail's or a
    /// signature's own digest, another tablet's photo, anything else in the blob folder).
    pub fn thumbnail(&self, sha256: &Sha256Hex) -> ApiResult<Option<(Vec<u8>, &'static str)>> {
        let thumb: Option<String> = {
            use rusqlite::OptionalExtension;
            self.store()
                .connection()
                .query_row(
                    "SELECT thumb_sha256 FROM photos WHERE sha256 = ?1",
                    [sha256.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(crate::store::StoreError::from)?
        };
        let Some(thumb) = thumb.and_then(|t| Sha256Hex::parse(&t).ok()) else {
            return Ok(None);
        };
        let bytes = self.blobs.get(&thumb).map_err(|e| {
            ApiError::new(
                ErrorCode::Photo,
                format!("照片读取失败：{e}"),
                format!("photo unreadable: {e}"),
            )
        })?;
        let mime = image_type(&bytes);
        Ok(Some((bytes, mime)))
    }

    /// Answers a request of the shell's thumbnail protocol ([`tablet_api::thumb_url`]):
    /// `path` is the URL's path, `/<64 lowercase hex>` and nothing else (no query, no other
    /// segment: nothing outside the photos this tablet ingested can be named).
    pub fn thumb_response(&self, path: &str) -> ThumbResponse {
        let digest = path
            .strip_prefix('/')
            .filter(|d| d.len() == 64 && d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .and_then(|d| Sha256Hex::parse(d).ok());
        let Some(digest) = digest else {
            return ThumbResponse::error(400, "bad thumbnail address");
        };
        match self.thumbnail(&digest) {
            Ok(Some((body, content_type))) => ThumbResponse {
                status: 200,
                content_type,
                body,
            },
            Ok(None) => ThumbResponse::error(404, "no such photo on this tablet"),
            Err(e) => ThumbResponse::error(500, &e.en),
        }
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
