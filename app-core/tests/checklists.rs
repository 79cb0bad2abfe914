//! The checklist fixtures (`fixtures/checklists/*.toml`) and the template parser: the real
//! templates parse and carry the major-hazard items of the published standards; malformed
//! templates are rejected with an error that names the offending item.

use app_core::checklist::{ChecklistError, ChecklistTemplate, TemplateLibrary, TemplateRef};
use app_core::enterprise::Industry;
use app_core::ids::ItemCode;
use std::collections::BTreeSet;
use std::path::PathBuf;

const GONGMAO_STANDARD: &str = "工贸企业重大事故隐患判定标准";
const WEIHUAPIN_STANDARD: &str = "化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）";

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/checklists")
}

fn read_fixture(name: &str) -> String {
    let path = fixtures_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(name: &str) -> ChecklistTemplate {
    ChecklistTemplate::parse_toml(&read_fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn gongmao() -> ChecklistTemplate {
    load("gongmao.toml")
}

fn weihuapin() -> ChecklistTemplate {
    load("weihuapin.toml")
}

fn gongmao_v2() -> ChecklistTemplate {
    load("gongmao-v2.toml")
}

fn weihuapin_v2() -> ChecklistTemplate {
    load("weihuapin-v2.toml")
}

/// Chinese numeral for 1..=99 as written in 项 numbers: 一 … 十 … 十九, 二十 …
fn numeral(n: u32) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    assert!((1..100).contains(&n));
    let (tens, ones) = (n / 10, n % 10);
    let mut s = String::new();
    if tens > 1 {
        s.push_str(DIGITS[tens as usize]);
    }
    if tens >= 1 {
        s.push('十');
    }
    s.push_str(DIGITS[ones as usize]);
    s
}

#[test]
fn every_toml_fixture_parses() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            ChecklistTemplate::parse_toml(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    names.sort();
    assert_eq!(
        names,
        [
            "gongmao-v2.toml",
            "gongmao.toml",
            "weihuapin-v2.toml",
            "weihuapin.toml"
        ]
    );
}

#[test]
fn fixtures_have_enough_items_each_with_a_basis_and_unique_codes() {
    let templates = [gongmao(), weihuapin()];
    let total: usize = templates.iter().map(|t| t.items().count()).sum();
    assert!(total >= 60, "only {total} items");

    let mut codes = BTreeSet::new();
    for t in &templates {
        for item in t.items() {
            assert!(
                codes.insert(item.code.clone()),
                "duplicate code {}",
                item.code
            );
            assert!(!item.text.trim().is_empty(), "{}", item.code);
            assert!(!item.basis.is_empty(), "{} has no basis", item.code);
            for basis in item.basis.iter().chain(&item.major_hazard) {
                assert!(!basis.source.trim().is_empty(), "{}", item.code);
                assert!(!basis.article.trim().is_empty(), "{}", item.code);
                assert!(
                    !basis.source.contains(['《', '》']),
                    "{}: {}",
                    item.code,
                    basis.source
                );
            }
        }
    }
}

#[test]
fn item_codes_carry_the_template_prefix() {
    for (t, prefix) in [(gongmao(), "GM-"), (weihuapin(), "WH-")] {
        for item in t.items() {
            assert!(item.code.as_str().starts_with(prefix), "{}", item.code);
        }
    }
}

#[test]
fn weihuapin_has_exactly_the_twenty_situations_of_the_2017_standard() {
    let t = weihuapin();
    assert_eq!(t.industries, [Industry::HazardousChemicals]);
    let majors: Vec<_> = t.major_hazard_items().collect();
    assert_eq!(majors.len(), 20);

    let articles: BTreeSet<&str> = majors
        .iter()
        .map(|item| {
            let major = item.major_hazard.as_ref().unwrap();
            assert_eq!(major.source, WEIHUAPIN_STANDARD, "{}", item.code);
            major.article.as_str()
        })
        .collect();
    let expected: BTreeSet<String> = (1..=20)
        .map(|n| format!("第（{}）项", numeral(n)))
        .collect();
    let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(articles, expected);

    // WH-ZD-NN is situation NN.
    for n in 1..=20 {
        let item = t.item(&ItemCode::new(format!("WH-ZD-{n:02}"))).unwrap();
        assert_eq!(
            item.major_hazard.as_ref().unwrap().article,
            format!("第（{}）项", numeral(n))
        );
    }
}

#[test]
fn gongmao_has_the_general_and_special_articles_of_the_2023_standard() {
    let t = gongmao();
    assert!(
        Industry::ALL
            .iter()
            .filter(|i| i.is_industry_and_trade())
            .all(|i| t.applies_to(*i))
    );
    assert!(!t.applies_to(Industry::HazardousChemicals));

    let articles: BTreeSet<&str> = t
        .major_hazard_items()
        .map(|item| {
            let major = item.major_hazard.as_ref().unwrap();
            assert_eq!(major.source, GONGMAO_STANDARD, "{}", item.code);
            major.article.as_str()
        })
        .collect();

    // 第三条: every one of its three situations.
    for n in 1..=3 {
        let article = format!("第三条第（{}）项", numeral(n));
        assert!(articles.contains(article.as_str()), "missing {article}");
    }
    // 粉尘涉爆 (第十一条, all ten), 液氨制冷 (第十二条), 有限空间 (第十三条).
    for n in 1..=10 {
        let article = format!("第十一条第（{}）项", numeral(n));
        assert!(articles.contains(article.as_str()), "missing {article}");
    }
    for article in ["第十二条", "第十三条"] {
        assert!(
            articles.iter().any(|a| a.starts_with(article)),
            "nothing from {article}"
        );
    }
    // and something from the industry articles (冶金 第四条 … 烟草 第十条).
    for article in ["第四条", "第五条", "第六条", "第七条", "第十条"] {
        assert!(
            articles.iter().any(|a| a.starts_with(article)),
            "nothing from {article}"
        );
    }
    // ordinary (non-major) checks too
    assert!(t.items().filter(|i| !i.is_major_hazard()).count() >= 15);
}

#[test]
fn industry_categories_only_reach_their_industry() {
    let t = gongmao();
    let has = |industry, code: &str| t.items_for(industry).any(|i| i.code.as_str() == code);
    // 冶金 items reach a steel works, not a machinery plant; 通用 and 粉尘 items reach both.
    assert!(has(Industry::Metallurgy, "GM-YJ-01"));
    assert!(!has(Industry::Machinery, "GM-YJ-01"));
    assert!(has(Industry::Machinery, "GM-JX-01"));
    for industry in [
        Industry::Metallurgy,
        Industry::Machinery,
        Industry::Commerce,
    ] {
        assert!(has(industry, "GM-ZD-01"));
        assert!(has(industry, "GM-FC-01"));
    }
    assert_eq!(t.items_for(Industry::HazardousChemicals).count(), 0);
}

// ---- version 2 of the shipped templates ----

const TEMPLATE_FILES: [&str; 4] = [
    "gongmao.toml",
    "weihuapin.toml",
    "gongmao-v2.toml",
    "weihuapin-v2.toml",
];

#[test]
fn v2_templates_are_version_2_and_keep_their_ids_and_industries() {
    let (g1, g2) = (gongmao(), gongmao_v2());
    let (w1, w2) = (weihuapin(), weihuapin_v2());
    assert_eq!((g1.version, g2.version), (1, 2));
    assert_eq!((w1.version, w2.version), (1, 2));
    assert_eq!(g2.id, g1.id);
    assert_eq!(w2.id, w1.id);
    assert_eq!(g2.industries, g1.industries);
    assert_eq!(w2.industries, w1.industries);
    // v1 stays what old records were made with
    assert_eq!(g1.items().count(), 56);
    assert_eq!(w1.items().count(), 39);
    assert_eq!(g2.items().count(), 68);
    assert_eq!(g2.major_hazard_items().count(), 46);
    assert_eq!(w2.items().count(), 43);
    assert_eq!(w2.major_hazard_items().count(), 20);
}

#[test]
fn v2_items_have_methods_a_basis_and_unique_codes() {
    let templates = [gongmao_v2(), weihuapin_v2()];
    let mut codes = BTreeSet::new();
    for t in &templates {
        for item in t.items() {
            assert!(codes.insert(item.code.clone()), "duplicate {}", item.code);
            assert!(!item.methods.is_empty(), "{} has no 检查方法", item.code);
            assert!(!item.basis.is_empty(), "{} has no 违法依据", item.code);
            for basis in item
                .basis
                .iter()
                .chain(&item.penalty)
                .chain(&item.major_hazard)
            {
                assert!(!basis.source.trim().is_empty(), "{}", item.code);
                assert!(!basis.article.trim().is_empty(), "{}", item.code);
                assert!(!basis.source.contains(['《', '》']), "{}", item.code);
            }
        }
    }
    // the 处罚依据 is there wherever a penalty article was read
    let without_penalty: Vec<_> = templates
        .iter()
        .flat_map(|t| t.items())
        .filter(|i| i.penalty.is_empty())
        .map(|i| i.code.as_str().to_owned())
        .collect();
    assert_eq!(without_penalty, ["GM-PX-03", "GM-JY-02", "WH-YJ-02"]);
}

#[test]
fn weihuapin_v2_cites_the_new_law_and_keeps_the_2017_situations_pending() {
    let t = weihuapin_v2();
    for item in t.items() {
        for basis in item.basis.iter().chain(&item.penalty) {
            assert_ne!(
                basis.source, "危险化学品安全管理条例",
                "{} still cites the 条例",
                item.code
            );
        }
    }
    assert!(
        t.items()
            .flat_map(|i| i.basis.iter().chain(&i.penalty))
            .any(|b| b.source == "危险化学品安全法")
    );

    // no AQ 3067 clause is cited: its text could not be read; the 2017 basis stays, pending
    for n in 1..=20 {
        let item = t.item(&ItemCode::new(format!("WH-ZD-{n:02}"))).unwrap();
        let major = item.major_hazard.as_ref().unwrap();
        assert_eq!(major.source, WEIHUAPIN_STANDARD, "{}", item.code);
        assert_eq!(major.article, format!("第（{}）项", numeral(n)));
        assert!(major.pending, "{} must be 依据待核", item.code);
    }
    assert!(
        t.items()
            .flat_map(|i| i.basis.iter().chain(&i.penalty).chain(&i.major_hazard))
            .all(|b| !b.source.contains("AQ 3067"))
    );
}

#[test]
fn gongmao_v2_covers_every_article_of_the_standard_and_fixes_the_two_bases() {
    let t = gongmao_v2();
    let articles: BTreeSet<&str> = t
        .major_hazard_items()
        .map(|item| {
            let major = item.major_hazard.as_ref().unwrap();
            assert_eq!(major.source, GONGMAO_STANDARD, "{}", item.code);
            major.article.as_str()
        })
        .collect();
    for n in 1..=3 {
        assert!(articles.contains(format!("第三条第（{}）项", numeral(n)).as_str()));
    }
    for n in 1..=8 {
        assert!(articles.contains(format!("第六条第（{}）项", numeral(n)).as_str()));
    }
    for n in 1..=10 {
        assert!(articles.contains(format!("第十一条第（{}）项", numeral(n)).as_str()));
    }
    for n in 1..=2 {
        for article in ["第十条", "第十二条", "第十三条"] {
            let a = format!("{article}第（{}）项", numeral(n));
            assert!(articles.contains(a.as_str()), "missing {a}");
        }
    }
    // every industry article 第四条 … 第十条 (轻工 and 纺织 included), and 第十四条
    for article in [
        "第四条",
        "第五条",
        "第六条",
        "第七条",
        "第八条",
        "第九条",
        "第十条",
        "第十四条",
    ] {
        assert!(
            articles.iter().any(|a| a.starts_with(article)),
            "nothing from {article}"
        );
    }
    let has = |industry, code: &str| t.items_for(industry).any(|i| i.code.as_str() == code);
    assert!(has(Industry::LightIndustry, "GM-QG-QT"));
    assert!(has(Industry::Textile, "GM-FZ-QT"));
    assert!(!has(Industry::Machinery, "GM-QG-QT"));
    assert!(has(Industry::Commerce, "GM-ZD-01"));
    assert!(has(Industry::Commerce, "GM-FC-01"));

    // GM-XG-01: 第四十七条 is about funding, not the duty checked
    let xg01 = t.item(&ItemCode::new("GM-XG-01")).unwrap();
    assert!(xg01.basis.iter().all(|b| b.article != "第四十七条"));
    // GM-YX-02: the duties come from 应急管理部令第13号, not 《安全生产法》第四十四条
    let yx02 = t.item(&ItemCode::new("GM-YX-02")).unwrap();
    assert!(
        yx02.basis
            .iter()
            .any(|b| b.source == "工贸企业有限空间作业安全规定" && !b.pending)
    );
    assert!(
        yx02.basis
            .iter()
            .all(|b| !(b.source == "安全生产法" && b.article.starts_with("第四十四条")))
    );
}

/// Every citation of every shipped template appears in the README's list for that template,
/// on the line of its source, with （依据待核） when it is pending; and the README's 依据待核
/// section names every item that carries a pending citation.
#[test]
fn readme_lists_every_citation_of_every_template() {
    let readme = read_fixture("README.md");
    let listed = readme
        .split("## Every citation, by template")
        .nth(1)
        .expect("README has the citation list")
        .split("\n## ")
        .next()
        .unwrap();
    let pending_section = readme
        .split("## 依据待核")
        .nth(1)
        .expect("README has the 依据待核 list");
    for file in TEMPLATE_FILES {
        let t = load(file);
        let section = listed
            .split(&format!("### `{file}`"))
            .nth(1)
            .unwrap_or_else(|| panic!("README lists no citations of {file}"))
            .split("\n### ")
            .next()
            .unwrap();
        for item in t.items() {
            for basis in item
                .basis
                .iter()
                .chain(&item.penalty)
                .chain(&item.major_hazard)
            {
                let line = section
                    .lines()
                    .find(|l| l.starts_with(&format!("- 《{}》: ", basis.source)))
                    .unwrap_or_else(|| panic!("{file}: no README line for 《{}》", basis.source));
                let cited = if basis.pending {
                    format!("{}（依据待核）", basis.article)
                } else {
                    basis.article.clone()
                };
                let entries: Vec<&str> = line.split_once(": ").unwrap().1.split('、').collect();
                assert!(
                    entries.contains(&cited.as_str()),
                    "{file} {}: 《{}》{cited} not listed in the README",
                    item.code,
                    basis.source
                );
                if basis.pending {
                    assert!(
                        pending_section.contains(item.code.as_str()),
                        "{file}: {} has a pending citation but is not in the 依据待核 list",
                        item.code
                    );
                }
            }
        }
    }
}

#[test]
fn library_serves_v2_to_new_inspections_and_v1_to_old_records() {
    let library =
        TemplateLibrary::new(vec![gongmao(), gongmao_v2(), weihuapin(), weihuapin_v2()]).unwrap();
    assert_eq!(library.latest("gongmao").unwrap().version, 2);
    assert_eq!(library.latest("weihuapin").unwrap().version, 2);
    let for_machinery = library.for_industry(Industry::Machinery);
    assert_eq!(for_machinery.len(), 1);
    assert_eq!(for_machinery[0].reference(), TemplateRef::new("gongmao", 2));
    assert_eq!(
        library.get(&TemplateRef::new("weihuapin", 1)).unwrap(),
        &weihuapin()
    );
}

// ---- parse errors ----

const VALID: &str = r#"
id = "test"
version = 1
name = "测试检查表"
industries = ["machinery"]
published = "2026-11-23"

[[category]]
name = "通用"

[[category.item]]
code = "T-01"
text = "建立全员安全生产责任制"
basis = [{ source = "安全生产法", article = "第二十二条" }]

[[category.item]]
code = "T-02"
text = "特种作业人员持证上岗"
basis = [{ source = "安全生产法", article = "第三十条" }]
major_hazard = { source = "工贸企业重大事故隐患判定标准", article = "第三条第（二）项" }
"#;

#[test]
fn the_error_fixture_base_is_valid() {
    let t = ChecklistTemplate::parse_toml(VALID).unwrap();
    assert_eq!(t.items().count(), 2);
}

#[test]
fn duplicate_code_is_rejected_naming_the_code() {
    let text = VALID.replace("code = \"T-02\"", "code = \"T-01\"");
    let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
    assert!(
        matches!(&err, ChecklistError::DuplicateCode { code, .. } if code == "T-01"),
        "{err:?}"
    );
    assert!(err.to_string().contains("T-01"), "{err}");
}

#[test]
fn item_without_basis_is_rejected_naming_the_code() {
    for replacement in ["basis = []", ""] {
        let text = VALID.replace(
            "basis = [{ source = \"安全生产法\", article = \"第三十条\" }]",
            replacement,
        );
        let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
        assert_eq!(
            err,
            ChecklistError::MissingBasis {
                code: "T-02".into()
            }
        );
        assert!(err.to_string().contains("T-02"), "{err}");
    }
}

#[test]
fn basis_with_an_empty_article_is_rejected_naming_the_code() {
    let text = VALID.replace("article = \"第三十条\"", "article = \" \"");
    let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
    assert!(
        matches!(&err, ChecklistError::IncompleteBasis { code, field, .. } if code == "T-02" && field == "article"),
        "{err:?}"
    );
    assert!(err.to_string().contains("T-02"), "{err}");
}

#[test]
fn unknown_industry_is_rejected_naming_the_value() {
    let text = VALID.replace("[\"machinery\"]", "[\"machinery\", \"chemicals\"]");
    let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
    assert!(
        matches!(&err, ChecklistError::UnknownIndustry { value, .. } if value == "chemicals"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("chemicals"), "{message}");
    assert!(message.contains("hazardous_chemicals"), "{message}");
}

#[test]
fn bad_toml_is_a_syntax_error_with_its_place() {
    let text = VALID.replace("code = \"T-02\"", "code = \"T-02");
    let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
    assert!(matches!(err, ChecklistError::Toml(_)), "{err:?}");
    // the message points at the line and quotes it, offending code included
    let message = err.to_string();
    assert!(message.contains("line 17"), "{message}");
    assert!(message.contains("code = \"T-02"), "{message}");
}

#[test]
fn missing_field_is_rejected_naming_the_item() {
    let text = VALID.replace("text = \"特种作业人员持证上岗\"", "");
    let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
    assert_eq!(
        err,
        ChecklistError::MissingField {
            location: "item `T-02`".into(),
            field: "text".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "item `T-02`: missing or empty field `text`"
    );

    let text = VALID.replace("code = \"T-02\"", "");
    let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
    assert!(
        err.to_string().contains("item #2 of category `通用`"),
        "{err}"
    );
}

#[test]
fn malformed_code_is_rejected() {
    let text = VALID.replace("code = \"T-02\"", "code = \"t 02\"");
    let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
    assert_eq!(
        err,
        ChecklistError::MalformedCode {
            code: "t 02".into()
        }
    );
}

#[test]
fn version_zero_is_rejected() {
    let text = VALID.replace("version = 1", "version = 0");
    let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
    assert!(
        matches!(err, ChecklistError::InvalidVersion { version: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn template_without_items_is_rejected() {
    let header = VALID.split("[[category]]").next().unwrap();
    let err = ChecklistTemplate::parse_toml(header).unwrap_err();
    assert_eq!(err, ChecklistError::EmptyTemplate { id: "test".into() });
}

// ---- the library ----

fn with_version(template: &ChecklistTemplate, version: u32) -> ChecklistTemplate {
    let mut t = template.clone();
    t.version = version;
    t
}

#[test]
fn library_picks_the_newest_version_but_finds_old_ones_exactly() {
    let v1 = gongmao();
    let mut v2 = with_version(&v1, 2);
    v2.published = "2027-03-01".into();
    v2.categories[0].items[0].text.push_str("（修订）");
    v2.validate().unwrap();

    let library = TemplateLibrary::new(vec![v2.clone(), weihuapin(), v1.clone()]).unwrap();

    let for_machinery = library.for_industry(Industry::Machinery);
    assert_eq!(for_machinery.len(), 1);
    assert_eq!(for_machinery[0].reference(), TemplateRef::new("gongmao", 2));

    // a record made with v1 still finds v1, unchanged
    let old = library.get(&TemplateRef::new("gongmao", 1)).unwrap();
    assert_eq!(old, &v1);
    assert!(library.get(&TemplateRef::new("gongmao", 3)).is_none());
    assert_eq!(library.latest("gongmao").unwrap().version, 2);
}

#[test]
fn library_matches_enterprises_to_their_templates() {
    let library = TemplateLibrary::new(vec![gongmao(), weihuapin()]).unwrap();
    let ids = |industry| {
        library
            .for_industry(industry)
            .iter()
            .map(|t| t.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(Industry::Machinery), ["gongmao"]);
    assert_eq!(ids(Industry::Commerce), ["gongmao"]);
    assert_eq!(ids(Industry::HazardousChemicals), ["weihuapin"]);
    assert!(ids(Industry::NonCoalMine).is_empty());
}

#[test]
fn a_newer_version_that_drops_an_industry_supersedes_the_old_one() {
    let v1 = gongmao();
    let mut v2 = with_version(&v1, 2);
    v2.industries.retain(|i| *i != Industry::Commerce);
    let library = TemplateLibrary::new(vec![v1, v2]).unwrap();
    assert!(library.for_industry(Industry::Commerce).is_empty());
    assert_eq!(library.for_industry(Industry::Machinery)[0].version, 2);
}

#[test]
fn library_rejects_the_same_id_and_version_twice() {
    let err = TemplateLibrary::new(vec![weihuapin(), gongmao(), weihuapin()]).unwrap_err();
    assert_eq!(
        err,
        ChecklistError::DuplicateTemplate {
            id: "weihuapin".into(),
            version: 1
        }
    );
}

/// Issue 20: an aluminium plant (有色) saw the 冶金/建材/机械/烟草 sections (the screen listed
/// every category of the template instead of `categories_for`) and the 液氨制冷 and 有限空间
/// sections (which apply by situation, not by industry, so no industry can exclude them):
/// the industry filter leaves only the 有色 article, and the three 专项 sections are marked
/// situational, shown folded with 本节不涉及 at hand.
#[test]
fn an_aluminium_plant_sees_its_own_sections_and_the_situational_ones_marked() {
    let t = gongmao();
    let names: Vec<&str> = t
        .categories_for(Industry::Nonferrous)
        .map(|c| c.name.as_str())
        .collect();
    assert!(names.iter().any(|n| n.contains("有色")));
    for other in ["冶金", "建材", "机械", "烟草"] {
        assert!(
            !names.iter().any(|n| n.contains(other)),
            "{other} section shown to a 有色 enterprise: {names:?}"
        );
    }
    let situational: Vec<&str> = t
        .categories_for(Industry::Nonferrous)
        .filter(|c| c.situational)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(situational.len(), 3, "{situational:?}");
    for s in ["粉尘涉爆", "液氨制冷", "有限空间"] {
        assert!(situational.iter().any(|n| n.contains(s)), "{s}");
    }
    // Industry sections are never situational.
    assert!(
        t.categories
            .iter()
            .filter(|c| !c.industries.is_empty())
            .all(|c| !c.situational)
    );
}
