//! rustls's unbuffered client driven as an rfb-core [`Transform`].
//!
//! Ciphertext from the server is kept until rustls has whole records; plaintext the client
//! queues before the handshake completes (Plain credentials) waits here and is encrypted as
//! soon as rustls allows application data. rustls checks record sizes (at most 16 KiB of
//! plaintext plus overhead), which bounds `incoming`.

use rfb_core::Error;
use rfb_core::security::Transform;
use rustls::client::UnbufferedClientConnection;
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, UnbufferedStatus};

use std::sync::Arc;

use crate::status::Status;
use crate::verify::Slot;

/// Room for one TLS record with its overhead; grown when rustls asks for more.
const RECORD_ROOM: usize = 16 * 1024 + 512;

/// One TLS client session.
pub(crate) struct TlsTransform {
    conn: UnbufferedClientConnection,
    incoming: Vec<u8>,
    /// Plaintext waiting for the handshake to finish.
    pending: Vec<u8>,
    /// Plaintext decrypted while encrypting (handed out by the next `decrypt`).
    backlog: Vec<u8>,
    slot: Slot,
    /// Handshake progress and the application's approval of the certificate.
    status: Arc<Status>,
    peer_closed: bool,
}

impl TlsTransform {
    pub(crate) fn new(conn: UnbufferedClientConnection, slot: Slot, status: Arc<Status>) -> Self {
        Self {
            conn,
            incoming: Vec::new(),
            pending: Vec::new(),
            backlog: Vec::new(),
            slot,
            status,
            peer_closed: false,
        }
    }

    /// Emits the ClientHello.
    pub(crate) fn start(&mut self, to_server: &mut Vec<u8>) -> Result<(), Error> {
        let mut plain = Vec::new();
        self.drive(&mut plain, to_server)?;
        self.backlog.extend_from_slice(&plain);
        Ok(())
    }

    fn error(&self, e: rustls::Error) -> Error {
        if let Ok(mut slot) = self.slot.lock()
            && let Some(r) = slot.take()
        {
            return Error::CertificateRejected {
                reason: r.reason,
                fingerprint: r.fingerprint,
            };
        }
        Error::Tls {
            detail: e.to_string(),
        }
    }

    /// Runs rustls until it needs more input: decrypted data goes to `plain`, records to send
    /// go to `to_server`, and pending plaintext is encrypted once allowed.
    fn drive(&mut self, plain: &mut Vec<u8>, to_server: &mut Vec<u8>) -> Result<(), Error> {
        // Each pass consumes input or produces output; the bound turns a logic error into an
        // error instead of a hang.
        for _ in 0..10_000 {
            let UnbufferedStatus { mut discard, state } =
                self.conn.process_tls_records(&mut self.incoming);
            let state = match state {
                Ok(s) => s,
                Err(e) => {
                    let e = self.error_from(e);
                    return Err(e);
                }
            };
            let mut stop = false;
            match state {
                ConnectionState::ReadTraffic(mut r) => {
                    while let Some(rec) = r.next_record() {
                        let rec = rec.map_err(|e| Error::Tls {
                            detail: e.to_string(),
                        })?;
                        discard += rec.discard;
                        plain.extend_from_slice(rec.payload);
                    }
                }
                ConnectionState::EncodeTlsData(mut e) => {
                    let mut buf = vec![0u8; RECORD_ROOM];
                    loop {
                        match e.encode(&mut buf) {
                            Ok(n) => {
                                to_server.extend_from_slice(&buf[..n]);
                                break;
                            }
                            Err(EncodeError::InsufficientSize(s)) => {
                                buf.resize(s.required_size, 0);
                            }
                            Err(EncodeError::AlreadyEncoded) => break,
                        }
                    }
                }
                ConnectionState::TransmitTlsData(t) => t.done(),
                ConnectionState::BlockedHandshake => stop = true,
                ConnectionState::WriteTraffic(mut w) => {
                    self.status.set_established();
                    // An unapproved certificate keeps plaintext (credentials) here.
                    if !self.pending.is_empty() && self.status.may_send() {
                        let data = core::mem::take(&mut self.pending);
                        seal(&mut w, &data, to_server)?;
                    }
                    stop = true;
                }
                ConnectionState::PeerClosed | ConnectionState::Closed => {
                    self.peer_closed = true;
                    stop = true;
                }
                other => {
                    return Err(Error::Tls {
                        detail: format!("unexpected TLS state {other:?}"),
                    });
                }
            }
            self.incoming.drain(..discard);
            if stop {
                return Ok(());
            }
        }
        Err(Error::Tls {
            detail: "the TLS session made no progress".into(),
        })
    }

    fn error_from(&self, e: rustls::Error) -> Error {
        self.error(e)
    }
}

/// Encrypts `data` as application records.
fn seal(
    w: &mut rustls::unbuffered::WriteTraffic<'_, rustls::client::ClientConnectionData>,
    data: &[u8],
    to_server: &mut Vec<u8>,
) -> Result<(), Error> {
    let mut buf = vec![0u8; data.len() + RECORD_ROOM];
    loop {
        match w.encrypt(data, &mut buf) {
            Ok(n) => {
                to_server.extend_from_slice(&buf[..n]);
                return Ok(());
            }
            Err(EncryptError::InsufficientSize(s)) => buf.resize(s.required_size, 0),
            Err(e) => {
                return Err(Error::Tls {
                    detail: format!("cannot encrypt: {e}"),
                });
            }
        }
    }
}

impl Transform for TlsTransform {
    fn decrypt(
        &mut self,
        input: &[u8],
        plain: &mut Vec<u8>,
        to_server: &mut Vec<u8>,
    ) -> Result<usize, Error> {
        plain.append(&mut self.backlog);
        if self.peer_closed {
            // After close_notify nothing more is plaintext; the driver sees the EOF next.
            return Ok(input.len());
        }
        self.incoming.extend_from_slice(input);
        self.drive(plain, to_server)?;
        Ok(input.len())
    }

    fn encrypt(&mut self, plain: &[u8], to_server: &mut Vec<u8>) -> Result<(), Error> {
        self.pending.extend_from_slice(plain);
        let mut got = Vec::new();
        let r = self.drive(&mut got, to_server);
        self.backlog.extend_from_slice(&got);
        r
    }
}
