//! Penalty cases through the real server (`POST /api/v1/cases/sync`, issue 19): a case opened
//! and driven on a tablet's `CaseDoc`, pushed whole and then change by change, each change
//! judged by replay (`app_core::penalty::judge_case`) as the pushing user and device, stored
//! in the global change sequence and pulled by the unit's supervisor (and back by the
//! inspector); an inspector of another unit never receives it and may not change it; a
//! forged raw change (the stage written to 结案 without the commands) is refused and leaves
//! nothing. Real server process (SQLite, then PostgreSQL), real sign-ins, loopback only.

mod common;

use app_core::ids::DeviceId;
use app_core::penalty::{
    CaseCommand, CaseDoc, CaseDocKind, CaseNote, CaseStage, IssuedNumber, MajorReason,
};
use app_core::user::User;
use automerge::transaction::Transactable;
use common::cases::{case_id, cx, now, opened, opening, push};
use common::{Tablet, TestServer, rid};

/// Writes the stage as 结案 straight into the document, as one change whose note claims a
/// harmless command of `by` on `device`: what no command writes.
fn forge_closing(doc: &mut CaseDoc, by: &User, device: &DeviceId) {
    let at = now();
    let note = CaseNote {
        by: by.id.clone(),
        device: device.clone(),
        command: "set_facts".into(),
        at: Some(at),
        op: Some(CaseCommand::SetFacts {
            facts: doc.case().facts.clone(),
        }),
        seal: None,
    };
    let am = doc.automerge_mut();
    am.put(automerge::ROOT, "stage", "closed").unwrap();
    am.commit_with(
        automerge::transaction::CommitOptions::default()
            .with_message(serde_json::to_string(&note).unwrap())
            .with_time(at.0 / 1000),
    );
}

fn case_story(env: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_env(dir.path(), &[], None, env);
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let zhao = Tablet::new(&server, "u-zhao"); // the supervisor of xw
    let chen = Tablet::new(&server, "u-chen"); // an inspector of qh
    let (wang_dev, zhao_dev, chen_dev) = (wang.device(), zhao.device(), chen.device());

    // A case opened from a record the server does not hold is refused (the record was never
    // synced, or does not exist): nothing is stored.
    let nowhere = case_id("nowhere");
    let open = opening(
        &nowhere,
        &wang.user,
        &li.user,
        &wang.enterprise("e-001"),
        &rid("never-synced"),
    );
    let mut ndoc = CaseDoc::create(&opened(open, &wang.user, now()), &wang_dev).unwrap();
    let refused = wang.sync_cases(&server, 0, vec![push(&nowhere, ndoc.save())]);
    assert!(refused.accepted.is_empty(), "{refused:?}");
    assert_eq!(refused.rejected[0].code, "reference", "{refused:?}");
    assert!(
        refused.rejected[0]
            .message
            .contains("sync the record first"),
        "{refused:?}"
    );
    assert!(zhao.sync_cases(&server, 0, Vec::new()).cases.is_empty());

    // Opened on Wang's tablet, from a record of his (synced first), with Li; the facts
    // completed.
    let record = wang.synced_record("record", &li.user);
    let id = case_id("training");
    let open = opening(
        &id,
        &wang.user,
        &li.user,
        &wang.enterprise("e-001"),
        &record,
    );
    let mut doc = CaseDoc::create(&opened(open, &wang.user, now()), &wang_dev).unwrap();
    let facts = CaseCommand::SetFacts {
        facts: "3名新员工未经安全培训上岗，企业未建立培训档案".into(),
    };
    doc.apply(&facts, &cx(&wang.user, now()), &wang_dev)
        .unwrap();

    // Pushed whole: judged from its creation on, and stored.
    let first = wang.sync_cases(&server, 0, vec![push(&id, doc.save())]);
    assert_eq!(first.accepted, vec![0], "{first:?}");
    assert!(first.rejected.is_empty() && first.cases.is_empty());
    assert!(first.cursor > 0);

    // Then incrementally: only the changes the server lacks.
    let sent = doc.heads();
    let major = CaseCommand::MarkMajor {
        reason: MajorReason::Complex,
    };
    doc.apply(&major, &cx(&wang.user, now()), &wang_dev)
        .unwrap();
    let second = wang.sync_cases(
        &server,
        first.cursor,
        vec![push(&id, doc.save_after(&sent))],
    );
    assert_eq!(second.accepted, vec![0], "{second:?}");
    assert!(
        second.cases.is_empty(),
        "a device's own changes are not sent back"
    );
    assert!(second.cursor > first.cursor);
    // A replay of what the server holds is accepted and stores nothing.
    let replay = wang.sync_cases(&server, second.cursor, vec![push(&id, doc.save())]);
    assert_eq!(replay.accepted, vec![0]);
    assert_eq!(replay.cursor, second.cursor);

    // The unit's supervisor receives it, as Wang's tablet holds it.
    let pulled = zhao.sync_cases(&server, 0, Vec::new());
    assert_eq!(pulled.cases.len(), 1, "{pulled:?}");
    assert_eq!(pulled.cases[0].id, id);
    assert_eq!(pulled.cursor, second.cursor);
    let mut zdoc = CaseDoc::load(&pulled.cases[0].bytes, &zhao_dev).unwrap();
    assert_eq!(zdoc.case(), doc.case());
    // And approves the filing on his tablet; Wang's tablet receives it.
    let before = zdoc.heads();
    let at = now();
    let approve = CaseCommand::ApproveFiling {
        number: IssuedNumber::new(
            "玄武",
            CaseDocKind::FilingApproval,
            at.shanghai_date().year(),
            1,
            zhao_dev.clone(),
        ),
        comment: "同意立案".into(),
    };
    zdoc.apply(&approve, &cx(&zhao.user, at), &zhao_dev)
        .unwrap();
    let approved = zhao.sync_cases(
        &server,
        pulled.cursor,
        vec![push(&id, zdoc.save_after(&before))],
    );
    assert_eq!(approved.accepted, vec![0], "{approved:?}");
    let back = wang.sync_cases(&server, second.cursor, Vec::new());
    assert_eq!(back.cases.len(), 1, "{back:?}");
    doc.load_incremental(&back.cases[0].bytes).unwrap();
    assert_eq!(doc.case().stage, CaseStage::Investigating);
    assert_eq!(doc.case(), zdoc.case());

    // An inspector of another unit never receives it, and may not change it.
    let other = chen.sync_cases(&server, 0, Vec::new());
    assert!(other.cases.is_empty(), "{other:?}");
    let mut cdoc = CaseDoc::load(&doc.save(), &chen_dev).unwrap();
    let before = cdoc.heads();
    forge_closing(&mut cdoc, &chen.user, &chen_dev);
    let refused = chen.sync_cases(
        &server,
        other.cursor,
        vec![push(&id, cdoc.save_after(&before))],
    );
    assert!(refused.accepted.is_empty(), "{refused:?}");
    assert_eq!(refused.rejected.len(), 1);
    assert_eq!(refused.rejected[0].code, "forbidden");
    assert!(
        refused.rejected[0]
            .message
            .contains("may not change this case"),
        "{refused:?}"
    );

    // A raw change on Wang's own tablet: the stage written to 结案, not what its command
    // writes. Refused, and nothing of it is stored.
    let before = doc.heads();
    forge_closing(&mut doc, &wang.user, &wang_dev);
    assert_eq!(
        doc.case().stage,
        CaseStage::Investigating,
        "state not re-read"
    );
    let forged = wang.sync_cases(
        &server,
        back.cursor,
        vec![push(&id, doc.save_after(&before))],
    );
    assert!(forged.accepted.is_empty(), "{forged:?}");
    assert_eq!(forged.rejected.len(), 1);
    assert_eq!(forged.rejected[0].id, id);
    assert_eq!(forged.rejected[0].code, "not_reproducible", "{forged:?}");
    assert_eq!(forged.cursor, back.cursor, "nothing stored");
    let after = zhao.sync_cases(&server, approved.cursor, Vec::new());
    assert!(after.cases.is_empty(), "{after:?}");
    assert_eq!(after.cursor, approved.cursor);
    // Li, the other inspector on the case, receives every change of it (none is his).
    let whole = li.sync_cases(&server, 0, Vec::new());
    assert_eq!(whole.cases.len(), 1, "{whole:?}");
    let stored = CaseDoc::load(&whole.cases[0].bytes, &li.device()).unwrap();
    assert_eq!(stored.case().stage, CaseStage::Investigating);
    assert_eq!(stored.case(), zdoc.case());

    // A forged case pushed whole (a new case created as 结案) is refused as well.
    let forged_id = case_id("forged");
    let open = opening(
        &forged_id,
        &wang.user,
        &li.user,
        &wang.enterprise("e-001"),
        &record,
    );
    let mut fdoc = CaseDoc::create(&opened(open, &wang.user, now()), &wang_dev).unwrap();
    forge_closing(&mut fdoc, &wang.user, &wang_dev);
    let refused = wang.sync_cases(&server, forged.cursor, vec![push(&forged_id, fdoc.save())]);
    assert!(refused.accepted.is_empty(), "{refused:?}");
    assert_eq!(refused.rejected[0].code, "not_reproducible", "{refused:?}");
    assert_eq!(li.sync_cases(&server, 0, Vec::new()).cases.len(), 1);

    // Records and cases share the one change sequence: a record stored now numbers after the
    // cases' changes, and a case cursor never passes it.
    // (Li's tablet stores it: a tablet's sync now pulls cases too, and Wang's store lacks the
    // changes this test pushed for his device by hand, which the server never sends back.)
    let record = rid("after-cases");
    li.new_record(&record, &wang.user);
    assert!(li.sync().rejected.is_empty());
    let later = zhao.sync_cases(&server, approved.cursor, Vec::new());
    assert!(later.cases.is_empty());
    assert!(later.cursor > approved.cursor, "{later:?}");
}

#[test]
fn cases_sync_on_sqlite() {
    case_story(&[]);
}

#[test]
fn cases_sync_on_postgres() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    case_story(&[("SYNC_SERVER_DATABASE".into(), db.url())]);
}
