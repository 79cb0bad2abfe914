//! Decoding to pixels, at no more resolution than the display copy needs.
//!
//! A JPEG is decoded with DCT scaling (1/8, 1/4, 1/2 or 1, as libjpeg and vips do): the
//! inverse DCT produces the smaller image directly, so a 12-megapixel photo never exists
//! as a 36 MB RGB buffer; at 1/4 it is 1000×750 (2.25 MB). The scale chosen is the
//! smallest whose long side still reaches [`DISPLAY_MIN_SIDE`]. PNG and WebP have no such
//! trick and are decoded in full (their size is bounded by `IngestLimits::max_pixels`).
//!
//! Decoders run on untrusted bytes. Their errors become `PhotoError::Truncated` or
//! `PhotoError::Corrupt`; a panic inside a decoder is caught and reported the same way.

use super::{DISPLAY_MIN_SIDE, PhotoError, PhotoFormat};
use image::{DynamicImage, ImageDecoder, RgbImage};
use std::io::{Cursor, ErrorKind};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The reduction (1, 2, 4 or 8) for a `width`×`height` JPEG: the largest whose long side
/// is still at least [`DISPLAY_MIN_SIDE`] (or the whole image, if that is smaller).
pub(crate) fn dct_scale(width: u32, height: u32) -> u32 {
    let long = width.max(height);
    let wanted = long.min(DISPLAY_MIN_SIDE);
    [8, 4, 2]
        .into_iter()
        .find(|s| long.div_ceil(*s) >= wanted)
        .unwrap_or(1)
}

/// Decodes `bytes` (already sniffed as `format`, declared `width`×`height` and within the
/// limits) to RGB, reduced for display as described above. Not yet upright.
pub(crate) fn for_display(
    format: PhotoFormat,
    bytes: &[u8],
    width: u32,
    height: u32,
) -> Result<RgbImage, PhotoError> {
    let decoded = catch_unwind(AssertUnwindSafe(|| match format {
        PhotoFormat::Jpeg => jpeg(bytes, width, height),
        PhotoFormat::Png | PhotoFormat::Webp => other(format, bytes, width, height),
    }));
    decoded.unwrap_or_else(|_| {
        Err(PhotoError::Corrupt {
            format,
            reason: "the decoder failed on it".to_owned(),
        })
    })
}

fn jpeg(bytes: &[u8], width: u32, height: u32) -> Result<RgbImage, PhotoError> {
    use jpeg_decoder::{Decoder, Error, PixelFormat};
    let format = PhotoFormat::Jpeg;
    let fail = |e: Error| match e {
        Error::Io(e) if e.kind() == ErrorKind::UnexpectedEof => PhotoError::Truncated { format },
        Error::Unsupported(feature) => PhotoError::UnsupportedFormat {
            format: format!("JPEG using {feature:?}"),
        },
        other => PhotoError::Corrupt {
            format,
            reason: other.to_string(),
        },
    };
    let mut decoder = Decoder::new(bytes);
    // The header was checked against the limits; this bounds what the decoder may allocate
    // for its output even if it read the header differently.
    decoder.set_max_decoding_buffer_size((width as usize).saturating_mul(height as usize * 4));
    decoder.read_info().map_err(fail)?;
    let scale = dct_scale(width, height);
    let (w, h) = decoder
        .scale(
            u16::try_from(width.div_ceil(scale)).unwrap_or(u16::MAX),
            u16::try_from(height.div_ceil(scale)).unwrap_or(u16::MAX),
        )
        .map_err(fail)?;
    let pixels = decoder.decode().map_err(fail)?;
    let info = decoder.info().ok_or_else(|| PhotoError::Corrupt {
        format,
        reason: "no frame header".to_owned(),
    })?;
    let (w, h) = (u32::from(w), u32::from(h));
    let rgb = match info.pixel_format {
        PixelFormat::RGB24 => pixels,
        PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        // Inks to light: jpeg-decoder already inverted Adobe's stored values.
        PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(255 - p[3]);
                p[..3]
                    .iter()
                    .map(move |&c| (u16::from(255 - c) * k / 255) as u8)
            })
            .collect(),
        PixelFormat::L16 => {
            return Err(PhotoError::UnsupportedFormat {
                format: "lossless 16-bit JPEG".to_owned(),
            });
        }
    };
    RgbImage::from_raw(w, h, rgb).ok_or_else(|| PhotoError::Corrupt {
        format,
        reason: "the decoder returned fewer pixels than the image has".to_owned(),
    })
}

fn other(
    format: PhotoFormat,
    bytes: &[u8],
    width: u32,
    height: u32,
) -> Result<RgbImage, PhotoError> {
    use image::ImageError;
    let fail = |e: ImageError| match e {
        ImageError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof => {
            PhotoError::Truncated { format }
        }
        ImageError::Unsupported(u) => PhotoError::UnsupportedFormat {
            format: format!("{format} variant: {u}"),
        },
        other => PhotoError::Corrupt {
            format,
            reason: other.to_string(),
        },
    };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // Room for the image at 16 bits per channel with alpha, plus the decoder's own buffers.
    limits.max_alloc = Some(u64::from(width) * u64::from(height) * 8 + (64 << 20));
    let cursor = Cursor::new(bytes);
    let image = match format {
        PhotoFormat::Png => {
            let decoder =
                image::codecs::png::PngDecoder::with_limits(cursor, limits).map_err(fail)?;
            DynamicImage::from_decoder(decoder).map_err(fail)?
        }
        _ => {
            let mut decoder = image::codecs::webp::WebPDecoder::new(cursor).map_err(fail)?;
            decoder.set_limits(limits).map_err(fail)?;
            DynamicImage::from_decoder(decoder).map_err(fail)?
        }
    };
    Ok(flatten(image))
}

/// RGB, with any transparency composited over white (how a viewer would show it).
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    let pixels = rgba
        .pixels()
        .flat_map(|p| {
            let a = u16::from(p[3]);
            p.0[..3]
                .iter()
                .map(move |&c| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8)
        })
        .collect();
    RgbImage::from_raw(w, h, pixels).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_scale_keeps_the_long_side_at_least_display_min() {
        assert_eq!(dct_scale(4000, 3000), 4); // 1000×750
        assert_eq!(dct_scale(3000, 4000), 4);
        assert_eq!(dct_scale(4032, 3024), 4); // 1008×756
        assert_eq!(dct_scale(8000, 6000), 8);
        assert_eq!(dct_scale(2000, 1500), 2);
        assert_eq!(dct_scale(1900, 1400), 1); // 950 would be too small
        assert_eq!(dct_scale(640, 480), 1);
    }

    #[test]
    fn transparency_is_shown_over_white() {
        let mut img = image::RgbaImage::new(2, 1);
        img.put_pixel(0, 0, image::Rgba([0, 0, 0, 0]));
        img.put_pixel(1, 0, image::Rgba([10, 20, 30, 255]));
        let flat = flatten(DynamicImage::ImageRgba8(img));
        assert_eq!(flat.as_raw(), &vec![255, 255, 255, 10, 20, 30]);
    }
}
