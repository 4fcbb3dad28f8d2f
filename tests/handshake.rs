//! The opening handshake (RFC 6455 §4): server parse and validation, every rejection with its
//! exact response, the 101 and custom rejections, the client request and response checks, and
//! both roles driven through `Connection` with frames arriving behind the heads.

mod common;

use common::{TestMask, client_frame, server_frame};
use ws_proto::handshake::{
    Accept, ClientHandshake, ClientRequest, ConnectError, HandshakeError, HandshakeErrorKind,
    Request, ResponseError, ServerHandshake, ServerResponse, Url, accept_key, write_accept,
    write_reject,
};
use ws_proto::{ApiMisuse, Config, Connection, Error, Event, SendError, State, Status};

/// The request of RFC 6455 §1.2 (with the §1.3 key).
const RFC_REQUEST: &str = "GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

const LIMIT: usize = 8 << 10;

fn parse(input: &[u8]) -> Result<Status<(usize, Request<'_>)>, HandshakeError> {
    ServerHandshake::default().parse(input, LIMIT, 64)
}

fn parse_ok(input: &[u8]) -> (usize, Request<'_>) {
    match parse(input) {
        Ok(Status::Complete(done)) => done,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn parse_err(input: &str) -> HandshakeError {
    match parse(input.as_bytes()) {
        Err(e) => e,
        other => panic!("expected an error for {input:?}, got {other:?}"),
    }
}

/// A valid request with `line` replaced (matched by its start) or removed (`new` empty), or
/// added before the empty line when no line starts with `old`.
fn edit(old: &str, new: &str) -> String {
    let mut lines: Vec<&str> = RFC_REQUEST.trim_end().split("\r\n").collect();
    match lines.iter().position(|l| l.starts_with(old)) {
        Some(i) if new.is_empty() => {
            lines.remove(i);
        }
        Some(i) => lines[i] = new,
        None => lines.push(new),
    }
    lines.join("\r\n") + "\r\n\r\n"
}

/// The status, headers and body of a written response.
fn response_parts(bytes: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(n) = resp.parse(bytes).unwrap() else {
        panic!("incomplete response {:?}", String::from_utf8_lossy(bytes));
    };
    let headers = resp
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8(h.value.to_vec()).unwrap(),
            )
        })
        .collect();
    (resp.code.unwrap(), headers, bytes[n..].to_vec())
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn rfc6455_section_1_3_accept_example() {
    assert_eq!(
        &accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
        b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn rfc_request_is_parsed_with_every_accessor() {
    let mut input = RFC_REQUEST.as_bytes().to_vec();
    input.extend_from_slice(b"\x81\x85trailing frame bytes");
    let (len, req) = parse_ok(&input);
    assert_eq!(len, RFC_REQUEST.len());
    assert_eq!(req.head(), RFC_REQUEST.as_bytes());
    assert_eq!(req.target(), "/chat");
    assert_eq!(req.path(), "/chat");
    assert_eq!(req.query(), None);
    assert_eq!(req.http_version(), 1);
    assert_eq!(req.host(), "server.example.com");
    assert_eq!(req.origin(), Some("http://example.com"));
    assert_eq!(req.key(), "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(&req.accept_key(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_eq!(
        req.subprotocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );
    assert_eq!(req.extensions().count(), 0);
    assert_eq!(req.header("sec-websocket-version"), Some(&b"13"[..]));
    assert_eq!(req.header("ORIGIN"), Some(&b"http://example.com"[..]));
    assert_eq!(req.header("Cookie"), None);
    let names: Vec<_> = req.headers().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "Host",
            "Upgrade",
            "Connection",
            "Sec-WebSocket-Key",
            "Origin",
            "Sec-WebSocket-Protocol",
            "Sec-WebSocket-Version"
        ]
    );
}

#[test]
fn target_query_lists_and_extensions() {
    let input = "GET /a/b?token=x%20y&z=1 HTTP/1.1\r\n\
        host: 127.0.0.1:9001\r\n\
        upgrade: WebSocket\r\n\
        connection: keep-alive, Upgrade\r\n\
        sec-websocket-key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n\
        sec-websocket-version: 13\r\n\
        sec-websocket-protocol: a\r\n\
        sec-websocket-protocol: b ,, c\r\n\
        sec-websocket-extensions: permessage-deflate; client_max_window_bits, x-foo;a=1;b=\"two\"\r\n\
        sec-websocket-extensions: permessage-deflate\r\n\
        Cookie: id=7\r\n\r\n";
    let (_, req) = parse_ok(input.as_bytes());
    assert_eq!(req.target(), "/a/b?token=x%20y&z=1");
    assert_eq!(req.path(), "/a/b");
    assert_eq!(req.query(), Some("token=x%20y&z=1"));
    assert_eq!(req.host(), "127.0.0.1:9001");
    assert_eq!(req.origin(), None);
    assert_eq!(req.subprotocols().collect::<Vec<_>>(), ["a", "b", "c"]);
    type Params<'a> = Vec<(&'a str, Option<&'a str>)>;
    let exts: Vec<(&str, Params<'_>)> = req
        .extensions()
        .map(|e| (e.name, e.params.collect()))
        .collect();
    assert_eq!(
        exts,
        [
            ("permessage-deflate", vec![("client_max_window_bits", None)]),
            ("x-foo", vec![("a", Some("1")), ("b", Some("two"))]),
            ("permessage-deflate", vec![]),
        ]
    );
    assert_eq!(req.header("cookie"), Some(&b"id=7"[..]));
}

#[test]
fn absolute_form_target() {
    let input = RFC_REQUEST.replace("GET /chat ", "GET ws://server.example.com/chat?x=1 ");
    let (_, req) = parse_ok(input.as_bytes());
    assert_eq!(req.target(), "ws://server.example.com/chat?x=1");
    assert_eq!((req.path(), req.query()), ("/chat", Some("x=1")));
    let input = RFC_REQUEST.replace("GET /chat ", "GET http://h?q ");
    let (_, req) = parse_ok(input.as_bytes());
    assert_eq!((req.path(), req.query()), ("/", Some("q")));
}

#[test]
fn incomplete_head_is_partial_and_resumes() {
    let mut hs = ServerHandshake::default();
    let bytes = RFC_REQUEST.as_bytes();
    for end in 0..bytes.len() {
        assert_eq!(
            hs.parse(&bytes[..end], LIMIT, 64),
            Ok(Status::Partial),
            "at {end}"
        );
    }
    let Ok(Status::Complete((len, req))) = hs.parse(bytes, LIMIT, 64) else {
        panic!()
    };
    assert_eq!((len, req.key()), (bytes.len(), "dGhlIHNhbXBsZSBub25jZQ=="));
}

// ---- every rejection, with its exact response ------------------------------------------------

/// Checks the kind, the status hint and the exact response written for `input`.
fn assert_rejected(input: &str, kind: HandshakeErrorKind, status: u16, body: &str) {
    let e = parse_err(input);
    assert_eq!(e.kind(), kind, "{input:?}");
    assert_eq!(e.status_hint(), status);
    assert_eq!(e.to_string(), body);
    let mut out = [0u8; 256];
    let n = e.write_response(&mut out).unwrap();
    let (code, headers, got_body) = response_parts(&out[..n]);
    assert_eq!(code, status);
    let len = (body.len() + 1).to_string();
    let expected: Vec<(&str, &str)> = if status == 426 {
        vec![
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Connection", "upgrade, close"),
            ("Content-Type", "text/plain"),
            ("Content-Length", &len),
        ]
    } else {
        vec![
            ("Connection", "close"),
            ("Content-Type", "text/plain"),
            ("Content-Length", &len),
        ]
    };
    assert_eq!(headers, pairs(&expected), "{input:?}");
    assert_eq!(got_body, format!("{body}\n").as_bytes());
}

#[test]
fn exact_bytes_of_a_400_response() {
    let e = parse_err(&edit("Host:", ""));
    let mut out = [0u8; 256];
    let n = e.write_response(&mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..n]).unwrap(),
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n\
         Content-Length: 20\r\n\r\nmissing Host header\n"
    );
}

#[test]
fn exact_bytes_of_a_426_response() {
    let e = parse_err(&edit("Sec-WebSocket-Version:", "Sec-WebSocket-Version: 8"));
    let mut out = [0u8; 256];
    let n = e.write_response(&mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..n]).unwrap(),
        "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Connection: upgrade, close\r\nContent-Type: text/plain\r\nContent-Length: 33\r\n\r\n\
         Sec-WebSocket-Version must be 13\n"
    );
}

#[test]
fn every_error_response_fits_220_bytes_and_short_buffers_get_nothing() {
    use HandshakeErrorKind as K;
    let kinds = [
        K::HeadTooLarge,
        K::TooManyHeaders,
        K::Malformed,
        K::MethodNotGet,
        K::HttpVersion,
        K::InvalidTarget,
        K::MissingHost,
        K::DuplicateHeader("Sec-WebSocket-Extensions"),
        K::InvalidHeader("Sec-WebSocket-Extensions"),
        K::MissingUpgrade,
        K::MissingConnectionUpgrade,
        K::MissingKey,
        K::InvalidKey,
        K::UnsupportedVersion,
        K::UnexpectedBody,
    ];
    for kind in kinds {
        let e = HandshakeError::from(kind);
        let mut out = [0xAAu8; 220];
        let n = e.write_response(&mut out).unwrap();
        let mut short = vec![0xAAu8; n - 1];
        assert_eq!(e.write_response(&mut short).unwrap_err().required, n);
        assert!(short.iter().all(|&b| b == 0xAA), "nothing written on error");
    }
}

#[test]
fn rejects_head_too_large_431() {
    // No end within the limit.
    let big = format!("GET /{} HTTP/1.1\r\n", "a".repeat(LIMIT));
    assert_rejected(
        &big,
        HandshakeErrorKind::HeadTooLarge,
        431,
        "head over the size limit",
    );
    // A complete head one byte over the limit.
    let mut hs = ServerHandshake::default();
    let e = hs
        .parse(RFC_REQUEST.as_bytes(), RFC_REQUEST.len() - 1, 64)
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.status_hint()),
        (HandshakeErrorKind::HeadTooLarge, 431)
    );
    // Exactly at the limit is fine.
    let mut hs = ServerHandshake::default();
    assert!(
        hs.parse(RFC_REQUEST.as_bytes(), RFC_REQUEST.len(), 64)
            .unwrap()
            != Status::Partial
    );
}

#[test]
fn rejects_too_many_headers_431() {
    let mut hs = ServerHandshake::default();
    let e = hs.parse(RFC_REQUEST.as_bytes(), LIMIT, 6).unwrap_err();
    assert_eq!(
        (e.kind(), e.status_hint()),
        (HandshakeErrorKind::TooManyHeaders, 431)
    );
    let mut hs = ServerHandshake::default();
    assert!(hs.parse(RFC_REQUEST.as_bytes(), LIMIT, 7).unwrap() != Status::Partial);
    // A configured limit over the hard cap is capped at MAX_HEADERS.
    let many = edit("Origin:", "X-A: 1\r\n".repeat(130).trim_end());
    let mut hs = ServerHandshake::default();
    let e = hs.parse(many.as_bytes(), 1 << 20, 10_000).unwrap_err();
    assert_eq!(e.kind(), HandshakeErrorKind::TooManyHeaders);
    let over_default = edit("Origin:", "X-A: 1\r\n".repeat(64).trim_end());
    assert_rejected(
        &over_default,
        HandshakeErrorKind::TooManyHeaders,
        431,
        "too many header fields",
    );
}

#[test]
fn rejects_malformed_http_400() {
    let m = HandshakeErrorKind::Malformed;
    let body = "malformed HTTP head";
    assert_rejected(&RFC_REQUEST.replace("\r\n", "\n"), m, 400, body); // bare LF
    assert_rejected(&RFC_REQUEST.replace("Host: ", "Host : "), m, 400, body);
    assert_rejected(
        &RFC_REQUEST.replace("GET /chat", "GET  /chat"),
        m,
        400,
        body,
    );
    assert_rejected(&edit("Origin:", "X-Bad\x01: y"), m, 400, body);
    assert_rejected(&edit("Origin:", " folded"), m, 400, body);
    assert_rejected("\r\n\r\n", m, 400, body);
}

#[test]
fn rejects_method_other_than_get_400() {
    let input = RFC_REQUEST.replace("GET ", "POST ");
    assert_rejected(
        &input,
        HandshakeErrorKind::MethodNotGet,
        400,
        "method must be GET",
    );
}

#[test]
fn rejects_http_1_0_and_unknown_versions_400() {
    let body = "HTTP/1.1 or later required";
    let k = HandshakeErrorKind::HttpVersion;
    assert_rejected(&RFC_REQUEST.replace("HTTP/1.1", "HTTP/1.0"), k, 400, body);
    assert_rejected(&RFC_REQUEST.replace("HTTP/1.1", "HTTP/2.0"), k, 400, body);
}

#[test]
fn rejects_invalid_targets_400() {
    let k = HandshakeErrorKind::InvalidTarget;
    for target in ["*", "chat", "/chat#frag", "ftp://h/x", "http:///x"] {
        let input = RFC_REQUEST.replace("/chat", target);
        assert_rejected(&input, k, 400, "invalid request target");
    }
}

#[test]
fn rejects_missing_duplicate_or_invalid_host_400() {
    assert_rejected(
        &edit("Host:", ""),
        HandshakeErrorKind::MissingHost,
        400,
        "missing Host header",
    );
    let dup = edit("Origin:", "Host: other.example.com");
    assert_rejected(
        &dup,
        HandshakeErrorKind::DuplicateHeader("Host"),
        400,
        "duplicate Host header",
    );
    let empty = edit("Host:", "Host:");
    assert_rejected(
        &empty,
        HandshakeErrorKind::InvalidHeader("Host"),
        400,
        "invalid Host header",
    );
}

#[test]
fn rejects_upgrade_without_websocket_400() {
    let body = "Upgrade header lacks websocket";
    let k = HandshakeErrorKind::MissingUpgrade;
    assert_rejected(&edit("Upgrade:", ""), k, 400, body);
    assert_rejected(&edit("Upgrade:", "Upgrade: h2c"), k, 400, body);
    assert_rejected(&edit("Upgrade:", "Upgrade: websocketx"), k, 400, body);
    // Any case, in a list, over several fields: accepted.
    parse_ok(edit("Upgrade:", "Upgrade: h2c , WEBSOCKET").as_bytes());
    parse_ok(edit("Upgrade:", "Upgrade: h2c\r\nUpgrade: websocket").as_bytes());
}

#[test]
fn rejects_connection_without_upgrade_400() {
    let body = "Connection header lacks upgrade";
    let k = HandshakeErrorKind::MissingConnectionUpgrade;
    assert_rejected(&edit("Connection:", ""), k, 400, body);
    assert_rejected(&edit("Connection:", "Connection: keep-alive"), k, 400, body);
    assert_rejected(
        &edit("Connection:", "Connection: keep-alive upgrade"),
        k,
        400,
        body,
    );
    parse_ok(edit("Connection:", "Connection: keep-alive,\tuPgRaDe").as_bytes());
}

#[test]
fn rejects_missing_invalid_or_duplicate_key_400() {
    let k = HandshakeErrorKind::MissingKey;
    assert_rejected(
        &edit("Sec-WebSocket-Key:", ""),
        k,
        400,
        "missing Sec-WebSocket-Key header",
    );
    let body = "Sec-WebSocket-Key is not 16 bytes in base64";
    for bad in [
        "dGhlIHNhbXBsZSBub25jZQ",       // unpadded
        "dGhlIHNhbXBsZSBub25jZQ=",      // short padding
        "dGhlIHNhbXBsZSBub25jZXg=",     // 17 bytes
        "dGhlIHNhbXBsZSBub25j",         // 15 bytes
        "dGhlIHNhbXBsZSBub25jZ!==",     // not base64
        "",                             // empty
        "dGhlIHNhbXBsZSBub25jZQ==dGhl", // trailing garbage
    ] {
        let input = edit("Sec-WebSocket-Key:", &format!("Sec-WebSocket-Key: {bad}"));
        assert_rejected(&input, HandshakeErrorKind::InvalidKey, 400, body);
    }
    let dup = edit("Origin:", "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==");
    let k = HandshakeErrorKind::DuplicateHeader("Sec-WebSocket-Key");
    assert_rejected(&dup, k, 400, "duplicate Sec-WebSocket-Key header");
}

#[test]
fn rejects_missing_or_wrong_version_426() {
    let body = "Sec-WebSocket-Version must be 13";
    let k = HandshakeErrorKind::UnsupportedVersion;
    assert_rejected(&edit("Sec-WebSocket-Version:", ""), k, 426, body);
    for v in ["8", "12", "14", "13, 8", "013"] {
        let input = edit(
            "Sec-WebSocket-Version:",
            &format!("Sec-WebSocket-Version: {v}"),
        );
        assert_rejected(&input, k, 426, body);
    }
    let dup = edit("Origin:", "Sec-WebSocket-Version: 13");
    let k = HandshakeErrorKind::DuplicateHeader("Sec-WebSocket-Version");
    assert_rejected(&dup, k, 400, "duplicate Sec-WebSocket-Version header");
}

#[test]
fn rejects_invalid_subprotocol_and_extension_lists_400() {
    let k = HandshakeErrorKind::InvalidHeader("Sec-WebSocket-Protocol");
    for bad in ["", "chat, super chat", "a/b", ","] {
        let input = edit(
            "Sec-WebSocket-Protocol:",
            &format!("Sec-WebSocket-Protocol: {bad}"),
        );
        assert_rejected(&input, k, 400, "invalid Sec-WebSocket-Protocol header");
    }
    let k = HandshakeErrorKind::InvalidHeader("Sec-WebSocket-Extensions");
    for bad in [
        "",
        ";x",
        "permessage-deflate;",
        "permessage-deflate; a=",
        "permessage-deflate; a=\"1",
        "permessage-deflate; a=\"x,y\"",
        "permessage-deflate; a=\"\\1\"",
        "permessage deflate",
    ] {
        let input = edit("Origin:", &format!("Sec-WebSocket-Extensions: {bad}"));
        assert_rejected(&input, k, 400, "invalid Sec-WebSocket-Extensions header");
    }
}

#[test]
fn rejects_duplicate_origin_400() {
    let dup = edit(
        "Host:",
        "Host: server.example.com\r\nOrigin: http://evil.example",
    );
    let k = HandshakeErrorKind::DuplicateHeader("Origin");
    assert_rejected(&dup, k, 400, "duplicate Origin header");
}

#[test]
fn rejects_a_request_body_400() {
    let k = HandshakeErrorKind::UnexpectedBody;
    let body = "upgrade request with a body";
    assert_rejected(&edit("Origin:", "Content-Length: 5"), k, 400, body);
    assert_rejected(&edit("Origin:", "Transfer-Encoding: chunked"), k, 400, body);
    parse_ok(edit("Origin:", "Content-Length: 0").as_bytes());
}

// ---- answers ----------------------------------------------------------------------------------

#[test]
fn writes_the_rfc_101() {
    let (_, req) = parse_ok(RFC_REQUEST.as_bytes());
    let accept = Accept {
        protocol: Some("chat"),
        ..Accept::default()
    };
    let mut out = [0u8; 512];
    let n = write_accept(&req, &accept, &mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..n]).unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
    );
    let mut short = [0u8; 100];
    assert_eq!(
        write_accept(&req, &accept, &mut short),
        Err(ResponseError::BufferTooSmall(ws_proto::BufferTooSmall {
            required: n
        }))
    );
    assert!(short.iter().all(|&b| b == 0), "nothing written on error");
}

#[test]
fn writes_a_101_with_extensions_and_extra_headers() {
    let input = edit(
        "Origin:",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
    );
    let (_, req) = parse_ok(input.as_bytes());
    let accept = Accept {
        protocol: None,
        extensions: Some("permessage-deflate; server_no_context_takeover"),
        headers: &[("Set-Cookie", "id=1"), ("X-Server", "ws-proto")],
    };
    let mut out = [0u8; 512];
    let n = write_accept(&req, &accept, &mut out).unwrap();
    let (status, headers, body) = response_parts(&out[..n]);
    assert_eq!(status, 101);
    assert!(body.is_empty());
    assert_eq!(
        headers,
        pairs(&[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            (
                "Sec-WebSocket-Extensions",
                "permessage-deflate; server_no_context_takeover"
            ),
            ("Set-Cookie", "id=1"),
            ("X-Server", "ws-proto"),
        ])
    );
}

#[test]
fn refuses_to_write_invalid_answers() {
    let (_, req) = parse_ok(RFC_REQUEST.as_bytes());
    let mut out = [0u8; 512];
    let mut check = |accept: Accept<'_>, err: ResponseError| {
        assert_eq!(
            write_accept(&req, &accept, &mut out),
            Err(err),
            "{accept:?}"
        );
    };
    let a = Accept::default;
    check(
        Accept {
            protocol: Some("Chat"),
            ..a()
        },
        ResponseError::ProtocolNotOffered,
    );
    check(
        Accept {
            extensions: Some("permessage-deflate"),
            ..a()
        },
        ResponseError::InvalidExtensions,
    );
    check(
        Accept {
            extensions: Some("bad value;"),
            ..a()
        },
        ResponseError::InvalidExtensions,
    );
    check(
        Accept {
            headers: &[("X-A", "1\r\nX-Injected: 1")],
            ..a()
        },
        ResponseError::InvalidHeader,
    );
    check(
        Accept {
            headers: &[("Bad Name", "1")],
            ..a()
        },
        ResponseError::InvalidHeader,
    );
    check(
        Accept {
            headers: &[("sec-websocket-accept", "x")],
            ..a()
        },
        ResponseError::InvalidHeader,
    );
    check(
        Accept {
            headers: &[("Content-Length", "0")],
            ..a()
        },
        ResponseError::InvalidHeader,
    );
    assert!(out.iter().all(|&b| b == 0));
}

#[test]
fn writes_rejections() {
    let mut out = [0u8; 512];
    let n = write_reject(403, &[("X-Why", "origin")], b"forbidden", &mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..n]).unwrap(),
        "HTTP/1.1 403 Forbidden\r\nX-Why: origin\r\nConnection: close\r\nContent-Length: 9\r\n\r\nforbidden"
    );
    let n = write_reject(499, &[], b"", &mut out).unwrap();
    assert_eq!(
        &out[..n],
        b"HTTP/1.1 499 \r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    assert_eq!(
        write_reject(101, &[], b"", &mut out),
        Err(ResponseError::InvalidStatus(101))
    );
    assert_eq!(
        write_reject(600, &[], b"", &mut out),
        Err(ResponseError::InvalidStatus(600))
    );
    assert_eq!(
        write_reject(401, &[("WWW-Authenticate", "Basic\n")], b"", &mut out),
        Err(ResponseError::InvalidHeader)
    );
    let mut short = [0u8; 10];
    assert!(matches!(
        write_reject(404, &[], b"", &mut short),
        Err(ResponseError::BufferTooSmall(_))
    ));
}

// ---- client -------------------------------------------------------------------------------------

const NONCE: [u8; 16] = *b"the sample nonce"; // RFC 6455 §1.3's key decodes to this

fn client(req: &ClientRequest<'_>) -> (ClientHandshake, String) {
    let mut out = [0u8; 1024];
    let (hs, n) = ClientHandshake::new(req, NONCE, &mut out).unwrap();
    (hs, String::from_utf8(out[..n].to_vec()).unwrap())
}

#[test]
fn client_request_bytes() {
    let req = ClientRequest {
        url: "ws://server.example.com/chat",
        origin: Some("http://example.com"),
        protocols: &["chat", "superchat"],
        ..ClientRequest::default()
    };
    let (hs, text) = client(&req);
    assert_eq!(
        text,
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\n\r\n"
    );
    assert_eq!(&hs.expected_accept(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    // Our own server accepts what our client writes.
    let (_, parsed) = parse_ok(text.as_bytes());
    assert_eq!(
        parsed.subprotocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );
}

#[test]
fn client_request_ports_queries_extensions_headers() {
    let req = ClientRequest {
        url: "wss://[::1]:8443?x=1",
        extensions: Some("permessage-deflate; client_max_window_bits"),
        headers: &[("Authorization", "Bearer t")],
        ..ClientRequest::default()
    };
    let (_, text) = client(&req);
    assert!(
        text.starts_with("GET /?x=1 HTTP/1.1\r\nHost: [::1]:8443\r\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        )
    );
    assert!(text.ends_with("\r\nAuthorization: Bearer t\r\n\r\n"));
    // Default ports are left out of Host (RFC 6455 §4.1).
    for (url, host) in [
        ("ws://h:80/", "Host: h\r\n"),
        ("wss://h:443/", "Host: h\r\n"),
        ("ws://h:443/", "Host: h:443\r\n"),
        ("WS://H", "Host: H\r\n"),
    ] {
        let (_, text) = client(&ClientRequest {
            url,
            ..ClientRequest::default()
        });
        assert!(text.contains(host), "{url}: {text}");
    }
}

#[test]
fn urls() {
    let u = Url::parse("ws://example.com").unwrap();
    assert_eq!(
        (u.is_secure(), u.host(), u.port(), u.path(), u.query()),
        (false, "example.com", 80, "/", None)
    );
    let u = Url::parse("wss://127.0.0.1:9001/a%20b?c=d").unwrap();
    assert_eq!(
        (u.is_secure(), u.host(), u.port(), u.path(), u.query()),
        (true, "127.0.0.1", 9001, "/a%20b", Some("c=d"))
    );
    assert_eq!(u.authority(), "127.0.0.1:9001");
    for bad in [
        "http://h/",
        "ws:/h",
        "ws://",
        "ws://:80/",
        "ws://h:0/",
        "ws://h:65536/",
        "ws://h:8x/",
        "ws://user@h/",
        "ws://h/#frag",
        "ws://h/a b",
        "ws://h/\u{e9}",
        "ws://[zz]/",
        "ws://[::1/",
        "ws://h\r\nX: y/",
    ] {
        assert_eq!(Url::parse(bad), Err(ConnectError::InvalidUrl), "{bad}");
    }
}

#[test]
fn client_request_refuses_bad_input_and_writes_nothing() {
    let mut out = [0u8; 512];
    let mut check = |req: ClientRequest<'_>, err: ConnectError| {
        assert_eq!(
            ClientHandshake::new(&req, NONCE, &mut out).map(|(_, n)| n),
            Err(err)
        );
    };
    let r = || ClientRequest {
        url: "ws://h/",
        ..ClientRequest::default()
    };
    check(
        ClientRequest {
            url: "http://h/",
            ..r()
        },
        ConnectError::InvalidUrl,
    );
    check(
        ClientRequest {
            origin: Some("a\r\nb"),
            ..r()
        },
        ConnectError::InvalidRequest,
    );
    check(
        ClientRequest {
            protocols: &["a b"],
            ..r()
        },
        ConnectError::InvalidRequest,
    );
    check(
        ClientRequest {
            extensions: Some(";"),
            ..r()
        },
        ConnectError::InvalidRequest,
    );
    check(
        ClientRequest {
            headers: &[("Host", "x")],
            ..r()
        },
        ConnectError::InvalidRequest,
    );
    let many = ["p0123456789"; 10];
    check(
        ClientRequest {
            protocols: &many,
            ..r()
        },
        ConnectError::OfferTooLong,
    );
    assert!(out.iter().all(|&b| b == 0));
    let mut short = [0u8; 20];
    assert!(matches!(
        ClientHandshake::new(&r(), NONCE, &mut short),
        Err(ConnectError::BufferTooSmall(_))
    ));
    assert!(short.iter().all(|&b| b == 0));
}

const RFC_101: &str = "HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\r\n";

fn rfc_client() -> ClientHandshake {
    client(&ClientRequest {
        url: "ws://server.example.com/chat",
        protocols: &["chat", "superchat"],
        extensions: Some("permessage-deflate; client_max_window_bits, x-other"),
        ..ClientRequest::default()
    })
    .0
}

fn client_parse(
    hs: &mut ClientHandshake,
    input: &str,
) -> Result<Status<(usize, ServerResponse<'static>)>, HandshakeError> {
    let leaked: &'static str = Box::leak(input.to_string().into_boxed_str());
    hs.parse(leaked.as_bytes(), LIMIT, 64)
}

#[test]
fn client_accepts_the_rfc_101() {
    let mut hs = rfc_client();
    let input = format!("{RFC_101}\x01\x02hi");
    let Ok(Status::Complete((n, ServerResponse::Accepted(a)))) = client_parse(&mut hs, &input)
    else {
        panic!()
    };
    assert_eq!(n, RFC_101.len());
    assert_eq!((a.protocol, a.extensions), (Some("chat"), None));
    let with_ext = RFC_101.replace(
        "Sec-WebSocket-Protocol: chat\r\n",
        "sec-websocket-extensions: permessage-deflate; server_no_context_takeover\r\n",
    );
    let Ok(Status::Complete((_, ServerResponse::Accepted(a)))) =
        client_parse(&mut rfc_client(), &with_ext)
    else {
        panic!()
    };
    assert_eq!(a.protocol, None);
    assert_eq!(
        a.extensions,
        Some("permessage-deflate; server_no_context_takeover")
    );
    let exts: Vec<_> = a
        .extension_list()
        .map(|e| (e.name, e.params.collect::<Vec<_>>()))
        .collect();
    assert_eq!(
        exts,
        [(
            "permessage-deflate",
            vec![("server_no_context_takeover", None)]
        )]
    );
}

#[test]
fn client_rejects_bad_101s() {
    use HandshakeErrorKind as K;
    let cases: &[(&str, &str, HandshakeErrorKind)] = &[
        (
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
            "",
            K::MissingAccept,
        ),
        (
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOA=",
            K::AcceptMismatch,
        ),
        ("Upgrade: websocket\r\n", "", K::MissingUpgrade),
        (
            "Upgrade: websocket\r\n",
            "Upgrade: h2c\r\n",
            K::MissingUpgrade,
        ),
        (
            "Connection: Upgrade\r\n",
            "Connection: close\r\n",
            K::MissingConnectionUpgrade,
        ),
        ("Protocol: chat", "Protocol: other", K::ProtocolNotOffered),
        ("Protocol: chat", "Protocol: Chat", K::ProtocolNotOffered),
        (
            "Protocol: chat",
            "Protocol: chat, superchat",
            K::InvalidHeader("Sec-WebSocket-Protocol"),
        ),
        (
            "Sec-WebSocket-Protocol: chat\r\n",
            "Sec-WebSocket-Extensions: x-unknown\r\n",
            K::ExtensionNotOffered,
        ),
        (
            "Sec-WebSocket-Protocol: chat\r\n",
            "Sec-WebSocket-Extensions: permessage-deflate;\r\n",
            K::InvalidHeader("Sec-WebSocket-Extensions"),
        ),
        (
            "Sec-WebSocket-Protocol: chat\r\n",
            "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n",
            K::DuplicateHeader("Sec-WebSocket-Protocol"),
        ),
        ("HTTP/1.1 101", "HTTP/1.0 101", K::HttpVersion),
        ("\r\nUpgrade", "\nUpgrade", K::Malformed),
    ];
    for (from, to, kind) in cases {
        let input = RFC_101.replace(from, to);
        assert_ne!(input, RFC_101, "{from}");
        let e = client_parse(&mut rfc_client(), &input).unwrap_err();
        assert_eq!(e.kind(), *kind, "{input:?}");
    }
    // No subprotocol offered: none may come back.
    let (mut bare, _) = client(&ClientRequest {
        url: "ws://server.example.com/chat",
        ..ClientRequest::default()
    });
    let e = client_parse(&mut bare, RFC_101).unwrap_err();
    assert_eq!(e.kind(), K::ProtocolNotOffered);
}

#[test]
fn client_surfaces_other_statuses() {
    let input = "HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\nContent-Length: 3\r\n\r\nabc";
    let Ok(Status::Complete((n, ServerResponse::Rejected(r)))) =
        client_parse(&mut rfc_client(), input)
    else {
        panic!()
    };
    assert_eq!(n, input.len() - 3, "the body is left to the caller");
    assert_eq!(
        (r.status(), r.reason(), r.http_version()),
        (302, "Found", 1)
    );
    assert_eq!(r.header("location"), Some(&b"ws://elsewhere/"[..]));
    assert_eq!(r.headers().count(), 2);
    let input = "HTTP/1.1 401 \r\nWWW-Authenticate: Basic\r\n\r\n";
    let Ok(Status::Complete((_, ServerResponse::Rejected(r)))) =
        client_parse(&mut rfc_client(), input)
    else {
        panic!()
    };
    assert_eq!((r.status(), r.reason()), (401, ""));
}

#[test]
fn client_response_limits() {
    let mut hs = rfc_client();
    let e = hs.parse(RFC_101.as_bytes(), 20, 64).unwrap_err();
    assert_eq!(e.kind(), HandshakeErrorKind::HeadTooLarge);
    let mut hs = rfc_client();
    let e = hs.parse(RFC_101.as_bytes(), LIMIT, 3).unwrap_err();
    assert_eq!(e.kind(), HandshakeErrorKind::TooManyHeaders);
    let mut hs = rfc_client();
    for end in 0..RFC_101.len() {
        assert_eq!(
            hs.parse(&RFC_101.as_bytes()[..end], LIMIT, 64),
            Ok(Status::Partial)
        );
    }
}

// ---- through Connection ---------------------------------------------------------------------------

#[test]
fn server_connection_keeps_a_frame_sent_behind_the_request() {
    let mut conn = Connection::server(Config::default());
    assert_eq!(conn.state(), State::Handshake);
    let mut buf = RFC_REQUEST.as_bytes().to_vec();
    buf.extend(client_frame(0x81, b"early"));
    let mut out = [0u8; 512];
    let read = conn.handle_read(&mut buf);
    let Ok(Some(Event::Request(req))) = read.event else {
        panic!("{:?}", read.event)
    };
    assert_eq!(req.path(), "/chat");
    let accept = Accept {
        protocol: req.subprotocols().nth(1),
        ..Accept::default()
    };
    let n = conn.accept(&req, &accept, &mut out).unwrap();
    assert!(out[..n].ends_with(b"Sec-WebSocket-Protocol: superchat\r\n\r\n"));
    let consumed = read.consumed;
    assert_eq!(consumed, RFC_REQUEST.len());
    assert_eq!(conn.state(), State::Open);
    let mut rest = buf[consumed..].to_vec();
    let read = conn.handle_read(&mut rest);
    let Ok(Some(Event::Text(data))) = read.event else {
        panic!("{:?}", read.event)
    };
    assert_eq!((data.payload, data.ends_message), (&b"early"[..], true));
    assert_eq!(read.consumed, rest.len());
}

#[test]
fn server_connection_answers_a_bad_request_with_its_http_error() {
    let mut conn = Connection::server(Config::default());
    let mut buf = RFC_REQUEST.replace("13", "8").into_bytes();
    let read = conn.handle_read(&mut buf);
    let Err(Error::Handshake(e)) = read.event else {
        panic!("{:?}", read.event)
    };
    assert_eq!(e.status_hint(), 426);
    let mut out = [0u8; 256];
    let n = conn.poll_transmit(&mut out).unwrap().unwrap();
    let (status, headers, _) = response_parts(&out[..n]);
    assert_eq!(status, 426);
    assert!(headers.contains(&("Sec-WebSocket-Version".into(), "13".into())));
    assert_eq!(conn.poll_transmit(&mut out), Ok(None));
    assert_eq!(conn.state(), State::Closed);
}

#[test]
fn server_connection_reject_and_invalid_accept() {
    let mut conn = Connection::server(Config::default());
    let mut buf = RFC_REQUEST.as_bytes().to_vec();
    let read = conn.handle_read(&mut buf);
    let Ok(Some(Event::Request(req))) = read.event else {
        panic!()
    };
    let mut out = [0u8; 512];
    let bad = Accept {
        protocol: Some("nope"),
        ..Accept::default()
    };
    assert_eq!(
        conn.accept(&req, &bad, &mut out),
        Err(SendError::Misuse(ApiMisuse::InvalidResponse))
    );
    assert_eq!(
        conn.state(),
        State::Handshake,
        "nothing changes on a refused answer"
    );
    let n = conn.reject(403, &[], b"no", &mut out).unwrap();
    assert!(out[..n].starts_with(b"HTTP/1.1 403 Forbidden\r\n"));
    assert_eq!(conn.state(), State::Closed);
}

#[test]
fn client_and_server_connections_complete_the_handshake() {
    let mut client = Connection::client(Config::default(), TestMask(7));
    let mut server = Connection::server(Config::default());
    let mut wire = [0u8; 1024];
    let req = ClientRequest {
        url: "ws://127.0.0.1:9001/echo?x=1",
        protocols: &["v2", "v1"],
        extensions: Some("permessage-deflate; client_max_window_bits"),
        ..ClientRequest::default()
    };
    let n = client.connect(&req, &mut wire).unwrap();
    let mut to_server = wire[..n].to_vec();
    let read = server.handle_read(&mut to_server);
    let Ok(Some(Event::Request(r))) = read.event else {
        panic!()
    };
    assert_eq!(
        (r.path(), r.query(), r.host()),
        ("/echo", Some("x=1"), "127.0.0.1:9001")
    );
    assert_eq!(r.extensions().next().unwrap().name, "permessage-deflate");
    let mut to_client = vec![0u8; 512];
    let n = server
        .accept(
            &r,
            &Accept {
                protocol: Some("v1"),
                ..Accept::default()
            },
            &mut to_client,
        )
        .unwrap();
    to_client.truncate(n);
    // The server's first frame arrives in the same read as its 101.
    to_client.extend(server_frame(0x82, b"\x01\x02"));
    let read = client.handle_read(&mut to_client);
    let Ok(Some(Event::Opened(a))) = read.event else {
        panic!("{:?}", read.event)
    };
    assert_eq!((a.protocol, a.extensions), (Some("v1"), None));
    assert_eq!(client.state(), State::Open);
    let consumed = read.consumed;
    let mut rest = to_client[consumed..].to_vec();
    let read = client.handle_read(&mut rest);
    let Ok(Some(Event::Binary(d))) = read.event else {
        panic!("{:?}", read.event)
    };
    assert_eq!(d.payload, [1, 2]);
}

#[test]
fn client_connection_reports_rejections_and_bad_101s() {
    let mut client = Connection::client(Config::default(), TestMask(1));
    let mut wire = [0u8; 512];
    client
        .connect(
            &ClientRequest {
                url: "ws://h/",
                ..ClientRequest::default()
            },
            &mut wire,
        )
        .unwrap();
    assert_eq!(
        client.connect(
            &ClientRequest {
                url: "ws://h/",
                ..ClientRequest::default()
            },
            &mut wire
        ),
        Err(ConnectError::Misuse(ApiMisuse::WrongPhase))
    );
    let mut input = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec();
    let read = client.handle_read(&mut input);
    let Ok(Some(Event::Rejected(r))) = read.event else {
        panic!()
    };
    assert_eq!(r.status(), 403);
    assert_eq!(client.state(), State::Closed);

    let mut client = Connection::client(Config::default(), TestMask(1));
    client
        .connect(
            &ClientRequest {
                url: "ws://h/",
                ..ClientRequest::default()
            },
            &mut wire,
        )
        .unwrap();
    let mut input = RFC_101.as_bytes().to_vec(); // accept for another key
    let read = client.handle_read(&mut input);
    let Err(Error::Handshake(e)) = read.event else {
        panic!()
    };
    assert_eq!(e.kind(), HandshakeErrorKind::AcceptMismatch);
    assert_eq!(
        client.poll_transmit(&mut wire),
        Ok(None),
        "a client sends no HTTP error"
    );
}

#[test]
fn byte_at_a_time_through_the_connection() {
    let mut conn = Connection::server(Config::default());
    let mut buf = RFC_REQUEST.as_bytes().to_vec();
    buf.extend(client_frame(0x81, b"x"));
    let mut end = 0;
    let consumed = loop {
        end += 1;
        let mut chunk = buf[..end].to_vec();
        let read = conn.handle_read(&mut chunk);
        match read.event {
            Ok(None) => assert_eq!(read.consumed, 0),
            Ok(Some(Event::Request(r))) => {
                assert_eq!(r.key(), "dGhlIHNhbXBsZSBub25jZQ==");
                let mut out = [0u8; 256];
                conn.accept(&r, &Accept::default(), &mut out).unwrap();
                break read.consumed;
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!((consumed, end), (RFC_REQUEST.len(), RFC_REQUEST.len()));
}
