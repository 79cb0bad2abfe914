//! Penalty cases from the tablet's side against the real server (issue 19): a case opened in
//! the tablet app (`tablet::app::App`, through the typed requests the screens send) from a
//! failed item of a record, synced by the tablet's own sync (records, then cases:
//! `tablet::case_sync`), received by the other inspector's tablet and the unit's supervisor's;
//! the supervisor's filing approval and the other inspector's interview come back and every
//! tablet converges to the same case. A cut connection loses nothing (what was not
//! acknowledged goes with the next sync; a replay is harmless); a case the server refuses
//! stays pending and is reported with the server's code. Real server process, real sign-ins,
//! loopback only.
//!
//! The supervisor's 立案审批表 and the interview's 询问笔录 take their numbers from their
//! tablets' pools, each from its own series, which the tablets reserve from the server once
//! they hold a case (`tablet::numbers::top_up`). A penalty is proposed with the unit's rules
//! sent with the reference data (the last test).

mod common;

use app_core::docnumber::DocumentKind;
use app_core::geo::Timestamp;
use app_core::ids::ItemCode;
use app_core::inspection::{Answer, Command};
use app_core::kind::InspectionKind;
use app_core::penalty::CaseId;
use app_core::penalty::{
    CaseCommand, CaseDocKind, CaseError, CaseStage, DeadlineKind, Interview, InterviewPage,
    Interviewee, IssuedNumber, Penalty, QuestionAnswer,
};
use common::cases::{cx, inspector_ref, now};
use common::{PASSWORD, Tablet, TestServer};
use std::time::Duration;
use tablet::app::{App, AppConfig};
use tablet::numbers::{NumberClient, top_up};
use tablet::store::CaseNumbering;
use tablet_api::{
    ApplyCase, ApplyCommand, ErrorCode, GetCase, ListCases, OpenCase, StartInspection, SyncNow,
};

/// Applies the command `command` makes of a number of `kind` on `tablet` as its user at `at`,
/// the number issued from the tablet's pool (topped up from `server` first, as the app does
/// after a sync): answers the number.
fn apply_numbered(
    server: &TestServer,
    tablet: &Tablet,
    id: &CaseId,
    kind: CaseDocKind,
    at: Timestamp,
    command: impl FnOnce(IssuedNumber) -> CaseCommand,
) -> IssuedNumber {
    let token = tablet.client.session().unwrap().token.clone();
    let topped = top_up(
        &tablet.store,
        &NumberClient::new(server.url(), token),
        &tablet.user,
        now(),
    )
    .unwrap();
    assert!(
        topped
            .received
            .iter()
            .any(|b| b.series.kind == DocumentKind::from(kind)),
        "{topped:?}"
    );
    let numbering = CaseNumbering {
        kind,
        pool_kind: DocumentKind::from(kind),
        unit: tablet.user.unit.clone(),
        unit_short_name: "玄武".into(),
    };
    let (_, number) = tablet
        .store
        .lock()
        .unwrap()
        .apply_case_numbered(id, &numbering, command, &cx(&tablet.user, at))
        .unwrap();
    number
}

/// Wang's tablet app in `dir/wang`, signed in to `server`, holding a record of his with Li
/// whose item GM-GL-01 failed: the app, the record and the item.
fn wangs_app_with_a_failed_item(
    dir: &std::path::Path,
    server: &TestServer,
) -> (App, app_core::ids::InspectionId, ItemCode) {
    let config = AppConfig::in_folder(
        &dir.join("wang"),
        server.url(),
        Duration::from_secs(3600),
        Duration::from_secs(3600),
    );
    let app = App::open(config).unwrap();
    app.sign_in("u-wang", PASSWORD).unwrap();
    let record = app
        .call(StartInspection {
            kind: InspectionKind::Routine,
            enterprise: "e-001".into(),
            plan: None,
            co_inspector: Some("u-li".into()),
        })
        .unwrap();
    let item = ItemCode::from("GM-GL-01");
    app.call(ApplyCommand {
        id: record.clone(),
        command: Command::Answer {
            item: item.clone(),
            answer: Some(Answer::Fails),
        },
    })
    .unwrap();
    (app, record, item)
}

#[test]
fn a_case_opened_in_the_app_reaches_both_inspectors_and_the_supervisor_and_converges() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let (app, record, item) = wangs_app_with_a_failed_item(dir.path(), &server);
    // A case is opened from a failed item only.
    let err = app
        .call(OpenCase {
            record: record.clone(),
            item: ItemCode::from("GM-GL-02"),
            facts: None,
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Input, "{err:?}");
    assert_eq!(err.field.as_deref(), Some("item"));
    let opened = app
        .call(OpenCase {
            record: record.clone(),
            item: item.clone(),
            facts: Some("企业未建立全员安全生产责任制".into()),
        })
        .unwrap();
    assert_eq!(opened.stage, CaseStage::Opened);
    assert!(opened.unsynced);
    assert!(opened.conflicts.is_empty() && opened.violations.is_empty());
    assert!(!opened.case.penalty_basis.is_empty(), "the item's 处罚依据");
    assert_eq!(opened.case.inspectors.len(), 2);
    let id = opened.case.id.clone();
    let rows = app
        .call(ListCases {
            record: Some(record.clone()),
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, id);
    // The app numbers a case document from its pool: the 立审 series is empty, so the app
    // reserves the case series (it holds a case now), then the rules refuse an inspector's
    // filing approval; nothing changed, no number spent.
    let err = app
        .call(ApplyCase {
            case: id.clone(),
            command: CaseCommand::ApproveFiling {
                number: tablet_api::unnumbered(),
                comment: "同意立案".into(),
            },
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Refused, "{err:?}");
    // (The case itself: whether it is synced yet depends on the app's background sync.)
    assert_eq!(
        app.call(GetCase { case: id.clone() }).unwrap().case,
        opened.case
    );

    // One sync: the record, then the case.
    let outcome = app.call(SyncNow {}).unwrap();
    assert!(outcome.report.rejected.is_empty(), "{outcome:?}");
    assert!(!app.call(GetCase { case: id.clone() }).unwrap().unsynced);
    // The sync screen's stock lists the case documents' series too, now that the tablet
    // holds a case.
    let stock = app.call(tablet_api::GetNumbers {}).unwrap().stock;
    let kinds: Vec<DocumentKind> = stock.iter().map(|s| s.kind).collect();
    assert!(
        kinds.contains(&DocumentKind::InspectionRecord)
            && kinds.contains(&DocumentKind::from(CaseDocKind::Interview)),
        "{kinds:?}"
    );

    // Li's tablet (on the case) and the supervisor's receive it.
    let li = Tablet::new(&server, "u-li");
    let zhao = Tablet::new(&server, "u-zhao");
    for t in [&li, &zhao] {
        t.sync();
        let rows = t.store.lock().unwrap().list_cases(None).unwrap();
        assert_eq!(rows.len(), 1, "{}: {rows:?}", t.user.id);
        assert_eq!(
            t.store.lock().unwrap().penalty_case(&id).unwrap(),
            opened.case
        );
    }

    // The supervisor approves the filing on his tablet; it reaches Wang's app.
    let filing = apply_numbered(
        &server,
        &zhao,
        &id,
        CaseDocKind::FilingApproval,
        now(),
        |number| CaseCommand::ApproveFiling {
            number,
            comment: "同意立案".into(),
        },
    );
    assert!(filing.is_of(CaseDocKind::FilingApproval, now().shanghai_date().year()));
    // Wang's app reserved the 立审 series first: Zhao's block follows it.
    assert_eq!((filing.seq, &filing.device), (21, &zhao.device()));
    let report = zhao.sync();
    assert!(report.rejected.is_empty(), "{report:?}");
    assert_eq!(zhao.store.lock().unwrap().pending_cases().unwrap(), 0);
    app.call(SyncNow {}).unwrap();
    let approved = app.call(GetCase { case: id.clone() }).unwrap();
    assert_eq!(approved.stage, CaseStage::Investigating);
    assert!(
        approved
            .deadlines
            .iter()
            .any(|d| d.kind == DeadlineKind::Decision),
        "{:?}",
        approved.deadlines
    );
    let row = app.call(ListCases { record: None }).unwrap().remove(0);
    assert_eq!(row.stage, CaseStage::Investigating);
    assert!(row.filed_on.is_some() && row.deadline.is_some(), "{row:?}");

    // Li records an interview on his tablet.
    li.sync();
    let t = now();
    let interview = |number: IssuedNumber| Interview {
        id: "iv-1".into(),
        number: number.text,
        interviewee: Interviewee {
            name: "张三".into(),
            position: "企业 安全管理员".into(),
            id_number: String::new(),
            phone: String::new(),
        },
        place: "企业会议室".into(),
        started_at: app_core::geo::Timestamp(t.0 - 30 * 60_000),
        ended_at: app_core::geo::Timestamp(t.0 - 60_000),
        asked_by: li.user.id.clone(),
        recorded_by: app_core::ids::UserId::from("u-wang"),
        pages: vec![InterviewPage {
            lines: vec![QuestionAnswer {
                question: "单位是否建立了全员安全生产责任制？".into(),
                answer: "还没有。".into(),
            }],
            signatures: Default::default(),
        }],
    };
    let interview_number = apply_numbered(&server, &li, &id, CaseDocKind::Interview, t, |number| {
        CaseCommand::AddInterview {
            interview: interview(number.clone()),
            number,
        }
    });
    // Wang's app reserved the 询问 series first: Li's block follows it.
    assert_eq!(interview_number.seq, 21, "{interview_number:?}");
    // The connection is cut: nothing was acknowledged, so nothing is marked pushed.
    let session = li.client.session().unwrap().clone();
    let cut = tablet::sync::SyncClient::new("http://127.0.0.1:9").with_session(session);
    assert!(cut.sync_cases(&li.store, now()).is_err());
    assert_eq!(li.store.lock().unwrap().pending_cases().unwrap(), 1);
    let report = li.sync();
    assert!(report.rejected.is_empty(), "{report:?}");
    assert_eq!(li.store.lock().unwrap().pending_cases().unwrap(), 0);
    // Pushed again whole (as after a server restore): a replay, harmless.
    li.store.lock().unwrap().forget_case_server_state().unwrap();
    let cases = li.client.sync_cases(&li.store, now()).unwrap();
    assert_eq!((cases.pushed, cases.accepted), (1, 1), "{cases:?}");
    assert!(cases.rejected.is_empty());
    assert_eq!(li.store.lock().unwrap().pending_cases().unwrap(), 0);

    // Everyone converges on the same case.
    app.call(SyncNow {}).unwrap();
    zhao.sync();
    let wang_case = app.call(GetCase { case: id.clone() }).unwrap();
    assert_eq!(wang_case.case.interviews.len(), 1);
    assert!(wang_case.conflicts.is_empty(), "{:?}", wang_case.conflicts);
    assert_eq!(
        li.store.lock().unwrap().penalty_case(&id).unwrap(),
        wang_case.case
    );
    assert_eq!(
        zhao.store.lock().unwrap().penalty_case(&id).unwrap(),
        wang_case.case
    );

    // The tablet has the county's discretion table (the city's demo table, inherited, sent
    // with the reference data), which has no row for this case's provision (第九十四条):
    // refused on the tablet with the rule's own text, as the server would refuse it.
    let err = app
        .call(ApplyCase {
            case: id.clone(),
            command: CaseCommand::ProposePenalty {
                circumstance: "94-1".into(),
                penalty: Penalty {
                    fine_yuan: 20_000,
                    other: Default::default(),
                },
                reasons: "首次违法".into(),
            },
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Refused, "{err:?}");
    assert_eq!(
        err.zh,
        CaseError::Propose(app_core::penalty::ProposeError::NotInTable(
            wang_case.case.penalty_basis[0].clone()
        ))
        .zh()
    );

    // An inspector of another unit opens a case in this unit on his tablet (the case's rules
    // allow it; the server does not): refused with the server's code, kept pending.
    let chen = Tablet::new(&server, "u-chen");
    let mut open = common::cases::opening(
        &common::cases::case_id("elsewhere"),
        &chen.user,
        &chen.user,
        &li.enterprise("e-001"),
        record.as_str(),
    );
    open.unit = app_core::ids::UnitId::from("xw");
    let mut liu = inspector_ref(&chen.user);
    liu.user = "u-liu".into();
    liu.name = "刘".into();
    open.inspectors = vec![inspector_ref(&chen.user), liu];
    let other_id = open.id.clone();
    chen.store
        .lock()
        .unwrap()
        .open_case(open, &cx(&chen.user, now()))
        .unwrap();
    let report = chen.sync();
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].id, other_id.to_string());
    assert_eq!(report.rejected[0].code, "forbidden", "{report:?}");
    assert_eq!(chen.store.lock().unwrap().pending_cases().unwrap(), 1);
}

/// The unit's rules reach the tablet with the reference data (issue 19): the county inherits
/// the city's demo discretion table (`fixtures/demo/discretion/nj.toml`, loaded at the demo's
/// start), so a penalty proposed in the tablet app is allowed there, with the same table the
/// server judges with, and accepted by the server at sync.
#[test]
fn a_penalty_proposed_in_the_app_with_the_units_inherited_table_is_accepted_by_the_server() {
    use app_core::penalty::OtherPenalty;
    use common::cases::opening;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    // A case of 玄武 (xw) opened on one of Wang's tablets, its filing approved by Zhao.
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let zhao = Tablet::new(&server, "u-zhao");
    let id = common::cases::case_id("proposal");
    let record = wang.synced_record("record", &li.user);
    let open = opening(
        &id,
        &wang.user,
        &li.user,
        &wang.enterprise("e-001"),
        &record,
    );
    let id = open.id.clone();
    wang.store
        .lock()
        .unwrap()
        .open_case(open, &cx(&wang.user, now()))
        .unwrap();
    let report = wang.sync();
    assert!(report.rejected.is_empty(), "{report:?}");
    zhao.sync();
    apply_numbered(
        &server,
        &zhao,
        &id,
        CaseDocKind::FilingApproval,
        now(),
        |number| CaseCommand::ApproveFiling {
            number,
            comment: "同意立案".into(),
        },
    );
    let report = zhao.sync();
    assert!(report.rejected.is_empty(), "{report:?}");

    // Wang's app: the reference data (with the county's rules) at sign-in, the case at sync.
    let config = AppConfig::in_folder(
        &dir.path().join("wang-app"),
        server.url(),
        Duration::from_secs(3600),
        Duration::from_secs(3600),
    );
    let app = App::open(config).unwrap();
    app.sign_in("u-wang", PASSWORD).unwrap();
    app.call(SyncNow {}).unwrap();
    assert_eq!(
        app.call(GetCase { case: id.clone() }).unwrap().stage,
        CaseStage::Investigating
    );

    // Outside the row's range: refused on the tablet by the table's own range.
    let propose = |fine_yuan| CaseCommand::ProposePenalty {
        circumstance: "97-1".into(),
        penalty: Penalty {
            fine_yuan,
            other: [OtherPenalty::Warning].into(),
        },
        reasons: "首次发现，及时改正".into(),
    };
    let err = app
        .call(ApplyCase {
            case: id.clone(),
            command: propose(40_000),
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Refused, "{err:?}");
    assert_eq!(
        err.zh,
        CaseError::FineOutsideRange {
            fine: 40_000,
            min: 10_000,
            max: 30_000
        }
        .zh()
    );
    // In range: allowed on the tablet, accepted by the server.
    let proposed = app
        .call(ApplyCase {
            case: id.clone(),
            command: propose(20_000),
        })
        .unwrap();
    let proposal = proposed.case.proposal.clone().expect("proposed");
    assert_eq!(proposal.penalty.fine_yuan, 20_000);
    assert!(proposed.unsynced);
    let outcome = app.call(SyncNow {}).unwrap();
    assert!(outcome.report.rejected.is_empty(), "{outcome:?}");
    let synced = app.call(GetCase { case: id.clone() }).unwrap();
    assert!(!synced.unsynced, "acknowledged by the server");
    // The supervisor's tablet receives the proposal the server stored.
    zhao.sync();
    let held = zhao.store.lock().unwrap().penalty_case(&id).unwrap();
    assert_eq!(held.proposal, Some(proposal));
    assert_eq!(held, synced.case);
}

/// A recording added to a case in the app (视听资料, `tablet_api::ImportCaseMedia`): a file
/// that is no recording is refused with nothing named; a body camera's MP4 is copied into the
/// evidence store and named in the case; the next sync uploads it before it pushes the case
/// (the server accepts a case naming a recording only from the device that uploaded it), and
/// the supervisor plays it in the console byte for byte.
#[test]
fn a_recording_added_in_the_app_is_uploaded_with_the_case_and_plays_in_the_console() {
    use sha2::{Digest, Sha256};
    use tablet_api::ImportCaseMedia;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let (app, record, item) = wangs_app_with_a_failed_item(dir.path(), &server);
    let id = app
        .call(OpenCase {
            record,
            item,
            facts: None,
        })
        .unwrap()
        .case
        .id;
    let import = |path: &std::path::Path, camera: Option<&str>| ImportCaseMedia {
        case: id.clone(),
        path: path.display().to_string(),
        camera: camera.map(str::to_owned),
        note: "现场执法记录".into(),
    };

    // Not a recording: refused, in Chinese, with nothing named.
    let text = dir.path().join("说明.txt");
    std::fs::write(&text, "不是录像").unwrap();
    let err = app.call(import(&text, None)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Photo, "{err:?}");
    assert_eq!(err.field.as_deref(), Some("media"));
    assert!(
        app.call(GetCase { case: id.clone() })
            .unwrap()
            .case
            .media
            .is_empty()
    );

    // A body camera's recording: an MP4's first box, then its data.
    let mut video = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    video.extend((0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    // The tablet lists it where recordings are brought in (here its recordings folder),
    // beside nothing else: the text file elsewhere is not listed.
    let card = dir.path().join("wang/recordings/DCIM/100MEDIA");
    std::fs::create_dir_all(&card).unwrap();
    let path = card.join("DCIM-0001.MP4");
    std::fs::write(&path, &video).unwrap();
    let listed = app.call(tablet_api::ListRecordings {}).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].name, "DCIM-0001.MP4");
    assert_eq!(
        (listed[0].size, listed[0].audio),
        (video.len() as u64, false)
    );
    let path = std::path::PathBuf::from(&listed[0].path);
    let view = app.call(import(&path, Some("ZFJLY-0042"))).unwrap();
    assert!(view.unsynced);
    let media = view.case.media.values().next().unwrap().clone();
    assert_eq!(
        media.sha256.as_str(),
        app_core::evidence::hex(&Sha256::digest(&video))
    );
    assert_eq!(
        (media.size, media.mime.as_str()),
        (video.len() as u64, "video/mp4")
    );
    assert!(matches!(
        &media.source,
        app_core::penalty::MediaSource::BodyCamera { camera, .. } if camera == "ZFJLY-0042"
    ));
    // The original on the card is unchanged.
    assert_eq!(std::fs::read(&path).unwrap(), video);

    // One sync: the recording is uploaded, then the record and the case are accepted.
    let outcome = app.call(SyncNow {}).unwrap();
    assert!(outcome.report.rejected.is_empty(), "{outcome:?}");
    assert_eq!(outcome.uploads.uploaded, 1, "{outcome:?}");
    assert!(!app.call(GetCase { case: id.clone() }).unwrap().unsynced);

    // Zhao, the supervisor, plays it from the case's page.
    let mut zhao = common::console::ConsoleClient::new(&server);
    assert_eq!(zhao.sign_in("u-zhao", PASSWORD).status, 303);
    let played = zhao.get(&format!("/console/cases/{id}/media/{}", media.sha256));
    assert_eq!(played.status, 200);
    assert_eq!(played.content_type, "video/mp4");
    assert_eq!(played.bytes, video);
}
