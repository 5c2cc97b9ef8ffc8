//! QEMU's extensions: Extended Key Event (-258, keys as XT scancodes), LED State (-261, and
//! VMware's LED State 0x574d5668, so drivers can resync lock keys) and Audio (-259, PCM
//! streamed from the server), carried by client and server message type 255.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#qemu-client-message>,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#qemu-server-message>
//!
//! Server message 255 is only legal after the server acknowledged the matching
//! pseudo-encoding; its only defined submessage is audio (1). A 255 message when the client did
//! not offer -259 is [`Error::Unsupported`] (its length is unknown, like any type not
//! negotiated); before the acknowledgement, or with another submessage or operation, it is
//! [`Error::PeerMisbehaved`] / [`Error::InvalidMessage`]. Audio data is streamed to the driver
//! in whole frames as it arrives, never buffered; data outside a stream the client enabled is
//! read and dropped (see [`crate::Client::audio_dropped_bytes`]).

mod audio;
mod keys;

pub use audio::{
    AudioEvent, AudioFormat, SampleFormat, audio_disable, audio_enable, audio_set_format,
};
pub use keys::{KeySent, LedSource, LedState, extended_key_event, xt_keycode};

use rfb_encodings::{Encoding, Rect};

use crate::client::{Client, Step};
use crate::error::Error;
use crate::event::Event;
use crate::session::Session;

/// VMware LED State (0x574d5668), which `rfb-encodings` has no name for.
pub const VMWARE_LED_STATE: Encoding = Encoding::Unknown(0x574d_5668);

const QEMU_MSG: &str = "QEMU Server Message";

/// Per-session state of the QEMU extensions.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct QemuState {
    /// The server acknowledged -258.
    pub(crate) ext_keys: bool,
    pub(crate) audio: audio::AudioState,
    /// The last LED state the server reported.
    pub(crate) leds: Option<LedState>,
}

/// Reading state of a QEMU message or pseudo-rectangle body.
#[derive(Debug)]
pub(crate) enum QemuRead {
    /// The body of a pseudo-rectangle of [`is_qemu_pseudo`]'s kinds, inside a FramebufferUpdate.
    Pseudo {
        remaining: u16,
        damage: Vec<Rect>,
        rect: Rect,
        encoding: Encoding,
    },
    /// `left` bytes of audio data still to come; `deliver` decides whether they reach the
    /// driver and `format` is the format they are in, both fixed at the header so a whole
    /// message goes one way.
    AudioData {
        left: u32,
        deliver: bool,
        format: Option<AudioFormat>,
    },
}

impl QemuRead {
    /// The message this state is part of, for error messages.
    pub(crate) fn message_name(&self) -> &'static str {
        match self {
            Self::Pseudo { .. } => "FramebufferUpdate",
            Self::AudioData { .. } => QEMU_MSG,
        }
    }
}

/// Pseudo-encodings handled here.
pub(crate) fn is_qemu_pseudo(e: Encoding) -> bool {
    matches!(
        e,
        Encoding::QemuExtendedKeyEvent | Encoding::QemuAudio | Encoding::QemuLedState
    ) || e.to_i32() == VMWARE_LED_STATE.to_i32()
}

impl Client {
    fn offered(&self, e: Encoding) -> bool {
        self.config
            .encodings
            .iter()
            .any(|o| o.to_i32() == e.to_i32())
    }

    /// Starts a pseudo-rectangle of [`is_qemu_pseudo`]'s kinds.
    pub(crate) fn qemu_pseudo_start(
        &mut self,
        remaining: u16,
        damage: Vec<Rect>,
        rect: Rect,
        encoding: Encoding,
    ) -> Session {
        Session::Qemu(QemuRead::Pseudo {
            remaining,
            damage,
            rect,
            encoding,
        })
    }

    /// Server message 255 from its type byte: the 4-byte header (8 for audio data) is parsed
    /// once all of it is present.
    pub(crate) fn qemu_message(&mut self, input: &[u8]) -> (Session, Step) {
        let [_, sub, op_hi, op_lo, ..] = *input else {
            self.needed = 4;
            return (Session::Idle, Ok(None));
        };
        if !self.offered(Encoding::QemuAudio) {
            return (
                Session::Idle,
                Err(Error::Unsupported(
                    "server message type 255 (QEMU Audio was not offered; its length is unknown)"
                        .into(),
                )),
            );
        }
        if sub != 1 {
            let e = Error::invalid(QEMU_MSG, "submessage-type", format!("{sub} is not defined"));
            return (Session::Idle, Err(e));
        }
        if !self.qemu.audio.supported {
            let e = Error::PeerMisbehaved {
                message: QEMU_MSG,
                detail: "audio message before the server acknowledged QEMU Audio (-259)".into(),
            };
            return (Session::Idle, Err(e));
        }
        match u16::from_be_bytes([op_hi, op_lo]) {
            0 => {
                self.qemu.audio.streaming = false;
                self.events.push_back(Event::Audio(AudioEvent::End));
                (Session::Idle, Ok(Some(4)))
            }
            1 => {
                self.qemu.audio.streaming = true;
                self.events.push_back(Event::Audio(AudioEvent::Begin));
                (Session::Idle, Ok(Some(4)))
            }
            2 => self.qemu_audio_data_header(input),
            op => {
                let e = Error::invalid(QEMU_MSG, "audio operation", format!("{op} is not defined"));
                (Session::Idle, Err(e))
            }
        }
    }

    fn qemu_audio_data_header(&mut self, input: &[u8]) -> (Session, Step) {
        let Some(len) = input.get(4..8) else {
            self.needed = 8;
            return (Session::Idle, Ok(None));
        };
        let left = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        let max = self.config.limits.max_audio_data;
        if left > max {
            let e = Error::LimitExceeded {
                message: QEMU_MSG,
                field: "data-length",
                value: u64::from(left),
                limit: u64::from(max),
            };
            return (Session::Idle, Err(e));
        }
        let deliver = self.qemu.audio.delivers();
        if left == 0 {
            return (Session::Idle, Ok(Some(8)));
        }
        let format = self.qemu.audio.format;
        let next = Session::Qemu(QemuRead::AudioData {
            left,
            deliver,
            format,
        });
        (next, Ok(Some(8)))
    }

    /// Continues a [`QemuRead`] state.
    pub(crate) fn qemu_step(&mut self, r: QemuRead, input: &[u8]) -> (Session, Step) {
        match r {
            QemuRead::AudioData {
                left,
                deliver,
                format,
            } => self.qemu_audio_data(left, deliver, format, input),
            QemuRead::Pseudo {
                remaining,
                damage,
                rect,
                encoding,
            } => match self.qemu_pseudo_body(encoding, input) {
                Ok(Some(n)) => (self.next_rect(remaining, damage), Ok(Some(n))),
                Ok(None) => {
                    let s = QemuRead::Pseudo {
                        remaining,
                        damage,
                        rect,
                        encoding,
                    };
                    (Session::Qemu(s), Ok(None))
                }
                Err(e) => (Session::Idle, Err(e)),
            },
        }
    }

    fn qemu_audio_data(
        &mut self,
        left: u32,
        deliver: bool,
        format: Option<AudioFormat>,
        input: &[u8],
    ) -> (Session, Step) {
        // Whole frames only, so no event splits a sample; a tail shorter than a frame (a
        // server ignoring the spec's multiple) is passed on as it is.
        let frame = match format {
            Some(f) if deliver => f.frame_bytes() as usize,
            _ => 1,
        };
        let avail = input.len().min(left as usize);
        let n = if (left as usize) < frame {
            avail
        } else {
            avail - avail % frame
        };
        if n == 0 {
            self.needed = frame.min(left as usize);
            let s = Session::Qemu(QemuRead::AudioData {
                left,
                deliver,
                format,
            });
            return (s, Ok(None));
        }
        if deliver {
            let bytes = input[..n].to_vec();
            self.events
                .push_back(Event::Audio(AudioEvent::Data { format, bytes }));
        } else {
            self.qemu.audio.dropped = self.qemu.audio.dropped.saturating_add(n as u64);
        }
        let left = left - n as u32;
        if left == 0 {
            self.needed = 1;
            (Session::Idle, Ok(Some(n)))
        } else {
            let s = Session::Qemu(QemuRead::AudioData {
                left,
                deliver,
                format,
            });
            (s, Ok(Some(n)))
        }
    }

    fn qemu_pseudo_body(&mut self, encoding: Encoding, input: &[u8]) -> Step {
        let (used, event) = match encoding {
            Encoding::QemuExtendedKeyEvent => {
                let first = !self.qemu.ext_keys;
                self.qemu.ext_keys = true;
                (0, first.then_some(Event::QemuExtendedKeyEvents))
            }
            Encoding::QemuAudio => {
                let first = !self.qemu.audio.supported;
                self.qemu.audio.supported = true;
                (0, first.then_some(Event::Audio(AudioEvent::Supported)))
            }
            Encoding::QemuLedState => {
                let Some(&b) = input.first() else {
                    self.needed = 1;
                    return Ok(None);
                };
                (1, Some(self.on_leds(u32::from(b), LedSource::Qemu)))
            }
            _ => {
                let Some(b) = input.get(..4) else {
                    self.needed = 4;
                    return Ok(None);
                };
                let bits = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                (4, Some(self.on_leds(bits, LedSource::Vmware)))
            }
        };
        self.decoders.record_rect(encoding, 0);
        self.events.extend(event);
        Ok(Some(used))
    }

    fn on_leds(&mut self, bits: u32, source: LedSource) -> Event {
        let state = LedState::from_bits(bits);
        self.qemu.leds = Some(state);
        Event::LedState { state, source }
    }

    /// True once the server acknowledged QEMU Extended Key Event (-258): see
    /// [`Client::send_key_scancode`].
    pub fn qemu_extended_keys(&self) -> bool {
        self.qemu.ext_keys
    }

    /// The lock-key state the server last reported (QEMU or VMware LED State), if any.
    pub fn led_state(&self) -> Option<LedState> {
        self.qemu.leds
    }

    /// Sends a key by physical position and keysym. With the server's -258 acknowledgement
    /// and a scancode that has an RFB keycode ([`xt_keycode`]; `scancode` as
    /// `rfb_keysym::xt_scancode` returns it, 0 for none), this is a QEMU Extended Key Event
    /// (`keysym` may be 0, "unknown"); otherwise a plain KeyEvent with `keysym`, or nothing
    /// when `keysym` is 0, as the spec says. The result tells which happened.
    pub fn send_key_scancode(
        &mut self,
        keysym: u32,
        scancode: u16,
        down: bool,
    ) -> Result<KeySent, Error> {
        self.require_session()?;
        match xt_keycode(scancode).filter(|_| self.qemu.ext_keys) {
            Some(keycode) => {
                let mut b = Vec::with_capacity(12);
                extended_key_event(&mut b, keysym, keycode, down);
                self.queue(&b);
                Ok(KeySent::Extended)
            }
            None if keysym == 0 => Ok(KeySent::Dropped),
            None => self.send_key(keysym, down).map(|()| KeySent::Keysym),
        }
    }

    /// True once the server acknowledged QEMU Audio (-259) ([`AudioEvent::Supported`]).
    pub fn audio_supported(&self) -> bool {
        self.qemu.audio.supported
    }

    fn audio_op(&mut self, f: impl FnOnce(&mut Vec<u8>)) -> Result<(), Error> {
        self.require_session()?;
        if !self.qemu.audio.supported {
            return Err(Error::ApiMisuse(
                "the server has not acknowledged QEMU Audio (-259)",
            ));
        }
        let mut b = Vec::with_capacity(10);
        f(&mut b);
        self.queue(&b);
        Ok(())
    }

    /// Asks the server to start sending audio. A stream then arrives as [`AudioEvent::Begin`],
    /// [`AudioEvent::Data`]… and [`AudioEvent::End`]. Set the format first
    /// ([`Client::set_audio_format`]), as the spec advises.
    ///
    /// Errors: [`Error::ApiMisuse`] before [`AudioEvent::Supported`].
    pub fn enable_audio(&mut self) -> Result<(), Error> {
        self.audio_op(audio_enable)?;
        self.qemu.audio.enabled = true;
        Ok(())
    }

    /// Asks the server to stop sending audio. Data still in flight is read and dropped.
    pub fn disable_audio(&mut self) -> Result<(), Error> {
        self.audio_op(audio_disable)?;
        self.qemu.audio.enabled = false;
        Ok(())
    }

    /// Tells the server which PCM format to send. Later [`AudioEvent::Data`] events carry it.
    ///
    /// Errors ([`Error::ApiMisuse`]): before [`AudioEvent::Supported`], `channels` other than
    /// 1 or 2, or a zero frequency.
    pub fn set_audio_format(&mut self, format: AudioFormat) -> Result<(), Error> {
        if !matches!(format.channels, 1 | 2) {
            return Err(Error::ApiMisuse("audio channels must be 1 or 2"));
        }
        if format.frequency == 0 {
            return Err(Error::ApiMisuse("audio frequency must not be 0"));
        }
        self.audio_op(|b| audio_set_format(b, format))?;
        self.qemu.audio.format = Some(format);
        Ok(())
    }

    /// The format last set with [`Client::set_audio_format`].
    pub fn audio_format(&self) -> Option<AudioFormat> {
        self.qemu.audio.format
    }

    /// Audio data bytes read but not delivered: data outside a begin/end pair, before
    /// [`Client::enable_audio`] or after [`Client::disable_audio`].
    pub fn audio_dropped_bytes(&self) -> u64 {
        self.qemu.audio.dropped
    }
}
