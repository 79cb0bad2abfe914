//! The full matrix of users (roles × units) × resources (records, sealed and open plans,
//! enterprises) × actions (read, write by sync), against the real server process. Every
//! forbidden read answers 404 exactly like a missing resource, every forbidden write is
//! refused and changes nothing, and every cell agrees with app-core's rules.

mod common;

use app_core::access::{
    RecordScope, can_read_enterprise, can_read_plan, can_read_record, can_write_record,
};
use app_core::document::InspectionDoc;
use app_core::enterprise::Enterprise;
use app_core::ids::InspectionId;
use app_core::inspection::{Command, Context, Inspection};
use app_core::kind::InspectionKind;
use app_core::plan::Plan;
use app_core::unit::{Unit, UnitTree};
use app_core::user::User;
use app_core::wire::{DocChanges, PROTOCOL_VERSION, SyncRequest, SyncResponse};
use common::{Tablet, TestServer, fixtures, rid};

fn load<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(name)).unwrap()).unwrap()
}

fn create(t: &Tablet, id: &str, enterprise: &str, colleague: &User, plan: Option<&str>) {
    // From the fixtures, not the tablet's reference data: some records are made for
    // enterprises the tablet's user may not see, to be refused by the server.
    let e = load::<Vec<Enterprise>>("demo/enterprises.json")
        .into_iter()
        .find(|x| x.id.as_str() == enterprise)
        .unwrap();
    t.new_draft(id, &e, InspectionKind::Unannounced, plan, colleague);
}

struct Http {
    base: String,
    http: reqwest::blocking::Client,
}

impl Http {
    fn get(&self, token: &str, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    }

    fn push(&self, token: &str, id: &str, bytes: Vec<u8>) -> SyncResponse {
        let request = SyncRequest {
            version: PROTOCOL_VERSION,
            cursor: u64::MAX / 2,
            epoch: None,
            case_cursor: None,
            push: vec![DocChanges {
                id: id.into(),
                bytes,
                receipt: None,
            }],
        };
        let mut body = Vec::new();
        ciborium::into_writer(&request, &mut body).unwrap();
        let r = self
            .http
            .post(format!("{}/api/v1/sync", self.base))
            .bearer_auth(token)
            .header("content-type", "application/cbor")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        ciborium::from_reader(&r.bytes().unwrap()[..]).unwrap()
    }
}

#[test]
fn every_cell_of_the_access_matrix_follows_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let http = Http {
        base: server.url(),
        http: reqwest::blocking::Client::new(),
    };
    let wang = Tablet::new(&server, "u-wang");
    let chen = Tablet::new(&server, "u-chen");
    let users: Vec<User> = load("demo/users.json");
    let user = |id: &str| users.iter().find(|u| u.id.as_str() == id).unwrap().clone();
    // Records: one of 玄武区 made under the sealed plan, one of 秦淮区.
    let (xw, qh) = (rid("rec-xw"), rid("rec-qh"));
    create(&wang, &xw, "e-001", &user("u-li"), Some("plan-sbl-001"));
    create(&chen, &qh, "e-005", &user("u-liu"), Some("plan-sbl-003"));
    assert_eq!(wang.sync().accepted, 1);
    assert_eq!(chen.sync().accepted, 1);
    // A record made sideways (an inspector of 秦淮区 creating one in 玄武区) is refused.
    create(&chen, &rid("rec-sideways"), "e-001", &user("u-liu"), None);
    let report = chen.sync();
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].code, "forbidden");

    let units = UnitTree::new(load::<Vec<Unit>>("demo/units.json")).unwrap();
    let plans: Vec<Plan> = load("demo/plans.json");
    let enterprises: Vec<Enterprise> = load("demo/enterprises.json");
    let records = [
        (&xw, wang.record(&xw), &wang),
        (&qh, chen.record(&qh), &chen),
    ];
    let scope = |r: &Inspection| {
        let plan = r
            .plan
            .as_ref()
            .and_then(|p| plans.iter().find(|x| &x.id == p));
        RecordScope::of(r, plan)
    };
    let (missing_status, missing_body) = http.get(
        &wang.client.session().unwrap().token,
        "/api/v1/records/no-such-record",
    );
    assert_eq!(missing_status, 404);

    let everyone = [
        "u-wang", "u-li", "u-zhang", "u-chen", "u-liu", "u-zhao", "u-sun", "u-zhou", "u-admin",
    ];
    let mut cells = 0;
    for id in everyone {
        let u = user(id);
        let t = Tablet::new(&server, id);
        let token = t.client.session().unwrap().token.clone();
        for (rec, record, owner) in &records {
            // Read.
            let allowed = can_read_record(&u, &scope(record), &units);
            let (status, body) = http.get(&token, &format!("/api/v1/records/{rec}"));
            if allowed {
                assert_eq!(status, 200, "{id} reads {rec}");
            } else {
                assert_eq!(
                    (status, &body),
                    (404, &missing_body),
                    "{id} must not learn {rec} exists"
                );
            }
            // Write: a change made by this user on their own tablet (to the record as its
            // owner's tablet holds it), pushed with this user's token.
            let before = owner.record(rec);
            let device = t.store.lock().unwrap().device().clone();
            let mut doc = InspectionDoc::load(
                &owner
                    .store
                    .lock()
                    .unwrap()
                    .document(&InspectionId::from(rec.as_str()))
                    .unwrap()
                    .save(),
                &device,
            )
            .unwrap();
            let heads = doc.heads();
            let template = owner.template();
            // The tablet's own rules refuse a supervisor's or an admin's edit: a tampered
            // tablet writes it anyway, as if its user were an inspector.
            let mut author = t.user.clone();
            if !author.is_inspector() {
                author.role = user("u-wang").role;
            }
            let cx = Context {
                actor: &author,
                now: t.at(50),
                template: &template,
            };
            doc.apply(
                &Command::SetSummary {
                    text: format!("{id} was here"),
                },
                &cx,
                &device,
            )
            .unwrap();
            let bytes = doc.automerge_mut().save_after(&heads);
            let response = http.push(&token, rec, bytes);
            let may_write = can_write_record(&u, &scope(record), &units);
            if may_write {
                assert_eq!(response.accepted, vec![0], "{id} writes {rec}");
            } else {
                assert!(response.accepted.is_empty(), "{id} must not write {rec}");
                assert_eq!(response.rejected[0].code, "forbidden");
                owner.sync();
                assert_eq!(
                    owner.record(rec).summary,
                    before.summary,
                    "a refused write changed nothing"
                );
            }
            owner.sync();
            cells += 2;
        }
        for p in &plans {
            let allowed = can_read_plan(&u, p, &units);
            let (status, _) = http.get(&token, &format!("/api/v1/plans/{}", p.id));
            assert_eq!(
                status,
                if allowed { 200 } else { 404 },
                "{id} reads plan {}",
                p.id
            );
            cells += 1;
        }
        let visible: Vec<Plan> = plans
            .iter()
            .filter(|p| can_read_plan(&u, p, &units))
            .cloned()
            .collect();
        for e in &enterprises {
            let allowed = can_read_enterprise(&u, e, &units, &visible);
            let (status, _) = http.get(&token, &format!("/api/v1/enterprises/{}", e.id));
            assert_eq!(
                status,
                if allowed { 200 } else { 404 },
                "{id} reads enterprise {}",
                e.id
            );
            cells += 1;
        }
        // The reference bundle a tablet receives holds exactly the plans the user may see.
        let bundle: serde_json::Value =
            serde_json::from_str(&http.get(&token, "/api/v1/reference").1).unwrap();
        let got: Vec<&str> = bundle["plans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        let want: Vec<&str> = visible.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(got, want, "{id}'s plans");
    }
    // Spot checks that pin the rules themselves, whatever app-core says.
    let t = Tablet::new(&server, "u-zhang");
    let token = t.client.session().unwrap().token.clone();
    assert_eq!(
        http.get(&token, "/api/v1/plans/plan-sbl-001").0,
        404,
        "sealed plan hidden from a colleague"
    );
    assert_eq!(http.get(&token, "/api/v1/plans/plan-rc-002").0, 200);
    let sun = Tablet::new(&server, "u-sun");
    let token = sun.client.session().unwrap().token.clone();
    assert_eq!(
        http.get(&token, &format!("/api/v1/records/{xw}")).0,
        404,
        "no sideways reading"
    );
    let zhou = Tablet::new(&server, "u-zhou");
    let token = zhou.client.session().unwrap().token.clone();
    assert_eq!(
        http.get(&token, &format!("/api/v1/records/{qh}")).0,
        200,
        "the city sees its counties"
    );
    println!("{cells} cells checked");
}

#[test]
fn tokens_are_required_and_revocable() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let http = reqwest::blocking::Client::new();
    let url = |p: &str| format!("{}{p}", server.url());
    assert_eq!(
        http.get(url("/api/v1/reference"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        http.get(url("/api/v1/reference"))
            .bearer_auth("0".repeat(64))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    let bad = http
        .post(url("/api/v1/login"))
        .json(&serde_json::json!({"user": "u-wang", "password": "wrong"}))
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    let t = Tablet::new(&server, "u-wang");
    let token = t.client.session().unwrap().token.clone();
    assert_eq!(
        http.get(url("/api/v1/reference"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        http.post(url("/api/v1/logout"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        http.get(url("/api/v1/reference"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        401,
        "a revoked token is refused"
    );
}
