//! Turning a decoded photo upright by its EXIF orientation (1–8). Cameras store the sensor's
//! pixel grid as it was and record how the device was held; every derived copy is made
//! upright, so it displays correctly without EXIF. The original keeps its tag untouched.

use image::RgbImage;
use image::imageops::{flip_horizontal, flip_vertical, rotate90, rotate180, rotate270};

/// `stored` turned upright for EXIF `orientation` (absent or invalid: shown as stored).
pub(crate) fn upright(stored: RgbImage, orientation: Option<u8>) -> RgbImage {
    match orientation.unwrap_or(1) {
        2 => flip_horizontal(&stored),
        3 => rotate180(&stored),
        4 => flip_vertical(&stored),
        // Transpose: mirror, then turn 270° clockwise.
        5 => flip_horizontal(&rotate90(&stored)),
        6 => rotate90(&stored),
        // Transverse: mirror, then turn 90° clockwise.
        7 => flip_horizontal(&rotate270(&stored)),
        8 => rotate270(&stored),
        _ => stored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×2 image whose pixels are numbered 0..6 row by row; what each orientation turns
    /// it into, read row by row (EXIF 2.32, the Orientation tag's table).
    #[test]
    fn each_orientation_maps_pixels_as_exif_defines() {
        let stored = RgbImage::from_fn(3, 2, |x, y| image::Rgb([(y * 3 + x) as u8, 0, 0]));
        type Shape = (u32, u32, Vec<u8>);
        let rows = |img: &RgbImage| -> Shape {
            (
                img.width(),
                img.height(),
                img.pixels().map(|p| p[0]).collect(),
            )
        };
        // Stored grid:  0 1 2
        //               3 4 5
        let cases: [(u8, Shape); 8] = [
            (1, (3, 2, vec![0, 1, 2, 3, 4, 5])),
            (2, (3, 2, vec![2, 1, 0, 5, 4, 3])),
            (3, (3, 2, vec![5, 4, 3, 2, 1, 0])),
            (4, (3, 2, vec![3, 4, 5, 0, 1, 2])),
            (5, (2, 3, vec![0, 3, 1, 4, 2, 5])),
            (6, (2, 3, vec![3, 0, 4, 1, 5, 2])),
            (7, (2, 3, vec![5, 2, 4, 1, 3, 0])),
            (8, (2, 3, vec![2, 5, 1, 4, 0, 3])),
        ];
        for (orientation, expected) in &cases {
            assert_eq!(
                &rows(&upright(stored.clone(), Some(*orientation))),
                expected,
                "orientation {orientation}"
            );
        }
        assert_eq!(rows(&upright(stored.clone(), None)), cases[0].1);
        assert_eq!(rows(&upright(stored, Some(9))), cases[0].1);
    }
}
