//! The opening handshake (RFC 6455 §4): the HTTP/1.1 upgrade for both roles, and the RFC 8441
//! extended CONNECT helpers for HTTP/2 in [`h2`].
//!
//! Everything here is bounded and zero-copy: heads are parsed with `httparse` from the caller's
//! buffer once their end (`\r\n\r\n`) has arrived, within a configured size and header count;
//! the parsed views ([`Request`], [`Response`]) re-scan the validated head bytes on demand
//! instead of storing header tables. Responses and requests are written into the caller's
//! `&mut [u8]`; on any error nothing is written.
//!
//! The parsers are strict where leniency has caused trouble in other implementations: bare LF
//! line endings, request bodies on the upgrade request, duplicated `Host`,
//! `Sec-WebSocket-Key`, `Sec-WebSocket-Version` or `Origin` fields, and malformed
//! subprotocol or extension lists are all refused.

use core::fmt;

use crate::error::{ApiMisuse, BufferTooSmall, SendError};

mod client;
pub mod h2;
mod server;

pub use client::{
    Accepted, ClientHandshake, ClientRequest, ConnectError, Response, ServerResponse, Url,
};
pub use server::{Accept, Request, ServerHandshake, write_accept, write_reject};

/// The GUID appended to the key before hashing (RFC 6455 §1.3).
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The largest header count the parsers accept, whatever the configuration says: the header
/// table lives on the stack while a head is parsed.
pub const MAX_HEADERS: usize = 128;

/// The only WebSocket protocol version this crate speaks (RFC 6455 §4.1).
pub const WEBSOCKET_VERSION: &str = "13";

/// Derives the `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` value (RFC 6455 §4.2.2):
/// base64 of the SHA-1 of the key followed by the protocol GUID.
///
/// ```
/// let accept = ws_proto::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
/// assert_eq!(&accept, b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
#[must_use]
pub fn accept_key(key: &[u8]) -> [u8; 28] {
    use base64ct::Encoding as _;
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(GUID);
    let digest = sha.digest().bytes();
    let mut out = [0; 28];
    // 20 bytes always encode to exactly 28 characters.
    let _ = base64ct::Base64::encode(&digest, &mut out);
    out
}

/// Whether `key` (already trimmed) is the base64 encoding of exactly 16 bytes, as
/// `Sec-WebSocket-Key` must be (RFC 6455 §4.1).
fn is_valid_key(key: &[u8]) -> bool {
    use base64ct::Encoding as _;
    let mut raw = [0; 16];
    key.len() == 24 && base64ct::Base64::decode(key, &mut raw).is_ok_and(|r| r.len() == 16)
}

// ---- errors -------------------------------------------------------------------------------

/// Why an opening handshake failed, and what HTTP status a server answers with.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct HandshakeError {
    kind: HandshakeErrorKind,
}

/// The kinds of [`HandshakeError`].
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum HandshakeErrorKind {
    /// The head has no end within the configured size limit (431).
    HeadTooLarge,
    /// More header fields than the configured limit (431).
    TooManyHeaders,
    /// Not well-formed HTTP/1.x (including bare LF line endings).
    Malformed,
    /// The request method is not `GET`.
    MethodNotGet,
    /// The request is not HTTP/1.1 or later (a 101 response must be HTTP/1.1 too).
    HttpVersion,
    /// The request target is neither `/path?query` nor an absolute URI, or has a fragment.
    InvalidTarget,
    /// No `Host` header field.
    MissingHost,
    /// A header field that may appear only once appeared again.
    DuplicateHeader(&'static str),
    /// A header field's value is not what the protocol allows.
    InvalidHeader(&'static str),
    /// `Upgrade` does not contain the token `websocket`.
    MissingUpgrade,
    /// `Connection` does not contain the token `upgrade`.
    MissingConnectionUpgrade,
    /// No `Sec-WebSocket-Key`.
    MissingKey,
    /// `Sec-WebSocket-Key` is not the base64 encoding of 16 bytes.
    InvalidKey,
    /// `Sec-WebSocket-Version` is missing or not 13 (426).
    UnsupportedVersion,
    /// The upgrade request announces a body (`Content-Length` other than 0, or
    /// `Transfer-Encoding`): what follows its head would not be WebSocket frames.
    UnexpectedBody,
    /// Client: the 101 response has no `Sec-WebSocket-Accept`.
    MissingAccept,
    /// Client: `Sec-WebSocket-Accept` does not match the key that was sent.
    AcceptMismatch,
    /// Client: the server chose a subprotocol that was not offered.
    ProtocolNotOffered,
    /// Client: the server chose an extension that was not offered.
    ExtensionNotOffered,
    /// HTTP/2: not an extended CONNECT for WebSocket (`:method` is not `CONNECT` or
    /// `:protocol` is not `websocket`).
    NotExtendedConnect,
    /// HTTP/2: a required pseudo-header field is missing.
    MissingPseudoHeader(&'static str),
}

impl HandshakeError {
    /// The kind of failure.
    #[must_use]
    pub const fn kind(&self) -> HandshakeErrorKind {
        self.kind
    }

    /// The HTTP status a server answers with: 431 for a head over the limits, 426 for a
    /// version other than 13, 400 otherwise.
    #[must_use]
    pub const fn status_hint(&self) -> u16 {
        match self.kind {
            HandshakeErrorKind::HeadTooLarge | HandshakeErrorKind::TooManyHeaders => 431,
            HandshakeErrorKind::UnsupportedVersion => 426,
            _ => 400,
        }
    }

    /// Writes the complete HTTP/1.1 error response for this error into `out` and returns its
    /// length: the status from [`status_hint`](Self::status_hint), `Connection: close`, for
    /// 426 also `Upgrade: websocket` and `Sec-WebSocket-Version: 13`, and the reason as a short
    /// text body. At most 220 bytes.
    ///
    /// # Errors
    /// [`BufferTooSmall`] if `out` cannot hold it; nothing is written then.
    pub fn write_response(&self, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let status = self.status_hint();
        let mut body = Writer::counting();
        write_error_body(&mut body, self);
        let body_len = body.len;
        write_with(out, |w| {
            w.status_line(status);
            if status == 426 {
                w.header("Upgrade", "websocket");
                w.header("Sec-WebSocket-Version", WEBSOCKET_VERSION);
                // RFC 9110 §7.8: whoever sends Upgrade also sends the `upgrade` option.
                w.header("Connection", "upgrade, close");
            } else {
                w.header("Connection", "close");
            }
            w.header("Content-Type", "text/plain");
            w.content_length(body_len);
            w.put(b"\r\n");
            write_error_body(w, self);
        })
    }
}

fn write_error_body(w: &mut Writer<'_>, e: &HandshakeError) {
    let _ = fmt::Write::write_fmt(w, format_args!("{e}\n"));
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use HandshakeErrorKind as K;
        match self.kind {
            K::HeadTooLarge => f.write_str("head over the size limit"),
            K::TooManyHeaders => f.write_str("too many header fields"),
            K::Malformed => f.write_str("malformed HTTP head"),
            K::MethodNotGet => f.write_str("method must be GET"),
            K::HttpVersion => f.write_str("HTTP/1.1 or later required"),
            K::InvalidTarget => f.write_str("invalid request target"),
            K::MissingHost => f.write_str("missing Host header"),
            K::DuplicateHeader(name) => write!(f, "duplicate {name} header"),
            K::InvalidHeader(name) => write!(f, "invalid {name} header"),
            K::MissingUpgrade => f.write_str("Upgrade header lacks websocket"),
            K::MissingConnectionUpgrade => f.write_str("Connection header lacks upgrade"),
            K::MissingKey => f.write_str("missing Sec-WebSocket-Key header"),
            K::InvalidKey => f.write_str("Sec-WebSocket-Key is not 16 bytes in base64"),
            K::UnsupportedVersion => f.write_str("Sec-WebSocket-Version must be 13"),
            K::UnexpectedBody => f.write_str("upgrade request with a body"),
            K::MissingAccept => f.write_str("missing Sec-WebSocket-Accept header"),
            K::AcceptMismatch => f.write_str("Sec-WebSocket-Accept does not match the key"),
            K::ProtocolNotOffered => f.write_str("server chose a subprotocol not offered"),
            K::ExtensionNotOffered => f.write_str("server chose an extension not offered"),
            K::NotExtendedConnect => f.write_str("not an extended CONNECT for websocket"),
            K::MissingPseudoHeader(name) => write!(f, "missing {name} pseudo-header"),
        }
    }
}

impl core::error::Error for HandshakeError {}

impl From<HandshakeErrorKind> for HandshakeError {
    fn from(kind: HandshakeErrorKind) -> Self {
        Self { kind }
    }
}

/// Why an answer to a handshake (a 101, a rejection, an HTTP/2 response) could not be written.
/// Nothing was written.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum ResponseError {
    /// The output buffer is too small.
    BufferTooSmall(BufferTooSmall),
    /// The chosen subprotocol is not one the client offered (RFC 6455 §4.2.2).
    ProtocolNotOffered,
    /// The extension response is malformed or names an extension the client did not offer.
    InvalidExtensions,
    /// An extra header has an invalid name, a value with control characters (CR, LF...), or a
    /// name the handshake writes itself (`Upgrade`, `Connection`, `Sec-WebSocket-*`,
    /// `Content-Length`, `Transfer-Encoding`).
    InvalidHeader,
    /// A rejection status outside 200..=599.
    InvalidStatus(u16),
}

impl From<BufferTooSmall> for ResponseError {
    fn from(e: BufferTooSmall) -> Self {
        Self::BufferTooSmall(e)
    }
}

impl From<ResponseError> for SendError {
    fn from(e: ResponseError) -> Self {
        match e {
            ResponseError::BufferTooSmall(b) => Self::BufferTooSmall(b),
            _ => Self::Misuse(ApiMisuse::InvalidResponse),
        }
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall(e) => e.fmt(f),
            Self::ProtocolNotOffered => f.write_str("subprotocol not offered by the client"),
            Self::InvalidExtensions => {
                f.write_str("extension response malformed or not offered by the client")
            }
            Self::InvalidHeader => f.write_str("invalid or reserved extra header"),
            Self::InvalidStatus(s) => write!(f, "status {s} cannot reject a handshake"),
        }
    }
}

impl core::error::Error for ResponseError {}

// ---- head scanning ------------------------------------------------------------------------

/// Finds the end of an HTTP head in a buffer that grows between calls, looking at each byte
/// once in total.
#[derive(Clone, Copy, Debug, Default)]
struct HeadScanner {
    /// Bytes at the front of the buffer already checked (u32 keeps `Connection` small; a
    /// head is far shorter).
    scanned: u32,
}

impl HeadScanner {
    /// Nothing scanned yet.
    const fn is_fresh(&self) -> bool {
        self.scanned == 0
    }

    /// The length of the head (through `\r\n\r\n`) if it is in `input`. Every LF must follow a
    /// CR (httparse alone would accept bare LF line ends).
    fn find_end(&mut self, input: &[u8], max_len: usize) -> Result<Option<usize>, HandshakeError> {
        let mut start = usize::try_from(self.scanned).unwrap_or(usize::MAX);
        if start > input.len() {
            // Not the same growing buffer after all: start over.
            start = 0;
        }
        let limit = input.len().min(max_len);
        let window = input.get(..limit).unwrap_or_default();
        for (i, &b) in window.iter().enumerate().skip(start) {
            if b != b'\n' {
                continue;
            }
            let before = window.get(..i).unwrap_or_default();
            if !before.ends_with(b"\r") {
                return Err(HandshakeErrorKind::Malformed.into());
            }
            if before.ends_with(b"\r\n\r") {
                return Ok(Some(i.saturating_add(1)));
            }
        }
        self.scanned = u32::try_from(limit.max(start)).unwrap_or(0);
        if input.len() >= max_len {
            return Err(HandshakeErrorKind::HeadTooLarge.into());
        }
        Ok(None)
    }
}

/// Maps an httparse failure on a complete head.
fn parse_error(e: httparse::Error) -> HandshakeError {
    match e {
        httparse::Error::TooManyHeaders => HandshakeErrorKind::TooManyHeaders.into(),
        httparse::Error::Version => HandshakeErrorKind::HttpVersion.into(),
        _ => HandshakeErrorKind::Malformed.into(),
    }
}

/// The start line (request or status line) of a validated head and the bytes after it.
fn split_start_line(head: &[u8]) -> (&[u8], &[u8]) {
    let mut rest = head;
    // httparse skips empty lines before the start line (RFC 9112 §2.2).
    while let Some(r) = rest.strip_prefix(b"\r\n") {
        rest = r;
    }
    match rest.iter().position(|&b| b == b'\n') {
        Some(nl) => {
            let (line, after) = rest.split_at(nl);
            (
                line.strip_suffix(b"\r").unwrap_or(line),
                after.get(1..).unwrap_or_default(),
            )
        }
        None => (rest, &[]),
    }
}

// ---- header fields ------------------------------------------------------------------------

/// The header fields of a validated head, in order, as `(name, value)` with the value trimmed
/// of surrounding whitespace.
#[derive(Clone, Debug)]
pub struct Headers<'b> {
    rest: &'b [u8],
}

impl<'b> Headers<'b> {
    fn of_head(head: &'b [u8]) -> Self {
        Self {
            rest: split_start_line(head).1,
        }
    }

    /// The first field named `name` (ASCII case-insensitive).
    fn find(mut self, name: &str) -> Option<&'b [u8]> {
        self.find_map(|(n, v)| n.eq_ignore_ascii_case(name).then_some(v))
    }
}

impl<'b> Iterator for Headers<'b> {
    type Item = (&'b str, &'b [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let nl = self.rest.iter().position(|&b| b == b'\n')?;
            let (line, after) = self.rest.split_at(nl);
            self.rest = after.get(1..).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                self.rest = &[];
                return None;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = line.split_at(colon);
            let Ok(name) = core::str::from_utf8(name) else {
                continue;
            };
            return Some((name, value.get(1..).unwrap_or_default().trim_ascii()));
        }
    }
}

/// Where list-valued fields come from: the lines of an HTTP/1.1 head, or HTTP/2 pairs.
#[derive(Clone, Debug)]
enum Fields<'b> {
    Head(Headers<'b>),
    Pairs(core::slice::Iter<'b, (&'b [u8], &'b [u8])>),
    None,
}

impl<'b> Fields<'b> {
    /// The next value of a field named `name` (case-insensitive).
    fn next_value(&mut self, name: &str) -> Option<&'b [u8]> {
        match self {
            Self::Head(h) => h.find_map(|(n, v)| n.eq_ignore_ascii_case(name).then_some(v)),
            Self::Pairs(p) => {
                p.find_map(|&(n, v)| n.eq_ignore_ascii_case(name.as_bytes()).then_some(v))
            }
            Self::None => None,
        }
    }
}

/// The elements of a comma-separated list spread over every field named `name`, trimmed,
/// empty elements skipped (RFC 9110 §5.6.1).
#[derive(Clone, Debug)]
struct ListItems<'b> {
    fields: Fields<'b>,
    name: &'static str,
    current: &'b [u8],
}

impl<'b> ListItems<'b> {
    fn new(fields: Fields<'b>, name: &'static str) -> Self {
        Self {
            fields,
            name,
            current: &[],
        }
    }

    fn of_value(value: &'b [u8]) -> Self {
        Self {
            fields: Fields::None,
            name: "",
            current: value,
        }
    }
}

impl<'b> Iterator for ListItems<'b> {
    type Item = &'b [u8];

    fn next(&mut self) -> Option<&'b [u8]> {
        loop {
            if self.current.is_empty() {
                self.current = self.fields.next_value(self.name)?;
                continue;
            }
            let (item, rest) = split_once(self.current, b',');
            self.current = rest;
            let item = item.trim_ascii();
            if !item.is_empty() {
                return Some(item);
            }
        }
    }
}

/// Splits at the first `sep`; the second part is empty when there is none.
fn split_once(s: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match s.iter().position(|&b| b == sep) {
        Some(i) => {
            let (a, b) = s.split_at(i);
            (a, b.get(1..).unwrap_or_default())
        }
        None => (s, &[]),
    }
}

/// The elements of one comma-separated value.
fn list_items(value: &[u8]) -> ListItems<'_> {
    ListItems::of_value(value)
}

/// Whether a comma-separated value has `token` among its elements (case-insensitive).
fn list_contains(value: &[u8], token: &str) -> bool {
    // The usual case first: the value is just the token. For a lowercase letter `t`,
    // `v | 0x20 == t` holds exactly for `t` and its uppercase; tokens with other bytes take the
    // general path.
    (value.len() == token.len()
        && value
            .iter()
            .zip(token.as_bytes())
            .all(|(&v, &t)| t.is_ascii_lowercase() && v | 0x20 == t))
        || list_items(value).any(|t| t.eq_ignore_ascii_case(token.as_bytes()))
}

/// RFC 9110 §5.6.2 `tchar`.
const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
        | b'`' | b'|' | b'~')
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// A field value we are about to write: no control characters but HTAB (no CR, LF, NUL).
fn is_safe_value(s: &[u8]) -> bool {
    s.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// A field value fit for `&str` accessors: visible ASCII and spaces only.
fn is_ascii_value(s: &[u8]) -> bool {
    s.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// [`is_ascii_value`] for a value httparse accepted, which holds only HTAB, visible ASCII,
/// spaces and bytes from 0x80: ASCII is all that is left to check.
fn is_ascii_field(s: &[u8]) -> bool {
    s.is_ascii()
}

/// A `Sec-WebSocket-Protocol` value: a non-empty list of tokens (RFC 6455 §4.1).
fn is_valid_protocol_list(value: &[u8]) -> bool {
    let mut any = false;
    for item in list_items(value) {
        if !is_token(item) {
            return false;
        }
        any = true;
    }
    any
}

/// A `Sec-WebSocket-Extensions` value (RFC 6455 §9.1): a non-empty list of
/// `token *( ";" token [ "=" ( token / quoted-string ) ] )`, where a quoted string must hold a
/// token (escapes are refused, which the RFC's "after unescaping MUST conform to token" makes
/// pointless). Whitespace around separators is allowed.
fn is_valid_extension_list(value: &[u8]) -> bool {
    // One pass over the bytes with a state table; equivalent to splitting at `,`, then `;`,
    // then the first `=`, trimming every piece and checking it is a token (or a quoted
    // token), which is how the RFC grammar reads. Byte classes: see `EXT_CLASS`.
    const X: u8 = 11;
    // Rows: states; columns: other, tchar, whitespace, `,`, `;`, `=`, `"` (and one unused, so
    // that a row is 8 wide and the table 128 long: `state << 3 | class` needs no bounds check).
    const NEXT: [u8; 128] = [
        // 0: before an element, after a `,`: whitespace and empty elements allowed.
        X, 1, 0, 0, X, X, X, X, //
        // 1: in the extension name.
        X, 1, 2, 0, 3, X, X, X, //
        // 2: after the name and whitespace.
        X, X, 2, 0, 3, X, X, X, //
        // 3: after `;`, before a parameter name.
        X, 4, 3, X, X, X, X, X, //
        // 4: in a parameter name.
        X, 4, 5, 0, 3, 6, X, X, //
        // 5: after a parameter name and whitespace.
        X, X, 5, 0, 3, 6, X, X, //
        // 6: after `=`, before the value.
        X, 7, 6, X, X, X, 8, X, //
        // 7: in an unquoted value.
        X, 7, 10, 0, 3, X, X, X, //
        // 8: after the opening quote.
        X, 9, X, X, X, X, X, X, //
        // 9: in the quoted token.
        X, 9, X, X, X, X, 10, X, //
        // 10: after a value (closing quote or whitespace).
        X, X, 10, 0, 3, X, X, X, //
        // X: invalid.
        X, X, X, X, X, X, X, X, //
        // 12: the start, before any element (as 0, but an empty list is invalid).
        X, 1, 12, 12, X, X, X, X, //
        // (unused)
        X, X, X, X, X, X, X, X, //
        X, X, X, X, X, X, X, X, //
        X, X, X, X, X, X, X, X, //
    ];
    let mut state = 12u8;
    for &b in value {
        let class = EXT_CLASS.get(usize::from(b)).copied().unwrap_or_default();
        let at = (usize::from(state) << 3 | usize::from(class)) & 127;
        state = NEXT.get(at).copied().unwrap_or(X);
    }
    // At least one element, and not stopped after `;`, `=` or inside quotes.
    matches!(state, 0 | 1 | 2 | 4 | 5 | 7 | 10)
}

/// Byte classes for [`is_valid_extension_list`]: 0 other, 1 `tchar`, 2 whitespace (as
/// `trim_ascii` sees it), 3 `,`, 4 `;`, 5 `=`, 6 `"`.
static EXT_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        #[allow(clippy::cast_possible_truncation)]
        let byte = b as u8;
        let class = match byte {
            b',' => 3,
            b';' => 4,
            b'=' => 5,
            b'"' => 6,
            b' ' | b'\t' | b'\n' | b'\x0c' | b'\r' => 2,
            _ if is_tchar(byte) => 1,
            _ => 0,
        };
        // Evaluated at compile time: `b < 256` is the table's length.
        #[allow(clippy::indexing_slicing)]
        {
            table[b] = class;
        }
        b += 1;
    }
    table
};

/// The inside of a quoted string, or the input when it is not quoted.
fn unquote(v: &[u8]) -> &[u8] {
    v.strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(v)
}

/// A string view of bytes validated as ASCII.
fn ascii_str(b: &[u8]) -> &str {
    core::str::from_utf8(b).unwrap_or_default()
}

// ---- lists exposed to the application -----------------------------------------------------

/// The subprotocols a client offered, in its order of preference (every
/// `Sec-WebSocket-Protocol` field, comma lists split).
#[derive(Clone, Debug)]
pub struct Protocols<'b> {
    items: ListItems<'b>,
}

impl<'b> Iterator for Protocols<'b> {
    type Item = &'b str;

    fn next(&mut self) -> Option<&'b str> {
        self.items.next().map(ascii_str)
    }
}

/// The extensions in a `Sec-WebSocket-Extensions` list (possibly spread over several fields),
/// in order.
#[derive(Clone, Debug)]
pub struct Extensions<'b> {
    items: ListItems<'b>,
}

impl<'b> Extensions<'b> {
    /// Parses one `Sec-WebSocket-Extensions` value, e.g. the `extensions` of [`Accepted`].
    ///
    /// ```
    /// use ws_proto::handshake::Extensions;
    /// let mut list = Extensions::parse("permessage-deflate; client_max_window_bits=\"10\"")?;
    /// let ext = list.next().unwrap();
    /// assert_eq!(ext.name, "permessage-deflate");
    /// assert_eq!(ext.params.collect::<Vec<_>>(), [("client_max_window_bits", Some("10"))]);
    /// # Ok::<(), ws_proto::handshake::HandshakeError>(())
    /// ```
    ///
    /// # Errors
    /// [`HandshakeErrorKind::InvalidHeader`] if the value does not follow RFC 6455 §9.1.
    pub fn parse(value: &'b str) -> Result<Self, HandshakeError> {
        if !is_valid_extension_list(value.as_bytes()) {
            return Err(HandshakeErrorKind::InvalidHeader(SEC_EXTENSIONS).into());
        }
        Ok(Self {
            items: ListItems::of_value(value.as_bytes()),
        })
    }
}

impl<'b> Iterator for Extensions<'b> {
    type Item = Extension<'b>;

    fn next(&mut self) -> Option<Extension<'b>> {
        let item = self.items.next()?;
        let (name, params) = split_once(item, b';');
        Some(Extension {
            name: ascii_str(name.trim_ascii()),
            params: Params { rest: params },
        })
    }
}

/// One extension of a `Sec-WebSocket-Extensions` list, with its parameters.
#[derive(Clone, Debug)]
pub struct Extension<'b> {
    /// The extension name, e.g. `permessage-deflate`.
    pub name: &'b str,
    /// Its parameters in order.
    pub params: Params<'b>,
}

/// The parameters of an [`Extension`], as `(name, value)`; a quoted value is unquoted.
#[derive(Clone, Debug)]
pub struct Params<'b> {
    rest: &'b [u8],
}

impl<'b> Iterator for Params<'b> {
    type Item = (&'b str, Option<&'b str>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (param, rest) = split_once(self.rest, b';');
            self.rest = rest;
            let param = param.trim_ascii();
            if param.is_empty() {
                continue;
            }
            let (name, value) = split_once(param, b'=');
            let value = param
                .contains(&b'=')
                .then(|| ascii_str(unquote(value.trim_ascii())));
            return Some((ascii_str(name.trim_ascii()), value));
        }
    }
}

// ---- header names -------------------------------------------------------------------------

const HOST: &str = "Host";
const ORIGIN: &str = "Origin";
const UPGRADE: &str = "Upgrade";
const CONNECTION: &str = "Connection";
const SEC_KEY: &str = "Sec-WebSocket-Key";
const SEC_ACCEPT: &str = "Sec-WebSocket-Accept";
const SEC_VERSION: &str = "Sec-WebSocket-Version";
const SEC_PROTOCOL: &str = "Sec-WebSocket-Protocol";
const SEC_EXTENSIONS: &str = "Sec-WebSocket-Extensions";
const CONTENT_LENGTH: &str = "Content-Length";
const TRANSFER_ENCODING: &str = "Transfer-Encoding";

/// Names an application may not set as extra headers: the handshake writes them itself.
const RESERVED_NAMES: &[&str] = &[
    HOST,
    UPGRADE,
    CONNECTION,
    SEC_KEY,
    SEC_ACCEPT,
    SEC_VERSION,
    SEC_PROTOCOL,
    SEC_EXTENSIONS,
    CONTENT_LENGTH,
    TRANSFER_ENCODING,
];

/// Whether extra headers from the application are safe to write and do not collide with the
/// ones the handshake writes.
fn valid_extra_headers(headers: &[(&str, &str)]) -> bool {
    headers.iter().all(|(name, value)| {
        is_token(name.as_bytes())
            && is_safe_value(value.as_bytes())
            && !RESERVED_NAMES.iter().any(|r| r.eq_ignore_ascii_case(name))
    })
}

// ---- writing ------------------------------------------------------------------------------

/// Writes into an output buffer, or only counts (for the first of two passes that make sure
/// nothing is written when the output is too small).
struct Writer<'o> {
    out: Option<&'o mut [u8]>,
    len: usize,
}

impl<'o> Writer<'o> {
    const fn counting() -> Self {
        Self { out: None, len: 0 }
    }

    fn put(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dst) = self.out.as_mut().and_then(|o| o.get_mut(self.len..end)) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }

    fn put_str(&mut self, s: &str) {
        self.put(s.as_bytes());
    }

    fn header(&mut self, name: &str, value: &str) {
        self.put_str(name);
        self.put(b": ");
        self.put_str(value);
        self.put(b"\r\n");
    }

    fn status_line(&mut self, status: u16) {
        self.put(b"HTTP/1.1 ");
        self.decimal(status.into());
        self.put(b" ");
        self.put_str(reason_phrase(status));
        self.put(b"\r\n");
    }

    fn content_length(&mut self, len: usize) {
        self.put(b"Content-Length: ");
        self.decimal(len);
        self.put(b"\r\n");
    }

    /// `n` in decimal, without `core::fmt`.
    fn decimal(&mut self, mut n: usize) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start = start.saturating_sub(1);
            if let Some(d) = digits.get_mut(start) {
                // `n % 10` is below 10.
                *d = b'0'.saturating_add(u8::try_from(n % 10).unwrap_or_default());
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.put(digits.get(start..).unwrap_or_default());
    }
}

impl fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put_str(s);
        Ok(())
    }
}

/// Runs `emit` once to size the output, then, if it fits, again to write it.
fn write_with(out: &mut [u8], emit: impl Fn(&mut Writer<'_>)) -> Result<usize, BufferTooSmall> {
    let mut count = Writer::counting();
    emit(&mut count);
    if count.len > out.len() {
        return Err(BufferTooSmall {
            required: count.len,
        });
    }
    let mut w = Writer {
        out: Some(out),
        len: 0,
    };
    emit(&mut w);
    Ok(w.len)
}

/// The reason phrase for common statuses (empty for others, which HTTP allows).
const fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use std::string::{String, ToString};
    use std::vec::Vec;

    use super::*;

    /// Deterministic pseudo-random bytes for the differential tests.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// The straightforward split-trim-check definition the one-pass validator replaced.
    fn reference_extension_list(value: &[u8]) -> bool {
        let mut any = false;
        for item in list_items(value) {
            let mut parts = item.split(|&b| b == b';');
            if !parts.next().is_some_and(|name| is_token(name.trim_ascii())) {
                return false;
            }
            for param in parts {
                let (name, val) = split_once(param, b'=');
                if !is_token(name.trim_ascii()) {
                    return false;
                }
                if param.contains(&b'=') && !is_token(unquote(val.trim_ascii())) {
                    return false;
                }
            }
            any = true;
        }
        any
    }

    #[test]
    fn extension_list_matches_reference() {
        const ALPHABET: &[u8] = b"a ;=\",@\x0c";
        let mut buf = Vec::new();
        // Every string up to 6 symbols long.
        for len in 0..=6u32 {
            for mut n in 0..ALPHABET.len().pow(len) {
                buf.clear();
                for _ in 0..len {
                    buf.push(ALPHABET[n % ALPHABET.len()]);
                    n /= ALPHABET.len();
                }
                assert_eq!(
                    is_valid_extension_list(&buf),
                    reference_extension_list(&buf),
                    "{:?}",
                    String::from_utf8_lossy(&buf)
                );
            }
        }
        // Longer ones, biased towards valid lists.
        const PIECES: &[&[u8]] = &[
            b"permessage-deflate",
            b"x",
            b" ",
            b"\t",
            b";",
            b"=",
            b"\"",
            b",",
            b"15",
            b"\"10\"",
            b"@",
            b"\r",
        ];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..100_000 {
            buf.clear();
            for _ in 0..rng.below(12) {
                buf.extend_from_slice(PIECES[rng.below(PIECES.len())]);
            }
            assert_eq!(
                is_valid_extension_list(&buf),
                reference_extension_list(&buf),
                "{:?}",
                String::from_utf8_lossy(&buf)
            );
        }
    }

    #[test]
    fn decimal_writes_digits() {
        for n in [0, 7, 10, 101, 426, 65535, usize::MAX] {
            let mut out = [0; 32];
            let mut w = Writer {
                out: Some(&mut out),
                len: 0,
            };
            w.decimal(n);
            let len = w.len;
            assert_eq!(&out[..len], n.to_string().as_bytes());
        }
    }
}
