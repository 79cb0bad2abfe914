//! Export and verification of whole case files: a good one holds; every single flipped
//! byte, a removed, added or swapped file, a replaced signature and a re-signature with
//! another key are each caught with a message that says what is wrong.

mod common;

use casefile::{CheckKind, Status};
use common::*;
use std::time::Instant;

const SMALL: &[&str] = &["Canon_40D.jpg", "Nikon_D70.jpg"];

fn has(r: &casefile::Report, kind: CheckKind, needle: &str) -> bool {
    r.check(kind).messages.iter().any(|m| m.en.contains(needle))
}

#[test]
fn an_exported_case_file_holds_and_carries_everything_byte_for_byte() {
    let f = fixture(SMALL, false);
    let bytes = export(&f);
    let report = verify(&bytes, &expect(&f.key));
    assert!(report.holds(), "{}", report.render_zh_en());
    assert_eq!(report.exit_code(), 0);
    assert_eq!(report.signed_by, Some(f.key.verifying_key()));

    let files = entries(&bytes);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[..5],
        [
            "index.html",
            "record.json",
            "record.automerge",
            "audit-trail.json",
            "documents/inspection-record.pdf"
        ]
    );
    assert_eq!(&names[names.len() - 2..], ["manifest.json", "manifest.sig"]);
    // Every original (two photos, two signature images) is there byte for byte.
    for (sha, original) in &f.photos {
        let (_, inside) = files
            .iter()
            .find(|(n, _)| n.starts_with(&format!("photos/{sha}.")))
            .unwrap_or_else(|| panic!("photo {sha} missing"));
        assert_eq!(inside, original);
    }
    for name in SMALL {
        let sha = app_core::evidence::Sha256Hex::of(&photo_bytes(name));
        assert!(names.contains(&format!("photos/{sha}.jpg").as_str()));
    }
    let record: app_core::inspection::Inspection = serde_json::from_slice(&files[1].1).unwrap();
    assert_eq!(record, f.signed);

    let manifest: casefile::Manifest = serde_json::from_slice(&files[files.len() - 2].1).unwrap();
    assert_eq!(manifest.signer.user.as_str(), "u-wang");
    assert_eq!(
        manifest.signer.certificate.as_deref(),
        Some("32010220180012")
    );
    assert_eq!(manifest.files.len(), files.len() - 2);
    assert!(!manifest.amended);

    let trail: Vec<casefile::trail::TrailEntry> = serde_json::from_slice(&files[3].1).unwrap();
    assert_eq!(trail[0].body.command.as_deref(), Some("create"));
    assert_eq!(trail[0].body.device.as_deref(), Some("tablet-0001"));
    assert_eq!(manifest.trail_head, trail.last().unwrap().hash);
    // The signing change itself comes after the signed heads.
    assert_eq!(
        trail.last().unwrap().body.command.as_deref(),
        Some("record_signed_version")
    );
    assert!(trail.last().unwrap().body.after_signing);
    assert!(!trail[trail.len() - 2].body.after_signing);

    let index = String::from_utf8(files[0].1.clone()).unwrap();
    assert!(index.contains("南京示例机械有限公司"), "{index}");
    assert!(index.contains("王强"));
    for (name, data) in &files[..files.len() - 2] {
        if name != "index.html" {
            assert!(index.contains(name.as_str()), "index does not list {name}");
            let sha = app_core::evidence::Sha256Hex::of(data);
            assert!(
                index.contains(sha.as_str()),
                "index lacks the hash of {name}"
            );
        }
    }
    assert!(index.contains("签署后记录内容未被修改"));
}

#[test]
fn the_report_is_bilingual_and_without_a_trusted_key_is_not_a_pass() {
    let f = fixture(SMALL, false);
    let bytes = export(&f);
    let report = verify(&bytes, &casefile::VerifyOptions::default());
    assert!(!report.holds());
    assert_eq!(report.exit_code(), 5);
    assert_eq!(report.check(CheckKind::Signer).status, Status::NotChecked);
    let fp = casefile::manifest::fingerprint(&f.key.verifying_key());
    assert!(has(&report, CheckKind::Signer, &fp));
    let text = report.render_zh_en();
    assert!(text.contains("未提供可信公钥"), "{text}");
    assert!(text.contains("no trusted key was given"), "{text}");
    assert!(text.contains("签名 / signature"), "{text}");
    assert!(text.contains("王强"), "{text}");
}

#[test]
fn export_reports_progress_up_to_the_total() {
    let f = fixture(SMALL, false);
    let input = casefile::ExportInput {
        document: &f.doc,
        signed_version: Some("v1"),
        photos: &f.photos,
        media: &[],
        documents: &documents,
        signer: f.signer.clone(),
        key: &f.key,
        exported_at: app_core::geo::Timestamp(T0),
    };
    let mut seen = Vec::new();
    let mut out = Vec::new();
    let summary = casefile::export(&input, &mut out, &mut |p| seen.push(p)).unwrap();
    assert_eq!(summary.bytes, out.len() as u64);
    assert_eq!(summary.photos, 4);
    let total = seen[0].bytes_total;
    assert!(total > 0);
    assert!(seen.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done));
    assert_eq!(seen.last().unwrap().bytes_done, total);
    assert!(seen.iter().any(|p| p.current.starts_with("photos/")));
    assert!(seen.iter().any(|p| p.current == "record.json"));
}

#[test]
fn every_single_flipped_byte_is_caught() {
    let f = fixture(SMALL, false);
    let good = export(&f);
    let options = expect(&f.key);
    assert!(verify(&good, &options).holds());
    let started = Instant::now();
    // Every byte, split across the cores (each verification is independent).
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (good, options) = (&good, &options);
            scope.spawn(move || {
                for i in (t..good.len()).step_by(threads) {
                    let mut bad = good.clone();
                    bad[i] ^= 0xff;
                    let report = verify(&bad, options);
                    assert!(
                        !report.holds() && report.exit_code() != 0,
                        "flipping byte {i} of {} went unnoticed",
                        good.len()
                    );
                    assert!(
                        !report.problems_en().is_empty(),
                        "flip at {i}: failed without saying why"
                    );
                }
            });
        }
    });
    eprintln!(
        "{} single-byte flips checked in {:.1?}",
        good.len(),
        started.elapsed()
    );
}

#[test]
fn a_removed_file_is_named() {
    let f = fixture(SMALL, false);
    let mut files = entries(&export(&f));
    let i = files
        .iter()
        .position(|(n, _)| n.starts_with("photos/"))
        .unwrap();
    let (removed, _) = files.remove(i);
    let report = verify(&pack(&files), &expect(&f.key));
    assert_eq!(report.exit_code(), 3);
    assert_eq!(report.check(CheckKind::Signature).status, Status::Pass);
    assert!(
        has(
            &report,
            CheckKind::Files,
            &format!("missing file: {removed} is listed")
        ),
        "{}",
        report.render_zh_en()
    );
    assert!(
        report
            .render_zh_en()
            .contains(&format!("缺少文件：{removed}"))
    );
}

#[test]
fn an_added_file_is_named() {
    let f = fixture(SMALL, false);
    let mut files = entries(&export(&f));
    let at = files.len() - 2;
    files.insert(
        at,
        ("photos/extra.jpg".into(), photo_bytes("gps-DSCN0010.jpg")),
    );
    let report = verify(&pack(&files), &expect(&f.key));
    assert_eq!(report.exit_code(), 3);
    assert!(
        has(
            &report,
            CheckKind::Files,
            "extra file: photos/extra.jpg is in the case file but not in the manifest"
        ),
        "{}",
        report.render_zh_en()
    );
}

#[test]
fn two_swapped_photos_are_named() {
    let f = fixture(SMALL, false);
    let mut files = entries(&export(&f));
    let jpgs: Vec<usize> = files
        .iter()
        .enumerate()
        .filter(|(_, (n, _))| n.ends_with(".jpg"))
        .map(|(i, _)| i)
        .collect();
    let (a, b) = (jpgs[0], jpgs[1]);
    let (name_a, name_b) = (files[a].0.clone(), files[b].0.clone());
    let data_a = files[a].1.clone();
    files[a].1 = files[b].1.clone();
    files[b].1 = data_a;
    let report = verify(&pack(&files), &expect(&f.key));
    assert_eq!(report.exit_code(), 3);
    assert!(
        has(&report, CheckKind::Files, &format!("{name_a} was changed"))
            && has(
                &report,
                CheckKind::Files,
                &format!("it holds the content of {name_b} (files swapped or replaced)")
            ),
        "{}",
        report.render_zh_en()
    );
    assert!(has(
        &report,
        CheckKind::Files,
        &format!("photo {name_b} hashes to")
    ));
}

#[test]
fn a_replaced_signature_is_caught() {
    let f = fixture(SMALL, false);
    let mut files = entries(&export(&f));
    let n = files.len();
    // A signature by the right key, but over other bytes.
    use ed25519_dalek::Signer;
    files[n - 1].1 = f.key.sign(b"some other manifest").to_bytes().to_vec();
    let report = verify(&pack(&files), &expect(&f.key));
    assert_eq!(report.exit_code(), 4);
    assert!(
        has(
            &report,
            CheckKind::Signature,
            "the signature is not valid for the manifest"
        ),
        "{}",
        report.render_zh_en()
    );
    assert_eq!(report.check(CheckKind::Files).status, Status::Pass);
}

#[test]
fn a_case_file_re_signed_with_another_key_is_caught() {
    let f = fixture(SMALL, false);
    let forger = key(99);
    // The manifest still names the device's key: the signature fails.
    let mut files = entries(&export(&f));
    let n = files.len();
    use ed25519_dalek::Signer;
    files[n - 1].1 = forger.sign(&files[n - 2].1).to_bytes().to_vec();
    let report = verify(&pack(&files), &expect(&f.key));
    assert_eq!(report.exit_code(), 4);
    assert!(has(
        &report,
        CheckKind::Signature,
        "not valid for the manifest"
    ));

    // The forger also writes their own key into the manifest (an honest export by another
    // device): the signature holds, but the key is not the one expected.
    let mut forged_signer = f.signer.clone();
    forged_signer.public_key = app_core::evidence::hex(forger.verifying_key().as_bytes());
    let forged = export_with(&f, &forger, &forged_signer);
    let report = verify(&forged, &expect(&f.key));
    assert_eq!(report.check(CheckKind::Signature).status, Status::Pass);
    assert_eq!(report.check(CheckKind::Signer).status, Status::Fail);
    assert_eq!(report.exit_code(), 5);
    let fp = casefile::manifest::fingerprint(&forger.verifying_key());
    assert!(
        has(
            &report,
            CheckKind::Signer,
            &format!("(fingerprint {fp}) is not a trusted key")
        ),
        "{}",
        report.render_zh_en()
    );
    assert!(report.render_zh_en().contains("不是可信公钥"));
}

#[test]
fn a_corrupt_original_is_reported_not_bundled() {
    let mut f = fixture(SMALL, false);
    let sha = f
        .photos
        .keys()
        .find(|s| f.signed.results.values().any(|r| r.photos.contains_key(*s)))
        .unwrap()
        .clone();
    f.photos.get_mut(&sha).unwrap()[100] ^= 1;
    let input = casefile::ExportInput {
        document: &f.doc,
        signed_version: None,
        photos: &f.photos,
        media: &[],
        documents: &documents,
        signer: f.signer.clone(),
        key: &f.key,
        exported_at: app_core::geo::Timestamp(T0),
    };
    let err = casefile::export(&input, Vec::new(), &mut |_| {}).unwrap_err();
    match &err {
        casefile::ExportError::PhotoCorrupt { expected, .. } => assert_eq!(expected, &sha),
        other => panic!("expected a corrupt-photo error, got {other}"),
    }
    assert!(err.to_string().contains("is damaged"), "{err}");
}

#[test]
fn a_missing_original_and_an_unsigned_record_are_refused() {
    let mut f = fixture(SMALL, false);
    let gone = f.photos.keys().next().unwrap().clone();
    f.photos.remove(&gone);
    let input = casefile::ExportInput {
        document: &f.doc,
        signed_version: None,
        photos: &f.photos,
        media: &[],
        documents: &documents,
        signer: f.signer.clone(),
        key: &f.key,
        exported_at: app_core::geo::Timestamp(T0),
    };
    let err = casefile::export(&input, Vec::new(), &mut |_| {}).unwrap_err();
    assert!(
        matches!(&err, casefile::ExportError::PhotoUnreadable { sha, .. } if sha == &gone),
        "{err}"
    );
    let input = casefile::ExportInput {
        signed_version: Some("v9"),
        ..input
    };
    let err = casefile::export(&input, Vec::new(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("no signed version v9"), "{err}");
}

#[test]
fn an_amended_record_is_exported_at_its_signed_version_and_says_so() {
    let f = fixture(SMALL, true);
    let bytes = export(&f);
    let report = verify(&bytes, &expect(&f.key));
    assert!(report.holds(), "{}", report.render_zh_en());
    let files = entries(&bytes);
    let get = |name: &str| &files.iter().find(|(n, _)| n == name).unwrap().1;
    let amendments: serde_json::Value = serde_json::from_slice(get("amendments.json")).unwrap();
    assert_eq!(amendments["fields"][0]["path"], "/summary");
    let record: app_core::inspection::Inspection =
        serde_json::from_slice(get("record.json")).unwrap();
    assert_eq!(record.summary, "培训记录缺失，已责令整改。");
    let index = String::from_utf8(get("index.html").clone()).unwrap();
    assert!(index.contains("签署后记录被修改过"), "{index}");
    assert!(index.contains("/summary"));
    assert!(report.manifest.as_ref().unwrap().amended);
    assert!(report.render_zh_en().contains("amended after signing"));
}

#[test]
fn the_system_unzip_accepts_a_case_file() {
    let Ok(probe) = std::process::Command::new("unzip").arg("-v").output() else {
        eprintln!("unzip not installed; the canonical form is checked by our own reader");
        return;
    };
    assert!(probe.status.success());
    let f = fixture(SMALL, false);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.zip");
    std::fs::write(&path, export(&f)).unwrap();
    let out = std::process::Command::new("unzip")
        .arg("-t")
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("No errors detected"), "{text}");
}

#[test]
fn openssl_alone_verifies_the_signature_and_the_hashes() {
    let Ok(probe) = std::process::Command::new("openssl")
        .arg("version")
        .output()
    else {
        eprintln!("openssl not installed; the signature is checked by our own verifier");
        return;
    };
    assert!(probe.status.success());
    let f = fixture(SMALL, false);
    let files = entries(&export(&f));
    let dir = tempfile::tempdir().unwrap();
    let n = files.len();
    std::fs::write(dir.path().join("manifest.json"), &files[n - 2].1).unwrap();
    std::fs::write(dir.path().join("manifest.sig"), &files[n - 1].1).unwrap();
    // SubjectPublicKeyInfo of an Ed25519 key: a fixed 12-byte prefix, then the 32 bytes.
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend_from_slice(f.key.verifying_key().as_bytes());
    std::fs::write(dir.path().join("key.der"), &der).unwrap();
    let verify = |manifest: &str| {
        std::process::Command::new("openssl")
            .current_dir(dir.path())
            .args([
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                "key.der",
                "-keyform",
                "DER",
                "-rawin",
                "-in",
                manifest,
                "-sigfile",
                "manifest.sig",
            ])
            .output()
            .unwrap()
    };
    let out = verify("manifest.json");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut changed = files[n - 2].1.clone();
    changed[20] ^= 1;
    std::fs::write(dir.path().join("changed.json"), changed).unwrap();
    assert!(!verify("changed.json").status.success());
    // And each file's SHA-256 in the manifest is what sha256sum would print.
    let manifest: casefile::Manifest = serde_json::from_slice(&files[n - 2].1).unwrap();
    for (entry, (name, data)) in manifest.files.iter().zip(&files) {
        assert_eq!(&entry.path, name);
        assert_eq!(entry.sha256, app_core::evidence::Sha256Hex::of(data));
    }
}
