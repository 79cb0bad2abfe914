//! Why a photo was refused. Every variant names what was wrong in words an inspector (or
//! the engineer reading a log) can act on; none of them leaves anything in the blob store.

use super::PhotoFormat;
use crate::blobs::BlobError;

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("could not read the photo ({input}): {source}")]
    Read {
        /// The file's path, or "input" for a stream.
        input: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the photo file is empty (0 bytes)")]
    Empty,
    #[error("the photo file is larger than the limit of {max_bytes} bytes")]
    TooLarge { max_bytes: u64 },
    #[error("unsupported photo format: {format} (accepted: JPEG, PNG, WebP)")]
    UnsupportedFormat { format: String },
    #[error("the {format} file is truncated: it ends before the image is complete")]
    Truncated { format: PhotoFormat },
    #[error("the {format} file is corrupt: {reason}")]
    Corrupt { format: PhotoFormat, reason: String },
    #[error("the image is {width}×{height} pixels, over the limit of {max_pixels} pixels")]
    TooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    #[error(
        "the file declares a {width}×{height} image in only {byte_len} bytes: refused as a \
         likely decompression bomb"
    )]
    DecompressionBomb {
        width: u32,
        height: u32,
        byte_len: u64,
    },
    #[error("could not make the display copy: {0}")]
    Derive(String),
    #[error(transparent)]
    Store(#[from] BlobError),
}

impl PhotoError {
    /// What the inspector reads: the same reason in Chinese (the English text is `Display`).
    pub fn zh(&self) -> String {
        use app_core::messages::Bilingual;
        self.refusal().zh()
    }

    /// The reason as the one table of texts has it (`app_core::messages`).
    pub fn refusal(&self) -> app_core::messages::EvidenceRefusal {
        use app_core::messages::EvidenceRefusal as R;
        match self {
            PhotoError::Read { input, .. } => R::PhotoRead {
                input: input.clone(),
            },
            PhotoError::Empty => R::PhotoEmpty,
            PhotoError::TooLarge { max_bytes } => R::PhotoTooLarge {
                max_bytes: *max_bytes,
            },
            PhotoError::UnsupportedFormat { format } => R::PhotoFormat {
                format: format.clone(),
            },
            PhotoError::Truncated { format } => R::PhotoTruncated {
                format: format.to_string(),
            },
            PhotoError::Corrupt { format, .. } => R::PhotoCorrupt {
                format: format.to_string(),
            },
            PhotoError::TooManyPixels {
                width,
                height,
                max_pixels,
            } => R::PhotoTooManyPixels {
                width: *width,
                height: *height,
                max_pixels: *max_pixels,
            },
            PhotoError::DecompressionBomb { width, height, .. } => R::PhotoBomb {
                width: *width,
                height: *height,
            },
            PhotoError::Derive(_) => R::PhotoDerive,
            PhotoError::Store(_) => R::PhotoStore,
        }
    }

    /// Whether the file is a photo by its header that the decoder could not read to the end
    /// (truncated or corrupt data). Such a photo is kept as evidence, not refused.
    pub fn is_undecodable(&self) -> bool {
        matches!(
            self,
            PhotoError::Truncated { .. } | PhotoError::Corrupt { .. }
        )
    }

    /// Whether the input itself is at fault (tell the inspector), rather than the device
    /// (reading the file or writing the store failed: retry or report).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            PhotoError::Read { .. } | PhotoError::Derive(_) | PhotoError::Store(_)
        )
    }
}
