//! The permessage-deflate negotiation rules (RFC 7692 §7.1) on top of the extension lists
//! the handshake parses ([`Extensions`]).

use core::fmt;

use super::{DeflateConfig, DeflateParams, EXTENSION_NAME};
use crate::handshake::{Extension, Extensions};

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

/// A window-bits value: a decimal 8..=15 without leading zeros (RFC 7692 §7.1.2.1; the
/// handshake has already unquoted it).
fn window_bits(value: &str) -> Option<u8> {
    match value.as_bytes() {
        [d @ b'8'..=b'9'] => Some(d.wrapping_sub(b'0')),
        [b'1', d @ b'0'..=b'5'] => Some(d.wrapping_sub(b'0').wrapping_add(10)),
        _ => None,
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

fn is_permessage_deflate(e: &Extension<'_>) -> bool {
    e.name.eq_ignore_ascii_case(EXTENSION_NAME)
}

/// The parameters of one permessage-deflate offer or response, or why they are invalid.
fn raw_params(e: Extension<'_>) -> Result<RawParams, InvalidResponse> {
    let mut p = RawParams::default();
    for (name, value) in e.params {
        apply_param(&mut p, name, value)?;
    }
    Ok(p)
}

fn apply_param(p: &mut RawParams, name: &str, value: Option<&str>) -> Result<(), InvalidResponse> {
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
            .and_then(window_bits)
            .ok_or(InvalidResponse::InvalidValue)
    };
    if name.eq_ignore_ascii_case("server_no_context_takeover") {
        flag(&mut p.server_no_context_takeover)
    } else if name.eq_ignore_ascii_case("client_no_context_takeover") {
        flag(&mut p.client_no_context_takeover)
    } else if name.eq_ignore_ascii_case("server_max_window_bits") {
        if p.server_max_window_bits.is_some() {
            return Err(InvalidResponse::DuplicateParameter);
        }
        p.server_max_window_bits = Some(bits()?);
        Ok(())
    } else if name.eq_ignore_ascii_case("client_max_window_bits") {
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
/// Pass [`Request::extensions`](crate::handshake::Request::extensions). Offers with unknown,
/// duplicated or invalid parameters are declined (RFC 7692 §5). `None` means: answer without
/// permessage-deflate.
///
/// Write the result with [`DeflateParams::header_value`] into
/// [`Accept::extensions`](crate::handshake::Accept); `accept` then turns compression on.
pub fn negotiate<'a, I>(offers: I, config: &DeflateConfig) -> Option<DeflateParams>
where
    I: IntoIterator<Item = Extension<'a>>,
{
    offers
        .into_iter()
        .filter(is_permessage_deflate)
        .find_map(|e| accept_offer(raw_params(e).ok()?, config))
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

/// Client side: checks a server's `Sec-WebSocket-Extensions` value (the
/// [`Accepted::extensions`](crate::handshake::Accepted) of the response) against the offer
/// [`DeflateConfig::offer`] made, and returns what was agreed (`None`: the server did not
/// accept permessage-deflate).
///
/// # Errors
/// [`InvalidResponse`] when the value is malformed or does not answer the offer: the client
/// must fail the connection (RFC 7692 §7.1). A [`Connection`](crate::Connection) does this
/// itself, failing the handshake.
pub fn parse_response(
    value: &str,
    offered: &DeflateConfig,
) -> Result<Option<DeflateParams>, InvalidResponse> {
    let mut agreed = None;
    let list = Extensions::parse(value).map_err(|_| InvalidResponse::Syntax)?;
    for e in list.filter(is_permessage_deflate) {
        if agreed.is_some() {
            return Err(InvalidResponse::Repeated);
        }
        agreed = Some(check_response(raw_params(e)?, offered)?);
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
    let e = Extensions::parse(value).ok()?.find(is_permessage_deflate)?;
    let r = raw_params(e).ok()?;
    Some(DeflateParams {
        server_no_context_takeover: r.server_no_context_takeover,
        client_no_context_takeover: r.client_no_context_takeover,
        server_max_window_bits: r.server_max_window_bits,
        client_max_window_bits: r.client_max_window_bits.flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Result<RawParams, InvalidResponse> {
        raw_params(Extensions::parse(s).unwrap().next().unwrap())
    }

    #[test]
    fn window_bits_values() {
        assert_eq!(window_bits("8"), Some(8));
        assert_eq!(window_bits("15"), Some(15));
        assert_eq!(window_bits("10"), Some(10));
        for bad in ["7", "16", "08", "015", "", "1", "9a", "+9", "150", " 9"] {
            assert_eq!(window_bits(bad), None, "{bad}");
        }
    }

    #[test]
    fn params() {
        assert_eq!(
            one("permessage-deflate ; client_max_window_bits ;server_max_window_bits=\"10\""),
            Ok(RawParams {
                server_max_window_bits: Some(10),
                client_max_window_bits: Some(None),
                ..RawParams::default()
            })
        );
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
    }
}
