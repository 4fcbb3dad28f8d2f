//! WebSocket over HTTP/2 (RFC 8441): sans-IO helpers around the extended CONNECT.
//!
//! The HTTP/2 library (framing, HPACK, streams, `SETTINGS_ENABLE_CONNECT_PROTOCOL`) stays the
//! caller's; these helpers only judge and produce header lists, given as `(name, value)` byte
//! pairs in wire order, pseudo-header fields first. Once the stream is accepted, the
//! WebSocket frames flow in its DATA frames: drive a [`Connection::new`](crate::Connection::new)
//! (already open) over the stream's bytes. There is no `Sec-WebSocket-Key`/`-Accept` exchange
//! over HTTP/2 (RFC 8441 §5): `:protocol` does that job.
//!
//! ```
//! use ws_proto::handshake::{Accept, h2};
//! let request: &[(&[u8], &[u8])] = &[
//!     (b":method", b"CONNECT"),
//!     (b":protocol", b"websocket"),
//!     (b":scheme", b"https"),
//!     (b":path", b"/chat?room=1"),
//!     (b":authority", b"example.com"),
//!     (b"sec-websocket-version", b"13"),
//!     (b"sec-websocket-protocol", b"chat, superchat"),
//! ];
//! let req = h2::ConnectRequest::parse(request)?;
//! assert_eq!((req.path(), req.query()), ("/chat", Some("room=1")));
//! let accept = Accept { protocol: Some("chat"), ..Accept::default() };
//! let response: Vec<_> = h2::accept(&req, &accept).unwrap().collect();
//! assert_eq!(response, [(&b":status"[..], &b"200"[..]), (b"sec-websocket-protocol", b"chat")]);
//! # Ok::<(), ws_proto::handshake::HandshakeError>(())
//! ```

use super::{
    Accept, Accepted, ClientRequest, ConnectError, Extensions, Fields, HandshakeError,
    HandshakeErrorKind, ListItems, Protocols, RESERVED_NAMES, ResponseError, Url,
    WEBSOCKET_VERSION, ascii_str, is_ascii_value, is_safe_value, is_token, is_valid_extension_list,
    is_valid_protocol_list,
};

/// The HTTP/2 setting a server sends (value 1) to allow extended CONNECT (RFC 8441 §3).
pub const SETTINGS_ENABLE_CONNECT_PROTOCOL: u16 = 0x8;

/// A header field as `(name, value)`.
pub type HeaderPair<'a> = (&'a [u8], &'a [u8]);

const PROTOCOL: &str = "sec-websocket-protocol";
const EXTENSIONS: &str = "sec-websocket-extensions";
const VERSION: &str = "sec-websocket-version";
const ORIGIN: &str = "origin";

/// Fields HTTP/2 forbids (RFC 9113 §8.2.2).
const CONNECTION_SPECIFIC: &[&str] = &[
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
];

/// A validated extended CONNECT request for WebSocket (server side), borrowing the caller's
/// header list.
#[derive(Clone, Copy, Debug)]
pub struct ConnectRequest<'a> {
    fields: &'a [HeaderPair<'a>],
    scheme: &'a str,
    target: &'a str,
    authority: &'a str,
}

/// A regular field name: a lowercase token (RFC 9113 §8.2.1 makes uppercase malformed).
fn is_h2_name(name: &[u8]) -> bool {
    is_token(name) && !name.iter().any(u8::is_ascii_uppercase)
}

impl<'a> ConnectRequest<'a> {
    /// Validates `fields` as an RFC 8441 §4 WebSocket extended CONNECT: `:method CONNECT`,
    /// `:protocol websocket`, `:scheme` (`http` or `https`), `:path` and `:authority` each
    /// exactly once and before the regular fields; lowercase regular field names, none of the
    /// connection-specific ones; `sec-websocket-version: 13`; well-formed subprotocol and
    /// extension lists.
    ///
    /// # Errors
    /// The failed rule; answer with [`error_response`].
    pub fn parse(fields: &'a [HeaderPair<'a>]) -> Result<Self, HandshakeError> {
        use HandshakeErrorKind as K;
        let mut pseudo: [Option<&'a [u8]>; 5] = [None; 5];
        const PSEUDO: [&str; 5] = [":method", ":protocol", ":scheme", ":path", ":authority"];
        let mut regular_seen = false;
        let (mut version, mut origin) = (None, None);
        for &(name, value) in fields {
            if !is_safe_value(value) {
                return Err(K::Malformed.into());
            }
            if name.starts_with(b":") {
                if regular_seen {
                    return Err(K::Malformed.into());
                }
                let idx = PSEUDO
                    .iter()
                    .position(|p| p.as_bytes() == name)
                    .ok_or(K::Malformed)?;
                let slot = pseudo.get_mut(idx).ok_or(K::Malformed)?;
                if slot.replace(value).is_some() {
                    return Err(
                        K::DuplicateHeader(PSEUDO.get(idx).copied().unwrap_or_default()).into(),
                    );
                }
                continue;
            }
            regular_seen = true;
            if !is_h2_name(name) || CONNECTION_SPECIFIC.iter().any(|c| c.as_bytes() == name) {
                return Err(K::Malformed.into());
            }
            let value = value.trim_ascii();
            if name == VERSION.as_bytes() {
                if version.replace(value).is_some() {
                    return Err(K::DuplicateHeader(super::SEC_VERSION).into());
                }
            } else if name == ORIGIN.as_bytes() {
                if origin.replace(value).is_some() {
                    return Err(K::DuplicateHeader(super::ORIGIN).into());
                }
                if !is_ascii_value(value) {
                    return Err(K::InvalidHeader(super::ORIGIN).into());
                }
            } else if name == PROTOCOL.as_bytes() {
                if !is_valid_protocol_list(value) {
                    return Err(K::InvalidHeader(super::SEC_PROTOCOL).into());
                }
            } else if name == EXTENSIONS.as_bytes() && !is_valid_extension_list(value) {
                return Err(K::InvalidHeader(super::SEC_EXTENSIONS).into());
            }
        }
        let [method, protocol, scheme, target, authority] = pseudo;
        if method != Some(b"CONNECT") {
            return Err(K::NotExtendedConnect.into());
        }
        if !protocol.is_some_and(|p| p.eq_ignore_ascii_case(b"websocket")) {
            return Err(K::NotExtendedConnect.into());
        }
        let text = |v: Option<&'a [u8]>, name: &'static str| {
            let v = v.ok_or(K::MissingPseudoHeader(name))?;
            if v.is_empty() || !v.iter().all(|&b| (0x21..0x7f).contains(&b)) {
                return Err(K::InvalidHeader(name));
            }
            Ok(ascii_str(v))
        };
        let scheme = text(scheme, ":scheme")?;
        if scheme != "https" && scheme != "http" {
            return Err(K::InvalidHeader(":scheme").into());
        }
        let target = text(target, ":path")?;
        if !target.starts_with('/') || target.contains('#') {
            return Err(K::InvalidTarget.into());
        }
        let authority = text(authority, ":authority")?;
        if version != Some(WEBSOCKET_VERSION.as_bytes()) {
            return Err(K::UnsupportedVersion.into());
        }
        Ok(Self {
            fields,
            scheme,
            target,
            authority,
        })
    }

    /// `:scheme` (`https` or `http`).
    #[must_use]
    pub const fn scheme(&self) -> &'a str {
        self.scheme
    }

    /// `:path` as sent (path and query).
    #[must_use]
    pub const fn target(&self) -> &'a str {
        self.target
    }

    /// The path part of `:path`.
    #[must_use]
    pub fn path(&self) -> &'a str {
        self.target.split_once('?').map_or(self.target, |(p, _)| p)
    }

    /// The query part of `:path`, without the `?`.
    #[must_use]
    pub fn query(&self) -> Option<&'a str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// `:authority` (the HTTP/2 counterpart of `Host`).
    #[must_use]
    pub const fn authority(&self) -> &'a str {
        self.authority
    }

    /// The `origin` field, if sent.
    #[must_use]
    pub fn origin(&self) -> Option<&'a str> {
        self.header(ORIGIN).map(|v| ascii_str(v.trim_ascii()))
    }

    /// The offered subprotocols in order of preference.
    #[must_use]
    pub fn subprotocols(&self) -> Protocols<'a> {
        Protocols {
            items: ListItems::new(Fields::Pairs(self.fields.iter()), PROTOCOL),
        }
    }

    /// The offered extensions with their parameters.
    #[must_use]
    pub fn extensions(&self) -> Extensions<'a> {
        Extensions {
            items: ListItems::new(Fields::Pairs(self.fields.iter()), EXTENSIONS),
        }
    }

    /// The value of the first field named `name` (ASCII case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|&(_, v)| v)
    }

    /// All fields, pseudo-header fields included, as given.
    #[must_use]
    pub const fn fields(&self) -> &'a [HeaderPair<'a>] {
        self.fields
    }
}

/// Whether extra fields from the application can go into an HTTP/2 header list.
fn valid_extra_h2(headers: &[(&str, &str)]) -> bool {
    headers.iter().all(|(name, value)| {
        let n = name.as_bytes();
        is_h2_name(n)
            && is_safe_value(value.as_bytes())
            && !CONNECTION_SPECIFIC.iter().any(|c| c.as_bytes() == n)
            && !RESERVED_NAMES.iter().any(|r| r.eq_ignore_ascii_case(name))
    })
}

/// The header list of the `200` response accepting `req`: `:status 200`, then the chosen
/// `sec-websocket-protocol` and `sec-websocket-extensions`, then `accept.headers` (whose names
/// must be lowercase).
///
/// # Errors
/// [`ResponseError::ProtocolNotOffered`], [`ResponseError::InvalidExtensions`],
/// [`ResponseError::InvalidHeader`], as for [`write_accept`](super::write_accept).
pub fn accept<'a>(
    req: &ConnectRequest<'_>,
    accept: &Accept<'a>,
) -> Result<ResponseFields<'a>, ResponseError> {
    if let Some(p) = accept.protocol
        && !req.subprotocols().any(|o| o == p)
    {
        return Err(ResponseError::ProtocolNotOffered);
    }
    if let Some(e) = accept.extensions {
        let Ok(mut chosen) = Extensions::parse(e) else {
            return Err(ResponseError::InvalidExtensions);
        };
        if !chosen.all(|c| {
            req.extensions()
                .any(|o| o.name.eq_ignore_ascii_case(c.name))
        }) {
            return Err(ResponseError::InvalidExtensions);
        }
    }
    if !valid_extra_h2(accept.headers) {
        return Err(ResponseError::InvalidHeader);
    }
    Ok(ResponseFields {
        accept: *accept,
        next: 0,
    })
}

/// The fields of an accepting `200` response, in order (see [`accept`]).
#[derive(Clone, Debug)]
pub struct ResponseFields<'a> {
    accept: Accept<'a>,
    next: usize,
}

impl<'a> Iterator for ResponseFields<'a> {
    type Item = HeaderPair<'a>;

    fn next(&mut self) -> Option<HeaderPair<'a>> {
        loop {
            let i = self.next;
            self.next = i.saturating_add(1);
            let field: Option<HeaderPair<'a>> = match i {
                0 => Some((b":status", b"200")),
                1 => self
                    .accept
                    .protocol
                    .map(|p| (PROTOCOL.as_bytes(), p.as_bytes())),
                2 => self
                    .accept
                    .extensions
                    .map(|e| (EXTENSIONS.as_bytes(), e.as_bytes())),
                _ => {
                    let &(n, v) = self.accept.headers.get(i.saturating_sub(3))?;
                    Some((n.as_bytes(), v.as_bytes()))
                }
            };
            if field.is_some() {
                return field;
            }
        }
    }
}

/// The header list answering a failed extended CONNECT: `:status` (400, or 431 for limits;
/// HTTP/2 has no upgrade, so a wrong version gets 400) and, for a wrong version,
/// `sec-websocket-version: 13` (RFC 6455 §4.4).
pub fn error_response(e: &HandshakeError) -> impl Iterator<Item = HeaderPair<'static>> + use<> {
    let status: &'static [u8] = if e.status_hint() == 431 {
        b"431"
    } else {
        b"400"
    };
    let version = (e.kind() == HandshakeErrorKind::UnsupportedVersion)
        .then_some((VERSION.as_bytes(), WEBSOCKET_VERSION.as_bytes()));
    core::iter::once((&b":status"[..], status)).chain(version)
}

/// The header list of the client's extended CONNECT for `req` (RFC 8441 §5): `:method`,
/// `:protocol`, `:scheme` (`https` for `wss://`, `http` for `ws://`), `:path`, `:authority`,
/// `sec-websocket-version`, then `origin`, one `sec-websocket-protocol` per offered
/// subprotocol, `sec-websocket-extensions`, and `req.headers` (lowercase names). Only sent on
/// a connection whose peer announced [`SETTINGS_ENABLE_CONNECT_PROTOCOL`].
///
/// # Errors
/// [`ConnectError::InvalidUrl`] (also for a URL with a query but no path, which has no
/// zero-copy `:path`), [`ConnectError::InvalidRequest`].
pub fn connect_request<'a>(req: &ClientRequest<'a>) -> Result<RequestFields<'a>, ConnectError> {
    let url = Url::parse(req.url)?;
    let path = url.resource(req.url).ok_or(ConnectError::InvalidUrl)?;
    req.validate_fields()?;
    if !valid_extra_h2(req.headers) {
        return Err(ConnectError::InvalidRequest);
    }
    Ok(RequestFields {
        req: *req,
        scheme: if url.is_secure() { "https" } else { "http" },
        path,
        authority: url.authority(),
        next: 0,
    })
}

/// The fields of a client's extended CONNECT, in order (see [`connect_request`]).
#[derive(Clone, Debug)]
pub struct RequestFields<'a> {
    req: ClientRequest<'a>,
    scheme: &'static str,
    path: &'a str,
    authority: &'a str,
    next: usize,
}

impl<'a> Iterator for RequestFields<'a> {
    type Item = HeaderPair<'a>;

    fn next(&mut self) -> Option<HeaderPair<'a>> {
        let fixed: [HeaderPair<'a>; 6] = [
            (b":method", b"CONNECT"),
            (b":protocol", b"websocket"),
            (b":scheme", self.scheme.as_bytes()),
            (b":path", self.path.as_bytes()),
            (b":authority", self.authority.as_bytes()),
            (VERSION.as_bytes(), WEBSOCKET_VERSION.as_bytes()),
        ];
        loop {
            let i = self.next;
            self.next = i.saturating_add(1);
            if let Some(&f) = fixed.get(i) {
                return Some(f);
            }
            let i = i.saturating_sub(fixed.len());
            let protocols = self.req.protocols.len();
            let field = if i == 0 {
                self.req.origin.map(|o| (ORIGIN.as_bytes(), o.as_bytes()))
            } else if let Some(p) = self.req.protocols.get(i.saturating_sub(1)) {
                Some((PROTOCOL.as_bytes(), p.as_bytes()))
            } else if i == protocols.saturating_add(1) {
                self.req
                    .extensions
                    .map(|e| (EXTENSIONS.as_bytes(), e.as_bytes()))
            } else {
                let &(n, v) = self
                    .req
                    .headers
                    .get(i.saturating_sub(protocols.saturating_add(2)))?;
                Some((n.as_bytes(), v.as_bytes()))
            };
            if field.is_some() {
                return field;
            }
        }
    }
}

/// What the server answered an extended CONNECT.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ConnectResponse<'a> {
    /// A 2xx, checked: the stream now carries WebSocket frames.
    Accepted(Accepted<'a>),
    /// Any other status.
    Rejected(u16),
}

/// Checks the server's response `fields` to the extended CONNECT made for `req`: a 2xx
/// `:status` whose subprotocol (if any) and extensions were offered.
///
/// # Errors
/// A missing or malformed `:status`, a subprotocol or extension that was not offered, or a
/// malformed or repeated `sec-websocket-protocol`/`sec-websocket-extensions` field.
pub fn check_response<'a>(
    req: &ClientRequest<'_>,
    fields: &'a [HeaderPair<'a>],
) -> Result<ConnectResponse<'a>, HandshakeError> {
    use HandshakeErrorKind as K;
    let mut status = None;
    let (mut protocol, mut extensions) = (None, None);
    for &(name, value) in fields {
        let slot = if name == b":status" {
            (&mut status, ":status")
        } else if name.eq_ignore_ascii_case(PROTOCOL.as_bytes()) {
            (&mut protocol, super::SEC_PROTOCOL)
        } else if name.eq_ignore_ascii_case(EXTENSIONS.as_bytes()) {
            (&mut extensions, super::SEC_EXTENSIONS)
        } else {
            continue;
        };
        if slot.0.replace(value.trim_ascii()).is_some() {
            return Err(K::DuplicateHeader(slot.1).into());
        }
    }
    let status = match status.ok_or(K::MissingPseudoHeader(":status"))? {
        &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => {
            [a, b, c].iter().fold(0u16, |n, &d| {
                n.saturating_mul(10)
                    .saturating_add(u16::from(d.saturating_sub(b'0')))
            })
        }
        _ => return Err(K::InvalidHeader(":status").into()),
    };
    if !(200..300).contains(&status) {
        return Ok(ConnectResponse::Rejected(status));
    }
    let protocol = match protocol {
        None => None,
        Some(p) if !is_token(p) => return Err(K::InvalidHeader(super::SEC_PROTOCOL).into()),
        Some(p) if !req.protocols.iter().any(|o| o.as_bytes() == p) => {
            return Err(K::ProtocolNotOffered.into());
        }
        Some(p) => Some(ascii_str(p)),
    };
    let extensions = match extensions {
        None => None,
        Some(e) => {
            let e = core::str::from_utf8(e).map_err(|_| K::InvalidHeader(super::SEC_EXTENSIONS))?;
            let offered = req.extensions.unwrap_or_default();
            for ext in Extensions::parse(e)? {
                let mut offers = Extensions {
                    items: ListItems::of_value(offered.as_bytes()),
                };
                if !offers.any(|o| o.name.eq_ignore_ascii_case(ext.name)) {
                    return Err(K::ExtensionNotOffered.into());
                }
            }
            Some(e)
        }
    };
    Ok(ConnectResponse::Accepted(Accepted {
        protocol,
        extensions,
    }))
}
