//! Error values: peer faults ([`ProtocolError`]), caller mistakes ([`ApiMisuse`]), short output
//! buffers ([`BufferTooSmall`]), and the sums returned by receive ([`Error`]) and send
//! ([`SendError`]).
//!
//! Every peer fault says which close code to send back ([`ProtocolError::close_code`]); every
//! handshake fault says which HTTP status to answer with
//! ([`HandshakeError::status_hint`](crate::handshake::HandshakeError::status_hint)).

use core::fmt;

use crate::close::CloseCode;
use crate::handshake::HandshakeError;

/// The peer violated RFC 6455 (or a configured limit). The connection is failed: the close frame
/// carrying [`close_code`](Self::close_code) is queued for [`poll_transmit`], and every later
/// call to `handle_read` returns the same error.
///
/// [`poll_transmit`]: crate::Connection::poll_transmit
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum ProtocolError {
    /// A close frame with a 1-byte payload (RFC 6455 §5.5.1: the body, if any, starts with a
    /// 2-byte code).
    CloseFrameTooShort,
    /// A control frame was fragmented (FIN bit clear).
    ControlFrameFragmented,
    /// A control frame's payload is longer than 125 bytes.
    ControlFrameTooLong,
    /// A compressed message could not be inflated (RFC 7692 §6.2).
    DecompressionFailed,
    /// A data frame started a new message while a fragmented message was still open.
    ExpectedContinuation,
    /// More frames in one message than [`Config::max_fragments`](crate::Config::max_fragments).
    FragmentLimit,
    /// A frame payload larger than [`Config::max_frame_payload`](crate::Config::max_frame_payload).
    FrameTooBig,
    /// A close code that must not appear on the wire (RFC 6455 §7.4).
    InvalidCloseCode(u16),
    /// A 64-bit payload length with the most significant bit set (RFC 6455 §5.2).
    InvalidLength,
    /// A text message or a close reason that is not valid UTF-8.
    InvalidUtf8,
    /// A frame from the client was not masked (RFC 6455 §5.1).
    MaskMissing,
    /// A frame from the server was masked (RFC 6455 §5.1).
    MaskUnexpected,
    /// A message larger than [`Config::max_message_size`](crate::Config::max_message_size),
    /// counted after decompression when permessage-deflate is on.
    MessageTooBig,
    /// A payload length not encoded in the fewest bytes (RFC 6455 §5.2: "the minimal number of
    /// bytes MUST be used").
    NonMinimalLength,
    /// A reserved opcode (0x3–0x7, 0xB–0xF).
    ReservedOpcode(u8),
    /// RSV bits that no negotiated extension defines.
    ReservedBits(u8),
    /// A continuation frame with no message started.
    UnexpectedContinuation,
}

impl ProtocolError {
    /// The close code to send to the peer for this fault (RFC 6455 §7.4.1).
    #[must_use]
    pub const fn close_code(&self) -> CloseCode {
        match self {
            Self::InvalidUtf8 => CloseCode::INVALID_PAYLOAD,
            Self::FrameTooBig | Self::MessageTooBig | Self::FragmentLimit => CloseCode::TOO_BIG,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CloseFrameTooShort => f.write_str("close frame with a 1-byte payload"),
            Self::ControlFrameFragmented => f.write_str("fragmented control frame"),
            Self::ControlFrameTooLong => f.write_str("control frame payload over 125 bytes"),
            Self::DecompressionFailed => f.write_str("compressed message could not be inflated"),
            Self::ExpectedContinuation => {
                f.write_str("new data frame while a fragmented message is open")
            }
            Self::FragmentLimit => f.write_str("too many fragments in one message"),
            Self::FrameTooBig => f.write_str("frame payload over the configured limit"),
            Self::InvalidCloseCode(c) => write!(f, "close code {c} is not allowed on the wire"),
            Self::InvalidLength => f.write_str("64-bit payload length with the top bit set"),
            Self::InvalidUtf8 => f.write_str("invalid UTF-8 in a text message or close reason"),
            Self::MaskMissing => f.write_str("unmasked frame from a client"),
            Self::MaskUnexpected => f.write_str("masked frame from a server"),
            Self::MessageTooBig => f.write_str("message over the configured limit"),
            Self::NonMinimalLength => f.write_str("payload length not minimally encoded"),
            Self::ReservedOpcode(o) => write!(f, "reserved opcode {o:#x}"),
            Self::ReservedBits(b) => write!(f, "reserved bits {b:#05b} set without an extension"),
            Self::UnexpectedContinuation => f.write_str("continuation frame with no message open"),
        }
    }
}

impl core::error::Error for ProtocolError {}

/// The caller asked for something the connection cannot do in its current state. Nothing was
/// written and the connection is unchanged.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum ApiMisuse {
    /// A data frame or ping after a close frame was sent or received.
    Closing,
    /// A client asked for a header without handing over the payload to mask.
    ClientMustMask,
    /// A close code that may not be sent (RFC 6455 §7.4: 1005, 1006, 1015, <1000, ≥5000...).
    CloseCodeNotSendable(u16),
    /// A control frame payload (ping, pong, close code plus reason) over 125 bytes.
    ControlPayloadTooLong,
    /// A data frame of the other kind while a fragmented message is open.
    MessageKindMismatch,
    /// A whole message while a fragmented message is still open (finish it first).
    MessageInProgress,
    /// `send_in_place` for a fragment of a compressed message: compressing needs `send`.
    #[cfg(feature = "deflate")]
    CompressedInPlace,
    /// The opening handshake has not completed yet.
    NotOpen,
    /// A handshake operation in a phase where it makes no sense (accepting twice, a client
    /// accepting, ...).
    WrongPhase,
    /// An answer to the opening handshake that cannot be sent: a subprotocol or extension the
    /// client did not offer, an invalid or reserved extra header, an invalid rejection status.
    InvalidResponse,
}

impl fmt::Display for ApiMisuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closing => f.write_str("the closing handshake has started"),
            Self::ClientMustMask => f.write_str("a client must mask the payload it sends"),
            Self::CloseCodeNotSendable(c) => write!(f, "close code {c} may not be sent"),
            Self::ControlPayloadTooLong => f.write_str("control frame payload over 125 bytes"),
            #[cfg(feature = "deflate")]
            Self::CompressedInPlace => {
                f.write_str("a compressed message cannot be continued in place")
            }
            Self::MessageInProgress => f.write_str("a fragmented message is still open"),
            Self::MessageKindMismatch => {
                f.write_str("a fragmented message of the other kind is still open")
            }
            Self::NotOpen => f.write_str("the opening handshake has not completed"),
            Self::WrongPhase => f.write_str("operation not valid in this handshake phase"),
            Self::InvalidResponse => f.write_str("invalid answer to the opening handshake"),
        }
    }
}

impl core::error::Error for ApiMisuse {}

/// The output buffer is too small; nothing was written.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct BufferTooSmall {
    /// The number of bytes the output needs.
    pub required: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "output buffer too small: {} bytes required",
            self.required
        )
    }
}

impl core::error::Error for BufferTooSmall {}

/// Why a send failed. Nothing was written and the connection is unchanged.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum SendError {
    /// The output buffer is too small.
    BufferTooSmall(BufferTooSmall),
    /// The send is not allowed now.
    Misuse(ApiMisuse),
}

impl From<BufferTooSmall> for SendError {
    fn from(e: BufferTooSmall) -> Self {
        Self::BufferTooSmall(e)
    }
}

impl From<ApiMisuse> for SendError {
    fn from(e: ApiMisuse) -> Self {
        Self::Misuse(e)
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall(e) => e.fmt(f),
            Self::Misuse(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for SendError {}

/// A fatal receive error. Sticky: once returned, every later `handle_read` returns it again.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the WebSocket protocol or a configured limit.
    Protocol(ProtocolError),
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// A keepalive ping went unanswered, the peer's close did not arrive in time, or nothing
    /// arrived for the idle timeout. Close the transport; there is nothing to send.
    TimedOut,
}

impl Error {
    /// The close code to send for this error, if a close frame can be sent (only after the
    /// opening handshake).
    #[must_use]
    pub const fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Protocol(e) => Some(e.close_code()),
            Self::Handshake(_) | Self::TimedOut => None,
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "protocol error: {e}"),
            Self::Handshake(e) => write!(f, "handshake error: {e}"),
            Self::TimedOut => f.write_str("timed out"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Protocol(e) => Some(e),
            Self::Handshake(e) => Some(e),
            Self::TimedOut => None,
        }
    }
}
