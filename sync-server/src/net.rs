//! Serving connections: hyper's HTTP/1 server driven by our own accept loop, so that slow or
//! idle clients cannot starve the others.
//!
//! - A request's head must arrive within [`ServeConfig::header_read_timeout`] (hyper's
//!   `header_read_timeout`, which also bounds an idle keep-alive connection between requests).
//! - A connection on which no byte moves in either direction for
//!   [`ServeConfig::idle_timeout`] is closed (a request body that stalls, a client that stops
//!   reading its response).
//! - At most [`ServeConfig::max_connections`] connections are open at once (a semaphore). When
//!   the cap is reached, the connection that is waiting for a request (not handling one) and
//!   has been quiet longest is closed to make room, so thousands of half-sent requests cannot
//!   keep `/health` or a sign-in from being answered; if every open connection is busy with a
//!   request, new ones wait in the kernel's accept queue.
//! - Handlers can extract `ConnectInfo<SocketAddr>` (the peer address) and [`ClientIp`] (the
//!   client's address: the peer's, or, when the peer is one of
//!   [`ServeConfig::trusted_proxies`], the one its `X-Forwarded-For` names).
//! - With [`ServeConfig::tls`], every connection is TLS (tokio-rustls over the same tracked
//!   stream, so the limits above hold during the handshake too: it must finish within the
//!   header timeout). Responses to requests that came over TLS (directly, or from a trusted
//!   proxy saying `X-Forwarded-Proto: https`) carry `Strict-Transport-Security` and their
//!   cookies are marked `Secure`. Every response carries a Content-Security-Policy (the
//!   console's own, stricter one is set by the console; others get `default-src 'none'`).
//! - On shutdown, no new connection is accepted, open ones finish the request in progress and
//!   close, and after [`ServeConfig::drain_timeout`] the rest are dropped.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tower::Service;

/// The limits of [`serve_with`].
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Open connections at most (further ones wait, or displace an idle one).
    pub max_connections: usize,
    /// Time allowed for a request's line and headers to arrive (and for the next request on
    /// an idle keep-alive connection).
    pub header_read_timeout: Duration,
    /// A connection with no byte read or written for this long is closed.
    pub idle_timeout: Duration,
    /// On shutdown, how long open connections may take to finish.
    pub drain_timeout: Duration,
    /// Serve HTTPS with this configuration (certificate and key); plain HTTP when `None`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Reverse proxies whose `X-Forwarded-For` (client address) and `X-Forwarded-Proto` are
    /// believed; from anyone else these headers are ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Connections kept open at most unless the file-descriptor limit is lower (see
/// [`ServeConfig::default`]).
pub const MAX_CONNECTIONS: usize = 1024;

/// File descriptors kept for everything that is not a client connection (the database,
/// blobs, uploads, case-file exports, logs).
const RESERVED_FDS: u64 = 128;

impl Default for ServeConfig {
    /// [`MAX_CONNECTIONS`], or fewer when the process's open-file limit would not allow that
    /// many; 15 s for a request head, 60 s of silence, 8 s to drain on shutdown.
    fn default() -> Self {
        Self {
            max_connections: Self::default_max_connections(MAX_CONNECTIONS),
            header_read_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(8),
            tls: None,
            trusted_proxies: Vec::new(),
        }
    }
}

impl ServeConfig {
    /// `wanted`, or fewer when the process's open-file limit would not allow that many
    /// (keeping some descriptors for everything that is not a client connection).
    pub fn default_max_connections(wanted: usize) -> usize {
        match open_files_limit() {
            Some(limit) => (limit.saturating_sub(RESERVED_FDS).max(16) as usize).min(wanted),
            None => wanted,
        }
    }
}

/// The soft limit on open files (Linux, from `/proc/self/limits`); `None` elsewhere or if
/// unlimited.
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The accept queue asked of the kernel (Linux caps it at `net.core.somaxconn`). Tokio's
/// `TcpListener::bind` asks for 128, which a burst of a few hundred connections overflows:
/// the kernel then drops SYNs and clients retry only after a second.
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds `addr` (`host:port`, the first address it resolves to) with [`LISTEN_BACKLOG`].
pub async fn bind(addr: &str) -> io::Result<TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{addr} resolves to no address"),
        )
    }))
}

/// Serves `router` on `listener` with [`ServeConfig::default`] until `shutdown` completes,
/// then drains. Used by the binary and by anything that needs the real serving path.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    serve_with(listener, router, shutdown, ServeConfig::default()).await
}

/// [`serve`] with explicit limits.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
    config: ServeConfig,
) -> io::Result<()> {
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let registry = Arc::new(Registry::default());
    // Dropping the sender tells every connection to shut down gracefully.
    let (stop_tx, stop_rx) = watch::channel(());
    tracing::info!(
        max_connections = config.max_connections,
        header_read_timeout_s = config.header_read_timeout.as_secs_f64(),
        idle_timeout_s = config.idle_timeout.as_secs_f64(),
        tls = config.tls.is_some(),
        trusted_proxies = config.trusted_proxies.len(),
        "serving"
    );
    let sweeper = tokio::spawn(sweep(registry.clone(), config.idle_timeout));
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors (EMFILE/ENFILE) or a connection reset before it
                    // was accepted: log, pause a moment so a full table can drain, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // Full: close the quietest connection that is waiting for a request, then wait
                // for its slot (or any other) to come free.
                if !registry.evict_one() {
                    tracing::warn!(
                        max = config.max_connections,
                        "connection cap reached and every connection is busy; waiting"
                    );
                }
                tokio::select! {
                    p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
                    _ = &mut shutdown => break,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let conn = Connection {
            router: router.clone(),
            registry: registry.clone(),
            config: config.clone(),
            stop: stop_rx.clone(),
        };
        tokio::spawn(async move {
            conn.run(stream, peer).await;
            drop(permit);
        });
    }
    drop(listener);
    sweeper.abort();
    let open = config.max_connections - slots.available_permits();
    tracing::info!(open, "shutting down: draining connections");
    drop(stop_tx);
    let drained = tokio::time::timeout(
        config.drain_timeout,
        slots.acquire_many(config.max_connections as u32),
    )
    .await;
    if drained.is_err() {
        let left = config.max_connections - slots.available_permits();
        tracing::warn!(
            left,
            "connections still open after the drain timeout; dropping them"
        );
    }
    Ok(())
}

/// A millisecond clock shared by the connections (relative to the server's start).
fn now_ms(base: Instant) -> u64 {
    base.elapsed().as_millis() as u64
}

/// What the accept loop and the sweeper know of a connection.
#[derive(Debug)]
struct Activity {
    /// When a byte last moved (ms on the registry's clock).
    last_io: AtomicU64,
    /// Requests being handled or responses being sent.
    in_flight: AtomicUsize,
    /// Told to close the connection at once.
    evict: Notify,
}

#[derive(Debug)]
struct Registry {
    base: Instant,
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Activity>>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            base: Instant::now(),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
        }
    }
}

impl Registry {
    fn add(&self) -> (u64, Arc<Activity>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity {
            last_io: AtomicU64::new(now_ms(self.base)),
            in_flight: AtomicUsize::new(0),
            evict: Notify::new(),
        });
        self.conns
            .lock()
            .expect("registry lock")
            .insert(id, activity.clone());
        (id, activity)
    }

    fn remove(&self, id: u64) {
        self.conns.lock().expect("registry lock").remove(&id);
    }

    /// Closes the connection that has been quiet longest among those not handling a request.
    /// False if there is none.
    fn evict_one(&self) -> bool {
        let mut conns = self.conns.lock().expect("registry lock");
        let victim = conns
            .iter()
            .filter(|(_, a)| a.in_flight.load(Ordering::Relaxed) == 0)
            .min_by_key(|(id, a)| (a.last_io.load(Ordering::Relaxed), **id))
            .map(|(id, _)| *id);
        match victim.and_then(|id| conns.remove(&id)) {
            Some(a) => {
                a.evict.notify_one();
                true
            }
            None => false,
        }
    }

    /// Closes every connection on which nothing moved for `idle`.
    fn close_idle(&self, idle: Duration) {
        let now = now_ms(self.base);
        let idle = idle.as_millis() as u64;
        let mut conns = self.conns.lock().expect("registry lock");
        conns.retain(|_, a| {
            let quiet = now.saturating_sub(a.last_io.load(Ordering::Relaxed));
            if quiet >= idle {
                a.evict.notify_one();
                false
            } else {
                true
            }
        });
    }
}

/// Closes idle connections, checking a few times per idle period.
async fn sweep(registry: Arc<Registry>, idle: Duration) {
    let mut tick = tokio::time::interval((idle / 4).max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        registry.close_idle(idle);
    }
}

struct Connection {
    router: Router,
    registry: Arc<Registry>,
    config: Arc<ServeConfig>,
    stop: watch::Receiver<()>,
}

impl Connection {
    async fn run(self, stream: TcpStream, peer: SocketAddr) {
        let (id, activity) = self.registry.add();
        let registry = self.registry.clone();
        let tracked = Tracked {
            inner: stream,
            activity: activity.clone(),
            base: self.registry.base,
        };
        match self.config.tls.clone() {
            None => self.serve_io(tracked, peer, &activity, false).await,
            Some(tls) => {
                // The handshake is bounded like a request head, and a connection evicted
                // (idle, or displaced at the cap) during it is dropped.
                let handshake = tokio::time::timeout(
                    self.config.header_read_timeout,
                    tokio_rustls::TlsAcceptor::from(tls).accept(tracked),
                );
                tokio::select! {
                    done = handshake => match done {
                        Ok(Ok(stream)) => self.serve_io(stream, peer, &activity, true).await,
                        Ok(Err(e)) => {
                            tracing::info!(%peer, error = %e, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    },
                    _ = activity.evict.notified() => {
                        tracing::debug!(%peer, "connection closed during the TLS handshake");
                    }
                }
            }
        }
        registry.remove(id);
    }

    async fn serve_io<I>(mut self, io: I, peer: SocketAddr, activity: &Arc<Activity>, tls: bool)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(io);
        let router = self.router.clone();
        let act = activity.clone();
        let config = self.config.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            let from_proxy = is_trusted(&config.trusted_proxies, peer.ip());
            let client = if from_proxy {
                forwarded_client(req.headers(), &config.trusted_proxies).unwrap_or(peer.ip())
            } else {
                peer.ip()
            };
            let secure = tls
                || (from_proxy
                    && req
                        .headers()
                        .get("x-forwarded-proto")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https")));
            req.extensions_mut().insert(ConnectInfo(peer));
            req.extensions_mut().insert(ClientIp(client));
            if secure {
                req.extensions_mut().insert(Secure);
            }
            let guard = InFlight::new(act.clone());
            let response = router.clone().call(req);
            async move {
                let mut response = response.await?;
                harden(response.headers_mut(), secure);
                // The request counts as in flight until its response body is sent.
                Ok::<_, std::convert::Infallible>(response.map(|body| {
                    Body::new(Guarded {
                        body,
                        _guard: guard,
                    })
                }))
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.config.header_read_timeout)
            .keep_alive(true);
        let mut conn = pin!(builder.serve_connection(io, service));
        let mut stopping = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    break;
                }
                _ = activity.evict.notified() => {
                    tracing::debug!(%peer, "connection closed (idle, or displaced at the cap)");
                    break;
                }
                _ = self.stop.changed(), if !stopping => {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// The client's address as the server believes it: the peer's, or the one a trusted proxy
/// forwarded (see [`ServeConfig::trusted_proxies`]). Inserted in every request by the
/// serving loop; sign-in throttling and the audit log read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

/// Marks a request that reached the server over TLS (directly or through a trusted proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secure;

/// The Content-Security-Policy of responses that set none (API answers, health, photos):
/// nothing may be loaded or framed.
pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// HSTS under TLS: a year, this host only (the bureau's other hosts are not ours to pin).
pub const HSTS: &str = "max-age=31536000";

fn is_trusted(proxies: &[ipnet::IpNet], ip: std::net::IpAddr) -> bool {
    let ip = canonical(ip);
    proxies.iter().any(|net| net.contains(&ip))
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, as a dual-stack socket reports IPv4 peers)
/// as the IPv4 address.
fn canonical(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    }
}

/// The client address in `X-Forwarded-For` (every such header, in order): from the right,
/// the first address that is not itself a trusted proxy (each proxy appends the address it
/// received the request from, so entries left of the first untrusted one are the client's
/// own claims). `None` without a readable address.
pub fn forwarded_client(
    headers: &axum::http::HeaderMap,
    proxies: &[ipnet::IpNet],
) -> Option<std::net::IpAddr> {
    let hops: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().parse::<std::net::IpAddr>().ok())
        .collect::<Option<Vec<_>>>()?;
    let mut last = None;
    for hop in hops.into_iter().rev() {
        let hop = canonical(hop);
        last = Some(hop);
        if !is_trusted(proxies, hop) {
            break;
        }
    }
    last
}

/// Adds the headers every response carries: a CSP when the handler set none; under TLS, HSTS
/// and `Secure` on every cookie.
fn harden(headers: &mut axum::http::HeaderMap, secure: bool) {
    use axum::http::{HeaderValue, header};
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    if !secure {
        return;
    }
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let marked = match cookie.to_str() {
            Ok(c)
                if !c
                    .split(';')
                    .any(|a| a.trim().eq_ignore_ascii_case("secure")) =>
            {
                HeaderValue::from_str(&format!("{c}; Secure")).unwrap_or(cookie)
            }
            _ => cookie,
        };
        headers.append(header::SET_COOKIE, marked);
    }
}

/// Reads a PEM certificate chain and private key into a rustls server configuration
/// (aws-lc-rs, TLS 1.2 and 1.3, HTTP/1.1 by ALPN).
pub fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, TlsFilesError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsFilesError::Certificate(format!("{}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(TlsFilesError::Certificate(format!(
            "{}: no PEM CERTIFICATE in it",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        TlsFilesError::Key(format!("{}: no PEM private key in it ({e})", key.display()))
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| TlsFilesError::Pair(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| TlsFilesError::Pair(format!("the certificate and its key: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Why [`tls_config`] refused the files, by the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsFilesError {
    #[error("TLS certificate {0}")]
    Certificate(String),
    #[error("TLS key {0}")]
    Key(String),
    #[error("TLS {0}")]
    Pair(String),
}

impl TlsFilesError {
    /// The configuration key of the file at fault (`tls.cert` or `tls.key`).
    pub fn setting(&self) -> &'static str {
        match self {
            Self::Key(_) | Self::Pair(_) => "tls.key",
            Self::Certificate(_) => "tls.cert",
        }
    }
}

/// A `--trusted-proxy` value: an address (`10.0.0.2`, `::1`) or a network (`10.0.0.0/24`).
pub fn parse_proxy(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            format!("{s:?} is not an IP address or CIDR network (e.g. 10.0.0.2 or 10.0.0.0/24)")
        })
}

/// Marks a connection busy while a request is handled and its response sent.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its request's [`InFlight`] mark until it is dropped.
struct Guarded {
    body: Body,
    _guard: InFlight,
}

impl http_body::Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A TCP stream that records when bytes last moved.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
    base: Instant,
}

impl Tracked {
    fn touch(&self) {
        self.activity
            .last_io
            .store(now_ms(self.base), Ordering::Relaxed);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn nets(s: &[&str]) -> Vec<ipnet::IpNet> {
        s.iter().map(|s| parse_proxy(s).unwrap()).collect()
    }

    #[test]
    fn forwarded_for_is_read_from_the_right() {
        let proxies = nets(&["10.0.0.0/24", "::1"]);
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "6.6.6.6, 1.2.3.4".parse().unwrap());
        h.append("x-forwarded-for", "10.0.0.7".parse().unwrap());
        assert_eq!(
            forwarded_client(&h, &proxies),
            Some("1.2.3.4".parse().unwrap())
        );
        let mut only_proxies = HeaderMap::new();
        only_proxies.append("x-forwarded-for", "10.0.0.9".parse().unwrap());
        assert_eq!(
            forwarded_client(&only_proxies, &proxies),
            Some("10.0.0.9".parse().unwrap())
        );
        let mut junk = HeaderMap::new();
        junk.append("x-forwarded-for", "1.2.3.4, nonsense".parse().unwrap());
        assert_eq!(forwarded_client(&junk, &proxies), None);
        assert_eq!(forwarded_client(&HeaderMap::new(), &proxies), None);
        assert!(is_trusted(&proxies, "::ffff:10.0.0.3".parse().unwrap()));
        assert!(!is_trusted(&proxies, "10.0.1.3".parse().unwrap()));
        assert!(parse_proxy("10.0.0.0/33").is_err());
        assert!(parse_proxy("proxy.example").is_err());
    }

    #[test]
    fn cookies_are_secure_under_tls_only() {
        use axum::http::{HeaderValue, header};
        let mut h = HeaderMap::new();
        h.append(
            header::SET_COOKIE,
            HeaderValue::from_static("a=1; Path=/console; HttpOnly; SameSite=Strict"),
        );
        h.append(header::SET_COOKIE, HeaderValue::from_static("b=2; Secure"));
        let mut plain = h.clone();
        harden(&mut plain, false);
        assert!(plain.get(header::STRICT_TRANSPORT_SECURITY).is_none());
        assert_eq!(
            plain.get(header::CONTENT_SECURITY_POLICY).unwrap(),
            DEFAULT_CSP
        );
        harden(&mut h, true);
        let cookies: Vec<_> = h.get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(
            cookies,
            [
                "a=1; Path=/console; HttpOnly; SameSite=Strict; Secure",
                "b=2; Secure"
            ]
        );
        assert_eq!(h.get(header::STRICT_TRANSPORT_SECURITY).unwrap(), HSTS);
    }
}
