//! The history of a server's case-file signing keys (`server-keys.json`), so that case files
//! signed with an earlier key still verify after the key was rotated, and a verifier that
//! trusts one key of the history can trust the others — offline.
//!
//! Each entry is one key with its validity period (Unix seconds; the current key has no end).
//! Every change of key is authenticated by both keys: the outgoing key signs the incoming one
//! and the incoming key signs the outgoing one, each over the same [`rotation_message`]
//! (the two public keys and the moment of the change). So:
//! - the file may travel through any channel (a web page, e-mail): a forged or edited entry
//!   breaks a signature and the whole history is refused;
//! - a recipient who learnt any one key through a trusted channel (the fingerprint on a
//!   letter, `--expect-key`) trusts the keys linked to it, earlier and later: nobody without
//!   both secret keys can insert a key into the chain;
//! - a case file must have been exported while its key was valid: one signed with a retired
//!   key after its retirement (a stolen old key) fails.
//!
//! [`verify_with_history`] runs the ordinary verification with the history's keys trusted
//! (when anchored) and adds the validity check to the signer check.

use crate::verify::{self, Report, TrustedKey, VerifyOptions};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek};

/// The format of the key-history file.
pub const KEY_HISTORY_FORMAT: &str = "inspection-server-keys/1";

/// Slack allowed between the exporting machine's clock and the key's validity (seconds).
pub const CLOCK_SLACK_SECS: i64 = 300;

/// A server's signing keys, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyHistory {
    pub format: String,
    pub keys: Vec<KeyEntry>,
}

/// One key and when it was the server's signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    /// Ed25519 public key, 64 hex characters.
    pub public_key: String,
    /// From when (Unix seconds).
    pub valid_from: i64,
    /// Until when (Unix seconds); None: the current key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<i64>,
    /// The previous key's signature of [`rotation_message`] (hex; None for the first key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsed_by_previous: Option<String>,
    /// This key's signature of the same message (hex; None for the first key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorses_previous: Option<String>,
}

/// What both keys sign at a rotation.
pub fn rotation_message(previous: &VerifyingKey, next: &VerifyingKey, at: i64) -> String {
    format!(
        "inspection-server-key-rotation/1 previous={} next={} at={at}",
        app_core::evidence::hex(previous.as_bytes()),
        app_core::evidence::hex(next.as_bytes())
    )
}

/// The two signatures of a rotation from `previous` to `next` at `at` (hex): (by previous, by
/// next).
pub fn sign_rotation(previous: &SigningKey, next: &SigningKey, at: i64) -> (String, String) {
    let m = rotation_message(&previous.verifying_key(), &next.verifying_key(), at);
    (
        app_core::evidence::hex(&previous.sign(m.as_bytes()).to_bytes()),
        app_core::evidence::hex(&next.sign(m.as_bytes()).to_bytes()),
    )
}

fn signature(hex: Option<&String>) -> Option<Signature> {
    let bytes: [u8; 64] = crate::manifest::unhex(hex?)?.try_into().ok()?;
    Some(Signature::from_bytes(&bytes))
}

impl KeyHistory {
    pub fn parse(text: &str) -> Result<Self, String> {
        let h: Self = serde_json::from_str(text).map_err(|e| format!("not a key history: {e}"))?;
        if h.format != KEY_HISTORY_FORMAT {
            return Err(format!(
                "key history format {:?} is not {KEY_HISTORY_FORMAT:?}",
                h.format
            ));
        }
        Ok(h)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("histories serialise") + "\n"
    }

    /// The keys, parsed, after checking the chain: every key parses, periods follow each
    /// other, and every rotation carries both keys' valid signatures. The first problem is
    /// named.
    pub fn checked_keys(&self) -> Result<Vec<VerifyingKey>, String> {
        if self.keys.is_empty() {
            return Err("the key history is empty".into());
        }
        let mut out: Vec<VerifyingKey> = Vec::with_capacity(self.keys.len());
        for (i, e) in self.keys.iter().enumerate() {
            let key = crate::manifest::parse_public_key(&e.public_key).ok_or_else(|| {
                format!(
                    "key {}: {:?} is not an Ed25519 public key",
                    i + 1,
                    e.public_key
                )
            })?;
            if let Some(until) = e.valid_until
                && until < e.valid_from
            {
                return Err(format!("key {}: valid until before valid from", i + 1));
            }
            if i + 1 < self.keys.len() && e.valid_until != Some(self.keys[i + 1].valid_from) {
                return Err(format!(
                    "key {}: its validity must end when key {} begins",
                    i + 1,
                    i + 2
                ));
            }
            if let Some(previous) = out.last() {
                let m = rotation_message(previous, &key, e.valid_from);
                let by_previous = signature(e.endorsed_by_previous.as_ref())
                    .ok_or_else(|| format!("key {}: no signature by the previous key", i + 1))?;
                let by_this = signature(e.endorses_previous.as_ref())
                    .ok_or_else(|| format!("key {}: no signature of its own", i + 1))?;
                previous.verify(m.as_bytes(), &by_previous).map_err(|_| {
                    format!("key {}: the previous key's signature does not hold", i + 1)
                })?;
                key.verify(m.as_bytes(), &by_this)
                    .map_err(|_| format!("key {}: its own signature does not hold", i + 1))?;
            }
            out.push(key);
        }
        Ok(out)
    }

    /// The entry of `key`, with its position (0-based).
    pub fn entry(&self, key: &VerifyingKey) -> Option<(usize, &KeyEntry)> {
        let hex = app_core::evidence::hex(key.as_bytes());
        self.keys
            .iter()
            .enumerate()
            .find(|(_, e)| e.public_key.eq_ignore_ascii_case(&hex))
    }
}

/// Verifies a case file as [`verify::verify`] does, with a server's key history: if the
/// history's chain holds and one of its keys is among `options.trusted_keys` (the anchor),
/// every key of the history is trusted; and a case file signed with a key of the history must
/// have been exported within that key's validity period (± [`CLOCK_SLACK_SECS`]). A history
/// whose chain does not hold fails the signer check, naming why.
pub fn verify_with_history<R: Read + Seek>(
    reader: R,
    options: &VerifyOptions,
    history: &KeyHistory,
) -> Report {
    let chain = history.checked_keys();
    let mut options = options.clone();
    if let Ok(keys) = &chain
        && keys
            .iter()
            .any(|k| options.trusted_keys.iter().any(|t| t.key == *k))
    {
        for (i, k) in keys.iter().enumerate() {
            if !options.trusted_keys.iter().any(|t| t.key == *k) {
                options.trusted_keys.push(TrustedKey {
                    key: *k,
                    label: format!(
                        "服务器第 {} 把密钥（密钥历史）server key {} of the key history",
                        i + 1,
                        i + 1
                    ),
                });
            }
        }
    }
    let mut report = verify::verify(reader, &options);
    if let Err(why) = chain {
        report.fail_signer(
            format!("服务器密钥历史无效：{why}"),
            format!("the server's key history does not hold: {why}"),
        );
        return report;
    }
    let (Some(key), Some(manifest)) = (report.signed_by, report.manifest.as_ref()) else {
        return report;
    };
    if let Some((i, entry)) = history.entry(&key) {
        let at = manifest.exported_at.0.div_euclid(1000);
        let too_early = at < entry.valid_from - CLOCK_SLACK_SECS;
        let too_late = entry
            .valid_until
            .is_some_and(|until| at > until + CLOCK_SLACK_SECS);
        if too_early || too_late {
            report.fail_signer(
                format!(
                    "案卷导出时间（{at}）不在服务器第 {} 把密钥的有效期内（{} 至 {}）：该密钥已停用，案卷可能是用旧密钥伪造的",
                    i + 1,
                    entry.valid_from,
                    entry.valid_until.map_or("今".to_owned(), |u| u.to_string())
                ),
                format!(
                    "the case file was exported at {at}, outside the validity of server key {} ({} to {}): the key was retired, the case file may have been made with an old key",
                    i + 1,
                    entry.valid_from,
                    entry.valid_until.map_or("now".to_owned(), |u| u.to_string())
                ),
            );
        }
    }
    report
}
