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
}

impl LegalBasis {
    pub fn new(source: impl Into<String>, article: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            article: article.into(),
        }
    }
}

impl fmt::Display for LegalBasis {
    /// `《安全生产法》第四十一条`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "《{}》{}", self.source, self.article)
    }
}
