//! The one place that bounds what a server can make the client allocate.

use rfb_encodings::DecoderLimits;

/// Limits checked before any allocation sized by the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest ServerCutText accepted, in bytes (larger is a fatal [`crate::Error::LimitExceeded`]).
    pub max_cut_text: u32,
    /// Largest framebuffer width.
    pub max_width: u16,
    /// Largest framebuffer height.
    pub max_height: u16,
    /// Largest framebuffer area in pixels (the driver allocates 4 bytes each).
    pub max_pixels: u64,
    /// Longest desktop name or failure reason string.
    pub max_string: u32,
    /// Largest QEMU Audio data message, in bytes. The data streams to the driver without being
    /// buffered; this only catches a corrupt length (QEMU sends a few KiB at a time).
    pub max_audio_data: u32,
    /// Limits handed to the decoders.
    pub decoder: DecoderLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // Clipboards of whole documents are common; 16 MiB bounds them without surprise.
            max_cut_text: 16 << 20,
            // TigerVNC's own maximum dimension.
            max_width: 16384,
            max_height: 16384,
            // 8K × 8K: a 256 MiB RGBA buffer.
            max_pixels: 8192 * 8192,
            max_string: 64 * 1024,
            max_audio_data: 16 << 20,
            decoder: DecoderLimits::default(),
        }
    }
}
