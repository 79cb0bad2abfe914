//! The demo reference data from `fixtures/`, for the library's unit tests.

use app_core::user::User;
use std::path::Path;

/// 2026-11-23T00:00:00Z, the tests' reference instant.
pub const T0: i64 = 1_795_420_800_000;

/// A file of `fixtures/`, as text.
pub fn fixture(path: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures")
            .join(path),
    )
    .unwrap()
}

/// A demo user by id.
pub fn user(id: &str) -> User {
    let users: Vec<User> = serde_json::from_str(&fixture("demo/users.json")).unwrap();
    users.into_iter().find(|u| u.id.as_str() == id).unwrap()
}

/// Record `r1` of the first demo enterprise, routine, created by 王强 at [`T0`] with 李娜 on it
/// as co-inspector, in `store`; returns its id, its template and 王强 (to act as).
pub fn routine_record(
    store: &mut crate::store::Store,
) -> (
    app_core::ids::InspectionId,
    app_core::checklist::ChecklistTemplate,
    User,
) {
    use app_core::checklist::ChecklistTemplate;
    use app_core::enterprise::Enterprise;
    use app_core::geo::Timestamp;
    use app_core::ids::InspectionId;
    use app_core::inspection::{Command, Context, Inspection, InspectorRef};
    use app_core::kind::InspectionKind;

    let t = ChecklistTemplate::parse_toml(&fixture("checklists/gongmao.toml")).unwrap();
    let enterprises: Vec<Enterprise> =
        serde_json::from_str(&fixture("demo/enterprises.json")).unwrap();
    let e = &enterprises[0];
    let (w, l) = (user("u-wang"), user("u-li"));
    let id = InspectionId::from("r1");
    let record = Inspection::new_draft(
        id.clone(),
        InspectionKind::Routine,
        e.unit.clone(),
        e.into(),
        t.reference(),
        w.id.clone(),
        Timestamp(T0),
    );
    store.create_inspection(&record, &t, Timestamp(T0)).unwrap();
    let cx = Context {
        actor: &w,
        now: Timestamp(T0),
        template: &t,
    };
    for u in [&w, &l] {
        let add = Command::AddInspector(InspectorRef {
            user: u.id.clone(),
            name: u.name.clone(),
            certificate: u.certificate().unwrap().clone(),
        });
        store.apply(&id, &add, &cx).unwrap();
    }
    (id, t, w)
}
