//! QEMU Audio: the client's enable/disable/set-format operations (client message 255,
//! submessage 1), the server's begin/end/data operations (server message 255, submessage 1)
//! and the -259 pseudo-encoding that announces them.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#qemu-audio-client-message>,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#qemu-audio-server-message>,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#qemu-audio-pseudo-encoding>
//!
//! The spec does not give the byte order of multi-byte samples. QEMU sends them little-endian
//! (its VNC audio capture is set up with little-endian samples whatever the client asks), so
//! [`AudioFormat`] documents little-endian PCM.

/// The sample types of the set-format operation; each value fixes the bytes per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// 0: unsigned 8-bit.
    U8,
    /// 1: signed 8-bit.
    S8,
    /// 2: unsigned 16-bit.
    U16,
    /// 3: signed 16-bit.
    S16,
    /// 4: unsigned 32-bit.
    U32,
    /// 5: signed 32-bit.
    S32,
}

impl SampleFormat {
    /// The *sample-format* value on the wire.
    pub const fn code(self) -> u8 {
        match self {
            Self::U8 => 0,
            Self::S8 => 1,
            Self::U16 => 2,
            Self::S16 => 3,
            Self::U32 => 4,
            Self::S32 => 5,
        }
    }

    /// The format for a wire value, if the spec defines it.
    pub const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::U8,
            1 => Self::S8,
            2 => Self::U16,
            3 => Self::S16,
            4 => Self::U32,
            5 => Self::S32,
            _ => return None,
        })
    }

    /// Bytes per sample.
    pub const fn bytes(self) -> u8 {
        match self {
            Self::U8 | Self::S8 => 1,
            Self::U16 | Self::S16 => 2,
            Self::U32 | Self::S32 => 4,
        }
    }

    /// True for the signed types.
    pub const fn is_signed(self) -> bool {
        matches!(self, Self::S8 | Self::S16 | Self::S32)
    }
}

/// The PCM format the client asks for with [`crate::Client::set_audio_format`]: interleaved
/// frames of `channels` samples, little-endian (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioFormat {
    /// Sample type.
    pub sample: SampleFormat,
    /// 1 (mono) or 2 (stereo); the spec allows nothing else.
    pub channels: u8,
    /// Frames per second.
    pub frequency: u32,
}

impl AudioFormat {
    /// Signed 16-bit stereo at 44.1 kHz, what QEMU uses before a client sets a format.
    pub const CD: Self = Self {
        sample: SampleFormat::S16,
        channels: 2,
        frequency: 44_100,
    };

    /// Bytes per frame (one sample per channel); every data message is a multiple of it.
    pub const fn frame_bytes(self) -> u32 {
        self.sample.bytes() as u32 * self.channels as u32
    }
}

/// What the server said about audio.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudioEvent {
    /// The server acknowledged -259: [`crate::Client::enable_audio`] and
    /// [`crate::Client::set_audio_format`] may be used now.
    Supported,
    /// An audio stream begins (operation 1).
    Begin,
    /// The audio stream ended (operation 0).
    End,
    /// PCM bytes of the current stream (operation 2), delivered as they arrive: a large data
    /// message comes as several events, each a whole number of frames when the format is known.
    Data {
        /// The format this client last asked for, `None` if it never set one (then the server
        /// chose; QEMU's choice is [`AudioFormat::CD`]). Data sent while a new format request
        /// was in flight may still be in the old format: the protocol cannot tell.
        format: Option<AudioFormat>,
        /// The samples, interleaved, little-endian.
        bytes: Vec<u8>,
    },
}

/// Client operation 0: start capture.
pub fn audio_enable(out: &mut Vec<u8>) {
    out.extend_from_slice(&[255, 1, 0, 0]);
}

/// Client operation 1: stop capture.
pub fn audio_disable(out: &mut Vec<u8>) {
    out.extend_from_slice(&[255, 1, 0, 1]);
}

/// Client operation 2: sample format, channels, `U32` frequency.
pub fn audio_set_format(out: &mut Vec<u8>, format: AudioFormat) {
    out.extend_from_slice(&[255, 1, 0, 2, format.sample.code(), format.channels]);
    out.extend_from_slice(&format.frequency.to_be_bytes());
}

/// Per-session audio state.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AudioState {
    /// The server acknowledged -259.
    pub(crate) supported: bool,
    /// This client enabled capture and has not disabled it.
    pub(crate) enabled: bool,
    /// Between a begin and an end from the server.
    pub(crate) streaming: bool,
    /// The format last sent with set-format.
    pub(crate) format: Option<AudioFormat>,
    /// Data bytes read and dropped: outside a begin/end pair or while capture was disabled.
    pub(crate) dropped: u64,
}

impl AudioState {
    /// Whether data arriving now goes to the driver. The spec has data only inside a stream
    /// the client enabled, but allows data to trail a disable ("for a short time"), so data
    /// outside that window is read and dropped (counted), never an error.
    pub(crate) fn delivers(&self) -> bool {
        self.enabled && self.streaming
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Golden vectors from the QEMU Audio Client Message tables.
    #[test]
    fn client_operations() {
        let mut b = Vec::new();
        audio_enable(&mut b);
        audio_disable(&mut b);
        audio_set_format(
            &mut b,
            AudioFormat {
                sample: SampleFormat::S16,
                channels: 2,
                frequency: 44_100,
            },
        );
        assert_eq!(
            b,
            [
                255, 1, 0, 0, //
                255, 1, 0, 1, //
                255, 1, 0, 2, 3, 2, 0, 0, 0xac, 0x44,
            ]
        );
    }

    #[test]
    fn sample_formats() {
        for code in 0..=5 {
            let f = SampleFormat::from_code(code).unwrap();
            assert_eq!(f.code(), code);
            assert_eq!(f.bytes(), [1, 1, 2, 2, 4, 4][usize::from(code)]);
            assert_eq!(f.is_signed(), code % 2 == 1);
        }
        assert_eq!(SampleFormat::from_code(6), None);
        assert_eq!(AudioFormat::CD.frame_bytes(), 4);
    }
}
