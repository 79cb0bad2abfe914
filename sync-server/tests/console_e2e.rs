//! End to end in headless Chromium: the real server binary, a simulated tablet (the tablet
//! library) that syncs a submitted record with a real camera photo, and `e2e/console`'s
//! playwright-core script driving the system's Chromium. The browser signs in, finds the
//! record, opens the photo and sees its hash check, returns the record with a comment, runs a
//! draw twice from the same seed and re-runs it from its recorded input, and checks that a
//! supervisor of the sibling county gets 404. This test then syncs the tablet and checks it
//! received the comment, and that a drawn inspector's tablet receives the sealed plans.

mod common;
#[path = "../../e2e/console/npm.rs"]
mod npm;

use app_core::inspection::{InspectionStatus, ReviewDecision};
use app_core::plan::Plan;
use common::console::{photo_bytes, submitted_record};
use common::{PASSWORD, Tablet, TestServer, rid};
use npm::{ensure_node_modules, run_script};
use std::path::Path;

#[test]
fn a_supervisor_reviews_in_the_browser_and_the_tablet_receives_the_decision() {
    ensure_node_modules();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let blobs = tablet::blobs::BlobStore::open(dir.path().join("wang-blobs")).unwrap();
    let sha = blobs.put(&photo_bytes("gps-DSCN0010.jpg")).unwrap().sha256;
    let id = rid("rec-e2e-1");
    submitted_record(&server, &wang, &li, &id, &blobs, &sha);
    // A second record awaiting review: "下一条" after the first decision opens it.
    let id2 = rid("rec-e2e-2");
    submitted_record(&server, &wang, &li, &id2, &blobs, &sha);

    let out = dir.path().join("e2e.json");
    // Under target/ unless `cargo xtask screenshots` asks for the README's pictures.
    let shots = std::env::var_os("SCREENSHOTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots"));
    let result = run_script(
        "console.e2e.mjs",
        &out,
        [
            ("CONSOLE_URL", server.url().as_ref()),
            ("RECORD_ID", id.as_ref()),
            ("RECORD2_ID", id2.as_ref()),
            ("PHOTO_SHA", sha.as_str().as_ref()),
            ("PASSWORD", PASSWORD.as_ref()),
            ("SCREENSHOTS", shots.as_os_str()),
        ],
    );

    // The record and its photo, as the browser saw them.
    assert_eq!(result["statusBefore"], "submitted");
    assert_eq!(result["photoSha"], sha.as_str());
    assert_eq!(result["photoCheck"], "match", "{result:#}");
    assert!(result["photoCamera"].as_str().unwrap().contains("NIKON"));
    assert_eq!(result["photoTakenAt"], "2008-10-22 16:28:39");
    assert!(
        result["photoPosition"]
            .as_str()
            .unwrap()
            .starts_with("43.46")
    );
    assert!(
        result["photoWidth"].as_u64().unwrap() > 100,
        "the image loaded full size"
    );
    // The evidence badges: the entrance and item photo's EXIF says 2008 in Italy while the
    // arrival is now in Nanjing; on the list (title explains) and at the top of the record.
    let listed = result["listBadges"].to_string();
    assert!(
        listed.contains("photo-time") && listed.contains("photo-place"),
        "{result:#}"
    );
    assert!(
        result["listBadgeTitle"]
            .as_str()
            .unwrap()
            .contains("照片拍摄于2008-10-22"),
        "{result:#}"
    );
    let top = result["recordBadges"].to_string();
    assert!(
        top.contains("photo-time") && top.contains("photo-place"),
        "{top}"
    );
    let explained = result["photoTimeText"].as_str().unwrap();
    assert!(
        explained.contains("照片拍摄于2008-10-22，距到场时间"),
        "{explained}"
    );
    // Every document linked; the first downloads as a PDF.
    assert!(result["documentCount"].as_u64().unwrap() >= 1, "{result:#}");
    assert_eq!(result["documentStatus"], 200, "{result:#}");
    assert_eq!(result["documentType"], "application/pdf");
    assert_eq!(result["documentMagic"], "%PDF-");
    // At 1920 px the list uses the width.
    assert!(
        result["tableWidth1920"].as_f64().unwrap() > 1600.0,
        "{result:#}"
    );

    // Review from the queue: both records listed; the form near the top; a return without
    // comment refused in place, in Chinese, nothing changed.
    let queue = result["queueRows"].to_string();
    assert!(queue.contains(&id) && queue.contains(&id2), "{queue}");
    assert!(
        result["reviewFormTop"].as_f64().unwrap() < 1200.0,
        "{result:#}"
    );
    assert!(
        result["refusalText"]
            .as_str()
            .unwrap()
            .contains("退回须填写意见"),
        "{result:#}"
    );
    assert_eq!(result["refusalStatusStill"], "submitted");
    // The return with its comment and a comment on an item, shown as text.
    assert_eq!(result["statusAfter"], "returned");
    assert_eq!(result["reviewComment"], result["comment"]);
    assert!(
        result["reviewItems"]
            .as_str()
            .unwrap()
            .contains(result["itemComment"].as_str().unwrap()),
        "{result:#}"
    );
    // "下一条" opened the second record, approved; then the queue, empty.
    assert!(
        result["nextUrl"].as_str().unwrap().contains(&id2),
        "{result:#}"
    );
    assert_eq!(result["record2Status"], "approved");
    assert!(
        result["afterLastUrl"]
            .as_str()
            .unwrap()
            .ends_with("/console/queue")
    );
    assert!(result["emptyQueueText"].as_str().unwrap().contains("暂无"));

    // No page of the Chinese UI shows an internal identifier, JSON path or English error.
    let mut found = Vec::new();
    for p in result["texts"].as_array().cloned().unwrap_or_default() {
        for hit in internal_text(p["text"].as_str().unwrap_or_default()) {
            found.push(format!("{} ({}): {hit}", p["page"], p["url"]));
        }
    }
    assert!(
        result["texts"].as_array().map_or(0, Vec::len) >= 10,
        "pages checked: {result:#}"
    );
    assert!(
        found.is_empty(),
        "machine text on screen:\n{}",
        found.join("\n")
    );
    assert!(result["ledgerHasRecord"].as_bool().unwrap());

    // The tablet receives the decision at its next sync.
    let report = wang.sync();
    assert!(report.pulled >= 1, "{report:?}");
    let record = wang.record(&id);
    assert_eq!(record.status, InspectionStatus::Returned);
    let review = record.review.expect("a review");
    assert_eq!(review.decision, ReviewDecision::Returned);
    assert_eq!(review.comment, result["comment"].as_str().unwrap());
    let commented = result["commentedItem"].as_str().unwrap();
    assert_eq!(
        review
            .items
            .get(&app_core::ids::ItemCode::from(commented))
            .map(String::as_str),
        result["itemComment"].as_str()
    );
    assert_eq!(review.by.as_str(), "u-zhao");

    // The same seed gives the same draw and the same plans; the re-run agrees.
    let rows = |key: &str| result[key]["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows("draw1").len(), 2, "{result:#}");
    assert_eq!(rows("draw1"), rows("sealed"));
    assert_eq!(rows("draw1"), rows("draw2"));
    assert_eq!(rows("draw1"), rows("rerun"));
    assert_eq!(result["draw1"]["drawId"], result["draw2"]["drawId"]);
    assert!(result["draw2AlreadySealed"].as_bool().unwrap());
    assert_eq!(result["rerunSame"], "true");
    assert_eq!(result["sealed"]["seed"], "2026-11-23 福彩3D 517");

    // A drawn inspector's tablet receives the sealed plans assigned to them.
    let first = &rows("sealed")[0];
    let inspector = first["inspectors"]
        .as_str()
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    let drawn = Tablet::new(&server, inspector);
    let plans = drawn.store.lock().unwrap().reference::<Plan>().unwrap();
    let plan = plans
        .iter()
        .find(|p| p.id.as_str() == first["plan"].as_str().unwrap())
        .unwrap_or_else(|| panic!("{inspector} lacks the drawn plan: {plans:?}"));
    assert!(plan.sealed);
    assert_eq!(
        plan.enterprise.as_str(),
        first["enterprise"].as_str().unwrap()
    );

    // The sibling county sees nothing of it.
    assert_eq!(result["siblingListHasRecord"], false);
    assert_eq!(result["siblingRecordStatus"], 404);
    assert_eq!(result["siblingPhotoStatus"], 404);
    assert_eq!(result["siblingDrawStatus"], 404);
}

/// What in a page's visible text is machine text a person should not read: record, hazard
/// and re-inspection ids (`insp-…`, `hz-…`, `ri-…`), UUIDs, snake_case command names, JSON
/// paths into a record (`/hazards/…`), and English error phrases.
fn internal_text(text: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || "，。、：；（）()[]{}「」“”\"'<>·,;".contains(c))
        .filter(|w| !w.is_empty())
        .collect();
    let is_hex = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit());
    for w in &words {
        let lower = w.to_ascii_lowercase();
        if ["insp-", "hz-", "ri-"].iter().any(|p| lower.starts_with(p)) {
            hits.push(format!("id {w}"));
            continue;
        }
        // A UUID anywhere in the word.
        let parts: Vec<&str> = w.split('-').collect();
        if parts.windows(5).any(|p| {
            is_hex(p[0], 8)
                && is_hex(p[1], 4)
                && is_hex(p[2], 4)
                && is_hex(p[3], 4)
                && is_hex(p[4], 12)
        }) {
            hits.push(format!("uuid {w}"));
            continue;
        }
        let snake = w.contains('_')
            && w.split('_')
                .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase()));
        if snake {
            hits.push(format!("snake_case {w}"));
            continue;
        }
        if [
            "/hazards/",
            "/results/",
            "/signatures/",
            "/reinspections/",
            "/arrival/",
            "/review/",
        ]
        .iter()
        .any(|p| w.contains(p))
        {
            hits.push(format!("json path {w}"));
        }
    }
    let lower = text.to_ascii_lowercase();
    for phrase in [
        "cannot ",
        "error",
        "not allowed",
        "invalid",
        "refused",
        "must be",
        "failed",
        "not found",
        "missing",
    ] {
        if lower.contains(phrase) {
            hits.push(format!("english {phrase:?}"));
        }
    }
    hits
}

#[test]
fn the_machine_text_check_finds_what_it_should_and_nothing_else() {
    for bad in [
        "记录 insp-266928b7-0b3c-4d1e-8f00-123456789abc",
        "设备 0b6f3c1e-8d2a-4c55-9a1e-3f6b2d9c7e10",
        "隐患 hz-1796a",
        "复查 ri-2",
        "操作 add_inspector",
        "修改 /hazards/hz-1/closed_on",
        "cannot move a record from Submitted to Returned",
        "Error: invalid date",
    ] {
        assert!(!internal_text(bad).is_empty(), "missed: {bad}");
    }
    for good in [
        "照片拍摄于2008-10-22，距到场时间6,618天",
        "（玄武）应急检记〔2026〕12号 · 南京示例机械有限公司",
        "平板 1 · 检查项作答 · 2026-12-06 10:00",
        "SHA-256 3f6b2d9c7e10ab",
        "English",
    ] {
        assert!(
            internal_text(good).is_empty(),
            "false alarm on {good}: {:?}",
            internal_text(good)
        );
    }
}

/// Runs `e2e/console/checklists.e2e.mjs` in `phase` with `vars`; its JSON result.
fn checklists_script(
    server: &TestServer,
    dir: &Path,
    phase: &str,
    vars: &[(&str, &Path)],
) -> serde_json::Value {
    let out = dir.join(format!("checklists-{phase}.json"));
    let common = [
        ("CONSOLE_URL", std::ffi::OsString::from(server.url())),
        ("PASSWORD", PASSWORD.into()),
        ("PHASE", phase.into()),
    ];
    let vars = vars.iter().map(|(k, v)| (*k, v.as_os_str().to_owned()));
    run_script("checklists.e2e.mjs", &out, common.into_iter().chain(vars))
}

/// The rows as an XLSX file (what a spreadsheet program saves).
fn write_rows(path: &Path, rows: &[Vec<String>]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    std::fs::write(path, book.save_to_buffer().unwrap()).unwrap();
}

#[test]
fn a_supervisor_changes_a_wording_in_a_spreadsheet_and_the_tablet_gets_the_new_version() {
    use app_core::checklist_sheet::HEADER_ROW;
    use sync_server::service::checklists::read_rows;
    ensure_node_modules();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    // The record below is made with the first 工贸 version; the console offers the newest.
    let old = wang.template();
    let shipped = wang
        .store
        .lock()
        .unwrap()
        .reference::<app_core::checklist::ChecklistTemplate>()
        .unwrap()
        .into_iter()
        .filter(|t| t.id == "gongmao")
        .map(|t| t.version)
        .max()
        .unwrap();
    // A record made before the upload.
    let before = rid("rec-ck-before");
    wang.new_record(&before, &li.user);
    wang.sync();

    // The supervisor downloads the newest 工贸 checklist.
    let download = dir.path().join("download.xlsx");
    let seen = checklists_script(&server, dir.path(), "download", &[("DOWNLOAD", &download)]);
    assert_eq!(seen["versions"][0], shipped.to_string(), "{seen:#}");
    let mut rows = read_rows(&std::fs::read(&download).unwrap()).unwrap();
    assert_eq!(rows[HEADER_ROW - 1][4], "检查内容");
    // … edits it: one item's wording, and 检查方法 where the shipped version has none.
    let new_text = "是否建立并落实全员安全生产责任制（电子表格修改）";
    let code = rows[HEADER_ROW][3].clone();
    rows[HEADER_ROW][4] = new_text.to_owned();
    for row in rows.iter_mut().skip(HEADER_ROW) {
        if row.len() > 5 && row[5].is_empty() {
            row[5] = "查资料".into();
        }
    }
    let good = dir.path().join("good.xlsx");
    write_rows(&good, &rows);
    // … and first uploads a version with two mistakes.
    let mut bad_rows = rows.clone();
    bad_rows[HEADER_ROW + 1][6] = String::new();
    bad_rows[HEADER_ROW + 2][3] = bad_rows[HEADER_ROW][3].clone();
    let bad = dir.path().join("bad.xlsx");
    write_rows(&bad, &bad_rows);
    let seen = checklists_script(
        &server,
        dir.path(),
        "upload",
        &[("BAD", &bad), ("GOOD", &good)],
    );
    let problem_rows: Vec<u64> = seen["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["row"].as_u64().unwrap())
        .collect();
    assert_eq!(
        problem_rows,
        [HEADER_ROW as u64 + 2, HEADER_ROW as u64 + 3],
        "{seen:#}"
    );
    assert!(
        seen["problems"].to_string().contains("违法依据"),
        "{seen:#}"
    );
    assert!(seen["problems"].to_string().contains("重复"), "{seen:#}");
    assert!(
        seen["refused"].as_str().unwrap().contains("未导入"),
        "{seen:#}"
    );
    assert_eq!(
        seen["versionsAfterBad"], seen["versions"],
        "nothing imported: {seen:#}"
    );
    let new_version = shipped + 1;
    assert_eq!(seen["doneVersion"], new_version.to_string(), "{seen:#}");
    assert_eq!(
        seen["versionsAfterGood"][0],
        new_version.to_string(),
        "{seen:#}"
    );

    // The inspector's tablet, at its next sync, has both versions: the new one for new
    // records, the old one for the record made before.
    wang.client.fetch_reference(&wang.store).unwrap();
    let all = wang
        .store
        .lock()
        .unwrap()
        .reference::<app_core::checklist::ChecklistTemplate>()
        .unwrap();
    let library = app_core::checklist::TemplateLibrary::new(all).unwrap();
    let newest = library.latest("gongmao").unwrap();
    assert_eq!(newest.version, new_version);
    assert_eq!(
        newest
            .item(&app_core::ids::ItemCode::from(code.as_str()))
            .unwrap()
            .text,
        new_text
    );
    assert!(library.get(&old.reference()).is_some());
    assert_eq!(wang.record(&before).template, old.reference());
    // A tablet of the sibling county does not get the 玄武 version.
    let liu = Tablet::new(&server, "u-liu");
    let theirs = liu
        .store
        .lock()
        .unwrap()
        .reference::<app_core::checklist::ChecklistTemplate>()
        .unwrap();
    assert!(
        theirs.iter().all(|t| t.version != new_version),
        "{:?}",
        theirs.iter().map(|t| t.reference()).collect::<Vec<_>>()
    );

    // A new record made with the new version is accepted by the server's judge.
    let after = rid("rec-ck-after");
    let enterprise = wang.enterprise("e-001");
    let mut record = app_core::inspection::Inspection::new_draft(
        app_core::ids::InspectionId::from(after.as_str()),
        app_core::kind::InspectionKind::Unannounced,
        enterprise.unit.clone(),
        (&enterprise).into(),
        newest.reference(),
        wang.user.id.clone(),
        wang.at(0),
    );
    record.plan = None;
    wang.store
        .lock()
        .unwrap()
        .create_inspection(&record, newest, wang.at(0))
        .unwrap();
    let report = wang.sync();
    assert!(report.pushed >= 1, "{report:?}");
    assert!(report.rejected.is_empty(), "{report:?}");
    assert_eq!(wang.record(&after).template, newest.reference());
}
