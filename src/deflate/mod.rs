//! permessage-deflate (RFC 7692): negotiation helpers for both roles, and the compression
//! state a [`Connection`](crate::Connection) keeps once the extension is agreed.
//!
//! Nothing here is active by itself: a server calls [`negotiate`] on the request's offers and
//! puts [`DeflateParams::header_value`] into its `Accept`; a client puts
//! [`DeflateConfig::offer`] into its request and the connection checks the answer. Compressed
//! messages then arrive as [`Data`](crate::Data) pieces with `compressed: true`, which
//! [`Connection::inflate`](crate::Connection::inflate) turns into plain bytes; messages sent
//! with [`Connection::send`](crate::Connection::send) are compressed.
//!
//! The DEFLATE implementation is `miniz_oxide` (safe Rust, `no_std` + `alloc`). It always
//! searches a 32 KiB window, so smaller negotiated windows are enforced around it (see
//! [`DeflateConfig::server_max_window_bits`]). Memory per connection once used: about 45 KiB to
//! receive (32 KiB window plus decoder tables) and about 320 KiB to send (`miniz_oxide`'s
//! hash chains and buffers), each allocated on first use.

mod codec;
mod negotiate;

use alloc::boxed::Box;
use core::fmt::{self, Write as _};

pub use negotiate::{InvalidResponse, negotiate, parse_response};

pub(crate) use codec::{Compressor, InflateError, Inflater, Overflow, TAIL, append_within};
pub(crate) use negotiate::parse_own_response;

use crate::Role;
use crate::utf8::Utf8Validator;

/// The extension token.
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// The longest header value [`DeflateParams::header_value`] and [`DeflateConfig::offer`] write.
pub const MAX_HEADER_VALUE_LEN: usize = 128;

/// The most bytes [`Connection::send`](crate::Connection::send) writes for a compressed
/// message or fragment of `payload_len` bytes, header included: size output buffers with it
/// (a smaller buffer fails with `BufferTooSmall` before anything is compressed).
#[must_use]
pub fn max_frame_len(payload_len: usize) -> usize {
    // 14: the longest frame header.
    Compressor::bound(payload_len).saturating_add(14)
}

/// What this endpoint is willing to negotiate, and how it compresses. Put it in
/// [`Config::deflate`](crate::Config::deflate) to turn the extension on.
///
/// The RFC names its parameters after the role that compresses: `server_*` parameters govern
/// what the server sends, `client_*` what the client sends.
#[derive(Clone, Debug, Eq, Hash, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Compression level, 0 (store only) to 9 (smallest); default 6, zlib's default.
    pub level: u8,
    /// The server compresses every message on its own (no LZ77 history carried over): a
    /// worse ratio for repetitive traffic. A client sets it to ask the server for this (a
    /// server that does not agree fails our handshake); a server sets it to do it unasked.
    /// Default false.
    pub server_no_context_takeover: bool,
    /// The client compresses every message on its own. A client sets it to promise this
    /// (and then keeps the promise); a server sets it to require it. Default false.
    pub client_no_context_takeover: bool,
    /// The largest LZ77 window (2^bits bytes, 8–15) the server compresses with. A client sets
    /// it below 15 to ask the server to use a smaller window; a server to use one itself.
    /// Default 15. Below 15, the compressor empties its dictionary every 2^bits bytes (9–14)
    /// or uses run-length matches only (8): smaller windows compress worse.
    pub server_max_window_bits: u8,
    /// The largest window the client compresses with (8–15, default 15); see
    /// `server_max_window_bits`. A client always offers `client_max_window_bits` (so servers
    /// may limit it); a server below 15 asks the client to use that window.
    pub client_max_window_bits: u8,
    /// Messages shorter than this are sent uncompressed (default 0: compress all). Fragmented
    /// messages are always compressed.
    pub min_message_size: usize,
}

impl DeflateConfig {
    /// Level 6, context takeover both ways, full windows, compress every message.
    pub const DEFAULT: Self = Self {
        level: 6,
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        min_message_size: 0,
    };

    /// The client's `Sec-WebSocket-Extensions` offer for this configuration, e.g.
    /// `permessage-deflate; client_max_window_bits`.
    #[must_use]
    pub fn offer(&self) -> heapless::String<MAX_HEADER_VALUE_LEN> {
        let mut s = heapless::String::new();
        // Fits: the longest offer is about 110 bytes.
        let _ = self.write_offer(&mut s);
        s
    }

    fn write_offer(&self, w: &mut dyn fmt::Write) -> fmt::Result {
        w.write_str(EXTENSION_NAME)?;
        if self.server_no_context_takeover {
            w.write_str("; server_no_context_takeover")?;
        }
        if self.client_no_context_takeover {
            w.write_str("; client_no_context_takeover")?;
        }
        let server_bits = self.server_max_window_bits.clamp(8, 15);
        if server_bits < 15 {
            write!(w, "; server_max_window_bits={server_bits}")?;
        }
        let client_bits = self.client_max_window_bits.clamp(8, 15);
        if client_bits < 15 {
            write!(w, "; client_max_window_bits={client_bits}")
        } else {
            w.write_str("; client_max_window_bits")
        }
    }

    /// What this endpoint compresses with, given what was agreed.
    fn sending(&self, role: Role, params: &DeflateParams) -> (u8, bool) {
        let (agreed_bits, agreed_reset, own_bits, own_reset) = match role {
            Role::Server => (
                params.server_max_window_bits,
                params.server_no_context_takeover,
                self.server_max_window_bits,
                self.server_no_context_takeover,
            ),
            Role::Client => (
                params.client_max_window_bits,
                params.client_no_context_takeover,
                self.client_max_window_bits,
                self.client_no_context_takeover,
            ),
        };
        let bits = agreed_bits.unwrap_or(15).min(own_bits).clamp(8, 15);
        (bits, agreed_reset || own_reset)
    }
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The agreed permessage-deflate parameters: the server's response (RFC 7692 §7.1).
/// A window of `None` means the parameter is absent (15 bits).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct DeflateParams {
    /// The server resets its compression context after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compression context after every message.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window, 8–15 bits.
    pub server_max_window_bits: Option<u8>,
    /// The client's LZ77 window, 8–15 bits.
    pub client_max_window_bits: Option<u8>,
}

impl DeflateParams {
    /// The response value for `Sec-WebSocket-Extensions`, e.g.
    /// `permessage-deflate; server_max_window_bits=10`.
    #[must_use]
    pub fn header_value(&self) -> heapless::String<MAX_HEADER_VALUE_LEN> {
        let mut s = heapless::String::new();
        // Fits: the longest response is about 120 bytes.
        let _ = write!(s, "{self}");
        s
    }
}

impl fmt::Display for DeflateParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXTENSION_NAME)?;
        if self.server_no_context_takeover {
            f.write_str("; server_no_context_takeover")?;
        }
        if self.client_no_context_takeover {
            f.write_str("; client_no_context_takeover")?;
        }
        if let Some(bits) = self.server_max_window_bits {
            write!(f, "; server_max_window_bits={}", bits.clamp(8, 15))?;
        }
        if let Some(bits) = self.client_max_window_bits {
            write!(f, "; client_max_window_bits={}", bits.clamp(8, 15))?;
        }
        Ok(())
    }
}

/// The compressed message being received.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RxMessage {
    pub(crate) text: bool,
    /// Inflated bytes so far.
    pub(crate) inflated: u64,
    pub(crate) utf8: Utf8Validator,
}

/// Per-connection permessage-deflate state, once negotiated.
#[derive(Clone, Debug)]
pub(crate) struct DeflateState {
    pub(crate) params: DeflateParams,
    pub(crate) level: u8,
    pub(crate) min_message_size: usize,
    /// Window bits for what we send.
    pub(crate) send_bits: u8,
    /// Reset our compressor after each message.
    pub(crate) send_reset: bool,
    /// Allocated on the first compressed send (boxed: the compressor's state is large even
    /// before it allocates its tables).
    pub(crate) compressor: Option<Box<Compressor>>,
    /// Allocated on the first compressed message received.
    pub(crate) inflater: Option<Inflater>,
    pub(crate) rx: Option<RxMessage>,
    /// The fragmented message we are sending is compressed (meaningful while one is open).
    pub(crate) tx_compressed: bool,
}

impl DeflateState {
    pub(crate) fn new(role: Role, config: &DeflateConfig, params: DeflateParams) -> Self {
        let (send_bits, send_reset) = config.sending(role, &params);
        Self {
            params,
            level: config.level,
            min_message_size: config.min_message_size,
            send_bits,
            send_reset,
            compressor: None,
            inflater: None,
            rx: None,
            tx_compressed: false,
        }
    }

    /// The compressor, allocated on first use.
    pub(crate) fn compressor(&mut self) -> &mut Compressor {
        let (level, bits) = (self.level, self.send_bits);
        self.compressor
            .get_or_insert_with(|| Box::new(Compressor::new(level, bits)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers() {
        assert_eq!(
            DeflateConfig::default().offer().as_str(),
            "permessage-deflate; client_max_window_bits"
        );
        let c = DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 10,
            client_max_window_bits: 9,
            ..DeflateConfig::default()
        };
        assert_eq!(
            c.offer().as_str(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=9"
        );
        let p = DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(15),
            client_max_window_bits: Some(15),
        };
        assert_eq!(
            p.header_value().as_str(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=15; client_max_window_bits=15"
        );
    }
}
