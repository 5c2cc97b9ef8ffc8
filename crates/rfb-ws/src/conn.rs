//! The WebSocket connection state machine: frames in, data chunks and control events out,
//! with the close handshake, ping replies, limits and UTF-8 validation (RFC 6455 §5–§7).
//!
//! Data frames are streamed: each `handle_input` call emits the payload bytes that arrived,
//! unmasked, without waiting for the frame or the message to end, so a proxy never buffers a
//! whole message (websockify buffers without limit).

use std::collections::VecDeque;

use rand_core::RngCore;

use crate::close::CloseCode;
use crate::frame::{
    FrameHeader, MAX_HEADER, Opcode, apply_mask, encode_header, parse_header, write_header,
};

/// Which end of the connection this is: servers require masked frames from clients, and
/// clients mask what they send (RFC 6455 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The accepting side (the proxy).
    Server,
    /// The connecting side.
    Client,
}

/// Size limits on what the peer may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame payload accepted (close 1009 above it).
    pub max_frame: u64,
    /// Largest message (all fragments) accepted (close 1009 above it).
    pub max_message: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // noVNC sends small input messages; servers' updates arrive in the other direction.
        // 16 MiB frames / 64 MiB messages cover any real client while bounding abuse.
        Self {
            max_frame: 16 << 20,
            max_message: 64 << 20,
        }
    }
}

/// A protocol violation by the peer. `code` is the close code sent in response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WebSocket protocol error ({code}): {kind}")]
pub struct WsError {
    /// The close code this client/server sent because of it.
    pub code: CloseCode,
    /// What was wrong.
    pub kind: WsErrorKind,
}

/// What a peer did wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WsErrorKind {
    /// A client frame without a mask (server role).
    #[error("client frame is not masked")]
    Unmasked,
    /// A server frame with a mask (client role).
    #[error("server frame is masked")]
    Masked,
    /// RSV bits set without a negotiated extension.
    #[error("reserved bits {0:#x} set")]
    ReservedBits(u8),
    /// A reserved opcode.
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// A control frame with FIN clear.
    #[error("fragmented control frame")]
    FragmentedControl,
    /// A control frame longer than 125 bytes.
    #[error("control frame of {0} bytes (at most 125)")]
    ControlTooLong(u64),
    /// A continuation frame with no message in progress.
    #[error("continuation frame without a message to continue")]
    UnexpectedContinuation,
    /// A new text/binary frame while a fragmented message is in progress.
    #[error("new message started before the previous one finished")]
    ExpectedContinuation,
    /// A 64-bit length with the top bit set.
    #[error("frame length has its most significant bit set")]
    BadLength,
    /// A frame over [`Limits::max_frame`].
    #[error("frame of {len} bytes exceeds the limit of {limit}")]
    FrameTooLarge {
        /// Announced length.
        len: u64,
        /// Limit.
        limit: u64,
    },
    /// A message over [`Limits::max_message`].
    #[error("message exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// Limit.
        limit: u64,
    },
    /// A text message or close reason that is not UTF-8.
    #[error("invalid UTF-8 in a text message or close reason")]
    InvalidUtf8,
    /// A close frame with a one-byte payload or an invalid code.
    #[error("invalid close frame: {0}")]
    BadClose(String),
    /// Bytes arrived after the close handshake finished.
    #[error("data after the connection was closed")]
    AfterClose,
}

/// What the peer sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsEvent {
    /// Payload bytes of a data message, in order. `first` marks the first chunk of a new
    /// message, `last` the final chunk of it (a message may arrive in many chunks; an empty
    /// message arrives as one empty chunk with both set).
    Data {
        /// Text (UTF-8 validated) or binary.
        text: bool,
        /// The bytes.
        data: Vec<u8>,
        /// First chunk of a message.
        first: bool,
        /// Last chunk of the message.
        last: bool,
    },
    /// A ping (a pong has already been queued).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The peer closed; the reply has been queued if we had not closed first.
    Close {
        /// The code, or `None` when the frame had no payload (1005).
        code: Option<CloseCode>,
        /// The reason text.
        reason: String,
    },
}

#[derive(Debug)]
struct InFrame {
    header: FrameHeader,
    /// Payload bytes already consumed.
    done: u64,
}

#[derive(Debug)]
struct InMessage {
    text: bool,
    total: u64,
    started: bool,
    /// The last bytes of a text message that may be the start of a split UTF-8 sequence.
    utf8_tail: Vec<u8>,
}

/// A sans-IO WebSocket endpoint after the handshake.
///
/// ```
/// use rfb_ws::{Role, WsConnection, WsEvent};
/// let mut ws = WsConnection::new(Role::Server, Default::default(), None);
/// // RFC 6455 §5.7: a masked text frame carrying "Hello".
/// let frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// assert_eq!(ws.handle_input(&frame).unwrap(), frame.len());
/// let ev = ws.poll_event().unwrap();
/// assert!(matches!(ev, WsEvent::Data { text: true, ref data, first: true, last: true } if data == b"Hello"));
/// ```
pub struct WsConnection {
    role: Role,
    limits: Limits,
    frame: Option<InFrame>,
    message: Option<InMessage>,
    control: Vec<u8>,
    out: Vec<u8>,
    events: VecDeque<WsEvent>,
    close_sent: bool,
    close_received: bool,
    error: Option<WsError>,
    needed: usize,
    rng: Option<Box<dyn RngCore + Send>>,
}

impl core::fmt::Debug for WsConnection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WsConnection")
            .field("role", &self.role)
            .field("close_sent", &self.close_sent)
            .field("close_received", &self.close_received)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl WsConnection {
    /// A connection in `role`. A client needs `rng` for its masking keys (RFC 6455 requires
    /// unpredictable keys); a server passes `None`.
    pub fn new(role: Role, limits: Limits, rng: Option<Box<dyn RngCore + Send>>) -> Self {
        Self {
            role,
            limits,
            frame: None,
            message: None,
            control: Vec::new(),
            out: Vec::new(),
            events: VecDeque::new(),
            close_sent: false,
            close_received: false,
            error: None,
            needed: 2,
            rng,
        }
    }

    /// Bytes to send to the peer.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.out.is_empty()).then(|| core::mem::take(&mut self.out))
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<WsEvent> {
        self.events.pop_front()
    }

    /// Fewest bytes the next step needs.
    pub fn bytes_needed(&self) -> usize {
        self.needed
    }

    /// True once both sides have sent a close frame (the transport may be shut down), or
    /// after a protocol error.
    pub fn is_closed(&self) -> bool {
        (self.close_sent && self.close_received) || self.error.is_some()
    }

    /// True once a close frame was sent.
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    fn mask_key(&mut self) -> Option<[u8; 4]> {
        match self.role {
            Role::Server => None,
            Role::Client => {
                let mut k = [0u8; 4];
                if let Some(r) = self.rng.as_mut() {
                    r.fill_bytes(&mut k);
                }
                Some(k)
            }
        }
    }

    fn queue_frame(&mut self, opcode: Opcode, payload: &[u8]) {
        let mask = self.mask_key();
        write_header(&mut self.out, true, opcode, mask, payload.len() as u64);
        let start = self.out.len();
        self.out.extend_from_slice(payload);
        if let Some(k) = mask {
            apply_mask(&mut self.out[start..], k, 0);
        }
    }

    /// Queues a binary message as one frame. Ignored after a close frame was sent.
    pub fn send_binary(&mut self, data: &[u8]) {
        if !self.close_sent {
            self.queue_frame(Opcode::Binary, data);
        }
    }

    /// Frames `buf[MAX_HEADER..]` as one binary message where it lies, without copying it
    /// into [`poll_transmit`](Self::poll_transmit)'s queue: writes the header into the room
    /// before the payload (and masks the payload in place in the client role). Returns where
    /// the frame starts: send `buf[start..]` whole, before any later frame. Frames already
    /// queued for `poll_transmit` may go before or after it (each frame is whole, which is
    /// all RFC 6455 §5.4 asks). `None`, with nothing to send, after a close frame was sent or
    /// when `buf` is shorter than [`MAX_HEADER`].
    ///
    /// This is the proxy's bulk path: a server's updates go from the read buffer to the
    /// socket with no copy in between.
    pub fn send_binary_in_place(&mut self, buf: &mut [u8]) -> Option<usize> {
        if self.close_sent || buf.len() < MAX_HEADER {
            return None;
        }
        let mask = self.mask_key();
        let (room, payload) = buf.split_at_mut(MAX_HEADER);
        if let Some(k) = mask {
            apply_mask(payload, k, 0);
        }
        let (h, n) = encode_header(true, Opcode::Binary, mask, payload.len() as u64);
        let start = MAX_HEADER - n;
        room[start..].copy_from_slice(&h[..n]);
        Some(start)
    }

    /// Queues a text message as one frame.
    pub fn send_text(&mut self, text: &str) {
        if !self.close_sent {
            self.queue_frame(Opcode::Text, text.as_bytes());
        }
    }

    /// Queues a ping (payload cut to 125 bytes).
    pub fn send_ping(&mut self, payload: &[u8]) {
        if !self.close_sent {
            self.queue_frame(Opcode::Ping, &payload[..payload.len().min(125)]);
        }
    }

    /// Starts (or answers) the close handshake. The reason is cut to fit a control frame at
    /// a character boundary. Codes that must not be sent (1005, 1006, 1015) become 1000.
    pub fn send_close(&mut self, code: CloseCode, reason: &str) {
        if self.close_sent {
            return;
        }
        let code = if code.may_be_sent() {
            code
        } else {
            CloseCode::Normal
        };
        let mut end = reason.len().min(123);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let mut p = code.to_u16().to_be_bytes().to_vec();
        p.extend_from_slice(&reason.as_bytes()[..end]);
        self.queue_frame(Opcode::Close, &p);
        self.close_sent = true;
    }

    fn fail(&mut self, code: CloseCode, kind: WsErrorKind) -> WsError {
        let e = WsError { code, kind };
        let reason = e.kind.to_string();
        self.send_close(code, &reason);
        self.error = Some(e.clone());
        self.frame = None;
        e
    }

    /// Feeds bytes from the peer; returns how many were consumed (keep the rest).
    pub fn handle_input(&mut self, input: &[u8]) -> Result<usize, WsError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let mut pos = 0;
        loop {
            if self.frame.is_none() {
                if pos == input.len() {
                    self.needed = 2;
                    return Ok(pos);
                }
                if self.close_received {
                    return Err(self.fail(CloseCode::Protocol, WsErrorKind::AfterClose));
                }
                let mut need = 2;
                match parse_header(&input[pos..], &mut need) {
                    Err(()) => return Err(self.fail(CloseCode::Protocol, WsErrorKind::BadLength)),
                    Ok(None) => {
                        self.needed = need;
                        return Ok(pos);
                    }
                    Ok(Some((n, h))) => {
                        pos += n;
                        self.begin_frame(h)?;
                    }
                }
            }
            let n = self.payload(&input[pos..])?;
            pos += n;
            if self.frame.is_some() && pos == input.len() {
                return Ok(pos);
            }
        }
    }

    fn begin_frame(&mut self, h: FrameHeader) -> Result<(), WsError> {
        use WsErrorKind as K;
        if h.rsv != 0 {
            return Err(self.fail(CloseCode::Protocol, K::ReservedBits(h.rsv)));
        }
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err(self.fail(CloseCode::Protocol, K::Unmasked)),
            (Role::Client, true) => return Err(self.fail(CloseCode::Protocol, K::Masked)),
            _ => {}
        }
        if let Opcode::Reserved(v) = h.opcode {
            return Err(self.fail(CloseCode::Protocol, K::ReservedOpcode(v)));
        }
        if h.opcode.is_control() {
            if !h.fin {
                return Err(self.fail(CloseCode::Protocol, K::FragmentedControl));
            }
            if h.len > 125 {
                return Err(self.fail(CloseCode::Protocol, K::ControlTooLong(h.len)));
            }
            self.control.clear();
        } else {
            if h.len > self.limits.max_frame {
                let limit = self.limits.max_frame;
                return Err(self.fail(CloseCode::TooBig, K::FrameTooLarge { len: h.len, limit }));
            }
            match (h.opcode, self.message.is_some()) {
                (Opcode::Continuation, false) => {
                    return Err(self.fail(CloseCode::Protocol, K::UnexpectedContinuation));
                }
                (Opcode::Text | Opcode::Binary, true) => {
                    return Err(self.fail(CloseCode::Protocol, K::ExpectedContinuation));
                }
                (Opcode::Text | Opcode::Binary, false) => {
                    self.message = Some(InMessage {
                        text: h.opcode == Opcode::Text,
                        total: 0,
                        started: false,
                        utf8_tail: Vec::new(),
                    });
                }
                _ => {}
            }
            let limit = self.limits.max_message;
            let total = self.message.as_ref().map_or(0, |m| m.total);
            if total.saturating_add(h.len) > limit {
                return Err(self.fail(CloseCode::TooBig, K::MessageTooLarge { limit }));
            }
        }
        self.frame = Some(InFrame { header: h, done: 0 });
        Ok(())
    }

    /// Consumes payload bytes of the frame in progress; finishes it when complete.
    fn payload(&mut self, input: &[u8]) -> Result<usize, WsError> {
        let Some(f) = self.frame.as_mut() else {
            return Ok(0);
        };
        let h = f.header;
        let left = h.len - f.done;
        let n = (input.len() as u64).min(left) as usize;
        let mut chunk = input[..n].to_vec();
        if let Some(k) = h.mask {
            apply_mask(&mut chunk, k, f.done);
        }
        f.done += n as u64;
        let complete = f.done == h.len;
        if h.opcode.is_control() {
            self.control.extend_from_slice(&chunk);
            if complete {
                self.frame = None;
                self.control_frame(h.opcode)?;
            } else {
                self.needed = (left as usize) - n;
            }
            return Ok(n);
        }
        if complete {
            self.frame = None;
        }
        let last = complete && h.fin;
        if n > 0 || last {
            self.data(chunk, last)?;
        }
        if !complete {
            self.needed = 1;
        }
        Ok(n)
    }

    fn data(&mut self, chunk: Vec<u8>, last: bool) -> Result<(), WsError> {
        let Some(m) = self.message.as_mut() else {
            return Ok(());
        };
        m.total += chunk.len() as u64;
        if m.text && !utf8_step(&mut m.utf8_tail, &chunk, last) {
            return Err(self.fail(CloseCode::InvalidPayload, WsErrorKind::InvalidUtf8));
        }
        let first = !m.started;
        m.started = true;
        let text = m.text;
        if last {
            self.message = None;
        }
        self.events.push_back(WsEvent::Data {
            text,
            data: chunk,
            first,
            last,
        });
        Ok(())
    }

    fn control_frame(&mut self, op: Opcode) -> Result<(), WsError> {
        let payload = core::mem::take(&mut self.control);
        match op {
            Opcode::Ping => {
                if !self.close_sent {
                    self.queue_frame(Opcode::Pong, &payload);
                }
                self.events.push_back(WsEvent::Ping(payload));
            }
            Opcode::Pong => self.events.push_back(WsEvent::Pong(payload)),
            _ => {
                let (code, reason) = match payload.len() {
                    0 => (None, String::new()),
                    1 => {
                        return Err(self.fail(
                            CloseCode::Protocol,
                            WsErrorKind::BadClose("one-byte payload".into()),
                        ));
                    }
                    _ => {
                        let c = CloseCode::from_u16(u16::from_be_bytes([payload[0], payload[1]]));
                        if !c.is_valid_received() {
                            return Err(self.fail(
                                CloseCode::Protocol,
                                WsErrorKind::BadClose(format!("code {}", c.to_u16())),
                            ));
                        }
                        let Ok(r) = String::from_utf8(payload[2..].to_vec()) else {
                            return Err(
                                self.fail(CloseCode::InvalidPayload, WsErrorKind::InvalidUtf8)
                            );
                        };
                        (Some(c), r)
                    }
                };
                self.close_received = true;
                // Echo the peer's code, as RFC 6455 §5.5.1 suggests and websockify does.
                self.send_close(code.unwrap_or(CloseCode::Normal), "");
                self.events.push_back(WsEvent::Close { code, reason });
            }
        }
        Ok(())
    }
}

/// Validates the next chunk of a text message, keeping an incomplete trailing sequence for
/// the next chunk. Returns false on invalid UTF-8 (or a sequence cut off at the end).
fn utf8_step(tail: &mut Vec<u8>, chunk: &[u8], last: bool) -> bool {
    let joined;
    let buf: &[u8] = if tail.is_empty() {
        chunk
    } else {
        joined = [tail.as_slice(), chunk].concat();
        &joined
    };
    match core::str::from_utf8(buf) {
        Ok(_) => {
            tail.clear();
            true
        }
        Err(e) if e.error_len().is_none() && !last => {
            *tail = buf[e.valid_up_to()..].to_vec();
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed "RNG" so that two client connections mask alike.
    struct Fixed;
    impl RngCore for Fixed {
        fn next_u32(&mut self) -> u32 {
            0x3d21_fa37
        }
        fn next_u64(&mut self) -> u64 {
            0x3d21_fa37_3d21_fa37
        }
        fn fill_bytes(&mut self, d: &mut [u8]) {
            for (i, b) in d.iter_mut().enumerate() {
                *b = [0x37, 0xfa, 0x21, 0x3d][i % 4];
            }
        }
        fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(d);
            Ok(())
        }
    }

    fn conn(role: Role) -> WsConnection {
        let rng: Option<Box<dyn RngCore + Send>> = match role {
            Role::Server => None,
            Role::Client => Some(Box::new(Fixed)),
        };
        WsConnection::new(role, Limits::default(), rng)
    }

    #[test]
    fn in_place_frames_equal_queued_frames_at_every_length_encoding() {
        for role in [Role::Server, Role::Client] {
            for len in [0usize, 1, 125, 126, 65535, 65536, 70000] {
                let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let mut queued = conn(role);
                queued.send_binary(&payload);
                let want = queued.poll_transmit().unwrap();
                let mut buf = vec![0xeeu8; MAX_HEADER];
                buf.extend_from_slice(&payload);
                let mut in_place = conn(role);
                let start = in_place.send_binary_in_place(&mut buf).unwrap();
                assert_eq!(&buf[start..], &want[..], "{role:?} {len}");
                assert!(in_place.poll_transmit().is_none());
            }
        }
    }

    #[test]
    fn nothing_is_framed_after_close_or_without_room() {
        let mut ws = conn(Role::Server);
        assert_eq!(ws.send_binary_in_place(&mut [0u8; MAX_HEADER - 1]), None);
        ws.send_close(CloseCode::Normal, "");
        let mut buf = vec![0u8; MAX_HEADER + 4];
        assert_eq!(ws.send_binary_in_place(&mut buf), None);
    }
}
