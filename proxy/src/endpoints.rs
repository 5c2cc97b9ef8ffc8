//! Built-in HTTP endpoints served before `--web` files, so a web root can never shadow them:
//! `GET /health` (200 `ok`, or 503 `draining` once shutdown began) and `GET /metrics`
//! (Prometheus text format, unless `--no-metrics`). Also the counters behind `/metrics` and a
//! byte-counting wrapper for the target stream.

use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::task::{Context, Poll};

use rfb_ws::Request;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::Shared;
use crate::relay::End;
use crate::web::Response;

/// HTTP statuses counted one by one (400–599); others land in the last slot.
const STATUS_BASE: u16 = 400;
const STATUS_SLOTS: usize = 200;

/// Session end causes, in the order of [`Metrics::ended`].
const CAUSES: [&str; 6] = [
    "target_closed",
    "client_closed",
    "client_vanished",
    "protocol_error",
    "io_error",
    "shutdown",
];

/// Process-wide counters for `/metrics`. Plain relaxed atomics: a scrape is a snapshot.
pub(crate) struct Metrics {
    sessions_active: AtomicI64,
    sessions_total: AtomicU64,
    bytes_to_target: AtomicU64,
    bytes_to_client: AtomicU64,
    upgrade_failures: [AtomicU64; STATUS_SLOTS],
    connect_failures: AtomicU64,
    ended: [AtomicU64; CAUSES.len()],
    refused_at_cap: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            sessions_active: AtomicI64::new(0),
            sessions_total: AtomicU64::new(0),
            bytes_to_target: AtomicU64::new(0),
            bytes_to_client: AtomicU64::new(0),
            upgrade_failures: std::array::from_fn(|_| AtomicU64::new(0)),
            connect_failures: AtomicU64::new(0),
            ended: std::array::from_fn(|_| AtomicU64::new(0)),
            refused_at_cap: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// An upgrade request answered with an HTTP error `status`.
    pub(crate) fn upgrade_failed(&self, status: u16) {
        let i = usize::from(status.saturating_sub(STATUS_BASE)).min(STATUS_SLOTS - 1);
        self.upgrade_failures[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The target could not be reached (the client got close 1011).
    pub(crate) fn connect_failed(&self) {
        self.connect_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection refused with 503 because `--max-connections` was reached.
    pub(crate) fn refused_at_cap(&self) {
        self.refused_at_cap.fetch_add(1, Ordering::Relaxed);
    }

    /// A relay starts; the guard ends it (and counts the cause given to [`Metrics::ended`]).
    pub(crate) fn session_started(self: &Arc<Self>) -> SessionGuard {
        self.sessions_total.fetch_add(1, Ordering::Relaxed);
        self.sessions_active.fetch_add(1, Ordering::Relaxed);
        SessionGuard(self.clone())
    }

    /// A relay ended with `end`.
    pub(crate) fn ended(&self, end: &End) {
        let i = match end {
            End::TargetClosed => 0,
            End::ClientClosed { .. } => 1,
            End::ClientVanished => 2,
            End::Protocol(_) => 3,
            End::Io(_) => 4,
            End::Shutdown => 5,
        };
        self.ended[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub(crate) fn render(&self, connections: usize) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut o = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in samples {
                let _ = writeln!(o, "{name}{labels} {v}");
            }
        };
        metric(
            "rfb_proxy_connections_active",
            "gauge",
            "Client TCP connections open now (HTTP and WebSocket).",
            &[(String::new(), connections as u64)],
        );
        metric(
            "rfb_proxy_sessions_active",
            "gauge",
            "WebSocket sessions relaying to a target now.",
            &[(
                String::new(),
                self.sessions_active.load(Ordering::Relaxed).max(0) as u64,
            )],
        );
        metric(
            "rfb_proxy_sessions_total",
            "counter",
            "WebSocket sessions that reached their target.",
            &[(String::new(), get(&self.sessions_total))],
        );
        metric(
            "rfb_proxy_bytes_total",
            "counter",
            "Payload bytes relayed, by direction.",
            &[
                (
                    "{direction=\"client_to_target\"}".into(),
                    get(&self.bytes_to_target),
                ),
                (
                    "{direction=\"target_to_client\"}".into(),
                    get(&self.bytes_to_client),
                ),
            ],
        );
        let failures: Vec<(String, u64)> = self
            .upgrade_failures
            .iter()
            .enumerate()
            .filter(|(_, a)| get(a) > 0)
            .map(|(i, a)| {
                let status = if i == STATUS_SLOTS - 1 {
                    "other".to_string()
                } else {
                    (STATUS_BASE as usize + i).to_string()
                };
                (format!("{{status=\"{status}\"}}"), get(a))
            })
            .collect();
        metric(
            "rfb_proxy_upgrade_failures_total",
            "counter",
            "WebSocket upgrade requests refused, by HTTP status.",
            &failures,
        );
        metric(
            "rfb_proxy_target_connect_failures_total",
            "counter",
            "Sessions whose target could not be reached (close 1011).",
            &[(String::new(), get(&self.connect_failures))],
        );
        metric(
            "rfb_proxy_connections_refused_total",
            "counter",
            "Connections refused with 503 at --max-connections.",
            &[(String::new(), get(&self.refused_at_cap))],
        );
        let ended: Vec<(String, u64)> = CAUSES
            .iter()
            .zip(&self.ended)
            .map(|(c, a)| (format!("{{cause=\"{c}\"}}"), get(a)))
            .collect();
        metric(
            "rfb_proxy_sessions_ended_total",
            "counter",
            "Sessions ended, by cause.",
            &ended,
        );
        o
    }
}

/// Keeps `sessions_active` right however the session task ends.
pub(crate) struct SessionGuard(Arc<Metrics>);

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.0.sessions_active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The target stream with its traffic counted as it flows: reads are target→client bytes,
/// writes client→target bytes (payload only, without WebSocket framing).
pub(crate) struct Counted<T> {
    inner: T,
    metrics: Arc<Metrics>,
}

impl<T> Counted<T> {
    pub(crate) fn new(inner: T, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        if n > 0 {
            this.metrics
                .bytes_to_client
                .fetch_add(n as u64, Ordering::Relaxed);
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            this.metrics
                .bytes_to_target
                .fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

fn plain(status: u16, reason: &'static str, content_type: &'static str, body: String) -> Response {
    Response {
        status,
        reason,
        content_type,
        body: body.into_bytes(),
    }
}

/// The response for a built-in endpoint, or `None` to fall through to files.
pub(crate) fn respond(shared: &Shared, req: &Request) -> Option<Response> {
    let path = req.path.split(['?', '#']).next().unwrap_or("");
    let is_get = matches!(req.method.as_str(), "GET" | "HEAD");
    match path {
        "/health" | "/healthz" => {
            if !is_get {
                return Some(crate::web::method_not_allowed());
            }
            Some(if *shared.shutdown.borrow() {
                plain(
                    503,
                    "Service Unavailable",
                    "text/plain; charset=utf-8",
                    "draining\n".into(),
                )
            } else {
                plain(200, "OK", "text/plain; charset=utf-8", "ok\n".into())
            })
        }
        "/metrics" if !shared.args.no_metrics => {
            if !is_get {
                return Some(crate::web::method_not_allowed());
            }
            let connections = shared.active.load(Ordering::Relaxed);
            Some(plain(
                200,
                "OK",
                "text/plain; version=0.0.4; charset=utf-8",
                shared.metrics.render(connections),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_family() {
        let m = Arc::new(Metrics::default());
        m.upgrade_failed(404);
        m.upgrade_failed(404);
        m.upgrade_failed(999);
        m.connect_failed();
        {
            let _g = m.session_started();
            m.ended(&End::ClientClosed { code: Some(1000) });
            assert!(m.render(1).contains("rfb_proxy_sessions_active 1\n"));
        }
        let t = m.render(0);
        for want in [
            "rfb_proxy_sessions_active 0\n",
            "rfb_proxy_sessions_total 1\n",
            "rfb_proxy_upgrade_failures_total{status=\"404\"} 2\n",
            "rfb_proxy_upgrade_failures_total{status=\"other\"} 1\n",
            "rfb_proxy_target_connect_failures_total 1\n",
            "rfb_proxy_sessions_ended_total{cause=\"client_closed\"} 1\n",
            "rfb_proxy_bytes_total{direction=\"client_to_target\"} 0\n",
            "# TYPE rfb_proxy_bytes_total counter\n",
        ] {
            assert!(t.contains(want), "{want} in\n{t}");
        }
    }
}
