//! Security types: one interface, one module per type.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#security-types>
//!
//! A [`SecurityHandler`] runs between the client's choice of type and SecurityResult. It reads
//! the server's bytes, writes replies, may ask the driver for credentials, and may finish by
//! installing a [`Transform`] (TLS, RA2's AES-EAX) that wraps all later traffic both ways.

mod ard;
mod identity;
mod mslogon2;
mod none;
mod plain;
mod ra2;
mod tight;
mod tls;
mod vencrypt;
mod vnc_auth;
mod xvp;

pub use ard::{AppleArd, ard_encrypt};
pub use identity::ServerIdentity;
pub use mslogon2::{MsLogonII, mod_pow, mslogon2_encrypt};
pub use none::NoneSecurity;
pub use plain::{Plain, plain_message};
pub use ra2::{
    DEFAULT_CLIENT_KEY_BITS, MAX_KEY_BITS, MIN_KEY_BITS, Ra2, Ra2ClientKey, Ra2Factory,
    Ra2Settings, format_key_fingerprint, key_fingerprint, parse_key_fingerprint,
};
pub(crate) use tight::CAPABILITY_LEN;
pub use tight::TightSecurity;
pub use tls::{TlsConnector, TlsKind, TlsSession, TlsStatus};
pub use vencrypt::{VeNCrypt, VeNCryptFactory, VeNCryptSubtype};
pub use vnc_auth::{VncAuth, vnc_auth_response};
pub use xvp::{Xvp, xvp_header};

use std::collections::VecDeque;

use rand_core::RngCore;

use crate::error::Error;
use crate::event::Event;
use crate::version::Version;

macro_rules! security_types {
    ($( $(#[$doc:meta])* $variant:ident = $num:expr, $name:literal; )*) => {
        /// A security type number (`U8` on the wire); unknown numbers are kept.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum SecurityType {
            $( $(#[$doc])* $variant, )*
            /// A number this client does not know.
            Unknown(u8),
        }

        impl SecurityType {
            /// Maps a wire number.
            pub const fn from_u8(n: u8) -> Self {
                match n { $( $num => Self::$variant, )* other => Self::Unknown(other) }
            }
            /// The wire number.
            pub const fn to_u8(self) -> u8 {
                match self { $( Self::$variant => $num, )* Self::Unknown(n) => n }
            }
            /// Lower-case name used on the command line.
            pub const fn name(self) -> &'static str {
                match self { $( Self::$variant => $name, )* Self::Unknown(_) => "unknown" }
            }
            /// Every named type.
            pub const ALL_NAMED: &'static [Self] = &[ $( Self::$variant, )* ];
        }
    };
}

security_types! {
    /// 0: the connection failed (a reason follows).
    Invalid = 0, "invalid";
    /// 1: no authentication.
    None = 1, "none";
    /// 2: VNC Authentication (DES challenge/response).
    VncAuth = 2, "vncauth";
    /// 5: RealVNC RSA-AES (RA2).
    Ra2 = 5, "ra2";
    /// 6: RealVNC RSA-AES without encryption (RA2ne).
    Ra2ne = 6, "ra2ne";
    /// 16: Tight.
    Tight = 16, "tight";
    /// 17: Ultra.
    Ultra = 17, "ultra";
    /// 18: TLS (anonymous, Vino).
    Tls = 18, "tls";
    /// 19: VeNCrypt.
    VeNCrypt = 19, "vencrypt";
    /// 20: GTK-VNC SASL.
    Sasl = 20, "sasl";
    /// 21: MD5 hash.
    Md5Hash = 21, "md5hash";
    /// 22: xvp (Colin Dean).
    Xvp = 22, "xvp";
    /// 30: Apple Remote Desktop (Diffie-Hellman).
    AppleArd = 30, "ard";
    /// 113: UltraVNC MSLogonII.
    MsLogonII = 113, "mslogon2";
    /// 129: RA2 with 256-bit keys.
    Ra2_256 = 129, "ra2-256";
    /// 130: RA2ne with 256-bit keys.
    Ra2ne256 = 130, "ra2ne-256";
}

impl SecurityType {
    /// Parses a name as printed by [`SecurityType::name`], or a decimal number.
    pub fn from_name(s: &str) -> Option<Self> {
        if let Ok(n) = s.parse::<u8>() {
            return Some(Self::from_u8(n));
        }
        Self::ALL_NAMED.iter().copied().find(|t| t.name() == s)
    }
}

impl core::fmt::Display for SecurityType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unknown(n) => write!(f, "unknown({n})"),
            t => write!(f, "{}({})", t.name(), t.to_u8()),
        }
    }
}

/// Which credential fields the server's security type needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CredentialsNeeded {
    /// A user name.
    pub username: bool,
    /// A password.
    pub password: bool,
    /// A target (a machine behind a gateway, as in xvp).
    pub target: bool,
}

/// Credentials supplied by the driver after [`Event::CredentialsRequired`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Target.
    pub target: Option<String>,
}

impl core::fmt::Debug for Credentials {
    // Never print a password, even in debug logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("target", &self.target)
            .finish()
    }
}

/// A byte transform wrapping all traffic after security (TLS, AES-EAX).
pub trait Transform: Send {
    /// Turns bytes from the server into plaintext appended to `plain`; bytes the transform
    /// itself must send back (TLS alerts, key updates) go to `to_server`. Returns the input
    /// consumed.
    fn decrypt(
        &mut self,
        input: &[u8],
        plain: &mut Vec<u8>,
        to_server: &mut Vec<u8>,
    ) -> Result<usize, Error>;
    /// Wraps plaintext for the server, appending the wire bytes to `to_server`.
    fn encrypt(&mut self, plain: &[u8], to_server: &mut Vec<u8>) -> Result<(), Error>;
}

/// What a security handler can touch while it runs.
pub struct SecurityContext<'a> {
    /// Bytes to send to the server.
    pub to_server: &'a mut Vec<u8>,
    /// Events for the driver.
    pub events: &'a mut VecDeque<Event>,
    /// Randomness, injected by the driver.
    pub rng: &'a mut dyn RngCore,
    /// The negotiated protocol version.
    pub version: Version,
}

/// The outcome of one step of a security handler.
pub enum SecurityStep {
    /// More input is needed: `consumed` bytes were used, at least `needed` more must follow
    /// (0 when waiting for credentials rather than bytes).
    NeedMore {
        /// Bytes used.
        consumed: usize,
        /// Bytes needed before the next step can progress.
        needed: usize,
    },
    /// Install `transform` now and keep running this handler: the rest of the input is
    /// ciphertext, and the handler's later input and output are the plaintext inside it
    /// (VeNCrypt runs its inner authentication inside TLS).
    Wrap {
        /// Bytes used before the transform starts.
        consumed: usize,
        /// The transform for all later traffic.
        transform: Box<dyn Transform>,
        /// Plaintext bytes needed before the handler can progress.
        needed: usize,
    },
    /// The type's own exchange is over; SecurityResult (or ClientInit) follows.
    Done {
        /// Bytes used.
        consumed: usize,
        /// A transform for all later traffic (`None` keeps one installed by
        /// [`SecurityStep::Wrap`]).
        transform: Option<Box<dyn Transform>>,
        /// True when this version of the protocol expects a SecurityResult next.
        expect_result: bool,
    },
}

/// One security type's client side.
pub trait SecurityHandler: Send {
    /// The type implemented.
    fn security_type(&self) -> SecurityType;
    /// Called once the type is chosen; may emit a credentials request.
    fn start(&mut self, cx: &mut SecurityContext<'_>) -> Result<SecurityStep, Error>;
    /// Feeds server bytes.
    fn handle_input(
        &mut self,
        input: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error>;
    /// Receives the credentials the driver was asked for.
    fn supply_credentials(
        &mut self,
        credentials: &Credentials,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error>;
    /// The application accepted the identity this handler raised as
    /// [`Event::ServerVerification`]; types that never raise it keep this default.
    fn approve_server(&mut self, _cx: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        Err(Error::ApiMisuse(
            "no server identity is waiting for approval",
        ))
    }
    /// The application refused the identity raised as [`Event::ServerVerification`]: the
    /// fatal error to end the connection with (a type names what it rejected). The default is
    /// misuse, for types that never raise an identity.
    fn reject_server(&mut self) -> Error {
        Error::ApiMisuse("no server identity is waiting for approval")
    }
}

/// Makes handlers for one security type; register extra ones with
/// [`crate::Client::register_security`].
pub trait SecurityFactory: Send + Sync {
    /// The type this factory makes handlers for.
    fn security_type(&self) -> SecurityType;
    /// A fresh handler for one connection.
    fn create(&self) -> Box<dyn SecurityHandler>;
}

/// Built-in handler for `t`, if this crate implements it.
pub(crate) fn builtin(t: SecurityType) -> Option<Box<dyn SecurityHandler>> {
    match t {
        SecurityType::None => Some(Box::new(NoneSecurity)),
        SecurityType::VncAuth => Some(Box::new(VncAuth::default())),
        SecurityType::Tight => Some(Box::new(TightSecurity::default())),
        SecurityType::Xvp => Some(Box::new(Xvp::default())),
        SecurityType::MsLogonII => Some(Box::new(MsLogonII::default())),
        SecurityType::AppleArd => Some(Box::new(AppleArd::default())),
        SecurityType::Ra2
        | SecurityType::Ra2ne
        | SecurityType::Ra2_256
        | SecurityType::Ra2ne256 => Ra2::new(t).map(|h| Box::new(h) as Box<dyn SecurityHandler>),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        for &t in SecurityType::ALL_NAMED {
            assert_eq!(SecurityType::from_u8(t.to_u8()), t);
            assert_eq!(SecurityType::from_name(t.name()), Some(t));
        }
        assert_eq!(SecurityType::from_u8(200), SecurityType::Unknown(200));
        assert_eq!(SecurityType::from_name("19"), Some(SecurityType::VeNCrypt));
        let c = Credentials {
            password: Some("hunter2".into()),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
