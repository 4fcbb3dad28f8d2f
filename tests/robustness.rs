//! Long inputs delivered one byte at a time cost time proportional to their length.
//!
//! Wall-clock time is not asserted (shared CI machines are noisy). Instead:
//! - frames: a counting driver records the calls to `handle_read` and the input bytes each call
//!   is shown. The connection's work per call is bounded by what it is shown, so when the total
//!   shown grows linearly, so does the work; checked against a constant per byte, and for not
//!   growing between a short and a long input (up to 64 MiB, that one in release only);
//! - the opening handshake, where a growing buffer is shown whole each time: a tripwire (bytes
//!   already scanned are overwritten with malformed ones) proves each call looks only at the
//!   newest bytes, at 8 KiB and at 1 MiB.

use ws_proto::frame::mask;
use ws_proto::mask_source::NoMask;
use ws_proto::{Config, Connection, Event, FrameHeader, Opcode, Role};

/// What the driver saw while delivering a stream.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    /// Input bytes delivered.
    bytes: u64,
    /// Calls to `handle_read`.
    calls: u64,
    /// Sum over calls of the input length shown to `handle_read`.
    shown: u64,
    /// Largest input shown to one call.
    max_shown: usize,
    /// Payload bytes delivered in data events.
    payload: u64,
    /// Events of any kind.
    events: u64,
}

impl Counts {
    fn per_byte(&self) -> (f64, f64) {
        let b = self.bytes as f64;
        (self.calls as f64 / b, self.shown as f64 / b)
    }
}

/// Delivers `stream` one byte at a time, caller-side buffered as the drive protocol says:
/// append the byte, call `handle_read` until it makes no progress, drop consumed bytes.
fn deliver_bytewise(conn: &mut Connection, stream: &[u8]) -> Counts {
    let mut c = Counts::default();
    let mut buf: Vec<u8> = Vec::with_capacity(Connection::<NoMask>::MIN_READ_BUFFER);
    let mut out = [0u8; 256];
    for &byte in stream {
        buf.push(byte);
        c.bytes += 1;
        loop {
            c.calls += 1;
            c.shown += buf.len() as u64;
            c.max_shown = c.max_shown.max(buf.len());
            let read = conn.handle_read(&mut buf);
            let consumed = read.consumed;
            let event = read.event.expect("valid stream");
            let got_event = event.is_some();
            if let Some(ev) = event {
                c.events += 1;
                if let Some((_, d)) = ev.as_data() {
                    c.payload += d.payload.len() as u64;
                }
                assert!(!matches!(ev, Event::Close(_)));
            }
            buf.drain(..consumed);
            while conn
                .poll_transmit(&mut out)
                .expect("256 bytes hold any control frame")
                .is_some()
            {}
            if !got_event && consumed == 0 {
                break;
            }
        }
    }
    assert!(buf.is_empty(), "the stream ends on a frame boundary");
    c
}

fn push_frame(stream: &mut Vec<u8>, opcode: Opcode, fin: bool, payload: &[u8], key: [u8; 4]) {
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        mask: Some(key),
        payload_len: payload.len() as u64,
    };
    let mut head = [0u8; 14];
    let n = header.encode(&mut head).unwrap();
    stream.extend_from_slice(&head[..n]);
    let start = stream.len();
    stream.extend_from_slice(payload);
    mask::apply(&mut stream[start..], key, 0);
}

/// A client's stream of about `target` bytes: large binary frames, a fragmented text message
/// with code points split across frames, full-size pings (the worst case for buffering, as
/// control frames are delivered whole) and empty frames, repeated. Returns it with the number
/// of data payload bytes it carries.
fn client_stream(target: usize) -> (Vec<u8>, u64) {
    let big: Vec<u8> = (0..=255u8).cycle().take(256 << 10).collect();
    let text = "κόσμε 𝄞 €".repeat(1000);
    let text = text.as_bytes();
    let (t1, t2) = text.split_at(1001); // inside a code point
    let ping = [0x5a; 125];
    let mut stream = Vec::with_capacity(target + (1 << 20));
    let mut payload = 0u64;
    let mut key = 0x0102_0304u32;
    while stream.len() < target {
        key = key.rotate_left(7) ^ 0x9e37_79b9;
        let k = key.to_be_bytes();
        push_frame(&mut stream, Opcode::Binary, true, &big, k);
        push_frame(&mut stream, Opcode::Text, false, t1, k);
        push_frame(&mut stream, Opcode::Ping, true, &ping, k);
        push_frame(&mut stream, Opcode::Continuation, false, t2, k);
        push_frame(&mut stream, Opcode::Continuation, true, &[], k);
        push_frame(&mut stream, Opcode::Pong, true, &[], k);
        push_frame(&mut stream, Opcode::Binary, true, &[7; 3], k);
        payload += (big.len() + text.len() + 3) as u64;
    }
    (stream, payload)
}

fn run_frames(target: usize) -> Counts {
    let (stream, payload) = client_stream(target);
    let mut server = Connection::new(Role::Server, Config::default(), NoMask);
    let c = deliver_bytewise(&mut server, &stream);
    assert_eq!(c.payload, payload, "data payload delivered");
    c
}

/// Checks bounded work per byte for `long`, and that it does not grow from `short`.
fn assert_linear(short: Counts, long: Counts) {
    eprintln!("short {short:?}\nlong  {long:?}");
    // Never more input shown at once than a whole control frame: the connection consumes data
    // payload as it arrives and buffers partial headers itself.
    let min = Connection::<NoMask>::MIN_READ_BUFFER;
    assert!(
        long.max_shown <= min,
        "{} bytes shown at once",
        long.max_shown
    );
    // Constant work per byte: at most two calls per byte (one that consumes, one that finds
    // nothing more), and the bytes shown are bounded by the full pings, re-shown while they
    // arrive (about 125²/2 per ping, a small fraction of the stream).
    let (calls_s, shown_s) = short.per_byte();
    let (calls_l, shown_l) = long.per_byte();
    assert!(calls_l <= 2.01, "{calls_l} calls per byte");
    assert!(shown_l <= 4.0, "{shown_l} bytes shown per byte");
    // And the per-byte figures do not grow with the length.
    assert!(
        calls_l <= calls_s * 1.05,
        "calls/byte {calls_s} -> {calls_l}"
    );
    assert!(
        shown_l <= shown_s * 1.05,
        "shown/byte {shown_s} -> {shown_l}"
    );
}

#[test]
fn frames_one_byte_at_a_time_cost_linear_work() {
    let short = run_frames(256 << 10);
    let long = run_frames(4 << 20);
    assert!(long.bytes >= 4 << 20);
    assert_linear(short, long);
}

/// The full 64 MiB: minutes in a debug build, seconds in release, so CI runs it with
/// `cargo test --release --test robustness -- --ignored` (in `.ci/fuzz.sh`).
#[test]
#[ignore = "64 MiB byte by byte: run in release"]
fn frames_64_mib_one_byte_at_a_time_cost_linear_work() {
    let short = run_frames(1 << 20);
    let long = run_frames(64 << 20);
    assert!(long.bytes >= 64 << 20);
    assert_linear(short, long);
}

// ---- the opening handshake ------------------------------------------------------------------
//
// Nothing of a head is consumed until it is complete, so a caller delivering it one byte at a
// time shows the connection a growing buffer: n²/2 bytes in total for an n-byte head. The
// connection must not look at them all each time. A tripwire proves it does not: before each
// call, every byte more than 4 positions behind the newest is overwritten with a bare LF,
// malformed wherever a scanner meets it. A call that still answers "more input needed" has
// looked at no more than the last 4 bytes. The head is restored before the last call, where
// httparse reads it once.

/// A valid upgrade request of about `len` bytes (a long `Cookie` pads it).
fn request_of(len: usize) -> Vec<u8> {
    let base = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
                Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                Sec-WebSocket-Version: 13\r\n";
    let pad = len.saturating_sub(base.len() + 14);
    format!("{base}Cookie: {}\r\n\r\n", "c".repeat(pad)).into_bytes()
}

/// Delivers `head` one byte at a time with the tripwire; `check_last` sees the final read.
/// Returns the calls made, asserting that every call but the last asked for more input.
fn head_bytewise<M: ws_proto::MaskSource>(
    conn: &mut Connection<M>,
    head: &[u8],
    mut check_last: impl FnMut(ws_proto::Read<'_>),
) -> u64 {
    const LOOK_BACK: usize = 4;
    let mut buf = Vec::with_capacity(head.len());
    let mut calls = 0;
    for (i, &b) in head.iter().enumerate() {
        buf.push(b);
        if let Some(old) = i.checked_sub(LOOK_BACK) {
            buf[old] = b'\n';
        }
        calls += 1;
        if i + 1 == head.len() {
            buf.copy_from_slice(head);
            check_last(conn.handle_read(&mut buf));
        } else {
            let read = conn.handle_read(&mut buf);
            assert_eq!(read.consumed, 0, "byte {i}");
            assert!(
                matches!(read.event, Ok(None)),
                "byte {i}: {:?} (earlier bytes were looked at again)",
                read.event
            );
        }
    }
    calls
}

fn server_request_bytewise(len: usize) -> (usize, u64) {
    let head = request_of(len);
    let mut config = Config::default();
    config.max_handshake_len = head.len().max(config.max_handshake_len);
    let mut server = Connection::server(config);
    let calls = head_bytewise(&mut server, &head, |read| {
        assert_eq!(read.consumed, head.len());
        assert!(
            matches!(read.event, Ok(Some(Event::Request(_)))),
            "{:?}",
            read.event
        );
    });
    (head.len(), calls)
}

#[test]
fn handshake_request_one_byte_at_a_time_looks_at_each_byte_once() {
    // The default limit (8 KiB) and a 1 MiB head under a raised limit: one call per byte and
    // the tripwire untouched at both sizes.
    for len in [8 << 10, 1 << 20] {
        let (n, calls) = server_request_bytewise(len);
        assert!(n >= len - 16);
        assert_eq!(calls, n as u64);
    }
}

#[test]
fn handshake_response_one_byte_at_a_time_looks_at_each_byte_once() {
    let nonce = *b"the sample nonce";
    let mut at = 0;
    let source = move |buf: &mut [u8]| {
        for b in buf {
            *b = nonce[at % 16];
            at += 1;
        }
    };
    for len in [8 << 10, 1 << 20] {
        let mut config = Config::default();
        config.max_handshake_len = len + 256;
        let mut client = Connection::client(config, source);
        let mut out = [0u8; 512];
        let request = ws_proto::handshake::ClientRequest {
            url: "ws://server.example.com/chat",
            ..Default::default()
        };
        client.connect(&request, &mut out).unwrap();
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nX-Pad: {}\r\n\r\n",
            "p".repeat(len)
        )
        .into_bytes();
        let calls = head_bytewise(&mut client, &head, |read| {
            assert_eq!(read.consumed, head.len());
            assert!(
                matches!(read.event, Ok(Some(Event::Opened(_)))),
                "{:?}",
                read.event
            );
        });
        assert_eq!(calls, head.len() as u64);
    }
}
