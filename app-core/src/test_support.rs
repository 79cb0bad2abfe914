//! Shared fixtures for the unit tests: a small checklist, two inspectors, a supervisor, an
//! enterprise, and a fresh record.

use crate::checklist::ChecklistTemplate;
use crate::evidence::{PhotoRef, Sha256Hex};
use crate::geo::{Day, Position, PositionSource, Timestamp};
use crate::hazard::{Hazard, HazardLevel, HazardStage};
use crate::ids::{HazardId, ItemCode, UserId};
use crate::inspection::{
    ArrivalProof, Attestations, Command, Context, EnterpriseSnapshot, Inspection, InspectorRef,
    OnsitePerson, SignOutcome, Signature, Signer,
};
use crate::kind::InspectionKind;
use crate::legal::LegalBasis;
use crate::uscc::Uscc;
use crate::user::{CertificateNo, Role, User};
use std::collections::BTreeMap;

pub const TEMPLATE: &str = r#"
id = "test"
version = 1
name = "测试检查表"
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

[[category]]
name = "重大事故隐患"

[[category.item]]
code = "T-03"
text = "粉尘爆炸危险场所是否设置泄爆装置"
basis = [{ source = "工贸企业粉尘防爆安全规定", article = "第十五条" }]
major_hazard = { source = "工贸企业重大事故隐患判定标准", article = "第十二条" }
"#;

pub fn template() -> ChecklistTemplate {
    ChecklistTemplate::parse_toml(TEMPLATE).expect("test template parses")
}

pub fn inspector(id: &str, name: &str) -> User {
    User {
        id: UserId::from(id),
        name: name.into(),
        unit: "xw".into(),
        role: Role::Inspector {
            certificate: CertificateNo::parse(&format!("3201022018{:04}", id.len())).unwrap(),
        },
    }
}

pub fn wang() -> User {
    inspector("wang", "王强")
}

pub fn li() -> User {
    inspector("li", "李娜")
}

pub fn supervisor() -> User {
    User {
        id: UserId::from("zhao"),
        name: "赵科长".into(),
        unit: "xw".into(),
        role: Role::Supervisor,
    }
}

pub fn inspector_ref(u: &User) -> InspectorRef {
    InspectorRef {
        user: u.id.clone(),
        name: u.name.clone(),
        certificate: u.certificate().unwrap().clone(),
    }
}

pub const T0: Timestamp = Timestamp(1_795_420_800_000); // 2026-11-23 08:00 Shanghai

pub fn cx<'a>(actor: &'a User, template: &'a ChecklistTemplate, minutes: i64) -> Context<'a> {
    Context {
        actor,
        now: Timestamp(T0.0 + minutes * 60_000),
        template,
    }
}

pub fn new_record(kind: InspectionKind) -> Inspection {
    let t = template();
    Inspection::new_draft(
        "insp-1".into(),
        kind,
        "xw".into(),
        EnterpriseSnapshot {
            id: "e1".into(),
            name: "南京示例机械有限公司".into(),
            uscc: Uscc::parse("914403001922038216").unwrap(),
            address: "南京市玄武区示例路1号".into(),
            legal_representative: "李明".into(),
            phone: "025-84000000".into(),
            industry: crate::enterprise::Industry::Machinery,
        },
        t.reference(),
        wang().id,
        T0,
    )
}

pub fn digest(tag: &str) -> Sha256Hex {
    Sha256Hex::of(tag.as_bytes())
}

pub fn photo(tag: &str, by: &User) -> PhotoRef {
    PhotoRef {
        sha256: digest(tag),
        added_at: T0,
        added_by: by.id.clone(),
    }
}

pub fn arrival() -> Command {
    Command::SetArrival(ArrivalProof {
        at: T0,
        position: Position::new(32.0603, 118.7969, PositionSource::Device).unwrap(),
        entrance_photo: digest("entrance"),
    })
}

pub fn attest() -> Command {
    Command::SetAttestations(Attestations {
        no_notice_given: true,
        no_escort_accepted: true,
    })
}

pub fn hazard(id: &str, item: &str, level: HazardLevel) -> Hazard {
    Hazard {
        id: HazardId::from(id),
        item: Some(ItemCode::from(item)),
        level,
        description: "抛光车间未设置泄爆装置".into(),
        place: "抛光车间".into(),
        basis: vec![LegalBasis::new("工贸企业重大事故隐患判定标准", "第十二条")],
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
    }
}

pub fn sign(u: &User) -> Command {
    Command::Sign(Signature {
        signer: Signer::Inspector(u.id.clone()),
        name: u.name.clone(),
        outcome: SignOutcome::Signed {
            image: digest(&format!("sig-{}", u.id)),
        },
        at: T0,
        read: Vec::new(),
    })
}

pub fn enterprise_refuses() -> Command {
    Command::Sign(Signature {
        signer: Signer::Enterprise,
        name: "陈经理".into(),
        outcome: SignOutcome::Refused {
            witness: "社区网格员 刘洋".into(),
            note: "拒绝签字".into(),
        },
        at: T0,
        read: Vec::new(),
    })
}

pub fn onsite_person() -> Command {
    Command::SetOnsitePerson(OnsitePerson {
        name: "陈经理".into(),
        position: "安全主管".into(),
        phone: "13800000000".into(),
    })
}

/// Commands that take a 四不两直 draft to the point where it may be completed.
pub fn on_site_script() -> Vec<(User, Command)> {
    use crate::inspection::{Answer, InspectionStatus};
    let (w, l) = (wang(), li());
    let mut script = vec![
        (w.clone(), Command::AddInspector(inspector_ref(&w))),
        (w.clone(), Command::AddInspector(inspector_ref(&l))),
        (w.clone(), arrival()),
        (w.clone(), attest()),
        (
            w.clone(),
            Command::Transition {
                to: InspectionStatus::OnSite,
                comment: String::new(),
            },
        ),
    ];
    for (code, answer) in [
        ("T-01", Answer::Complies),
        ("T-02", Answer::NotApplicable),
        ("T-03", Answer::Fails),
    ] {
        script.push((
            w.clone(),
            Command::Answer {
                item: code.into(),
                answer: Some(answer),
            },
        ));
    }
    script.push((l.clone(), onsite_person()));
    script.push((w.clone(), sign(&w)));
    script.push((l.clone(), sign(&l)));
    script.push((w.clone(), enterprise_refuses()));
    script
}
