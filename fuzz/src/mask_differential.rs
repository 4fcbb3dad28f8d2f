//! `frame::mask::apply` (block-wise fast path) against `apply_bytewise` (the reference), for
//! any length, start alignment, phase, and for resuming across fuzzer-chosen splits.

use arbitrary::{Arbitrary, Unstructured};
use ws_proto::frame::mask::{apply, apply_bytewise};

#[derive(Arbitrary, Debug)]
struct Input {
    key: [u8; 4],
    phase: u8,
    /// Start of the masked slice inside the buffer (alignment).
    offset: u8,
    splits: Vec<u16>,
    /// Extra zero bytes to reach lengths over the fast path's block size cheaply.
    pad: u16,
    data: Vec<u8>,
}

pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else { return };
    let offset = usize::from(input.offset % 64);
    let phase = usize::from(input.phase);
    let mut buf = vec![0u8; offset];
    buf.extend_from_slice(&input.data);
    buf.resize(buf.len() + usize::from(input.pad % 1024), 0);
    let original = buf[offset..].to_vec();

    let mut fast = buf.clone();
    let mut slow = buf.clone();
    let p_fast = apply(&mut fast[offset..], input.key, phase);
    let p_slow = apply_bytewise(&mut slow[offset..], input.key, phase);
    assert_eq!(fast, slow, "fast and bytewise masking differ");
    assert_eq!(p_fast, p_slow, "next phase differs");
    assert_eq!(p_fast, (phase + original.len()) % 4);
    assert_eq!(fast[..offset], buf[..offset], "masking wrote before its slice");

    // Resumption: masking in pieces, carrying the phase, equals masking at once.
    let mut pieces = buf[offset..].to_vec();
    let len = pieces.len();
    let mut cuts: Vec<usize> = input.splits.iter().map(|&s| usize::from(s) % (len + 1)).collect();
    cuts.sort_unstable();
    let mut p = phase;
    let mut start = 0;
    for cut in cuts.into_iter().chain([len]) {
        p = apply(&mut pieces[start..cut], input.key, p);
        start = cut;
    }
    assert_eq!(pieces, fast[offset..], "split masking differs");
    assert_eq!(p, p_fast);

    // Masking is an involution.
    apply(&mut pieces, input.key, phase);
    assert_eq!(pieces, original);
}
