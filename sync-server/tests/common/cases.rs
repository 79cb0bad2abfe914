//! Penalty cases made as a tablet makes them (`app_core::penalty`), for the case tests and
//! the storage suite; and a tablet's case sync over the real HTTP API.

use super::{Tablet, TestServer, now_ms, rid};
use app_core::geo::Timestamp;
use app_core::ids::DeviceId;
use app_core::inspection::{EnterpriseSnapshot, InspectorRef};
use app_core::legal::LegalBasis;
use app_core::penalty::{
    CaseContext, CaseId, CaseSource, OpenCase, PenaltyCase, PenaltySettings, WorkCalendar,
};
use app_core::user::User;
use app_core::wire::{CASE_SYNC_PATH, CaseSyncRequest, CaseSyncResponse, DocChanges};
use std::sync::LazyLock;

/// The rules a unit without its own (nor a parent's) configuration is judged with: app-core's
/// defaults, no discretion table.
static SETTINGS: LazyLock<PenaltySettings> = LazyLock::new(PenaltySettings::default);
static CALENDAR: LazyLock<WorkCalendar> = LazyLock::new(WorkCalendar::default);

/// The case context of `actor` at `now`, with the server's rules.
pub fn cx(actor: &User, now: Timestamp) -> CaseContext<'_> {
    CaseContext {
        actor,
        now,
        settings: &SETTINGS,
        calendar: &CALENDAR,
        discretion: None,
    }
}

/// A case id as a tablet mints it (a UUID), readable in tests: the same name, the same id.
pub fn case_id(name: &str) -> String {
    rid(&format!("case {name}"))
        .strip_prefix("insp-")
        .expect("rid starts with insp-")
        .to_owned()
}

pub fn inspector_ref(u: &User) -> InspectorRef {
    InspectorRef {
        user: u.id.clone(),
        name: u.name.clone(),
        certificate: u.certificate().expect("an inspector").clone(),
    }
}

/// What opening case `id` of `opener`'s unit against `enterprise` takes, with `partner` as
/// the second inspector, from inspection record `record`. Test data: the provision is marked
/// 依据待核.
pub fn opening(
    id: &str,
    opener: &User,
    partner: &User,
    enterprise: &app_core::enterprise::Enterprise,
    record: &str,
) -> OpenCase {
    let basis = LegalBasis::new("安全生产法", "第九十七条").pending();
    OpenCase {
        id: CaseId::from(id),
        unit: opener.unit.clone(),
        enterprise: EnterpriseSnapshot::from(enterprise),
        source: CaseSource::Inspection {
            inspection: record.into(),
            item: None,
            hazard: None,
        },
        facts: "3名新员工未经安全培训上岗".into(),
        violated: vec![basis.clone()],
        penalty_basis: vec![basis],
        inspectors: vec![inspector_ref(opener), inspector_ref(partner)],
    }
}

/// The case opened by `opener` now (what the server's check expects of a creation).
pub fn opened(open: OpenCase, opener: &User, now: Timestamp) -> PenaltyCase {
    PenaltyCase::open(open, &cx(opener, now)).expect("the case opens")
}

/// The real clock as a change's time.
pub fn now() -> Timestamp {
    Timestamp(now_ms())
}

impl Tablet {
    /// A new record of this tablet's user with `colleague`, synced: what a case is opened
    /// from (the server accepts a case only from a record it holds and its opener may read).
    pub fn synced_record(&self, name: &str, colleague: &User) -> String {
        let id = rid(name);
        self.new_record(&id, colleague);
        let report = self.sync();
        assert!(report.rejected.is_empty(), "{report:?}");
        id
    }

    /// This tablet's device.
    pub fn device(&self) -> DeviceId {
        tablet::sync::device_of(&self.store.lock().unwrap())
    }

    /// One case sync with the server over HTTP: pushes `cases` after `cursor`.
    pub fn sync_cases(
        &self,
        server: &TestServer,
        cursor: u64,
        cases: Vec<DocChanges>,
    ) -> CaseSyncResponse {
        let request = CaseSyncRequest {
            version: app_core::wire::PROTOCOL_VERSION,
            cursor,
            cases,
        };
        let mut body = Vec::new();
        ciborium::into_writer(&request, &mut body).unwrap();
        let token = &self.client.session().expect("signed in").token;
        let response = server
            .http()
            .post(format!("{}{CASE_SYNC_PATH}", server.url()))
            .bearer_auth(token)
            .header("content-type", "application/cbor")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "case sync answered");
        ciborium::from_reader(&response.bytes().unwrap()[..]).unwrap()
    }
}

/// `bytes` pushed as case `id`.
pub fn push(id: &str, bytes: Vec<u8>) -> DocChanges {
    DocChanges {
        id: id.to_owned(),
        bytes,
        receipt: None,
    }
}
