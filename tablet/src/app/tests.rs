//! The app service's tests, with the fixtures the number tests share.

use super::*;
use crate::store::{Store, StoreError};
use crate::sync::Session;
use app_core::checklist::ChecklistTemplate;
use app_core::docnumber::{DocumentKind, IssuedDocument};
use app_core::document::DocError;
use app_core::enterprise::Enterprise;
use app_core::evidence::Sha256Hex;
use app_core::hazard::HazardError;
use app_core::ids::UserId;
use app_core::ids::{EnterpriseId, HazardId, ItemCode};
use app_core::inspection::{Answer, OnsitePerson, SignOutcome, Signature, Signer};
use app_core::inspection::{Command, Context, Inspection, InspectionStatus, RecordError, Unmet};
use app_core::kind::InspectionKind;
use app_core::unit::Unit;
use casefile::{TrustedKey, VerifyOptions};
use export::free_path;
use std::fs;
use std::path::Path;
use std::time::Instant;
use tablet_api::{
    ExportCaseFile, ExportState, GetDraft, GetExportStatus, GetHome, GetRecord, GetStatus,
    PhotoArgs, PhotoLink, PutDraft, StartInspection,
};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const PHOTOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/photos");
pub(super) const NUMBER: &str = "（玄武）应急检记〔2026〕7号";

fn read_json<T: serde::de::DeserializeOwned>(path: &str) -> T {
    serde_json::from_str(&fs::read_to_string(Path::new(ROOT).join(path)).unwrap()).unwrap()
}

pub(super) fn photo(name: &str) -> Vec<u8> {
    fs::read(Path::new(PHOTOS).join(name)).unwrap()
}

/// An app on a real store in a temporary folder, signed in as u-wang (the session as a
/// sign-in would have saved it; the server it names does not answer, so the background
/// sync keeps retrying while the tests run), with the demo reference data.
pub(super) struct TestApp {
    pub(super) _dir: tempfile::TempDir,
    pub(super) config: AppConfig,
    pub(super) app: Arc<App>,
}

pub(super) fn signed_in_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig::in_folder(
        dir.path(),
        "http://127.0.0.1:9".into(),
        Duration::from_millis(50),
        Duration::from_millis(100),
    );
    {
        let mut store = Store::open(&config.db).unwrap();
        let users: Vec<User> = read_json("fixtures/demo/users.json");
        let units: Vec<Unit> = read_json("fixtures/demo/units.json");
        let enterprises: Vec<Enterprise> = read_json("fixtures/demo/enterprises.json");
        let templates: Vec<ChecklistTemplate> = ["gongmao", "weihuapin"]
            .iter()
            .map(|n| {
                let path = Path::new(ROOT).join(format!("fixtures/checklists/{n}.toml"));
                ChecklistTemplate::parse_toml(&fs::read_to_string(path).unwrap()).unwrap()
            })
            .collect();
        store.replace_reference(&users).unwrap();
        store.replace_reference(&units).unwrap();
        store.replace_reference(&enterprises).unwrap();
        store.replace_reference(&templates).unwrap();
        let session = Session {
            token: "t".into(),
            user: users
                .into_iter()
                .find(|u| u.id.as_str() == "u-wang")
                .unwrap(),
        };
        store
            .set_meta(SESSION_KEY, &serde_json::to_string(&session).unwrap())
            .unwrap();
    }
    let app = Arc::new(App::open(config.clone()).unwrap());
    TestApp {
        _dir: dir,
        config,
        app,
    }
}

/// A routine inspection made through the app's own methods: every item answered, the
/// first two failed with a camera photo each, the on-site person, both inspectors'
/// signatures (camera JPEGs as the signature images), the enterprise's refusal with a
/// witness; with `number`, the 现场检查记录's number [`NUMBER`] is issued by hand (as
/// another tablet could have); then completed and signed (v1), which issues the numbers
/// still missing from this tablet's pool. Returns the record and the fixture photos it
/// holds.
pub(super) fn inspected(app: &App, number: bool) -> (InspectionId, Vec<Vec<u8>>) {
    let (id, originals) = filled(app);
    if number {
        let device = app.store().device().clone();
        app.command(
            &id,
            &Command::IssueDocument(IssuedDocument {
                kind: DocumentKind::InspectionRecord,
                number: NUMBER.into(),
                seq: 7,
                year: 2026,
                at: now(),
                by: UserId::new("u-wang"),
                device,
            }),
        )
        .unwrap();
    }
    app.complete(&id).unwrap();
    (id, originals)
}

/// A routine inspection of e-001 by u-wang with u-li, just started through the app.
pub(super) fn started(app: &App) -> InspectionId {
    app.start(StartInspection {
        kind: InspectionKind::Routine,
        enterprise: EnterpriseId::new("e-001"),
        plan: None,
        co_inspector: Some(UserId::new("u-li")),
    })
    .unwrap()
}

/// [`inspected`] up to the signing: everything the rules require to complete, not signed.
pub(super) fn filled(app: &App) -> (InspectionId, Vec<Vec<u8>>) {
    let id = started(app);
    let view = app.record(&id).unwrap();
    let items: Vec<ItemCode> = view
        .template
        .categories
        .iter()
        .flat_map(|c| c.items.iter().map(|i| i.code.clone()))
        .collect();
    assert!(items.len() > 2);
    let mut originals = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let answer = if n < 2 {
            Answer::Fails
        } else {
            Answer::Complies
        };
        app.command(
            &id,
            &Command::Answer {
                item: item.clone(),
                answer: Some(answer),
            },
        )
        .unwrap();
    }
    for (item, name) in items.iter().zip(["gps-DSCN0010.jpg", "gps-DSCN0012.jpg"]) {
        let bytes = photo(name);
        let args = PhotoArgs {
            id: id.clone(),
            link: PhotoLink::Item(item.clone()),
        };
        let answer = app.ingest_photo(&args, &bytes).unwrap();
        assert_eq!(answer.sha256, Sha256Hex::of(&bytes));
        originals.push(bytes);
    }
    app.command(
        &id,
        &Command::SetOnsitePerson(OnsitePerson {
            name: "陈经理".into(),
            position: "安全主管".into(),
            phone: "13800000000".into(),
        }),
    )
    .unwrap();
    for (user, name, image) in [
        ("u-wang", "王强", "Canon_40D.jpg"),
        ("u-li", "李娜", "Nikon_D70.jpg"),
    ] {
        let bytes = photo(image);
        let args = PhotoArgs {
            id: id.clone(),
            link: PhotoLink::Loose,
        };
        let image = app.ingest_photo(&args, &bytes).unwrap().sha256;
        originals.push(bytes);
        app.command(
            &id,
            &Command::Sign(Signature {
                signer: Signer::Inspector(UserId::new(user)),
                name: name.into(),
                outcome: SignOutcome::Signed { image },
                at: now(),
                read: Vec::new(),
            }),
        )
        .unwrap();
    }
    app.command(
        &id,
        &Command::Sign(Signature {
            signer: Signer::Enterprise,
            name: "陈经理".into(),
            outcome: SignOutcome::Refused {
                witness: "社区网格员 刘洋".into(),
                note: "拒绝签字".into(),
            },
            at: now(),
            read: Vec::new(),
        }),
    )
    .unwrap();
    (id, originals)
}

/// Polls `export_status` (through `call`, as the screen does) until the export ends.
pub(super) fn wait_export(app: &App, id: &InspectionId) -> ExportStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = app
            .call(GetExportStatus { id: id.clone() })
            .unwrap()
            .expect("an export was started");
        if s.state != ExportState::Running {
            return s;
        }
        assert!(Instant::now() < deadline, "the export never ended: {s:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `f` on another thread and fails (instead of hanging) if it does not answer in
/// time: a store lock held by the export would block it.
fn within<T: Send + 'static>(app: &Arc<App>, f: impl FnOnce(&App) -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let app = app.clone();
    std::thread::spawn(move || {
        let _ = tx.send(f(&app));
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the store stayed locked during the export")
}

pub(super) fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_signed_record_exports_in_the_background_while_the_store_stays_usable() {
    let t = signed_in_app();
    let app = &t.app;
    let (id, originals) = inspected(app, true);
    // The export stops at its first progress report until the test lets it go on.
    let (go, gate) = std::sync::mpsc::channel();
    *app.export_gate.lock().unwrap() = Some(gate);
    let started = app
        .call(ExportCaseFile {
            id: id.clone(),
            version: None,
        })
        .unwrap();
    assert_eq!(started.state, ExportState::Running);
    assert_eq!(started.signed_version, "v1");
    assert!(
        started
            .file_name
            .starts_with(&format!("电子案卷_{NUMBER}_v1_")),
        "{}",
        started.file_name
    );
    assert!(
        started
            .path
            .starts_with(&t.config.exports.display().to_string())
    );

    // Running, stopped mid-way: the screens read and write the store meanwhile.
    let deadline = Instant::now() + Duration::from_secs(20);
    let running = loop {
        let s = app.export_status(&id).unwrap();
        if s.bytes_total > 0 {
            break s;
        }
        assert!(Instant::now() < deadline, "no progress reported");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(running.state, ExportState::Running);
    assert_eq!(running.bytes_done, 0);
    assert_eq!(running.files_done, 1);
    let rid = id.clone();
    let view = within(app, move |a| a.call(GetRecord { id: rid }));
    assert!(view.is_ok(), "{view:?}");
    let (rid, item) = (
        id.clone(),
        view.unwrap().template.categories[0].items[2].code.clone(),
    );
    let edited = within(app, move |a| {
        a.command(
            &rid,
            &Command::SetNote {
                item,
                text: "导出期间补充的说明".into(),
            },
        )
    });
    assert!(edited.is_ok(), "{edited:?}");
    // Asking again while it runs answers the running export; no second one starts.
    let again = within(app, {
        let rid = id.clone();
        move |a| {
            a.call(ExportCaseFile {
                id: rid,
                version: None,
            })
        }
    })
    .unwrap();
    assert_eq!(again.path, started.path);
    assert_eq!(again.state, ExportState::Running);
    go.send(()).unwrap();

    let done = wait_export(app, &id);
    assert_eq!(done.state, ExportState::Done, "{:?}", done.error);
    assert_eq!(done.bytes_done, done.bytes_total);
    assert!(done.files_done >= 6, "{}", done.files_done);
    let path = PathBuf::from(&done.path);
    let bytes = fs::read(&path).unwrap();
    assert_eq!(done.size, Some(bytes.len() as u64));
    assert_eq!(done.sha256, Some(Sha256Hex::of(&bytes)));
    assert_eq!(done.photos, Some(originals.len()));
    // Nothing else in the folder: no temporary file.
    assert_eq!(files_in(&t.config.exports), vec![done.file_name.clone()]);

    // The file verifies against this device's key and holds every original as taken.
    let key = crate::sync::device_key(&app.store())
        .unwrap()
        .verifying_key();
    assert_eq!(done.fingerprint, casefile::manifest::fingerprint(&key));
    let options = VerifyOptions {
        trusted_keys: vec![TrustedKey {
            key,
            label: "this tablet".into(),
        }],
    };
    let report = casefile::verify(fs::File::open(&path).unwrap(), &options);
    assert!(report.holds(), "{}", report.render_zh_en());
    let manifest = report.manifest.unwrap();
    assert_eq!(manifest.signed_version, "v1");
    assert_eq!(manifest.signer.unit_name, "南京市玄武区应急管理局");
    let listed: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert!(listed.contains(&"documents/现场检查记录.pdf"), "{listed:?}");
    let files = casefile::archive::read_all(fs::File::open(&path).unwrap()).unwrap();
    for original in &originals {
        let name = format!("photos/{}.jpg", Sha256Hex::of(original));
        assert!(listed.contains(&name.as_str()), "{name} not listed");
        let (_, inside) = files.iter().find(|(n, _)| *n == name).unwrap();
        assert_eq!(inside, original, "{name} not byte for byte");
    }
    // The status stays for the screen to show.
    assert_eq!(app.export_status(&id), Some(done));
}

#[test]
fn a_damaged_or_missing_original_fails_the_export_in_chinese_and_leaves_no_file() {
    let t = signed_in_app();
    let app = &t.app;
    let (id, originals) = inspected(app, true);
    let blob = app.blobs.path(&Sha256Hex::of(&originals[1]));
    let good = fs::read(&blob).unwrap();
    let mut bad = good.clone();
    bad[4000] ^= 0x01;
    fs::write(&blob, &bad).unwrap();
    app.export_casefile(&id, None).unwrap();
    let failed = wait_export(app, &id);
    assert_eq!(failed.state, ExportState::Failed);
    let e = failed.error.unwrap();
    assert!(
        e.zh.contains("已损坏") && e.zh.contains("导出已中止，未生成电子案卷"),
        "{}",
        e.zh
    );
    assert!(e.zh.contains(Sha256Hex::of(&originals[1]).as_str()));
    assert!(e.en.contains("damaged"), "{}", e.en);
    assert_eq!(e.field.as_deref(), Some("export"));
    assert_eq!(failed.size, None);
    assert!(files_in(&t.config.exports).is_empty());

    fs::remove_file(&blob).unwrap();
    app.export_casefile(&id, None).unwrap();
    let failed = wait_export(app, &id);
    assert_eq!(failed.state, ExportState::Failed);
    assert!(
        failed.error.as_ref().unwrap().zh.contains("缺失或无法读取"),
        "{:?}",
        failed.error
    );
    assert!(files_in(&t.config.exports).is_empty());

    // Put back as it was, the same record exports.
    fs::write(&blob, &good).unwrap();
    app.export_casefile(&id, None).unwrap();
    assert_eq!(wait_export(app, &id).state, ExportState::Done);
    assert_eq!(files_in(&t.config.exports).len(), 1);
}

#[test]
fn only_a_signed_record_with_its_document_number_exports() {
    let t = signed_in_app();
    let app = &t.app;
    // Not signed yet: refused at once, nothing started.
    let draft = started(app);
    let e = app
        .call(ExportCaseFile {
            id: draft.clone(),
            version: None,
        })
        .unwrap_err();
    assert!(e.zh.contains("该记录尚无签署版本"), "{}", e.zh);
    assert_eq!(e.field.as_deref(), Some("export"));
    assert_eq!(
        app.call(GetExportStatus { id: draft.clone() }).unwrap(),
        None
    );
    // A version it does not have.
    let (id, _) = inspected(app, true);
    let e = app
        .call(ExportCaseFile {
            id: id.clone(),
            version: Some("v9".into()),
        })
        .unwrap_err();
    assert!(e.zh.contains("没有签署版本 v9"), "{}", e.zh);
    // Signed without a number (文号) for its 现场检查记录 — as an app before automatic
    // numbering did, through the library — the document cannot be made, and the screen
    // says which.
    let (id, _) = filled(app);
    {
        let user = app.user().unwrap();
        let mut store = app.store();
        let record = store.inspection(&id).unwrap();
        let template = store.template(&record.template).unwrap().unwrap();
        let cx = Context {
            actor: &user,
            now: now(),
            template: &template,
        };
        store
            .apply(
                &id,
                &Command::Transition {
                    to: InspectionStatus::Completed,
                    comment: String::new(),
                },
                &cx,
            )
            .unwrap();
        store.sign(&id, "v1", &cx).unwrap();
        assert!(store.inspection(&id).unwrap().documents.is_empty());
    }
    app.export_casefile(&id, Some("v1")).unwrap();
    let failed = wait_export(app, &id);
    assert_eq!(failed.state, ExportState::Failed);
    let e = failed.error.unwrap();
    assert!(
        e.zh.contains("没有“现场检查记录”的文书编号（文号）"),
        "{}",
        e.zh
    );
    assert!(files_in(&t.config.exports).is_empty());
    // A record the tablet does not hold.
    let e = app
        .export_casefile(&InspectionId::new("insp-nowhere"), None)
        .unwrap_err();
    assert_eq!(e.zh, "本机没有这条记录");
}

#[test]
fn export_file_names_are_readable_safe_and_in_shanghai_time() {
    let mut record = Inspection::new_draft(
        InspectionId::new("insp-1"),
        InspectionKind::Routine,
        app_core::ids::UnitId::new("xw"),
        (&read_json::<Vec<Enterprise>>("fixtures/demo/enterprises.json")[0]).into(),
        ChecklistTemplate::parse_toml(
            &fs::read_to_string(Path::new(ROOT).join("fixtures/checklists/gongmao.toml")).unwrap(),
        )
        .unwrap()
        .reference(),
        UserId::new("u-wang"),
        Timestamp(0),
    );
    // 2026-11-23 06:05:09 UTC is 14:05:09 in Shanghai.
    let at = Timestamp(1_795_413_909_000);
    assert_eq!(
        export_file_name(&record, "v2", at),
        "电子案卷_insp-1_v2_20261123-140509.zip"
    );
    record.documents.insert(
        "（玄武）应急检记〔2026〕3号".into(),
        IssuedDocument {
            kind: DocumentKind::InspectionRecord,
            number: "（玄武）应急检记 〔2026〕/3号".into(),
            seq: 3,
            year: 2026,
            at,
            by: UserId::new("u-wang"),
            device: app_core::ids::DeviceId::new("d-1"),
        },
    );
    assert_eq!(
        export_file_name(&record, "v2", at),
        "电子案卷_（玄武）应急检记_〔2026〕_3号_v2_20261123-140509.zip"
    );
    // A name already taken gets a suffix.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.zip"), b"").unwrap();
    fs::write(dir.path().join("a-2.zip.partial"), b"").unwrap();
    assert_eq!(free_path(dir.path(), "a.zip"), dir.path().join("a-3.zip"));
    assert_eq!(free_path(dir.path(), "b.zip"), dir.path().join("b.zip"));
}

#[test]
fn refusals_by_the_rules_read_in_chinese_and_name_their_field() {
    let unmet = StoreError::Doc(DocError::Record(RecordError::Unmet {
        from: InspectionStatus::OnSite,
        to: InspectionStatus::Completed,
        unmet: vec![
            Unmet::NoOnsitePerson,
            Unmet::MissingSignature("inspector 李娜".into()),
        ],
    }));
    let e = ApiError::from(unmet);
    assert_eq!(
        e.zh,
        "无法进入“已完成”：尚未记录企业现场负责人；缺少签名：执法人员 李娜"
    );
    assert!(
        e.en.contains("on_site") || e.en.contains("OnSite"),
        "{}",
        e.en
    );
    let hazard = StoreError::Doc(DocError::Record(RecordError::Hazard(
        HazardError::NoMeasures(HazardId::new("h1")),
    )));
    let e = ApiError::from(hazard);
    assert_eq!(e.zh, "请填写整改措施");
    assert_eq!(e.field.as_deref(), Some("measures"));
    let signer = StoreError::Doc(DocError::Record(RecordError::SignerNotOnRecord(
        UserId::new("u-x"),
    )));
    assert_eq!(ApiError::from(signer).zh, "u-x 不是本记录的执法人员");
}

#[test]
fn an_app_without_a_session_asks_to_sign_in_and_keeps_drafts() {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig::in_folder(
        dir.path(),
        // Nothing listens here.
        "http://127.0.0.1:9".into(),
        Duration::from_millis(100),
        Duration::from_millis(200),
    );
    let app = App::open(config.clone()).unwrap();
    assert_eq!(app.call(GetStatus {}).unwrap().user, None);
    assert_eq!(app.call(GetHome {}).unwrap_err().zh, "请先登录");
    let err = app.sign_in("u-wang", "x").unwrap_err();
    assert_eq!(err.zh, "无法连接服务器，请检查网络");
    assert_eq!(
        app.sign_in(" ", "x").unwrap_err().field.as_deref(),
        Some("user")
    );
    app.call(PutDraft {
        key: "hazard:r1:GM-01".into(),
        value: "{\"measures\":\"停用\"}".into(),
    })
    .unwrap();
    drop(app);
    let app = App::open(config).unwrap();
    assert_eq!(
        app.call(GetDraft {
            key: "hazard:r1:GM-01".into(),
        })
        .unwrap(),
        Some("{\"measures\":\"停用\"}".to_owned())
    );
    // A signature that is not a PNG is refused with nothing stored.
    let e = app.ingest_signature(b"not a png").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("signature"));
    assert!(app.blobs.list().unwrap().is_empty());
}

/// An edit through `ApplyCommand` (or a photo linked to an item) answers what it changed:
/// a few hundred bytes, not the record; applied to the view the screen holds, it gives
/// exactly the view a reload shows. A view at another revision refuses it.
#[test]
fn every_edit_answers_what_it_changed_and_the_view_it_leaves_equals_a_reload() {
    use tablet_api::{ApplyCommand, FieldChange, RecordChange, RecordView};
    let t = signed_in_app();
    let app = &t.app;
    let (id, _) = filled(app);
    let reload = |id: &InspectionId| app.call(GetRecord { id: id.clone() }).unwrap();
    let mut view = reload(&id);
    let first = view.template.categories[0].items[3].code.clone();
    let check = |view: &mut RecordView, change: RecordChange| {
        let bytes = serde_json::to_vec(&tablet_api::Answer::ApplyCommand(change.clone()))
            .unwrap()
            .len();
        assert!(bytes < 4096, "{bytes} bytes: {change:?}");
        assert!(
            view.apply(change),
            "the change applies to the view it was made on"
        );
        assert_eq!(*view, reload(&view.record.id.clone()));
    };
    let before = view.clone();

    let change = app
        .call(ApplyCommand {
            id: id.clone(),
            command: Command::Answer {
                item: first.clone(),
                answer: Some(Answer::NotApplicable),
            },
        })
        .unwrap();
    assert_eq!(change.base, view.revision);
    assert_ne!(change.revision, view.revision);
    assert!(
        matches!(&change.changes[..], [FieldChange::Result(c, Some(r))]
            if *c == first && r.answer == Some(Answer::NotApplicable)),
        "{:?}",
        change.changes
    );
    check(&mut view, change.clone());
    // A screen still holding the earlier view reloads instead.
    let mut stale = before.clone();
    let next = app
        .call(ApplyCommand {
            id: id.clone(),
            command: Command::SetNote {
                item: first.clone(),
                text: "灭火器压力不足".into(),
            },
        })
        .unwrap();
    assert!(!stale.apply(next.clone()));
    assert_eq!(stale, before);
    check(&mut view, next);

    // A photo linked to an item answers its change too (its thumbnail is a URL).
    let bytes = photo("gps-DSCN0021.jpg");
    let answer = app
        .ingest_photo(
            &PhotoArgs {
                id: id.clone(),
                link: PhotoLink::Item(first.clone()),
            },
            &bytes,
        )
        .unwrap();
    assert_eq!(
        answer.thumb,
        format!("thumb://localhost/{}", Sha256Hex::of(&bytes))
    );
    check(&mut view, answer.change.expect("a linked photo's change"));
    assert!(
        view.record.results[&first]
            .photos
            .contains_key(&answer.sha256)
    );

    // Editing nothing answers no change at all.
    let same = app
        .call(ApplyCommand {
            id: id.clone(),
            command: Command::Answer {
                item: first.clone(),
                answer: Some(Answer::NotApplicable),
            },
        })
        .unwrap();
    assert!(same.changes.is_empty(), "{:?}", same.changes);
    check(&mut view, same);

    // A number issued (as another tablet could have): the next signing needs one less.
    assert!(view.to_number.contains(&DocumentKind::InspectionRecord));
    let device = app.store().device().clone();
    let issued = app
        .call(ApplyCommand {
            id: id.clone(),
            command: Command::IssueDocument(IssuedDocument {
                kind: DocumentKind::InspectionRecord,
                number: NUMBER.into(),
                seq: 7,
                year: 2026,
                at: now(),
                by: UserId::new("u-wang"),
                device,
            }),
        })
        .unwrap();
    assert!(!issued.to_number.contains(&DocumentKind::InspectionRecord));
    check(&mut view, issued);

    // Signed, then submitted: the change carries the status and the signed versions.
    app.complete(&id).unwrap();
    let mut view = reload(&id);
    let submitted = app
        .call(ApplyCommand {
            id: id.clone(),
            command: Command::Transition {
                to: InspectionStatus::Submitted,
                comment: String::new(),
            },
        })
        .unwrap();
    assert_eq!(submitted.status, InspectionStatus::Submitted);
    assert_eq!(submitted.signed.as_ref().map(Vec::len), Some(1));
    check(&mut view, submitted);
}

/// The thumbnail protocol serves the thumbnail of a photo this tablet ingested, by the
/// original's digest, and nothing else: no other blob, no path outside the digest.
#[test]
fn the_thumbnail_protocol_serves_only_ingested_photos_by_digest() {
    let t = signed_in_app();
    let app = &t.app;
    let (id, originals) = filled(app);
    let item_photo = Sha256Hex::of(&originals[0]);
    let ok = app.thumb_response(&format!("/{item_photo}"));
    assert_eq!((ok.status, ok.content_type), (200, "image/jpeg"));
    assert!(ok.body.starts_with(b"\xff\xd8\xff"));
    assert!(ok.body.len() < originals[0].len());
    let record = app.record(&id).unwrap().record;
    assert!(record.photo_digests().contains(&item_photo));
    // A loose photo (here a signature image taken with the camera) is served too.
    let loose = app.thumb_response(&format!("/{}", Sha256Hex::of(&originals[2])));
    assert_eq!(loose.status, 200);
    // The thumbnail's own digest, a signature PNG, an unknown digest: not photos ingested here.
    let thumb_digest = Sha256Hex::of(&ok.body);
    let signature = record
        .signatures
        .values()
        .find_map(|s| match &s.outcome {
            SignOutcome::Signed { image } => Some(image.clone()),
            _ => None,
        })
        .unwrap();
    assert_ne!(signature, item_photo);
    for digest in [thumb_digest.to_string(), "0".repeat(64)] {
        assert_eq!(
            app.thumb_response(&format!("/{digest}")).status,
            404,
            "{digest}"
        );
    }
    let upper = item_photo.as_str().to_uppercase();
    for path in [
        String::new(),
        "/".into(),
        item_photo.to_string(),
        format!("/{upper}"),
        format!("/{item_photo}/"),
        format!("/{item_photo}/x"),
        format!("/{item_photo}?size=1"),
        format!("//{item_photo}"),
        format!("/../{item_photo}"),
        "/../../../../etc/passwd".into(),
        "/%2e%2e/%2e%2e/etc/passwd".into(),
        format!("/{}", &item_photo.as_str()[..63]),
        format!("/{}/../{item_photo}", &item_photo.as_str()[..2]),
    ] {
        let r = app.thumb_response(&path);
        assert_eq!(r.status, 400, "{path}");
        assert!(r.content_type.starts_with("text/plain"));
    }
}

/// The first failed item of record `id`.
fn failed_item(app: &App, id: &InspectionId) -> ItemCode {
    app.record(id)
        .unwrap()
        .record
        .results
        .iter()
        .find(|(_, r)| r.answer == Some(Answer::Fails))
        .map(|(code, _)| code.clone())
        .unwrap()
}

#[test]
fn a_hazard_registered_through_the_app_gets_a_device_uuid_all_or_nothing() {
    use app_core::hazard::{HazardLevel, HazardStage, NewHazard};
    let t = signed_in_app();
    let app = &t.app;
    let (id, _) = filled(app);
    let view = app.record(&id).unwrap();
    // The form's deadline comes from the unit's settings, not a constant of the screen.
    let settings = app.unit_settings();
    assert_eq!(view.deadlines, settings.suggested_deadlines(App::today()));
    assert_eq!(
        view.deadlines.for_level(HazardLevel::General),
        App::today().plus_days(i64::from(settings.general_rectification_days))
    );
    let form = NewHazard {
        item: failed_item(app, &id),
        level: HazardLevel::Major,
        description: "冲床防护罩缺失".into(),
        place: "一号冲压车间".into(),
        measures: String::new(),
        deadline: view.deadlines.major,
        supervision_level: "县级".into(),
        supervision_responsible: "张伟".into(),
    };
    // Refused by the rules at the last step (no measures): nothing is registered.
    let e = app
        .call(tablet_api::RegisterHazard {
            id: id.clone(),
            hazard: form.clone(),
        })
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("measures"), "{e:?}");
    assert!(app.record(&id).unwrap().record.hazards.is_empty());
    // The answer is what changed; applied to the view held, it is the record reloaded.
    let change = app
        .call(tablet_api::RegisterHazard {
            id: id.clone(),
            hazard: NewHazard {
                measures: "立即停用冲床".into(),
                ..form
            },
        })
        .unwrap();
    let mut view = view;
    assert!(view.apply(change));
    assert_eq!(view, app.record(&id).unwrap());
    let h = view.record.hazards.values().next().unwrap();
    let uuid = h.id.as_str().strip_prefix("hz-").unwrap();
    assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{}", h.id);
    assert_eq!(h.stage, HazardStage::Ordered);
    assert_eq!(h.deadline, Some(view.deadlines.major));
    assert!(h.supervision.is_some(), "a major hazard is listed first");
    assert_eq!(h.registered_on, App::today());
}

#[test]
fn a_reinspection_through_the_app_gets_a_device_uuid_and_a_pass_closes_the_hazard() {
    use app_core::hazard::{HazardAction, HazardLevel, HazardStage, NewHazard, NewReinspection};
    let t = signed_in_app();
    let app = &t.app;
    let (id, _) = filled(app);
    let mut view = app.record(&id).unwrap();
    let change = app
        .call(tablet_api::RegisterHazard {
            id: id.clone(),
            hazard: NewHazard {
                item: failed_item(app, &id),
                level: HazardLevel::General,
                description: "冲床防护罩缺失".into(),
                place: String::new(),
                measures: "加装防护罩".into(),
                deadline: App::today().plus_days(30),
                supervision_level: String::new(),
                supervision_responsible: String::new(),
            },
        })
        .unwrap();
    assert!(view.apply(change));
    let hid = view.record.hazards.keys().next().unwrap().clone();
    app.command(
        &id,
        &Command::Hazard {
            hazard: hid.clone(),
            action: HazardAction::ReportRectified { on: App::today() },
        },
    )
    .unwrap();
    let bytes = photo("gps-DSCN0021.jpg");
    let sha = app
        .ingest_photo(
            &PhotoArgs {
                id: id.clone(),
                link: PhotoLink::Loose,
            },
            &bytes,
        )
        .unwrap()
        .sha256;
    let mut view = app.record(&id).unwrap();
    let change = app
        .call(tablet_api::ReinspectHazard {
            id: id.clone(),
            hazard: hid.clone(),
            reinspection: NewReinspection {
                passed: true,
                note: "防护罩已加装".into(),
                photos: vec![sha.clone()],
                new_deadline: None,
            },
        })
        .unwrap();
    assert!(view.apply(change));
    assert_eq!(view, app.record(&id).unwrap());
    let h = &view.record.hazards[&hid];
    assert_eq!(h.stage, HazardStage::Closed);
    let (rid, ri) = h.reinspections.iter().next().unwrap();
    assert!(
        uuid::Uuid::parse_str(rid.strip_prefix("ri-").unwrap()).is_ok(),
        "{rid}"
    );
    assert_eq!(ri.by, UserId::new("u-wang"));
    assert_eq!(ri.photos[&sha].added_by, UserId::new("u-wang"));
    assert_eq!(app.thumb_response(&format!("/{sha}")).status, 200);
}

#[test]
fn the_record_view_says_what_the_signing_offers_and_what_blocks_it() {
    let t = signed_in_app();
    let app = &t.app;
    let id = started(app);
    let view = app.call(GetRecord { id: id.clone() }).unwrap();
    assert!(view.signing.can_sign && !view.signing.can_submit);
    assert!(
        matches!(view.signing.blockers[0], Unmet::UnansweredItems(_)),
        "{:?}",
        view.signing.blockers
    );
    assert!(view.signing.blockers.contains(&Unmet::NoOnsitePerson));
    // This tablet holds no numbers yet: the signing would ask to sync first.
    assert_eq!(view.to_number, vec![DocumentKind::InspectionRecord]);
    assert_eq!(view.numbers_missing, vec![DocumentKind::InspectionRecord]);
    let (id, _) = inspected(app, true);
    let view = app.record(&id).unwrap();
    assert_eq!(view.record.status, InspectionStatus::Completed);
    assert!(!view.signing.can_sign && view.signing.can_submit);
    assert!(view.signing.blockers.is_empty());
    assert!(view.to_number.is_empty() && view.numbers_missing.is_empty());
}

#[test]
fn the_enterprise_copy_is_written_to_the_exports_with_a_qr_code_of_its_hashes() {
    let t = signed_in_app();
    let app = &t.app;
    let draft = started(app);
    let e = app
        .call(tablet_api::ExportEnterpriseCopy { id: draft })
        .unwrap_err();
    assert!(e.zh.contains("尚未签署"), "{}", e.zh);
    let (id, _) = inspected(app, true);
    let copy = app
        .call(tablet_api::ExportEnterpriseCopy { id: id.clone() })
        .unwrap();
    assert_eq!(copy.version, "v1");
    assert!(!copy.files.is_empty());
    for f in &copy.files {
        let bytes = std::fs::read(&f.path).unwrap();
        assert!(bytes.starts_with(b"%PDF"), "{}", f.name);
        assert_eq!(app_core::evidence::Sha256Hex::of(&bytes), f.sha256);
        assert!(f.name.starts_with("企业副本_"), "{}", f.name);
        assert!(copy.payload.contains(&format!("{}={}", f.name, f.sha256)));
    }
    assert!(copy.payload.contains(&format!("record={id}")));
    assert!(copy.qr_svg.starts_with("<?xml") || copy.qr_svg.contains("<svg"));
    // The preview of a signed record: its documents with their reading hashes.
    let previews = app
        .call(tablet_api::PreviewDocuments { id: id.clone() })
        .unwrap();
    assert_eq!(
        previews[0].read.kind,
        app_core::docnumber::DocumentKind::InspectionRecord
    );
    assert!(previews[0].paper.plain_text().contains("现场检查记录"));
}

#[test]
fn the_server_trust_given_at_enrollment_is_kept_and_plain_http_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pin = format!("sha256//{}=", "A".repeat(43));
    let mut config = AppConfig::in_folder(
        dir.path(),
        "https://sync.example:8443".into(),
        Duration::from_millis(100),
        Duration::from_millis(200),
    );
    config.server_pins = Some(pin.clone());
    let app = App::open(config.clone()).unwrap();
    let pinned = crate::tls::Server::new(
        "https://sync.example:8443",
        crate::tls::ServerTrust::Pins {
            pins: vec![pin.clone()],
        },
    );
    assert_eq!(app.server, pinned);
    drop(app);
    // Started again without the setting: the pin kept for this address.
    config.server_pins = None;
    assert_eq!(App::open(config.clone()).unwrap().server, pinned);
    // Another address: the public roots.
    config.server = "https://other.example".into();
    assert_eq!(
        App::open(config.clone()).unwrap().server.trust,
        crate::tls::ServerTrust::System
    );
    // A setting that cannot be read stops the app with the reason.
    config.server_ca = Some(dir.path().join("missing.pem").display().to_string());
    let err = App::open(config.clone()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Untrusted);
    assert!(err.zh.contains("无法读取"), "{}", err.zh);
    // Plain http:// to another machine: refused in Chinese, nothing sent.
    config.server_ca = None;
    config.server = "http://192.0.2.1:8080".into();
    let app = App::open(config).unwrap();
    let err = app.sign_in("u-wang", "x").unwrap_err();
    assert_eq!(err.code, ErrorCode::Untrusted);
    assert!(err.zh.contains("未加密的 http://"), "{}", err.zh);
}

#[test]
fn a_name_with_a_character_no_font_has_gives_documents_with_a_notice_in_both_languages() {
    let t = signed_in_app();
    let app = &t.app;
    // 𰻞 (CJK Extension G) is in the fonts; U+2EBF0 (Extension I) is in none.
    let mut enterprises: Vec<Enterprise> = read_json("fixtures/demo/enterprises.json");
    let e = enterprises
        .iter_mut()
        .find(|e| e.id.as_str() == "e-001")
        .unwrap();
    e.name = "西安𰻞𰻞面馆\u{2EBF0}记有限公司".into();
    app.store().replace_reference(&enterprises).unwrap();
    let (id, _) = inspected(app, true);
    let expected_zh = "《现场检查记录》中的“\u{2EBF0}”（U+2EBF0）字库未收录，文书中以 [U+2EBF0] 代替；记录保存原字。";
    let copy = app
        .call(tablet_api::ExportEnterpriseCopy { id: id.clone() })
        .unwrap();
    let notice = copy
        .warnings
        .iter()
        .find(|w| w.file.ends_with("现场检查记录.pdf"))
        .unwrap_or_else(|| panic!("{:?}", copy.warnings));
    assert_eq!(notice.zh, expected_zh);
    assert!(notice.en.contains("prints [U+2EBF0]"), "{}", notice.en);
    app.call(ExportCaseFile {
        id: id.clone(),
        version: None,
    })
    .unwrap();
    let done = wait_export(app, &id);
    assert_eq!(done.state, ExportState::Done, "{:?}", done.error);
    assert!(
        done.warnings.iter().any(|w| w.zh == expected_zh),
        "{:?}",
        done.warnings
    );
    // The record keeps the exact name.
    assert_eq!(
        app.record(&id).unwrap().record.enterprise.name,
        "西安𰻞𰻞面馆\u{2EBF0}记有限公司"
    );
}

/// A supervisor's upload arrives with the reference data at a sync as the next version of
/// the template: a new record takes it, a record made before keeps the version it was made
/// with (and still reads its wording).
#[test]
fn a_new_template_version_serves_new_records_and_old_records_keep_theirs() {
    let t = signed_in_app();
    let before = started(&t.app);
    let v1 = t.app.record(&before).unwrap().template.clone();
    let mut v2 = v1.clone();
    v2.version = v1.version + 1;
    let old_text = v2.categories[0].items[0].text.clone();
    v2.categories[0].items[0].text = "是否建立并落实全员安全生产责任制（新版本）".into();
    {
        let mut store = t.app.store();
        let mut all = store.reference::<ChecklistTemplate>().unwrap();
        all.push(v2.clone());
        store.replace_reference(&all).unwrap();
    }
    let after = started(&t.app);
    let new_view = t.app.record(&after).unwrap();
    assert_eq!(new_view.template.version, v2.version);
    assert_eq!(
        new_view.template.categories[0].items[0].text,
        v2.categories[0].items[0].text
    );
    let old_view = t.app.record(&before).unwrap();
    assert_eq!(old_view.template.version, v1.version);
    assert_eq!(old_view.template.categories[0].items[0].text, old_text);
}
