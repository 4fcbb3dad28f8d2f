//! The host twin: the same `echo_server` loop, over a real TCP socket on loopback, against the
//! ws-proto blocking client; and the scripted run the firmware entry performs.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::task::{Context, Poll, Waker};
use std::thread;

use ws_proto::adapters::blocking;
use ws_proto::handshake::ClientRequest;
use ws_proto::message::Message;
use ws_proto::{CloseCode, Config, Outgoing};
use ws_proto_embedded_example::{Buffers, SCRIPT, Stats, echo_server, run_script};

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

/// A blocking TCP socket behind the async traits (its futures are always ready).
struct Blocking(TcpStream);

impl embedded_io_async::ErrorType for Blocking {
    type Error = embedded_io_async::ErrorKind;
}
impl embedded_io_async::Read for Blocking {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.0
            .read(buf)
            .map_err(|_| embedded_io_async::ErrorKind::Other)
    }
}
impl embedded_io_async::Write for Blocking {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0
            .write(buf)
            .map_err(|_| embedded_io_async::ErrorKind::Other)
    }
    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.0
            .flush()
            .map_err(|_| embedded_io_async::ErrorKind::Other)
    }
}

#[test]
fn echo_server_over_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let mut buffers = Buffers::new();
        block_on(echo_server(Blocking(socket), &mut buffers)).map_err(|e| format!("{e:?}"))
    });
    let url = format!("ws://{addr}/echo");
    let request = ClientRequest {
        url: &url,
        ..Default::default()
    };
    let socket = TcpStream::connect(addr).unwrap();
    let mut client = blocking::connect(socket, &request, Config::default()).unwrap();
    let big: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
    client
        .send(Outgoing::Text("hello, microcontroller"))
        .unwrap();
    client.send(Outgoing::Binary(&big)).unwrap();
    client.send(Outgoing::Ping(b"beat")).unwrap();
    assert_eq!(
        client.read().unwrap(),
        Message::Text("hello, microcontroller".into())
    );
    assert_eq!(client.read().unwrap(), Message::Binary(big));
    assert_eq!(client.read().unwrap(), Message::Pong(b"beat".to_vec()));
    client.close(CloseCode::NORMAL, "").unwrap();
    assert!(matches!(client.read().unwrap(), Message::Close(..)));
    let stats = server.join().unwrap().unwrap();
    assert_eq!(
        stats,
        Stats {
            messages: 2,
            bytes: 22 + 50_000,
            close_code: 1000
        }
    );
}

#[test]
fn wrong_path_is_refused_with_404() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let mut buffers = Buffers::new();
        block_on(echo_server(Blocking(socket), &mut buffers))
            .map(drop)
            .map_err(|e| format!("{e:?}"))
    });
    let url = format!("ws://{addr}/other");
    let request = ClientRequest {
        url: &url,
        ..Default::default()
    };
    let got = blocking::connect(
        TcpStream::connect(addr).unwrap(),
        &request,
        Config::default(),
    );
    assert!(
        matches!(got, Err(ws_proto::adapters::Error::Rejected(404))),
        "{got:?}"
    );
    assert_eq!(server.join().unwrap(), Err("Rejected(404)".to_string()));
}

#[test]
fn scripted_run_the_firmware_performs() {
    let mut output = [0u8; 512];
    let n = run_script(&mut output);
    let out = &output[..n];
    let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = std::str::from_utf8(&out[..head_end]).unwrap();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(
        head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "RFC 6455 §1.3 accept value"
    );
    // The echo (a server frame: unmasked), then the close reply with code 1000.
    assert_eq!(&out[head_end..], b"\x81\x02hi\x88\x02\x03\xe8");
    assert!(SCRIPT.len() > 100);
}

#[test]
fn memory_per_connection() {
    let mut buffers = Buffers::new();
    let mut output = [0u8; 64];
    let mut socket = ws_proto_embedded_example::ScriptedSocket::new(b"", &mut output);
    let future = echo_server(&mut socket, &mut buffers);
    let future_size = size_of_val(&future);
    drop(future);
    let buffers_size = size_of::<Buffers>();
    println!(
        "embedded echo_server: future {future_size} B (holds the adapter) + Buffers \
         {buffers_size} B = {} B per connection, no heap",
        future_size + buffers_size
    );
    assert!(future_size < 4096, "{future_size}");
}
