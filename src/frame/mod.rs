//! The frame codec (RFC 6455 §5.2): header decode and encode, and in-place masking.
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! | Masking-key (continued)       |          Payload Data         |
//! +-------------------------------- - - - - - - - - - - - - - - - +
//! ```
//!
//! This layer is stateless and knows nothing of roles or negotiated extensions: it rejects
//! what is wrong in any context (reserved opcodes, bad control frames, bad lengths) and leaves
//! masking direction and RSV bits to the connection. No function here panics on any input, and
//! encode functions never write past `out.len()`.

pub mod mask;

use core::fmt;

use crate::error::{BufferTooSmall, ProtocolError};

/// The longest frame header: 2 fixed bytes, 8 bytes of extended length, 4 bytes of mask key.
pub const MAX_HEADER_LEN: usize = 14;

/// The longest control frame payload (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// The result of a decoder that may need more input (httparse style). Needing more input is
/// never an error.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Status<T> {
    /// The value was decoded.
    Complete(T),
    /// The input ends before the value does; call again with more bytes.
    Partial,
}

/// A frame opcode. Reserved opcodes are protocol errors, so this is a closed enum.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[repr(u8)]
pub enum Opcode {
    /// 0x0: the next fragment of a message.
    Continuation = 0x0,
    /// 0x1: the first frame of a text message.
    Text = 0x1,
    /// 0x2: the first frame of a binary message.
    Binary = 0x2,
    /// 0x8: close.
    Close = 0x8,
    /// 0x9: ping.
    Ping = 0x9,
    /// 0xA: pong.
    Pong = 0xA,
}

impl Opcode {
    /// Whether this is a control opcode (close, ping, pong).
    #[must_use]
    pub const fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

impl TryFrom<u8> for Opcode {
    type Error = ProtocolError;

    fn try_from(value: u8) -> Result<Self, ProtocolError> {
        Ok(match value {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            other => return Err(ProtocolError::ReservedOpcode(other)),
        })
    }
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct FrameHeader {
    /// FIN: this frame ends its message.
    pub fin: bool,
    /// RSV1, RSV2, RSV3 as the low three bits (RSV1 = `0b100`).
    pub rsv: u8,
    /// The opcode.
    pub opcode: Opcode,
    /// The masking key, if the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// The payload length, at most `2^63 - 1`.
    pub payload_len: u64,
}

impl FrameHeader {
    /// RSV1, the bit permessage-deflate uses to mark a compressed message.
    pub const RSV1: u8 = 0b100;

    /// The header length implied by its first two bytes.
    #[must_use]
    pub const fn len_from_prefix(b0: u8, b1: u8) -> usize {
        let _ = b0;
        let ext = match b1 & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
        // At most 2 + 8 + 4.
        2usize.wrapping_add(ext).wrapping_add(mask)
    }

    /// Decodes a header from the front of `input`.
    ///
    /// Returns the header and its length in bytes, or [`Status::Partial`] if `input` ends
    /// inside the header.
    ///
    /// # Errors
    /// Reserved opcodes, a fragmented or over-long control frame, a 64-bit length with the top
    /// bit set, and a length not minimally encoded. Errors are reported as soon as the bytes
    /// that prove them are present, even if the rest of the header is not.
    #[inline]
    pub fn decode(input: &[u8]) -> Result<Status<(usize, Self)>, ProtocolError> {
        let [b0, b1, rest @ ..] = input else {
            return Ok(Status::Partial);
        };
        let (b0, b1) = (*b0, *b1);
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x7;
        let opcode = Opcode::try_from(b0 & 0x0f)?;
        let short_len = b1 & 0x7f;
        if opcode.is_control() {
            // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or
            // less and MUST NOT be fragmented."
            if !fin {
                return Err(ProtocolError::ControlFrameFragmented);
            }
            if short_len > 125 {
                return Err(ProtocolError::ControlFrameTooLong);
            }
        }
        let (payload_len, rest) = match short_len {
            126 => {
                let [a, b, rest @ ..] = rest else {
                    return Ok(Status::Partial);
                };
                let len = u16::from_be_bytes([*a, *b]);
                if len < 126 {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (u64::from(len), rest)
            }
            127 => {
                let Some((len, rest)) = rest.split_first_chunk::<8>() else {
                    return Ok(Status::Partial);
                };
                let len = u64::from_be_bytes(*len);
                // RFC 6455 §5.2: "the most significant bit MUST be 0".
                if len >> 63 != 0 {
                    return Err(ProtocolError::InvalidLength);
                }
                if len <= 0xffff {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, rest)
            }
            n => (u64::from(n), rest),
        };
        let mask = if b1 & 0x80 != 0 {
            let Some((key, _)) = rest.split_first_chunk::<4>() else {
                return Ok(Status::Partial);
            };
            Some(*key)
        } else {
            None
        };
        let header = Self {
            fin,
            rsv,
            opcode,
            mask,
            payload_len,
        };
        Ok(Status::Complete((Self::len_from_prefix(b0, b1), header)))
    }

    /// The number of bytes [`encode`](Self::encode) writes.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        let ext = if self.payload_len < 126 {
            0
        } else if self.payload_len <= 0xffff {
            2
        } else {
            8
        };
        let mask = if self.mask.is_some() { 4 } else { 0 };
        2usize.wrapping_add(ext).wrapping_add(mask)
    }

    /// Encodes the header into the front of `out`, using the shortest length form, and returns
    /// the number of bytes written.
    ///
    /// Fields are written as given; a `payload_len` with the top bit set is truncated to 63
    /// bits (such a frame cannot exist in memory).
    ///
    /// # Errors
    /// [`BufferTooSmall`] if `out` is shorter than [`encoded_len`](Self::encoded_len); nothing
    /// is written then.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let mut buf = [0u8; MAX_HEADER_LEN];
        let len = self.encode_array(&mut buf);
        let (dst, src) = (out.get_mut(..len), buf.get(..len));
        match (dst, src) {
            (Some(dst), Some(src)) => {
                dst.copy_from_slice(src);
                Ok(len)
            }
            _ => Err(BufferTooSmall { required: len }),
        }
    }

    /// Encodes into a fixed array, returning the length used.
    pub(crate) fn encode_array(&self, buf: &mut [u8; MAX_HEADER_LEN]) -> usize {
        let b0 = (u8::from(self.fin) << 7) | ((self.rsv & 0x7) << 4) | self.opcode as u8;
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.payload_len & (u64::MAX >> 1);
        buf[0] = b0;
        let mut at: usize = if len < 126 {
            // Fits in 7 bits: checked just above.
            buf[1] = mask_bit | len as u8;
            2
        } else if let Ok(len16) = u16::try_from(len) {
            buf[1] = mask_bit | 126;
            let [a, b] = len16.to_be_bytes();
            buf[2] = a;
            buf[3] = b;
            4
        } else {
            buf[1] = mask_bit | 127;
            let [a, b, c, d, e, f, g, h] = len.to_be_bytes();
            buf[2..10].copy_from_slice(&[a, b, c, d, e, f, g, h]);
            10
        };
        if let Some(key) = self.mask {
            // `at` is 2, 4 or 10, so at most 14 bytes are used.
            if let Some(dst) = buf.get_mut(at..at.wrapping_add(4)) {
                dst.copy_from_slice(&key);
                at = at.wrapping_add(4);
            }
        }
        at
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for FrameHeader {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let opcode = Opcode::arbitrary(u)?;
        let payload_len = if opcode.is_control() {
            u64::from(u.int_in_range(0..=125u8)?)
        } else {
            u.int_in_range(0..=(u64::MAX >> 1))?
        };
        Ok(Self {
            fin: opcode.is_control() || bool::arbitrary(u)?,
            rsv: u.int_in_range(0..=7)?,
            opcode,
            mask: Option::<[u8; 4]>::arbitrary(u)?,
            payload_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> (usize, FrameHeader) {
        match FrameHeader::decode(bytes).unwrap() {
            Status::Complete(v) => v,
            Status::Partial => panic!("partial"),
        }
    }

    #[test]
    fn rfc6455_5_7_unmasked_text() {
        // "A single-frame unmasked text message"
        static FRAME: [u8; 7] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let (n, h) = decode_all(&FRAME);
        assert_eq!(n, 2);
        assert_eq!(h.opcode, Opcode::Text);
        assert!(h.fin);
        assert_eq!(h.payload_len, 5);
        assert_eq!(h.mask, None);
        assert_eq!(&FRAME[n..], b"Hello");
    }

    #[test]
    fn rfc6455_5_7_masked_text() {
        static FRAME: [u8; 11] = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let (n, h) = decode_all(&FRAME);
        assert_eq!(n, 6);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        let mut payload = FRAME[n..].to_vec();
        mask::apply(&mut payload, h.mask.unwrap(), 0);
        assert_eq!(payload, b"Hello");
    }

    #[test]
    fn rfc6455_5_7_fragmented_and_control() {
        let (_, h) = decode_all(&[0x01, 0x03, 0x48, 0x65, 0x6c]);
        assert_eq!((h.fin, h.opcode), (false, Opcode::Text));
        let (_, h) = decode_all(&[0x80, 0x02, 0x6c, 0x6f]);
        assert_eq!((h.fin, h.opcode), (true, Opcode::Continuation));
        // Unmasked ping and masked pong with "Hello".
        let (_, h) = decode_all(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!((h.opcode, h.payload_len), (Opcode::Ping, 5));
        let (n, h) = decode_all(&[
            0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ]);
        assert_eq!((n, h.opcode, h.payload_len), (6, Opcode::Pong, 5));
    }

    #[test]
    fn rfc6455_5_7_long_binary() {
        // 256 bytes binary message in a single unmasked frame
        let (n, h) = decode_all(&[0x82, 0x7E, 0x01, 0x00]);
        assert_eq!((n, h.payload_len), (4, 256));
        // 64KiB binary message in a single unmasked frame
        let (n, h) = decode_all(&[0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]);
        assert_eq!((n, h.payload_len), (10, 65536));
    }

    #[test]
    fn errors_have_close_codes() {
        let cases: &[(&[u8], ProtocolError)] = &[
            (&[0x83, 0x00], ProtocolError::ReservedOpcode(3)),
            (&[0x8b, 0x00], ProtocolError::ReservedOpcode(0xb)),
            (&[0x09, 0x00], ProtocolError::ControlFrameFragmented),
            (&[0x89, 0x7e], ProtocolError::ControlFrameTooLong),
            (&[0x82, 0x7e, 0x00, 0x7d], ProtocolError::NonMinimalLength),
            (
                &[0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff],
                ProtocolError::NonMinimalLength,
            ),
            (
                &[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0],
                ProtocolError::InvalidLength,
            ),
        ];
        for (bytes, err) in cases {
            assert_eq!(FrameHeader::decode(bytes), Err(*err), "{bytes:x?}");
            assert_eq!(err.close_code(), crate::CloseCode::PROTOCOL_ERROR);
        }
    }

    #[test]
    fn partial_is_not_an_error() {
        let full = [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for i in 0..full.len() {
            assert_eq!(FrameHeader::decode(&full[..i]), Ok(Status::Partial), "{i}");
        }
        assert_eq!(decode_all(&full).0, 14);
    }

    #[test]
    fn encode_too_small_writes_nothing() {
        let h = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: Opcode::Binary,
            mask: Some([1, 2, 3, 4]),
            payload_len: 70000,
        };
        let mut out = [0xa5u8; 13];
        assert_eq!(h.encode(&mut out), Err(BufferTooSmall { required: 14 }));
        assert_eq!(out, [0xa5; 13]);
        let mut out = [0xa5u8; 14];
        assert_eq!(h.encode(&mut out), Ok(14));
        assert_eq!(decode_all(&out).1, h);
    }
}
