//! Audio and video evidence: hashing a 1 GB recording with our streaming SHA-256
//! (`tablet::blobs::sha256_file`, a fixed 256 KiB buffer) against `openssl dgst -sha256` on
//! the same file in the same run (goal: at least 0.6× openssl's speed), and importing it into
//! the blob store (copy + hash in one pass, fsync, link) in a fresh process whose peak memory
//! is read from `/proc/self/status` (goal: ≤ 64 MB).
//!
//! Run with `cargo bench -p inspection-tablet --bench media` (release, fat LTO), or without
//! the release build's long compile `cargo bench --profile dev -p inspection-tablet --bench
//! media` (sha2 is built at opt-level 3 in the dev profile too, so the hash is as fast). Takes
//! about a minute and 2 GB of disk in the temporary folder, removed afterwards.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tablet::blobs::{BlobStore, sha256_file};

const SIZE: u64 = 1_000_000_000;
const RUNS: usize = 3;
/// Set in a child copy of this binary: import that file, print the peak memory, exit.
const CHILD: &str = "MEDIA_BENCH_IMPORT";

fn main() {
    if let Ok(path) = std::env::var(CHILD) {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
        let t = Instant::now();
        let got = tablet::media::import_file(&blobs, Path::new(&path)).unwrap();
        println!(
            "{} {} {}",
            got.sha256,
            t.elapsed().as_secs_f64(),
            peak_kib()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recording.mp4");
    let t = Instant::now();
    write_recording(&path);
    println!("made a {SIZE}-byte recording in {:.1?}", t.elapsed());
    let mb = SIZE as f64 / 1e6;

    let (digest, _) = sha256_file(&path).unwrap(); // warms the page cache
    let ours = median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let (d, len) = sha256_file(&path).unwrap();
                let e = t.elapsed();
                assert_eq!((&d, len), (&digest, SIZE));
                e
            })
            .collect(),
    );
    let ours_mbs = mb / ours.as_secs_f64();
    println!(
        "our streaming SHA-256: {ours_mbs:.0} MB/s ({:.2} s, median of {RUNS}); cpu sha_ni: {}",
        ours.as_secs_f64(),
        cpu_has("sha_ni")
    );
    match Command::new("openssl")
        .args(["dgst", "-sha256", "-r"])
        .arg(&path)
        .output()
    {
        Ok(out) if out.status.success() => {
            assert!(
                String::from_utf8_lossy(&out.stdout).starts_with(digest.as_str()),
                "openssl and we disagree on the digest"
            );
            let openssl = median(
                (0..RUNS)
                    .map(|_| {
                        let t = Instant::now();
                        let ok = Command::new("openssl")
                            .args(["dgst", "-sha256"])
                            .arg(&path)
                            .stdout(Stdio::null())
                            .status()
                            .unwrap()
                            .success();
                        assert!(ok);
                        t.elapsed()
                    })
                    .collect(),
            );
            let openssl_mbs = mb / openssl.as_secs_f64();
            let ratio = ours_mbs / openssl_mbs;
            println!(
                "openssl dgst -sha256: {openssl_mbs:.0} MB/s ({:.2} s, median of {RUNS}, incl. process start)",
                openssl.as_secs_f64()
            );
            println!(
                "ratio: {ratio:.2}× openssl (goal ≥ 0.6×): {}",
                if ratio >= 0.6 { "met" } else { "NOT met" }
            );
        }
        _ => println!("openssl is missing: no anchor (apt-get install openssl)"),
    }

    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, &path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let (sha, secs, peak) = (
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().parse::<f64>().unwrap(),
        parts.next().unwrap().parse::<u64>().unwrap(),
    );
    assert_eq!(sha, digest.as_str());
    println!(
        "import (copy + hash + fsync + link) in a fresh process: {:.0} MB/s ({secs:.2} s), peak memory {} KiB ({:.1} MiB; goal ≤ 64 MB: {})",
        mb / secs,
        peak,
        peak as f64 / 1024.0,
        if peak * 1024 <= 64_000_000 {
            "met"
        } else {
            "NOT met"
        }
    );
}

/// 1 GB: an MP4 header, then pseudo-random 1 MiB blocks stamped with their index.
fn write_recording(path: &Path) {
    use std::io::Write;
    let mut block = vec![0u8; 1 << 20];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for chunk in block.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let (mut written, mut index) = (0u64, 0u64);
    while written < SIZE {
        block[..8].copy_from_slice(&index.to_le_bytes());
        if index == 0 {
            block[..24].copy_from_slice(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom");
        }
        let n = (SIZE - written).min(block.len() as u64) as usize;
        file.write_all(&block[..n]).unwrap();
        written += n as u64;
        index += 1;
    }
    file.flush().unwrap();
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn peak_kib() -> u64 {
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

fn cpu_has(flag: &str) -> bool {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|c| c.split_whitespace().any(|w| w == flag))
        .unwrap_or(false)
}
