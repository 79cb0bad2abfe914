//! Photo ingest benchmarks, each beside its anchor measured in the same run:
//!
//! 1. Ingesting a 12-megapixel camera-like JPEG (4000×3000, ~4.5 MB, EXIF with orientation
//!    6 and GPS): hash while reading, EXIF, DCT-scaled decode, upright display copy and
//!    thumbnail — against `vipsthumbnail in.jpg -s 320` on the same file (Debian
//!    `libvips-tools`). Goal: at most 0.75× vips's time. Shown three ways: the processing
//!    in-process (what the goal is judged on), the full ingest with its fsync'd blob
//!    writes, and a whole fresh process doing the full ingest (as vips is one).
//! 2. Peak memory (VmHWM) of a fresh process that ingests that file. Goal: ≤ 64 MB.
//! 3. SHA-256 of a 100 MB file with our streaming hasher against `openssl dgst -sha256`.
//!    Goal: at least 0.6× openssl's throughput.
//!
//! Run with `cargo bench -p inspection-tablet --bench photo` (about half a minute). A
//! missing anchor tool is reported, not fatal.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tablet::blobs::{BlobStore, sha256_file};
use tablet::photo::{self, IngestLimits};

/// Set in the environment of a child copy of this binary: ingest that file, print peak
/// memory, exit.
const CHILD: &str = "PHOTO_BENCH_INGEST_ONE";
const RUNS: usize = 11;
const SHA_RUNS: usize = 5;
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/photos/gps-DSCN0010.jpg"
);

fn main() {
    if let Ok(path) = std::env::var(CHILD) {
        child(Path::new(&path));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let big = dir.path().join("12mp.jpg");
    std::fs::write(&big, twelve_megapixel_jpeg()).unwrap();
    let big_len = std::fs::metadata(&big).unwrap().len();
    println!(
        "made a 4000×3000 JPEG of {:.2} MB in {:.1} s",
        big_len as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let mut rows = Vec::new();
    rows.extend(ingest_rows(dir.path(), &big));
    rows.push(memory_row(&big));
    rows.push(sha_row(dir.path()));
    print_table(&rows);
    println!("bench took {:.1} s", started.elapsed().as_secs_f64());
}

struct Row {
    what: String,
    ours: String,
    anchor: String,
    ratio: String,
    goal: String,
    met: String,
}

fn print_table(rows: &[Row]) {
    println!();
    println!("| measure | ours | anchor (same run) | ratio | goal | met |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.what, r.ours, r.anchor, r.ratio, r.goal, r.met
        );
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn ratio(ours: f64, anchor: f64) -> f64 {
    ours / anchor
}

fn yes_no(ok: bool) -> String {
    if ok { "yes" } else { "**no**" }.to_owned()
}

/// A camera-like 12-megapixel JPEG: a real photo enlarged to 4000×3000 with fine grain
/// added (so it has a camera file's detail and size, not an enlargement's smoothness),
/// quality 90, 4:2:0, with EXIF (orientation 6, time, GPS, camera) like a phone's.
fn twelve_megapixel_jpeg() -> Vec<u8> {
    use fast_image_resize as fr;
    let mut decoder = jpeg_decoder::Decoder::new(std::fs::File::open(FIXTURE).unwrap());
    let small = decoder.decode().unwrap();
    let info = decoder.info().unwrap();
    let src = fr::images::ImageRef::new(
        info.width.into(),
        info.height.into(),
        &small,
        fr::PixelType::U8x3,
    )
    .unwrap();
    let mut big = fr::images::Image::new(4000, 3000, fr::PixelType::U8x3);
    fr::Resizer::new()
        .resize(
            &src,
            &mut big,
            &fr::ResizeOptions::new()
                .resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Bilinear)),
        )
        .unwrap();
    let mut pixels = big.into_vec();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for v in &mut pixels {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let grain = ((state >> 58) as i32 - 32) / 2; // -16..=15
        *v = (i32::from(*v) + grain).clamp(0, 255) as u8;
    }
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    encoder.add_app_segment(1, exif_app1()).unwrap();
    encoder
        .encode(&pixels, 4000, 3000, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

fn exif_app1() -> Vec<u8> {
    use exif::{Field, In, Rational, Tag, Value};
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let rational =
        |parts: &[(u32, u32)]| Value::Rational(parts.iter().map(|&p| Rational::from(p)).collect());
    let field = |tag, value| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    };
    let fields = [
        field(Tag::Make, ascii("HUAWEI")),
        field(Tag::Model, ascii("MatePad 11")),
        field(Tag::Orientation, Value::Short(vec![6])),
        field(Tag::DateTimeOriginal, ascii("2026:11:23 10:15:00")),
        field(Tag::OffsetTimeOriginal, ascii("+08:00")),
        field(Tag::GPSLatitudeRef, ascii("N")),
        field(Tag::GPSLatitude, rational(&[(30, 1), (39, 1), (3600, 100)])),
        field(Tag::GPSLongitudeRef, ascii("E")),
        field(
            Tag::GPSLongitude,
            rational(&[(104, 1), (4, 1), (1200, 100)]),
        ),
        field(Tag::GPSAltitudeRef, Value::Byte(vec![0])),
        field(Tag::GPSAltitude, rational(&[(505, 1)])),
    ];
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff.into_inner());
    app1
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn time_command(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let status = cmd.stdout(Stdio::null()).status().unwrap();
    let elapsed = t.elapsed();
    assert!(status.success(), "{cmd:?} failed");
    elapsed
}

fn ingest_rows(dir: &Path, big: &Path) -> Vec<Row> {
    let limits = IngestLimits::default();
    let vips = have("vipsthumbnail");
    let vips_out = dir.join("vips-thumb.jpg");
    let vips_cmd = || {
        let mut c = Command::new("vipsthumbnail");
        c.arg(big).args(["-s", "320", "-o"]).arg(&vips_out);
        c
    };
    let tiny = dir.join("tiny.jpg");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/photos/Canon_40D.jpg"
        ),
        &tiny,
    )
    .unwrap();
    let exe = std::env::current_exe().unwrap();

    // Warm-up: page cache, rayon's threads, vips's libraries.
    let warm_store = BlobStore::open(dir.join("store-warm")).unwrap();
    let info = photo::ingest_file(&warm_store, big, &limits).unwrap();
    assert_eq!(info.upright_size(), (3000, 4000));
    let size = |sha| {
        let bytes = warm_store.get(sha).unwrap();
        let mut d = jpeg_decoder::Decoder::new(&bytes[..]);
        d.read_info().unwrap();
        let i = d.info().unwrap();
        (i.width, i.height)
    };
    println!(
        "display copy {:?} px, thumbnail {:?} px; EXIF time {:?}",
        size(&info.display_sha256),
        size(&info.thumb_sha256),
        info.exif.taken_at
    );
    if vips {
        time_command(&mut vips_cmd());
    }

    let (mut prepare, mut full, mut process, mut vips_t, mut vips_tiny) =
        (vec![], vec![], vec![], vec![], vec![]);
    for run in 0..RUNS {
        if vips {
            vips_t.push(time_command(&mut vips_cmd()));
            vips_tiny.push(time_command(
                Command::new("vipsthumbnail")
                    .arg(&tiny)
                    .args(["-s", "320", "-o"])
                    .arg(dir.join("vips-tiny.jpg")),
            ));
        }
        let t = Instant::now();
        let prepared = photo::prepare_file(big, &limits).unwrap();
        prepare.push(t.elapsed());
        assert_eq!(prepared.info(), &info);
        drop(prepared);

        let store_dir = dir.join(format!("store-{run}"));
        let store = BlobStore::open(&store_dir).unwrap();
        let t = Instant::now();
        let ingested = photo::ingest_file(&store, big, &limits).unwrap();
        full.push(t.elapsed());
        assert_eq!(ingested, info);
        drop(store);
        std::fs::remove_dir_all(&store_dir).unwrap();

        process.push(time_command(Command::new(&exe).env(CHILD, big)));
    }
    let (prepare, full, process) = (median(prepare), median(full), median(process));
    let anchor = vips.then(|| (median(vips_t), median(vips_tiny)));
    let row = |what: &str, ours: Duration, goal: Option<f64>| match anchor {
        Some((v, tiny)) => {
            let r = ratio(ours.as_secs_f64(), v.as_secs_f64());
            Row {
                what: what.to_owned(),
                ours: ms(ours),
                anchor: format!(
                    "vipsthumbnail -s 320: {} (of which ~{} is vips starting: same on a 100×68 file)",
                    ms(v),
                    ms(tiny)
                ),
                ratio: format!("{r:.2}×"),
                goal: goal.map_or("(for information)".to_owned(), |g| format!("≤ {g}×")),
                met: goal.map_or("".to_owned(), |g| yes_no(r <= g)),
            }
        }
        None => Row {
            what: what.to_owned(),
            ours: ms(ours),
            anchor: "vipsthumbnail missing (apt-get install libvips-tools)".to_owned(),
            ratio: "-".to_owned(),
            goal: goal.map_or("".to_owned(), |g| format!("≤ {g}×")),
            met: "not measured".to_owned(),
        },
    };
    vec![
        row(
            "12 MP JPEG ingest, processing (read+SHA-256, EXIF, 1/4 decode, upright display 750×1000 + thumbnail, JPEG encode), median of 11",
            prepare,
            Some(0.75),
        ),
        row(
            "same plus storing 3 blobs durably (write, fsync, link, fsync folder)",
            full,
            None,
        ),
        row(
            "same as a whole fresh process (exec + full ingest), as vips is timed",
            process,
            None,
        ),
    ]
}

fn child(path: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("blobs")).unwrap();
    photo::ingest_file(&store, path, &IngestLimits::default()).unwrap();
    println!("{}", vm_hwm_kib().unwrap_or(0));
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn memory_row(big: &Path) -> Row {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe).env(CHILD, big).output().unwrap();
    assert!(out.status.success());
    let ours_kib: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let ours_mb = ours_kib as f64 * 1024.0 / 1e6;
    // vips's peak, for scale, from GNU time's maximum resident set size.
    let vips_kib = Command::new("/usr/bin/time")
        .args(["-f", "%M", "vipsthumbnail"])
        .arg(big)
        .args(["-s", "320", "-o", "/dev/null.jpg"])
        .output()
        .ok()
        .filter(|o| o.status.success() || !o.stderr.is_empty())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .and_then(|l| l.trim().parse::<u64>().ok())
        });
    Row {
        what: "peak memory (VmHWM) of a process ingesting the 12 MP JPEG".to_owned(),
        ours: format!("{ours_mb:.1} MB"),
        anchor: vips_kib.map_or("vips: not measured".to_owned(), |k| {
            format!("vipsthumbnail max RSS {:.1} MB", k as f64 * 1024.0 / 1e6)
        }),
        ratio: vips_kib.map_or("-".to_owned(), |k| {
            format!("{:.2}×", ours_kib as f64 / k as f64)
        }),
        goal: "≤ 64 MB".to_owned(),
        met: yes_no(ours_mb <= 64.0),
    }
}

fn sha_row(dir: &Path) -> Row {
    const SIZE: usize = 100 * 1024 * 1024;
    let path: PathBuf = dir.join("100mb.bin");
    let mut data = vec![0u8; SIZE];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for chunk in data.chunks_exact_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes());
    }
    std::fs::write(&path, &data).unwrap();
    drop(data);
    let mb = SIZE as f64 / 1e6;

    let (digest, _) = sha256_file(&path).unwrap();
    let ours = median(
        (0..SHA_RUNS)
            .map(|_| {
                let t = Instant::now();
                let (d, len) = sha256_file(&path).unwrap();
                let e = t.elapsed();
                assert_eq!((d, len), (digest.clone(), SIZE as u64));
                e
            })
            .collect(),
    );
    let ours_mbs = mb / ours.as_secs_f64();
    if !have("openssl") {
        return Row {
            what: "SHA-256 of a 100 MB file (page cache)".to_owned(),
            ours: format!("{ours_mbs:.0} MB/s"),
            anchor: "openssl missing".to_owned(),
            ratio: "-".to_owned(),
            goal: "≥ 0.6×".to_owned(),
            met: "not measured".to_owned(),
        };
    }
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-r"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(digest.as_str()),
        "openssl and we disagree on the digest"
    );
    let openssl = median(
        (0..SHA_RUNS)
            .map(|_| time_command(Command::new("openssl").args(["dgst", "-sha256"]).arg(&path)))
            .collect(),
    );
    let openssl_mbs = mb / openssl.as_secs_f64();
    let r = ours_mbs / openssl_mbs;
    Row {
        what: format!(
            "SHA-256 of a 100 MB file (page cache; median of {SHA_RUNS}; cpu sha_ni: {})",
            cpu_has("sha_ni")
        ),
        ours: format!("{ours_mbs:.0} MB/s ({})", ms(ours)),
        anchor: format!(
            "openssl dgst -sha256: {openssl_mbs:.0} MB/s ({}, incl. process start)",
            ms(openssl)
        ),
        ratio: format!("{r:.2}×"),
        goal: "≥ 0.6×".to_owned(),
        met: yes_no(r >= 0.6),
    }
}

fn cpu_has(flag: &str) -> bool {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|c| c.split_whitespace().any(|w| w == flag))
        .unwrap_or(false)
}
