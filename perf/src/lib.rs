//! Shared pieces of the benchmarks: the corpora (as messages and as masked client-to-server
//! wire bytes, encoded here independently of ws-proto), in-memory streams for the peers, and a
//! ws-proto receive loop.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What a corpus message is.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Kind {
    Text,
    Binary,
    Ping,
}

/// One single-frame message of a corpus. Payloads are leaked so that every peer can borrow
/// them as `'static` (e.g. `Bytes::from_static`) without a copy in the timed code.
#[derive(Clone, Copy, Debug)]
pub struct Msg {
    pub kind: Kind,
    pub payload: &'static [u8],
}

impl Msg {
    /// The payload as text (text messages only; checked once, when the corpus is built).
    pub fn text(&self) -> &'static str {
        // SAFETY: `Corpus::new` checked that every text payload is UTF-8.
        unsafe { std::str::from_utf8_unchecked(self.payload) }
    }
}

/// A benchmark input: its messages and their wire form as a client sends them (masked).
#[derive(Debug)]
pub struct Corpus {
    pub name: &'static str,
    pub msgs: Vec<Msg>,
    /// Every message as one masked frame, back to back.
    pub wire: Vec<u8>,
    /// Data (text and binary) messages.
    pub data_msgs: usize,
    /// Payload bytes of data messages.
    pub data_bytes: u64,
}

impl Corpus {
    fn new(name: &'static str, msgs: Vec<Msg>) -> Self {
        for m in msgs.iter().filter(|m| m.kind == Kind::Text) {
            assert!(
                std::str::from_utf8(m.payload).is_ok(),
                "corpus text is UTF-8"
            );
        }
        let mut rng = Lcg(0x5eed);
        let mut wire = Vec::new();
        for m in &msgs {
            let key = (rng.next() as u32).to_be_bytes();
            encode_frame(&mut wire, m.kind, m.payload, Some(key));
        }
        let data = msgs.iter().filter(|m| m.kind != Kind::Ping);
        Self {
            name,
            data_msgs: data.clone().count(),
            data_bytes: data.map(|m| m.payload.len() as u64).sum(),
            msgs,
            wire,
        }
    }

    /// Frames on the wire (data and control).
    pub fn frames(&self) -> usize {
        self.msgs.len()
    }

    /// Writes what the table script needs to know about this corpus next to criterion's
    /// results.
    pub fn write_meta(&self, group: &str) {
        let dir = criterion_dir().join(group);
        std::fs::create_dir_all(&dir).expect("create criterion dir");
        let json = format!(
            "{{\"corpus\":\"{}\",\"frames\":{},\"data_msgs\":{},\"data_bytes\":{},\"wire_bytes\":{}}}\n",
            self.name,
            self.frames(),
            self.data_msgs,
            self.data_bytes,
            self.wire.len()
        );
        std::fs::write(dir.join("corpus.json"), json).expect("write corpus.json");
    }
}

/// Where criterion writes its results (`CARGO_TARGET_DIR` aware).
pub fn criterion_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("criterion")
}

/// One million masked text frames of 16 bytes each.
pub fn small_frames() -> Corpus {
    let payload: &'static [u8] = b"0123456789abcdef";
    Corpus::new(
        "1M x 16 B text",
        vec![
            Msg {
                kind: Kind::Text,
                payload
            };
            1_000_000
        ],
    )
}

/// The mixed corpus, shuffled: 10,000 small text frames (1 to 100 bytes, about one in ten with
/// non-ASCII characters), 1,000 binary frames of 125 bytes, 100 frames of 16 KiB (half text,
/// half binary), 4 binary frames of 1 MiB, and 200 pings (0 to 16 bytes). About 6.4 MB.
pub fn mixed() -> Corpus {
    let mut rng = Lcg(42);
    let mut msgs = Vec::new();
    for i in 0..10_000 {
        let len = 1 + (rng.next() % 100) as usize;
        let s = if i % 10 == 0 {
            text(&mut rng, len, 0.3)
        } else {
            text(&mut rng, len, 0.0)
        };
        msgs.push(Msg {
            kind: Kind::Text,
            payload: leak(s.into_bytes()),
        });
    }
    for _ in 0..1_000 {
        msgs.push(Msg {
            kind: Kind::Binary,
            payload: leak(bytes(&mut rng, 125)),
        });
    }
    for i in 0..100 {
        let m = if i % 2 == 0 {
            Msg {
                kind: Kind::Text,
                payload: leak(json(&mut rng, 16 << 10).into_bytes()),
            }
        } else {
            Msg {
                kind: Kind::Binary,
                payload: leak(bytes(&mut rng, 16 << 10)),
            }
        };
        msgs.push(m);
    }
    for _ in 0..4 {
        msgs.push(Msg {
            kind: Kind::Binary,
            payload: leak(bytes(&mut rng, 1 << 20)),
        });
    }
    for _ in 0..200 {
        let len = (rng.next() % 17) as usize;
        msgs.push(Msg {
            kind: Kind::Ping,
            payload: leak(bytes(&mut rng, len)),
        });
    }
    // Fisher-Yates, then make sure the corpus ends with a data message (the peers' loops stop
    // after the last data message).
    for i in (1..msgs.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        msgs.swap(i, j);
    }
    if let Some(last) = msgs.iter().rposition(|m| m.kind != Kind::Ping) {
        let n = msgs.len() - 1;
        msgs.swap(last, n);
    }
    Corpus::new("mixed", msgs)
}

/// One 16 MiB text message in one frame: prose, mostly ASCII with words in other scripts.
pub fn big_text() -> Corpus {
    let mut rng = Lcg(7);
    let mut s = text(&mut rng, 16 << 20, 0.08);
    while s.len() > 16 << 20 {
        s.pop();
    }
    while s.len() < 16 << 20 {
        s.push(' ');
    }
    Corpus::new(
        "16 MiB text",
        vec![Msg {
            kind: Kind::Text,
            payload: leak(s.into_bytes()),
        }],
    )
}

fn leak(v: Vec<u8>) -> &'static [u8] {
    Box::leak(v.into_boxed_slice())
}

/// A small deterministic generator (Knuth's MMIX LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 16
    }
}

fn bytes(rng: &mut Lcg, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.next() as u8).collect()
}

const ASCII_WORDS: &[&str] = &[
    "the", "of", "and", "message", "frame", "socket", "server", "client", "data", "value", "time",
    "a", "in", "is", "to", "with", "for", "stream", "buffer", "event",
];
const OTHER_WORDS: &[&str] = &[
    "café",
    "über",
    "naïve",
    "Grüße",
    "señor",
    "€",
    "—",
    "日本語",
    "テキスト",
    "Привет",
    "мир",
    "ελληνικά",
    "😀",
    "🚀",
];

/// Prose of exactly `len` bytes; each word is non-ASCII with probability `other`.
fn text(rng: &mut Lcg, len: usize, other: f64) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        let r = (rng.next() % 1_000_000) as f64 / 1e6;
        let w = if r < other {
            OTHER_WORDS[(rng.next() as usize) % OTHER_WORDS.len()]
        } else {
            ASCII_WORDS[(rng.next() as usize) % ASCII_WORDS.len()]
        };
        if s.len() + w.len() + 1 > len {
            break;
        }
        s.push_str(w);
        s.push(' ');
    }
    while s.len() < len {
        s.push('.');
    }
    s
}

/// JSON-like ASCII text of exactly `len` bytes.
fn json(rng: &mut Lcg, len: usize) -> String {
    let mut s = String::with_capacity(len + 64);
    s.push('[');
    while s.len() + 64 < len {
        let n = rng.next();
        s.push_str(&format!(
            "{{\"id\":{},\"name\":\"user{}\",\"ok\":true}},",
            n % 100_000,
            n % 977
        ));
    }
    while s.len() < len - 1 {
        s.push(' ');
    }
    s.push(']');
    s
}

/// Appends one frame (FIN set) to `out`, masked with `key` if given.
pub fn encode_frame(out: &mut Vec<u8>, kind: Kind, payload: &[u8], key: Option<[u8; 4]>) {
    let opcode = match kind {
        Kind::Text => 0x1,
        Kind::Binary => 0x2,
        Kind::Ping => 0x9,
    };
    out.push(0x80 | opcode);
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if len <= 0xffff {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    match key {
        Some(k) => {
            out.extend_from_slice(&k);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
}

/// What a receive loop saw: data messages and their payload bytes.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Seen {
    pub msgs: usize,
    pub bytes: u64,
}

impl Seen {
    /// Panics unless the loop saw the whole corpus.
    pub fn check(self, corpus: &Corpus, who: &str) {
        assert_eq!(
            (self.msgs, self.bytes),
            (corpus.data_msgs, corpus.data_bytes),
            "{who} on {}",
            corpus.name
        );
    }
}

/// A ws-proto server receiving `buf` in place, answering pings into `out` as a server
/// would (poll_transmit after each event).
pub fn ws_proto_recv(buf: &mut [u8], out: &mut [u8]) -> Seen {
    use ws_proto::{Connection, Event, Read, Role, mask_source::NoMask};
    let mut conn = Connection::new(Role::Server, ws_proto::Config::default(), NoMask);
    let mut seen = Seen::default();
    let mut pos = 0;
    while pos < buf.len() {
        let Read { consumed, event } = conn.handle_read(&mut buf[pos..]);
        match event.expect("valid corpus") {
            Some(Event::Text(d) | Event::Binary(d)) => {
                seen.bytes += d.payload.len() as u64;
                seen.msgs += usize::from(d.ends_message);
            }
            Some(Event::Ping(_)) => while let Ok(Some(_)) = conn.poll_transmit(out) {},
            Some(_) => {}
            None if consumed == 0 => break,
            None => {}
        }
        pos += consumed;
    }
    seen
}

/// The same corpus through [`Connection::handle_read_all`](ws_proto::Connection::handle_read_all):
/// every event of the buffer in one call.
pub fn ws_proto_recv_all(buf: &mut [u8], out: &mut [u8]) -> Seen {
    use ws_proto::{Connection, Event, Role, mask_source::NoMask};
    let mut conn = Connection::new(Role::Server, ws_proto::Config::default(), NoMask);
    let mut seen = Seen::default();
    let mut pings = 0usize;
    let used = conn
        .handle_read_all(buf, |event| match event {
            Event::Text(d) | Event::Binary(d) => {
                seen.bytes += d.payload.len() as u64;
                seen.msgs += usize::from(d.ends_message);
            }
            Event::Ping(_) => pings += 1,
            _ => {}
        })
        .expect("valid corpus");
    assert_eq!(used, buf.len(), "the corpus holds whole frames");
    // Auto-pong keeps the latest ping's pong; send it as a server would after the batch.
    while let Ok(Some(_)) = conn.poll_transmit(out) {}
    std::hint::black_box(pings);
    seen
}

/// The same loop fed from a stream through a fixed read buffer of `buf.len()` bytes, the way
/// a server reads a socket: read, handle events, move the unconsumed rest to the front.
pub fn ws_proto_recv_stream(stream: &mut impl io::Read, buf: &mut [u8], out: &mut [u8]) -> Seen {
    use ws_proto::{Connection, Event, Read, Role, mask_source::NoMask};
    let mut conn = Connection::new(Role::Server, ws_proto::Config::default(), NoMask);
    let mut seen = Seen::default();
    let (mut start, mut end) = (0, 0);
    loop {
        loop {
            let Read { consumed, event } = conn.handle_read(&mut buf[start..end]);
            match event.expect("valid corpus") {
                Some(Event::Text(d) | Event::Binary(d)) => {
                    seen.bytes += d.payload.len() as u64;
                    seen.msgs += usize::from(d.ends_message);
                }
                Some(Event::Ping(_)) => while let Ok(Some(_)) = conn.poll_transmit(out) {},
                Some(_) => {}
                None if consumed == 0 => break,
                None => {}
            }
            start += consumed;
        }
        buf.copy_within(start..end, 0);
        end -= start;
        start = 0;
        let n = stream.read(&mut buf[end..]).expect("memory read");
        if n == 0 {
            return seen;
        }
        end += n;
    }
}

/// An in-memory transport: reads come from `input`, writes are counted and dropped.
#[derive(Debug)]
pub struct MemStream<'a> {
    input: &'a [u8],
    pub written: usize,
}

impl<'a> MemStream<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self { input, written: 0 }
    }
}

impl io::Read for MemStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.input.len());
        let (head, rest) = self.input.split_at(n);
        buf[..n].copy_from_slice(head);
        self.input = rest;
        Ok(n)
    }
}

impl io::Write for MemStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for MemStream<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = buf.remaining().min(self.input.len());
        let (head, rest) = self.input.split_at(n);
        buf.put_slice(head);
        self.input = rest;
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for MemStream<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written += buf.len();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A single-threaded tokio runtime for the async peers (the streams never pend).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
}
