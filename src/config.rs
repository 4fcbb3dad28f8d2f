//! Connection configuration: limits and policies.
//!
//! Every limit is enforced before the memory or work it guards is spent: a frame or message
//! over its limit is refused when its header arrives, before any of its payload is delivered.

use crate::time::Duration;

/// Limits and policies for one connection. Start from [`Config::default`] and change fields.
#[derive(Clone, Debug, Eq, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub struct Config {
    /// The largest frame payload accepted, in bytes (default 16 MiB). Larger frames fail the
    /// connection with 1009 when their header arrives.
    pub max_frame_payload: u64,
    /// The largest message accepted, in bytes, summed over its fragments and counted after
    /// decompression (default 64 MiB). Larger messages fail the connection with 1009 before any
    /// byte of the offending frame is delivered.
    pub max_message_size: u64,
    /// The most frames one message may have (default 1 Mi). Guards against a peer that keeps a
    /// message open with endless empty continuation frames.
    pub max_fragments: u32,
    /// Whether a received ping is answered automatically (default true). Only the latest
    /// unanswered ping is answered, as RFC 6455 §5.5.3 allows.
    pub auto_pong: bool,
    /// The longest HTTP upgrade head (request line or status line plus headers) accepted, in
    /// bytes (default 8 KiB). A longer head is refused with 431.
    pub max_handshake_len: usize,
    /// The most headers an HTTP upgrade head may have (default 64).
    pub max_handshake_headers: usize,
    /// Send a ping when nothing was received for this long (default: off).
    pub keepalive_interval: Option<Duration>,
    /// Fail the connection when a keepalive ping is not answered by any received frame within
    /// this long (default 30 s; only used with `keepalive_interval`).
    pub pong_timeout: Duration,
    /// After a close frame was sent, give up waiting for the peer's close after this long
    /// (default 10 s).
    pub close_timeout: Option<Duration>,
    /// Fail the connection when nothing is received for this long (default: off).
    pub idle_timeout: Option<Duration>,
    /// permessage-deflate (RFC 7692): what to offer (client) and how to compress once agreed
    /// (default: off). A server negotiates with [`crate::deflate::negotiate`].
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub deflate: Option<crate::deflate::DeflateConfig>,
}

impl Config {
    /// The defaults: 16 MiB frames, 64 MiB messages, 1 Mi fragments, auto-pong on, 8 KiB and
    /// 64 headers for the handshake, 10 s close timeout, no keepalive, no idle timeout.
    pub const DEFAULT: Self = Self {
        max_frame_payload: 16 << 20,
        max_message_size: 64 << 20,
        max_fragments: 1 << 20,
        auto_pong: true,
        max_handshake_len: 8 << 10,
        max_handshake_headers: 64,
        keepalive_interval: None,
        pong_timeout: Duration::from_secs(30),
        close_timeout: Some(Duration::from_secs(10)),
        idle_timeout: None,
        #[cfg(feature = "deflate")]
        deflate: None,
    };
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}
