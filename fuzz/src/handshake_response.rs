//! Client side of the opening handshake: `ClientHandshake::parse` of the server's response, on
//! a buffer growing at fuzzer-chosen points, agrees with parsing it whole; the head-size limit
//! holds; an accepted 101 carries the right `Sec-WebSocket-Accept` and only what was offered; a
//! rejection's accessors are consistent.
//!
//! The client always sends the same request ([`REQUEST`], key from [`NONCE`]), so seeds can
//! carry a valid accept value. Input layout: `limits, n, n × u16 LE split points, response...`
//! (`limits` as in `handshake_request`).

use ws_proto::Status;
use ws_proto::handshake::{ClientHandshake, ClientRequest, ServerResponse};

use super::common::split_points;
use super::handshake_request::{HEAD_LIMITS, HEADER_LIMITS};

pub const NONCE: [u8; 16] = *b"the sample nonce";
pub const PROTOCOLS: [&str; 2] = ["chat", "superchat"];
pub const EXTENSIONS: &str = "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame";

pub fn client() -> ClientHandshake {
    let req = ClientRequest {
        url: "ws://server.example.com/chat?x=1",
        origin: Some("http://example.com"),
        protocols: &PROTOCOLS,
        extensions: Some(EXTENSIONS),
        headers: &[],
    };
    let mut out = [0u8; 1024];
    ClientHandshake::new(&req, NONCE, &mut out).unwrap().0
}

pub use super::handshake_request::encode;

pub fn run(data: &[u8]) {
    let Some((&limits, rest)) = data.split_first() else {
        return;
    };
    let Some((cuts, input)) = split_points(rest) else {
        return;
    };
    let max_len = HEAD_LIMITS[usize::from(limits & 15)];
    let max_headers = HEADER_LIMITS[usize::from(limits >> 4)];

    let proto = client();
    let whole = proto.clone().parse(input, max_len, max_headers);
    let mut hs = proto.clone();
    let mut incremental = None;
    for cut in cuts.into_iter().chain([input.len()]) {
        match hs.parse(&input[..cut], max_len, max_headers) {
            Ok(Status::Partial) => assert!(cut < max_len, "Partial with {cut} bytes"),
            other => {
                incremental = Some((cut, other));
                break;
            }
        }
    }
    match (&whole, &incremental) {
        (Ok(Status::Partial), None) => assert!(input.len() < max_len),
        (Ok(Status::Complete((n, resp))), Some((cut, Ok(Status::Complete((m, r2)))))) => {
            assert_eq!((n, resp), (m, r2), "growing buffer gives another response");
            assert!(*n <= *cut && *n <= max_len);
            let head = &input[..*n];
            assert!(head.ends_with(b"\r\n\r\n"));
            match resp {
                ServerResponse::Accepted(a) => {
                    let expected = proto.expected_accept();
                    assert!(
                        head.windows(28).any(|w| w == expected),
                        "101 without our accept value"
                    );
                    if let Some(p) = a.protocol {
                        assert!(PROTOCOLS.contains(&p), "protocol {p:?} was not offered");
                    }
                    // Extension names match ASCII case-insensitively, as in the crate's
                    // handshake and deflate negotiation (subprotocols match exactly).
                    for ext in a.extension_list() {
                        let offered = ["permessage-deflate", "x-webkit-deflate-frame"];
                        assert!(
                            offered.iter().any(|o| o.eq_ignore_ascii_case(ext.name)),
                            "extension {:?} was not offered",
                            ext.name
                        );
                    }
                }
                ServerResponse::Rejected(r) => {
                    assert_ne!(r.status(), 101);
                    assert_eq!(r.head(), head);
                    assert!(r.headers().count() <= max_headers);
                    let _ = (r.reason(), r.http_version());
                }
            }
        }
        (Err(e), Some((_, Err(e2)))) => {
            assert_eq!(e, e2, "growing buffer gives another error");
            let _ = e.status_hint();
        }
        (w, i) => panic!("whole input gives {w:?}, growing buffer {i:?}"),
    }
}
