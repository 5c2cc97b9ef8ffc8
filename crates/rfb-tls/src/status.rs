//! One session's progress as rfb-core's VeNCrypt sees it ([`TlsStatus`]): handshake done, an
//! unverified certificate and whether the application approved it.

use std::sync::Mutex;

use rfb_core::security::{ServerIdentity, TlsStatus};

#[derive(Debug, Default)]
struct Inner {
    established: bool,
    unverified: Option<ServerIdentity>,
    approved: bool,
}

/// Shared by a session's verifier (writes the certificate), transform (writes
/// `established`, reads whether it may send) and the security type (reads, approves).
#[derive(Debug, Default)]
pub(crate) struct Status(Mutex<Inner>);

impl Status {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        // A poisoned lock only means another thread panicked mid-update of plain flags;
        // the flags are still meaningful.
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// The verifier accepted a certificate nothing vouched for.
    pub(crate) fn set_unverified(
        &self,
        fingerprint: String,
        names: Option<(String, String)>,
        reason: String,
    ) {
        let (subject, issuer) = names.unzip();
        self.with(|i| {
            i.unverified = Some(ServerIdentity::X509 {
                fingerprint,
                subject,
                issuer,
                reason,
            });
        });
    }

    /// The handshake completed.
    pub(crate) fn set_established(&self) {
        self.with(|i| i.established = true);
    }

    /// True when application data may be sent: the certificate was verified by
    /// configuration, or the application approved it.
    pub(crate) fn may_send(&self) -> bool {
        self.with(|i| i.unverified.is_none() || i.approved)
    }
}

impl TlsStatus for Status {
    fn established(&self) -> bool {
        self.with(|i| i.established)
    }

    fn unverified(&self) -> Option<ServerIdentity> {
        self.with(|i| {
            if i.approved {
                None
            } else {
                i.unverified.clone()
            }
        })
    }

    fn approve(&self) {
        self.with(|i| i.approved = true);
    }
}
