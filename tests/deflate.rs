//! permessage-deflate (RFC 7692): negotiation, the RFC's examples, round trips between two
//! connections, window sizes checked by an independent inflater (zlib-rs), context takeover,
//! and the failure paths (corrupt data, invalid UTF-8, oversized messages).
#![cfg(feature = "deflate")]

mod common;

use common::TestMask;
use proptest::prelude::*;
use ws_proto::connection::{MessageKind, SendKind};
use ws_proto::deflate::{DeflateConfig, DeflateParams, InvalidResponse, negotiate, parse_response};
use ws_proto::handshake::{Accept, ClientRequest, Extensions, HandshakeErrorKind};
use ws_proto::mask_source::NoMask;
use ws_proto::{
    ApiMisuse, CloseCode, Config, Connection, Error, Event, FrameHeader, MaskSource, Opcode,
    Outgoing, ProtocolError, Role, SendError, Status,
};

// ---- helpers ------------------------------------------------------------------------------

fn config(deflate: DeflateConfig) -> Config {
    let mut c = Config::default();
    c.deflate = Some(deflate);
    c
}

fn client(params: DeflateParams, d: DeflateConfig) -> Connection<TestMask> {
    let mut c = Connection::new(Role::Client, config(d), TestMask(7));
    c.enable_deflate(params);
    c
}

fn server(params: DeflateParams, d: DeflateConfig) -> Connection<NoMask> {
    let mut s = Connection::new(Role::Server, config(d), NoMask);
    s.enable_deflate(params);
    s
}

fn send<M: MaskSource>(conn: &mut Connection<M>, msg: Outgoing<'_>) -> Vec<u8> {
    let mut out = vec![0u8; 1 << 20];
    let n = conn.send(msg, &mut out).expect("send");
    out.truncate(n);
    out
}

/// A decoded frame: header and unmasked payload.
#[derive(Debug)]
struct Frame {
    header: FrameHeader,
    payload: Vec<u8>,
}

fn frames(mut wire: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        let Status::Complete((len, header)) = FrameHeader::decode(wire).unwrap() else {
            panic!("partial frame");
        };
        let n = header.payload_len as usize;
        let mut payload = wire[len..len + n].to_vec();
        if let Some(key) = header.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        out.push(Frame { header, payload });
        wire = &wire[len + n..];
    }
    out
}

/// What a receiving application sees: whole inflated messages, or the error.
#[derive(Clone, Debug, PartialEq)]
enum Got {
    Message(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
    Close(CloseCode),
    Error(Error),
}

/// Feeds `wire` to `conn` in `chunk`-sized reads, inflating every data piece.
fn receive<M: MaskSource>(conn: &mut Connection<M>, wire: &[u8], chunk: usize) -> Vec<Got> {
    let mut got = Vec::new();
    let mut buf = Vec::new();
    let mut message = Vec::new();
    for piece in wire.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            let read = conn.handle_read(&mut buf);
            let consumed = read.consumed;
            let event = match read.event {
                Ok(Some(e)) => e,
                Ok(None) if consumed == 0 => break,
                Ok(None) => {
                    buf.drain(..consumed);
                    continue;
                }
                Err(e) => {
                    got.push(Got::Error(e));
                    return got;
                }
            };
            let mut failed = None;
            match event {
                Event::Text(d) | Event::Binary(d) => {
                    let kind = if matches!(event, Event::Text(_)) {
                        MessageKind::Text
                    } else {
                        MessageKind::Binary
                    };
                    match conn.inflate(&d, &mut message) {
                        Ok(()) if d.ends_message => {
                            got.push(Got::Message(kind, std::mem::take(&mut message)));
                        }
                        Ok(()) => {}
                        Err(e) => failed = Some(e),
                    }
                }
                Event::Ping(p) => got.push(Got::Ping(p.to_vec())),
                Event::Close(c) => got.push(Got::Close(c.code)),
                other => panic!("unexpected {other:?}"),
            }
            buf.drain(..consumed);
            if let Some(e) = failed {
                got.push(Got::Error(e));
                return got;
            }
        }
    }
    got
}

fn transmit<M: MaskSource>(conn: &mut Connection<M>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    while let Some(n) = conn.poll_transmit(&mut buf).unwrap() {
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn default_params() -> DeflateParams {
    DeflateParams::default()
}

/// Text that compresses well and is not trivially repetitive.
fn corpus(len: usize, seed: u64) -> Vec<u8> {
    let words = [
        "websocket",
        "frame",
        "deflate",
        "window",
        "message",
        "context",
        "takeover",
        "{\"id\":",
        "\"name\":",
        "42,",
        "null}",
        "\n",
        "κόσμε",
        "🙂",
        "RFC 7692",
        "bits",
    ];
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(words[(x % words.len() as u64) as usize].as_bytes());
        out.push(b' ');
    }
    // Cut at a char boundary so the text stays valid UTF-8.
    let mut end = len.min(out.len());
    while std::str::from_utf8(&out[..end]).is_err() {
        end -= 1;
    }
    out.truncate(end);
    out
}

fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

// ---- negotiation ----------------------------------------------------------------------------

/// Server negotiation over request header values (each may list several offers).
fn neg(headers: &[&str], cfg: &DeflateConfig) -> Option<DeflateParams> {
    let lists: Vec<Extensions<'_>> = headers
        .iter()
        .map(|h| Extensions::parse(h).expect("valid header"))
        .collect();
    negotiate(lists.into_iter().flatten(), cfg)
}

#[test]
fn server_accepts_chromium_offer() {
    let chromium = "permessage-deflate; client_max_window_bits";
    let p = neg(&[chromium], &DeflateConfig::default()).unwrap();
    assert_eq!(p, DeflateParams::default());
    assert_eq!(p.header_value().as_str(), "permessage-deflate");
}

#[test]
fn server_honours_offered_parameters() {
    let offer = "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; \
                 client_max_window_bits; client_no_context_takeover";
    let p = neg(&[offer], &DeflateConfig::default()).unwrap();
    assert!(p.server_no_context_takeover);
    assert_eq!(p.server_max_window_bits, Some(10));
    // Not asked for by our config: the client's promise holds without an echo.
    assert!(!p.client_no_context_takeover);
    assert_eq!(p.client_max_window_bits, None);
    assert_eq!(
        p.header_value().as_str(),
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"
    );
}

#[test]
fn server_config_limits_windows_and_context() {
    let mut cfg = DeflateConfig::default();
    cfg.server_max_window_bits = 9;
    cfg.client_max_window_bits = 11;
    cfg.client_no_context_takeover = true;
    // The client offered client_max_window_bits (no value): we may pick.
    let p = neg(&["permessage-deflate; client_max_window_bits"], &cfg).unwrap();
    assert_eq!(p.server_max_window_bits, Some(9));
    assert_eq!(p.client_max_window_bits, Some(11));
    assert!(p.client_no_context_takeover);
    // Without the client's client_max_window_bits we may not send it.
    let p = neg(&["permessage-deflate"], &cfg).unwrap();
    assert_eq!(p.client_max_window_bits, None);
    // An offered server window below ours wins; above ours, ours does.
    let p = neg(&["permessage-deflate; server_max_window_bits=8"], &cfg).unwrap();
    assert_eq!(p.server_max_window_bits, Some(8));
    let p = neg(&["permessage-deflate; server_max_window_bits=12"], &cfg).unwrap();
    assert_eq!(p.server_max_window_bits, Some(9));
    // An accepted server_max_window_bits is always answered, even at 15.
    let p = neg(
        &["permessage-deflate; server_max_window_bits=15"],
        &DeflateConfig::default(),
    )
    .unwrap();
    assert_eq!(p.server_max_window_bits, Some(15));
}

#[test]
fn server_declines_invalid_offers_and_takes_the_next() {
    let cfg = DeflateConfig::default();
    for bad in [
        "permessage-deflate; foo",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; server_no_context_takeover=yes",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=9; server_max_window_bits=10",
        "x-webkit-deflate-frame",
    ] {
        assert_eq!(neg(&[bad], &cfg), None, "{bad:?}");
    }
    // Several offers in one header, and across header lines: the first valid one wins.
    let p = neg(
        &[
            "permessage-deflate; foo, x-other; a=1",
            "permessage-deflate; server_max_window_bits=\"11\", permessage-deflate",
        ],
        &cfg,
    )
    .unwrap();
    assert_eq!(p.server_max_window_bits, Some(11));
    // Autobahn 13.7's offer list: the first is acceptable.
    let p = neg(
        &[
            "permessage-deflate; client_no_context_takeover; client_max_window_bits; \
              server_no_context_takeover; server_max_window_bits=8, \
              permessage-deflate; client_no_context_takeover; client_max_window_bits; \
              server_no_context_takeover, permessage-deflate; client_max_window_bits",
        ],
        &cfg,
    )
    .unwrap();
    assert_eq!(p.server_max_window_bits, Some(8));
    assert!(p.server_no_context_takeover);
}

#[test]
fn client_checks_the_response_against_its_offer() {
    let cfg = DeflateConfig::default();
    assert_eq!(parse_response("x-other", &cfg), Ok(None));
    assert_eq!(
        parse_response("permessage-deflate", &cfg),
        Ok(Some(DeflateParams::default()))
    );
    let p = parse_response(
        "permessage-deflate; client_max_window_bits=12; server_max_window_bits=12; \
         server_no_context_takeover; client_no_context_takeover",
        &cfg,
    )
    .unwrap()
    .unwrap();
    assert_eq!(p.client_max_window_bits, Some(12));
    assert_eq!(p.server_max_window_bits, Some(12));
    assert!(p.server_no_context_takeover && p.client_no_context_takeover);
    let fails = [
        (
            "permessage-deflate; client_max_window_bits",
            InvalidResponse::InvalidValue,
        ),
        (
            "permessage-deflate; bogus",
            InvalidResponse::UnknownParameter,
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            InvalidResponse::DuplicateParameter,
        ),
        (
            "permessage-deflate, permessage-deflate",
            InvalidResponse::Repeated,
        ),
        ("permessage-deflate; x=\"", InvalidResponse::Syntax),
        ("permessage-deflate;;", InvalidResponse::Syntax),
    ];
    for (value, err) in fails {
        assert_eq!(parse_response(value, &cfg), Err(err), "{value}");
    }
    // What we asked for must be granted.
    let mut asked = DeflateConfig::default();
    asked.server_max_window_bits = 10;
    asked.server_no_context_takeover = true;
    let ok = "permessage-deflate; server_max_window_bits=9; server_no_context_takeover";
    assert!(parse_response(ok, &asked).unwrap().is_some());
    for bad in [
        "permessage-deflate; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits=11; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits=9",
    ] {
        assert_eq!(
            parse_response(bad, &asked),
            Err(InvalidResponse::NotOffered),
            "{bad}"
        );
    }
}

/// A client and a server through the real opening handshake, negotiating with `client_cfg`'s
/// offer and `server_cfg`; returns both open connections.
fn handshake(
    client_cfg: DeflateConfig,
    server_cfg: DeflateConfig,
) -> (Connection<TestMask>, Connection<NoMask>) {
    let mut c = Connection::client(config(client_cfg.clone()), TestMask(3));
    let mut s = Connection::server(config(server_cfg.clone()));
    let offer = client_cfg.offer();
    let mut request = vec![0u8; 1024];
    let n = c
        .connect(
            &ClientRequest {
                url: "ws://127.0.0.1/chat",
                extensions: Some(&offer),
                ..ClientRequest::default()
            },
            &mut request,
        )
        .unwrap();
    request.truncate(n);
    let read = s.handle_read(&mut request);
    let Ok(Some(Event::Request(req))) = read.event else {
        panic!("{:?}", read.event);
    };
    let params = negotiate(req.extensions(), &server_cfg).expect("agreed");
    let value = params.header_value();
    let mut response = vec![0u8; 1024];
    let n = s
        .accept(
            &req,
            &Accept {
                extensions: Some(&value),
                ..Accept::default()
            },
            &mut response,
        )
        .unwrap();
    response.truncate(n);
    let read = c.handle_read(&mut response);
    assert!(
        matches!(read.event, Ok(Some(Event::Opened(_)))),
        "{:?}",
        read.event
    );
    assert_eq!(c.deflate_params(), Some(params));
    assert_eq!(s.deflate_params(), Some(params));
    (c, s)
}

#[test]
fn handshake_negotiates_and_messages_compress_both_ways() {
    let mut client_cfg = DeflateConfig::default();
    client_cfg.client_no_context_takeover = true;
    client_cfg.server_max_window_bits = 10;
    let (mut c, mut s) = handshake(client_cfg, DeflateConfig::default());
    assert_eq!(
        c.deflate_params().unwrap().header_value().as_str(),
        "permessage-deflate; server_max_window_bits=10"
    );
    let text = corpus(5000, 11);
    let text = std::str::from_utf8(&text).unwrap();
    let mut from_server = Vec::new();
    for _ in 0..3 {
        let wire = send(&mut c, Outgoing::Text(text));
        assert!(wire.len() < text.len() / 2);
        assert_eq!(
            receive(&mut s, &wire, 999),
            [Got::Message(MessageKind::Text, text.as_bytes().to_vec())]
        );
        let wire = send(&mut s, Outgoing::Text(text));
        from_server.extend_from_slice(&wire);
        assert_eq!(
            receive(&mut c, &wire, 999),
            [Got::Message(MessageKind::Text, text.as_bytes().to_vec())]
        );
    }
    // The server kept to the 10-bit window it agreed to.
    assert_eq!(inflate_with_zlib(&from_server, 10, false).len(), 3);
}
#[test]
fn client_fails_the_handshake_on_an_unacceptable_response() {
    for bad in [
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; bogus",
        "permessage-deflate, permessage-deflate",
    ] {
        let mut c = Connection::client(config(DeflateConfig::default()), TestMask(3));
        let offer = DeflateConfig::default().offer();
        let mut request = vec![0u8; 1024];
        let n = c
            .connect(
                &ClientRequest {
                    url: "ws://127.0.0.1/",
                    extensions: Some(&offer),
                    ..ClientRequest::default()
                },
                &mut request,
            )
            .unwrap();
        let request = std::str::from_utf8(&request[..n]).unwrap();
        let key = request
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        let accept = ws_proto::handshake::accept_key(key.as_bytes());
        let mut response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {bad}\r\n\r\n",
            std::str::from_utf8(&accept).unwrap()
        )
        .into_bytes();
        let read = c.handle_read(&mut response);
        let Err(Error::Handshake(e)) = read.event else {
            panic!("{bad}: {:?}", read.event);
        };
        assert_eq!(
            e.kind(),
            HandshakeErrorKind::InvalidHeader("Sec-WebSocket-Extensions"),
            "{bad}"
        );
        assert_eq!(c.deflate_params(), None);
    }
}

#[test]
fn negotiation_enables_nothing_by_itself() {
    // Without enable_deflate (or a negotiated response), RSV1 is a protocol error.
    let mut c = Connection::new(Role::Client, Config::default(), TestMask(1));
    let got = receive(&mut c, &[0xc1, 0x01, 0x00], 64);
    assert_eq!(
        got,
        [Got::Error(Error::Protocol(ProtocolError::ReservedBits(
            0b100
        )))]
    );
    assert_eq!(c.deflate_params(), None);
    // And sends stay uncompressed.
    let mut s = Connection::new(Role::Server, config(DeflateConfig::default()), NoMask);
    let wire = send(&mut s, Outgoing::Text("hello"));
    assert_eq!(wire, b"\x81\x05hello");
}

// ---- RFC 7692 §7.2.3 examples -------------------------------------------------------------

/// A server frame (unmasked) with the given first byte.
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut f = vec![b0, payload.len() as u8];
    f.extend_from_slice(payload);
    f
}

fn hello(got: &[Got]) -> usize {
    got.iter()
        .filter(|g| **g == Got::Message(MessageKind::Text, b"Hello".to_vec()))
        .count()
}

#[test]
fn rfc7692_examples_inflate() {
    let compressed = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    // §7.2.3.1: one message, then the same with context takeover.
    let mut wire = frame(0xc1, &compressed);
    wire.extend(frame(0xc1, &[0xf2, 0x00, 0x11, 0x00, 0x00]));
    // §7.2.3.2: a stored block.
    wire.extend(frame(
        0xc1,
        &[
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ],
    ));
    // §7.2.3.3: two DEFLATE blocks in one message.
    wire.extend(frame(
        0xc1,
        &[
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ],
    ));
    // §7.2.3.4: a final block (BFINAL = 1); the next message starts a new stream.
    wire.extend(frame(
        0xc1,
        &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
    ));
    // The same without the trailing empty-block header, then a final block split across
    // two frames.
    wire.extend(frame(0xc1, &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]));
    wire.extend(frame(0x41, &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]));
    wire.extend(frame(0x80, &[0x00]));
    // §7.2.1 fragmented: RSV1 on the first frame only.
    wire.extend(frame(0x41, &compressed[..3]));
    wire.extend(frame(0x80, &compressed[3..]));
    for chunk in [1, 3, 1000] {
        let mut c = client(default_params(), DeflateConfig::default());
        let got = receive(&mut c, &wire, chunk);
        assert_eq!(hello(&got), 8, "chunk {chunk}: {got:?}");
        assert_eq!(got.len(), 8);
    }
}

#[test]
fn final_block_keeps_the_window_for_the_next_message() {
    // After a BFINAL stream, context takeover still refers to the previous message:
    // "Hello" as a final block, then "Hello" as a back-reference (distance 5, length 5).
    let mut wire = frame(0xc1, &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    wire.extend(frame(0xc1, &[0xf2, 0x00, 0x11, 0x00, 0x00]));
    let mut c = client(default_params(), DeflateConfig::default());
    assert_eq!(hello(&receive(&mut c, &wire, 100)), 2);
}

#[test]
fn invalid_data_after_a_final_block_fails() {
    // A new stream starts after the final block; BTYPE = 11 is reserved.
    let wire = frame(0xc1, &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xff]);
    let mut c = client(default_params(), DeflateConfig::default());
    let got = receive(&mut c, &wire, 100);
    assert_eq!(
        got,
        [Got::Error(Error::Protocol(
            ProtocolError::DecompressionFailed
        ))]
    );
}

#[test]
fn uncompressed_messages_still_flow() {
    // RSV1 clear: an ordinary message, even with the extension on.
    let mut c = client(default_params(), DeflateConfig::default());
    let got = receive(&mut c, &frame(0x81, b"Hello"), 100);
    assert_eq!(hello(&got), 1);
}

// ---- round trips ----------------------------------------------------------------------------

fn round_trip(
    params: DeflateParams,
    cfg: DeflateConfig,
    messages: &[(MessageKind, Vec<u8>)],
    chunk: usize,
) -> (Vec<u8>, Vec<u8>) {
    let mut c = client(params, cfg.clone());
    let mut s = server(params, cfg);
    let mut to_server = Vec::new();
    let mut to_client = Vec::new();
    for (kind, m) in messages {
        let out = match kind {
            MessageKind::Text => Outgoing::Text(std::str::from_utf8(m).unwrap()),
            MessageKind::Binary => Outgoing::Binary(m),
        };
        to_server.extend(send(&mut c, out));
        to_client.extend(send(&mut s, out));
    }
    let expected: Vec<Got> = messages
        .iter()
        .map(|(k, m)| Got::Message(*k, m.clone()))
        .collect();
    assert_eq!(receive(&mut s, &to_server, chunk), expected);
    assert_eq!(receive(&mut c, &to_client, chunk), expected);
    (to_server, to_client)
}

#[test]
fn round_trip_compresses() {
    let messages: Vec<_> = (0..20)
        .map(|i| (MessageKind::Text, corpus(100 + i * 500, i as u64)))
        .collect();
    let total: usize = messages.iter().map(|m| m.1.len()).sum();
    let (wire, _) = round_trip(default_params(), DeflateConfig::default(), &messages, 4096);
    assert!(wire.len() < total / 3, "{} of {total}", wire.len());
    // RSV1 on every (single-frame) message.
    assert!(frames(&wire).iter().all(|f| f.header.rsv == 0b100));
}

#[test]
fn empty_and_binary_messages() {
    let messages = vec![
        (MessageKind::Text, Vec::new()),
        (MessageKind::Binary, random_bytes(70_000, 3)),
        (MessageKind::Binary, Vec::new()),
        (MessageKind::Text, b"x".to_vec()),
    ];
    round_trip(default_params(), DeflateConfig::default(), &messages, 1000);
}

#[test]
fn empty_message_is_one_zero_byte() {
    // RFC 7692 §7.2.3.6: an empty message compresses to a single 0x00.
    let mut s = server(default_params(), DeflateConfig::default());
    let f = frames(&send(&mut s, Outgoing::Binary(b"")));
    assert_eq!(f[0].payload, [0x00]);
}

#[test]
fn fragmented_send_sets_rsv1_on_the_first_frame_only() {
    let mut c = client(default_params(), DeflateConfig::default());
    let text = corpus(3000, 9);
    let mut wire = Vec::new();
    let parts: Vec<&[u8]> = text.chunks(1000).collect();
    for (i, part) in parts.iter().enumerate() {
        wire.extend(send(
            &mut c,
            Outgoing::Fragment {
                kind: MessageKind::Text,
                payload: part,
                fin: i == parts.len() - 1,
            },
        ));
        if i == 0 {
            // Control frames between fragments are never compressed.
            wire.extend(send(&mut c, Outgoing::Ping(b"ping")));
        }
    }
    let f = frames(&wire);
    let rsv: Vec<u8> = f.iter().map(|f| f.header.rsv).collect();
    assert_eq!(rsv, [0b100, 0, 0, 0]);
    assert_eq!(f[1].header.opcode, Opcode::Ping);
    assert_eq!(f[1].payload, b"ping");
    let mut s = server(default_params(), DeflateConfig::default());
    let got = receive(&mut s, &wire, 333);
    assert_eq!(
        got,
        [
            Got::Ping(b"ping".to_vec()),
            Got::Message(MessageKind::Text, text)
        ]
    );
}

#[test]
fn small_messages_below_the_threshold_go_uncompressed() {
    let mut cfg = DeflateConfig::default();
    cfg.min_message_size = 10;
    let mut s = server(default_params(), cfg);
    let f = frames(&send(&mut s, Outgoing::Text("short")));
    assert_eq!(
        (f[0].header.rsv, f[0].payload.as_slice()),
        (0, &b"short"[..])
    );
    let f = frames(&send(&mut s, Outgoing::Text("long enough to compress")));
    assert_eq!(f[0].header.rsv, 0b100);
}

#[test]
fn in_place_sends_are_uncompressed_and_cannot_continue_a_compressed_message() {
    let mut s = server(default_params(), DeflateConfig::default());
    let mut payload = b"in place".to_vec();
    let head = s.send_in_place(SendKind::Text, &mut payload, true).unwrap();
    assert_eq!(head.as_bytes(), [0x81, 8]);
    send(
        &mut s,
        Outgoing::Fragment {
            kind: MessageKind::Binary,
            payload: b"abc",
            fin: false,
        },
    );
    assert_eq!(
        s.send_in_place(SendKind::Binary, &mut payload, true),
        Err(SendError::Misuse(ApiMisuse::CompressedInPlace))
    );
    // A ping in place is fine.
    let mut ping = b"p".to_vec();
    assert!(s.send_in_place(SendKind::Ping, &mut ping, true).is_ok());
}

#[test]
fn short_buffer_writes_nothing_and_changes_nothing() {
    let mut c = client(default_params(), DeflateConfig::default());
    let text = corpus(5000, 1);
    let text = std::str::from_utf8(&text).unwrap();
    let first = send(&mut c, Outgoing::Text(text));
    let mut small = vec![0u8; 50];
    let Err(SendError::BufferTooSmall(e)) = c.send(Outgoing::Text(text), &mut small) else {
        panic!("expected BufferTooSmall");
    };
    assert!(small.iter().all(|&b| b == 0), "nothing written");
    assert!(e.required <= ws_proto::deflate::max_frame_len(text.len()));
    let mut exact = vec![0u8; e.required];
    let n = c.send(Outgoing::Text(text), &mut exact).unwrap();
    let mut wire = first;
    wire.extend_from_slice(&exact[..n]);
    let mut s = server(default_params(), DeflateConfig::default());
    let expected = Got::Message(MessageKind::Text, text.as_bytes().to_vec());
    assert_eq!(receive(&mut s, &wire, 1000), [expected.clone(), expected]);
}

// ---- windows and context takeover, checked by zlib-rs ---------------------------------------

/// Inflates each message of `wire` with zlib-rs limited to `window_bits`, handing it at most
/// 64 output bytes per call so that every back-reference must come from its window.
fn inflate_with_zlib(wire: &[u8], window_bits: u8, fresh_per_message: bool) -> Vec<Vec<u8>> {
    let mut inflater = zlib_rs::Inflate::new(false, window_bits);
    let mut messages = Vec::new();
    let mut current = Vec::new();
    for f in frames(wire) {
        if f.header.opcode.is_control() {
            continue;
        }
        current.extend_from_slice(&f.payload);
        if !f.header.fin {
            continue;
        }
        current.extend_from_slice(&[0, 0, 0xff, 0xff]);
        if fresh_per_message {
            inflater = zlib_rs::Inflate::new(false, window_bits);
        }
        let mut msg = Vec::new();
        let mut input = &current[..];
        loop {
            let mut out = [0u8; 64];
            let before_in = inflater.total_in();
            let before_out = inflater.total_out();
            inflater
                .decompress(input, &mut out, zlib_rs::InflateFlush::SyncFlush)
                .unwrap_or_else(|e| panic!("window {window_bits}: {e:?}"));
            let used = (inflater.total_in() - before_in) as usize;
            let n = (inflater.total_out() - before_out) as usize;
            msg.extend_from_slice(&out[..n]);
            input = &input[used..];
            if input.is_empty() && n < out.len() {
                break;
            }
        }
        messages.push(msg);
        current.clear();
    }
    messages
}

#[test]
fn every_window_size_is_honoured() {
    // Repetitive text at distances of up to several KiB within and across messages.
    let base = corpus(20_000, 5);
    let messages: Vec<Vec<u8>> = (0..6)
        .map(|i| {
            let mut m = base[i * 1000..i * 1000 + 9000].to_vec();
            m.extend_from_slice(&base[..2000]);
            m
        })
        .collect();
    let total: usize = messages.iter().map(Vec::len).sum();
    for bits in 8..=15u8 {
        let params = DeflateParams {
            server_max_window_bits: Some(bits),
            ..DeflateParams::default()
        };
        let mut s = server(params, DeflateConfig::default());
        let mut wire = Vec::new();
        for m in &messages {
            wire.extend(send(&mut s, Outgoing::Binary(m)));
        }
        assert_eq!(
            inflate_with_zlib(&wire, bits, false),
            messages,
            "bits {bits}"
        );
        assert!(wire.len() < total, "bits {bits}: {} of {total}", wire.len());
        // And our own receiver agrees.
        let mut c = client(params, DeflateConfig::default());
        let got = receive(&mut c, &wire, 5000);
        assert_eq!(got.len(), messages.len());
    }
}

#[test]
fn client_window_from_the_response_is_honoured() {
    let mut cfg = DeflateConfig::default();
    cfg.client_no_context_takeover = true;
    let params = parse_response("permessage-deflate; client_max_window_bits=9", &cfg)
        .unwrap()
        .unwrap();
    let mut c = client(params, cfg);
    let text = corpus(30_000, 2);
    let mut wire = Vec::new();
    for _ in 0..3 {
        wire.extend(send(
            &mut c,
            Outgoing::Text(std::str::from_utf8(&text).unwrap()),
        ));
    }
    let got = inflate_with_zlib(&wire, 9, true);
    assert_eq!(got, vec![text.clone(), text.clone(), text]);
}

#[test]
fn context_takeover_shrinks_repeated_messages_and_no_takeover_does_not() {
    let text = corpus(2000, 4);
    let text = std::str::from_utf8(&text).unwrap();
    let sizes = |params: DeflateParams| {
        let mut s = server(params, DeflateConfig::default());
        let a = send(&mut s, Outgoing::Text(text)).len();
        let b = send(&mut s, Outgoing::Text(text)).len();
        (a, b)
    };
    let (a, b) = sizes(default_params());
    assert!(b < a / 4, "takeover: {a} then {b}");
    let no_takeover = DeflateParams {
        server_no_context_takeover: true,
        ..DeflateParams::default()
    };
    let (a, b) = sizes(no_takeover);
    assert_eq!(a, b, "no takeover: every message stands alone");
    // Each message then inflates with a fresh inflater.
    let mut s = server(no_takeover, DeflateConfig::default());
    let mut wire = Vec::new();
    for _ in 0..3 {
        wire.extend(send(&mut s, Outgoing::Text(text)));
    }
    assert_eq!(inflate_with_zlib(&wire, 15, true).len(), 3);
}

#[test]
fn level_zero_stores() {
    let mut cfg = DeflateConfig::default();
    cfg.level = 0;
    let data = corpus(1000, 8);
    let (wire, _) = round_trip(
        default_params(),
        cfg,
        &[(MessageKind::Binary, data.clone())],
        100,
    );
    assert!(wire.len() > data.len());
}

// ---- failures ---------------------------------------------------------------------------------

#[test]
fn corrupt_data_fails_with_1002() {
    // BTYPE = 11 is reserved.
    let mut c = client(default_params(), DeflateConfig::default());
    let got = receive(&mut c, &frame(0xc2, &[0xff, 0xff, 0xff]), 100);
    assert_eq!(
        got,
        [Got::Error(Error::Protocol(
            ProtocolError::DecompressionFailed
        ))]
    );
    assert_eq!(
        c.error(),
        Some(Error::Protocol(ProtocolError::DecompressionFailed))
    );
    let close = frames(&transmit(&mut c));
    assert_eq!(close[0].header.opcode, Opcode::Close);
    assert_eq!(&close[0].payload[..2], &1002u16.to_be_bytes());
    // Sticky: handle_read and inflate keep failing.
    let mut buf = frame(0x81, b"x");
    assert!(c.handle_read(&mut buf).event.is_err());
}

#[test]
fn invalid_utf8_in_compressed_text_fails_fast_with_1007() {
    // A long text message whose first inflated bytes are invalid: the error comes from the
    // first piece, before the rest of the message arrives.
    let mut bad = b"ok \xff".to_vec();
    bad.extend(corpus(100_000, 6));
    let mut s = server(default_params(), DeflateConfig::default());
    // Send as binary, then flip the opcode to text (only the first byte differs).
    let mut wire = send(&mut s, Outgoing::Binary(&bad));
    wire[0] = (wire[0] & 0xf0) | 0x1;
    let mut c = client(default_params(), DeflateConfig::default());
    let mut buf = wire[..200].to_vec();
    let read = c.handle_read(&mut buf);
    let Ok(Some(Event::Text(d))) = read.event else {
        panic!("{:?}", read.event)
    };
    assert!(!d.ends_message);
    let mut out = Vec::new();
    assert_eq!(
        c.inflate(&d, &mut out),
        Err(Error::Protocol(ProtocolError::InvalidUtf8))
    );
    let close = frames(&transmit(&mut c));
    assert_eq!(&close[0].payload[..2], &1007u16.to_be_bytes());
}

#[test]
fn truncated_utf8_at_message_end_fails() {
    let mut s = server(default_params(), DeflateConfig::default());
    let mut wire = send(&mut s, Outgoing::Binary("ab€".as_bytes().split_at(4).0));
    wire[0] = (wire[0] & 0xf0) | 0x1;
    let mut c = client(default_params(), DeflateConfig::default());
    assert_eq!(
        receive(&mut c, &wire, 100),
        [Got::Error(Error::Protocol(ProtocolError::InvalidUtf8))]
    );
}

#[test]
fn inflated_size_limit_fails_with_1009() {
    let data = vec![b'a'; 100_000];
    let mut s = server(default_params(), DeflateConfig::default());
    let wire = send(&mut s, Outgoing::Binary(&data));
    assert!(wire.len() < 1000);
    let mut cfg = config(DeflateConfig::default());
    cfg.max_message_size = 99_999;
    let mut c = Connection::new(Role::Client, cfg.clone(), TestMask(1));
    c.enable_deflate(default_params());
    assert_eq!(
        receive(&mut c, &wire, 100),
        [Got::Error(Error::Protocol(ProtocolError::MessageTooBig))]
    );
    let close = frames(&transmit(&mut c));
    assert_eq!(&close[0].payload[..2], &1009u16.to_be_bytes());
    // Exactly at the limit is fine.
    cfg.max_message_size = 100_000;
    let mut c = Connection::new(Role::Client, cfg, TestMask(1));
    c.enable_deflate(default_params());
    assert_eq!(
        receive(&mut c, &wire, 100),
        [Got::Message(MessageKind::Binary, data)]
    );
}

// ---- properties -------------------------------------------------------------------------------

fn arb_params() -> impl Strategy<Value = DeflateParams> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(8u8..=15),
        proptest::option::of(8u8..=15),
    )
        .prop_map(|(s, c, sb, cb)| DeflateParams {
            server_no_context_takeover: s,
            client_no_context_takeover: c,
            server_max_window_bits: sb,
            client_max_window_bits: cb,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any messages, any parameters, any read chunking: what is sent is what is inflated, and
    /// the compressed output never exceeds the advertised bound (the send succeeded with a
    /// buffer of exactly `required` bytes whenever it was too small).
    #[test]
    fn prop_round_trip(
        params in arb_params(),
        level in 0u8..=9,
        msgs in proptest::collection::vec(
            (any::<bool>(), 0usize..6000, any::<u64>(), any::<bool>()), 1..6),
        chunk in 1usize..3000,
    ) {
        let mut cfg = DeflateConfig::default();
        cfg.level = level;
        let messages: Vec<(MessageKind, Vec<u8>)> = msgs
            .into_iter()
            .map(|(text, len, seed, random)| {
                if text {
                    (MessageKind::Text, corpus(len, seed))
                } else if random {
                    (MessageKind::Binary, random_bytes(len, seed))
                } else {
                    (MessageKind::Binary, corpus(len, seed))
                }
            })
            .collect();
        round_trip(params, cfg, &messages, chunk);
    }

    /// Fragmented compressed sends of any split inflate to the whole message.
    #[test]
    fn prop_fragments(
        len in 0usize..20_000,
        cuts in proptest::collection::vec(0usize..20_000, 0..5),
        seed in any::<u64>(),
    ) {
        let data = random_bytes(len / 2, seed).into_iter().chain(corpus(len / 2, seed)).collect::<Vec<_>>();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        cuts.sort_unstable();
        cuts.push(data.len());
        let mut c = client(default_params(), DeflateConfig::default());
        let mut wire = Vec::new();
        let mut start = 0;
        for (i, &end) in cuts.iter().enumerate() {
            wire.extend(send(&mut c, Outgoing::Fragment {
                kind: MessageKind::Binary,
                payload: &data[start..end],
                fin: i == cuts.len() - 1,
            }));
            start = end;
        }
        let mut s = server(default_params(), DeflateConfig::default());
        prop_assert_eq!(receive(&mut s, &wire, 777), vec![Got::Message(MessageKind::Binary, data)]);
    }

    /// Garbage marked compressed never panics; it fails or inflates within the limit.
    #[test]
    fn prop_garbage_never_panics(payload in proptest::collection::vec(any::<u8>(), 0..120)) {
        let mut cfg = config(DeflateConfig::default());
        cfg.max_message_size = 4096;
        let mut c = Connection::new(Role::Client, cfg, TestMask(1));
        c.enable_deflate(default_params());
        for g in receive(&mut c, &frame(0xc2, &payload), 7) {
            if let Got::Message(_, m) = g {
                prop_assert!(m.len() <= 4096);
            }
        }
    }
}
