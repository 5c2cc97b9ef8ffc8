//! One client connection: read the HTTP head, serve a file or upgrade, pick the target,
//! connect, relay. Every failure ends this session only, with a log line and an HTTP status
//! or a close code, never a bare TCP close.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rfb_ws::{CloseCode, HeadLimits, Limits, Request, Role, WsConnection};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::recorder::Recorder;
use crate::relay::{End, relay};
use crate::target::Target;
use crate::{Shared, target, web};

/// Time a client gets to send its HTTP head (slowloris protection).
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// A short, stable fingerprint of a token for logs: tokens are credentials and are never
/// logged in clear (websockify logs them at INFO).
pub(crate) fn token_tag(token: &str) -> String {
    // FNV-1a: deterministic across runs and platforms, enough to correlate log lines.
    let h = token.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("#{:08x}", h >> 32)
}

/// The `token` query parameter (first value), as websockify reads it.
fn query_token(path: &str) -> Option<String> {
    let q = path.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == "token").then(|| v.trim_end_matches('\n').to_string())
    })
}

/// The token from an `X-Rfb-Token` header, else from a `token` cookie.
fn header_or_cookie_token(req: &Request) -> Option<String> {
    if let Some(t) = req.header("x-rfb-token").filter(|t| !t.is_empty()) {
        return Some(t.to_string());
    }
    req.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .filter_map(|(_, v)| core::str::from_utf8(v).ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k.trim() == "token").then(|| v.trim().trim_matches('"').to_string())
        })
}

/// Runs `--auth-plugin` on `req`; on refusal, answers and returns the status sent.
async fn refused_by_auth<S: AsyncWrite + Unpin>(
    s: &mut S,
    shared: &Shared,
    req: &Request,
    peer: SocketAddr,
    id: u64,
) -> Option<u16> {
    let auth = shared.auth.as_ref()?;
    match auth.check(req) {
        Ok(()) => None,
        Err(r) => {
            tracing::info!(%peer, id, status = r.status, "auth refused: {}", r.reason);
            let _ = s
                .write_all(&rfb_ws::error_response(r.status, r.reason, &r.headers))
                .await;
            let _ = s.shutdown().await;
            Some(r.status)
        }
    }
}

async fn send_status<S: AsyncWrite + Unpin>(s: &mut S, status: u16, reason: &str) {
    let _ = s
        .write_all(&rfb_ws::error_response(status, reason, &[]))
        .await;
    let _ = s.shutdown().await;
}

/// Handles one accepted connection.
pub(crate) async fn handle(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>, id: u64) {
    stream.set_nodelay(true).ok();
    let local = stream.local_addr().ok();
    crate::client_addr::LOCAL_ADDR
        .scope(local, async move {
            // With --cert, the first byte decides between TLS and plain (websockify's sniffing).
            match crate::tls::incoming(&shared, stream, peer, id, HEAD_TIMEOUT).await {
                Some(crate::tls::Incoming::Plain(s)) => serve(s, peer, shared, id).await,
                Some(crate::tls::Incoming::Tls(s)) => serve(*s, peer, shared, id).await,
                None => {}
            }
        })
        .await;
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    peer: SocketAddr,
    shared: Arc<Shared>,
    id: u64,
) {
    let limits = HeadLimits::default();
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    let read_head = async {
        loop {
            match rfb_ws::parse_request(&buf, &limits) {
                Ok(Some(x)) => return Ok(x),
                Ok(None) => {}
                Err(e) => return Err(Some(e)),
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return Err(None),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let (head_len, req) = match tokio::time::timeout(HEAD_TIMEOUT, read_head).await {
        Err(_) => {
            tracing::info!(%peer, id, "no complete HTTP request within {HEAD_TIMEOUT:?}");
            send_status(&mut s, 408, "Request Timeout").await;
            return;
        }
        Ok(Err(None)) => {
            tracing::debug!(%peer, id, "client left before sending a request");
            return;
        }
        Ok(Err(Some(e))) => {
            tracing::info!(%peer, id, "bad request: {e}");
            send_status(&mut s, e.status(), &e.to_string()).await;
            return;
        }
        Ok(Ok(x)) => x,
    };
    let initial = buf[head_len..].to_vec();
    // Behind a trusted proxy, the client is who X-Forwarded-For says (port 0: unknown).
    let peer = crate::client_addr::client_addr(&shared.args.trust_forwarded, peer, &req);
    if !req.is_upgrade() {
        return plain_http(s, peer, &shared, id, &req).await;
    }
    let accepted = match rfb_ws::validate_upgrade(&req) {
        Ok(a) => a,
        Err(e) => {
            tracing::info!(%peer, id, path = %req.path, "upgrade refused: {e}");
            shared.metrics.upgrade_failed(e.status());
            send_status(&mut s, e.status(), &e.to_string()).await;
            return;
        }
    };
    let target = match choose_target(&shared, &req).await {
        Ok(t) => t,
        Err((status, why)) => {
            tracing::info!(%peer, id, "{why}");
            shared.metrics.upgrade_failed(status);
            send_status(&mut s, status, &why).await;
            return;
        }
    };
    // As websockify: the auth plugin runs after the token lookup.
    if let Some(status) = refused_by_auth(&mut s, &shared, &req, peer, id).await {
        shared.metrics.upgrade_failed(status);
        return;
    }
    if s.write_all(&rfb_ws::accept_response(&accepted))
        .await
        .is_err()
    {
        return;
    }
    let ws = WsConnection::new(
        Role::Server,
        Limits {
            max_frame: shared.args.max_frame,
            max_message: u64::MAX,
        },
        None,
    );
    let recorder = shared.args.record.as_ref().and_then(|base| {
        Recorder::create(base, id)
            .map_err(|e| tracing::warn!(id, "cannot record: {e}"))
            .ok()
    });
    let heartbeat = (shared.args.heartbeat > 0).then(|| Duration::from_secs(shared.args.heartbeat));
    let shutdown = shared.shutdown.subscribe();
    let connected = match target::connect(&shared, &target).await {
        Ok(mut t) if shared.args.proxy_protocol => {
            match crate::client_addr::announce(&mut t, peer).await {
                Ok(()) => Ok(t),
                Err(e) => Err(format!("sending the PROXY header: {e}")),
            }
        }
        other => other,
    };
    let end = match connected {
        Ok(t) => {
            tracing::info!(%peer, id, %target, "connected");
            let _session = shared.metrics.session_started();
            let t = crate::endpoints::Counted::new(t, shared.metrics.clone());
            // --vnc-security: the proxy authenticates to the server itself (rfb_security/).
            let t: Box<dyn target::TargetStream> = match &shared.rfb_security {
                Some(mode) => crate::rfb_security::wrap(mode.clone(), Box::new(t), &target, id),
                None => Box::new(t),
            };
            let end = relay(s, t, ws, initial, recorder, heartbeat, shutdown).await;
            shared.metrics.ended(&end);
            end
        }
        Err(why) => {
            shared.metrics.connect_failed();
            let t = target.to_string();
            return refuse_downstream(s, ws, peer, id, &t, &why).await;
        }
    };
    match end {
        End::Protocol(e) | End::Io(e) => tracing::info!(%peer, id, "session ended: {e}"),
        End::ClientClosed { code } => {
            tracing::info!(%peer, id, ?code, "session ended: client closed")
        }
        other => tracing::info!(%peer, id, "session ended: {other:?}"),
    }
}

/// After the 101, a target that cannot be reached gets websockify's close 1011.
async fn refuse_downstream<S: AsyncWrite + Unpin>(
    mut s: S,
    mut ws: WsConnection,
    peer: SocketAddr,
    id: u64,
    target: &str,
    why: &str,
) {
    tracing::warn!(%peer, id, "Failed to connect to downstream server {target}: {why}");
    ws.send_close(
        CloseCode::Internal,
        "Failed to connect to downstream server",
    );
    if let Some(b) = ws.poll_transmit() {
        let _ = s.write_all(&b).await;
    }
    let _ = s.shutdown().await;
}

async fn choose_target(shared: &Shared, req: &Request) -> Result<Target, (u16, String)> {
    if let Some(t) = &shared.fixed {
        return Ok(t.clone());
    }
    let Some(tokens) = &shared.tokens else {
        return Err((500, "no target configured".into()));
    };
    let token = if shared.args.host_token {
        req.header("host").map(|h| {
            // Host minus the port (IPv6 literals keep their brackets).
            match h.rsplit_once(':') {
                Some((host, port))
                    if port.chars().all(|c| c.is_ascii_digit()) && !host.ends_with(':') =>
                {
                    host.to_string()
                }
                _ => h.to_string(),
            }
        })
    } else {
        // Beyond websockify: without `?token=`, a header or a cookie (URLs end up in logs).
        query_token(&req.path).or_else(|| header_or_cookie_token(req))
    };
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err((400, "Token not present".into()));
    };
    match tokens.lookup(&token).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err((404, format!("Token {} not found", token_tag(&token)))),
        Err(e) => Err((
            503,
            format!("token lookup for {} failed: {e:#}", token_tag(&token)),
        )),
    }
}

async fn plain_http<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    peer: SocketAddr,
    shared: &Shared,
    id: u64,
    req: &Request,
) {
    let head_only = req.method == "HEAD";
    if shared.args.web_auth
        && matches!(req.method.as_str(), "GET" | "HEAD")
        && refused_by_auth(&mut s, shared, req, peer, id)
            .await
            .is_some()
    {
        return;
    }
    // Built-in endpoints (health, metrics, …) come before files.
    let resp = match crate::endpoints::respond(shared, req) {
        Some(r) => r,
        None => match (&shared.web, req.method.as_str()) {
            (Some(root), "GET" | "HEAD") => root.serve(&req.path),
            _ => web::method_not_allowed(),
        },
    };
    tracing::debug!(%peer, id, method = %req.method, path = %req.path, status = resp.status, "http");
    let _ = s.write_all(&resp.to_bytes(head_only)).await;
    let _ = s.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_query_and_tags() {
        assert_eq!(
            query_token("/websockify?token=abc&x=1").as_deref(),
            Some("abc")
        );
        assert_eq!(query_token("/?a=1&token=").as_deref(), Some(""));
        assert_eq!(query_token("/websockify"), None);
        assert_ne!(token_tag("abc"), token_tag("abd"));
        assert!(!token_tag("secret-token").contains("secret"));
    }
}
