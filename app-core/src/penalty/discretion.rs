//! The unit's discretion table (裁量基准): for each provision that punishes (处罚依据), the
//! circumstances the unit distinguishes and the penalty range each leads to. A decision
//! names the circumstance it applied (the row's code), and its fine lies in the row's range.
//!
//! The table is data the unit maintains like its checklists: a reviewable TOML text (or the
//! same rows from a spreadsheet), versioned, with [`DiscretionTable::validate`] naming every
//! problem with the row it is on, so a bad upload is refused whole with a list to fix.
//!
//! ```toml
//! id = "xw-2026"
//! version = 1
//! published = "2026-12-01"
//!
//! [[provision]]                      # 法定幅度: the range the provision itself allows
//! basis = "《安全生产法》第九十七条"
//! violation = "未按照规定对从业人员进行安全生产教育和培训"
//! fine_min = 0
//! fine_max = 100000
//!
//! [[row]]                            # one circumstance
//! code = "97-1"
//! basis = "《安全生产法》第九十七条"
//! circumstance = "首次发现，涉及从业人员3人以下"
//! grade = "lighter"                  # lighter 较轻 / ordinary 一般 / heavier 较重
//! fine_min = 10000
//! fine_max = 30000
//! other = ["warning"]
//! ```
//!
//! Citations are written as on paper (`《安全生产法》第九十七条`, `（依据待核）` after an
//! unverified one), read by [`crate::checklist_sheet::parse_citation`].

use crate::checklist_sheet::parse_citation;
use crate::geo::Day;
use crate::legal::LegalBasis;
use crate::penalty::{OtherPenalty, Penalty};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How heavy a circumstance is, in the order the tables list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 较轻 (从轻)
    Lighter,
    /// 一般
    Ordinary,
    /// 较重 (从重)
    Heavier,
}

impl Grade {
    pub fn label_zh(self) -> &'static str {
        match self {
            Grade::Lighter => "较轻",
            Grade::Ordinary => "一般",
            Grade::Heavier => "较重",
        }
    }
}

/// A provision the table covers, with the range the provision itself allows (法定幅度).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionRange {
    /// The 处罚依据 as written on paper, e.g. `《安全生产法》第九十七条`.
    pub basis: String,
    /// 违法行为: what the provision punishes, as the unit words it.
    #[serde(default)]
    pub violation: String,
    pub fine_min: u64,
    pub fine_max: u64,
}

/// One circumstance of a provision and its range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscretionRow {
    /// The row's code, unique in the table (the decision names it).
    pub code: String,
    pub basis: String,
    /// 违法情节: the circumstance, as the unit words it.
    pub circumstance: String,
    pub grade: Grade,
    pub fine_min: u64,
    pub fine_max: u64,
    /// Penalties besides the fine this circumstance carries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<OtherPenalty>,
}

/// A unit's discretion table, one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscretionTable {
    pub id: String,
    pub version: u32,
    pub published: Day,
    #[serde(default, rename = "provision")]
    pub provisions: Vec<ProvisionRange>,
    #[serde(default, rename = "row")]
    pub rows: Vec<DiscretionRow>,
}

/// Where a problem is: a `[[provision]]` or a `[[row]]`, counted from 1 in the order written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "at", content = "n", rename_all = "snake_case")]
pub enum TablePlace {
    Table,
    Provision(usize),
    Row(usize),
}

/// What is wrong with one place of a table. Texts in [`crate::messages`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableProblem {
    #[error("the table's id is empty")]
    NoId,
    #[error("the version must be 1 or more")]
    NoVersion,
    #[error("the table has no rows")]
    NoRows,
    #[error("“{0}” is not a citation like 《…》第…条")]
    BadCitation(String),
    #[error("provision {0} is listed twice")]
    DuplicateProvision(String),
    #[error("the code is empty")]
    NoCode,
    #[error("code {code} is used twice (first on row {first_row})")]
    DuplicateCode { code: String, first_row: usize },
    #[error("the circumstance is empty")]
    NoCircumstance,
    #[error("the fine range {min}–{max} is inverted")]
    InvertedRange { min: u64, max: u64 },
    #[error("provision {0} has no [[provision]] entry with its statutory range")]
    UnknownProvision(String),
    #[error(
        "the range {min}–{max} lies outside the statutory range {statutory_min}–{statutory_max}"
    )]
    OutsideStatutory {
        min: u64,
        max: u64,
        statutory_min: u64,
        statutory_max: u64,
    },
    #[error(
        "a {grade:?} circumstance's range starts below a lighter one's of the same provision (row {other_row})"
    )]
    GradesOutOfOrder { grade: Grade, other_row: usize },
    #[error("the TOML cannot be read: {0}")]
    Toml(String),
}

/// A problem and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedProblem {
    pub place: TablePlace,
    pub problem: TableProblem,
}

/// The same provision, whether or not one of the two is marked 依据待核; a citation of a
/// whole article (`第九十七条`) covers its paragraphs and items (`第九十七条第（三）项`), as a
/// discretion table's row for an article covers every item of it.
fn same_provision(a: &LegalBasis, b: &LegalBasis) -> bool {
    let within = |part: &str, whole: &str| {
        whole.ends_with('条')
            && part
                .strip_prefix(whole)
                .is_some_and(|rest| rest.starts_with('第'))
    };
    a.source == b.source
        && (a.article == b.article
            || within(&a.article, &b.article)
            || within(&b.article, &a.article))
}

#[cfg(test)]
mod provision_tests {
    use super::*;

    #[test]
    fn an_article_covers_its_items_but_not_another_article() {
        let law = |article: &str| LegalBasis::new("安全生产法", article);
        assert!(same_provision(
            &law("第九十七条第（三）项"),
            &law("第九十七条")
        ));
        assert!(same_provision(&law("第九十七条"), &law("第九十七条第二款")));
        assert!(same_provision(
            &law("第九十七条"),
            &law("第九十七条").pending()
        ));
        assert!(!same_provision(
            &law("第九十七条第（三）项"),
            &law("第九十七条第（四）项")
        ));
        assert!(!same_provision(&law("第九十七条"), &law("第九十七")));
        assert!(!same_provision(&law("第一百九十七条"), &law("第九十七条")));
        assert!(!same_provision(&law("第九十七条之一"), &law("第九十七条")));
        assert!(!same_provision(
            &law("第九十七条"),
            &LegalBasis::new("消防法", "第九十七条")
        ));
    }
}

impl DiscretionTable {
    /// Reads a table from its TOML text and validates it.
    pub fn parse_toml(text: &str) -> Result<Self, Vec<PlacedProblem>> {
        let table: DiscretionTable = toml::from_str(text).map_err(|e| {
            vec![PlacedProblem {
                place: TablePlace::Table,
                problem: TableProblem::Toml(e.to_string().trim().to_owned()),
            }]
        })?;
        let problems = table.validate();
        if problems.is_empty() {
            Ok(table)
        } else {
            Err(problems)
        }
    }

    /// Every problem of the table, each with its place, in the order written.
    pub fn validate(&self) -> Vec<PlacedProblem> {
        let mut out = Vec::new();
        let mut put = |place, problem| out.push(PlacedProblem { place, problem });
        if self.id.trim().is_empty() {
            put(TablePlace::Table, TableProblem::NoId);
        }
        if self.version == 0 {
            put(TablePlace::Table, TableProblem::NoVersion);
        }
        if self.rows.is_empty() {
            put(TablePlace::Table, TableProblem::NoRows);
        }
        let mut provisions: Vec<(LegalBasis, &ProvisionRange)> = Vec::new();
        for (i, p) in self.provisions.iter().enumerate() {
            let place = TablePlace::Provision(i + 1);
            let Some(basis) = parse_citation(&p.basis) else {
                put(place, TableProblem::BadCitation(p.basis.clone()));
                continue;
            };
            if provisions.iter().any(|(b, _)| same_provision(b, &basis)) {
                put(place, TableProblem::DuplicateProvision(p.basis.clone()));
                continue;
            }
            if p.fine_min > p.fine_max {
                put(
                    place,
                    TableProblem::InvertedRange {
                        min: p.fine_min,
                        max: p.fine_max,
                    },
                );
            }
            provisions.push((basis, p));
        }
        let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
        // The rows read so far, per provision: (grade, min, row number).
        let mut graded: Vec<(LegalBasis, Grade, u64, usize)> = Vec::new();
        for (i, r) in self.rows.iter().enumerate() {
            let n = i + 1;
            let place = TablePlace::Row(n);
            let code = r.code.trim();
            if code.is_empty() {
                put(place, TableProblem::NoCode);
            } else if let Some(first_row) = codes.get(code) {
                put(
                    place,
                    TableProblem::DuplicateCode {
                        code: code.to_owned(),
                        first_row: *first_row,
                    },
                );
            } else {
                codes.insert(code, n);
            }
            if r.circumstance.trim().is_empty() {
                put(place, TableProblem::NoCircumstance);
            }
            if r.fine_min > r.fine_max {
                put(
                    place,
                    TableProblem::InvertedRange {
                        min: r.fine_min,
                        max: r.fine_max,
                    },
                );
            }
            let Some(basis) = parse_citation(&r.basis) else {
                put(place, TableProblem::BadCitation(r.basis.clone()));
                continue;
            };
            match provisions.iter().find(|(b, _)| same_provision(b, &basis)) {
                None => put(place, TableProblem::UnknownProvision(r.basis.clone())),
                Some((_, p)) => {
                    if r.fine_min < p.fine_min || r.fine_max > p.fine_max {
                        put(
                            place,
                            TableProblem::OutsideStatutory {
                                min: r.fine_min,
                                max: r.fine_max,
                                statutory_min: p.fine_min,
                                statutory_max: p.fine_max,
                            },
                        );
                    }
                }
            }
            if let Some((_, _, _, other_row)) = graded.iter().find(|(b, g, min, _)| {
                same_provision(b, &basis)
                    && ((*g < r.grade && *min > r.fine_min) || (*g > r.grade && *min < r.fine_min))
            }) {
                put(
                    place,
                    TableProblem::GradesOutOfOrder {
                        grade: r.grade,
                        other_row: *other_row,
                    },
                );
            }
            graded.push((basis, r.grade, r.fine_min, n));
        }
        out
    }

    /// The rows of the table for `basis` (a 处罚依据), in the order written.
    pub fn rows_for<'a>(
        &'a self,
        basis: &'a LegalBasis,
    ) -> impl Iterator<Item = &'a DiscretionRow> {
        self.rows
            .iter()
            .filter(move |r| parse_citation(&r.basis).is_some_and(|b| same_provision(&b, basis)))
    }

    /// The row with `code`.
    pub fn row(&self, code: &str) -> Option<&DiscretionRow> {
        self.rows.iter().find(|r| r.code == code)
    }

    /// Which table and version this is.
    pub fn reference(&self) -> DiscretionRef {
        DiscretionRef {
            table: self.id.clone(),
            version: self.version,
            row: String::new(),
        }
    }
}

/// The circumstance a proposal or decision applied: the table, its version and the row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DiscretionRef {
    pub table: String,
    pub version: u32,
    pub row: String,
}

/// The penalty the table proposes for a provision in a circumstance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The 处罚依据 applied (as the case cites it).
    pub basis: LegalBasis,
    pub discretion: DiscretionRef,
    pub circumstance: String,
    pub grade: Grade,
    pub fine_min: u64,
    pub fine_max: u64,
    /// The suggested penalty: the middle of the range, rounded down to 100 yuan (never below
    /// the range's minimum), with the row's other penalties. The inspectors may choose any
    /// fine within the range.
    pub suggested: Penalty,
}

/// Every proposal `table` makes for a case that cites `penalty_basis`: one per row for one of
/// the provisions, in the table's order (what the inspectors choose the circumstance from).
pub fn proposals(table: &DiscretionTable, penalty_basis: &[LegalBasis]) -> Vec<Proposal> {
    table
        .rows
        .iter()
        .filter_map(|r| propose(table, penalty_basis, &r.code).ok())
        .collect()
}

/// Why the table proposes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProposeError {
    #[error("the case names no penalty provision (处罚依据)")]
    NoBasis,
    #[error("the discretion table has no row for {0}")]
    NotInTable(LegalBasis),
    #[error("no row {row} for the case's penalty provisions in the discretion table")]
    NoSuchRow { row: String },
}

/// The proposed penalty for a case that cites `penalty_basis` (its 处罚依据), in the
/// circumstance of row `circumstance` of `table`. The row must be for one of the provisions.
pub fn propose(
    table: &DiscretionTable,
    penalty_basis: &[LegalBasis],
    circumstance: &str,
) -> Result<Proposal, ProposeError> {
    let first = penalty_basis.first().ok_or(ProposeError::NoBasis)?;
    if !penalty_basis
        .iter()
        .any(|b| table.rows_for(b).next().is_some())
    {
        return Err(ProposeError::NotInTable(first.clone()));
    }
    let row = table
        .row(circumstance)
        .ok_or_else(|| ProposeError::NoSuchRow {
            row: circumstance.to_owned(),
        })?;
    let row_basis = parse_citation(&row.basis).ok_or_else(|| ProposeError::NoSuchRow {
        row: circumstance.to_owned(),
    })?;
    let basis = penalty_basis
        .iter()
        .find(|b| same_provision(b, &row_basis))
        .ok_or_else(|| ProposeError::NoSuchRow {
            row: circumstance.to_owned(),
        })?;
    let middle = row.fine_min + (row.fine_max - row.fine_min) / 2;
    let suggested_fine = (middle / 100 * 100).max(row.fine_min);
    Ok(Proposal {
        basis: basis.clone(),
        discretion: DiscretionRef {
            row: row.code.clone(),
            ..table.reference()
        },
        circumstance: row.circumstance.clone(),
        grade: row.grade,
        fine_min: row.fine_min,
        fine_max: row.fine_max,
        suggested: Penalty {
            fine_yuan: suggested_fine,
            other: row.other.iter().copied().collect(),
        },
    })
}
