//! Invariants of the handshake parsers: the result does not depend on how the input is split
//! (for valid and mutated heads alike), header names in any case and headers in any order
//! are accepted, and a frame behind the head survives any split through `Connection`.

mod common;

use common::client_frame;
use proptest::prelude::*;
use ws_proto::handshake::{
    Accept, ClientHandshake, ClientRequest, HandshakeError, Request, ServerHandshake,
    ServerResponse,
};
use ws_proto::{Config, Connection, Event, Status};

const REQUESTS: &[&[u8]] = &[
    include_bytes!("fixtures/handshake/chromium-request.http"),
    include_bytes!("fixtures/handshake/python-websockets-request.http"),
    include_bytes!("fixtures/handshake/node-ws-request.http"),
    b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
      Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
      Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
      Sec-WebSocket-Version: 13\r\n\r\n",
];

const RESPONSES: &[&[u8]] = &[
    include_bytes!("fixtures/handshake/python-websockets-response.http"),
    include_bytes!("fixtures/handshake/node-ws-response.http"),
    include_bytes!("fixtures/handshake/python-websockets-response-version-7.http"),
    include_bytes!("fixtures/handshake/node-ws-response-version-7.http"),
];

const MAX_LEN: usize = 600;

type ServerResult<'b> = Result<Status<(usize, Request<'b>)>, HandshakeError>;
type ClientResult<'b> = Result<Status<(usize, ServerResponse<'b>)>, HandshakeError>;

fn client() -> ClientHandshake {
    let req = ClientRequest {
        url: "ws://127.0.0.1:9/path?x=1",
        protocols: &["chat"],
        extensions: Some("permessage-deflate; client_max_window_bits"),
        ..ClientRequest::default()
    };
    ClientHandshake::new(&req, *b"the sample nonce", &mut [0u8; 512])
        .unwrap()
        .0
}

/// Feeds growing prefixes ending at `cuts` then the whole input; returns the first result that
/// is not `Partial` (or `Partial`), checking that nothing is reported earlier than that.
fn first_result<'b, T>(
    input: &'b [u8],
    cuts: &[usize],
    mut parse: impl FnMut(&'b [u8]) -> Result<Status<T>, HandshakeError>,
) -> Result<Status<T>, HandshakeError> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(input.len());
    for end in cuts {
        match parse(&input[..end]) {
            Ok(Status::Partial) => {}
            done => return done,
        }
    }
    Ok(Status::Partial)
}

fn server_whole(input: &[u8]) -> ServerResult<'_> {
    ServerHandshake::default().parse(input, MAX_LEN, 64)
}

fn client_whole(input: &[u8]) -> ClientResult<'_> {
    client().parse(input, MAX_LEN, 64)
}

/// A valid input with up to `n` bytes replaced by bytes likely to matter to HTTP.
fn mutated(inputs: &'static [&'static [u8]]) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        Just(b'\r'),
        Just(b'\n'),
        Just(b':'),
        Just(b' '),
        Just(b','),
        Just(b';'),
        Just(b'"'),
        Just(0u8),
        any::<u8>()
    ];
    (
        0..inputs.len(),
        prop::collection::vec((any::<prop::sample::Index>(), byte), 0..4),
        0..40usize,
    )
        .prop_map(move |(i, edits, extra)| {
            let mut v = inputs[i].to_vec();
            for (at, b) in edits {
                let at = at.index(v.len());
                v[at] = b;
            }
            v.extend(std::iter::repeat_n(b'x', extra)); // frame bytes or garbage behind the head
            v
        })
}

/// A random ASCII case for each letter of `s`.
fn recase(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Rebuilds a head with its header lines permuted and names recased.
fn shuffle_head(head: &[u8], order: &[prop::sample::Index], masks: &[u64]) -> Vec<u8> {
    let text = std::str::from_utf8(head).unwrap();
    let mut lines: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
    let start = lines.remove(0);
    let mut fields: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (name, value) = l.split_once(':').unwrap();
            format!("{}:{value}", recase(name, masks[i % masks.len()]))
        })
        .collect();
    for (i, idx) in order.iter().enumerate() {
        let (len, j) = (fields.len(), idx.index(fields.len()));
        fields.swap(i % len, j);
    }
    let mut out = format!("{start}\r\n");
    for f in fields {
        out.push_str(&f);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// What a request says, independent of field order and name case (with one field per
/// name, as in the fixtures).
fn summary(req: &Request<'_>) -> String {
    let exts: Vec<String> = req
        .extensions()
        .map(|e| format!("{}{:?}", e.name, e.params.collect::<Vec<_>>()))
        .collect();
    format!(
        "{} {} {:?} {} {:?} {:?} {:?} {}",
        req.target(),
        req.host(),
        req.origin(),
        req.key(),
        req.subprotocols().collect::<Vec<_>>(),
        exts,
        req.header("user-agent"),
        req.headers().count()
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_split_of_a_valid_request_gives_the_same_request(
        i in 0..REQUESTS.len(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let input = REQUESTS[i];
        let mut hs = ServerHandshake::default();
        let got = first_result(input, &cuts, |p| hs.parse(p, MAX_LEN, 64));
        prop_assert_eq!(got, server_whole(input));
        prop_assert!(matches!(got, Ok(Status::Complete(_))));
    }

    #[test]
    fn any_split_of_any_request_gives_the_same_result(
        input in mutated(REQUESTS),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut hs = ServerHandshake::default();
        let got = first_result(&input, &cuts, |p| hs.parse(p, MAX_LEN, 64));
        let whole = server_whole(&input);
        prop_assert_eq!(got, whole);
        if let Ok(Status::Complete((n, _))) = whole {
            prop_assert!(n <= input.len());
        }
    }

    #[test]
    fn any_split_of_a_response_gives_the_same_response(
        i in 0..RESPONSES.len(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let input = RESPONSES[i];
        let mut hs = client();
        let got = first_result(input, &cuts, |p| hs.parse(p, MAX_LEN, 64));
        prop_assert_eq!(got, client_whole(input));
        prop_assert!(matches!(got, Ok(Status::Complete(_))));
    }

    #[test]
    fn any_split_of_any_response_gives_the_same_result(
        input in mutated(RESPONSES),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut hs = client();
        let got = first_result(&input, &cuts, |p| hs.parse(p, MAX_LEN, 64));
        prop_assert_eq!(got, client_whole(&input));
    }

    #[test]
    fn header_names_in_any_case_and_any_order_are_accepted(
        i in 0..REQUESTS.len(),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..16),
        masks in prop::collection::vec(any::<u64>(), 1..16),
    ) {
        let original = REQUESTS[i];
        let shuffled = shuffle_head(original, &order, &masks);
        let Ok(Status::Complete((_, a))) = server_whole(original) else { panic!() };
        let Ok(Status::Complete((n, b))) = server_whole(&shuffled) else {
            panic!("{:?}: {:?}", String::from_utf8_lossy(&shuffled), server_whole(&shuffled))
        };
        prop_assert_eq!(n, shuffled.len());
        prop_assert_eq!(summary(&a), summary(&b));
        // And the answer is the same.
        let accept = Accept::default();
        let (mut x, mut y) = ([0u8; 256], [0u8; 256]);
        let nx = ws_proto::handshake::write_accept(&a, &accept, &mut x).unwrap();
        let ny = ws_proto::handshake::write_accept(&b, &accept, &mut y).unwrap();
        prop_assert_eq!(&x[..nx], &y[..ny]);
    }

    #[test]
    fn response_header_names_in_any_case_and_any_order_are_accepted(
        i in 0..2usize,
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..16),
        masks in prop::collection::vec(any::<u64>(), 1..16),
    ) {
        let original = RESPONSES[i];
        let shuffled = shuffle_head(original, &order, &masks);
        let Ok(Status::Complete((_, a))) = client_whole(original) else { panic!() };
        let Ok(Status::Complete((_, b))) = client_whole(&shuffled) else {
            panic!("{:?}", String::from_utf8_lossy(&shuffled))
        };
        prop_assert_eq!(a, b);
    }

    #[test]
    fn a_frame_behind_the_request_survives_any_split(
        i in 0..REQUESTS.len(),
        sizes in prop::collection::vec(1..64usize, 1..40),
    ) {
        let frame = client_frame(0x81, b"right behind");
        let mut wire = REQUESTS[i].to_vec();
        wire.extend(&frame);
        let mut conn = Connection::server(Config::default());
        let (mut buf, mut pos, mut texts, mut requests) = (Vec::new(), 0, Vec::new(), 0);
        let mut sizes = sizes.into_iter().cycle();
        while pos < wire.len() || !buf.is_empty() {
            let take = sizes.next().unwrap().min(wire.len() - pos);
            buf.extend_from_slice(&wire[pos..pos + take]);
            pos += take;
            loop {
                let read = conn.handle_read(&mut buf);
                let consumed = read.consumed;
                match read.event {
                    Ok(Some(Event::Request(req))) => {
                        requests += 1;
                        conn.accept(&req, &Accept::default(), &mut [0u8; 256]).unwrap();
                    }
                    Ok(Some(Event::Text(d))) => texts.extend_from_slice(d.payload),
                    Ok(Some(e)) => panic!("{e:?}"),
                    Ok(None) => {}
                    Err(e) => panic!("{e:?}"),
                }
                buf.drain(..consumed);
                if consumed == 0 {
                    break;
                }
            }
            if take == 0 {
                break;
            }
        }
        prop_assert_eq!(requests, 1);
        prop_assert_eq!(texts, b"right behind".to_vec());
    }
}
