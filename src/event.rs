//! What the connection reports to the application. Events borrow the caller's input buffer:
//! payloads are unmasked in place and never copied.

use crate::close::CloseFrame;
use crate::connection::MessageKind;
use crate::handshake::{Accepted, Request, Response};

/// One piece of a text or binary message.
///
/// A message arrives as one or more frames, and a frame larger than what the caller has
/// buffered arrives as several pieces. `payload` is the piece, unmasked in place.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Data<'b> {
    /// The bytes of this piece (possibly empty).
    pub payload: &'b [u8],
    /// This piece is the first of its message.
    pub starts_message: bool,
    /// This piece ends its frame.
    pub ends_frame: bool,
    /// This piece ends its message (and its frame).
    pub ends_message: bool,
    /// The payload is permessage-deflate data still to be inflated (only when the extension
    /// was negotiated; see `Connection::inflate`). Text validity is then checked on the
    /// inflated bytes.
    pub compressed: bool,
}

/// An event from [`Connection::handle_read`](crate::Connection::handle_read).
///
/// Data and control events are level-free: each describes bytes consumed by the call that
/// returned it and is reported exactly once.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Event<'b> {
    /// Server, handshake phase: a valid upgrade request arrived. Decide, then call
    /// [`Connection::accept`](crate::Connection::accept) or
    /// [`Connection::reject`](crate::Connection::reject) before dropping the consumed bytes.
    /// Reported once.
    Request(Request<'b>),
    /// Client, handshake phase: the server answered with something other than 101. The
    /// response (status, headers) is here for redirects and authentication; the connection is
    /// closed. Reported once.
    Rejected(Response<'b>),
    /// The opening handshake completed (client: valid 101 received; server: reported by
    /// `accept`, not here). Carries what was negotiated. Reported once.
    Opened(Accepted<'b>),
    /// A piece of a text message. Every byte delivered so far in this message is a prefix of
    /// valid UTF-8 (a piece may end inside a code point); when `ends_message` is set the whole
    /// message is valid UTF-8.
    Text(Data<'b>),
    /// A piece of a binary message.
    Binary(Data<'b>),
    /// A ping with its payload (at most 125 bytes). With `auto_pong` on, the pong is already
    /// queued for `poll_transmit`.
    Ping(&'b [u8]),
    /// A pong with its payload.
    Pong(&'b [u8]),
    /// The peer's close frame. Edge-triggered: reported once. The reply is already queued for
    /// `poll_transmit` unless we sent our close first.
    Close(CloseFrame<'b>),
}

impl<'b> Event<'b> {
    /// A whole uncompressed single-frame message: text if `text`, else binary.
    #[inline]
    pub(crate) fn whole_message(payload: &'b [u8], text: bool) -> Self {
        let data = Data {
            payload,
            starts_message: true,
            ends_frame: true,
            ends_message: true,
            compressed: false,
        };
        if text {
            Self::Text(data)
        } else {
            Self::Binary(data)
        }
    }

    /// The message kind and piece, if this is a text or binary event.
    #[must_use]
    pub fn as_data(&self) -> Option<(MessageKind, Data<'b>)> {
        match *self {
            Self::Text(d) => Some((MessageKind::Text, d)),
            Self::Binary(d) => Some((MessageKind::Binary, d)),
            _ => None,
        }
    }
}
