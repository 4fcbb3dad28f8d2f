//! Compressed echo throughput: one message from a client to a server and back, both ways
//! permessage-deflate with context takeover, through ws-proto's `Connection` (framing,
//! masking, UTF-8 checks, compression, bounded inflation) versus bare flate2 with its default
//! backend doing the same DEFLATE work on the same messages (compress with a sync flush and
//! strip the tail, inflate with the tail appended, in both directions) and nothing else.
//!
//! Run: `cargo bench --bench deflate --features deflate`.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use ws_proto::deflate::{DeflateConfig, DeflateParams};
use ws_proto::mask_source::{MaskSource, NoMask};
use ws_proto::{Config, Connection, Event, Outgoing, Role};

/// JSON-ish records: compressible (about 4:1 at level 6), not trivially repetitive.
fn message(len: usize) -> String {
    const WORDS: [&str; 16] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliett", "kilo", "lima", "mike", "november", "oscar", "papa",
    ];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut s = String::with_capacity(len + 128);
    while s.len() < len {
        let (a, b, c, d) = (next(), next(), next(), next());
        s.push_str(&format!(
            "{{\"id\":{},\"user\":\"{}-{}\",\"score\":{}.{:02},\"tags\":[\"{}\",\"{}\"]}},",
            a % 10_000_000,
            WORDS[(b % 16) as usize],
            b % 9973,
            c % 1000,
            c % 100,
            WORDS[(d % 16) as usize],
            WORDS[((d >> 8) % 16) as usize],
        ));
    }
    s.truncate(len);
    s
}

/// Any key will do for a benchmark client.
struct Counter(u32);

impl MaskSource for Counter {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_mul(0x9e37_79b9).wrapping_add(1);
            *b = (self.0 >> 24) as u8;
        }
    }
}

struct WsEcho {
    client: Connection<Counter>,
    server: Connection<NoMask>,
    wire: Vec<u8>,
    inflated: Vec<u8>,
}

impl WsEcho {
    fn new(level: u8) -> Self {
        let mut cfg = DeflateConfig::default();
        cfg.level = level;
        let mut config = Config::default();
        config.deflate = Some(cfg);
        let mut client = Connection::new(Role::Client, config.clone(), Counter(1));
        let mut server = Connection::new(Role::Server, config, NoMask);
        client.enable_deflate(DeflateParams::default());
        server.enable_deflate(DeflateParams::default());
        Self {
            client,
            server,
            wire: vec![0; 1 << 20],
            inflated: Vec::new(),
        }
    }

    /// Client → server → client.
    fn echo(&mut self, msg: &str) {
        let n = self
            .client
            .send(Outgoing::Text(msg), &mut self.wire)
            .unwrap();
        receive(&mut self.server, &mut self.wire[..n], &mut self.inflated);
        let text = std::str::from_utf8(&self.inflated).unwrap();
        let mut back = vec![0; ws_proto::deflate::max_frame_len(text.len())];
        let n = self.server.send(Outgoing::Text(text), &mut back).unwrap();
        receive(&mut self.client, &mut back[..n], &mut self.inflated);
        assert_eq!(self.inflated.len(), msg.len());
    }
}

/// One whole frame in `frame`: read it and inflate its message into `out`.
fn receive<M: MaskSource>(conn: &mut Connection<M>, frame: &mut [u8], out: &mut Vec<u8>) {
    out.clear();
    let read = conn.handle_read(frame);
    match read.event {
        Ok(Some(Event::Text(d))) => {
            assert!(d.ends_message);
            conn.inflate(&d, out).unwrap();
        }
        other => panic!("{other:?}"),
    }
}

struct FlateEcho {
    client_tx: Compress,
    server_rx: Decompress,
    server_tx: Compress,
    client_rx: Decompress,
    buf: Vec<u8>,
    inflated: Vec<u8>,
}

impl FlateEcho {
    fn new(level: u8) -> Self {
        let level = Compression::new(u32::from(level));
        Self {
            client_tx: Compress::new(level, false),
            server_rx: Decompress::new(false),
            server_tx: Compress::new(level, false),
            client_rx: Decompress::new(false),
            buf: Vec::new(),
            inflated: Vec::new(),
        }
    }

    fn echo(&mut self, msg: &str) {
        deflate(&mut self.client_tx, msg.as_bytes(), &mut self.buf);
        inflate(&mut self.server_rx, &mut self.buf, &mut self.inflated);
        let text = std::str::from_utf8(&self.inflated).unwrap().to_owned();
        deflate(&mut self.server_tx, text.as_bytes(), &mut self.buf);
        inflate(&mut self.client_rx, &mut self.buf, &mut self.inflated);
        assert_eq!(self.inflated.len(), msg.len());
    }
}

fn deflate(c: &mut Compress, input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(input.len() + input.len() / 32 + 64);
    let start = c.total_in();
    c.compress_vec(input, out, FlushCompress::Sync).unwrap();
    assert_eq!((c.total_in() - start) as usize, input.len());
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
}

fn inflate(d: &mut Decompress, input: &mut Vec<u8>, out: &mut Vec<u8>) {
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    out.clear();
    let mut used = 0;
    loop {
        out.reserve(input.len() * 4 + 4096);
        let before = d.total_in();
        d.decompress_vec(&input[used..], out, FlushDecompress::Sync)
            .unwrap();
        used += (d.total_in() - before) as usize;
        if used == input.len() && out.len() < out.capacity() {
            break;
        }
    }
}

/// Consecutive `len`-byte slices of one long text, as Autobahn's compression cases send: the
/// same sequence for both contenders, and no message is a copy of the one before.
struct Slices {
    text: String,
    len: usize,
    pos: usize,
}

impl Slices {
    fn next(&mut self) -> &str {
        if self.pos + self.len > self.text.len() {
            self.pos = 0;
        }
        let m = &self.text[self.pos..self.pos + self.len];
        self.pos += self.len;
        m
    }
}

fn bench(c: &mut Criterion) {
    let text = message(4 << 20);
    for level in [1u8, 6] {
        let mut group = c.benchmark_group(format!("compressed_echo_level{level}"));
        for len in [64usize, 1024, 16 * 1024, 128 * 1024] {
            group.throughput(Throughput::Bytes(len as u64));
            let mut ws = WsEcho::new(level);
            let mut slices = Slices {
                text: text.clone(),
                len,
                pos: 0,
            };
            group.bench_function(BenchmarkId::new("ws-proto", len), |b| {
                b.iter(|| ws.echo(slices.next()));
            });
            let mut flate = FlateEcho::new(level);
            let mut slices = Slices {
                text: text.clone(),
                len,
                pos: 0,
            };
            group.bench_function(BenchmarkId::new("flate2", len), |b| {
                b.iter(|| flate.echo(slices.next()));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
