//! A tokio adapter (feature `tokio`): [`WebSocketStream`] over any
//! `AsyncRead + AsyncWrite` transport (a `TcpStream`, a `tokio-rustls` stream, hyper's
//! upgraded connection) is a `futures` [`Stream`] of received [`Message`]s and a [`Sink`] of
//! messages to send, the shape tokio-tungstenite users know.
//!
//! ```no_run
//! use ws_proto::adapters::tokio::accept;
//! use ws_proto::message::Message;
//! use ws_proto::Config;
//!
//! # async fn serve(socket: tokio::net::TcpStream) -> Result<(), ws_proto::adapters::Error> {
//! let mut ws = accept(socket, Config::default()).await?;
//! while let Some(message) = ws.recv().await {
//!     match message? {
//!         m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await?,
//!         _ => {} // pongs and the close reply are sent automatically
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Reading drives the connection
//!
//! Pongs, close replies and keepalive pings are written while the stream is polled for the
//! next message, as with tokio-tungstenite: keep reading, even when only sending. The stream
//! ends (`None`) after the closing handshake; a server then shuts the transport down
//! (RFC 6455 §7.1.1: the server closes TCP first).
//!
//! # Backpressure
//!
//! Reading pulls from the transport only when the stream is polled, so a slow consumer slows
//! the peer through TCP flow control. Sending queues frames; `poll_ready` refuses new ones
//! while more than the high-water mark ([`DEFAULT_WRITE_HIGH_WATER`], 64 KiB, or
//! [`WebSocketStream::with_buffers`]) is still unwritten.
//!
//! # Timers
//!
//! Keepalive, pong, close and idle timeouts (see [`Config`]) run on tokio's timer and clock
//! while the stream is polled (so they follow paused test time); the runtime needs its time
//! driver (`#[tokio::main]` has it). A timeout
//! ends the stream with [`Error::Protocol`]`(`[`TimedOut`](crate::Error::TimedOut)`)`.
//!
//! # Split
//!
//! [`WebSocketStream::split`] gives a [`WsReader`] (the `Stream`) and a [`WsWriter`] (the
//! `Sink`) for two tasks. They share the connection behind a mutex held only inside a poll.
//!
//! # Memory
//!
//! Per connection: the [`WebSocketStream`] value (`size_of` under 1 KiB with a `TcpStream`,
//! mostly the [`Connection`]), a read buffer of [`DEFAULT_READ_BUFFER`] (4 KiB) unless
//! configured, tokio's `Sleep` (one allocation of about 370 bytes, only once a timer is
//! armed), and while a message is arriving, that message. The write queue is empty while idle
//! and keeps at most [`RETAINED_WRITE_CAPACITY`] bytes of capacity.

use core::future::{Future, poll_fn};
use core::pin::Pin;
use core::task::{Context, Poll, Waker, ready};
use std::boxed::Box;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::vec::Vec;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::time::Sleep;
use futures_core::Stream;
use futures_sink::Sink;

use super::blocking::RETAINED_WRITE_CAPACITY;
use super::buffered::{
    HandshakeStep, ReadBuf, client_handshake, client_request, next_message, queue_close,
    queue_send, queue_transmit, read_limit, server_handshake,
};
use super::{DEFAULT_READ_BUFFER, Decision, Error};
use crate::connection::{Connection, State};
use crate::handshake::{ClientRequest, Request};
use crate::mask_source::{MaskSource, NoMask, OsRandom};
use crate::message::{Message, MessageAssembler};
use crate::time::{Duration, Instant};
use crate::{CloseCode, Config, Outgoing, Role};

/// Unwritten bytes above which `poll_ready` waits (64 KiB).
pub const DEFAULT_WRITE_HIGH_WATER: usize = 64 * 1024;

/// Server: reads the upgrade request from `io` and accepts it.
///
/// # Errors
/// [`Error::Protocol`] for an invalid request (the HTTP error response was sent),
/// [`Error::Io`] if the transport fails.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    config: Config,
) -> Result<WebSocketStream<S>, Error> {
    accept_with(io, config, |_| Decision::Accept).await
}

/// Server: reads the upgrade request from `io` and lets `decide` accept it or reject it
/// (e.g. after checking the `Origin` header).
///
/// # Errors
/// [`Error::Rejected`] if `decide` rejected (the response was sent), otherwise as [`accept`].
pub async fn accept_with<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    config: Config,
    mut decide: impl FnMut(&Request<'_>) -> Decision,
) -> Result<WebSocketStream<S>, Error> {
    let mut ws = WebSocketStream::from_connection(io, Connection::server(config));
    poll_fn(|cx| {
        let inner = &mut ws.inner;
        loop {
            let step =
                server_handshake(&mut inner.conn, &mut inner.rx, &mut inner.out, &mut decide);
            ready!(inner.poll_write_out(cx, Half::Reader))?;
            match step? {
                HandshakeStep::Opened => return Poll::Ready(Ok::<(), Error>(())),
                HandshakeStep::Pending => ready!(inner.poll_fill(cx))?,
            }
        }
    })
    .await?;
    Ok(ws)
}

/// Client: sends the upgrade request for `request` over `io` (connected, with TLS set up for
/// `wss://`) and reads the response. Masking keys come from the operating system.
///
/// # Errors
/// [`Error::Rejected`] with the status when the server does not upgrade; [`Error::Protocol`]
/// for an invalid response; [`Error::Io`].
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    request: &ClientRequest<'_>,
    config: Config,
) -> Result<WebSocketStream<S, OsRandom>, Error> {
    let conn = Connection::client(config, OsRandom::new());
    let mut ws = WebSocketStream::from_connection(io, conn);
    client_request(&mut ws.inner.conn, &mut ws.inner.out, request)?;
    poll_fn(|cx| {
        let inner = &mut ws.inner;
        ready!(inner.poll_write_out(cx, Half::Reader))?;
        loop {
            match client_handshake(&mut inner.conn, &mut inner.rx)? {
                HandshakeStep::Opened => return Poll::Ready(Ok::<(), Error>(())),
                HandshakeStep::Pending => ready!(inner.poll_fill(cx))?,
            }
        }
    })
    .await?;
    Ok(ws)
}

/// A WebSocket over an async transport: a [`Stream`] of received messages and a [`Sink`] of
/// messages to send. See the [module docs](self).
#[derive(Debug)]
pub struct WebSocketStream<S, M = NoMask> {
    inner: Inner<S, M>,
}

/// Which half of a split stream polls (each keeps its own write waker).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Half {
    Reader = 0,
    Writer = 1,
}

#[derive(Debug)]
struct Inner<S, M> {
    io: S,
    conn: Connection<M>,
    rx: ReadBuf,
    /// Frames to write; `out[written..]` is still unwritten.
    out: Vec<u8>,
    written: usize,
    high_water: usize,
    assembler: MessageAssembler,
    /// Tokio's clock (so that paused test time works), with its creation as the epoch.
    epoch: ::tokio::time::Instant,
    /// The timer, allocated once a deadline exists, and the deadline it is set to.
    sleep: Option<(Pin<Box<Sleep>>, Instant)>,
    /// A fatal error was reported; the stream only winds down now.
    failed: bool,
    /// The stream ended.
    done: bool,
    /// The last task of each half that waited for the transport to accept writes: when one
    /// half makes progress writing, it wakes the other, whose registration the transport may
    /// have replaced with its own.
    write_wakers: [Option<Waker>; 2],
}

impl<S: AsyncRead + AsyncWrite + Unpin, M: MaskSource> WebSocketStream<S, M> {
    /// Wraps a connection in any phase, e.g. one a hyper server upgraded
    /// (`Connection::new(Role::Server, ..)`), with the default buffer sizes.
    pub fn from_connection(io: S, conn: Connection<M>) -> Self {
        Self::with_buffers(io, conn, DEFAULT_READ_BUFFER, DEFAULT_WRITE_HIGH_WATER, &[])
    }

    /// Like [`from_connection`](Self::from_connection) with a read buffer of `read_buffer`
    /// bytes, a write high-water mark of `write_high_water` bytes, and `leftover`: bytes already
    /// read from `io` that belong to the connection.
    pub fn with_buffers(
        io: S,
        conn: Connection<M>,
        read_buffer: usize,
        write_high_water: usize,
        leftover: &[u8],
    ) -> Self {
        let mut rx = ReadBuf::new(read_buffer);
        rx.extend(leftover);
        Self {
            inner: Inner {
                io,
                conn,
                rx,
                out: Vec::new(),
                written: 0,
                high_water: write_high_water,
                assembler: MessageAssembler::new(),
                epoch: ::tokio::time::Instant::now(),
                sleep: None,
                failed: false,
                done: false,
                write_wakers: [None, None],
            },
        }
    }

    /// The next message; `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.inner.poll_next_message(cx)).await
    }

    /// Sends a message (a [`Message::Close`] starts the closing handshake) and flushes it.
    ///
    /// # Errors
    /// [`Error::Misuse`] if it may not be sent now; [`Error::Io`].
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| self.inner.poll_ready(cx, Half::Writer)).await?;
        self.inner.queue(&message)?;
        poll_fn(|cx| self.inner.poll_flush(cx, Half::Writer)).await
    }

    /// Starts the closing handshake; keep reading to receive the peer's close.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        queue_close(&mut self.inner.conn, &mut self.inner.out, code, reason)?;
        poll_fn(|cx| self.inner.poll_flush(cx, Half::Writer)).await
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        self.inner.conn.state()
    }

    /// The sans-IO connection.
    pub fn connection(&self) -> &Connection<M> {
        &self.inner.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.inner.io
    }

    /// Bytes of heap this adapter holds now (read buffer, write queue, partial message, timer).
    pub fn heap_bytes(&self) -> usize {
        let sleep = if self.inner.sleep.is_some() {
            size_of::<Sleep>()
        } else {
            0
        };
        self.inner
            .rx
            .capacity()
            .saturating_add(self.inner.out.capacity())
            .saturating_add(self.inner.assembler.pending_len())
            .saturating_add(sleep)
    }

    /// Splits into a reading half and a writing half for two tasks.
    pub fn split(self) -> (WsReader<S, M>, WsWriter<S, M>) {
        let shared = Arc::new(Mutex::new(self.inner));
        (
            WsReader {
                shared: Arc::clone(&shared),
            },
            WsWriter { shared },
        )
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin, M: MaskSource + Unpin> Stream for WebSocketStream<S, M> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().inner.poll_next_message(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin, M: MaskSource + Unpin> Sink<Message>
    for WebSocketStream<S, M>
{
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_ready(cx, Half::Writer)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().inner.queue(&item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_flush(cx, Half::Writer)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_close(cx, Half::Writer)
    }
}

/// The reading half of a split [`WebSocketStream`]: a [`Stream`] of messages.
#[derive(Debug)]
pub struct WsReader<S, M = NoMask> {
    shared: Arc<Mutex<Inner<S, M>>>,
}

/// The writing half of a split [`WebSocketStream`]: a [`Sink`] of messages.
#[derive(Debug)]
pub struct WsWriter<S, M = NoMask> {
    shared: Arc<Mutex<Inner<S, M>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The state is consistent between polls; a panic in another half cannot tear it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<S: AsyncRead + AsyncWrite + Unpin, M: MaskSource> WsReader<S, M> {
    /// The next message; `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| lock(&self.shared).poll_next_message(cx)).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin, M: MaskSource> WsWriter<S, M> {
    /// Sends a message and flushes it.
    ///
    /// # Errors
    /// As [`WebSocketStream::send`].
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.shared).poll_ready(cx, Half::Writer)).await?;
        lock(&self.shared).queue(&message)?;
        poll_fn(|cx| lock(&self.shared).poll_flush(cx, Half::Writer)).await
    }

    /// Starts the closing handshake; the [`WsReader`] then receives the peer's close.
    ///
    /// # Errors
    /// As [`WebSocketStream::close`].
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        {
            let mut inner = lock(&self.shared);
            let inner = &mut *inner;
            queue_close(&mut inner.conn, &mut inner.out, code, reason)?;
        }
        poll_fn(|cx| lock(&self.shared).poll_flush(cx, Half::Writer)).await
    }

    /// Whether both halves come from the same [`WebSocketStream::split`].
    pub fn is_pair_of(&self, reader: &WsReader<S, M>) -> bool {
        Arc::ptr_eq(&self.shared, &reader.shared)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin, M: MaskSource> Stream for WsReader<S, M> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        lock(&self.shared).poll_next_message(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin, M: MaskSource> Sink<Message> for WsWriter<S, M> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_ready(cx, Half::Writer)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        lock(&self.shared).queue(&item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_flush(cx, Half::Writer)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_close(cx, Half::Writer)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin, M: MaskSource> Inner<S, M> {
    fn queue(&mut self, message: &Message) -> Result<(), Error> {
        let out = &mut self.out;
        match message {
            Message::Text(t) => queue_send(&mut self.conn, out, Outgoing::Text(t)),
            Message::Binary(b) => queue_send(&mut self.conn, out, Outgoing::Binary(b)),
            Message::Ping(p) => queue_send(&mut self.conn, out, Outgoing::Ping(p)),
            Message::Pong(p) => queue_send(&mut self.conn, out, Outgoing::Pong(p)),
            Message::Close(code, reason) => queue_close(&mut self.conn, out, *code, reason),
        }
    }

    fn unwritten(&self) -> usize {
        self.out.len().saturating_sub(self.written)
    }

    fn poll_ready(&mut self, cx: &mut Context<'_>, half: Half) -> Poll<Result<(), Error>> {
        if self.unwritten() < self.high_water {
            return Poll::Ready(Ok(()));
        }
        ready!(self.poll_write_out(cx, half))?;
        Poll::Ready(Ok(()))
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>, half: Half) -> Poll<Result<(), Error>> {
        self.poll_write_out(cx, half).map_err(Error::Io)
    }

    fn poll_close(&mut self, cx: &mut Context<'_>, half: Half) -> Poll<Result<(), Error>> {
        if self.conn.state() == State::Open {
            // Misuse here means a close is already under way: nothing to add.
            let _ = queue_close(&mut self.conn, &mut self.out, CloseCode::NORMAL, "");
        }
        self.poll_flush(cx, half)
    }

    /// Writes the queue and flushes the transport.
    fn poll_write_out(&mut self, cx: &mut Context<'_>, half: Half) -> Poll<io::Result<()>> {
        let mut progressed = false;
        while let Some(rest) = self.out.get(self.written..).filter(|r| !r.is_empty()) {
            match Pin::new(&mut self.io).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.written = self.written.saturating_add(n);
                    progressed = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.park_writer(cx, half, progressed);
                    return Poll::Pending;
                }
            }
        }
        self.out.clear();
        self.written = 0;
        self.out.shrink_to(RETAINED_WRITE_CAPACITY);
        let flushed = Pin::new(&mut self.io).poll_flush(cx);
        if flushed.is_pending() {
            self.park_writer(cx, half, progressed);
        } else {
            self.wake_other(half);
        }
        flushed
    }

    fn park_writer(&mut self, cx: &mut Context<'_>, half: Half, progressed: bool) {
        if let Some(slot) = self.write_wakers.get_mut(half as usize) {
            *slot = Some(cx.waker().clone());
        }
        if progressed {
            self.wake_other(half);
        }
    }

    fn wake_other(&mut self, half: Half) {
        let other = match half {
            Half::Reader => Half::Writer,
            Half::Writer => Half::Reader,
        };
        if let Some(waker) = self
            .write_wakers
            .get_mut(other as usize)
            .and_then(Option::take)
        {
            waker.wake();
        }
    }

    /// Reads once from the transport into the read buffer; end of file is passed to the
    /// connection.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let limit = read_limit(&self.conn, &self.rx);
        let spare = self.rx.spare(limit);
        if spare.is_empty() {
            return Poll::Ready(Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidData,
                "read buffer full without a complete handshake head",
            ))));
        }
        let mut buf = ::tokio::io::ReadBuf::new(spare);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
        let n = buf.filled().len();
        self.rx.filled(n);
        if n == 0 {
            let before_close = self.conn.peer_close_code().is_none();
            self.conn.handle_eof();
            if before_close {
                return Poll::Ready(Err(Error::Io(io::ErrorKind::UnexpectedEof.into())));
            }
        }
        Poll::Ready(Ok(()))
    }

    /// The current time on tokio's clock.
    fn now(&self) -> Instant {
        Instant::from_elapsed(::tokio::time::Instant::now().saturating_duration_since(self.epoch))
    }

    /// Arms the timer for the connection's next deadline; `Ready` when it has passed.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.conn.poll_timeout() else {
            return Poll::Pending;
        };
        let Some(at) = self
            .epoch
            .checked_add(Duration::from_nanos(deadline.as_nanos()))
        else {
            return Poll::Pending; // centuries away: never
        };
        match &mut self.sleep {
            Some((sleep, armed)) => {
                if *armed != deadline {
                    sleep.as_mut().reset(at);
                    *armed = deadline;
                }
            }
            None => self.sleep = Some((Box::pin(::tokio::time::sleep_until(at)), deadline)),
        }
        match &mut self.sleep {
            Some((sleep, _)) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }

    fn poll_next_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            if self.failed || self.conn.state() == State::Closed {
                return self.poll_wind_down(cx).map(|()| None);
            }
            if self.conn.poll_timeout().is_some() {
                self.conn.handle_timeout(self.now());
            }
            let result = next_message(&mut self.conn, &mut self.rx, &mut self.assembler);
            queue_transmit(&mut self.conn, &mut self.out);
            // Write what is queued without waiting: a blocked writer must not stall reading.
            if let Poll::Ready(Err(e)) = self.poll_write_out(cx, Half::Reader) {
                self.failed = true;
                return Poll::Ready(Some(Err(Error::Io(e))));
            }
            match result {
                Ok(Some(message)) => return Poll::Ready(Some(Ok(message))),
                Ok(None) => {}
                Err(e) => {
                    self.failed = true;
                    return Poll::Ready(Some(Err(Error::Protocol(e))));
                }
            }
            if self.conn.state() == State::Closed {
                continue;
            }
            if self.poll_timer(cx).is_ready() {
                self.conn.handle_timeout(self.now());
                continue;
            }
            if let Err(e) = ready!(self.poll_fill(cx)) {
                self.failed = true;
                return Poll::Ready(Some(Err(e)));
            }
        }
    }

    /// After the close handshake or a failure: write what is left, and as the server close
    /// the transport (RFC 6455 §7.1.1).
    fn poll_wind_down(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // A failed transport cannot take the rest; the stream ends either way.
        if ready!(self.poll_write_out(cx, Half::Reader)).is_ok() && self.conn.role() == Role::Server
        {
            let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
        }
        self.done = true;
        Poll::Ready(())
    }
}
