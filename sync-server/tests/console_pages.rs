//! The ledger, figures and publication pages over HTTP, against the real server: what they
//! count and list for records synced by a tablet, the CSV/XLSX exports, and the language switch.

mod common;

use app_core::kind::InspectionKind;
use common::console::{ConsoleClient, hazard_deadline, photo_bytes, submitted_record_of_kind};
use common::{PASSWORD, Tablet, TestServer, rid};

#[test]
fn ledger_figures_and_publication_reflect_synced_records() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let blobs = tablet::blobs::BlobStore::open(dir.path().join("blobs")).unwrap();
    let sha = blobs.put(&photo_bytes("gps-DSCN0012.jpg")).unwrap().sha256;
    let (u, r, o) = (rid("rec-u"), rid("rec-r"), rid("rec-o"));
    for (id, kind) in [
        (&u, InspectionKind::Unannounced),
        (&r, InspectionKind::RandomDraw),
        (&o, InspectionKind::Routine),
    ] {
        submitted_record_of_kind(&server, &wang, &li, id, &blobs, &sha, kind);
    }
    // The records are made now: the pages are asked about this year.
    let year = wang.at(0).shanghai_date().year();
    let this_year = format!("from={year}-01-01&to={year}-12-31");
    let mut zhao = ConsoleClient::new(&server);
    assert_eq!(zhao.sign_in("u-zhao", PASSWORD).status, 303);

    // Figures: 3 routine checks, 1 unannounced (1/3 ≥ 1/5), 1 random draw (1/3 ≥ 1/3).
    let figures = zhao
        .get(&format!("/console/figures?unit=xw&{this_year}"))
        .body;
    assert!(figures.contains(r#"<td id="routine">3</td>"#), "{figures}");
    assert!(
        figures.contains(r#"id="share-unannounced" data-count="1" data-of="3" data-meets="true""#)
    );
    assert!(figures.contains(r#"id="share-random" data-count="1" data-of="3" data-meets="true""#));
    assert!(
        figures.contains(r#"<td id="hazards-open">3</td>"#),
        "three ordered hazards"
    );
    // The sibling county's supervisor counts none of them.
    let mut sun = ConsoleClient::new(&server);
    assert_eq!(sun.sign_in("u-sun", PASSWORD).status, 303);
    let theirs = sun
        .get(&format!("/console/figures?unit=xw&{this_year}"))
        .body;
    assert!(theirs.contains(r#"<td id="routine">0</td>"#));

    // Ledger: every hazard with its stage and deadline; filters; CSV and XLSX.
    let ledger = zhao.get("/console/hazards").body;
    for id in [&u, &r, &o] {
        assert!(ledger.contains(&format!("data-hazard=\"{id}-h1\"")), "{id}");
    }
    assert!(ledger.contains("责令整改") && ledger.contains(&hazard_deadline(&wang).to_string()));
    let closed = zhao.get("/console/hazards?stage=closed").body;
    assert!(!closed.contains("data-hazard="));
    let csv = zhao.get("/console/hazards.csv");
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(csv.body.starts_with("\u{feff}记录编号,单位,企业,隐患描述"));
    assert_eq!(csv.body.lines().count(), 4, "{}", csv.body);
    let xlsx = zhao.get("/console/hazards.xlsx?lang=en");
    assert!(xlsx.content_type.contains("spreadsheetml"));
    assert!(xlsx.bytes.starts_with(b"PK\x03\x04"), "an XLSX is a zip");
    assert!(xlsx.bytes.len() > 3000);

    // Publication: only the random-draw check.
    let publication = zhao.get(&format!("/console/publication?{this_year}")).body;
    assert!(publication.contains(r.as_str()) && !publication.contains(&format!("{u}<")));
    let csv = zhao.get(&format!("/console/publication.csv?{this_year}"));
    assert_eq!(csv.body.lines().count(), 2, "{}", csv.body);
    assert!(csv.body.contains("南京钟山铝业制品有限公司") && csv.body.contains(r.as_str()));
    assert!(csv.body.contains("发现隐患 1 项"));

    // English on request, remembered by the language switch.
    let en = zhao.get("/console/records?lang=en").body;
    assert!(en.contains("Inspections") && en.contains("<html lang=\"en\">"));
    let switch = zhao.get("/console/lang/en?back=/console/hazards");
    assert_eq!(switch.location.as_deref(), Some("/console/hazards"));
    let evil = zhao.get("/console/lang/en?back=//evil.example/");
    assert_eq!(
        evil.location.as_deref(),
        Some("/console/records"),
        "no open redirect"
    );
}
