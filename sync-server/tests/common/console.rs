//! Helpers for the console's tests: a tablet record walked to "submitted" with a real photo
//! uploaded, and a small cookie-keeping HTTP client for the console's pages.

use super::{PASSWORD, Tablet, TestServer};
use app_core::draw::{DrawInput, PoolFilter};
use app_core::enterprise::Enterprise;
use app_core::evidence::{PhotoRef, Sha256Hex};
use app_core::geo::{Day, Position, PositionSource};
use app_core::hazard::{Hazard, HazardAction, HazardLevel, HazardStage};
use app_core::ids::{HazardId, InspectionId};
use app_core::inspection::{
    Answer, ArrivalProof, Attestations, Command, InspectionStatus, OnsitePerson, SignOutcome,
    Signature, Signer,
};
use app_core::kind::InspectionKind;
use app_core::legal::LegalBasis;
use app_core::plan::Plan;
use app_core::user::User;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

pub fn photo_bytes(name: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/photos/");
    std::fs::read(Path::new(dir).join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Document numbers issued by the fixtures, unique across the records of a test run.
static NEXT_NUMBER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

fn transition(to: InspectionStatus) -> Command {
    Command::Transition {
        to,
        comment: String::new(),
    }
}

/// Takes a new 四不两直 record of enterprise e-001 on `t` (with `colleague`) through the visit:
/// arrival proof with `photo` as the entrance photo, every item answered (the first fails,
/// with `photo` attached and a general hazard ordered), signatures, a signed version, and
/// submission. Then uploads the photo's original from `blobs` and syncs the record, as the
/// tablet's sync cycle does (the server accepts a photo only from a device that uploaded it).
pub fn submitted_record(
    server: &TestServer,
    t: &Tablet,
    colleague: &Tablet,
    id: &str,
    blobs: &tablet::blobs::BlobStore,
    photo: &Sha256Hex,
) {
    submitted_record_of_kind(
        server,
        t,
        colleague,
        id,
        blobs,
        photo,
        InspectionKind::Unannounced,
    )
}

/// The deadline [`submitted_record`] orders its hazard rectified by: two days after the visit.
pub fn hazard_deadline(t: &Tablet) -> Day {
    t.at(6).shanghai_date().plus_days(2)
}

/// Percent-encodes every byte but the unreserved ones (a form field's value).
pub fn form_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Seals a 双随机 draw in the console, as `supervisor` does with the draw page's seal button:
/// every enterprise of `enterprise`'s unit, industry and grade is drawn, each with both
/// inspectors of `roster`. Then `tablet` (one of them) fetches its reference data, as at
/// sign-in, and the plan for `enterprise` it received is returned.
pub fn drawn_plan(
    server: &TestServer,
    supervisor: &str,
    enterprise: &Enterprise,
    roster: [&User; 2],
    tablet: &Tablet,
) -> Plan {
    let reference = sync_server::ReferenceData::load(&super::fixtures()).unwrap();
    let filter = PoolFilter {
        unit: enterprise.unit.clone(),
        industries: Some(vec![enterprise.industry]),
        grades: Some(vec![enterprise.grade]),
    };
    let pool = filter.select(&reference.enterprises, &reference.units);
    let input = DrawInput {
        targets: pool.len() as u32,
        filter,
        pool,
        roster: roster.iter().map(|u| u.id.clone()).collect(),
        conflicts: Vec::new(),
        inspectors_per_target: 2,
        seed: format!("{} 测试种子", enterprise.id),
    };
    let mut console = ConsoleClient::new(server);
    assert_eq!(console.sign_in(supervisor, PASSWORD).status, 303);
    let sealed = console.post(
        "/console/draws/seal",
        &format!(
            "csrf={}&input={}",
            console.csrf(),
            form_value(&input.canonical_json())
        ),
    );
    assert_eq!(sealed.status, 303, "{}", sealed.body);
    tablet.client.fetch_reference(&tablet.store).unwrap();
    let plans = tablet.store.lock().unwrap().reference::<Plan>().unwrap();
    plans
        .into_iter()
        .find(|p| p.draw.is_some() && p.enterprise == enterprise.id)
        .unwrap_or_else(|| {
            panic!(
                "{} received no drawn plan for {}",
                tablet.user.id, enterprise.id
            )
        })
}

/// [`submitted_record`] of any kind, of enterprise e-002 unless unannounced. A 双随机
/// (random_draw) record comes from a plan sealed from a draw: the unit's supervisor (u-zhao)
/// seals one for e-002 with `t` and `colleague` first.
pub fn submitted_record_of_kind(
    server: &TestServer,
    t: &Tablet,
    colleague: &Tablet,
    id: &str,
    blobs: &tablet::blobs::BlobStore,
    photo: &Sha256Hex,
    kind: InspectionKind,
) {
    if kind == InspectionKind::Unannounced {
        t.new_record(id, &colleague.user);
    } else {
        let enterprise = t.enterprise("e-002");
        let plan = (kind == InspectionKind::RandomDraw)
            .then(|| drawn_plan(server, "u-zhao", &enterprise, [&t.user, &colleague.user], t));
        let plan = plan.as_ref().map(|p| p.id.as_str());
        t.new_draft(id, &enterprise, kind, plan, &colleague.user);
    }
    let template = t.template();
    let photo_ref = PhotoRef {
        sha256: photo.clone(),
        added_at: t.at(3),
        added_by: t.user.id.clone(),
    };
    t.apply(
        id,
        Command::SetArrival(ArrivalProof {
            at: t.at(2),
            position: Position::new(32.0935, 118.8056, PositionSource::Device).unwrap(),
            entrance_photo: photo.clone(),
        }),
        2,
    );
    t.apply(
        id,
        Command::SetAttestations(Attestations {
            no_notice_given: true,
            no_escort_accepted: true,
        }),
        2,
    );
    t.apply(id, transition(InspectionStatus::OnSite), 3);
    let record = t.record(id);
    let items: Vec<_> = template
        .items_for(record.enterprise.industry)
        .map(|i| i.code.clone())
        .collect();
    for (n, item) in items.iter().enumerate() {
        let answer = if n == 0 {
            Answer::Fails
        } else {
            Answer::Complies
        };
        t.apply(
            id,
            Command::Answer {
                item: item.clone(),
                answer: Some(answer),
            },
            4,
        );
    }
    t.apply(
        id,
        Command::AddItemPhoto {
            item: items[0].clone(),
            photo: photo_ref,
        },
        5,
    );
    t.apply(
        id,
        Command::SetNote {
            item: items[0].clone(),
            text: "<b>消防通道堵塞</b> & 未整改".into(),
        },
        5,
    );
    let hazard = HazardId::from(format!("{id}-h1"));
    let today = t.at(6).shanghai_date();
    t.apply(
        id,
        Command::RegisterHazard(Hazard {
            id: hazard.clone(),
            item: Some(items[0].clone()),
            level: HazardLevel::General,
            description: "消防通道堵塞".into(),
            place: "一号车间".into(),
            basis: vec![LegalBasis::new("安全生产法", "第四十二条")],
            penalty: Vec::new(),
            photos: BTreeMap::new(),
            measures: String::new(),
            deadline: None,
            stage: HazardStage::Registered,
            supervision: None,
            registered_on: today,
            reported_on: None,
            reinspections: BTreeMap::new(),
            closed_on: None,
        }),
        6,
    );
    t.apply(
        id,
        Command::Hazard {
            hazard,
            action: HazardAction::Order {
                deadline: hazard_deadline(t),
                measures: "立即清理通道".into(),
            },
        },
        6,
    );
    t.apply(
        id,
        Command::SetOnsitePerson(OnsitePerson {
            name: "李明".into(),
            position: "安全主管".into(),
            phone: "13800000000".into(),
        }),
        7,
    );
    for u in [&t.user, &colleague.user] {
        t.apply(
            id,
            Command::Sign(Signature {
                signer: Signer::Inspector(u.id.clone()),
                name: u.name.clone(),
                outcome: SignOutcome::Signed {
                    image: photo.clone(),
                },
                at: t.at(8),
                read: Vec::new(),
            }),
            8,
        );
    }
    t.apply(
        id,
        Command::Sign(Signature {
            signer: Signer::Enterprise,
            name: "李明".into(),
            outcome: SignOutcome::Refused {
                witness: "社区网格员 刘洋".into(),
                note: "拒绝签字".into(),
            },
            at: t.at(8),
            read: Vec::new(),
        }),
        8,
    );
    // The numbers (文号) of the documents the signing covers, as the app issues them, so
    // that the console can render each document.
    let device = t.store.lock().unwrap().device().clone();
    let year = t.at(8).shanghai_date().year();
    for kind in app_core::signing::documents_for(&t.record(id)) {
        let seq = NEXT_NUMBER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        t.apply(
            id,
            Command::IssueDocument(app_core::docnumber::IssuedDocument {
                kind,
                number: format!("（玄武）应急{}〔{year}〕{seq}号", kind.title_zh()),
                seq,
                year,
                at: t.at(8),
                by: t.user.id.clone(),
                device: device.clone(),
            }),
            8,
        );
    }
    t.apply(id, transition(InspectionStatus::Completed), 9);
    {
        let cx = t.cx(&template, 10);
        t.store
            .lock()
            .unwrap()
            .sign(&InspectionId::from(id), "v1", &cx)
            .unwrap();
    }
    t.apply(id, transition(InspectionStatus::Submitted), 11);
    let report = upload_then_sync(t, blobs);
    assert_eq!(report.accepted, 1, "{report:?}");
}

/// What the tablet's sync cycle does ([`Tablet::upload_then_sync`]): uploads the photo
/// originals `t` holds in `blobs` that the server lacks, then syncs `t`'s records, which may
/// then name them. Asserts every pushed record was accepted.
pub fn upload_then_sync(t: &Tablet, blobs: &tablet::blobs::BlobStore) -> tablet::sync::SyncReport {
    let report = t.upload_then_sync(blobs);
    assert!(report.rejected.is_empty(), "{report:?}");
    assert_eq!(report.accepted, report.pushed, "{report:?}");
    report
}

/// The sign-in form's pre-sign-in cookie (`console_login=…`) and hidden field value, as a
/// browser gets them by loading `/console/login` (login CSRF protection).
pub fn login_form_token(http: &reqwest::blocking::Client, base: &str) -> (String, String) {
    let resp = http.get(format!("{base}/console/login")).send().unwrap();
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("console_login="))
        .expect("the sign-in page sets console_login")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body = resp.text().unwrap();
    let at = body
        .find("name=\"login_csrf\" value=\"")
        .expect("a login_csrf field")
        + "name=\"login_csrf\" value=\"".len();
    let field = body[at..].split('"').next().unwrap().to_owned();
    (cookie, field)
}

/// Posts the sign-in form as a browser does: loads the page first for its login CSRF value.
pub fn post_login(
    http: &reqwest::blocking::Client,
    base: &str,
    user: &str,
    password: &str,
) -> reqwest::blocking::Response {
    let (cookie, field) = login_form_token(http, base);
    http.post(format!("{base}/console/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(format!(
            "login_csrf={field}&user={user}&password={password}"
        ))
        .send()
        .unwrap()
}

/// A browser-like HTTP client for the console: keeps the session cookie, never follows
/// redirects (tests look at them).
pub struct ConsoleClient {
    base: String,
    http: reqwest::blocking::Client,
    cookie: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl ConsoleClient {
    pub fn new(server: &TestServer) -> Self {
        Self {
            base: server.url(),
            http: server.http(),
            cookie: None,
        }
    }

    /// A client of the server at `base` (`http://host:port`).
    pub fn at(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    /// The same browser (its session cookie) talking to another server at `base`: another
    /// node behind the same load balancer.
    pub fn moved_to(&self, base: &str) -> Self {
        Self {
            cookie: self.cookie.clone(),
            ..Self::at(base)
        }
    }

    fn page(resp: reqwest::blocking::Response) -> Page {
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = resp.bytes().unwrap().to_vec();
        Page {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            location,
            content_type,
            bytes,
        }
    }

    /// Signs in through the login form; returns the answer (a redirect on success).
    pub fn sign_in(&mut self, user: &str, password: &str) -> Page {
        let resp = post_login(&self.http, &self.base, user, password);
        if let Some(c) = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("console_session="))
        {
            self.cookie = Some(c.split(';').next().unwrap().to_owned());
        }
        Self::page(resp)
    }

    pub fn get(&self, path: &str) -> Page {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        Self::page(req.send().unwrap())
    }

    /// A `GET` with extra request headers (e.g. `Range`); the answer and its headers.
    pub fn get_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (Page, reqwest::header::HeaderMap) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let resp = req.send().unwrap();
        let h = resp.headers().clone();
        (Self::page(resp), h)
    }

    pub fn post(&self, path: &str, body: &str) -> Page {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        Self::page(req.send().unwrap())
    }

    /// A `POST` of `body` as `content_type` (a multipart form, say).
    pub fn post_bytes(&self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        Self::page(req.send().unwrap())
    }

    /// The CSRF token of the signed-in session, read from a page's sign-out form.
    pub fn csrf(&self) -> String {
        let body = self.get("/console/records").body;
        let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        body[at..at + 64].to_owned()
    }
}

pub fn text_of<'a>(body: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {body}"));
    let start = at + body[at..].find('>').unwrap() + 1;
    let end = start + body[start..].find('<').unwrap();
    &body[start..end]
}

/// Follows the job's progress page until it is no longer running; returns the last page and
/// every state seen.
pub fn follow(c: &ConsoleClient, job: &str) -> (Page, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut states = Vec::new();
    loop {
        let p = c.get(job);
        assert_eq!(p.status, 200, "{}", p.body);
        let at = p.body.find("data-state=\"").expect("a job state") + 12;
        let state = p.body[at..at + p.body[at..].find('"').unwrap()].to_owned();
        if state == "running" {
            // The page refreshes itself while the export runs and shows bytes done/total.
            assert!(p.body.contains(r#"http-equiv="refresh" content="1""#));
            assert!(p.body.contains("id=\"casefile-bytes\""), "{}", p.body);
        }
        states.push(state.clone());
        if state != "running" {
            return (p, states);
        }
        assert!(Instant::now() < deadline, "the export did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
}
