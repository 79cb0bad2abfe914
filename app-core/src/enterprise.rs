//! Enterprises (生产经营单位): the inspected party, identified by its USCC, classified by
//! industry, risk colour and supervision grade (分类分级监管), placed in a grid cell (网格) with
//! a responsible inspector.

use crate::geo::Position;
use crate::ids::{EnterpriseId, UnitId, UserId};
use crate::uscc::Uscc;
use serde::{Deserialize, Serialize};

/// The industry decides which checklist templates apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Industry {
    // 工贸 (industry and trade) sectors, as listed in 《工贸企业重大事故隐患判定标准》.
    /// 冶金
    Metallurgy,
    /// 有色
    Nonferrous,
    /// 建材
    BuildingMaterials,
    /// 机械
    Machinery,
    /// 轻工
    LightIndustry,
    /// 纺织
    Textile,
    /// 烟草
    Tobacco,
    /// 商贸
    Commerce,
    /// 危险化学品 (production, storage, use, trade)
    HazardousChemicals,
    /// 非煤矿山
    NonCoalMine,
    /// 烟花爆竹
    Fireworks,
    /// 建筑施工
    Construction,
}

impl Industry {
    pub const ALL: [Industry; 12] = [
        Industry::Metallurgy,
        Industry::Nonferrous,
        Industry::BuildingMaterials,
        Industry::Machinery,
        Industry::LightIndustry,
        Industry::Textile,
        Industry::Tobacco,
        Industry::Commerce,
        Industry::HazardousChemicals,
        Industry::NonCoalMine,
        Industry::Fireworks,
        Industry::Construction,
    ];

    /// Whether the sector belongs to 工贸 (industry and trade).
    pub fn is_industry_and_trade(self) -> bool {
        matches!(
            self,
            Industry::Metallurgy
                | Industry::Nonferrous
                | Industry::BuildingMaterials
                | Industry::Machinery
                | Industry::LightIndustry
                | Industry::Textile
                | Industry::Tobacco
                | Industry::Commerce
        )
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Industry::Metallurgy => "冶金",
            Industry::Nonferrous => "有色",
            Industry::BuildingMaterials => "建材",
            Industry::Machinery => "机械",
            Industry::LightIndustry => "轻工",
            Industry::Textile => "纺织",
            Industry::Tobacco => "烟草",
            Industry::Commerce => "商贸",
            Industry::HazardousChemicals => "危险化学品",
            Industry::NonCoalMine => "非煤矿山",
            Industry::Fireworks => "烟花爆竹",
            Industry::Construction => "建筑施工",
        }
    }
}

/// Risk colour (风险等级): 红 major, 橙 high, 黄 moderate, 蓝 low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskColour {
    Red,
    Orange,
    Yellow,
    Blue,
}

impl RiskColour {
    pub fn label_zh(self) -> &'static str {
        match self {
            RiskColour::Red => "红",
            RiskColour::Orange => "橙",
            RiskColour::Yellow => "黄",
            RiskColour::Blue => "蓝",
        }
    }
}

/// Supervision grade (分级监管): A is the closest supervision, D the lightest. The grade sets
/// how often an enterprise is inspected (a unit setting, not a constant here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SupervisionGrade {
    A,
    B,
    C,
    D,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enterprise {
    pub id: EnterpriseId,
    pub name: String,
    pub uscc: Uscc,
    pub address: String,
    /// 法定代表人 or 主要负责人, printed on documents.
    pub legal_representative: String,
    pub phone: String,
    pub industry: Industry,
    pub risk: RiskColour,
    pub grade: SupervisionGrade,
    /// The unit whose territory the enterprise lies in.
    pub unit: UnitId,
    /// 网格 code.
    pub grid_cell: String,
    /// The grid's responsible inspector.
    pub responsible_inspector: Option<UserId>,
    pub position: Option<Position>,
    /// 失信黑名单.
    #[serde(default)]
    pub blacklisted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_json_rejects_an_invalid_uscc() {
        let mut json = serde_json::json!({
            "id": "e1", "name": "南京示例机械有限公司", "uscc": "914403001922038216",
            "address": "南京市玄武区示例路1号", "legal_representative": "李明", "phone": "025-84000000",
            "industry": "machinery", "risk": "orange", "grade": "B", "unit": "xw",
            "grid_cell": "XW-03", "responsible_inspector": "u1",
            "position": {"lat": 32.05, "lon": 118.8, "source": "manual"}
        });
        let e: Enterprise = serde_json::from_value(json.clone()).unwrap();
        assert!(e.industry.is_industry_and_trade());
        assert!(!e.blacklisted);
        json["uscc"] = "914403001922038217".into();
        let err = serde_json::from_value::<Enterprise>(json).unwrap_err();
        assert!(err.to_string().contains("check character"), "{err}");
    }
}
