//! Decoder contexts of Open H.264, keyed by rectangle, with the spec's reset flags and its
//! rule for more than 64 contexts.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#open-h264-encoding>:
//! "The client must support 64 simultaneously contexts. [...] When trying to create a new
//! context beyond 64, the client must destroy the oldest context, then create the new one.
//! The oldest context is the one that has not received frame updates for the longest time."
//!
//! Age is counted in rectangles, not time (this crate reads no clock): every rectangle that
//! uses a context makes it the youngest.

use super::H264Rect;
use crate::geometry::Rect;

/// The number of contexts the spec requires a client to hold, and the default cap of
/// [`H264Contexts`]: each context is a whole H.264 decoder with its reference pictures, so
/// more is memory a server could make the client spend for nothing.
pub const MAX_H264_CONTEXTS: usize = 64;

/// The decoder contexts of one connection, generic over the decoder type `D` (a native
/// decoder, a handle to a browser `VideoDecoder`, …).
///
/// ```
/// use rfb_encodings::{H264Contexts, H264Flags, H264Rect, Rect};
/// let mut cx: H264Contexts<u32> = H264Contexts::new(2);
/// let r = Rect::new(0, 0, 16, 16);
/// let data = [0, 0, 0, 1, 0x65, 0x88];
/// let d = cx.prepare(&H264Rect::new(r, H264Flags(0), &data), || Ok::<_, ()>(7));
/// assert_eq!(d, Ok(Some(&mut 7)));
/// // ResetAllContexts with no data: a control message that only drops contexts.
/// let d = cx.prepare(&H264Rect::new(r, H264Flags(2), &[]), || Ok::<_, ()>(8));
/// assert_eq!(d, Ok(None));
/// assert!(cx.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct H264Contexts<D> {
    max: usize,
    /// Rectangles seen; the age stamp of a context is the count when it was last used.
    clock: u64,
    slots: Vec<Slot<D>>,
}

#[derive(Debug, Clone)]
struct Slot<D> {
    rect: Rect,
    used: u64,
    decoder: D,
}

impl<D> Default for H264Contexts<D> {
    fn default() -> Self {
        Self::new(MAX_H264_CONTEXTS)
    }
}

impl<D> H264Contexts<D> {
    /// At most `max` contexts (at least 1); creating one more destroys the oldest.
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            clock: 0,
            slots: Vec::new(),
        }
    }

    /// Number of live contexts.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when no context is live.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// True when `rect` has a live context.
    pub fn contains(&self, rect: Rect) -> bool {
        self.slots.iter().any(|s| s.rect == rect)
    }

    /// Applies **ResetAllContexts** / **ResetContext** of `msg`.
    pub fn apply_flags(&mut self, msg: &H264Rect<'_>) {
        if msg.flags.reset_all_contexts() {
            self.slots.clear();
        }
        if msg.flags.reset_context() {
            self.slots.retain(|s| s.rect != msg.rect);
        }
    }

    /// The context of `rect`, made with `make` when there is none (destroying the oldest if
    /// the cap is reached). Either way it becomes the youngest.
    pub fn get_or_insert_with<E>(
        &mut self,
        rect: Rect,
        make: impl FnOnce() -> Result<D, E>,
    ) -> Result<&mut D, E> {
        self.clock += 1;
        let i = match self.slots.iter().position(|s| s.rect == rect) {
            Some(i) => i,
            None => {
                let decoder = make()?;
                if self.slots.len() >= self.max {
                    // The cap is at least 1, so there is an oldest slot to drop.
                    if let Some(oldest) = (0..self.slots.len()).min_by_key(|&i| self.slots[i].used)
                    {
                        self.slots.swap_remove(oldest);
                    }
                }
                self.slots.push(Slot {
                    rect,
                    used: 0,
                    decoder,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[i];
        slot.used = self.clock;
        Ok(&mut slot.decoder)
    }

    /// Applies the flags of `msg`, then returns the context its data is decoded with, or
    /// `None` for a control message (empty data), which creates no context.
    pub fn prepare<E>(
        &mut self,
        msg: &H264Rect<'_>,
        make: impl FnOnce() -> Result<D, E>,
    ) -> Result<Option<&mut D>, E> {
        self.apply_flags(msg);
        if msg.data.is_empty() {
            return Ok(None);
        }
        self.get_or_insert_with(msg.rect, make).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h264::H264Flags;

    fn r(x: u16) -> Rect {
        Rect::new(x, 0, 16, 16)
    }

    fn ok(v: u32) -> impl FnOnce() -> Result<u32, ()> {
        move || Ok(v)
    }

    #[test]
    fn keyed_by_whole_rect() {
        let mut c = H264Contexts::new(8);
        assert_eq!(*c.get_or_insert_with(r(0), ok(1)).unwrap(), 1);
        assert_eq!(*c.get_or_insert_with(r(0), ok(2)).unwrap(), 1);
        // Same corner, other size: another context.
        let other = Rect::new(0, 0, 16, 32);
        assert_eq!(*c.get_or_insert_with(other, ok(3)).unwrap(), 3);
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn evicts_least_recently_used() {
        let mut c = H264Contexts::new(3);
        for x in 0..3 {
            c.get_or_insert_with(r(x), ok(u32::from(x))).unwrap();
        }
        // Touch 0, so 1 is now the oldest.
        c.get_or_insert_with(r(0), ok(99)).unwrap();
        c.get_or_insert_with(r(3), ok(3)).unwrap();
        assert_eq!(c.len(), 3);
        assert!(c.contains(r(0)) && !c.contains(r(1)) && c.contains(r(2)) && c.contains(r(3)));
    }

    #[test]
    fn resets() {
        let mut c = H264Contexts::new(8);
        c.get_or_insert_with(r(0), ok(0)).unwrap();
        c.get_or_insert_with(r(1), ok(1)).unwrap();
        let data = [0, 0, 1, 0x65, 0x88];
        // ResetContext drops only its own rectangle's context, then the data makes a new one.
        let d = c
            .prepare(&H264Rect::new(r(0), H264Flags(1), &data), ok(10))
            .unwrap();
        assert_eq!(d.copied(), Some(10));
        assert_eq!(*c.get_or_insert_with(r(1), ok(11)).unwrap(), 1);
        // Unknown bits are ignored.
        let d = c
            .prepare(&H264Rect::new(r(1), H264Flags(0xffff_fffc), &data), ok(12))
            .unwrap();
        assert_eq!(d.copied(), Some(1));
        let d = c
            .prepare(&H264Rect::new(r(5), H264Flags(2), &[]), ok(13))
            .unwrap();
        assert_eq!(d, None);
        assert!(c.is_empty());
    }

    #[test]
    fn failed_make_leaves_contexts_alone() {
        let mut c = H264Contexts::new(1);
        c.get_or_insert_with(r(0), ok(0)).unwrap();
        assert_eq!(
            c.get_or_insert_with(r(1), || Err("no decoder")),
            Err("no decoder")
        );
        assert!(c.contains(r(0)));
    }
}
