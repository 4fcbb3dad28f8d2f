//! Server side of the opening handshake: `ServerHandshake::parse` on a buffer that grows at
//! fuzzer-chosen points gives `Partial` until it gives exactly what parsing the whole input
//! gives (or the same error earlier); the head-size limit holds (never `Partial` at or past
//! it, never a head longer than it); a parsed request's accessors are consistent; the 101
//! written for it satisfies a client that sent the same key and offers; an error's HTTP
//! response is well-formed; `Connection::server` agrees with the parser.
//!
//! Input layout: `limits, n, n × u16 LE split points, request bytes...`: `limits` picks the
//! head-size limit (low 4 bits) and the header-count limit (high 4 bits).

use base64ct::Encoding as _;
use ws_proto::handshake::{
    self, Accept, ClientHandshake, ClientRequest, ServerHandshake, ServerResponse,
};
use ws_proto::{Config, Connection, Error, Event, Status};

use super::common::{encode_split_points, split_points};

pub const HEAD_LIMITS: [usize; 16] = [
    0, 1, 16, 64, 100, 128, 200, 256, 300, 400, 512, 700, 1024, 2048, 4096, 8192,
];
pub const HEADER_LIMITS: [usize; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 32, 64, 100, 128];

/// Encodes an input (for seeds and tests).
pub fn encode(head_limit: u8, header_limit: u8, splits: &[u16], bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![(head_limit & 15) | (header_limit << 4)];
    v.extend(encode_split_points(splits, bytes));
    v
}

pub fn run(data: &[u8]) {
    let Some((&limits, rest)) = data.split_first() else {
        return;
    };
    let Some((cuts, input)) = split_points(rest) else {
        return;
    };
    let max_len = HEAD_LIMITS[usize::from(limits & 15)];
    let max_headers = HEADER_LIMITS[usize::from(limits >> 4)];

    let whole = ServerHandshake::default().parse(input, max_len, max_headers);
    // The same buffer growing, as the drive protocol has it.
    let mut hs = ServerHandshake::default();
    let mut incremental = None;
    for cut in cuts.into_iter().chain([input.len()]) {
        let r = hs.parse(&input[..cut], max_len, max_headers);
        match r {
            Ok(Status::Partial) => {
                assert!(cut < max_len, "Partial with {cut} bytes, limit {max_len}");
            }
            other => {
                incremental = Some((cut, other));
                break;
            }
        }
    }
    match (&whole, &incremental) {
        (Ok(Status::Partial), None) => assert!(input.len() < max_len),
        (Ok(Status::Complete((n, req))), Some((cut, Ok(Status::Complete((m, r2)))))) => {
            assert_eq!((n, req), (m, r2), "growing buffer gives another request");
            assert!(n <= cut);
            check_request(*n, req, input, max_len, max_headers);
        }
        (Err(e), Some((_, Err(e2)))) => {
            assert_eq!(e, e2, "growing buffer gives another error");
            check_error(e);
        }
        (w, i) => panic!("whole input gives {w:?}, growing buffer {i:?}"),
    }

    // The connection's drive path agrees with the parser.
    let mut config = Config::default();
    config.max_handshake_len = max_len;
    config.max_handshake_headers = max_headers;
    let mut conn = Connection::server(config);
    let mut buf = input.to_vec();
    let read = conn.handle_read(&mut buf);
    match (&whole, read.event) {
        (Ok(Status::Partial), Ok(None)) => assert_eq!(read.consumed, 0),
        (Ok(Status::Complete((n, req))), Ok(Some(Event::Request(r)))) => {
            assert_eq!((read.consumed, r), (*n, *req));
        }
        (Err(e), Err(Error::Handshake(e2))) => {
            assert_eq!(*e, e2);
            let mut out = [0u8; 1024];
            let n = conn
                .poll_transmit(&mut out)
                .unwrap()
                .expect("an HTTP error response");
            assert!(out[..n].starts_with(b"HTTP/1.1 "));
        }
        (w, c) => panic!("parser gives {w:?}, connection {c:?}"),
    }
}

fn check_request(
    n: usize,
    req: &handshake::Request<'_>,
    input: &[u8],
    max_len: usize,
    max_headers: usize,
) {
    assert!(
        n <= input.len() && n <= max_len,
        "head of {n} bytes, limit {max_len}"
    );
    assert_eq!(req.head(), &input[..n]);
    assert!(req.head().ends_with(b"\r\n\r\n"));
    assert!(req.headers().count() <= max_headers);
    assert!(!req.host().is_empty());
    assert!(req.path().starts_with('/'), "path {:?}", req.path());
    assert_eq!(req.http_version(), 1);
    let key = req.key();
    let mut nonce = [0u8; 16];
    assert_eq!(
        base64ct::Base64::decode(key, &mut nonce).map(<[u8]>::len),
        Ok(16),
        "key {key:?}"
    );
    assert_eq!(req.accept_key(), handshake::accept_key(key.as_bytes()));
    let _ = (req.origin(), req.query(), req.target());
    for ext in req.extensions() {
        let _ = ext;
    }

    // Round trip: accept (choosing the first offered subprotocol) and check the 101 with a
    // client that sent the same key and offers.
    let protocols: Vec<&str> = req.subprotocols().collect();
    let chosen = protocols.first().copied();
    let accept = Accept {
        protocol: chosen,
        ..Accept::default()
    };
    let mut response = vec![0u8; 4096 + n];
    let len =
        handshake::write_accept(req, &accept, &mut response).expect("101 for a valid request");
    let response = &response[..len];
    let client_req = ClientRequest {
        url: "ws://example.com/",
        protocols: &protocols,
        ..ClientRequest::default()
    };
    let mut scratch = vec![0u8; 8192];
    let Ok((mut client, _)) = ClientHandshake::new(&client_req, nonce, &mut scratch) else {
        return; // offers over the client's bounded state
    };
    match client.parse(response, 8192, 64) {
        Ok(Status::Complete((m, ServerResponse::Accepted(a)))) => {
            assert_eq!(m, len);
            assert_eq!(a.protocol, chosen);
        }
        other => panic!(
            "client refuses our 101: {other:?}\n{}",
            String::from_utf8_lossy(response)
        ),
    }
}

fn check_error(e: &handshake::HandshakeError) {
    let status = e.status_hint();
    assert!(matches!(status, 400 | 426 | 431), "status {status}");
    let mut out = [0u8; 1024];
    let n = e
        .write_response(&mut out)
        .expect("1 KiB holds an error response");
    let text = core::str::from_utf8(&out[..n]).expect("ASCII response");
    assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{text}");
    assert!(text.contains("\r\n\r\n"));
    if status == 426 {
        assert!(
            text.to_ascii_lowercase()
                .contains("sec-websocket-version: 13")
        );
    }
}
