//! Live interop on 127.0.0.1 with real WebSocket implementations, in both roles.
//!
//! Server role: `examples/echo_server.rs` (compiled into this test) serves the peer clients in
//! `interop/` (Python `websockets`, Python `websocket-client`, Node `ws`, headless Chromium via
//! `playwright-core`); each peer checks the echoed bytes, ping/pong and the close code it gets
//! back, and this side checks the close code and reason the server received.
//!
//! Client role: a blocking ws-proto client (below) talks to the peer servers in `interop/`
//! (Python `websockets`, Node `ws`), checks every byte that arrives, pings both ways, receives
//! fragmented messages, and closes in both directions; the peer prints the close it received.
//!
//! Built with the `deflate` feature, both roles negotiate permessage-deflate: the echo server
//! accepts the peers' offers, the client offers it, and the peers (told by `INTEROP_DEFLATE=1`)
//! check that it was agreed (Node's `ws` server turns it on only then).
//!
//! The tests need the peers `.ci/interop.sh` installs, so they are `#[ignore]`d; that script
//! runs them with `--ignored`. Environment: `INTEROP_PYTHON` (a Python with `websockets` and
//! `websocket-client`, default `python3`), `INTEROP_NODE` (default `node`; the Node packages
//! are resolved from `interop/node_modules`), `CHROMIUM` (default `/usr/bin/chromium`).

use std::io::{self, BufRead, BufReader, ErrorKind, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ws_proto::connection::MessageKind;
use ws_proto::handshake::ClientRequest;
use ws_proto::message::{Message, MessageAssembler};
use ws_proto::{CloseCode, Config, Connection, Event, OsRandom, Outgoing, State};

#[allow(dead_code)]
#[path = "../examples/echo_server.rs"]
mod echo_server;

/// Whether permessage-deflate is on in both roles (the `deflate` feature).
const DEFLATE: bool = cfg!(feature = "deflate");

/// How long any single step (a peer run, a message) may take.
const STEP: Duration = Duration::from_secs(90);

// ---- peers -----------------------------------------------------------------------------

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

fn python() -> String {
    std::env::var("INTEROP_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn node() -> String {
    std::env::var("INTEROP_NODE").unwrap_or_else(|_| "node".to_owned())
}

/// A peer process we started; killed (by its own handle) when dropped.
struct Peer {
    name: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Peer {
    fn spawn(program: &str, script: &str, args: &[&str]) -> Self {
        let child = Command::new(program)
            .arg(interop_dir().join(script))
            .args(args)
            .current_dir(interop_dir())
            .env("INTEROP_DEFLATE", if DEFLATE { "1" } else { "" })
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program} {script}: {e}"));
        let mut child = child;
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            name: script.to_owned(),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next output line starting with `prefix` (other lines are echoed to stderr).
    fn line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    eprintln!("[{}] {line}", self.name);
                    self.seen.push(line.clone());
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_owned();
                    }
                }
                Err(e) => panic!(
                    "{}: no line starting with {prefix:?} ({e:?}); output so far: {:#?}",
                    self.name, self.seen
                ),
            }
        }
    }

    /// Waits for the peer to exit; panics unless it exits with status 0.
    fn success(mut self) {
        let deadline = Instant::now() + STEP;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "{}: still running", self.name);
            std::thread::sleep(Duration::from_millis(20));
        };
        // Give the reader thread a moment to forward the last lines.
        std::thread::sleep(Duration::from_millis(50));
        while let Ok(line) = self.lines.try_recv() {
            eprintln!("[{}] {line}", self.name);
            self.seen.push(line);
        }
        assert!(
            status.success(),
            "{} failed ({status}): {:#?}",
            self.name,
            self.seen
        );
        assert!(
            self.seen.iter().all(|l| !l.starts_with("FAIL")),
            "{}: {:#?}",
            self.name,
            self.seen
        );
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- server role: examples/echo_server.rs against peer clients --------------------------

/// Starts the example's connection handler on an OS-chosen port; every finished connection
/// reports the close code and reason the server received.
fn start_echo_server() -> (SocketAddr, mpsc::Receiver<io::Result<(CloseCode, String)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send(echo_server::serve(stream));
            });
        }
    });
    (addr, rx)
}

/// Runs a peer client against the echo server and checks the close the server received.
fn server_role(program: &str, script: &str, code: u16, reason: &str) {
    let (addr, closes) = start_echo_server();
    let url = format!("ws://{addr}/interop");
    let peer = Peer::spawn(program, script, &[&url, &code.to_string(), reason]);
    peer.success();
    let (got_code, got_reason) = closes
        .recv_timeout(STEP)
        .expect("the server finished the connection")
        .expect("no I/O error on the server side");
    assert_eq!(
        (got_code, got_reason.as_str()),
        (CloseCode(code), reason),
        "close frame the server received"
    );
}

#[test]
#[ignore = "needs Python websockets (run .ci/interop.sh)"]
fn server_role_python_websockets() {
    server_role(&python(), "websockets_client.py", 4001, "websockets bye");
}

#[test]
#[ignore = "needs Python websocket-client (run .ci/interop.sh)"]
fn server_role_python_websocket_client() {
    server_role(
        &python(),
        "websocket_client_client.py",
        4002,
        "websocket-client bye",
    );
}

#[test]
#[ignore = "needs Node ws (run .ci/interop.sh)"]
fn server_role_node_ws() {
    server_role(&node(), "ws_client.mjs", 4003, "ws bye");
}

#[test]
#[ignore = "needs Chromium and playwright-core (run .ci/interop.sh)"]
fn server_role_chromium() {
    server_role(&node(), "chromium_client.mjs", 4000, "chromium bye ✓");
}

// ---- client role: a ws-proto client against peer servers --------------------------------

/// What the client received: a whole message (with the number of frames it came in), or the
/// end of the TCP stream.
#[derive(Debug, PartialEq)]
enum Got {
    Msg(Message, usize),
    Eof,
}

/// A blocking ws-proto client with an owned-message interface, for scripted exchanges.
struct Client {
    sock: TcpStream,
    conn: Connection<OsRandom>,
    buf: Vec<u8>,
    filled: usize,
    out: Vec<u8>,
    assembler: MessageAssembler,
    frames: usize,
}

/// The client's configuration: permessage-deflate offered with the `deflate` feature.
fn client_config() -> Config {
    #[allow(unused_mut)]
    let mut config = Config::default();
    #[cfg(feature = "deflate")]
    {
        config.deflate = Some(ws_proto::deflate::DeflateConfig::default());
    }
    config
}

impl Client {
    fn connect(addr: SocketAddr, path: &str) -> Self {
        let sock = TcpStream::connect(addr).expect("connect");
        sock.set_nodelay(true).expect("nodelay");
        sock.set_read_timeout(Some(STEP)).expect("timeout");
        let mut c = Self {
            sock,
            conn: Connection::client(client_config(), OsRandom::new()),
            buf: vec![0; 64 * 1024],
            filled: 0,
            out: vec![0; 256 * 1024],
            assembler: MessageAssembler::new(),
            frames: 0,
        };
        let url = format!("ws://{addr}{path}");
        #[cfg(feature = "deflate")]
        let offer = ws_proto::deflate::DeflateConfig::default().offer();
        let request = ClientRequest {
            url: &url,
            #[cfg(feature = "deflate")]
            extensions: Some(&offer),
            ..ClientRequest::default()
        };
        let n = c.conn.connect(&request, &mut c.out).expect("request fits");
        c.sock.write_all(&c.out[..n]).expect("write request");
        // Read until the handshake completes.
        loop {
            let read = c.conn.handle_read(&mut c.buf[..c.filled]);
            let consumed = read.consumed;
            match read.event {
                Ok(Some(Event::Opened(accepted))) => {
                    if DEFLATE {
                        let agreed = accepted.extensions.unwrap_or_default();
                        assert!(agreed.starts_with("permessage-deflate"), "{agreed:?}");
                        eprintln!("[client] permessage-deflate agreed: {agreed:?}");
                        #[cfg(feature = "deflate")]
                        assert!(c.conn.deflate_params().is_some());
                    } else {
                        assert_eq!(accepted.extensions, None, "no extension was offered");
                    }
                    c.drop_front(consumed);
                    return c;
                }
                Ok(Some(other)) => panic!("before Opened: {other:?}"),
                Ok(None) => c.drop_front(consumed),
                Err(e) => panic!("handshake failed: {e}"),
            }
            if consumed == 0 {
                c.fill();
            }
        }
    }

    fn drop_front(&mut self, consumed: usize) {
        self.buf.copy_within(consumed..self.filled, 0);
        self.filled -= consumed;
    }

    /// Reads more bytes; returns false at end of stream.
    fn fill(&mut self) -> bool {
        loop {
            match self.sock.read(&mut self.buf[self.filled..]) {
                Ok(0) => return false,
                Ok(n) => {
                    self.filled += n;
                    return true;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    fn transmit(&mut self) {
        while let Some(n) = self.conn.poll_transmit(&mut self.out).expect("fits") {
            self.sock.write_all(&self.out[..n]).expect("write");
        }
    }

    fn send(&mut self, msg: Outgoing<'_>) {
        let n = self.conn.send(msg, &mut self.out).expect("send");
        self.sock.write_all(&self.out[..n]).expect("write");
    }

    fn text(&mut self, s: &str) {
        self.send(Outgoing::Text(s));
    }

    fn close(&mut self, code: u16, reason: &str) {
        self.conn.close(CloseCode(code), reason).expect("close");
        self.transmit();
    }

    /// The next whole message, control frame or end of stream. Pongs and close replies the
    /// connection queues are written before returning.
    fn next(&mut self) -> Got {
        loop {
            let read = self.conn.handle_read(&mut self.buf[..self.filled]);
            let consumed = read.consumed;
            let got = match read.event {
                Ok(Some(event)) => {
                    #[allow(unused_mut)]
                    let mut inflated = None;
                    if let Some((_kind, data)) = event.as_data() {
                        self.frames += usize::from(data.ends_frame);
                        #[cfg(feature = "deflate")]
                        if data.compressed {
                            let mut piece = Vec::new();
                            self.conn.inflate(&data, &mut piece).expect("inflate");
                            let last = data.ends_message;
                            inflated = Some(self.assembler.push_bytes(_kind, &piece, last));
                        }
                    }
                    let message = inflated.unwrap_or_else(|| self.assembler.push(&event));
                    message.map(|m| {
                        let frames = std::mem::take(&mut self.frames);
                        Got::Msg(m, frames)
                    })
                }
                Ok(None) => None,
                Err(e) => panic!("connection failed: {e}"),
            };
            self.drop_front(consumed);
            self.transmit();
            if let Some(got) = got {
                return got;
            }
            if consumed == 0 && !self.fill() {
                self.conn.handle_eof();
                // The server closed first (RFC 6455 §7.1.1); now we close our side.
                let _ = self.sock.shutdown(Shutdown::Write);
                return Got::Eof;
            }
        }
    }

    fn expect_text(&mut self, want: &str) -> usize {
        match self.next() {
            Got::Msg(Message::Text(s), frames) if s == want => frames,
            other => panic!("want text {want:?}, got {other:?}"),
        }
    }
}

/// The scripted exchange every peer server must pass.
fn client_role(program: &str, script: &str) {
    let mut peer = Peer::spawn(program, script, &[]);
    let port: u16 = peer.line("listening ").trim().parse().expect("port");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    // Connection 1: data both ways, pings both ways, fragments both ways, we close.
    let mut c = Client::connect(addr, "/interop");
    let text = "héllo ✓ from ws-proto";
    c.text(text);
    assert_eq!(c.expect_text(text), 1);

    let blob: Vec<u8> = (0..76_800u32).map(|i| (i * 31) as u8).collect();
    c.send(Outgoing::Binary(&blob));
    assert_eq!(c.next(), Got::Msg(Message::Binary(blob), 1));

    let whole = "frag-one frag-two frag-thrée".as_bytes();
    let cut = whole.len() - 1; // inside "é"
    for (payload, fin) in [
        (&whole[..9], false),
        (&whole[9..cut], false),
        (&whole[cut..], true),
    ] {
        let kind = MessageKind::Text;
        c.send(Outgoing::Fragment { kind, payload, fin });
    }
    c.expect_text("frag-one frag-two frag-thrée");

    c.send(Outgoing::Ping(b"ws-proto-ping"));
    assert_eq!(
        c.next(),
        Got::Msg(Message::Pong(b"ws-proto-ping".to_vec()), 0)
    );

    c.text("cmd:ping server-ping");
    assert_eq!(
        c.next(),
        Got::Msg(Message::Ping(b"server-ping".to_vec()), 0)
    );
    c.expect_text("pong:server-ping"); // the peer got our auto-pong with the right payload

    c.text("cmd:fragments");
    // 3 frames, plus an empty final one from websockets.
    let frames = c.expect_text("frag-one frag-two frag-thrée");
    assert!(
        frames >= 3,
        "the peer sent a fragmented message ({frames} frames)"
    );

    c.close(4001, "ws-proto bye");
    assert_eq!(
        c.next(),
        Got::Msg(
            Message::Close(CloseCode(4001), "ws-proto bye".to_owned()),
            0
        )
    );
    assert_eq!(c.conn.state(), State::Closed);
    assert_eq!(
        c.next(),
        Got::Eof,
        "the server closes TCP after the handshake"
    );
    assert_eq!(peer.line("closed "), "code=4001 reason=ws-proto bye");

    // Connection 2: the peer closes; we echo its code.
    let mut c = Client::connect(addr, "/interop");
    c.text("cmd:close 4002 server bye");
    assert_eq!(
        c.next(),
        Got::Msg(Message::Close(CloseCode(4002), "server bye".to_owned()), 0)
    );
    assert_eq!(c.conn.state(), State::Closed);
    assert_eq!(c.next(), Got::Eof);
    assert_eq!(peer.line("closed "), "code=4002 reason=");
}

#[test]
#[ignore = "needs Python websockets (run .ci/interop.sh)"]
fn client_role_python_websockets() {
    client_role(&python(), "websockets_server.py");
}

#[test]
#[ignore = "needs Node ws (run .ci/interop.sh)"]
fn client_role_node_ws() {
    client_role(&node(), "ws_server.mjs");
}
