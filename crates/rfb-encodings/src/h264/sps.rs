//! The few fields of an H.264 sequence parameter set a driver needs before decoding: the
//! profile and level (WebCodecs' codec string) and the coded picture size (to refuse a picture
//! far larger than its rectangle before a decoder allocates it).
//!
//! Spec: ITU-T H.264 clause 7.3.2.1.1 (`seq_parameter_set_data`), 7.4.1 (emulation
//! prevention). Only what precedes `frame_mbs_only_flag` is read; every read is bounded by
//! the NAL unit, and anything malformed gives `None`.

use super::annexb::NAL_SPS;

/// What [`parse_sps`] reads from a sequence parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpsInfo {
    /// `profile_idc` (66 = baseline, 77 = main, 100 = high, …).
    pub profile_idc: u8,
    /// The constraint flags byte (`constraint_set0_flag` … and reserved bits).
    pub constraints: u8,
    /// `level_idc` (ten times the level number, e.g. 31 for 3.1).
    pub level_idc: u8,
    /// Coded picture width in pixels (whole macroblocks, before any cropping).
    pub coded_width: u32,
    /// Coded picture height in pixels (whole macroblocks, before any cropping).
    pub coded_height: u32,
}

impl SpsInfo {
    /// The codec string WebCodecs' `VideoDecoder.configure` takes, e.g. `avc1.42c01e`.
    pub fn codec_string(&self) -> String {
        format!(
            "avc1.{:02x}{:02x}{:02x}",
            self.profile_idc, self.constraints, self.level_idc
        )
    }
}

/// Bit reader over an RBSP, dropping emulation-prevention bytes (`00 00 03`) as it goes.
struct Bits<'a> {
    data: &'a [u8],
    byte: usize,
    bit: u8,
    zeros: u8,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        if self.bit == 0 {
            // Entering a new byte: skip it if it is an emulation-prevention byte.
            let b = *self.data.get(self.byte)?;
            if self.zeros >= 2 && b == 3 {
                self.byte += 1;
                self.zeros = 0;
            }
            let b = *self.data.get(self.byte)?;
            self.zeros = if b == 0 { self.zeros + 1 } else { 0 };
        }
        let b = self.data[self.byte];
        let v = (b >> (7 - self.bit)) & 1;
        self.bit += 1;
        if self.bit == 8 {
            self.bit = 0;
            self.byte += 1;
        }
        Some(u32::from(v))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0, |acc, _| Some(acc << 1 | self.bit()?))
    }

    /// `ue(v)`: Exp-Golomb. Values need at most 32 leading zeros; more is malformed.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }

    /// `se(v)`: signed Exp-Golomb.
    fn se(&mut self) -> Option<i64> {
        let k = i64::from(self.ue()?);
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

/// Profiles whose SPS carries chroma format, bit depths and scaling matrices (7.3.2.1.1).
fn has_chroma_info(profile: u8) -> bool {
    matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    )
}

/// Reads a sequence parameter set NAL unit (from its header byte on, as
/// [`NalUnit::data`](super::NalUnit) gives it). `None` when it is not an SPS or is malformed.
pub fn parse_sps(nal: &[u8]) -> Option<SpsInfo> {
    if nal.first()? & 0x1f != NAL_SPS {
        return None;
    }
    let mut r = Bits {
        data: &nal[1..],
        byte: 0,
        bit: 0,
        zeros: 0,
    };
    let profile_idc = r.bits(8)? as u8;
    let constraints = r.bits(8)? as u8;
    let level_idc = r.bits(8)? as u8;
    r.ue()?; // seq_parameter_set_id
    if has_chroma_info(profile_idc) {
        let chroma_format_idc = r.ue()?;
        if chroma_format_idc == 3 {
            r.bit()?; // separate_colour_plane_flag
        }
        r.ue()?; // bit_depth_luma_minus8
        r.ue()?; // bit_depth_chroma_minus8
        r.bit()?; // qpprime_y_zero_transform_bypass_flag
        if r.bit()? == 1 {
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bit()? == 1 {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.bit()?; // delta_pic_order_always_zero_flag
            r.se()?; // offset_for_non_ref_pic
            r.se()?; // offset_for_top_to_bottom_field
            let n = r.ue()?;
            if n > 255 {
                return None;
            }
            for _ in 0..n {
                r.se()?;
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.bit()?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = u64::from(r.ue()?) + 1;
    let height_units = u64::from(r.ue()?) + 1;
    let frame_mbs_only = r.bit()?;
    let height_mbs = height_units * (2 - u64::from(frame_mbs_only));
    Some(SpsInfo {
        profile_idc,
        constraints,
        level_idc,
        coded_width: u32::try_from(width_mbs * 16).ok()?,
        coded_height: u32::try_from(height_mbs * 16).ok()?,
    })
}

/// `scaling_list()` of 7.3.2.1.1.1: only its length matters here.
fn skip_scaling_list(r: &mut Bits<'_>, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            next = (last + r.se()?).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_sps() {
        // profile 66, constraints 0xc0, level 10, id 0, log2_max_frame_num 0, poc type 2,
        // 1 ref frame, no gaps, 4 x 3 macroblocks, frame_mbs_only:
        // ue 0 = 1, ue 0 = 1, ue 2 = 011, ue 1 = 010, 0, ue 3 = 00100, ue 2 = 011, 1, then
        // padding.
        let bits = "1 1 011 010 0 00100 011 1 1000000";
        let mut bytes = vec![0x67, 66, 0xc0, 10];
        let s: String = bits.chars().filter(|c| *c != ' ').collect();
        for chunk in s.as_bytes().chunks(8) {
            let mut b = 0u8;
            for (i, c) in chunk.iter().enumerate() {
                b |= (c - b'0') << (7 - i);
            }
            bytes.push(b);
        }
        let info = parse_sps(&bytes).unwrap();
        assert_eq!((info.coded_width, info.coded_height), (64, 48));
        assert_eq!(info.codec_string(), "avc1.42c00a");
    }

    #[test]
    fn malformed_is_none() {
        assert_eq!(parse_sps(&[]), None);
        assert_eq!(parse_sps(&[0x68, 66, 0, 10, 0xff]), None);
        assert_eq!(parse_sps(&[0x67, 66, 0, 10]), None);
        assert_eq!(parse_sps(&[0x67, 66, 0, 10, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(parse_sps(&[0x67, 100, 0, 10, 0x80, 0xff, 0, 0, 3, 0]), None);
    }
}
