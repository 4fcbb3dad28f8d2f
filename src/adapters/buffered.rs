//! What the `std` adapters share: the read buffer, the write queue, the steps that move
//! bytes between them and the connection, and the error type.

use core::fmt;
use std::io;
use std::string::String;
use std::vec::Vec;

use crate::connection::{Connection, State};
use crate::error::{ApiMisuse, BufferTooSmall, SendError};
use crate::event::Event;
use crate::handshake::{Accept, Request};
use crate::mask_source::MaskSource;
use crate::message::{Message, MessageAssembler};
use crate::time::StdClock;
use crate::{CloseCode, Outgoing};

/// The read buffer of the `std` adapters unless configured otherwise (4 KiB). Frames larger
/// than the buffer stream through it; only the opening handshake may grow it, up to
/// [`Config::max_handshake_len`](crate::Config::max_handshake_len).
pub const DEFAULT_READ_BUFFER: usize = 4096;

/// Why an adapter operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed. `WouldBlock` and `TimedOut` from a socket with a read timeout are
    /// passed through after the connection's timers ran: retry the call.
    Io(io::Error),
    /// The connection failed: the peer broke the protocol, the opening handshake failed, or a
    /// keepalive, close or idle timeout passed. What had to be sent (a close frame, an HTTP
    /// error response) was sent.
    Protocol(crate::Error),
    /// The call is not allowed now (e.g. sending after close); nothing was sent.
    Misuse(ApiMisuse),
    /// The opening handshake ended without an upgrade: the server answered with this HTTP
    /// status (client), or the request was rejected with it (server).
    Rejected(u16),
    /// The client request (URL, origin, subprotocols, headers) cannot be sent.
    InvalidRequest(crate::handshake::ConnectError),
    /// The connection is closed (the closing handshake completed, or the transport ended after
    /// it): no more messages.
    Closed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "transport error: {e}"),
            Self::Protocol(e) => e.fmt(f),
            Self::Misuse(e) => e.fmt(f),
            Self::Rejected(status) => write!(f, "upgrade refused with HTTP status {status}"),
            Self::InvalidRequest(e) => e.fmt(f),
            Self::Closed => f.write_str("the connection is closed"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Protocol(e) => Some(e),
            Self::Misuse(e) => Some(e),
            Self::InvalidRequest(e) => Some(e),
            Self::Rejected(_) | Self::Closed => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<crate::Error> for Error {
    fn from(e: crate::Error) -> Self {
        Self::Protocol(e)
    }
}

impl From<ApiMisuse> for Error {
    fn from(e: ApiMisuse) -> Self {
        Self::Misuse(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(e) => e,
            Error::Closed => Self::new(io::ErrorKind::NotConnected, e),
            Error::Protocol(crate::Error::TimedOut) => Self::new(io::ErrorKind::TimedOut, e),
            other => Self::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// A server's answer to an upgrade request (see the `accept_with` functions).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub enum Decision {
    /// Upgrade, with no subprotocol.
    #[default]
    Accept,
    /// Upgrade and select this subprotocol (one the client offered).
    AcceptProtocol(String),
    /// Refuse with this HTTP status (e.g. 403) and plain-text body.
    Reject(u16, String),
}

/// A byte buffer with a filled window `start..end`; bytes before `start` are consumed.
#[derive(Debug)]
pub(crate) struct ReadBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuf {
    pub(crate) fn new(size: usize) -> Self {
        let size = size.max(Connection::<crate::mask_source::NoMask>::MIN_READ_BUFFER);
        Self {
            buf: std::vec![0; size],
            start: 0,
            end: 0,
        }
    }

    /// The buffered, unconsumed bytes.
    pub(crate) fn filled_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.start..self.end).unwrap_or_default()
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Free space after the filled window, compacting first; a full buffer grows up to
    /// `limit` bytes.
    pub(crate) fn spare(&mut self, limit: usize) -> &mut [u8] {
        if self.end == self.buf.len() && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end = self.end.saturating_sub(self.start);
            self.start = 0;
        }
        if self.end == self.buf.len() && self.buf.len() < limit {
            let grown = self.buf.len().saturating_mul(2).min(limit);
            self.buf.resize(grown, 0);
        }
        self.buf.get_mut(self.end..).unwrap_or_default()
    }

    pub(crate) fn filled(&mut self, n: usize) {
        self.end = self.end.saturating_add(n).min(self.buf.len());
    }

    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Appends bytes that were read before the adapter took over (e.g. by an HTTP server).
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let spare = self.spare(usize::MAX);
            let n = spare.len().min(rest.len());
            let (now, later) = rest.split_at(n);
            if let Some(dst) = spare.get_mut(..n) {
                dst.copy_from_slice(now);
            }
            self.filled(n);
            rest = later;
        }
    }
}

/// How far the read buffer may grow: up to the handshake limit while the handshake runs.
pub(crate) fn read_limit<M: MaskSource>(conn: &Connection<M>, rx: &ReadBuf) -> usize {
    if conn.state() == State::Handshake {
        conn.config().max_handshake_len.max(rx.capacity())
    } else {
        rx.capacity()
    }
}

/// Decodes buffered bytes until a whole message is assembled (`Ok(Some)`) or more input is
/// needed (`Ok(None)`).
pub(crate) fn next_message<M: MaskSource>(
    conn: &mut Connection<M>,
    rx: &mut ReadBuf,
    assembler: &mut MessageAssembler,
) -> Result<Option<Message>, crate::Error> {
    loop {
        let read = conn.handle_read(rx.filled_mut());
        let consumed = read.consumed;
        let (message, starved) = match read.event {
            Ok(Some(event)) => (assembler.push(&event), false),
            Ok(None) => (None, consumed == 0),
            Err(e) => return Err(e),
        };
        rx.consume(consumed);
        if message.is_some() || starved {
            return Ok(message);
        }
    }
}

/// Runs `write` into fresh space at the end of `out`, growing it when the writer reports the
/// size it needs.
fn append<E>(
    out: &mut Vec<u8>,
    mut write: impl FnMut(&mut [u8]) -> Result<usize, E>,
    required: impl Fn(&E) -> Option<usize>,
) -> Result<usize, E> {
    let start = out.len();
    let mut room = 256;
    loop {
        out.resize(start.saturating_add(room), 0);
        let result = write(out.get_mut(start..).unwrap_or_default());
        match result {
            Ok(n) => {
                out.truncate(start.saturating_add(n));
                return Ok(n);
            }
            Err(e) => match required(&e) {
                Some(r) if r > room => room = r,
                _ => {
                    out.truncate(start);
                    return Err(e);
                }
            },
        }
    }
}

/// Moves everything the connection queued (pongs, close frames, keepalive pings, HTTP error
/// responses) into `out`.
pub(crate) fn queue_transmit<M: MaskSource>(conn: &mut Connection<M>, out: &mut Vec<u8>) {
    loop {
        let result = append(
            out,
            |dst| match conn.poll_transmit(dst) {
                Ok(Some(n)) => Ok(n),
                Ok(None) => Err(None),
                Err(e) => Err(Some(e)),
            },
            |e: &Option<BufferTooSmall>| e.map(|b| b.required),
        );
        if result.is_err() {
            return;
        }
    }
}

/// Frames `msg` into `out`.
pub(crate) fn queue_send<M: MaskSource>(
    conn: &mut Connection<M>,
    out: &mut Vec<u8>,
    msg: Outgoing<'_>,
) -> Result<(), Error> {
    append(out, |dst| conn.send(msg, dst), send_required)
        .map(drop)
        .map_err(send_error)
}

/// Queues our close frame and moves it into `out`.
pub(crate) fn queue_close<M: MaskSource>(
    conn: &mut Connection<M>,
    out: &mut Vec<u8>,
    code: CloseCode,
    reason: &str,
) -> Result<(), Error> {
    conn.close(code, reason)?;
    queue_transmit(conn, out);
    Ok(())
}

fn send_required(e: &SendError) -> Option<usize> {
    match e {
        SendError::BufferTooSmall(b) => Some(b.required),
        _ => None,
    }
}

fn send_error(e: SendError) -> Error {
    match e {
        SendError::Misuse(m) => Error::Misuse(m),
        // `append` grows the buffer to what is required; only a broken size report gets here.
        other => Error::Io(io::Error::other(other)),
    }
}

/// Ticks the connection's timers if any is armed.
pub(crate) fn tick<M: MaskSource>(conn: &mut Connection<M>, clock: &StdClock) {
    if conn.poll_timeout().is_some() {
        conn.handle_timeout(clock.now());
    }
}

/// Where the opening handshake stands after feeding it the buffered bytes.
#[derive(Debug)]
pub(crate) enum HandshakeStep {
    /// More input is needed.
    Pending,
    /// The connection is open.
    Opened,
}

/// Server: decodes the upgrade request from `rx` and answers it per `decide`, writing the
/// response into `out`.
pub(crate) fn server_handshake<M: MaskSource>(
    conn: &mut Connection<M>,
    rx: &mut ReadBuf,
    out: &mut Vec<u8>,
    decide: &mut dyn FnMut(&Request<'_>) -> Decision,
) -> Result<HandshakeStep, Error> {
    loop {
        if conn.state() == State::Open {
            return Ok(HandshakeStep::Opened);
        }
        let read = conn.handle_read(rx.filled_mut());
        let consumed = read.consumed;
        let outcome = match read.event {
            Ok(Some(Event::Request(request))) => match decide(&request) {
                Decision::Accept => answer(conn, out, &request, None),
                Decision::AcceptProtocol(p) => answer(conn, out, &request, Some(&p)),
                Decision::Reject(status, body) => {
                    append(
                        out,
                        |dst| conn.reject(status, &[], body.as_bytes(), dst),
                        send_required,
                    )
                    .map_err(send_error)?;
                    Err(Error::Rejected(status))
                }
            },
            Ok(Some(_)) => Ok(()),
            Ok(None) if consumed == 0 => return Ok(HandshakeStep::Pending),
            Ok(None) => Ok(()),
            Err(e) => {
                queue_transmit(conn, out); // the HTTP error response
                Err(Error::Protocol(e))
            }
        };
        rx.consume(consumed);
        outcome?;
    }
}

fn answer<M: MaskSource>(
    conn: &mut Connection<M>,
    out: &mut Vec<u8>,
    request: &Request<'_>,
    protocol: Option<&str>,
) -> Result<(), Error> {
    let accept = Accept {
        protocol,
        ..Accept::default()
    };
    append(out, |dst| conn.accept(request, &accept, dst), send_required)
        .map(drop)
        .map_err(send_error)
}

/// Client: decodes the server's response from `rx`.
pub(crate) fn client_handshake<M: MaskSource>(
    conn: &mut Connection<M>,
    rx: &mut ReadBuf,
) -> Result<HandshakeStep, Error> {
    loop {
        if conn.state() == State::Open {
            return Ok(HandshakeStep::Opened);
        }
        let read = conn.handle_read(rx.filled_mut());
        let consumed = read.consumed;
        let outcome = match read.event {
            Ok(Some(Event::Rejected(response))) => Err(Error::Rejected(response.status())),
            Ok(None) if consumed == 0 => return Ok(HandshakeStep::Pending),
            Ok(_) => Ok(()),
            Err(e) => Err(Error::Protocol(e)),
        };
        rx.consume(consumed);
        outcome?;
    }
}

/// Client: writes the upgrade request into `out`.
pub(crate) fn client_request<M: MaskSource>(
    conn: &mut Connection<M>,
    out: &mut Vec<u8>,
    request: &crate::handshake::ClientRequest<'_>,
) -> Result<(), Error> {
    use crate::handshake::ConnectError;
    append(
        out,
        |dst| conn.connect(request, dst),
        |e| match e {
            ConnectError::BufferTooSmall(b) => Some(b.required),
            _ => None,
        },
    )
    .map(drop)
    .map_err(|e| match e {
        ConnectError::Misuse(m) => Error::Misuse(m),
        other => Error::InvalidRequest(other),
    })
}
