//! Photo evidence ingest over real camera files (`shared/fixtures/photos`, beside the repo)
//! and hand-made bad inputs: upright copies for all eight EXIF orientations, GPS and capture
//! time as the camera wrote them, originals kept byte for byte under their SHA-256, and
//! every refused input leaving the blob store exactly as it was.

use app_core::evidence::Sha256Hex;
use image::{ImageEncoder, RgbImage};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tablet::blobs::BlobStore;
use tablet::photo::{
    self, CaptureTime, GpsPosition, IngestLimits, IngestedPhoto, PhotoError, PhotoExif, PhotoFormat,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/photos");

fn fixture(name: &str) -> PathBuf {
    let path = Path::new(FIXTURES).join(name);
    assert!(
        path.is_file(),
        "missing fixture {} (shared/ must sit beside the repo)",
        path.display()
    );
    path
}

fn new_store() -> (tempfile::TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("blobs")).unwrap();
    (dir, store)
}

/// Every file under `dir`, temporary or not.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn ingest(store: &BlobStore, name: &str) -> IngestedPhoto {
    photo::ingest_file(store, &fixture(name), &IngestLimits::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn ingest_bytes(
    store: &BlobStore,
    bytes: &[u8],
    limits: &IngestLimits,
) -> Result<IngestedPhoto, PhotoError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    std::fs::write(&path, bytes).unwrap();
    photo::ingest_file(store, &path, limits)
}

fn decode_jpeg(bytes: &[u8]) -> RgbImage {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let pixels = decoder.decode().unwrap();
    let info = decoder.info().unwrap();
    assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
    RgbImage::from_raw(info.width.into(), info.height.into(), pixels).unwrap()
}

fn thumbnail(store: &BlobStore, name: &str) -> RgbImage {
    let ingested = ingest(store, name);
    decode_jpeg(&store.get(&ingested.thumb_sha256).unwrap())
}

/// Mean absolute difference per channel value (0–255) of two same-sized images, after
/// matching `b`'s exposure to `a`'s (each channel shifted and scaled to `a`'s mean and
/// standard deviation). The orientation-1 file of the series was exported brighter and
/// flatter than the others (mean 92 against 79; vips's own thumbnails of the two differ
/// by 14 on average for that alone), so exposure is compared out; geometry is not.
fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let n = f64::from(a.width() * a.height());
    let stats = |img: &RgbImage| {
        let mut out = [(0f64, 0f64); 3];
        for (c, stat) in out.iter_mut().enumerate() {
            let mean = img.pixels().map(|p| f64::from(p[c])).sum::<f64>() / n;
            let var = img
                .pixels()
                .map(|p| (f64::from(p[c]) - mean).powi(2))
                .sum::<f64>()
                / n;
            *stat = (mean, var.sqrt().max(1e-9));
        }
        out
    };
    let (sa, sb) = (stats(a), stats(b));
    let total: f64 = a
        .pixels()
        .zip(b.pixels())
        .map(|(x, y)| {
            (0..3)
                .map(|c| {
                    let matched = (f64::from(y[c]) - sb[c].0) / sb[c].1 * sa[c].1 + sa[c].0;
                    (f64::from(x[c]) - matched).abs()
                })
                .sum::<f64>()
        })
        .sum();
    total / (3.0 * n)
}

/// Thumbnails of the same picture made from differently stored files differ by JPEG noise
/// and, against the orientation-1 file, by its other tone curve and its different digit.
/// Measured: 5.6–7.4 against file 1, 2.6–3.6 among files 2–8, and 49–66 for a thumbnail
/// left as stored.
const SAME_PICTURE: f64 = 12.0;
const DIFFERENT_PICTURE: f64 = 30.0;
/// Files 2–8 of a series were exported alike: their upright thumbnails agree more closely.
const SAME_EXPORT: f64 = 5.0;

#[test]
fn all_eight_orientations_give_upright_thumbnails() {
    let (_dir, store) = new_store();
    for (series, numbers, shape) in [
        ("landscape", &[1, 2, 3, 4, 5, 6, 7, 8][..], (320, 240)),
        ("portrait", &[1, 3, 6, 8][..], (240, 320)),
    ] {
        let thumbs: Vec<(u8, RgbImage)> = numbers
            .iter()
            .map(|&n| {
                (
                    n,
                    thumbnail(&store, &format!("orientation-{series}_{n}.jpg")),
                )
            })
            .collect();
        let (reference, second) = (&thumbs[0].1, &thumbs[1].1);
        for (n, thumb) in &thumbs {
            assert_eq!(thumb.dimensions(), shape, "{series}_{n}");
            let diff = mean_abs_diff(reference, thumb);
            eprintln!("{series}_{n} vs {series}_1: {diff:.2}");
            assert!(
                diff < SAME_PICTURE,
                "{series}_{n} differs from {series}_1 by {diff:.2}"
            );
            if *n > 1 {
                let diff = mean_abs_diff(second, thumb);
                eprintln!("{series}_{n} vs the series' second: {diff:.2}");
                assert!(diff < SAME_EXPORT, "{series}_{n} differs by {diff:.2}");
            }
        }
    }
}

/// The comparison above has teeth: a thumbnail left as stored (EXIF orientation ignored)
/// is far from the upright one, or not even the same shape.
#[test]
fn ignoring_the_orientation_would_be_caught() {
    use image::imageops::{flip_horizontal, flip_vertical, rotate90, rotate180, rotate270};
    let (_dir, store) = new_store();
    let upright = thumbnail(&store, "orientation-landscape_1.jpg");
    type Undo = fn(&RgbImage) -> RgbImage;
    let undo: [(u8, Undo); 3] = [(2, flip_horizontal), (3, rotate180), (4, flip_vertical)];
    for (n, undo) in undo {
        let as_stored = undo(&thumbnail(
            &store,
            &format!("orientation-landscape_{n}.jpg"),
        ));
        let diff = mean_abs_diff(&as_stored, &upright);
        eprintln!("as stored {n}: {diff:.2}");
        assert!(
            diff > DIFFERENT_PICTURE,
            "landscape_{n} as stored differs by only {diff:.2}"
        );
    }
    // 5–8 are stored portrait-shaped: left as stored, the shape itself would be wrong.
    let undo: [(u8, Undo); 4] = [
        (5, |i| rotate270(&flip_horizontal(i))),
        (6, rotate270),
        (7, |i| rotate90(&flip_horizontal(i))),
        (8, rotate90),
    ];
    for (n, undo) in undo {
        let as_stored = undo(&thumbnail(
            &store,
            &format!("orientation-landscape_{n}.jpg"),
        ));
        assert_eq!(as_stored.dimensions(), (240, 320), "landscape_{n}");
    }
}

#[test]
fn gps_and_capture_time_are_read_as_the_camera_wrote_them() {
    // Expected values read independently with exiftool 12.57 (`exiftool -n -v3`): e.g.
    // DSCN0010 has GPSLatitude 43/1 28/1 281400000/100000000 N = 43.4674483333333 and
    // GPSLongitude 11/1 53/1 645599999/100000000 E = 11.8851266666639; no GPSAltitude, no
    // OffsetTimeOriginal.
    let expected = [
        (
            "gps-DSCN0010.jpg",
            "2008-10-22T16:28:39",
            43.4674483333333,
            11.8851266666639,
        ),
        (
            "gps-DSCN0012.jpg",
            "2008-10-22T16:29:49",
            43.4671566666639,
            11.8853949999972,
        ),
        (
            "gps-DSCN0021.jpg",
            "2008-10-22T16:38:20",
            43.4670816666639,
            11.8845383333306,
        ),
        (
            "gps-DSCN0025.jpg",
            "2008-10-22T16:43:21",
            43.468365,
            11.8816349999722,
        ),
        (
            "gps-DSCN0027.jpg",
            "2008-10-22T16:44:01",
            43.4684416666667,
            11.881515,
        ),
    ];
    let (_dir, store) = new_store();
    for (name, local, lat, lon) in expected {
        let got = ingest(&store, name);
        assert_eq!(
            got.exif.taken_at,
            Some(CaptureTime::Local {
                local: local.to_owned()
            }),
            "{name}"
        );
        let gps = got.exif.gps.unwrap_or_else(|| panic!("{name}: no GPS"));
        assert!((gps.lat - lat).abs() < 1e-9, "{name}: lat {}", gps.lat);
        assert!((gps.lon - lon).abs() < 1e-9, "{name}: lon {}", gps.lon);
        assert_eq!(gps.altitude_m, None, "{name}");
        assert_eq!(got.exif.make.as_deref(), Some("NIKON"));
        assert_eq!(got.exif.model.as_deref(), Some("COOLPIX P6000"));
        assert_eq!(got.exif.orientation, Some(1));
        assert_eq!((got.width, got.height), (640, 480));
    }
}

/// A small JPEG carrying EXIF written here: an offset, sub-seconds, a southern and western
/// position below sea level, and orientation 6.
fn jpeg_with_exif() -> Vec<u8> {
    use exif::{Field, In, Rational, Tag, Value};
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let dms = |d: u32, m: u32, s_hundredths: u32| {
        Value::Rational(vec![
            Rational::from((d, 1)),
            Rational::from((m, 1)),
            Rational::from((s_hundredths, 100)),
        ])
    };
    let field = |tag, value| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    };
    let fields = [
        field(Tag::Make, ascii("Huawei")),
        field(Tag::Model, ascii("MatePad 11")),
        field(Tag::Orientation, Value::Short(vec![6])),
        field(Tag::DateTimeOriginal, ascii("2026:11:23 14:05:09")),
        field(Tag::SubSecTimeOriginal, ascii("25")),
        field(Tag::OffsetTimeOriginal, ascii("+08:00")),
        field(Tag::GPSLatitudeRef, ascii("S")),
        field(Tag::GPSLatitude, dms(33, 52, 408)),
        field(Tag::GPSLongitudeRef, ascii("W")),
        field(Tag::GPSLongitude, dms(70, 30, 0)),
        field(Tag::GPSAltitudeRef, Value::Byte(vec![1])),
        field(
            Tag::GPSAltitude,
            Value::Rational(vec![Rational::from((25, 2))]),
        ),
    ];
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff.into_inner());
    let img = RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder.add_app_segment(1, app1).unwrap();
    encoder
        .encode(img.as_raw(), 64, 48, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

#[test]
fn offset_time_gives_an_instant_and_refs_give_signs() {
    let (_dir, store) = new_store();
    let got = ingest_bytes(&store, &jpeg_with_exif(), &IngestLimits::default()).unwrap();
    // 14:05:09.250 at +08:00 is 06:05:09.250 UTC (`date -u -d '2026-11-23 06:05:09.25' +%s`
    // = 1795413909).
    assert_eq!(
        got.exif.taken_at,
        Some(CaptureTime::WithOffset {
            local: "2026-11-23T14:05:09.250".to_owned(),
            offset: "+08:00".to_owned(),
            utc: app_core::geo::Timestamp(1_795_413_909_250),
        })
    );
    let GpsPosition {
        lat,
        lon,
        altitude_m,
    } = got.exif.gps.unwrap();
    assert!(
        (lat - -(33.0 + 52.0 / 60.0 + 4.08 / 3600.0)).abs() < 1e-12,
        "{lat}"
    );
    assert!((lon - -70.5).abs() < 1e-12, "{lon}");
    assert_eq!(altitude_m, Some(-12.5));
    assert_eq!(got.exif.orientation, Some(6));
    assert_eq!(got.exif.make.as_deref(), Some("Huawei"));
    assert_eq!((got.width, got.height), (64, 48));
    assert_eq!(got.upright_size(), (48, 64));
    let thumb = decode_jpeg(&store.get(&got.thumb_sha256).unwrap());
    assert_eq!(
        thumb.dimensions(),
        (48, 64),
        "orientation 6 is turned upright"
    );
}

#[test]
fn originals_are_kept_byte_for_byte_under_their_sha256() {
    let (_dir, store) = new_store();
    let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    names.sort();
    assert!(names.len() >= 19, "fixtures: {names:?}");
    for name in &names {
        let original = std::fs::read(fixture(name)).unwrap();
        let got = ingest(&store, name);
        // Independent of the store's own hashing: sha2 over the whole file at once.
        let expected = Sha256Hex::from_digest(&Sha256::digest(&original));
        assert_eq!(got.sha256, expected, "{name}");
        assert_eq!(got.format, PhotoFormat::Jpeg);
        assert_eq!(got.byte_len, original.len() as u64);
        assert_eq!(store.get(&got.sha256).unwrap(), original, "{name}");
        store.verify(&got.sha256).unwrap();
        assert!(store.path(&got.sha256).ends_with(format!(
            "{}/{}",
            &expected.as_str()[..2],
            expected.as_str()
        )));
        // The derived copies are stored too, and are JPEGs.
        for derived in [&got.display_sha256, &got.thumb_sha256] {
            assert_ne!(derived, &got.sha256);
            store.verify(derived).unwrap();
            decode_jpeg(&store.get(derived).unwrap());
        }
    }
}

#[test]
fn the_same_photo_twice_is_stored_once() {
    let (_dir, store) = new_store();
    let first = ingest(&store, "gps-DSCN0021.jpg");
    let files = files_under(store.root());
    assert_eq!(
        files.len(),
        3,
        "original, display copy, thumbnail: {files:?}"
    );
    let again = ingest(&store, "gps-DSCN0021.jpg");
    assert_eq!(again, first);
    assert_eq!(files_under(store.root()), files);
    // A stream of the same bytes is the same photo too.
    let bytes = std::fs::read(fixture("gps-DSCN0021.jpg")).unwrap();
    let streamed = photo::ingest_reader(&store, &bytes[..], &IngestLimits::default()).unwrap();
    assert_eq!(streamed, first);
    assert_eq!(files_under(store.root()), files);
}

fn gradient(width: u32, height: u32) -> image::RgbaImage {
    image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x * 255 / width) as u8, (y * 255 / height) as u8, 128, 255])
    })
}

fn png(img: &image::RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    out
}

#[test]
fn png_and_webp_are_ingested_and_have_no_exif() {
    let (_dir, store) = new_store();
    let img = gradient(800, 600);
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .write_image(img.as_raw(), 800, 600, image::ExtendedColorType::Rgba8)
        .unwrap();
    for (bytes, format) in [(png(&img), PhotoFormat::Png), (webp, PhotoFormat::Webp)] {
        let got = ingest_bytes(&store, &bytes, &IngestLimits::default()).unwrap();
        assert_eq!(got.format, format);
        assert_eq!((got.width, got.height), (800, 600));
        assert_eq!(
            got.exif,
            PhotoExif::default(),
            "{format}: missing EXIF is missing"
        );
        assert_eq!(
            store.get(&got.sha256).unwrap(),
            bytes,
            "{format} original kept"
        );
        let display = decode_jpeg(&store.get(&got.display_sha256).unwrap());
        assert_eq!(display.dimensions(), (800, 600), "{format}: not enlarged");
        let thumb = decode_jpeg(&store.get(&got.thumb_sha256).unwrap());
        assert_eq!(thumb.dimensions(), (320, 240));
        // The gradient survives: top-left dark red channel, right edge bright.
        assert!(thumb.get_pixel(2, 120)[0] < 20 && thumb.get_pixel(317, 120)[0] > 235);
    }
}

#[test]
fn camera_files_without_gps_record_it_missing() {
    let (_dir, store) = new_store();
    let canon = ingest(&store, "Canon_40D.jpg");
    assert_eq!(
        canon.exif,
        PhotoExif {
            taken_at: Some(CaptureTime::Local {
                // The camera wrote SubSecTimeOriginal "00".
                local: "2008-05-30T15:56:01.000".to_owned()
            }),
            gps: None,
            orientation: Some(1),
            make: Some("Canon".to_owned()),
            model: Some("Canon EOS 40D".to_owned()),
        }
    );
    let nikon = ingest(&store, "Nikon_D70.jpg");
    assert_eq!(nikon.exif.gps, None);
    assert_eq!(nikon.exif.make.as_deref(), Some("NIKON CORPORATION"));
    assert_eq!(
        nikon.exif.taken_at.as_ref().map(CaptureTime::local),
        Some("2008-03-15T09:52:01")
    );
    // The orientation series carries no capture time or camera at all.
    let bare = ingest(&store, "orientation-landscape_1.jpg");
    assert_eq!(bare.exif.taken_at, None);
    assert_eq!(bare.exif.make, None);
}

#[test]
fn broken_exif_is_recorded_missing_and_the_photo_is_kept() {
    let (_dir, store) = new_store();
    let mut bytes = jpeg_with_exif();
    // Damage the TIFF header inside APP1, just after "Exif\0\0".
    let tiff = bytes.windows(6).position(|w| w == b"Exif\0\0").unwrap() + 6;
    assert_eq!(&bytes[tiff..tiff + 2], b"MM");
    bytes[tiff..tiff + 8].copy_from_slice(b"garbage!");
    let got = ingest_bytes(&store, &bytes, &IngestLimits::default()).unwrap();
    assert_eq!(got.exif, PhotoExif::default());
    assert_eq!(store.get(&got.sha256).unwrap(), bytes);
}

#[test]
fn ingested_photo_round_trips_through_json() {
    let (_dir, store) = new_store();
    let got = ingest_bytes(&store, &jpeg_with_exif(), &IngestLimits::default()).unwrap();
    let json = serde_json::to_string(&got).unwrap();
    assert!(json.contains(r#""basis":"with_offset""#), "{json}");
    assert!(json.contains(r#""format":"jpeg""#), "{json}");
    let back: IngestedPhoto = serde_json::from_str(&json).unwrap();
    assert_eq!(back, got);
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid PNG signature and IHDR (correct CRC) claiming `width`×`height` RGB pixels,
/// followed by a token IDAT and IEND: a few dozen bytes.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend(kind);
        out.extend(data);
        let crc = crc32(&out[start..]);
        out.extend(crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Photos by their header whose data cannot be decoded to the end: `(what, bytes, the English
/// reason expected)`.
fn undecodable_inputs() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let jpeg = std::fs::read(fixture("gps-DSCN0010.jpg")).unwrap();
    let mut bad_crc = png(&gradient(40, 30));
    let idat = bad_crc.windows(4).position(|w| w == b"IDAT").unwrap();
    bad_crc[idat + 8] ^= 0x55;
    let mut not_a_marker = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46];
    not_a_marker.extend((0..400u32).map(|i| (i * 37 % 251) as u8 | 1));
    let png_half = {
        let whole = png(&gradient(400, 300));
        whole[..whole.len() / 2].to_vec()
    };
    let webp_half = {
        let mut whole = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut whole)
            .write_image(
                gradient(400, 300).as_raw(),
                400,
                300,
                image::ExtendedColorType::Rgba8,
            )
            .unwrap();
        whole[..whole.len() / 2].to_vec()
    };
    vec![
        (
            "first half of a JPEG",
            jpeg[..jpeg.len() / 2].to_vec(),
            "the JPEG file is truncated",
        ),
        ("first half of a PNG", png_half, "the PNG file is truncated"),
        (
            "first half of a WebP",
            webp_half,
            "the WebP file is truncated",
        ),
        (
            "JPEG start followed by garbage",
            not_a_marker,
            "the JPEG file is corrupt",
        ),
        (
            "PNG with a damaged IDAT",
            bad_crc,
            "the PNG file is corrupt",
        ),
    ]
}

/// A photo by its header that cannot be decoded is evidence all the same: its original is
/// kept byte for byte under its SHA-256, the placeholder stands in for its copies, and the
/// result says why (in Chinese and English). Its EXIF is still read when the header is.
#[test]
fn undecodable_photos_are_kept_as_evidence_with_a_placeholder_and_a_warning() {
    let (_dir, store) = new_store();
    for (what, bytes, reason) in undecodable_inputs() {
        for streamed in [false, true] {
            let info = if streamed {
                photo::ingest_reader(&store, &bytes[..], &IngestLimits::default())
            } else {
                ingest_bytes(&store, &bytes, &IngestLimits::default())
            }
            .unwrap_or_else(|e| panic!("{what}: refused: {e}"));
            assert_eq!(info.sha256, Sha256Hex::of(&bytes), "{what}");
            assert_eq!(store.get(&info.sha256).unwrap(), bytes, "{what}");
            assert_eq!(info.thumb_sha256, photo::placeholder_sha256(), "{what}");
            assert_eq!(info.display_sha256, photo::placeholder_sha256(), "{what}");
            assert!(store.contains(&info.thumb_sha256), "{what}");
            let why = info.undisplayable.as_ref().expect("marked undisplayable");
            assert!(why.en.contains(reason), "{what}: {}", why.en);
            assert!(
                why.zh.starts_with("照片无法显示，原件已作为证据保存"),
                "{what}: {}",
                why.zh
            );
        }
    }
    // The placeholder is a real JPEG a screen can show.
    let placeholder = store.get(&photo::placeholder_sha256()).unwrap();
    let mut decoder = jpeg_decoder::Decoder::new(&placeholder[..]);
    decoder.decode().unwrap();
    let info = decoder.info().unwrap();
    assert_eq!((info.width, info.height), (320, 240));
    // A decodable photo is not marked.
    let good = ingest_bytes(
        &store,
        &std::fs::read(fixture("Canon_40D.jpg")).unwrap(),
        &IngestLimits::default(),
    )
    .unwrap();
    assert!(good.undisplayable.is_none());
    assert_ne!(good.thumb_sha256, photo::placeholder_sha256());
}

/// Each input that is not a photo at all, or over the limits: the error expected (in English
/// and in Chinese), checked against a store that already holds one blob (which must survive)
/// and nothing else (which must stay so).
#[test]
fn bad_inputs_get_specific_errors_and_leave_the_store_as_it_was() {
    let (_dir, store) = new_store();
    let jpeg = std::fs::read(fixture("gps-DSCN0010.jpg")).unwrap();
    let before = store.put(b"a blob stored before").unwrap().sha256;
    let files = files_under(store.root());
    assert_eq!(files.len(), 1);

    let heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x01\x00meta".to_vec();
    let tight = IngestLimits {
        max_pixels: 100_000,
        ..IngestLimits::default()
    };
    let tiny_files = IngestLimits {
        max_bytes: 1000,
        ..IngestLimits::default()
    };
    let defaults = IngestLimits::default();

    type Check = fn(&PhotoError) -> bool;
    /// What, the bytes, the limits, the error expected, its English and its Chinese text.
    type Case<'a> = (&'a str, Vec<u8>, &'a IngestLimits, Check, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "zero bytes",
            vec![],
            &defaults,
            |e| matches!(e, PhotoError::Empty),
            "empty",
            "照片文件是空的",
        ),
        (
            "HEIC",
            heic,
            &defaults,
            |e| matches!(e, PhotoError::UnsupportedFormat { format } if format == "HEIC"),
            "unsupported photo format: HEIC",
            "不支持的照片格式：HEIC",
        ),
        (
            "PNG header claiming 100000×100000",
            png_claiming(100_000, 100_000),
            &defaults,
            |e| {
                matches!(
                    e,
                    PhotoError::DecompressionBomb {
                        width: 100_000,
                        height: 100_000,
                        ..
                    }
                )
            },
            "decompression bomb",
            "疑似恶意文件",
        ),
        (
            "640×480 over a 100000-pixel limit",
            jpeg.clone(),
            &tight,
            |e| {
                matches!(
                    e,
                    PhotoError::TooManyPixels {
                        width: 640,
                        height: 480,
                        max_pixels: 100_000
                    }
                )
            },
            "over the limit of 100000 pixels",
            "超过 10 万像素的上限",
        ),
        (
            "160 kB over a 1000-byte limit",
            jpeg.clone(),
            &tiny_files,
            |e| matches!(e, PhotoError::TooLarge { max_bytes: 1000 }),
            "larger than the limit of 1000 bytes",
            "照片文件超过",
        ),
    ];
    for (what, bytes, limits, expected, message, zh) in cases {
        let err = ingest_bytes(&store, &bytes, limits).expect_err(what);
        assert!(expected(&err), "{what}: got {err:?}");
        assert!(err.to_string().contains(message), "{what}: message {err}");
        assert!(err.zh().contains(zh), "{what}: {}", err.zh());
        assert!(err.is_bad_input(), "{what}");
        assert_eq!(
            files_under(store.root()),
            files,
            "{what} left something behind"
        );
        // The same through a stream (the file-length check is skipped there).
        let err = photo::ingest_reader(&store, &bytes[..], limits).expect_err(what);
        assert!(expected(&err), "{what} streamed: got {err:?}");
        assert_eq!(files_under(store.root()), files, "{what} streamed");
    }
    assert_eq!(store.get(&before).unwrap(), b"a blob stored before");
}

#[test]
fn prepare_touches_no_store_and_commit_stores_what_it_described() {
    let (_dir, store) = new_store();
    let prepared =
        photo::prepare_file(&fixture("gps-DSCN0025.jpg"), &IngestLimits::default()).unwrap();
    let info = prepared.info().clone();
    assert!(files_under(store.root()).is_empty());
    let committed = prepared.commit(&store).unwrap();
    assert_eq!(committed, info);
    for sha in [&info.sha256, &info.display_sha256, &info.thumb_sha256] {
        assert!(store.contains(sha));
    }
}
