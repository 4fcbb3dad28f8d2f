//! Close codes and close frame bodies (RFC 6455 §5.5.1, §7.4).

use core::fmt;

use crate::error::ProtocolError;

/// A close status code. An open code space, so a newtype rather than an enum: applications may
/// use 3000–4999 freely.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose for which the connection was established has been fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the endpoint is terminating the connection due to a protocol error.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: the endpoint received a type of data it cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: no status code was present in the close frame. Never sent on the wire; reported
    /// when the peer's close frame had an empty body, and used with
    /// [`Connection::close`](crate::Connection::close) to send an empty body.
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: the connection closed without a close frame. Never sent on the wire.
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: a message contained data inconsistent with its type (invalid UTF-8 in text).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message is too big to process.
    pub const TOO_BIG: Self = Self(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1015: TLS handshake failure. Never sent on the wire.
    pub const TLS_FAILURE: Self = Self(1015);

    /// Whether the code may appear in a close frame on the wire, in either direction
    /// (RFC 6455 §7.4.1–7.4.2 and the IANA registry): 1000–1003, 1007–1014, 3000–4999.
    #[must_use]
    pub const fn is_allowed_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The body of a close frame: a code and a UTF-8 reason of at most 123 bytes.
///
/// A close frame with an empty body is represented by [`CloseCode::NO_STATUS`] and an empty
/// reason.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct CloseFrame<'a> {
    /// The status code.
    pub code: CloseCode,
    /// The reason, at most [`CloseFrame::MAX_REASON_LEN`] bytes.
    pub reason: &'a str,
}

impl<'a> CloseFrame<'a> {
    /// The longest reason that fits a control frame (125 bytes less the 2-byte code).
    pub const MAX_REASON_LEN: usize = 123;

    /// Parses and validates a close frame payload (already unmasked).
    ///
    /// # Errors
    /// [`ProtocolError::CloseFrameTooShort`] for a 1-byte body,
    /// [`ProtocolError::InvalidCloseCode`] for a code not allowed on the wire,
    /// [`ProtocolError::InvalidUtf8`] for a reason that is not UTF-8.
    pub fn parse(payload: &'a [u8]) -> Result<Self, ProtocolError> {
        match payload {
            [] => Ok(Self {
                code: CloseCode::NO_STATUS,
                reason: "",
            }),
            [_] => Err(ProtocolError::CloseFrameTooShort),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_allowed_on_wire() {
                    return Err(ProtocolError::InvalidCloseCode(code.0));
                }
                let reason =
                    simdutf8::basic::from_utf8(reason).map_err(|_| ProtocolError::InvalidUtf8)?;
                Ok(Self { code, reason })
            }
        }
    }

    /// The payload length this body encodes to: 0 for [`CloseCode::NO_STATUS`], else 2 plus
    /// the reason.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        if self.code.0 == CloseCode::NO_STATUS.0 {
            0
        } else {
            self.reason.len().saturating_add(2)
        }
    }
}

/// Generates only what [`CloseFrame::parse`] can return: a code allowed on the wire with a
/// reason of at most 123 bytes, or [`CloseCode::NO_STATUS`] with an empty reason.
#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for CloseFrame<'a> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        // Index into 1000–1003, 1007–1014, 3000–4999, then NO_STATUS last.
        let code = match u.int_in_range(0u16..=2012)? {
            i @ 0..=3 => i.saturating_add(1000),
            i @ 4..=11 => i.saturating_add(1003),
            i @ 12..=2011 => i.saturating_add(2988),
            _ => {
                return Ok(Self {
                    code: CloseCode::NO_STATUS,
                    reason: "",
                });
            }
        };
        let mut reason = <&str>::arbitrary(u)?;
        if reason.len() > Self::MAX_REASON_LEN {
            // Cut at the last char boundary within the limit.
            let mut end = Self::MAX_REASON_LEN;
            while !reason.is_char_boundary(end) {
                end = end.saturating_sub(1);
            }
            reason = reason.get(..end).unwrap_or_default();
        }
        Ok(Self {
            code: CloseCode(code),
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_code_ranges() {
        for (code, ok) in [
            (0, false),
            (999, false),
            (1000, true),
            (1003, true),
            (1004, false),
            (1005, false),
            (1006, false),
            (1007, true),
            (1011, true),
            (1014, true),
            (1015, false),
            (1016, false),
            (2999, false),
            (3000, true),
            (4999, true),
            (5000, false),
            (65535, false),
        ] {
            assert_eq!(CloseCode(code).is_allowed_on_wire(), ok, "{code}");
        }
    }

    #[test]
    fn parse_bodies() {
        assert_eq!(CloseFrame::parse(&[]).unwrap().code, CloseCode::NO_STATUS);
        assert_eq!(
            CloseFrame::parse(&[0x03]),
            Err(ProtocolError::CloseFrameTooShort)
        );
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xec]),
            Err(ProtocolError::InvalidCloseCode(1004))
        );
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xe8, 0xff]),
            Err(ProtocolError::InvalidUtf8)
        );
        let f = CloseFrame::parse(b"\x03\xe8bye").unwrap();
        assert_eq!((f.code, f.reason), (CloseCode::NORMAL, "bye"));
    }
}
