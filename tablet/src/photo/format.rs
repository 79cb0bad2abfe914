//! Which kind of file a photo is, decided from its first bytes (never from the file name):
//! JPEG, PNG and WebP are accepted; anything else is named, so the inspector is told
//! "HEIC" rather than "invalid image" (an iPhone set to "High Efficiency" saves HEIC).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The accepted formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhotoFormat {
    Jpeg,
    Png,
    Webp,
}

impl PhotoFormat {
    pub fn mime_type(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "image/jpeg",
            PhotoFormat::Png => "image/png",
            PhotoFormat::Webp => "image/webp",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "JPEG",
            PhotoFormat::Png => "PNG",
            PhotoFormat::Webp => "WebP",
        }
    }
}

impl fmt::Display for PhotoFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub(crate) const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// The format of `bytes`, or the name of the unsupported format they are in.
pub(crate) fn sniff(bytes: &[u8]) -> Result<PhotoFormat, String> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(PhotoFormat::Jpeg);
    }
    if bytes.starts_with(PNG_SIGNATURE) {
        return Ok(PhotoFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(PhotoFormat::Webp);
    }
    Err(unsupported_name(bytes))
}

fn unsupported_name(bytes: &[u8]) -> String {
    let at = |range: std::ops::Range<usize>| bytes.get(range).unwrap_or(&[]);
    // ISO base media files (HEIF, AVIF, MP4, QuickTime, CR3) start with a `ftyp` box whose
    // major brand says what they are.
    if at(4..8) == b"ftyp" {
        let brand = at(8..12);
        return match brand {
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"hevm" | b"hevs" => {
                "HEIC".to_owned()
            }
            b"mif1" | b"msf1" | b"heif" => "HEIF".to_owned(),
            b"avif" | b"avis" => "AVIF".to_owned(),
            b"crx " => "Canon CR3 raw".to_owned(),
            b"qt  " => "QuickTime video".to_owned(),
            _ if brand.starts_with(b"3g") => "3GP video".to_owned(),
            b"isom" | b"iso2" | b"mp41" | b"mp42" | b"M4V " | b"avc1" => "MP4 video".to_owned(),
            _ => format!(
                "ISO media (brand {:?})",
                String::from_utf8_lossy(brand).trim()
            ),
        };
    }
    let known: &[(&[u8], &str)] = &[
        (b"GIF87a", "GIF"),
        (b"GIF89a", "GIF"),
        (
            b"II*\0",
            "TIFF (or a camera raw file such as DNG, NEF, CR2)",
        ),
        (
            b"MM\0*",
            "TIFF (or a camera raw file such as DNG, NEF, CR2)",
        ),
        (b"BM", "BMP"),
        (b"%PDF", "PDF"),
        (b"\0\0\0\x0cjP  ", "JPEG 2000"),
        (b"\xff\x4f\xff\x51", "JPEG 2000"),
        (b"\xff\x0a", "JPEG XL"),
        (b"\0\0\0\x0cJXL ", "JPEG XL"),
        (b"PK\x03\x04", "ZIP archive"),
        (b"8BPS", "Photoshop PSD"),
        (b"\0\0\x01\0", "ICO"),
    ];
    for (magic, name) in known {
        if bytes.starts_with(magic) {
            return (*name).to_owned();
        }
    }
    if at(0..4) == b"RIFF" {
        return format!("RIFF {:?}", String::from_utf8_lossy(at(8..12)).trim());
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("unknown (first bytes {})", head.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_magic_bytes() {
        assert_eq!(sniff(b"\xff\xd8\xff\xe1rest"), Ok(PhotoFormat::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nIHDR"), Ok(PhotoFormat::Png));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Ok(PhotoFormat::Webp));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0").unwrap_err(), "HEIC");
        assert_eq!(sniff(b"\0\0\0\x18ftypmif1\0\0\0\0").unwrap_err(), "HEIF");
        assert_eq!(sniff(b"\0\0\0\x1cftypavif").unwrap_err(), "AVIF");
        assert_eq!(sniff(b"GIF89a....").unwrap_err(), "GIF");
        assert!(sniff(b"II*\0....").unwrap_err().starts_with("TIFF"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt ").unwrap_err(), "RIFF \"WAVE\"");
        assert_eq!(
            sniff(b"hello").unwrap_err(),
            "unknown (first bytes 68 65 6c 6c 6f)"
        );
        assert_eq!(sniff(b"").unwrap_err(), "unknown (first bytes )");
    }
}
