//! `utf8::Utf8Validator` fed in fuzzer-chosen pieces against `core::str::from_utf8`: valid if
//! and only if valid; no error on a valid prefix; an error found no later than the piece that
//! holds the byte proving it; `is_complete` exactly at code point boundaries.
//!
//! Input layout: `n, n × u16 LE split points, bytes...`.

use ws_proto::utf8::{Utf8Validator, validate};

use super::common::split_points;

pub fn run(data: &[u8]) {
    let Some((cuts, bytes)) = split_points(data) else {
        return;
    };
    check(bytes, cuts.clone());
    // Raw fuzzer bytes rarely hold long valid runs; check a mostly valid variant too, with the
    // same cuts (which may now fall inside code points).
    let lossy = String::from_utf8_lossy(bytes).into_owned();
    let len = lossy.len();
    check(
        lossy.as_bytes(),
        cuts.into_iter().map(|c| c.min(len)).collect(),
    );
}

fn check(bytes: &[u8], mut cuts: Vec<usize>) {
    let len = bytes.len();
    cuts.push(len);
    let reference = core::str::from_utf8(bytes);
    assert_eq!(
        validate(bytes).is_ok(),
        reference.is_ok(),
        "validate differs"
    );
    // The first index at which an error is certain: the byte after a truncated-but-invalid
    // sequence or the invalid byte itself; `len` when only the end proves it.
    let (valid_up_to, proof) = match reference {
        Ok(_) => (len, len),
        Err(e) => match e.error_len() {
            Some(l) => (
                e.valid_up_to(),
                (e.valid_up_to() + l).min(len.saturating_sub(1)),
            ),
            None => (e.valid_up_to(), len),
        },
    };
    let mut v = Utf8Validator::new();
    let mut start = 0;
    let mut failed_at = None;
    for cut in cuts {
        let r = v.feed(&bytes[start..cut]);
        if r.is_err() {
            failed_at = Some(cut);
            break;
        }
        assert!(
            cut <= proof,
            "error missed: piece ends at {cut}, proof at {proof}"
        );
        if cut <= valid_up_to {
            let boundary = core::str::from_utf8(&bytes[..cut]).is_ok();
            assert_eq!(v.is_complete(), boundary, "is_complete at {cut}");
        }
        start = cut;
    }
    match failed_at {
        Some(cut) => {
            assert!(reference.is_err(), "valid input rejected");
            assert!(
                cut > valid_up_to,
                "error reported inside the valid prefix (piece ends {cut})"
            );
        }
        None => {
            let fin = v.finish();
            assert_eq!(
                fin.is_ok(),
                reference.is_ok(),
                "verdict differs: {reference:?}"
            );
        }
    }
}
