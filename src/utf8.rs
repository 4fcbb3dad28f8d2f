//! Incremental UTF-8 validation for text messages delivered in pieces.
//!
//! A text message may be split anywhere: inside a frame (partial delivery) and across
//! fragments. The validator keeps at most 3 bytes of an unfinished code point between pieces
//! and reports an error as soon as a byte arrives that no continuation could make valid (fail
//! fast, RFC 6455 §8.1), using `simdutf8` for the bulk of every piece.

use core::fmt;

use crate::frame::mask;

/// Pieces shorter than this take the ASCII shortcut.
const SHORT: usize = 64;

/// [`Utf8Validator::unmask_and_feed`] works in chunks of this size: small enough that the
/// validator reads what unmasking just wrote from the L1 cache, large enough that the
/// per-chunk cost vanishes.
const CHUNK: usize = 16 << 10;

/// Invalid UTF-8 was seen.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Utf8Error;

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8")
    }
}

impl core::error::Error for Utf8Error {}

/// Validates a byte stream as UTF-8, piece by piece.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Utf8Validator {
    /// The bytes of an unfinished code point at the end of the input so far.
    carry: [u8; 4],
    carry_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a stream.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            carry: [0; 4],
            carry_len: 0,
        }
    }

    /// Validates the next piece of the stream.
    ///
    /// # Errors
    /// [`Utf8Error`] if the stream so far is not a prefix of any valid UTF-8 string. The
    /// validator must not be fed again after an error without [`reset`](Self::reset).
    #[inline]
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Utf8Error> {
        // Short pieces (a chat message, a JSON event) are mostly ASCII, and simdutf8 hands
        // inputs under 64 bytes to `core::str::from_utf8` anyway: check ASCII word-wise first.
        if self.carry_len == 0 && bytes.len() < SHORT && is_ascii_short(bytes) {
            return Ok(());
        }
        self.feed_general(bytes)
    }

    fn feed_general(&mut self, mut bytes: &[u8]) -> Result<(), Utf8Error> {
        if self.carry_len > 0 {
            bytes = self.complete_carry(bytes)?;
            if self.carry_len > 0 {
                return Ok(()); // `bytes` was used up inside the unfinished code point.
            }
        }
        // Validate up to the start of a code point that `bytes` leaves unfinished, with the fast
        // path, and keep the unfinished rest (at most 3 bytes) for the next piece.
        let (whole, tail) = bytes.split_at(unfinished_suffix_start(bytes));
        if simdutf8::basic::from_utf8(whole).is_err() {
            return Err(Utf8Error);
        }
        if tail.is_empty() {
            return Ok(());
        }
        match simdutf8::compat::from_utf8(tail) {
            // Not a prefix of any valid sequence (fail fast, RFC 6455 §8.1).
            Err(e) if e.error_len().is_some() => Err(Utf8Error),
            _ => self.set_carry(tail),
        }
    }

    /// Unmasks `buf` in place (when there is a `key`, starting at key byte `phase % 4`) and
    /// validates it as the next piece of the stream, a cache-sized chunk at a time so that the
    /// bytes are read from memory once. Returns the mask phase for the byte after `buf`.
    ///
    /// # Errors
    /// As [`feed`](Self::feed); `buf` may then be partly unmasked.
    #[inline(always)]
    pub fn unmask_and_feed(
        &mut self,
        buf: &mut [u8],
        key: Option<[u8; 4]>,
        phase: usize,
    ) -> Result<usize, Utf8Error> {
        let phase = match key {
            Some(key) if buf.len() > CHUNK => return self.unmask_and_feed_chunks(buf, key, phase),
            Some(key) => mask::apply(buf, key, phase),
            None => phase & 3,
        };
        self.feed(buf)?;
        Ok(phase)
    }

    fn unmask_and_feed_chunks(
        &mut self,
        buf: &mut [u8],
        key: [u8; 4],
        mut phase: usize,
    ) -> Result<usize, Utf8Error> {
        for chunk in buf.chunks_mut(CHUNK) {
            phase = mask::apply(chunk, key, phase);
            self.feed(chunk)?;
        }
        Ok(phase)
    }

    /// Whether the stream so far ends on a code point boundary, so that it is valid UTF-8 if it
    /// ends here.
    #[must_use]
    pub const fn is_complete(&self) -> bool {
        self.carry_len == 0
    }

    /// Ends the stream: checks it did not stop inside a code point, and resets.
    ///
    /// # Errors
    /// [`Utf8Error`] if the stream ended inside a code point.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let complete = self.is_complete();
        self.reset();
        if complete { Ok(()) } else { Err(Utf8Error) }
    }

    /// Starts a new stream.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Appends bytes from `bytes` to the unfinished code point until it is complete, invalid,
    /// or `bytes` runs out; returns what is left of `bytes`.
    fn complete_carry<'a>(&mut self, bytes: &'a [u8]) -> Result<&'a [u8], Utf8Error> {
        let have = usize::from(self.carry_len);
        let want: usize = match self.carry.first() {
            Some(0xc2..=0xdf) => 2,
            Some(0xe0..=0xef) => 3,
            Some(0xf0..=0xf4) => 4,
            _ => return Err(Utf8Error),
        };
        let take = want.saturating_sub(have).min(bytes.len());
        let (head, rest) = bytes.split_at(take);
        let end = have.saturating_add(take);
        self.carry
            .get_mut(have..end)
            .ok_or(Utf8Error)?
            .copy_from_slice(head);
        let seq = self.carry.get(..end).ok_or(Utf8Error)?;
        match simdutf8::compat::from_utf8(seq) {
            Ok(_) => {
                self.carry_len = 0;
                Ok(rest)
            }
            Err(e) if e.error_len().is_some() => Err(Utf8Error),
            Err(_) => {
                // Still unfinished: only possible when `bytes` ran out.
                self.carry_len = u8::try_from(end).map_err(|_| Utf8Error)?;
                Ok(rest)
            }
        }
    }

    fn set_carry(&mut self, tail: &[u8]) -> Result<(), Utf8Error> {
        // An unfinished code point is 1 to 3 bytes long.
        let dst = self.carry.get_mut(..tail.len()).ok_or(Utf8Error)?;
        dst.copy_from_slice(tail);
        self.carry_len = u8::try_from(tail.len()).map_err(|_| Utf8Error)?;
        Ok(())
    }
}

/// Whether `bytes` is a whole valid UTF-8 string, for a caller that already knows it is not
/// all ASCII (so no ASCII shortcut first).
#[inline]
pub(crate) fn is_valid(bytes: &[u8]) -> bool {
    simdutf8::basic::from_utf8(bytes).is_ok()
}

/// Whether `bytes` (under [`SHORT`] bytes) is ASCII: the high bits of all its 8-byte words
/// at once.
#[inline(always)]
fn is_ascii_short(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Word reads that may overlap: only the OR of all bytes matters.
    let word = |at: usize| {
        let mut w = [0; 8];
        if let Some(src) = bytes.get(at..at.saturating_add(8)) {
            w.copy_from_slice(src);
        }
        u64::from_ne_bytes(w)
    };
    let len = bytes.len();
    if len >= 8 {
        let mut acc = word(len.saturating_sub(8));
        let mut at: usize = 0;
        while at.saturating_add(8) < len {
            acc |= word(at);
            at = at.saturating_add(8);
        }
        acc & HIGH == 0
    } else {
        bytes.iter().fold(0, |acc, b| acc | b) < 0x80
    }
}

/// Where the code point that `bytes` ends in starts, if `bytes` ends before that code point
/// does; otherwise `bytes.len()`. Looks at the last 3 bytes only, and judges only by the length
/// the lead byte announces: the validator decides whether the bytes are valid.
fn unfinished_suffix_start(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=3 {
        let Some(at) = len.checked_sub(back) else {
            break;
        };
        let needed = match bytes.get(at) {
            Some(0x80..=0xbf) => continue, // a continuation byte: look further back
            Some(0xc0..=0xdf) => 2,
            Some(0xe0..=0xef) => 3,
            Some(0xf0..=0xff) => 4,
            _ => 1, // ASCII (or nothing)
        };
        return if needed > back { at } else { len };
    }
    len
}

/// Validates a whole string (close reasons, unfragmented messages): `simdutf8`'s fast path.
///
/// # Errors
/// [`Utf8Error`] if `bytes` is not UTF-8.
pub fn validate(bytes: &[u8]) -> Result<&str, Utf8Error> {
    simdutf8::basic::from_utf8(bytes).map_err(|_| Utf8Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_split(bytes: &[u8], at: &[usize]) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &cut in at {
            v.feed(&bytes[start..cut])?;
            start = cut;
        }
        v.feed(&bytes[start..])?;
        v.finish()
    }

    #[test]
    fn split_code_points() {
        let s = "κόσμε 𝄞 €".as_bytes();
        for i in 0..=s.len() {
            for j in i..=s.len() {
                assert_eq!(feed_split(s, &[i, j]), Ok(()), "{i} {j}");
            }
        }
    }

    #[test]
    fn fails_fast() {
        // Autobahn 6.4.1: the 0xF4 0x90 prefix is invalid before the code point ends.
        let mut v = Utf8Validator::new();
        v.feed("κόσμε".as_bytes()).unwrap();
        assert_eq!(v.feed(&[0xf4]), Ok(()));
        assert_eq!(v.feed(&[0x90]), Err(Utf8Error));
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xce, 0xba, 0xf4, 0x90]), Err(Utf8Error));
    }

    #[test]
    fn truncated_at_end() {
        assert_eq!(feed_split(&[0xe2, 0x82], &[1]), Err(Utf8Error));
        assert_eq!(feed_split(&[0xe2, 0x82, 0xac], &[1]), Ok(()));
    }

    /// Whether `bytes` is a prefix of some valid UTF-8 string.
    fn is_valid_prefix(bytes: &[u8]) -> bool {
        match core::str::from_utf8(bytes) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        }
    }

    fn text_then_noise() -> impl proptest::strategy::Strategy<Value = std::vec::Vec<u8>> {
        use proptest::prelude::*;
        (
            "\\PC{0,200}",
            proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
            any::<usize>(),
        )
            .prop_map(|(s, edits, cut)| {
                let mut v = s.into_bytes();
                for (at, byte) in edits {
                    if !v.is_empty() {
                        let at = at % v.len();
                        v[at] = byte;
                    }
                }
                // Sometimes end inside a code point.
                if cut % 4 == 0 && !v.is_empty() {
                    v.truncate(v.len() - 1);
                }
                v
            })
    }

    proptest::proptest! {
        /// Fed in any pieces, the validator errs exactly at the first piece after which the
        /// input so far is no longer a prefix of valid UTF-8 (fail fast), and `finish`
        /// accepts exactly valid UTF-8.
        #[test]
        fn pieces_match_std(
            bytes in text_then_noise(),
            cuts in proptest::collection::vec(proptest::prelude::any::<usize>(), 0..6),
        ) {
            let mut cuts: std::vec::Vec<usize> =
                cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.push(bytes.len());
            let mut v = Utf8Validator::new();
            let mut start = 0;
            for &end in &cuts {
                let got = v.feed(&bytes[start..end]);
                let want = is_valid_prefix(&bytes[..end]);
                proptest::prop_assert_eq!(got.is_ok(), want, "piece {}..{}", start, end);
                if !want {
                    return Ok(());
                }
                start = end;
            }
            proptest::prop_assert_eq!(v.finish().is_ok(), core::str::from_utf8(&bytes).is_ok());
        }
    }

    #[test]
    fn unmask_and_feed_matches_unmask_then_feed() {
        let text = "naïve café — 日本語 ".repeat(3000); // over two chunks, multibyte at the cuts
        let key = [0xa1, 0x02, 0x7f, 0xee];
        let mut masked = text.clone().into_bytes();
        mask::apply(&mut masked, key, 1);
        let mut v = Utf8Validator::new();
        let (a, b) = masked.split_at_mut(CHUNK + 3);
        let phase = v.unmask_and_feed(a, Some(key), 1).unwrap();
        assert_eq!(
            v.unmask_and_feed(b, Some(key), phase).unwrap(),
            (1 + text.len()) % 4
        );
        assert_eq!(v.finish(), Ok(()));
        assert_eq!(masked, text.as_bytes());
        // An invalid byte in the second chunk is found.
        let mut bad = text.into_bytes();
        bad[CHUNK + 100] = 0xff;
        mask::apply(&mut bad, key, 0);
        assert_eq!(
            Utf8Validator::new().unmask_and_feed(&mut bad, Some(key), 0),
            Err(Utf8Error)
        );
    }
}
