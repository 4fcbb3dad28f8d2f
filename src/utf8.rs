//! Incremental UTF-8 validation for text messages delivered in pieces.
//!
//! A text message may be split anywhere: inside a frame (partial delivery) and across
//! fragments. The validator keeps at most 3 bytes of an unfinished code point between pieces
//! and reports an error as soon as a byte arrives that no continuation could make valid (fail
//! fast, RFC 6455 §8.1), using `simdutf8` for the bulk of every piece.

use core::fmt;

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
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Utf8Error> {
        if self.carry_len > 0 {
            bytes = self.complete_carry(bytes)?;
            if self.carry_len > 0 {
                return Ok(()); // `bytes` was used up inside the unfinished code point.
            }
        }
        if simdutf8::basic::from_utf8(bytes).is_ok() {
            return Ok(());
        }
        // Slow path, only at the end of a piece or on an error: find out which.
        match simdutf8::compat::from_utf8(bytes) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(Utf8Error),
            Err(e) => {
                let tail = bytes.get(e.valid_up_to()..).ok_or(Utf8Error)?;
                self.set_carry(tail)
            }
        }
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
}
