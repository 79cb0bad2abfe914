//! What the camera wrote into a photo original (EXIF): capture time, GPS position, camera.
//! The record keeps only each photo's SHA-256 and who linked it when; the rest is read from
//! the original itself. Read with kamadak-exif (as the tablet does); anything missing or
//! unreadable is shown as missing, never an error.

use exif::{Exif, In, Tag, Value};
use std::io::Cursor;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhotoFacts {
    /// DateTimeOriginal as the camera's clock said, with OffsetTimeOriginal when present.
    pub taken_at: Option<String>,
    /// WGS-84 latitude and longitude (south and west negative).
    pub gps: Option<(f64, f64)>,
    pub altitude_m: Option<f64>,
    pub camera: Option<String>,
}

fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(parts) => {
            let raw = parts.first()?;
            let s = String::from_utf8_lossy(raw);
            let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
            (!s.is_empty()).then(|| s.to_owned())
        }
        _ => None,
    }
}

fn degrees(exif: &Exif, tag: Tag, reference: Tag, negative: u8) -> Option<f64> {
    let Value::Rational(parts) = &exif.get_field(tag, In::PRIMARY)?.value else {
        return None;
    };
    if parts.len() < 3 || parts.iter().any(|r| r.denom == 0) {
        return None;
    }
    let value = parts[0].to_f64() + parts[1].to_f64() / 60.0 + parts[2].to_f64() / 3600.0;
    let sign = match &exif.get_field(reference, In::PRIMARY)?.value {
        Value::Ascii(v) if v.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
        _ => 1.0,
    };
    Some(sign * value).filter(|v| v.is_finite())
}

/// Reads what it can; a file without EXIF gives everything missing.
pub fn read(bytes: &[u8]) -> PhotoFacts {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    let exif = match reader.read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => exif,
        Err(exif::Error::PartialResult(partial)) => partial.into_inner().0,
        Err(_) => return PhotoFacts::default(),
    };
    let taken_at = ascii(&exif, Tag::DateTimeOriginal).map(|t| {
        // EXIF writes `2008:10:22 16:28:39`; show the date with dashes.
        let t = t.replacen(':', "-", 2);
        match ascii(&exif, Tag::OffsetTimeOriginal) {
            Some(o) => format!("{t} {o}"),
            None => t,
        }
    });
    let lat = degrees(&exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S');
    let lon = degrees(&exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W');
    let altitude_m = match exif
        .get_field(Tag::GPSAltitude, In::PRIMARY)
        .map(|f| &f.value)
    {
        Some(Value::Rational(r)) if r.first().is_some_and(|x| x.denom != 0) => Some(r[0].to_f64()),
        _ => None,
    };
    let camera = match (ascii(&exif, Tag::Make), ascii(&exif, Tag::Model)) {
        (Some(make), Some(model)) if model.starts_with(&make) => Some(model),
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (a, b) => a.or(b),
    };
    PhotoFacts {
        taken_at,
        gps: lat.zip(lon),
        altitude_m,
        camera,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/photos/");
        std::fs::read(format!("{dir}{name}")).unwrap()
    }

    #[test]
    fn a_camera_photo_gives_time_position_and_camera() {
        let f = read(&fixture("gps-DSCN0010.jpg"));
        assert_eq!(f.taken_at.as_deref(), Some("2008-10-22 16:28:39"));
        let (lat, lon) = f.gps.unwrap();
        assert!((lat - 43.4674).abs() < 0.001, "{lat}");
        assert!((lon - 11.8851).abs() < 0.001, "{lon}");
        assert_eq!(f.camera.as_deref(), Some("NIKON COOLPIX P6000"));
    }

    #[test]
    fn bytes_without_exif_give_nothing_and_no_error() {
        assert_eq!(read(b"not a photo"), PhotoFacts::default());
    }
}
