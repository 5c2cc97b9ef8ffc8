//! Moving bytes between the WebSocket client and the TCP/Unix target, with real
//! back-pressure: a side is read only when the buffer toward the other side is empty, so a
//! slow reader stalls its writer instead of making the proxy buffer (websockify buffers tens
//! of megabytes and then stalls both directions). Memory per session is bounded by two read
//! buffers and one frame header.
//!
//! The server → client direction is the bulk one (framebuffer updates): the target's bytes are
//! read into room left after a frame header, framed where they lie and written from there,
//! so user space copies nothing (copying them into a frame and then shifting out partial
//! writes was a third of the proxy's CPU time). The read buffer starts small, so that idle
//! sessions stay cheap, and grows while reads fill it.

use std::time::Duration;

use rfb_core::record::Direction;
use rfb_ws::{CloseCode, MAX_HEADER, WsConnection, WsEvent};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::recorder::Recorder;

/// Bytes read from the client at a time, and by the `--vnc-security` pump from either side
/// (websockify's read size); reads from the target use the growing buffer below.
pub(crate) const CHUNK: usize = 64 * 1024;

/// First and largest size of a session's read buffer toward the client. A read that fills
/// the buffer quadruples it for the next read, up to the largest: fewer, larger reads and
/// writes per byte for bulk updates, a small buffer for the many sessions that are idle.
const DOWN_FIRST: usize = 16 * 1024;
const DOWN_MAX: usize = 256 * 1024;

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
    // The target's bytes behind room for a frame header; `down` is the part of the frame in
    // it still owed to the client (sent before `to_client`, which holds only control frames
    // queued meanwhile, so a frame is never interrupted). Capacity, not length, is the
    // buffer's size: `read_buf` fills it without zeroing it first.
    let mut tbuf: Vec<u8> = Vec::with_capacity(DOWN_FIRST);
    let mut down = 0..0;
    let mut down_next = DOWN_FIRST;
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
            if !down.is_empty() || !to_client.is_empty() {
                let owed = async {
                    if !down.is_empty() {
                        cw.write_all(&tbuf[down.clone()]).await?;
                    }
                    cw.write_all(&to_client).await
                };
                let _ = tokio::time::timeout(DRAIN_TIMEOUT, owed).await;
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
            // One branch for everything toward the client: a frame in flight, then control
            // frames, and only then (back-pressure) the next read from the target.
            step = toward_client(&mut tr, &mut cw, &mut tbuf, &down, &to_client, down_next) => match step {
                Down::Wrote(Ok(0), _) => ending = Some(End::Io("client: wrote nothing".into())),
                Down::Wrote(Ok(n), true) => {
                    down.start += n;
                    if down.is_empty() {
                        // Stale offsets must not outlive the bytes: a read may clear `tbuf`.
                        down = 0..0;
                    }
                }
                Down::Wrote(Ok(n), false) => { to_client.drain(..n); }
                Down::Wrote(Err(e), _) => ending = Some(End::Io(format!("client: {e}"))),
                Down::Read(Ok(0)) => {
                    ws.send_close(CloseCode::Normal, "Target closed");
                    to_client.extend(ws.poll_transmit().unwrap_or_default());
                    ending = Some(End::TargetClosed);
                }
                Down::Read(Err(e)) => {
                    ws.send_close(CloseCode::Internal, "Target connection error");
                    to_client.extend(ws.poll_transmit().unwrap_or_default());
                    ending = Some(End::Io(format!("target: {e}")));
                }
                Down::Read(Ok(n)) => {
                    if let Some(r) = recorder.as_mut() {
                        r.frame(Direction::FromServer, &tbuf[MAX_HEADER..]);
                    }
                    if let Some(start) = ws.send_binary_in_place(&mut tbuf) {
                        down = start..tbuf.len();
                    }
                    if n == tbuf.capacity() - MAX_HEADER {
                        down_next = (down_next * 4).min(DOWN_MAX);
                    }
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

/// What [`toward_client`] did.
enum Down {
    /// Wrote to the client: from the frame in `tbuf` (true) or from the control frames.
    Wrote(std::io::Result<usize>, bool),
    /// Read from the target into `tbuf`, after room for a frame header.
    Read(std::io::Result<usize>),
}

/// The next step toward the client: write what is owed of the frame in `buf[down]`, else of
/// the control frames in `control`; when nothing is owed, read the target into `buf` after
/// room for a frame header, with a buffer of `size` bytes (a new one when it grew: the old
/// one's bytes were all sent).
async fn toward_client<R, W>(
    r: &mut R,
    w: &mut W,
    buf: &mut Vec<u8>,
    down: &std::ops::Range<usize>,
    control: &[u8],
    size: usize,
) -> Down
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if !down.is_empty() {
        return Down::Wrote(w.write(&buf[down.clone()]).await, true);
    }
    if !control.is_empty() {
        return Down::Wrote(w.write(control).await, false);
    }
    if buf.capacity() < size {
        *buf = Vec::with_capacity(size);
    }
    buf.clear();
    buf.resize(MAX_HEADER, 0);
    Down::Read(r.read_buf(buf).await)
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
