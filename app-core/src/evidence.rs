//! References to evidence blobs. The record never holds photo bytes: it names each original
//! by its SHA-256, computed at capture, and the store keeps the bytes content-addressed.

use crate::geo::Timestamp;
use crate::ids::UserId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 digest as 64 lower-case hex characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Hex(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a SHA-256 digest (64 lower-case hex characters)")]
pub struct Sha256HexError(pub String);

impl Sha256Hex {
    pub fn parse(s: &str) -> Result<Self, Sha256HexError> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(s.to_owned()))
        } else {
            Err(Sha256HexError(s.to_owned()))
        }
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_digest(&Sha256::digest(bytes))
    }

    pub fn from_digest(digest: &[u8]) -> Self {
        Self(hex(digest))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The layout of every content-addressed blob folder — the tablet's blob store, the server's
/// blob folder, and the case-file export reading either: blob `sha` lives at
/// `<root>/<first 2 hex>/<64 hex>` (256 shard folders, none holding more than a 256th of the
/// blobs). The one definition of it.
pub mod blob_layout {
    use super::Sha256Hex;
    use std::path::{Path, PathBuf};

    /// The shard folder that holds `sha`.
    pub fn shard(root: &Path, sha: &Sha256Hex) -> PathBuf {
        root.join(&sha.as_str()[..2])
    }

    /// Where `sha` lives (whether or not it is there).
    pub fn path(root: &Path, sha: &Sha256Hex) -> PathBuf {
        shard(root, sha).join(sha.as_str())
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

impl TryFrom<String> for Sha256Hex {
    type Error = Sha256HexError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Sha256Hex> for String {
    fn from(h: Sha256Hex) -> String {
        h.0
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A photo linked into the record: which original, when it was linked and by whom.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PhotoRef {
    pub sha256: Sha256Hex,
    pub added_at: Timestamp,
    pub added_by: UserId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_lower_case_hex() {
        let d = Sha256Hex::of(b"abc");
        assert_eq!(
            d.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(Sha256Hex::parse(&d.as_str().to_uppercase()).is_err());
        assert!(Sha256Hex::parse("abc").is_err());
    }
}
