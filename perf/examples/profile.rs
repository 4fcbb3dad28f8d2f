//! A profiling target, e.g. under `valgrind --tool=callgrind`:
//! `cargo run --release --example profile -- <receive|send|handshake> <small|mixed|big> [reps]`
//! prints the best time of `reps` runs of ws-proto's receive or send loop over a corpus (or
//! `reps` server handshakes).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let corpus = match args.get(2).map(String::as_str) {
        Some("mixed") => ws_proto_perf::mixed(),
        Some("big") => ws_proto_perf::big_text(),
        _ => ws_proto_perf::small_frames(),
    };
    let reps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut out = vec![0u8; 1024];
    match args.get(1).map(String::as_str) {
        Some("utf8") => {
            // The validator alone over the corpus's text payloads, without unmasking.
            let texts: Vec<&[u8]> = corpus
                .msgs
                .iter()
                .filter(|m| m.kind == ws_proto_perf::Kind::Text)
                .map(|m| m.payload)
                .collect();
            let bytes: usize = texts.iter().map(|t| t.len()).sum();
            let mut best = std::time::Duration::MAX;
            for _ in 0..reps {
                let t = std::time::Instant::now();
                for text in &texts {
                    let mut v = ws_proto::utf8::Utf8Validator::new();
                    v.feed(std::hint::black_box(text)).expect("valid");
                    v.finish().expect("valid");
                }
                best = best.min(t.elapsed());
            }
            eprintln!(
                "best of {reps}: {best:?} = {:.2} GB/s",
                bytes as f64 / best.as_nanos() as f64
            );
        }
        Some("handshake") => {
            use ws_proto::Status;
            use ws_proto::handshake::{Accept, ServerHandshake, write_accept};
            const CHROMIUM: &[u8] =
                include_bytes!("../../tests/fixtures/handshake/chromium-request.http");
            let mut out = [0u8; 512];
            let t = std::time::Instant::now();
            for _ in 0..reps {
                let mut hs = ServerHandshake::default();
                let Ok(Status::Complete((_, req))) =
                    hs.parse(std::hint::black_box(CHROMIUM), 8192, 64)
                else {
                    panic!("invalid request")
                };
                std::hint::black_box(
                    write_accept(&req, &Accept::default(), &mut out).expect("fits"),
                );
            }
            eprintln!("{:?} per handshake", t.elapsed() / reps as u32);
        }
        Some("send") => {
            use ws_proto::{Connection, Outgoing, Role, mask_source::OsRandom};
            use ws_proto_perf::Kind;
            let mut out = vec![0u8; corpus.wire.len()];
            let mut best = std::time::Duration::MAX;
            for _ in 0..reps {
                let t = std::time::Instant::now();
                let mut conn =
                    Connection::new(Role::Client, ws_proto::Config::default(), OsRandom::new());
                let mut pos = 0;
                for m in &corpus.msgs {
                    let msg = match m.kind {
                        Kind::Text => Outgoing::Text(m.text()),
                        Kind::Binary => Outgoing::Binary(m.payload),
                        Kind::Ping => Outgoing::Ping(m.payload),
                    };
                    pos += conn.send(msg, &mut out[pos..]).expect("send");
                }
                best = best.min(t.elapsed());
                assert_eq!(pos, corpus.wire.len());
            }
            let per_frame = best.as_nanos() as f64 / corpus.frames() as f64;
            eprintln!("best of {reps}: {best:?} = {per_frame:.2} ns/frame");
        }
        mode => {
            let all = mode == Some("receive-all");
            let mut best = std::time::Duration::MAX;
            let mut buf = corpus.wire.clone();
            for _ in 0..reps {
                buf.copy_from_slice(&corpus.wire);
                let t = std::time::Instant::now();
                let seen = if all {
                    ws_proto_perf::ws_proto_recv_all(&mut buf, &mut out)
                } else {
                    ws_proto_perf::ws_proto_recv(&mut buf, &mut out)
                };
                best = best.min(t.elapsed());
                seen.check(&corpus, "ws-proto");
            }
            let per_frame = best.as_nanos() as f64 / corpus.frames() as f64;
            eprintln!("best of {reps}: {best:?} = {per_frame:.2} ns/frame");
        }
    }
}
