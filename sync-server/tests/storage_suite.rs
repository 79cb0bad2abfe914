//! One storage test suite, written once and run against both backends of the storage
//! traits: SQLite (in memory, and a file for the tests with concurrent connections) and
//! PostgreSQL (a throwaway cluster started by `common::pg`, one fresh database per test).

mod common;

use common::pg::PgDb;

#[test]
fn the_test_cluster_gives_each_test_a_database_of_its_own() {
    let (Some(a), Some(b)) = (PgDb::new(), PgDb::new()) else {
        return;
    };
    eprintln!("PostgreSQL started in {:?}", a.cluster().started_in);
    let mut ca = postgres::Client::connect(&a.url(), postgres::NoTls).unwrap();
    let mut cb = postgres::Client::connect(&b.url(), postgres::NoTls).unwrap();
    ca.batch_execute("CREATE TABLE t (x bigint); INSERT INTO t VALUES (1)")
        .unwrap();
    // The other database does not see it.
    assert!(cb.query("SELECT x FROM t", &[]).is_err());
    let name = a.name.clone();
    let url = b.url();
    drop(ca);
    drop(a);
    let gone: i64 = cb
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(gone, 0, "the dropped test database is removed");
    assert!(url.starts_with("postgres://postgres@127.0.0.1:"));
}
