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
//! # Examples
//!
//! Each is run against a real peer by `.ci/examples.sh`:
//!
//! - `examples/chat.rs` (`cargo run --example chat`): a browser chat on one port with the
//!   blocking adapter and its reader/writer split; checks `Origin`, reads a token from the
//!   query string;
//! - `examples/tokio_echo_server.rs`, `examples/tokio_echo_client.rs` (feature `tokio`);
//! - `examples/heartbeat.rs` (feature `tokio`): keepalive pings, reports a dead peer;
//! - `examples/integrations/`: a hyper 1.x server that does the upgrade itself and hands the
//!   connection over, and a `wss://` server on tokio-rustls with an rcgen certificate;
//! - `examples/embedded/`: a fixed-buffer echo server loop linked for `thumbv7em-none-eabihf`
//!   without an allocator, with a host twin.
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
