//! The derived copies: an upright display copy (long side at most [`DISPLAY_MAX_SIDE`]) and
//! a thumbnail (at most [`THUMB_MAX_SIDE`]) made from it, both JPEG. They are conveniences
//! for the screen and are stored as blobs like the original, but they are not evidence.

use super::orient::upright;
use super::{DISPLAY_MAX_SIDE, PhotoError, THUMB_MAX_SIDE};
use fast_image_resize as fr;
use image::RgbImage;

const DISPLAY_QUALITY: u8 = 85;
const THUMB_QUALITY: u8 = 80;

/// Encoded copies.
#[derive(Debug)]
pub(crate) struct Derived {
    pub display: Vec<u8>,
    pub thumb: Vec<u8>,
}

/// Makes both copies from a decoded (already reduced) image that is not yet upright.
pub(crate) fn copies(decoded: RgbImage, orientation: Option<u8>) -> Result<Derived, PhotoError> {
    // Resize before turning: the long side does not depend on orientation, and turning
    // the smaller image is cheaper.
    let fitted = shrunk(&decoded, DISPLAY_MAX_SIDE)?.unwrap_or(decoded);
    let display = upright(fitted, orientation);
    let thumb = shrunk(&display, THUMB_MAX_SIDE)?;
    // The two encodings are independent: one on each core.
    let (display, thumb) = std::thread::scope(|s| {
        let thumb = s.spawn(|| encode_jpeg(thumb.as_ref().unwrap_or(&display), THUMB_QUALITY));
        let display = encode_jpeg(&display, DISPLAY_QUALITY);
        let thumb = thumb
            .join()
            .unwrap_or_else(|_| Err(PhotoError::Derive("the JPEG encoder failed".to_owned())));
        (display, thumb)
    });
    Ok(Derived {
        display: display?,
        thumb: thumb?,
    })
}

/// The picture shown in place of a photo that cannot be decoded: a grey 320×240 JPEG with a
/// dark cross (made once per process, always the same bytes).
pub(crate) fn placeholder() -> &'static [u8] {
    static PLACEHOLDER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PLACEHOLDER.get_or_init(|| {
        let (w, h) = (THUMB_MAX_SIDE, THUMB_MAX_SIDE * 3 / 4);
        let image = RgbImage::from_fn(w, h, |x, y| {
            // Two diagonals, 5 px wide.
            let (x, y) = (i64::from(x) * i64::from(h), i64::from(y) * i64::from(w));
            let near = |d: i64| d.abs() < 3 * i64::from(w.max(h));
            if near(x - y) || near(x + y - i64::from(w) * i64::from(h)) {
                image::Rgb([120, 120, 120])
            } else {
                image::Rgb([210, 210, 210])
            }
        });
        encode_jpeg(&image, THUMB_QUALITY).expect("encoding a small fixed image cannot fail")
    })
}

/// `image` scaled down so its long side is at most `max_side`; `None` if it already fits
/// (images are never enlarged).
fn shrunk(image: &RgbImage, max_side: u32) -> Result<Option<RgbImage>, PhotoError> {
    let (w, h) = image.dimensions();
    let long = w.max(h);
    if long <= max_side {
        return Ok(None);
    }
    let scaled = |side: u32| {
        ((u64::from(side) * u64::from(max_side) + u64::from(long) / 2) / u64::from(long)).max(1)
            as u32
    };
    let (nw, nh) = (scaled(w), scaled(h));
    let fail = |e: &dyn std::fmt::Display| PhotoError::Derive(format!("resizing failed: {e}"));
    let src = fr::images::ImageRef::new(w, h, image.as_raw(), fr::PixelType::U8x3)
        .map_err(|e| fail(&e))?;
    let mut dst = fr::images::Image::new(nw, nh, fr::PixelType::U8x3);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    fr::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| fail(&e))?;
    RgbImage::from_raw(nw, nh, dst.into_vec())
        .map(Some)
        .ok_or_else(|| PhotoError::Derive("resizing returned a short buffer".to_owned()))
}

fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let fail = |e: &dyn std::fmt::Display| PhotoError::Derive(format!("JPEG encoding failed: {e}"));
    let (w, h) = image.dimensions();
    let (w, h) = (
        u16::try_from(w).map_err(|e| fail(&e))?,
        u16::try_from(h).map_err(|e| fail(&e))?,
    );
    let mut out = Vec::with_capacity(image.as_raw().len() / 8);
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(image.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| fail(&e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(jpeg: &[u8]) -> (u16, u16) {
        let mut d = jpeg_decoder::Decoder::new(jpeg);
        d.read_info().unwrap();
        let info = d.info().unwrap();
        (info.width, info.height)
    }

    #[test]
    fn copies_fit_their_boxes_and_keep_the_aspect_ratio() {
        let big = RgbImage::from_pixel(2000, 1500, image::Rgb([90, 120, 200]));
        let d = copies(big, Some(6)).unwrap();
        // Orientation 6 turns the landscape grid into a portrait picture.
        assert_eq!(size(&d.display), (1200, 1600));
        assert_eq!(size(&d.thumb), (240, 320));
    }

    #[test]
    fn small_images_are_not_enlarged() {
        let small = RgbImage::from_pixel(100, 60, image::Rgb([1, 2, 3]));
        let d = copies(small, None).unwrap();
        assert_eq!(size(&d.display), (100, 60));
    }
}
