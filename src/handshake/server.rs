//! Server side of the HTTP/1.1 upgrade: parse and validate the client's request, write the
//! `101 Switching Protocols` or a rejection.

use super::{
    CONNECTION, CONTENT_LENGTH, Extensions, Fields, HOST, HandshakeError, HandshakeErrorKind,
    HeadScanner, Headers, ListItems, MAX_HEADERS, ORIGIN, Protocols, ResponseError, SEC_EXTENSIONS,
    SEC_KEY, SEC_PROTOCOL, SEC_VERSION, TRANSFER_ENCODING, UPGRADE, WEBSOCKET_VERSION, accept_key,
    ascii_str, is_ascii_field, is_valid_extension_list, is_valid_key, is_valid_protocol_list,
    list_contains, parse_error, split_once, split_start_line, valid_extra_headers, write_with,
};
use core::mem::MaybeUninit;

use crate::frame::Status;

/// Incremental parser for the client's upgrade request.
///
/// Call [`parse`](Self::parse) with everything received so far, the same buffer growing
/// between calls; nothing is consumed until it returns [`Status::Complete`]. Each byte is
/// looked at once while searching for the end of the head, and `httparse` runs once the head
/// is complete, so delivering a request one byte at a time costs linear time in total.
#[derive(Clone, Debug, Default)]
pub struct ServerHandshake {
    scanner: HeadScanner,
}

impl ServerHandshake {
    /// Parses and validates the request at the front of `input`: returns the head length and
    /// the request once the head is complete. Bytes after the head (frames the client sent
    /// without waiting) are not looked at.
    ///
    /// `max_len` bounds the head in bytes (a longer one fails with
    /// [`HandshakeErrorKind::HeadTooLarge`] as soon as `max_len` bytes without an end have
    /// arrived), `max_headers` the number of header fields (at most [`MAX_HEADERS`]).
    ///
    /// # Errors
    /// A head over the limits (431), a version other than 13 (426), anything else malformed
    /// or invalid per RFC 6455 §4.2.1 (400): see [`HandshakeError::status_hint`] and
    /// [`HandshakeError::write_response`].
    pub fn parse<'b>(
        &mut self,
        input: &'b [u8],
        max_len: usize,
        max_headers: usize,
    ) -> Result<Status<(usize, Request<'b>)>, HandshakeError> {
        let mut table = [const { MaybeUninit::uninit() }; MAX_HEADERS];
        let slots = table
            .get_mut(..max_headers.min(MAX_HEADERS))
            .unwrap_or_default();
        if self.scanner.is_fresh() {
            // A whole request in the first read (the usual case): let httparse find the end,
            // and skip the head scan when every line of what it accepted ends in CRLF. Then
            // the scan would have found the same end and no bare LF, so the outcome is the
            // same. Anything else (incomplete, an error, a bare LF) takes the scanning path,
            // which owns the errors; this attempt happens once per handshake, so delivery in
            // pieces stays linear.
            let window = input.get(..max_len).unwrap_or(input);
            let mut req = httparse::Request::new(&mut []);
            if let Ok(httparse::Status::Complete(end)) =
                req.parse_with_uninit_headers(window, slots)
                && let Some(head) = window.get(..end)
                && crlf_lines(head, req.headers)
            {
                return Ok(Status::Complete((end, validate(head, &req)?)));
            }
        }
        let Some(end) = self.scanner.find_end(input, max_len)? else {
            return Ok(Status::Partial);
        };
        let head = input.get(..end).unwrap_or_default();
        let mut req = httparse::Request::new(&mut []);
        match req.parse_with_uninit_headers(head, slots) {
            Ok(httparse::Status::Complete(n)) if n == end => {}
            Ok(_) => return Err(HandshakeErrorKind::Malformed.into()),
            Err(e) => return Err(parse_error(e)),
        }
        Ok(Status::Complete((end, validate(head, &req)?)))
    }
}

/// Records the value of a field that may appear only once.
fn once<'b>(
    seen: &mut Option<&'b [u8]>,
    value: &'b [u8],
    name: &'static str,
) -> Result<(), HandshakeError> {
    match seen.replace(value) {
        Some(_) => Err(HandshakeErrorKind::DuplicateHeader(name).into()),
        None => Ok(()),
    }
}

/// Whether every line of a head that httparse accepted ends in CRLF and none precedes the
/// request line. httparse allows LF only as a line end (values and the request line cannot
/// hold one, nor a CR without its LF), so this is `head` having no bare LF and ending at its
/// first `\r\n\r\n`, as the head scanner requires.
fn crlf_lines(head: &[u8], headers: &[httparse::Header<'_>]) -> bool {
    if !head.ends_with(b"\r\n\r\n") || matches!(head.first(), Some(b'\r' | b'\n')) {
        return false;
    }
    // The line before each field (the request line, then each field in turn) ends right
    // before its name; the last field's line and the empty line are the `\r\n\r\n`.
    let base = head.as_ptr().addr();
    headers.iter().all(|h| {
        let at = h.name.as_ptr().addr().wrapping_sub(base);
        at.checked_sub(2).and_then(|from| head.get(from..at)) == Some(b"\r\n")
    })
}

/// Checks a parsed request against RFC 6455 §4.2.1, in one pass over the header table, and
/// keeps the fields the accessors and [`write_accept`] need.
fn validate<'b>(
    head: &'b [u8],
    req: &httparse::Request<'_, 'b>,
) -> Result<Request<'b>, HandshakeError> {
    use HandshakeErrorKind as K;
    if req.method != Some("GET") {
        return Err(K::MethodNotGet.into());
    }
    if req.version != Some(1) {
        return Err(K::HttpVersion.into());
    }
    let target = req.path.unwrap_or_default();
    // Origin-form (what browsers send) only needs the fragment check of `split_target`.
    let valid = if target.starts_with('/') {
        !target.as_bytes().contains(&b'#')
    } else {
        split_target(target).is_some()
    };
    if !valid {
        return Err(K::InvalidTarget.into());
    }
    let (mut host, mut key, mut version, mut origin) = (None, None, None, None);
    let (mut upgrade, mut connection) = (false, false);
    let (mut protocols, mut extensions) = (ListField::default(), ListField::default());
    for h in req.headers.iter() {
        let (name, value) = (h.name, h.value);
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        // Dispatch on the length first: most fields are none of these.
        // httparse trims spaces and tabs around values, and allows no other whitespace in them:
        // `trim_ascii` would change nothing.
        match name.len() {
            4 if is(HOST) => {
                once(&mut host, value, HOST)?;
                if value.is_empty() || !is_ascii_field(value) || value.contains(&b' ') {
                    return Err(K::InvalidHeader(HOST).into());
                }
            }
            7 if is(UPGRADE) => upgrade |= list_contains(value, "websocket"),
            10 if is(CONNECTION) => connection |= list_contains(value, "upgrade"),
            17 if is(SEC_KEY) => once(&mut key, value, SEC_KEY)?,
            21 if is(SEC_VERSION) => once(&mut version, value, SEC_VERSION)?,
            6 if is(ORIGIN) => {
                once(&mut origin, value, ORIGIN)?;
                if !is_ascii_field(value) {
                    return Err(K::InvalidHeader(ORIGIN).into());
                }
            }
            22 if is(SEC_PROTOCOL) => {
                if !is_valid_protocol_list(value) {
                    return Err(K::InvalidHeader(SEC_PROTOCOL).into());
                }
                protocols.add(value);
            }
            24 if is(SEC_EXTENSIONS) => {
                if !is_valid_extension_list(value) {
                    return Err(K::InvalidHeader(SEC_EXTENSIONS).into());
                }
                extensions.add(value);
            }
            17 if is(TRANSFER_ENCODING) => return Err(K::UnexpectedBody.into()),
            14 if is(CONTENT_LENGTH) && value != b"0" => return Err(K::UnexpectedBody.into()),
            _ => {}
        }
    }
    let Some(host) = host else {
        return Err(K::MissingHost.into());
    };
    if !upgrade {
        return Err(K::MissingUpgrade.into());
    }
    if !connection {
        return Err(K::MissingConnectionUpgrade.into());
    }
    if version != Some(WEBSOCKET_VERSION.as_bytes()) {
        return Err(K::UnsupportedVersion.into());
    }
    match key {
        None => Err(K::MissingKey.into()),
        Some(k) if !is_valid_key(k) => Err(K::InvalidKey.into()),
        Some(key) => Ok(Request {
            head,
            key,
            host,
            origin,
            protocols,
            extensions,
        }),
    }
}

/// Splits a request target into path and query. Accepts origin-form (`/path?query`) and
/// absolute-form (`scheme://authority/path?query`, RFC 6455 §4.2.1 allows an absolute URI);
/// refuses fragments, which WebSocket URIs may not carry (RFC 6455 §3).
fn split_target(target: &str) -> Option<(&str, Option<&str>)> {
    if target.contains('#') {
        return None;
    }
    let path_and_query = if target.starts_with('/') {
        target
    } else {
        let (scheme, rest) = target.split_once("://")?;
        let known = ["http", "https", "ws", "wss"];
        if !known.iter().any(|k| k.eq_ignore_ascii_case(scheme)) {
            return None;
        }
        let start = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, pq) = rest.split_at(start);
        if authority.is_empty() {
            return None;
        }
        pq
    };
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    Some((if path.is_empty() { "/" } else { path }, query))
}

/// A list-valued field of a validated request (`Sec-WebSocket-Protocol`,
/// `Sec-WebSocket-Extensions`): its first value (empty when absent), and whether more fields
/// of the same name follow (then the list is read from the head again).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
struct ListField<'b> {
    first: &'b [u8],
    repeated: bool,
}

impl<'b> ListField<'b> {
    fn add(&mut self, value: &'b [u8]) {
        if self.first.is_empty() {
            self.first = value;
        } else {
            self.repeated = true;
        }
    }

    /// The elements of the list, from the remembered value or, when the field was repeated,
    /// from every field named `name` in `head`.
    fn items(self, head: &'b [u8], name: &'static str) -> ListItems<'b> {
        if self.repeated {
            ListItems::new(Fields::Head(Headers::of_head(head)), name)
        } else {
            ListItems::of_value(self.first)
        }
    }
}

/// A validated upgrade request, borrowing the caller's buffer.
///
/// It holds the head bytes and the fields the handshake needs (the key, `Host`, `Origin`, the
/// offered subprotocols and extensions), found while validating; other accessors re-scan the
/// head. Every accessor reads fields already validated by [`ServerHandshake::parse`].
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Request<'b> {
    head: &'b [u8],
    key: &'b [u8],
    host: &'b [u8],
    origin: Option<&'b [u8]>,
    protocols: ListField<'b>,
    extensions: ListField<'b>,
}

impl<'b> Request<'b> {
    /// The whole head, request line through the empty line.
    #[must_use]
    pub const fn head(&self) -> &'b [u8] {
        self.head
    }

    fn request_line(&self) -> &'b str {
        ascii_str(split_start_line(self.head).0)
    }

    /// The request target as sent: `/path?query` (or an absolute URI).
    #[must_use]
    pub fn target(&self) -> &'b str {
        let line = self.request_line();
        let after_method = line.split_once(' ').map_or("", |(_, r)| r);
        after_method.rsplit_once(' ').map_or("", |(t, _)| t)
    }

    /// The path of the target (`/` when an absolute URI has none).
    #[must_use]
    pub fn path(&self) -> &'b str {
        split_target(self.target()).map_or("/", |(p, _)| p)
    }

    /// The query of the target, without the `?`, if it has one.
    #[must_use]
    pub fn query(&self) -> Option<&'b str> {
        split_target(self.target()).and_then(|(_, q)| q)
    }

    /// The HTTP minor version (1 for HTTP/1.1).
    #[must_use]
    pub fn http_version(&self) -> u8 {
        match self.request_line().as_bytes().last() {
            Some(d @ b'0'..=b'9') => d.saturating_sub(b'0'),
            _ => 0,
        }
    }

    /// The `Host` field.
    #[must_use]
    pub fn host(&self) -> &'b str {
        ascii_str(self.host)
    }

    /// The `Origin` field, if sent (browsers always send it: check it against the pages that
    /// may connect, RFC 6455 §10.2).
    #[must_use]
    pub fn origin(&self) -> Option<&'b str> {
        self.origin.map(ascii_str)
    }

    /// The `Sec-WebSocket-Key` field (base64 of 16 bytes).
    #[must_use]
    pub fn key(&self) -> &'b str {
        ascii_str(self.key)
    }

    /// The `Sec-WebSocket-Accept` value that answers this request.
    #[must_use]
    pub fn accept_key(&self) -> [u8; 28] {
        accept_key(self.key)
    }

    /// The offered subprotocols, in the client's order of preference.
    #[must_use]
    pub fn subprotocols(&self) -> Protocols<'b> {
        Protocols {
            items: self.protocols.items(self.head, SEC_PROTOCOL),
        }
    }

    /// The offered extensions with their parameters, in order (e.g. Chromium's
    /// `permessage-deflate; client_max_window_bits`).
    #[must_use]
    pub fn extensions(&self) -> Extensions<'b> {
        Extensions {
            items: self.extensions.items(self.head, SEC_EXTENSIONS),
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

/// How the server accepts a request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Accept<'a> {
    /// The chosen subprotocol: one of [`Request::subprotocols`], or `None`.
    pub protocol: Option<&'a str>,
    /// The `Sec-WebSocket-Extensions` response value, e.g. what the permessage-deflate
    /// negotiation produced; each extension must be one the client offered.
    pub extensions: Option<&'a str>,
    /// Extra response header fields (e.g. `Set-Cookie`). Names the handshake writes itself are
    /// refused.
    pub headers: &'a [(&'a str, &'a str)],
}

/// The names of the extensions in a list (see [`Extensions`]).
fn extension_names<'b>(items: ListItems<'b>) -> impl Iterator<Item = &'b [u8]> {
    items.map(|item| split_once(item, b';').0.trim_ascii())
}

/// The start of every 101 response, through the name of `Sec-WebSocket-Accept`.
const ACCEPT_HEAD: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Accept: ";

/// Writes the `101 Switching Protocols` response to `req` into `out` and returns its length.
///
/// # Errors
/// [`ResponseError::BufferTooSmall`] if it does not fit; [`ResponseError::ProtocolNotOffered`],
/// [`ResponseError::InvalidExtensions`] or [`ResponseError::InvalidHeader`] if `accept` holds
/// something the client did not offer or that is unsafe to write. Nothing is written then.
pub fn write_accept(
    req: &Request<'_>,
    accept: &Accept<'_>,
    out: &mut [u8],
) -> Result<usize, ResponseError> {
    if let Some(p) = accept.protocol
        && !req
            .protocols
            .items(req.head, SEC_PROTOCOL)
            .any(|o| o == p.as_bytes())
    {
        return Err(ResponseError::ProtocolNotOffered);
    }
    if let Some(e) = accept.extensions {
        // As `Extensions::parse(e)` and comparing the names of [`Extension`]s, on bytes.
        if !is_valid_extension_list(e.as_bytes()) {
            return Err(ResponseError::InvalidExtensions);
        }
        let offered = req.extensions.items(req.head, SEC_EXTENSIONS);
        if !extension_names(ListItems::of_value(e.as_bytes()))
            .all(|c| extension_names(offered.clone()).any(|o| o.eq_ignore_ascii_case(c)))
        {
            return Err(ResponseError::InvalidExtensions);
        }
    }
    if !valid_extra_headers(accept.headers) {
        return Err(ResponseError::InvalidHeader);
    }
    let key = req.accept_key();
    Ok(write_with(out, |w| {
        // Status line, `Upgrade`, `Connection` and the start of `Sec-WebSocket-Accept`.
        w.put(ACCEPT_HEAD);
        w.put(&key);
        w.put(b"\r\n");
        if let Some(p) = accept.protocol {
            w.header(SEC_PROTOCOL, p);
        }
        if let Some(e) = accept.extensions {
            w.header(SEC_EXTENSIONS, e);
        }
        for (name, value) in accept.headers {
            w.header(name, value);
        }
        w.put(b"\r\n");
    })?)
}

/// Writes a response that refuses the upgrade: `status` (200..=599, e.g. 401, 403, 404),
/// `headers`, `Connection: close`, a `Content-Length` and `body`. Returns its length.
///
/// # Errors
/// [`ResponseError::BufferTooSmall`] if it does not fit, [`ResponseError::InvalidStatus`] or
/// [`ResponseError::InvalidHeader`] for a status or header that cannot be written. Nothing is
/// written then.
pub fn write_reject(
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    out: &mut [u8],
) -> Result<usize, ResponseError> {
    if !(200..=599).contains(&status) {
        return Err(ResponseError::InvalidStatus(status));
    }
    if !valid_extra_headers(headers) {
        return Err(ResponseError::InvalidHeader);
    }
    Ok(write_with(out, |w| {
        w.status_line(status);
        for (name, value) in headers {
            w.header(name, value);
        }
        w.header(CONNECTION, "close");
        w.content_length(body.len());
        w.put(b"\r\n");
        w.put(body);
    })?)
}

#[cfg(test)]
mod tests {
    use std::string::String;
    use std::vec::Vec;

    use super::*;

    /// A whole request parsed in one call (httparse first) gives what the scanning path gives
    /// (forced by a first call that saw one byte), for heads with every kind of line end.
    #[test]
    fn fast_path_matches_scanning_path() {
        const LINES: &[&[u8]] = &[
            b"GET /chat HTTP/1.1",
            b"GET /chat HTTP/1.0",
            b"Host: a.example",
            b"Host: b",
            b"Upgrade: websocket",
            b"Connection: Upgrade",
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            b"Sec-WebSocket-Version: 13",
            b"Sec-WebSocket-Protocol: chat, superchat",
            b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
            b"Origin: http://a.example",
            b"X: y\rz",
            b"Bad Header: 1",
            b" folded",
            b"",
        ];
        // Mostly CRLF, sometimes a bare LF, a lone CR or nothing.
        const ENDS: &[&[u8]] = &[
            b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n",
            b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n",
            b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\r\n", b"\n",
            b"\r", b"",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut input = Vec::new();
        let (mut complete, mut malformed, mut other) = (0, 0, 0);
        for _ in 0..60_000 {
            input.clear();
            if next(8) == 0 {
                input.extend_from_slice([&b"\r\n"[..], b"\n"][next(2)]);
            }
            input.extend_from_slice(LINES[next(2)]);
            input.extend_from_slice(ENDS[next(ENDS.len())]);
            let mut fields = [2, 4, 5, 6, 7];
            for f in &mut fields {
                if next(10) == 0 {
                    *f = next(LINES.len());
                }
            }
            for _ in 0..next(3) {
                fields[next(fields.len())] = next(LINES.len());
            }
            for &f in &fields {
                input.extend_from_slice(LINES[f]);
                input.extend_from_slice(ENDS[next(ENDS.len())]);
            }
            input.extend_from_slice(ENDS[next(ENDS.len())]);
            if next(2) == 0 {
                input.extend_from_slice(b"\x81\x05hello\r\n\r\n");
            }
            let max_len = if next(4) == 0 {
                next(input.len() + 1)
            } else {
                8192
            };
            let max_headers = if next(8) == 0 { next(6) } else { 64 };

            let whole = ServerHandshake::default().parse(&input, max_len, max_headers);
            let mut hs = ServerHandshake::default();
            let scanned = match hs.parse(&input[..1], max_len, max_headers) {
                Ok(Status::Partial) => hs.parse(&input, max_len, max_headers),
                other => other,
            };
            assert!(!hs.scanner.is_fresh() || !matches!(scanned, Ok(Status::Complete(_))));
            assert_eq!(whole, scanned, "{:?}", String::from_utf8_lossy(&input));
            match whole {
                Ok(Status::Complete(_)) => complete += 1,
                Err(e) if e.kind() == HandshakeErrorKind::Malformed => malformed += 1,
                _ => other += 1,
            }
        }
        std::println!("complete {complete}, malformed {malformed}, other {other}");
        assert!(complete > 1000 && malformed > 1000 && other > 1000);
    }
}
