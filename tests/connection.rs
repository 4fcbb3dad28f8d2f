//! Behaviour of the connection state machine: RFC 6455 §5.7 vectors, every protocol error with
//! its close code, the close handshake, control replies, limits, and the send API.

mod common;

use common::*;
use ws_proto::connection::MessageKind::{Binary, Text};
use ws_proto::mask_source::NoMask;
use ws_proto::{
    ApiMisuse, BufferTooSmall, CloseCode, Config, Connection, Error, Outgoing, ProtocolError, Role,
    SendError, SendKind, State,
};

fn server() -> Connection<NoMask> {
    Connection::new(Role::Server, Config::default(), NoMask)
}

fn client() -> Connection<TestMask> {
    Connection::new(Role::Client, Config::default(), TestMask(7))
}

fn data(
    kind: ws_proto::MessageKind,
    payload: &[u8],
    starts: bool,
    ends_frame: bool,
    ends: bool,
) -> Ev {
    Ev::Data {
        kind,
        payload: payload.to_vec(),
        starts_message: starts,
        ends_frame,
        ends_message: ends,
    }
}

#[test]
fn rfc6455_5_7_examples_at_the_client() {
    let mut c = client();
    let mut r = Reader::default();
    // A single-frame unmasked text message.
    let ev = r.feed(&mut c, &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(ev, [data(Text, b"Hello", true, true, true)]);
    // A fragmented unmasked text message.
    let ev = r.feed(
        &mut c,
        &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
    );
    assert_eq!(
        ev,
        [
            data(Text, b"Hel", true, true, false),
            data(Text, b"lo", false, true, true)
        ]
    );
    // Unmasked ping.
    let ev = r.feed(&mut c, &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(ev, [Ev::Ping(b"Hello".to_vec())]);
    // 256 bytes and 64 KiB binary messages in single unmasked frames.
    let mut f = vec![0x82, 0x7e, 0x01, 0x00];
    f.extend([0x42; 256]);
    assert_eq!(
        r.feed(&mut c, &f),
        [data(Binary, &[0x42; 256], true, true, true)]
    );
    let mut f = vec![0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
    f.extend(vec![0x43; 65536]);
    assert_eq!(
        r.feed(&mut c, &f),
        [data(Binary, &vec![0x43; 65536], true, true, true)]
    );
    assert!(r.buf.is_empty());
}

#[test]
fn rfc6455_5_7_masked_examples_at_the_server() {
    let mut s = server();
    let mut r = Reader::default();
    let hello = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(
        r.feed(&mut s, &hello),
        [data(Text, b"Hello", true, true, true)]
    );
    let pong = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(r.feed(&mut s, &pong), [Ev::Pong(b"Hello".to_vec())]);
}

#[test]
fn payload_is_unmasked_in_place_in_the_callers_buffer() {
    let mut s = server();
    let mut buf = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let start = buf.as_ptr() as usize;
    let read = s.handle_read(&mut buf);
    let Ok(Some(ws_proto::Event::Text(d))) = read.event else {
        panic!()
    };
    assert_eq!(
        d.payload.as_ptr() as usize,
        start + 6,
        "payload borrows the input"
    );
    assert_eq!(d.payload, b"Hello");
    assert_eq!(read.consumed, 11);
}

#[test]
fn server_frames_render_the_rfc_examples() {
    let mut s = server();
    assert_eq!(
        encode(&mut s, Outgoing::Text("Hello")),
        [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
    let f1 = encode(
        &mut s,
        Outgoing::Fragment {
            kind: Text,
            payload: b"Hel",
            fin: false,
        },
    );
    let f2 = encode(
        &mut s,
        Outgoing::Fragment {
            kind: Text,
            payload: b"lo",
            fin: true,
        },
    );
    assert_eq!(f1, [0x01, 0x03, 0x48, 0x65, 0x6c]);
    assert_eq!(f2, [0x80, 0x02, 0x6c, 0x6f]);
    assert_eq!(
        encode(&mut s, Outgoing::Ping(b"Hello")),
        [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
}

/// Feeds `bytes` to a fresh connection of `role` and expects `err`, the matching close frame
/// queued, and the error repeated on the next call.
fn expect_error(role: Role, config: Config, bytes: &[u8], err: ProtocolError, code: CloseCode) {
    let mut events = Vec::new();
    let mut c = Connection::new(role, config, TestMask(3));
    let mut r = Reader::default();
    events.extend(r.feed(&mut c, bytes));
    assert_eq!(
        events.last(),
        Some(&Ev::Error(Error::Protocol(err))),
        "{bytes:x?}"
    );
    assert_eq!(err.close_code(), code);
    // Sticky.
    let mut more = [0x81, 0x00];
    let again = c.handle_read(&mut more);
    assert_eq!(again.event.unwrap_err(), Error::Protocol(err));
    // The close frame with the code goes out, then nothing.
    let out = drain_transmit(&mut c);
    let mut peer = Connection::new(role.peer(), Config::default(), TestMask(9));
    let seen = Reader::default().feed(&mut peer, &out);
    match &seen[..] {
        [Ev::Close(c, _)] => assert_eq!(*c, code),
        other => panic!("expected a close frame, got {other:?}"),
    }
    assert_eq!(c.state(), State::Closed);
    assert!(drain_transmit(&mut c).is_empty());
}

#[test]
fn every_protocol_error_has_its_close_code() {
    use ProtocolError::*;
    let pe = CloseCode::PROTOCOL_ERROR;
    let cases: Vec<(Vec<u8>, ProtocolError, CloseCode)> = vec![
        (server_frame(0x81, b"hi"), MaskMissing, pe),
        (client_frame(0xc1, b"hi"), ReservedBits(4), pe),
        (client_frame(0x91, b"hi"), ReservedBits(1), pe),
        (client_frame(0x83, b""), ReservedOpcode(3), pe),
        (client_frame(0x8f, b""), ReservedOpcode(0xf), pe),
        (client_frame(0x89, &[0; 126]), ControlFrameTooLong, pe),
        (client_frame(0x09, b""), ControlFrameFragmented, pe),
        (client_frame(0x80, b"x"), UnexpectedContinuation, pe),
        (
            [client_frame(0x01, b"a"), client_frame(0x81, b"b")].concat(),
            ExpectedContinuation,
            pe,
        ),
        (client_frame(0x88, &[0x03]), CloseFrameTooShort, pe),
        (client_frame(0x88, &[0x03, 0xe7]), InvalidCloseCode(999), pe),
        (
            client_frame(0x88, &[0x03, 0xec]),
            InvalidCloseCode(1004),
            pe,
        ),
        (
            client_frame(0x88, &[0x03, 0xed]),
            InvalidCloseCode(1005),
            pe,
        ),
        (
            client_frame(0x88, &[0x03, 0xee]),
            InvalidCloseCode(1006),
            pe,
        ),
        (
            client_frame(0x88, &[0x03, 0xf7]),
            InvalidCloseCode(1015),
            pe,
        ),
        (
            client_frame(0x88, &[0x03, 0xf8]),
            InvalidCloseCode(1016),
            pe,
        ),
        (
            client_frame(0x88, &[0x0b, 0xb7]),
            InvalidCloseCode(2999),
            pe,
        ),
        (
            client_frame(0x88, &[0x13, 0x88]),
            InvalidCloseCode(5000),
            pe,
        ),
        (
            client_frame(0x88, &[0x03, 0xe8, 0xff]),
            InvalidUtf8,
            CloseCode::INVALID_PAYLOAD,
        ),
        (
            client_frame(0x81, &[0xce, 0xba, 0xff]),
            InvalidUtf8,
            CloseCode::INVALID_PAYLOAD,
        ),
        (
            vec![0x82, 0xfe, 0x00, 0x10, 1, 2, 3, 4],
            NonMinimalLength,
            pe,
        ),
        (
            vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0],
            InvalidLength,
            pe,
        ),
    ];
    for (bytes, err, code) in cases {
        expect_error(Role::Server, Config::default(), &bytes, err, code);
    }
    expect_error(
        Role::Client,
        Config::default(),
        &client_frame(0x81, b"hi"),
        MaskUnexpected,
        CloseCode::PROTOCOL_ERROR,
    );
}

#[test]
fn limits_fail_with_1009_before_any_byte_of_the_frame() {
    let mut config = Config::default();
    config.max_frame_payload = 100;
    config.max_message_size = 150;
    config.max_fragments = 3;
    let tb = CloseCode::TOO_BIG;
    // Announced length alone triggers it: no payload bytes needed.
    expect_error(
        Role::Server,
        config.clone(),
        &client_frame(0x82, &[0; 101])[..8],
        ProtocolError::FrameTooBig,
        tb,
    );
    let two = [client_frame(0x02, &[1; 100]), client_frame(0x80, &[2; 51])].concat();
    expect_error(
        Role::Server,
        config.clone(),
        &two,
        ProtocolError::MessageTooBig,
        tb,
    );
    let many = [
        client_frame(0x02, b"a"),
        client_frame(0x00, b"b"),
        client_frame(0x00, b"c"),
        client_frame(0x80, b"d"),
    ]
    .concat();
    expect_error(
        Role::Server,
        config.clone(),
        &many,
        ProtocolError::FragmentLimit,
        tb,
    );

    // Nothing of the offending frame is delivered; what came before is.
    let mut s = Connection::new(Role::Server, config, NoMask);
    let ev = Reader::default().feed(&mut s, &two);
    assert_eq!(ev[0], data(Binary, &[1; 100], true, true, false));
    assert_eq!(
        ev[1],
        Ev::Error(Error::Protocol(ProtocolError::MessageTooBig))
    );
    assert_eq!(ev.len(), 2);
}

#[test]
fn invalid_utf8_is_detected_when_the_offending_byte_arrives() {
    let mut s = server();
    let mut r = Reader::default();
    // A 10-byte text frame: "κ" then 0xff; feed the header and the first 3 payload bytes.
    let mut payload = "κ".as_bytes().to_vec();
    payload.extend([0xff; 8]);
    let f = client_frame(0x81, &payload);
    let ev = r.feed(&mut s, &f[..6 + 2]);
    assert_eq!(ev, [data(Text, "κ".as_bytes(), true, false, false)]);
    let ev = r.feed(&mut s, &f[8..9]);
    assert_eq!(ev, [Ev::Error(Error::Protocol(ProtocolError::InvalidUtf8))]);

    // Across fragments: the second fragment's first byte completes an invalid sequence.
    let mut s = server();
    let bytes = [
        client_frame(0x01, &[0xf4]),
        client_frame(0x80, &[0x90, 0x80, 0x80]),
    ]
    .concat();
    let ev = Reader::default().feed(&mut s, &bytes);
    assert_eq!(
        ev.last(),
        Some(&Ev::Error(Error::Protocol(ProtocolError::InvalidUtf8)))
    );
    // A message ending inside a code point.
    let mut s = server();
    let ev = Reader::default().feed(&mut s, &client_frame(0x81, &[0xe2, 0x82]));
    assert_eq!(
        ev.last(),
        Some(&Ev::Error(Error::Protocol(ProtocolError::InvalidUtf8)))
    );
}

#[test]
fn control_frames_inside_a_fragmented_message() {
    let mut s = server();
    let bytes = [
        client_frame(0x01, b"fra"),
        client_frame(0x89, b"p"),
        client_frame(0x00, b"gme"),
        client_frame(0x8a, b"q"),
        client_frame(0x80, b"nted"),
    ]
    .concat();
    let ev = Reader::default().feed(&mut s, &bytes);
    assert_eq!(
        normalise(&ev),
        [
            Norm::Ping(b"p".to_vec()),
            Norm::Pong(b"q".to_vec()),
            Norm::Message(Text, b"fragmented".to_vec()),
        ]
    );
    // The auto-pong went out.
    let out = drain_transmit(&mut s);
    assert_eq!(out, server_frame(0x8a, b"p"));
}

#[test]
fn only_the_latest_ping_is_answered_and_auto_pong_can_be_off() {
    let mut s = server();
    let bytes = [client_frame(0x89, b"1"), client_frame(0x89, b"2")].concat();
    Reader::default().feed(&mut s, &bytes);
    assert_eq!(drain_transmit(&mut s), server_frame(0x8a, b"2"));

    let mut config = Config::default();
    config.auto_pong = false;
    let mut s = Connection::new(Role::Server, config, NoMask);
    let ev = Reader::default().feed(&mut s, &client_frame(0x89, b"1"));
    assert_eq!(ev, [Ev::Ping(b"1".to_vec())]);
    assert!(drain_transmit(&mut s).is_empty());
}

#[test]
fn close_handshake_started_by_the_client() {
    let mut p = Pair::new(Config::default());
    p.send(Role::Client, Outgoing::Text("bye soon"));
    p.client.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(p.client.state(), State::LocalClosing);
    assert_eq!(
        p.client.send(Outgoing::Text("late"), &mut [0; 64]),
        Err(SendError::Misuse(ApiMisuse::Closing))
    );
    let (at_client, at_server) = p.drive();
    assert_eq!(
        normalise(&at_server),
        [
            Norm::Message(Text, b"bye soon".to_vec()),
            Norm::Close(CloseCode::NORMAL, "done".into())
        ]
    );
    // The server echoed the code.
    assert_eq!(at_client, [Ev::Close(CloseCode::NORMAL, String::new())]);
    assert_eq!(p.client.state(), State::Closed);
    assert_eq!(p.server.state(), State::Closed);
    assert_eq!(p.client.handle_eof(), CloseCode::NORMAL);
}

#[test]
fn close_with_no_status_sends_an_empty_body() {
    let mut p = Pair::new(Config::default());
    p.server.close(CloseCode::NO_STATUS, "").unwrap();
    let (at_client, at_server) = p.drive();
    assert_eq!(at_client, [Ev::Close(CloseCode::NO_STATUS, String::new())]);
    assert_eq!(at_server, [Ev::Close(CloseCode::NO_STATUS, String::new())]);
    assert_eq!(p.server.state(), State::Closed);
}

#[test]
fn close_rejects_bad_codes_and_long_reasons() {
    let mut s = server();
    assert_eq!(
        s.close(CloseCode::ABNORMAL, ""),
        Err(ApiMisuse::CloseCodeNotSendable(1006))
    );
    assert_eq!(
        s.close(CloseCode(999), ""),
        Err(ApiMisuse::CloseCodeNotSendable(999))
    );
    let long = "x".repeat(124);
    assert_eq!(
        s.close(CloseCode::NORMAL, &long),
        Err(ApiMisuse::ControlPayloadTooLong)
    );
    assert_eq!(s.state(), State::Open);
    s.close(CloseCode(4000), &long[..123]).unwrap();
    let out = drain_transmit(&mut s);
    assert_eq!(out.len(), 2 + 125);
}

#[test]
fn eof_without_close_is_abnormal() {
    let mut s = server();
    assert_eq!(s.handle_eof(), CloseCode::ABNORMAL);
    assert_eq!(s.state(), State::Closed);
    assert_eq!(
        s.send(Outgoing::Text("x"), &mut [0; 16]),
        Err(SendError::Misuse(ApiMisuse::Closing))
    );
}

#[test]
fn bytes_after_the_peers_close_are_ignored() {
    let mut s = server();
    let bytes = [
        client_frame(0x88, &[0x03, 0xe8]),
        client_frame(0x81, b"late"),
    ]
    .concat();
    let mut r = Reader::default();
    let ev = r.feed(&mut s, &bytes);
    assert_eq!(ev, [Ev::Close(CloseCode::NORMAL, String::new())]);
    assert!(r.buf.is_empty());
    assert_eq!(s.state(), State::RemoteClosing);
    assert_eq!(drain_transmit(&mut s), server_frame(0x88, &[0x03, 0xe8]));
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn send_too_small_writes_nothing_and_changes_nothing() {
    let mut c = client();
    let mut out = [0xa5u8; 10];
    assert_eq!(
        c.send(Outgoing::Binary(&[1; 5]), &mut out),
        Err(SendError::BufferTooSmall(BufferTooSmall { required: 11 }))
    );
    assert_eq!(out, [0xa5; 10]);
    // Fragment state unchanged by a failed send.
    let frag = Outgoing::Fragment {
        kind: Text,
        payload: &[b'a'; 20],
        fin: false,
    };
    assert!(c.send(frag, &mut out).is_err());
    assert!(!c.is_sending_fragmented());
    assert_eq!(
        c.send(Outgoing::Ping(&[0; 126]), &mut [0; 200]),
        Err(SendError::Misuse(ApiMisuse::ControlPayloadTooLong))
    );
}

#[test]
fn fragmented_send_rules() {
    let mut p = Pair::new(Config::default());
    p.send(
        Role::Client,
        Outgoing::Fragment {
            kind: Binary,
            payload: b"ab",
            fin: false,
        },
    );
    assert_eq!(
        p.client.send(
            Outgoing::Fragment {
                kind: Text,
                payload: b"x",
                fin: true
            },
            &mut [0; 64]
        ),
        Err(SendError::Misuse(ApiMisuse::MessageKindMismatch))
    );
    p.send(Role::Client, Outgoing::Ping(b"mid"));
    p.send(
        Role::Client,
        Outgoing::Fragment {
            kind: Binary,
            payload: b"cd",
            fin: true,
        },
    );
    let (_, at_server) = p.drive();
    assert_eq!(
        normalise(&at_server),
        [
            Norm::Ping(b"mid".to_vec()),
            Norm::Message(Binary, b"abcd".to_vec())
        ]
    );
}

#[test]
fn send_in_place_masks_the_callers_payload() {
    let mut c = client();
    let mut payload = *b"zero-copy";
    let head = c
        .send_in_place(SendKind::Binary, &mut payload, true)
        .unwrap();
    assert_ne!(&payload, b"zero-copy", "client payload masked in place");
    let wire = [head.as_bytes(), &payload].concat();
    let ev = Reader::default().feed(&mut server(), &wire);
    assert_eq!(ev, [data(Binary, b"zero-copy", true, true, true)]);

    let mut s = server();
    let mut payload = *b"plain";
    let head = s.send_in_place(SendKind::Text, &mut payload, true).unwrap();
    assert_eq!(head.as_bytes(), [0x81, 0x05]);
    assert_eq!(&payload, b"plain");
}

#[test]
fn large_frame_arrives_in_pieces_as_bytes_come() {
    let mut s = server();
    let payload: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    let f = client_frame(0x82, &payload);
    let mut r = Reader::default();
    let mut got = Vec::new();
    let mut pieces = 0;
    for chunk in f.chunks(97) {
        for e in r.feed(&mut s, chunk) {
            let Ev::Data {
                payload,
                ends_message,
                ..
            } = e
            else {
                panic!()
            };
            got.extend(payload);
            pieces += 1;
            assert_eq!(ends_message, got.len() == 1000);
        }
    }
    assert_eq!(got, payload);
    assert!(pieces >= 10);
}

#[test]
fn empty_messages_and_frames() {
    let mut s = server();
    let bytes = [
        client_frame(0x81, b""),
        client_frame(0x02, b""),
        client_frame(0x80, b""),
    ]
    .concat();
    let ev = Reader::default().feed(&mut s, &bytes);
    assert_eq!(
        ev,
        [
            data(Text, b"", true, true, true),
            data(Binary, b"", true, true, false),
            data(Binary, b"", false, true, true),
        ]
    );
}

#[test]
fn connection_state_is_small() {
    let size = size_of::<Connection<NoMask>>();
    println!("size_of::<Connection<NoMask>>() = {size}");
    // 736: the client handshake phase keeps its offered subprotocols and extension names
    // (104 bytes, exact) to check the server's answer without an allocator.
    // deflate adds one pointer to its boxed state (16 bytes with padding).
    let limit = if cfg!(feature = "deflate") { 752 } else { 736 };
    assert!(size <= limit, "connection state grew to {size} bytes");
}

#[test]
fn assembler_rebuilds_whole_messages() {
    use ws_proto::message::{Message, MessageAssembler};
    let mut s = server();
    let bytes = [
        client_frame(0x01, "κό".as_bytes()),
        client_frame(0x89, b"ping"),
        client_frame(0x80, "σμε".as_bytes()),
        client_frame(0x82, &[1, 2, 3]),
        client_frame(0x88, b"\x03\xe8ok"),
    ]
    .concat();
    let mut asm = MessageAssembler::new();
    let mut got = Vec::new();
    let mut buf = bytes.clone();
    let mut start = 0;
    // Deliver in 3-byte reads so that pieces split code points.
    let mut filled = 0;
    while filled < buf.len() || start < filled {
        filled = (filled + 3).min(buf.len());
        loop {
            let read = s.handle_read(&mut buf[start..filled]);
            let consumed = read.consumed;
            if let Some(ev) = read.event.unwrap() {
                got.extend(asm.push(&ev));
            } else if consumed == 0 {
                break;
            }
            start += consumed;
        }
        if filled == buf.len() && start == filled {
            break;
        }
    }
    assert_eq!(
        got,
        [
            Message::Ping(b"ping".to_vec()),
            Message::Text("κόσμε".into()),
            Message::Binary(vec![1, 2, 3]),
            Message::Close(CloseCode::NORMAL, "ok".into()),
        ]
    );
}

#[test]
fn send_header_is_for_servers() {
    let mut s = server();
    let head = s.send_header(SendKind::Binary, 300, true).unwrap();
    assert_eq!(head.as_bytes(), [0x82, 0x7e, 0x01, 0x2c]);
    let mut c = client();
    assert_eq!(
        c.send_header(SendKind::Binary, 3, true),
        Err(SendError::Misuse(ApiMisuse::ClientMustMask))
    );
}

#[test]
fn a_whole_message_cannot_interrupt_a_fragmented_one() {
    let mut c = client();
    let mut out = [0u8; 64];
    c.send(
        Outgoing::Fragment {
            kind: Text,
            payload: b"ab",
            fin: false,
        },
        &mut out,
    )
    .unwrap();
    assert_eq!(
        c.send(Outgoing::Text("whole"), &mut out),
        Err(SendError::Misuse(ApiMisuse::MessageInProgress))
    );
    assert_eq!(
        c.send(Outgoing::Binary(b"whole"), &mut out),
        Err(SendError::Misuse(ApiMisuse::MessageInProgress))
    );
    c.send(
        Outgoing::Fragment {
            kind: Text,
            payload: b"cd",
            fin: true,
        },
        &mut out,
    )
    .unwrap();
    c.send(Outgoing::Text("whole"), &mut out).unwrap();
}
