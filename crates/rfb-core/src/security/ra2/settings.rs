//! What a driver configures for the RA2 types, and the factories that carry it.

use std::sync::{Arc, Mutex};

use super::keys::Ra2ClientKey;
use super::{Ra2, Variant};
use crate::security::{SecurityFactory, SecurityHandler, SecurityType};

/// What the driver configures for the RA2 types (shared by the four).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Ra2Settings {
    /// Accept only a server key with this SHA-256 fingerprint (of its wire bytes), without
    /// asking the driver; any other key fails with [`crate::Error::ServerKeyRejected`]. `None`
    /// asks with [`crate::Event::ServerVerification`].
    pub pinned_fingerprint: Option<[u8; 32]>,
    /// The client's key; `None` generates a [`super::DEFAULT_CLIENT_KEY_BITS`]-bit key with the
    /// driver's RNG when first needed, kept by the factories for later connections.
    pub client_key: Option<Ra2ClientKey>,
}

impl Ra2Settings {
    /// Settings pinning `fingerprint` (see [`super::parse_key_fingerprint`]).
    pub fn pinned(fingerprint: [u8; 32]) -> Self {
        Self {
            pinned_fingerprint: Some(fingerprint),
            client_key: None,
        }
    }

    /// Uses `key` as the client's key.
    pub fn with_client_key(mut self, key: Ra2ClientKey) -> Self {
        self.client_key = Some(key);
        self
    }

    /// One factory per RA2 type, sharing these settings and one client key; register each
    /// with [`crate::Client::register_security`].
    pub fn factories(self) -> Vec<Arc<dyn SecurityFactory>> {
        let shared = Arc::new(Shared {
            key: Mutex::new(self.client_key.clone()),
            settings: self,
        });
        [
            SecurityType::Ra2_256,
            SecurityType::Ra2,
            SecurityType::Ra2ne256,
            SecurityType::Ra2ne,
        ]
        .into_iter()
        .map(|security_type| {
            Arc::new(Ra2Factory {
                security_type,
                shared: shared.clone(),
            }) as Arc<dyn SecurityFactory>
        })
        .collect()
    }
}

#[derive(Debug)]
pub(super) struct Shared {
    pub(super) settings: Ra2Settings,
    /// The client key once known (given or generated), for every later connection.
    pub(super) key: Mutex<Option<Ra2ClientKey>>,
}

/// Makes handlers for one RA2 type; see [`Ra2Settings::factories`].
#[derive(Debug, Clone)]
pub struct Ra2Factory {
    security_type: SecurityType,
    shared: Arc<Shared>,
}

impl Ra2Factory {
    /// A factory for `t` (one of the four RA2 types; `None` for others).
    pub fn new(t: SecurityType, settings: Ra2Settings) -> Option<Self> {
        Variant::of(t)?;
        Some(Self {
            security_type: t,
            shared: Arc::new(Shared {
                key: Mutex::new(settings.client_key.clone()),
                settings,
            }),
        })
    }
}

impl SecurityFactory for Ra2Factory {
    fn security_type(&self) -> SecurityType {
        self.security_type
    }
    fn create(&self) -> Box<dyn SecurityHandler> {
        Box::new(Ra2::with_shared(self.security_type, self.shared.clone()))
    }
}
