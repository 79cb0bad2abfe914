//! A checklist template as a table a supervisor edits in WPS or Excel, and back. Pure: the
//! server turns the rows into an XLSX file and reads them back from one; this module only
//! knows rows of text cells.
//!
//! The layout (row numbers as the spreadsheet shows them, from 1):
//!
//! ```text
//! 1  检查表编号 | gongmao
//! 2  名称       | 工贸企业安全生产执法检查表
//! 3  适用行业   | 冶金；有色；…
//! 4  发布日期   | 2026-12-06
//! 5  版本       | 2            (informative: an upload becomes the next version)
//! 6  (empty)
//! 7  分类 | 分类适用行业 | 专项 | 编号 | 检查内容 | 检查方法 | 违法依据 | 处罚依据 |
//!    重大事故隐患 | 判定依据 | 适用行业 | 适用条件
//! 8… one item per row
//! ```
//!
//! Citations are written as on paper: `《安全生产法》第四十一条第二款`, several separated by
//! `；`, a citation whose text could not be read followed by `（依据待核）`. Methods and
//! industries are their Chinese labels separated by `；` or `、`. A category's 分类适用行业
//! and 专项 are read from its first row. Reading checks every row and returns every problem
//! with its row number; a template comes back only when there are none.

use crate::checklist::{Category, CheckMethod, ChecklistItem, ChecklistTemplate};
use crate::enterprise::Industry;
use crate::ids::ItemCode;
use crate::legal::{LegalBasis, PENDING_MARK};
use std::collections::BTreeMap;

/// The labels of the template's own fields, in the first rows.
pub const META: [&str; 5] = ["检查表编号", "名称", "适用行业", "发布日期", "版本"];

/// The header row of the item table.
pub const HEADER: [&str; 12] = [
    "分类",
    "分类适用行业",
    "专项",
    "编号",
    "检查内容",
    "检查方法",
    "违法依据",
    "处罚依据",
    "重大事故隐患",
    "判定依据",
    "适用行业",
    "适用条件",
];

/// The row (counted from 1) the item header is on.
pub const HEADER_ROW: usize = META.len() + 2;

const YES: &str = "是";
const NO: &str = "否";

/// What is wrong with one row of an uploaded sheet. The texts are in
/// [`crate::messages`] (`Bilingual`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetProblem {
    /// A template field (检查表编号 …) is missing or empty.
    MissingMeta(&'static str),
    /// The 检查表编号 is not the template being uploaded to.
    WrongTemplate {
        expected: String,
        found: String,
    },
    /// The header row is not the expected one.
    BadHeader,
    MissingCell(&'static str),
    MalformedCode(String),
    DuplicateCode {
        code: String,
        first_row: usize,
    },
    UnknownMethod(String),
    UnknownIndustry(String),
    /// A citation not of the form 《…》第…条.
    BadCitation {
        column: &'static str,
        text: String,
    },
    /// 重大事故隐患 is 是 without a 判定依据 (or 否 with one).
    MajorWithoutBasis,
    BasisWithoutMajor,
    /// 是/否 expected.
    NotYesNo {
        column: &'static str,
        text: String,
    },
    /// Anything else the template's own validation refuses (the English text).
    Invalid(String),
    /// No item rows at all.
    NoItems,
}

/// A problem and the row it is on (counted from 1, as the spreadsheet shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub row: usize,
    pub problem: SheetProblem,
}

/// The sheet's rows for a template.
pub fn to_rows(template: &ChecklistTemplate) -> Vec<Vec<String>> {
    let mut rows = vec![
        vec![META[0].to_owned(), template.id.clone()],
        vec![META[1].to_owned(), template.name.clone()],
        vec![META[2].to_owned(), industries_cell(&template.industries)],
        vec![META[3].to_owned(), template.published.clone()],
        vec![META[4].to_owned(), template.version.to_string()],
        vec![],
        HEADER.iter().map(|h| (*h).to_owned()).collect(),
    ];
    for category in &template.categories {
        for item in &category.items {
            rows.push(vec![
                category.name.clone(),
                industries_cell(&category.industries),
                if category.situational { YES } else { NO }.to_owned(),
                item.code.as_str().to_owned(),
                item.text.clone(),
                item.methods
                    .iter()
                    .map(|m| m.label_zh())
                    .collect::<Vec<_>>()
                    .join("；"),
                citations_cell(&item.basis),
                citations_cell(&item.penalty),
                if item.is_major_hazard() { YES } else { NO }.to_owned(),
                item.major_hazard
                    .as_ref()
                    .map(|b| b.to_string())
                    .unwrap_or_default(),
                industries_cell(&item.industries),
                item.condition.clone().unwrap_or_default(),
            ]);
        }
    }
    rows
}

fn industries_cell(industries: &[Industry]) -> String {
    industries
        .iter()
        .map(|i| i.label_zh())
        .collect::<Vec<_>>()
        .join("；")
}

fn citations_cell(bases: &[LegalBasis]) -> String {
    bases
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join("；")
}

fn split_list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(['；', ';', '、', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `《安全生产法》第四十一条第二款（依据待核）` → the basis, pending.
pub fn parse_citation(text: &str) -> Option<LegalBasis> {
    let text = text.trim();
    let rest = text.strip_prefix('《')?;
    let (source, article) = rest.split_once('》')?;
    let (article, pending) = match article
        .trim()
        .strip_suffix(&format!("（{PENDING_MARK}）"))
        .or_else(|| article.trim().strip_suffix(&format!("({PENDING_MARK})")))
    {
        Some(a) => (a.trim(), true),
        None => (article.trim(), false),
    };
    let source = source.trim();
    if source.is_empty()
        || article.is_empty()
        || source.contains('《')
        || article.contains(['《', '》'])
    {
        return None;
    }
    Some(LegalBasis {
        source: source.to_owned(),
        article: article.to_owned(),
        pending,
    })
}

fn cell(row: &[String], i: usize) -> &str {
    row.get(i).map(|s| s.trim()).unwrap_or("")
}

/// Reads a sheet back into a template `id` (the version is `version`: the server gives an
/// upload the next number). Every bad row is reported; nothing comes back unless all are good.
pub fn from_rows(
    rows: &[Vec<String>],
    id: &str,
    version: u32,
) -> Result<ChecklistTemplate, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let mut meta = |i: usize| -> String {
        let row = rows.get(i).map(Vec::as_slice).unwrap_or(&[]);
        if cell(row, 0) != META[i] || cell(row, 1).is_empty() {
            problems.push(RowProblem {
                row: i + 1,
                problem: SheetProblem::MissingMeta(META[i]),
            });
        }
        cell(row, 1).to_owned()
    };
    let found_id = meta(0);
    let name = meta(1);
    let industries_text = meta(2);
    let published = meta(3);
    if !found_id.is_empty() && found_id != id {
        problems.push(RowProblem {
            row: 1,
            problem: SheetProblem::WrongTemplate {
                expected: id.to_owned(),
                found: found_id,
            },
        });
    }
    let industries = parse_industries(&industries_text, 3, &mut problems);

    let header_ok = rows
        .get(HEADER_ROW - 1)
        .is_some_and(|r| (0..HEADER.len()).all(|i| cell(r, i) == HEADER[i]));
    if !header_ok {
        problems.push(RowProblem {
            row: HEADER_ROW,
            problem: SheetProblem::BadHeader,
        });
        return Err(problems);
    }

    let mut categories: Vec<Category> = Vec::new();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut item_rows: Vec<(usize, String)> = Vec::new();
    for (index, row) in rows.iter().enumerate().skip(HEADER_ROW) {
        let n = index + 1;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut bad = |problem| problems.push(RowProblem { row: n, problem });
        let category_name = cell(row, 0);
        let code = cell(row, 3);
        let text = cell(row, 4);
        for (i, value) in [(0, category_name), (3, code), (4, text), (6, cell(row, 6))] {
            if value.is_empty() {
                bad(SheetProblem::MissingCell(HEADER[i]));
            }
        }
        if !code.is_empty() {
            if !crate::checklist::valid_code(code) {
                bad(SheetProblem::MalformedCode(code.to_owned()));
            } else if let Some(first) = codes.get(code) {
                bad(SheetProblem::DuplicateCode {
                    code: code.to_owned(),
                    first_row: *first,
                });
            } else {
                codes.insert(code.to_owned(), n);
            }
        }
        let mut methods = Vec::new();
        for m in split_list(cell(row, 5)) {
            match CheckMethod::from_label_zh(m) {
                Some(m) if !methods.contains(&m) => methods.push(m),
                Some(_) => {}
                None => bad(SheetProblem::UnknownMethod(m.to_owned())),
            }
        }
        if cell(row, 5).is_empty() {
            bad(SheetProblem::MissingCell(HEADER[5]));
        }
        let citations = |column: usize, bad: &mut dyn FnMut(SheetProblem)| {
            let mut out = Vec::new();
            for part in cell(row, column).split(['；', ';', '\n']).map(str::trim) {
                if part.is_empty() {
                    continue;
                }
                match parse_citation(part) {
                    Some(b) => out.push(b),
                    None => bad(SheetProblem::BadCitation {
                        column: HEADER[column],
                        text: part.to_owned(),
                    }),
                }
            }
            out
        };
        let basis = citations(6, &mut bad);
        let penalty = citations(7, &mut bad);
        let judged = citations(9, &mut bad);
        let major = match cell(row, 8) {
            YES => true,
            NO | "" => false,
            other => {
                bad(SheetProblem::NotYesNo {
                    column: HEADER[8],
                    text: other.to_owned(),
                });
                false
            }
        };
        if major && cell(row, 9).is_empty() {
            bad(SheetProblem::MajorWithoutBasis);
        }
        if !major && !cell(row, 9).is_empty() && !cell(row, 8).is_empty() {
            bad(SheetProblem::BasisWithoutMajor);
        }
        if judged.len() > 1 {
            bad(SheetProblem::BadCitation {
                column: HEADER[9],
                text: cell(row, 9).to_owned(),
            });
        }
        let situational = match cell(row, 2) {
            YES => true,
            NO | "" => false,
            other => {
                bad(SheetProblem::NotYesNo {
                    column: HEADER[2],
                    text: other.to_owned(),
                });
                false
            }
        };
        let mut industry_problems = Vec::new();
        let category_industries = parse_industries(cell(row, 1), n, &mut industry_problems);
        let item_industries = parse_industries(cell(row, 10), n, &mut industry_problems);
        problems.extend(industry_problems);
        let condition = Some(cell(row, 11).to_owned()).filter(|c| !c.is_empty());
        let item = ChecklistItem {
            code: ItemCode::new(code),
            text: text.to_owned(),
            methods,
            basis,
            penalty,
            major_hazard: if major {
                judged.into_iter().next()
            } else {
                None
            },
            industries: item_industries,
            condition,
        };
        item_rows.push((n, code.to_owned()));
        match categories.iter_mut().find(|c| c.name == category_name) {
            Some(c) => c.items.push(item),
            None => categories.push(Category {
                name: category_name.to_owned(),
                industries: category_industries,
                situational,
                items: vec![item],
            }),
        }
    }
    if item_rows.is_empty() {
        problems.push(RowProblem {
            row: HEADER_ROW + 1,
            problem: SheetProblem::NoItems,
        });
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.row);
        return Err(problems);
    }
    let template = ChecklistTemplate {
        id: id.to_owned(),
        version,
        name,
        industries,
        published,
        categories,
    };
    // What the rows could not see alone (an item industry outside its category, a date …):
    // the template's own rules, reported on the row of the item they name when there is one.
    if let Err(e) = template.validate() {
        let message = e.to_string();
        let row = item_rows
            .iter()
            .find(|(_, code)| message.contains(&format!("`{code}`")))
            .map(|(n, _)| *n)
            .unwrap_or(1);
        return Err(vec![RowProblem {
            row,
            problem: SheetProblem::Invalid(message),
        }]);
    }
    Ok(template)
}

fn parse_industries(cell: &str, row: usize, problems: &mut Vec<RowProblem>) -> Vec<Industry> {
    let mut out = Vec::new();
    for label in split_list(cell) {
        match Industry::ALL.into_iter().find(|i| i.label_zh() == label) {
            Some(i) if !out.contains(&i) => out.push(i),
            Some(_) => {}
            None => problems.push(RowProblem {
                row,
                problem: SheetProblem::UnknownIndustry(label.to_owned()),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> ChecklistTemplate {
        ChecklistTemplate::parse_toml(
            r#"
id = "demo"
version = 3
name = "示例检查表"
industries = ["machinery", "metallurgy"]
published = "2026-12-06"

[[category]]
name = "通用"

[[category.item]]
code = "DM-01"
text = "是否建立全员安全生产责任制"
methods = ["documents", "interview"]
basis = [{ source = "安全生产法", article = "第二十二条" }]
penalty = [{ source = "安全生产法", article = "第九十四条", pending = true }]

[[category]]
name = "冶金"
industries = ["metallurgy"]
situational = true

[[category.item]]
code = "DM-02"
text = "人员聚集场所是否设置在吊运跨地坪区域内"
methods = ["site"]
basis = [{ source = "安全生产法", article = "第二十条" }, { source = "冶金企业和有色金属企业安全生产规定", article = "第二十条" }]
major_hazard = { source = "工贸企业重大事故隐患判定标准", article = "第四条第（一）项" }
industries = ["metallurgy"]
condition = "有吊运熔融金属作业的"
"#,
        )
        .unwrap()
    }

    #[test]
    fn rows_round_trip() {
        let t = demo();
        let rows = to_rows(&t);
        assert_eq!(rows[HEADER_ROW - 1][0], "分类");
        assert_eq!(rows[HEADER_ROW][7], "《安全生产法》第九十四条（依据待核）");
        assert_eq!(
            rows[HEADER_ROW + 1][6],
            "《安全生产法》第二十条；《冶金企业和有色金属企业安全生产规定》第二十条"
        );
        let back = from_rows(&rows, "demo", 3).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn every_shipped_template_round_trips() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/checklists");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let t = ChecklistTemplate::parse_toml(&std::fs::read_to_string(&path).unwrap())
                    .unwrap();
                match from_rows(&to_rows(&t), &t.id, t.version) {
                    Ok(back) => assert_eq!(back, t, "{}", path.display()),
                    // a template written before 检查方法 existed: an upload must add them,
                    // and that is the only thing the sheet asks for
                    Err(problems) => {
                        assert!(t.items().any(|i| i.methods.is_empty()));
                        assert!(
                            problems
                                .iter()
                                .all(|p| p.problem == SheetProblem::MissingCell("检查方法")),
                            "{}: {problems:?}",
                            path.display()
                        );
                    }
                }
                seen += 1;
            }
        }
        assert!(seen >= 2);
    }

    #[test]
    fn citations_parse() {
        let b = parse_citation("《安全生产法》第四十一条第二款").unwrap();
        assert_eq!(b, LegalBasis::new("安全生产法", "第四十一条第二款"));
        let p = parse_citation(" 《危险化学品安全法》第二十条（依据待核） ").unwrap();
        assert!(p.pending);
        assert_eq!(p.article, "第二十条");
        for bad in [
            "安全生产法第四十一条",
            "《安全生产法》",
            "《》第一条",
            "《安全生产法第一条",
        ] {
            assert!(parse_citation(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn every_bad_row_is_reported_and_nothing_imported() {
        let mut rows = to_rows(&demo());
        let first = HEADER_ROW; // index of the first item row
        // row 8: no 违法依据
        rows[first][6] = String::new();
        // row 9: major without 判定依据, unknown method and industry, bad citation
        rows[first + 1][9] = String::new();
        rows[first + 1][5] = "查看".into();
        rows[first + 1][10] = "化工".into();
        rows[first + 1][7] = "安全生产法第九十条".into();
        // row 10: a copy of row 8's code; row 11: a malformed code
        let mut dup = rows[first + 1].clone();
        dup[3] = "DM-01".into();
        dup[9] = "《工贸企业重大事故隐患判定标准》第四条".into();
        dup[5] = "查现场".into();
        dup[10] = String::new();
        dup[7] = String::new();
        rows.push(dup.clone());
        let mut malformed = dup;
        malformed[3] = "dm 3".into();
        rows.push(malformed);
        let problems = from_rows(&rows, "demo", 4).unwrap_err();
        let got: Vec<(usize, SheetProblem)> =
            problems.into_iter().map(|p| (p.row, p.problem)).collect();
        assert_eq!(
            got,
            vec![
                (8, SheetProblem::MissingCell("违法依据")),
                (9, SheetProblem::UnknownMethod("查看".into())),
                (
                    9,
                    SheetProblem::BadCitation {
                        column: "处罚依据",
                        text: "安全生产法第九十条".into()
                    }
                ),
                (9, SheetProblem::MajorWithoutBasis),
                (9, SheetProblem::UnknownIndustry("化工".into())),
                (
                    10,
                    SheetProblem::DuplicateCode {
                        code: "DM-01".into(),
                        first_row: 8
                    }
                ),
                (11, SheetProblem::MalformedCode("dm 3".into())),
            ]
        );
    }

    #[test]
    fn wrong_template_and_header_are_reported() {
        let mut rows = to_rows(&demo());
        rows[0][1] = "other".into();
        rows[HEADER_ROW - 1][4] = "内容".into();
        let problems = from_rows(&rows, "demo", 4).unwrap_err();
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[1].row, HEADER_ROW);
    }

    #[test]
    fn template_rules_point_at_the_item_row() {
        let mut rows = to_rows(&demo());
        // DM-01 is in 通用 (all industries); limiting it to 商贸 is outside the template
        rows[HEADER_ROW][10] = "商贸".into();
        let problems = from_rows(&rows, "demo", 4).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].row, HEADER_ROW + 1);
    }
}
