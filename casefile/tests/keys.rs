//! Key rotation: case files signed with an earlier server key still verify with the server's
//! key history; the history is authenticated by both keys of every rotation; a retired key
//! used after its retirement, a forged history and an unanchored history are refused.

mod common;

use casefile::keys::{KEY_HISTORY_FORMAT, KeyEntry, KeyHistory, sign_rotation};
use casefile::{CheckKind, Status, verify_with_history};
use common::*;
use ed25519_dalek::SigningKey;

const SMALL: &[&str] = &["Canon_40D.jpg"];

/// Seconds of the fixture's export (`common::export_with`).
fn exported_at() -> i64 {
    (T0 + 86_400_000) / 1000
}

/// The fixture exported and signed with `k` (the manifest naming `k`).
fn signed(f: &Fixture, k: &SigningKey) -> Vec<u8> {
    let mut s = f.signer.clone();
    s.public_key = app_core::evidence::hex(k.verifying_key().as_bytes());
    export_with(f, k, &s)
}

fn entry(key: &SigningKey, from: i64, until: Option<i64>) -> KeyEntry {
    KeyEntry {
        public_key: app_core::evidence::hex(key.verifying_key().as_bytes()),
        valid_from: from,
        valid_until: until,
        endorsed_by_previous: None,
        endorses_previous: None,
    }
}

/// Key 1 valid until `rotated`, then key 2 (the rotation signed by both).
fn history(k1: &SigningKey, k2: &SigningKey, rotated: i64) -> KeyHistory {
    let (by_old, by_new) = sign_rotation(k1, k2, rotated);
    let mut second = entry(k2, rotated, None);
    second.endorsed_by_previous = Some(by_old);
    second.endorses_previous = Some(by_new);
    KeyHistory {
        format: KEY_HISTORY_FORMAT.into(),
        keys: vec![entry(k1, 0, Some(rotated)), second],
    }
}

fn signer(r: &casefile::Report) -> (Status, Vec<String>) {
    let c = r.check(CheckKind::Signer);
    (c.status, c.messages.iter().map(|m| m.en.clone()).collect())
}

#[test]
fn a_case_file_signed_with_the_old_key_verifies_when_the_new_key_is_trusted() {
    let f = fixture(SMALL, false);
    let (old, new) = (key(1), key(2));
    let bytes = signed(&f, &old);
    // Rotated after the export: the old key was valid then.
    let h = history(&old, &new, exported_at() + 3_600);
    // The recipient knows only the new key (from the console, by a trusted channel).
    let r = verify_with_history(std::io::Cursor::new(&bytes), &expect(&new), &h);
    assert!(r.holds(), "{:?}", r.problems_en());
    // Without the history the old key is unknown.
    let r = verify(&bytes, &expect(&new));
    assert_eq!(signer(&r).0, Status::Fail);
    // And the history as a file round-trips.
    assert_eq!(KeyHistory::parse(&h.to_json()).unwrap(), h);
}

#[test]
fn a_retired_key_used_after_its_retirement_fails() {
    let f = fixture(SMALL, false);
    let (old, new) = (key(1), key(2));
    let bytes = signed(&f, &old);
    // Rotated a day before the export: the old key was retired then.
    let h = history(&old, &new, exported_at() - 86_400);
    let r = verify_with_history(std::io::Cursor::new(&bytes), &expect(&new), &h);
    let (status, messages) = signer(&r);
    assert_eq!(status, Status::Fail, "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("outside the validity of server key 1")),
        "{messages:?}"
    );
    // The new key, used after the rotation, holds.
    let bytes = signed(&f, &new);
    let r = verify_with_history(std::io::Cursor::new(&bytes), &expect(&old), &h);
    assert!(r.holds(), "{:?}", r.problems_en());
}

#[test]
fn a_forged_history_is_refused() {
    let f = fixture(SMALL, false);
    let (real, attacker) = (key(2), key(9));
    // The attacker claims an "earlier" key of theirs, endorsed by nobody: the real key never
    // signed the rotation, so the chain does not hold.
    let bytes = signed(&f, &attacker);
    let (by_attacker, _) = sign_rotation(&attacker, &real, exported_at() + 10);
    let mut second = entry(&real, exported_at() + 10, None);
    second.endorsed_by_previous = Some(by_attacker.clone());
    second.endorses_previous = Some(by_attacker);
    let forged = KeyHistory {
        format: KEY_HISTORY_FORMAT.into(),
        keys: vec![entry(&attacker, 0, Some(exported_at() + 10)), second],
    };
    let r = verify_with_history(std::io::Cursor::new(&bytes), &expect(&real), &forged);
    let (status, messages) = signer(&r);
    assert_eq!(status, Status::Fail);
    assert!(
        messages
            .iter()
            .any(|m| m.contains("its own signature does not hold")),
        "{messages:?}"
    );
    // An edited period breaks it too.
    let mut h = history(&key(1), &real, exported_at() + 10);
    h.keys[1].valid_from += 1;
    h.keys[0].valid_until = Some(h.keys[1].valid_from);
    assert!(
        h.checked_keys()
            .unwrap_err()
            .contains("previous key's signature")
    );
}

#[test]
fn a_history_trusts_nothing_without_an_anchor() {
    let f = fixture(SMALL, false);
    let (old, new) = (key(1), key(2));
    let bytes = signed(&f, &old);
    let h = history(&old, &new, exported_at() + 3_600);
    // The recipient trusts an unrelated key only: the history's keys are not trusted.
    let r = verify_with_history(std::io::Cursor::new(&bytes), &expect(&key(5)), &h);
    assert_eq!(signer(&r).0, Status::Fail);
}
