//! The ServerCutText states for extended messages: framing by the negative *length*, the
//! limit check before buffering, and skipping over-limit messages without buffering them.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#extended-clipboard-pseudo-encoding>

use super::{ClipboardError, ClipboardEvent};
use crate::client::{Client, Step};
use crate::event::Event;
use crate::session::Session;

impl Client {
    /// The state after an extended ServerCutText header whose *length* field read `raw`
    /// (negative as `S32`): buffer `abs(length)` bytes, or skip them when over the limit.
    pub(crate) fn extended_cut_text(&mut self, raw: u32) -> Session {
        let len = (raw as i32).unsigned_abs();
        let max = self.config.limits.max_cut_text;
        self.needed = 1;
        if len > max {
            self.events
                .push_back(Event::Clipboard(ClipboardEvent::Ignored(
                    ClipboardError::MessageTooLarge {
                        len: u64::from(len),
                        limit: u64::from(max),
                    },
                )));
            return Session::CutTextSkip { left: len };
        }
        Session::CutTextExtended {
            left: len,
            // Grows as bytes arrive; the limit bounds it.
            buf: Vec::with_capacity((len as usize).min(64 * 1024)),
        }
    }

    /// Buffers an extended body; acts on it once complete.
    pub(crate) fn extended_cut_text_body(
        &mut self,
        left: u32,
        mut buf: Vec<u8>,
        input: &[u8],
    ) -> (Session, Step) {
        if left == 0 {
            self.handle_extended_clipboard(&buf);
            self.needed = 1;
            return (Session::Idle, Ok(Some(0)));
        }
        if input.is_empty() {
            self.needed = 1;
            return (Session::CutTextExtended { left, buf }, Ok(None));
        }
        let n = input.len().min(left as usize);
        buf.extend_from_slice(&input[..n]);
        let left = left - n as u32;
        (Session::CutTextExtended { left, buf }, Ok(Some(n)))
    }

    /// Discards an over-limit extended body as it arrives.
    pub(crate) fn extended_cut_text_skip(&mut self, left: u32, input: &[u8]) -> (Session, Step) {
        self.needed = 1;
        if input.is_empty() {
            return (Session::CutTextSkip { left }, Ok(None));
        }
        let n = input.len().min(left as usize);
        let left = left - n as u32;
        let next = if left == 0 {
            Session::Idle
        } else {
            Session::CutTextSkip { left }
        };
        (next, Ok(Some(n)))
    }
}
