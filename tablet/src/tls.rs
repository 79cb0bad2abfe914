//! How the tablet reaches the server: HTTPS with rustls (aws-lc-rs), verifying the
//! server's certificate before anything is sent.
//!
//! - [`ServerTrust::System`]: the public web PKI (Mozilla's roots, compiled in by
//!   `webpki-roots`, so a tablet trusts the same authorities on Android, iOS and Linux
//!   whatever its system store holds).
//! - [`ServerTrust::Ca`]: a bureau that runs its own certificate authority gives the tablet
//!   the CA certificate (PEM) at enrollment; the server's chain must end at that CA, and only
//!   there.
//! - [`ServerTrust::Pins`]: or the SHA-256 of a public key (SPKI, as `sha256//BASE64`, the
//!   form curl and HPKP use): some certificate the server sends (its CA's, or its own
//!   self-signed one) must carry that key; the chain is then verified by webpki with that
//!   certificate as its root (host name, validity, signatures), exactly as for a CA.
//!
//! Plain `http://` is refused unless the host is this device (127.0.0.0/8, `::1`,
//! `localhost`): [`client`] answers [`ConnectionRefusal::PlainHttp`] and no client is made.
//! Redirects are not followed (the API never redirects; a redirect must not move the tablet
//! to another address).

use app_core::messages::ConnectionRefusal;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_cert_signed_by_trust_anchor};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Whom the tablet trusts to vouch for the server's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ServerTrust {
    /// The public roots (web PKI).
    #[default]
    System,
    /// The bureau's own CA certificate(s), PEM.
    Ca { pem: String },
    /// SHA-256 pins of public keys, each `sha256//BASE64`.
    Pins { pins: Vec<String> },
}

impl ServerTrust {
    /// From the settings a bureau gives a tablet: a CA certificate (PEM text) and/or key pins
    /// (`sha256//BASE64`, comma- or space-separated). Neither: the public roots. Both: refused
    /// (one way of trusting the server, so nobody wonders which one applies).
    pub fn from_settings(
        ca_pem: Option<&str>,
        pins: Option<&str>,
    ) -> Result<Self, ConnectionRefusal> {
        let pins: Vec<String> = pins
            .unwrap_or_default()
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let ca = ca_pem.map(str::trim).filter(|p| !p.is_empty());
        let trust = match (ca, pins.is_empty()) {
            (Some(_), false) => {
                return Err(ConnectionRefusal::BadTrustSetting(
                    "give either a CA certificate or key pins, not both".into(),
                ));
            }
            (Some(pem), true) => ServerTrust::Ca {
                pem: pem.to_owned(),
            },
            (None, false) => ServerTrust::Pins { pins },
            (None, true) => ServerTrust::System,
        };
        trust.verifier()?;
        Ok(trust)
    }

    /// The rustls verifier for this trust.
    fn verifier(&self) -> Result<Arc<dyn ServerCertVerifier>, ConnectionRefusal> {
        let provider = provider();
        Ok(match self {
            ServerTrust::System => {
                let roots = RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                webpki_verifier(roots, provider)?
            }
            ServerTrust::Ca { pem } => {
                let mut roots = RootCertStore::empty();
                let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| bad(format!("CA certificate: {e}")))?;
                if certs.is_empty() {
                    return Err(bad("CA certificate: no PEM certificate found".into()));
                }
                for cert in certs {
                    roots
                        .add(cert)
                        .map_err(|e| bad(format!("CA certificate: {e}")))?;
                }
                webpki_verifier(roots, provider)?
            }
            ServerTrust::Pins { pins } => {
                let pins = pins
                    .iter()
                    .map(|p| parse_pin(p))
                    .collect::<Result<Vec<_>, _>>()?;
                Arc::new(PinVerifier { pins, provider })
            }
        })
    }
}

/// The server the tablet talks to: its base URL and whom it trusts for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    pub url: String,
    #[serde(default)]
    pub trust: ServerTrust,
}

impl Server {
    pub fn new(url: impl Into<String>, trust: ServerTrust) -> Self {
        Self {
            url: url.into().trim_end_matches('/').to_owned(),
            trust,
        }
    }
}

/// An address alone: trusted through the public roots.
impl From<String> for Server {
    fn from(url: String) -> Self {
        Server::new(url, ServerTrust::System)
    }
}

impl From<&str> for Server {
    fn from(url: &str) -> Self {
        Server::new(url, ServerTrust::System)
    }
}

impl From<&String> for Server {
    fn from(url: &String) -> Self {
        Server::new(url.as_str(), ServerTrust::System)
    }
}

impl From<&Server> for Server {
    fn from(s: &Server) -> Self {
        s.clone()
    }
}

/// The cryptography: aws-lc-rs, reqwest's and rustls's default provider (see Cargo.toml).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn bad(e: String) -> ConnectionRefusal {
    ConnectionRefusal::BadTrustSetting(e)
}

fn webpki_verifier(
    roots: RootCertStore,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, ConnectionRefusal> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map(|v| v as Arc<dyn ServerCertVerifier>)
        .map_err(|e| bad(e.to_string()))
}

/// `sha256//BASE64` (32 bytes).
fn parse_pin(pin: &str) -> Result<[u8; 32], ConnectionRefusal> {
    use base64::Engine;
    let b64 = pin
        .strip_prefix("sha256//")
        .ok_or_else(|| bad(format!("key pin {pin:?} should start with sha256//")))?;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| bad(format!("key pin {pin:?} is not a base64 SHA-256")))
}

/// The pin of a certificate's public key: `sha256//` and the base64 SHA-256 of its DER
/// SubjectPublicKeyInfo (what `openssl x509 -pubkey | openssl pkey -pubin -outform der |
/// openssl dgst -sha256 -binary | base64` prints).
pub fn pin_of(cert: &CertificateDer<'_>) -> Option<String> {
    use base64::Engine;
    let anchor = webpki::anchor_from_trusted_cert(cert).ok()?;
    let spki = webpki::spki_for_anchor(&anchor);
    Some(format!(
        "sha256//{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(spki.as_ref()))
    ))
}

/// Accepts a chain in which some certificate carries a pinned key, verified by webpki with
/// that certificate as the root (signatures, validity, host name, key usage).
#[derive(Debug)]
struct PinVerifier {
    pins: Vec<[u8; 32]>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let pinned = std::iter::once(end_entity)
            .chain(intermediates)
            .find_map(|cert| {
                let anchor = webpki::anchor_from_trusted_cert(cert).ok()?;
                let spki = webpki::spki_for_anchor(&anchor);
                let digest: [u8; 32] = Sha256::digest(spki.as_ref()).into();
                self.pins.contains(&digest).then(|| anchor.to_owned())
            })
            .ok_or(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))?;
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        verify_server_cert_signed_by_trust_anchor(
            &cert,
            &RootCertStore {
                roots: vec![pinned],
            },
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        rustls::client::verify_server_name(&cert, server_name)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Whether `url` may be used: `https://` anywhere, `http://` only to this device.
pub fn check_address(url: &str) -> Result<(), ConnectionRefusal> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ConnectionRefusal::BadAddress(format!("{url} ({e})")))?;
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" => match parsed.host() {
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => Ok(()),
            Some(url::Host::Ipv4(ip)) if IpAddr::V4(ip).is_loopback() => Ok(()),
            Some(url::Host::Ipv6(ip)) if IpAddr::V6(ip).is_loopback() => Ok(()),
            Some(host) => Err(ConnectionRefusal::PlainHttp {
                host: host.to_string(),
            }),
            None => Err(ConnectionRefusal::BadAddress(url.to_owned())),
        },
        _ => Err(ConnectionRefusal::BadAddress(url.to_owned())),
    }
}

/// An HTTP client for `server`, or why the tablet will not talk to it.
pub fn client(
    server: &Server,
    connect_timeout: Duration,
    timeout: Option<Duration>,
) -> Result<reqwest::blocking::Client, ConnectionRefusal> {
    check_address(&server.url)?;
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(server.trust.verifier()?)
        .with_no_client_auth();
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .build()
        .map_err(|e| bad(format!("HTTP client: {e}")))
}

/// The certificate problem behind a failed request, if that is what failed: rustls's
/// error, found in the request error's chain of causes.
pub fn refusal_of(e: &(dyn std::error::Error + 'static)) -> Option<ConnectionRefusal> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(classify(r));
        }
        // `io::Error::source` skips the error it wraps (the connector's I/O errors wrap
        // rustls's): look inside instead.
        next = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

fn classify(e: &rustls::Error) -> ConnectionRefusal {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => ConnectionRefusal::UnknownIssuer,
            C::NotValidForName | C::NotValidForNameContext { .. } => ConnectionRefusal::WrongHost,
            C::Expired | C::ExpiredContext { .. } => ConnectionRefusal::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => ConnectionRefusal::NotYetValid,
            C::ApplicationVerificationFailure => ConnectionRefusal::PinMismatch,
            other => ConnectionRefusal::Certificate(format!("{other:?}")),
        },
        other => ConnectionRefusal::Certificate(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_this_device() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://[::1]:80",
            "http://localhost:1",
            "https://example.org",
            "https://10.0.0.5:8443",
        ] {
            assert_eq!(check_address(ok), Ok(()), "{ok}");
        }
        for (refused, host) in [
            ("http://10.0.0.5:8080", "10.0.0.5"),
            ("http://sync.yjj.example.cn", "sync.yjj.example.cn"),
            ("http://[fe80::1]:80", "[fe80::1]"),
            ("http://localhost.evil.example", "localhost.evil.example"),
        ] {
            assert_eq!(
                check_address(refused),
                Err(ConnectionRefusal::PlainHttp {
                    host: host.to_owned()
                }),
                "{refused}"
            );
        }
        assert!(matches!(
            check_address("ftp://example.org"),
            Err(ConnectionRefusal::BadAddress(_))
        ));
        assert!(matches!(
            check_address("not a url"),
            Err(ConnectionRefusal::BadAddress(_))
        ));
        let refusal = check_address("http://10.0.0.5").unwrap_err();
        use app_core::messages::Bilingual;
        assert!(refusal.zh().contains("http://"), "{}", refusal.zh());
        assert!(refusal.en().contains("plain http://"));
        let err = client(
            &Server::from("http://10.0.0.5"),
            Duration::from_secs(1),
            None,
        );
        assert!(err.is_err());
    }

    #[test]
    fn trust_settings_are_checked() {
        assert_eq!(
            ServerTrust::from_settings(None, None),
            Ok(ServerTrust::System)
        );
        assert!(matches!(
            ServerTrust::from_settings(Some("not a pem"), None),
            Err(ConnectionRefusal::BadTrustSetting(_))
        ));
        assert!(matches!(
            ServerTrust::from_settings(None, Some("sha256//abc")),
            Err(ConnectionRefusal::BadTrustSetting(_))
        ));
        assert!(matches!(
            ServerTrust::from_settings(None, Some("md5//AAAA")),
            Err(ConnectionRefusal::BadTrustSetting(_))
        ));
        let pin = format!("sha256//{}", "A".repeat(43) + "=");
        assert_eq!(
            ServerTrust::from_settings(None, Some(&format!(" {pin}, "))),
            Ok(ServerTrust::Pins { pins: vec![pin] })
        );
    }
}
