//! RFC 8441 helpers: extended CONNECT validation and the 200 response (server), the request
//! header list and the response check (client), and each refusal.

use ws_proto::handshake::h2::{
    self, ConnectRequest, ConnectResponse, HeaderPair, SETTINGS_ENABLE_CONNECT_PROTOCOL,
};
use ws_proto::handshake::{
    Accept, Accepted, ClientRequest, ConnectError, HandshakeErrorKind as K, ResponseError,
};

/// The request of RFC 8441 §5.1's example, with subprotocols and an extension offer.
const REQUEST: &[HeaderPair<'static>] = &[
    (b":method", b"CONNECT"),
    (b":protocol", b"websocket"),
    (b":scheme", b"https"),
    (b":path", b"/chat?room=7"),
    (b":authority", b"server.example.com"),
    (b"sec-websocket-protocol", b"chat, superchat"),
    (
        b"sec-websocket-extensions",
        b"permessage-deflate; client_max_window_bits",
    ),
    (b"sec-websocket-version", b"13"),
    (b"origin", b"http://www.example.com"),
    (b"cookie", b"id=1"),
];

fn with(edit: impl FnOnce(&mut Vec<HeaderPair<'static>>)) -> Vec<HeaderPair<'static>> {
    let mut v = REQUEST.to_vec();
    edit(&mut v);
    v
}

fn set(name: &'static [u8], value: &'static [u8]) -> Vec<HeaderPair<'static>> {
    with(|v| {
        let i = v.iter().position(|(n, _)| *n == name).unwrap();
        v[i].1 = value;
    })
}

fn remove(name: &'static [u8]) -> Vec<HeaderPair<'static>> {
    with(|v| v.retain(|(n, _)| *n != name))
}

fn err(fields: &[HeaderPair<'_>]) -> K {
    ConnectRequest::parse(fields).unwrap_err().kind()
}

#[test]
fn setting_id() {
    assert_eq!(SETTINGS_ENABLE_CONNECT_PROTOCOL, 8);
}

#[test]
fn valid_extended_connect() {
    let req = ConnectRequest::parse(REQUEST).unwrap();
    assert_eq!(req.scheme(), "https");
    assert_eq!(req.target(), "/chat?room=7");
    assert_eq!((req.path(), req.query()), ("/chat", Some("room=7")));
    assert_eq!(req.authority(), "server.example.com");
    assert_eq!(req.origin(), Some("http://www.example.com"));
    assert_eq!(
        req.subprotocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );
    let ext = req.extensions().next().unwrap();
    assert_eq!(ext.name, "permessage-deflate");
    assert_eq!(
        ext.params.collect::<Vec<_>>(),
        [("client_max_window_bits", None)]
    );
    assert_eq!(req.header("Cookie"), Some(&b"id=1"[..]));
    assert_eq!(req.fields().len(), REQUEST.len());
    // A Sec-WebSocket-Key is not used over HTTP/2, and ignored if present.
    ConnectRequest::parse(&with(|v| v.push((b"sec-websocket-key", b"x")))).unwrap();
}

#[test]
fn refusals() {
    assert_eq!(err(&set(b":method", b"GET")), K::NotExtendedConnect);
    assert_eq!(err(&set(b":protocol", b"h2c")), K::NotExtendedConnect);
    assert_eq!(err(&remove(b":protocol")), K::NotExtendedConnect);
    assert_eq!(err(&remove(b":method")), K::NotExtendedConnect);
    assert_eq!(err(&remove(b":scheme")), K::MissingPseudoHeader(":scheme"));
    assert_eq!(err(&remove(b":path")), K::MissingPseudoHeader(":path"));
    assert_eq!(
        err(&remove(b":authority")),
        K::MissingPseudoHeader(":authority")
    );
    assert_eq!(err(&set(b":scheme", b"ftp")), K::InvalidHeader(":scheme"));
    assert_eq!(
        err(&set(b":authority", b"")),
        K::InvalidHeader(":authority")
    );
    assert_eq!(err(&set(b":path", b"chat")), K::InvalidTarget);
    assert_eq!(err(&set(b":path", b"/a#b")), K::InvalidTarget);
    assert_eq!(
        err(&set(b"sec-websocket-version", b"8")),
        K::UnsupportedVersion
    );
    assert_eq!(
        err(&remove(b"sec-websocket-version")),
        K::UnsupportedVersion
    );
    assert_eq!(
        err(&set(b"sec-websocket-protocol", b"a b")),
        K::InvalidHeader("Sec-WebSocket-Protocol")
    );
    assert_eq!(
        err(&set(b"sec-websocket-extensions", b"x;")),
        K::InvalidHeader("Sec-WebSocket-Extensions")
    );
    // Pseudo-header fields: known, once each, before the regular ones.
    assert_eq!(
        err(&with(|v| v.push((b":path", b"/x")))),
        K::Malformed,
        "pseudo after regular"
    );
    assert_eq!(
        err(&with(|v| v.insert(1, (b":path", b"/x")))),
        K::DuplicateHeader(":path")
    );
    assert_eq!(
        err(&with(|v| v.insert(0, (b":status", b"200")))),
        K::Malformed
    );
    // Regular fields: lowercase, not connection-specific, no CR/LF/NUL.
    assert_eq!(err(&with(|v| v.push((b"Cookie", b"x")))), K::Malformed);
    assert_eq!(
        err(&with(|v| v.push((b"connection", b"upgrade")))),
        K::Malformed
    );
    assert_eq!(
        err(&with(|v| v.push((b"upgrade", b"websocket")))),
        K::Malformed
    );
    assert_eq!(err(&with(|v| v.push((b"x", b"a\r\nb")))), K::Malformed);
    assert_eq!(
        err(&with(|v| v.push((b"sec-websocket-version", b"13")))),
        K::DuplicateHeader("Sec-WebSocket-Version")
    );
    assert_eq!(
        err(&with(|v| v.push((b"origin", b"http://evil")))),
        K::DuplicateHeader("Origin")
    );
}

#[test]
fn error_responses() {
    let e = ConnectRequest::parse(&set(b"sec-websocket-version", b"8")).unwrap_err();
    assert_eq!(
        h2::error_response(&e).collect::<Vec<_>>(),
        [
            (&b":status"[..], &b"400"[..]),
            (b"sec-websocket-version", b"13")
        ]
    );
    let e = ConnectRequest::parse(&set(b":method", b"GET")).unwrap_err();
    assert_eq!(
        h2::error_response(&e).collect::<Vec<_>>(),
        [(&b":status"[..], &b"400"[..])]
    );
    let e = ws_proto::handshake::HandshakeError::from(K::TooManyHeaders);
    assert_eq!(
        h2::error_response(&e).collect::<Vec<_>>(),
        [(&b":status"[..], &b"431"[..])]
    );
}

#[test]
fn accepting() {
    let req = ConnectRequest::parse(REQUEST).unwrap();
    let accept = Accept {
        protocol: Some("superchat"),
        extensions: Some("permessage-deflate; server_no_context_takeover"),
        headers: &[("set-cookie", "id=2")],
    };
    let fields: Vec<_> = h2::accept(&req, &accept).unwrap().collect();
    assert_eq!(
        fields,
        [
            (&b":status"[..], &b"200"[..]),
            (b"sec-websocket-protocol", b"superchat"),
            (
                b"sec-websocket-extensions",
                b"permessage-deflate; server_no_context_takeover"
            ),
            (b"set-cookie", b"id=2"),
        ]
    );
    let bare: Vec<_> = h2::accept(&req, &Accept::default()).unwrap().collect();
    assert_eq!(bare, [(&b":status"[..], &b"200"[..])]);
    let bad = |a: Accept<'_>| h2::accept(&req, &a).map(|f| f.count()).unwrap_err();
    assert_eq!(
        bad(Accept {
            protocol: Some("nope"),
            ..Accept::default()
        }),
        ResponseError::ProtocolNotOffered
    );
    assert_eq!(
        bad(Accept {
            extensions: Some("x-other"),
            ..Accept::default()
        }),
        ResponseError::InvalidExtensions
    );
    assert_eq!(
        bad(Accept {
            headers: &[("Set-Cookie", "x")],
            ..Accept::default()
        }),
        ResponseError::InvalidHeader,
        "uppercase names are malformed in HTTP/2"
    );
    assert_eq!(
        bad(Accept {
            headers: &[("connection", "close")],
            ..Accept::default()
        }),
        ResponseError::InvalidHeader
    );
}

const CLIENT: ClientRequest<'static> = ClientRequest {
    url: "wss://server.example.com/chat?room=7",
    origin: Some("http://www.example.com"),
    protocols: &["chat", "superchat"],
    extensions: Some("permessage-deflate; client_max_window_bits"),
    headers: &[("cookie", "id=1")],
};

#[test]
fn client_request_fields() {
    let fields: Vec<_> = h2::connect_request(&CLIENT).unwrap().collect();
    assert_eq!(
        fields,
        [
            (&b":method"[..], &b"CONNECT"[..]),
            (b":protocol", b"websocket"),
            (b":scheme", b"https"),
            (b":path", b"/chat?room=7"),
            (b":authority", b"server.example.com"),
            (b"sec-websocket-version", b"13"),
            (b"origin", b"http://www.example.com"),
            (b"sec-websocket-protocol", b"chat"),
            (b"sec-websocket-protocol", b"superchat"),
            (
                b"sec-websocket-extensions",
                b"permessage-deflate; client_max_window_bits"
            ),
            (b"cookie", b"id=1"),
        ]
    );
    // Our server side accepts what our client side sends.
    let req = ConnectRequest::parse(&fields).unwrap();
    assert_eq!(
        req.subprotocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );

    let plain = ClientRequest {
        url: "ws://h:8080",
        ..ClientRequest::default()
    };
    let fields: Vec<_> = h2::connect_request(&plain).unwrap().collect();
    assert_eq!(
        fields[2..5],
        [
            (&b":scheme"[..], &b"http"[..]),
            (b":path", b"/"),
            (b":authority", b"h:8080")
        ]
    );
    assert_eq!(fields.len(), 6);
}

#[test]
fn client_request_refusals() {
    let r = |req: ClientRequest<'static>| h2::connect_request(&req).map(|f| f.count());
    assert_eq!(
        r(ClientRequest {
            url: "https://h/",
            ..CLIENT
        }),
        Err(ConnectError::InvalidUrl)
    );
    assert_eq!(
        r(ClientRequest {
            url: "ws://h?x",
            ..CLIENT
        }),
        Err(ConnectError::InvalidUrl),
        "no zero-copy :path for a query without a path"
    );
    assert_eq!(
        r(ClientRequest {
            headers: &[("Cookie", "x")],
            ..CLIENT
        }),
        Err(ConnectError::InvalidRequest)
    );
    assert_eq!(
        r(ClientRequest {
            headers: &[("upgrade", "x")],
            ..CLIENT
        }),
        Err(ConnectError::InvalidRequest)
    );
    assert_eq!(
        r(ClientRequest {
            protocols: &["a b"],
            ..CLIENT
        }),
        Err(ConnectError::InvalidRequest)
    );
}

#[test]
fn client_response_checks() {
    let ok: &[HeaderPair<'_>] = &[
        (b":status", b"200"),
        (b"sec-websocket-protocol", b"chat"),
        (
            b"sec-websocket-extensions",
            b"permessage-deflate; server_no_context_takeover",
        ),
    ];
    assert_eq!(
        h2::check_response(&CLIENT, ok),
        Ok(ConnectResponse::Accepted(Accepted {
            protocol: Some("chat"),
            extensions: Some("permessage-deflate; server_no_context_takeover"),
        }))
    );
    assert_eq!(
        h2::check_response(&CLIENT, &[(b":status", b"204")]),
        Ok(ConnectResponse::Accepted(Accepted {
            protocol: None,
            extensions: None
        }))
    );
    assert_eq!(
        h2::check_response(&CLIENT, &[(b":status", b"403"), (b"x", b"y")]),
        Ok(ConnectResponse::Rejected(403))
    );
    let e = |fields: &[HeaderPair<'_>]| h2::check_response(&CLIENT, fields).unwrap_err().kind();
    assert_eq!(e(&[]), K::MissingPseudoHeader(":status"));
    assert_eq!(e(&[(b":status", b"2000")]), K::InvalidHeader(":status"));
    assert_eq!(e(&[(b":status", b"20x")]), K::InvalidHeader(":status"));
    assert_eq!(
        e(&[(b":status", b"200"), (b":status", b"200")]),
        K::DuplicateHeader(":status")
    );
    assert_eq!(
        e(&[(b":status", b"200"), (b"sec-websocket-protocol", b"other")]),
        K::ProtocolNotOffered
    );
    assert_eq!(
        e(&[
            (b":status", b"200"),
            (b"sec-websocket-extensions", b"x-other")
        ]),
        K::ExtensionNotOffered
    );
    assert_eq!(
        e(&[(b":status", b"200"), (b"sec-websocket-extensions", b";")]),
        K::InvalidHeader("Sec-WebSocket-Extensions")
    );
    let no_offers = ClientRequest {
        url: "wss://h/",
        ..ClientRequest::default()
    };
    assert_eq!(
        h2::check_response(
            &no_offers,
            &[(b":status", b"200"), (b"sec-websocket-protocol", b"chat")]
        )
        .unwrap_err()
        .kind(),
        K::ProtocolNotOffered
    );
}

#[test]
fn server_and_client_sides_agree() {
    let fields: Vec<_> = h2::connect_request(&CLIENT).unwrap().collect();
    let req = ConnectRequest::parse(&fields).unwrap();
    let chosen = req.subprotocols().last();
    let response: Vec<_> = h2::accept(
        &req,
        &Accept {
            protocol: chosen,
            extensions: Some("permessage-deflate"),
            headers: &[],
        },
    )
    .unwrap()
    .collect();
    let ConnectResponse::Accepted(a) = h2::check_response(&CLIENT, &response).unwrap() else {
        panic!()
    };
    assert_eq!(
        (a.protocol, a.extensions),
        (Some("superchat"), Some("permessage-deflate"))
    );
}
