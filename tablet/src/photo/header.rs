//! The declared size of an image, read from its header alone: the first thing checked, so a
//! file that claims 100000×100000 pixels is refused before any decoder allocates a byte
//! for it.

use super::PhotoFormat;
use super::format::PNG_SIGNATURE;

/// Why the header could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// The file ends inside the header.
    Truncated,
    Corrupt(String),
}

/// `(width, height)` as the file declares them (both non-zero).
pub(crate) fn dimensions(format: PhotoFormat, bytes: &[u8]) -> Result<(u32, u32), HeaderError> {
    let (w, h) = match format {
        PhotoFormat::Jpeg => jpeg(bytes)?,
        PhotoFormat::Png => png(bytes)?,
        PhotoFormat::Webp => webp(bytes)?,
    };
    if w == 0 || h == 0 {
        return Err(HeaderError::Corrupt(format!("it declares a {w}×{h} image")));
    }
    Ok((w, h))
}

fn be16(b: &[u8], at: usize) -> Result<u32, HeaderError> {
    b.get(at..at + 2)
        .map(|s| u32::from(u16::from_be_bytes([s[0], s[1]])))
        .ok_or(HeaderError::Truncated)
}

fn le_bytes(b: &[u8], at: usize, n: usize) -> Result<u32, HeaderError> {
    let s = b.get(at..at + n).ok_or(HeaderError::Truncated)?;
    Ok(s.iter()
        .rev()
        .fold(0u32, |acc, &x| (acc << 8) | u32::from(x)))
}

/// Walks the JPEG segments up to the first frame header (SOFn).
fn jpeg(b: &[u8]) -> Result<(u32, u32), HeaderError> {
    let mut at = 2; // after SOI
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        if *b.get(at).ok_or(HeaderError::Truncated)? != 0xFF {
            return Err(HeaderError::Corrupt(format!(
                "no JPEG marker at byte {at} of the header"
            )));
        }
        while b.get(at) == Some(&0xFF) {
            at += 1;
        }
        let marker = *b.get(at).ok_or(HeaderError::Truncated)?;
        at += 1;
        match marker {
            // Markers that stand alone, without a length.
            0x01 | 0xD0..=0xD8 => continue,
            0x00 => {
                return Err(HeaderError::Corrupt(format!(
                    "no JPEG marker at byte {} of the header",
                    at - 2
                )));
            }
            0xD9 => {
                return Err(HeaderError::Corrupt(
                    "the image ends before any frame".into(),
                ));
            }
            0xDA => {
                return Err(HeaderError::Corrupt(
                    "image data starts before any frame header".into(),
                ));
            }
            _ => {}
        }
        let len = be16(b, at)? as usize;
        if len < 2 {
            return Err(HeaderError::Corrupt(format!(
                "a header segment has the impossible length {len}"
            )));
        }
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            // precision (1), height (2), width (2)
            let height = be16(b, at + 3)?;
            let width = be16(b, at + 5)?;
            return Ok((width, height));
        }
        at += len;
    }
}

fn png(b: &[u8]) -> Result<(u32, u32), HeaderError> {
    let ihdr = b.get(8..24).ok_or(HeaderError::Truncated)?;
    debug_assert!(b.starts_with(PNG_SIGNATURE));
    if &ihdr[4..8] != b"IHDR" {
        return Err(HeaderError::Corrupt("the first chunk is not IHDR".into()));
    }
    let w = u32::from_be_bytes([ihdr[8], ihdr[9], ihdr[10], ihdr[11]]);
    let h = u32::from_be_bytes([ihdr[12], ihdr[13], ihdr[14], ihdr[15]]);
    Ok((w, h))
}

fn webp(b: &[u8]) -> Result<(u32, u32), HeaderError> {
    // The RIFF header states the file's length, so a cut-off file is known as such here
    // (the WebP decoder would only call it a corrupt bitstream).
    let riff_len = u64::from(le_bytes(b, 4, 4)?) + 8;
    if riff_len > b.len() as u64 {
        return Err(HeaderError::Truncated);
    }
    let fourcc = b.get(12..16).ok_or(HeaderError::Truncated)?;
    let payload = 20;
    match fourcc {
        b"VP8 " => {
            if b.get(payload + 3..payload + 6)
                .ok_or(HeaderError::Truncated)?
                != [0x9d, 0x01, 0x2a]
            {
                return Err(HeaderError::Corrupt("bad VP8 start code".into()));
            }
            Ok((
                le_bytes(b, payload + 6, 2)? & 0x3fff,
                le_bytes(b, payload + 8, 2)? & 0x3fff,
            ))
        }
        b"VP8L" => {
            if *b.get(payload).ok_or(HeaderError::Truncated)? != 0x2f {
                return Err(HeaderError::Corrupt("bad VP8L signature".into()));
            }
            let bits = le_bytes(b, payload + 1, 4)?;
            Ok(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
        }
        b"VP8X" => Ok((
            le_bytes(b, payload + 4, 3)? + 1,
            le_bytes(b, payload + 7, 3)? + 1,
        )),
        other => Err(HeaderError::Corrupt(format!(
            "unknown WebP chunk {:?}",
            String::from_utf8_lossy(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_size_is_read_from_the_frame_header_after_other_segments() {
        let mut f = vec![0xFF, 0xD8];
        f.extend([0xFF, 0xE1, 0x00, 0x06, b'E', b'x', b'i', b'f']); // APP1
        f.extend([0xFF, 0xFF, 0xC0, 0x00, 0x11, 8, 0x0B, 0xB8, 0x0F, 0xA0, 3]); // fill + SOF0
        assert_eq!(dimensions(PhotoFormat::Jpeg, &f), Ok((4000, 3000)));
        assert_eq!(
            dimensions(PhotoFormat::Jpeg, &f[..12]),
            Err(HeaderError::Truncated)
        );
        let mut no_frame = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02];
        assert!(matches!(
            dimensions(PhotoFormat::Jpeg, &no_frame),
            Err(HeaderError::Corrupt(_))
        ));
        no_frame[3] = 0x00;
        assert!(matches!(
            dimensions(PhotoFormat::Jpeg, &no_frame),
            Err(HeaderError::Corrupt(_))
        ));
    }

    #[test]
    fn zero_sizes_are_corrupt() {
        let f = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 8, 0, 0, 0x01, 0x00, 3];
        assert!(matches!(
            dimensions(PhotoFormat::Jpeg, &f),
            Err(HeaderError::Corrupt(_))
        ));
    }

    #[test]
    fn webp_sizes_from_each_chunk_kind() {
        let mut lossy = b"RIFF\x16\0\0\0WEBPVP8 \0\0\0\0".to_vec();
        lossy.extend([0, 0, 0, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
        assert_eq!(dimensions(PhotoFormat::Webp, &lossy), Ok((640, 480)));
        let mut lossless = b"RIFF\x11\0\0\0WEBPVP8L\0\0\0\0".to_vec();
        let bits: u32 = 639 | (479 << 14);
        lossless.push(0x2f);
        lossless.extend(bits.to_le_bytes());
        assert_eq!(dimensions(PhotoFormat::Webp, &lossless), Ok((640, 480)));
        let mut extended = b"RIFF\x16\0\0\0WEBPVP8X\0\0\0\0".to_vec();
        extended.extend([0, 0, 0, 0, 0x7f, 0x02, 0, 0xdf, 0x01, 0]);
        assert_eq!(dimensions(PhotoFormat::Webp, &extended), Ok((640, 480)));
        // The RIFF header says 22 bytes follow it; only 21 do.
        assert_eq!(
            dimensions(PhotoFormat::Webp, &extended[..extended.len() - 1]),
            Err(HeaderError::Truncated)
        );
    }
}
