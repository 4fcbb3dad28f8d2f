//! `Sec-WebSocket-Extensions` parsing and the permessage-deflate negotiation rules
//! (RFC 6455 §9.1 grammar, RFC 7692 §7.1 parameters).
//!
//! ```text
//! extension-list  = 1#extension
//! extension       = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```

use core::fmt;

use super::{DeflateConfig, DeflateParams, EXTENSION_NAME};

/// Why a server's permessage-deflate response is unacceptable to the client that offered it
/// (RFC 7692 §7.1: the client must then fail the connection).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum InvalidResponse {
    /// The header does not follow the extension-list grammar.
    Syntax,
    /// permessage-deflate appears more than once.
    Repeated,
    /// A parameter this extension does not define.
    UnknownParameter,
    /// A parameter appears twice.
    DuplicateParameter,
    /// A parameter value is missing, present where none is allowed, or out of range.
    InvalidValue,
    /// `client_max_window_bits` without our offering it, or `server_max_window_bits` missing
    /// or larger than we asked for, or `server_no_context_takeover` missing though we asked.
    NotOffered,
}

impl fmt::Display for InvalidResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Syntax => "malformed Sec-WebSocket-Extensions header",
            Self::Repeated => "permessage-deflate negotiated twice",
            Self::UnknownParameter => "unknown permessage-deflate parameter",
            Self::DuplicateParameter => "duplicate permessage-deflate parameter",
            Self::InvalidValue => "invalid permessage-deflate parameter value",
            Self::NotOffered => "permessage-deflate response does not match the offer",
        })
    }
}

impl core::error::Error for InvalidResponse {}

/// A parameter value as written: a token, or the inside of a quoted-string (escapes kept).
#[derive(Clone, Copy, Debug)]
enum Value<'a> {
    Token(&'a [u8]),
    Quoted(&'a [u8]),
}

impl Value<'_> {
    /// The value as window bits: a decimal 8..=15 without leading zeros (RFC 7692 §7.1.2.1).
    /// A quoted-string is unescaped first (RFC 7692 §7.1: the unescaped value must conform).
    fn window_bits(self) -> Option<u8> {
        let mut digits = [0u8; 2];
        let mut n = 0usize;
        let mut push = |b: u8| -> Option<()> {
            *digits.get_mut(n)? = b;
            n = n.checked_add(1)?;
            Some(())
        };
        match self {
            Self::Token(t) => t.iter().try_for_each(|&b| push(b))?,
            Self::Quoted(q) => {
                let mut escaped = false;
                for &b in q {
                    if b == b'\\' && !escaped {
                        escaped = true;
                    } else {
                        escaped = false;
                        push(b)?;
                    }
                }
            }
        }
        match digits.get(..n)? {
            [d @ b'8'..=b'9'] => Some(d.wrapping_sub(b'0')),
            [b'1', d @ b'0'..=b'5'] => Some(d.wrapping_sub(b'0').wrapping_add(10)),
            _ => None,
        }
    }
}

/// A byte cursor over one header value.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

/// RFC 7230 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.bump();
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn token(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.bump();
        }
        self.s.get(start..self.pos).filter(|t| !t.is_empty())
    }

    /// A quoted-string (the opening quote not yet consumed); returns its inside.
    fn quoted(&mut self) -> Option<&'a [u8]> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.pos;
        loop {
            match self.peek()? {
                b'"' => {
                    let inside = self.s.get(start..self.pos)?;
                    self.bump();
                    return Some(inside);
                }
                b'\\' => {
                    self.bump();
                    self.peek()?;
                    self.bump();
                }
                b'\t' | b' '..=b'~' | 0x80.. => self.bump(),
                _ => return None,
            }
        }
    }
}

/// The permessage-deflate parameters of one offer or response, as written.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub(crate) struct RawParams {
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    /// `server_max_window_bits=N`.
    pub(crate) server_max_window_bits: Option<u8>,
    /// `client_max_window_bits`: `Some(None)` without a value, `Some(Some(n))` with one.
    pub(crate) client_max_window_bits: Option<Option<u8>>,
}

/// One element of an extension list: its name and, for permessage-deflate, its parameters or
/// why they are invalid.
pub(crate) struct Element<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) params: Result<RawParams, InvalidResponse>,
}

impl Element<'_> {
    pub(crate) fn is_permessage_deflate(&self) -> bool {
        self.name.eq_ignore_ascii_case(EXTENSION_NAME.as_bytes())
    }
}

/// Iterates over the elements of one `Sec-WebSocket-Extensions` value. Yields `Err` once on a
/// syntax error and stops: what follows cannot be trusted.
pub(crate) struct Elements<'a> {
    cur: Cursor<'a>,
    done: bool,
}

pub(crate) fn elements(value: &str) -> Elements<'_> {
    Elements {
        cur: Cursor {
            s: value.as_bytes(),
            pos: 0,
        },
        done: false,
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Element<'a>, InvalidResponse>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let c = &mut self.cur;
        // RFC 7230 §7: empty list elements are allowed and ignored.
        loop {
            c.skip_ows();
            if !c.eat(b',') {
                break;
            }
        }
        if c.peek().is_none() {
            self.done = true;
            return None;
        }
        let element = parse_element(c);
        if element.is_err() {
            self.done = true;
        }
        Some(element)
    }
}

fn parse_element<'a>(c: &mut Cursor<'a>) -> Result<Element<'a>, InvalidResponse> {
    let name = c.token().ok_or(InvalidResponse::Syntax)?;
    let deflate = name.eq_ignore_ascii_case(EXTENSION_NAME.as_bytes());
    let mut params = Ok(RawParams::default());
    loop {
        c.skip_ows();
        match c.peek() {
            None => break,
            Some(b',') => {
                c.bump();
                break;
            }
            Some(b';') => c.bump(),
            Some(_) => return Err(InvalidResponse::Syntax),
        }
        c.skip_ows();
        let param = c.token().ok_or(InvalidResponse::Syntax)?;
        c.skip_ows();
        let value = if c.eat(b'=') {
            c.skip_ows();
            Some(match c.peek() {
                Some(b'"') => Value::Quoted(c.quoted().ok_or(InvalidResponse::Syntax)?),
                _ => Value::Token(c.token().ok_or(InvalidResponse::Syntax)?),
            })
        } else {
            None
        };
        if deflate {
            if let Ok(p) = &mut params {
                if let Err(e) = apply_param(p, param, value) {
                    params = Err(e);
                }
            }
        }
    }
    Ok(Element { name, params })
}

fn apply_param(
    p: &mut RawParams,
    name: &[u8],
    value: Option<Value<'_>>,
) -> Result<(), InvalidResponse> {
    let flag = |slot: &mut bool| {
        if *slot {
            return Err(InvalidResponse::DuplicateParameter);
        }
        if value.is_some() {
            return Err(InvalidResponse::InvalidValue);
        }
        *slot = true;
        Ok(())
    };
    let bits = || {
        value
            .and_then(Value::window_bits)
            .ok_or(InvalidResponse::InvalidValue)
    };
    if name.eq_ignore_ascii_case(b"server_no_context_takeover") {
        flag(&mut p.server_no_context_takeover)
    } else if name.eq_ignore_ascii_case(b"client_no_context_takeover") {
        flag(&mut p.client_no_context_takeover)
    } else if name.eq_ignore_ascii_case(b"server_max_window_bits") {
        if p.server_max_window_bits.is_some() {
            return Err(InvalidResponse::DuplicateParameter);
        }
        p.server_max_window_bits = Some(bits()?);
        Ok(())
    } else if name.eq_ignore_ascii_case(b"client_max_window_bits") {
        if p.client_max_window_bits.is_some() {
            return Err(InvalidResponse::DuplicateParameter);
        }
        p.client_max_window_bits = Some(match value {
            None => None,
            Some(_) => Some(bits()?),
        });
        Ok(())
    } else {
        Err(InvalidResponse::UnknownParameter)
    }
}

/// Server side: picks the first permessage-deflate offer that is valid and acceptable under
/// `config`, in the client's order of preference, and returns the parameters to answer with.
///
/// `offers` are the `Sec-WebSocket-Extensions` header values of the request (one per header
/// line; each may list several extensions). Offers with unknown, duplicated or invalid
/// parameters are declined (RFC 7692 §5), and so is everything after a syntax error. `None`
/// means: answer without permessage-deflate.
///
/// Write the result with [`DeflateParams::header_value`] into
/// [`Accept::extensions`](crate::handshake::Accept); `accept` then turns compression on.
pub fn negotiate<'a, I>(offers: I, config: &DeflateConfig) -> Option<DeflateParams>
where
    I: IntoIterator<Item = &'a str>,
{
    offers
        .into_iter()
        .flat_map(elements)
        .map_while(Result::ok)
        .filter(Element::is_permessage_deflate)
        .find_map(|e| accept_offer(e.params.ok()?, config))
}

/// The response to one valid offer (RFC 7692 §7.1), or `None` to decline it.
fn accept_offer(offer: RawParams, config: &DeflateConfig) -> Option<DeflateParams> {
    let own_bits = config.server_max_window_bits.clamp(8, 15);
    // §7.1.2.1: accept an offered server_max_window_bits by answering the same or less; we
    // may also limit ourselves unasked.
    let server_max_window_bits = match offer.server_max_window_bits {
        Some(n) => Some(n.min(own_bits)),
        None if own_bits < 15 => Some(own_bits),
        None => None,
    };
    // §7.1.2.2: only when offered; a bare offer lets us pick.
    let peer_bits = config.client_max_window_bits.clamp(8, 15);
    let client_max_window_bits = match offer.client_max_window_bits {
        Some(Some(n)) if peer_bits < n => Some(peer_bits),
        Some(None) if peer_bits < 15 => Some(peer_bits),
        _ => None,
    };
    Some(DeflateParams {
        server_no_context_takeover: offer.server_no_context_takeover
            || config.server_no_context_takeover,
        client_no_context_takeover: config.client_no_context_takeover,
        server_max_window_bits,
        client_max_window_bits,
    })
}

/// Client side: checks a server's `Sec-WebSocket-Extensions` value against the offer
/// [`DeflateConfig::offer`] made, and returns what was agreed (`None`: the server did not
/// accept permessage-deflate).
///
/// # Errors
/// [`InvalidResponse`] when the value is malformed or does not answer the offer: the client
/// must fail the connection (RFC 7692 §7.1).
pub fn parse_response(
    value: &str,
    offered: &DeflateConfig,
) -> Result<Option<DeflateParams>, InvalidResponse> {
    let mut agreed = None;
    for element in elements(value) {
        let element = element?;
        if !element.is_permessage_deflate() {
            continue; // other extensions are the handshake's business
        }
        if agreed.is_some() {
            return Err(InvalidResponse::Repeated);
        }
        agreed = Some(check_response(element.params?, offered)?);
    }
    Ok(agreed)
}

fn check_response(r: RawParams, offered: &DeflateConfig) -> Result<DeflateParams, InvalidResponse> {
    // §7.1.2.2: a response carries client_max_window_bits only with a value, and only when
    // offered; we always offer it.
    let client_max_window_bits = match r.client_max_window_bits {
        Some(None) => return Err(InvalidResponse::InvalidValue),
        Some(Some(n)) => Some(n),
        None => None,
    };
    // §7.1.2.1: an offered server_max_window_bits is accepted with the same or a smaller
    // value; unasked, any valid value is fine.
    let asked = offered.server_max_window_bits.clamp(8, 15);
    if asked < 15 && r.server_max_window_bits.is_none_or(|n| n > asked) {
        return Err(InvalidResponse::NotOffered);
    }
    // §7.1.1.1: an offered server_no_context_takeover is accepted by echoing it.
    if offered.server_no_context_takeover && !r.server_no_context_takeover {
        return Err(InvalidResponse::NotOffered);
    }
    Ok(DeflateParams {
        server_no_context_takeover: r.server_no_context_takeover,
        client_no_context_takeover: r.client_no_context_takeover,
        server_max_window_bits: r.server_max_window_bits,
        client_max_window_bits,
    })
}

/// Parses what a server itself answered (the value passed to `accept`), leniently: the server
/// wrote it, so there is nothing to check it against.
pub(crate) fn parse_own_response(value: &str) -> Option<DeflateParams> {
    elements(value)
        .map_while(Result::ok)
        .find(Element::is_permessage_deflate)
        .and_then(|e| e.params.ok())
        .map(|r| DeflateParams {
            server_no_context_takeover: r.server_no_context_takeover,
            client_no_context_takeover: r.client_no_context_takeover,
            server_max_window_bits: r.server_max_window_bits,
            client_max_window_bits: r.client_max_window_bits.flatten(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn params(s: &str) -> Vec<Result<RawParams, InvalidResponse>> {
        elements(s)
            .map(|e| e.map(|e| e.params).and_then(|p| p))
            .collect()
    }

    #[test]
    fn window_bits_values() {
        let ok = |s: &str| Value::Token(s.as_bytes()).window_bits();
        assert_eq!(ok("8"), Some(8));
        assert_eq!(ok("15"), Some(15));
        assert_eq!(ok("10"), Some(10));
        for bad in ["7", "16", "08", "015", "", "1", "9a", "+9", "150"] {
            assert_eq!(ok(bad), None, "{bad}");
        }
        assert_eq!(Value::Quoted(b"12").window_bits(), Some(12));
        assert_eq!(Value::Quoted(b"1\\2").window_bits(), Some(12));
        assert_eq!(Value::Quoted(b" 12").window_bits(), None);
    }

    #[test]
    fn grammar() {
        let all = params(
            "permessage-deflate ; client_max_window_bits ;server_max_window_bits=\"10\", \
             x-foo; a=b, ,permessage-deflate",
        );
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[0],
            Ok(RawParams {
                server_max_window_bits: Some(10),
                client_max_window_bits: Some(None),
                ..RawParams::default()
            })
        );
        assert_eq!(all[2], Ok(RawParams::default()));
        for bad in [
            "permessage-deflate;",
            "permessage-deflate; a=",
            "p q",
            "=x",
            "a; b=\"x",
        ] {
            assert!(elements(bad).any(|e| e.is_err()), "{bad}");
        }
    }

    #[test]
    fn invalid_params() {
        let one = |s: &str| params(s).remove(0);
        assert_eq!(
            one("permessage-deflate; foo"),
            Err(InvalidResponse::UnknownParameter)
        );
        assert_eq!(
            one("permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
            Err(InvalidResponse::DuplicateParameter)
        );
        assert_eq!(
            one("permessage-deflate; server_no_context_takeover=1"),
            Err(InvalidResponse::InvalidValue)
        );
        assert_eq!(
            one("permessage-deflate; server_max_window_bits"),
            Err(InvalidResponse::InvalidValue)
        );
        assert_eq!(
            one("permessage-deflate; client_max_window_bits=7"),
            Err(InvalidResponse::InvalidValue)
        );
        assert_eq!(
            one("permessage-deflate; client_max_window_bits=9; client_max_window_bits"),
            Err(InvalidResponse::DuplicateParameter)
        );
        // Parameters of other extensions are not ours to judge.
        assert!(params("x-other; foo; foo=1")[0].is_ok());
    }
}
