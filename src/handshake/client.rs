//! Client side of the HTTP/1.1 upgrade: write the request for a `ws://` or `wss://` URL, then
//! check the server's response.

use core::fmt;

use super::{
    CONNECTION, Extensions, HOST, HandshakeError, HandshakeErrorKind, HeadScanner, Headers,
    ListItems, MAX_HEADERS, ORIGIN, SEC_ACCEPT, SEC_EXTENSIONS, SEC_KEY, SEC_PROTOCOL, SEC_VERSION,
    UPGRADE, WEBSOCKET_VERSION, accept_key, ascii_str, is_safe_value, is_token,
    is_valid_extension_list, list_contains, list_items, parse_error, split_once, split_start_line,
    valid_extra_headers, write_with,
};
use crate::error::{ApiMisuse, BufferTooSmall};
use crate::frame::Status;

/// Room for the offered subprotocols and extension names, comma-joined, kept to check the
/// answer. Small on purpose: it lives in every `Connection`.
const OFFERS_CAP: usize = 104;

/// A parsed `ws://` or `wss://` URL (RFC 6455 §3). Userinfo and fragments are refused; the
/// path and query must already be percent-encoded ASCII.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Url<'a> {
    secure: bool,
    authority: &'a str,
    host: &'a str,
    port: u16,
    path: &'a str,
    query: Option<&'a str>,
}

impl<'a> Url<'a> {
    /// Parses `url`.
    ///
    /// ```
    /// use ws_proto::handshake::Url;
    /// let url = Url::parse("wss://[::1]:8443/chat?room=1")?;
    /// assert_eq!((url.is_secure(), url.host(), url.port()), (true, "::1", 8443));
    /// assert_eq!((url.path(), url.query()), ("/chat", Some("room=1")));
    /// # Ok::<(), ws_proto::handshake::ConnectError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConnectError::InvalidUrl`] for another scheme, a missing or invalid host, an invalid
    /// port, userinfo, a fragment, or non-ASCII characters.
    pub fn parse(url: &'a str) -> Result<Self, ConnectError> {
        let bad = ConnectError::InvalidUrl;
        let (scheme, rest) = url.split_once("://").ok_or(bad)?;
        let secure = if scheme.eq_ignore_ascii_case("wss") {
            true
        } else if scheme.eq_ignore_ascii_case("ws") {
            false
        } else {
            return Err(bad);
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(end);
        if resource.contains('#') || !resource.bytes().all(|b| (0x21..0x7f).contains(&b)) {
            return Err(bad);
        }
        let (path, query) = match resource.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (resource, None),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (addr, after) = v6.split_once(']').ok_or(bad)?;
            let ok = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
            if addr.is_empty() || !addr.bytes().all(ok) {
                return Err(bad);
            }
            let host = authority.get(..addr.len().saturating_add(2)).ok_or(bad)?;
            (host, after)
        } else {
            let (host, port) = authority.split_at(authority.find(':').unwrap_or(authority.len()));
            let ok = |b: u8| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b);
            if host.is_empty() || !host.bytes().all(ok) {
                return Err(bad);
            }
            (host, port)
        };
        let default_port = if secure { 443 } else { 80 };
        let port = match port.strip_prefix(':') {
            None if port.is_empty() => default_port,
            None => return Err(bad),
            Some("") => default_port,
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u16>().ok().filter(|&p| p != 0).ok_or(bad)?
            }
            Some(_) => return Err(bad),
        };
        Ok(Self {
            secure,
            authority,
            host,
            port,
            path,
            query,
        })
    }

    /// `wss://`: the connection runs over TLS.
    #[must_use]
    pub const fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host to connect to (an IPv6 address without its brackets).
    #[must_use]
    pub fn host(&self) -> &'a str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(self.host)
    }

    /// The port, explicit or the scheme's default (80, 443).
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// The authority as written in the URL (`host[:port]`), e.g. for HTTP/2 `:authority`.
    #[must_use]
    pub const fn authority(&self) -> &'a str {
        self.authority
    }

    /// The path (`/` when the URL has none).
    #[must_use]
    pub fn path(&self) -> &'a str {
        if self.path.is_empty() { "/" } else { self.path }
    }

    /// The query without its `?`, if any.
    #[must_use]
    pub const fn query(&self) -> Option<&'a str> {
        self.query
    }

    /// Path and query as one slice of the URL, when the URL has a path (HTTP/2 `:path`).
    pub(super) fn resource(&self, url: &'a str) -> Option<&'a str> {
        if self.path.is_empty() {
            return self.query.is_none().then_some("/");
        }
        let start = url.len().checked_sub(
            self.path
                .len()
                .saturating_add(self.query.map_or(0, |q| q.len().saturating_add(1))),
        )?;
        url.get(start..)
    }

    fn write_target(&self, w: &mut super::Writer<'_>) {
        w.put_str(self.path());
        if let Some(q) = self.query {
            w.put(b"?");
            w.put_str(q);
        }
    }

    fn write_host(&self, w: &mut super::Writer<'_>) {
        w.put_str(HOST);
        w.put(b": ");
        w.put_str(self.host);
        // RFC 6455 §4.1: the port only when it is not the scheme's default.
        if self.port != if self.secure { 443 } else { 80 } {
            let _ = fmt::Write::write_fmt(w, format_args!(":{}", self.port));
        }
        w.put(b"\r\n");
    }
}

/// What a client asks for in its upgrade request.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientRequest<'a> {
    /// The `ws://` or `wss://` URL.
    pub url: &'a str,
    /// The `Origin` to send (browsers send the page's origin; other clients may omit it).
    pub origin: Option<&'a str>,
    /// Subprotocols to offer, most preferred first (tokens).
    pub protocols: &'a [&'a str],
    /// The `Sec-WebSocket-Extensions` offer, e.g.
    /// `permessage-deflate; client_max_window_bits`.
    pub extensions: Option<&'a str>,
    /// Extra request header fields (e.g. `Authorization`, `Cookie`). Names the handshake
    /// writes itself are refused.
    pub headers: &'a [(&'a str, &'a str)],
}

impl ClientRequest<'_> {
    /// Checks everything but the URL; shared with the HTTP/2 helpers.
    pub(super) fn validate_fields(&self) -> Result<(), ConnectError> {
        let bad = ConnectError::InvalidRequest;
        if self
            .origin
            .is_some_and(|o| o.is_empty() || !is_safe_value(o.as_bytes()))
        {
            return Err(bad);
        }
        if !self.protocols.iter().all(|p| is_token(p.as_bytes())) {
            return Err(bad);
        }
        if self
            .extensions
            .is_some_and(|e| !is_valid_extension_list(e.as_bytes()))
        {
            return Err(bad);
        }
        if !valid_extra_headers(self.headers) {
            return Err(bad);
        }
        Ok(())
    }
}

/// Why a client request could not be written. Nothing was written.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum ConnectError {
    /// The output buffer is too small.
    BufferTooSmall(BufferTooSmall),
    /// The connection is not a fresh client.
    Misuse(ApiMisuse),
    /// The URL is not a valid `ws://` or `wss://` URL.
    InvalidUrl,
    /// An origin, subprotocol, extension offer or extra header is invalid or reserved.
    InvalidRequest,
    /// The offered subprotocols and extension names, comma-joined, take more than 103 bytes:
    /// more than the bounded state kept to check the response.
    OfferTooLong,
}

impl From<BufferTooSmall> for ConnectError {
    fn from(e: BufferTooSmall) -> Self {
        Self::BufferTooSmall(e)
    }
}

impl From<ApiMisuse> for ConnectError {
    fn from(e: ApiMisuse) -> Self {
        Self::Misuse(e)
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall(e) => e.fmt(f),
            Self::Misuse(e) => e.fmt(f),
            Self::InvalidUrl => f.write_str("not a valid ws:// or wss:// URL"),
            Self::InvalidRequest => f.write_str("invalid or reserved request header"),
            Self::OfferTooLong => f.write_str("too many subprotocols or extensions offered"),
        }
    }
}

impl core::error::Error for ConnectError {}

/// The client's side of the handshake: it wrote the request and keeps (bounded, without
/// allocation) what the response is checked against.
#[derive(Clone, Debug)]
pub struct ClientHandshake {
    scanner: HeadScanner,
    /// The key's 16 bytes: the expected accept value is derived when the response arrives.
    nonce: [u8; 16],
    /// Offered subprotocols, comma-joined, then `\n`, then the offered extension names,
    /// comma-joined.
    offers: heapless::Vec<u8, OFFERS_CAP, u8>,
}

/// What the server answered.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ServerResponse<'b> {
    /// `101 Switching Protocols`, checked: the connection is open.
    Accepted(Accepted<'b>),
    /// Any other status (redirect, 401, 403...), for the application to act on.
    Rejected(Response<'b>),
}

/// What a completed handshake negotiated.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Accepted<'b> {
    /// The subprotocol, if one was chosen.
    pub protocol: Option<&'b str>,
    /// The `Sec-WebSocket-Extensions` value of the response, if any (already checked to be
    /// well-formed and to name only offered extensions).
    pub extensions: Option<&'b str>,
}

impl<'b> Accepted<'b> {
    /// The negotiated extensions with their parameters.
    #[must_use]
    pub fn extension_list(&self) -> Extensions<'b> {
        Extensions {
            items: ListItems::of_value(self.extensions.unwrap_or_default().as_bytes()),
        }
    }
}

impl ClientHandshake {
    /// Writes the upgrade request for `req` into `out`, with the key made from `nonce` (16
    /// unpredictable bytes, RFC 6455 §4.1), and returns the handshake state and the request
    /// length.
    ///
    /// # Errors
    /// [`ConnectError::InvalidUrl`], [`ConnectError::InvalidRequest`],
    /// [`ConnectError::OfferTooLong`], or [`ConnectError::BufferTooSmall`]; nothing is
    /// written then.
    pub fn new(
        req: &ClientRequest<'_>,
        nonce: [u8; 16],
        out: &mut [u8],
    ) -> Result<(Self, usize), ConnectError> {
        use base64ct::Encoding as _;
        let url = Url::parse(req.url)?;
        req.validate_fields()?;
        let mut offers = heapless::Vec::new();
        let mut push = |sep: &[u8], item: &str| {
            offers
                .extend_from_slice(sep)
                .and_then(|()| offers.extend_from_slice(item.as_bytes()))
                .map_err(|_| ConnectError::OfferTooLong)
        };
        for (i, p) in req.protocols.iter().enumerate() {
            push(if i == 0 { b"" } else { b"," }, p)?;
        }
        push(b"\n", "")?;
        if let Some(e) = req.extensions {
            let list = Extensions::parse(e).map_err(|_| ConnectError::InvalidRequest)?;
            for (i, ext) in list.enumerate() {
                push(if i == 0 { b"" } else { b"," }, ext.name)?;
            }
        }
        let mut key = [0; 24];
        // 16 bytes always encode to 24 characters.
        let key = base64ct::Base64::encode(&nonce, &mut key).unwrap_or_default();
        let len = write_with(out, |w| {
            w.put(b"GET ");
            url.write_target(w);
            w.put(b" HTTP/1.1\r\n");
            url.write_host(w);
            w.header(UPGRADE, "websocket");
            w.header(CONNECTION, "Upgrade");
            w.header(SEC_KEY, key);
            w.header(SEC_VERSION, WEBSOCKET_VERSION);
            if let Some(o) = req.origin {
                w.header(ORIGIN, o);
            }
            if let Some((first, rest)) = req.protocols.split_first() {
                w.put_str(SEC_PROTOCOL);
                w.put(b": ");
                w.put_str(first);
                for p in rest {
                    w.put(b", ");
                    w.put_str(p);
                }
                w.put(b"\r\n");
            }
            if let Some(e) = req.extensions {
                w.header(SEC_EXTENSIONS, e);
            }
            for (name, value) in req.headers {
                w.header(name, value);
            }
            w.put(b"\r\n");
        })?;
        let hs = Self {
            scanner: HeadScanner::default(),
            nonce,
            offers,
        };
        Ok((hs, len))
    }

    /// The `Sec-WebSocket-Accept` value the server must answer with.
    #[must_use]
    pub fn expected_accept(&self) -> [u8; 28] {
        use base64ct::Encoding as _;
        let mut key = [0; 24];
        let key = base64ct::Base64::encode(&self.nonce, &mut key).unwrap_or_default();
        accept_key(key.as_bytes())
    }

    /// Parses the server's response from the front of `input` (the same buffer growing between
    /// calls; linear in total like [`ServerHandshake::parse`](super::ServerHandshake::parse)).
    /// Returns the head length: bytes after it belong to the frame layer.
    ///
    /// # Errors
    /// A head over the limits, malformed HTTP, or a 101 that fails RFC 6455 §4.1's checks
    /// (`Upgrade`, `Connection`, `Sec-WebSocket-Accept`, subprotocol and extensions offered).
    pub fn parse<'b>(
        &mut self,
        input: &'b [u8],
        max_len: usize,
        max_headers: usize,
    ) -> Result<Status<(usize, ServerResponse<'b>)>, HandshakeError> {
        let Some(end) = self.scanner.find_end(input, max_len)? else {
            return Ok(Status::Partial);
        };
        let head = input.get(..end).unwrap_or_default();
        let mut table = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let slots = table
            .get_mut(..max_headers.min(MAX_HEADERS))
            .unwrap_or_default();
        let mut resp = httparse::Response::new(slots);
        match resp.parse(head) {
            Ok(httparse::Status::Complete(n)) if n == end => {}
            Ok(_) => return Err(HandshakeErrorKind::Malformed.into()),
            Err(e) => return Err(parse_error(e)),
        }
        let status = resp.code.unwrap_or_default();
        if status != 101 {
            return Ok(Status::Complete((
                end,
                ServerResponse::Rejected(Response { head, status }),
            )));
        }
        let accepted = self.check_101(&resp)?;
        Ok(Status::Complete((end, ServerResponse::Accepted(accepted))))
    }

    fn check_101<'b>(
        &self,
        resp: &httparse::Response<'_, 'b>,
    ) -> Result<Accepted<'b>, HandshakeError> {
        use HandshakeErrorKind as K;
        if resp.version != Some(1) {
            return Err(K::HttpVersion.into());
        }
        let (mut upgrade, mut connection) = (false, false);
        let (mut accept, mut protocol, mut extensions) = (None, None, None);
        for h in resp.headers.iter() {
            let (name, value) = (h.name, h.value.trim_ascii());
            let is = |n: &str| name.eq_ignore_ascii_case(n);
            if is(UPGRADE) {
                upgrade |= list_contains(value, "websocket");
            } else if is(CONNECTION) {
                connection |= list_contains(value, "upgrade");
            } else if is(SEC_ACCEPT) {
                if accept.replace(value).is_some() {
                    return Err(K::DuplicateHeader(SEC_ACCEPT).into());
                }
            } else if is(SEC_PROTOCOL) {
                if protocol.replace(value).is_some() {
                    return Err(K::DuplicateHeader(SEC_PROTOCOL).into());
                }
            } else if is(SEC_EXTENSIONS) {
                // One field only: `Accepted::extensions` is a view of a single value.
                if extensions.replace(value).is_some() {
                    return Err(K::DuplicateHeader(SEC_EXTENSIONS).into());
                }
            }
        }
        if !upgrade {
            return Err(K::MissingUpgrade.into());
        }
        if !connection {
            return Err(K::MissingConnectionUpgrade.into());
        }
        match accept {
            None => return Err(K::MissingAccept.into()),
            Some(a) if a != self.expected_accept() => return Err(K::AcceptMismatch.into()),
            Some(_) => {}
        }
        let protocol = match protocol {
            None => None,
            Some(p) if !is_token(p) => return Err(K::InvalidHeader(SEC_PROTOCOL).into()),
            Some(p) if !self.offered_protocol(p) => return Err(K::ProtocolNotOffered.into()),
            Some(p) => Some(ascii_str(p)),
        };
        let extensions = match extensions {
            None => None,
            Some(e) => {
                let e = core::str::from_utf8(e).map_err(|_| K::InvalidHeader(SEC_EXTENSIONS))?;
                for ext in Extensions::parse(e)? {
                    if !self.offered_extension(ext.name) {
                        return Err(K::ExtensionNotOffered.into());
                    }
                }
                Some(e)
            }
        };
        Ok(Accepted {
            protocol,
            extensions,
        })
    }

    fn offered_protocol(&self, p: &[u8]) -> bool {
        let protocols = split_once(&self.offers, b'\n').0;
        // Subprotocol names are compared exactly (RFC 6455 §11.5: case-sensitive).
        list_items(protocols).any(|o| o == p)
    }

    fn offered_extension(&self, name: &str) -> bool {
        let extensions = split_once(&self.offers, b'\n').1;
        list_items(extensions).any(|o| o.eq_ignore_ascii_case(name.as_bytes()))
    }
}

/// A response other than 101 (client side), borrowing the caller's buffer: redirects,
/// authentication challenges, refusals. Bytes after the head (a body) are left in the buffer.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Response<'b> {
    head: &'b [u8],
    status: u16,
}

impl<'b> Response<'b> {
    /// The whole head, status line through the empty line.
    #[must_use]
    pub const fn head(&self) -> &'b [u8] {
        self.head
    }

    /// The status code, e.g. 302, 401, 403.
    #[must_use]
    pub const fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase (may be empty).
    #[must_use]
    pub fn reason(&self) -> &'b str {
        let line = split_start_line(self.head).0;
        // "HTTP/1.1 SP 3DIGIT SP reason"
        let (_, after_version) = split_once(line, b' ');
        let (_, reason) = split_once(after_version, b' ');
        core::str::from_utf8(reason).unwrap_or_default()
    }

    /// The HTTP minor version.
    #[must_use]
    pub fn http_version(&self) -> u8 {
        match split_start_line(self.head).0.get(7) {
            Some(d @ b'0'..=b'9') => d.saturating_sub(b'0'),
            _ => 0,
        }
    }

    /// The value of the first header field named `name` (ASCII case-insensitive), trimmed.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        Headers::of_head(self.head).find(name)
    }

    /// All header fields in order, as `(name, value)`.
    #[must_use]
    pub fn headers(&self) -> Headers<'b> {
        Headers::of_head(self.head)
    }
}
