//! The connection state machine: roles, fragmentation, control frames, the close handshake,
//! limits and timers, on top of the frame codec. Optionally starts in the opening handshake.
//!
//! See [`Connection`] for the drive protocol.

use core::fmt::Write as _;

use crate::Role;
use crate::close::{CloseCode, CloseFrame};
use crate::config::Config;
use crate::error::{ApiMisuse, BufferTooSmall, Error, ProtocolError, SendError};
use crate::event::{Data, Event};
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Opcode, Status, mask};
use crate::handshake::{self, Accept, ClientHandshake, ClientRequest, ServerHandshake};
use crate::mask_source::{MaskSource, NoMask};
use crate::time::Instant;
use crate::utf8::{self, Utf8Validator};

#[cfg(feature = "deflate")]
mod deflate_glue;

/// Where the connection is in the closing handshake (RFC 6455 §7).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum State {
    /// The opening handshake is under way.
    Handshake,
    /// Messages flow both ways.
    Open,
    /// We sent (or queued) a close frame and wait for the peer's. Data still arrives.
    LocalClosing,
    /// The peer sent a close frame; our reply is queued for [`Connection::poll_transmit`].
    RemoteClosing,
    /// The closing handshake is complete, the connection failed, or the transport ended. The
    /// caller should close the transport (a server first, RFC 6455 §7.1.1).
    Closed,
}

/// The result of [`Connection::handle_read`] (rustls `UnbufferedStatus` style).
#[derive(Debug)]
#[must_use = "the consumed bytes must be dropped from the input buffer"]
pub struct Read<'b> {
    /// How many bytes at the front of the input the connection used. The caller MUST drop
    /// them from its buffer, after handling `event`, before the next `handle_read`.
    pub consumed: usize,
    /// `Ok(Some(event))`: an event; `Ok(None)`: more input is needed (after dropping
    /// `consumed` bytes); `Err`: the connection failed (sticky: every later call returns the
    /// same error). After an error, drain [`Connection::poll_transmit`] (it carries the close
    /// frame or HTTP error response) and close the transport.
    pub event: Result<Option<Event<'b>>, Error>,
}

/// The kind of a data message.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Binary data.
    Binary,
}

/// A frame to send with [`Connection::send`].
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum Outgoing<'a> {
    /// A whole text message in one frame.
    Text(&'a str),
    /// A whole binary message in one frame.
    Binary(&'a [u8]),
    /// One frame of a fragmented message. The first fragment opens a message of `kind`; later
    /// ones (same `kind`) are sent as continuation frames; `fin` closes the message. Control
    /// frames may be sent between fragments. A text message must be valid UTF-8 as a whole;
    /// single fragments may split code points.
    Fragment {
        /// Text or binary.
        kind: MessageKind,
        /// The fragment's payload.
        payload: &'a [u8],
        /// Whether this fragment ends the message.
        fin: bool,
    },
    /// A ping (payload at most 125 bytes).
    Ping(&'a [u8]),
    /// An unsolicited pong, e.g. a heartbeat (payload at most 125 bytes).
    Pong(&'a [u8]),
}

impl<'a> Outgoing<'a> {
    fn split(self) -> (SendKind, &'a [u8], bool) {
        match self {
            Self::Text(s) => (SendKind::Text, s.as_bytes(), true),
            Self::Binary(b) => (SendKind::Binary, b, true),
            Self::Fragment { kind, payload, fin } => (kind.into(), payload, fin),
            Self::Ping(p) => (SendKind::Ping, p, true),
            Self::Pong(p) => (SendKind::Pong, p, true),
        }
    }
}

/// What [`Connection::send_in_place`] frames.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum SendKind {
    /// A text message or fragment.
    Text,
    /// A binary message or fragment.
    Binary,
    /// A ping.
    Ping,
    /// A pong.
    Pong,
}

impl From<MessageKind> for SendKind {
    fn from(k: MessageKind) -> Self {
        match k {
            MessageKind::Text => Self::Text,
            MessageKind::Binary => Self::Binary,
        }
    }
}

/// An encoded frame header (at most 14 bytes) for a vectored write next to its payload.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct FrameHead {
    bytes: [u8; MAX_HEADER_LEN],
    len: u8,
}

impl FrameHead {
    /// The header bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl AsRef<[u8]> for FrameHead {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// The frame being received.
#[derive(Clone, Copy, Debug)]
struct InFrame {
    opcode: Opcode,
    fin: bool,
    mask: Option<[u8; 4]>,
    /// Payload bytes not yet delivered.
    remaining: u64,
    /// Mask phase of the next payload byte.
    phase: u8,
}

/// The fragmented message being received.
#[derive(Clone, Copy, Debug)]
struct InMessage {
    kind: MessageKind,
    compressed: bool,
    /// Wire bytes announced so far (headers of all its frames).
    len: u64,
    fragments: u32,
    /// No piece delivered yet.
    started: bool,
}

// The client variant keeps the offered subprotocols and extension names (bounded, ~420
// bytes) to check the response; without an allocator there is nothing to box them in.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Phase {
    ServerHandshake(ServerHandshake),
    /// A request was reported; waiting for `accept` or `reject`.
    AwaitingDecision,
    ClientHandshake(ClientHandshake),
    /// Waiting for `connect`.
    ClientIdle,
    Open,
    /// The handshake failed or was rejected; nothing more happens.
    Dead,
}

#[derive(Clone, Debug)]
struct PendingClose {
    code: CloseCode,
    reason: heapless::String<{ CloseFrame::MAX_REASON_LEN }>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Timers {
    /// Bytes arrived since the last `handle_timeout`.
    activity: bool,
    /// When activity was last noticed.
    last_activity: Option<Instant>,
    /// The latest time the caller told us.
    now: Option<Instant>,
    /// A keepalive ping is queued.
    ping_queued: bool,
    /// Deadline for any frame after a keepalive ping.
    pong_deadline: Option<Instant>,
    /// Deadline for the peer's close after ours went out.
    close_deadline: Option<Instant>,
    /// Our close went out and `close_deadline` is still to be armed.
    close_unarmed: bool,
}

/// A WebSocket connection, either role, as a sans-IO state machine.
///
/// It owns no socket, no clock and no RNG. The caller moves bytes and time in and out:
///
/// ```text
///   socket ──read──▶ buf ──handle_read(&mut buf)──▶ Read { consumed, event }
///                                                        │ payloads borrow buf
///   app ──send(msg, out) / send_in_place / close──▶ Connection
///   socket ◀─write── out ◀──poll_transmit(out)── queued pong, close, keepalive ping
///   clock ──handle_timeout(now)──▶ Connection ──poll_timeout()──▶ next deadline
/// ```
///
/// # Drive protocol
///
/// Methods come in four groups (quinn-proto style): (A) getters, (B) inputs `handle_*`,
/// (C) commands (`send*`, `close`, `accept`, `reject`, `connect`), (D) outputs `poll_*`.
///
/// 1. Read bytes from the transport and append them to a buffer.
/// 2. Call [`handle_read`](Self::handle_read) on the filled part. Handle the event, *then*
///    drop `consumed` bytes from the front of the buffer. Repeat while it returns events or
///    consumes bytes; when it returns `Ok(None)` with nothing consumed, go back to 1.
///    Once the connection is open, [`handle_read_all`](Self::handle_read_all) does this
///    loop in one call, handing each event to a closure (faster for many small frames).
/// 3. At any time, call (C) to send. `send` writes a complete frame into the caller's
///    output buffer; `send_in_place` masks the payload in place and returns the header for
///    a vectored write.
/// 4. After every (B) and (C), call [`poll_transmit`](Self::poll_transmit) until it returns
///    `Ok(None)` and write what it produced, then [`poll_timeout`](Self::poll_timeout) and
///    arm a timer for it.
/// 5. When the timer fires, call [`handle_timeout`](Self::handle_timeout) with the current
///    time, then go to 4.
/// 6. When the transport reaches end of file, call [`handle_eof`](Self::handle_eof). When
///    [`state`](Self::state) is [`State::Closed`] and `poll_transmit` is drained, close the
///    transport.
///
/// The caller's read buffer must hold at least [`MIN_READ_BUFFER`](Self::MIN_READ_BUFFER)
/// bytes: a control frame (at most 125 bytes of payload) is delivered whole.
///
/// Type parameter `M` is the masking key source; clients need an unpredictable one
/// ([`OsRandom`](crate::OsRandom) under `std`), servers use [`NoMask`].
#[derive(Clone, Debug)]
pub struct Connection<M = NoMask> {
    role: Role,
    config: Config,
    mask_source: M,
    phase: Phase,
    /// Header bytes received so far, when a header straddles two reads.
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    frame: Option<InFrame>,
    message: Option<InMessage>,
    utf8: Utf8Validator,
    error: Option<Error>,
    /// RSV bits the negotiated extensions define.
    allowed_rsv: u8,
    /// The latest unanswered ping's payload.
    pending_pong: Option<heapless::Vec<u8, MAX_CONTROL_PAYLOAD>>,
    /// Our close frame, until it is written.
    pending_close: Option<PendingClose>,
    /// A handshake failed: the HTTP error response is still to be written (server).
    pending_http_error: Option<handshake::HandshakeError>,
    close_queued: bool,
    close_sent: bool,
    /// The peer's close code, once its close frame arrived.
    peer_close: Option<CloseCode>,
    eof: bool,
    /// The kind of the fragmented message we are sending.
    sending: Option<MessageKind>,
    timers: Timers,
    /// permessage-deflate state, once negotiated (see `deflate_glue`).
    #[cfg(feature = "deflate")]
    deflate: Option<alloc::boxed::Box<crate::deflate::DeflateState>>,
}

impl<M: MaskSource> Connection<M> {
    /// The smallest read buffer that always makes progress: a whole control frame.
    pub const MIN_READ_BUFFER: usize = MAX_HEADER_LEN + MAX_CONTROL_PAYLOAD;

    /// A connection that is already open (the upgrade was done elsewhere, e.g. by an HTTP
    /// server, or over an HTTP/2 stream per RFC 8441).
    pub fn new(role: Role, config: Config, mask_source: M) -> Self {
        Self {
            role,
            config,
            mask_source,
            phase: Phase::Open,
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            frame: None,
            message: None,
            utf8: Utf8Validator::new(),
            error: None,
            allowed_rsv: 0,
            pending_pong: None,
            pending_close: None,
            pending_http_error: None,
            close_queued: false,
            close_sent: false,
            peer_close: None,
            eof: false,
            sending: None,
            timers: Timers::default(),
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// A client that starts with the opening handshake: call [`connect`](Self::connect) to
    /// write the upgrade request, then feed the response to `handle_read`.
    pub fn client(config: Config, mask_source: M) -> Self {
        let mut c = Self::new(Role::Client, config, mask_source);
        c.phase = Phase::ClientIdle;
        c
    }

    // ---- (A) getters -------------------------------------------------------------------

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the connection is in its life.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Open => {}
            Phase::Dead => return State::Closed,
            // A timeout leaves nothing to send: the transport is to be closed at once.
            _ if self.timed_out() => return State::Closed,
            _ => return State::Handshake,
        }
        let failed = self.error.is_some();
        if self.eof
            || self.timed_out()
            || (self.close_sent && (self.peer_close.is_some() || failed))
        {
            State::Closed
        } else if self.peer_close.is_some() {
            State::RemoteClosing
        } else if self.close_queued {
            State::LocalClosing
        } else {
            State::Open
        }
    }

    /// The sticky error, if the connection failed.
    pub fn error(&self) -> Option<Error> {
        self.error
    }

    /// The close code the peer sent, once its close frame arrived.
    pub fn peer_close_code(&self) -> Option<CloseCode> {
        self.peer_close
    }

    /// Whether a fragmented message we are sending is open.
    pub fn is_sending_fragmented(&self) -> bool {
        self.sending.is_some()
    }

    // ---- (B) inputs ----------------------------------------------------------------------

    /// Decodes at most one event from the front of `input`, unmasking payload in place.
    ///
    /// The caller MUST handle the event, then drop `consumed` bytes from the front of its
    /// buffer before the next call. A data frame is delivered in pieces as its bytes arrive;
    /// a control frame is delivered whole (so keep at least
    /// [`MIN_READ_BUFFER`](Self::MIN_READ_BUFFER) bytes of buffer). Bytes after the peer's
    /// close frame are consumed and ignored.
    pub fn handle_read<'b>(&mut self, input: &'b mut [u8]) -> Read<'b> {
        if let Some(e) = self.error {
            return Read {
                consumed: 0,
                event: Err(e),
            };
        }
        let read = match self.phase {
            Phase::Open => self.read_frames(input),
            Phase::ServerHandshake(_) | Phase::ClientHandshake(_) => self.read_handshake(input),
            Phase::AwaitingDecision | Phase::ClientIdle | Phase::Dead => Read {
                consumed: 0,
                event: Ok(None),
            },
        };
        if read.consumed > 0 {
            self.timers.activity = true;
        }
        read
    }

    /// Decodes every event in `input`, handing each to `on_event`, and returns how many bytes
    /// at its front were used: the same events as calling [`handle_read`](Self::handle_read)
    /// until it needs more input, in one call. The caller MUST then drop the returned number
    /// of bytes from the front of its buffer (the rest is an unfinished control frame) before
    /// the next call.
    ///
    /// This is the receive path for frame-heavy traffic: runs of small whole messages are
    /// decoded by a tight loop that keeps the connection's state in registers (a 16-byte
    /// masked text frame costs a few nanoseconds). Events borrow `input` only for the call
    /// of `on_event`, and `on_event` cannot use the connection (it is borrowed by this
    /// call): note what to answer and [`send`](Self::send) it afterwards, or use
    /// `handle_read` when an event must outlive the call (an echo without copying).
    ///
    /// A server's opening request must be answered with [`accept`](Self::accept) or
    /// [`reject`](Self::reject), which needs the [`Event::Request`] after the call: until the
    /// server handshake is done this returns `Ok(0)` and uses nothing, so drive the handshake
    /// with `handle_read`. A client's handshake events ([`Event::Opened`],
    /// [`Event::Rejected`]) are delivered like the others.
    ///
    /// # Errors
    /// As [`handle_read`](Self::handle_read): the connection failed; the events before the
    /// error were delivered. Drain [`poll_transmit`](Self::poll_transmit) and close the
    /// transport.
    pub fn handle_read_all(
        &mut self,
        input: &mut [u8],
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<usize, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if matches!(
            self.phase,
            Phase::ServerHandshake(_) | Phase::AwaitingDecision
        ) {
            return Ok(0);
        }
        let mut pos = 0;
        loop {
            if self.short_frames_ready() {
                let rest = input.get_mut(pos..).unwrap_or_default();
                match self.read_short_frames(rest, &mut on_event) {
                    Ok(n) => pos = pos.saturating_add(n),
                    Err(e) => {
                        self.fail(e);
                        return Err(Error::Protocol(e));
                    }
                }
            }
            let rest = input.get_mut(pos..).unwrap_or_default();
            if rest.is_empty() {
                break;
            }
            let Read { consumed, event } = self.handle_read(rest);
            pos = pos.saturating_add(consumed);
            match event? {
                Some(event) => on_event(event),
                None if consumed == 0 => break,
                None => {}
            }
        }
        if pos > 0 {
            self.timers.activity = true;
        }
        Ok(pos)
    }

    /// The transport reached end of file. Returns the close code to report to the
    /// application: the peer's, if its close frame arrived, else
    /// [`CloseCode::ABNORMAL`] (1006).
    pub fn handle_eof(&mut self) -> CloseCode {
        self.eof = true;
        self.pending_pong = None;
        self.peer_close.unwrap_or(CloseCode::ABNORMAL)
    }

    /// Tells the connection the current time. Call it when the deadline from
    /// [`poll_timeout`](Self::poll_timeout) passes; calling it more often (e.g. after each
    /// read) is cheap and makes idle detection more precise. Timeouts may queue a keepalive
    /// ping or fail the connection with [`Error::TimedOut`].
    pub fn handle_timeout(&mut self, now: Instant) {
        let t = &mut self.timers;
        t.now = Some(now);
        if t.activity || t.last_activity.is_none() {
            t.activity = false;
            t.last_activity = Some(now);
            t.pong_deadline = None;
        }
        if t.close_unarmed {
            t.close_unarmed = false;
            t.close_deadline = self.config.close_timeout.map(|d| now.saturating_add(d));
        }
        if self.error.is_some() || self.state() == State::Closed {
            return;
        }
        let t = &mut self.timers;
        let last = t.last_activity.unwrap_or(now);
        let expired = |deadline: Option<Instant>| deadline.is_some_and(|d| now >= d);
        let idle_expired = expired(self.config.idle_timeout.map(|d| last.saturating_add(d)));
        if expired(t.pong_deadline) || expired(t.close_deadline) || idle_expired {
            self.error = Some(Error::TimedOut);
            self.pending_pong = None;
            return;
        }
        if let Some(interval) = self.config.keepalive_interval {
            let open = matches!(self.phase, Phase::Open) && !self.close_queued;
            if open && t.pong_deadline.is_none() && now >= last.saturating_add(interval) {
                t.ping_queued = true;
                t.pong_deadline = Some(now.saturating_add(self.config.pong_timeout));
            }
        }
    }

    // ---- (C) commands --------------------------------------------------------------------

    /// Writes a whole frame (header and payload, masked for a client) into `out` and returns
    /// its length.
    ///
    /// # Errors
    /// [`SendError::BufferTooSmall`] with the size needed, or [`SendError::Misuse`] when the
    /// frame may not be sent now. Nothing is written and the state is unchanged on error.
    pub fn send(&mut self, msg: Outgoing<'_>, out: &mut [u8]) -> Result<usize, SendError> {
        // A whole message cannot go out while a fragmented one is open: it would silently
        // become that message's last fragment.
        if matches!(msg, Outgoing::Text(_) | Outgoing::Binary(_)) && self.sending.is_some() {
            return Err(ApiMisuse::MessageInProgress.into());
        }
        let (kind, payload, fin) = msg.split();
        #[cfg(feature = "deflate")]
        {
            let fragmented = matches!(msg, Outgoing::Fragment { .. });
            if let Some(sent) = self.deflate_send(kind, payload, fin, fragmented, out) {
                return sent;
            }
        }
        let mut header = self.plan_send(kind, payload.len(), fin)?;
        let header_len = header.encoded_len();
        let total = header_len.saturating_add(payload.len());
        let Some(dst) = out.get_mut(..total) else {
            return Err(BufferTooSmall { required: total }.into());
        };
        if self.role == Role::Client {
            header.mask = Some(self.mask_source.mask_key());
        }
        let (head_dst, body_dst) = dst.split_at_mut(header_len);
        header.encode(head_dst)?;
        match header.mask {
            Some(key) => mask::copy_masked(body_dst, payload, key),
            None => body_dst.copy_from_slice(payload),
        }
        self.commit_send(kind, fin);
        Ok(total)
    }

    /// Frames `payload` without copying it: masks it in place (client) and returns the
    /// header, to be written right before the payload (e.g. with a vectored write).
    ///
    /// # Errors
    /// [`SendError::Misuse`] when the frame may not be sent now; the payload is untouched.
    pub fn send_in_place(
        &mut self,
        kind: SendKind,
        payload: &mut [u8],
        fin: bool,
    ) -> Result<FrameHead, SendError> {
        self.frame_head(kind, payload.len(), fin, Some(payload))
    }

    /// Server only: the header for a frame of `payload_len` bytes whose payload the caller
    /// writes as it is (servers do not mask), e.g. a zero-copy echo of a received piece with a
    /// vectored write.
    ///
    /// # Errors
    /// [`ApiMisuse::ClientMustMask`] for a client (use [`send_in_place`](Self::send_in_place));
    /// otherwise as [`send_in_place`](Self::send_in_place).
    pub fn send_header(
        &mut self,
        kind: SendKind,
        payload_len: usize,
        fin: bool,
    ) -> Result<FrameHead, SendError> {
        if self.role == Role::Client {
            return Err(ApiMisuse::ClientMustMask.into());
        }
        self.frame_head(kind, payload_len, fin, None)
    }

    /// Plans a frame, masks `payload` in place for a client, and encodes the header.
    fn frame_head(
        &mut self,
        kind: SendKind,
        payload_len: usize,
        fin: bool,
        payload: Option<&mut [u8]>,
    ) -> Result<FrameHead, SendError> {
        let mut header = self.plan_send(kind, payload_len, fin)?;
        #[cfg(feature = "deflate")]
        self.deflate_in_place(kind)?;
        if self.role == Role::Client {
            let key = self.mask_source.mask_key();
            header.mask = Some(key);
            if let Some(payload) = payload {
                mask::apply(payload, key, 0);
            }
        }
        let mut bytes = [0; MAX_HEADER_LEN];
        let len = header.encode_array(&mut bytes);
        self.commit_send(kind, fin);
        Ok(FrameHead {
            bytes,
            len: u8::try_from(len).unwrap_or(0),
        })
    }

    /// Starts the closing handshake: queues a close frame for
    /// [`poll_transmit`](Self::poll_transmit). Use [`CloseCode::NO_STATUS`] to send an empty
    /// body. If the peer's close arrived and our reply is not yet written, this replaces it.
    ///
    /// # Errors
    /// [`ApiMisuse::Closing`] if our close was already written,
    /// [`ApiMisuse::CloseCodeNotSendable`] for a code that may not appear on the wire,
    /// [`ApiMisuse::ControlPayloadTooLong`] for a reason over 123 bytes,
    /// [`ApiMisuse::NotOpen`] during the opening handshake.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), ApiMisuse> {
        if !matches!(self.phase, Phase::Open) {
            return Err(ApiMisuse::NotOpen);
        }
        if self.close_sent || self.eof || self.error.is_some() {
            return Err(ApiMisuse::Closing);
        }
        if code != CloseCode::NO_STATUS && !code.is_allowed_on_wire() {
            return Err(ApiMisuse::CloseCodeNotSendable(code.0));
        }
        if code == CloseCode::NO_STATUS && !reason.is_empty() {
            return Err(ApiMisuse::CloseCodeNotSendable(code.0));
        }
        let mut r = heapless::String::new();
        r.push_str(reason)
            .map_err(|_| ApiMisuse::ControlPayloadTooLong)?;
        self.queue_close(code, r);
        Ok(())
    }

    // ---- (D) outputs ---------------------------------------------------------------------

    /// Writes the next queued frame (pong, keepalive ping, close) or HTTP error response into
    /// `out` and returns its length; `Ok(None)` when nothing is queued. Call it until it
    /// returns `Ok(None)` after every input and command.
    ///
    /// # Errors
    /// [`BufferTooSmall`] if `out` cannot hold the next item (at most 131 bytes for a frame;
    /// about 200 for an HTTP error response); nothing is dequeued then.
    pub fn poll_transmit(&mut self, out: &mut [u8]) -> Result<Option<usize>, BufferTooSmall> {
        if let Some(e) = self.pending_http_error {
            let n = e.write_response(out)?;
            self.pending_http_error = None;
            return Ok(Some(n));
        }
        // A timed-out peer is presumed gone: nothing more is written to it.
        if self.eof || self.close_sent || self.timed_out() {
            return Ok(None);
        }
        if let Some(payload) = &self.pending_pong {
            let n = self.write_control(Opcode::Pong, &[], payload.clone().as_slice(), out)?;
            self.pending_pong = None;
            return Ok(Some(n));
        }
        if self.timers.ping_queued && !self.close_queued {
            let n = self.write_control(Opcode::Ping, &[], b"ws-proto keepalive", out)?;
            self.timers.ping_queued = false;
            return Ok(Some(n));
        }
        if let Some(close) = self.pending_close.clone() {
            let code = if close.code == CloseCode::NO_STATUS {
                &[][..]
            } else {
                &close.code.0.to_be_bytes()[..]
            };
            let n = self.write_control(Opcode::Close, code, close.reason.as_bytes(), out)?;
            self.pending_close = None;
            self.close_sent = true;
            self.timers.ping_queued = false;
            if self.peer_close.is_none() && self.error.is_none() {
                self.timers.close_unarmed = true;
            }
            return Ok(Some(n));
        }
        Ok(None)
    }

    /// The next deadline at which [`handle_timeout`](Self::handle_timeout) must be called,
    /// if any. It may be in the past (call at once); before the first `handle_timeout`, it is
    /// [`Instant::ZERO`] whenever a timer is configured, to learn the time.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.error.is_some() || self.state() == State::Closed {
            return None;
        }
        let t = &self.timers;
        let any_timer = self.config.keepalive_interval.is_some()
            || self.config.idle_timeout.is_some()
            || (t.close_unarmed && self.config.close_timeout.is_some());
        if !any_timer && t.close_deadline.is_none() {
            return None;
        }
        let Some(last) = t.last_activity else {
            return Some(Instant::ZERO);
        };
        if t.close_unarmed {
            return Some(t.now.unwrap_or(Instant::ZERO));
        }
        let keepalive = if t.pong_deadline.is_none() && !self.close_queued {
            self.config
                .keepalive_interval
                .map(|d| last.saturating_add(d))
        } else {
            None
        };
        [
            keepalive,
            t.pong_deadline,
            t.close_deadline,
            self.config.idle_timeout.map(|d| last.saturating_add(d)),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- internals: receive --------------------------------------------------------------

    fn read_frames<'b>(&mut self, input: &'b mut [u8]) -> Read<'b> {
        if self.peer_close.is_some() || self.eof {
            // RFC 6455 §5.5.1: nothing may follow a close frame; drop whatever does.
            return Read {
                consumed: input.len(),
                event: Ok(None),
            };
        }
        match self.read_frame(input) {
            Ok((consumed, event)) => Read {
                consumed,
                event: Ok(event),
            },
            Err(e) => {
                self.fail(e);
                Read {
                    consumed: 0,
                    event: Err(Error::Protocol(e)),
                }
            }
        }
    }

    fn read_frame<'b>(
        &mut self,
        input: &'b mut [u8],
    ) -> Result<(usize, Option<Event<'b>>), ProtocolError> {
        let mut pos = 0;
        let frame = match self.frame {
            Some(f) => f,
            None => {
                if let Some((header_len, h)) = self.whole_message(input) {
                    return Self::read_whole_message(input, header_len, &h);
                }
                let Some((used, header)) = self.read_header(input)? else {
                    return Ok((input.len(), None));
                };
                pos = used;
                let f = self.start_frame(&header)?;
                self.frame = Some(f);
                f
            }
        };
        let rest = input.get_mut(pos..).unwrap_or_default();
        if frame.opcode.is_control() {
            let len = usize::try_from(frame.remaining).unwrap_or(usize::MAX);
            let Some(payload) = rest.get_mut(..len) else {
                return Ok((pos, None)); // delivered whole: wait for all of it
            };
            if let Some(key) = frame.mask {
                mask::apply(payload, key, 0);
            }
            self.frame = None;
            let event = self.control_event(frame.opcode, payload)?;
            return Ok((pos.saturating_add(len), Some(event)));
        }
        let available = u64::try_from(rest.len()).unwrap_or(u64::MAX);
        let take = frame.remaining.min(available);
        if take == 0 && frame.remaining > 0 {
            return Ok((pos, None));
        }
        // `take` is at most `rest.len()`.
        let take = usize::try_from(take).unwrap_or(0);
        let payload = rest.get_mut(..take).unwrap_or_default();
        let remaining = frame
            .remaining
            .saturating_sub(u64::try_from(take).unwrap_or(0));
        let ends_frame = remaining == 0;
        let ends_message = ends_frame && frame.fin;
        let Some(msg) = self.message.as_mut() else {
            return Err(ProtocolError::UnexpectedContinuation); // start_frame opened it
        };
        let starts_message = !msg.started;
        msg.started = true;
        let (kind, compressed) = (msg.kind, msg.compressed);
        #[cfg(feature = "deflate")]
        if compressed && starts_message {
            self.deflate_message_started(kind);
        }
        let phase = usize::from(frame.phase);
        let phase = if kind == MessageKind::Text && !compressed {
            // Unmasked and validated in one pass over the bytes.
            let phase = self
                .utf8
                .unmask_and_feed(payload, frame.mask, phase)
                .map_err(|_| ProtocolError::InvalidUtf8)?;
            if ends_message {
                self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
            }
            phase
        } else {
            frame.mask.map_or(0, |key| mask::apply(payload, key, phase))
        };
        self.frame = if ends_frame {
            None
        } else {
            Some(InFrame {
                remaining,
                // A phase is always below 4.
                phase: u8::try_from(phase).unwrap_or(0),
                ..frame
            })
        };
        if ends_message {
            self.message = None;
        }
        let data = Data {
            payload,
            starts_message,
            ends_frame,
            ends_message,
            compressed,
        };
        let event = match kind {
            MessageKind::Text => Event::Text(data),
            MessageKind::Binary => Event::Binary(data),
        };
        Ok((pos.saturating_add(take), Some(event)))
    }

    /// The fast path's test: whether `input` starts with a whole single-frame text or binary
    /// message (header and payload, no RSV bit, masked as the role requires, within the
    /// limits) and no message is open. Returns the header and its length. Decodes only the
    /// well-formed encodings: `None` for anything else, and the general path takes over (and
    /// reports any error in the header).
    #[inline]
    fn whole_message(&self, input: &[u8]) -> Option<(usize, FrameHeader)> {
        if self.header_len != 0 || self.message.is_some() {
            return None;
        }
        let [b0, b1, rest @ ..] = input else {
            return None;
        };
        // FIN set, RSV bits clear.
        let opcode = match *b0 {
            0x81 => Opcode::Text,
            0x82 => Opcode::Binary,
            _ => return None,
        };
        let masked = b1 & 0x80 != 0;
        if masked != (self.role == Role::Server) {
            return None;
        }
        let (payload_len, rest) = match b1 & 0x7f {
            126 => {
                let (len, rest) = rest.split_first_chunk::<2>()?;
                let len = u16::from_be_bytes(*len);
                (len >= 126).then_some((u64::from(len), rest))?
            }
            127 => {
                let (len, rest) = rest.split_first_chunk::<8>()?;
                let len = u64::from_be_bytes(*len);
                (len > 0xffff && len >> 63 == 0).then_some((len, rest))?
            }
            len => (u64::from(len), rest),
        };
        let (mask, rest) = if masked {
            let (key, rest) = rest.split_first_chunk::<4>()?;
            (Some(*key), rest)
        } else {
            (None, rest)
        };
        let limit = self
            .config
            .max_frame_payload
            .min(self.config.max_message_size);
        if payload_len > limit || usize::try_from(payload_len).ok()? > rest.len() {
            return None;
        }
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask,
            payload_len,
        };
        Some((input.len().saturating_sub(rest.len()), header))
    }

    /// The fast path for the most common input (see [`whole_message`](Self::whole_message)):
    /// unmasks and validates the message in one pass and reports it, without touching the
    /// per-frame and per-message state.
    #[inline]
    fn read_whole_message<'b>(
        input: &'b mut [u8],
        header_len: usize,
        h: &FrameHeader,
    ) -> Result<(usize, Option<Event<'b>>), ProtocolError> {
        let len = usize::try_from(h.payload_len).unwrap_or(usize::MAX);
        let end = header_len.saturating_add(len);
        let payload = input.get_mut(header_len..end).unwrap_or_default();
        let text = h.opcode == Opcode::Text;
        if text {
            let mut utf8 = Utf8Validator::new();
            utf8.unmask_and_feed(payload, h.mask, 0)
                .and_then(|_| utf8.finish())
                .map_err(|_| ProtocolError::InvalidUtf8)?;
        } else if let Some(key) = h.mask {
            mask::apply(payload, key, 0);
        }
        let event = Event::whole_message(payload, text);
        Ok((end, Some(event)))
    }

    /// Whether [`read_short_frames`](Self::read_short_frames) may run: open, between
    /// messages, no partial header, nothing after a close.
    #[inline]
    fn short_frames_ready(&self) -> bool {
        matches!(self.phase, Phase::Open)
            && self.frame.is_none()
            && self.message.is_none()
            && self.header_len == 0
            && self.peer_close.is_none()
            && !self.eof
            && self.error.is_none()
    }

    /// The loop of [`handle_read_all`](Self::handle_read_all) for its most common input: a
    /// run of whole single-frame text and binary messages with a one-byte length (under 126
    /// bytes), no RSV bit, masked as the role requires. Delivers them and returns the bytes
    /// used; stops at the first frame of any other kind (the general path takes it). Touches
    /// no per-message state, so it needs no bookkeeping when it stops.
    #[inline]
    fn read_short_frames(
        &self,
        input: &mut [u8],
        on_event: &mut impl FnMut(Event<'_>),
    ) -> Result<usize, ProtocolError> {
        let server = self.role == Role::Server;
        let header_len: usize = if server { 6 } else { 2 };
        let limit = self
            .config
            .max_frame_payload
            .min(self.config.max_message_size)
            .min(125);
        let limit = u8::try_from(limit).unwrap_or(0);
        let mut rest = input;
        let mut used = 0usize;
        while let &mut [b0, b1, ..] = &mut *rest {
            let text = match b0 {
                0x81 => true,
                0x82 => false,
                _ => break,
            };
            let len = b1 & 0x7f;
            if (b1 & 0x80 != 0) != server || len > limit {
                break;
            }
            let end = header_len.saturating_add(usize::from(len));
            if rest.len() < end {
                break;
            }
            let (head, after_head) = core::mem::take(&mut rest).split_at_mut(header_len);
            let len = usize::from(len);
            // Unmasked with the next frame's bytes in reach (left as they are).
            let ascii = match head.get(2..6) {
                Some(&[k0, k1, k2, k3]) => {
                    mask::apply_small_is_ascii(after_head, len, [k0, k1, k2, k3])
                }
                _ => after_head.get(..len).is_some_and(<[u8]>::is_ascii),
            };
            let (payload, tail) = after_head.split_at_mut(len);
            rest = tail;
            if text && !ascii && !utf8::is_valid(payload) {
                return Err(ProtocolError::InvalidUtf8);
            }
            on_event(Event::whole_message(payload, text));
            used = used.saturating_add(end);
        }
        Ok(used)
    }

    /// Decodes the next header, buffering a partial one. `Ok(None)`: all of `input` went into
    /// the partial header.
    fn read_header(&mut self, input: &[u8]) -> Result<Option<(usize, FrameHeader)>, ProtocolError> {
        if self.header_len == 0
            && let Status::Complete(done) = FrameHeader::decode(input)?
        {
            return Ok(Some(done));
        }
        // Slow path: the header straddles reads. Copy only what it still lacks, so a
        // byte-at-a-time caller costs O(1) per byte.
        let mut used = 0;
        loop {
            let have = usize::from(self.header_len);
            let need = match self.header.get(..2) {
                Some(&[b0, b1]) if have >= 2 => FrameHeader::len_from_prefix(b0, b1),
                _ => 2,
            };
            let want = need.saturating_sub(have);
            let avail = input.get(used..).unwrap_or_default();
            let take = want.min(avail.len());
            let end = have.saturating_add(take);
            if let (Some(dst), Some(src)) = (self.header.get_mut(have..end), avail.get(..take)) {
                dst.copy_from_slice(src);
            }
            used = used.saturating_add(take);
            self.header_len = u8::try_from(end).unwrap_or(0);
            let buffered = self.header.get(..end).unwrap_or_default();
            match FrameHeader::decode(buffered)? {
                Status::Complete((_, header)) => {
                    self.header_len = 0;
                    return Ok(Some((used, header)));
                }
                Status::Partial if take == 0 => return Ok(None),
                Status::Partial => {}
            }
        }
    }

    /// Checks a header against role, extensions, message state and limits, and opens the
    /// frame (and message).
    fn start_frame(&mut self, h: &FrameHeader) -> Result<InFrame, ProtocolError> {
        let rsv1 = h.rsv & FrameHeader::RSV1 != 0;
        if h.rsv & !self.allowed_rsv != 0 {
            return Err(ProtocolError::ReservedBits(h.rsv));
        }
        match (self.role, h.mask.is_some()) {
            // RFC 6455 §5.1: "a client MUST mask all frames that it sends to the server" and
            // "A server MUST NOT mask any frames that it sends to the client".
            (Role::Server, false) => return Err(ProtocolError::MaskMissing),
            (Role::Client, true) => return Err(ProtocolError::MaskUnexpected),
            _ => {}
        }
        let frame = InFrame {
            opcode: h.opcode,
            fin: h.fin,
            mask: h.mask,
            remaining: h.payload_len,
            phase: 0,
        };
        if h.opcode.is_control() {
            // RFC 7692 §6.1: RSV1 only on the first frame of a data message.
            if rsv1 {
                return Err(ProtocolError::ReservedBits(h.rsv));
            }
            return Ok(frame);
        }
        if h.payload_len > self.config.max_frame_payload {
            return Err(ProtocolError::FrameTooBig);
        }
        match (h.opcode, self.message.as_mut()) {
            (Opcode::Continuation, None) => Err(ProtocolError::UnexpectedContinuation),
            (Opcode::Continuation, Some(msg)) => {
                if rsv1 {
                    return Err(ProtocolError::ReservedBits(h.rsv));
                }
                msg.fragments = msg.fragments.saturating_add(1);
                if msg.fragments > self.config.max_fragments {
                    return Err(ProtocolError::FragmentLimit);
                }
                msg.len = msg.len.saturating_add(h.payload_len);
                if msg.len > self.config.max_message_size {
                    return Err(ProtocolError::MessageTooBig);
                }
                Ok(frame)
            }
            (_, Some(_)) => Err(ProtocolError::ExpectedContinuation),
            (opcode, None) => {
                if h.payload_len > self.config.max_message_size {
                    return Err(ProtocolError::MessageTooBig);
                }
                let kind = if opcode == Opcode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                self.utf8.reset();
                self.message = Some(InMessage {
                    kind,
                    compressed: rsv1,
                    len: h.payload_len,
                    fragments: 1,
                    started: false,
                });
                Ok(frame)
            }
        }
    }

    fn control_event<'b>(
        &mut self,
        opcode: Opcode,
        payload: &'b [u8],
    ) -> Result<Event<'b>, ProtocolError> {
        match opcode {
            Opcode::Ping => {
                if self.config.auto_pong && !self.close_queued {
                    // RFC 6455 §5.5.3: answering only the most recent ping is allowed.
                    self.pending_pong = heapless::Vec::from_slice(payload).ok();
                }
                Ok(Event::Ping(payload))
            }
            Opcode::Pong => Ok(Event::Pong(payload)),
            _ => {
                let frame = CloseFrame::parse(payload)?;
                self.peer_close = Some(frame.code);
                self.pending_pong = None;
                if !self.close_queued {
                    // RFC 6455 §5.5.1: reply with a close, typically echoing the code.
                    self.queue_close(frame.code, heapless::String::new());
                }
                Ok(Event::Close(frame))
            }
        }
    }

    /// Fails the connection: sticky error and a close frame with the matching code.
    fn fail(&mut self, e: ProtocolError) {
        self.error = Some(Error::Protocol(e));
        self.pending_pong = None;
        if !self.close_sent {
            let mut reason = heapless::String::new();
            let _ = write!(reason, "{e}"); // a truncated reason is still a reason
            self.queue_close(e.close_code(), reason);
        }
    }

    fn queue_close(
        &mut self,
        code: CloseCode,
        reason: heapless::String<{ CloseFrame::MAX_REASON_LEN }>,
    ) {
        self.close_queued = true;
        self.pending_close = Some(PendingClose { code, reason });
    }

    fn timed_out(&self) -> bool {
        matches!(self.error, Some(Error::TimedOut))
    }

    // ---- internals: handshake ------------------------------------------------------------

    fn read_handshake<'b>(&mut self, input: &'b mut [u8]) -> Read<'b> {
        let input: &'b [u8] = input;
        let max_len = self.config.max_handshake_len;
        let max_headers = self.config.max_handshake_headers;
        let result = match &mut self.phase {
            Phase::ServerHandshake(hs) => match hs.parse(input, max_len, max_headers) {
                Ok(Status::Complete((len, request))) => {
                    self.phase = Phase::AwaitingDecision;
                    Ok((len, Some(Event::Request(request))))
                }
                Ok(Status::Partial) => Ok((0, None)),
                Err(e) => {
                    self.pending_http_error = Some(e);
                    Err(e)
                }
            },
            Phase::ClientHandshake(hs) => match hs.parse(input, max_len, max_headers) {
                Ok(Status::Complete((len, handshake::ServerResponse::Accepted(a)))) => {
                    self.phase = Phase::Open;
                    match self.negotiated(a.extensions) {
                        Ok(()) => Ok((len, Some(Event::Opened(a)))),
                        Err(e) => Err(e),
                    }
                }
                Ok(Status::Complete((len, handshake::ServerResponse::Rejected(r)))) => {
                    self.phase = Phase::Dead;
                    Ok((len, Some(Event::Rejected(r))))
                }
                Ok(Status::Partial) => Ok((0, None)),
                Err(e) => Err(e),
            },
            _ => Ok((0, None)),
        };
        match result {
            Ok((consumed, event)) => Read {
                consumed,
                event: Ok(event),
            },
            Err(e) => {
                self.phase = Phase::Dead;
                self.error = Some(Error::Handshake(e));
                Read {
                    consumed: 0,
                    event: Err(Error::Handshake(e)),
                }
            }
        }
    }

    /// Applies what the handshake negotiated (extension hooks). A client fails the handshake
    /// when the response's extension parameters are unacceptable (RFC 7692 §7.1).
    fn negotiated(&mut self, extensions: Option<&str>) -> Result<(), handshake::HandshakeError> {
        let _ = extensions;
        #[cfg(feature = "deflate")]
        self.deflate_negotiated(extensions)?;
        Ok(())
    }

    /// Writes the client's upgrade request for `request` into `out`, drawing the 16-byte
    /// nonce from the mask source, and returns its length.
    ///
    /// # Errors
    /// [`ApiMisuse::WrongPhase`] unless this is a fresh [`client`](Self::client);
    /// [`BufferTooSmall`] if the request does not fit (nothing changes then).
    pub fn connect(
        &mut self,
        request: &ClientRequest<'_>,
        out: &mut [u8],
    ) -> Result<usize, handshake::ConnectError> {
        if !matches!(self.phase, Phase::ClientIdle) {
            return Err(ApiMisuse::WrongPhase.into());
        }
        let mut nonce = [0; 16];
        self.mask_source.fill(&mut nonce);
        let (hs, len) = ClientHandshake::new(request, nonce, out)?;
        self.phase = Phase::ClientHandshake(hs);
        Ok(len)
    }

    /// Server: accepts the request reported by [`Event::Request`], writes the
    /// `101 Switching Protocols` response into `out`, and opens the connection. Frames that
    /// arrived behind the request are in the caller's buffer after the consumed bytes.
    ///
    /// # Errors
    /// [`ApiMisuse::WrongPhase`] unless a request is awaiting a decision;
    /// [`SendError::BufferTooSmall`] if the response does not fit (nothing changes then).
    pub fn accept(
        &mut self,
        request: &handshake::Request<'_>,
        accept: &Accept<'_>,
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        if !matches!(self.phase, Phase::AwaitingDecision) {
            return Err(ApiMisuse::WrongPhase.into());
        }
        let n = handshake::write_accept(request, accept, out)?;
        self.phase = Phase::Open;
        // Our own response: nothing to refuse.
        let _ = self.negotiated(accept.extensions);
        Ok(n)
    }

    /// Server: refuses the request reported by [`Event::Request`] with `status` (e.g. 403),
    /// extra headers and a body; the connection is then closed.
    ///
    /// # Errors
    /// [`ApiMisuse::WrongPhase`] unless a request is awaiting a decision;
    /// [`SendError::BufferTooSmall`] if the response does not fit (nothing changes then).
    pub fn reject(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        if !matches!(self.phase, Phase::AwaitingDecision) {
            return Err(ApiMisuse::WrongPhase.into());
        }
        let n = handshake::write_reject(status, headers, body, out)?;
        self.phase = Phase::Dead;
        Ok(n)
    }

    // ---- internals: send -----------------------------------------------------------------

    /// Builds the header for a frame without changing any state (the mask key is drawn
    /// later, once the frame is sure to be written).
    fn plan_send(&self, kind: SendKind, len: usize, fin: bool) -> Result<FrameHeader, ApiMisuse> {
        if !matches!(self.phase, Phase::Open) {
            return Err(ApiMisuse::NotOpen);
        }
        // RFC 6455 §5.5.1: after a close frame, no more data frames. We also refuse once the
        // peer's close arrived: our reply is due.
        if self.close_queued || self.eof || self.error.is_some() {
            return Err(ApiMisuse::Closing);
        }
        let opcode = match kind {
            SendKind::Ping | SendKind::Pong => {
                if len > MAX_CONTROL_PAYLOAD {
                    return Err(ApiMisuse::ControlPayloadTooLong);
                }
                if kind == SendKind::Ping {
                    Opcode::Ping
                } else {
                    Opcode::Pong
                }
            }
            SendKind::Text | SendKind::Binary => {
                let msg_kind = if kind == SendKind::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                match self.sending {
                    Some(k) if k != msg_kind => return Err(ApiMisuse::MessageKindMismatch),
                    Some(_) => Opcode::Continuation,
                    None if msg_kind == MessageKind::Text => Opcode::Text,
                    None => Opcode::Binary,
                }
            }
        };
        Ok(FrameHeader {
            fin: fin || opcode.is_control(),
            rsv: 0,
            opcode,
            // A placeholder that sizes the header; the real key is drawn on commit.
            mask: (self.role == Role::Client).then_some([0; 4]),
            payload_len: u64::try_from(len).unwrap_or(u64::MAX),
        })
    }

    fn commit_send(&mut self, kind: SendKind, fin: bool) {
        let msg_kind = match kind {
            SendKind::Text => MessageKind::Text,
            SendKind::Binary => MessageKind::Binary,
            SendKind::Ping | SendKind::Pong => return,
        };
        self.sending = if fin { None } else { Some(msg_kind) };
    }

    /// Writes a control frame whose payload is `prefix ++ body` (both within 125 bytes).
    fn write_control(
        &mut self,
        opcode: Opcode,
        prefix: &[u8],
        body: &[u8],
        out: &mut [u8],
    ) -> Result<usize, BufferTooSmall> {
        let len = prefix.len().saturating_add(body.len());
        let mut header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask: None,
            payload_len: u64::try_from(len).unwrap_or(u64::MAX),
        };
        if self.role == Role::Client {
            header.mask = Some([0; 4]); // placeholder: sizes the header
        }
        let header_len = header.encoded_len();
        let total = header_len.saturating_add(len);
        let Some(dst) = out.get_mut(..total) else {
            return Err(BufferTooSmall { required: total });
        };
        if self.role == Role::Client {
            header.mask = Some(self.mask_source.mask_key());
        }
        let (head_dst, body_dst) = dst.split_at_mut(header_len);
        header.encode(head_dst)?;
        let (p, b) = body_dst.split_at_mut(prefix.len());
        p.copy_from_slice(prefix);
        b.copy_from_slice(body);
        if let Some(key) = header.mask {
            mask::apply(body_dst, key, 0);
        }
        Ok(total)
    }
}

impl Connection<NoMask> {
    /// A server that starts with the opening handshake: `handle_read` reports the upgrade
    /// request as [`Event::Request`]; answer with [`accept`](Self::accept) or
    /// [`reject`](Self::reject).
    pub fn server(config: Config) -> Self {
        let mut c = Self::new(Role::Server, config, NoMask);
        c.phase = Phase::ServerHandshake(ServerHandshake::default());
        c
    }
}
