//! An adapter over the `embedded-io-async` traits (feature `embedded-io-async`), which
//! embassy-net's `TcpSocket` implements: no allocator, and every buffer lent by the caller.
//!
//! [`WebSocket`] holds the transport, the connection and the write buffer; received bytes live
//! in a separate [`RxBuffer`] so that an [`Event`] borrowed from it can be answered (say,
//! echoed) with [`WebSocket::send`] while it is still borrowed:
//!
//! ```no_run
//! # async fn serve<T: embedded_io_async::Read + embedded_io_async::Write>(socket: T)
//! #     -> Result<(), ws_proto::adapters::embedded::Error<T::Error>> {
//! use ws_proto::adapters::embedded::{RxBuffer, WebSocket};
//! use ws_proto::{Config, Event, Outgoing};
//!
//! let (mut rx_mem, mut tx_mem) = ([0u8; 1024], [0u8; 1024]);
//! let mut rx = RxBuffer::new(&mut rx_mem);
//! let mut config = Config::default();
//! config.max_handshake_len = 1024; // a request head must fit in the receive buffer
//! let mut ws = WebSocket::accept(socket, config, &mut rx, &mut tx_mem, |_request| Ok(None)).await?;
//! loop {
//!     match ws.read(&mut rx).await? {
//!         Event::Text(d) | Event::Binary(d) if d.ends_message => {
//!             // (a real server would also handle fragments; see examples/embedded)
//!             ws.send(Outgoing::Binary(d.payload)).await?
//!         }
//!         _ => {}
//!     }
//! }
//! # }
//! ```
//!
//! Data arrives in pieces as it is received (a message larger than the receive buffer
//! streams through it), exactly as [`Connection::handle_read`] reports it.
//!
//! # Buffers and memory
//!
//! - The receive buffer must hold [`Connection::MIN_READ_BUFFER`] (139) bytes, and during the
//!   opening handshake the whole request or response head: set
//!   [`Config::max_handshake_len`] to at most its length.
//! - The transmit buffer must hold the handshake response (about 130 bytes plus any
//!   subprotocol), a control frame (up to 131 bytes), and every frame given to
//!   [`WebSocket::send`]. [`WebSocket::send_in_place`] sends a payload of any length from
//!   the caller's memory without copying it.
//! - Nothing else is allocated: the adapter is `size_of::<WebSocket<T>>()` (under 1 KiB,
//!   mostly the [`Connection`], plus the transport) and [`RxBuffer`] is 40 bytes plus the
//!   lent memory.
//!
//! # Timers
//!
//! `embedded-io-async` has no clock. Race [`WebSocket::read`] against your timer (e.g.
//! embassy-time's `with_deadline`) for the deadline from
//! [`Connection::poll_timeout`] (through [`WebSocket::connection`]), and when it fires call
//! [`WebSocket::handle_timeout`] with the current time.

use core::fmt;

use embedded_io_async::{Read, Write};

use crate::close::CloseFrame;
use crate::connection::{Connection, MessageKind, SendKind, State};
use crate::error::{ApiMisuse, BufferTooSmall, SendError};
use crate::event::{Data, Event};
use crate::handshake::{Accept, ClientRequest, ConnectError, Request};
use crate::mask_source::{MaskSource, NoMask};
use crate::time::Instant;
use crate::{CloseCode, Config, Outgoing};

/// Why an operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// The transport failed.
    Io(E),
    /// The connection failed (protocol error, invalid handshake, timeout). What had to be
    /// sent (a close frame, an HTTP error response) was sent.
    Protocol(crate::Error),
    /// The call is not allowed now; nothing was sent.
    Misuse(ApiMisuse),
    /// The transmit buffer cannot hold what was to be sent.
    BufferTooSmall(BufferTooSmall),
    /// The handshake ended without an upgrade: the server refused (client), or the request
    /// was rejected with this status (server).
    Rejected(u16),
    /// The client request (URL, origin, subprotocols, headers) cannot be sent.
    InvalidRequest(ConnectError),
    /// The transport ended before the closing handshake.
    UnexpectedEof,
    /// The connection is closed: no more events.
    Closed,
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "transport error: {e:?}"),
            Self::Protocol(e) => e.fmt(f),
            Self::Misuse(e) => e.fmt(f),
            Self::BufferTooSmall(e) => e.fmt(f),
            Self::Rejected(s) => write!(f, "upgrade refused with HTTP status {s}"),
            Self::InvalidRequest(e) => e.fmt(f),
            Self::UnexpectedEof => f.write_str("the transport ended before the closing handshake"),
            Self::Closed => f.write_str("the connection is closed"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E> From<SendError> for Error<E> {
    fn from(e: SendError) -> Self {
        match e {
            SendError::BufferTooSmall(b) => Self::BufferTooSmall(b),
            SendError::Misuse(m) => Self::Misuse(m),
        }
    }
}

impl<E> From<BufferTooSmall> for Error<E> {
    fn from(e: BufferTooSmall) -> Self {
        Self::BufferTooSmall(e)
    }
}

impl<E> From<ApiMisuse> for Error<E> {
    fn from(e: ApiMisuse) -> Self {
        Self::Misuse(e)
    }
}

/// Received bytes, in memory the caller lends. The bytes of the last event returned by
/// [`WebSocket::read`] are dropped at the next call.
#[derive(Debug)]
pub struct RxBuffer<'a> {
    buf: &'a mut [u8],
    start: usize,
    end: usize,
    /// Consumed by the last returned event; dropped when the next read starts.
    pending: usize,
}

impl<'a> RxBuffer<'a> {
    /// A receive buffer over `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            start: 0,
            end: 0,
            pending: 0,
        }
    }

    fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    fn filled_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.start..self.end).unwrap_or_default()
    }

    /// Free space after the filled bytes, compacting first.
    fn spare(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end = self.end.saturating_sub(self.start);
            self.start = 0;
        }
        self.buf.get_mut(self.end..).unwrap_or_default()
    }
}

/// An event's shape, with its payload as an offset into the receive buffer: the event is
/// rebuilt after the decode loop, whose borrows cannot be returned from inside it.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Data {
        kind: MessageKind,
        starts_message: bool,
        ends_frame: bool,
        ends_message: bool,
        compressed: bool,
    },
    Ping,
    Pong,
    Close(CloseCode),
}

/// What one decode step produced.
enum Step {
    Event {
        shape: Shape,
        offset: usize,
        len: usize,
        consumed: usize,
    },
    Consumed(usize),
    Starved,
    Failed(crate::Error),
}

fn describe(event: &Event<'_>, base: usize) -> Option<(Shape, usize, usize)> {
    let (shape, payload): (Shape, &[u8]) = match event {
        Event::Text(d) | Event::Binary(d) => {
            let kind = if matches!(event, Event::Text(_)) {
                MessageKind::Text
            } else {
                MessageKind::Binary
            };
            let shape = Shape::Data {
                kind,
                starts_message: d.starts_message,
                ends_frame: d.ends_frame,
                ends_message: d.ends_message,
                compressed: d.compressed,
            };
            (shape, d.payload)
        }
        Event::Ping(p) => (Shape::Ping, p),
        Event::Pong(p) => (Shape::Pong, p),
        Event::Close(c) => (Shape::Close(c.code), c.reason.as_bytes()),
        _ => return None,
    };
    if payload.is_empty() {
        // May be a constant (an empty close reason) rather than a sub-slice of the buffer.
        return Some((shape, 0, 0));
    }
    // Pointer values only: the payload is a sub-slice of the buffer starting at `base`.
    let offset = (payload.as_ptr() as usize).checked_sub(base)?;
    Some((shape, offset, payload.len()))
}

fn rebuild(shape: Shape, payload: &[u8]) -> Event<'_> {
    match shape {
        Shape::Data {
            kind,
            starts_message,
            ends_frame,
            ends_message,
            compressed,
        } => {
            let data = Data {
                payload,
                starts_message,
                ends_frame,
                ends_message,
                compressed,
            };
            match kind {
                MessageKind::Text => Event::Text(data),
                MessageKind::Binary => Event::Binary(data),
            }
        }
        Shape::Ping => Event::Ping(payload),
        Shape::Pong => Event::Pong(payload),
        Shape::Close(code) => Event::Close(CloseFrame {
            code,
            // Validated by the connection when the frame arrived.
            reason: core::str::from_utf8(payload).unwrap_or_default(),
        }),
    }
}

/// A WebSocket over an `embedded-io-async` transport. See the [module docs](self).
#[derive(Debug)]
pub struct WebSocket<'tx, T, M = NoMask> {
    io: T,
    conn: Connection<M>,
    tx: &'tx mut [u8],
}

impl<'tx, T: Read + Write> WebSocket<'tx, T> {
    /// Server: reads the upgrade request into `rx` and lets `decide` answer it:
    /// `Ok(protocol)` accepts (optionally selecting a subprotocol), `Err(status)` rejects
    /// with that HTTP status.
    ///
    /// # Errors
    /// [`Error::Rejected`] if `decide` rejected (the response was sent); [`Error::Protocol`]
    /// for an invalid request (the HTTP error response was sent); [`Error::Io`].
    pub async fn accept(
        io: T,
        config: Config,
        rx: &mut RxBuffer<'_>,
        tx: &'tx mut [u8],
        decide: impl FnOnce(&Request<'_>) -> Result<Option<&'static str>, u16>,
    ) -> Result<Self, Error<T::Error>> {
        let mut ws = Self {
            io,
            conn: Connection::server(config),
            tx,
        };
        let mut decide = Some(decide);
        loop {
            let read = ws.conn.handle_read(rx.filled_mut());
            let consumed = read.consumed;
            let answer = match read.event {
                Ok(Some(Event::Request(request))) => match decide.take().map(|d| d(&request)) {
                    Some(Ok(protocol)) => {
                        let accept = Accept {
                            protocol,
                            ..Accept::default()
                        };
                        Some(ws.conn.accept(&request, &accept, ws.tx).map(|n| (n, None)))
                    }
                    Some(Err(status)) => Some(
                        ws.conn
                            .reject(status, &[], &[], ws.tx)
                            .map(|n| (n, Some(status))),
                    ),
                    None => None,
                },
                Ok(Some(_)) => None,
                Ok(None) if consumed == 0 => {
                    ws.fill(rx).await?;
                    continue;
                }
                Ok(None) => None,
                Err(e) => {
                    ws.flush_transmit().await?;
                    return Err(Error::Protocol(e));
                }
            };
            rx.consume(consumed);
            if let Some(answer) = answer {
                let (n, rejected) = answer?;
                ws.write_tx(n).await?;
                if let Some(status) = rejected {
                    return Err(Error::Rejected(status));
                }
            }
            if ws.conn.state() == State::Open {
                return Ok(ws);
            }
        }
    }
}

impl<'tx, T: Read + Write, M: MaskSource> WebSocket<'tx, T, M> {
    /// Wraps a connection in any phase (e.g. `Connection::new(Role::Server, ..)` after an
    /// upgrade done elsewhere).
    pub fn new(io: T, conn: Connection<M>, tx: &'tx mut [u8]) -> Self {
        Self { io, conn, tx }
    }

    /// Client: sends the upgrade request for `request` and reads the response into `rx`.
    /// `conn` is a fresh [`Connection::client`] with an unpredictable mask source (a
    /// hardware RNG).
    ///
    /// # Errors
    /// [`Error::Rejected`] with the status when the server does not upgrade;
    /// [`Error::Protocol`] for an invalid response; [`Error::Io`].
    pub async fn connect(
        io: T,
        conn: Connection<M>,
        request: &ClientRequest<'_>,
        rx: &mut RxBuffer<'_>,
        tx: &'tx mut [u8],
    ) -> Result<Self, Error<T::Error>> {
        let mut ws = Self { io, conn, tx };
        let n = ws.conn.connect(request, ws.tx).map_err(|e| match e {
            ConnectError::BufferTooSmall(b) => Error::BufferTooSmall(b),
            ConnectError::Misuse(m) => Error::Misuse(m),
            other => Error::InvalidRequest(other),
        })?;
        ws.write_tx(n).await?;
        loop {
            let read = ws.conn.handle_read(rx.filled_mut());
            let consumed = read.consumed;
            let rejected = match read.event {
                Ok(Some(Event::Rejected(response))) => Some(response.status()),
                Ok(None) if consumed == 0 => {
                    ws.fill(rx).await?;
                    continue;
                }
                Ok(_) => None,
                Err(e) => return Err(Error::Protocol(e)),
            };
            rx.consume(consumed);
            if let Some(status) = rejected {
                return Err(Error::Rejected(status));
            }
            if ws.conn.state() == State::Open {
                return Ok(ws);
            }
        }
    }

    /// Waits for the next event: a piece of a text or binary message, a ping, a pong, or the
    /// peer's close. Queued pongs and close replies are written first. The event borrows
    /// `rx` until the next call.
    ///
    /// # Errors
    /// [`Error::Closed`] after the closing handshake; [`Error::Protocol`] when the connection
    /// fails (the close frame was sent); [`Error::UnexpectedEof`]; [`Error::Io`].
    pub async fn read<'r>(
        &mut self,
        rx: &'r mut RxBuffer<'_>,
    ) -> Result<Event<'r>, Error<T::Error>> {
        let last = core::mem::take(&mut rx.pending);
        rx.consume(last);
        loop {
            let step = {
                let input = rx.filled_mut();
                let base = input.as_ptr() as usize;
                let read = self.conn.handle_read(input);
                match read.event {
                    Ok(Some(event)) => match describe(&event, base) {
                        Some((shape, offset, len)) => Step::Event {
                            shape,
                            offset,
                            len,
                            consumed: read.consumed,
                        },
                        None => Step::Consumed(read.consumed),
                    },
                    Ok(None) if read.consumed == 0 => Step::Starved,
                    Ok(None) => Step::Consumed(read.consumed),
                    Err(e) => Step::Failed(e),
                }
            };
            self.flush_transmit().await?;
            match step {
                Step::Event {
                    shape,
                    offset,
                    len,
                    consumed,
                } => {
                    rx.pending = consumed;
                    let from = rx.start.saturating_add(offset);
                    let payload = rx
                        .buf
                        .get(from..from.saturating_add(len))
                        .unwrap_or_default();
                    return Ok(rebuild(shape, payload));
                }
                Step::Consumed(n) => rx.consume(n),
                Step::Failed(e) => return Err(Error::Protocol(e)),
                Step::Starved => {
                    if self.conn.state() == State::Closed {
                        return Err(Error::Closed);
                    }
                    self.fill(rx).await?;
                }
            }
        }
    }

    /// Sends one frame through the transmit buffer.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if the frame does not fit (nothing was sent; see
    /// [`send_in_place`](Self::send_in_place)); [`Error::Misuse`]; [`Error::Io`].
    pub async fn send(&mut self, msg: Outgoing<'_>) -> Result<(), Error<T::Error>> {
        let n = self.conn.send(msg, self.tx)?;
        self.write_tx(n).await
    }

    /// Sends `payload` as one frame without copying it (a client masks it in place).
    ///
    /// # Errors
    /// [`Error::Misuse`]; [`Error::Io`].
    pub async fn send_in_place(
        &mut self,
        kind: SendKind,
        payload: &mut [u8],
        fin: bool,
    ) -> Result<(), Error<T::Error>> {
        let head = self.conn.send_in_place(kind, payload, fin)?;
        self.io
            .write_all(head.as_bytes())
            .await
            .map_err(Error::Io)?;
        self.io.write_all(payload).await.map_err(Error::Io)?;
        self.io.flush().await.map_err(Error::Io)
    }

    /// Starts the closing handshake; keep calling [`read`](Self::read) until
    /// [`Error::Closed`] to receive the peer's close.
    ///
    /// # Errors
    /// [`Error::Misuse`]; [`Error::Io`].
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<T::Error>> {
        self.conn.close(code, reason)?;
        self.flush_transmit().await
    }

    /// Runs the connection's timers at `now` and sends what they queued (a keepalive ping).
    ///
    /// # Errors
    /// [`Error::Protocol`]`(`[`TimedOut`](crate::Error::TimedOut)`)` if a timeout passed;
    /// [`Error::Io`].
    pub async fn handle_timeout(&mut self, now: Instant) -> Result<(), Error<T::Error>> {
        self.conn.handle_timeout(now);
        self.flush_transmit().await?;
        match self.conn.error() {
            Some(e) => Err(Error::Protocol(e)),
            None => Ok(()),
        }
    }

    /// The sans-IO connection (state, next deadline).
    pub fn connection(&self) -> &Connection<M> {
        &self.conn
    }

    /// The transport, dropping the connection.
    pub fn into_inner(self) -> T {
        self.io
    }

    async fn fill(&mut self, rx: &mut RxBuffer<'_>) -> Result<(), Error<T::Error>> {
        let spare = rx.spare();
        if spare.is_empty() {
            // Only a handshake head longer than the buffer gets here.
            return Err(Error::BufferTooSmall(BufferTooSmall {
                required: rx.buf.len().saturating_add(1),
            }));
        }
        let n = self.io.read(spare).await.map_err(Error::Io)?;
        if n == 0 {
            let before_close = self.conn.peer_close_code().is_none();
            self.conn.handle_eof();
            return if before_close {
                Err(Error::UnexpectedEof)
            } else {
                Err(Error::Closed)
            };
        }
        rx.end = rx.end.saturating_add(n).min(rx.buf.len());
        Ok(())
    }

    async fn flush_transmit(&mut self) -> Result<(), Error<T::Error>> {
        while let Some(n) = self.conn.poll_transmit(self.tx)? {
            self.write_tx(n).await?;
        }
        Ok(())
    }

    async fn write_tx(&mut self, n: usize) -> Result<(), Error<T::Error>> {
        let bytes = self.tx.get(..n).unwrap_or_default();
        self.io.write_all(bytes).await.map_err(Error::Io)?;
        self.io.flush().await.map_err(Error::Io)
    }
}
