//! H.264 Annex B byte streams: NAL units behind start codes, grouped into access units.
//!
//! Spec: ITU-T H.264 Annex B (byte stream format) for the start codes, and clause 7.4.1.2.3
//! for where an access unit begins. Open H.264 rectangles carry "one or more H.264 frames
//! glued together in a row"; a decoder such as WebCodecs' `VideoDecoder` wants them one
//! access unit (one coded picture with its parameter sets) at a time, so they are split here.
//!
//! Nothing is decoded and nothing is allocated: the iterators hand out sub-slices of the
//! rectangle's data. Malformed input yields odd slices, never a panic: the H.264 decoder that
//! gets them is the one to judge the bits (the spec leaves decoding errors to the client).

/// Coded slice of a non-IDR picture.
pub const NAL_SLICE: u8 = 1;
/// Coded slice of an IDR picture: the access unit can be decoded on its own.
pub const NAL_IDR: u8 = 5;
/// Supplemental enhancement information.
pub const NAL_SEI: u8 = 6;
/// Sequence parameter set.
pub const NAL_SPS: u8 = 7;
/// Picture parameter set.
pub const NAL_PPS: u8 = 8;
/// Access unit delimiter.
pub const NAL_AUD: u8 = 9;

/// One NAL unit of an Annex B stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NalUnit<'a> {
    /// `nal_unit_type` (low 5 bits of the NAL header), or `None` for a start code with no
    /// byte after it.
    pub nal_type: Option<u8>,
    /// The NAL unit from its header byte on, without the start code (and still with any
    /// emulation-prevention bytes: nothing is unescaped).
    pub data: &'a [u8],
}

/// Where one NAL unit sits in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Nal {
    /// First byte of its start code, with a preceding `zero_byte` when the start code is
    /// the 4-byte form, so that splitting the stream there keeps each start code whole.
    start: usize,
    /// Index of its header byte (just past `00 00 01`).
    header: usize,
}

/// The first `00 00 01` at or after `from`, as the index of its first byte.
fn find_prefix(data: &[u8], from: usize) -> Option<usize> {
    let rest = data.get(from..)?;
    rest.windows(3)
        .position(|w| w == [0, 0, 1])
        .map(|i| from + i)
}

/// The next NAL unit whose start code begins at or after `from`.
fn nal_at(data: &[u8], from: usize) -> Option<Nal> {
    let p = find_prefix(data, from)?;
    let start = if p > from && data[p - 1] == 0 {
        p - 1
    } else {
        p
    };
    Some(Nal {
        start,
        header: p + 3,
    })
}

/// The NAL units of `data`. Bytes before the first start code belong to no NAL unit and are
/// skipped; each unit ends where the next start code begins.
pub fn nal_units(data: &[u8]) -> impl Iterator<Item = NalUnit<'_>> {
    let mut next = nal_at(data, 0);
    core::iter::from_fn(move || {
        let nal = next?;
        next = nal_at(data, nal.header);
        let end = next.map_or(data.len(), |n| n.start);
        let body = data.get(nal.header..end).unwrap_or_default();
        Some(NalUnit {
            nal_type: body.first().map(|b| b & 0x1f),
            data: body,
        })
    })
}

/// True for the NAL types that carry coded slices of the primary picture.
fn is_vcl(nal_type: u8) -> bool {
    (NAL_SLICE..=NAL_IDR).contains(&nal_type)
}

/// Whether a NAL unit that follows a coded picture begins the next access unit (7.4.1.2.3):
/// delimiters, SEI, parameter sets and the reserved types 14–18 do; so does a slice whose
/// `first_mb_in_slice` is 0 (its `ue(v)` code is the single bit `1`, the first bit after the
/// header), which is how encoders that never send slices out of order (x264, FFmpeg,
/// OpenH264) start each picture.
fn starts_access_unit(nal_type: u8, first_payload_byte: Option<u8>) -> bool {
    match nal_type {
        NAL_SEI | NAL_SPS | NAL_PPS | NAL_AUD | 14..=18 => true,
        t if is_vcl(t) => first_payload_byte.is_some_and(|b| b & 0x80 != 0),
        _ => false,
    }
}

/// One access unit: the NAL units of one coded picture, start codes included, ready to be
/// handed to a decoder as one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessUnit<'a> {
    /// The Annex B bytes of the unit, from its first start code to the next unit's.
    pub data: &'a [u8],
    /// True when the unit holds an IDR slice (WebCodecs' `"key"` chunk type).
    pub idr: bool,
}

impl<'a> AccessUnit<'a> {
    /// The NAL units of this access unit.
    pub fn nal_units(&self) -> impl Iterator<Item = NalUnit<'a>> + use<'a> {
        nal_units(self.data)
    }
}

/// Splits Annex B `data` into access units, in order. Bytes before the first start code are
/// skipped (no decoder could use them).
pub fn access_units(data: &[u8]) -> impl Iterator<Item = AccessUnit<'_>> {
    let mut pos = 0;
    core::iter::from_fn(move || {
        let first = nal_at(data, pos)?;
        let mut nal = first;
        let mut has_vcl = false;
        let mut idr = false;
        let end = loop {
            let ty = data.get(nal.header).map(|b| b & 0x1f);
            if let Some(t) = ty {
                if nal != first
                    && has_vcl
                    && starts_access_unit(t, data.get(nal.header + 1).copied())
                {
                    break nal.start;
                }
                has_vcl |= is_vcl(t);
                idr |= t == NAL_IDR;
            }
            match nal_at(data, nal.header) {
                Some(n) => nal = n,
                None => break data.len(),
            }
        };
        pos = end;
        Some(AccessUnit {
            data: &data[first.start..end],
            idr,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A NAL unit with a 4-byte start code: header byte `nal_ref_idc << 5 | type`.
    fn nal(ty: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 1, 0x60 | ty];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn splits_pictures() {
        let idr = [nal(7, &[1, 2]), nal(8, &[3]), nal(5, &[0x88, 4])].concat();
        // Two slices of one P picture (the second has first_mb_in_slice != 0), then another.
        let p1 = [nal(1, &[0x9a, 5]), nal(1, &[0x40, 6])].concat();
        let p2 = nal(1, &[0x9a, 7]);
        let all = [idr.clone(), p1.clone(), p2.clone()].concat();
        let aus: Vec<_> = access_units(&all).collect();
        assert_eq!(aus.len(), 3);
        assert_eq!(aus[0].data, &idr[..]);
        assert!(aus[0].idr);
        assert_eq!(aus[1].data, &p1[..]);
        assert!(!aus[1].idr);
        assert_eq!(aus[2].data, &p2[..]);
        let types: Vec<_> = aus[0].nal_units().map(|n| n.nal_type).collect();
        assert_eq!(types, [Some(7), Some(8), Some(5)]);
    }

    #[test]
    fn three_byte_start_codes_and_leading_junk() {
        let data = [9, 9, 0, 0, 1, 0x65, 0x88, 0, 0, 1, 0x41, 0x9a, 1];
        let aus: Vec<_> = access_units(&data).collect();
        assert_eq!(aus.len(), 2);
        assert_eq!(aus[0].data, &data[2..7]);
        assert_eq!(aus[1].data, &data[7..]);
    }

    #[test]
    fn odd_input_never_panics() {
        for data in [
            &[][..],
            &[0, 0, 1],
            &[0, 0, 0, 1],
            &[0, 0, 1, 0, 0, 1],
            &[1, 2, 3],
            &[0, 0, 1, 0x65],
            &[0, 0, 1, 0x65, 0x80, 0, 0, 1, 0x65, 0x80, 0, 0, 1],
        ] {
            let total: usize = access_units(data).map(|a| a.data.len()).sum();
            assert!(total <= data.len());
            for au in access_units(data) {
                let _ = au.nal_units().count();
            }
            let _ = nal_units(data).count();
        }
        assert_eq!(access_units(&[1, 2, 3]).count(), 0);
    }
}
