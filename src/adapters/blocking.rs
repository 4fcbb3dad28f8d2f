//! A blocking adapter over any `std::io::Read + Write` stream (a `TcpStream`, a TLS stream,
//! a Unix socket): [`WebSocket`] reads whole [`Message`]s and sends frames, one call at a time.
//!
//! ```no_run
//! use std::net::TcpListener;
//! use ws_proto::adapters::blocking;
//! use ws_proto::message::Message;
//! use ws_proto::{Config, Outgoing};
//!
//! # fn main() -> Result<(), ws_proto::adapters::Error> {
//! let listener = TcpListener::bind("127.0.0.1:9001")?;
//! let (socket, _) = listener.accept()?;
//! let mut ws = blocking::accept(socket, Config::default())?;
//! loop {
//!     match ws.read()? {
//!         Message::Text(t) => ws.send(Outgoing::Text(&t))?,
//!         Message::Binary(b) => ws.send(Outgoing::Binary(&b))?,
//!         _ => {} // pongs and close replies are sent automatically
//!     }
//! }
//! # }
//! ```
//!
//! To read in one thread and write from others (a chat server broadcasting to every client),
//! [`WebSocket::split`] a `TcpStream` socket into a [`Reader`] and a cloneable [`Writer`].
//!
//! # Timers
//!
//! Keepalive, pong, close and idle timeouts (see [`Config`]) run on `std::time::Instant`. The
//! adapter ticks them whenever it reads; to tick them while the peer is silent, give the
//! socket a read timeout no longer than [`WebSocket::timeout`]: a read that times out runs
//! the timers (sending a keepalive ping, or failing with
//! [`Error::Protocol`]`(`[`TimedOut`](crate::Error::TimedOut)`)`) and returns the `WouldBlock`
//! or `TimedOut` I/O error, after which `read` may be called again.
//!
//! # Memory
//!
//! Per connection: the [`WebSocket`] value (`size_of` under 1 KiB with a `TcpStream`, mostly
//! the [`Connection`]), a read buffer of [`DEFAULT_READ_BUFFER`] (4 KiB) unless set with
//! [`WebSocket::with_read_buffer`], and while a message is arriving, that message. The write
//! queue holds only what one call sends and keeps at most [`RETAINED_WRITE_CAPACITY`] bytes of
//! capacity between calls. A split connection adds one `Arc<Mutex<..>>` allocation.

use core::time::Duration;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::vec::Vec;

use super::buffered::{
    HandshakeStep, ReadBuf, client_handshake, client_request, next_message, queue_close,
    queue_send, queue_transmit, read_limit, server_handshake, tick,
};
use super::{DEFAULT_READ_BUFFER, Decision, Error};
use crate::connection::{Connection, State};
use crate::handshake::{ClientRequest, Request};
use crate::mask_source::{MaskSource, NoMask, OsRandom};
use crate::message::{Message, MessageAssembler};
use crate::time::StdClock;
use crate::{CloseCode, Config, Outgoing};

/// The most write-queue capacity kept between calls (16 KiB); a larger message's buffer is
/// released after it is written.
pub const RETAINED_WRITE_CAPACITY: usize = 4 * 1024;

/// Server: reads the upgrade request from `stream` and accepts it.
///
/// # Errors
/// [`Error::Protocol`] for an invalid request (the HTTP error response was sent),
/// [`Error::Io`] if the transport fails.
pub fn accept<S: Read + Write>(stream: S, config: Config) -> Result<WebSocket<S>, Error> {
    accept_with(stream, config, |_| Decision::Accept)
}

/// Server: reads the upgrade request from `stream` and lets `decide` accept it (choosing a
/// subprotocol) or reject it with an HTTP status, e.g. after checking its `Origin` header or
/// its path.
///
/// # Errors
/// [`Error::Rejected`] if `decide` rejected (the response was sent), otherwise as [`accept`].
pub fn accept_with<S: Read + Write>(
    stream: S,
    config: Config,
    mut decide: impl FnMut(&Request<'_>) -> Decision,
) -> Result<WebSocket<S>, Error> {
    let mut ws = WebSocket::from_connection(stream, Connection::server(config));
    loop {
        let step = server_handshake(&mut ws.conn, &mut ws.rx, &mut ws.out, &mut decide);
        ws.write_out()?;
        match step? {
            HandshakeStep::Opened => return Ok(ws),
            HandshakeStep::Pending => ws.fill()?,
        }
    }
}

/// Client: sends the upgrade request for `request` over `stream` (already connected to the
/// server; TLS already set up for `wss://`) and reads the response. Masking keys come from the
/// operating system.
///
/// # Errors
/// [`Error::Rejected`] with the status when the server does not upgrade; [`Error::Protocol`]
/// for an invalid response; [`Error::Io`] if the transport fails.
pub fn connect<S: Read + Write>(
    stream: S,
    request: &ClientRequest<'_>,
    config: Config,
) -> Result<WebSocket<S, OsRandom>, Error> {
    let conn = Connection::client(config, OsRandom::new());
    let mut ws = WebSocket::from_connection(stream, conn);
    client_request(&mut ws.conn, &mut ws.out, request)?;
    ws.write_out()?;
    loop {
        match client_handshake(&mut ws.conn, &mut ws.rx)? {
            HandshakeStep::Opened => return Ok(ws),
            HandshakeStep::Pending => ws.fill()?,
        }
    }
}

/// A WebSocket over a blocking stream. See the [module docs](self).
#[derive(Debug)]
pub struct WebSocket<S, M = NoMask> {
    stream: S,
    conn: Connection<M>,
    rx: ReadBuf,
    out: Vec<u8>,
    assembler: MessageAssembler,
    clock: StdClock,
}

impl<S: Read + Write, M: MaskSource> WebSocket<S, M> {
    /// Wraps a connection in any phase, e.g. one opened by an HTTP server that did the upgrade
    /// (`Connection::new(Role::Server, ..)`), with a [`DEFAULT_READ_BUFFER`]-byte read buffer.
    pub fn from_connection(stream: S, conn: Connection<M>) -> Self {
        Self::with_read_buffer(stream, conn, DEFAULT_READ_BUFFER, &[])
    }

    /// Like [`from_connection`](Self::from_connection) with a read buffer of `read_buffer`
    /// bytes (at least [`Connection::MIN_READ_BUFFER`]), and `leftover`: bytes already read
    /// from the stream that belong to the connection (frames behind an upgrade request).
    pub fn with_read_buffer(
        stream: S,
        conn: Connection<M>,
        read_buffer: usize,
        leftover: &[u8],
    ) -> Self {
        let mut rx = ReadBuf::new(read_buffer);
        rx.extend(leftover);
        Self {
            stream,
            conn,
            rx,
            out: Vec::new(),
            assembler: MessageAssembler::new(),
            clock: StdClock::new(),
        }
    }

    /// Blocks until a whole message, ping, pong or the peer's close arrives. Pongs to pings
    /// and the reply to a close are sent before it returns.
    ///
    /// # Errors
    /// [`Error::Closed`] once the connection is closed (after [`Message::Close`] was
    /// returned); [`Error::Protocol`] when it fails; [`Error::Io`] for transport errors,
    /// `UnexpectedEof` when the transport ends without a close frame.
    pub fn read(&mut self) -> Result<Message, Error> {
        loop {
            if let Some(message) = self.step()? {
                return Ok(message);
            }
            self.fill()?;
        }
    }

    /// Sends one frame and flushes the stream.
    ///
    /// # Errors
    /// [`Error::Misuse`] if the frame may not be sent now (nothing was sent), [`Error::Io`].
    pub fn send(&mut self, msg: Outgoing<'_>) -> Result<(), Error> {
        self.write(msg)?;
        self.flush()
    }

    /// Queues one frame without writing it; [`flush`](Self::flush) writes the queue.
    ///
    /// # Errors
    /// [`Error::Misuse`] if the frame may not be sent now.
    pub fn write(&mut self, msg: Outgoing<'_>) -> Result<(), Error> {
        queue_send(&mut self.conn, &mut self.out, msg)
    }

    /// Writes the queue and flushes the stream.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn flush(&mut self) -> Result<(), Error> {
        self.write_out()
    }

    /// Starts the closing handshake: sends our close frame. Keep calling
    /// [`read`](Self::read) until it returns [`Error::Closed`] to receive the peer's close.
    ///
    /// # Errors
    /// [`Error::Misuse`] if our close was already sent or `code` may not be sent.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        queue_close(&mut self.conn, &mut self.out, code, reason)?;
        self.write_out()
    }

    /// How long until the connection's next timer is due (`None`: no timer armed). Use it
    /// as the socket's read timeout to run keepalive while the peer is silent.
    pub fn timeout(&self) -> Option<Duration> {
        let deadline = self.conn.poll_timeout()?;
        Some(deadline.saturating_duration_since(self.clock.now()))
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        self.conn.state()
    }

    /// The sans-IO connection.
    pub fn connection(&self) -> &Connection<M> {
        &self.conn
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, mutably (e.g. to set timeouts). Reading or writing it directly breaks the
    /// connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The stream, dropping the connection state.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Bytes of heap this adapter holds now (read buffer, write queue, partial message).
    pub fn heap_bytes(&self) -> usize {
        self.rx
            .capacity()
            .saturating_add(self.out.capacity())
            .saturating_add(self.assembler.pending_len())
    }

    fn step(&mut self) -> Result<Option<Message>, Error> {
        tick(&mut self.conn, &self.clock);
        let result = next_message(&mut self.conn, &mut self.rx, &mut self.assembler);
        queue_transmit(&mut self.conn, &mut self.out);
        self.write_out()?;
        finish_step(&self.conn, result)
    }

    fn fill(&mut self) -> Result<(), Error> {
        let limit = read_limit(&self.conn, &self.rx);
        let result = read_into(&mut self.stream, &mut self.rx, limit);
        after_read(result, &mut self.conn, &self.clock, |conn| {
            queue_transmit(conn, &mut self.out);
            write_all(&mut self.stream, &mut self.out)
        })
    }

    fn write_out(&mut self) -> Result<(), Error> {
        write_all(&mut self.stream, &mut self.out)
    }
}

/// A stream that can be duplicated into a second handle on the same transport, so that one
/// thread reads while others write.
pub trait TryCloneStream: Sized {
    /// Another handle on the same transport.
    ///
    /// # Errors
    /// When the operating system refuses to duplicate the handle.
    fn try_clone_stream(&self) -> io::Result<Self>;
}

impl TryCloneStream for std::net::TcpStream {
    fn try_clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
}

#[cfg(unix)]
impl TryCloneStream for std::os::unix::net::UnixStream {
    fn try_clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
}

impl<S: Read + Write + TryCloneStream, M: MaskSource> WebSocket<S, M> {
    /// Splits into a [`Reader`] (for one thread) and a cloneable [`Writer`] (for any number).
    /// The connection state sits behind a mutex that is never held while blocked on a read.
    ///
    /// # Errors
    /// If the stream cannot be duplicated.
    pub fn split(self) -> io::Result<(Reader<S, M>, Writer<S, M>)> {
        let write_stream = self.stream.try_clone_stream()?;
        let shared = Arc::new(Mutex::new(Shared {
            conn: self.conn,
            out: self.out,
            stream: write_stream,
        }));
        let reader = Reader {
            stream: self.stream,
            rx: self.rx,
            assembler: self.assembler,
            clock: self.clock,
            shared: Arc::clone(&shared),
        };
        Ok((reader, Writer { shared }))
    }
}

#[derive(Debug)]
struct Shared<S, M> {
    conn: Connection<M>,
    out: Vec<u8>,
    stream: S,
}

/// The reading half of a split [`WebSocket`].
#[derive(Debug)]
pub struct Reader<S, M = NoMask> {
    stream: S,
    rx: ReadBuf,
    assembler: MessageAssembler,
    clock: StdClock,
    shared: Arc<Mutex<Shared<S, M>>>,
}

/// The writing half of a split [`WebSocket`]; clones write to the same connection.
#[derive(Debug)]
pub struct Writer<S, M = NoMask> {
    shared: Arc<Mutex<Shared<S, M>>>,
}

impl<S, M> Clone for Writer<S, M> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A writer that panicked mid-call leaves at worst a half-written frame, which the peer
    // reports; the state itself stays consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<S: Read + Write, M: MaskSource> Reader<S, M> {
    /// As [`WebSocket::read`].
    ///
    /// # Errors
    /// As [`WebSocket::read`].
    pub fn read(&mut self) -> Result<Message, Error> {
        loop {
            {
                let mut guard = lock(&self.shared);
                let shared = &mut *guard;
                tick(&mut shared.conn, &self.clock);
                let result = next_message(&mut shared.conn, &mut self.rx, &mut self.assembler);
                queue_transmit(&mut shared.conn, &mut shared.out);
                write_all(&mut shared.stream, &mut shared.out)?;
                if let Some(message) = finish_step(&shared.conn, result)? {
                    return Ok(message);
                }
            }
            let limit = read_limit(&lock(&self.shared).conn, &self.rx);
            let result = read_into(&mut self.stream, &mut self.rx, limit);
            let mut guard = lock(&self.shared);
            let shared = &mut *guard;
            after_read(result, &mut shared.conn, &self.clock, |conn| {
                queue_transmit(conn, &mut shared.out);
                write_all(&mut shared.stream, &mut shared.out)
            })?;
        }
    }

    /// How long until the connection's next timer is due (see [`WebSocket::timeout`]).
    pub fn timeout(&self) -> Option<Duration> {
        let deadline = lock(&self.shared).conn.poll_timeout()?;
        Some(deadline.saturating_duration_since(self.clock.now()))
    }

    /// The reading stream handle (e.g. to set a read timeout).
    pub fn get_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: Read + Write, M: MaskSource> Writer<S, M> {
    /// As [`WebSocket::send`].
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub fn send(&self, msg: Outgoing<'_>) -> Result<(), Error> {
        let mut guard = lock(&self.shared);
        let shared = &mut *guard;
        queue_send(&mut shared.conn, &mut shared.out, msg)?;
        write_all(&mut shared.stream, &mut shared.out)
    }

    /// As [`WebSocket::close`]; the [`Reader`] then receives the peer's close.
    ///
    /// # Errors
    /// As [`WebSocket::close`].
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        let mut guard = lock(&self.shared);
        let shared = &mut *guard;
        queue_close(&mut shared.conn, &mut shared.out, code, reason)?;
        write_all(&mut shared.stream, &mut shared.out)
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        lock(&self.shared).conn.state()
    }
}

/// Turns the outcome of decoding into the adapter's answer.
fn finish_step<M: MaskSource>(
    conn: &Connection<M>,
    result: Result<Option<Message>, crate::Error>,
) -> Result<Option<Message>, Error> {
    match result {
        Ok(Some(message)) => Ok(Some(message)),
        Ok(None) if conn.state() == State::Closed => Err(Error::Closed),
        Ok(None) => Ok(None),
        Err(e) => Err(Error::Protocol(e)),
    }
}

/// One read from the stream into the buffer's spare room.
fn read_into<S: Read>(stream: &mut S, rx: &mut ReadBuf, limit: usize) -> io::Result<usize> {
    let spare = rx.spare(limit);
    if spare.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "read buffer full without a complete handshake head",
        ));
    }
    let n = stream.read(spare)?;
    rx.filled(n);
    Ok(n)
}

/// Handles the outcome of a read: end of file, timer ticks on a read timeout.
fn after_read<M: MaskSource>(
    result: io::Result<usize>,
    conn: &mut Connection<M>,
    clock: &StdClock,
    flush: impl FnOnce(&mut Connection<M>) -> Result<(), Error>,
) -> Result<(), Error> {
    match result {
        Ok(0) => {
            let eof_before_close = conn.peer_close_code().is_none();
            conn.handle_eof();
            if eof_before_close {
                return Err(Error::Io(io::ErrorKind::UnexpectedEof.into()));
            }
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            conn.handle_timeout(clock.now());
            flush(conn)?;
            match conn.error() {
                Some(failed) => Err(Error::Protocol(failed)),
                None => Err(Error::Io(e)),
            }
        }
        Err(e) => Err(Error::Io(e)),
    }
}

/// Writes and clears the queue, releasing a large buffer.
fn write_all<S: Write>(stream: &mut S, out: &mut Vec<u8>) -> Result<(), Error> {
    if out.is_empty() {
        return Ok(());
    }
    let result = stream.write_all(out).and_then(|()| stream.flush());
    out.clear();
    out.shrink_to(RETAINED_WRITE_CAPACITY);
    result.map_err(Error::Io)
}
