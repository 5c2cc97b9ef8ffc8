//! Glue between the session state machine and the extension modules ([`crate::screen`],
//! [`crate::fence`], [`crate::extras`]): server message types 150, 248 and 250, and the
//! pseudo-rectangles ExtendedDesktopSize, DesktopName, PointerPos and ExtendedMouseButtons.
//!
//! Every message here is bounded (at most 4 + 255 × 16 bytes, or the desktop-name limit), so
//! each is parsed only once all of it is present: the client asks for the whole length through
//! `bytes_needed` and the driver keeps the bytes, as for ServerInit.

use rfb_encodings::{DrawTarget, Encoding, Rect};

use crate::client::{Client, Step};
use crate::error::Error;
use crate::event::Event;
use crate::extras::{Extras, parse_xvp};
use crate::fence::{Flow, parse_server_fence};
use crate::screen::{LayoutChange, Screen, parse_eds_body, set_desktop_size, validate_layout};

/// Extension state of a session.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExtState {
    pub flow: Flow,
    pub extras: Extras,
    /// The last layout the server reported (ExtendedDesktopSize), if any; its arrival also
    /// tells that SetDesktopSize may be sent.
    pub screens: Option<Vec<Screen>>,
}

/// Server message types handled here.
pub(crate) fn is_extension_message(t: u8) -> bool {
    matches!(t, 150 | 248 | 250)
}

/// Pseudo-encodings handled here (with or without a body).
pub(crate) fn is_extension_pseudo(e: Encoding) -> bool {
    matches!(
        e,
        Encoding::ExtendedDesktopSize
            | Encoding::DesktopName
            | Encoding::PointerPos
            | Encoding::ExtendedMouseButtons
    )
}

impl Client {
    /// Parses one whole extension message starting at its type byte; `Ok(None)` waits for
    /// `self.needed` bytes.
    pub(crate) fn extension_message(&mut self, t: u8, input: &[u8]) -> Step {
        let mut needed = 1;
        let used = match t {
            150 => {
                self.on_end_of_continuous_updates();
                Some(1)
            }
            248 => match parse_server_fence(input, &mut needed) {
                Some((n, f)) => {
                    self.on_server_fence(f)?;
                    Some(n)
                }
                None => None,
            },
            250 => parse_xvp(input, &mut needed).map(|(n, m)| {
                self.on_xvp(m);
                n
            }),
            _ => return Err(Error::Unsupported(format!("server message type {t}"))),
        };
        if used.is_none() {
            self.needed = needed;
        }
        Ok(used)
    }

    /// Handles a pseudo-rectangle of [`is_extension_pseudo`]'s kinds; `Ok(None)` waits for
    /// `self.needed` bytes of its body. `damage` is cleared when the framebuffer is resized.
    pub(crate) fn extension_pseudo(
        &mut self,
        rect: Rect,
        encoding: Encoding,
        input: &[u8],
        damage: &mut Vec<Rect>,
        target: &mut dyn DrawTarget,
    ) -> Step {
        match encoding {
            Encoding::ExtendedDesktopSize => {
                let mut needed = 0;
                let Some((n, change)) =
                    parse_eds_body(input, rect.x, rect.y, rect.width, rect.height, &mut needed)
                else {
                    self.needed = needed;
                    return Ok(None);
                };
                self.decoders.record_rect(encoding, n as u64);
                self.on_layout(change, damage, target)?;
                Ok(Some(n))
            }
            Encoding::DesktopName => {
                let Some(len) = input.get(..4) else {
                    self.needed = 4;
                    return Ok(None);
                };
                let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
                let max = self.config.limits.max_string;
                if len > max {
                    return Err(Error::LimitExceeded {
                        message: "DesktopName",
                        field: "name-length",
                        value: u64::from(len),
                        limit: u64::from(max),
                    });
                }
                let total = 4 + len as usize;
                let Some(name) = input.get(4..total) else {
                    self.needed = total;
                    return Ok(None);
                };
                let name = String::from_utf8_lossy(name).into_owned();
                self.decoders.record_rect(encoding, total as u64);
                if let Some(info) = self.info.as_mut() {
                    info.name = name.clone();
                }
                self.events.push_back(Event::DesktopName(name));
                Ok(Some(total))
            }
            Encoding::PointerPos => {
                self.decoders.record_rect(encoding, 0);
                self.events.push_back(Event::PointerPosition {
                    x: rect.x,
                    y: rect.y,
                });
                Ok(Some(0))
            }
            Encoding::ExtendedMouseButtons => {
                self.decoders.record_rect(encoding, 0);
                self.on_extended_mouse_ack();
                Ok(Some(0))
            }
            e => Err(Error::Unsupported(format!("pseudo-encoding {e}"))),
        }
    }

    fn on_layout(
        &mut self,
        change: LayoutChange,
        damage: &mut Vec<Rect>,
        target: &mut dyn DrawTarget,
    ) -> Result<(), Error> {
        if change.applies() {
            let (w, h) = (change.width, change.height);
            self.check_size("ExtendedDesktopSize", w, h)?;
            if (w, h) != (self.width, self.height) {
                self.width = w;
                self.height = h;
                target.resize(w, h);
                if let Some(info) = self.info.as_mut() {
                    info.width = w;
                    info.height = h;
                }
                damage.clear();
                self.events.push_back(Event::Resized {
                    width: w,
                    height: h,
                });
                self.on_resized_flow();
            }
            self.ext.screens = Some(change.screens.clone());
        } else if self.ext.screens.is_none() {
            // A refusal still proves the server handles SetDesktopSize.
            self.ext.screens = Some(Vec::new());
        }
        self.events.push_back(Event::ScreenLayout(change));
        Ok(())
    }

    /// The screens the server last reported with ExtendedDesktopSize (`None` until the server
    /// sent one, i.e. when SetDesktopSize is not available).
    pub fn screens(&self) -> Option<&[Screen]> {
        self.ext.screens.as_deref()
    }

    /// Asks the server for a framebuffer of `width` × `height` with these screens (SetDesktopSize).
    /// An empty `screens` means one screen covering the framebuffer, keeping the id and flags
    /// of the server's first screen as the spec asks. The answer arrives as
    /// [`Event::ScreenLayout`] with [`crate::ResizeReason::ThisClient`].
    ///
    /// Errors ([`Error::ApiMisuse`], not fatal): the server has not sent ExtendedDesktopSize
    /// yet, or the layout is invalid (no screen, a screen outside the framebuffer or empty,
    /// a duplicate id, more than 255 screens).
    pub fn set_desktop_size(
        &mut self,
        width: u16,
        height: u16,
        screens: &[Screen],
    ) -> Result<(), Error> {
        self.require_session()?;
        let Some(current) = self.ext.screens.as_ref() else {
            return Err(Error::ApiMisuse(
                "the server has not sent ExtendedDesktopSize, so SetDesktopSize is not allowed",
            ));
        };
        let whole;
        let screens = if screens.is_empty() {
            let base = current
                .first()
                .copied()
                .unwrap_or(Screen::new(0, 0, 0, 0, 0));
            whole = [Screen {
                x: 0,
                y: 0,
                width,
                height,
                ..base
            }];
            &whole[..]
        } else {
            screens
        };
        validate_layout(width, height, screens)?;
        let mut b = Vec::with_capacity(8 + 16 * screens.len());
        set_desktop_size(&mut b, width, height, screens);
        self.queue(&b);
        Ok(())
    }
}
