//! Bad input to the verifier: not a ZIP, a ZIP made by another tool, `../` names, zip bombs,
//! truncated files and forged sizes are each refused with a clear message, and the verifier
//! writes nothing anywhere. The real command-line binary is run too.

mod common;

use casefile::{CheckKind, Status};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn container_error(bytes: &[u8]) -> String {
    let report = verify(bytes, &casefile::VerifyOptions::default());
    let c = report.check(CheckKind::Container);
    assert_eq!(c.status, Status::Fail, "{}", report.render_zh_en());
    assert_eq!(report.exit_code(), 2);
    // Nothing after the container is claimed to hold.
    assert!(
        report
            .checks
            .iter()
            .skip(1)
            .all(|c| c.status == Status::NotChecked)
    );
    c.messages[0].en.clone()
}

/// A hand-made local header (and nothing else canonical about it).
fn local_header(name: &str, method: u16, crc: u32, compressed: u32, uncompressed: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    h.extend_from_slice(&20u16.to_le_bytes());
    h.extend_from_slice(&0x0800u16.to_le_bytes());
    h.extend_from_slice(&method.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&0x21u16.to_le_bytes());
    h.extend_from_slice(&crc.to_le_bytes());
    h.extend_from_slice(&compressed.to_le_bytes());
    h.extend_from_slice(&uncompressed.to_le_bytes());
    h.extend_from_slice(&(name.len() as u16).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(name.as_bytes());
    h
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        }
        out.push(p);
    }
    out.sort();
    out
}

#[test]
fn not_a_zip_is_refused() {
    assert!(container_error(b"").contains("shorter than the smallest ZIP"));
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";
    let e = container_error(pdf);
    assert!(e.contains("not a ZIP file"), "{e}");
    let photo = photo_bytes("Canon_40D.jpg");
    assert!(container_error(&photo).contains("does not start with a ZIP local file header"));
    let report = verify(&photo, &casefile::VerifyOptions::default());
    assert!(report.render_zh_en().contains("不是 ZIP 文件"));
}

#[test]
fn a_zip_made_by_another_tool_is_not_a_case_file() {
    let Ok(probe) = Command::new("zip").arg("-v").output() else {
        eprintln!("zip not installed; hand-made archives below cover the same ground");
        return;
    };
    assert!(probe.status.success());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "hello hello hello hello").unwrap();
    let status = Command::new("zip")
        .current_dir(dir.path())
        .args(["-q", "other.zip", "a.txt"])
        .status()
        .unwrap();
    assert!(status.success());
    let e = container_error(&std::fs::read(dir.path().join("other.zip")).unwrap());
    // Deflated by default, with timestamps and extra fields: refused either way.
    assert!(
        e.contains("compressed") || e.contains("canonical form"),
        "{e}"
    );
}

#[test]
fn dot_dot_names_are_refused_and_nothing_is_written() {
    // A canonical archive whose entry names are then patched to climb out of the folder
    // (same length, so every other byte stays consistent).
    let good = pack(&[("aa/evil.txt".into(), b"owned".to_vec())]);
    let bad: Vec<u8> = {
        let mut b = good.clone();
        let from = b"aa/evil.txt";
        let mut i = 0;
        while i + from.len() <= b.len() {
            if &b[i..i + from.len()] == from {
                b[i..i + from.len()].copy_from_slice(b"../evil.txt");
            }
            i += 1;
        }
        b
    };
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("inbox");
    std::fs::create_dir(&inner).unwrap();
    let path = inner.join("case.zip");
    std::fs::write(&path, &bad).unwrap();
    let before = files_under(dir.path());
    let report = casefile::verify(
        std::fs::File::open(&path).unwrap(),
        &casefile::VerifyOptions::default(),
    );
    let e = &report.check(CheckKind::Container).messages[0].en;
    assert!(e.contains("\"../evil.txt\" is not allowed"), "{e}");
    assert!(e.contains("path traversal"), "{e}");
    assert_eq!(files_under(dir.path()), before);
    assert!(!dir.path().join("evil.txt").exists());

    // Absolute paths and Windows paths the same way.
    for (from, to) in [
        (&b"aa/evil.txt"[..], &b"/a/evil.txt"[..]),
        (b"aa/evil.txt", b"a\\..\\e.txt"),
    ] {
        let mut b = good.clone();
        let at = b.windows(from.len()).position(|w| w == from).unwrap();
        b[at..at + to.len()].copy_from_slice(to);
        let e = container_error(&b);
        assert!(e.contains("is not allowed"), "{e}");
    }
}

#[test]
fn a_zip_bomb_is_refused_before_anything_is_inflated() {
    // A deflated entry claiming 4 GiB from 1 KiB: refused on its method and sizes alone.
    let mut bomb = local_header("bomb.bin", 8, 0, 1024, u32::MAX);
    bomb.extend_from_slice(&[0u8; 1024]);
    let e = container_error(&bomb);
    assert!(e.contains("\"bomb.bin\" is compressed (method 8)"), "{e}");
    assert!(e.contains("without decompressing"), "{e}");
    // The same claim on a stored entry: the sizes disagree.
    let mut liar = local_header("bomb.bin", 0, 0, 1024, u32::MAX);
    liar.extend_from_slice(&[0u8; 1024]);
    assert!(container_error(&liar).contains("must declare equal sizes"));
}

#[test]
fn huge_declared_sizes_and_truncated_files_are_refused() {
    let mut huge = local_header("photos/x.jpg", 0, 0, u32::MAX, u32::MAX);
    huge.extend_from_slice(&[0u8; 100]);
    let e = container_error(&huge);
    assert!(
        e.contains("declares 4294967295 bytes but only 100 bytes of the file remain"),
        "{e}"
    );

    let f = fixture(&["Canon_40D.jpg"], false);
    let good = export(&f);
    for cut in (0..good.len()).step_by(97).chain([good.len() - 1]) {
        let report = verify(&good[..cut], &expect(&f.key));
        assert_eq!(report.exit_code(), 2, "truncated to {cut} bytes");
    }
    // Anything appended after the end record is refused too.
    let mut longer = good.clone();
    longer.extend_from_slice(b"trailing");
    assert!(container_error(&longer).contains("central directory"));
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_casefile"))
}

#[test]
fn the_command_line_verifier_exits_zero_only_when_everything_holds() {
    let f = fixture(&["Canon_40D.jpg", "Nikon_D70.jpg"], false);
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("case.zip");
    std::fs::write(&good, export(&f)).unwrap();
    let key_hex = app_core::evidence::hex(f.key.verifying_key().as_bytes());

    let out = bin()
        .args(["verify", good.to_str().unwrap(), "--expect-key", &key_hex])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("结论：全部检查通过。 Result: every check holds."),
        "{text}"
    );
    assert!(text.contains("[通过 PASS] 签名 / signature"), "{text}");

    // No trusted key: the signature is valid but who signed is not established.
    let out = bin()
        .args(["verify", good.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("no trusted key was given")
    );

    // A trusted-keys file with the key (and a comment) holds; one without it does not.
    let keys = dir.path().join("trusted.txt");
    std::fs::write(
        &keys,
        format!("# 玄武区应急管理局\n{key_hex} tablet-0001 王强\n"),
    )
    .unwrap();
    let out = bin()
        .args([
            "verify",
            good.to_str().unwrap(),
            "--trusted-keys",
            keys.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("tablet-0001 王强"), "{text}");
    let other = app_core::evidence::hex(key(1).verifying_key().as_bytes());
    let out = bin()
        .args(["verify", good.to_str().unwrap(), "--expect-key", &other])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("is not a trusted key")
    );

    // A removed file: content class.
    let mut files = entries(&std::fs::read(&good).unwrap());
    files.remove(4);
    let missing = dir.path().join("missing.zip");
    std::fs::write(&missing, pack(&files)).unwrap();
    let out = bin()
        .args([
            "verify",
            missing.to_str().unwrap(),
            "--expect-key",
            &key_hex,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("missing file: documents/")
    );

    // Not a ZIP: class 2. A missing file or bad usage: 1, on stderr.
    let junk = dir.path().join("junk.zip");
    std::fs::write(&junk, b"this is not a zip file at all, just text").unwrap();
    let out = bin()
        .args(["verify", junk.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin()
        .args(["verify", "/nonexistent/case.zip"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("cannot open /nonexistent/case.zip")
    );
    let out = bin()
        .args(["verify", good.to_str().unwrap(), "--expect-key", "abc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = bin().output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The verifier wrote nothing beside the files this test made.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["case.zip", "junk.zip", "missing.zip", "trusted.txt"]
    );
}
