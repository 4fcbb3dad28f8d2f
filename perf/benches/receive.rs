//! The receive path: bytes in, events out, unmasking and UTF-8 validation included, on three
//! corpora (one million 16-byte text frames; a mixed corpus; one 16 MiB text message).
//!
//! - `ws-proto`: the frames already sit in the caller's buffer (as after a socket read into
//!   it) and are decoded and unmasked in place;
//! - `ws-proto-stream`: the same, but read from an in-memory stream through a 128 KiB buffer,
//!   the way the peers read (one extra copy, like theirs);
//! - `tungstenite`, `fastwebsockets`, `tokio-websockets`: their public server APIs over the
//!   same in-memory stream;
//! - `xor-pass`: one in-place XOR pass over the same bytes, the floor for any in-place parser;
//!   `memcpy`: one copy of the same bytes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use ws_proto_perf::{
    Corpus, MemStream, Seen, runtime, ws_proto_recv, ws_proto_recv_all, ws_proto_recv_stream,
};

fn tungstenite_recv(corpus: &Corpus) -> Seen {
    use tungstenite::Message;
    use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
    let config = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let mut ws =
        WebSocket::from_raw_socket(MemStream::new(&corpus.wire), Role::Server, Some(config));
    let mut seen = Seen::default();
    while seen.msgs < corpus.data_msgs {
        match ws.read().expect("tungstenite read") {
            Message::Text(t) => {
                seen.msgs += 1;
                seen.bytes += t.len() as u64;
            }
            Message::Binary(b) => {
                seen.msgs += 1;
                seen.bytes += b.len() as u64;
            }
            _ => {}
        }
    }
    seen
}

async fn fastwebsockets_recv(corpus: &Corpus) -> Seen {
    use fastwebsockets::{OpCode, Role, WebSocket};
    let mut ws = WebSocket::after_handshake(MemStream::new(&corpus.wire), Role::Server);
    ws.set_max_message_size(64 << 20);
    let mut seen = Seen::default();
    while seen.msgs < corpus.data_msgs {
        let frame = ws.read_frame().await.expect("fastwebsockets read");
        if matches!(frame.opcode, OpCode::Text | OpCode::Binary) {
            seen.msgs += 1;
            seen.bytes += frame.payload.len() as u64;
        }
    }
    seen
}

async fn tokio_websockets_recv(corpus: &Corpus) -> Seen {
    use futures_util::StreamExt;
    let limits = tokio_websockets::Limits::default().max_payload_len(Some(64 << 20));
    let mut ws = tokio_websockets::ServerBuilder::new()
        .limits(limits)
        .serve(MemStream::new(&corpus.wire));
    let mut seen = Seen::default();
    while seen.msgs < corpus.data_msgs {
        let msg = ws
            .next()
            .await
            .expect("message")
            .expect("tokio-websockets read");
        if msg.is_text() || msg.is_binary() {
            seen.msgs += 1;
            seen.bytes += msg.as_payload().len() as u64;
        }
    }
    seen
}

fn receive(c: &mut Criterion) {
    let rt = runtime();
    for (group_name, corpus) in [
        ("receive-1M-16B", ws_proto_perf::small_frames()),
        ("receive-mixed", ws_proto_perf::mixed()),
        ("receive-16MiB-text", ws_proto_perf::big_text()),
    ] {
        corpus.write_meta(group_name);
        let mut out = vec![0u8; 1024];
        let mut read_buf = vec![0u8; 128 << 10];
        // Every implementation must see the whole corpus before it is timed.
        ws_proto_recv(&mut corpus.wire.clone(), &mut out).check(&corpus, "ws-proto");
        ws_proto_recv_all(&mut corpus.wire.clone(), &mut out).check(&corpus, "ws-proto-all");
        ws_proto_recv_stream(&mut MemStream::new(&corpus.wire), &mut read_buf, &mut out)
            .check(&corpus, "ws-proto-stream");
        tungstenite_recv(&corpus).check(&corpus, "tungstenite");
        rt.block_on(fastwebsockets_recv(&corpus))
            .check(&corpus, "fastwebsockets");
        rt.block_on(tokio_websockets_recv(&corpus))
            .check(&corpus, "tokio-websockets");

        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Bytes(corpus.wire.len() as u64));
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        // The bytes are unmasked in place, so each iteration starts from a fresh copy, made
        // untimed into the same buffer (like the XOR pass and memcpy, which also reuse theirs).
        let mut in_place = corpus.wire.clone();
        let recv_loops: [(&str, fn(&mut [u8], &mut [u8]) -> Seen); 2] = [
            ("ws-proto", ws_proto_recv),
            ("ws-proto-all", ws_proto_recv_all),
        ];
        for (name, recv) in recv_loops {
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        in_place.copy_from_slice(&corpus.wire);
                        let start = Instant::now();
                        black_box(recv(&mut in_place, &mut out));
                        total += start.elapsed();
                    }
                    total
                })
            });
        }
        group.bench_function("ws-proto-stream", |b| {
            b.iter(|| {
                ws_proto_recv_stream(&mut MemStream::new(&corpus.wire), &mut read_buf, &mut out)
            })
        });
        group.bench_function("tungstenite", |b| b.iter(|| tungstenite_recv(&corpus)));
        group.bench_function("fastwebsockets", |b| {
            b.iter(|| rt.block_on(fastwebsockets_recv(&corpus)))
        });
        group.bench_function("tokio-websockets", |b| {
            b.iter(|| rt.block_on(tokio_websockets_recv(&corpus)))
        });
        let mut buf = corpus.wire.clone();
        group.bench_function("xor-pass", |b| {
            b.iter(|| ws_proto::frame::mask::apply(black_box(&mut buf), [1, 2, 3, 4], 0))
        });
        group.bench_function("memcpy", |b| {
            b.iter(|| black_box(&mut buf).copy_from_slice(black_box(&corpus.wire)))
        });
        group.finish();
    }
}

criterion_group!(benches, receive);
criterion_main!(benches);
