//! `frame::mask::apply` (block-wise fast path) against `apply_bytewise` (the reference), for
//! any length, start alignment, phase, and for resuming across fuzzer-chosen splits.
//!
//! Input layout: `key[4], phase, offset, pad (u16 LE), n, n × u16 LE split points, data...`;
//! `pad` zero bytes (modulo 1024) are appended to reach lengths past the fast path's blocks.

use ws_proto::frame::mask::{apply, apply_bytewise};

use super::common::{encode_split_points, split_points};

/// Encodes an input (for seeds and tests).
pub fn encode(
    key: [u8; 4],
    phase: u8,
    offset: u8,
    pad: u16,
    splits: &[u16],
    data: &[u8],
) -> Vec<u8> {
    let mut v = key.to_vec();
    v.extend([phase, offset]);
    v.extend(pad.to_le_bytes());
    v.extend(encode_split_points(splits, data));
    v
}

pub fn run(data: &[u8]) {
    let Some((head, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    let [k0, k1, k2, k3, phase, offset, p0, p1] = *head;
    let key = [k0, k1, k2, k3];
    let Some((cuts, payload)) = split_points(rest) else {
        return;
    };
    let offset = usize::from(offset % 64);
    let phase = usize::from(phase);
    let mut buf = vec![0u8; offset];
    buf.extend_from_slice(payload);
    buf.resize(
        buf.len() + usize::from(u16::from_le_bytes([p0, p1]) % 1024),
        0,
    );
    let original = buf[offset..].to_vec();
    let len = original.len();

    let mut fast = buf.clone();
    let mut slow = buf.clone();
    let p_fast = apply(&mut fast[offset..], key, phase);
    let p_slow = apply_bytewise(&mut slow[offset..], key, phase);
    assert_eq!(fast, slow, "fast and bytewise masking differ");
    assert_eq!(p_fast, p_slow, "next phase differs");
    assert_eq!(p_fast, (phase + len) % 4);
    assert_eq!(
        fast[..offset],
        buf[..offset],
        "masking wrote before its slice"
    );

    // Resumption: masking in pieces, carrying the phase, equals masking at once. The cuts were
    // reduced modulo the payload length; the padding is the last piece.
    let mut pieces = original.clone();
    let mut p = phase;
    let mut start = 0;
    for cut in cuts.into_iter().chain([len]) {
        p = apply(&mut pieces[start..cut], key, p);
        start = cut;
    }
    assert_eq!(pieces, fast[offset..], "split masking differs");
    assert_eq!(p, p_fast);

    // Masking is an involution.
    apply(&mut pieces, key, phase);
    assert_eq!(pieces, original);
}
