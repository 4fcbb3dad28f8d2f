//! The embedded-io-async adapter, driven on the host: a blocking TCP socket behind the async
//! traits (its futures are always ready) against the blocking adapter as the peer.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::task::{Context, Poll, Waker};
use std::thread;

use ws_proto::adapters::blocking;
use ws_proto::adapters::embedded::{Error, RxBuffer, WebSocket};
use ws_proto::mask_source::NoMask;
use ws_proto::message::Message;
use ws_proto::{CloseCode, Config, Connection, Event, OsRandom, Outgoing, Role, SendKind};

/// Polls a future whose I/O never waits.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[derive(Debug)]
struct IoError(#[allow(dead_code)] std::io::Error);

impl core::fmt::Display for IoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{self:?}")
    }
}
impl std::error::Error for IoError {}
impl embedded_io_async::Error for IoError {
    fn kind(&self) -> embedded_io_async::ErrorKind {
        embedded_io_async::ErrorKind::Other
    }
}

/// A blocking socket behind the async traits.
struct Blocking(TcpStream);

impl embedded_io_async::ErrorType for Blocking {
    type Error = IoError;
}
impl embedded_io_async::Read for Blocking {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        self.0.read(buf).map_err(IoError)
    }
}
impl embedded_io_async::Write for Blocking {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        self.0.write(buf).map_err(IoError)
    }
    async fn flush(&mut self) -> Result<(), IoError> {
        self.0.flush().map_err(IoError)
    }
}

fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

/// An echo server on small buffers: echoes each piece as a fragment, so messages of any size
/// pass through without being held whole. A piece is at most the receive buffer, so the
/// transmit buffer has room for it plus a frame header. Returns the close code it saw.
fn small_buffer_echo(socket: TcpStream) -> Result<CloseCode, String> {
    block_on(async {
        let (mut rx_mem, mut tx_mem) = ([0u8; 256], [0u8; 256 + 14]);
        let mut rx = RxBuffer::new(&mut rx_mem);
        let conn = Connection::new(Role::Server, Config::default(), NoMask);
        let mut ws = WebSocket::new(Blocking(socket), conn, &mut tx_mem);
        let mut close = None;
        loop {
            match ws.read(&mut rx).await {
                Ok(event) => {
                    if let Some((kind, d)) = event.as_data() {
                        let msg = Outgoing::Fragment {
                            kind,
                            payload: d.payload,
                            fin: d.ends_message,
                        };
                        ws.send(msg).await.map_err(|e| e.to_string())?;
                    }
                    if let Event::Close(c) = event {
                        close = Some(c.code);
                    }
                }
                Err(Error::Closed) => return close.ok_or("no close".to_string()),
                Err(e) => return Err(e.to_string()),
            }
        }
    })
}

#[test]
fn echo_streams_messages_larger_than_its_buffers() {
    let (c, s) = tcp_pair();
    let server = thread::spawn(move || small_buffer_echo(s));
    let mut client = blocking::WebSocket::from_connection(
        c,
        Connection::new(Role::Client, Config::default(), OsRandom::new()),
    );
    let big: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    let text = "ünïcödé ".repeat(100);
    client.send(Outgoing::Binary(&big)).unwrap();
    client.send(Outgoing::Text(&text)).unwrap();
    client.send(Outgoing::Ping(b"p")).unwrap();
    assert_eq!(client.read().unwrap(), Message::Binary(big));
    assert_eq!(client.read().unwrap(), Message::Text(text));
    assert_eq!(client.read().unwrap(), Message::Pong(b"p".to_vec()));
    client.close(CloseCode::NORMAL, "").unwrap();
    assert!(matches!(client.read().unwrap(), Message::Close(..)));
    assert_eq!(server.join().unwrap(), Ok(CloseCode::NORMAL));
}

#[test]
fn close_with_reason_and_without_body_are_reported() {
    for (code, reason) in [
        (CloseCode::GOING_AWAY, "bye now"),
        (CloseCode::NO_STATUS, ""),
    ] {
        let (mut c, s) = tcp_pair();
        let server = thread::spawn(move || {
            block_on(async {
                let (mut rx_mem, mut tx_mem) = ([0u8; 200], [0u8; 200]);
                let mut rx = RxBuffer::new(&mut rx_mem);
                let conn = Connection::new(Role::Server, Config::default(), NoMask);
                let mut ws = WebSocket::new(Blocking(s), conn, &mut tx_mem);
                let got = match ws.read(&mut rx).await.unwrap() {
                    Event::Close(f) => (f.code, f.reason.to_string()),
                    other => panic!("{other:?}"),
                };
                assert!(matches!(ws.read(&mut rx).await, Err(Error::Closed)));
                got
            })
        });
        let mut peer = Connection::new(Role::Client, Config::default(), NoMask);
        peer.close(code, reason).unwrap();
        let mut out = [0u8; 200];
        let n = peer.poll_transmit(&mut out).unwrap().unwrap();
        c.write_all(&out[..n]).unwrap();
        assert_eq!(server.join().unwrap(), (code, reason.to_string()));
        // The echoed close came back.
        let mut head = [0u8; 2];
        c.read_exact(&mut head).unwrap();
        assert_eq!(head[0], 0x88);
    }
}

#[test]
fn send_in_place_sends_payloads_larger_than_the_transmit_buffer() {
    let (c, s) = tcp_pair();
    let client = thread::spawn(move || {
        block_on(async {
            let mut tx_mem = [0u8; 140];
            let conn = Connection::new(Role::Client, Config::default(), OsRandom::new());
            let mut ws = WebSocket::new(Blocking(c), conn, &mut tx_mem);
            let mut payload = vec![42u8; 10_000];
            assert!(matches!(
                ws.send(Outgoing::Binary(&payload)).await,
                Err(Error::BufferTooSmall(_))
            ));
            ws.send_in_place(SendKind::Binary, &mut payload, true)
                .await
                .unwrap();
        })
    });
    let mut server = blocking::WebSocket::from_connection(
        s,
        Connection::new(Role::Server, Config::default(), NoMask),
    );
    assert_eq!(server.read().unwrap(), Message::Binary(vec![42u8; 10_000]));
    client.join().unwrap();
}

#[test]
fn protocol_error_is_reported_and_close_sent() {
    let (mut c, s) = tcp_pair();
    let server = thread::spawn(move || {
        block_on(async {
            let (mut rx_mem, mut tx_mem) = ([0u8; 200], [0u8; 200]);
            let mut rx = RxBuffer::new(&mut rx_mem);
            let conn = Connection::new(Role::Server, Config::default(), NoMask);
            let mut ws = WebSocket::new(Blocking(s), conn, &mut tx_mem);
            match ws.read(&mut rx).await {
                Err(Error::Protocol(e)) => e,
                other => panic!("{other:?}"),
            }
        })
    });
    c.write_all(&[0x81, 0x01, b'x']).unwrap(); // unmasked
    assert_eq!(
        server.join().unwrap().close_code(),
        Some(CloseCode::PROTOCOL_ERROR)
    );
    let mut head = [0u8; 4];
    c.read_exact(&mut head).unwrap();
    assert_eq!(
        (head[0], u16::from_be_bytes([head[2], head[3]])),
        (0x88, 1002)
    );
}

#[test]
fn memory_is_the_struct_and_the_lent_buffers() {
    let size = size_of::<WebSocket<'static, Blocking>>();
    let rx = size_of::<RxBuffer<'static>>();
    println!(
        "embedded WebSocket: size_of {size} B (+ transport) + RxBuffer {rx} B + the lent rx and tx buffers"
    );
    assert!(size < 1024, "{size}");
}

#[test]
fn opening_handshake_on_lent_buffers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        block_on(async {
            let (mut rx_mem, mut tx_mem) = ([0u8; 1024], [0u8; 512]);
            let mut rx = RxBuffer::new(&mut rx_mem);
            let mut config = Config::default();
            config.max_handshake_len = 1024;
            let mut ws = WebSocket::accept(Blocking(s), config, &mut rx, &mut tx_mem, |req| {
                if req.path() == "/ws" {
                    Ok(None)
                } else {
                    Err(404)
                }
            })
            .await
            .unwrap();
            let got = match ws.read(&mut rx).await.unwrap() {
                Event::Text(d) => String::from_utf8(d.payload.to_vec()).unwrap(),
                other => panic!("{other:?}"),
            };
            ws.send(Outgoing::Text(&got)).await.unwrap();
            got
        })
    });
    let url = format!("ws://{addr}/ws");
    let request = ws_proto::handshake::ClientRequest {
        url: &url,
        ..Default::default()
    };
    let mut client = blocking::connect(
        TcpStream::connect(addr).unwrap(),
        &request,
        Config::default(),
    )
    .unwrap();
    client.send(Outgoing::Text("tiny")).unwrap();
    assert_eq!(client.read().unwrap(), Message::Text("tiny".into()));
    assert_eq!(server.join().unwrap(), "tiny");
}
