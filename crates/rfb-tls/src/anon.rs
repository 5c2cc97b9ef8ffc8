//! Anonymous TLS through OpenSSL (feature `anon-openssl`, native drivers only).
//!
//! VeNCrypt's TLSNone/TLSVnc/TLSPlain (257–259) run TLS without certificates: servers in use
//! (TigerVNC's GnuTLS) negotiate TLS 1.2 `AECDH-AES256-SHA`. Such a channel encrypts but
//! authenticates nobody: a man in the middle can read everything, so prefer the X509 subtypes.
//! rustls has no anonymous cipher suites; OpenSSL does, at security level 0. The session runs
//! over memory buffers, so it is as sans-IO as the rustls one.

use std::io::{self, Read, Write};

use openssl::ssl::{ErrorCode, Ssl, SslContext, SslMethod, SslStream, SslVerifyMode, SslVersion};
use rfb_core::Error;
use rfb_core::security::{TlsConnector, TlsKind, Transform};

/// Cipher suites: anonymous (EC)DH only; level 0 because they are SHA-1 suites.
const CIPHERS: &str = "aNULL:!eNULL:@SECLEVEL=0";

/// OpenSSL-backed connector for [`TlsKind::Anonymous`].
#[derive(Debug, Default, Clone, Copy)]
pub struct AnonTlsConnector;

fn tls_err(what: &str, e: impl core::fmt::Display) -> Error {
    Error::Tls {
        detail: format!("{what}: {e}"),
    }
}

impl TlsConnector for AnonTlsConnector {
    fn supports(&self, kind: TlsKind) -> bool {
        kind == TlsKind::Anonymous
    }

    fn connect(&self, kind: TlsKind, to_server: &mut Vec<u8>) -> Result<Box<dyn Transform>, Error> {
        if kind != TlsKind::Anonymous {
            return Err(Error::Unsupported(
                "the OpenSSL connector only does anonymous TLS".into(),
            ));
        }
        let mut b =
            SslContext::builder(SslMethod::tls_client()).map_err(|e| tls_err("OpenSSL", e))?;
        b.set_cipher_list(CIPHERS)
            .map_err(|e| tls_err("anonymous cipher suites", e))?;
        // Anonymous suites do not exist in TLS 1.3.
        b.set_max_proto_version(Some(SslVersion::TLS1_2))
            .map_err(|e| tls_err("TLS version", e))?;
        b.set_verify(SslVerifyMode::NONE);
        let mut ssl = Ssl::new(&b.build()).map_err(|e| tls_err("OpenSSL", e))?;
        ssl.set_connect_state();
        let stream = SslStream::new(ssl, Mem::default()).map_err(|e| tls_err("OpenSSL", e))?;
        let mut t = AnonTransform {
            stream,
            handshaken: false,
            pending: Vec::new(),
        };
        t.pump(&mut Vec::new(), to_server)?;
        Ok(Box::new(t))
    }
}

/// The memory "socket": ciphertext received and to send.
#[derive(Debug, Default)]
struct Mem {
    incoming: Vec<u8>,
    outgoing: Vec<u8>,
}

impl Read for Mem {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.incoming.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.incoming.len());
        buf[..n].copy_from_slice(&self.incoming[..n]);
        self.incoming.drain(..n);
        Ok(n)
    }
}

impl Write for Mem {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outgoing.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct AnonTransform {
    stream: SslStream<Mem>,
    handshaken: bool,
    /// Plaintext queued before the handshake finished.
    pending: Vec<u8>,
}

impl AnonTransform {
    /// Advances the handshake, reads what can be decrypted, sends what is pending.
    fn pump(&mut self, plain: &mut Vec<u8>, to_server: &mut Vec<u8>) -> Result<(), Error> {
        if !self.handshaken {
            match self.stream.do_handshake() {
                Ok(()) => self.handshaken = true,
                Err(e) if e.code() == ErrorCode::WANT_READ => {}
                Err(e) => {
                    to_server.append(&mut self.stream.get_mut().outgoing);
                    return Err(tls_err("anonymous TLS handshake", e));
                }
            }
        }
        if self.handshaken {
            if !self.pending.is_empty() {
                let data = core::mem::take(&mut self.pending);
                self.stream
                    .write_all(&data)
                    .map_err(|e| tls_err("anonymous TLS write", e))?;
            }
            let mut buf = [0u8; 16 * 1024];
            loop {
                match self.stream.ssl_read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => plain.extend_from_slice(&buf[..n]),
                    Err(e) if e.code() == ErrorCode::WANT_READ => break,
                    Err(e) if e.code() == ErrorCode::ZERO_RETURN => break,
                    Err(e) => return Err(tls_err("anonymous TLS read", e)),
                }
            }
        }
        to_server.append(&mut self.stream.get_mut().outgoing);
        Ok(())
    }
}

impl Transform for AnonTransform {
    fn decrypt(
        &mut self,
        input: &[u8],
        plain: &mut Vec<u8>,
        to_server: &mut Vec<u8>,
    ) -> Result<usize, Error> {
        self.stream.get_mut().incoming.extend_from_slice(input);
        self.pump(plain, to_server)?;
        Ok(input.len())
    }

    fn encrypt(&mut self, plain: &[u8], to_server: &mut Vec<u8>) -> Result<(), Error> {
        self.pending.extend_from_slice(plain);
        if self.handshaken {
            let data = core::mem::take(&mut self.pending);
            self.stream
                .write_all(&data)
                .map_err(|e| tls_err("anonymous TLS write", e))?;
            to_server.append(&mut self.stream.get_mut().outgoing);
        }
        Ok(())
    }
}
