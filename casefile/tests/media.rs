//! Audio and video recordings in case files: streamed in (never held whole), stored, named by
//! their SHA-256 under `media/`, checked by the verifier like every other byte; and a case file
//! over 4 GiB, which is written in ZIP64 form and still verifies.

mod common;

use app_core::evidence::Sha256Hex;
use casefile::{BlobDir, ExportInput, MediaFile, PhotoSource};
use common::*;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::Instant;

const SMALL: &[&str] = &["Canon_40D.jpg"];

fn media_file(sha: &Sha256Hex) -> MediaFile {
    MediaFile {
        sha256: sha.clone(),
        describe_zh: "执法记录仪视频（原样）".into(),
        describe_en: "body camera video, byte for byte".into(),
    }
}

/// The library's own result type (its error is what the assertions look at).
#[allow(clippy::result_large_err)]
fn export_with_media(
    f: &Fixture,
    source: &dyn PhotoSource,
    media: &[MediaFile],
    out: impl Write,
) -> Result<casefile::ExportSummary, casefile::ExportError> {
    let input = ExportInput {
        document: &f.doc,
        signed_version: None,
        photos: source,
        media,
        documents: &documents,
        signer: f.signer.clone(),
        key: &f.key,
        exported_at: app_core::geo::Timestamp(T0 + 86_400_000),
    };
    casefile::export(&input, out, &mut |_| {})
}

#[test]
fn a_recording_is_stored_under_media_and_every_flipped_byte_is_caught() {
    let f = fixture(SMALL, false);
    let video = fake_mp4(300_000, 7);
    let sha = Sha256Hex::of(&video);
    let mut source = f.photos.clone();
    source.insert(sha.clone(), video.clone());
    let mut good = Vec::new();
    let summary = export_with_media(&f, &source, &[media_file(&sha)], &mut good).unwrap();
    assert_eq!(summary.media, 1);
    let options = expect(&f.key);
    let report = verify(&good, &options);
    assert!(report.holds(), "{}", report.render_zh_en());
    let files = casefile::archive::read_all(io::Cursor::new(&good)).unwrap();
    let name = format!("media/{sha}.mp4");
    let (_, stored) = files.iter().find(|(n, _)| *n == name).expect("media entry");
    assert_eq!(stored, &video, "stored byte for byte");
    // Stored, not deflated: the bytes are in the file as they are.
    assert!(good.windows(64).any(|w| w == &video[100_000..100_064]));
    let manifest = report.manifest.unwrap();
    assert!(
        manifest
            .files
            .iter()
            .any(|e| e.path == name && e.sha256 == sha)
    );

    // Every byte outside the recording's data, and every 61st byte inside it.
    let data_at = good
        .windows(64)
        .position(|w| w == &video[..64])
        .expect("the recording's data");
    let data = data_at..data_at + video.len();
    let positions: Vec<usize> = (0..good.len())
        .filter(|i| !data.contains(i) || (i - data_at) % 61 == 0)
        .collect();
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (good, options, positions) = (&good, &options, &positions);
            scope.spawn(move || {
                for &i in positions.iter().skip(t).step_by(threads) {
                    let mut bad = good.clone();
                    bad[i] ^= 0x01;
                    let report = verify(&bad, options);
                    assert!(
                        !report.holds() && report.exit_code() != 0,
                        "flipping byte {i} of {} went unnoticed",
                        good.len()
                    );
                }
            });
        }
    });
    eprintln!(
        "{} single-byte flips checked in {:.1?}",
        positions.len(),
        started.elapsed()
    );
}

/// A source whose recording changes between the export's two reads of it.
struct Shifty {
    photos: BTreeMap<Sha256Hex, Vec<u8>>,
    sha: Sha256Hex,
    first: Vec<u8>,
    second: Vec<u8>,
    opened: Cell<u32>,
}

impl PhotoSource for Shifty {
    fn size(&self, sha: &Sha256Hex) -> io::Result<u64> {
        if sha != &self.sha {
            return self.photos.size(sha);
        }
        Ok(self.first.len() as u64)
    }

    fn open(&self, sha: &Sha256Hex) -> io::Result<Box<dyn Read + '_>> {
        if sha != &self.sha {
            return self.photos.open(sha);
        }
        self.opened.set(self.opened.get() + 1);
        let bytes = if self.opened.get() == 1 {
            &self.first
        } else {
            &self.second
        };
        Ok(Box::new(&bytes[..]))
    }
}

#[test]
fn a_recording_that_changes_while_copied_or_is_damaged_fails_the_export() {
    let f = fixture(&[], false);
    let video = fake_mp4(50_000, 3);
    let sha = Sha256Hex::of(&video);
    let mut changed = video.clone();
    changed[40_000] ^= 0x10;
    let source = Shifty {
        photos: f.photos.clone(),
        sha: sha.clone(),
        first: video.clone(),
        second: changed.clone(),
        opened: Cell::new(0),
    };
    let err = export_with_media(&f, &source, &[media_file(&sha)], Vec::new()).unwrap_err();
    assert!(err.to_string().contains("CRC-32"), "{err}");
    // Damaged in the store: refused before anything of it is written.
    let mut damaged = f.photos.clone();
    damaged.insert(sha.clone(), changed);
    let err = export_with_media(&f, &damaged, &[media_file(&sha)], Vec::new()).unwrap_err();
    assert!(
        matches!(&err, casefile::ExportError::MediaCorrupt { expected, .. } if expected == &sha),
        "{err}"
    );
    damaged.insert(sha.clone(), video);
    let err = export_with_media(
        &f,
        &damaged,
        &[media_file(&sha), media_file(&sha)],
        Vec::new(),
    )
    .unwrap_err();
    assert!(
        matches!(err, casefile::ExportError::MediaTwice { .. }),
        "{err}"
    );
}

/// Photos from memory, recordings from a blob folder.
struct Both<'a> {
    photos: &'a BTreeMap<Sha256Hex, Vec<u8>>,
    dir: BlobDir,
}

impl PhotoSource for Both<'_> {
    fn size(&self, sha: &Sha256Hex) -> io::Result<u64> {
        match self.photos.get(sha) {
            Some(b) => Ok(b.len() as u64),
            None => self.dir.size(sha),
        }
    }

    fn open(&self, sha: &Sha256Hex) -> io::Result<Box<dyn Read + '_>> {
        match self.photos.get(sha) {
            Some(b) => Ok(Box::new(&b[..])),
            None => self.dir.open(sha),
        }
    }
}

fn flip_byte(path: &std::path::Path, at: u64) {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8; 1];
    file.seek(SeekFrom::Start(at)).unwrap();
    file.read_exact(&mut b).unwrap();
    b[0] ^= 0x01;
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(&b).unwrap();
    file.sync_all().unwrap();
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// A recording of 4 GiB + 3 MiB (a sparse file: zeros after an MP4 header, a marker at the
/// end) makes a case file over 4 GiB: ZIP64 entries, offsets and end records. It verifies
/// with the verifier (and Info-ZIP's `unzip -t`, if present); a flipped byte in the recording
/// and one in the ZIP64 directory are each caught. Needs about 4.3 GB of free disk for a
/// few minutes; the files are removed afterwards. Ignored by default: 260 s here (2 shared
/// cores, dev profile): 22 s to make the recording, 34 s to export, 10.5 s per verification
/// (four of them), 91 s for `unzip -t`; peak RSS 12 MiB.
#[test]
#[ignore = "writes a 4.3 GB case file; run with --ignored"]
fn a_case_file_over_4_gib_is_zip64_and_verifies() {
    let started = Instant::now();
    let f = fixture(SMALL, false);
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs");
    let size: u64 = (4 << 30) + (3 << 20);
    let staging = dir.path().join("video.mp4");
    {
        let mut file = File::create(&staging).unwrap();
        file.write_all(&fake_mp4(4096, 11)).unwrap();
        file.set_len(size).unwrap();
        file.seek(SeekFrom::Start(size - 16)).unwrap();
        file.write_all(b"end of the video").unwrap();
    }
    let (sha, len) = {
        let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
        let mut file = File::open(&staging).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        let mut len = 0u64;
        loop {
            let n = file.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            sha2::Digest::update(&mut hasher, &buf[..n]);
            len += n as u64;
        }
        (Sha256Hex::from_digest(&sha2::Digest::finalize(hasher)), len)
    };
    assert_eq!(len, size);
    let target = app_core::evidence::blob_layout::path(&blobs, &sha);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::rename(&staging, &target).unwrap();
    eprintln!("made the recording in {:.1?}", started.elapsed());

    let source = Both {
        photos: &f.photos,
        dir: BlobDir(blobs.clone()),
    };
    let input = ExportInput {
        document: &f.doc,
        signed_version: None,
        photos: &source,
        media: &[media_file(&sha)],
        documents: &documents,
        signer: f.signer.clone(),
        key: &f.key,
        exported_at: app_core::geo::Timestamp(T0 + 86_400_000),
    };
    let path = dir.path().join("case.zip");
    let t = Instant::now();
    let written = casefile::export_file(&input, &path, &mut |_| {}).unwrap();
    let file_len = std::fs::metadata(&path).unwrap().len();
    eprintln!(
        "exported {file_len} bytes in {:.1?} (peak RSS so far {} MiB)",
        t.elapsed(),
        peak_rss_kib() >> 10
    );
    assert!(file_len > 4 << 30, "the case file must exceed 4 GiB");
    assert_eq!(written.summary.bytes, file_len);
    assert_eq!(written.summary.media, 1);

    let options = expect(&f.key);
    let t = Instant::now();
    let report = casefile::verify(File::open(&path).unwrap(), &options);
    assert!(report.holds(), "{}", report.render_zh_en());
    eprintln!("verified in {:.1?}", t.elapsed());
    let entries = casefile::archive::read(File::open(&path).unwrap(), &|_, _| false)
        .unwrap()
        .entries;
    let media = entries
        .iter()
        .find(|e| e.name.starts_with("media/"))
        .unwrap();
    assert_eq!(media.size, size);
    assert_eq!(media.sha256, sha);
    let after = entries
        .iter()
        .skip_while(|e| !e.name.starts_with("media/"))
        .nth(1)
        .unwrap();
    assert!(
        after.offset > u64::from(u32::MAX),
        "an entry after the recording starts past 4 GiB"
    );

    if std::process::Command::new("unzip")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let t = Instant::now();
        let out = std::process::Command::new("unzip")
            .arg("-t")
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("No errors detected"), "{text}");
        eprintln!("unzip -t agreed in {:.1?}", t.elapsed());
    }

    // A flip in the middle of the recording (past 2 GiB), then one in the ZIP64 end record.
    for at in [media.offset + 100 + (3 << 30), file_len - 60] {
        flip_byte(&path, at);
        let report = casefile::verify(File::open(&path).unwrap(), &options);
        assert!(!report.holds(), "a flip at {at} went unnoticed");
        eprintln!("flip at {at}: {:?}", report.problems_en().first());
        flip_byte(&path, at);
    }
    let report = casefile::verify(File::open(&path).unwrap(), &options);
    assert!(report.holds(), "{}", report.render_zh_en());
    eprintln!(
        "peak RSS {} MiB; the whole test took {:.1?}",
        peak_rss_kib() >> 10,
        started.elapsed()
    );
}
