//! The opening handshake (RFC 6455 §4): HTTP/1.1 upgrade for both roles, and the RFC 8441
//! extended CONNECT helpers for HTTP/2.
//!
//! STUB: the interface the connection uses; the handshake issue fills it in.

use core::fmt;

use crate::error::BufferTooSmall;
use crate::frame::Status;

/// Why an opening handshake failed, and what HTTP status to answer with.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct HandshakeError {
    kind: HandshakeErrorKind,
}

/// The kinds of [`HandshakeError`].
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum HandshakeErrorKind {
    /// The head is over the configured limit.
    HeadTooLarge,
    /// Malformed HTTP.
    Malformed,
}

impl HandshakeError {
    /// The kind of failure.
    #[must_use]
    pub const fn kind(&self) -> HandshakeErrorKind {
        self.kind
    }

    /// The HTTP status a server should answer with.
    #[must_use]
    pub const fn status_hint(&self) -> u16 {
        match self.kind {
            HandshakeErrorKind::HeadTooLarge => 431,
            HandshakeErrorKind::Malformed => 400,
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.kind, f)
    }
}

impl core::error::Error for HandshakeError {}

/// A validated upgrade request (server side), borrowing the caller's buffer.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Request<'b> {
    head: &'b [u8],
}

/// A non-101 response (client side).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Response<'b> {
    head: &'b [u8],
}

/// What a completed handshake negotiated.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Accepted<'b> {
    /// The subprotocol, if one was chosen.
    pub protocol: Option<&'b str>,
    /// The `Sec-WebSocket-Extensions` value of the response, if any.
    pub extensions: Option<&'b str>,
}

/// Incremental server-side request parser.
#[derive(Clone, Debug, Default)]
pub struct ServerHandshake {
    scanned: usize,
}

impl ServerHandshake {
    /// Parses the request from the front of `input`.
    ///
    /// # Errors
    /// Any malformed or invalid request.
    pub fn parse<'b>(
        &mut self,
        input: &'b [u8],
        _max_len: usize,
        _max_headers: usize,
    ) -> Result<Status<(usize, Request<'b>)>, HandshakeError> {
        let _ = (input, self.scanned);
        Err(HandshakeError {
            kind: HandshakeErrorKind::Malformed,
        })
    }
}

/// Options for accepting a request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Accept<'a> {
    /// The chosen subprotocol.
    pub protocol: Option<&'a str>,
    /// The `Sec-WebSocket-Extensions` response value.
    pub extensions: Option<&'a str>,
}

/// Writes a rejection.
///
/// # Errors
/// Output too small.
pub fn write_reject(
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    out: &mut [u8],
) -> Result<usize, BufferTooSmall> {
    let _ = (status, headers, body, out);
    Err(BufferTooSmall { required: 0 })
}

impl HandshakeError {
    /// Writes the HTTP error response for this error.
    ///
    /// # Errors
    /// Output too small.
    pub fn write_response(&self, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let _ = out;
        Err(BufferTooSmall { required: 0 })
    }
}

/// A client request description.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientRequest<'a> {
    /// The `ws://` or `wss://` URL.
    pub url: &'a str,
}

/// Why `connect` failed.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ConnectError {
    /// Output too small.
    BufferTooSmall(BufferTooSmall),
    /// Wrong phase.
    Misuse(crate::error::ApiMisuse),
}

impl From<BufferTooSmall> for ConnectError {
    fn from(e: BufferTooSmall) -> Self {
        Self::BufferTooSmall(e)
    }
}

impl From<crate::error::ApiMisuse> for ConnectError {
    fn from(e: crate::error::ApiMisuse) -> Self {
        Self::Misuse(e)
    }
}

/// Client handshake state.
#[derive(Clone, Debug)]
pub struct ClientHandshake {
    nonce: [u8; 16],
}

/// What the server answered.
#[derive(Clone, Copy, Debug)]
pub enum ServerResponse<'b> {
    /// 101 and valid.
    Accepted(Accepted<'b>),
    /// Anything else.
    Rejected(Response<'b>),
}

impl ClientHandshake {
    /// Writes the request.
    ///
    /// # Errors
    /// Output too small.
    pub fn new(
        req: &ClientRequest<'_>,
        nonce: [u8; 16],
        out: &mut [u8],
    ) -> Result<(Self, usize), ConnectError> {
        let _ = (req, out);
        Ok((Self { nonce }, 0))
    }

    /// Parses the response.
    ///
    /// # Errors
    /// Invalid response.
    pub fn parse<'b>(
        &mut self,
        input: &'b [u8],
        _max_len: usize,
        _max_headers: usize,
    ) -> Result<Status<(usize, ServerResponse<'b>)>, HandshakeError> {
        let _ = (input, self.nonce);
        Err(HandshakeError {
            kind: HandshakeErrorKind::Malformed,
        })
    }
}

/// Writes the 101 response.
///
/// # Errors
/// Output too small.
pub fn write_accept(
    req: &Request<'_>,
    accept: &Accept<'_>,
    out: &mut [u8],
) -> Result<usize, BufferTooSmall> {
    let _ = (req.head, accept, out);
    Err(BufferTooSmall { required: 0 })
}

/// Used in `Response` so the field is read.
impl Response<'_> {
    /// The raw head.
    #[must_use]
    pub const fn head(&self) -> &[u8] {
        self.head
    }
}
