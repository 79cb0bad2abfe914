//! An S3-compatible server for the tests: moto's server mode (PyPI `moto[server]`, installed
//! by `cargo xtask test`), started on a free loopback port in a temporary folder and stopped
//! when the [`Moto`] is dropped.
//!
//! Found as `$MOTO_SERVER`, else `moto_server` on the `PATH`. Without it a test that needs it
//! is skipped with a message, unless `$S3_TESTS_REQUIRED` is set (`cargo xtask test` sets it):
//! then it fails.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

fn program() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
}

impl Moto {
    /// Starts moto, or `None` (with a message) when it is not installed and not required.
    pub fn start() -> Option<Self> {
        let Some(program) = program() else {
            assert!(
                std::env::var_os("S3_TESTS_REQUIRED").is_none(),
                "S3_TESTS_REQUIRED is set but moto_server is not found ($MOTO_SERVER, PATH)"
            );
            eprintln!(
                "SKIPPED: moto_server not found (pip install 'moto[server]', or run `cargo xtask test`)"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let http = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while http
            .get(format!("{}/moto-api/", moto.endpoint))
            .send()
            .is_err()
        {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    /// Creates bucket `name` (moto does not check signatures).
    pub fn bucket(&self, name: &str) {
        let r = reqwest::blocking::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .unwrap();
        assert!(r.status().is_success(), "creating bucket {name}: {r:?}");
    }

    /// The server's environment for blobs in `s3://bucket/prefix` on this moto.
    pub fn server_env(&self, bucket: &str, prefix: &str) -> Vec<(String, String)> {
        let store = if prefix.is_empty() {
            format!("s3://{bucket}")
        } else {
            format!("s3://{bucket}/{prefix}")
        };
        vec![
            ("SYNC_SERVER_BLOBS_STORE".into(), store),
            ("SYNC_SERVER_BLOBS_ENDPOINT".into(), self.endpoint.clone()),
            ("SYNC_SERVER_BLOBS_REGION".into(), "us-east-1".into()),
            ("SYNC_SERVER_BLOBS_ACCESS_KEY_ID".into(), "testing".into()),
            (
                "SYNC_SERVER_BLOBS_SECRET_ACCESS_KEY".into(),
                "testing".into(),
            ),
        ]
    }

    /// The settings of that store, for opening it in the test itself.
    pub fn settings(&self, bucket: &str, prefix: &str) -> sync_server::blobstore::S3Settings {
        sync_server::blobstore::S3Settings {
            bucket: bucket.into(),
            prefix: prefix.into(),
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some("testing".into()),
            secret_access_key: Some("testing".into()),
        }
    }

    /// A signed client of `bucket` (moto refuses unsigned reads of objects).
    fn client(&self, bucket: &str) -> object_store::aws::AmazonS3 {
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_endpoint(&self.endpoint)
            .with_region("us-east-1")
            .with_access_key_id("testing")
            .with_secret_access_key("testing")
            .with_allow_http(true)
            .build()
            .unwrap()
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// Every key in `bucket`.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        use futures_util::TryStreamExt;
        use object_store::ObjectStore;
        let store = self.client(bucket);
        Self::run(async {
            store
                .list(None)
                .map_ok(|m| m.location.to_string())
                .try_collect()
                .await
                .unwrap()
        })
    }

    /// The bytes of `key` in `bucket`, if there.
    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        use object_store::ObjectStoreExt;
        let store = self.client(bucket);
        Self::run(async {
            match store.get(&object_store::path::Path::from(key)).await {
                Ok(r) => Some(r.bytes().await.unwrap().to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("reading {key}: {e}"),
            }
        })
    }

    /// `key`'s last modification and ETag.
    pub fn stamp(&self, bucket: &str, key: &str) -> String {
        use object_store::ObjectStoreExt;
        let store = self.client(bucket);
        Self::run(async {
            let m = store
                .head(&object_store::path::Path::from(key))
                .await
                .unwrap();
            format!("{} {:?}", m.last_modified, m.e_tag)
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
