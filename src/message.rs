//! Owned messages and reassembly (feature `alloc`): the convenience layer over the streaming
//! events, for applications that want whole messages rather than pieces.
//!
//! The connection already bounds a message by [`Config::max_message_size`] (checked when each
//! frame header arrives), so the buffer here never grows past that limit.
//!
//! [`Config::max_message_size`]: crate::Config::max_message_size

use alloc::string::String;
use alloc::vec::Vec;

use crate::close::CloseCode;
use crate::connection::MessageKind;
use crate::event::Event;

/// A whole message or control frame, owned.
#[derive(Clone, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum Message {
    /// A text message (valid UTF-8).
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping and its payload.
    Ping(Vec<u8>),
    /// A pong and its payload.
    Pong(Vec<u8>),
    /// The peer's close frame: code ([`CloseCode::NO_STATUS`] for an empty body) and reason.
    Close(CloseCode, String),
}

/// Collects the pieces of one message at a time into an owned [`Message`].
#[derive(Clone, Debug, Default)]
pub struct MessageAssembler {
    kind: Option<MessageKind>,
    buf: Vec<u8>,
}

impl MessageAssembler {
    /// An empty assembler.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            kind: None,
            buf: Vec::new(),
        }
    }

    /// Takes one event; returns a message when one is complete. Handshake events and
    /// compressed pieces (which need [`Connection`](crate::Connection)'s inflater) return
    /// `None`.
    pub fn push(&mut self, event: &Event<'_>) -> Option<Message> {
        match event {
            Event::Ping(p) => Some(Message::Ping(p.to_vec())),
            Event::Pong(p) => Some(Message::Pong(p.to_vec())),
            Event::Close(c) => Some(Message::Close(c.code, String::from(c.reason))),
            _ => {
                let (kind, data) = event.as_data()?;
                if data.compressed {
                    return None;
                }
                self.push_bytes(kind, data.payload, data.ends_message)
            }
        }
    }

    /// Appends a piece of (already decoded) message bytes; returns the message when `last`.
    pub fn push_bytes(&mut self, kind: MessageKind, bytes: &[u8], last: bool) -> Option<Message> {
        self.kind.get_or_insert(kind);
        self.buf.extend_from_slice(bytes);
        if !last {
            return None;
        }
        let bytes = core::mem::take(&mut self.buf);
        match self.kind.take().unwrap_or(kind) {
            // The connection validated the text; converting again costs one more pass.
            MessageKind::Text => Some(Message::Text(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            )),
            MessageKind::Binary => Some(Message::Binary(bytes)),
        }
    }

    /// Bytes of the message being collected.
    #[must_use]
    pub fn pending_len(&self) -> usize {
        self.buf.len()
    }
}
