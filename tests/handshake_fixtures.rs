//! Real upgrade heads captured on 127.0.0.1 (tests/fixtures/handshake/capture.py; tool
//! versions in versions.json): requests from Chromium, Python `websockets` and Node `ws`,
//! parsed by the server side; responses from `websockets` and `ws` servers, checked by the
//! client side.

use ws_proto::handshake::{
    Accept, ClientHandshake, ClientRequest, Request, ServerHandshake, ServerResponse, write_accept,
};
use ws_proto::{Config, Connection, Event, Status};

const CHROMIUM: &[u8] = include_bytes!("fixtures/handshake/chromium-request.http");
const PYTHON: &[u8] = include_bytes!("fixtures/handshake/python-websockets-request.http");
const NODE: &[u8] = include_bytes!("fixtures/handshake/node-ws-request.http");
const PYTHON_101: &[u8] = include_bytes!("fixtures/handshake/python-websockets-response.http");
const NODE_101: &[u8] = include_bytes!("fixtures/handshake/node-ws-response.http");
const PYTHON_400: &[u8] =
    include_bytes!("fixtures/handshake/python-websockets-response-version-7.http");
const NODE_400: &[u8] = include_bytes!("fixtures/handshake/node-ws-response-version-7.http");

type Ext<'a> = (&'a str, Vec<(&'a str, Option<&'a str>)>);

fn parse(input: &[u8]) -> Request<'_> {
    match ServerHandshake::default().parse(input, 8192, 64) {
        Ok(Status::Complete((n, req))) => {
            assert_eq!(n, input.len());
            req
        }
        other => panic!("{other:?}"),
    }
}

fn exts<'a>(req: &Request<'a>) -> Vec<Ext<'a>> {
    req.extensions()
        .map(|e| (e.name, e.params.collect()))
        .collect()
}

/// The same request delivered one byte at a time gives the same result.
fn assert_bytewise_same(input: &[u8]) {
    let mut hs = ServerHandshake::default();
    for end in 0..input.len() {
        assert_eq!(hs.parse(&input[..end], 8192, 64), Ok(Status::Partial));
    }
    assert_eq!(
        hs.parse(input, 8192, 64),
        Ok(Status::Complete((input.len(), parse(input))))
    );
}

fn assert_common(req: &Request<'_>) {
    assert_eq!(req.target(), "/path?x=1");
    assert_eq!((req.path(), req.query()), ("/path", Some("x=1")));
    assert!(req.host().starts_with("127.0.0.1:"), "{}", req.host());
    assert_eq!(req.key().len(), 24);
    assert_eq!(req.http_version(), 1);
    let deflate = ("permessage-deflate", vec![("client_max_window_bits", None)]);
    assert_eq!(
        exts(req),
        [deflate],
        "every capture offers permessage-deflate"
    );
    assert_bytewise_same(req.head());
}

#[test]
fn chromium_request() {
    let req = parse(CHROMIUM);
    assert_common(&req);
    assert!(req.origin().unwrap().starts_with("http://127.0.0.1:"));
    assert_eq!(req.subprotocols().count(), 0);
    assert_eq!(req.header("pragma"), Some(&b"no-cache"[..]));
    let ua = std::str::from_utf8(req.header("User-Agent").unwrap()).unwrap();
    assert!(ua.contains("HeadlessChrome/"), "{ua}");
    assert_eq!(req.headers().count(), 12);
}

#[test]
fn python_websockets_request() {
    let req = parse(PYTHON);
    assert_common(&req);
    assert_eq!(req.origin(), None);
    assert_eq!(
        req.subprotocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );
    assert!(req.header("user-agent").unwrap().starts_with(b"Python/"));
}

#[test]
fn node_ws_request() {
    let req = parse(NODE);
    assert_common(&req);
    assert_eq!(req.origin(), None);
    // `ws` joins without a space: "chat,superchat".
    assert_eq!(
        req.subprotocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );
}

#[test]
fn answering_the_captured_requests() {
    for (input, protocol) in [
        (CHROMIUM, None),
        (PYTHON, Some("superchat")),
        (NODE, Some("chat")),
    ] {
        let req = parse(input);
        let accept = Accept {
            protocol,
            extensions: Some("permessage-deflate; client_max_window_bits=15"),
            headers: &[],
        };
        let mut out = [0u8; 512];
        let n = write_accept(&req, &accept, &mut out).unwrap();
        let text = std::str::from_utf8(&out[..n]).unwrap();
        let accept_line = format!(
            "Sec-WebSocket-Accept: {}\r\n",
            std::str::from_utf8(&req.accept_key()).unwrap()
        );
        assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(text.contains(&accept_line), "{text}");
        assert!(text.ends_with(
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n\r\n"
        ));
    }
}

#[test]
fn chromium_request_through_the_connection() {
    let mut conn = Connection::server(Config::default());
    let mut buf = CHROMIUM.to_vec();
    let read = conn.handle_read(&mut buf);
    let Ok(Some(Event::Request(req))) = read.event else {
        panic!("{:?}", read.event)
    };
    assert_eq!(read.consumed, CHROMIUM.len());
    assert_eq!(exts(&req)[0].0, "permessage-deflate");
}

/// The request the capture's raw client sent: nonce "the sample nonce", subprotocol `chat`,
/// a permessage-deflate offer.
fn client() -> ClientHandshake {
    let req = ClientRequest {
        url: "ws://127.0.0.1:9/path?x=1",
        protocols: &["chat"],
        extensions: Some("permessage-deflate; client_max_window_bits"),
        ..ClientRequest::default()
    };
    let mut out = [0u8; 512];
    ClientHandshake::new(&req, *b"the sample nonce", &mut out)
        .unwrap()
        .0
}

fn client_parse(input: &[u8]) -> (usize, ServerResponse<'_>) {
    match client().parse(input, 8192, 64) {
        Ok(Status::Complete(done)) => done,
        other => panic!("{other:?}"),
    }
}

#[test]
fn python_websockets_101() {
    let (n, resp) = client_parse(PYTHON_101);
    assert_eq!(n, PYTHON_101.len());
    let ServerResponse::Accepted(a) = resp else {
        panic!("{resp:?}")
    };
    assert_eq!(a.protocol, Some("chat"));
    assert_eq!(
        a.extensions,
        Some("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12")
    );
    let list: Vec<Ext<'_>> = a
        .extension_list()
        .map(|e| (e.name, e.params.collect()))
        .collect();
    assert_eq!(
        list,
        [(
            "permessage-deflate",
            vec![
                ("server_max_window_bits", Some("12")),
                ("client_max_window_bits", Some("12"))
            ]
        )]
    );
}

#[test]
fn node_ws_101() {
    let (n, resp) = client_parse(NODE_101);
    assert_eq!(n, NODE_101.len());
    let ServerResponse::Accepted(a) = resp else {
        panic!("{resp:?}")
    };
    assert_eq!(
        (a.protocol, a.extensions),
        (Some("chat"), Some("permessage-deflate"))
    );
}

#[test]
fn captured_101s_fail_for_another_key() {
    for input in [PYTHON_101, NODE_101] {
        let req = ClientRequest {
            url: "ws://127.0.0.1:9/path?x=1",
            protocols: &["chat"],
            extensions: Some("permessage-deflate"),
            ..ClientRequest::default()
        };
        let mut out = [0u8; 512];
        let (mut hs, _) = ClientHandshake::new(&req, [7; 16], &mut out).unwrap();
        let e = hs.parse(input, 8192, 64).unwrap_err();
        assert_eq!(
            e.kind(),
            ws_proto::handshake::HandshakeErrorKind::AcceptMismatch
        );
    }
}

#[test]
fn captured_refusals_are_surfaced() {
    let (n, resp) = client_parse(PYTHON_400);
    let ServerResponse::Rejected(r) = resp else {
        panic!("{resp:?}")
    };
    assert_eq!((r.status(), r.reason()), (400, "Bad Request"));
    assert_eq!(
        r.header("content-type"),
        Some(&b"text/plain; charset=utf-8"[..])
    );
    let body = &PYTHON_400[n..];
    assert_eq!(
        body.len().to_string().as_bytes(),
        r.header("Content-Length").unwrap()
    );

    let (n, resp) = client_parse(NODE_400);
    let ServerResponse::Rejected(r) = resp else {
        panic!("{resp:?}")
    };
    assert_eq!(r.status(), 400);
    assert_eq!(r.header("sec-websocket-version"), Some(&b"13, 8"[..]));
    assert_eq!(
        &NODE_400[n..],
        b"Missing or invalid Sec-WebSocket-Version header"
    );
}

#[test]
fn captured_101_through_the_client_connection() {
    let mut conn = Connection::client(Config::default(), |b: &mut [u8]| {
        b.copy_from_slice(&b"the sample nonce"[..b.len()])
    });
    let req = ClientRequest {
        url: "ws://127.0.0.1:9/path?x=1",
        protocols: &["chat"],
        extensions: Some("permessage-deflate; client_max_window_bits"),
        ..ClientRequest::default()
    };
    let mut out = [0u8; 512];
    conn.connect(&req, &mut out).unwrap();
    let mut buf = NODE_101.to_vec();
    buf.extend_from_slice(b"\x89\x00"); // a ping right behind the head
    let read = conn.handle_read(&mut buf);
    let Ok(Some(Event::Opened(a))) = read.event else {
        panic!("{:?}", read.event)
    };
    assert_eq!(a.protocol, Some("chat"));
    let consumed = read.consumed;
    assert_eq!(consumed, NODE_101.len());
    let mut rest = buf[consumed..].to_vec();
    let read = conn.handle_read(&mut rest);
    assert!(
        matches!(read.event, Ok(Some(Event::Ping(b"")))),
        "{:?}",
        read.event
    );
}
