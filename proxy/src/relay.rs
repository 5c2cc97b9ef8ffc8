//! Moving bytes between the WebSocket client and the TCP/Unix target, with real
//! back-pressure: a side is read only when the buffer toward the other side is empty, so a
//! slow reader stalls its writer instead of making the proxy buffer (websockify buffers tens
//! of megabytes and then stalls both directions). Memory per session is bounded by two read
//! buffers and one frame header.

use std::time::Duration;

use rfb_core::record::Direction;
use rfb_ws::{CloseCode, WsConnection, WsEvent};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::recorder::Recorder;

/// Bytes read from either side at a time (websockify's target read size).
pub(crate) const CHUNK: usize = 64 * 1024;

/// How long an ending session may spend delivering what it still owes either side.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How a relay ended, for the log.
#[derive(Debug)]
pub(crate) enum End {
    TargetClosed,
    ClientClosed { code: Option<u16> },
    ClientVanished,
    Protocol(String),
    Io(String),
    Shutdown,
}

/// Relays until either side ends. `initial` holds client bytes that arrived with the HTTP head.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn relay<C, T>(
    client: C,
    target: T,
    mut ws: WsConnection,
    initial: Vec<u8>,
    mut recorder: Option<Recorder>,
    heartbeat: Option<Duration>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> End
where
    C: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut tr, mut tw) = tokio::io::split(target);
    // Client bytes not yet parsed (partial frame headers stay here, bounded by a header).
    let mut cin: Vec<u8> = initial;
    let mut to_target: Vec<u8> = Vec::new();
    let mut to_client: Vec<u8> = Vec::new();
    let mut cbuf = vec![0u8; CHUNK];
    let mut tbuf = vec![0u8; CHUNK];
    let mut ticker = heartbeat.map(tokio::time::interval);
    if let Some(t) = ticker.as_mut() {
        t.reset();
    }
    let mut ending: Option<End> = None;
    let mut client_done = false;

    // Parse what arrived with the head before reading more.
    if let Err(e) = pump_client(
        &mut ws,
        &mut cin,
        &mut to_target,
        &mut to_client,
        &mut recorder,
    ) {
        ending = Some(e);
    }

    loop {
        if let Some(end) = &ending {
            // Drain what is owed to each side, then stop.
            // Both drains are bounded: a target that is itself stalled writing to us (we no
            // longer read it) would otherwise hold this session, its sockets and buffers
            // forever (found by `proxy-soak`'s slow readers).
            if !to_target.is_empty() && !matches!(end, End::Protocol(_)) {
                let drained = tokio::time::timeout(DRAIN_TIMEOUT, tw.write_all(&to_target)).await;
                if !matches!(drained, Ok(Ok(()))) {
                    return end_of(ending);
                }
                to_target.clear();
            }
            let _ = tw.shutdown().await;
            if !to_client.is_empty() {
                let _ = tokio::time::timeout(DRAIN_TIMEOUT, cw.write_all(&to_client)).await;
            }
            let _ = cw.shutdown().await;
            return end_of(ending);
        }
        tokio::select! {
            r = cr.read(&mut cbuf), if to_target.is_empty() && !client_done => match r {
                Ok(0) | Err(_) => {
                    client_done = true;
                    ending = Some(if ws.close_sent() || ws.is_closed() { End::ClientClosed { code: None } } else { End::ClientVanished });
                }
                Ok(n) => {
                    cin.extend_from_slice(&cbuf[..n]);
                    if let Err(e) = pump_client(&mut ws, &mut cin, &mut to_target, &mut to_client, &mut recorder) {
                        ending = Some(e);
                    }
                }
            },
            r = tr.read(&mut tbuf), if to_client.is_empty() => match r {
                Ok(0) => {
                    ws.send_close(CloseCode::Normal, "Target closed");
                    to_client.extend(ws.poll_transmit().unwrap_or_default());
                    ending = Some(End::TargetClosed);
                }
                Err(e) => {
                    ws.send_close(CloseCode::Internal, "Target connection error");
                    to_client.extend(ws.poll_transmit().unwrap_or_default());
                    ending = Some(End::Io(format!("target: {e}")));
                }
                Ok(n) => {
                    if let Some(r) = recorder.as_mut() {
                        r.frame(Direction::FromServer, &tbuf[..n]);
                    }
                    ws.send_binary(&tbuf[..n]);
                    to_client.extend(ws.poll_transmit().unwrap_or_default());
                }
            },
            r = tw.write(&to_target), if !to_target.is_empty() => match r {
                Ok(n) => { to_target.drain(..n); }
                Err(e) => {
                    ws.send_close(CloseCode::Internal, "Target connection error");
                    to_client.extend(ws.poll_transmit().unwrap_or_default());
                    ending = Some(End::Io(format!("target: {e}")));
                }
            },
            r = cw.write(&to_client), if !to_client.is_empty() => match r {
                Ok(n) => { to_client.drain(..n); }
                Err(e) => ending = Some(End::Io(format!("client: {e}"))),
            },
            _ = tick(&mut ticker) => {
                ws.send_ping(b"");
                to_client.extend(ws.poll_transmit().unwrap_or_default());
            },
            _ = shutdown.changed() => {
                ws.send_close(CloseCode::Away, "Proxy shutting down");
                to_client.extend(ws.poll_transmit().unwrap_or_default());
                ending = Some(End::Shutdown);
            },
        }
    }
}

fn end_of(e: Option<End>) -> End {
    e.unwrap_or(End::Shutdown)
}

async fn tick(t: &mut Option<tokio::time::Interval>) {
    match t {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Runs the WebSocket parser over `cin`, moving data to `to_target` and protocol replies to
/// `to_client`. Returns how the session must end, if it must.
fn pump_client(
    ws: &mut WsConnection,
    cin: &mut Vec<u8>,
    to_target: &mut Vec<u8>,
    to_client: &mut Vec<u8>,
    recorder: &mut Option<Recorder>,
) -> Result<(), End> {
    let r = ws.handle_input(cin);
    if let Some(out) = ws.poll_transmit() {
        to_client.extend(out);
    }
    let mut closed = None;
    while let Some(ev) = ws.poll_event() {
        match ev {
            WsEvent::Data { data, text, .. } => {
                if text {
                    // websockify: text frames are not supported (binary subprotocol only).
                    ws.send_close(CloseCode::Unsupported, "Text frames are not supported");
                    to_client.extend(ws.poll_transmit().unwrap_or_default());
                    return Err(End::Protocol("text frame".into()));
                }
                if let Some(r) = recorder.as_mut() {
                    r.frame(Direction::FromClient, &data);
                }
                to_target.extend_from_slice(&data);
            }
            WsEvent::Close { code, .. } => closed = Some(code.map(|c| c.to_u16())),
            _ => {}
        }
    }
    match r {
        Ok(n) => {
            cin.drain(..n);
        }
        Err(e) => return Err(End::Protocol(e.to_string())),
    }
    if let Some(code) = closed {
        if let Some(out) = ws.poll_transmit() {
            to_client.extend(out);
        }
        return Err(End::ClientClosed { code });
    }
    Ok(())
}
