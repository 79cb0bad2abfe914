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
        match self {
            PhotoError::Read { input, .. } => format!("无法读取照片文件（{input}），请重试"),
            PhotoError::Empty => "照片文件是空的（0 字节）".to_owned(),
            PhotoError::TooLarge { max_bytes } => {
                format!("照片文件超过 {} MiB 的上限", max_bytes >> 20)
            }
            PhotoError::UnsupportedFormat { format } => {
                format!("不支持的照片格式：{format}（可用 JPEG、PNG、WebP；请将相机设为 JPEG）")
            }
            PhotoError::Truncated { format } => {
                format!("{format} 文件不完整：图像数据在结束前中断")
            }
            PhotoError::Corrupt { format, .. } => format!("{format} 文件已损坏，无法解码"),
            PhotoError::TooManyPixels {
                width,
                height,
                max_pixels,
            } => format!(
                "照片为 {width}×{height} 像素，超过 {} 万像素的上限",
                max_pixels / 10_000
            ),
            PhotoError::DecompressionBomb { width, height, .. } => {
                format!("文件声称 {width}×{height} 像素而体积极小，疑似恶意文件，已拒收")
            }
            PhotoError::Derive(_) => "无法生成照片的显示副本，请重试".to_owned(),
            PhotoError::Store(_) => "照片无法保存到本机（存储空间可能已满），请重试".to_owned(),
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
