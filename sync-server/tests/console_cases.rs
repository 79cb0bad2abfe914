//! Penalty cases in the console, against the real server over loopback (issue 19): a case
//! opened on a tablet and pushed through the case sync is listed for the unit's supervisor,
//! opened, and its filing approved from the console; the approval is the same kind of change
//! a tablet pushes (applied by the rules, stored in the change sequence) and the inspector's
//! tablet pulls it. A supervisor of another unit sees neither the case nor its page (404),
//! and may not act on it. The unit's penalty rules: the demo table reaches the county from
//! the city, a proposal judged with it is accepted, a bad table or calendar is refused with
//! its problems and stores nothing, and the settings saved are the unit's own. A proposal
//! made with a table the unit did not publish (a wider range on the tablet) is refused by the
//! server's judge.

mod common;

use app_core::penalty::{
    CaseCommand, CaseContext, CaseDoc, CaseStage, DiscretionTable, OtherPenalty, Penalty,
    PenaltySettings, WorkCalendar,
};
use common::cases::{case_id, cx, now, opened, opening, push};
use common::console::{ConsoleClient, follow, form_value, text_of};
use common::{PASSWORD, Tablet, TestServer, fixtures};

fn demo_table() -> DiscretionTable {
    let text = std::fs::read_to_string(fixtures().join("demo/discretion/nj.toml")).unwrap();
    DiscretionTable::parse_toml(&text).unwrap()
}

fn console_story(env: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_env(dir.path(), &[], None, env);
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let wang_dev = wang.device();

    // Opened on Wang's tablet from a record of his, and pushed.
    let record = wang.synced_record("record", &li.user);
    let id = case_id("console");
    let open = opening(
        &id,
        &wang.user,
        &li.user,
        &wang.enterprise("e-001"),
        &record,
    );
    let mut doc = CaseDoc::create(&opened(open, &wang.user, now()), &wang_dev).unwrap();
    let pushed = wang.sync_cases(&server, 0, vec![push(&id, doc.save())]);
    assert_eq!(pushed.accepted, vec![0], "{pushed:?}");
    let party = doc.case().enterprise.name.clone();

    // Listed for Zhao, the county's supervisor, awaiting approval.
    let mut zhao = ConsoleClient::new(&server);
    assert_eq!(zhao.sign_in("u-zhao", PASSWORD).status, 303);
    let list = zhao.get("/console/cases");
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains(&format!("data-case=\"{id}\"")),
        "{}",
        list.body
    );
    assert!(list.body.contains(&party) && list.body.contains("待审批"));
    // The page: facts, provisions, inspectors, the approval form.
    let page = zhao.get(&format!("/console/cases/{id}"));
    assert_eq!(page.status, 200, "{}", page.body);
    for expected in [
        "3名新员工未经安全培训上岗",
        "第九十七条",
        li.user.name.as_str(),
        "approve_filing",
        "立案",
    ] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }

    // Another county's supervisor: no case in the list, 404 for its page and its actions.
    let mut sun = ConsoleClient::new(&server);
    assert_eq!(sun.sign_in("u-sun", PASSWORD).status, 303);
    assert!(!sun.get("/console/cases").body.contains(&id));
    assert_eq!(sun.get(&format!("/console/cases/{id}")).status, 404);
    let sun_csrf = sun.csrf();
    let tried = sun.post(
        &format!("/console/cases/{id}/act"),
        &format!("csrf={sun_csrf}&action=approve_filing&seq=1&comment=x"),
    );
    assert_eq!(tried.status, 404);
    assert_eq!(
        sun.get(&format!("/console/cases/{id}/media/{}", "0".repeat(64)))
            .status,
        404
    );
    // The city's supervisor sees it (the county is in the city's subtree).
    let mut zhou = ConsoleClient::new(&server);
    assert_eq!(zhou.sign_in("u-zhou", PASSWORD).status, 303);
    assert!(zhou.get("/console/cases").body.contains(&id));
    // Without the CSRF token nothing happens.
    let forged = zhao.post(
        &format!("/console/cases/{id}/act"),
        "action=approve_filing&seq=1&comment=x",
    );
    assert_eq!(forged.status, 403);

    // Zhao approves the filing from the console.
    let csrf = zhao.csrf();
    let approved = zhao.post(
        &format!("/console/cases/{id}/act"),
        &format!(
            "csrf={csrf}&action=approve_filing&seq=1&comment={}",
            form_value("同意立案")
        ),
    );
    assert_eq!(approved.status, 303, "{}", approved.body);
    let year = now().shanghai_date().year();
    let number = format!("（玄武）应急立审〔{year}〕1号");
    let page = zhao.get(approved.location.as_deref().unwrap());
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&number), "{}", page.body);
    assert!(page.body.contains("调查取证"), "the stage moved");
    assert!(
        page.body.contains("approve_filing"),
        "the trail names the command"
    );
    assert!(
        page.body.contains("id=\"deadlines\""),
        "the decision deadline runs"
    );
    // Approving again: refused by the rules, the page with the reason (422).
    let again = zhao.post(
        &format!("/console/cases/{id}/act"),
        &format!("csrf={csrf}&action=approve_filing&seq=2&comment=x"),
    );
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(again.body.contains("role=\"alert\""));
    // The list shows the next deadline (the decision, 90 days from now).
    let list = zhao.get("/console/cases").body;
    assert!(
        list.contains("作出处罚决定") || list.contains("决定"),
        "{list}"
    );

    // The figures count the case opened this year, neither closed nor late.
    let figures = zhao
        .get(&format!(
            "/console/figures?unit=xw&from={year}-01-01&to={year}-12-31"
        ))
        .body;
    assert!(
        figures.contains(r#"<td id="cases-opened">1</td>"#),
        "{figures}"
    );
    assert!(figures.contains(r#"<td id="cases-closed">0</td>"#));
    assert!(figures.contains(r#"<td id="cases-overdue">0</td>"#));
    assert!(figures.contains(r#"<td id="cases-published-late">0</td>"#));
    let theirs = sun
        .get(&format!(
            "/console/figures?unit=xw&from={year}-01-01&to={year}-12-31"
        ))
        .body;
    assert!(
        theirs.contains(r#"<td id="cases-opened">0</td>"#),
        "{theirs}"
    );

    // Wang's tablet pulls the approval: a change of the case like any other.
    let back = wang.sync_cases(&server, pushed.cursor, Vec::new());
    assert_eq!(back.cases.len(), 1, "{back:?}");
    doc.load_incremental(&back.cases[0].bytes).unwrap();
    assert_eq!(doc.case().stage, CaseStage::Investigating);
    let filing = doc.case().filing.clone().unwrap();
    assert_eq!(filing.number, number);
    assert_eq!(filing.by.as_str(), "u-zhao");
    assert_eq!(filing.comment, "同意立案");

    // The county inherits the city's demo discretion table: shown on the rules page, and a
    // proposal made with it on the tablet is accepted by the server's judge.
    let rules = zhao.get("/console/penalty-rules");
    assert_eq!(rules.status, 200);
    assert!(rules.body.contains("97-1") && rules.body.contains("南京市应急管理局"));
    let table = demo_table();
    let (settings, calendar) = (PenaltySettings::default(), WorkCalendar::default());
    let with_table = CaseContext {
        discretion: Some(&table),
        settings: &settings,
        calendar: &calendar,
        ..cx(&wang.user, now())
    };
    // A tablet holding a table of its own (row 97-1 up to 90,000 yuan, not the unit's
    // 10,000–30,000) proposes 80,000: its own rules let it, the server's judge, replaying the
    // change with the table the unit published, refuses it, and nothing is stored.
    let mut loose = table.clone();
    loose.rows[0].fine_max = 90_000;
    let with_loose = CaseContext {
        discretion: Some(&loose),
        ..with_table
    };
    let mut forged = CaseDoc::load(&doc.save(), &wang_dev).unwrap();
    let before = forged.heads();
    let too_high = CaseCommand::ProposePenalty {
        circumstance: "97-1".into(),
        penalty: Penalty {
            fine_yuan: 80_000,
            other: [OtherPenalty::Warning].into(),
        },
        reasons: "按本机裁量表".into(),
    };
    forged.apply(&too_high, &with_loose, &wang_dev).unwrap();
    let refused = wang.sync_cases(
        &server,
        back.cursor,
        vec![push(&id, forged.save_after(&before))],
    );
    assert!(refused.accepted.is_empty(), "{refused:?}");
    assert_eq!(refused.rejected[0].code, "rule", "{refused:?}");
    assert_eq!(refused.cursor, back.cursor, "nothing stored");

    let before = doc.heads();
    let propose = CaseCommand::ProposePenalty {
        circumstance: "97-1".into(),
        penalty: Penalty {
            fine_yuan: 20_000,
            other: [OtherPenalty::Warning].into(),
        },
        reasons: "首次发现，及时改正".into(),
    };
    doc.apply(&propose, &with_table, &wang_dev).unwrap();
    let proposed = wang.sync_cases(
        &server,
        back.cursor,
        vec![push(&id, doc.save_after(&before))],
    );
    assert_eq!(proposed.accepted, vec![0], "{proposed:?}");
    assert!(
        zhao.get(&format!("/console/cases/{id}"))
            .body
            .contains("20000")
    );

    // The case file of the case as it reads now (调查取证), exported and signed by the server
    // like a record's: it verifies against the key the job page shows, and names the case.
    // Another county's supervisor may neither export it nor see the job.
    let export = format!("/console/cases/{id}/casefile");
    assert_eq!(sun.post(&export, &format!("csrf={sun_csrf}")).status, 404);
    let started = zhao.post(&export, &format!("csrf={csrf}"));
    assert_eq!(started.status, 303, "{}", started.body);
    let job = started.location.unwrap();
    let (done, states) = follow(&zhao, &job);
    assert_eq!(states.last().unwrap(), "done", "{}", done.body);
    assert!(
        done.body.contains(&format!("/console/cases/{id}")),
        "{}",
        done.body
    );
    let key = casefile::manifest::parse_public_key(text_of(&done.body, "casefile-key")).unwrap();
    let at = done.body.find("id=\"casefile-download\" href=\"").unwrap() + 29;
    let href = &done.body[at..at + done.body[at..].find('"').unwrap()];
    let zip = zhao.get(href).bytes;
    let options = casefile::VerifyOptions {
        trusted_keys: vec![casefile::TrustedKey {
            key,
            label: "server".into(),
        }],
    };
    let report = casefile::verify(std::io::Cursor::new(&zip), &options);
    assert!(report.holds(), "{}", report.render_zh_en());
    let manifest = report.manifest.unwrap();
    assert_eq!(manifest.signed_version, "investigating");
    assert_eq!(manifest.signer.user.as_str(), "u-zhao");
    assert_eq!(sun.get(&job).status, 404);
    assert_eq!(sun.get(&format!("{job}/download")).status, 404);

    // A table with a range outside the statutory one: refused with the row, nothing stored.
    let bad = std::fs::read_to_string(fixtures().join("demo/discretion/nj.toml"))
        .unwrap()
        .replace("fine_max = 30000", "fine_max = 300000");
    let refused = zhao.post(
        "/console/penalty-rules/discretion?unit=xw",
        &format!("csrf={csrf}&table={}", form_value(&bad)),
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("第 1 行裁量情节"), "{}", refused.body);
    assert!(
        zhao.get("/console/penalty-rules")
            .body
            .contains("沿用上级单位")
    );
    // A calendar line that is not a date: refused with its line.
    let refused = zhao.post(
        "/console/penalty-rules/calendar?unit=xw",
        &format!(
            "csrf={csrf}&holidays={}&workdays=",
            form_value("2026-10-01\n10月2日")
        ),
    );
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("第 2 行"), "{}", refused.body);
    // The calendar and the settings saved as the county's own.
    let saved = zhao.post(
        "/console/penalty-rules/calendar?unit=xw",
        &format!(
            "csrf={csrf}&holidays={}&workdays={}",
            form_value("2026-10-01\n2026-10-02\n"),
            form_value("2026-09-27")
        ),
    );
    assert_eq!(saved.status, 303, "{}", saved.body);
    let mut fields = vec![format!("csrf={csrf}")];
    for (name, days, counting) in [
        ("decision", 60, "calendar"),
        ("statement", 3, "working"),
        ("hearing_request", 5, "working"),
        ("hearing_notice", 7, "calendar"),
        ("publication", 7, "working"),
        ("payment", 15, "calendar"),
        ("preservation", 7, "calendar"),
    ] {
        fields.push(format!("{name}_days={days}&{name}_counting={counting}"));
    }
    fields.push("hearing_fine_threshold=30000&major_fine_threshold=&warn_days=5".into());
    let saved = zhao.post("/console/penalty-rules/settings?unit=xw", &fields.join("&"));
    assert_eq!(saved.status, 303, "{}", saved.body);
    let rules = zhao.get("/console/penalty-rules").body;
    assert!(
        rules.contains("本单位设置") && rules.contains("2026-10-02"),
        "{rules}"
    );
    assert!(rules.contains("value=\"60\"") && rules.contains("value=\"30000\""));
    // Blacklist rules: a bad rule refused with its place, good ones saved; the violations
    // page (no decided case yet) says so.
    let refused = zhao.post(
        "/console/penalty-rules/blacklist?unit=xw",
        &format!(
            "csrf={csrf}&rules={}",
            form_value("[[rule]]\nid = \"r\"\nreason = \"\"\nlisted_days = 365\ncondition = { when = \"major\" }\n")
        ),
    );
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("第 1 条规则"), "{}", refused.body);
    let saved = zhao.post(
        "/console/penalty-rules/blacklist?unit=xw",
        &format!(
            "csrf={csrf}&rules={}",
            form_value("[[rule]]\nid = \"big\"\nreason = \"单次罚款十万元以上\"\nlisted_days = 365\ncondition = { when = \"fine_at_least\", yuan = 100000 }\n")
        ),
    );
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(
        zhao.get("/console/penalty-rules")
            .body
            .contains("单次罚款 100000 元以上")
    );
    let violations = zhao.get("/console/violations");
    assert_eq!(violations.status, 200);
    assert!(
        violations.body.contains("尚无作出处罚决定的案件"),
        "{}",
        violations.body
    );

    // Another county's supervisor may not see or edit Xuanwu's rules.
    assert_eq!(sun.get("/console/penalty-rules?unit=xw").status, 404);
    let tried = sun.post(
        "/console/penalty-rules/settings?unit=xw",
        &format!("csrf={sun_csrf}&{}", fields[1..].join("&")),
    );
    assert_eq!(tried.status, 404);
}

#[test]
fn console_cases_on_sqlite() {
    console_story(&[]);
}

#[test]
fn console_cases_on_postgres() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    console_story(&[("SYNC_SERVER_DATABASE".into(), db.url())]);
}
