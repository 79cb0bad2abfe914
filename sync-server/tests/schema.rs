//! The database schema a fresh server creates, pinned: the migrations' SQL lives beside the
//! tables it makes (`store/`), and moving it must not change what a
//! database holds. Compared as the sorted set of `sqlite_master` entries (their order follows
//! the order of the statements, which is not part of the schema's meaning).
//!
//! To accept a deliberate change (a new migration), run with `UPDATE_GOLDEN=1`.

use std::path::Path;
use sync_server::db::Db;

fn schema() -> String {
    let db = Db::open_in_memory().unwrap();
    db.with_conn(|conn| {
        let conn = conn.expect_sqlite();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        let mut entries: Vec<String> = conn
            .prepare("SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master")
            .unwrap()
            .query_map([], |r| {
                Ok(format!(
                    "-- {} {} on {}\n{};",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        entries.sort();
        format!("-- user_version {version}\n{}\n", entries.join("\n"))
    })
}

#[test]
fn a_fresh_database_has_the_pinned_schema() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/schema.sql");
    let actual = schema();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).expect("tests/golden/schema.sql");
    assert_eq!(
        actual,
        expected,
        "the schema changed; see {}",
        golden.display()
    );
}
