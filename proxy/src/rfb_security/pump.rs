//! After SecurityResult: relays the session both ways, server bytes through the security
//! type's [`Transform`] decrypt and browser bytes through its encrypt (plain copies when the
//! type installed none). Back-pressure as in `relay.rs`: a side is read only when the buffer
//! toward the other side is empty, so memory per session stays at two read buffers plus one
//! TLS record.

use rfb_core::security::Transform;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::relay::CHUNK;

/// Wraps browser plaintext for the server.
fn seal(
    t: &mut Option<Box<dyn Transform>>,
    plain: &[u8],
    to_server: &mut Vec<u8>,
    to_browser: &mut Vec<u8>,
) -> Result<(), String> {
    match t {
        Some(t) => {
            t.encrypt(plain, to_server).map_err(|e| e.to_string())?;
            // rustls may decrypt records while encrypting; they come out of the next decrypt.
            t.decrypt(&[], to_browser, to_server)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        None => {
            to_server.extend_from_slice(plain);
            Ok(())
        }
    }
}

/// Unwraps server bytes for the browser.
fn open(
    t: &mut Option<Box<dyn Transform>>,
    wire: &[u8],
    to_browser: &mut Vec<u8>,
    to_server: &mut Vec<u8>,
) -> Result<(), String> {
    match t {
        Some(t) => {
            // Transforms keep partial records themselves and consume everything.
            t.decrypt(wire, to_browser, to_server)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        None => {
            to_browser.extend_from_slice(wire);
            Ok(())
        }
    }
}

/// How the relay ended, for the log.
#[derive(Debug)]
pub(crate) enum PumpEnd {
    ServerClosed,
    BrowserClosed,
    Failed(String),
}

impl core::fmt::Display for PumpEnd {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::ServerClosed => f.write_str("the VNC server closed"),
            Self::BrowserClosed => f.write_str("the browser side closed"),
            Self::Failed(e) => f.write_str(e),
        }
    }
}

/// Relays until either side ends. `to_server`/`to_browser` start with bytes owed from the
/// handshake (already wire-ready and plaintext respectively); `server_raw` holds server bytes
/// read but not yet unwrapped.
pub(crate) async fn pump<B, S>(
    browser: B,
    server: S,
    mut transform: Option<Box<dyn Transform>>,
    mut to_server: Vec<u8>,
    mut to_browser: Vec<u8>,
    server_raw: Vec<u8>,
) -> PumpEnd
where
    B: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut br, mut bw) = tokio::io::split(browser);
    let (mut sr, mut sw) = tokio::io::split(server);
    if let Err(e) = open(&mut transform, &server_raw, &mut to_browser, &mut to_server) {
        return PumpEnd::Failed(format!("VNC server: {e}"));
    }
    let mut bbuf = vec![0u8; CHUNK];
    let mut sbuf = vec![0u8; CHUNK];
    let mut ending: Option<PumpEnd> = None;
    loop {
        if let Some(end) = ending {
            // Hand each side what it is owed, then close both.
            if !to_server.is_empty() {
                let _ = sw.write_all(&to_server).await;
            }
            let _ = sw.shutdown().await;
            if !to_browser.is_empty() {
                let _ = bw.write_all(&to_browser).await;
            }
            let _ = bw.shutdown().await;
            return end;
        }
        tokio::select! {
            r = br.read(&mut bbuf), if to_server.is_empty() => match r {
                Ok(0) | Err(_) => ending = Some(PumpEnd::BrowserClosed),
                Ok(n) => if let Err(e) = seal(&mut transform, &bbuf[..n], &mut to_server, &mut to_browser) {
                    ending = Some(PumpEnd::Failed(format!("VNC server: {e}")));
                },
            },
            r = sr.read(&mut sbuf), if to_browser.is_empty() => match r {
                Ok(0) => ending = Some(PumpEnd::ServerClosed),
                Err(e) => ending = Some(PumpEnd::Failed(format!("VNC server: {e}"))),
                Ok(n) => if let Err(e) = open(&mut transform, &sbuf[..n], &mut to_browser, &mut to_server) {
                    ending = Some(PumpEnd::Failed(format!("VNC server: {e}")));
                },
            },
            r = sw.write(&to_server), if !to_server.is_empty() => match r {
                Ok(n) => { to_server.drain(..n); }
                Err(e) => ending = Some(PumpEnd::Failed(format!("VNC server: {e}"))),
            },
            r = bw.write(&to_browser), if !to_browser.is_empty() => match r {
                Ok(n) => { to_browser.drain(..n); }
                Err(_) => ending = Some(PumpEnd::BrowserClosed),
            },
        }
    }
}
