//! Extended clipboard message bodies: parsing what follows a negative *length* in
//! ServerCutText, and encoding ClientCutText with a negative *length*.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#extended-clipboard-pseudo-encoding>

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::{Actions, Caps, ClipboardData, ClipboardError, Formats, from_wire_text};

/// One extended clipboard message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// *caps*: formats, actions and unsolicited size limits.
    Caps(Caps),
    /// *request*: send these formats.
    Request(Formats),
    /// *peek*: send a *notify*.
    Peek,
    /// *notify*: these formats are available.
    Notify(Formats),
    /// *provide*: the data, and the formats its *flags* named (including skipped ones when
    /// parsed; when encoded, the formats to send, taken from the data where present).
    Provide(ClipboardData, Formats),
}

const fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    if b.len() < at + 4 {
        return None;
    }
    Some(u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

/// Parses an extended message body (*flags* onwards, `abs(length)` bytes). `limit` bounds the
/// inflated *provide* data in all; nothing larger than it is ever allocated.
pub fn parse_message(body: &[u8], limit: usize) -> Result<Message, ClipboardError> {
    let flags = u32_at(body, 0).ok_or(ClipboardError::Truncated("flags"))?;
    let formats = Formats::from_flags(flags);
    let actions = Actions::from_flags(flags);
    if actions.contains(Actions::CAPS) {
        let mut max_sizes = Vec::with_capacity(formats.iter().count());
        for (i, f) in formats.iter().enumerate() {
            let size = u32_at(body, 4 + 4 * i).ok_or(ClipboardError::Truncated("sizes"))?;
            max_sizes.push((f, size));
        }
        return Ok(Message::Caps(Caps {
            formats,
            actions: Actions(actions.0 & !Actions::CAPS.0),
            max_sizes,
        }));
    }
    match actions {
        Actions::REQUEST => Ok(Message::Request(formats)),
        Actions::PEEK => Ok(Message::Peek),
        Actions::NOTIFY => Ok(Message::Notify(formats)),
        Actions::PROVIDE => parse_provide(&body[4..], formats, limit),
        _ => Err(ClipboardError::BadActions { flags }),
    }
}

fn parse_provide(z: &[u8], formats: Formats, limit: usize) -> Result<Message, ClipboardError> {
    let mut data = ClipboardData::default();
    if formats.is_empty() {
        return Ok(Message::Provide(data, formats));
    }
    let plain = inflate_bounded(z, limit)?;
    let mut at = 0;
    for f in formats.iter() {
        let size = u32_at(&plain, at).ok_or(ClipboardError::Truncated("provide size"))?;
        let size = size as usize;
        if size > limit {
            return Err(ClipboardError::InflatedTooLarge {
                limit: limit as u64,
            });
        }
        at += 4;
        let bytes = plain
            .get(at..at + size)
            .ok_or(ClipboardError::Truncated("provide data"))?;
        at += size;
        match f {
            Formats::TEXT => data.text = Some(from_wire_text(bytes)),
            Formats::RTF => data.rtf = Some(bytes.to_vec()),
            Formats::HTML => data.html = Some(bytes.to_vec()),
            _ => {} // DIB, files and unknown formats: skipped.
        }
    }
    Ok(Message::Provide(data, formats))
}

/// Inflates a whole zlib stream into at most `limit` bytes. A stream that stops without its
/// end marker (a sync flush, as some servers send) yields what it held.
fn inflate_bounded(z: &[u8], limit: usize) -> Result<Vec<u8>, ClipboardError> {
    let mut d = Decompress::new(true);
    let mut out: Vec<u8> = Vec::new();
    let too_large = ClipboardError::InflatedTooLarge {
        limit: limit as u64,
    };
    loop {
        if out.len() == out.capacity() {
            if out.len() > limit {
                return Err(too_large);
            }
            // Grow geometrically, never past limit + 1 (one byte more shows the overflow).
            let grow = out.len().max(16 * 1024).min(limit + 1 - out.len());
            out.reserve_exact(grow);
        }
        let (in_before, out_before) = (d.total_in(), out.len());
        let consumed = in_before as usize;
        let status = d
            .decompress_vec(&z[consumed.min(z.len())..], &mut out, FlushDecompress::Sync)
            .map_err(|e| ClipboardError::Zlib(e.to_string()))?;
        if out.len() > limit {
            return Err(too_large);
        }
        let progressed = d.total_in() != in_before || out.len() != out_before;
        match status {
            Status::StreamEnd => return Ok(out),
            _ if !progressed && out.len() < out.capacity() => return Ok(out),
            _ if (d.total_in() as usize) >= z.len() && out.len() < out.capacity() => {
                return Ok(out);
            }
            _ => {}
        }
    }
}

/// Appends `plain` as a zlib stream ended by a sync flush, not by the stream's end marker:
/// LibVNCServer (x11vnc) treats the inflater's end-of-stream status as an error and drops the
/// clipboard, and TigerVNC sends its streams the same way, so every peer accepts this form.
fn deflate_sync(plain: &[u8], out: &mut Vec<u8>) {
    let mut c = Compress::new(Compression::default(), true);
    out.reserve(plain.len() / 2 + 64);
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(64));
        }
        let consumed = (c.total_in() as usize).min(plain.len());
        // Compressing into a Vec with spare room cannot fail; stop rather than loop if it did.
        if c.compress_vec(&plain[consumed..], out, FlushCompress::Sync)
            .is_err()
        {
            return;
        }
        // All input taken and room left over: the sync flush is complete.
        if c.total_in() as usize == plain.len() && out.len() < out.capacity() {
            return;
        }
    }
}

/// Appends a complete ClientCutText carrying `m` in the extended format (*length* negative).
pub fn encode(out: &mut Vec<u8>, m: &Message) {
    let mut body = Vec::new();
    match m {
        Message::Caps(c) => {
            body.extend_from_slice(&(c.formats.0 | c.actions.0 | Actions::CAPS.0).to_be_bytes());
            for f in c.formats.iter() {
                body.extend_from_slice(&c.max_size(f).unwrap_or(0).to_be_bytes());
            }
        }
        Message::Request(f) => body.extend_from_slice(&(f.0 | Actions::REQUEST.0).to_be_bytes()),
        Message::Peek => body.extend_from_slice(&Actions::PEEK.0.to_be_bytes()),
        Message::Notify(f) => body.extend_from_slice(&(f.0 | Actions::NOTIFY.0).to_be_bytes()),
        Message::Provide(data, want) => {
            // Only formats both wanted and present are sent.
            let formats = want.intersect(data.formats());
            body.extend_from_slice(&(formats.0 | Actions::PROVIDE.0).to_be_bytes());
            let mut plain = Vec::new();
            for f in formats.iter() {
                let bytes = data.wire_bytes(f).unwrap_or_default();
                plain.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                plain.extend_from_slice(&bytes);
            }
            deflate_sync(&plain, &mut body);
        }
    }
    out.extend_from_slice(&[6, 0, 0, 0]);
    // Bodies are bounded by the 256 MiB check in `send_clipboard`, far below i32::MAX.
    out.extend_from_slice(&(-(body.len() as i32)).to_be_bytes());
    out.extend_from_slice(&body);
}
