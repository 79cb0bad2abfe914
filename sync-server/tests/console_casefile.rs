//! Case files (电子案卷) in the console, against the real server binary and real tablets: a
//! supervisor exports a signed record (following the progress page to the download), the
//! file verifies with `casefile::verify` and with the real `casefile` binary given the key
//! the console shows, the console's verify page reports a flipped byte and recognises a
//! tablet's export by its registered device key; a sibling county's supervisor gets 404, an
//! unsigned record is refused with a clear message, and a damaged original fails the export
//! without leaving a file.

mod common;

use app_core::docnumber::{DocumentKind, IssuedDocument};
use app_core::evidence::PhotoRef;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::ids::InspectionId;
use app_core::ids::ItemCode;
use app_core::inspection::{
    Answer, Command, InspectionStatus, OnsitePerson, SignOutcome, Signature, Signer,
};
use app_core::kind::InspectionKind;
use app_core::user::User;
use casefile::{TrustedKey, VerifyOptions};
use common::console::{ConsoleClient, Page, follow, photo_bytes, text_of};
use common::{PASSWORD, Tablet, TestServer, rid};
use std::fs;
use std::path::PathBuf;
use std::process::Command as Process;

/// The signed record's readable name (its id: [`rid`]).
const RECORD: &str = "rec-cf-1";

struct Fixture {
    dir: tempfile::TempDir,
    server: TestServer,
    /// The signed record's id.
    id: String,
    wang: Tablet,
    wang_blobs: tablet::blobs::BlobStore,
    li: User,
    /// The originals in the record: two item photos and two signature images.
    originals: Vec<Vec<u8>>,
}

fn put(blobs: &tablet::blobs::BlobStore, name: &str, originals: &mut Vec<Vec<u8>>) -> Sha256Hex {
    let bytes = photo_bytes(name);
    let sha = blobs.put(&bytes).unwrap().sha256;
    originals.push(bytes);
    sha
}

/// A routine inspection of enterprise e-001 (玄武) on wang's tablet: two items failed with a
/// camera photo each, both inspectors' handwritten signatures (JPEG originals), the
/// enterprise's refusal with a witness, the inspection record's number issued, signed as
/// `v1`; every original uploaded, then the record synced.
fn signed_record(
    t: &Tablet,
    colleague: &User,
    id: &str,
    blobs: &tablet::blobs::BlobStore,
) -> Vec<Vec<u8>> {
    let template = t.template();
    let enterprise = t.enterprise("e-001");
    t.new_draft(id, &enterprise, InspectionKind::Routine, None, colleague);
    t.apply(
        id,
        Command::Transition {
            to: InspectionStatus::OnSite,
            comment: String::new(),
        },
        2,
    );
    let mut originals = Vec::new();
    let items: Vec<ItemCode> = template
        .items_for(enterprise.industry)
        .take(2)
        .map(|i| i.code.clone())
        .collect();
    for (item, name) in items
        .iter()
        .zip(["gps-DSCN0010.jpg", "orientation-landscape_6.jpg"])
    {
        t.apply(
            id,
            Command::Answer {
                item: item.clone(),
                answer: Some(Answer::Fails),
            },
            3,
        );
        let sha = put(blobs, name, &mut originals);
        t.apply(
            id,
            Command::AddItemPhoto {
                item: item.clone(),
                photo: PhotoRef {
                    sha256: sha,
                    added_at: t.at(4),
                    added_by: t.user.id.clone(),
                },
            },
            4,
        );
    }
    t.apply(
        id,
        Command::SetOnsitePerson(OnsitePerson {
            name: "陈经理".into(),
            position: "安全主管".into(),
            phone: "13800000000".into(),
        }),
        5,
    );
    for (u, name) in [(&t.user, "Canon_40D.jpg"), (colleague, "Nikon_D70.jpg")] {
        let image = put(blobs, name, &mut originals);
        t.apply(
            id,
            Command::Sign(Signature {
                signer: Signer::Inspector(u.id.clone()),
                name: u.name.clone(),
                outcome: SignOutcome::Signed { image },
                at: t.at(6),
                read: Vec::new(),
            }),
            6,
        );
    }
    t.apply(
        id,
        Command::Sign(Signature {
            signer: Signer::Enterprise,
            name: "陈经理".into(),
            outcome: SignOutcome::Refused {
                witness: "社区网格员 刘洋".into(),
                note: "拒绝签字".into(),
            },
            at: t.at(6),
            read: Vec::new(),
        }),
        6,
    );
    let device = t.store.lock().unwrap().device().clone();
    let year = t.at(7).shanghai_date().year();
    t.apply(
        id,
        Command::IssueDocument(IssuedDocument {
            kind: DocumentKind::InspectionRecord,
            number: format!("（玄武）应急检记〔{year}〕1号"),
            seq: 1,
            year,
            at: t.at(7),
            by: t.user.id.clone(),
            device,
        }),
        7,
    );
    {
        let cx = t.cx(&template, 8);
        t.store
            .lock()
            .unwrap()
            .sign(&InspectionId::from(id), "v1", &cx)
            .unwrap();
    }
    // Every original first, then the record that names them (the tablet's sync cycle).
    let report = t.upload_then_sync(blobs);
    assert_eq!(report.accepted, 1, "{report:?}");
    originals
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_tls(&dir.path().join("server"));
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li").user;
    let wang_blobs = tablet::blobs::BlobStore::open(dir.path().join("wang-blobs")).unwrap();
    let id = rid(RECORD);
    let originals = signed_record(&wang, &li, &id, &wang_blobs);
    Fixture {
        dir,
        server,
        id,
        wang,
        wang_blobs,
        li,
        originals,
    }
}

fn signed_in(server: &TestServer, user: &str) -> ConsoleClient {
    let mut c = ConsoleClient::new(server);
    let p = c.sign_in(user, PASSWORD);
    assert_eq!(p.status, 303, "{user}: {}", p.body);
    c
}

/// The text of the element with `id` (up to its first tag).
/// Starts an export of `record` and returns the answer (a redirect to the job on success).
fn start_export(c: &ConsoleClient, record: &str) -> Page {
    c.post(
        &format!("/console/records/{record}/casefile"),
        &format!("csrf={}", c.csrf()),
    )
}

/// The `casefile` command-line verifier, built from this workspace into the same target
/// folder as this test.
fn casefile_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_owned();
    let target_dir = profile_dir.parent().unwrap();
    let status = Process::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "casefile", "--bin", "casefile"])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "building the casefile binary");
    profile_dir.join("casefile")
}

/// A second console session that uploads raw bodies to the verify page, as the page's
/// script does.
struct Uploader {
    base: String,
    http: reqwest::blocking::Client,
    cookie: String,
}

impl Uploader {
    fn new(server: &TestServer, user: &str) -> Self {
        let http = server.http();
        let resp = common::console::post_login(&http, &server.url(), user, PASSWORD);
        let cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("console_session="))
            .expect("a session cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        Self {
            base: server.url(),
            http,
            cookie,
        }
    }

    fn post(&self, path: &str, csrf: Option<&str>, bytes: Vec<u8>) -> (u16, String) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("content-type", "application/zip");
        if let Some(csrf) = csrf {
            req = req.header("x-csrf-token", csrf);
        }
        let resp = req.body(bytes).send().unwrap();
        (resp.status().as_u16(), resp.text().unwrap())
    }

    /// Uploads `bytes` to the verify form's address with its CSRF token in the header the
    /// form's script sends (the token is never in the URL).
    fn verify(&self, bytes: Vec<u8>) -> (u16, String) {
        let about = self
            .http
            .get(format!("{}/console/casefiles", self.base))
            .header("cookie", &self.cookie)
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(
            !about.contains("verify?csrf="),
            "no token in the form's URL"
        );
        assert!(about.contains(r#"action="/console/casefiles/verify""#));
        let at = about.find(r#"data-csrf=""#).unwrap() + r#"data-csrf=""#.len();
        let csrf = about[at..at + about[at..].find('"').unwrap()].to_owned();
        self.post("/console/casefiles/verify", Some(&csrf), bytes)
    }
}

#[test]
fn a_supervisor_exports_a_signed_record_that_verifies_offline_and_in_the_console() {
    let f = fixture();
    let zhao = signed_in(&f.server, "u-zhao");

    // The record page offers the export.
    let record = zhao.get(&format!("/console/records/{}", f.id));
    assert!(record.body.contains("id=\"casefile-export-form\""));
    // The key the console shows recipients.
    let about = zhao.get("/console/casefiles");
    assert_eq!(about.status, 200);
    let key_hex = text_of(&about.body, "server-key").to_owned();
    let fingerprint = text_of(&about.body, "server-fingerprint").to_owned();
    let key = casefile::manifest::parse_public_key(&key_hex).expect("a public key");
    assert_eq!(fingerprint, casefile::manifest::fingerprint(&key));

    let started = start_export(&zhao, &f.id);
    assert_eq!(started.status, 303, "{}", started.body);
    let job = started.location.unwrap();
    assert!(job.starts_with("/console/casefiles/jobs/"), "{job}");
    let (done, states) = follow(&zhao, &job);
    assert_eq!(states.last().unwrap(), "done", "{}", done.body);
    // The finished page names the key it was signed with.
    assert_eq!(text_of(&done.body, "casefile-key"), key_hex);
    let at = done.body.find("id=\"casefile-download\" href=\"").unwrap() + 29;
    let href = &done.body[at..at + done.body[at..].find('"').unwrap()];
    let download = zhao.get(href);
    assert_eq!(download.status, 200);
    assert_eq!(download.content_type, "application/zip");
    let zip = download.bytes.clone();
    assert!(zip.starts_with(b"PK\x03\x04"));
    // The record page lists the export for everyone who may read the record.
    let record = zhao.get(&format!("/console/records/{}", f.id));
    assert!(record.body.contains(&job), "the record page links the job");

    // Offline, with the library: every check holds against the key the console showed.
    let options = VerifyOptions {
        trusted_keys: vec![TrustedKey {
            key,
            label: "server".into(),
        }],
    };
    let report = casefile::verify(std::io::Cursor::new(&zip), &options);
    assert!(report.holds(), "{}", report.render_zh_en());
    let manifest = report.manifest.as_ref().unwrap();
    assert_eq!(manifest.inspection.as_str(), f.id);
    assert_eq!(manifest.signed_version, "v1");
    assert_eq!(manifest.signer.user.as_str(), "u-zhao");
    assert_eq!(manifest.signer.role, "supervisor");
    assert_eq!(manifest.signer.device.as_str(), "server");
    assert_eq!(manifest.signer.public_key, key_hex);
    let files = casefile::archive::read_all(std::io::Cursor::new(&zip)).unwrap();
    for original in &f.originals {
        let name = format!("photos/{}.jpg", Sha256Hex::of(original));
        let (_, inside) = files
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} is in the case file"));
        assert_eq!(inside, original, "{name} is the original, byte for byte");
    }
    let original = &f.originals[0];
    let sha = Sha256Hex::of(original);
    assert!(
        files
            .iter()
            .any(|(n, b)| n.starts_with("documents/") && b.starts_with(b"%PDF-"))
    );

    // Offline, with the real command-line verifier given the key shown on the page: exit 0.
    let case = f.dir.path().join("case.zip");
    fs::write(&case, &zip).unwrap();
    let bin = casefile_binary();
    let out = Process::new(&bin)
        .arg("verify")
        .arg(&case)
        .args(["--expect-key", &key_hex])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("全部检查通过") && stdout.contains("every check holds"));

    // In the console: the file holds and was signed by this server's key.
    let up = Uploader::new(&f.server, "u-zhao");
    let (status, page) = up.verify(zip.clone());
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"data-holds="true""#), "{page}");
    assert!(page.contains(r#"data-owner="server""#));
    assert_eq!(text_of(&page, "signed-by"), key_hex);
    for kind in [
        "container",
        "manifest",
        "signature",
        "files",
        "trail",
        "record",
        "signer",
    ] {
        assert!(
            page.contains(&format!(r#"data-check="{kind}" data-status="pass""#)),
            "{kind}: {page}"
        );
    }
    // One flipped byte inside the photo: the console reports the failure.
    let mut flipped = zip.clone();
    let inside = find(&zip, &original[1000..1032]).expect("the photo's bytes are stored") + 16;
    flipped[inside] ^= 0x01;
    assert!(!casefile::verify(std::io::Cursor::new(&flipped), &options).holds());
    let (status, page) = up.verify(flipped);
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-holds="false""#), "{page}");
    assert!(page.contains("核验未通过"));
    assert!(
        page.contains(r#"data-check="files" data-status="fail""#)
            || page.contains(r#"data-check="container" data-status="fail""#),
        "{page}"
    );
    // Nothing from the uploads is kept.
    let uploads = f.server.data.join("uploads");
    assert_eq!(fs::read_dir(&uploads).unwrap().count(), 0);

    // A tablet's own export is recognised by the device key it registered.
    let tablet_case = f.dir.path().join("tablet-case.zip");
    {
        let mut store = f.wang.store.lock().unwrap();
        tablet::casefile::export_file(
            &mut store,
            &f.wang_blobs,
            &tablet::casefile::ExportRequest {
                id: &InspectionId::from(f.id.as_str()),
                version: None,
                user: &f.wang.user,
                unit_name: "南京市玄武区应急管理局",
                now: Timestamp(f.wang.at(0).0 + 86_400_000),
            },
            &tablet_case,
            &mut |_| {},
        )
        .unwrap();
    }
    let (_, page) = up.verify(fs::read(&tablet_case).unwrap());
    assert!(page.contains(r#"data-holds="true""#), "{page}");
    assert!(page.contains(r#"data-owner="device""#), "{page}");
    let device = f.wang.store.lock().unwrap().device().to_string();
    assert!(page.contains(&device), "names the tablet {device}: {page}");

    // A damaged original on the server fails the next export with a clear message and
    // leaves no file behind.
    let blob = f
        .server
        .data
        .join("blobs")
        .join(&sha.as_str()[..2])
        .join(sha.as_str());
    let mut bytes = fs::read(&blob).unwrap();
    bytes[5000] ^= 0x20;
    fs::write(&blob, bytes).unwrap();
    let started = start_export(&zhao, &f.id);
    assert_eq!(started.status, 303);
    let failed_job = started.location.unwrap();
    let (failed, states) = follow(&zhao, &failed_job);
    assert_eq!(states.last().unwrap(), "failed", "{}", failed.body);
    let message = text_of(&failed.body, "casefile-error");
    assert!(message.contains("已损坏"), "{message}");
    assert!(message.contains(sha.as_str()), "{message}");
    assert_eq!(
        zhao.get(&format!("{failed_job}/download")).status,
        404,
        "nothing is offered for a failed export"
    );
    let exports: Vec<String> = fs::read_dir(f.server.data.join("exports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        exports.len(),
        1,
        "only the first, complete export: {exports:?}"
    );
    assert!(exports[0].ends_with(".zip"));
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn a_sibling_county_supervisor_gets_404_and_an_unsigned_record_is_refused() {
    let f = fixture();
    let zhao = signed_in(&f.server, "u-zhao");
    let sun = signed_in(&f.server, "u-sun");

    let started = start_export(&zhao, &f.id);
    assert_eq!(started.status, 303);
    let job = started.location.unwrap();
    let (done, _) = follow(&zhao, &job);
    assert!(done.body.contains("id=\"casefile-download\""));

    // The sibling county's supervisor: the same 404 as for a record that does not exist,
    // for the export, the job and its download.
    let missing = sun.get("/console/records/no-such-record");
    assert_eq!(missing.status, 404);
    for p in [
        start_export(&sun, &f.id),
        start_export(&sun, "no-such-record"),
        sun.get(&job),
        sun.get(&format!("{job}/download")),
        sun.get("/console/casefiles/jobs/00000000000000000000000000000000"),
    ] {
        assert_eq!(p.status, 404);
        assert_eq!(p.body, missing.body);
    }

    // A record without a signed version: the record page says so, and the export is refused.
    let draft = rid("rec-cf-draft");
    f.wang.new_record(&draft, &f.li);
    assert_eq!(f.wang.sync().accepted, 1);
    let page = zhao.get(&format!("/console/records/{draft}"));
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("id=\"casefile-export-form\""));
    assert!(
        text_of(&page.body, "casefile-unsigned").contains("尚无签署版本"),
        "{}",
        page.body
    );
    let refused = start_export(&zhao, &draft);
    assert_eq!(refused.status, 422);
    assert!(text_of(&refused.body, "casefile-error").contains("尚无签署版本"));

    // Uploads need the session's CSRF token, and an empty upload is refused clearly.
    let up = Uploader::new(&f.server, "u-zhao");
    let (status, _) = up.post("/console/casefiles/verify", Some("nope"), b"PK".to_vec());
    assert_eq!(status, 403);
    let (status, _) = up.post("/console/casefiles/verify", None, b"PK".to_vec());
    assert_eq!(status, 403);
    let (status, empty) = up.verify(Vec::new());
    assert_eq!(status, 400);
    assert!(text_of(&empty, "verify-error").contains("请选择"));
    // Not a case file at all: a report that says so, nothing kept.
    let (status, junk) = up.verify(b"not a zip at all".to_vec());
    assert_eq!(status, 200);
    assert!(junk.contains(r#"data-holds="false""#));
    assert!(junk.contains(r#"data-check="container" data-status="fail""#));
    assert!(junk.contains("id=\"signed-by-none\""));
    // Larger than the API's body limit (a case file with many photos): still checked, not 413.
    let mut big = vec![0u8; sync_server::MAX_BODY_BYTES + (8 << 20)];
    big[..4].copy_from_slice(b"PK\x03\x04");
    let (status, big) = up.verify(big);
    assert_eq!(status, 200, "{big}");
    assert!(big.contains(r#"data-check="container" data-status="fail""#));
    assert_eq!(
        fs::read_dir(f.server.data.join("uploads")).unwrap().count(),
        0
    );
}

/// Exports the record and downloads the case file; returns (the key shown on the finished
/// page, the ZIP).
fn export_and_download(zhao: &ConsoleClient, id: &str) -> (String, Vec<u8>) {
    let started = start_export(zhao, id);
    assert_eq!(started.status, 303, "{}", started.body);
    let (done, states) = follow(zhao, &started.location.unwrap());
    assert_eq!(states.last().unwrap(), "done", "{}", done.body);
    let key = text_of(&done.body, "casefile-key").to_owned();
    let at = done.body.find("id=\"casefile-download\" href=\"").unwrap() + 29;
    let href = &done.body[at..at + done.body[at..].find('"').unwrap()];
    let download = zhao.get(href);
    assert_eq!(download.status, 200);
    (key, download.bytes.clone())
}

#[test]
fn after_a_key_rotation_earlier_case_files_still_verify_with_the_key_history() {
    let f = fixture();
    let zhao = signed_in(&f.server, "u-zhao");
    let (old_key, old_zip) = export_and_download(&zhao, &f.id);

    let (ok, out) = f.server.admin(&[std::ffi::OsStr::new("rotate-key")]);
    assert!(ok, "{out}");
    assert!(out.contains(&old_key), "{out}");

    // The console shows the new key and the history of both.
    let about = zhao.get("/console/casefiles");
    let new_key = text_of(&about.body, "server-key").to_owned();
    assert_ne!(new_key, old_key);
    assert_eq!(about.body.matches("<tr><td>").count(), 2, "{}", about.body);
    // New case files are signed with the new key.
    let (signed_with, new_zip) = export_and_download(&zhao, &f.id);
    assert_eq!(signed_with, new_key);

    // The published history: both keys, the rotation signed by both.
    let history = f
        .server
        .http()
        .get(format!("{}/api/v1/casefile-keys", f.server.url()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let parsed = casefile::KeyHistory::parse(&history).unwrap();
    assert_eq!(parsed.checked_keys().unwrap().len(), 2);
    assert_eq!(parsed.keys[0].public_key, old_key);
    assert_eq!(parsed.keys[1].public_key, new_key);
    let history_file = f.dir.path().join("server-keys.json");
    fs::write(&history_file, &history).unwrap();

    // Offline, a recipient who trusts only the new key: the old case file holds with the
    // history, and not without it.
    let case = f.dir.path().join("old-case.zip");
    fs::write(&case, &old_zip).unwrap();
    let run = |extra: &[&str]| {
        let out = Process::new(casefile_binary())
            .arg("verify")
            .arg(&case)
            .args(["--expect-key", &new_key])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, stdout) = run(&["--key-history", history_file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}");
    let (code, stdout) = run(&[]);
    assert_eq!(code, Some(5), "{stdout}");

    // In the console: both case files hold and are the server's.
    let up = Uploader::new(&f.server, "u-zhao");
    for zip in [old_zip, new_zip] {
        let (status, page) = up.verify(zip);
        assert_eq!(status, 200, "{page}");
        assert!(page.contains(r#"data-holds="true""#), "{page}");
        assert!(page.contains(r#"data-owner="server""#), "{page}");
    }
}
