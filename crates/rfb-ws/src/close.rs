//! Close status codes (RFC 6455 §7.4).

use core::fmt;

/// A close status code; unregistered values are kept as [`CloseCode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseCode {
    /// 1000: normal closure.
    Normal,
    /// 1001: going away (server shutting down, page navigated away).
    Away,
    /// 1002: protocol error.
    Protocol,
    /// 1003: data of a type the endpoint cannot accept.
    Unsupported,
    /// 1005: no status code was present (never sent).
    NoStatus,
    /// 1006: closed without a close frame (never sent).
    Abnormal,
    /// 1007: invalid payload data (e.g. non-UTF-8 text).
    InvalidPayload,
    /// 1008: policy violation.
    Policy,
    /// 1009: message too big.
    TooBig,
    /// 1010: a required extension is missing.
    Extension,
    /// 1011: internal error (websockify: "Failed to connect to downstream server").
    Internal,
    /// 1015: TLS handshake failure (never sent).
    Tls,
    /// Any other value.
    Other(u16),
}

impl CloseCode {
    /// From the wire value.
    pub const fn from_u16(v: u16) -> Self {
        match v {
            1000 => Self::Normal,
            1001 => Self::Away,
            1002 => Self::Protocol,
            1003 => Self::Unsupported,
            1005 => Self::NoStatus,
            1006 => Self::Abnormal,
            1007 => Self::InvalidPayload,
            1008 => Self::Policy,
            1009 => Self::TooBig,
            1010 => Self::Extension,
            1011 => Self::Internal,
            1015 => Self::Tls,
            other => Self::Other(other),
        }
    }

    /// The wire value.
    pub const fn to_u16(self) -> u16 {
        match self {
            Self::Normal => 1000,
            Self::Away => 1001,
            Self::Protocol => 1002,
            Self::Unsupported => 1003,
            Self::NoStatus => 1005,
            Self::Abnormal => 1006,
            Self::InvalidPayload => 1007,
            Self::Policy => 1008,
            Self::TooBig => 1009,
            Self::Extension => 1010,
            Self::Internal => 1011,
            Self::Tls => 1015,
            Self::Other(v) => v,
        }
    }

    /// False for the codes that only describe a state and must never be on the wire.
    pub const fn may_be_sent(self) -> bool {
        !matches!(self, Self::NoStatus | Self::Abnormal | Self::Tls)
    }

    /// True for codes a peer may legitimately send: 1000–1003, 1007–1011 (and 1012–1014,
    /// registered later by IANA), 3000–4999.
    pub const fn is_valid_received(self) -> bool {
        matches!(self.to_u16(), 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "close code {}", self.to_u16())
    }
}
