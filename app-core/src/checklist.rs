//! Checklist templates (检查表): what an inspector checks at an enterprise, item by item, each
//! item with its legal basis and, where failing it is a major accident hazard (重大事故隐患),
//! the standard and clause that say so. A template is chosen by the enterprise's industry and
//! is versioned: an inspection record keeps the [`TemplateRef`] (id + version) it was made
//! with, so a later revision of the template never changes what an old record meant.
//!
//! Templates are written as TOML so that a legal expert can review them line by line; the
//! library parses a `&str` and never touches files. The format:
//!
//! ```toml
//! id = "gongmao"                       # lowercase ASCII, digits, '-' or '_'
//! version = 1                          # 1, 2, 3 …; a revision keeps the id and bumps this
//! name = "工贸企业安全生产执法检查表"
//! industries = ["metallurgy", "machinery"]   # Industry, snake_case; at least one
//! published = "2026-11-23"             # ISO date (YYYY-MM-DD)
//!
//! [[category]]
//! name = "重大事故隐患（通用）"
//! # industries = ["metallurgy"]       # optional: the category only applies to these
//! #                                    # (a subset of the template's); default: all of them
//!
//! [[category.item]]
//! code = "GM-ZD-01"                    # unique in the template: A-Z/0-9 groups joined by '-'
//! text = "是否对承包单位、承租单位的安全生产工作统一协调、管理，并定期进行安全检查"
//! methods = ["documents", "site"]     # 检查方法, optional: documents 查资料, site 查现场,
//!                                      # interview 询问, test 测试
//! basis = [{ source = "安全生产法", article = "第四十九条第二款" }]   # 违法依据, at least one
//! penalty = [{ source = "安全生产法", article = "第一百零三条" }]     # 处罚依据, optional
//! major_hazard = { source = "工贸企业重大事故隐患判定标准", article = "第三条第（一）项" }  # optional
//! # industries = ["metallurgy"]       # optional: the item only applies to these (a subset
//! #                                    # of its category's, else the template's)
//! # condition = "存在有限空间作业的"    # optional: applies only where …
//! ```
//!
//! Any `{ source, article }` may carry `pending = true` (依据待核): its text could not be
//! read, the citation is the best available and is listed in the checklists README.
//!
//! `source` is the name of the law, regulation or standard *without* book-title marks 《》
//! (they are added when a basis is displayed). Unknown keys are rejected, so a misspelt
//! `major_hazrd` is an error rather than a silently ordinary item. Every error says what is
//! wrong and where (template, category or item code).

use crate::enterprise::Industry;
use crate::ids::ItemCode;
use crate::legal::LegalBasis;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One checklist template at one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistTemplate {
    pub id: String,
    pub version: u32,
    pub name: String,
    /// The industries the template applies to.
    pub industries: Vec<Industry>,
    /// Publication date of this version, ISO `YYYY-MM-DD`.
    pub published: String,
    pub categories: Vec<Category>,
}

/// A group of items on one topic, e.g. 教育培训 or 粉尘涉爆.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub name: String,
    /// The industries this category is limited to (a subset of the template's), e.g. the
    /// 冶金 articles of a 工贸 template. Empty: every industry of the template.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub industries: Vec<Industry>,
    /// A 专项 section that applies by situation, not by industry (粉尘涉爆, 液氨制冷,
    /// 有限空间作业 of 《工贸企业重大事故隐患判定标准》第十一至十三条: any 工贸 enterprise
    /// may have them). The industry cannot say whether it applies; the inspector answers the
    /// whole section 不涉及 at once when the enterprise has no such situation, so the
    /// tablet shows it folded until opened.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub situational: bool,
    pub items: Vec<ChecklistItem>,
}

/// How an item is checked (检查方法), as official 执法检查表 list it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckMethod {
    /// 查资料: read the enterprise's documents and records.
    Documents,
    /// 查现场: look at the site.
    Site,
    /// 询问: ask the people there.
    Interview,
    /// 测试: measure or test.
    Test,
}

impl CheckMethod {
    pub const ALL: [CheckMethod; 4] = [
        CheckMethod::Documents,
        CheckMethod::Site,
        CheckMethod::Interview,
        CheckMethod::Test,
    ];

    /// The snake_case name used in the TOML and JSON formats, e.g. `documents`.
    pub fn key(self) -> &'static str {
        match self {
            CheckMethod::Documents => "documents",
            CheckMethod::Site => "site",
            CheckMethod::Interview => "interview",
            CheckMethod::Test => "test",
        }
    }

    /// The method from its format name.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    /// The official label: 查资料 / 查现场 / 询问 / 测试 (from [`crate::messages`]).
    pub fn label_zh(self) -> &'static str {
        crate::messages::Lang::Zh.check_method(self)
    }

    /// The method from its Chinese label (as written in a spreadsheet cell).
    pub fn from_label_zh(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.label_zh() == label)
    }
}

/// One thing to check, answered 符合 / 不符合 / 不涉及 in an inspection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub code: ItemCode,
    /// What is checked, as the inspector reads it (检查内容).
    pub text: String,
    /// How it is checked (检查方法). Empty in templates written before methods existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<CheckMethod>,
    /// The provisions a failure violates (违法依据); at least one.
    pub basis: Vec<LegalBasis>,
    /// The provisions a penalty for a failure rests on (处罚依据), if known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub penalty: Vec<LegalBasis>,
    /// The standard and clause that make failing this item a 重大事故隐患 (判定依据), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_hazard: Option<LegalBasis>,
    /// The industries the item is limited to (a subset of its category's, or of the
    /// template's when the category has none). Empty: wherever its category applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub industries: Vec<Industry>,
    /// Applies only where this holds (适用条件), e.g. `存在有限空间作业的`; free text the
    /// inspector reads. None: always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

impl ChecklistItem {
    /// Whether failing the item is a major accident hazard (重大事故隐患).
    pub fn is_major_hazard(&self) -> bool {
        self.major_hazard.is_some()
    }

    /// Whether the item's own industry limit admits `industry` (no limit: yes).
    pub fn admits(&self, industry: Industry) -> bool {
        self.industries.is_empty() || self.industries.contains(&industry)
    }

    /// Every citation of the item with what it is: 违法依据, 处罚依据, 判定依据.
    pub fn citations(&self) -> impl Iterator<Item = &LegalBasis> {
        self.basis
            .iter()
            .chain(self.penalty.iter())
            .chain(self.major_hazard.iter())
    }
}

impl Category {
    /// Whether the category applies to an enterprise of `industry`, given the industries of
    /// its template.
    fn applies_within(&self, template_industries: &[Industry], industry: Industry) -> bool {
        if self.industries.is_empty() {
            template_industries.contains(&industry)
        } else {
            self.industries.contains(&industry)
        }
    }
}

/// What an inspection record keeps of the template it was made with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TemplateRef {
    pub id: String,
    pub version: u32,
}

impl TemplateRef {
    pub fn new(id: impl Into<String>, version: u32) -> Self {
        Self {
            id: id.into(),
            version,
        }
    }
}

impl fmt::Display for TemplateRef {
    /// `gongmao v1`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{}", self.id, self.version)
    }
}

/// Why a template (or a set of templates) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecklistError {
    #[error("checklist template is not valid TOML: {0}")]
    Toml(String),
    #[error("{location}: missing or empty field `{field}`")]
    MissingField { location: String, field: String },
    #[error("template `{id}`: malformed id (expected lowercase ASCII letters, digits, '-' or '_')")]
    MalformedId { id: String },
    #[error("template `{id}`: version must be a whole number from 1 to {max}, got {version}", max = u32::MAX)]
    InvalidVersion { id: String, version: i64 },
    #[error("template `{id}`: published date `{value}` is not an ISO date (YYYY-MM-DD)")]
    InvalidDate { id: String, value: String },
    #[error("{location}: unknown industry `{value}` (expected one of: {expected})", expected = industry_names().join(", "))]
    UnknownIndustry { location: String, value: String },
    #[error("{location}: industry `{industry}` is listed twice")]
    DuplicateIndustry { location: String, industry: String },
    #[error("category `{category}`: industry `{industry}` is not one of the template's industries")]
    CategoryIndustryOutsideTemplate { category: String, industry: String },
    #[error("template `{id}` has no items")]
    EmptyTemplate { id: String },
    #[error("category `{category}` has no items")]
    EmptyCategory { category: String },
    #[error("category name `{category}` is used twice")]
    DuplicateCategory { category: String },
    #[error(
        "item `{code}`: malformed code (expected groups of A-Z/0-9 joined by '-', starting with a letter, e.g. GM-ZD-01)"
    )]
    MalformedCode { code: String },
    #[error(
        "item `{code}`: duplicate item code (first in category `{first}`, again in `{second}`)"
    )]
    DuplicateCode {
        code: String,
        first: String,
        second: String,
    },
    #[error("item `{code}`: no legal basis (every item needs at least one)")]
    MissingBasis { code: String },
    #[error("item `{code}`: {which} has an empty `{field}`")]
    IncompleteBasis {
        code: String,
        which: String,
        field: String,
    },
    #[error(
        "item `{code}`: {which} source `{source_name}` must not contain book-title marks 《》 (they are added on display)"
    )]
    BookTitleMarks {
        code: String,
        which: String,
        source_name: String,
    },
    #[error("item `{code}`: {which} is listed twice")]
    DuplicateBasis { code: String, which: String },
    #[error(
        "{location}: unknown check method `{value}` (expected one of: documents, site, interview, test)"
    )]
    UnknownMethod { location: String, value: String },
    #[error("item `{code}`: check method `{method}` is listed twice")]
    DuplicateMethod { code: String, method: String },
    #[error(
        "item `{code}`: industry `{industry}` is not one of its category's (or template's) industries"
    )]
    ItemIndustryOutsideCategory { code: String, industry: String },
    #[error("item `{code}`: condition is empty (leave it out instead)")]
    BlankCondition { code: String },
    #[error("template `{id}` version {version} is given twice")]
    DuplicateTemplate { id: String, version: u32 },
}

fn industry_name(industry: Industry) -> String {
    match serde_json::to_value(industry) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{industry:?}"),
    }
}

fn industry_names() -> Vec<String> {
    Industry::ALL.iter().map(|i| industry_name(*i)).collect()
}

fn parse_industry(value: &str, location: &str) -> Result<Industry, ChecklistError> {
    Industry::ALL
        .iter()
        .copied()
        .find(|i| industry_name(*i) == value)
        .ok_or_else(|| ChecklistError::UnknownIndustry {
            location: location.to_owned(),
            value: value.to_owned(),
        })
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// `GM-ZD-01`: at least two groups of ASCII capitals and digits, joined by single hyphens,
/// the first group starting with a letter.
pub(crate) fn valid_code(code: &str) -> bool {
    let groups: Vec<&str> = code.split('-').collect();
    groups.len() >= 2
        && groups.iter().all(|g| {
            !g.is_empty()
                && g.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
        && groups[0].starts_with(|c: char| c.is_ascii_uppercase())
}

fn valid_date(value: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    value.len() == 10 && time::Date::parse(value, &format).is_ok()
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

// ---- the raw TOML shape: every field optional, so that a missing one gets a precise error ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    id: Option<String>,
    version: Option<i64>,
    name: Option<String>,
    industries: Option<Vec<String>>,
    published: Option<String>,
    #[serde(default)]
    category: Vec<RawCategory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    name: Option<String>,
    industries: Option<Vec<String>>,
    #[serde(default)]
    situational: bool,
    #[serde(default)]
    item: Vec<RawItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    code: Option<String>,
    text: Option<String>,
    methods: Option<Vec<String>>,
    basis: Option<Vec<RawBasis>>,
    penalty: Option<Vec<RawBasis>>,
    major_hazard: Option<RawBasis>,
    industries: Option<Vec<String>>,
    condition: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasis {
    source: Option<String>,
    article: Option<String>,
    #[serde(default)]
    pending: bool,
}

fn required(value: Option<String>, location: &str, field: &str) -> Result<String, ChecklistError> {
    match value {
        Some(v) if !blank(&v) => Ok(v),
        _ => Err(ChecklistError::MissingField {
            location: location.to_owned(),
            field: field.to_owned(),
        }),
    }
}

fn convert_basis(raw: RawBasis, code: &str, which: &str) -> Result<LegalBasis, ChecklistError> {
    let incomplete = |field: &str| ChecklistError::IncompleteBasis {
        code: code.to_owned(),
        which: which.to_owned(),
        field: field.to_owned(),
    };
    let source = raw
        .source
        .filter(|s| !blank(s))
        .ok_or_else(|| incomplete("source"))?;
    let article = raw
        .article
        .filter(|s| !blank(s))
        .ok_or_else(|| incomplete("article"))?;
    Ok(LegalBasis {
        source,
        article,
        pending: raw.pending,
    })
}

fn convert_industries(raw: Vec<String>, location: &str) -> Result<Vec<Industry>, ChecklistError> {
    raw.iter().map(|s| parse_industry(s, location)).collect()
}

impl ChecklistTemplate {
    /// Parses and validates a template written in the TOML format described in the module
    /// documentation.
    pub fn parse_toml(text: &str) -> Result<Self, ChecklistError> {
        let raw: RawTemplate =
            toml::from_str(text).map_err(|e| ChecklistError::Toml(e.to_string().trim().into()))?;

        let id = required(raw.id, "template", "id")?;
        let here = format!("template `{id}`");
        if !valid_id(&id) {
            return Err(ChecklistError::MalformedId { id });
        }
        let version = raw.version.ok_or_else(|| ChecklistError::MissingField {
            location: here.clone(),
            field: "version".into(),
        })?;
        let version = u32::try_from(version)
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| ChecklistError::InvalidVersion {
                id: id.clone(),
                version,
            })?;
        let name = required(raw.name, &here, "name")?;
        let industries = match raw.industries {
            Some(list) if !list.is_empty() => convert_industries(list, &here)?,
            _ => {
                return Err(ChecklistError::MissingField {
                    location: here,
                    field: "industries".into(),
                });
            }
        };
        let published = required(raw.published, &here, "published")?;

        let mut categories = Vec::with_capacity(raw.category.len());
        for (index, raw_category) in raw.category.into_iter().enumerate() {
            let category_name = required(
                raw_category.name,
                &format!("category #{} of {here}", index + 1),
                "name",
            )?;
            let category_here = format!("category `{category_name}`");
            let category_industries = match raw_category.industries {
                None => Vec::new(),
                Some(list) if list.is_empty() => {
                    return Err(ChecklistError::MissingField {
                        location: category_here,
                        field: "industries".into(),
                    });
                }
                Some(list) => convert_industries(list, &category_here)?,
            };
            let mut items = Vec::with_capacity(raw_category.item.len());
            for (item_index, raw_item) in raw_category.item.into_iter().enumerate() {
                let code = required(
                    raw_item.code,
                    &format!("item #{} of {category_here}", item_index + 1),
                    "code",
                )?;
                let item_here = format!("item `{code}`");
                let text = required(raw_item.text, &item_here, "text")?;
                let basis = match raw_item.basis {
                    Some(list) if !list.is_empty() => list
                        .into_iter()
                        .enumerate()
                        .map(|(i, b)| convert_basis(b, &code, &format!("basis #{}", i + 1)))
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => return Err(ChecklistError::MissingBasis { code }),
                };
                let penalty = raw_item
                    .penalty
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| convert_basis(b, &code, &format!("penalty #{}", i + 1)))
                    .collect::<Result<Vec<_>, _>>()?;
                let major_hazard = raw_item
                    .major_hazard
                    .map(|b| convert_basis(b, &code, "major_hazard"))
                    .transpose()?;
                let methods = raw_item
                    .methods
                    .unwrap_or_default()
                    .iter()
                    .map(|m| {
                        CheckMethod::from_key(m).ok_or_else(|| ChecklistError::UnknownMethod {
                            location: item_here.clone(),
                            value: m.clone(),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let item_industries = match raw_item.industries {
                    None => Vec::new(),
                    Some(list) if list.is_empty() => {
                        return Err(ChecklistError::MissingField {
                            location: item_here,
                            field: "industries".into(),
                        });
                    }
                    Some(list) => convert_industries(list, &item_here)?,
                };
                items.push(ChecklistItem {
                    code: ItemCode::new(code),
                    text,
                    methods,
                    basis,
                    penalty,
                    major_hazard,
                    industries: item_industries,
                    condition: raw_item.condition,
                });
            }
            categories.push(Category {
                name: category_name,
                industries: category_industries,
                situational: raw_category.situational,
                items,
            });
        }

        let template = ChecklistTemplate {
            id,
            version,
            name,
            industries,
            published,
            categories,
        };
        template.validate()?;
        Ok(template)
    }

    /// Checks everything a well-formed template must satisfy. [`parse_toml`] calls it; call
    /// it yourself on a template that arrived another way (e.g. as JSON from the server).
    ///
    /// [`parse_toml`]: ChecklistTemplate::parse_toml
    pub fn validate(&self) -> Result<(), ChecklistError> {
        let here = format!("template `{}`", self.id);
        if blank(&self.id) {
            return Err(ChecklistError::MissingField {
                location: "template".into(),
                field: "id".into(),
            });
        }
        if !valid_id(&self.id) {
            return Err(ChecklistError::MalformedId {
                id: self.id.clone(),
            });
        }
        if self.version == 0 {
            return Err(ChecklistError::InvalidVersion {
                id: self.id.clone(),
                version: 0,
            });
        }
        for (field, value) in [("name", &self.name), ("published", &self.published)] {
            if blank(value) {
                return Err(ChecklistError::MissingField {
                    location: here,
                    field: field.into(),
                });
            }
        }
        if !valid_date(&self.published) {
            return Err(ChecklistError::InvalidDate {
                id: self.id.clone(),
                value: self.published.clone(),
            });
        }
        if self.industries.is_empty() {
            return Err(ChecklistError::MissingField {
                location: here,
                field: "industries".into(),
            });
        }
        check_no_duplicate_industry(&self.industries, &here)?;
        if self.items().next().is_none() {
            return Err(ChecklistError::EmptyTemplate {
                id: self.id.clone(),
            });
        }

        let mut category_names = BTreeSet::new();
        // code → name of the category where it first appeared
        let mut codes: BTreeMap<&str, &str> = BTreeMap::new();
        for category in &self.categories {
            if blank(&category.name) {
                return Err(ChecklistError::MissingField {
                    location: format!("a category of {here}"),
                    field: "name".into(),
                });
            }
            if !category_names.insert(category.name.as_str()) {
                return Err(ChecklistError::DuplicateCategory {
                    category: category.name.clone(),
                });
            }
            let category_here = format!("category `{}`", category.name);
            check_no_duplicate_industry(&category.industries, &category_here)?;
            if let Some(outside) = category
                .industries
                .iter()
                .find(|i| !self.industries.contains(i))
            {
                return Err(ChecklistError::CategoryIndustryOutsideTemplate {
                    category: category.name.clone(),
                    industry: industry_name(*outside),
                });
            }
            if category.items.is_empty() {
                return Err(ChecklistError::EmptyCategory {
                    category: category.name.clone(),
                });
            }
            for item in &category.items {
                let code = item.code.as_str();
                if blank(code) {
                    return Err(ChecklistError::MissingField {
                        location: format!("an item of {category_here}"),
                        field: "code".into(),
                    });
                }
                if !valid_code(code) {
                    return Err(ChecklistError::MalformedCode {
                        code: code.to_owned(),
                    });
                }
                if let Some(first) = codes.insert(code, &category.name) {
                    return Err(ChecklistError::DuplicateCode {
                        code: code.to_owned(),
                        first: first.to_owned(),
                        second: category.name.clone(),
                    });
                }
                validate_item(item)?;
                let allowed = if category.industries.is_empty() {
                    &self.industries
                } else {
                    &category.industries
                };
                check_no_duplicate_industry(&item.industries, &format!("item `{code}`"))?;
                if let Some(outside) = item.industries.iter().find(|i| !allowed.contains(i)) {
                    return Err(ChecklistError::ItemIndustryOutsideCategory {
                        code: code.to_owned(),
                        industry: industry_name(*outside),
                    });
                }
            }
        }
        Ok(())
    }

    /// The item with this code, if the template has one.
    pub fn item(&self, code: &ItemCode) -> Option<&ChecklistItem> {
        self.items().find(|item| &item.code == code)
    }

    /// All items, in template order.
    pub fn items(&self) -> impl Iterator<Item = &ChecklistItem> {
        self.categories.iter().flat_map(|c| c.items.iter())
    }

    /// The items an enterprise of `industry` is checked against: those of every category
    /// that applies to it (nothing if the template does not apply at all).
    pub fn items_for(&self, industry: Industry) -> impl Iterator<Item = &ChecklistItem> {
        self.categories_for(industry)
            .flat_map(|category| category.items.iter())
            .filter(move |item| item.admits(industry))
    }

    /// The categories that apply to an enterprise of `industry`.
    pub fn categories_for(&self, industry: Industry) -> impl Iterator<Item = &Category> {
        self.categories
            .iter()
            .filter(move |category| category.applies_within(&self.industries, industry))
    }

    /// The items whose failure is a 重大事故隐患.
    pub fn major_hazard_items(&self) -> impl Iterator<Item = &ChecklistItem> {
        self.items().filter(|item| item.is_major_hazard())
    }

    /// Whether the template is meant for enterprises of `industry`.
    pub fn applies_to(&self, industry: Industry) -> bool {
        self.industries.contains(&industry)
    }

    /// What a record made with this template keeps.
    pub fn reference(&self) -> TemplateRef {
        TemplateRef::new(self.id.clone(), self.version)
    }
}

fn check_no_duplicate_industry(
    industries: &[Industry],
    location: &str,
) -> Result<(), ChecklistError> {
    let mut seen = BTreeSet::new();
    for industry in industries {
        if !seen.insert(*industry) {
            return Err(ChecklistError::DuplicateIndustry {
                location: location.to_owned(),
                industry: industry_name(*industry),
            });
        }
    }
    Ok(())
}

fn validate_item(item: &ChecklistItem) -> Result<(), ChecklistError> {
    let code = item.code.as_str();
    if blank(&item.text) {
        return Err(ChecklistError::MissingField {
            location: format!("item `{code}`"),
            field: "text".into(),
        });
    }
    if item.basis.is_empty() {
        return Err(ChecklistError::MissingBasis {
            code: code.to_owned(),
        });
    }
    let mut methods = BTreeSet::new();
    for method in &item.methods {
        if !methods.insert(*method) {
            return Err(ChecklistError::DuplicateMethod {
                code: code.to_owned(),
                method: method.key().to_owned(),
            });
        }
    }
    if item.condition.as_deref().is_some_and(blank) {
        return Err(ChecklistError::BlankCondition {
            code: code.to_owned(),
        });
    }
    let labelled = item
        .basis
        .iter()
        .enumerate()
        .map(|(i, b)| (format!("basis #{}", i + 1), b))
        .chain(
            item.penalty
                .iter()
                .enumerate()
                .map(|(i, b)| (format!("penalty #{}", i + 1), b)),
        )
        .chain(
            item.major_hazard
                .iter()
                .map(|b| ("major_hazard".to_owned(), b)),
        );
    let mut seen = BTreeSet::new();
    let mut seen_penalty = BTreeSet::new();
    for (which, basis) in labelled {
        for (field, value) in [("source", &basis.source), ("article", &basis.article)] {
            if blank(value) {
                return Err(ChecklistError::IncompleteBasis {
                    code: code.to_owned(),
                    which,
                    field: field.into(),
                });
            }
        }
        if basis.source.contains(['《', '》']) {
            return Err(ChecklistError::BookTitleMarks {
                code: code.to_owned(),
                which,
                source_name: basis.source.clone(),
            });
        }
        let set = if which.starts_with("penalty") {
            &mut seen_penalty
        } else {
            &mut seen
        };
        if which != "major_hazard" && !set.insert((&basis.source, &basis.article)) {
            return Err(ChecklistError::DuplicateBasis {
                code: code.to_owned(),
                which: format!("{which} ({basis})"),
            });
        }
    }
    Ok(())
}

/// A set of templates, every version of each. New inspections use the newest version of each
/// template that applies to the enterprise's industry; a record made with an older version
/// still finds exactly the version it was made with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateLibrary {
    /// Sorted by id, then version.
    templates: Vec<ChecklistTemplate>,
}

impl TemplateLibrary {
    /// Builds a library; rejects a set that gives the same id and version twice.
    pub fn new(mut templates: Vec<ChecklistTemplate>) -> Result<Self, ChecklistError> {
        templates.sort_by(|a, b| (&a.id, a.version).cmp(&(&b.id, b.version)));
        if let Some(pair) = templates
            .windows(2)
            .find(|w| w[0].id == w[1].id && w[0].version == w[1].version)
        {
            return Err(ChecklistError::DuplicateTemplate {
                id: pair[0].id.clone(),
                version: pair[0].version,
            });
        }
        Ok(Self { templates })
    }

    /// Every template, every version, sorted by id then version.
    pub fn templates(&self) -> &[ChecklistTemplate] {
        &self.templates
    }

    /// The newest version of the template `id`.
    pub fn latest(&self, id: &str) -> Option<&ChecklistTemplate> {
        self.templates.iter().rev().find(|t| t.id == id)
    }

    /// The templates to use for a new inspection of an enterprise of `industry`: for each
    /// template id, its newest version, if that version applies to the industry (sorted by
    /// id). A newer version supersedes the older ones entirely, so an industry that a new
    /// version no longer lists does not fall back to an old one.
    pub fn for_industry(&self, industry: Industry) -> Vec<&ChecklistTemplate> {
        let mut newest: BTreeMap<&str, &ChecklistTemplate> = BTreeMap::new();
        for template in &self.templates {
            // sorted by version, so the last one wins
            newest.insert(&template.id, template);
        }
        newest
            .into_values()
            .filter(|t| t.applies_to(industry))
            .collect()
    }

    /// Exactly the template a record refers to, whatever newer versions exist.
    pub fn get(&self, reference: &TemplateRef) -> Option<&ChecklistTemplate> {
        self.templates
            .iter()
            .find(|t| t.id == reference.id && t.version == reference.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
id = "demo"
version = 1
name = "示例检查表"
industries = ["machinery", "metallurgy"]
published = "2026-11-23"

[[category]]
name = "通用"

[[category.item]]
code = "DM-01"
text = "是否建立全员安全生产责任制"
basis = [{ source = "安全生产法", article = "第二十二条" }]

[[category]]
name = "冶金"
industries = ["metallurgy"]

[[category.item]]
code = "DM-02"
text = "人员聚集场所是否设置在吊运跨地坪区域内"
basis = [{ source = "安全生产法", article = "第二十条" }]
major_hazard = { source = "工贸企业重大事故隐患判定标准", article = "第四条第（一）项" }
"#;

    #[test]
    fn parses_a_minimal_template() {
        let t = ChecklistTemplate::parse_toml(MINIMAL).unwrap();
        assert_eq!(t.reference(), TemplateRef::new("demo", 1));
        assert_eq!(t.items().count(), 2);
        assert_eq!(t.major_hazard_items().count(), 1);
        assert!(t.applies_to(Industry::Machinery));
        assert!(!t.applies_to(Industry::HazardousChemicals));
        let item = t.item(&ItemCode::new("DM-02")).unwrap();
        assert_eq!(
            item.major_hazard.as_ref().unwrap().to_string(),
            "《工贸企业重大事故隐患判定标准》第四条第（一）项"
        );
        assert!(t.item(&ItemCode::new("DM-03")).is_none());
    }

    #[test]
    fn category_industries_narrow_the_items() {
        let t = ChecklistTemplate::parse_toml(MINIMAL).unwrap();
        let codes = |i| {
            t.items_for(i)
                .map(|item| item.code.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(Industry::Metallurgy), ["DM-01", "DM-02"]);
        assert_eq!(codes(Industry::Machinery), ["DM-01"]);
        assert!(codes(Industry::Commerce).is_empty());
    }

    #[test]
    fn json_round_trip() {
        let t = ChecklistTemplate::parse_toml(MINIMAL).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        let back: ChecklistTemplate = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        back.validate().unwrap();
    }

    #[test]
    fn codes_are_checked_for_shape() {
        for good in ["GM-ZD-01", "WH-01", "A1-B2"] {
            assert!(valid_code(good), "{good}");
        }
        for bad in [
            "",
            "GM",
            "gm-zd-01",
            "GM--01",
            "GM-ZD-",
            "1G-01",
            "GM ZD 01",
            "GM-重大",
        ] {
            assert!(!valid_code(bad), "{bad}");
        }
    }

    #[test]
    fn version_zero_and_negative_are_rejected() {
        for v in ["0", "-3", "4294967296"] {
            let text = MINIMAL.replace("version = 1", &format!("version = {v}"));
            let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
            assert!(
                matches!(err, ChecklistError::InvalidVersion { .. }),
                "{v}: {err}"
            );
        }
    }

    #[test]
    fn bad_date_is_rejected() {
        let text = MINIMAL.replace("2026-11-23", "2026-13-01");
        let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
        assert!(matches!(err, ChecklistError::InvalidDate { .. }), "{err}");
    }

    #[test]
    fn book_title_marks_in_a_source_are_rejected() {
        let text = MINIMAL.replace(
            "\"安全生产法\", article = \"第二十条\"",
            "\"《安全生产法》\", article = \"第二十条\"",
        );
        let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
        assert!(
            matches!(err, ChecklistError::BookTitleMarks { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("DM-02"), "{err}");
    }

    #[test]
    fn category_industry_outside_the_template_is_rejected() {
        let text = MINIMAL.replace(
            "industries = [\"metallurgy\"]\n",
            "industries = [\"commerce\"]\n",
        );
        let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
        assert!(
            matches!(err, ChecklistError::CategoryIndustryOutsideTemplate { .. }),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_is_a_toml_error() {
        let text = MINIMAL.replace("major_hazard =", "major_hazrd =");
        let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
        assert!(matches!(err, ChecklistError::Toml(_)), "{err}");
        assert!(err.to_string().contains("major_hazrd"), "{err}");
    }

    #[test]
    fn empty_category_and_template_are_rejected() {
        let only_header = MINIMAL.split("[[category]]").next().unwrap();
        let err = ChecklistTemplate::parse_toml(only_header).unwrap_err();
        assert_eq!(err, ChecklistError::EmptyTemplate { id: "demo".into() });

        let text = format!("{MINIMAL}\n[[category]]\nname = \"空\"\n");
        let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
        assert_eq!(
            err,
            ChecklistError::EmptyCategory {
                category: "空".into()
            }
        );
    }

    const FULL_ITEM: &str = r#"
[[category]]
name = "有限空间"
situational = true

[[category.item]]
code = "DM-03"
text = "有限空间作业是否履行审批，先通风、再检测、后作业"
methods = ["documents", "site", "interview"]
basis = [{ source = "工贸企业有限空间作业安全规定", article = "第十四条" }, { source = "安全生产法", article = "第四十三条", pending = true }]
penalty = [{ source = "工贸企业有限空间作业安全规定", article = "第二十九条", pending = true }]
major_hazard = { source = "工贸企业重大事故隐患判定标准", article = "第十三条第（一）项" }
industries = ["machinery"]
condition = "存在有限空间作业的"
"#;

    fn full() -> String {
        format!("{MINIMAL}{FULL_ITEM}")
    }

    #[test]
    fn new_item_fields_parse_and_round_trip() {
        let t = ChecklistTemplate::parse_toml(&full()).unwrap();
        let item = t.item(&ItemCode::new("DM-03")).unwrap();
        assert_eq!(
            item.methods,
            [
                CheckMethod::Documents,
                CheckMethod::Site,
                CheckMethod::Interview
            ]
        );
        assert_eq!(
            item.methods
                .iter()
                .map(|m| m.label_zh())
                .collect::<Vec<_>>(),
            ["查资料", "查现场", "询问"]
        );
        assert_eq!(
            item.basis[1].to_string(),
            "《安全生产法》第四十三条（依据待核）"
        );
        assert!(item.penalty[0].pending);
        assert_eq!(item.industries, [Industry::Machinery]);
        assert_eq!(item.condition.as_deref(), Some("存在有限空间作业的"));
        assert_eq!(item.citations().count(), 4);
        let json = serde_json::to_string(&t).unwrap();
        let back: ChecklistTemplate = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        back.validate().unwrap();
        // the item is limited to machinery
        assert!(
            t.items_for(Industry::Metallurgy)
                .all(|i| i.code.as_str() != "DM-03")
        );
        assert!(
            t.items_for(Industry::Machinery)
                .any(|i| i.code.as_str() == "DM-03")
        );
    }

    #[test]
    fn old_items_keep_their_bytes() {
        let t = ChecklistTemplate::parse_toml(MINIMAL).unwrap();
        let json = serde_json::to_string(t.item(&ItemCode::new("DM-01")).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"code":"DM-01","text":"是否建立全员安全生产责任制","basis":[{"source":"安全生产法","article":"第二十二条"}]}"#
        );
    }

    #[test]
    fn bad_new_fields_are_rejected() {
        type Case = (&'static str, &'static str, fn(&ChecklistError) -> bool);
        let cases: [Case; 6] = [
            ("\"interview\"]", "\"ask\"]", |e| {
                matches!(e, ChecklistError::UnknownMethod { .. })
            }),
            ("\"interview\"]", "\"site\"]", |e| {
                matches!(e, ChecklistError::DuplicateMethod { .. })
            }),
            (
                "industries = [\"machinery\"]\ncondition",
                "industries = [\"commerce\"]\ncondition",
                |e| matches!(e, ChecklistError::ItemIndustryOutsideCategory { .. }),
            ),
            ("\"存在有限空间作业的\"", "\" \"", |e| {
                matches!(e, ChecklistError::BlankCondition { .. })
            }),
            (
                "\"第二十九条\", pending = true }]",
                "\"第二十九条\" }, { source = \"工贸企业有限空间作业安全规定\", article = \"第二十九条\" }]",
                |e| matches!(e, ChecklistError::DuplicateBasis { .. }),
            ),
            ("article = \"第二十九条\"", "article = \"\"", |e| {
                matches!(e, ChecklistError::IncompleteBasis { .. })
            }),
        ];
        for (from, to, expected) in cases {
            let text = full();
            assert_eq!(text.matches(from).count(), 1, "{from}");
            let err = ChecklistTemplate::parse_toml(&text.replace(from, to)).unwrap_err();
            assert!(expected(&err), "{from} → {to}: {err}");
        }
    }

    #[test]
    fn item_industries_must_fit_their_category() {
        // DM-02's category is metallurgy only: machinery on the item is outside it
        let text = MINIMAL.replace(
            "major_hazard = { source = \"工贸企业重大事故隐患判定标准\", article = \"第四条第（一）项\" }\n",
            "major_hazard = { source = \"工贸企业重大事故隐患判定标准\", article = \"第四条第（一）项\" }\nindustries = [\"machinery\"]\n",
        );
        assert_ne!(text, MINIMAL);
        let err = ChecklistTemplate::parse_toml(&text).unwrap_err();
        assert!(
            matches!(err, ChecklistError::ItemIndustryOutsideCategory { .. }),
            "{err}"
        );
    }

    #[test]
    fn check_method_labels() {
        for m in CheckMethod::ALL {
            assert_eq!(CheckMethod::from_label_zh(m.label_zh()), Some(m));
            assert_eq!(CheckMethod::from_key(m.key()), Some(m));
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.key())
            );
        }
    }

    #[test]
    fn library_rejects_duplicate_versions() {
        let t = ChecklistTemplate::parse_toml(MINIMAL).unwrap();
        let err = TemplateLibrary::new(vec![t.clone(), t]).unwrap_err();
        assert_eq!(
            err,
            ChecklistError::DuplicateTemplate {
                id: "demo".into(),
                version: 1
            }
        );
    }
}
