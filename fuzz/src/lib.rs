//! Oracles for the ws-proto fuzz targets.
//!
//! Every target is a `run(data: &[u8])` function here, so that a crash found by a fuzzer can be
//! replayed as a plain test (`tests/fuzz_regressions.rs` includes this file). Each one checks
//! that the answer is right, not only that nothing panics: a failed `assert!` is the finding.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

pub mod common;
pub mod connection_recv;
pub mod frame_header;
pub mod handshake_request;
pub mod handshake_response;
pub mod mask_differential;
pub mod pair;
pub mod utf8_differential;
