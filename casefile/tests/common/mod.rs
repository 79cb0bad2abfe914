//! A signed inspection record built through app-core's real rules, with real camera photos
//! from `shared/fixtures/photos`, and helpers to export and re-pack case files.

#![allow(dead_code)]

use app_core::checklist::ChecklistTemplate;
use app_core::document::InspectionDoc;
use app_core::evidence::{PhotoRef, Sha256Hex};
use app_core::geo::Timestamp;
use app_core::ids::{DeviceId, ItemCode, UserId};
use app_core::inspection::{
    Answer, Command, Context, EnterpriseSnapshot, Inspection, InspectionStatus, InspectorRef,
    OnsitePerson, SignOutcome, Signature, Signer,
};
use app_core::kind::InspectionKind;
use app_core::user::{CertificateNo, Role, User};
use casefile::{ExportInput, RenderedDocument, SignerIdentity, export::RenderError};
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;
use std::path::Path;

pub const PHOTOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/photos");

pub const TEMPLATE: &str = r#"
id = "casefile-test"
version = 1
name = "案卷测试检查表"
industries = ["machinery"]
published = "2026-11-01"

[[category]]
name = "基础管理"

[[category.item]]
code = "T-01"
text = "是否建立全员安全生产责任制"
basis = [{ source = "安全生产法", article = "第二十二条" }]

[[category.item]]
code = "T-02"
text = "是否按规定开展安全生产教育和培训"
basis = [{ source = "安全生产法", article = "第二十八条" }]
"#;

pub const T0: i64 = 1_795_420_800_000; // 2026-11-23 16:00 in Shanghai

pub fn template() -> ChecklistTemplate {
    ChecklistTemplate::parse_toml(TEMPLATE).unwrap()
}

pub fn inspector(id: &str, name: &str, cert: &str) -> User {
    User {
        id: UserId::from(id),
        name: name.into(),
        unit: "xw".into(),
        role: Role::Inspector {
            certificate: CertificateNo::parse(cert).unwrap(),
        },
    }
}

pub fn wang() -> User {
    inspector("u-wang", "王强", "32010220180012")
}

pub fn li() -> User {
    inspector("u-li", "李娜", "32010220190031")
}

/// The enterprise inspected (and, in a penalty case, the party).
pub fn enterprise() -> EnterpriseSnapshot {
    EnterpriseSnapshot {
        id: "e1".into(),
        name: "南京示例机械有限公司".into(),
        uscc: app_core::uscc::Uscc::parse("914403001922038216").unwrap(),
        address: "南京市玄武区示例路1号".into(),
        legal_representative: "李明".into(),
        phone: "025-84000000".into(),
        industry: app_core::enterprise::Industry::Machinery,
    }
}

/// `len` bytes that start like an MP4 file (an `ftyp` box) and go on pseudo-randomly.
pub fn fake_mp4(len: usize, seed: u64) -> Vec<u8> {
    let mut out = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    let mut state = seed | 1;
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn photo_bytes(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(PHOTOS).join(name)).unwrap()
}

fn cx<'a>(actor: &'a User, t: &'a ChecklistTemplate, minute: i64) -> Context<'a> {
    Context {
        actor,
        now: Timestamp(T0 + minute * 60_000),
        template: t,
    }
}

pub fn inspector_ref(u: &User) -> InspectorRef {
    InspectorRef {
        user: u.id.clone(),
        name: u.name.clone(),
        certificate: u.certificate().unwrap().clone(),
    }
}

pub struct Fixture {
    pub doc: Vec<u8>,
    pub photos: BTreeMap<Sha256Hex, Vec<u8>>,
    pub key: SigningKey,
    pub signer: SignerIdentity,
    pub signed: Inspection,
}

pub fn device() -> DeviceId {
    DeviceId::from("tablet-0001")
}

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A routine inspection: two inspectors, both items answered, a photo on each, signatures
/// (the enterprise refuses, with a witness), completed and signed as version `v1`. With
/// `amend`, it is signed on site and the summary is changed afterwards.
pub fn fixture(photo_names: &[&str], amend: bool) -> Fixture {
    fixture_with(photo_names.iter().map(|n| photo_bytes(n)).collect(), amend)
}

/// [`fixture`] with the photos' bytes given.
pub fn fixture_with(photo_list: Vec<Vec<u8>>, amend: bool) -> Fixture {
    let t = template();
    let (w, l) = (wang(), li());
    let dev = device();
    let record = Inspection::new_draft(
        "insp-2026-0042".into(),
        InspectionKind::Routine,
        "xw".into(),
        enterprise(),
        t.reference(),
        w.id.clone(),
        Timestamp(T0),
    );
    let mut doc = InspectionDoc::create(&record, &t, &dev, Timestamp(T0)).unwrap();
    let mut photos = BTreeMap::new();
    let mut minute = 1;
    let mut run = |doc: &mut InspectionDoc, who: &User, c: Command| {
        doc.apply(&c, &cx(who, &t, minute), &dev).unwrap();
        minute += 1;
    };
    run(&mut doc, &w, Command::AddInspector(inspector_ref(&w)));
    run(&mut doc, &w, Command::AddInspector(inspector_ref(&l)));
    run(
        &mut doc,
        &w,
        Command::Transition {
            to: InspectionStatus::OnSite,
            comment: String::new(),
        },
    );
    run(
        &mut doc,
        &w,
        Command::SetPlaces {
            text: "机加工车间、仓库".into(),
        },
    );
    for (code, answer) in [("T-01", Answer::Complies), ("T-02", Answer::Fails)] {
        run(
            &mut doc,
            &l,
            Command::Answer {
                item: ItemCode::from(code),
                answer: Some(answer),
            },
        );
    }
    for (i, bytes) in photo_list.into_iter().enumerate() {
        let sha = Sha256Hex::of(&bytes);
        photos.insert(sha.clone(), bytes);
        let item = if i % 2 == 0 { "T-02" } else { "T-01" };
        run(
            &mut doc,
            &w,
            Command::AddItemPhoto {
                item: ItemCode::from(item),
                photo: PhotoRef {
                    sha256: sha,
                    added_at: Timestamp(T0 + 600_000),
                    added_by: w.id.clone(),
                },
            },
        );
    }
    run(
        &mut doc,
        &w,
        Command::SetSummary {
            text: "培训记录缺失，已责令整改。".into(),
        },
    );
    run(
        &mut doc,
        &l,
        Command::SetOnsitePerson(OnsitePerson {
            name: "陈经理".into(),
            position: "安全主管".into(),
            phone: "13800000000".into(),
        }),
    );
    for u in [&w, &l] {
        // The handwritten signature image is a blob like a photo.
        let image = format!("signature image of {}", u.name).into_bytes();
        let sha = Sha256Hex::of(&image);
        photos.insert(sha.clone(), image);
        run(
            &mut doc,
            u,
            Command::Sign(Signature {
                signer: Signer::Inspector(u.id.clone()),
                name: u.name.clone(),
                outcome: SignOutcome::Signed { image: sha },
                at: Timestamp(T0 + 3_600_000),
                read: Vec::new(),
            }),
        );
    }
    run(
        &mut doc,
        &w,
        Command::Sign(Signature {
            signer: Signer::Enterprise,
            name: "陈经理".into(),
            outcome: SignOutcome::Refused {
                witness: "社区网格员 刘洋".into(),
                note: "拒绝签字".into(),
            },
            at: Timestamp(T0 + 3_600_000),
            read: Vec::new(),
        }),
    );
    if amend {
        doc.sign("v1", &cx(&w, &t, 100), &dev).unwrap();
        run(
            &mut doc,
            &w,
            Command::SetSummary {
                text: "培训记录缺失，已责令整改；补充：消防通道堵塞。".into(),
            },
        );
    } else {
        run(
            &mut doc,
            &w,
            Command::Transition {
                to: InspectionStatus::Completed,
                comment: String::new(),
            },
        );
        doc.sign("v1", &cx(&w, &t, 100), &dev).unwrap();
    }
    let signed = doc.signed_record("v1").unwrap();
    let key = key(7);
    let signer = SignerIdentity::new(&w, "玄武区应急管理局", &dev, &key.verifying_key());
    Fixture {
        doc: doc.save(),
        photos,
        key,
        signer,
        signed,
    }
}

/// A small document per record, made by the test (the bundle does not care how PDFs are
/// made; the pdf-forms crate makes the real ones).
pub fn documents(record: &Inspection) -> Result<Vec<RenderedDocument>, RenderError> {
    Ok(vec![RenderedDocument {
        file_name: "inspection-record.pdf".into(),
        title_zh: "现场检查记录".into(),
        bytes: format!(
            "%PDF-1.4\n% test document for {} at {}\n%%EOF\n",
            record.id, record.enterprise.name
        )
        .into_bytes(),
        warnings: Vec::new(),
    }])
}

pub fn export_with(f: &Fixture, key: &SigningKey, signer: &SignerIdentity) -> Vec<u8> {
    let input = ExportInput {
        document: &f.doc,
        signed_version: None,
        photos: &f.photos,
        media: &[],
        documents: &documents,
        signer: signer.clone(),
        key,
        exported_at: Timestamp(T0 + 86_400_000),
    };
    let mut out = Vec::new();
    casefile::export(&input, &mut out, &mut |_| {}).unwrap();
    out
}

pub fn export(f: &Fixture) -> Vec<u8> {
    export_with(f, &f.key, &f.signer)
}

pub fn expect(key: &SigningKey) -> casefile::VerifyOptions {
    casefile::VerifyOptions {
        trusted_keys: vec![casefile::TrustedKey {
            key: key.verifying_key(),
            label: "tablet-0001".into(),
        }],
    }
}

pub fn verify(bytes: &[u8], options: &casefile::VerifyOptions) -> casefile::Report {
    casefile::verify(std::io::Cursor::new(bytes), options)
}

pub fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    casefile::archive::read_all(std::io::Cursor::new(bytes)).unwrap()
}

pub fn pack(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    casefile::archive::write_all(Vec::new(), entries).unwrap()
}
