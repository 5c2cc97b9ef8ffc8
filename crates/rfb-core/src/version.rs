//! ProtocolVersion handshake: parsing the server's string and choosing ours.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#protocolversion>

use crate::error::Error;

/// Length of `RFB xxx.yyy\n`.
pub const VERSION_LEN: usize = 12;

/// The protocol versions a client can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// RFB 3.3: the server picks the security type.
    V3_3,
    /// RFB 3.7: security type list, no failure reason after SecurityResult.
    V3_7,
    /// RFB 3.8: SecurityResult for every type, with a reason on failure.
    V3_8,
}

impl Version {
    /// The 12 bytes the client sends.
    pub const fn wire(self) -> &'static [u8; VERSION_LEN] {
        match self {
            Self::V3_3 => b"RFB 003.003\n",
            Self::V3_7 => b"RFB 003.007\n",
            Self::V3_8 => b"RFB 003.008\n",
        }
    }
}

impl core::fmt::Display for Version {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::V3_3 => "3.3",
            Self::V3_7 => "3.7",
            Self::V3_8 => "3.8",
        })
    }
}

/// What the server's version string asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerVersion {
    /// A real server offering `major.minor`, which maps to the version we will speak.
    Rfb {
        /// The server's major number.
        major: u16,
        /// The server's minor number.
        minor: u16,
        /// The version the client chooses.
        chosen: Version,
    },
    /// `RFB 000.000`: an UltraVNC repeater that wants an ID before the real server answers.
    Repeater,
}

/// Parses the 12-byte version message and maps it as rfbproto says: 3.3 ≤ v < 3.7 → 3.3,
/// 3.7 → 3.7, ≥ 3.8 (3.889 from Apple, 4.x, 5.x) → 3.8; anything else is an error naming it.
pub fn parse_server_version(b: &[u8; VERSION_LEN]) -> Result<ServerVersion, Error> {
    let bad = || {
        Error::invalid(
            "ProtocolVersion",
            "version string",
            format!("{:?} is not `RFB xxx.yyy\\n`", String::from_utf8_lossy(b)),
        )
    };
    if &b[..4] != b"RFB " || b[7] != b'.' || b[11] != b'\n' {
        return Err(bad());
    }
    let num = |d: &[u8]| -> Option<u16> {
        d.iter().try_fold(0u16, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u16::from(c - b'0'))
        })
    };
    let (Some(major), Some(minor)) = (num(&b[4..7]), num(&b[8..11])) else {
        return Err(bad());
    };
    let chosen = match (major, minor) {
        (0, 0) => return Ok(ServerVersion::Repeater),
        (3, 3..=6) => Version::V3_3,
        (3, 7) => Version::V3_7,
        (3, _) if minor >= 8 => Version::V3_8,
        (m, _) if m >= 4 => Version::V3_8,
        _ => {
            return Err(Error::Unsupported(format!(
                "server protocol version {major}.{minor} (this client speaks 3.3, 3.7 and 3.8)"
            )));
        }
    };
    Ok(ServerVersion::Rfb {
        major,
        minor,
        chosen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ServerVersion, Error> {
        parse_server_version(s.as_bytes().try_into().unwrap())
    }

    fn chosen(s: &str) -> Version {
        match parse(s).unwrap() {
            ServerVersion::Rfb { chosen, .. } => chosen,
            ServerVersion::Repeater => panic!("repeater"),
        }
    }

    #[test]
    fn real_server_strings() {
        assert_eq!(chosen("RFB 003.003\n"), Version::V3_3);
        assert_eq!(chosen("RFB 003.005\n"), Version::V3_3);
        assert_eq!(chosen("RFB 003.006\n"), Version::V3_3);
        assert_eq!(chosen("RFB 003.007\n"), Version::V3_7);
        assert_eq!(chosen("RFB 003.008\n"), Version::V3_8);
        assert_eq!(chosen("RFB 003.889\n"), Version::V3_8);
        assert_eq!(chosen("RFB 004.000\n"), Version::V3_8);
        assert_eq!(chosen("RFB 004.001\n"), Version::V3_8);
        assert_eq!(chosen("RFB 005.000\n"), Version::V3_8);
        assert_eq!(parse("RFB 000.000\n").unwrap(), ServerVersion::Repeater);
    }

    #[test]
    fn malformed_strings_are_named() {
        for s in [
            "RFB 003.00x\n",
            "XYZ 003.008\n",
            "RFB 003.008 ",
            "RFB 003,008\n",
            "RFB -03.008\n",
        ] {
            let e = parse(s).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidMessage {
                        message: "ProtocolVersion",
                        ..
                    }
                ),
                "{s:?}: {e}"
            );
        }
        assert!(matches!(parse("RFB 002.000\n"), Err(Error::Unsupported(_))));
        assert!(matches!(parse("RFB 003.002\n"), Err(Error::Unsupported(_))));
    }
}
