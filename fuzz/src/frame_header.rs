//! `FrameHeader::decode`: consumed never exceeds the input; re-encoding a decoded header gives
//! back exactly the bytes it came from (decode accepts only minimal encodings); every prefix of
//! the input gives `Partial` or the same error; and an arbitrary valid header survives
//! encode-then-decode.

use ws_proto::frame::MAX_HEADER_LEN;
use ws_proto::{FrameHeader, Status};

pub fn run(data: &[u8]) {
    let result = FrameHeader::decode(data);
    match result {
        Ok(Status::Complete((n, h))) => {
            assert!(
                n <= data.len() && n <= MAX_HEADER_LEN,
                "consumed {n} of {}",
                data.len()
            );
            assert_eq!(n, h.encoded_len());
            let mut out = [0u8; MAX_HEADER_LEN];
            assert_eq!(h.encode(&mut out), Ok(n));
            assert_eq!(out[..n], data[..n], "re-encoding differs from the input");
            // Shorter output buffers are refused whole.
            let mut small = [0xa5u8; MAX_HEADER_LEN];
            if n > 0 {
                assert!(h.encode(&mut small[..n - 1]).is_err());
                assert_eq!(small, [0xa5; MAX_HEADER_LEN], "a failed encode wrote bytes");
            }
            if h.opcode.is_control() {
                assert!(h.fin && h.payload_len <= 125);
            }
            assert!(h.payload_len >> 63 == 0 && h.rsv <= 7);
            for i in 0..n {
                assert_eq!(
                    FrameHeader::decode(&data[..i]),
                    Ok(Status::Partial),
                    "prefix {i}"
                );
            }
        }
        Ok(Status::Partial) => {
            assert!(data.len() < MAX_HEADER_LEN);
            for i in 0..data.len() {
                assert_eq!(
                    FrameHeader::decode(&data[..i]),
                    Ok(Status::Partial),
                    "prefix {i}"
                );
            }
        }
        Err(e) => {
            for i in 0..data.len().min(MAX_HEADER_LEN + 1) {
                let r = FrameHeader::decode(&data[..i]);
                assert!(
                    r == Ok(Status::Partial) || r == Err(e),
                    "prefix {i}: {r:?} vs {e:?}"
                );
            }
        }
    }
    structured(data);
}

/// The other direction, with the crate's `Arbitrary` impl (only under cargo-fuzz: the
/// regression tests build without the `arbitrary` feature).
#[cfg(fuzzing)]
fn structured(data: &[u8]) {
    use arbitrary::{Arbitrary, Unstructured};
    let mut u = Unstructured::new(data);
    let Ok(h) = FrameHeader::arbitrary(&mut u) else {
        return;
    };
    let mut out = [0u8; MAX_HEADER_LEN];
    let n = h.encode(&mut out).unwrap();
    assert_eq!(n, h.encoded_len());
    assert_eq!(FrameHeader::decode(&out[..n]), Ok(Status::Complete((n, h))));
}

#[cfg(not(fuzzing))]
fn structured(_: &[u8]) {}
