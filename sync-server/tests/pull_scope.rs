//! Sync as deployed (issue 18): an inspector's tablet is sent the records the inspector has a
//! part in (created, named on, re-inspected, returned to them) and those of plans assigned to
//! them, not every record of the unit; anything else the inspector may read is fetched on
//! demand (`POST /api/v1/fetch`) and from then on syncs like the tablet's own. A supervisor's
//! tablet follows the same rule: it is not sent every record of the subtree (supervisors
//! review in the console, which reads the server), and fetches a record of the subtree on
//! demand. Real server process (SQLite, then PostgreSQL), real tablets, loopback only.

mod common;

use app_core::ids::InspectionId;
use app_core::inspection::Command;
use app_core::kind::InspectionKind;
use app_core::wire::FetchQuery;
use common::{Tablet, TestServer, rid};
use tablet::sync::SyncError;

fn ids(report_pull: &[InspectionId]) -> Vec<String> {
    let mut v: Vec<String> = report_pull.iter().map(|i| i.to_string()).collect();
    v.sort();
    v
}

/// Whether the tablet holds record `id`.
fn holds(t: &Tablet, id: &str) -> bool {
    t.store
        .lock()
        .unwrap()
        .inspection(&InspectionId::from(id))
        .is_ok()
}

fn pull_scope_story(env: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_env(dir.path(), &[], None, env);
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let zhang = Tablet::new(&server, "u-zhang");
    let chen = Tablet::new(&server, "u-chen"); // an inspector of another unit (qh)
    let zhao = Tablet::new(&server, "u-zhao"); // the supervisor of xw

    // Li's record with Zhang: Wang has no part in it.
    let unrelated = rid("li-zhang");
    li.new_record(&unrelated, &zhang.user);
    // Li's record with Wang on it.
    let named = rid("li-wang");
    li.new_record(&named, &wang.user);
    // Zhang's record under plan-rc-002 (assigned to Zhang and Wang), with Li.
    let planned = rid("zhang-plan");
    let e002 = zhang.enterprise("e-002");
    zhang.new_draft(
        &planned,
        &e002,
        InspectionKind::Routine,
        Some("plan-rc-002"),
        &li.user,
    );
    for t in [&li, &zhang] {
        let r = t.sync();
        assert!(r.rejected.is_empty(), "{r:?}");
    }

    // Wang's tablet: the record naming him and his plan's, not Li's record with Zhang.
    let report = wang.sync();
    assert_eq!(report.pulled, 2, "{report:?}");
    assert!(holds(&wang, &named) && holds(&wang, &planned));
    assert!(
        !holds(&wang, &unrelated),
        "a colleague's unrelated record is not pushed"
    );
    // The supervisor's tablet is sent none of the unit's records at sync: he has no part in
    // them (he reviews them in the console).
    let report = zhao.sync();
    assert_eq!(report.pulled, 0, "{report:?}");
    for id in [&unrelated, &named, &planned] {
        assert!(!holds(&zhao, id), "{id} is not pushed to the supervisor");
    }
    // Fetched by id: stored, then followed (nothing new to pull right after).
    let fetch_unrelated = |t: &Tablet| {
        let got = t
            .client
            .fetch(&t.store, FetchQuery::Record(unrelated.clone()), t.at(0))
            .unwrap();
        assert_eq!(ids(&got), vec![unrelated.clone()]);
        assert!(holds(t, &unrelated));
        assert_eq!(t.sync().pulled, 0, "nothing new since");
    };
    // He fetches a record of his subtree.
    fetch_unrelated(&zhao);

    // Fetched on demand: stored, then its later changes arrive with the syncs.
    fetch_unrelated(&wang);
    li.apply(
        &unrelated,
        Command::SetPlaces {
            text: "一号车间、危化品仓库".into(),
        },
        3,
    );
    assert!(li.sync().rejected.is_empty());
    let report = wang.sync();
    assert_eq!(report.pulled, 1, "{report:?}");
    assert_eq!(wang.record(&unrelated).places, "一号车间、危化品仓库");
    // The supervisor's tablet receives it too, having fetched the record.
    let report = zhao.sync();
    assert_eq!(report.pulled, 1, "{report:?}");
    assert_eq!(zhao.record(&unrelated).places, "一号车间、危化品仓库");
    // Wang may write it too (his unit's record): his edit reaches Li.
    wang.apply(
        &unrelated,
        Command::SetSummary {
            text: "王：已查看。".into(),
        },
        4,
    );
    let r = wang.sync();
    assert!(r.rejected.is_empty() && r.accepted == 1, "{r:?}");
    li.sync();
    assert_eq!(li.record(&unrelated).summary, "王：已查看。");
    assert_eq!(zhao.sync().pulled, 1);
    assert_eq!(zhao.record(&unrelated).summary, "王：已查看。");

    // An enterprise's records Wang may read (e-001: Li's two records).
    let got = wang
        .client
        .fetch(
            &wang.store,
            FetchQuery::Enterprise("e-001".into()),
            wang.at(0),
        )
        .unwrap();
    assert_eq!(ids(&got), {
        let mut v = vec![unrelated.clone(), named.clone()];
        v.sort();
        v
    });

    // Another unit's inspector is refused, whether the record exists or not (one answer).
    for id in [unrelated.clone(), "insp-no-such-record".to_owned()] {
        match chen
            .client
            .fetch(&chen.store, FetchQuery::Record(id.clone()), chen.at(0))
        {
            Err(SyncError::Server {
                status: 403,
                code,
                message,
            }) => {
                assert_eq!(code, "forbidden");
                assert!(message.contains("may not read this record"), "{message}");
            }
            other => panic!("{id}: {other:?}"),
        }
        assert!(!holds(&chen, &id));
    }
    // Nor does he receive it afterwards; his enterprise search of e-001 finds nothing.
    assert_eq!(chen.sync().pulled, 0);
    let got = chen
        .client
        .fetch(
            &chen.store,
            FetchQuery::Enterprise("e-001".into()),
            chen.at(0),
        )
        .unwrap();
    assert!(got.is_empty());
    li.apply(
        &unrelated,
        Command::SetPlaces {
            text: "二号车间".into(),
        },
        5,
    );
    li.sync();
    assert_eq!(chen.sync().pulled, 0);
    assert_eq!(wang.sync().pulled, 1);

    // Named on a record after his tablet's cursor passed its first changes: his tablet gets
    // the record whole, not only the change that named him.
    let later = rid("zhang-li-later");
    zhang.new_record(&later, &li.user);
    zhang.apply(
        &later,
        Command::SetPlaces {
            text: "三号车间".into(),
        },
        6,
    );
    assert!(zhang.sync().rejected.is_empty());
    assert_eq!(wang.sync().pulled, 0, "not his record yet");
    zhang.apply(
        &later,
        Command::AddInspector(app_core::inspection::InspectorRef {
            user: wang.user.id.clone(),
            name: wang.user.name.clone(),
            certificate: wang.user.certificate().unwrap().clone(),
        }),
        7,
    );
    assert!(zhang.sync().rejected.is_empty());
    let report = wang.sync();
    assert_eq!(report.pulled, 1, "{report:?}");
    assert_eq!(wang.record(&later).places, "三号车间");
    assert!(wang.record(&later).inspectors.contains_key(&wang.user.id));
    // The supervisor's tablet has received only the later change of the record it fetched
    // ("二号车间"), none of the records it did not fetch, the new one included.
    let report = zhao.sync();
    assert_eq!(report.pulled, 1, "{report:?}");
    assert_eq!(zhao.record(&unrelated).places, "二号车间");
    for id in [&named, &planned, &later] {
        assert!(!holds(&zhao, id), "{id} is not pushed to the supervisor");
    }
}

#[test]
fn an_inspector_pulls_his_records_and_fetches_the_rest() {
    pull_scope_story(&[]);
}

#[test]
fn an_inspector_pulls_his_records_and_fetches_the_rest_on_postgres() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    pull_scope_story(&[("SYNC_SERVER_DATABASE".into(), db.url())]);
}

/// The app service path the screens use: `FetchRecord` keeps the record and answers its view;
/// `FetchEnterpriseRecords` then `GetEnterpriseRecords` (the start screen's 以往检查) list an
/// enterprise's records; another unit's inspector gets `refused` in Chinese (first) and
/// English.
#[test]
fn the_app_fetches_a_record_on_demand_and_refuses_another_units() {
    use std::time::Duration;
    use tablet::app::{App, AppConfig};
    use tablet_api::{ErrorCode, FetchEnterpriseRecords, FetchRecord, GetEnterpriseRecords};
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let li = Tablet::new(&server, "u-li");
    let zhang = Tablet::new(&server, "u-zhang");
    let id = rid("li-zhang-app");
    li.new_record(&id, &zhang.user);
    assert!(li.sync().rejected.is_empty());
    let app = |user: &str, folder: &str| {
        let config = AppConfig::in_folder(
            &dir.path().join(folder),
            server.url(),
            Duration::from_secs(3600),
            Duration::from_secs(3600),
        );
        let app = App::open(config).unwrap();
        app.sign_in(user, common::PASSWORD).unwrap();
        app
    };
    let wang = app("u-wang", "app-wang");
    let view = wang
        .call(FetchRecord {
            id: InspectionId::from(id.as_str()),
        })
        .unwrap();
    assert_eq!(view.record.id.as_str(), id);
    assert_eq!(
        wang.call(tablet_api::GetRecord {
            id: InspectionId::from(id.as_str())
        })
        .unwrap()
        .record
        .id
        .as_str(),
        id,
        "kept on the tablet"
    );
    let found = wang
        .call(FetchEnterpriseRecords {
            enterprise: "e-001".into(),
        })
        .unwrap();
    assert_eq!(found, vec![InspectionId::from(id.as_str())]);
    // The start screen's 以往检查 as the unit's supervisor sees it: nothing held at first (a
    // supervisor's tablet is sent only what the supervisor has a part in), then the
    // enterprise's records fetched on request, listed from the tablet.
    let zhao = app("u-zhao", "app-zhao");
    let past = |app: &App| {
        app.call(GetEnterpriseRecords {
            enterprise: "e-001".into(),
        })
        .unwrap()
    };
    assert!(past(&zhao).is_empty(), "{:?}", past(&zhao));
    let fetched = zhao
        .call(FetchEnterpriseRecords {
            enterprise: "e-001".into(),
        })
        .unwrap();
    assert_eq!(fetched, vec![InspectionId::from(id.as_str())]);
    let rows = past(&zhao);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].id.as_str(), id);
    assert_eq!(rows[0].enterprise_name, view.record.enterprise.name);
    assert!(
        past(&wang).iter().any(|r| r.id.as_str() == id),
        "what Wang fetched is listed too"
    );
    let chen = app("u-chen", "app-chen");
    let e = chen
        .call(FetchRecord {
            id: InspectionId::from(id.as_str()),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Refused, "{e:?}");
    assert!(e.zh.starts_with("无权查看此记录"), "{}", e.zh);
    assert!(e.en.starts_with("You may not read this record"), "{}", e.en);
}
