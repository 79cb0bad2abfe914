//! A realistic record for the form tests, made through `InspectionDoc` with the real 工贸
//! checklist (`fixtures/checklists/gongmao.toml`), signed through `app_core::signing`, and
//! helpers that run poppler (`pdftotext`, `pdffonts`, `pdfinfo`, `pdftoppm`).
//!
//! (`app_core::test_support` is private to app-core's own unit tests, so the people and the
//! script are written out here with the public API.)

#![allow(dead_code)]

use app_core::checklist::ChecklistTemplate;
use app_core::docnumber::{DocNumber, DocumentKind, IssuedDocument, Series};
use app_core::document::InspectionDoc;
use app_core::enterprise::Industry;
use app_core::evidence::Sha256Hex;
use app_core::geo::{Day, Position, PositionSource, Timestamp};
use app_core::hazard::{Hazard, HazardAction, HazardLevel, HazardStage, Reinspection, Supervision};
use app_core::ids::{DeviceId, HazardId, ItemCode};
use app_core::inspection::{
    Answer, ArrivalProof, Attestations, Command, Context, EnterpriseSnapshot, Inspection,
    InspectionStatus, InspectorRef, OnsitePerson, SignOutcome, Signature, Signer,
};
use app_core::kind::InspectionKind;
use app_core::user::{CertificateNo, Role, User};
use pdf_forms::{FormInput, FormKind};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Command as Process;

/// 2026-11-23 08:00 in Asia/Shanghai.
pub const T0: Timestamp = Timestamp(1_795_392_000_000);
pub const UNIT_NAME: &str = "南京市玄武区应急管理局";

pub fn template() -> ChecklistTemplate {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/checklists/gongmao.toml"
    );
    ChecklistTemplate::parse_toml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn inspector(id: &str, name: &str, cert: &str) -> User {
    User {
        id: id.into(),
        name: name.into(),
        unit: "xw".into(),
        role: Role::Inspector {
            certificate: CertificateNo::parse(cert).unwrap(),
        },
    }
}

/// The names a record is made with (so the rare-character test can swap them).
#[derive(Debug, Clone)]
pub struct Names {
    pub enterprise: String,
    pub address: String,
    pub legal_rep: String,
    pub onsite: String,
    pub inspector_a: String,
    pub inspector_b: String,
}

impl Default for Names {
    fn default() -> Self {
        Self {
            enterprise: "南京玄武精工机械有限公司".into(),
            address: "南京市玄武区玄武大道699号徐庄软件园机械加工区3栋".into(),
            legal_rep: "周建国".into(),
            onsite: "陈立新".into(),
            inspector_a: "王强".into(),
            inspector_b: "李娜".into(),
        }
    }
}

/// A red scribble on white, as a captured signature PNG (red so the render test can find
/// it: nothing else on the forms is red).
pub fn signature_png(seed: u32) -> Vec<u8> {
    let (w, h) = (240u32, 90u32);
    let mut px = vec![255u8; (w * h * 3) as usize];
    for x in 10..w - 10 {
        let t = x as f32 / 18.0 + seed as f32;
        let y = (h as f32 / 2.0 + (t.sin() * 25.0) + ((t * 2.7).cos() * 8.0)) as i32;
        for dy in -3..=3 {
            for dx in -1..=1 {
                let (xx, yy) = (x as i32 + dx, y + dy);
                if (0..w as i32).contains(&xx) && (0..h as i32).contains(&yy) {
                    let i = ((yy as u32 * w + xx as u32) * 3) as usize;
                    px[i..i + 3].copy_from_slice(&[200, 20, 20]);
                }
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().unwrap();
        writer.write_image_data(&px).unwrap();
    }
    out
}

/// A record with its document and the signature images, built step by step.
pub struct Case {
    pub doc: InspectionDoc,
    pub template: ChecklistTemplate,
    pub wang: User,
    pub li: User,
    pub device: DeviceId,
    pub images: HashMap<Sha256Hex, Vec<u8>>,
    pub minutes: i64,
}

pub const FAILED: [&str; 3] = ["GM-PX-01", "GM-XG-01", "GM-FC-03"];
pub const SUMMARY: &str = "检查组一行两人于上午八时直接进入厂区，未经通知、未经陪同，依次检查了抛光车间、喷涂车间和危化品仓库。抛光车间干式除尘系统未设置泄爆装置，部分员工未佩戴防尘口罩；新入职员工三人未见安全培训记录。";

impl Case {
    pub fn cx(&mut self, who: &str) -> (User, Timestamp) {
        self.minutes += 3;
        let actor = if who == "li" {
            self.li.clone()
        } else {
            self.wang.clone()
        };
        (actor, Timestamp(T0.0 + self.minutes * 60_000))
    }

    pub fn apply(&mut self, who: &str, command: Command) {
        let (actor, now) = self.cx(who);
        let cx = Context {
            actor: &actor,
            now,
            template: &self.template,
        };
        self.doc
            .apply(&command, &cx, &self.device)
            .unwrap_or_else(|e| panic!("{}: {e}", command.name()));
    }

    pub fn now(&self) -> Timestamp {
        Timestamp(T0.0 + self.minutes * 60_000)
    }

    pub fn sign(&mut self, id: &str) -> Inspection {
        let (actor, now) = self.cx("wang");
        let cx = Context {
            actor: &actor,
            now,
            template: &self.template,
        };
        self.doc.sign(id, &cx, &self.device).unwrap();
        self.doc.signed_record(id).unwrap()
    }

    pub fn issue(&mut self, kind: DocumentKind, seq: u32) -> String {
        let number = DocNumber {
            series: Series {
                unit: "xw".into(),
                kind,
                year: 2026,
            },
            seq,
        }
        .format("玄武");
        let at = self.now();
        let issued = IssuedDocument {
            kind,
            number: number.clone(),
            seq,
            year: 2026,
            at,
            by: self.wang.id.clone(),
            device: self.device.clone(),
        };
        self.apply("wang", Command::IssueDocument(issued));
        number
    }

    pub fn input<'a>(
        &'a self,
        record: &'a Inspection,
        images: &'a dyn Fn(&Sha256Hex) -> Option<Vec<u8>>,
    ) -> FormInput<'a> {
        FormInput {
            record,
            template: Some(&self.template),
            unit_name: UNIT_NAME,
            images,
        }
    }
}

/// The on-site visit: two inspectors, unannounced arrival, every item answered (three fail),
/// three hazards (one major, listed for supervision) ordered with deadlines, signatures
/// captured, numbers issued for the record and the order. `enterprise_refuses`: the person in
/// charge refuses to sign and a witness is recorded.
pub fn on_site_case(names: &Names, enterprise_refuses: bool) -> Case {
    let template = template();
    let wang = inspector("u-wang", &names.inspector_a, "32010220180012");
    let li = inspector("u-li", &names.inspector_b, "32010220190345");
    let device = DeviceId::from("tablet-07");
    let record = Inspection::new_draft(
        "insp-2026-1123-01".into(),
        InspectionKind::Unannounced,
        "xw".into(),
        EnterpriseSnapshot {
            id: "e-jinggong".into(),
            name: names.enterprise.clone(),
            uscc: app_core::uscc::Uscc::parse("914403001922038216").unwrap(),
            address: names.address.clone(),
            legal_representative: names.legal_rep.clone(),
            phone: "025-84561234".into(),
            industry: Industry::Machinery,
        },
        template.reference(),
        wang.id.clone(),
        T0,
    );
    let doc = InspectionDoc::create(&record, &template, &device, T0).unwrap();
    let mut c = Case {
        doc,
        template,
        wang: wang.clone(),
        li: li.clone(),
        device,
        images: HashMap::new(),
        minutes: 0,
    };
    for u in [&wang, &li] {
        c.apply(
            "wang",
            Command::AddInspector(InspectorRef {
                user: u.id.clone(),
                name: u.name.clone(),
                certificate: u.certificate().unwrap().clone(),
            }),
        );
    }
    c.apply(
        "wang",
        Command::SetArrival(ArrivalProof {
            at: T0,
            position: Position::new(32.0603, 118.7969, PositionSource::Device).unwrap(),
            entrance_photo: Sha256Hex::of(b"entrance photo"),
        }),
    );
    c.apply(
        "wang",
        Command::SetAttestations(Attestations {
            no_notice_given: true,
            no_escort_accepted: true,
        }),
    );
    c.apply(
        "wang",
        Command::Transition {
            to: InspectionStatus::OnSite,
            comment: String::new(),
        },
    );
    c.apply(
        "li",
        Command::SetPlaces {
            text: "抛光车间、喷涂车间、危化品仓库".into(),
        },
    );
    c.apply(
        "wang",
        Command::SetSummary {
            text: SUMMARY.into(),
        },
    );
    let codes: Vec<(ItemCode, bool)> = c
        .template
        .items_for(Industry::Machinery)
        .map(|i| (i.code.clone(), i.major_hazard.is_some()))
        .collect();
    for (n, (code, _major)) in codes.iter().enumerate() {
        let answer = if FAILED.contains(&code.as_str()) {
            Answer::Fails
        } else if n % 7 == 3 {
            Answer::NotApplicable
        } else {
            Answer::Complies
        };
        c.apply(
            "wang",
            Command::Answer {
                item: code.clone(),
                answer: Some(answer),
            },
        );
    }
    let notes = [
        ("GM-PX-01", "新入职员工三人未见岗前安全培训记录"),
        ("GM-XG-01", "抛光工位两名员工未佩戴防尘口罩"),
        (
            "GM-FC-03",
            "抛光车间干式除尘器未设置泄爆装置，也无惰化、抑爆措施",
        ),
    ];
    for (code, note) in notes {
        c.apply(
            "li",
            Command::SetNote {
                item: code.into(),
                text: note.into(),
            },
        );
    }
    let hazards = [
        (
            "h-1",
            "GM-PX-01",
            HazardLevel::General,
            "新入职员工未经岗前安全培训即上岗作业",
            "抛光车间",
            "组织三名新员工完成岗前安全培训并考核，建立培训档案",
            Day::ymd(2026, 12, 8),
        ),
        (
            "h-2",
            "GM-XG-01",
            HazardLevel::General,
            "员工未按规定佩戴防尘口罩",
            "抛光车间",
            "配发符合标准的防尘口罩，并监督员工正确佩戴",
            Day::ymd(2026, 11, 30),
        ),
        (
            "h-3",
            "GM-FC-03",
            HazardLevel::Major,
            "干式除尘系统未采取泄爆、惰化、抑爆等任何一种爆炸防控措施",
            "抛光车间除尘器",
            "立即停止抛光作业，为除尘器加装泄爆片并经验收合格后方可恢复生产",
            Day::ymd(2027, 1, 22),
        ),
    ];
    for (id, item, level, desc, place, measures, deadline) in hazards {
        let basis = c
            .template
            .item(&ItemCode::from(item))
            .unwrap()
            .basis
            .clone();
        c.apply(
            "wang",
            Command::RegisterHazard(Hazard {
                id: HazardId::from(id),
                item: Some(item.into()),
                level,
                description: desc.into(),
                place: place.into(),
                basis,
                penalty: Vec::new(),
                photos: BTreeMap::new(),
                measures: String::new(),
                deadline: None,
                stage: HazardStage::Registered,
                supervision: None,
                registered_on: Day::ymd(2026, 11, 23),
                reported_on: None,
                reinspections: BTreeMap::new(),
                closed_on: None,
            }),
        );
        if level == HazardLevel::Major {
            c.apply(
                "wang",
                Command::Hazard {
                    hazard: id.into(),
                    action: HazardAction::ListForSupervision(Supervision {
                        level: "区级".into(),
                        responsible: "玄武区应急管理局 张志远".into(),
                        listed_on: Day::ymd(2026, 11, 23),
                    }),
                },
            );
        }
        c.apply(
            "wang",
            Command::Hazard {
                hazard: id.into(),
                action: HazardAction::Order {
                    deadline,
                    measures: measures.into(),
                },
            },
        );
    }
    c.apply(
        "li",
        Command::SetOnsitePerson(OnsitePerson {
            name: names.onsite.clone(),
            position: "安全生产管理部经理".into(),
            phone: "13905171234".into(),
        }),
    );
    for (n, u) in [wang.clone(), li.clone()].iter().enumerate() {
        let png = signature_png(n as u32);
        let digest = Sha256Hex::of(&png);
        c.images.insert(digest.clone(), png);
        let at = c.now();
        c.apply(
            if n == 0 { "wang" } else { "li" },
            Command::Sign(Signature {
                signer: Signer::Inspector(u.id.clone()),
                name: u.name.clone(),
                outcome: SignOutcome::Signed { image: digest },
                at,
                read: Vec::new(),
            }),
        );
    }
    let outcome = if enterprise_refuses {
        SignOutcome::Refused {
            witness: "徐庄社区网格员 刘洋".into(),
            note: "称需请示总经理".into(),
        }
    } else {
        let png = signature_png(7);
        let digest = Sha256Hex::of(&png);
        c.images.insert(digest.clone(), png);
        SignOutcome::Signed { image: digest }
    };
    let at = c.now();
    c.apply(
        "wang",
        Command::Sign(Signature {
            signer: Signer::Enterprise,
            name: names.onsite.clone(),
            outcome,
            at,
            read: Vec::new(),
        }),
    );
    c.issue(DocumentKind::InspectionRecord, 12);
    c.issue(DocumentKind::RectificationOrder, 5);
    c.apply(
        "wang",
        Command::Transition {
            to: InspectionStatus::Completed,
            comment: String::new(),
        },
    );
    c
}

/// After the visit: the enterprise reports two hazards rectified; the re-inspection passes
/// one and fails the other with a new deadline; an opinion number is issued.
pub fn reinspect(c: &mut Case) {
    // 2026-12-02 09:00 in Asia/Shanghai.
    c.minutes = 9 * 24 * 60 + 60;
    for id in ["h-2", "h-3"] {
        c.apply(
            "wang",
            Command::Hazard {
                hazard: id.into(),
                action: HazardAction::ReportRectified {
                    on: Day::ymd(2026, 11, 28),
                },
            },
        );
    }
    let li = c.li.id.clone();
    let wang = c.wang.id.clone();
    c.apply(
        "wang",
        Command::Hazard {
            hazard: "h-2".into(),
            action: HazardAction::Reinspect {
                id: "r-1".into(),
                reinspection: Reinspection {
                    on: Day::ymd(2026, 12, 2),
                    by: wang,
                    passed: true,
                    note: "员工均已佩戴防尘口罩".into(),
                    photos: BTreeMap::new(),
                    new_deadline: None,
                },
            },
        },
    );
    c.apply(
        "li",
        Command::Hazard {
            hazard: "h-3".into(),
            action: HazardAction::Reinspect {
                id: "r-2".into(),
                reinspection: Reinspection {
                    on: Day::ymd(2026, 12, 2),
                    by: li,
                    passed: false,
                    note: "泄爆片已采购，尚未安装".into(),
                    photos: BTreeMap::new(),
                    new_deadline: Some(Day::ymd(2026, 12, 31)),
                },
            },
        },
    );
    c.issue(DocumentKind::ReinspectionOpinion, 3);
}

pub fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pdf-forms");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the PDF and returns its path.
pub fn write(name: &str, pdf: &[u8]) -> PathBuf {
    let path = out_dir().join(name);
    std::fs::write(&path, pdf).unwrap();
    path
}

/// Runs a poppler tool; poppler-utils is installed by `cargo xtask test`, so a missing tool
/// fails the test rather than skipping it.
pub fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Process::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} must be installed (poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn text_layout(path: &std::path::Path) -> String {
    poppler("pdftotext", &["-layout", path.to_str().unwrap(), "-"])
}

/// The text in content order with all whitespace removed: a cell's wrapped lines join up.
pub fn text_joined(path: &std::path::Path) -> String {
    poppler("pdftotext", &["-raw", path.to_str().unwrap(), "-"])
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

pub fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The PDF of a document that prints the record exactly (no warnings).
pub fn render(kind: FormKind, input: &FormInput<'_>) -> Vec<u8> {
    let rendered = render_warned(kind, input);
    assert!(
        rendered.warnings.is_empty(),
        "{kind:?}: {:?}",
        rendered.warnings
    );
    rendered.pdf
}

/// The PDF and its warnings.
pub fn render_warned(kind: FormKind, input: &FormInput<'_>) -> pdf_forms::Rendered {
    pdf_forms::render(kind, input).unwrap_or_else(|e| panic!("{kind:?}: {e}"))
}
