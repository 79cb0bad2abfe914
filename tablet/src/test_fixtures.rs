//! The demo reference data from `fixtures/`, for the library's unit tests.

use app_core::user::User;
use std::path::Path;

/// 2026-11-23T00:00:00Z, the tests' reference instant.
pub const T0: i64 = 1_795_420_800_000;

/// A file of `fixtures/`, as text.
pub fn fixture(path: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures")
            .join(path),
    )
    .unwrap()
}

/// A demo user by id.
pub fn user(id: &str) -> User {
    let users: Vec<User> = serde_json::from_str(&fixture("demo/users.json")).unwrap();
    users.into_iter().find(|u| u.id.as_str() == id).unwrap()
}
