//! A certificate authority made at test time (rcgen), issuing the server's certificates.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use std::ffi::OsString;
use std::path::Path;

/// A certificate authority made for the test.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// The pin of the CA's key (`sha256//…`), as the tablet computes it.
    pub fn pin(&self) -> String {
        tablet::tls::pin_of(self.issuer.der()).unwrap()
    }

    /// A server certificate for `names`, valid from `days_from_now.0` to `.1` days from now,
    /// written with its key into `dir` as `full chain` (leaf, then this CA) and key PEM files.
    pub fn issue(&self, dir: &Path, tag: &str, names: &[&str], days: (i64, i64)) -> Vec<OsString> {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now + time::Duration::days(days.0);
        params.not_after = now + time::Duration::days(days.1);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let cert_path = dir.join(format!("{tag}.crt"));
        let key_path = dir.join(format!("{tag}.key"));
        std::fs::write(&cert_path, format!("{}{}", cert.pem(), self.pem())).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        vec![
            "--tls-cert".into(),
            cert_path.into(),
            "--tls-key".into(),
            key_path.into(),
        ]
    }
}
