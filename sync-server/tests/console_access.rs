//! The console over HTTP against the real server binary and real tablets: who may see what
//! (a sibling county's supervisor gets 404 for everything, exactly like a missing record),
//! inspectors are turned away, forms need the session's CSRF token, the photo page re-checks
//! the stored original's hash, and a returned record reaches the tablet at its next sync.

mod common;

use app_core::evidence::Sha256Hex;
use app_core::inspection::{InspectionStatus, ReviewDecision};
use common::console::{ConsoleClient, photo_bytes, submitted_record};
use common::{PASSWORD, Tablet, TestServer, rid};

struct Fixture {
    _dir: tempfile::TempDir,
    server: TestServer,
    wang: Tablet,
    sha: Sha256Hex,
    /// The record's id (see [`rid`]).
    id: String,
}

fn fixture(name: &str) -> Fixture {
    let id = rid(name);
    let id = id.as_str();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let blobs = tablet::blobs::BlobStore::open(dir.path().join("wang-blobs")).unwrap();
    let sha = blobs.put(&photo_bytes("gps-DSCN0010.jpg")).unwrap().sha256;
    submitted_record(&server, &wang, &li, id, &blobs, &sha);
    Fixture {
        _dir: dir,
        server,
        wang,
        sha,
        id: id.to_owned(),
    }
}

fn signed_in(server: &TestServer, user: &str) -> ConsoleClient {
    let mut c = ConsoleClient::new(server);
    let p = c.sign_in(user, PASSWORD);
    assert_eq!(p.status, 303, "{user}: {}", p.body);
    assert_eq!(p.location.as_deref(), Some("/console/records"));
    c
}

#[test]
fn a_sibling_county_supervisor_gets_404_for_everything_of_another_county() {
    let f = fixture("rec-xw-1");
    let id = f.id.as_str();
    let zhao = signed_in(&f.server, "u-zhao");
    let sun = signed_in(&f.server, "u-sun");
    let zhou = signed_in(&f.server, "u-zhou");
    let record = format!("/console/records/{id}");
    let record = record.as_str();
    let photo = format!("/console/photos/{}", f.sha);
    let original = format!("/console/photos/{}/original", f.sha);

    // The county's own supervisor and the city's see it.
    for c in [&zhao, &zhou] {
        let p = c.get(record);
        assert_eq!(p.status, 200);
        assert!(p.body.contains("南京玄武精密机械有限公司"));
        assert!(c.get("/console/records").body.contains(id));
    }
    // The sibling county's supervisor: 404, the same page as for a record that does not exist.
    let missing = sun.get("/console/records/no-such-record");
    assert_eq!(missing.status, 404);
    for path in [record, photo.as_str(), original.as_str()] {
        let p = sun.get(path);
        assert_eq!(p.status, 404, "{path}");
        assert_eq!(
            p.body, missing.body,
            "{path} must look exactly like a missing record"
        );
    }
    assert!(!sun.get("/console/records").body.contains(id));
    // Even with the unit filter edited in the URL to the other county.
    assert!(!sun.get("/console/records?unit=xw").body.contains(id));
    assert!(!sun.get("/console/hazards?unit=xw").body.contains(id));
    assert!(!sun.get("/console/hazards.csv?unit=xw").body.contains(id));
    assert!(zhao.get("/console/hazards.csv").body.contains(id));
    // A forged review with a valid CSRF token of the sibling's own session: 404, nothing stored.
    let csrf = sun.csrf();
    let p = sun.post(
        &format!("{record}/review"),
        &format!("csrf={csrf}&decision=approve&comment=x"),
    );
    assert_eq!(p.status, 404);
    assert!(zhao.get(record).body.contains("data-status=\"submitted\""));
}

#[test]
fn inspectors_are_turned_away_and_forms_need_the_csrf_token() {
    let f = fixture("rec-xw-2");
    let id = f.id.as_str();
    let mut inspector = ConsoleClient::new(&f.server);
    let p = inspector.sign_in("u-wang", PASSWORD);
    assert_eq!(p.status, 403);
    assert!(
        p.body.contains("控制台仅供审核人和管理员使用"),
        "{}",
        p.body
    );
    assert_eq!(
        inspector.get("/console/records").status,
        303,
        "no session was kept"
    );

    let mut wrong = ConsoleClient::new(&f.server);
    let p = wrong.sign_in("u-zhao", "wrong-password");
    assert_eq!(p.status, 401);
    assert!(p.body.contains("用户名或密码错误"));
    assert_eq!(
        ConsoleClient::new(&f.server)
            .get("/console/records")
            .location
            .as_deref(),
        Some("/console/login")
    );

    let zhao = signed_in(&f.server, "u-zhao");
    let p = zhao.post(
        &format!("/console/records/{id}/review"),
        "decision=approve&comment=x",
    );
    assert_eq!(p.status, 403, "no CSRF token");
    let p = zhao.post(
        &format!("/console/records/{id}/review"),
        &format!("csrf={}&decision=approve", "0".repeat(64)),
    );
    assert_eq!(p.status, 403, "wrong CSRF token");
    assert!(
        zhao.get(&format!("/console/records/{id}"))
            .body
            .contains("data-status=\"submitted\"")
    );
    // Returning needs a comment (app-core's rule): refused with the reason, nothing stored.
    let p = zhao.post(
        &format!("/console/records/{id}/review"),
        &format!("csrf={}&decision=return&comment=", zhao.csrf()),
    );
    assert_eq!(p.status, 422, "{}", p.body);
    // In the page's language, from the rule's own text (app_core::messages).
    assert!(p.body.contains("退回须填写意见"), "{}", p.body);
    assert!(
        zhao.get(&format!("/console/records/{id}"))
            .body
            .contains("data-status=\"submitted\"")
    );
}

#[test]
fn the_photo_page_rechecks_the_stored_original_and_user_text_is_escaped() {
    let f = fixture("rec-xw-3");
    let id = f.id.as_str();
    let zhao = signed_in(&f.server, "u-zhao");
    let page = zhao.get(&format!("/console/photos/{}", f.sha));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-check=\"match\""), "{}", page.body);
    assert!(page.body.contains(f.sha.as_str()));
    assert!(page.body.contains("NIKON"), "camera from EXIF");
    assert!(
        page.body.contains("2008-10-22 16:28:39"),
        "capture time from EXIF"
    );
    assert!(page.body.contains("43.46"), "position from EXIF");
    let original = zhao.get(&format!("/console/photos/{}/original", f.sha));
    assert_eq!(original.content_type, "image/jpeg");
    assert_eq!(
        original.bytes,
        photo_bytes("gps-DSCN0010.jpg"),
        "byte for byte"
    );
    // The note typed on the tablet is shown as text, never as markup.
    let record = zhao.get(&format!("/console/records/{id}")).body;
    assert!(record.contains("&lt;b&gt;消防通道堵塞&lt;/b&gt; &amp; 未整改"));
    assert!(!record.contains("<b>消防通道堵塞</b>"));
    // Someone alters the stored original: the page says so.
    let path = f
        .server
        .data
        .join("blobs")
        .join(&f.sha.as_str()[..2])
        .join(f.sha.as_str());
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let page = zhao.get(&format!("/console/photos/{}", f.sha));
    assert!(
        page.body.contains("data-check=\"mismatch\""),
        "{}",
        page.body
    );
}

#[test]
fn a_returned_record_reaches_the_tablet_at_its_next_sync() {
    let f = fixture("rec-xw-4");
    let id = f.id.as_str();
    let zhao = signed_in(&f.server, "u-zhao");
    let p = zhao.post(
        &format!("/console/records/{id}/review"),
        &format!(
            "csrf={}&decision=return&comment=%E8%AF%B7%E8%A1%A5%E5%85%85%E7%85%A7%E7%89%87",
            zhao.csrf()
        ),
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let page = zhao.get(&format!("/console/records/{id}")).body;
    assert!(page.contains("data-status=\"returned\""));
    assert!(page.contains("请补充照片"));
    assert!(
        zhao.get("/console/records?status=returned")
            .body
            .contains(id),
        "the index follows the decision"
    );
    let before = f.wang.record(id);
    assert_eq!(before.status, InspectionStatus::Submitted);
    let report = f.wang.sync();
    assert_eq!(report.pulled, 1, "{report:?}");
    let after = f.wang.record(id);
    assert_eq!(after.status, InspectionStatus::Returned);
    let review = after.review.unwrap();
    assert_eq!(review.decision, ReviewDecision::Returned);
    assert_eq!(review.comment, "请补充照片");
    assert_eq!(review.by.as_str(), "u-zhao");
}
