//! The case file of an administrative penalty case: a case driven from 立案 to 结案 through
//! `CaseDoc` with the real rules, one photo and one small recording, exported with the real
//! PDFs (`CasePdfForms`), verified; the 卷内目录 comes first and lists every document; a
//! flipped byte in a PDF, the recording, the case or the manifest is caught; the ZIP64 form
//! verifies too.

mod common;

use app_core::evidence::Sha256Hex;
use app_core::geo::{Day, Timestamp};
use app_core::ids::{DeviceId, UserId};
use app_core::inspection::SignOutcome;
use app_core::legal::LegalBasis;
use app_core::penalty::{
    CaseCommand, CaseContext, CaseDoc, CaseDocKind, CaseId, CaseServiceMethod, CaseSource,
    CaseStage, DiscretionTable, Interview, InterviewPage, Interviewee, IssuedNumber, MediaEvidence,
    MediaKind, MediaSource, OpenCase, PageSignature, PageSigner, Penalty, PenaltySettings,
    QuestionAnswer, WorkCalendar, index_entries,
};
use app_core::user::{Role, User};
use casefile::case::{export_case_with_zip64_at, stage_code};
use casefile::verify::verify_with_zip64_at;
use casefile::{CaseExportInput, CasePdfForms, CheckKind, SignerIdentity, export_case};
use common::{
    T0, enterprise, entries, expect, fake_mp4, inspector_ref, key, li, photo_bytes, verify, wang,
};
use std::collections::BTreeMap;
use std::io::Cursor;

/// Test data, not a citation the product makes: the provision is marked 依据待核.
const TABLE: &str = r#"
id = "xw-2026"
version = 1
published = "2026-11-01"

[[provision]]
basis = "《安全生产法》第九十七条（依据待核）"
violation = "未按照规定对从业人员进行安全生产教育和培训"
fine_min = 0
fine_max = 100000

[[row]]
code = "97-2"
basis = "《安全生产法》第九十七条（依据待核）"
circumstance = "涉及从业人员4人至10人"
grade = "ordinary"
fine_min = 30000
fine_max = 60000
"#;

const CASE_ID: &str = "0b6f3c1e-8d2a-4c55-9a1e-3f6b2d9c7e11";
const UNIT_NAME: &str = "南京市玄武区应急管理局";
const MIN: i64 = 60_000;
const DAY: i64 = 24 * 60 * MIN;

fn at(days: i64, minutes: i64) -> Timestamp {
    Timestamp(T0 + days * DAY + minutes * MIN)
}

fn zhao() -> User {
    User {
        id: UserId::from("u-zhao"),
        name: "赵科长".into(),
        unit: "xw".into(),
        role: Role::Supervisor,
    }
}

fn num(kind: CaseDocKind, seq: u32) -> IssuedNumber {
    IssuedNumber::new("玄武", kind, 2026, seq, DeviceId::from("tab-1"))
}

fn device_of(u: &User) -> DeviceId {
    DeviceId::from(format!("tab-{}", u.id).as_str())
}

struct CaseFixture {
    doc: Vec<u8>,
    originals: BTreeMap<Sha256Hex, Vec<u8>>,
    photo: Sha256Hex,
    recording: Sha256Hex,
    key: ed25519_dalek::SigningKey,
    signer: SignerIdentity,
}

fn evidence(
    sha: &Sha256Hex,
    size: usize,
    kind: MediaKind,
    mime: &str,
    now: Timestamp,
) -> MediaEvidence {
    MediaEvidence {
        sha256: sha.clone(),
        size: size as u64,
        kind,
        mime: mime.into(),
        source: MediaSource::BodyCamera {
            camera: "DSJ-0042".into(),
            imported_at: Timestamp(now.0 - MIN),
            imported_on: DeviceId::from("tab-1"),
        },
        captured_at: Timestamp(now.0 - 60 * MIN),
        added_at: now,
        added_by: wang().id,
        note: "执法记录仪".into(),
    }
}

/// A case from 立案 to 结案 (the script the rules' own tests run), with an interview signed
/// by image, a photo and a recording among its evidence.
fn closed_case() -> CaseFixture {
    let settings = PenaltySettings::default();
    let calendar = WorkCalendar::default();
    let table = DiscretionTable::parse_toml(TABLE).unwrap();
    let cx = |actor: &'static User, now| CaseContext {
        actor,
        now,
        settings: &settings,
        calendar: &calendar,
        discretion: Some(&table),
    };
    let (w, l, z): (&'static User, &'static User, &'static User) = (
        Box::leak(Box::new(wang())),
        Box::leak(Box::new(li())),
        Box::leak(Box::new(zhao())),
    );
    let basis = LegalBasis::new("安全生产法", "第九十七条").pending();
    let open = OpenCase {
        id: CaseId::from(CASE_ID),
        unit: "xw".into(),
        enterprise: enterprise(),
        source: CaseSource::Complaint {
            reference: "举报-2026-017".into(),
            received_on: Day::ymd(2026, 11, 20),
        },
        facts: "3名新员工未经安全生产教育和培训上岗".into(),
        violated: vec![LegalBasis::new("安全生产法", "第二十八条").pending()],
        penalty_basis: vec![basis],
        inspectors: vec![inspector_ref(w), inspector_ref(l)],
    };
    let mut doc = CaseDoc::open(open, &cx(w, at(0, 0)), &device_of(w)).unwrap();

    let mut originals = BTreeMap::new();
    let photo_bytes_ = photo_bytes("Canon_40D.jpg");
    let photo = Sha256Hex::of(&photo_bytes_);
    let recording_bytes = fake_mp4(200_000, 0x9e37_79b9_7f4a_7c15);
    let recording = Sha256Hex::of(&recording_bytes);
    let signature_bytes = photo_bytes("Nikon_D70.jpg");
    let signature = Sha256Hex::of(&signature_bytes);
    let (photo_len, recording_len) = (photo_bytes_.len(), recording_bytes.len());
    originals.insert(photo.clone(), photo_bytes_);
    originals.insert(recording.clone(), recording_bytes);
    originals.insert(signature.clone(), signature_bytes);

    let interview_no = num(CaseDocKind::Interview, 1);
    let interview = Interview {
        id: "iv-1".into(),
        number: interview_no.text.clone(),
        interviewee: Interviewee {
            name: "张三".into(),
            position: "安全管理员".into(),
            id_number: String::new(),
            phone: String::new(),
        },
        place: "企业会议室".into(),
        started_at: at(0, 30),
        ended_at: at(0, 60),
        asked_by: w.id.clone(),
        recorded_by: l.id.clone(),
        pages: vec![InterviewPage {
            lines: vec![QuestionAnswer {
                question: "新员工上岗前是否经过安全培训？".into(),
                answer: "没有。".into(),
            }],
            signatures: Default::default(),
        }],
    };
    let sign = |signer| CaseCommand::SignInterviewPage {
        interview: "iv-1".into(),
        page: 0,
        signature: PageSignature {
            signer,
            outcome: SignOutcome::Signed {
                image: signature.clone(),
            },
            at: at(0, 61),
        },
    };
    let fine = Penalty {
        fine_yuan: 40_000,
        other: Default::default(),
    };
    let direct = || CaseServiceMethod::Direct {
        recipient: "李明".into(),
    };
    use CaseCommand as C;
    let script: Vec<(&'static User, Timestamp, CaseCommand)> = vec![
        (
            z,
            at(0, 10),
            C::ApproveFiling {
                number: num(CaseDocKind::FilingApproval, 1),
                comment: "同意立案".into(),
            },
        ),
        (
            l,
            at(0, 70),
            C::AddInterview {
                interview,
                number: interview_no,
            },
        ),
        (w, at(0, 80), sign(PageSigner::Interviewee)),
        (w, at(0, 81), sign(PageSigner::Inspector(w.id.clone()))),
        (l, at(0, 82), sign(PageSigner::Inspector(l.id.clone()))),
        (
            w,
            at(0, 90),
            C::AddMedia(evidence(
                &recording,
                recording_len,
                MediaKind::Video,
                "video/mp4",
                at(0, 90),
            )),
        ),
        (
            w,
            at(0, 91),
            C::AddMedia(evidence(
                &photo,
                photo_len,
                MediaKind::Photo,
                "image/jpeg",
                at(0, 91),
            )),
        ),
        (
            w,
            at(0, 100),
            C::ProposePenalty {
                circumstance: "97-2".into(),
                penalty: fine.clone(),
                reasons: "情节一般".into(),
            },
        ),
        (
            w,
            at(0, 120),
            C::Notify {
                number: num(CaseDocKind::Notice, 1),
            },
        ),
        (
            w,
            at(0, 180),
            C::RecordService {
                document: num(CaseDocKind::Notice, 1).text,
                method: direct(),
                at: at(0, 170),
                number: num(CaseDocKind::ServiceReceipt, 1),
            },
        ),
        (
            l,
            at(1, 0),
            C::RecordStatement {
                speaker: "李明（法定代表人）".into(),
                text: "已安排补训，请求从轻处罚".into(),
                review: "补训属实，维持拟处罚".into(),
                number: num(CaseDocKind::Statement, 1),
            },
        ),
        (
            z,
            at(4, 0),
            C::Decide {
                penalty: fine,
                number: num(CaseDocKind::Decision, 1),
            },
        ),
        (
            w,
            at(4, 60),
            C::RecordService {
                document: num(CaseDocKind::Decision, 1).text,
                method: direct(),
                at: at(4, 30),
                number: num(CaseDocKind::ServiceReceipt, 2),
            },
        ),
        (
            z,
            at(5, 0),
            C::RecordPublication {
                on: Day::ymd(2026, 11, 28),
                channel: "区政府网站 行政执法公示".into(),
            },
        ),
        (
            w,
            at(6, 0),
            C::RecordPayment {
                on: Day::ymd(2026, 11, 29),
                amount_yuan: 40_000,
                receipt: "NO.0001".into(),
            },
        ),
        (
            z,
            at(7, 0),
            C::Close {
                number: num(CaseDocKind::ClosingApproval, 1),
                comment: "同意结案".into(),
            },
        ),
    ];
    for (actor, now, command) in script {
        doc.apply(&command, &cx(actor, now), &device_of(actor))
            .unwrap_or_else(|e| panic!("{}: {e}", command.name()));
    }
    assert_eq!(doc.case().stage, CaseStage::Closed);
    let key = key(9);
    let device = DeviceId::from("tablet-0001");
    let signer = SignerIdentity::new(w, UNIT_NAME, &device, &key.verifying_key());
    CaseFixture {
        doc: doc.save(),
        originals,
        photo,
        recording,
        key,
        signer,
    }
}

fn export_at(f: &CaseFixture, zip64_at: u64) -> Vec<u8> {
    let renderer = CasePdfForms {
        unit_name: UNIT_NAME,
        images: &f.originals,
    };
    let input = CaseExportInput {
        document: &f.doc,
        originals: &f.originals,
        documents: &renderer,
        signer: f.signer.clone(),
        key: &f.key,
        exported_at: at(8, 0),
    };
    let mut out = Vec::new();
    let summary = if zip64_at == casefile::archive::ZIP64_AT {
        export_case(&input, &mut out, &mut |_| {})
    } else {
        export_case_with_zip64_at(&input, &mut out, zip64_at, &mut |_| {})
    }
    .unwrap();
    assert_eq!(summary.bytes, out.len() as u64);
    assert_eq!(summary.signed_version, "closed");
    assert_eq!((summary.photos, summary.media), (2, 1));
    out
}

/// Where `needle` (a slice of one entry's content) sits in the archive.
fn offset_of(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the entry's bytes are in the archive")
}

/// An offset in the middle of entry `name`'s data.
fn inside(bytes: &[u8], name: &str) -> usize {
    inside_of(bytes, &entries(bytes), name)
}

/// [`inside`] with the archive's entries given (read with another ZIP64 threshold).
fn inside_of(bytes: &[u8], all: &[(String, Vec<u8>)], name: &str) -> usize {
    let (_, data) = all.iter().find(|(n, _)| n == name).unwrap();
    let mid = data.len() / 2;
    let window = &data[mid..(mid + 48).min(data.len())];
    offset_of(bytes, window) + window.len() / 2
}

#[test]
fn a_closed_case_exports_with_its_index_first_and_every_document_and_original() {
    let f = closed_case();
    let bytes = export_at(&f, casefile::archive::ZIP64_AT);
    let report = verify(&bytes, &expect(&f.key));
    assert!(report.holds(), "{}", report.render_zh_en());
    let manifest = report.manifest.as_ref().unwrap();
    assert_eq!(manifest.case.as_ref().map(|c| c.as_str()), Some(CASE_ID));
    assert_eq!(manifest.signed_version, stage_code(CaseStage::Closed));
    assert!(report.render_zh_en().contains("行政处罚案件 Penalty case"));

    let all = entries(&bytes);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "documents/00-卷内目录.pdf", "{names:?}");
    assert!(all[0].1.starts_with(b"%PDF-"));

    // Every document of the 卷内目录, in its order, each its own PDF with its number.
    let case = CaseDoc::load(&f.doc, &DeviceId::from("check"))
        .unwrap()
        .into_case();
    let listed = index_entries(&case);
    assert_eq!(listed.len(), case.documents.len());
    assert!(listed.len() >= 8, "{listed:?}");
    let documents: Vec<&str> = names[1..]
        .iter()
        .take_while(|n| n.starts_with("documents/"))
        .copied()
        .collect();
    assert_eq!(documents.len(), listed.len(), "{documents:?}");
    for (i, (name, entry)) in documents.iter().zip(&listed).enumerate() {
        assert_eq!(
            *name,
            format!(
                "documents/{:02}-{}-{}.pdf",
                i + 1,
                entry.title,
                entry.number
            )
        );
    }
    // The 卷内目录 lists each of them (its text, as pdf-forms prints it).
    let index_text =
        app_core::penalty::case_index(UNIT_NAME, &case.enterprise.name, &listed).plain_text();
    for e in &listed {
        assert!(index_text.contains(&e.number), "{} not listed", e.number);
    }

    // Then the case, its document, the trail and the originals, byte for byte.
    let rest = &names[1 + documents.len()..];
    assert_eq!(
        rest[..3],
        ["case.json", "case.automerge", "audit-trail.json"]
    );
    let get = |name: &str| &all.iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(
        get(&format!("photos/{}.jpg", f.photo)),
        &f.originals[&f.photo]
    );
    assert_eq!(
        get(&format!("media/{}.mp4", f.recording)),
        &f.originals[&f.recording]
    );
    assert_eq!(names[names.len() - 2..], ["manifest.json", "manifest.sig"]);
    // The trail lists every change of the case: its creation and each command, by name.
    let trail: Vec<casefile::trail::TrailEntry> =
        serde_json::from_slice(get("audit-trail.json")).unwrap();
    assert_eq!(trail.len(), 17);
    assert_eq!(trail[0].body.command.as_deref(), Some("create"));
    assert_eq!(trail[16].body.command.as_deref(), Some("close"));
    assert_eq!(trail[16].body.user.as_deref(), Some("u-zhao"));
}

#[test]
fn a_flipped_byte_in_a_pdf_the_recording_the_case_or_the_manifest_is_caught() {
    let f = closed_case();
    let good = export_at(&f, casefile::archive::ZIP64_AT);
    let options = expect(&f.key);
    let names: Vec<String> = entries(&good).into_iter().map(|(n, _)| n).collect();
    let mut spots = vec![
        (
            "卷内目录",
            inside(&good, "documents/00-卷内目录.pdf"),
            CheckKind::Files,
        ),
        (
            "recording",
            inside(&good, &format!("media/{}.mp4", f.recording)),
            CheckKind::Files,
        ),
        (
            "photo",
            inside(&good, &format!("photos/{}.jpg", f.photo)),
            CheckKind::Files,
        ),
        ("case.json", inside(&good, "case.json"), CheckKind::Files),
        ("trail", inside(&good, "audit-trail.json"), CheckKind::Files),
        (
            "manifest",
            inside(&good, "manifest.json"),
            CheckKind::Signature,
        ),
        ("central directory", good.len() - 30, CheckKind::Container),
    ];
    for name in names.iter().filter(|n| n.starts_with("documents/")).skip(1) {
        spots.push(("document", inside(&good, name), CheckKind::Files));
    }
    for (what, at, kind) in spots {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        let report = verify(&bad, &options);
        assert!(!report.holds(), "a flip in {what} at {at} went unnoticed");
        assert_ne!(
            report.check(kind).status,
            casefile::Status::Pass,
            "{what}: {}",
            report.render_zh_en()
        );
    }
    // And a sample of every part of the file, headers included.
    let step = good.len() / 150;
    for at in (0..good.len()).step_by(step) {
        let mut bad = good.clone();
        bad[at] ^= 0xff;
        assert!(
            !verify(&bad, &options).holds(),
            "flipping byte {at} of {} went unnoticed",
            good.len()
        );
    }
}

#[test]
fn a_case_file_in_zip64_form_verifies_and_catches_a_flip() {
    let f = closed_case();
    let zip64 = export_at(&f, 100);
    let options = expect(&f.key);
    let report = verify_with_zip64_at(Cursor::new(&zip64), &options, 100);
    assert!(report.holds(), "{}", report.render_zh_en());
    // The same entries as the plain form, with ZIP64 headers.
    let plain = export_at(&f, casefile::archive::ZIP64_AT);
    assert!(zip64.len() > plain.len());
    let as_plain = casefile::archive::read_with_zip64_at(Cursor::new(&zip64), &|_, _| false, 100)
        .unwrap()
        .entries;
    let names: Vec<&str> = as_plain.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names[0], "documents/00-卷内目录.pdf");
    let all = entries(&plain);
    for at in [
        inside_of(&zip64, &all, &format!("media/{}.mp4", f.recording)),
        zip64.len() - 40,
    ] {
        let mut bad = zip64.clone();
        bad[at] ^= 0x01;
        assert!(!verify_with_zip64_at(Cursor::new(&bad), &options, 100).holds());
    }
}

#[test]
fn the_command_line_verifier_passes_a_case_file() {
    let f = closed_case();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("案卷.zip");
    std::fs::write(&path, export_at(&f, casefile::archive::ZIP64_AT)).unwrap();
    let key_hex = app_core::evidence::hex(f.key.verifying_key().as_bytes());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(["verify", path.to_str().unwrap(), "--expect-key", &key_hex])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(CASE_ID), "{text}");
}
