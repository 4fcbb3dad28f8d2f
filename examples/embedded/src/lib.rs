//! A WebSocket echo server loop for a microcontroller: fixed buffers, no allocator, any
//! transport implementing `embedded-io-async` (embassy-net's `TcpSocket`, or on the host a
//! test socket). [`echo_server`] serves one connection; run it in a loop per socket.
//!
//! Memory per connection: [`Buffers`] (2,062 bytes as configured here) plus the future of
//! [`echo_server`], which holds the adapter; `tests/host_twin.rs` prints the exact sizes.
#![no_std]
#![forbid(unsafe_code)]

use embedded_io_async::{ErrorType, Read, Write};
use ws_proto::adapters::embedded::{Error, RxBuffer, WebSocket};
use ws_proto::{Config, Event, Outgoing};

/// The receive buffer: holds the upgrade request head, then frames stream through it.
pub const RX_LEN: usize = 1024;
/// The transmit buffer: one received piece plus the largest frame header, so that any piece
/// can be echoed at once.
pub const TX_LEN: usize = RX_LEN + 14;

/// The memory one connection needs, lent to the adapter.
#[derive(Debug)]
pub struct Buffers {
    /// Received bytes.
    pub rx: [u8; RX_LEN],
    /// Bytes to send.
    pub tx: [u8; TX_LEN],
}

impl Buffers {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        Self {
            rx: [0; RX_LEN],
            tx: [0; TX_LEN],
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

/// What a connection did.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Stats {
    /// Whole messages echoed.
    pub messages: u32,
    /// Payload bytes echoed.
    pub bytes: u64,
    /// The peer's close code.
    pub close_code: u16,
}

/// Serves one connection: accepts an upgrade to `/echo` and echoes every message, piece by
/// piece (as fragments), so messages of any size pass through the fixed buffers.
///
/// # Errors
/// What the adapter reports: transport errors, protocol errors (the close frame was sent),
/// a rejected request (404 for another path).
pub async fn echo_server<T: Read + Write>(
    socket: T,
    buffers: &mut Buffers,
) -> Result<Stats, Error<<T as ErrorType>::Error>> {
    let Buffers { rx, tx } = buffers;
    let mut rx = RxBuffer::new(rx);
    let mut config = Config::default();
    config.max_handshake_len = RX_LEN;
    let mut ws = WebSocket::accept(socket, config, &mut rx, tx, |request| {
        if request.path() == "/echo" {
            Ok(None)
        } else {
            Err(404)
        }
    })
    .await?;
    let mut stats = Stats::default();
    loop {
        match ws.read(&mut rx).await {
            Ok(Event::Close(frame)) => stats.close_code = frame.code.0,
            Ok(event) => {
                if let Some((kind, data)) = event.as_data() {
                    let fragment = Outgoing::Fragment {
                        kind,
                        payload: data.payload,
                        fin: data.ends_message,
                    };
                    ws.send(fragment).await?;
                    stats.bytes = stats.bytes.saturating_add(data.payload.len() as u64);
                    if data.ends_message {
                        stats.messages = stats.messages.saturating_add(1);
                    }
                }
            }
            Err(Error::Closed) => return Ok(stats),
            Err(e) => return Err(e),
        }
    }
}

/// A transport that replays a fixed input and records the output: drives [`echo_server`]
/// without a network (the firmware binary, and host tests).
#[derive(Debug)]
pub struct ScriptedSocket<'a> {
    input: &'a [u8],
    output: &'a mut [u8],
    written: usize,
}

impl<'a> ScriptedSocket<'a> {
    /// Reads come from `input` (then end of file); writes go to `output`.
    pub fn new(input: &'a [u8], output: &'a mut [u8]) -> Self {
        Self {
            input,
            output,
            written: 0,
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.output.get(..self.written).unwrap_or_default()
    }
}

impl ErrorType for ScriptedSocket<'_> {
    type Error = embedded_io_async::ErrorKind;
}

impl Read for ScriptedSocket<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.input.len()).min(7); // small reads: exercise reassembly
        let (now, rest) = self.input.split_at(n);
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(now);
        }
        self.input = rest;
        Ok(n)
    }
}

impl Write for ScriptedSocket<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let room = self.output.len().saturating_sub(self.written);
        let n = buf.len().min(room);
        if n == 0 && !buf.is_empty() {
            return Err(embedded_io_async::ErrorKind::WriteZero);
        }
        let end = self.written.saturating_add(n);
        if let (Some(dst), Some(src)) = (self.output.get_mut(self.written..end), buf.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.written = end;
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// An upgrade request, a masked text frame "hi", and a masked close frame (code 1000).
pub const SCRIPT: &[u8] = b"GET /echo HTTP/1.1\r\nHost: mcu\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\r\n\
\x81\x82\x01\x02\x03\x04\x69\x6b\
\x88\x82\x01\x02\x03\x04\x02\xea";

/// Runs [`echo_server`] over [`SCRIPT`] to completion and returns how many bytes it wrote
/// (the 101 response, the echo and the close reply), or 0 on error. Every transport call is
/// ready at once, so one poll finishes it. `src/bin/firmware.rs` calls this.
pub fn run_script(output: &mut [u8]) -> usize {
    let mut buffers = Buffers::new();
    let mut socket = ScriptedSocket::new(SCRIPT, output);
    let finished = {
        let mut future = core::pin::pin!(echo_server(&mut socket, &mut buffers));
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        matches!(
            future.as_mut().poll(&mut cx),
            core::task::Poll::Ready(Ok(_))
        )
    };
    if finished { socket.written().len() } else { 0 }
}
