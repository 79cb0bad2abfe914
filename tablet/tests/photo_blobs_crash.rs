//! The blob store under `kill -9`: a child process stores blobs (in memory and streamed) as
//! fast as it can and is killed at pseudo-random moments. After every kill, reopening the
//! store must leave no temporary file, and every name in it must hold complete content
//! that hashes to that name. (SIGKILL tests the write-to-temp-then-link protocol; the
//! fsyncs that carry it through a power cut cannot be tested without pulling one.)

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use tablet::blobs::BlobStore;

/// Set for the child: the store to write into.
const WRITER_ROOT: &str = "BLOB_CRASH_WRITER_ROOT";
const KILLS: u64 = 16;

/// The child's body. In an ordinary test run (no `WRITER_ROOT`) it returns at once.
#[test]
fn blob_writer_process() {
    let Ok(root) = std::env::var(WRITER_ROOT) else {
        return;
    };
    let store = BlobStore::open(root).unwrap();
    let seed = std::process::id() as u64;
    for i in 0u64.. {
        // 64 KiB – 2 MiB of content unique to this process and step.
        let len = 65_536 + ((seed * 7919 + i * 104_729) % (2 << 20)) as usize;
        let mut data = vec![0u8; len];
        let mut state = seed ^ (i << 32) ^ 0x9E37_79B9_7F4A_7C15;
        for b in &mut data {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        if i % 2 == 0 {
            store.put(&data).unwrap();
        } else {
            store.put_reader(&data[..]).unwrap();
        }
    }
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Blobs under their final names (not temporary files of unfinished writes).
fn whole_blobs(root: &std::path::Path) -> usize {
    if !root.exists() {
        return 0;
    }
    files_under(root)
        .iter()
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".incoming-"))
        })
        .count()
}

#[test]
fn killed_writers_leave_only_whole_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blobs");
    let exe = std::env::current_exe().unwrap();
    let mut stored = 0;
    let mut cut_off = 0;
    for kill in 0..KILLS {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "blob_writer_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_ROOT, &root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the writer has stored a new blob (however slow the machine is), then a
        // further 0–60 ms so the kill also lands in the middle of writes.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while whole_blobs(&root) <= stored && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis((kill * 37) % 61));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        // Writes the kill cut off: their temporary files are there until the store opens.
        cut_off += files_under(&root)
            .iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(".incoming-")
            })
            .count();
        let store = BlobStore::open(&root).unwrap();
        let blobs = store.list().unwrap();
        assert_eq!(
            files_under(&root).len(),
            blobs.len(),
            "after kill {kill}: something other than blobs is left in the store"
        );
        for sha in &blobs {
            store
                .verify(sha)
                .unwrap_or_else(|e| panic!("after kill {kill}: {e}"));
        }
        assert!(blobs.len() >= stored, "blobs disappeared");
        stored = blobs.len();
    }
    eprintln!("{stored} blobs stored, {cut_off} writes cut off by {KILLS} kills");
    assert!(
        stored > KILLS as usize,
        "the writers stored only {stored} blobs"
    );
}
