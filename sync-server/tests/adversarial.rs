//! An adversarial client against the real server (loopback): it signs in and registers devices
//! through the HTTP API like a tablet, then writes raw Automerge changes (hostile ones) and
//! pushes them through `POST /api/v1/sync`. For every hostile push the suite checks that
//! - the push is refused, with a code and a message;
//! - nothing was stored: another device (the city supervisor's) pulls nothing new, and
//!   `GET /api/v1/records/{id}` reads the same as before;
//! - no console figure moved (`/console/figures`, as the city supervisor);
//! - an honest tablet's sync right after is unaffected (it pushes an edit and pulls).
//!
//! All cases share one server and run in sequence; a case that goes wrong is collected, and
//! the whole table is printed before the test fails, so one accepted push does not hide the
//! others.

mod common;

use app_core::checklist::ChecklistTemplate;
use app_core::docnumber::{DocumentKind, IssuedDocument};
use app_core::document::{ChangeNote, InspectionDoc, actor_for};
use app_core::enterprise::Enterprise;
use app_core::evidence::{PhotoRef, Sha256Hex, hex};
use app_core::geo::{Day, Position, PositionSource, Timestamp};
use app_core::hazard::{Hazard, HazardAction, HazardLevel, HazardStage, Reinspection};
use app_core::ids::{DeviceId, HazardId, InspectionId, ItemCode, PlanId};
use app_core::inspection::{
    Answer, ArrivalProof, Attestations, Command, Context, Inspection, InspectionStatus,
    InspectorRef, ItemResult, OnsitePerson, Review, ReviewDecision, SignOutcome, Signature, Signer,
};
use app_core::kind::InspectionKind;
use app_core::legal::LegalBasis;
use app_core::signing::{SignedVersion, content_hash};
use app_core::user::User;
use app_core::wire::{
    DocChanges, FETCH_PATH, FetchQuery, FetchRequest, PROTOCOL_VERSION, Receipt, SyncRequest,
    SyncResponse,
};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use common::console::ConsoleClient;
use common::{PASSWORD, TestServer};
use ed25519_dalek::{Signer as _, SigningKey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Instant;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A record id as a tablet mints it: `insp-` and a random (version 4) UUID.
fn new_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).unwrap();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "insp-{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn note(by: &User, device: &DeviceId, command: &str, at: i64, op: Option<&Command>) -> String {
    serde_json::to_string(&ChangeNote {
        by: by.id.clone(),
        device: device.clone(),
        command: command.into(),
        at: Some(Timestamp(at)),
        op: op.cloned(),
        seal: None,
    })
    .unwrap()
}

/// The server's copy of a record and what this client has of it.
struct Rec {
    doc: InspectionDoc,
    /// The heads the server holds (everything before was pushed or pulled).
    synced: Vec<ChangeHash>,
}

/// A device of one user: signed in and registered through the HTTP API, holding records as
/// Automerge documents, syncing with CBOR.
struct Client {
    http: reqwest::blocking::Client,
    base: String,
    token: String,
    user: User,
    device: DeviceId,
    cursor: u64,
    recs: BTreeMap<String, Rec>,
    template: ChecklistTemplate,
    /// The server's latest receipt for each document pulled.
    receipts: BTreeMap<String, Receipt>,
    /// A receipt to send with the next push.
    attach: Option<Receipt>,
}

/// Registers `device` for the user behind `token`; the HTTP status.
fn register(
    http: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    user: &str,
    device: &str,
) -> u16 {
    let seed: [u8; 32] = Sha256::digest(format!("adversarial key {device}")).into();
    let key = SigningKey::from_bytes(&seed);
    let signature = key.sign(format!("register-device:{device}:{user}").as_bytes());
    http.post(format!("{base}/api/v1/devices"))
        .bearer_auth(token)
        .json(&serde_json::json!({
            "device_id": device,
            "public_key": hex(key.verifying_key().as_bytes()),
            "signature": hex(&signature.to_bytes()),
        }))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn login(http: &reqwest::blocking::Client, base: &str, user: &str) -> (String, User) {
    let resp = http
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({ "user": user, "password": PASSWORD }))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "sign-in of {user}");
    let body: serde_json::Value = resp.json().unwrap();
    (
        body["token"].as_str().unwrap().to_owned(),
        serde_json::from_value(body["user"].clone()).unwrap(),
    )
}

impl Client {
    fn new(server: &TestServer, user: &str, device: &str) -> Self {
        let http = reqwest::blocking::Client::new();
        let base = server.url();
        let (token, user) = login(&http, &base, user);
        let status = register(&http, &base, &token, user.id.as_str(), device);
        assert_eq!(status, 200, "registering {device}");
        let templates: Vec<ChecklistTemplate> = http
            .get(format!("{base}/api/v1/reference/checklists"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let template = templates.into_iter().find(|t| t.id == "gongmao").unwrap();
        Self {
            http,
            base,
            token,
            user,
            device: DeviceId::from(device),
            cursor: 0,
            recs: BTreeMap::new(),
            template,
            receipts: BTreeMap::new(),
            attach: None,
        }
    }

    fn enterprise(&self, id: &str) -> Enterprise {
        self.http
            .get(format!("{}/api/v1/enterprises/{id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn user(&self, id: &str) -> User {
        let bundle: serde_json::Value = self
            .http
            .get(format!("{}/api/v1/reference", self.base))
            .bearer_auth(&self.token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let users: Vec<User> = serde_json::from_value(bundle["users"].clone()).unwrap();
        users.into_iter().find(|u| u.id.as_str() == id).unwrap()
    }

    /// One round trip: pushes `push`, applies the pull to the records held.
    fn sync(&mut self, push: Vec<DocChanges>) -> SyncResponse {
        let request = SyncRequest {
            version: PROTOCOL_VERSION,
            cursor: self.cursor,
            epoch: None,
            case_cursor: None,
            push,
        };
        let mut body = Vec::new();
        ciborium::into_writer(&request, &mut body).unwrap();
        let resp = self
            .http
            .post(format!("{}/api/v1/sync", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/cbor")
            .body(body)
            .send()
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().unwrap();
        assert_eq!(
            status,
            200,
            "sync answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
        let response: SyncResponse = ciborium::from_reader(&bytes[..]).unwrap();
        self.cursor = response.cursor;
        for d in &response.pull {
            if let Some(r) = &d.receipt {
                self.receipts.insert(d.id.clone(), r.clone());
            }
            if let Some(rec) = self.recs.get_mut(&d.id) {
                rec.doc.load_incremental(&d.bytes).unwrap();
                rec.synced = rec.doc.heads();
            }
        }
        response
    }

    fn push(&mut self, id: &str, bytes: Vec<u8>) -> SyncResponse {
        let receipt = self.attach.take();
        self.sync(vec![DocChanges {
            id: id.to_owned(),
            bytes,
            receipt,
        }])
    }

    /// Pulls until the server has nothing more; the number of documents received.
    fn pull_all(&mut self) -> usize {
        let mut n = 0;
        loop {
            let r = self.sync(Vec::new());
            n += r.pull.len();
            if !r.more {
                return n;
            }
        }
    }

    /// `POST /api/v1/fetch` of record `id` (`app_core::wire::FETCH_PATH`): the record is
    /// followed, so its later changes are pulled to this device. The status: 200, or 403 for
    /// a record the user may not read or that does not exist.
    fn follow(&self, id: &str) -> u16 {
        let request = FetchRequest {
            version: PROTOCOL_VERSION,
            query: FetchQuery::Record(id.to_owned()),
        };
        let mut body = Vec::new();
        ciborium::into_writer(&request, &mut body).unwrap();
        self.http
            .post(format!("{}{FETCH_PATH}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/cbor")
            .body(body)
            .send()
            .unwrap()
            .status()
            .as_u16()
    }

    /// `GET /api/v1/records/{id}`: status and body.
    fn get_record(&self, id: &str) -> (u16, String) {
        let resp = self
            .http
            .get(format!("{}/api/v1/records/{id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        (resp.status().as_u16(), resp.text().unwrap())
    }

    /// Uploads a photo original from this device.
    fn upload(&self, bytes: &[u8]) -> Sha256Hex {
        let sha = Sha256Hex::of(bytes);
        let status = self
            .http
            .put(format!(
                "{}/api/v1/blobs/{sha}?offset=0&total={}",
                self.base,
                bytes.len()
            ))
            .bearer_auth(&self.token)
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .unwrap()
            .status()
            .as_u16();
        assert!(matches!(status, 200 | 201), "upload answered {status}");
        sha
    }

    fn record(&self, id: &str) -> &Inspection {
        self.recs[id].doc.record()
    }

    /// A new draft, as a tablet creates it (not pushed yet).
    fn create(&mut self, kind: InspectionKind, e: &Enterprise, plan: Option<&str>) -> String {
        let id = new_id();
        let now = Timestamp(now_ms());
        let mut record = Inspection::new_draft(
            InspectionId::from(id.as_str()),
            kind,
            e.unit.clone(),
            e.into(),
            self.template.reference(),
            self.user.id.clone(),
            now,
        );
        record.plan = plan.map(PlanId::from);
        let doc = InspectionDoc::create(&record, &self.template, &self.device, now).unwrap();
        self.recs.insert(
            id.clone(),
            Rec {
                doc,
                synced: Vec::new(),
            },
        );
        id
    }

    /// An honest edit (through the rules), not pushed yet.
    fn run(&mut self, id: &str, command: Command) {
        let cx = Context {
            actor: &self.user,
            now: Timestamp(now_ms()),
            template: &self.template,
        };
        let rec = self.recs.get_mut(id).unwrap();
        rec.doc
            .apply(&command, &cx, &self.device)
            .unwrap_or_else(|e| panic!("{} {}: {e}", self.user.id, command.name()));
    }

    fn sign_version(&mut self, id: &str, version: &str) {
        let cx = Context {
            actor: &self.user,
            now: Timestamp(now_ms()),
            template: &self.template,
        };
        let rec = self.recs.get_mut(id).unwrap();
        rec.doc.sign(version, &cx, &self.device).unwrap();
    }

    /// Pushes what the server lacks of `id`; it must be accepted.
    fn push_rec(&mut self, id: &str) {
        let rec = self.recs.get_mut(id).unwrap();
        let bytes = rec.doc.automerge_mut().save_after(&rec.synced);
        let r = self.push(id, bytes);
        assert_eq!(r.accepted, vec![0], "honest push refused: {:?}", r.rejected);
        let rec = self.recs.get_mut(id).unwrap();
        rec.synced = rec.doc.heads();
    }

    /// A raw change on top of the synced record, under `actor`, with `message` (the note)
    /// and `time` (seconds): the bytes to push. The client's own copy is untouched.
    fn raw(
        &mut self,
        id: &str,
        actor: &DeviceId,
        message: Option<String>,
        time: i64,
        edit: impl FnOnce(&mut AutoCommit),
    ) -> Vec<u8> {
        let rec = self.recs.get_mut(id).unwrap();
        let mut am = rec.doc.automerge_mut().fork();
        am.set_actor(actor_for(actor));
        edit(&mut am);
        let mut options = CommitOptions::default().with_time(time);
        if let Some(m) = message {
            options = options.with_message(m);
        }
        am.commit_with(options);
        am.save_after(&rec.synced)
    }

    /// The change an honest tablet writes for `command` if the rules let it through: the
    /// command's note (this user and device, now), and the ops bringing the record to the
    /// state `effect` makes of it, written as the tablet writes them ([`forge`]).
    fn forged(
        &mut self,
        id: &str,
        command: &Command,
        effect: impl FnOnce(&mut Inspection, Timestamp),
    ) -> Vec<u8> {
        let at = now_ms();
        let before = self.record(id).clone();
        let mut after = before.clone();
        effect(&mut after, Timestamp(at));
        after.results.retain(|_, r| !r.is_empty());
        let message = note(&self.user, &self.device, command.name(), at, Some(command));
        let device = self.device.clone();
        self.raw(id, &device, Some(message), at.div_euclid(1000), |am| {
            forge(am, &before, &after)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Writing a record's changes by hand, field by field, in the order and encoding the tablet
// uses (`app_core::document::write_record`). `forge_is_what_the_tablet_writes` checks that for
// legal commands this writes byte for byte the change `InspectionDoc::apply` writes.

fn json<T: Serialize>(v: &T) -> Option<ScalarValue> {
    Some(ScalarValue::Str(serde_json::to_string(v).unwrap().into()))
}

fn opt_json<T: Serialize>(v: &Option<T>) -> Option<ScalarValue> {
    v.as_ref().and_then(json)
}

fn enum_str<T: Serialize>(v: &T) -> Option<ScalarValue> {
    match serde_json::to_value(v).unwrap() {
        serde_json::Value::String(s) => Some(ScalarValue::Str(s.into())),
        other => json(&other),
    }
}

fn s(v: &str) -> Option<ScalarValue> {
    Some(ScalarValue::Str(v.into()))
}

fn day(d: &Option<Day>) -> Option<ScalarValue> {
    d.map(|d| ScalarValue::Str(d.to_string().into()))
}

fn ts(t: &Option<Timestamp>) -> Option<ScalarValue> {
    t.map(|t| ScalarValue::Int(t.0))
}

fn put_opt(am: &mut AutoCommit, obj: &ObjId, key: &str, v: Option<ScalarValue>) {
    match v {
        Some(v) => am.put(obj, key, v).unwrap(),
        None => {
            if am.get(obj, key).unwrap().is_some() {
                am.delete(obj, key).unwrap();
            }
        }
    }
}

fn field<T: PartialEq>(
    am: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    b: Option<&T>,
    a: &T,
    enc: impl Fn(&T) -> Option<ScalarValue>,
) {
    if b != Some(a) {
        put_opt(am, obj, key, enc(a));
    }
}

fn text(am: &mut AutoCommit, obj: &ObjId, key: &str, b: Option<&String>, a: &str) {
    if b.map(String::as_str) != Some(a) {
        am.put(obj, key, a).unwrap();
    }
}

fn map_obj(am: &mut AutoCommit, obj: &ObjId, key: &str) -> ObjId {
    match am.get(obj, key).unwrap() {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => am.put_object(obj, key, ObjType::Map).unwrap(),
    }
}

fn map<K: Ord + AsRef<str>, V: PartialEq>(
    am: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    b: Option<&BTreeMap<K, V>>,
    a: &BTreeMap<K, V>,
    mut write: impl FnMut(&mut AutoCommit, &ObjId, &str, Option<&V>, &V),
) {
    if b == Some(a) {
        return;
    }
    let m = map_obj(am, obj, key);
    if let Some(b) = b {
        for k in b.keys().filter(|k| !a.contains_key(*k)) {
            am.delete(&m, k.as_ref()).unwrap();
        }
    }
    for (k, v) in a {
        let old = b.and_then(|b| b.get(k));
        if old != Some(v) {
            write(am, &m, k.as_ref(), old, v);
        }
    }
}

fn json_entry<V: Serialize>(am: &mut AutoCommit, m: &ObjId, k: &str, _: Option<&V>, v: &V) {
    put_opt(am, m, k, json(v));
}

fn result(am: &mut AutoCommit, results: &ObjId, code: &str, b: &ItemResult, a: &ItemResult) {
    if b.answer != a.answer {
        put_opt(
            am,
            results,
            &format!("{code}/answer"),
            a.answer.and_then(|x| s(x.as_str())),
        );
    }
    if b.note != a.note {
        let v = (!a.note.is_empty()).then(|| ScalarValue::Str(a.note.as_str().into()));
        put_opt(am, results, &format!("{code}/note"), v);
    }
    if b.photos != a.photos {
        for d in b.photos.keys().filter(|k| !a.photos.contains_key(*k)) {
            put_opt(am, results, &format!("{code}/photo/{d}"), None);
        }
        for (d, p) in &a.photos {
            if b.photos.get(d) != Some(p) {
                put_opt(am, results, &format!("{code}/photo/{d}"), json(p));
            }
        }
    }
}

fn hazard_entry(am: &mut AutoCommit, hazards: &ObjId, id: &str, b: Option<&Hazard>, a: &Hazard) {
    let h = map_obj(am, hazards, id);
    field(am, &h, "item", b.map(|x| &x.item), &a.item, |i| {
        i.as_ref().and_then(|i| s(i.as_str()))
    });
    field(am, &h, "level", b.map(|x| &x.level), &a.level, enum_str);
    text(
        am,
        &h,
        "description",
        b.map(|x| &x.description),
        &a.description,
    );
    text(am, &h, "place", b.map(|x| &x.place), &a.place);
    field(am, &h, "basis", b.map(|x| &x.basis), &a.basis, json);
    field(am, &h, "penalty", b.map(|x| &x.penalty), &a.penalty, |p| {
        if p.is_empty() { None } else { json(p) }
    });
    map(
        am,
        &h,
        "photos",
        b.map(|x| &x.photos),
        &a.photos,
        json_entry,
    );
    text(am, &h, "measures", b.map(|x| &x.measures), &a.measures);
    field(am, &h, "deadline", b.map(|x| &x.deadline), &a.deadline, day);
    field(am, &h, "stage", b.map(|x| &x.stage), &a.stage, |st| {
        s(st.as_str())
    });
    field(
        am,
        &h,
        "supervision",
        b.map(|x| &x.supervision),
        &a.supervision,
        opt_json,
    );
    field(
        am,
        &h,
        "registered_on",
        b.map(|x| &x.registered_on),
        &a.registered_on,
        |d| day(&Some(*d)),
    );
    field(
        am,
        &h,
        "reported_on",
        b.map(|x| &x.reported_on),
        &a.reported_on,
        day,
    );
    map(
        am,
        &h,
        "reinspections",
        b.map(|x| &x.reinspections),
        &a.reinspections,
        json_entry,
    );
    field(
        am,
        &h,
        "closed_on",
        b.map(|x| &x.closed_on),
        &a.closed_on,
        day,
    );
}

/// Writes what differs between `b` and `a` as the tablet does.
fn forge(am: &mut AutoCommit, before: &Inspection, a: &Inspection) {
    let r = &ROOT;
    let b = Some(before);
    field(am, r, "id", b.map(|x| &x.id), &a.id, |v| s(v.as_str()));
    field(am, r, "kind", b.map(|x| &x.kind), &a.kind, enum_str);
    field(
        am,
        r,
        "unit",
        b.map(|x| &x.unit),
        &a.unit,
        |v| s(v.as_str()),
    );
    field(
        am,
        r,
        "enterprise",
        b.map(|x| &x.enterprise),
        &a.enterprise,
        json,
    );
    field(am, r, "template", b.map(|x| &x.template), &a.template, json);
    field(am, r, "plan", b.map(|x| &x.plan), &a.plan, |p| {
        p.as_ref().and_then(|p| s(p.as_str()))
    });
    field(
        am,
        r,
        "created_at",
        b.map(|x| &x.created_at),
        &a.created_at,
        |t| Some(ScalarValue::Int(t.0)),
    );
    field(
        am,
        r,
        "created_by",
        b.map(|x| &x.created_by),
        &a.created_by,
        |v| s(v.as_str()),
    );
    map(
        am,
        r,
        "inspectors",
        b.map(|x| &x.inspectors),
        &a.inspectors,
        json_entry,
    );
    field(
        am,
        r,
        "arrival",
        b.map(|x| &x.arrival),
        &a.arrival,
        opt_json,
    );
    field(
        am,
        r,
        "attestations",
        b.map(|x| &x.attestations),
        &a.attestations,
        json,
    );
    text(am, r, "places", b.map(|x| &x.places), &a.places);
    text(am, r, "summary", b.map(|x| &x.summary), &a.summary);
    let (br, ar) = (&before.results, &a.results);
    if br != ar {
        let results = map_obj(am, r, "results");
        let empty = ItemResult::default();
        for (code, old) in br.iter().filter(|(k, _)| !ar.contains_key(*k)) {
            result(am, &results, code.as_str(), old, &empty);
        }
        for (code, new) in ar {
            let old = br.get(code).unwrap_or(&empty);
            if old != new {
                result(am, &results, code.as_str(), old, new);
            }
        }
    }
    map(
        am,
        r,
        "hazards",
        b.map(|x| &x.hazards),
        &a.hazards,
        hazard_entry,
    );
    field(
        am,
        r,
        "onsite_person",
        b.map(|x| &x.onsite_person),
        &a.onsite_person,
        opt_json,
    );
    map(
        am,
        r,
        "signatures",
        b.map(|x| &x.signatures),
        &a.signatures,
        json_entry,
    );
    field(am, r, "status", b.map(|x| &x.status), &a.status, |st| {
        s(st.as_str())
    });
    field(
        am,
        r,
        "started_at",
        b.map(|x| &x.started_at),
        &a.started_at,
        ts,
    );
    field(
        am,
        r,
        "completed_at",
        b.map(|x| &x.completed_at),
        &a.completed_at,
        ts,
    );
    field(am, r, "review", b.map(|x| &x.review), &a.review, opt_json);
    map(
        am,
        r,
        "signed_versions",
        b.map(|x| &x.signed_versions),
        &a.signed_versions,
        json_entry,
    );
    map(
        am,
        r,
        "documents",
        b.map(|x| &x.documents),
        &a.documents,
        json_entry,
    );
}

// ---------------------------------------------------------------------------------------------
// Honest record content.

fn day_of_registration() -> Day {
    Day::ymd(2026, 12, 1)
}

fn hazard(id: &str, level: HazardLevel) -> Hazard {
    Hazard {
        id: HazardId::from(id),
        item: None,
        level,
        description: "消防通道堵塞".into(),
        place: "一号车间".into(),
        basis: vec![LegalBasis::new("安全生产法", "第四十一条")],
        penalty: Vec::new(),
        photos: BTreeMap::new(),
        measures: String::new(),
        deadline: None,
        stage: HazardStage::Registered,
        supervision: None,
        registered_on: day_of_registration(),
        reported_on: None,
        reinspections: BTreeMap::new(),
        closed_on: None,
    }
}

fn inspector_ref(u: &User) -> InspectorRef {
    InspectorRef {
        user: u.id.clone(),
        name: u.name.clone(),
        certificate: u.certificate().unwrap().clone(),
    }
}

fn transition(to: InspectionStatus, comment: &str) -> Command {
    Command::Transition {
        to,
        comment: comment.into(),
    }
}

fn order(deadline: Day) -> HazardAction {
    HazardAction::Order {
        deadline,
        measures: "立即清理通道".into(),
    }
}

fn signature(signer: Signer, name: &str, outcome: SignOutcome) -> Signature {
    Signature {
        signer,
        name: name.into(),
        outcome,
        at: Timestamp(now_ms()),
        read: Vec::new(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Draft,
    OnSite,
    Completed,
    Submitted,
}

impl Client {
    /// A 四不两直 record of `e` with `colleague`, taken honestly to `stage` and pushed.
    fn visit(
        &mut self,
        e: &Enterprise,
        colleague: &User,
        photo: &Sha256Hex,
        stage: Stage,
    ) -> String {
        let id = self.create(InspectionKind::Unannounced, e, None);
        let me = self.user.clone();
        for u in [&me, colleague] {
            self.run(&id, Command::AddInspector(inspector_ref(u)));
        }
        self.run(
            &id,
            Command::SetArrival(ArrivalProof {
                at: Timestamp(now_ms()),
                position: Position::new(32.0935, 118.8056, PositionSource::Device).unwrap(),
                entrance_photo: photo.clone(),
            }),
        );
        self.run(
            &id,
            Command::SetAttestations(Attestations {
                no_notice_given: true,
                no_escort_accepted: true,
            }),
        );
        if stage >= Stage::OnSite {
            self.run(&id, transition(InspectionStatus::OnSite, ""));
        }
        if stage >= Stage::Completed {
            let items: Vec<ItemCode> = self
                .template
                .items_for(e.industry)
                .map(|i| i.code.clone())
                .collect();
            for item in items {
                self.run(
                    &id,
                    Command::Answer {
                        item,
                        answer: Some(Answer::Complies),
                    },
                );
            }
            self.run(
                &id,
                Command::SetOnsitePerson(OnsitePerson {
                    name: "李明".into(),
                    position: "安全主管".into(),
                    phone: "13800000000".into(),
                }),
            );
            for u in [&me, colleague] {
                self.run(
                    &id,
                    Command::Sign(signature(
                        Signer::Inspector(u.id.clone()),
                        &u.name,
                        SignOutcome::Signed {
                            image: photo.clone(),
                        },
                    )),
                );
            }
            self.run(
                &id,
                Command::Sign(signature(
                    Signer::Enterprise,
                    "李明",
                    SignOutcome::Signed {
                        image: photo.clone(),
                    },
                )),
            );
            self.run(&id, transition(InspectionStatus::Completed, ""));
        }
        if stage >= Stage::Submitted {
            self.sign_version(&id, "v1");
            self.run(&id, transition(InspectionStatus::Submitted, ""));
        }
        self.push_rec(&id);
        id
    }
}

// ---------------------------------------------------------------------------------------------
// The checks around each hostile push.

struct Row {
    case: String,
    code: String,
    message: String,
    problems: Vec<String>,
}

struct Judge {
    /// The city supervisor's device: may read every record. Its tablet is not sent every
    /// record at sync (only those the user has a part in), so it follows each attacked record
    /// (fetched on demand), and its sync cursor (the server's latest change) shows whether
    /// anything at all was stored.
    observer: Client,
    console: ConsoleClient,
    /// An honest tablet (u-li) with a draft of its own.
    honest: Client,
    honest_record: String,
    edits: u32,
    rows: Vec<Row>,
}

impl Judge {
    fn figures(&self) -> String {
        let page = self.console.get("/console/figures");
        assert_eq!(page.status, 200, "figures page");
        let body = page.body;
        let from = body.find("<section").expect("figures sections");
        let to = body.rfind("</section>").expect("figures sections");
        body[from..to].to_owned()
    }

    /// Pushes `bytes` as `pusher` and checks that it is refused with one of `expect` and
    /// that nothing changed anywhere.
    fn attack(
        &mut self,
        case: &str,
        pusher: &mut Client,
        id: &str,
        bytes: Vec<u8>,
        expect: &[&str],
    ) {
        let readable = id.len() < 100 && !id.chars().any(|c| c.is_control() || !c.is_ascii());
        if readable {
            // Followed from now on (refused if it does not exist: a new record's id).
            let status = self.observer.follow(id);
            assert!(matches!(status, 200 | 403), "fetch answered {status}");
        }
        self.observer.pull_all();
        let stored_until = self.observer.cursor;
        let figures = self.figures();
        let before = readable.then(|| self.observer.get_record(id));
        let resp = pusher.push(id, bytes);
        let mut problems = Vec::new();
        if !resp.accepted.is_empty() {
            problems.push(format!("ACCEPTED (positions {:?})", resp.accepted));
        }
        let (code, message) = match resp.rejected.first() {
            Some(r) => {
                if r.id != id {
                    problems.push("the rejection names another id".into());
                }
                (r.code.clone(), r.message.clone())
            }
            None => ("-".into(), String::new()),
        };
        if !expect.contains(&code.as_str()) {
            problems.push(format!("code {code}, expected one of {expect:?}"));
        }
        if message.trim().is_empty() {
            problems.push("no message".into());
        }
        let pulled = self.observer.pull_all();
        if pulled != 0 {
            problems.push(format!(
                "stored: another device pulled {pulled} document(s)"
            ));
        }
        if self.observer.cursor != stored_until {
            problems.push(format!(
                "stored: the server's change log moved from {stored_until} to {}",
                self.observer.cursor
            ));
        }
        if readable && before != Some(self.observer.get_record(id)) {
            problems.push("GET /api/v1/records reads differently".into());
        }
        if self.figures() != figures {
            problems.push("a console figure moved".into());
        }
        // An honest tablet syncs as before.
        self.edits += 1;
        let text = format!("一号车间 第{}次", self.edits);
        let hid = self.honest_record.clone();
        self.honest.run(&hid, Command::SetPlaces { text });
        let rec = self.honest.recs.get_mut(&hid).unwrap();
        let bytes = rec.doc.automerge_mut().save_after(&rec.synced);
        let r = self.honest.push(&hid, bytes);
        if r.accepted != vec![0] || !r.rejected.is_empty() {
            problems.push(format!("honest push afterwards refused: {:?}", r.rejected));
        } else {
            let rec = self.honest.recs.get_mut(&hid).unwrap();
            rec.synced = rec.doc.heads();
        }
        self.honest.pull_all();
        println!(
            "{:<4} {case}: {code} — {}",
            if problems.is_empty() { "ok" } else { "FAIL" },
            message.chars().take(160).collect::<String>()
        );
        self.rows.push(Row {
            case: case.into(),
            code,
            message,
            problems,
        });
    }

    fn finish(self) {
        let failed: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| !r.problems.is_empty())
            .collect();
        println!("\n{} cases, {} failed", self.rows.len(), failed.len());
        for r in &self.rows {
            println!("  [{}] {}", r.code, r.case);
        }
        assert!(
            failed.is_empty(),
            "{}",
            failed
                .iter()
                .map(|r| format!("{}: {} ({})", r.case, r.problems.join("; "), r.message))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

const RULE: &[&str] = &["rule", "not_reproducible"];

// ---------------------------------------------------------------------------------------------

/// `forge` writes, for legal commands, exactly the change the tablet writes (same hash): so
/// the hostile changes below are written the way an honest tablet would write them.
#[test]
fn forge_is_what_the_tablet_writes() {
    let fixture = |name: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(common::fixtures().join("demo").join(name)).unwrap(),
        )
        .unwrap()
    };
    let pick = |v: serde_json::Value, id: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap()
            .clone()
    };
    let e: Enterprise = serde_json::from_value(pick(fixture("enterprises.json"), "e-001")).unwrap();
    let t = ChecklistTemplate::parse_toml(
        &std::fs::read_to_string(common::fixtures().join("checklists/gongmao.toml")).unwrap(),
    )
    .unwrap();
    let wang: User = serde_json::from_value(pick(fixture("users.json"), "u-wang")).unwrap();
    let li: User = serde_json::from_value(pick(fixture("users.json"), "u-li")).unwrap();
    let dev = DeviceId::from("forge-check");
    let t0 = Timestamp(now_ms());
    let record = Inspection::new_draft(
        InspectionId::from(new_id().as_str()),
        InspectionKind::Unannounced,
        e.unit.clone(),
        (&e).into(),
        t.reference(),
        wang.id.clone(),
        t0,
    );
    let mut doc = InspectionDoc::create(&record, &t, &dev, t0).unwrap();
    let photo = Sha256Hex::of(b"forge");
    let item = t.items_for(e.industry).next().unwrap().code.clone();
    let mut h = hazard("h-1", HazardLevel::General);
    h.item = Some(item.clone());
    let commands = vec![
        Command::AddInspector(inspector_ref(&wang)),
        Command::AddInspector(inspector_ref(&li)),
        Command::SetArrival(ArrivalProof {
            at: t0,
            position: Position::new(32.0935, 118.8056, PositionSource::Device).unwrap(),
            entrance_photo: photo.clone(),
        }),
        Command::SetAttestations(Attestations {
            no_notice_given: true,
            no_escort_accepted: true,
        }),
        Command::SetSummary {
            text: "检查情况".into(),
        },
        transition(InspectionStatus::OnSite, ""),
        Command::Answer {
            item: item.clone(),
            answer: Some(Answer::Fails),
        },
        Command::SetNote {
            item: item.clone(),
            text: "未整改".into(),
        },
        Command::AddItemPhoto {
            item: item.clone(),
            photo: PhotoRef {
                sha256: photo.clone(),
                added_at: t0,
                added_by: wang.id.clone(),
            },
        },
        Command::Answer {
            item: item.clone(),
            answer: None,
        },
        Command::RegisterHazard(h),
        Command::Hazard {
            hazard: "h-1".into(),
            action: order(Day::ymd(2026, 12, 20)),
        },
        Command::Hazard {
            hazard: "h-1".into(),
            action: HazardAction::ReportRectified {
                on: Day::ymd(2026, 12, 10),
            },
        },
        Command::Hazard {
            hazard: "h-1".into(),
            action: HazardAction::Reinspect {
                id: "r1".into(),
                reinspection: Reinspection {
                    on: Day::ymd(2026, 12, 11),
                    by: wang.id.clone(),
                    passed: false,
                    note: "未完成".into(),
                    photos: BTreeMap::new(),
                    new_deadline: Some(Day::ymd(2026, 12, 30)),
                },
            },
        },
        Command::Sign(signature(
            Signer::Inspector(wang.id.clone()),
            "王强",
            SignOutcome::Signed {
                image: photo.clone(),
            },
        )),
        Command::SetOnsitePerson(OnsitePerson {
            name: "李明".into(),
            position: "安全主管".into(),
            phone: "13800000000".into(),
        }),
        Command::IssueDocument(IssuedDocument {
            kind: DocumentKind::InspectionRecord,
            number: "（玄武）应急检记〔2026〕1号".into(),
            seq: 1,
            year: 2026,
            at: t0,
            by: wang.id.clone(),
            device: dev.clone(),
        }),
    ];
    for (n, c) in commands.iter().enumerate() {
        let at = Timestamp(t0.0 + n as i64 * 1000);
        let bytes = doc.save();
        let mut honest = InspectionDoc::load(&bytes, &dev).unwrap();
        let before = honest.record().clone();
        let cx = Context {
            actor: &wang,
            now: at,
            template: &t,
        };
        honest.apply(c, &cx, &dev).unwrap();
        let after = honest.record().clone();
        let mut am = AutoCommit::load(&bytes).unwrap();
        am.set_actor(actor_for(&dev));
        forge(&mut am, &before, &after);
        am.commit_with(
            CommitOptions::default()
                .with_message(note(&wang, &dev, c.name(), at.0, Some(c)))
                .with_time(at.0.div_euclid(1000)),
        );
        assert_eq!(
            am.get_heads(),
            honest.heads(),
            "forge differs for {}",
            c.name()
        );
        doc = honest;
    }
}

#[test]
fn hostile_pushes_are_refused_and_change_nothing() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let mut wang = Client::new(&server, "u-wang", "adv-wang");
    let mut zhao = Client::new(&server, "u-zhao", "adv-zhao");
    let mut zhang = Client::new(&server, "u-zhang", "adv-zhang");
    let chen = Client::new(&server, "u-chen", "adv-chen");
    let mut honest = Client::new(&server, "u-li", "adv-li");
    let observer = Client::new(&server, "u-zhou", "adv-zhou");
    let mut console = ConsoleClient::new(&server);
    let page = console.sign_in("u-zhou", PASSWORD);
    assert!(
        matches!(page.status, 302 | 303),
        "console sign-in: {}",
        page.status
    );
    let li = wang.user("u-li");
    let e1 = wang.enterprise("e-001");
    let photo = wang.upload(b"adversarial: entrance and signatures");

    // The records the attacks aim at, made honestly.
    let honest_record = {
        let wang_user = wang.user.clone();
        let id = honest.create(InspectionKind::Unannounced, &e1, None);
        honest.run(
            &id,
            Command::AddInspector(inspector_ref(&honest.user.clone())),
        );
        honest.run(&id, Command::AddInspector(inspector_ref(&wang_user)));
        honest.push_rec(&id);
        id
    };
    let submitted = wang.visit(&e1, &li, &photo, Stage::Submitted);
    let draft = wang.visit(&e1, &li, &photo, Stage::Draft);
    let completed = wang.visit(&e1, &li, &photo, Stage::Completed);
    let on_site = wang.visit(&e1, &li, &photo, Stage::OnSite);
    // On site: a general hazard registered (hg), a major one (hm), one ordered (ho), one
    // rectified (hr), and an issued document.
    for (h, level) in [
        ("hg", HazardLevel::General),
        ("hm", HazardLevel::Major),
        ("ho", HazardLevel::General),
        ("hr", HazardLevel::General),
    ] {
        wang.run(&on_site, Command::RegisterHazard(hazard(h, level)));
    }
    for h in ["ho", "hr"] {
        wang.run(
            &on_site,
            Command::Hazard {
                hazard: h.into(),
                action: order(Day::ymd(2026, 12, 20)),
            },
        );
    }
    wang.run(
        &on_site,
        Command::Hazard {
            hazard: "hr".into(),
            action: HazardAction::ReportRectified {
                on: Day::ymd(2026, 12, 10),
            },
        },
    );
    let document = IssuedDocument {
        kind: DocumentKind::InspectionRecord,
        number: "（玄武）应急检记〔2026〕901号".into(),
        seq: 901,
        year: 2026,
        at: Timestamp(now_ms()),
        by: wang.user.id.clone(),
        device: wang.device.clone(),
    };
    wang.run(&on_site, Command::IssueDocument(document.clone()));
    wang.push_rec(&on_site);
    // A draft with one inspector only (arrival and attestations given).
    let lonely = {
        let id = wang.create(InspectionKind::Unannounced, &e1, None);
        let me = wang.user.clone();
        wang.run(&id, Command::AddInspector(inspector_ref(&me)));
        wang.run(
            &id,
            Command::SetArrival(ArrivalProof {
                at: Timestamp(now_ms()),
                position: Position::new(32.0935, 118.8056, PositionSource::Device).unwrap(),
                entrance_photo: photo.clone(),
            }),
        );
        wang.run(
            &id,
            Command::SetAttestations(Attestations {
                no_notice_given: true,
                no_escort_accepted: true,
            }),
        );
        wang.push_rec(&id);
        id
    };
    // A draft without arrival proof or attestations, with a registered hazard.
    let bare = {
        let id = wang.create(InspectionKind::Unannounced, &e1, None);
        let me = wang.user.clone();
        for u in [&me, &li] {
            wang.run(&id, Command::AddInspector(inspector_ref(u)));
        }
        wang.run(
            &id,
            Command::RegisterHazard(hazard("hd", HazardLevel::General)),
        );
        wang.push_rec(&id);
        id
    };
    // zhao and zhang see the records they act on.
    zhao.pull_all();
    zhang.pull_all();
    for id in [&submitted, &draft, &on_site] {
        let bytes = wang.recs.get_mut(id).unwrap().doc.save();
        for c in [&mut zhao, &mut zhang] {
            let doc = InspectionDoc::load(&bytes, &c.device).unwrap();
            let synced = wang.recs[id].synced.clone();
            c.recs.insert(id.clone(), Rec { doc, synced });
        }
    }
    let mut j = Judge {
        observer,
        console,
        honest,
        honest_record,
        edits: 0,
        rows: Vec::new(),
    };
    // The figures count the visits made above (so "no figure moved" is not vacuous).
    let figures = j.figures();
    assert!(
        figures.contains(r#"data-kind="unannounced"><th>四不两直</th><td>2</td>"#)
            && figures.contains(r#"data-kind="random_draw"><th>双随机</th><td>0</td>"#),
        "{figures}"
    );
    let wd = wang.device.clone();
    let wu = wang.user.clone();
    let at = now_ms();
    let secs = at.div_euclid(1000);
    let item0 = wang
        .template
        .items_for(e1.industry)
        .next()
        .unwrap()
        .code
        .clone();

    // 1. A submitted record's summary and notes changed with raw Automerge.
    let cmd = Command::SetSummary {
        text: "改写的检查情况".into(),
    };
    let results_key = format!("{item0}/note");
    let bytes = wang.raw(
        &submitted,
        &wd,
        Some(note(&wu, &wd, "set_summary", at, Some(&cmd))),
        secs,
        |am| {
            am.put(ROOT, "summary", "改写的检查情况").unwrap();
            let results = map_obj(am, &ROOT, "results");
            am.put(&results, results_key.as_str(), "补写的备注")
                .unwrap();
        },
    );
    j.attack(
        "1a submitted: summary+note rewritten, note claims set_summary",
        &mut wang,
        &submitted,
        bytes,
        RULE,
    );
    let bytes = wang.raw(
        &submitted,
        &wd,
        Some(note(&wu, &wd, "set_summary", at, None)),
        secs,
        |am| {
            am.put(ROOT, "summary", "改写的检查情况").unwrap();
        },
    );
    j.attack(
        "1b submitted: summary rewritten, note without command",
        &mut wang,
        &submitted,
        bytes,
        &["bad_note"],
    );
    let bytes = wang.raw(&submitted, &wd, None, secs, |am| {
        am.put(ROOT, "summary", "改写的检查情况").unwrap();
    });
    j.attack(
        "1c submitted: summary rewritten, no message at all",
        &mut wang,
        &submitted,
        bytes,
        &["bad_note"],
    );

    // 2. An inspector approves his own draft.
    let approve = transition(InspectionStatus::Approved, "");
    let bytes = wang.raw(
        &draft,
        &wd,
        Some(note(&wu, &wd, "transition", at, Some(&approve))),
        secs,
        |am| {
            am.put(ROOT, "status", "approved").unwrap();
        },
    );
    j.attack(
        "2a inspector: status=approved on own draft (note: transition approved)",
        &mut wang,
        &draft,
        bytes,
        &["forbidden", "rule", "not_reproducible"],
    );
    let answer = Command::Answer {
        item: item0.clone(),
        answer: Some(Answer::Complies),
    };
    let bytes = wang.raw(
        &draft,
        &wd,
        Some(note(&wu, &wd, "answer", at, Some(&answer))),
        secs,
        |am| {
            am.put(ROOT, "status", "approved").unwrap();
        },
    );
    j.attack(
        "2b inspector: status=approved on own draft (note claims an answer)",
        &mut wang,
        &draft,
        bytes,
        &["not_reproducible", "rule"],
    );

    // 3. New random_draw records pushed already completed, empty.
    for (label, plan) in [("no plan", None), ("plan-sbl-001", Some("plan-sbl-001"))] {
        let id = new_id();
        let now = Timestamp(now_ms());
        let mut r = Inspection::new_draft(
            InspectionId::from(id.as_str()),
            InspectionKind::RandomDraw,
            e1.unit.clone(),
            (&e1).into(),
            wang.template.reference(),
            wu.id.clone(),
            now,
        );
        r.plan = plan.map(PlanId::from);
        r.status = InspectionStatus::Completed;
        r.started_at = Some(now);
        r.completed_at = Some(now);
        let mut doc = InspectionDoc::create(&r, &wang.template, &wd, now).unwrap();
        j.attack(
            &format!("3 new random_draw pushed completed, empty ({label})"),
            &mut wang,
            &id,
            doc.save(),
            &["not_fresh", "reference"],
        );
    }
    {
        // A fresh random_draw draft, then raw status=completed in the same push.
        let id = wang.create(InspectionKind::RandomDraw, &e1, None);
        let t = transition(InspectionStatus::Completed, "");
        let bytes = wang.raw(
            &id,
            &wd,
            Some(note(&wu, &wd, "transition", at, Some(&t))),
            secs,
            |am| {
                am.put(ROOT, "status", "completed").unwrap();
            },
        );
        let mut all = wang.recs.get_mut(&id).unwrap().doc.save();
        all.extend_from_slice(&bytes);
        j.attack(
            "3 new random_draw draft + raw completed in one push",
            &mut wang,
            &id,
            all,
            &["reference", "rule", "not_reproducible"],
        );
        wang.recs.remove(&id);
    }

    // 本节不涉及 (`Command::MarkSectionNotApplicable`) pushed raw onto a submitted record: the
    // section's items turned 不适用 after submission are refused like the command.
    let section = wang
        .template
        .categories_for(e1.industry)
        .next()
        .unwrap()
        .clone();
    let codes: Vec<_> = section.items.iter().map(|i| i.code.clone()).collect();
    let cmd = Command::MarkSectionNotApplicable {
        category: section.name.clone(),
        items: codes.clone(),
    };
    let bytes = wang.raw(
        &submitted,
        &wd,
        Some(note(
            &wu,
            &wd,
            "mark_section_not_applicable",
            at,
            Some(&cmd),
        )),
        secs,
        |am| {
            let results = map_obj(am, &ROOT, "results");
            for code in &codes {
                am.put(
                    &results,
                    format!("{code}/answer").as_str(),
                    Answer::NotApplicable.as_str(),
                )
                .unwrap();
            }
        },
    );
    j.attack(
        "3z submitted: a whole section turned 不涉及 after submission",
        &mut wang,
        &submitted,
        bytes,
        RULE,
    );

    // 送达 (`Command::RecordService`) pushed raw for a number the record never issued.
    let service = app_core::delivery::Service {
        number: "（玄武）应急责改〔2026〕999号".into(),
        kind: DocumentKind::RectificationOrder,
        method: app_core::delivery::ServiceMethod::Direct {
            recipient: "赵六".into(),
        },
        at: Timestamp(at),
        by: wu.id.clone(),
    };
    let cmd = Command::RecordService(service.clone());
    let bytes = wang.raw(
        &submitted,
        &wd,
        Some(note(&wu, &wd, "record_service", at, Some(&cmd))),
        secs,
        |am| {
            let services = map_obj(am, &ROOT, "services");
            am.put(
                &services,
                service.number.as_str(),
                serde_json::to_string(&service).unwrap(),
            )
            .unwrap();
        },
    );
    j.attack(
        "3y submitted: a service of a document the record never issued",
        &mut wang,
        &submitted,
        bytes,
        RULE,
    );

    // 4. Supervisors.
    let zd = zhao.device.clone();
    let zu = zhao.user.clone();
    let review = |by: &str| Review {
        by: by.into(),
        at: Timestamp(at),
        decision: ReviewDecision::Approved,
        comment: String::new(),
        items: Default::default(),
    };
    let r_zhao = review("u-zhao");
    let bytes = zhao.raw(
        &submitted,
        &zd,
        Some(note(&zu, &zd, "transition", at, Some(&approve))),
        secs,
        |am| {
            am.put(ROOT, "summary", "审核时顺手改写").unwrap();
            am.put(ROOT, "status", "approved").unwrap();
            am.put(ROOT, "review", serde_json::to_string(&r_zhao).unwrap())
                .unwrap();
        },
    );
    j.attack(
        "4a supervisor: content edit bundled with approval",
        &mut zhao,
        &submitted,
        bytes,
        &["not_reproducible", "rule", "forbidden"],
    );
    let r_zhou = review("u-zhou");
    let bytes = zhao.raw(
        &submitted,
        &zd,
        Some(note(&zu, &zd, "transition", at, Some(&approve))),
        secs,
        |am| {
            am.put(ROOT, "status", "approved").unwrap();
            am.put(ROOT, "review", serde_json::to_string(&r_zhou).unwrap())
                .unwrap();
        },
    );
    j.attack(
        "4b supervisor u-zhao: approval whose review.by is u-zhou",
        &mut zhao,
        &submitted,
        bytes,
        &["not_reproducible", "bad_note"],
    );
    // A return with comments on items (`Command::ReviewWithItems`): written by an inspector,
    // or by the supervisor with an empty comment on an item, it is refused like the command.
    let with_items = |comment: &str| {
        let items: std::collections::BTreeMap<_, _> =
            [(item0.clone(), comment.to_owned())].into_iter().collect();
        let cmd = Command::ReviewWithItems {
            to: InspectionStatus::Returned,
            comment: "请补充".into(),
            items: items.clone(),
        };
        let review = move |by: &str| Review {
            by: by.into(),
            at: Timestamp(at),
            decision: ReviewDecision::Returned,
            comment: "请补充".into(),
            items: items.clone(),
        };
        (cmd, review)
    };
    let (cmd, review_by) = with_items("责任制文件未见签字页");
    let r_wang = review_by("u-wang");
    let bytes = wang.raw(
        &submitted,
        &wd,
        Some(note(&wu, &wd, "review_with_items", at, Some(&cmd))),
        secs,
        |am| {
            am.put(ROOT, "status", "returned").unwrap();
            am.put(ROOT, "review", serde_json::to_string(&r_wang).unwrap())
                .unwrap();
        },
    );
    j.attack(
        "4c inspector: a return with item comments on his own record",
        &mut wang,
        &submitted,
        bytes,
        &["forbidden", "rule", "not_reproducible"],
    );
    let (cmd, review_by) = with_items("  ");
    let r_blank = review_by("u-zhao");
    let bytes = zhao.raw(
        &submitted,
        &zd,
        Some(note(&zu, &zd, "review_with_items", at, Some(&cmd))),
        secs,
        |am| {
            am.put(ROOT, "status", "returned").unwrap();
            am.put(ROOT, "review", serde_json::to_string(&r_blank).unwrap())
                .unwrap();
        },
    );
    j.attack(
        "4d supervisor: a return whose comment on an item is empty",
        &mut zhao,
        &submitted,
        bytes,
        RULE,
    );
    let bytes = zhao.forged(
        &submitted,
        &transition(InspectionStatus::Returned, ""),
        |r, t| {
            r.status = InspectionStatus::Returned;
            r.review = Some(Review {
                by: "u-zhao".into(),
                at: t,
                decision: ReviewDecision::Returned,
                comment: String::new(),
                items: Default::default(),
            });
        },
    );
    j.attack(
        "9 supervisor returns without a comment (unmet)",
        &mut zhao,
        &submitted,
        bytes,
        RULE,
    );
    let bytes = zhao.forged(
        &on_site,
        &Command::SetSummary { text: "x".into() },
        |r, _| r.summary = "x".into(),
    );
    j.attack(
        "9 only inspectors edit content (supervisor set_summary)",
        &mut zhao,
        &on_site,
        bytes,
        &["rule", "not_reproducible", "forbidden"],
    );
    let bytes = zhao.forged(&draft, &transition(InspectionStatus::OnSite, ""), |r, t| {
        r.status = InspectionStatus::OnSite;
        r.started_at = Some(t);
    });
    j.attack(
        "9 wrong role: supervisor moves draft to on_site",
        &mut zhao,
        &draft,
        bytes,
        &["rule", "not_reproducible", "forbidden"],
    );

    // 5. Authorship.
    let bytes = wang.raw(
        &draft,
        &wd,
        Some(r#"{"by":"u-zhou","device":"server","command":"transition"}"#.into()),
        secs,
        |am| {
            am.put(ROOT, "status", "approved").unwrap();
        },
    );
    j.attack(
        "5a note claims u-zhou on device server (pushed by u-wang)",
        &mut wang,
        &draft,
        bytes,
        &["bad_note"],
    );
    let summary = Command::SetSummary { text: "x".into() };
    let bytes = wang.raw(
        &draft,
        &wd,
        Some(note(
            &zu,
            &DeviceId::from("server"),
            "set_summary",
            at,
            Some(&summary),
        )),
        secs,
        |am| {
            am.put(ROOT, "summary", "x").unwrap();
        },
    );
    j.attack(
        "5a' full note naming u-zhao on device server (pushed by u-wang)",
        &mut wang,
        &draft,
        bytes,
        &["bad_note"],
    );
    let li_dev = j.honest.device.clone();
    let bytes = wang.raw(
        &draft,
        &li_dev,
        Some(note(&wu, &wd, "set_summary", at, Some(&summary))),
        secs,
        |am| {
            am.put(ROOT, "summary", "x").unwrap();
        },
    );
    j.attack(
        "5b change under another device's actor (u-li's tablet)",
        &mut wang,
        &draft,
        bytes,
        &["not_author"],
    );
    let server_dev = DeviceId::from("server");
    let bytes = wang.raw(
        &draft,
        &server_dev,
        Some(note(&wu, &wd, "set_summary", at, Some(&summary))),
        secs,
        |am| {
            am.put(ROOT, "summary", "x").unwrap();
        },
    );
    j.attack(
        "5c change under the server's actor",
        &mut wang,
        &draft,
        bytes,
        &["not_author"],
    );
    // 5c'. A review decision under the server's actor, as the server writes one (the
    // supervisor u-zhao named on device "server"), on the submitted record: without a seal,
    // with a seal that is not the server's, and with a seal the attacker made with a key of
    // its own.
    let approve = transition(InspectionStatus::Approved, "同意");
    let sealed_note = |seal: Option<String>| {
        let mut n: ChangeNote =
            serde_json::from_str(&note(&zu, &server_dev, approve.name(), at, Some(&approve)))
                .unwrap();
        n.seal = seal;
        serde_json::to_string(&n).unwrap()
    };
    let own_key = SigningKey::from_bytes(&[7; 32]);
    for (case, seal) in [
        ("5c' server decision without a seal", None),
        (
            "5c' server decision with a zero seal",
            Some("00".repeat(64)),
        ),
        (
            "5c' server decision sealed with the attacker's key",
            Some(hex(&own_key.sign(b"approved").to_bytes())),
        ),
    ] {
        let bytes = wang.raw(
            &submitted,
            &server_dev,
            Some(sealed_note(seal)),
            secs,
            |am| {
                am.put(ROOT, "status", "approved").unwrap();
            },
        );
        j.attack(case, &mut wang, &submitted, bytes, &["not_author"]);
    }
    // 5e. A change under another device's actor with a receipt (what a colleague's tablet
    // sends to carry a lost tablet's changes back to a restored server, see
    // app_core::wire::Receipt): a genuine receipt the server signed for another record, the
    // same with this record's heads put in, and one over this record's heads sealed with the
    // attacker's own key. (A receipt covers only the history before its heads: app-core's
    // judge tests.)
    wang.pull_all();
    let genuine = wang
        .receipts
        .get(&j.honest_record)
        .cloned()
        .expect("the server sends a receipt with every pulled document");
    let draft_heads = Receipt::heads_bytes(&wang.recs.get_mut(&draft).unwrap().doc.heads());
    let forged_receipts = [
        ("5e another record's genuine receipt", genuine.clone()),
        (
            "5e a genuine receipt's seal over this record's heads",
            Receipt {
                heads: draft_heads.clone(),
                seal: genuine.seal.clone(),
            },
        ),
        (
            "5e a receipt sealed with the attacker's key",
            Receipt {
                seal: own_key
                    .sign(&app_core::document::receipt_statement(&draft, &draft_heads))
                    .to_bytes()
                    .to_vec(),
                heads: draft_heads.clone(),
            },
        ),
    ];
    for (case, receipt) in forged_receipts {
        let bytes = wang.raw(
            &draft,
            &li_dev,
            Some(note(&li, &li_dev, "set_summary", at, Some(&summary))),
            secs,
            |am| {
                am.put(ROOT, "summary", "x").unwrap();
            },
        );
        wang.attach = Some(receipt);
        j.attack(case, &mut wang, &draft, bytes, &["not_author"]);
    }
    let status = register(&wang.http, &wang.base, &wang.token, "u-wang", "server");
    println!("5d registering a device named \"server\": HTTP {status}");
    j.rows.push(Row {
        case: "5d register device \"server\"".into(),
        code: format!("HTTP {status}"),
        message: String::new(),
        problems: if status == 400 {
            vec![]
        } else {
            vec![format!("HTTP {status}, expected 400")]
        },
    });

    // 6. References and ids.
    {
        let e5 = chen.enterprise("e-005");
        for (label, e) in [("e-005 of 秦淮", &e5), ("e-001 of 玄武", &e1)] {
            let id = new_id();
            let now = Timestamp(now_ms());
            let mut r = Inspection::new_draft(
                InspectionId::from(id.as_str()),
                InspectionKind::Unannounced,
                e.unit.clone(),
                e.into(),
                wang.template.reference(),
                wu.id.clone(),
                now,
            );
            r.plan = Some("plan-sbl-003".into());
            let mut doc = InspectionDoc::create(&r, &wang.template, &wd, now).unwrap();
            j.attack(
                &format!("6a 玄武 inspector names 秦淮's sealed plan-sbl-003 ({label})"),
                &mut wang,
                &id,
                doc.save(),
                &["reference", "forbidden"],
            );
        }
    }
    for (label, key, value) in [
        ("name", "name", "改名后的公司"),
        ("USCC", "uscc", "91320104L2PA2HH99E"),
    ] {
        let mut snapshot = serde_json::to_value(&wang.record(&draft).enterprise).unwrap();
        snapshot[key] = value.into();
        let bytes = wang.raw(
            &draft,
            &wd,
            Some(note(&wu, &wd, "set_summary", at, Some(&summary))),
            secs,
            |am| {
                am.put(ROOT, "summary", "x").unwrap();
                am.put(ROOT, "enterprise", snapshot.to_string()).unwrap();
            },
        );
        j.attack(
            &format!("6b enterprise {label} changed after creation"),
            &mut wang,
            &draft,
            bytes,
            &["not_reproducible"],
        );
    }
    {
        // Created with a renamed enterprise.
        let id = new_id();
        let now = Timestamp(now_ms());
        let mut snapshot: app_core::inspection::EnterpriseSnapshot = (&e1).into();
        snapshot.name = "别的公司".into();
        let r = Inspection::new_draft(
            InspectionId::from(id.as_str()),
            InspectionKind::Unannounced,
            e1.unit.clone(),
            snapshot,
            wang.template.reference(),
            wu.id.clone(),
            now,
        );
        let mut doc = InspectionDoc::create(&r, &wang.template, &wd, now).unwrap();
        j.attack(
            "6b new record with a renamed enterprise",
            &mut wang,
            &id,
            doc.save(),
            &["reference"],
        );
    }
    let long = format!("insp-{}", "a".repeat(100 * 1024));
    let uuid = new_id();
    let bad_ids = [
        ("empty", String::new()),
        ("100 KB", long),
        ("NUL", format!("{uuid}\0")),
        (
            "right-to-left override",
            format!("insp-\u{202e}{}", &uuid[5..]),
        ),
        ("upper case", uuid.to_uppercase()),
    ];
    for (label, id) in bad_ids {
        let now = Timestamp(now_ms());
        let r = Inspection::new_draft(
            InspectionId::from(id.as_str()),
            InspectionKind::Unannounced,
            e1.unit.clone(),
            (&e1).into(),
            wang.template.reference(),
            wu.id.clone(),
            now,
        );
        let mut doc = InspectionDoc::create(&r, &wang.template, &wd, now).unwrap();
        j.attack(
            &format!("6c record id {label}"),
            &mut wang,
            &id,
            doc.save(),
            &["bad_id"],
        );
    }
    {
        // The pushed id differs from the document's.
        let id = new_id();
        let now = Timestamp(now_ms());
        let r = Inspection::new_draft(
            InspectionId::from(id.as_str()),
            InspectionKind::Unannounced,
            e1.unit.clone(),
            (&e1).into(),
            wang.template.reference(),
            wu.id.clone(),
            now,
        );
        let mut doc = InspectionDoc::create(&r, &wang.template, &wd, now).unwrap();
        j.attack(
            "6c pushed id differs from the document's",
            &mut wang,
            &new_id(),
            doc.save(),
            &["bad_id"],
        );
    }

    // 7. Unknown top-level field.
    let bytes = wang.raw(
        &draft,
        &wd,
        Some(note(&wu, &wd, "set_summary", at, Some(&summary))),
        secs,
        |am| {
            am.put(ROOT, "summary", "x").unwrap();
            am.put(ROOT, "extra", "smuggled").unwrap();
        },
    );
    j.attack(
        "7 unknown top-level field beside an honest edit",
        &mut wang,
        &draft,
        bytes,
        &["not_reproducible"],
    );
    let bytes = wang.raw(
        &draft,
        &wd,
        Some(note(&wu, &wd, "set_summary", at, Some(&summary))),
        secs,
        |am| {
            am.put(ROOT, "extra", "smuggled").unwrap();
        },
    );
    j.attack(
        "7 unknown top-level field alone",
        &mut wang,
        &draft,
        bytes,
        &["not_reproducible"],
    );

    // 8. Times.
    let future = at + 24 * 3_600_000;
    let bytes = wang.raw(
        &draft,
        &wd,
        Some(note(&wu, &wd, "set_summary", future, Some(&summary))),
        future.div_euclid(1000),
        |am| {
            am.put(ROOT, "summary", "x").unwrap();
        },
    );
    j.attack(
        "8a change dated a day ahead",
        &mut wang,
        &draft,
        bytes,
        &["clock"],
    );
    let past = at - 2 * 3_600_000;
    let bytes = wang.raw(
        &draft,
        &wd,
        Some(note(&wu, &wd, "set_summary", past, Some(&summary))),
        past.div_euclid(1000),
        |am| {
            am.put(ROOT, "summary", "x").unwrap();
        },
    );
    j.attack(
        "8b change dated before the device was registered",
        &mut wang,
        &draft,
        bytes,
        &["clock"],
    );
    let bytes = wang.raw(
        &draft,
        &wd,
        Some(note(&wu, &wd, "set_summary", at, Some(&summary))),
        secs + 3600,
        |am| {
            am.put(ROOT, "summary", "x").unwrap();
        },
    );
    j.attack(
        "8c change time and note time differ",
        &mut wang,
        &draft,
        bytes,
        &["bad_note", "clock", "not_reproducible"],
    );

    // 9. Every rule of Inspection::apply, broken by a change written as a tablet would.
    let cmd = Command::SetSummary {
        text: "改写".into(),
    };
    let bytes = wang.forged(&submitted, &cmd, |r, _| r.summary = "改写".into());
    j.attack(
        "9 frozen: set_summary under review",
        &mut wang,
        &submitted,
        bytes,
        RULE,
    );
    let cmd = Command::Answer {
        item: "NOPE-99".into(),
        answer: Some(Answer::Fails),
    };
    let bytes = wang.forged(&on_site, &cmd, |r, _| {
        r.results.insert(
            "NOPE-99".into(),
            ItemResult {
                answer: Some(Answer::Fails),
                ..Default::default()
            },
        );
    });
    j.attack("9 unknown item (answer)", &mut wang, &on_site, bytes, RULE);
    let cmd = Command::SetNote {
        item: "NOPE-99".into(),
        text: "x".into(),
    };
    let bytes = wang.forged(&on_site, &cmd, |r, _| {
        r.results.insert(
            "NOPE-99".into(),
            ItemResult {
                note: "x".into(),
                ..Default::default()
            },
        );
    });
    j.attack("9 unknown item (note)", &mut wang, &on_site, bytes, RULE);
    let mut unknown = hazard("hx", HazardLevel::General);
    unknown.stage = HazardStage::Ordered;
    unknown.deadline = Some(Day::ymd(2026, 12, 20));
    unknown.measures = "立即清理通道".into();
    let cmd = Command::Hazard {
        hazard: "hx".into(),
        action: order(Day::ymd(2026, 12, 20)),
    };
    let bytes = wang.forged(&on_site, &cmd, move |r, _| {
        r.hazards.insert("hx".into(), unknown);
    });
    j.attack("9 unknown hazard (order)", &mut wang, &on_site, bytes, RULE);
    let cmd = Command::SetHazardText {
        hazard: "hx".into(),
        description: "x".into(),
        place: "y".into(),
    };
    let bytes = wang.forged(&on_site, &cmd, |r, _| {
        let mut h = hazard("hx", HazardLevel::General);
        h.description = "x".into();
        h.place = "y".into();
        r.hazards.insert("hx".into(), h);
    });
    j.attack("9 unknown hazard (text)", &mut wang, &on_site, bytes, RULE);
    let mut dup = hazard("hg", HazardLevel::Major);
    dup.description = "重复登记".into();
    let cmd = Command::RegisterHazard(dup.clone());
    let bytes = wang.forged(&on_site, &cmd, move |r, _| {
        r.hazards.insert("hg".into(), dup);
    });
    j.attack("9 duplicate hazard", &mut wang, &on_site, bytes, RULE);
    // An item whose failure is a 重大事故隐患 situation: its hazard cannot be registered as
    // general, and a hazard on an item carries exactly the item's 处罚依据.
    let major_item = wang
        .template
        .items_for(e1.industry)
        .find(|i| i.major_hazard.is_some())
        .expect("the 工贸 checklist has major-hazard items")
        .code
        .clone();
    let mut downgraded = hazard("hd", HazardLevel::General);
    downgraded.item = Some(major_item.clone());
    let cmd = Command::RegisterHazard(downgraded.clone());
    let bytes = wang.forged(&on_site, &cmd, move |r, _| {
        r.hazards.insert("hd".into(), downgraded);
    });
    j.attack(
        "9 general hazard on a major-hazard item",
        &mut wang,
        &on_site,
        bytes,
        RULE,
    );
    let mut invented = hazard("hp", HazardLevel::Major);
    invented.item = Some(major_item);
    invented.penalty = vec![LegalBasis::new("安全生产法", "第一百一十二条")];
    let cmd = Command::RegisterHazard(invented.clone());
    let bytes = wang.forged(&on_site, &cmd, move |r, _| {
        r.hazards.insert("hp".into(), invented);
    });
    j.attack(
        "9 hazard with a 处罚依据 its item does not give",
        &mut wang,
        &on_site,
        bytes,
        RULE,
    );
    let mut closed = hazard("hn", HazardLevel::General);
    closed.stage = HazardStage::Closed;
    closed.closed_on = Some(day_of_registration());
    let cmd = Command::RegisterHazard(closed.clone());
    let bytes = wang.forged(&on_site, &cmd, move |r, _| {
        r.hazards.insert("hn".into(), closed);
    });
    j.attack(
        "9 new hazard registered already closed",
        &mut wang,
        &on_site,
        bytes,
        RULE,
    );
    let mut nobasis = hazard("hb", HazardLevel::General);
    nobasis.basis.clear();
    let cmd = Command::RegisterHazard(nobasis.clone());
    let bytes = wang.forged(&on_site, &cmd, move |r, _| {
        r.hazards.insert("hb".into(), nobasis);
    });
    j.attack(
        "9 new hazard without legal basis",
        &mut wang,
        &on_site,
        bytes,
        RULE,
    );
    let hazard_cmd = |h: &str, action: HazardAction| Command::Hazard {
        hazard: h.into(),
        action,
    };
    let cmd = hazard_cmd(
        "hg",
        HazardAction::ReportRectified {
            on: Day::ymd(2026, 12, 10),
        },
    );
    let bytes = wang.forged(&on_site, &cmd, |r, _| {
        let h = r.hazards.get_mut(&HazardId::from("hg")).unwrap();
        h.stage = HazardStage::Rectified;
        h.reported_on = Some(Day::ymd(2026, 12, 10));
    });
    j.attack(
        "9 hazard wrong stage: rectified reported on a registered hazard",
        &mut wang,
        &on_site,
        bytes,
        RULE,
    );
    let cmd = hazard_cmd(
        "ho",
        HazardAction::Close {
            on: Day::ymd(2026, 12, 10),
        },
    );
    let bytes = wang.forged(&on_site, &cmd, |r, _| {
        let h = r.hazards.get_mut(&HazardId::from("ho")).unwrap();
        h.stage = HazardStage::Closed;
        h.closed_on = Some(Day::ymd(2026, 12, 10));
    });
    j.attack(
        "9 hazard wrong stage: 销号 of an ordered hazard",
        &mut wang,
        &on_site,
        bytes,
        RULE,
    );
    let cmd = hazard_cmd("ho", order(Day::ymd(2026, 12, 28)));
    let bytes = wang.forged(&on_site, &cmd, |r, _| {
        let h = r.hazards.get_mut(&HazardId::from("ho")).unwrap();
        h.deadline = Some(Day::ymd(2026, 12, 28));
    });
    j.attack(
        "9 hazard wrong stage: ordered twice (deadline moved)",
        &mut wang,
        &on_site,
        bytes,
        RULE,
    );
    let cmd = hazard_cmd("hm", order(Day::ymd(2026, 12, 20)));
    let bytes = wang.forged(&on_site, &cmd, |r, _| {
        let h = r.hazards.get_mut(&HazardId::from("hm")).unwrap();
        h.stage = HazardStage::Ordered;
        h.deadline = Some(Day::ymd(2026, 12, 20));
        h.measures = "立即清理通道".into();
    });
    j.attack(
        "9 major hazard ordered without supervision (挂牌督办)",
        &mut wang,
        &on_site,
        bytes,
        RULE,
    );
    let cmd = hazard_cmd("hg", order(Day::ymd(2026, 11, 1)));
    let bytes = wang.forged(&on_site, &cmd, |r, _| {
        let h = r.hazards.get_mut(&HazardId::from("hg")).unwrap();
        h.stage = HazardStage::Ordered;
        h.deadline = Some(Day::ymd(2026, 11, 1));
        h.measures = "立即清理通道".into();
    });
    j.attack(
        "9 deadline before registration",
        &mut wang,
        &on_site,
        bytes,
        RULE,
    );
    let cmd = hazard_cmd(
        "hg",
        HazardAction::Order {
            deadline: Day::ymd(2026, 12, 20),
            measures: "  ".into(),
        },
    );
    let bytes = wang.forged(&on_site, &cmd, |r, _| {
        let h = r.hazards.get_mut(&HazardId::from("hg")).unwrap();
        h.stage = HazardStage::Ordered;
        h.deadline = Some(Day::ymd(2026, 12, 20));
        h.measures = "  ".into();
    });
    j.attack("9 order without measures", &mut wang, &on_site, bytes, RULE);
    let failed = Reinspection {
        on: Day::ymd(2026, 12, 11),
        by: wu.id.clone(),
        passed: false,
        note: "未完成".into(),
        photos: BTreeMap::new(),
        new_deadline: None,
    };
    let cmd = hazard_cmd(
        "hr",
        HazardAction::Reinspect {
            id: "r1".into(),
            reinspection: failed.clone(),
        },
    );
    let bytes = wang.forged(&on_site, &cmd, move |r, _| {
        let h = r.hazards.get_mut(&HazardId::from("hr")).unwrap();
        h.stage = HazardStage::Ordered;
        h.reinspections.insert("r1".into(), failed);
    });
    j.attack(
        "9 failed re-inspection without a new deadline",
        &mut wang,
        &on_site,
        bytes,
        RULE,
    );
    let cmd = hazard_cmd("hd", order(Day::ymd(2026, 12, 20)));
    let bytes = wang.forged(&bare, &cmd, |r, _| {
        let h = r.hazards.get_mut(&HazardId::from("hd")).unwrap();
        h.stage = HazardStage::Ordered;
        h.deadline = Some(Day::ymd(2026, 12, 20));
        h.measures = "立即清理通道".into();
    });
    j.attack(
        "9 not in status: hazard ordered on a draft",
        &mut wang,
        &bare,
        bytes,
        RULE,
    );
    let zhang_user = wang.user("u-zhang");
    for (label, sig) in [
        (
            "signer not on record",
            signature(
                Signer::Inspector(zhang_user.id.clone()),
                &zhang_user.name,
                SignOutcome::Signed {
                    image: photo.clone(),
                },
            ),
        ),
        (
            "inspector cannot refuse",
            signature(
                Signer::Inspector(wu.id.clone()),
                &wu.name,
                SignOutcome::Refused {
                    witness: "网格员".into(),
                    note: "不签".into(),
                },
            ),
        ),
        (
            "refusal without witness",
            signature(
                Signer::Enterprise,
                "李明",
                SignOutcome::Refused {
                    witness: " ".into(),
                    note: "拒绝签字".into(),
                },
            ),
        ),
    ] {
        let cmd = Command::Sign(sig.clone());
        let bytes = wang.forged(&on_site, &cmd, move |r, _| {
            r.signatures.insert(sig.signer.key(), sig);
        });
        j.attack(&format!("9 {label}"), &mut wang, &on_site, bytes, RULE);
    }
    let cmd = Command::IssueDocument(IssuedDocument {
        at: Timestamp(now_ms()),
        ..document.clone()
    });
    let Command::IssueDocument(again) = cmd.clone() else {
        unreachable!()
    };
    let bytes = wang.forged(&on_site, &cmd, move |r, _| {
        r.documents.insert(again.number.clone(), again);
    });
    j.attack(
        "9 duplicate document number",
        &mut wang,
        &on_site,
        bytes,
        RULE,
    );
    // Signed versions: an honest description of the state, where the rules refuse it.
    let signed_version = |c: &mut Client, id: &str, vid: &str| {
        let at = now_ms();
        let rec = c.recs.get_mut(id).unwrap();
        let version = SignedVersion {
            heads: rec.doc.heads().iter().map(ToString::to_string).collect(),
            content_hash: content_hash(rec.doc.record()),
            at: Timestamp(at),
            by: c.user.id.clone(),
        };
        let cmd = Command::RecordSignedVersion {
            id: vid.into(),
            version: version.clone(),
        };
        let before = rec.doc.record().clone();
        let mut after = before.clone();
        after.signed_versions.insert(vid.into(), version);
        let message = note(&c.user, &c.device, cmd.name(), at, Some(&cmd));
        let device = c.device.clone();
        c.raw(id, &device, Some(message), at.div_euclid(1000), |am| {
            forge(am, &before, &after)
        })
    };
    let bytes = signed_version(&mut wang, &draft, "v1");
    j.attack(
        "9 not in status: signed version of a draft",
        &mut wang,
        &draft,
        bytes,
        RULE,
    );
    let bytes = signed_version(&mut wang, &submitted, "v2");
    j.attack(
        "9 not in status: signed version under review",
        &mut wang,
        &submitted,
        bytes,
        RULE,
    );
    // Status moves.
    let moves: Vec<(&str, &String, InspectionStatus, &str)> = vec![
        (
            "no such move: draft → completed",
            &draft,
            InspectionStatus::Completed,
            "",
        ),
        (
            "no such move: draft → submitted",
            &draft,
            InspectionStatus::Submitted,
            "",
        ),
        (
            "no such move: on_site → draft",
            &on_site,
            InspectionStatus::Draft,
            "",
        ),
        (
            "no such move: submitted → completed",
            &submitted,
            InspectionStatus::Completed,
            "",
        ),
        (
            "unmet: on_site without arrival proof and attestations",
            &bare,
            InspectionStatus::OnSite,
            "",
        ),
        (
            "unmet: on_site with fewer than two inspectors",
            &lonely,
            InspectionStatus::OnSite,
            "",
        ),
        (
            "unmet: completed with unanswered items, no on-site person, no signatures",
            &on_site,
            InspectionStatus::Completed,
            "",
        ),
        (
            "unmet: submitted without a signed version",
            &completed,
            InspectionStatus::Submitted,
            "",
        ),
    ];
    for (label, id, to, comment) in moves {
        let cmd = transition(to, comment);
        let bytes = wang.forged(id, &cmd, |r, t| {
            r.status = to;
            match to {
                InspectionStatus::OnSite => r.started_at = Some(t),
                InspectionStatus::Completed => r.completed_at = Some(t),
                _ => {}
            }
        });
        j.attack(&format!("9 {label}"), &mut wang, id, bytes, RULE);
    }
    let cmd = transition(InspectionStatus::OnSite, "");
    let bytes = zhang.forged(&draft, &cmd, |r, t| {
        r.status = InspectionStatus::OnSite;
        r.started_at = Some(t);
    });
    j.attack(
        "9 unmet: actor not on record (u-zhang moves wang's draft on site)",
        &mut zhang,
        &draft,
        bytes,
        RULE,
    );
    // A signed version on the completed record, then the same version id again.
    wang.sign_version(&completed, "v1");
    wang.push_rec(&completed);
    let bytes = signed_version(&mut wang, &completed, "v1");
    j.attack(
        "9 duplicate signed version",
        &mut wang,
        &completed,
        bytes,
        RULE,
    );
    // Returned → submitted needs a version signed after the return.
    zhao.pull_all();
    zhao.run(
        &submitted,
        transition(InspectionStatus::Returned, "请补充现场照片"),
    );
    zhao.push_rec(&submitted);
    wang.pull_all();
    assert_eq!(wang.record(&submitted).status, InspectionStatus::Returned);
    let bytes = wang.forged(
        &submitted,
        &transition(InspectionStatus::Submitted, ""),
        |r, _| {
            r.status = InspectionStatus::Submitted;
        },
    );
    j.attack(
        "9 unmet: resubmitted after return without a new signed version",
        &mut wang,
        &submitted,
        bytes,
        RULE,
    );
    let bytes = wang.forged(&submitted, &approve, |r, t| {
        r.status = InspectionStatus::Approved;
        r.review = Some(Review {
            by: wu.id.clone(),
            at: t,
            decision: ReviewDecision::Approved,
            comment: String::new(),
            items: Default::default(),
        });
    });
    j.attack(
        "9 wrong role: inspector approves a returned record",
        &mut wang,
        &submitted,
        bytes,
        &["forbidden", "rule", "not_reproducible"],
    );

    let elapsed = started.elapsed();
    println!("suite ran in {elapsed:?}");
    j.finish();
}

/// A 秦淮 inspector names, in his own record, a photo only a 玄武 record holds.
#[test]
fn naming_another_units_photo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let mut wang = Client::new(&server, "u-wang", "p-wang");
    let mut chen = Client::new(&server, "u-chen", "p-chen");
    let li = wang.user("u-li");
    let liu = chen.user("u-liu");
    let e1 = wang.enterprise("e-001");
    let e6 = chen.enterprise("e-006");
    let photo = wang.upload(b"a photo of a xuanwu workshop");
    let item = wang
        .template
        .items_for(e1.industry)
        .next()
        .unwrap()
        .code
        .clone();
    let id = wang.visit(&e1, &li, &photo, Stage::OnSite);
    wang.run(
        &id,
        Command::AddItemPhoto {
            item: item.clone(),
            photo: PhotoRef {
                sha256: photo.clone(),
                added_at: Timestamp(now_ms()),
                added_by: wang.user.id.clone(),
            },
        },
    );
    wang.push_rec(&id);
    // chen's own record, honest in every other way.
    let own = chen.create(InspectionKind::Unannounced, &e6, None);
    let me = chen.user.clone();
    for u in [&me, &liu] {
        chen.run(&own, Command::AddInspector(inspector_ref(u)));
    }
    chen.push_rec(&own);
    let item6 = chen
        .template
        .items_for(e6.industry)
        .next()
        .unwrap()
        .code
        .clone();
    chen.run(
        &own,
        Command::AddItemPhoto {
            item: item6,
            photo: PhotoRef {
                sha256: photo.clone(),
                added_at: Timestamp(now_ms()),
                added_by: chen.user.id.clone(),
            },
        },
    );
    let rec = chen.recs.get_mut(&own).unwrap();
    let bytes = rec.doc.automerge_mut().save_after(&rec.synced);
    let r = chen.push(&own, bytes);
    assert!(
        r.accepted.is_empty(),
        "accepted a 玄武 photo in a 秦淮 record"
    );
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].code, "photo_not_yours", "{:?}", r.rejected[0]);
    let (status, body) = chen.get_record(&own);
    assert_eq!(status, 200);
    assert!(!body.contains(photo.as_str()), "the photo was stored");
}

/// An inspector on the record edits an approved record's content with a change whose
/// dependencies are the heads from before submission (a "concurrent" edit, as an offline
/// tablet would make it, but made on purpose long after the approval).
#[test]
fn an_edit_on_pre_submission_heads_cannot_change_an_approved_record() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let mut wang = Client::new(&server, "u-wang", "c-wang");
    let mut li = Client::new(&server, "u-li", "c-li");
    let mut zhao = Client::new(&server, "u-zhao", "c-zhao");
    let li_user = li.user.clone();
    let e1 = wang.enterprise("e-001");
    let photo = wang.upload(b"concurrent: entrance and signatures");
    let id = wang.visit(&e1, &li_user, &photo, Stage::Completed);
    // li's tablet holds the record as completed.
    let bytes = wang.recs.get_mut(&id).unwrap().doc.save();
    let doc = InspectionDoc::load(&bytes, &li.device).unwrap();
    let synced = wang.recs[&id].synced.clone();
    li.recs.insert(id.clone(), Rec { doc, synced });
    // wang signs and submits; zhao approves.
    wang.sign_version(&id, "v1");
    wang.run(&id, transition(InspectionStatus::Submitted, ""));
    wang.push_rec(&id);
    zhao.pull_all();
    let bytes = wang.recs.get_mut(&id).unwrap().doc.save();
    let doc = InspectionDoc::load(&bytes, &zhao.device).unwrap();
    let synced = wang.recs[&id].synced.clone();
    zhao.recs.insert(id.clone(), Rec { doc, synced });
    zhao.run(&id, transition(InspectionStatus::Approved, ""));
    zhao.push_rec(&id);
    let (_, approved) = li.get_record(&id);
    assert!(approved.contains(r#""status":"approved""#), "{approved}");
    // li, later, writes the summary on the completed state (its rules allow it there).
    li.run(
        &id,
        Command::SetSummary {
            text: "审核通过后改写的检查情况".into(),
        },
    );
    let rec = li.recs.get_mut(&id).unwrap();
    let bytes = rec.doc.automerge_mut().save_after(&rec.synced);
    let r = li.push(&id, bytes);
    let (_, after) = li.get_record(&id);
    let view: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert!(
        r.accepted.is_empty() && !after.contains("审核通过后改写"),
        "accepted: {:?} / rejected {:?}; the record now reads status {}, summary {}, conflicts {}",
        r.accepted,
        r.rejected,
        view["record"]["status"],
        view["record"]["summary"],
        view["conflicts"]
    );
}
