//! 统一社会信用代码 (USCC), GB 32100-2015: 18 characters from the 31-symbol alphabet
//! `0-9 A-H J-N P-R T U W-Y` (no I, O, S, V, Z), the last one a check character.
//!
//! Layout: 1 registration authority, 2 organisation kind, 3–8 administrative division code
//! (GB/T 2260), 9–17 organisation code (GB 11714), 18 check character. The check character is
//! `31 - (Σ value(cᵢ) · wᵢ mod 31)` with weights `wᵢ = 3^(i) mod 31` for i = 0..17, and 31
//! written as `0`.

use serde::{Deserialize, Serialize};
use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A USCC whose shape and check character have been verified.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("a USCC has 18 characters, {0:?} has {1}")]
    Length(String, usize),
    #[error("{code:?} has {ch:?} at position {position}, which GB 32100-2015 does not allow")]
    Character {
        code: String,
        ch: char,
        position: usize,
    },
    #[error("{code:?}: characters 3–8 must be a division code of digits")]
    Division { code: String },
    #[error("{code:?}: check character should be {expected:?}, found {found:?}")]
    Check {
        code: String,
        expected: char,
        found: char,
    },
}

fn value_of(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u32)
}

/// The check character for the first 17 characters of a USCC.
pub fn check_character(first17: &[u8; 17]) -> Option<char> {
    let mut sum = 0u32;
    for (b, w) in first17.iter().zip(WEIGHTS) {
        sum += value_of(*b)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(ALPHABET[check as usize] as char)
}

impl Uscc {
    /// Parses a code, accepting lower-case letters and surrounding spaces as typed on a tablet.
    pub fn parse(input: &str) -> Result<Self, UsccError> {
        let code = input.trim().to_ascii_uppercase();
        let count = code.chars().count();
        if count != 18 {
            return Err(UsccError::Length(code, count));
        }
        if let Some((position, ch)) = code
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii() || value_of(*c as u8).is_none())
        {
            return Err(UsccError::Character {
                code: code.clone(),
                ch,
                position: position + 1,
            });
        }
        let bytes = code.as_bytes();
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(UsccError::Division { code });
        }
        let first17: &[u8; 17] = bytes[..17].try_into().expect("length checked");
        let expected = check_character(first17).expect("alphabet checked");
        let found = bytes[17] as char;
        if expected != found {
            return Err(UsccError::Check {
                code,
                expected,
                found,
            });
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Characters 3–8: the GB/T 2260 division where the organisation was registered.
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }
}

impl TryFrom<String> for Uscc {
    type Error = UsccError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Uscc> for String {
    fn from(u: Uscc) -> String {
        u.0
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes of real, publicly registered companies (from their public business licences).
    const REAL: &[&str] = &[
        "914403001922038216", // 华为技术有限公司
        "91330100716105852F", // 阿里巴巴（中国）有限公司
        "91440300708461136T", // 深圳市腾讯计算机系统有限公司
        "91350100M000100Y43", // the sample printed in GB 32100-2015 guidance
        "11100000000013127D", // 国务院办公厅 (机构编制 registration)
    ];

    #[test]
    fn real_codes_pass() {
        for code in REAL {
            let parsed = Uscc::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(parsed.as_str(), *code);
        }
        assert_eq!(
            Uscc::parse(" 91330100716105852f ").unwrap().division(),
            "330100"
        );
    }

    #[test]
    fn every_single_character_change_is_caught() {
        // A weighted sum modulo the prime 31 detects every single substitution.
        for code in REAL {
            for pos in 0..18 {
                for &replacement in ALPHABET {
                    if code.as_bytes()[pos] == replacement {
                        continue;
                    }
                    let mut bytes = code.as_bytes().to_vec();
                    bytes[pos] = replacement;
                    let mutated = String::from_utf8(bytes).unwrap();
                    assert!(Uscc::parse(&mutated).is_err(), "{mutated} accepted");
                }
            }
        }
    }

    #[test]
    fn invalid_codes_say_what_is_wrong() {
        assert!(matches!(
            Uscc::parse("91440300708461136"),
            Err(UsccError::Length(_, 17))
        ));
        assert!(matches!(
            Uscc::parse("91440300708461136I"),
            Err(UsccError::Character {
                ch: 'I',
                position: 18,
                ..
            })
        ));
        assert!(matches!(
            Uscc::parse("914403007O8461136T"),
            Err(UsccError::Character { ch: 'O', .. })
        ));
        assert!(matches!(
            Uscc::parse("9144030070846113６T"),
            Err(UsccError::Character { ch: '６', .. })
        ));
        assert!(matches!(
            Uscc::parse("91A40300708461136T"),
            Err(UsccError::Division { .. })
        ));
        let err = Uscc::parse("91440300708461136X").unwrap_err();
        assert_eq!(
            err,
            UsccError::Check {
                code: "91440300708461136X".into(),
                expected: 'T',
                found: 'X'
            }
        );
        // Transposing two adjacent characters is caught too.
        assert!(Uscc::parse("91440300708461163T").is_err());
    }
}
