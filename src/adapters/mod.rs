//! Adapters that drive a [`Connection`](crate::Connection) over a real transport, each built
//! only on the public sans-IO API:
//!
//! - [`blocking`] (feature `std`): `WebSocket<S: Read + Write>` with `read`/`send`/`close`,
//!   and a reader/writer split for thread-per-direction servers;
//! - [`tokio`] (feature `tokio`): an async `Stream`/`Sink` of [`Message`](crate::message::Message)s
//!   over `AsyncRead + AsyncWrite`, with keepalive deadlines on tokio's timer;
//! - [`embedded`] (feature `embedded-io-async`): an adapter over the `embedded-io-async`
//!   traits with caller-provided buffers and no allocator.
//!
//! # Memory per connection
//!
//! Each adapter documents its buffers. The `std` adapters own a read buffer
//! ([`DEFAULT_READ_BUFFER`] bytes unless configured) and a write queue that is empty (and
//! unallocated) while idle; whole messages are collected in a buffer that exists only while a
//! message is arriving. The embedded adapter owns nothing: the caller lends the buffers.

#[cfg(feature = "std")]
pub mod blocking;
#[cfg(feature = "std")]
mod buffered;
#[cfg(feature = "embedded-io-async")]
pub mod embedded;
#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(feature = "std")]
pub use buffered::{DEFAULT_READ_BUFFER, Decision, Error};
