//! The send path: framing and (client) masking of the same corpora as the receive benchmark,
//! written to an in-memory sink.
//!
//! - `ws-proto`: `Connection::send` (client, `OsRandom` keys) writing each frame into one
//!   output buffer, the way a caller fills a socket write buffer;
//! - `tungstenite`, `fastwebsockets`, `tokio-websockets`: their public client APIs writing to
//!   the same in-memory sink (each copies the payload into its own buffer to mask it);
//! - `memcpy`: one copy of the corpus's wire bytes; `xor-pass`: one in-place XOR pass over them.

use std::hint::black_box;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use ws_proto_perf::{Corpus, Kind, MemStream, runtime};

fn ws_proto_send(corpus: &Corpus, out: &mut [u8]) -> usize {
    use ws_proto::{Connection, Outgoing, Role, mask_source::OsRandom};
    let mut conn = Connection::new(Role::Client, ws_proto::Config::default(), OsRandom::new());
    let mut pos = 0;
    for m in &corpus.msgs {
        let msg = match m.kind {
            Kind::Text => Outgoing::Text(m.text()),
            Kind::Binary => Outgoing::Binary(m.payload),
            Kind::Ping => Outgoing::Ping(m.payload),
        };
        pos += conn.send(msg, &mut out[pos..]).expect("send");
    }
    pos
}

fn tungstenite_send(corpus: &Corpus) -> usize {
    use tungstenite::protocol::{Role, WebSocket, WebSocketConfig, frame::Utf8Bytes};
    use tungstenite::{Bytes, Message};
    let config = WebSocketConfig::default().max_message_size(Some(64 << 20));
    let mut ws = WebSocket::from_raw_socket(MemStream::new(&[]), Role::Client, Some(config));
    for m in &corpus.msgs {
        let msg = match m.kind {
            Kind::Text => Message::Text(Utf8Bytes::from_static(m.text())),
            Kind::Binary => Message::Binary(Bytes::from_static(m.payload)),
            Kind::Ping => Message::Ping(Bytes::from_static(m.payload)),
        };
        ws.write(msg).expect("tungstenite write");
    }
    ws.flush().expect("tungstenite flush");
    ws.get_ref().written
}

async fn fastwebsockets_send(corpus: &Corpus) -> usize {
    use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocket};
    let mut ws = WebSocket::after_handshake(MemStream::new(&[]), Role::Client);
    for m in &corpus.msgs {
        let opcode = match m.kind {
            Kind::Text => OpCode::Text,
            Kind::Binary => OpCode::Binary,
            Kind::Ping => OpCode::Ping,
        };
        let frame = Frame::new(true, opcode, None, Payload::Borrowed(m.payload));
        ws.write_frame(frame).await.expect("fastwebsockets write");
    }
    ws.into_inner().written
}

async fn tokio_websockets_send(corpus: &Corpus) -> usize {
    use futures_util::SinkExt;
    use tokio_websockets::Message;
    let config = tokio_websockets::Config::default().frame_size(64 << 20);
    let mut ws = tokio_websockets::ClientBuilder::new()
        .config(config)
        .take_over(MemStream::new(&[]));
    for m in &corpus.msgs {
        let msg = match m.kind {
            Kind::Text => Message::text(m.text()),
            Kind::Binary => Message::binary(m.payload),
            Kind::Ping => Message::ping(m.payload),
        };
        ws.feed(msg).await.expect("tokio-websockets write");
    }
    ws.flush().await.expect("tokio-websockets flush");
    ws.get_ref().written
}

fn send(c: &mut Criterion) {
    let rt = runtime();
    for (group_name, corpus) in [
        ("send-1M-16B", ws_proto_perf::small_frames()),
        ("send-mixed", ws_proto_perf::mixed()),
        ("send-16MiB-text", ws_proto_perf::big_text()),
    ] {
        corpus.write_meta(group_name);
        let wire = corpus.wire.len();
        let mut out = vec![0u8; wire];
        // Every implementation writes exactly the corpus's wire size before it is timed.
        assert_eq!(ws_proto_send(&corpus, &mut out), wire, "ws-proto");
        assert_eq!(tungstenite_send(&corpus), wire, "tungstenite");
        assert_eq!(
            rt.block_on(fastwebsockets_send(&corpus)),
            wire,
            "fastwebsockets"
        );
        assert_eq!(
            rt.block_on(tokio_websockets_send(&corpus)),
            wire,
            "tokio-websockets"
        );

        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Bytes(wire as u64));
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        group.bench_function("ws-proto", |b| b.iter(|| ws_proto_send(&corpus, &mut out)));
        group.bench_function("tungstenite", |b| b.iter(|| tungstenite_send(&corpus)));
        group.bench_function("fastwebsockets", |b| {
            b.iter(|| rt.block_on(fastwebsockets_send(&corpus)))
        });
        group.bench_function("tokio-websockets", |b| {
            b.iter(|| rt.block_on(tokio_websockets_send(&corpus)))
        });
        group.bench_function("memcpy", |b| {
            b.iter(|| black_box(&mut out).copy_from_slice(black_box(&corpus.wire)))
        });
        group.bench_function("xor-pass", |b| {
            b.iter(|| ws_proto::frame::mask::apply(black_box(&mut out), [1, 2, 3, 4], 0))
        });
        group.finish();
    }
}

criterion_group!(benches, send);
criterion_main!(benches);
