//! Bad input gets a clear error and stores nothing; the server logs, reports health and
//! shuts down gracefully.

mod common;

use app_core::document::{ChangeNote, InspectionDoc};
use app_core::ids::InspectionId;
use app_core::inspection::{Command, InspectionStatus};
use app_core::wire::{DocChanges, PROTOCOL_VERSION, SyncRequest, SyncResponse};
use automerge::ReadDoc;
use automerge::transaction::{CommitOptions, Transactable};
use common::{Tablet, TestServer, rid};

struct Client {
    base: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl Client {
    fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.bytes().unwrap().to_vec())
    }

    fn push(&self, docs: Vec<DocChanges>) -> SyncResponse {
        let mut body = Vec::new();
        ciborium::into_writer(
            &SyncRequest {
                version: PROTOCOL_VERSION,
                cursor: 0,
                epoch: None,
                case_cursor: None,
                push: docs,
            },
            &mut body,
        )
        .unwrap();
        let (status, bytes) = self.post("/api/v1/sync", "application/cbor", body);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        ciborium::from_reader(&bytes[..]).unwrap()
    }
}

fn error_code(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    v["error"]["code"].as_str().unwrap_or("").to_owned()
}

#[test]
fn malformed_forbidden_oversize_and_mistyped_requests_are_refused_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let rec = rid("rec-1");
    let rec = rec.as_str();
    wang.new_record(rec, &li.user);
    assert_eq!(wang.sync().accepted, 1);
    let c = Client {
        base: server.url(),
        token: wang.client.session().unwrap().token.clone(),
        http: reqwest::blocking::Client::new(),
    };
    // The supervisor's tablet watches the record: fetched on demand (after its first sync, so
    // that its cursor is past the record's changes), then followed, so every change the server
    // stores would come with a sync.
    let observer = Tablet::new(&server, "u-zhao");
    observer.sync();
    let baseline = observer.observe(rec);
    let nothing_new = |what: &str| {
        let report = observer.sync();
        assert_eq!(report.pulled, 0, "{what}: something was stored");
        assert_eq!(observer.record(rec), baseline, "{what}");
    };

    // Not CBOR, or CBOR of the wrong shape, or an unknown field.
    let (status, body) = c.post(
        "/api/v1/sync",
        "application/cbor",
        b"\xff\x00 not cbor".to_vec(),
    );
    assert_eq!((status, error_code(&body).as_str()), (400, "malformed"));
    let mut unknown = Vec::new();
    ciborium::into_writer(
        &serde_json::json!({"v": app_core::wire::PROTOCOL_VERSION, "c": 0, "p": [], "extra": true}),
        &mut unknown,
    )
    .unwrap();
    let (status, body) = c.post("/api/v1/sync", "application/cbor", unknown);
    assert_eq!(status, 400);
    assert!(
        String::from_utf8_lossy(&body).contains("extra"),
        "names the unknown field"
    );
    // Wrong content type.
    let (status, body) = c.post("/api/v1/sync", "application/json", b"{}".to_vec());
    assert_eq!(
        (status, error_code(&body).as_str()),
        (415, "unsupported_media_type")
    );
    // Oversize body.
    let (status, _) = c.post(
        "/api/v1/sync",
        "application/cbor",
        vec![0u8; sync_server::MAX_BODY_BYTES + 1],
    );
    assert_eq!(status, 413);
    // Unknown field in a JSON body.
    let (status, body) = c.post(
        "/api/v1/login",
        "application/json",
        br#"{"user":"u-wang","password":"x","admin":true}"#.to_vec(),
    );
    assert_eq!(status, 422);
    assert!(error_code(&body) == "bad_body" && String::from_utf8_lossy(&body).contains("admin"));
    nothing_new("framing errors");

    // Malformed Automerge bytes, and a valid Automerge document that is not a record.
    let r = c.push(vec![DocChanges {
        id: rec.into(),
        bytes: b"garbage".to_vec(),
        receipt: None,
    }]);
    assert_eq!(r.rejected[0].code, "malformed");
    let mut other = automerge::AutoCommit::new();
    other.put(automerge::ROOT, "hello", "world").unwrap();
    let r = c.push(vec![DocChanges {
        id: rid("new-doc"),
        bytes: other.save(),
        receipt: None,
    }]);
    assert_eq!(r.rejected[0].code, "malformed");
    nothing_new("bad automerge");

    // Valid changes that break the rules, made on wang's own tablet and pushed with wang's
    // token: moving a record to another unit, and an inspector approving a record by
    // writing the status and review directly. The server replays each change's command as
    // wang and requires exactly the change that command writes.
    let saved = wang
        .store
        .lock()
        .unwrap()
        .document(&InspectionId::from(rec))
        .unwrap()
        .save();
    let device = wang.store.lock().unwrap().device().clone();
    // `claim`: the command the change's note names (None: no note at all).
    let forge = |claim: Option<Command>, edit: &dyn Fn(&mut automerge::AutoCommit)| {
        let mut doc = InspectionDoc::load(&saved, &device).unwrap();
        let heads = doc.heads();
        let at = wang.at(20);
        edit(doc.automerge_mut());
        let mut options = CommitOptions::default().with_time(at.0.div_euclid(1000));
        if let Some(command) = claim {
            let note = ChangeNote {
                by: wang.user.id.clone(),
                device: device.clone(),
                command: command.name().into(),
                at: Some(at),
                op: Some(command),
                seal: None,
            };
            options = options.with_message(serde_json::to_string(&note).unwrap());
        }
        doc.automerge_mut().commit_with(options);
        doc.automerge_mut().save_after(&heads)
    };
    let move_unit = |d: &mut automerge::AutoCommit| {
        d.put(automerge::ROOT, "unit", "qh").unwrap();
    };
    let r = c.push(vec![DocChanges {
        id: rec.into(),
        bytes: forge(None, &move_unit),
        receipt: None,
    }]);
    assert_eq!(r.rejected[0].code, "bad_note", "{r:?}");
    let r = c.push(vec![DocChanges {
        id: rec.into(),
        bytes: forge(
            Some(Command::SetSummary {
                text: "已核实".into(),
            }),
            &move_unit,
        ),
        receipt: None,
    }]);
    assert_eq!(r.rejected[0].code, "not_reproducible", "{r:?}");
    let approved = forge(
        Some(Command::Transition {
            to: InspectionStatus::Approved,
            comment: String::new(),
        }),
        &|d| {
            d.put(automerge::ROOT, "status", "approved").unwrap();
            d.put(
                automerge::ROOT,
                "review",
                r#"{"by":"u-wang","at":0,"decision":"approved","comment":""}"#,
            )
            .unwrap();
        },
    );
    let r = c.push(vec![DocChanges {
        id: rec.into(),
        bytes: approved,
        receipt: None,
    }]);
    assert_eq!(r.rejected[0].code, "forbidden", "{r:?}");
    nothing_new("changes that break the rules");
    // An honest edit, as wang's tablet writes it.
    let good = {
        let mut doc = InspectionDoc::load(&saved, &device).unwrap();
        assert!(
            doc.automerge_mut()
                .get(automerge::ROOT, "summary")
                .unwrap()
                .is_some()
        );
        let heads = doc.heads();
        let template = wang.template();
        doc.apply(
            &Command::SetSummary {
                text: "补充".into(),
            },
            &wang.cx(&template, 20),
            &device,
        )
        .unwrap();
        doc.automerge_mut().save_after(&heads)
    };
    // One bad document in a batch does not stop the good ones.
    let r = c.push(vec![
        DocChanges {
            id: rec.into(),
            bytes: b"garbage".to_vec(),
            receipt: None,
        },
        DocChanges {
            id: rec.into(),
            bytes: good.clone(),
            receipt: None,
        },
    ]);
    assert_eq!(
        r.accepted,
        vec![1],
        "the second push (the good one) is accepted"
    );
    assert_eq!(r.rejected.len(), 1);
    // Replaying the same batch changes nothing more.
    let r = c.push(vec![DocChanges {
        id: rec.into(),
        bytes: good,
        receipt: None,
    }]);
    assert_eq!(r.accepted, vec![0]);
    let report = observer.sync();
    assert_eq!(report.pulled, 1);
    assert_eq!(observer.record(rec).summary, "补充");
    assert_eq!(observer.sync().pulled, 0, "the replay stored nothing");
}

#[test]
fn health_answers_and_sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let health: serde_json::Value = reqwest::blocking::get(format!("{}/health", server.url()))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
}
