//! Case file benchmark: export and verification of a case file with 50 photos of 4 MB,
//! each beside the floor measured in the same run — copying the same photo files with `cp`
//! and hashing them with `openssl dgst -sha256`. Goal: each ≤ 1.5× the floor.
//!
//! The photos are real files on disk in a blob folder (`<2 hex>/<64 hex>`): a real camera
//! JPEG from `shared/fixtures/photos` padded with pseudo-random bytes to 4 MB (decoders
//! ignore bytes after the end-of-image marker; random bytes keep anything from compressing).
//! Every side runs once untimed first so the page cache is equally warm, then the sides
//! alternate for several repetitions and the median is reported.
//!
//! Run with `cargo bench -p casefile --bench export` (well under a minute).

#[path = "../tests/common/mod.rs"]
mod common;

use app_core::geo::Timestamp;
use casefile::{BlobDir, ExportInput};
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const PHOTOS: usize = 50;
const PHOTO_BYTES: usize = 4 << 20;
const RUNS: usize = 7;

fn padded_photos() -> Vec<Vec<u8>> {
    let base = common::photo_bytes("gps-DSCN0010.jpg");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..PHOTOS)
        .map(|_| {
            let mut bytes = base.clone();
            while bytes.len() < PHOTO_BYTES {
                // xorshift64: incompressible, and different for every photo.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.extend_from_slice(&state.to_le_bytes());
            }
            bytes.truncate(PHOTO_BYTES);
            bytes
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn main() {
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("casefile-bench")
        .tempdir_in("/var/tmp")
        .unwrap();
    let blobs = dir.path().join("blobs");
    let f = common::fixture_with(padded_photos(), false);
    let mut photo_files: Vec<PathBuf> = Vec::new();
    let mut big_bytes = 0u64;
    for (sha, bytes) in &f.photos {
        let hex = sha.as_str();
        let shard = blobs.join(&hex[..2]);
        std::fs::create_dir_all(&shard).unwrap();
        let path = shard.join(hex);
        std::fs::write(&path, bytes).unwrap();
        if bytes.len() == PHOTO_BYTES {
            photo_files.push(path);
            big_bytes += bytes.len() as u64;
        }
    }
    assert_eq!(photo_files.len(), PHOTOS);
    let doc = f.doc.clone();
    let (key, signer) = (f.key.clone(), f.signer.clone());
    drop(f);
    let source = BlobDir(blobs.clone());
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let case = out_dir.join("case.zip");
    let copy_dir = dir.path().join("copy");
    let options = common::expect(&key);

    let export_once = || {
        let input = ExportInput {
            document: &doc,
            signed_version: None,
            photos: &source,
            media: &[],
            documents: &common::documents,
            signer: signer.clone(),
            key: &key,
            exported_at: Timestamp(common::T0),
        };
        let t = Instant::now();
        let file = std::fs::File::create(&case).unwrap();
        let summary =
            casefile::export(&input, BufWriter::with_capacity(1 << 20, file), &mut |_| {}).unwrap();
        let elapsed = t.elapsed();
        assert_eq!(summary.photos, PHOTOS + 2);
        elapsed
    };
    let verify_once = || {
        let t = Instant::now();
        let report = casefile::verify(std::fs::File::open(&case).unwrap(), &options);
        let elapsed = t.elapsed();
        assert!(report.holds(), "{}", report.render_zh_en());
        elapsed
    };
    let copy_once = || {
        let _ = std::fs::remove_dir_all(&copy_dir);
        std::fs::create_dir_all(&copy_dir).unwrap();
        let t = Instant::now();
        run(Command::new("cp").args(&photo_files).arg(&copy_dir));
        t.elapsed()
    };
    let hash_once = || {
        let t = Instant::now();
        run(Command::new("openssl")
            .args(["dgst", "-sha256"])
            .args(&photo_files));
        t.elapsed()
    };
    let hash_case_once = || {
        let t = Instant::now();
        run(Command::new("openssl").args(["dgst", "-sha256"]).arg(&case));
        t.elapsed()
    };

    // Warm-up: every side reads everything once.
    export_once();
    verify_once();
    copy_once();
    hash_once();
    hash_case_once();

    let (mut export, mut verify, mut copy, mut hash, mut hash_case) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..RUNS {
        // Alternate the order so neither side always runs right after the other.
        if i % 2 == 0 {
            copy.push(copy_once());
            hash.push(hash_once());
            export.push(export_once());
            verify.push(verify_once());
        } else {
            export.push(export_once());
            verify.push(verify_once());
            copy.push(copy_once());
            hash.push(hash_once());
        }
        hash_case.push(hash_case_once());
    }
    let case_len = std::fs::metadata(&case).unwrap().len();
    let floor_runs: Vec<Duration> = copy.iter().zip(&hash).map(|(c, h)| *c + *h).collect();
    let floor = median(floor_runs);
    let (export, verify) = (median(export), median(verify));
    println!(
        "\ncase file: {PHOTOS} photos × {} MiB = {:.0} MB of photos; case file {:.1} MB; median of {RUNS}\n",
        PHOTO_BYTES >> 20,
        big_bytes as f64 / 1e6,
        case_len as f64 / 1e6
    );
    println!("| what | time | floor (cp + openssl dgst -sha256) | ratio | goal |");
    println!("| --- | --- | --- | --- | --- |");
    for (what, t) in [("export", export), ("verify", verify)] {
        println!(
            "| {what} | {} | {} (cp {} + openssl {}) | {:.2}× | ≤ 1.5× |",
            ms(t),
            ms(floor),
            ms(median(copy.clone())),
            ms(median(hash.clone())),
            t.as_secs_f64() / floor.as_secs_f64()
        );
    }
    println!(
        "| (for reference) openssl dgst -sha256 of the case file alone | {} | | | |",
        ms(median(hash_case))
    );
    println!(
        "export throughput {:.0} MB/s, verify {:.0} MB/s; bench took {:.1} s",
        case_len as f64 / 1e6 / export.as_secs_f64(),
        case_len as f64 / 1e6 / verify.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
