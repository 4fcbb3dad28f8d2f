//! Server handshake cost: parse, validate and write the 101 for Chromium's request, and the
//! total cost of a request delivered one byte at a time (the parser resumes where it stopped,
//! so the total stays linear) against the same request delivered whole.
//!
//! `cargo bench --bench handshake`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ws_proto::Status;
use ws_proto::handshake::{Accept, ClientHandshake, ClientRequest, ServerHandshake, write_accept};

const CHROMIUM: &[u8] = include_bytes!("../tests/fixtures/handshake/chromium-request.http");
const NODE_101: &[u8] = include_bytes!("../tests/fixtures/handshake/node-ws-response.http");

fn server_handshake(input: &[u8], out: &mut [u8]) -> usize {
    let mut hs = ServerHandshake::default();
    let Ok(Status::Complete((_, req))) = hs.parse(input, 8192, 64) else {
        panic!("invalid request")
    };
    let offered = req.extensions().next().map(|e| e.name);
    let accept = Accept {
        extensions: offered,
        ..Accept::default()
    };
    write_accept(&req, &accept, out).unwrap()
}

/// Feeds growing prefixes `step` bytes apart, as a caller whose reads return `step` bytes.
fn server_chunked(input: &[u8], step: usize) -> usize {
    let mut hs = ServerHandshake::default();
    let mut end = 0;
    loop {
        end = (end + step).min(input.len());
        match hs.parse(&input[..end], 8192, 64) {
            Ok(Status::Complete((n, req))) => return n + req.key().len(),
            Ok(Status::Partial) => {}
            Err(e) => panic!("{e}"),
        }
    }
}

/// A request of `size` bytes: Chromium's with a long cookie.
fn padded_request(size: usize) -> Vec<u8> {
    let base = CHROMIUM.len() - 2;
    let cookie = size.saturating_sub(base + "Cookie: \r\n".len());
    let mut v = CHROMIUM[..base].to_vec();
    v.extend_from_slice(b"Cookie: ");
    v.extend(std::iter::repeat_n(b'c', cookie));
    v.extend_from_slice(b"\r\n\r\n");
    v
}

fn bench(c: &mut Criterion) {
    let mut out = [0u8; 512];
    let mut g = c.benchmark_group("server");
    g.throughput(Throughput::Elements(1));
    g.bench_function("chromium: parse + validate + write 101", |b| {
        b.iter(|| server_handshake(black_box(CHROMIUM), &mut out));
    });
    g.bench_function("chromium: parse + validate", |b| {
        b.iter(|| {
            ServerHandshake::default()
                .parse(black_box(CHROMIUM), 8192, 64)
                .is_ok()
        });
    });
    g.finish();

    let mut g = c.benchmark_group("pieces");
    g.bench_function("accept_key", |b| {
        b.iter(|| ws_proto::handshake::accept_key(black_box(b"Zok7IkliNAuPBayoyrw8zw==")))
    });
    let Ok(Status::Complete((_, req))) = ServerHandshake::default().parse(CHROMIUM, 8192, 64)
    else {
        panic!()
    };
    g.bench_function("write_accept plain", |b| {
        b.iter(|| write_accept(black_box(&req), &Accept::default(), &mut out).unwrap())
    });
    g.bench_function("extensions scan", |b| {
        b.iter(|| black_box(&req).extensions().next().map(|e| e.name))
    });
    g.finish();
    let mut g = c.benchmark_group("delivery");
    for size in [CHROMIUM.len(), 2048, 8000] {
        let input = if size == CHROMIUM.len() {
            CHROMIUM.to_vec()
        } else {
            padded_request(size)
        };
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_with_input(BenchmarkId::new("whole", input.len()), &input, |b, i| {
            b.iter(|| server_chunked(black_box(i), i.len()));
        });
        g.bench_with_input(
            BenchmarkId::new("byte-at-a-time", input.len()),
            &input,
            |b, i| {
                b.iter(|| server_chunked(black_box(i), 1));
            },
        );
    }
    g.finish();

    let mut g = c.benchmark_group("client");
    let req = ClientRequest {
        url: "ws://127.0.0.1:9/path?x=1",
        protocols: &["chat"],
        extensions: Some("permessage-deflate; client_max_window_bits"),
        ..ClientRequest::default()
    };
    g.bench_function("write request + check node ws 101", |b| {
        b.iter(|| {
            let (mut hs, n) = ClientHandshake::new(&req, *b"the sample nonce", &mut out).unwrap();
            let r = hs.parse(black_box(NODE_101), 8192, 64).unwrap();
            (n, matches!(r, Status::Complete(_)))
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
