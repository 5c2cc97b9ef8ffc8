//! Server-to-client messages after ServerInit: FramebufferUpdate (rectangle framing, with the
//! payloads streamed into `rfb-encodings`), SetColourMapEntries, Bell and ServerCutText.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#server-to-client-messages>

use rfb_encodings::{Decoded, Decoders, DrawTarget, Encoding, Rect};

use crate::client::{Client, State, Step};
use crate::error::Error;
use crate::event::Event;
use crate::handshake::need;
use crate::messages::{client as msg, server};

/// Message-level state of a running session.
#[derive(Debug)]
pub(crate) enum Session {
    /// Between messages: the next byte is a message type.
    Idle,
    FbuHeader,
    RectHeader {
        remaining: u16,
        damage: Vec<Rect>,
    },
    RectBody {
        remaining: u16,
        damage: Vec<Rect>,
        rect: Rect,
        encoding: Encoding,
    },
    /// A pseudo-rectangle handled by [`crate::extensions`] (its body, if any, comes next).
    PseudoBody {
        remaining: u16,
        damage: Vec<Rect>,
        rect: Rect,
        encoding: Encoding,
    },
    ColourMapHeader,
    ColourMapEntries {
        first: u16,
        count: u16,
        done: u16,
    },
    CutTextHeader,
    CutText {
        left: u32,
        buf: Vec<u8>,
    },
    /// An Extended Clipboard message body ([`crate::clipboard`]), buffered up to the limit.
    CutTextExtended {
        left: u32,
        buf: Vec<u8>,
    },
    /// An Extended Clipboard message over the limit, discarded as it streams past.
    CutTextSkip {
        left: u32,
    },
    /// A QEMU server message or QEMU pseudo-rectangle body ([`crate::qemu`]).
    Qemu(crate::qemu::QemuRead),
}

const FBU: &str = "FramebufferUpdate";

impl Session {
    /// The message this state is part of, for error messages.
    pub(crate) fn message_name(&self) -> &'static str {
        match self {
            Self::Idle => "message type",
            Self::FbuHeader
            | Self::RectHeader { .. }
            | Self::RectBody { .. }
            | Self::PseudoBody { .. } => FBU,
            Self::ColourMapHeader | Self::ColourMapEntries { .. } => "SetColourMapEntries",
            Self::CutTextHeader
            | Self::CutText { .. }
            | Self::CutTextExtended { .. }
            | Self::CutTextSkip { .. } => "ServerCutText",
            Self::Qemu(q) => q.message_name(),
        }
    }
}

impl Client {
    pub(crate) fn session_step(&mut self, input: &[u8], target: &mut dyn DrawTarget) -> Step {
        let State::Session(s) = core::mem::replace(&mut self.state, State::Failed) else {
            return Ok(None);
        };
        let (next, step) = self.session_dispatch(s, input, target);
        // On error the state stays Failed; `fail` records the reason.
        if step.is_ok() {
            self.state = State::Session(next);
        }
        step
    }

    fn session_dispatch(
        &mut self,
        s: Session,
        input: &[u8],
        target: &mut dyn DrawTarget,
    ) -> (Session, Step) {
        match s {
            Session::Idle => match input.first() {
                None => {
                    self.needed = 1;
                    (Session::Idle, Ok(None))
                }
                Some(0) => {
                    self.on_update_start();
                    (Session::FbuHeader, Ok(Some(1)))
                }
                Some(1) => (Session::ColourMapHeader, Ok(Some(1))),
                Some(2) => {
                    self.events.push_back(Event::Bell);
                    (Session::Idle, Ok(Some(1)))
                }
                Some(3) => (Session::CutTextHeader, Ok(Some(1))),
                Some(255) => self.qemu_message(input),
                Some(&t) if crate::extensions::is_extension_message(t) => {
                    (Session::Idle, self.extension_message(t, input))
                }
                Some(&t) => (
                    Session::Idle,
                    Err(Error::Unsupported(format!(
                        "server message type {t} (not negotiated; its length is unknown)"
                    ))),
                ),
            },
            Session::FbuHeader => {
                match need(
                    server::fbu_header(input),
                    input.len(),
                    &mut self.needed,
                    FBU,
                ) {
                    Ok(None) => (Session::FbuHeader, Ok(None)),
                    Err(e) => (Session::FbuHeader, Err(e)),
                    Ok(Some((n, 0))) => (self.finish_update(Vec::new()), Ok(Some(n))),
                    Ok(Some((n, count))) => (
                        Session::RectHeader {
                            remaining: count,
                            damage: Vec::new(),
                        },
                        Ok(Some(n)),
                    ),
                }
            }
            Session::RectHeader { remaining, damage } => {
                match need(
                    server::rect_header(input),
                    input.len(),
                    &mut self.needed,
                    FBU,
                ) {
                    Ok(None) => (Session::RectHeader { remaining, damage }, Ok(None)),
                    Err(e) => (Session::Idle, Err(e)),
                    Ok(Some((n, (rect, encoding)))) => {
                        match self.begin_rect(remaining, damage, rect, encoding, target) {
                            Ok(next) => (next, Ok(Some(n))),
                            Err(e) => (Session::Idle, Err(e)),
                        }
                    }
                }
            }
            Session::RectBody {
                remaining,
                mut damage,
                rect,
                encoding,
            } => {
                let p = match self.decoders.feed(input, target) {
                    Ok(p) => p,
                    Err(source) => {
                        return (
                            Session::Idle,
                            Err(Error::Decode {
                                message: FBU,
                                source,
                            }),
                        );
                    }
                };
                match p.done {
                    None => {
                        self.needed = self.decoders.bytes_needed().max(1);
                        let step = (p.consumed > 0).then_some(p.consumed);
                        (
                            Session::RectBody {
                                remaining,
                                damage,
                                rect,
                                encoding,
                            },
                            Ok(step),
                        )
                    }
                    Some(done) => {
                        match done {
                            Decoded::Cursor(c) => self.events.push_back(Event::Cursor(c)),
                            _ => {
                                if !rect.is_empty() {
                                    damage.push(rect);
                                }
                            }
                        }
                        (self.next_rect(remaining, damage), Ok(Some(p.consumed)))
                    }
                }
            }
            Session::PseudoBody {
                remaining,
                mut damage,
                rect,
                encoding,
            } => match self.extension_pseudo(rect, encoding, input, &mut damage, target) {
                Ok(None) => (
                    Session::PseudoBody {
                        remaining,
                        damage,
                        rect,
                        encoding,
                    },
                    Ok(None),
                ),
                Ok(Some(n)) => (self.next_rect(remaining, damage), Ok(Some(n))),
                Err(e) => (Session::Idle, Err(e)),
            },
            Session::ColourMapHeader => {
                match need(
                    server::colour_map_header(input),
                    input.len(),
                    &mut self.needed,
                    "SetColourMapEntries",
                ) {
                    Ok(None) => (Session::ColourMapHeader, Ok(None)),
                    Err(e) => (Session::Idle, Err(e)),
                    Ok(Some((n, (first, count)))) => {
                        if u32::from(first) + u32::from(count) > 65536 {
                            let e = Error::invalid(
                                "SetColourMapEntries",
                                "first-colour + number-of-colours",
                                format!("{first} + {count} exceeds 65536 entries"),
                            );
                            return (Session::Idle, Err(e));
                        }
                        let next = if count == 0 {
                            self.events
                                .push_back(Event::ColourMapUpdated { first, count });
                            Session::Idle
                        } else {
                            Session::ColourMapEntries {
                                first,
                                count,
                                done: 0,
                            }
                        };
                        (next, Ok(Some(n)))
                    }
                }
            }
            Session::ColourMapEntries { first, count, done } => {
                // Apply whole entries as they arrive: nothing is buffered.
                let want = usize::from(count - done);
                let avail = (input.len() / 6).min(want);
                if avail == 0 {
                    self.needed = 6;
                    return (Session::ColourMapEntries { first, count, done }, Ok(None));
                }
                let mut entries = Vec::with_capacity(avail);
                let mut rest = input;
                for _ in 0..avail {
                    match server::colour_entry(rest) {
                        Ok((r, c)) => {
                            entries.push(c);
                            rest = r;
                        }
                        Err(_) => break,
                    }
                }
                let start = first + done;
                if let Err(source) = self.decoders.set_colour_map_entries(start, &entries) {
                    let e = Error::PixelFormat {
                        message: "SetColourMapEntries",
                        source,
                    };
                    return (Session::Idle, Err(e));
                }
                let done = done + entries.len() as u16;
                let next = if done == count {
                    self.events
                        .push_back(Event::ColourMapUpdated { first, count });
                    Session::Idle
                } else {
                    Session::ColourMapEntries { first, count, done }
                };
                (next, Ok(Some(entries.len() * 6)))
            }
            Session::CutTextHeader => {
                match need(
                    server::cut_text_header(input),
                    input.len(),
                    &mut self.needed,
                    "ServerCutText",
                ) {
                    Ok(None) => (Session::CutTextHeader, Ok(None)),
                    Err(e) => (Session::Idle, Err(e)),
                    Ok(Some((n, len))) if (len as i32) < 0 && self.extended_clipboard_offered() => {
                        (self.extended_cut_text(len), Ok(Some(n)))
                    }
                    Ok(Some((n, len))) => {
                        let max = self.config.limits.max_cut_text;
                        if len > max {
                            let e = Error::LimitExceeded {
                                message: "ServerCutText",
                                field: "length",
                                value: u64::from(len),
                                limit: u64::from(max),
                            };
                            return (Session::Idle, Err(e));
                        }
                        let next = Session::CutText {
                            left: len,
                            // Grows as bytes arrive; the limit bounds it.
                            buf: Vec::with_capacity((len as usize).min(64 * 1024)),
                        };
                        (next, Ok(Some(n)))
                    }
                }
            }
            Session::CutTextExtended { left, buf } => self.extended_cut_text_body(left, buf, input),
            Session::CutTextSkip { left } => self.extended_cut_text_skip(left, input),
            Session::Qemu(q) => self.qemu_step(q, input),
            Session::CutText { left, mut buf } => {
                if left == 0 {
                    self.events
                        .push_back(Event::ClipboardText(msg::latin1_decode(&buf)));
                    return (Session::Idle, Ok(Some(0)));
                }
                if input.is_empty() {
                    self.needed = 1;
                    return (Session::CutText { left, buf }, Ok(None));
                }
                let n = input.len().min(left as usize);
                buf.extend_from_slice(&input[..n]);
                (
                    Session::CutText {
                        left: left - n as u32,
                        buf,
                    },
                    Ok(Some(n)),
                )
            }
        }
    }

    fn begin_rect(
        &mut self,
        remaining: u16,
        mut damage: Vec<Rect>,
        rect: Rect,
        encoding: Encoding,
        target: &mut dyn DrawTarget,
    ) -> Result<Session, Error> {
        match encoding {
            Encoding::LastRect => {
                self.decoders.record_rect(encoding, 0);
                Ok(self.finish_update(damage))
            }
            Encoding::DesktopSize => {
                self.decoders.record_rect(encoding, 0);
                self.check_size("DesktopSize", rect.width, rect.height)?;
                self.width = rect.width;
                self.height = rect.height;
                target.resize(rect.width, rect.height);
                if let Some(info) = self.info.as_mut() {
                    info.width = rect.width;
                    info.height = rect.height;
                }
                // Earlier damage may lie outside the new size; the whole screen is new anyway.
                damage.clear();
                self.events.push_back(Event::Resized {
                    width: rect.width,
                    height: rect.height,
                });
                self.on_resized_flow();
                Ok(self.next_rect(remaining, damage))
            }
            e if crate::qemu::is_qemu_pseudo(e) => {
                Ok(self.qemu_pseudo_start(remaining, damage, rect, e))
            }
            e if crate::extensions::is_extension_pseudo(e) => Ok(Session::PseudoBody {
                remaining,
                damage,
                rect,
                encoding: e,
            }),
            e if Decoders::can_decode(e) => {
                self.decoders
                    .begin(rect, e, self.width, self.height)
                    .map_err(|source| Error::Decode {
                        message: FBU,
                        source,
                    })?;
                self.needed = self.decoders.bytes_needed();
                Ok(Session::RectBody {
                    remaining,
                    damage,
                    rect,
                    encoding: e,
                })
            }
            e => Err(Error::PeerMisbehaved {
                message: FBU,
                detail: format!(
                    "rectangle {rect:?} uses {e}, which the client did not offer (its length is unknown)"
                ),
            }),
        }
    }

    pub(crate) fn next_rect(&mut self, remaining: u16, damage: Vec<Rect>) -> Session {
        let remaining = remaining.saturating_sub(1);
        if remaining == 0 {
            self.finish_update(damage)
        } else {
            self.needed = 12;
            Session::RectHeader { remaining, damage }
        }
    }

    fn finish_update(&mut self, damage: Vec<Rect>) -> Session {
        self.events.push_back(Event::FramebufferUpdated { damage });
        self.on_update_end();
        self.needed = 1;
        Session::Idle
    }
}
