//! Fence (-312; ClientFence/ServerFence 248), ContinuousUpdates (-313;
//! EnableContinuousUpdates/EndOfContinuousUpdates 150) and the update-request policy.
//!
//! Policy, as TigerVNC's viewer does it: both pseudo-encodings are offered; the server
//! announces Fence with a ServerFence and ContinuousUpdates with an EndOfContinuousUpdates.
//! Once both have arrived (in either order) and [`crate::Config::continuous_updates`] is on,
//! the client sends EnableContinuousUpdates for the whole framebuffer and stops sending
//! incremental FramebufferUpdateRequests; it re-sends it with the new area after a resize.
//! Continuous updates are never enabled without Fence, because without it the client has no
//! way to change the stream safely (and a server's congestion control relies on fences).
//! Without continuous updates, [`crate::Config::update_pipeline`] incremental requests are kept
//! outstanding.
//!
//! When the server supports Fence, a pixel-format change is synchronised as the spec's
//! SyncNext section describes: ClientFence(BlockBefore | SyncNext) followed by SetPixelFormat;
//! updates keep being decoded in the old format until the fence's response arrives, because
//! everything before the response was encoded before the change took effect. Then the whole
//! framebuffer is requested again (non-incremental), as TigerVNC's viewer does.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#clientfence>,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#enablecontinuousupdates>

use rfb_encodings::{PixelFormat, Rect};

use crate::client::Client;
use crate::error::Error;
use crate::event::Event;
use crate::messages::client as msg;

/// The spec's limit on a fence payload.
pub const MAX_FENCE_PAYLOAD: usize = 64;

/// Fence flag bits (a plain `u32` newtype so unknown bits survive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FenceFlags(pub u32);

impl FenceFlags {
    /// Messages before the fence take effect before the response is sent.
    pub const BLOCK_BEFORE: Self = Self(1);
    /// Messages after the fence wait for the response.
    pub const BLOCK_AFTER: Self = Self(1 << 1);
    /// The message after the fence is applied atomically with respect to the response.
    pub const SYNC_NEXT: Self = Self(1 << 2);
    /// A new request (a response has it cleared).
    pub const REQUEST: Self = Self(1 << 31);
    /// The flags this client understands (and keeps in its responses).
    pub const SUPPORTED: Self = Self(0b111);

    /// True when every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for FenceFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// ClientFence (248): 3 padding bytes, flags, payload length, payload (at most 64 bytes; the
/// caller checks).
pub fn client_fence(out: &mut Vec<u8>, flags: FenceFlags, payload: &[u8]) {
    let payload = &payload[..payload.len().min(MAX_FENCE_PAYLOAD)];
    out.extend_from_slice(&[248, 0, 0, 0]);
    out.extend_from_slice(&flags.0.to_be_bytes());
    out.push(payload.len() as u8);
    out.extend_from_slice(payload);
}

/// EnableContinuousUpdates (150): enable flag, then x, y, width, height.
pub fn enable_continuous_updates(out: &mut Vec<u8>, enable: bool, area: Rect) {
    out.extend_from_slice(&[150, u8::from(enable)]);
    for v in [area.x, area.y, area.width, area.height] {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Payload of the fence that synchronises a pixel-format change (not reported as an event).
const PIXEL_FORMAT_FENCE: &[u8] = b"rfb-core:pixel-format";

/// Length of a ServerFence before the payload, type byte included.
const FENCE_HEADER_LEN: usize = 9;

/// A parsed ServerFence: flags and payload, or `None` when the payload exceeded 64 bytes.
pub(crate) type ParsedFence = Option<(FenceFlags, Vec<u8>)>;

/// Parses a whole ServerFence (type byte first). `Ok(None)` asks for `needed` bytes (at most
/// 9 + 255). A payload over 64 bytes is consumed and reported as `Some(None)`: the spec
/// bounds it, and ignoring such a fence (as TigerVNC does) keeps the stream in sync.
pub(crate) fn parse_server_fence(input: &[u8], needed: &mut usize) -> Option<(usize, ParsedFence)> {
    if input.len() < FENCE_HEADER_LEN {
        *needed = FENCE_HEADER_LEN;
        return None;
    }
    let flags = FenceFlags(u32::from_be_bytes([input[4], input[5], input[6], input[7]]));
    let len = usize::from(input[8]);
    let total = FENCE_HEADER_LEN + len;
    if input.len() < total {
        *needed = total;
        return None;
    }
    let fence =
        (len <= MAX_FENCE_PAYLOAD).then(|| (flags, input[FENCE_HEADER_LEN..total].to_vec()));
    Some((total, fence))
}

/// Update-flow state of a session.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flow {
    /// The server sent a ServerFence.
    pub fence_supported: bool,
    /// The server sent an EndOfContinuousUpdates.
    pub cu_supported: bool,
    /// EnableContinuousUpdates(1) was sent and not since disabled.
    pub cu_active: bool,
    /// Incremental requests sent by the automatic policy and not yet answered (a server that
    /// merges requests makes this an overestimate, which only delays a top-up, never stops it).
    pub in_flight: u32,
    /// A SetPixelFormat sent after a SyncNext fence, applied when the fence is answered.
    pub pending_format: Option<PixelFormat>,
    /// The driver holds automatic requests (render back-pressure, see
    /// [`Client::hold_update_requests`]).
    pub held: bool,
}

impl Client {
    /// Handles a ServerFence: answers requests at once (this client applies messages in
    /// order, so BlockBefore, BlockAfter and SyncNext are met by answering immediately) and
    /// reports responses to the client's own fences.
    pub(crate) fn on_server_fence(&mut self, fence: ParsedFence) -> Result<(), Error> {
        let first = !self.ext.flow.fence_supported;
        self.ext.flow.fence_supported = true;
        let Some((flags, payload)) = fence else {
            self.events.push_back(Event::FenceIgnored);
            return Ok(());
        };
        if flags.contains(FenceFlags::REQUEST) {
            let mut b = Vec::with_capacity(FENCE_HEADER_LEN + payload.len());
            // Keep the bits we understand, clear the rest (Request included), as the spec says.
            client_fence(
                &mut b,
                FenceFlags(flags.0 & FenceFlags::SUPPORTED.0),
                &payload,
            );
            self.queue(&b);
        } else if payload == PIXEL_FORMAT_FENCE {
            if let Some(pf) = self.ext.flow.pending_format.take() {
                self.apply_pixel_format(pf)?;
            }
        } else {
            self.events
                .push_back(Event::FenceResponse { flags, payload });
        }
        if first {
            self.maybe_enable_continuous();
        }
        Ok(())
    }

    /// SetPixelFormat behind a SyncNext fence (the server supports Fence): the decoders
    /// switch when the fence is answered. A second change before that replaces the first.
    pub(crate) fn set_pixel_format_fenced(&mut self, pf: PixelFormat) -> Result<(), Error> {
        pf.validate().map_err(|source| Error::PixelFormat {
            message: "SetPixelFormat",
            source,
        })?;
        let mut b = Vec::with_capacity(FENCE_HEADER_LEN + PIXEL_FORMAT_FENCE.len() + 20);
        let flags = FenceFlags::REQUEST | FenceFlags::BLOCK_BEFORE | FenceFlags::SYNC_NEXT;
        client_fence(&mut b, flags, PIXEL_FORMAT_FENCE);
        msg::set_pixel_format(&mut b, &pf);
        self.queue(&b);
        self.ext.flow.pending_format = Some(pf);
        Ok(())
    }

    fn apply_pixel_format(&mut self, pf: PixelFormat) -> Result<(), Error> {
        self.decoders
            .set_pixel_format(pf)
            .map_err(|source| Error::PixelFormat {
                message: "SetPixelFormat",
                source,
            })?;
        if let Some(info) = self.info.as_mut() {
            info.pixel_format = pf;
        }
        // What is on screen was decoded in the old format (perhaps fewer colours): ask for all
        // of it again, as TigerVNC's viewer does. Servers honour this even under continuous
        // updates.
        if self.config.auto_update {
            let mut b = Vec::with_capacity(10);
            msg::framebuffer_update_request(
                &mut b,
                false,
                Rect::new(0, 0, self.width, self.height),
            );
            self.queue(&b);
        }
        Ok(())
    }

    /// Handles EndOfContinuousUpdates: the first one announces support; later ones confirm a
    /// disable (or a server-side stop).
    pub(crate) fn on_end_of_continuous_updates(&mut self) {
        let was_active = self.ext.flow.cu_active;
        self.ext.flow.cu_active = false;
        if !self.ext.flow.cu_supported {
            self.ext.flow.cu_supported = true;
            self.events.push_back(Event::ContinuousUpdatesSupported);
            self.maybe_enable_continuous();
        } else {
            self.events
                .push_back(Event::ContinuousUpdatesEnded { was_active });
            // Back to requests: make sure one is outstanding so updates keep flowing.
            if was_active && self.config.auto_update {
                self.ext.flow.in_flight = 0;
                self.top_up_requests();
            }
        }
    }

    fn maybe_enable_continuous(&mut self) {
        let f = &self.ext.flow;
        if self.config.continuous_updates
            && self.config.auto_update
            && f.fence_supported
            && f.cu_supported
            && !f.cu_active
        {
            self.send_enable_continuous_updates(true);
        }
    }

    /// Sends EnableContinuousUpdates for the whole framebuffer (no session check: this also
    /// runs inside message dispatch, where the state is taken out temporarily).
    fn send_enable_continuous_updates(&mut self, enable: bool) {
        let mut b = Vec::with_capacity(10);
        enable_continuous_updates(&mut b, enable, Rect::new(0, 0, self.width, self.height));
        self.queue(&b);
        if enable && !self.ext.flow.cu_active {
            self.ext.flow.cu_active = true;
            self.events.push_back(Event::ContinuousUpdatesStarted);
        }
    }

    /// Turns continuous updates on (for the whole framebuffer) or off. The server must have
    /// announced them ([`Event::ContinuousUpdatesSupported`]); turning them off is confirmed
    /// by [`Event::ContinuousUpdatesEnded`].
    pub fn enable_continuous_updates(&mut self, enable: bool) -> Result<(), Error> {
        self.require_session()?;
        if !self.ext.flow.cu_supported {
            return Err(Error::ApiMisuse(
                "the server has not announced ContinuousUpdates",
            ));
        }
        self.send_enable_continuous_updates(enable);
        Ok(())
    }

    /// True while continuous updates are enabled.
    pub fn continuous_updates_active(&self) -> bool {
        self.ext.flow.cu_active
    }

    /// Sends a ClientFence request with `flags` (the Request bit is added) and up to 64 bytes
    /// of payload; the server's answer arrives as [`Event::FenceResponse`]. The server must
    /// have announced Fence ([`Client::fence_supported`]).
    pub fn send_fence(&mut self, flags: FenceFlags, payload: &[u8]) -> Result<(), Error> {
        self.require_session()?;
        if !self.ext.flow.fence_supported {
            return Err(Error::ApiMisuse("the server has not announced Fence"));
        }
        if payload.len() > MAX_FENCE_PAYLOAD {
            return Err(Error::ApiMisuse("a fence payload is at most 64 bytes"));
        }
        let mut b = Vec::with_capacity(FENCE_HEADER_LEN + payload.len());
        client_fence(&mut b, flags | FenceFlags::REQUEST, payload);
        self.queue(&b);
        Ok(())
    }

    /// Render back-pressure: while held, the automatic update requests wait (the driver is
    /// still drawing the last update, e.g. a browser decoding its images); releasing sends the
    /// requests that were held back. Continuous updates are not affected: the server pushes
    /// those regardless, so a driver bounds its own queue there.
    pub fn hold_update_requests(&mut self, hold: bool) {
        let was = self.ext.flow.held;
        self.ext.flow.held = hold;
        if was && !hold && self.is_connected() {
            self.top_up_requests();
        }
    }

    /// True once the server has sent a ServerFence.
    pub fn fence_supported(&self) -> bool {
        self.ext.flow.fence_supported
    }

    /// Called when a FramebufferUpdate header arrives: with pipelining (depth ≥ 2) the next
    /// requests go out now, so their round trip overlaps this update's transfer.
    pub(crate) fn on_update_start(&mut self) {
        self.ext.flow.in_flight = self.ext.flow.in_flight.saturating_sub(1);
        if self.config.update_pipeline >= 2 {
            self.top_up_requests();
        }
    }

    /// Called when a FramebufferUpdate is complete: one-at-a-time mode requests the next.
    pub(crate) fn on_update_end(&mut self) {
        if self.config.update_pipeline < 2 {
            self.top_up_requests();
        }
    }

    /// Sends incremental requests until the configured number is outstanding (nothing while
    /// continuous updates run: the server ignores incremental requests then).
    fn top_up_requests(&mut self) {
        if !self.config.auto_update || self.ext.flow.cu_active || self.ext.flow.held {
            return;
        }
        let depth = u32::from(self.config.update_pipeline.max(1));
        while self.ext.flow.in_flight < depth {
            let mut b = Vec::with_capacity(10);
            msg::framebuffer_update_request(&mut b, true, Rect::new(0, 0, self.width, self.height));
            self.queue(&b);
            self.ext.flow.in_flight += 1;
        }
    }

    /// After the framebuffer changed size: continuous updates must cover the new area.
    pub(crate) fn on_resized_flow(&mut self) {
        if self.ext.flow.cu_active {
            let mut b = Vec::with_capacity(10);
            enable_continuous_updates(&mut b, true, Rect::new(0, 0, self.width, self.height));
            self.queue(&b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Golden vectors written from the ClientFence and EnableContinuousUpdates tables.
    #[test]
    fn client_fence_bytes() {
        let mut b = Vec::new();
        client_fence(&mut b, FenceFlags::REQUEST | FenceFlags::SYNC_NEXT, b"ab");
        assert_eq!(b, [248, 0, 0, 0, 0x80, 0, 0, 4, 2, b'a', b'b']);
    }

    #[test]
    fn enable_cu_bytes() {
        let mut b = Vec::new();
        enable_continuous_updates(&mut b, true, Rect::new(1, 2, 1024, 768));
        assert_eq!(b, [150, 1, 0, 1, 0, 2, 4, 0, 3, 0]);
        b.clear();
        enable_continuous_updates(&mut b, false, Rect::new(0, 0, 0, 0));
        assert_eq!(b, [150, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn server_fence_parsing() {
        let mut needed = 0;
        assert!(parse_server_fence(&[248, 0, 0], &mut needed).is_none());
        assert_eq!(needed, 9);
        let m = [248, 0, 0, 0, 0x80, 0, 0, 3, 2, 7, 8];
        assert!(parse_server_fence(&m[..10], &mut needed).is_none());
        assert_eq!(needed, 11);
        let (n, f) = parse_server_fence(&m, &mut needed).unwrap();
        assert_eq!(n, 11);
        assert_eq!(f, Some((FenceFlags(0x8000_0003), vec![7, 8])));
        let mut big = vec![248, 0, 0, 0, 0x80, 0, 0, 0, 65];
        big.extend([0; 65]);
        assert_eq!(parse_server_fence(&big, &mut needed), Some((74, None)));
    }
}
