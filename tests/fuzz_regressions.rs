//! Replays fuzz inputs through the fuzz targets' oracles (`fuzz/src`, shared with cargo-fuzz):
//! the committed seed corpus, and every input a fuzzer found a bug with, so that the bug stays
//! fixed. A new finding goes in `tests/fuzz_regressions/<target>/` (the raw input file that
//! `cargo fuzz` wrote under `fuzz/artifacts/`) and in a named test below if it deserves one.

#[path = "../fuzz/src/lib.rs"]
#[allow(unreachable_pub, dead_code, missing_docs)]
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
