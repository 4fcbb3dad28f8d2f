//! A profiling target: `cargo run --release --example profile -- <receive|...> <corpus>`,
//! e.g. under `valgrind --tool=callgrind`.

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
        _ => {
            let mut best = std::time::Duration::MAX;
            for _ in 0..reps {
                let mut buf = corpus.wire.clone();
                let t = std::time::Instant::now();
                let seen = ws_proto_perf::ws_proto_recv(&mut buf, &mut out);
                best = best.min(t.elapsed());
                seen.check(&corpus, "ws-proto");
            }
            let per_frame = best.as_nanos() as f64 / corpus.frames() as f64;
            eprintln!("best of {reps}: {best:?} = {per_frame:.2} ns/frame");
        }
    }
}

