//! The server side of the opening handshake for a real Chromium request (parse, validate,
//! write the 101 response), from memory, side by side with the peers' server handshakes.
//! (`benches/handshake.rs` in the main crate measures ws-proto's handshake in more detail.)
//!
//! - `ws-proto`: `ServerHandshake::parse` + `write_accept` (the functions);
//! - `ws-proto-connection`: the same through `Connection::server`, `handle_read` and `accept`;
//! - `tungstenite`: `tungstenite::accept` over an in-memory stream (it builds its `WebSocket`);
//! - `tokio-websockets`: `ServerBuilder::accept` over the same stream.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ws_proto::Status;
use ws_proto::handshake::{Accept, ServerHandshake, write_accept};
use ws_proto_perf::{MemStream, runtime};

const CHROMIUM: &[u8] = include_bytes!("../../tests/fixtures/handshake/chromium-request.http");

fn ws_proto_fn(out: &mut [u8]) -> usize {
    let mut hs = ServerHandshake::default();
    let Ok(Status::Complete((_, req))) = hs.parse(black_box(CHROMIUM), 8192, 64) else {
        panic!("invalid request")
    };
    write_accept(&req, &Accept::default(), out).expect("101 fits")
}

fn ws_proto_connection(input: &mut [u8], out: &mut [u8]) -> usize {
    use ws_proto::{Connection, Event};
    let mut conn = Connection::server(ws_proto::Config::default());
    let read = conn.handle_read(black_box(input));
    let Ok(Some(Event::Request(req))) = read.event else {
        panic!("no request event")
    };
    conn.accept(&req, &Accept::default(), out)
        .expect("101 fits")
}

fn handshake(c: &mut Criterion) {
    let rt = runtime();
    let mut out = [0u8; 512];
    let mut input = CHROMIUM.to_vec();
    let expected = ws_proto_fn(&mut out);
    assert_eq!(ws_proto_connection(&mut input, &mut out), expected);
    let response = String::from_utf8_lossy(&out[..expected]).to_string();
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");

    let mut group = c.benchmark_group("handshake-server");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ws-proto", |b| b.iter(|| ws_proto_fn(&mut out)));
    group.bench_function("ws-proto-connection", |b| {
        b.iter(|| ws_proto_connection(&mut input, &mut out))
    });
    group.bench_function("tungstenite", |b| {
        b.iter(|| {
            let ws = tungstenite::accept(MemStream::new(black_box(CHROMIUM))).expect("accept");
            ws.get_ref().written
        })
    });
    group.bench_function("tokio-websockets", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (_, ws) = tokio_websockets::ServerBuilder::new()
                    .accept(MemStream::new(black_box(CHROMIUM)))
                    .await
                    .expect("accept");
                ws.get_ref().written
            })
        })
    });
    group.finish();
}

criterion_group!(benches, handshake);
criterion_main!(benches);
