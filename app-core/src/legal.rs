//! Legal bases (法律依据): the law or standard and the article that an item, a hazard or a
//! document cites, e.g. 《安全生产法》第四十一条.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LegalBasis {
    /// The law, regulation or standard, without book-title marks, e.g. `安全生产法`
    /// or `GB 30871-2022 危险化学品企业特殊作业安全规范`.
    pub source: String,
    /// The article or clause, e.g. `第四十一条` or `第4.1条` or `5.2.1`.
    pub article: String,
    /// 依据待核: the text of this provision could not be read; the citation is the best
    /// available and is listed as unverified in the checklists README. Shown as
    /// `《安全生产法》第四十一条（依据待核）`. Absent from the stored bytes when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pending: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The mark a citation carries when its text could not be verified.
pub const PENDING_MARK: &str = "依据待核";

impl LegalBasis {
    pub fn new(source: impl Into<String>, article: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            article: article.into(),
            pending: false,
        }
    }

    /// The same citation marked 依据待核.
    pub fn pending(mut self) -> Self {
        self.pending = true;
        self
    }
}

impl fmt::Display for LegalBasis {
    /// `《安全生产法》第四十一条`, or `《安全生产法》第四十一条（依据待核）` when pending.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "《{}》{}", self.source, self.article)?;
        if self.pending {
            write!(f, "（{PENDING_MARK}）")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_is_shown_and_absent_from_bytes_when_false() {
        let b = LegalBasis::new("安全生产法", "第四十一条");
        assert_eq!(b.to_string(), "《安全生产法》第四十一条");
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            r#"{"source":"安全生产法","article":"第四十一条"}"#
        );
        let p = b.clone().pending();
        assert_eq!(p.to_string(), "《安全生产法》第四十一条（依据待核）");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"source":"安全生产法","article":"第四十一条","pending":true}"#
        );
        let back: LegalBasis = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        let old: LegalBasis =
            serde_json::from_str(r#"{"source":"安全生产法","article":"第四十一条"}"#).unwrap();
        assert_eq!(old, b);
    }
}
