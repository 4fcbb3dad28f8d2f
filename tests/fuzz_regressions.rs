//! Replays fuzz inputs through the fuzz targets' oracles (`fuzz/src`, shared with cargo-fuzz):
//! the committed seed corpus, and every input a fuzzer found a bug with, so that the bug stays
//! fixed. A new finding goes in `tests/fuzz_regressions/<target>/` (the raw input file that
//! `cargo fuzz` wrote under `fuzz/artifacts/`) and in a named test below if it deserves one.

#[path = "../fuzz/src/lib.rs"]
#[allow(unreachable_pub, dead_code, missing_docs, unused_imports)]
mod oracles;

use std::fs;
use std::path::Path;

type Oracle = fn(&[u8]);

const TARGETS: &[(&str, Oracle)] = &[
    ("frame_header", oracles::frame_header::run),
    ("mask_differential", oracles::mask_differential::run),
    ("utf8_differential", oracles::utf8_differential::run),
    ("connection_recv", oracles::connection_recv::run),
    ("pair", oracles::pair::run),
    ("handshake_request", oracles::handshake_request::run),
    ("handshake_response", oracles::handshake_response::run),
];

/// Runs every file under `root/<target>/` through its oracle; returns how many ran.
fn replay_dir(root: &Path) -> usize {
    let mut ran = 0;
    for (target, oracle) in TARGETS {
        let Ok(entries) = fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| oracle(&data));
            assert!(result.is_ok(), "{} failed its oracle", path.display());
            ran += 1;
        }
    }
    ran
}

#[test]
fn seed_corpus_passes_every_oracle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let ran = replay_dir(&root);
    assert!(ran >= 50, "only {ran} seeds found under {}", root.display());
}

#[test]
fn recorded_findings_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    replay_dir(&root);
}

/// Found by `pair` on the first skeleton: a client's `send` sized the frame header before the
/// mask key was set, so every client `send` failed with `BufferTooSmall` (fixed on main in
/// "fix client header sizing in send"). Input: one empty text message from the client.
#[test]
fn pair_client_send_sizes_the_masked_header() {
    oracles::pair::run(&[10, 249, 249, 249, 249, 249, 249, 249]);
}

/// The `arbitrary` feature's impls produce values the crate accepts: headers that round-trip
/// through encode and decode, close bodies that parse back, configurations and outgoing frames
/// a connection takes.
#[cfg(feature = "arbitrary")]
#[test]
fn arbitrary_impls_produce_valid_values() {
    use arbitrary::{Arbitrary, Unstructured};
    use ws_proto::{
        CloseCode, CloseFrame, Config, Connection, FrameHeader, Outgoing, Role, SendError, Status,
        mask_source::NoMask,
    };
    let mut state = 0x1234_5678u32;
    for round in 0..2000 {
        let bytes: Vec<u8> = (0..64 + round % 200)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 24) as u8
            })
            .collect();
        let mut u = Unstructured::new(&bytes);
        let h = FrameHeader::arbitrary(&mut u).unwrap();
        let mut out = [0u8; 14];
        let n = h.encode(&mut out).unwrap();
        assert_eq!(FrameHeader::decode(&out[..n]), Ok(Status::Complete((n, h))));

        let c = CloseFrame::arbitrary(&mut u).unwrap();
        let mut body = Vec::new();
        if c.code != CloseCode::NO_STATUS {
            body.extend_from_slice(&c.code.0.to_be_bytes());
            body.extend_from_slice(c.reason.as_bytes());
        }
        assert_eq!(body.len(), c.encoded_len());
        assert_eq!(CloseFrame::parse(&body), Ok(c));

        let config = Config::arbitrary(&mut u).unwrap();
        let role = Role::arbitrary(&mut u).unwrap();
        let mut conn = Connection::new(role, config, NoMask);
        if let Ok(msg) = Outgoing::arbitrary(&mut u) {
            let mut buf = vec![0u8; 1 << 16];
            match conn.send(msg, &mut buf) {
                Ok(n) => assert!(n >= 2),
                Err(SendError::Misuse(_)) => {
                    assert!(matches!(msg, Outgoing::Ping(p) | Outgoing::Pong(p) if p.len() > 125))
                }
                Err(e) => panic!("{e:?}"),
            }
        }
    }
}

/// The handshake seeds reach the interesting paths: the RFC 6455 §1.3 request is accepted,
/// and its response satisfies the fixed client of `handshake_response`.
#[test]
fn handshake_seeds_reach_acceptance() {
    use ws_proto::Status;
    use ws_proto::handshake::{ServerHandshake, ServerResponse};
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let req = fs::read(seeds.join("handshake_request/req-0")).unwrap();
    let r = ServerHandshake::default().parse(&req[2..], 8192, 64);
    assert!(
        matches!(r, Ok(Status::Complete((n, _))) if n == req.len() - 2),
        "{r:?}"
    );
    for seed in ["resp-0", "resp-1"] {
        let resp = fs::read(seeds.join("handshake_response").join(seed)).unwrap();
        let r = oracles::handshake_response::client().parse(&resp[2..], 8192, 64);
        assert!(
            matches!(r, Ok(Status::Complete((_, ServerResponse::Accepted(_))))),
            "{seed}: {r:?}"
        );
    }
}
