//! Handshake steps: ProtocolVersion, security negotiation, SecurityResult, ClientInit and
//! ServerInit.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#handshake-messages>

use nom::Err as NomErr;
use nom::Needed;
use nom::number::streaming::{be_u32, u8 as be_u8};
use rfb_encodings::{DrawTarget, Rect};

use crate::client::{Client, State, Step};
use crate::config::PixelFormatChoice;
use crate::error::Error;
use crate::event::{Event, ServerInfo};
use crate::messages::{client as msg, server};
use crate::security::SecurityType;
use crate::session::Session;
use crate::version::{ServerVersion, VERSION_LEN, Version, parse_server_version};

/// Length of the UltraVNC repeater ID block.
const REPEATER_ID_LEN: usize = 250;

/// Turns a streaming parser's `Incomplete` into "blocked, need n more".
pub(crate) fn need<T>(
    r: nom::IResult<&[u8], T>,
    input_len: usize,
    needed: &mut usize,
    message: &'static str,
) -> Result<Option<(usize, T)>, Error> {
    match r {
        Ok((rest, v)) => Ok(Some((input_len - rest.len(), v))),
        Err(NomErr::Incomplete(n)) => {
            *needed = input_len
                + match n {
                    Needed::Size(s) => s.get(),
                    Needed::Unknown => 1,
                };
            Ok(None)
        }
        Err(e) => Err(Error::invalid(message, "structure", format!("{e:?}"))),
    }
}

impl Client {
    pub(crate) fn phase_name(&self) -> &'static str {
        match self.state {
            State::Version => "ProtocolVersion",
            State::SecurityTypes | State::SecurityType33 | State::FailureReason { .. } => {
                "security negotiation"
            }
            State::Security(_) => "authentication",
            State::SecurityResult => "SecurityResult",
            State::Authenticated => "handover after security",
            State::ServerInit => "ServerInit",
            State::Session(_) => "session",
            State::Failed => "failed connection",
        }
    }

    pub(crate) fn handshake_step(&mut self, input: &[u8], target: &mut dyn DrawTarget) -> Step {
        match &mut self.state {
            State::Version => self.version_step(input),
            State::SecurityTypes => self.security_types_step(input),
            State::SecurityType33 => self.security_type33_step(input),
            State::FailureReason { after_result } => {
                let after_result = *after_result;
                self.failure_reason_step(input, after_result)
            }
            State::Security(_) => {
                let State::Security(h) = core::mem::replace(&mut self.state, State::Failed) else {
                    return Ok(None);
                };
                self.with_security(h, |h, cx| h.handle_input(input, cx))
            }
            State::SecurityResult => self.security_result_step(input),
            State::ServerInit => self.server_init_step(input, target),
            State::Authenticated | State::Session(_) | State::Failed => Ok(None),
        }
    }

    fn version_step(&mut self, input: &[u8]) -> Step {
        let Some(b) = input.get(..VERSION_LEN) else {
            self.needed = VERSION_LEN;
            return Ok(None);
        };
        let mut v = [0u8; VERSION_LEN];
        v.copy_from_slice(b);
        match parse_server_version(&v)? {
            ServerVersion::Repeater => {
                let Some(id) = self.config.repeater_id.clone() else {
                    return Err(Error::Unsupported(
                        "the server is an UltraVNC repeater (RFB 000.000); set a repeater ID"
                            .into(),
                    ));
                };
                // The ID goes out NUL-padded (or cut) to 250 bytes; the real server's version
                // string follows once the repeater has connected us.
                let mut block = [0u8; REPEATER_ID_LEN];
                let n = id.len().min(REPEATER_ID_LEN);
                block[..n].copy_from_slice(&id.as_bytes()[..n]);
                self.queue(&block);
                self.needed = VERSION_LEN;
                Ok(Some(VERSION_LEN))
            }
            ServerVersion::Rfb { chosen, .. } => {
                self.server_version = String::from_utf8_lossy(&v[..11]).into_owned();
                self.version = Some(chosen);
                self.queue(chosen.wire());
                self.events.push_back(Event::ProtocolVersion {
                    server: self.server_version.clone(),
                    version: chosen,
                });
                self.state = if chosen == Version::V3_3 {
                    self.needed = 4;
                    State::SecurityType33
                } else {
                    self.needed = 1;
                    State::SecurityTypes
                };
                Ok(Some(VERSION_LEN))
            }
        }
    }

    fn security_types_step(&mut self, input: &[u8]) -> Step {
        let Some((_, count)) = need(be_u8(input), input.len(), &mut self.needed, "SecurityTypes")?
        else {
            return Ok(None);
        };
        if count == 0 {
            self.state = State::FailureReason {
                after_result: false,
            };
            self.needed = 4;
            return Ok(Some(1));
        }
        let total = 1 + usize::from(count);
        let Some(list) = input.get(1..total) else {
            self.needed = total;
            return Ok(None);
        };
        self.offered = list.iter().map(|&t| SecurityType::from_u8(t)).collect();
        self.events
            .push_back(Event::SecurityTypes(self.offered.clone()));
        let chosen = self
            .config
            .security_types
            .iter()
            .copied()
            .find(|t| self.offered.contains(t) && self.handler_for(*t).is_some());
        let Some(t) = chosen else {
            return Err(self.no_common_type());
        };
        self.queue(&[t.to_u8()]);
        self.start_security(t)?;
        Ok(Some(total))
    }

    fn no_common_type(&self) -> Error {
        let names = |v: &[SecurityType]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        Error::Unsupported(format!(
            "no common security type: the server offers [{}], this client accepts [{}]",
            names(&self.offered),
            names(&self.config.security_types)
        ))
    }

    fn security_type33_step(&mut self, input: &[u8]) -> Step {
        let Some((n, t)) = need(be_u32(input), input.len(), &mut self.needed, "SecurityType")?
        else {
            return Ok(None);
        };
        if t == 0 {
            self.state = State::FailureReason {
                after_result: false,
            };
            self.needed = 4;
            return Ok(Some(n));
        }
        let Ok(t8) = u8::try_from(t) else {
            return Err(Error::invalid(
                "SecurityType (3.3)",
                "security-type",
                format!("{t} is not a security type"),
            ));
        };
        let t = SecurityType::from_u8(t8);
        self.offered = vec![t];
        self.events
            .push_back(Event::SecurityTypes(self.offered.clone()));
        if !self.config.security_types.contains(&t) || self.handler_for(t).is_none() {
            return Err(self.no_common_type());
        }
        self.start_security(t)?;
        Ok(Some(n))
    }

    fn start_security(&mut self, t: SecurityType) -> Result<(), Error> {
        self.chosen = Some(t);
        let Some(h) = self.handler_for(t) else {
            return Err(self.no_common_type());
        };
        self.with_security(h, |h, cx| h.start(cx)).map(|_| ())
    }

    fn failure_reason_step(&mut self, input: &[u8], after_result: bool) -> Step {
        let Some((_, len)) = need(
            be_u32(input),
            input.len(),
            &mut self.needed,
            "failure reason",
        )?
        else {
            return Ok(None);
        };
        let max = self.config.limits.max_string;
        if len > max {
            return Err(Error::LimitExceeded {
                message: "security failure",
                field: "reason-length",
                value: u64::from(len),
                limit: u64::from(max),
            });
        }
        let total = 4 + len as usize;
        let Some(text) = input.get(4..total) else {
            self.needed = total;
            return Ok(None);
        };
        let reason = String::from_utf8_lossy(text).into_owned();
        Err(if after_result {
            Error::AuthFailed { reason }
        } else {
            Error::ConnectionRefused { reason }
        })
    }

    fn security_result_step(&mut self, input: &[u8]) -> Step {
        let Some((n, r)) = need(
            be_u32(input),
            input.len(),
            &mut self.needed,
            "SecurityResult",
        )?
        else {
            return Ok(None);
        };
        if r == 0 {
            self.events.push_back(Event::SecurityResultOk);
            self.begin_init();
            return Ok(Some(n));
        }
        if r > 2 {
            // Only 0 (OK), 1 (failed) and 2 (failed, too many attempts) exist. Anything else
            // is a server writing something else where the result belongs (x11vnc writes
            // "unixpw failed" here): the authentication failed, and no reason length follows.
            let b = r.to_be_bytes();
            let text = if b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
                format!(
                    " (text {:?} where the result code belongs)",
                    String::from_utf8_lossy(&b)
                )
            } else {
                String::new()
            };
            return Err(Error::AuthFailed {
                reason: format!("the server answered SecurityResult with {r:#010x}{text}"),
            });
        }
        if self.version == Some(Version::V3_8) {
            self.state = State::FailureReason { after_result: true };
            self.needed = 4;
            Ok(Some(n))
        } else {
            Err(Error::AuthFailed {
                reason: format!(
                    "the server rejected the credentials (RFB {} sends no reason)",
                    self.version.unwrap_or(Version::V3_3)
                ),
            })
        }
    }

    /// Sends ClientInit and waits for ServerInit.
    pub(crate) fn begin_init(&mut self) {
        if self.stop_after_security {
            // Handshake-only mode: the driver takes the stream over (crate::handover).
            self.state = State::Authenticated;
            self.needed = 0;
            return;
        }
        let mut b = Vec::with_capacity(1);
        msg::client_init(&mut b, self.config.shared);
        self.queue(&b);
        self.state = State::ServerInit;
        self.needed = 24;
    }

    fn server_init_step(&mut self, input: &[u8], target: &mut dyn DrawTarget) -> Step {
        let Some((hdr, (w, h, server_pf, name_len))) = need(
            server::server_init(input),
            input.len(),
            &mut self.needed,
            "ServerInit",
        )?
        else {
            return Ok(None);
        };
        let limits = self.config.limits;
        if name_len > limits.max_string {
            return Err(Error::LimitExceeded {
                message: "ServerInit",
                field: "name-length",
                value: u64::from(name_len),
                limit: u64::from(limits.max_string),
            });
        }
        let name_end = hdr + name_len as usize;
        let Some(name) = input.get(hdr..name_end) else {
            self.needed = name_end;
            return Ok(None);
        };
        let Some(total) = self.tight_init_len(input, name_end)? else {
            return Ok(None);
        };
        self.check_size("ServerInit", w, h)?;
        let name = String::from_utf8_lossy(name).into_owned();
        let pf = match self.config.pixel_format {
            PixelFormatChoice::Native => server_pf,
            PixelFormatChoice::Request(pf) => pf,
        };
        self.decoders
            .set_pixel_format(pf)
            .map_err(|source| Error::PixelFormat {
                message: match self.config.pixel_format {
                    PixelFormatChoice::Native => "ServerInit pixel format",
                    PixelFormatChoice::Request(_) => "requested pixel format",
                },
                source,
            })?;
        self.width = w;
        self.height = h;
        target.resize(w, h);
        if let PixelFormatChoice::Request(pf) = self.config.pixel_format {
            let mut b = Vec::new();
            msg::set_pixel_format(&mut b, &pf);
            self.queue(&b);
        }
        let mut b = Vec::new();
        msg::set_encodings(&mut b, &self.config.encodings);
        self.queue(&b);
        self.decoders
            .set_quality_level(crate::config::quality_of(&self.config.encodings));
        let info = ServerInfo {
            server_version: self.server_version.clone(),
            version: self.version.unwrap_or(Version::V3_8),
            security_types: self.offered.clone(),
            security: self.chosen.unwrap_or(SecurityType::None),
            name,
            width: w,
            height: h,
            server_pixel_format: server_pf,
            pixel_format: pf,
        };
        self.info = Some(info.clone());
        self.events.push_back(Event::Connected(info));
        self.state = State::Session(Session::Idle);
        self.needed = 1;
        if self.config.auto_update {
            let mut b = Vec::new();
            msg::framebuffer_update_request(&mut b, false, Rect::new(0, 0, w, h));
            self.queue(&b);
        }
        Ok(Some(total))
    }

    /// Where ServerInit ends: after the name, or, when Tight security was chosen, after the
    /// interaction capability lists that follow it (`U16` server-message, client-message and
    /// encoding counts, `U16` padding, then 16 bytes per capability; skipped, since nothing
    /// here uses them). `None` when more bytes are needed.
    ///
    /// Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#serverinit>
    fn tight_init_len(&mut self, input: &[u8], name_end: usize) -> Result<Option<usize>, Error> {
        if self.chosen != Some(SecurityType::Tight) {
            return Ok(Some(name_end));
        }
        let Some(h) = input.get(name_end..name_end + 8) else {
            self.needed = name_end + 8;
            return Ok(None);
        };
        let count = |i: usize| usize::from(u16::from_be_bytes([h[i], h[i + 1]]));
        let caps = count(0) + count(2) + count(4);
        // At most 3 × 65535 capabilities (3 MiB); bounded by the string limit like the name.
        let len = caps * crate::security::CAPABILITY_LEN;
        let max = self.config.limits.max_string as usize;
        if len > max {
            return Err(Error::LimitExceeded {
                message: "ServerInit",
                field: "tight-capabilities",
                value: len as u64,
                limit: max as u64,
            });
        }
        let total = name_end + 8 + len;
        if input.len() < total {
            self.needed = total;
            return Ok(None);
        }
        Ok(Some(total))
    }

    /// Checks a framebuffer size from the server against the limits.
    pub(crate) fn check_size(&self, message: &'static str, w: u16, h: u16) -> Result<(), Error> {
        let l = &self.config.limits;
        let over = |field, value: u64, limit: u64| Error::LimitExceeded {
            message,
            field,
            value,
            limit,
        };
        if w > l.max_width {
            return Err(over("width", w.into(), l.max_width.into()));
        }
        if h > l.max_height {
            return Err(over("height", h.into(), l.max_height.into()));
        }
        let px = u64::from(w) * u64::from(h);
        if px > l.max_pixels {
            return Err(over("area", px, l.max_pixels));
        }
        Ok(())
    }
}
