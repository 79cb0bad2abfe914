use super::*;
use crate::enterprise::{Enterprise, RiskColour, SupervisionGrade};
use crate::hazard::HazardLevel;
use crate::ids::{HazardId, ItemCode};
use crate::inspection::{Answer, RecordError};
use crate::test_support::*;
use crate::unit::tests::nanjing;
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ObjType, ROOT, ReadDoc};
use std::collections::BTreeMap;

pub(crate) const ID: &str = "insp-0b6f3c1e-8d2a-4c55-9a1e-3f6b2d9c7e10";

pub(crate) struct TestWorld {
    pub units: UnitTree,
    pub template: ChecklistTemplate,
    pub enterprise: Enterprise,
    pub plans: Vec<Plan>,
    pub now: Timestamp,
    /// Digests the pusher may name.
    pub photos: BTreeSet<Sha256Hex>,
    pub all_photos_allowed: bool,
    /// The users a sealed server change may name.
    pub users: Vec<User>,
    /// The heads of a receipt "the server" signed, sent with the push.
    pub vouched: Vec<ChangeHash>,
}

impl TestWorld {
    pub fn new() -> Self {
        let r = record();
        Self {
            units: nanjing(),
            template: template(),
            enterprise: Enterprise {
                id: r.enterprise.id.clone(),
                name: r.enterprise.name.clone(),
                uscc: r.enterprise.uscc.clone(),
                address: r.enterprise.address.clone(),
                legal_representative: r.enterprise.legal_representative.clone(),
                phone: r.enterprise.phone.clone(),
                industry: r.enterprise.industry,
                risk: RiskColour::Blue,
                grade: SupervisionGrade::D,
                unit: "xw".into(),
                grid_cell: String::new(),
                responsible_inspector: None,
                position: None,
                blacklisted: false,
            },
            plans: Vec::new(),
            now: Timestamp(T0.0 + 24 * 3_600_000),
            photos: BTreeSet::new(),
            all_photos_allowed: true,
            users: vec![supervisor()],
            vouched: Vec::new(),
        }
    }
}

impl World for TestWorld {
    fn now(&self) -> Timestamp {
        self.now
    }
    fn units(&self) -> &UnitTree {
        &self.units
    }
    fn template(&self, reference: &TemplateRef) -> Option<&ChecklistTemplate> {
        (self.template.reference() == *reference).then_some(&self.template)
    }
    fn enterprise(&self, id: &EnterpriseId) -> Option<&Enterprise> {
        (self.enterprise.id == *id).then_some(&self.enterprise)
    }
    fn plan(&self, id: &PlanId) -> Result<Option<Plan>, LookupError> {
        Ok(self.plans.iter().find(|p| p.id == *id).cloned())
    }
    fn may_name_photo(&self, digest: &Sha256Hex) -> Result<bool, LookupError> {
        Ok(self.all_photos_allowed || self.photos.contains(digest))
    }
    fn user(&self, id: &UserId) -> Option<&User> {
        self.users.iter().find(|u| u.id == *id)
    }
    fn server_seal_valid(&self, statement: &[u8], seal: &str) -> Result<bool, LookupError> {
        Ok(seal == test_seal(statement))
    }
    fn vouched_heads(&self) -> &[ChangeHash] {
        &self.vouched
    }
}

/// The test world's stand-in for the server's signature: a keyed hash only "the server"
/// (these tests) computes.
fn test_seal(statement: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"test server secret");
    h.update(statement);
    crate::evidence::hex(&h.finalize())
}

pub(crate) fn record() -> Inspection {
    let mut r = new_record(InspectionKind::Unannounced);
    r.id = ID.into();
    r
}

pub(crate) fn dev(name: &str) -> DeviceId {
    DeviceId::from(name)
}

pub(crate) fn pusher<'a>(user: &'a User, device: &'a DeviceId) -> Pusher<'a> {
    Pusher {
        user,
        device,
        registered_at: Timestamp(T0.0 - 3_600_000),
    }
}

/// A tablet's document after the 四不两直 script up to on-site (wang on tab-a).
fn tablet_doc(steps: usize) -> InspectionDoc {
    let t = template();
    let mut doc = InspectionDoc::create(&record(), &t, &dev("tab-a"), T0).unwrap();
    for (i, (_, c)) in on_site_script().into_iter().take(steps).enumerate() {
        doc.apply(&c, &cx(&wang(), &t, i as i64 + 1), &dev("tab-a"))
            .unwrap();
    }
    doc
}

fn accept(stored: Option<InspectionDoc>, bytes: &[u8], user: &User, device: &str) -> InspectionDoc {
    let d = dev(device);
    match judge(stored, ID, bytes, pusher(user, &d), &TestWorld::new()) {
        Ok(v @ (Verdict::Accepted { .. } | Verdict::AcceptedNew { .. })) => {
            v.into_doc(bytes, &d).unwrap().expect("accepted")
        }
        other => panic!("expected acceptance, got {other:?}"),
    }
}

fn refusal(
    stored: Option<InspectionDoc>,
    bytes: &[u8],
    user: &User,
    device: &str,
    world: &TestWorld,
) -> Refusal {
    let d = dev(device);
    match judge(stored, ID, bytes, pusher(user, &d), world) {
        Err(JudgeError::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn server_copy(doc: &mut InspectionDoc) -> InspectionDoc {
    InspectionDoc::load(&doc.save(), &dev("server")).unwrap()
}

/// A raw change on top of `doc`, as a hostile client would write it.
fn raw_change(
    doc: &mut InspectionDoc,
    device: &str,
    note: &str,
    time: i64,
    edit: impl FnOnce(&mut AutoCommit),
) -> Vec<u8> {
    let am = doc.automerge_mut();
    let before = am.get_heads();
    am.set_actor(actor_for(&dev(device)));
    edit(am);
    am.commit_with(
        CommitOptions::default()
            .with_message(note.to_owned())
            .with_time(time),
    );
    am.save_after(&before)
}

fn note(user: &str, device: &str, command: &str, at: i64, op: Option<&Command>) -> String {
    serde_json::to_string(&ChangeNote {
        by: user.into(),
        device: device.into(),
        command: command.into(),
        at: Some(Timestamp(at)),
        op: op.cloned(),
        seal: None,
    })
    .unwrap()
}

#[test]
fn an_honest_new_record_is_accepted_and_is_the_same_document() {
    for steps in [0, 5, 9, 12] {
        let mut tablet = tablet_doc(steps);
        let d = dev("tab-a");
        let bytes = tablet.save();
        let verdict = judge(None, ID, &bytes, pusher(&wang(), &d), &TestWorld::new());
        assert!(
            matches!(verdict, Ok(Verdict::AcceptedNew { .. })),
            "an honest new record is judged whole: {verdict:?}"
        );
        let mut accepted = verdict.unwrap().into_doc(&bytes, &d).unwrap().unwrap();
        assert_eq!(accepted.heads(), tablet.heads());
        assert_eq!(accepted.record(), tablet.record());
    }
}

#[test]
fn honest_updates_linear_and_concurrent_are_accepted() {
    let t = template();
    let mut tablet_a = tablet_doc(5);
    let mut server = accept(None, &tablet_a.save(), &wang(), "tab-a");
    // li's tablet had the record at the same point and answers an item meanwhile.
    let mut tablet_b = InspectionDoc::load(&tablet_a.save(), &dev("tab-b")).unwrap();
    let from = tablet_a.heads();
    tablet_a
        .apply(
            &Command::Answer {
                item: "T-01".into(),
                answer: Some(Answer::Complies),
            },
            &cx(&wang(), &t, 10),
            &dev("tab-a"),
        )
        .unwrap();
    let push_a = tablet_a.automerge_mut().save_after(&from);
    server = accept(Some(server), &push_a, &wang(), "tab-a");
    tablet_b
        .apply(
            &Command::SetNote {
                item: "T-02".into(),
                text: "台账不全".into(),
            },
            &cx(&li(), &t, 11),
            &dev("tab-b"),
        )
        .unwrap();
    // tab-b's change depends on heads the server has moved past: judged on a fork.
    let push_b = tablet_b.automerge_mut().save_after(&from);
    let mut server = accept(Some(server), &push_b, &li(), "tab-b");
    tablet_a.merge(&mut tablet_b).unwrap();
    assert_eq!(server.heads(), tablet_a.heads());
    assert_eq!(server.record(), tablet_a.record());
    // Pushing the same again is a replay.
    let d = dev("tab-b");
    assert!(matches!(
        judge(
            Some(server),
            ID,
            &push_b,
            pusher(&li(), &d),
            &TestWorld::new()
        ),
        Ok(Verdict::Replay)
    ));
}

#[test]
fn raw_edits_the_rules_refuse_are_refused() {
    let mut tablet = tablet_doc(5);
    let server = || {
        let mut t = tablet_doc(5);
        server_copy(&mut t)
    };
    let at = T0.0 + 3_600_000;
    // Status set to approved by an inspector, with a command note that claims an answer.
    let answer = Command::Answer {
        item: "T-01".into(),
        answer: Some(Answer::Complies),
    };
    let bytes = raw_change(
        &mut tablet,
        "tab-a",
        &note("wang", "tab-a", "answer", at, Some(&answer)),
        at / 1000,
        |d| {
            d.put(&ROOT, "status", "approved").unwrap();
        },
    );
    let r = refusal(Some(server()), &bytes, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::NotReproducible, "{r}");
    // The same through the command is a rule refusal.
    let mut tablet = tablet_doc(5);
    let approve = Command::Transition {
        to: InspectionStatus::Approved,
        comment: String::new(),
    };
    let bytes = raw_change(
        &mut tablet,
        "tab-a",
        &note("wang", "tab-a", "transition", at, Some(&approve)),
        at / 1000,
        |d| {
            d.put(&ROOT, "status", "approved").unwrap();
        },
    );
    let r = refusal(Some(server()), &bytes, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::Forbidden, "{r}");
    // A change without a command in its note.
    let mut tablet = tablet_doc(5);
    let bytes = raw_change(
        &mut tablet,
        "tab-a",
        &note("wang", "tab-a", "set_summary", at, None),
        at / 1000,
        |d| {
            d.put(&ROOT, "summary", "改写").unwrap();
        },
    );
    let r = refusal(Some(server()), &bytes, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::BadNote, "{r}");
    // An unknown top-level field alongside an honest summary edit.
    let mut tablet = tablet_doc(5);
    let summary = Command::SetSummary { text: "x".into() };
    let bytes = raw_change(
        &mut tablet,
        "tab-a",
        &note("wang", "tab-a", "set_summary", at, Some(&summary)),
        at / 1000,
        |d| {
            d.put(&ROOT, "summary", "x").unwrap();
            d.put(&ROOT, "extra", "smuggled").unwrap();
        },
    );
    let r = refusal(Some(server()), &bytes, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::NotReproducible, "{r}");
}

#[test]
fn authorship_and_time_cannot_be_claimed() {
    let at = T0.0 + 3_600_000;
    let summary = Command::SetSummary { text: "x".into() };
    let cases: [(&str, String, i64, RefusalCode); 5] = [
        // made under another device's actor
        (
            "tab-b",
            note("wang", "tab-a", "set_summary", at, Some(&summary)),
            at,
            RefusalCode::NotAuthor,
        ),
        // the server's actor
        (
            SERVER_DEVICE,
            note("wang", "tab-a", "set_summary", at, Some(&summary)),
            at,
            RefusalCode::NotAuthor,
        ),
        // note names the city supervisor
        (
            "tab-a",
            note("zhou", "server", "set_summary", at, Some(&summary)),
            at,
            RefusalCode::BadNote,
        ),
        // in the future
        (
            "tab-a",
            note(
                "wang",
                "tab-a",
                "set_summary",
                at + 86_400_000,
                Some(&summary),
            ),
            at + 86_400_000,
            RefusalCode::Clock,
        ),
        // before the device was registered
        (
            "tab-a",
            note(
                "wang",
                "tab-a",
                "set_summary",
                T0.0 - 86_400_000,
                Some(&summary),
            ),
            T0.0 - 86_400_000,
            RefusalCode::Clock,
        ),
    ];
    for (actor, n, time, code) in cases {
        let mut tablet = tablet_doc(5);
        let server = server_copy(&mut tablet);
        let bytes = raw_change(&mut tablet, actor, &n, time / 1000, |d| {
            d.put(&ROOT, "summary", "x").unwrap();
        });
        let r = refusal(Some(server), &bytes, &wang(), "tab-a", &TestWorld::new());
        assert_eq!(r.code, code, "{r}");
    }
}

#[test]
fn a_frozen_record_cannot_be_edited_through_its_command_either() {
    let t = template();
    let mut tablet = tablet_doc(12);
    tablet
        .apply(
            &Command::Transition {
                to: InspectionStatus::Completed,
                comment: String::new(),
            },
            &cx(&wang(), &t, 20),
            &dev("tab-a"),
        )
        .unwrap();
    tablet
        .sign("v1", &cx(&wang(), &t, 21), &dev("tab-a"))
        .unwrap();
    tablet
        .apply(
            &Command::Transition {
                to: InspectionStatus::Submitted,
                comment: String::new(),
            },
            &cx(&wang(), &t, 22),
            &dev("tab-a"),
        )
        .unwrap();
    let mut server = accept(None, &tablet.save(), &wang(), "tab-a");
    let heads = server.heads();
    // A hostile app writes the edit as the tablet would, skipping the rules.
    let cmd = Command::SetSummary {
        text: "改写的检查情况".into(),
    };
    let at = T0.0 + 30 * 60_000;
    let bytes = raw_change(
        &mut tablet,
        "tab-a",
        &note("wang", "tab-a", "set_summary", at, Some(&cmd)),
        at / 1000,
        |d| {
            d.put(&ROOT, "summary", "改写的检查情况").unwrap();
        },
    );
    let r = refusal(Some(server), &bytes, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::Rule, "{r}");
    assert!(r.message.contains("Submitted"), "{r}");
    let _ = heads;
}

#[test]
fn new_records_must_be_fresh_with_a_uuid_and_known_reference() {
    let t = template();
    // Created already completed: the first state is not a fresh draft.
    let mut r = record();
    r.status = InspectionStatus::Completed;
    let mut doc = InspectionDoc::create(&r, &t, &dev("tab-a"), T0).unwrap();
    let e = refusal(None, &doc.save(), &wang(), "tab-a", &TestWorld::new());
    assert_eq!(e.code, RefusalCode::NotFresh, "{e}");
    // A random draw without a drawn plan.
    let mut r = record();
    r.kind = InspectionKind::RandomDraw;
    let mut doc = InspectionDoc::create(&r, &t, &dev("tab-a"), T0).unwrap();
    let e = refusal(None, &doc.save(), &wang(), "tab-a", &TestWorld::new());
    assert_eq!(e.code, RefusalCode::Reference, "{e}");
    // A renamed enterprise.
    let mut r = record();
    r.enterprise.name = "别的公司".into();
    let mut doc = InspectionDoc::create(&r, &t, &dev("tab-a"), T0).unwrap();
    let e = refusal(None, &doc.save(), &wang(), "tab-a", &TestWorld::new());
    assert_eq!(e.code, RefusalCode::Reference, "{e}");
    // Another unit's plan.
    let mut r = record();
    r.plan = Some("plan-qh".into());
    let mut doc = InspectionDoc::create(&r, &t, &dev("tab-a"), T0).unwrap();
    let mut w = TestWorld::new();
    w.plans.push(Plan {
        id: "plan-qh".into(),
        unit: "qh".into(),
        kind: InspectionKind::Unannounced,
        enterprise: "e9".into(),
        assigned: vec!["qian".into()],
        sealed: true,
        draw: None,
        due: None,
    });
    let e = refusal(None, &doc.save(), &wang(), "tab-a", &w);
    assert_eq!(e.code, RefusalCode::Reference, "{e}");
    // Created by someone else's name.
    let mut doc = InspectionDoc::create(&record(), &t, &dev("tab-b"), T0).unwrap();
    let e = refusal(None, &doc.save(), &li(), "tab-b", &TestWorld::new());
    assert_eq!(e.code, RefusalCode::BadNote, "{e}");
    // Ids that are not UUIDs.
    for bad in [
        "",
        "insp-1",
        "insp-0B6F3C1E-8D2A-4C55-9A1E-3F6B2D9C7E10",
        "a\u{202e}b",
    ] {
        assert!(!valid_record_id(&bad.into()), "{bad:?}");
    }
    assert!(valid_record_id(&ID.into()));
}

#[test]
fn photos_and_signed_versions_are_checked() {
    let t = template();
    let mut tablet = tablet_doc(5);
    let server_bytes = tablet.save();
    let from = tablet.heads();
    tablet
        .apply(
            &Command::AddItemPhoto {
                item: "T-01".into(),
                photo: photo("someone-elses", &wang()),
            },
            &cx(&wang(), &t, 10),
            &dev("tab-a"),
        )
        .unwrap();
    let push = tablet.automerge_mut().save_after(&from);
    let mut w = TestWorld::new();
    w.all_photos_allowed = false;
    let stored = InspectionDoc::load(&server_bytes, &dev("tab-a")).unwrap();
    let e = refusal(Some(stored), &push, &wang(), "tab-a", &w);
    assert_eq!(e.code, RefusalCode::Photo, "{e}");
    w.photos.insert(digest("someone-elses"));
    let stored = InspectionDoc::load(&server_bytes, &dev("tab-a")).unwrap();
    let d = dev("tab-a");
    assert!(matches!(
        judge(Some(stored), ID, &push, pusher(&wang(), &d), &w),
        Ok(Verdict::Accepted { .. })
    ));
    // A photo claimed as added by the other inspector.
    let mut tablet = tablet_doc(5);
    let stored = server_copy(&mut tablet);
    let from = tablet.heads();
    tablet
        .apply(
            &Command::AddItemPhoto {
                item: "T-01".into(),
                photo: photo("p", &li()),
            },
            &cx(&wang(), &t, 10),
            &dev("tab-a"),
        )
        .unwrap();
    let push = tablet.automerge_mut().save_after(&from);
    let e = refusal(Some(stored), &push, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(e.code, RefusalCode::BadNote, "{e}");
    // A signed version whose content hash is not the record's.
    let mut tablet = tablet_doc(12);
    let stored = server_copy(&mut tablet);
    let from = tablet.heads();
    let mut version = crate::signing::SignedVersion {
        heads: tablet.heads().iter().map(ToString::to_string).collect(),
        content_hash: content_hash(tablet.record()),
        at: Timestamp(T0.0 + 30 * 60_000),
        by: wang().id,
    };
    version.content_hash = digest("another state");
    tablet
        .apply(
            &Command::RecordSignedVersion {
                id: "v1".into(),
                version,
            },
            &cx(&wang(), &t, 30),
            &dev("tab-a"),
        )
        .unwrap();
    let push = tablet.automerge_mut().save_after(&from);
    let e = refusal(Some(stored), &push, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(e.code, RefusalCode::SignedVersion, "{e}");
}

#[test]
fn a_hazard_registered_through_its_command_is_accepted() {
    let t = template();
    let mut tablet = tablet_doc(8);
    let stored = server_copy(&mut tablet);
    let from = tablet.heads();
    tablet
        .apply(
            &Command::RegisterHazard(hazard("h-1", "T-03", HazardLevel::Major)),
            &cx(&wang(), &t, 30),
            &dev("tab-a"),
        )
        .unwrap();
    let push = tablet.automerge_mut().save_after(&from);
    let mut doc = accept(Some(stored), &push, &wang(), "tab-a");
    assert_eq!(doc.heads(), tablet.heads());
    assert!(
        doc.record()
            .hazards
            .contains_key(&crate::ids::HazardId::from("h-1"))
    );
    let _ = doc.automerge_mut().get(&ROOT, "status").unwrap();
}

#[test]
fn a_new_record_with_a_forged_change_is_refused() {
    let at = T0.0 + 3_600_000;
    let answer = Command::Answer {
        item: "T-01".into(),
        answer: Some(Answer::Complies),
    };
    type Forge = Box<dyn Fn(&mut AutoCommit)>;
    let forgeries: [(&str, Forge); 3] = [
        (
            "status",
            Box::new(|d: &mut AutoCommit| {
                d.put(&ROOT, "status", "approved").unwrap();
            }),
        ),
        (
            "extra field",
            Box::new(|d: &mut AutoCommit| {
                let results = match d.get(&ROOT, "results").unwrap() {
                    Some((_, id)) => id,
                    None => unreachable!(),
                };
                d.put(&results, "T-01/answer", "complies").unwrap();
                d.put(&ROOT, "smuggled", "x").unwrap();
            }),
        ),
        (
            "replaced results map",
            Box::new(|d: &mut AutoCommit| {
                let results = d.put_object(&ROOT, "results", ObjType::Map).unwrap();
                d.put(&results, "T-01/answer", "complies").unwrap();
            }),
        ),
    ];
    for (what, forge) in forgeries {
        let mut tablet = tablet_doc(5);
        raw_change(
            &mut tablet,
            "tab-a",
            &note("wang", "tab-a", "answer", at, Some(&answer)),
            at / 1000,
            |d| forge(d),
        );
        let r = refusal(None, &tablet.save(), &wang(), "tab-a", &TestWorld::new());
        assert_eq!(r.code, RefusalCode::NotReproducible, "{what}: {r}");
    }
}

/// A position travels in the note as JSON; it must read back as the very f64 written, or
/// the replayed change differs (serde_json's `float_roundtrip`).
#[test]
fn positions_survive_the_note() {
    use crate::geo::{Position, PositionSource};
    use crate::inspection::ArrivalProof;
    let t = template();
    for k in 0..200 {
        let mut doc = InspectionDoc::create(&record(), &t, &dev("tab-a"), T0).unwrap();
        let position = Position::new(
            32.0935 + k as f64 * 1e-6,
            118.8056 + k as f64 * 1e-6,
            PositionSource::Device,
        )
        .unwrap();
        doc.apply(
            &Command::SetArrival(ArrivalProof {
                at: T0,
                position,
                entrance_photo: digest("entrance"),
            }),
            &cx(&wang(), &t, 1),
            &dev("tab-a"),
        )
        .unwrap();
        accept(None, &doc.save(), &wang(), "tab-a");
    }
}

/// A submitted record as the server stores it, and the tablet's copy.
fn submitted_docs() -> (InspectionDoc, InspectionDoc) {
    let t = template();
    let mut tablet = tablet_doc(12);
    for (to, minute) in [
        (InspectionStatus::Completed, 20),
        (InspectionStatus::Submitted, 22),
    ] {
        if to == InspectionStatus::Submitted {
            tablet
                .sign("v1", &cx(&wang(), &t, 21), &dev("tab-a"))
                .unwrap();
        }
        tablet
            .apply(
                &Command::Transition {
                    to,
                    comment: String::new(),
                },
                &cx(&wang(), &t, minute),
                &dev("tab-a"),
            )
            .unwrap();
    }
    let server = accept(None, &tablet.save(), &wang(), "tab-a");
    (server, tablet)
}

fn item_comments(pairs: &[(&str, &str)]) -> BTreeMap<ItemCode, String> {
    pairs
        .iter()
        .map(|(k, v)| (ItemCode::from(*k), (*v).to_owned()))
        .collect()
}

#[test]
fn a_review_with_item_comments_is_accepted_from_the_supervisor() {
    let t = template();
    let (mut server, _) = submitted_docs();
    let mut desk = InspectionDoc::load(&server.save(), &dev("desk-1")).unwrap();
    let from = desk.heads();
    let cmd = Command::ReviewWithItems {
        to: InspectionStatus::Returned,
        comment: "请补充".into(),
        items: item_comments(&[("T-01", "责任制文件未见签字页")]),
    };
    desk.apply(&cmd, &cx(&supervisor(), &t, 40), &dev("desk-1"))
        .unwrap();
    let push = desk.automerge_mut().save_after(&from);
    let doc = accept(Some(server), &push, &supervisor(), "desk-1");
    let review = doc.record().review.clone().expect("a review");
    assert_eq!(review.decision, crate::inspection::ReviewDecision::Returned);
    assert_eq!(
        review
            .items
            .get(&ItemCode::from("T-01"))
            .map(String::as_str),
        Some("责任制文件未见签字页")
    );
}

#[test]
fn forged_item_comments_are_refused() {
    let t = template();
    let at = T0.0 + 40 * 60_000;
    // An inspector cannot review, with or without item comments.
    let (mut server, _) = submitted_docs();
    let mut copy = server_copy(&mut server);
    let from = copy.heads();
    let cmd = Command::ReviewWithItems {
        to: InspectionStatus::Approved,
        comment: String::new(),
        items: item_comments(&[("T-01", "自己批准")]),
    };
    // Written raw, as a hostile inspector's app would (the rules would refuse it locally).
    let review = crate::inspection::Review {
        by: wang().id,
        at: Timestamp(at),
        decision: crate::inspection::ReviewDecision::Approved,
        comment: String::new(),
        items: item_comments(&[("T-01", "自己批准")]),
    };
    let bytes = raw_change(
        &mut copy,
        "tab-a",
        &note("wang", "tab-a", "review_with_items", at, Some(&cmd)),
        at / 1000,
        |d| {
            d.put(&ROOT, "status", "approved").unwrap();
            d.put(&ROOT, "review", serde_json::to_string(&review).unwrap())
                .unwrap();
        },
    );
    let _ = from;
    let r = refusal(Some(server), &bytes, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::Forbidden, "{r}");

    // The supervisor's note says one comment, the written review another.
    let (mut server, _) = submitted_docs();
    let mut desk = server_copy(&mut server);
    let cmd = Command::ReviewWithItems {
        to: InspectionStatus::Returned,
        comment: "请补充".into(),
        items: item_comments(&[("T-01", "原意见")]),
    };
    let forged = crate::inspection::Review {
        by: supervisor().id,
        at: Timestamp(at),
        decision: crate::inspection::ReviewDecision::Returned,
        comment: "请补充".into(),
        items: item_comments(&[("T-01", "改写的意见")]),
    };
    let bytes = raw_change(
        &mut desk,
        "desk-1",
        &note(
            supervisor().id.as_str(),
            "desk-1",
            "review_with_items",
            at,
            Some(&cmd),
        ),
        at / 1000,
        |d| {
            d.put(&ROOT, "status", "returned").unwrap();
            d.put(&ROOT, "review", serde_json::to_string(&forged).unwrap())
                .unwrap();
        },
    );
    let r = refusal(
        Some(server),
        &bytes,
        &supervisor(),
        "desk-1",
        &TestWorld::new(),
    );
    assert_eq!(r.code, RefusalCode::NotReproducible, "{r}");

    // A comment on an item the checklist does not have, or an empty one: the rules refuse.
    for items in [
        item_comments(&[("NO-SUCH", "x")]),
        item_comments(&[("T-01", "  ")]),
    ] {
        let (mut server, _) = submitted_docs();
        let mut desk = server_copy(&mut server);
        let cmd = Command::ReviewWithItems {
            to: InspectionStatus::Returned,
            comment: "请补充".into(),
            items,
        };
        assert!(
            desk.apply(&cmd, &cx(&supervisor(), &t, 40), &dev("desk-1"))
                .is_err()
        );
    }
    // Returning without a general comment is refused as a plain return is.
    let (mut server, _) = submitted_docs();
    let mut desk = server_copy(&mut server);
    let cmd = Command::ReviewWithItems {
        to: InspectionStatus::Returned,
        comment: String::new(),
        items: item_comments(&[("T-01", "x")]),
    };
    let e = desk
        .apply(&cmd, &cx(&supervisor(), &t, 40), &dev("desk-1"))
        .unwrap_err();
    assert!(e.to_string().contains("comment"), "{e}");
}

#[test]
fn a_review_written_before_item_comments_still_reads() {
    let old = r#"{"by":"zhao","at":1,"decision":"returned","comment":"补充"}"#;
    let r: crate::inspection::Review = serde_json::from_str(old).unwrap();
    assert!(r.items.is_empty());
    assert_eq!(serde_json::to_string(&r).unwrap(), old);
}

// ---- issue 20: 本节不涉及 and removing a photo link ----

/// Applies `command` as wang on tab-a, `minutes` after T0, and pushes it on `server`.
fn push_honest(
    tablet: &mut InspectionDoc,
    server: InspectionDoc,
    command: &Command,
    minutes: i64,
) -> InspectionDoc {
    let t = template();
    let from = tablet.heads();
    tablet
        .apply(command, &cx(&wang(), &t, minutes), &dev("tab-a"))
        .unwrap();
    let bytes = tablet.automerge_mut().save_after(&from);
    accept(Some(server), &bytes, &wang(), "tab-a")
}

#[test]
fn a_section_marked_not_applicable_is_accepted_and_keeps_earlier_answers() {
    let mut tablet = tablet_doc(5);
    let server = accept(None, &tablet.save(), &wang(), "tab-a");
    let fails = Command::Answer {
        item: "T-01".into(),
        answer: Some(Answer::Fails),
    };
    let server = push_honest(&mut tablet, server, &fails, 10);
    let items = tablet
        .record()
        .unanswered_in_section(&template(), "基础管理")
        .unwrap();
    assert_eq!(items, vec![ItemCode::from("T-02")]);
    let section = Command::MarkSectionNotApplicable {
        category: "基础管理".into(),
        items,
    };
    let mut server = push_honest(&mut tablet, server, &section, 11);
    assert_eq!(server.record(), tablet.record());
    let r = server.record();
    assert_eq!(
        r.results[&ItemCode::from("T-01")].answer,
        Some(Answer::Fails)
    );
    assert_eq!(
        r.results[&ItemCode::from("T-02")].answer,
        Some(Answer::NotApplicable)
    );
    assert_eq!(server.heads(), tablet.heads());
}

#[test]
fn a_forged_section_not_applicable_is_refused() {
    let at = T0.0 + 3_600_000;
    let server = || {
        let mut t = tablet_doc(5);
        let s = accept(None, &t.save(), &wang(), "tab-a");
        push_honest(
            &mut t,
            s,
            &Command::Answer {
                item: "T-01".into(),
                answer: Some(Answer::Fails),
            },
            10,
        )
    };
    let tablet = || {
        let mut t = tablet_doc(5);
        t.apply(
            &Command::Answer {
                item: "T-01".into(),
                answer: Some(Answer::Fails),
            },
            &cx(&wang(), &template(), 10),
            &dev("tab-a"),
        )
        .unwrap();
        t
    };
    // Claiming the section's answered 不符合 item too (overwriting a failure): the rule
    // refuses, whatever the change writes.
    let greedy = Command::MarkSectionNotApplicable {
        category: "基础管理".into(),
        items: vec!["T-01".into(), "T-02".into()],
    };
    let bytes = raw_change(
        &mut tablet(),
        "tab-a",
        &note(
            "wang",
            "tab-a",
            "mark_section_not_applicable",
            at,
            Some(&greedy),
        ),
        at / 1000,
        |d| {
            let results = match d.get(&ROOT, "results").unwrap() {
                Some((_, id)) => id,
                None => panic!("results map"),
            };
            d.put(&results, "T-01/answer", "not_applicable").unwrap();
            d.put(&results, "T-02/answer", "not_applicable").unwrap();
        },
    );
    let r = refusal(Some(server()), &bytes, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::Rule, "{r}");
    // An honest claim whose change also overwrites the failed item: not what the command
    // writes.
    let honest = Command::MarkSectionNotApplicable {
        category: "基础管理".into(),
        items: vec!["T-02".into()],
    };
    let bytes = raw_change(
        &mut tablet(),
        "tab-a",
        &note(
            "wang",
            "tab-a",
            "mark_section_not_applicable",
            at,
            Some(&honest),
        ),
        at / 1000,
        |d| {
            let results = match d.get(&ROOT, "results").unwrap() {
                Some((_, id)) => id,
                None => panic!("results map"),
            };
            d.put(&results, "T-01/answer", "not_applicable").unwrap();
            d.put(&results, "T-02/answer", "not_applicable").unwrap();
        },
    );
    let r = refusal(Some(server()), &bytes, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::NotReproducible, "{r}");
    // A section that is not in the template.
    let unknown = Command::MarkSectionNotApplicable {
        category: "液氨制冷".into(),
        items: vec!["T-02".into()],
    };
    let bytes = raw_change(
        &mut tablet(),
        "tab-a",
        &note(
            "wang",
            "tab-a",
            "mark_section_not_applicable",
            at,
            Some(&unknown),
        ),
        at / 1000,
        |d| {
            let results = match d.get(&ROOT, "results").unwrap() {
                Some((_, id)) => id,
                None => panic!("results map"),
            };
            d.put(&results, "T-02/answer", "not_applicable").unwrap();
        },
    );
    let r = refusal(Some(server()), &bytes, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::Rule, "{r}");
}

#[test]
fn a_photo_link_is_removed_before_signing_and_refused_after() {
    let t = template();
    let mut tablet = tablet_doc(5);
    let server = accept(None, &tablet.save(), &wang(), "tab-a");
    let add = |tag: &str| Command::AddItemPhoto {
        item: "T-01".into(),
        photo: photo(tag, &wang()),
    };
    let server = push_honest(&mut tablet, server, &add("a"), 10);
    let server = push_honest(&mut tablet, server, &add("b"), 11);
    let remove = Command::RemoveItemPhoto {
        item: "T-01".into(),
        sha256: digest("a"),
    };
    let server = push_honest(&mut tablet, server, &remove, 12);
    let photos = &server.record().results[&ItemCode::from("T-01")].photos;
    assert_eq!(photos.keys().collect::<Vec<_>>(), vec![&digest("b")]);
    assert_eq!(server.record(), tablet.record());
    // Removing it again: nothing to remove.
    let mut again = tablet_doc(5);
    again.merge(&mut tablet).unwrap();
    assert!(
        again
            .apply(&remove, &cx(&wang(), &t, 13), &dev("tab-a"))
            .is_err()
    );
    // A hazard photo, the same way.
    let h = hazard("hz-1", "T-01", HazardLevel::General);
    let server = push_honest(&mut tablet, server, &Command::RegisterHazard(h), 14);
    let server = push_honest(
        &mut tablet,
        server,
        &Command::AddHazardPhoto {
            hazard: "hz-1".into(),
            photo: photo("c", &wang()),
        },
        15,
    );
    let server = push_honest(
        &mut tablet,
        server,
        &Command::RemoveHazardPhoto {
            hazard: "hz-1".into(),
            sha256: digest("c"),
        },
        16,
    );
    assert!(
        server.record().hazards[&HazardId::from("hz-1")]
            .photos
            .is_empty()
    );
    // After a signature, a forged removal (a raw change deleting the link under an honest
    // note) is refused by the rule.
    let server = push_honest(&mut tablet, server, &sign(&wang()), 17);
    let at = T0.0 + 3_600_000;
    let remove_b = Command::RemoveItemPhoto {
        item: "T-01".into(),
        sha256: digest("b"),
    };
    assert!(matches!(
        tablet.apply(&remove_b, &cx(&wang(), &t, 18), &dev("tab-a")),
        Err(DocError::Record(RecordError::PhotoRemovalAfterSigning))
    ));
    let key = format!("T-01/photo/{}", digest("b"));
    let bytes = raw_change(
        &mut tablet,
        "tab-a",
        &note("wang", "tab-a", "remove_item_photo", at, Some(&remove_b)),
        at / 1000,
        |d| {
            let results = match d.get(&ROOT, "results").unwrap() {
                Some((_, id)) => id,
                None => panic!("results map"),
            };
            d.delete(&results, key.as_str()).unwrap();
        },
    );
    let r = refusal(Some(server), &bytes, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::Rule, "{r}");
}

/// 送达: a service recorded through its command on a signed, numbered document is what an
/// honest tablet writes and is accepted; a service written for a time after its own change
/// (a forged receipt dated in the future), or for a number the record never issued, is not.
#[test]
fn a_service_recorded_through_its_command_is_accepted_and_a_forged_one_refused() {
    use crate::delivery::{Service, ServiceMethod};
    use crate::docnumber::{DocumentKind, IssuedDocument};
    let t = template();
    let d = dev("tab-a");
    let mut tablet = tablet_doc(12);
    let number = "（玄武）应急检记〔2026〕1号".to_owned();
    tablet
        .apply(
            &Command::IssueDocument(IssuedDocument {
                kind: DocumentKind::InspectionRecord,
                number: number.clone(),
                seq: 1,
                year: 2026,
                at: Timestamp(T0.0 + 20 * 60_000),
                by: wang().id,
                device: d.clone(),
            }),
            &cx(&wang(), &t, 20),
            &d,
        )
        .unwrap();
    tablet.sign("v1", &cx(&wang(), &t, 21), &d).unwrap();
    let base = tablet.save();
    let service = |minutes: i64, number: &str| Service {
        number: number.to_owned(),
        kind: DocumentKind::InspectionRecord,
        method: ServiceMethod::Direct {
            recipient: "陈经理".into(),
        },
        at: Timestamp(T0.0 + minutes * 60_000),
        by: wang().id,
    };
    // Honest.
    let stored = server_copy(&mut tablet);
    let from = tablet.heads();
    tablet
        .apply(
            &Command::RecordService(service(23, &number)),
            &cx(&wang(), &t, 23),
            &d,
        )
        .unwrap();
    let push = tablet.automerge_mut().save_after(&from);
    let mut doc = accept(Some(stored), &push, &wang(), "tab-a");
    assert_eq!(doc.record().services[&number], service(23, &number));
    assert_eq!(doc.heads(), tablet.heads());
    // Forged: written straight into the document, dated after the change that records it,
    // or naming a number the record never issued.
    let at = T0.0 + 23 * 60_000;
    for forged in [
        service(90, &number),
        service(23, "（玄武）应急检记〔2026〕99号"),
    ] {
        let mut hostile = InspectionDoc::load(&base, &d).unwrap();
        let stored = InspectionDoc::load(&base, &dev("server")).unwrap();
        let command = Command::RecordService(forged.clone());
        let bytes = raw_change(
            &mut hostile,
            "tab-a",
            &note("wang", "tab-a", "record_service", at, Some(&command)),
            at / 1000,
            |am| {
                let m = am.put_object(&ROOT, "services", ObjType::Map).unwrap();
                am.put(
                    &m,
                    forged.number.as_str(),
                    serde_json::to_string(&forged).unwrap(),
                )
                .unwrap();
            },
        );
        let r = refusal(Some(stored), &bytes, &wang(), "tab-a", &TestWorld::new());
        assert_eq!(r.code, RefusalCode::Rule, "{r}");
    }
}

/// A returned record as the server made the decision (sealed), the tablet that pulled it, and
/// the server's copy from before the decision (as a restored backup holds it).
fn sealed_return() -> (InspectionDoc, InspectionDoc, Vec<u8>) {
    let t = template();
    let (mut server, mut tablet) = submitted_docs();
    let before = server_copy(&mut server);
    // As the server holds it (its own actor).
    let mut server = server_copy(&mut server);
    let from = server.heads();
    let cmd = Command::Transition {
        to: InspectionStatus::Returned,
        comment: "请补充照片".into(),
    };
    let mut seal = |statement: &[u8]| test_seal(statement);
    server
        .apply_sealed(
            &cmd,
            &cx(&supervisor(), &t, 40),
            &dev(SERVER_DEVICE),
            &mut seal,
        )
        .unwrap();
    let decision = server.automerge_mut().save_after(&from);
    tablet.load_incremental(&decision).unwrap();
    (before, tablet, decision)
}

#[test]
fn a_sealed_server_decision_comes_back_through_a_tablet() {
    let t = template();
    let (mut before, mut tablet, _) = sealed_return();
    assert_eq!(tablet.record().status, InspectionStatus::Returned);
    // The inspector edits the returned record; the server restored from a backup lacks the
    // decision. The tablet pushes both.
    let from = before.heads();
    tablet
        .apply(
            &Command::SetSummary {
                text: "已补拍照片".into(),
            },
            &cx(&wang(), &t, 50),
            &dev("tab-a"),
        )
        .unwrap();
    let push = tablet.automerge_mut().save_after(&from);
    let doc = accept(Some(before), &push, &wang(), "tab-a");
    assert_eq!(doc.record().status, InspectionStatus::Returned);
    assert_eq!(doc.record().summary, "已补拍照片");
    assert_eq!(doc.record().review.as_ref().unwrap().by, supervisor().id);
}

#[test]
fn a_server_change_without_a_valid_seal_is_refused() {
    let t = template();
    let (mut before, _, _) = sealed_return();
    let from = before.heads();
    let cmd = Command::Transition {
        to: InspectionStatus::Approved,
        comment: String::new(),
    };
    // No seal, a wrong seal, and a real seal lifted from another statement.
    let lifted = test_seal(b"some other statement");
    for seal in [None, Some("00".repeat(32)), Some(lifted)] {
        let mut forged = server_copy(&mut before);
        let mut write = |_: &[u8]| seal.clone().unwrap_or_default();
        if seal.is_some() {
            forged
                .apply_sealed(
                    &cmd,
                    &cx(&supervisor(), &t, 45),
                    &dev(SERVER_DEVICE),
                    &mut write,
                )
                .unwrap();
        } else {
            forged
                .apply(&cmd, &cx(&supervisor(), &t, 45), &dev(SERVER_DEVICE))
                .unwrap();
        }
        let push = forged.automerge_mut().save_after(&from);
        let r = refusal(
            Some(server_copy(&mut before)),
            &push,
            &wang(),
            "tab-a",
            &TestWorld::new(),
        );
        assert_eq!(r.code, RefusalCode::NotAuthor, "{r}");
    }
}

#[test]
fn a_valid_seal_does_not_cover_another_change() {
    let (mut before, _, decision) = sealed_return();
    // The decision's note with its genuine seal, on a change that writes something else.
    let from = before.heads();
    let mut doc = AutoCommit::load(&before.save()).unwrap();
    doc.load_incremental(&decision).unwrap();
    let note_text = doc
        .get_changes(&from)
        .first()
        .and_then(|c| c.message().map(str::to_owned))
        .unwrap();
    assert!(note_text.contains("\"seal\""), "{note_text}");
    let at = T0.0 + 40 * 60_000;
    let stored = server_copy(&mut before);
    let bytes = raw_change(&mut before, SERVER_DEVICE, &note_text, at / 1000, |d| {
        d.put(&ROOT, "summary", "改写的检查情况").unwrap();
    });
    let r = refusal(Some(stored), &bytes, &wang(), "tab-a", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::NotReproducible, "{r}");
}

/// The test template with 处罚依据 on T-01 and T-03 (T-03 is a major-hazard item).
fn template_with_penalties() -> ChecklistTemplate {
    let mut t = template();
    for item in t.categories.iter_mut().flat_map(|c| c.items.iter_mut()) {
        item.penalty = vec![crate::legal::LegalBasis::new("安全生产法", "第一百零二条")];
    }
    t
}

fn world_with(template: ChecklistTemplate) -> TestWorld {
    TestWorld {
        template,
        ..TestWorld::new()
    }
}

/// The form an inspector fills on failed item `item` (the level they chose: `level`).
fn hazard_form(item: &str, level: HazardLevel) -> crate::hazard::NewHazard {
    crate::hazard::NewHazard {
        item: item.into(),
        level,
        description: "抛光车间未设置泄爆装置".into(),
        place: "抛光车间".into(),
        measures: "加装泄爆装置".into(),
        deadline: crate::geo::Day::ymd(2027, 2, 21),
        supervision_level: "县级".into(),
        supervision_responsible: "张伟".into(),
    }
}

/// A hostile tablet's change: `command` with what writing `after` over the tablet's state
/// writes, as if the rules had allowed it.
fn forged_change(tablet: &mut InspectionDoc, command: &Command, after: &Inspection) -> Vec<u8> {
    let at = T0.0 + 30 * 60_000;
    let before = tablet.record().clone();
    raw_change(
        tablet,
        "tab-a",
        &note("wang", "tab-a", command.name(), at, Some(command)),
        at / 1000,
        |d| crate::document::write_record(d, Some(&before), after).unwrap(),
    )
}

#[test]
fn a_major_hazard_item_registers_a_major_hazard_with_the_items_penalty() {
    let t = template_with_penalties();
    let world = world_with(t.clone());
    // T-03 failed (the script's 8th step). The inspector left the form at 一般隐患: the
    // tablet's form makes the hazard of a major-hazard item major, listed and ordered.
    let mut tablet = tablet_doc(8);
    let stored = server_copy(&mut tablet);
    let from = tablet.heads();
    let commands = hazard_form("T-03", HazardLevel::General)
        .commands("h-1".into(), &t, crate::geo::Day::ymd(2026, 11, 23))
        .unwrap();
    for (i, c) in commands.iter().enumerate() {
        tablet
            .apply(c, &cx(&wang(), &t, 30 + i as i64), &dev("tab-a"))
            .unwrap();
    }
    let push = tablet.automerge_mut().save_after(&from);
    let d = dev("tab-a");
    let Ok(Verdict::Accepted { mut doc, .. }) =
        judge(Some(stored), ID, &push, pusher(&wang(), &d), &world)
    else {
        panic!("the honest registration is accepted")
    };
    assert_eq!(doc.heads(), tablet.heads());
    let h = &doc.record().hazards[&HazardId::from("h-1")];
    assert_eq!(h.level, HazardLevel::Major);
    assert!(h.supervision.is_some(), "listed for supervision");
    assert_eq!(
        h.penalty,
        t.item(&"T-03".into()).unwrap().penalty,
        "处罚依据 kept"
    );
    // What the penalty case reads: the finding with its three bases.
    let f = crate::forms::findings(doc.record(), &t);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].item, ItemCode::from("T-03"));
    assert_eq!(f[0].penalty, h.penalty);
    assert!(f[0].is_major_hazard());
    assert_eq!(f[0].hazards, vec![HazardId::from("h-1")]);
}

#[test]
fn a_major_hazard_item_forged_as_general_or_without_its_penalty_is_refused() {
    let t = template_with_penalties();
    let world = world_with(t.clone());
    let item_penalty = t.item(&"T-03".into()).unwrap().penalty.clone();
    let forgeries: [(&str, HazardLevel, Vec<crate::legal::LegalBasis>); 3] = [
        // Silently downgraded: the 判定依据 says 重大事故隐患.
        ("general", HazardLevel::General, item_penalty.clone()),
        // Major, but the 处罚依据 dropped or replaced.
        ("no penalty", HazardLevel::Major, Vec::new()),
        (
            "other penalty",
            HazardLevel::Major,
            vec![crate::legal::LegalBasis::new("安全生产法", "第九十九条")],
        ),
    ];
    for (what, level, penalty) in forgeries {
        let mut h = hazard("h-2", "T-03", level);
        h.penalty = penalty;
        let command = Command::RegisterHazard(h.clone());
        // On a stored record (the reference path)…
        let mut tablet = tablet_doc(8);
        let stored = server_copy(&mut tablet);
        let mut after = tablet.record().clone();
        after.hazards.insert(h.id.clone(), h.clone());
        let bytes = forged_change(&mut tablet, &command, &after);
        let r = refusal(Some(stored), &bytes, &wang(), "tab-a", &world);
        assert_eq!(r.code, RefusalCode::Rule, "{what}: {r}");
        assert!(r.message.contains("T-03"), "{what}: {r}");
        // …and inside a new record pushed whole (the fast path).
        let r = refusal(None, &tablet.save(), &wang(), "tab-a", &world);
        assert_eq!(r.code, RefusalCode::Rule, "{what} (new record): {r}");
    }
    // The rules say why, in both languages.
    let mut r = tablet_doc(8).record().clone();
    let e = r
        .apply(
            &Command::RegisterHazard(hazard("h-3", "T-03", HazardLevel::General)),
            &cx(&wang(), &t, 30),
        )
        .unwrap_err();
    assert!(matches!(&e, RecordError::MajorHazardItem { item, .. } if item.as_str() == "T-03"));
    assert!(e.zh().contains("不能改为一般隐患"), "{}", e.zh());
    assert!(e.zh().contains("判定依据"), "{}", e.zh());
    // An ordinary item's hazard may be general (its penalty copied all the same).
    let mut ordinary = hazard("h-4", "T-01", HazardLevel::General);
    ordinary.penalty = item_penalty;
    r.apply(&Command::RegisterHazard(ordinary), &cx(&wang(), &t, 31))
        .unwrap();
}

/// A restored server lacks what wang's tablet (lost since) synced after the backup; li's
/// tablet pulled it, with the server's receipt for the heads it then held. (record on the
/// restored server, li's tablet, the receipt's heads, wang's later change outside them)
fn carried_by_a_colleague() -> (InspectionDoc, InspectionDoc, Vec<ChangeHash>, Vec<u8>) {
    let t = template();
    let mut wang_tablet = tablet_doc(5);
    let restored = accept(None, &wang_tablet.save(), &wang(), "tab-a");
    wang_tablet
        .apply(
            &Command::Answer {
                item: "T-01".into(),
                answer: Some(Answer::Complies),
            },
            &cx(&wang(), &t, 10),
            &dev("tab-a"),
        )
        .unwrap();
    let receipt = wang_tablet.heads();
    let mut li_tablet = InspectionDoc::load(&wang_tablet.save(), &dev("tab-b")).unwrap();
    // wang goes on after the receipt li holds; li pulls that too (no receipt covers it yet).
    let from = wang_tablet.heads();
    wang_tablet
        .apply(
            &Command::SetNote {
                item: "T-03".into(),
                text: "王的补充".into(),
            },
            &cx(&wang(), &t, 11),
            &dev("tab-a"),
        )
        .unwrap();
    let later = wang_tablet.automerge_mut().save_after(&from);
    li_tablet
        .apply(
            &Command::SetNote {
                item: "T-02".into(),
                text: "台账不全".into(),
            },
            &cx(&li(), &t, 12),
            &dev("tab-b"),
        )
        .unwrap();
    (restored, li_tablet, receipt, later)
}

#[test]
fn a_lost_tablets_changes_come_back_through_a_colleague_inside_a_receipt() {
    let (mut restored, mut li_tablet, receipt, _) = carried_by_a_colleague();
    let push = li_tablet.automerge_mut().save_after(&restored.heads());
    let mut stored = || server_copy(&mut restored);
    // Without a receipt, wang's change is not li's to push.
    let r = refusal(Some(stored()), &push, &li(), "tab-b", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::NotAuthor, "{r}");
    let world = TestWorld {
        vouched: receipt.clone(),
        ..TestWorld::new()
    };
    let d = dev("tab-b");
    let Ok(Verdict::Accepted { mut doc, .. }) =
        judge(Some(stored()), ID, &push, pusher(&li(), &d), &world)
    else {
        panic!("refused")
    };
    assert_eq!(doc.heads(), li_tablet.heads());
    assert_eq!(doc.record(), li_tablet.record());
    // A record the restored server lacks altogether comes back whole the same way.
    let whole = li_tablet.save();
    let r = refusal(None, &whole, &li(), "tab-b", &TestWorld::new());
    assert_eq!(r.code, RefusalCode::NotAuthor, "{r}");
    let Ok(Verdict::Accepted { doc: mut new, .. }) =
        judge(None, ID, &whole, pusher(&li(), &d), &world)
    else {
        panic!("refused")
    };
    assert_eq!(new.heads(), li_tablet.heads());
    assert_eq!(new.record(), li_tablet.record());
}

#[test]
fn a_receipt_covers_only_the_history_before_its_heads() {
    let (mut restored, mut li_tablet, receipt, later) = carried_by_a_colleague();
    // wang's change after the receipt's heads, carried by li: not covered.
    li_tablet.load_incremental(&later).unwrap();
    let push = li_tablet.automerge_mut().save_after(&restored.heads());
    let world = TestWorld {
        vouched: receipt.clone(),
        ..TestWorld::new()
    };
    let r = refusal(
        Some(server_copy(&mut restored)),
        &push,
        &li(),
        "tab-b",
        &world,
    );
    assert_eq!(r.code, RefusalCode::NotAuthor, "{r}");
    // li's own changes after the receipt are still judged: a forged one is refused.
    let (mut restored, mut li_tablet, receipt, _) = carried_by_a_colleague();
    let from = restored.heads();
    let at = T0.0 + 13 * 60_000;
    raw_change(
        &mut li_tablet,
        "tab-b",
        &note("u-li", "tab-b", "set_summary", at, None),
        at / 1000,
        |d| {
            d.put(&ROOT, "summary", "伪造").unwrap();
        },
    );
    let push = li_tablet.automerge_mut().save_after(&from);
    let world = TestWorld {
        vouched: receipt,
        ..TestWorld::new()
    };
    let r = refusal(
        Some(server_copy(&mut restored)),
        &push,
        &li(),
        "tab-b",
        &world,
    );
    assert_eq!(r.code, RefusalCode::BadNote, "{r}");
}

#[test]
fn a_new_record_pushed_whole_is_judged_without_loading_it() {
    for steps in [0, 1, 5, 9, 12] {
        let mut tablet = tablet_doc(steps);
        let d = dev("tab-a");
        for bytes in [tablet.automerge_mut().save_nocompress(), tablet.save()] {
            let verdict = judge(None, ID, &bytes, pusher(&wang(), &d), &TestWorld::new());
            let Ok(Verdict::AcceptedNew {
                record,
                heads,
                new_changes,
            }) = verdict
            else {
                panic!("steps {steps}: not taken whole: {verdict:?}")
            };
            assert_eq!(heads, tablet.heads());
            assert_eq!(*record, *tablet.record());
            assert_eq!(new_changes, steps + 1);
        }
    }
}

#[test]
fn a_new_record_as_the_tablet_stores_it_is_judged_without_loading_it() {
    // The tablet pushes a never-pushed record as stored: its last snapshot, then each change
    // saved since as a chunk of its own.
    let t = template();
    for snapshot_after in [0, 3, 8] {
        let mut tablet = InspectionDoc::create(&record(), &t, &dev("tab-a"), T0).unwrap();
        let mut bytes = Vec::new();
        for (i, (_, c)) in on_site_script().into_iter().take(12).enumerate() {
            if i == snapshot_after {
                bytes = tablet.save();
            }
            tablet
                .apply(&c, &cx(&wang(), &t, i as i64 + 1), &dev("tab-a"))
                .unwrap();
            if i >= snapshot_after {
                let change = tablet.automerge_mut().get_last_local_change().unwrap();
                bytes.extend_from_slice(change.raw_bytes());
            }
        }
        let d = dev("tab-a");
        let verdict = judge(None, ID, &bytes, pusher(&wang(), &d), &TestWorld::new());
        let Ok(Verdict::AcceptedNew {
            record: accepted,
            heads,
            new_changes,
        }) = verdict
        else {
            panic!("snapshot after {snapshot_after}: not taken whole: {verdict:?}")
        };
        assert_eq!(heads, tablet.heads());
        assert_eq!(*accepted, *tablet.record());
        assert_eq!(new_changes, 13);
        // A stored change that is not what its command writes (the status written raw under
        // an answer's note) is refused, by the reference path.
        let at = T0.0 + 3_600_000;
        let answer = Command::Answer {
            item: "T-01".into(),
            answer: Some(Answer::Complies),
        };
        let mut forger = tablet_doc(5);
        let mut forged = forger.save();
        raw_change(
            &mut forger,
            "tab-a",
            &note("wang", "tab-a", "answer", at, Some(&answer)),
            at / 1000,
            |d| {
                d.put(&ROOT, "status", "approved").unwrap();
            },
        );
        let change = forger.automerge_mut().get_last_local_change().unwrap();
        forged.extend_from_slice(change.raw_bytes());
        let r = refusal(None, &forged, &wang(), "tab-a", &TestWorld::new());
        assert_eq!(r.code, RefusalCode::NotReproducible, "{r}");
    }
}

#[test]
fn a_tampered_whole_push_is_never_taken_for_another_document() {
    // Every byte of an honest new record's chunk altered in turn, the checksum made right
    // again: the whole path accepts only bytes every later load reads as what it judged.
    let mut tablet = tablet_doc(5);
    let honest = tablet.automerge_mut().save_nocompress();
    let d = dev("tab-a");
    let header = 4 + 4 + 1 + {
        let mut n = honest.len() - 9;
        let mut w = 1;
        while n >= 0x80 {
            n >>= 7;
            w += 1;
        }
        w
    };
    let mut whole = 0;
    for at in header..honest.len() {
        let mut bytes = honest.clone();
        bytes[at] ^= 0x01;
        let sum = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(&bytes[8..]);
            h.finalize()
        };
        bytes[4..8].copy_from_slice(&sum[..4]);
        match judge(None, ID, &bytes, pusher(&wang(), &d), &TestWorld::new()) {
            Ok(Verdict::AcceptedNew { record, heads, .. }) => {
                whole += 1;
                let mut loaded = InspectionDoc::load(&bytes, &d).expect("loads");
                assert_eq!(loaded.heads(), heads, "byte {at}");
                assert_eq!(loaded.record(), &*record, "byte {at}");
            }
            Ok(Verdict::Accepted { .. }) | Err(_) => {}
            Ok(Verdict::Replay) => panic!("nothing is stored"),
        }
    }
    assert_eq!(whole, 0, "an altered chunk is never the honest document");
}
