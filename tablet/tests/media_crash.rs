//! A recording's import killed with SIGKILL midway leaves no partial blob: nothing under a
//! final name, and the temporary file is swept when the store is opened again. The original
//! is untouched.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tablet::blobs::BlobStore;

const CHILD: &str = "MEDIA_CRASH_IMPORT";

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn an_import_killed_midway_leaves_no_blob() {
    if let Ok(args) = std::env::var(CHILD) {
        let (blobs, file) = args.split_once('\n').unwrap();
        let store = BlobStore::open(blobs).unwrap();
        tablet::media::import_file(&store, Path::new(file)).unwrap();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("VID_0002.MP4");
    let size: u64 = 768 << 20;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&original).unwrap());
        f.write_all(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom").unwrap();
        let block: Vec<u8> = (0..1 << 20)
            .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let mut written = 24u64;
        while written < size {
            let n = (size - written).min(block.len() as u64) as usize;
            f.write_all(&block[..n]).unwrap();
            written += n as u64;
        }
    }
    let before = tablet::blobs::sha256_file(&original).unwrap();
    let blobs = dir.path().join("blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "an_import_killed_midway_leaves_no_blob",
            "--nocapture",
        ])
        .env(
            CHILD,
            format!("{}\n{}", blobs.display(), original.display()),
        )
        .spawn()
        .unwrap();
    // Kill it once a good part of the copy is on disk.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut killed_at = None;
    while Instant::now() < deadline {
        let partial: u64 = files_under(&blobs)
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        if partial > 64 << 20 {
            child.kill().unwrap();
            killed_at = Some(partial);
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.wait().unwrap();
    let killed_at = killed_at.expect("the import was killed midway (it finished first)");
    let left = files_under(&blobs);
    println!("killed with {killed_at} bytes copied; left: {left:?}");
    // Nothing under a final name: only the temporary file.
    assert!(left.iter().all(|p| {
        p.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(".incoming-")
    }));
    let store = BlobStore::open(&blobs).unwrap();
    assert!(store.list().unwrap().is_empty());
    assert!(
        files_under(&blobs).is_empty(),
        "the temporary file is swept at the next start"
    );
    assert_eq!(
        tablet::blobs::sha256_file(&original).unwrap(),
        before,
        "the original is untouched"
    );
    // And the import, done again, completes.
    let got = tablet::media::import_file(&store, &original).unwrap();
    assert_eq!((got.sha256, got.size), before);
}
