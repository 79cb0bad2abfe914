//! `sync-server admin enterprises import FILE`: the bureau's enterprise register (企业台账) from
//! a spreadsheet, XLSX or CSV, thousands of rows in one go.
//!
//! The first row names the columns, in Chinese as a bureau's sheet has them or in English;
//! their order does not matter and other columns are ignored:
//!
//! | field | headers accepted | |
//! | --- | --- | --- |
//! | name | 企业名称, 单位名称, name | required |
//! | USCC | 统一社会信用代码, 信用代码, uscc | required, check character verified (GB 32100-2015) |
//! | address | 地址, 注册地址, 经营地址, 生产经营地址, address | |
//! | industry | 行业, 行业类别, 所属行业, industry | required: 冶金, 有色, 建材, 机械, 轻工, 纺织, 烟草, 商贸, 危险化学品, 非煤矿山, 烟花爆竹, 建筑施工 (or the English key, e.g. `machinery`) |
//! | unit | 所属单位, 属地单位, 监管单位, unit | required: a unit's id, full name or short name |
//! | contact | 联系人, 法定代表人, 主要负责人, contact | |
//! | phone | 联系电话, 电话, phone | |
//! | risk | 风险等级, risk | optional: 红 橙 黄 蓝 (default 蓝) |
//! | grade | 监管等级, 分级, grade | optional: A–D (default D) |
//! | grid cell | 网格, 网格编号, grid_cell | optional |
//!
//! Every row is checked before anything is written: a missing name, an invalid USCC (length,
//! characters, check character), an unknown or disabled unit, an unknown industry, a USCC
//! that appears twice in the file or is already in the database. Every bad row is reported
//! with its row number (as the spreadsheet shows it, the header being row 1) and each reason;
//! if any row is bad nothing is imported. Otherwise all rows are written in one transaction
//! with the reference version raised once (the running server reloads within a second).
//!
//! Readers: calamine for XLSX (and XLS/ODS), the csv crate for CSV; a CSV that is not UTF-8
//! is read as GB18030 (what Excel on a Chinese Windows saves), decoded by encoding_rs.

use super::open_database;
use crate::store::Transactions;
use crate::store::reference::{ReferenceStore, StoredReference};
use anyhow::{Context, Result, bail};
use app_core::enterprise::{Enterprise, Industry, RiskColour, SupervisionGrade};
use app_core::ids::{EnterpriseId, UnitId};
use app_core::uscc::Uscc;
use clap::Subcommand;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum EnterprisesCommand {
    /// Imports enterprises from an XLSX or CSV file (all rows or none).
    Import {
        file: PathBuf,
        /// Checks every row and reports, without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Lists the enterprises: id, USCC, name, unit, industry.
    List,
}

/// The columns of the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Uscc,
    Address,
    Industry,
    Unit,
    Contact,
    Phone,
    Risk,
    Grade,
    GridCell,
}

impl Field {
    const REQUIRED: [Field; 4] = [Field::Name, Field::Uscc, Field::Industry, Field::Unit];

    fn of_header(header: &str) -> Option<Field> {
        let h = header.trim().trim_start_matches('\u{feff}').trim();
        let h = h.trim_end_matches(['*', '＊']).trim();
        Some(match h.to_ascii_lowercase().as_str() {
            "企业名称" | "单位名称" | "name" => Field::Name,
            "统一社会信用代码" | "信用代码" | "uscc" => Field::Uscc,
            "地址" | "注册地址" | "经营地址" | "生产经营地址" | "address" => {
                Field::Address
            }
            "行业" | "行业类别" | "所属行业" | "industry" => Field::Industry,
            "所属单位" | "属地单位" | "监管单位" | "unit" => Field::Unit,
            "联系人" | "法定代表人" | "主要负责人" | "contact" => Field::Contact,
            "联系电话" | "电话" | "phone" => Field::Phone,
            "风险等级" | "risk" => Field::Risk,
            "监管等级" | "分级" | "grade" => Field::Grade,
            "网格" | "网格编号" | "grid_cell" => Field::GridCell,
            _ => return None,
        })
    }

    fn header_zh(self) -> &'static str {
        match self {
            Field::Name => "企业名称",
            Field::Uscc => "统一社会信用代码",
            Field::Address => "地址",
            Field::Industry => "行业",
            Field::Unit => "所属单位",
            Field::Contact => "联系人",
            Field::Phone => "联系电话",
            Field::Risk => "风险等级",
            Field::Grade => "监管等级",
            Field::GridCell => "网格",
        }
    }
}

/// A row of the file: its number as the spreadsheet shows it, and its cells as text.
pub type Row = (usize, Vec<String>);

/// A bad row: its number and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub reasons: Vec<String>,
}

/// Reads the rows of `path` (header first): XLSX/XLSM/XLS/ODS by calamine, anything else as
/// CSV.
pub fn read_rows(path: &Path) -> Result<Vec<Row>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "xlsb" | "ods") {
        read_sheet(path)
    } else {
        read_csv(path)
    }
}

fn read_sheet(path: &Path) -> Result<Vec<Row>> {
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let range = book
        .worksheet_range_at(0)
        .context("the workbook has no sheet")?
        .with_context(|| format!("reading the first sheet of {}", path.display()))?;
    let first = range.start().map_or(0, |(row, _)| row as usize);
    let first_col = range.start().map_or(0, |(_, col)| col as usize);
    let text = |cell: &Data| -> String {
        match cell {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            // Numbers typed into a cell (a phone number, an all-digit code): no ".0".
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            other => other.to_string(),
        }
    };
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let mut row: Vec<String> = vec![String::new(); first_col];
            row.extend(cells.iter().map(text));
            (first + i + 1, row)
        })
        .collect())
}

fn read_csv(path: &Path) -> Result<Vec<Row>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(s) => s.trim_start_matches('\u{feff}').to_owned(),
        Err(_) => {
            let (text, _, bad) = encoding_rs::GB18030.decode(&bytes);
            if bad {
                bail!("{} is neither UTF-8 nor GB18030 text", path.display());
            }
            text.into_owned()
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("reading {}", path.display()))?;
        // The line the record starts on: with quoted line breaks a record may span several.
        let line = record
            .position()
            .map_or(rows.len() + 1, |p| p.line() as usize);
        rows.push((line, record.iter().map(str::to_owned).collect()));
    }
    Ok(rows)
}

fn industry(text: &str) -> Option<Industry> {
    let t = text.trim();
    Industry::ALL.into_iter().find(|i| {
        i.label_zh() == t
            || serde_json::to_value(i)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.eq_ignore_ascii_case(t)))
                .unwrap_or(false)
    })
}

fn risk(text: &str) -> Option<RiskColour> {
    let t = text.trim().trim_end_matches('色');
    [
        RiskColour::Red,
        RiskColour::Orange,
        RiskColour::Yellow,
        RiskColour::Blue,
    ]
    .into_iter()
    .find(|r| {
        r.label_zh() == t
            || serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.eq_ignore_ascii_case(t)))
                .unwrap_or(false)
    })
}

fn grade(text: &str) -> Option<SupervisionGrade> {
    match text.trim().to_ascii_uppercase().trim_end_matches('类') {
        "A" => Some(SupervisionGrade::A),
        "B" => Some(SupervisionGrade::B),
        "C" => Some(SupervisionGrade::C),
        "D" => Some(SupervisionGrade::D),
        _ => None,
    }
}

/// Checks every row of `rows` (header first) against the stored reference data: the
/// enterprises to import, or every bad row with its reasons.
pub fn check_rows(
    rows: &[Row],
    stored: &StoredReference,
) -> Result<std::result::Result<Vec<Enterprise>, Vec<RowError>>> {
    let Some(((_, header), body)) = rows.split_first() else {
        bail!("the file is empty (the first row must name the columns)");
    };
    let mut columns: HashMap<Field, usize> = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if let Some(f) = Field::of_header(h)
            && columns.insert(f, i).is_some()
        {
            bail!("column {} appears twice in the header", f.header_zh());
        }
    }
    let missing: Vec<&str> = Field::REQUIRED
        .iter()
        .filter(|f| !columns.contains_key(f))
        .map(|f| f.header_zh())
        .collect();
    if !missing.is_empty() {
        bail!(
            "the header (row 1) lacks the column(s) {}; found: {}",
            missing.join(", "),
            header.join(", ")
        );
    }
    // Units by id, full name and short name (enabled or not: a disabled one is reported).
    let mut units: HashMap<&str, (&UnitId, bool)> = HashMap::new();
    for u in &stored.units {
        let entry = (&u.value.id, u.enabled);
        units.insert(u.value.id.as_str(), entry);
        units.insert(u.value.name.as_str(), entry);
        units.entry(u.value.short_name.as_str()).or_insert(entry);
    }
    let in_database: HashMap<&str, &Enterprise> = stored
        .enterprises
        .iter()
        .map(|e| (e.uscc.as_str(), e))
        .collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut good = Vec::with_capacity(body.len());
    let mut bad = Vec::new();
    for (row, cells) in body {
        let cell = |f: Field| -> &str {
            columns
                .get(&f)
                .and_then(|&i| cells.get(i))
                .map_or("", |s| s.trim())
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut reasons = Vec::new();
        let name = cell(Field::Name);
        if name.is_empty() {
            reasons.push("企业名称 is missing".to_owned());
        }
        let uscc = match cell(Field::Uscc) {
            "" => {
                reasons.push("统一社会信用代码 is missing".to_owned());
                None
            }
            text => match Uscc::parse(text) {
                Err(e) => {
                    reasons.push(format!("统一社会信用代码: {e}"));
                    None
                }
                Ok(u) => {
                    if let Some(first) = seen.get(u.as_str()) {
                        reasons.push(format!(
                            "统一社会信用代码 {} duplicates row {first}",
                            u.as_str()
                        ));
                    } else {
                        seen.insert(u.as_str().to_owned(), *row);
                    }
                    if let Some(e) = in_database.get(u.as_str()) {
                        reasons.push(format!(
                            "统一社会信用代码 {} is already registered ({} {})",
                            u.as_str(),
                            e.id,
                            e.name
                        ));
                    }
                    Some(u)
                }
            },
        };
        let unit = match cell(Field::Unit) {
            "" => {
                reasons.push("所属单位 is missing".to_owned());
                None
            }
            text => match units.get(text) {
                None => {
                    reasons.push(format!("所属单位 {text:?} is not a known unit"));
                    None
                }
                Some((_, false)) => {
                    reasons.push(format!("所属单位 {text:?} is disabled"));
                    None
                }
                Some((id, true)) => Some((*id).clone()),
            },
        };
        let industry = match cell(Field::Industry) {
            "" => {
                reasons.push("行业 is missing".to_owned());
                None
            }
            text => industry(text).or_else(|| {
                reasons.push(format!(
                    "行业 {text:?} is not one of {}",
                    Industry::ALL.map(|i| i.label_zh()).join(" ")
                ));
                None
            }),
        };
        let risk = match cell(Field::Risk) {
            "" => Some(RiskColour::Blue),
            text => risk(text).or_else(|| {
                reasons.push(format!("风险等级 {text:?} is not 红, 橙, 黄 or 蓝"));
                None
            }),
        };
        let grade = match cell(Field::Grade) {
            "" => Some(SupervisionGrade::D),
            text => grade(text).or_else(|| {
                reasons.push(format!("监管等级 {text:?} is not A, B, C or D"));
                None
            }),
        };
        match (reasons.is_empty(), uscc, unit, industry, risk, grade) {
            (true, Some(uscc), Some(unit), Some(industry), Some(risk), Some(grade)) => {
                good.push(Enterprise {
                    id: EnterpriseId::new(format!("e-{}", uscc.as_str())),
                    name: name.to_owned(),
                    uscc,
                    address: cell(Field::Address).to_owned(),
                    legal_representative: cell(Field::Contact).to_owned(),
                    phone: cell(Field::Phone).to_owned(),
                    industry,
                    risk,
                    grade,
                    unit,
                    grid_cell: cell(Field::GridCell).to_owned(),
                    responsible_inspector: None,
                    position: None,
                    blacklisted: false,
                })
            }
            _ => bad.push(RowError { row: *row, reasons }),
        }
    }
    Ok(if bad.is_empty() { Ok(good) } else { Err(bad) })
}

/// Runs `admin enterprises …`.
pub fn run(server: &super::Target, command: EnterprisesCommand) -> Result<()> {
    let mut conn = open_database(server)?;
    match command {
        EnterprisesCommand::List => {
            for e in conn.stored_reference()?.enterprises {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    e.id,
                    e.uscc.as_str(),
                    e.name,
                    e.unit,
                    e.industry.label_zh()
                );
            }
            Ok(())
        }
        EnterprisesCommand::Import { file, dry_run } => {
            let started = std::time::Instant::now();
            let rows = read_rows(&file)?;
            let read_ms = started.elapsed().as_millis();
            // Checked and written under the write lock, so that no other import slips in
            // between the duplicate check and the insert.
            let tx = conn.begin_immediate()?;
            if tx.reference_version()?.is_none() {
                bail!(
                    "the reference data of this database was never initialised: start the server once with this data folder"
                );
            }
            let stored = tx.stored_reference()?;
            let enterprises = match check_rows(&rows, &stored)? {
                Ok(e) => e,
                Err(bad) => {
                    for b in &bad {
                        eprintln!("row {}: {}", b.row, b.reasons.join("; "));
                    }
                    bail!(
                        "{} of {} rows are bad; nothing was imported",
                        bad.len(),
                        rows.len().saturating_sub(1)
                    );
                }
            };
            // The whole register validated together, as the server will load it.
            let mut candidate = stored;
            candidate.enterprises.extend(enterprises.iter().cloned());
            crate::reference::ReferenceData::from_stored(candidate, Default::default(), Vec::new())
                .map_err(anyhow::Error::msg)?;
            if dry_run {
                println!(
                    "{} rows are good; nothing written (--dry-run)",
                    enterprises.len()
                );
                return Ok(());
            }
            let checked_ms = started.elapsed().as_millis();
            for e in &enterprises {
                tx.insert_enterprise(e)?;
            }
            let version = tx.bump_reference_version()?;
            tx.commit()?;
            let total_ms = started.elapsed().as_millis();
            println!(
                "imported {} enterprises from {} in {total_ms} ms (read {read_ms} ms, checked {} ms, written {} ms); reference version {version}",
                enterprises.len(),
                file.display(),
                checked_ms - read_ms,
                total_ms - checked_ms,
            );
            Ok(())
        }
    }
}
