//! The blocking adapter against a real TCP peer on loopback.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use ws_proto::adapters::blocking::{RETAINED_WRITE_CAPACITY, Reader, WebSocket, Writer};
use ws_proto::adapters::{DEFAULT_READ_BUFFER, Error};
use ws_proto::mask_source::NoMask;
use ws_proto::message::Message;
use ws_proto::{CloseCode, Config, Connection, OsRandom, Outgoing, ProtocolError, Role};

/// A connected (client socket, server socket) pair.
fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

fn open_pair(
    client_config: Config,
    server_config: Config,
) -> (WebSocket<TcpStream, OsRandom>, WebSocket<TcpStream>) {
    let (c, s) = tcp_pair();
    let client = WebSocket::from_connection(
        c,
        Connection::new(Role::Client, client_config, OsRandom::new()),
    );
    let server =
        WebSocket::from_connection(s, Connection::new(Role::Server, server_config, NoMask));
    (client, server)
}

#[test]
fn messages_larger_than_the_read_buffer_round_trip() {
    let (mut client, mut server) = open_pair(Config::default(), Config::default());
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let expected = big.clone();
    let echo = thread::spawn(move || {
        for _ in 0..3 {
            match server.read().unwrap() {
                Message::Text(t) => server.send(Outgoing::Text(&t)).unwrap(),
                Message::Binary(b) => server.send(Outgoing::Binary(&b)).unwrap(),
                other => panic!("unexpected {other:?}"),
            }
        }
        server
    });
    client.send(Outgoing::Text("héllo")).unwrap();
    client.send(Outgoing::Binary(&big)).unwrap();
    client.send(Outgoing::Text("")).unwrap();
    assert_eq!(client.read().unwrap(), Message::Text("héllo".into()));
    assert_eq!(client.read().unwrap(), Message::Binary(expected));
    assert_eq!(client.read().unwrap(), Message::Text(String::new()));
    let server = echo.join().unwrap();
    // The read buffer did not grow for the 1 MB message (it streamed through), and the write
    // queue let go of the 1 MB echo.
    assert!(server.heap_bytes() <= DEFAULT_READ_BUFFER + RETAINED_WRITE_CAPACITY);
}

#[test]
fn pings_are_answered_and_reported() {
    let (mut client, mut server) = open_pair(Config::default(), Config::default());
    client.send(Outgoing::Ping(b"are you there")).unwrap();
    assert_eq!(
        server.read().unwrap(),
        Message::Ping(b"are you there".to_vec())
    );
    assert_eq!(
        client.read().unwrap(),
        Message::Pong(b"are you there".to_vec())
    );
}

#[test]
fn closing_handshake_from_either_side() {
    let (mut client, mut server) = open_pair(Config::default(), Config::default());
    client.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(
        server.read().unwrap(),
        Message::Close(CloseCode::NORMAL, "done".into())
    );
    // The server's reply went out with that read; its side is now closed.
    assert!(matches!(server.read(), Err(Error::Closed)));
    assert_eq!(
        client.read().unwrap(),
        Message::Close(CloseCode::NORMAL, String::new())
    );
    assert!(matches!(client.read(), Err(Error::Closed)));
    assert!(matches!(
        client.send(Outgoing::Text("late")),
        Err(Error::Misuse(_))
    ));
}

#[test]
fn eof_without_close_is_unexpected() {
    let (client, mut server) = open_pair(Config::default(), Config::default());
    drop(client);
    match server.read() {
        Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::UnexpectedEof),
        other => panic!("{other:?}"),
    }
    assert!(matches!(server.read(), Err(Error::Closed)));
}

#[test]
fn protocol_violation_fails_with_close_1002() {
    let (mut raw_client, s) = tcp_pair();
    let mut server =
        WebSocket::from_connection(s, Connection::new(Role::Server, Config::default(), NoMask));
    // An unmasked text frame from a "client".
    raw_client.write_all(&[0x81, 0x02, b'h', b'i']).unwrap();
    match server.read() {
        Err(Error::Protocol(ws_proto::Error::Protocol(ProtocolError::MaskMissing))) => {}
        other => panic!("{other:?}"),
    }
    let mut close = [0u8; 4];
    raw_client.read_exact(&mut close).unwrap();
    assert_eq!(close[0], 0x88);
    assert_eq!(u16::from_be_bytes([close[2], close[3]]), 1002);
}

#[test]
fn keepalive_reports_a_silent_peer_through_read_timeouts() {
    let mut cfg = Config::default();
    cfg.keepalive_interval = Some(Duration::from_millis(100));
    cfg.pong_timeout = Duration::from_millis(150);
    let (c, mut silent_peer) = tcp_pair();
    let mut client =
        WebSocket::from_connection(c, Connection::new(Role::Client, cfg, OsRandom::new()));
    let start = Instant::now();
    let mut ticks = 0;
    let outcome = loop {
        let timeout = client.timeout().unwrap_or(Duration::from_millis(10));
        client
            .get_mut()
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .unwrap();
        match client.read() {
            Err(Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                ticks += 1;
            }
            other => break other,
        }
        assert!(start.elapsed() < Duration::from_secs(5), "no timeout");
    };
    let elapsed = start.elapsed();
    assert!(
        matches!(outcome, Err(Error::Protocol(ws_proto::Error::TimedOut))),
        "{outcome:?}"
    );
    assert!(ticks >= 1);
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    // The silent peer did receive the keepalive ping (client frames are masked: 0x89 0x80|len).
    let mut head = [0u8; 2];
    silent_peer.read_exact(&mut head).unwrap();
    assert_eq!(head[0], 0x89);
}

#[test]
fn split_reader_and_cloned_writers_share_one_connection() {
    let (c, s) = tcp_pair();
    let client = WebSocket::from_connection(
        c,
        Connection::new(Role::Client, Config::default(), OsRandom::new()),
    );
    let mut server =
        WebSocket::from_connection(s, Connection::new(Role::Server, Config::default(), NoMask));
    let (mut reader, writer): (Reader<_, _>, Writer<_, _>) = client.split().unwrap();
    // Two writer threads send concurrently while the reader blocks.
    let senders: Vec<_> = (0..2)
        .map(|w| {
            let writer = writer.clone();
            thread::spawn(move || {
                for i in 0..200 {
                    writer.send(Outgoing::Text(&format!("{w}:{i}"))).unwrap();
                }
            })
        })
        .collect();
    let mut next = [0, 0];
    for _ in 0..400 {
        let Message::Text(t) = server.read().unwrap() else {
            panic!("text expected")
        };
        let (w, i) = t.split_once(':').unwrap();
        let w: usize = w.parse().unwrap();
        assert_eq!(i.parse::<usize>().unwrap(), next[w], "per-writer order");
        next[w] += 1;
        server.send(Outgoing::Text(&t)).unwrap();
    }
    for s in senders {
        s.join().unwrap();
    }
    for _ in 0..400 {
        assert!(matches!(reader.read().unwrap(), Message::Text(_)));
    }
    writer.close(CloseCode::GOING_AWAY, "").unwrap();
    assert_eq!(
        server.read().unwrap(),
        Message::Close(CloseCode::GOING_AWAY, String::new())
    );
    assert!(matches!(reader.read().unwrap(), Message::Close(..)));
    assert!(matches!(reader.read(), Err(Error::Closed)));
}

#[test]
fn leftover_bytes_are_read_first() {
    let (c, s) = tcp_pair();
    let mut client = WebSocket::from_connection(
        c,
        Connection::new(Role::Client, Config::default(), OsRandom::new()),
    );
    // Frames that arrived in the same read as an upgrade request, handed over.
    let mut frame = [0u8; 64];
    let mut peer = Connection::new(Role::Client, Config::default(), NoMask);
    let n = peer.send(Outgoing::Text("early"), &mut frame).unwrap();
    let mut server = WebSocket::with_read_buffer(
        s,
        Connection::new(Role::Server, Config::default(), NoMask),
        256,
        &frame[..n],
    );
    assert_eq!(server.read().unwrap(), Message::Text("early".into()));
    client.send(Outgoing::Text("later")).unwrap();
    assert_eq!(server.read().unwrap(), Message::Text("later".into()));
}

#[test]
fn idle_memory_per_connection() {
    let (client, server) = open_pair(Config::default(), Config::default());
    let size = size_of::<WebSocket<TcpStream>>();
    let heap = server.heap_bytes();
    println!(
        "blocking WebSocket<TcpStream>: size_of {size} B + heap {heap} B = {} B per idle connection",
        size + heap
    );
    assert_eq!(heap, DEFAULT_READ_BUFFER);
    assert!(size < 1024, "{size}");
    drop(client);
}

#[test]
fn opening_handshake_both_roles() {
    use ws_proto::adapters::Decision;
    use ws_proto::adapters::blocking::{accept_with, connect};
    use ws_proto::handshake::ClientRequest;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        let mut seen = None;
        let mut ws = accept_with(s, Config::default(), |req| {
            seen = Some((req.path().to_string(), req.query().map(str::to_string)));
            match req.subprotocols().find(|p| *p == "chat") {
                Some(p) => Decision::AcceptProtocol(p.to_string()),
                None => Decision::Accept,
            }
        })
        .unwrap();
        let m = ws.read().unwrap();
        (seen, m)
    });
    let url = format!("ws://{addr}/room?token=abc");
    let request = ClientRequest {
        url: &url,
        protocols: &["other", "chat"],
        ..Default::default()
    };
    let mut client = connect(
        TcpStream::connect(addr).unwrap(),
        &request,
        Config::default(),
    )
    .unwrap();
    client.send(Outgoing::Text("hi")).unwrap();
    let (seen, m) = server.join().unwrap();
    assert_eq!(
        seen,
        Some(("/room".to_string(), Some("token=abc".to_string())))
    );
    assert_eq!(m, Message::Text("hi".into()));
}

#[test]
fn rejected_upgrade_reaches_the_client_with_its_status() {
    use ws_proto::adapters::Decision;
    use ws_proto::adapters::blocking::{accept_with, connect};
    use ws_proto::handshake::ClientRequest;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        accept_with(s, Config::default(), |req| match req.origin() {
            Some("http://good.example") => Decision::Accept,
            _ => Decision::Reject(403, "bad origin".into()),
        })
        .map(drop)
    });
    let url = format!("ws://{addr}/");
    let request = ClientRequest {
        url: &url,
        origin: Some("http://evil.example"),
        ..Default::default()
    };
    let got = connect(
        TcpStream::connect(addr).unwrap(),
        &request,
        Config::default(),
    )
    .map(drop);
    assert!(matches!(got, Err(Error::Rejected(403))), "{got:?}");
    assert!(matches!(server.join().unwrap(), Err(Error::Rejected(403))));
}

#[test]
fn invalid_upgrade_request_gets_an_http_error() {
    let (mut c, s) = tcp_pair();
    let server =
        thread::spawn(move || ws_proto::adapters::blocking::accept(s, Config::default()).map(drop));
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut response = String::new();
    c.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 4"), "{response}");
    assert!(matches!(server.join().unwrap(), Err(Error::Protocol(_))));
}

#[test]
fn eof_during_the_handshake_is_an_error_not_a_hang() {
    let (c, s) = tcp_pair();
    let server =
        thread::spawn(move || ws_proto::adapters::blocking::accept(s, Config::default()).map(drop));
    let mut c = c;
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap(); // half a head
    drop(c);
    match server.join().unwrap() {
        Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::UnexpectedEof),
        other => panic!("{other:?}"),
    }
}
