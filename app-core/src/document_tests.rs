use super::*;
use crate::hazard::{HazardAction, HazardLevel, Supervision};
use crate::inspection::{Answer, Command, InspectionStatus};
use crate::kind::InspectionKind;
use crate::test_support::*;
use crate::user::User;

fn device(name: &str) -> DeviceId {
    DeviceId::from(name)
}

fn new_doc(kind: InspectionKind) -> InspectionDoc {
    InspectionDoc::create(&new_record(kind), &template(), &device("tab-a"), T0).unwrap()
}

fn run(doc: &mut InspectionDoc, dev: &str, script: &[(User, Command)], start: i64) {
    let t = template();
    for (i, (actor, command)) in script.iter().enumerate() {
        doc.apply(command, &cx(actor, &t, start + i as i64), &device(dev))
            .unwrap_or_else(|e| panic!("step {i} {}: {e}", command.name()));
    }
}

/// Two replicas of one document: the second loaded from the first's bytes, as a second tablet
/// would receive it at sync.
fn fork(doc: &mut InspectionDoc, dev: &str) -> InspectionDoc {
    InspectionDoc::load(&doc.save(), &device(dev)).unwrap()
}

fn merged_both_ways(
    a: &mut InspectionDoc,
    b: &mut InspectionDoc,
) -> (InspectionDoc, InspectionDoc) {
    let mut ab = fork(a, "x");
    ab.merge(b).unwrap();
    let mut ba = fork(b, "y");
    ba.merge(a).unwrap();
    assert_eq!(ab.record(), ba.record(), "merge order must not matter");
    assert_eq!(ab.conflicts(), ba.conflicts());
    (ab, ba)
}

fn answer(item: &str, a: Answer) -> Command {
    Command::Answer {
        item: item.into(),
        answer: Some(a),
    }
}

#[test]
fn record_round_trips_through_the_document_and_its_bytes() {
    let mut doc = new_doc(InspectionKind::Unannounced);
    run(&mut doc, "tab-a", &on_site_script(), 1);
    let w = wang();
    run(
        &mut doc,
        "tab-a",
        &[
            (
                w.clone(),
                Command::SetNote {
                    item: "T-03".into(),
                    text: "抛光车间无泄爆口".into(),
                },
            ),
            (
                w.clone(),
                Command::AddItemPhoto {
                    item: "T-03".into(),
                    photo: photo("p1", &w),
                },
            ),
            (
                w.clone(),
                Command::RegisterHazard(hazard("h1", "T-03", HazardLevel::Major)),
            ),
            (
                w.clone(),
                Command::AddHazardPhoto {
                    hazard: "h1".into(),
                    photo: photo("p2", &w),
                },
            ),
            (
                w.clone(),
                Command::SetPlaces {
                    text: "抛光车间、仓库".into(),
                },
            ),
        ],
        40,
    );
    let expected = doc.record().clone();
    assert_eq!(expected.results.len(), 3);
    assert_eq!(expected.hazards["h1"].photos.len(), 1);
    let bytes = doc.save();
    let loaded = InspectionDoc::load(&bytes, &device("tab-b")).unwrap();
    assert_eq!(loaded.record(), &expected);
    assert!(loaded.conflicts().is_empty(), "{:?}", loaded.conflicts());
    // Every change carries who made it, on which device, with which command.
    let mut loaded = loaded;
    let history = loaded.history();
    assert_eq!(history.len(), 1 + on_site_script().len() + 5);
    let last = history.last().unwrap().note.clone().unwrap();
    assert_eq!(
        (
            last.by.as_str(),
            last.device.as_str(),
            last.command.as_str()
        ),
        ("wang", "tab-a", "set_places")
    );
}

#[test]
fn a_refused_command_writes_nothing() {
    let mut doc = new_doc(InspectionKind::Routine);
    let before = doc.heads();
    let t = template();
    let err = doc
        .apply(
            &answer("NOPE", Answer::Fails),
            &cx(&wang(), &t, 1),
            &device("tab-a"),
        )
        .unwrap_err();
    assert!(matches!(err, DocError::Record(_)));
    assert_eq!(doc.heads(), before);
}

#[test]
fn different_items_answered_on_two_tablets_are_both_kept() {
    let mut a = new_doc(InspectionKind::Routine);
    run(&mut a, "tab-a", &on_site_script()[..2], 1);
    let mut b = fork(&mut a, "tab-b");
    run(
        &mut a,
        "tab-a",
        &[(wang(), answer("T-01", Answer::Complies))],
        10,
    );
    run(
        &mut b,
        "tab-b",
        &[(li(), answer("T-02", Answer::Fails))],
        10,
    );
    let (ab, _) = merged_both_ways(&mut a, &mut b);
    assert_eq!(ab.record().results["T-01"].answer, Some(Answer::Complies));
    assert_eq!(ab.record().results["T-02"].answer, Some(Answer::Fails));
    assert!(ab.conflicts().is_empty());
}

#[test]
fn same_item_answered_differently_is_flagged_as_conflict() {
    let mut a = new_doc(InspectionKind::Routine);
    let mut b = fork(&mut a, "tab-b");
    run(
        &mut a,
        "tab-a",
        &[(wang(), answer("T-01", Answer::Complies))],
        10,
    );
    run(
        &mut b,
        "tab-b",
        &[(li(), answer("T-01", Answer::Fails))],
        10,
    );
    let (ab, _) = merged_both_ways(&mut a, &mut b);
    let chosen = ab.record().results["T-01"].answer.unwrap();
    assert_eq!(
        ab.conflicts(),
        vec![Conflict::Answer {
            item: "T-01".into(),
            values: vec![Answer::Complies, Answer::Fails],
            chosen,
        }]
    );
    // Answering again (after looking at the conflict) resolves it.
    let mut resolved = ab;
    run(
        &mut resolved,
        "tab-a",
        &[(wang(), answer("T-01", Answer::Fails))],
        20,
    );
    assert!(resolved.conflicts().is_empty());
    // The same answer given on both sides is no conflict.
    let mut c = new_doc(InspectionKind::Routine);
    let mut d = fork(&mut c, "tab-d");
    run(
        &mut c,
        "tab-c",
        &[(wang(), answer("T-02", Answer::Complies))],
        10,
    );
    run(
        &mut d,
        "tab-d",
        &[(li(), answer("T-02", Answer::Complies))],
        10,
    );
    let (cd, _) = merged_both_ways(&mut c, &mut d);
    assert!(cd.conflicts().is_empty());
}

#[test]
fn photos_added_on_both_tablets_are_both_kept() {
    let mut a = new_doc(InspectionKind::Routine);
    let mut b = fork(&mut a, "tab-b");
    let (w, l) = (wang(), li());
    run(
        &mut a,
        "tab-a",
        &[(
            w.clone(),
            Command::AddItemPhoto {
                item: "T-03".into(),
                photo: photo("a1", &w),
            },
        )],
        10,
    );
    run(
        &mut b,
        "tab-b",
        &[(
            l.clone(),
            Command::AddItemPhoto {
                item: "T-03".into(),
                photo: photo("b1", &l),
            },
        )],
        10,
    );
    run(
        &mut b,
        "tab-b",
        &[(
            l.clone(),
            Command::AddItemPhoto {
                item: "T-03".into(),
                photo: photo("b2", &l),
            },
        )],
        11,
    );
    let (ab, _) = merged_both_ways(&mut a, &mut b);
    let photos = &ab.record().results["T-03"].photos;
    assert_eq!(photos.len(), 3);
    for tag in ["a1", "b1", "b2"] {
        assert!(photos.contains_key(&digest(tag)), "{tag} lost");
    }
}

#[test]
fn note_edited_on_both_tablets_keeps_both_versions_as_a_conflict() {
    // Free text is a register (schema 2): concurrent edits of the same note conflict. One
    // version wins on every replica alike; both stay in the document and are listed, so no
    // text is lost and the inspector sees what to reconcile.
    let mut a = new_doc(InspectionKind::Routine);
    run(
        &mut a,
        "tab-a",
        &[(
            wang(),
            Command::SetNote {
                item: "T-01".into(),
                text: "责任制已建立。".into(),
            },
        )],
        1,
    );
    let mut b = fork(&mut a, "tab-b");
    run(
        &mut a,
        "tab-a",
        &[(
            wang(),
            Command::SetNote {
                item: "T-01".into(),
                text: "车间A：责任制已建立。".into(),
            },
        )],
        10,
    );
    run(
        &mut b,
        "tab-b",
        &[(
            li(),
            Command::SetNote {
                item: "T-01".into(),
                text: "责任制已建立。未见考核记录。".into(),
            },
        )],
        10,
    );
    let (ab, ba) = merged_both_ways(&mut a, &mut b);
    let note = &ab.record().results["T-01"].note;
    assert_eq!(note, &ba.record().results["T-01"].note, "same winner");
    assert!(
        ["车间A：责任制已建立。", "责任制已建立。未见考核记录。"].contains(&note.as_str()),
        "{note}"
    );
    assert_eq!(
        ab.conflicts(),
        vec![Conflict::Field {
            path: "results/T-01/note".into(),
            values: vec![
                "责任制已建立。未见考核记录。".into(),
                "车间A：责任制已建立。".into()
            ],
        }]
    );
    assert_eq!(ab.conflicts(), ba.conflicts());
}

#[test]
fn first_notes_written_on_two_tablets_are_both_kept() {
    // Nothing has to exist before the first note: the results map was created with the
    // document, and both first versions stay in it.
    let mut a = new_doc(InspectionKind::Routine);
    let mut b = fork(&mut a, "tab-b");
    run(
        &mut a,
        "tab-a",
        &[(
            wang(),
            Command::SetNote {
                item: "T-02".into(),
                text: "甲".into(),
            },
        )],
        10,
    );
    run(
        &mut b,
        "tab-b",
        &[(
            li(),
            Command::SetNote {
                item: "T-02".into(),
                text: "乙".into(),
            },
        )],
        10,
    );
    let (ab, _) = merged_both_ways(&mut a, &mut b);
    let note = &ab.record().results["T-02"].note;
    assert!(note == "甲" || note == "乙", "{note}");
    assert!(ab.conflicts().contains(&Conflict::Field {
        path: "results/T-02/note".into(),
        values: vec!["乙".into(), "甲".into()],
    }));
}

#[test]
fn a_full_checklist_stays_lean() {
    // The server parses every pushed document and Automerge's cost is per operation: a
    // record costs a handful of operations per answered item, not one per character.
    let mut doc = new_doc(InspectionKind::Routine);
    let note = "配电室门口堆放纸箱等杂物，消防通道宽度不足，已当场指出。";
    let items: Vec<ItemCode> = template().items().map(|i| i.code.clone()).collect();
    for code in &items {
        run(
            &mut doc,
            "tab-a",
            &[
                (
                    wang(),
                    Command::Answer {
                        item: code.clone(),
                        answer: Some(Answer::Complies),
                    },
                ),
                (
                    wang(),
                    Command::SetNote {
                        item: code.clone(),
                        text: note.into(),
                    },
                ),
            ],
            1,
        );
    }
    let ops = doc.doc.stats().num_ops as usize;
    let fresh = new_doc(InspectionKind::Routine).doc.stats().num_ops as usize;
    assert_eq!(
        ops - fresh,
        2 * items.len(),
        "one operation per answer and per note"
    );
}

fn submitted_doc() -> InspectionDoc {
    let mut doc = new_doc(InspectionKind::Unannounced);
    run(&mut doc, "tab-a", &on_site_script(), 1);
    let w = wang();
    let t = template();
    doc.apply(
        &Command::Transition {
            to: InspectionStatus::Completed,
            comment: String::new(),
        },
        &cx(&w, &t, 50),
        &device("tab-a"),
    )
    .unwrap();
    doc.sign("v1", &cx(&w, &t, 51), &device("tab-a")).unwrap();
    doc.apply(
        &Command::Transition {
            to: InspectionStatus::Submitted,
            comment: String::new(),
        },
        &cx(&w, &t, 52),
        &device("tab-a"),
    )
    .unwrap();
    doc
}

#[test]
fn concurrent_approve_and_return_are_surfaced_never_silently_mixed() {
    let mut a = submitted_doc();
    let mut b = fork(&mut a, "console-2");
    let s = supervisor();
    let mut s2 = supervisor();
    s2.id = "qian".into();
    run(
        &mut a,
        "console-1",
        &[(
            s.clone(),
            Command::Transition {
                to: InspectionStatus::Approved,
                comment: String::new(),
            },
        )],
        60,
    );
    run(
        &mut b,
        "console-2",
        &[(
            s2,
            Command::Transition {
                to: InspectionStatus::Returned,
                comment: "照片不清".into(),
            },
        )],
        60,
    );
    let (ab, _) = merged_both_ways(&mut a, &mut b);
    let conflicts = ab.conflicts();
    assert!(
        conflicts
            .iter()
            .any(|c| matches!(c, Conflict::Status { values, .. }
            if values == &vec![InspectionStatus::Approved, InspectionStatus::Returned])),
        "{conflicts:?}"
    );
    assert!(
        conflicts
            .iter()
            .any(|c| matches!(c, Conflict::Field { path, .. } if path == "review")),
        "{conflicts:?}"
    );
    // The review is one whole decision, never the decision of one and the comment of the other.
    let review = ab.record().review.clone().unwrap();
    match review.decision {
        crate::inspection::ReviewDecision::Approved => assert!(review.comment.is_empty()),
        crate::inspection::ReviewDecision::Returned => assert_eq!(review.comment, "照片不清"),
    }
}

#[test]
fn concurrent_hazard_transitions_are_surfaced_and_invalid_merges_reported() {
    let mut a = new_doc(InspectionKind::Routine);
    run(&mut a, "tab-a", &on_site_script()[..2], 1);
    let (w, l) = (wang(), li());
    run(
        &mut a,
        "tab-a",
        &[
            (
                w.clone(),
                Command::Transition {
                    to: InspectionStatus::OnSite,
                    comment: String::new(),
                },
            ),
            (
                w.clone(),
                Command::RegisterHazard(hazard("h1", "T-01", HazardLevel::General)),
            ),
            (
                w.clone(),
                Command::Hazard {
                    hazard: "h1".into(),
                    action: HazardAction::Order {
                        deadline: Day::ymd(2026, 12, 31),
                        measures: "整改".into(),
                    },
                },
            ),
            (
                w.clone(),
                Command::Hazard {
                    hazard: "h1".into(),
                    action: HazardAction::ReportRectified {
                        on: Day::ymd(2026, 12, 20),
                    },
                },
            ),
        ],
        5,
    );
    let mut b = fork(&mut a, "tab-b");
    let reinspect = |id: &str, passed: bool| Command::Hazard {
        hazard: "h1".into(),
        action: HazardAction::Reinspect {
            id: id.into(),
            reinspection: crate::hazard::Reinspection {
                on: Day::ymd(2026, 12, 22),
                by: w.id.clone(),
                passed,
                note: String::new(),
                photos: Default::default(),
                new_deadline: (!passed).then(|| Day::ymd(2027, 1, 15)),
            },
        },
    };
    run(&mut a, "tab-a", &[(w.clone(), reinspect("r-a", true))], 20);
    run(&mut b, "tab-b", &[(l.clone(), reinspect("r-b", false))], 20);
    let (ab, _) = merged_both_ways(&mut a, &mut b);
    let h = &ab.record().hazards["h1"];
    assert_eq!(h.reinspections.len(), 2, "both re-inspections are kept");
    assert!(
        ab.conflicts().iter().any(|c| matches!(c, Conflict::HazardStage { hazard, values, .. }
            if hazard.as_str() == "h1" && values == &vec![HazardStage::Ordered, HazardStage::Reinspected])),
        "{:?}",
        ab.conflicts()
    );
}

#[test]
fn a_major_hazard_that_lost_its_supervision_in_a_merge_is_reported_invalid() {
    let mut a = new_doc(InspectionKind::Routine);
    run(&mut a, "tab-a", &on_site_script()[..2], 1);
    let w = wang();
    run(
        &mut a,
        "tab-a",
        &[
            (
                w.clone(),
                Command::Transition {
                    to: InspectionStatus::OnSite,
                    comment: String::new(),
                },
            ),
            (
                w.clone(),
                Command::RegisterHazard(hazard("h1", "T-03", HazardLevel::Major)),
            ),
            (
                w.clone(),
                Command::Hazard {
                    hazard: "h1".into(),
                    action: HazardAction::ListForSupervision(Supervision {
                        level: "县级".into(),
                        responsible: "张局长".into(),
                        listed_on: Day::ymd(2026, 11, 23),
                    }),
                },
            ),
            (
                w.clone(),
                Command::Hazard {
                    hazard: "h1".into(),
                    action: HazardAction::Order {
                        deadline: Day::ymd(2027, 2, 1),
                        measures: "停产整改".into(),
                    },
                },
            ),
        ],
        5,
    );
    assert!(a.conflicts().is_empty(), "{:?}", a.conflicts());
    // Simulate a replica (an older client) that deleted the listing: the invariant check
    // must report it rather than accept the state.
    let hazards = map_at(&a.doc, &ROOT, "hazards").unwrap();
    let h = map_at(&a.doc, &hazards, "h1").unwrap();
    a.doc.delete(&h, "supervision").unwrap();
    a.doc.commit();
    let reread = InspectionDoc::from_automerge(a.doc.fork()).unwrap();
    assert!(
        reread
            .conflicts()
            .iter()
            .any(|c| matches!(c, Conflict::Invalid { reason } if reason.contains("挂牌督办"))),
        "{:?}",
        reread.conflicts()
    );
}

#[test]
fn signed_version_is_rematerialised_exactly_and_later_edits_are_amendments() {
    let mut doc = new_doc(InspectionKind::Unannounced);
    run(&mut doc, "tab-a", &on_site_script(), 1);
    let (w, t) = (wang(), template());
    doc.apply(
        &Command::Transition {
            to: InspectionStatus::Completed,
            comment: String::new(),
        },
        &cx(&w, &t, 50),
        &device("tab-a"),
    )
    .unwrap();
    let signed_state = doc.record().clone();
    let version = doc.sign("v1", &cx(&w, &t, 51), &device("tab-a")).unwrap();
    assert_eq!(
        version.content_hash,
        crate::signing::content_hash(&signed_state)
    );
    assert!(
        doc.amendments("v1").unwrap().is_empty(),
        "nothing changed since signing"
    );
    run(
        &mut doc,
        "tab-b",
        &[(
            li(),
            Command::SetNote {
                item: "T-03".into(),
                text: "补充：泄爆口被封堵".into(),
            },
        )],
        60,
    );
    let signed = doc.signed_record("v1").unwrap();
    assert_eq!(
        signed.results, signed_state.results,
        "the signed text is what was signed"
    );
    assert_eq!(crate::signing::content_hash(&signed), version.content_hash);
    let amendments = doc.amendments("v1").unwrap();
    assert_eq!(amendments.fields.len(), 1, "{:?}", amendments.fields);
    assert_eq!(amendments.fields[0].path, "/results/T-03/note");
    assert_eq!(
        amendments.fields[0].now,
        Some(serde_json::json!("补充：泄爆口被封堵"))
    );
    let commands: Vec<_> = amendments
        .changes
        .iter()
        .map(|c| {
            c.note
                .as_ref()
                .map(|n| (n.command.clone(), n.device.to_string()))
        })
        .collect();
    assert!(
        commands.contains(&Some(("set_note".into(), "tab-b".into()))),
        "{commands:?}"
    );
    // The signed version survives a save/load round trip (heads are stable change hashes).
    let mut reloaded = fork(&mut doc, "server");
    assert_eq!(reloaded.signed_record("v1").unwrap(), signed);
}

#[test]
fn a_forged_signed_version_hash_is_detected() {
    let mut doc = submitted_doc();
    let mut forged = doc.record().signed_versions["v1"].clone();
    forged.content_hash = digest("forged");
    let sv = map_at(&doc.doc, &ROOT, "signed_versions").unwrap();
    doc.doc
        .put(&sv, "v1", serde_json::to_string(&forged).unwrap())
        .unwrap();
    doc.doc.commit();
    let mut doc = InspectionDoc::from_automerge(doc.doc.fork()).unwrap();
    assert!(matches!(
        doc.signed_record("v1"),
        Err(crate::signing::SignError::HashMismatch { .. })
    ));
}

#[test]
fn malformed_documents_are_rejected_with_the_field_named() {
    assert!(matches!(
        InspectionDoc::load(b"not automerge at all", &device("x")),
        Err(DocError::Automerge(_))
    ));
    // A valid Automerge document that is not an inspection.
    let mut other = AutoCommit::new();
    other.put(&ROOT, "hello", "world").unwrap();
    let err = InspectionDoc::load(&other.save(), &device("x")).unwrap_err();
    assert_eq!(err.to_string(), "field schema is missing");
    // A future schema.
    let mut doc = new_doc(InspectionKind::Routine);
    doc.doc.put(&ROOT, "schema", ScalarValue::Uint(99)).unwrap();
    assert!(matches!(
        InspectionDoc::load(&doc.save(), &device("x")),
        Err(DocError::Schema(99))
    ));
    // A wrong value deep inside.
    let mut doc = new_doc(InspectionKind::Routine);
    let results = map_at(&doc.doc, &ROOT, "results").unwrap();
    doc.doc.put(&results, "T-01/answer", "maybe").unwrap();
    let err = InspectionDoc::load(&doc.save(), &device("x")).unwrap_err();
    assert!(err.to_string().contains("results/T-01/answer"), "{err}");
    // Incremental bytes that break the record leave the document as it was.
    let mut good = new_doc(InspectionKind::Routine);
    let mut evil = fork(&mut good, "evil");
    evil.doc.put(&ROOT, "status", "nonsense").unwrap();
    evil.doc.commit();
    let before = good.record().clone();
    let bytes = evil.doc.save_incremental();
    assert!(good.load_incremental(&bytes).is_err());
    assert_eq!(good.record(), &before);
    assert_eq!(good.doc.get_heads(), fork(&mut good, "z").heads());
    // Garbage, and valid changes followed by garbage, are refused whole.
    assert!(good.load_incremental(b"garbage").is_err());
    let mut other = fork(&mut good, "other");
    let base = other.heads();
    run(
        &mut other,
        "other",
        &[(wang(), Command::SetSummary { text: "新".into() })],
        5,
    );
    let mut valid = other.doc.save_after(&base);
    assert!(
        good.load_incremental(&[valid.as_slice(), b"tail"].concat())
            .is_err()
    );
    assert_eq!(good.record(), &before);
    // The valid part alone is taken, and taking it again (a replayed sync) changes nothing.
    good.load_incremental(&valid).unwrap();
    assert_eq!(good.record().summary, "新");
    let heads = good.heads();
    good.load_incremental(&valid).unwrap();
    assert_eq!(good.heads(), heads);
    valid.clear();
    good.load_incremental(&valid).unwrap();
}

/// `InspectionDoc::apply` writes only the part a command changes (`write_part`); that must be
/// the very change a comparison of the whole record (`write_record`) writes, for every kind
/// of command, or documents written before the part writer would no longer replay.
#[test]
fn a_part_is_written_exactly_as_the_whole_record_would_be() {
    let t = template();
    let mut doc = new_doc(InspectionKind::Unannounced);
    let mut script = on_site_script();
    let (w, l) = (wang(), li());
    script.extend([
        (
            w.clone(),
            Command::AddItemPhoto {
                item: "T-03".into(),
                photo: photo("p1", &w),
            },
        ),
        (
            w.clone(),
            Command::SetNote {
                item: "T-03".into(),
                text: "泄爆口被封堵".into(),
            },
        ),
        (
            w.clone(),
            Command::RegisterHazard(hazard("h-1", "T-01", HazardLevel::General)),
        ),
        (
            w.clone(),
            Command::AddHazardPhoto {
                hazard: "h-1".into(),
                photo: photo("p2", &w),
            },
        ),
        (
            w.clone(),
            Command::Hazard {
                hazard: "h-1".into(),
                action: HazardAction::Order {
                    deadline: Day::ymd(2026, 12, 1),
                    measures: "恢复泄爆口".into(),
                },
            },
        ),
        (
            w.clone(),
            Command::Answer {
                item: "T-02".into(),
                answer: None,
            },
        ),
        (
            l.clone(),
            Command::SetSummary {
                text: "检查情况".into(),
            },
        ),
        (l.clone(), Command::RemoveInspector { user: l.id.clone() }),
        (l.clone(), Command::AddInspector(inspector_ref(&l))),
    ]);
    for (i, (actor, command)) in script.iter().enumerate() {
        let cx = cx(actor, &t, i as i64);
        let mut whole = doc.doc.fork();
        whole.set_actor(actor_for(&device("tab-a")));
        let mut next = doc.state.clone();
        next.apply(command, &cx).unwrap();
        write_record(&mut whole, Some(&doc.state), &next).unwrap();
        let note = ChangeNote {
            by: actor.id.clone(),
            device: device("tab-a"),
            command: command.name().into(),
            at: Some(cx.now),
            op: Some(command.clone()),
            seal: None,
        };
        commit(&mut whole, &note, cx.now);
        doc.apply(command, &cx, &device("tab-a")).unwrap();
        assert_eq!(
            doc.heads(),
            whole.get_heads(),
            "step {i} {}: the part writer wrote another change",
            command.name()
        );
    }
}
