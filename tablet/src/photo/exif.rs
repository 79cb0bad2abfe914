//! What the camera wrote about the photo (EXIF): when, where, which way up, with which
//! camera. All of it is the camera's claim, recorded as found; anything missing or
//! unreadable is recorded as missing, and never stops the photo from being kept.

use app_core::geo::Timestamp;
use exif::{Exif, In, Tag, Value};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// The EXIF facts kept with an ingested photo.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhotoExif {
    /// DateTimeOriginal: when the shutter was pressed, by the camera's clock.
    pub taken_at: Option<CaptureTime>,
    pub gps: Option<GpsPosition>,
    /// The EXIF orientation tag, 1–8 (1 = upright as stored). `None` when absent or invalid;
    /// the photo is then shown as stored.
    pub orientation: Option<u8>,
    pub make: Option<String>,
    pub model: Option<String>,
}

/// The capture time, and whether the camera said which time zone it was in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum CaptureTime {
    /// DateTimeOriginal with OffsetTimeOriginal: an exact instant.
    WithOffset {
        /// The camera's wall clock, `YYYY-MM-DDTHH:MM:SS[.mmm]`.
        local: String,
        /// `+08:00`.
        offset: String,
        utc: Timestamp,
    },
    /// DateTimeOriginal alone: the camera's wall clock, time zone not recorded. (Most
    /// cameras write no offset; the tablet's own capture time is the reliable instant.)
    Local { local: String },
}

impl CaptureTime {
    pub fn local(&self) -> &str {
        match self {
            CaptureTime::WithOffset { local, .. } | CaptureTime::Local { local } => local,
        }
    }

    /// The instant, when the offset is known.
    pub fn instant(&self) -> Option<Timestamp> {
        match self {
            CaptureTime::WithOffset { utc, .. } => Some(*utc),
            CaptureTime::Local { .. } => None,
        }
    }
}

/// A GPS position as the camera recorded it (WGS-84 degrees; south and west negative).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpsPosition {
    pub lat: f64,
    pub lon: f64,
    /// Metres above sea level (negative below), when recorded.
    pub altitude_m: Option<f64>,
}

/// Reads the EXIF of a JPEG, PNG (eXIf chunk) or WebP (EXIF chunk). Never fails: a file
/// without EXIF, or with EXIF too damaged to read, gives all fields missing, and one bad
/// field does not hide the good ones.
pub(crate) fn read(bytes: &[u8]) -> PhotoExif {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    let exif = match reader.read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => exif,
        Err(exif::Error::PartialResult(partial)) => partial.into_inner().0,
        Err(_) => return PhotoExif::default(),
    };
    PhotoExif {
        taken_at: capture_time(&exif),
        gps: gps(&exif),
        orientation: exif
            .get_field(Tag::Orientation, In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
            .and_then(|v| u8::try_from(v).ok())
            .filter(|v| (1..=8).contains(v)),
        make: text(&exif, Tag::Make),
        model: text(&exif, Tag::Model),
    }
}

fn ascii(exif: &Exif, tag: Tag) -> Option<&[u8]> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(parts) => parts.first().map(Vec::as_slice),
        _ => None,
    }
}

fn text(exif: &Exif, tag: Tag) -> Option<String> {
    let raw = ascii(exif, tag)?;
    let s = String::from_utf8_lossy(raw);
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!s.is_empty()).then(|| s.to_owned())
}

fn capture_time(exif: &Exif) -> Option<CaptureTime> {
    let mut dt = exif::DateTime::from_ascii(ascii(exif, Tag::DateTimeOriginal)?).ok()?;
    if let Some(sub) = ascii(exif, Tag::SubSecTimeOriginal) {
        // A broken sub-second field only loses the sub-seconds.
        if dt.parse_subsec(sub).is_err() {
            dt.nanosecond = None;
        }
    }
    let millis = dt.nanosecond.map(|n| n / 1_000_000);
    let date = time::Date::from_calendar_date(
        i32::from(dt.year),
        time::Month::try_from(dt.month).ok()?,
        dt.day,
    )
    .ok()?;
    let clock = time::Time::from_hms_milli(
        dt.hour,
        dt.minute,
        dt.second,
        u16::try_from(millis.unwrap_or(0)).ok()?,
    )
    .ok()?;
    let mut local = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second
    );
    if let Some(ms) = millis {
        local.push_str(&format!(".{ms:03}"));
    }
    if let Some(raw) = ascii(exif, Tag::OffsetTimeOriginal) {
        // Sets `dt.offset` only when the field is well formed.
        let _ = dt.parse_offset(raw);
    }
    let offset = dt
        .offset
        .and_then(|m| time::UtcOffset::from_whole_seconds(i32::from(m) * 60).ok());
    Some(match offset {
        Some(offset) => {
            let instant = time::PrimitiveDateTime::new(date, clock).assume_offset(offset);
            let utc = i64::try_from(instant.unix_timestamp_nanos() / 1_000_000).ok()?;
            let minutes = offset.whole_minutes();
            CaptureTime::WithOffset {
                local,
                offset: format!(
                    "{}{:02}:{:02}",
                    if minutes < 0 { '-' } else { '+' },
                    minutes.abs() / 60,
                    minutes.abs() % 60
                ),
                utc: Timestamp(utc),
            }
        }
        None => CaptureTime::Local { local },
    })
}

/// Degrees from the EXIF degrees/minutes/seconds rationals.
fn degrees(exif: &Exif, tag: Tag) -> Option<f64> {
    let Value::Rational(parts) = &exif.get_field(tag, In::PRIMARY)?.value else {
        return None;
    };
    let mut total = 0.0;
    for (part, scale) in parts.iter().zip([1.0, 60.0, 3600.0]) {
        if part.denom == 0 {
            return None;
        }
        total += part.to_f64() / scale;
    }
    (!parts.is_empty() && total.is_finite()).then_some(total)
}

fn gps(exif: &Exif) -> Option<GpsPosition> {
    // Without its reference a coordinate's sign is unknown; a position in the wrong
    // hemisphere is worse than none.
    let sign = |tag, positive: u8, negative: u8| match ascii(exif, tag)?.first()? {
        c if c.eq_ignore_ascii_case(&positive) => Some(1.0),
        c if c.eq_ignore_ascii_case(&negative) => Some(-1.0),
        _ => None,
    };
    let lat = sign(Tag::GPSLatitudeRef, b'N', b'S')? * degrees(exif, Tag::GPSLatitude)?;
    let lon = sign(Tag::GPSLongitudeRef, b'E', b'W')? * degrees(exif, Tag::GPSLongitude)?;
    if lat.abs() > 90.0 || lon.abs() > 180.0 {
        return None;
    }
    let altitude_m = match &exif
        .get_field(Tag::GPSAltitude, In::PRIMARY)
        .map(|f| &f.value)
    {
        Some(Value::Rational(v)) if v.first().is_some_and(|r| r.denom != 0) => {
            let below = exif
                .get_field(Tag::GPSAltitudeRef, In::PRIMARY)
                .and_then(|f| f.value.get_uint(0))
                == Some(1);
            let metres = v[0].to_f64();
            Some(if below { -metres } else { metres })
        }
        _ => None,
    };
    Some(GpsPosition {
        lat,
        lon,
        altitude_m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_exif_at_all_is_all_missing() {
        assert_eq!(read(b"not an image"), PhotoExif::default());
        assert_eq!(read(b"\xff\xd8\xff\xe1\x00"), PhotoExif::default());
    }
}
