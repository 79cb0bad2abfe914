use super::*;
use crate::hazard::HazardLevel;
use crate::test_support::*;

fn run(record: &mut Inspection, script: &[(User, Command)]) {
    let t = template();
    for (i, (actor, command)) in script.iter().enumerate() {
        record
            .apply(command, &cx(actor, &t, i as i64))
            .unwrap_or_else(|e| panic!("step {i} {}: {e}", command.name()));
    }
}

fn to(status: InspectionStatus, comment: &str) -> Command {
    Command::Transition {
        to: status,
        comment: comment.into(),
    }
}

fn signed_version(at_minutes: i64) -> Command {
    Command::RecordSignedVersion {
        id: format!("v{at_minutes}"),
        version: SignedVersion {
            heads: vec![],
            content_hash: crate::test_support::digest("content"),
            at: Timestamp(T0.0 + at_minutes * 60_000),
            by: wang().id,
        },
    }
}

#[test]
fn going_on_site_needs_two_inspectors_with_certificates() {
    let t = template();
    let mut r = new_record(InspectionKind::Routine);
    let w = wang();
    r.apply(&Command::AddInspector(test_support_ref(&w)), &cx(&w, &t, 0))
        .unwrap();
    assert_eq!(
        r.validate_inspectors(),
        Err(Unmet::FewerThanTwoInspectors(1))
    );
    let err = r
        .apply(&to(InspectionStatus::OnSite, ""), &cx(&w, &t, 1))
        .unwrap_err();
    assert_eq!(
        err,
        RecordError::Unmet {
            from: InspectionStatus::Draft,
            to: InspectionStatus::OnSite,
            unmet: vec![Unmet::FewerThanTwoInspectors(1)],
        }
    );
    assert!(err.to_string().contains("at least two inspectors"), "{err}");
    assert_eq!(
        r.status,
        InspectionStatus::Draft,
        "a refused move changes nothing"
    );
    r.apply(
        &Command::AddInspector(test_support_ref(&li())),
        &cx(&w, &t, 2),
    )
    .unwrap();
    assert!(r.validate_inspectors().is_ok());
    r.apply(&to(InspectionStatus::OnSite, ""), &cx(&w, &t, 3))
        .unwrap();
    assert_eq!(r.started_at, Some(Timestamp(T0.0 + 3 * 60_000)));
}

fn test_support_ref(u: &User) -> InspectorRef {
    inspector_ref(u)
}

#[test]
fn an_inspector_without_a_certificate_cannot_be_put_on_a_record() {
    // The certificate is a validated type: a record cannot hold an inspector without one.
    let json = serde_json::json!({"user": "x", "name": "无证", "certificate": ""});
    assert!(serde_json::from_value::<InspectorRef>(json).is_err());
}

#[test]
fn unannounced_visit_needs_arrival_proof_and_both_attestations() {
    let t = template();
    let (w, l) = (wang(), li());
    let mut r = new_record(InspectionKind::Unannounced);
    run(
        &mut r,
        &[
            (w.clone(), Command::AddInspector(inspector_ref(&w))),
            (w.clone(), Command::AddInspector(inspector_ref(&l))),
        ],
    );
    let err = r
        .apply(&to(InspectionStatus::OnSite, ""), &cx(&w, &t, 5))
        .unwrap_err();
    let RecordError::Unmet { unmet, .. } = err else {
        panic!("expected unmet requirements")
    };
    assert_eq!(
        unmet,
        vec![
            Unmet::NoArrivalProof,
            Unmet::NoNoticeNotAttested,
            Unmet::NoEscortNotAttested
        ]
    );
    r.apply(&arrival(), &cx(&w, &t, 6)).unwrap();
    r.apply(
        &Command::SetAttestations(Attestations {
            no_notice_given: true,
            no_escort_accepted: false,
        }),
        &cx(&w, &t, 7),
    )
    .unwrap();
    let err = r
        .apply(&to(InspectionStatus::OnSite, ""), &cx(&w, &t, 8))
        .unwrap_err();
    assert!(err.to_string().contains("no escort"), "{err}");
    r.apply(&attest(), &cx(&w, &t, 9)).unwrap();
    r.apply(&to(InspectionStatus::OnSite, ""), &cx(&w, &t, 10))
        .unwrap();
    // A routine visit needs no arrival proof.
    let mut routine = new_record(InspectionKind::Routine);
    run(
        &mut routine,
        &[
            (w.clone(), Command::AddInspector(inspector_ref(&w))),
            (w.clone(), Command::AddInspector(inspector_ref(&l))),
            (w.clone(), to(InspectionStatus::OnSite, "")),
        ],
    );
}

#[test]
fn the_whole_workflow_from_draft_to_approval() {
    let t = template();
    let (w, s) = (wang(), supervisor());
    let mut r = new_record(InspectionKind::Unannounced);
    run(&mut r, &on_site_script());
    r.apply(&to(InspectionStatus::Completed, ""), &cx(&w, &t, 60))
        .unwrap();
    let err = r
        .apply(&to(InspectionStatus::Submitted, ""), &cx(&w, &t, 61))
        .unwrap_err();
    assert!(err.to_string().contains("signed"), "{err}");
    r.apply(&signed_version(62), &cx(&w, &t, 62)).unwrap();
    r.apply(&to(InspectionStatus::Submitted, ""), &cx(&w, &t, 63))
        .unwrap();
    r.apply(&to(InspectionStatus::Approved, "符合要求"), &cx(&s, &t, 90))
        .unwrap();
    assert_eq!(r.status, InspectionStatus::Approved);
    let review = r.review.as_ref().unwrap();
    assert_eq!(review.decision, ReviewDecision::Approved);
    assert_eq!(review.by, s.id);
    assert!(r.violations().is_empty(), "{:?}", r.violations());
}

#[test]
fn completing_lists_everything_missing() {
    let t = template();
    let (w, l) = (wang(), li());
    let mut r = new_record(InspectionKind::Routine);
    run(
        &mut r,
        &[
            (w.clone(), Command::AddInspector(inspector_ref(&w))),
            (w.clone(), Command::AddInspector(inspector_ref(&l))),
            (w.clone(), to(InspectionStatus::OnSite, "")),
            (
                w.clone(),
                Command::Answer {
                    item: "T-01".into(),
                    answer: Some(Answer::Complies),
                },
            ),
            (w.clone(), sign(&w)),
        ],
    );
    let RecordError::Unmet { unmet, .. } = r
        .apply(&to(InspectionStatus::Completed, ""), &cx(&w, &t, 30))
        .unwrap_err()
    else {
        panic!("expected unmet")
    };
    assert_eq!(
        unmet,
        vec![
            Unmet::UnansweredItems(vec!["T-02".into(), "T-03".into()]),
            Unmet::NoOnsitePerson,
            Unmet::MissingSignature("inspector 李娜".into()),
            Unmet::MissingSignature(
                "the enterprise's person in charge (or a recorded refusal)".into()
            ),
        ]
    );
}

#[test]
fn refusal_to_sign_needs_a_witness_and_only_the_enterprise_may_refuse() {
    let t = template();
    let (w, l) = (wang(), li());
    let mut r = new_record(InspectionKind::Routine);
    run(
        &mut r,
        &[
            (w.clone(), Command::AddInspector(inspector_ref(&w))),
            (w.clone(), Command::AddInspector(inspector_ref(&l))),
        ],
    );
    let refusal = |signer: Signer, witness: &str| {
        Command::Sign(Signature {
            signer,
            name: "x".into(),
            outcome: SignOutcome::Refused {
                witness: witness.into(),
                note: String::new(),
            },
            at: T0,
            read: Vec::new(),
        })
    };
    assert_eq!(
        r.apply(&refusal(Signer::Enterprise, "  "), &cx(&w, &t, 1)),
        Err(RecordError::RefusalWithoutWitness)
    );
    assert_eq!(
        r.apply(
            &refusal(Signer::Inspector(l.id.clone()), "某人"),
            &cx(&w, &t, 1)
        ),
        Err(RecordError::InspectorCannotRefuse)
    );
    assert_eq!(
        r.apply(&sign(&supervisor()), &cx(&w, &t, 1)),
        Err(RecordError::SignerNotOnRecord(supervisor().id))
    );
    r.apply(&refusal(Signer::Enterprise, "网格员 刘洋"), &cx(&w, &t, 1))
        .unwrap();
    assert!(r.signatures.contains_key("enterprise"));
}

#[test]
fn invalid_moves_say_why() {
    let t = template();
    let (w, s) = (wang(), supervisor());
    let mut r = new_record(InspectionKind::Routine);
    assert_eq!(
        r.apply(&to(InspectionStatus::Approved, ""), &cx(&s, &t, 1)),
        Err(RecordError::NoSuchMove {
            from: InspectionStatus::Draft,
            to: InspectionStatus::Approved
        })
    );
    assert_eq!(
        r.apply(&to(InspectionStatus::OnSite, ""), &cx(&s, &t, 1)),
        Err(RecordError::WrongRole {
            from: InspectionStatus::Draft,
            to: InspectionStatus::OnSite,
            needed: Mover::Inspector
        })
    );
    run(&mut r, &on_site_script()[..2]);
    run(&mut r, &[(w.clone(), to(InspectionStatus::OnSite, ""))]);
    run(&mut r, &on_site_script()[5..]);
    run(&mut r, &[(w.clone(), to(InspectionStatus::Completed, ""))]);
    run(&mut r, &[(w.clone(), signed_version(70))]);
    run(&mut r, &[(w.clone(), to(InspectionStatus::Submitted, ""))]);
    assert_eq!(
        r.apply(&to(InspectionStatus::Approved, ""), &cx(&w, &t, 80)),
        Err(RecordError::WrongRole {
            from: InspectionStatus::Submitted,
            to: InspectionStatus::Approved,
            needed: Mover::Supervisor
        })
    );
    let err = r
        .apply(&to(InspectionStatus::Returned, " "), &cx(&s, &t, 80))
        .unwrap_err();
    assert!(err.to_string().contains("needs a comment"), "{err}");
    // Under review the content is frozen.
    assert_eq!(
        r.apply(&Command::SetSummary { text: "x".into() }, &cx(&w, &t, 81)),
        Err(RecordError::Frozen(InspectionStatus::Submitted))
    );
    r.apply(
        &to(InspectionStatus::Returned, "请补充现场照片"),
        &cx(&s, &t, 90),
    )
    .unwrap();
    assert_eq!(r.review.as_ref().unwrap().comment, "请补充现场照片");
    // Returned: edits allowed again (amendments), and resubmitting needs a new signature.
    r.apply(
        &Command::SetSummary {
            text: "补充说明".into(),
        },
        &cx(&w, &t, 91),
    )
    .unwrap();
    let err = r
        .apply(&to(InspectionStatus::Submitted, ""), &cx(&w, &t, 92))
        .unwrap_err();
    assert!(err.to_string().contains("signed"), "{err}");
    r.apply(&signed_version(93), &cx(&w, &t, 93)).unwrap();
    r.apply(&to(InspectionStatus::Submitted, ""), &cx(&w, &t, 94))
        .unwrap();
    // Every pair not in the table is refused.
    for from in InspectionStatus::ALL {
        for to_status in InspectionStatus::ALL {
            let mut probe = r.clone();
            probe.status = from;
            let res = probe.apply(&to(to_status, "意见"), &cx(&s, &t, 100));
            if allowed_move(from, to_status).is_none() {
                assert_eq!(
                    res,
                    Err(RecordError::NoSuchMove {
                        from,
                        to: to_status
                    })
                );
            }
        }
    }
}

#[test]
fn supervisors_do_not_edit_content_and_unknown_items_are_refused() {
    let t = template();
    let mut r = new_record(InspectionKind::Routine);
    assert_eq!(
        r.apply(
            &Command::SetSummary { text: "x".into() },
            &cx(&supervisor(), &t, 1)
        ),
        Err(RecordError::NotAnInspector)
    );
    let err = r
        .apply(
            &Command::Answer {
                item: "NOPE".into(),
                answer: Some(Answer::Complies),
            },
            &cx(&wang(), &t, 1),
        )
        .unwrap_err();
    assert!(err.to_string().contains("NOPE"), "{err}");
}

#[test]
fn hazards_register_from_a_failed_item_and_follow_their_lifecycle_in_the_record() {
    let t = template();
    let w = wang();
    let mut r = new_record(InspectionKind::Routine);
    run(&mut r, &on_site_script()[..2]);
    run(&mut r, &[(w.clone(), to(InspectionStatus::OnSite, ""))]);
    let h = hazard("h1", "T-03", HazardLevel::Major);
    r.apply(&Command::RegisterHazard(h.clone()), &cx(&w, &t, 10))
        .unwrap();
    assert_eq!(
        r.apply(&Command::RegisterHazard(h), &cx(&w, &t, 11)),
        Err(RecordError::DuplicateHazard("h1".into()))
    );
    let err = r
        .apply(
            &Command::Hazard {
                hazard: "h1".into(),
                action: crate::hazard::HazardAction::Order {
                    deadline: crate::geo::Day::ymd(2027, 1, 31),
                    measures: "加装泄爆装置".into(),
                },
            },
            &cx(&w, &t, 12),
        )
        .unwrap_err();
    assert!(err.to_string().contains("挂牌督办"), "{err}");
    let mut bad = hazard("h2", "NOPE", HazardLevel::General);
    assert!(
        r.apply(&Command::RegisterHazard(bad.clone()), &cx(&w, &t, 13))
            .is_err()
    );
    bad.item = None;
    bad.basis.clear();
    assert!(matches!(
        r.apply(&Command::RegisterHazard(bad), &cx(&w, &t, 13)),
        Err(RecordError::Hazard(crate::hazard::HazardError::NoBasis(_)))
    ));
}
