//! Unmasking in place (RFC 6455 §5.3) at message sizes from 16 B to 1 MiB, at a 64-byte-aligned
//! and at an unaligned start, side by side with `copy_from_slice` of the same bytes (memcpy),
//! a plain byte loop and `fastwebsockets::unmask`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 6] = [16, 125, 1 << 10, 16 << 10, 64 << 10, 1 << 20];
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A buffer with room to start a slice of `len` bytes at any offset from a 64-byte boundary.
struct Buf {
    bytes: Vec<u8>,
    aligned_at: usize,
}

impl Buf {
    fn new(len: usize) -> Self {
        let bytes: Vec<u8> = (0..len + 128).map(|i| (i * 31 + 7) as u8).collect();
        let aligned_at = bytes.as_ptr().align_offset(64);
        Self { bytes, aligned_at }
    }

    /// `len` bytes starting `misalign` bytes past a 64-byte boundary.
    fn slice(&mut self, misalign: usize, len: usize) -> &mut [u8] {
        let start = self.aligned_at + misalign;
        &mut self.bytes[start..start + len]
    }
}

/// The byte loop a newcomer would write.
fn byte_loop(buf: &mut [u8], key: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

fn unmask(c: &mut Criterion) {
    for (name, misalign) in [("unmask-aligned", 0), ("unmask-unaligned", 3)] {
        let mut group = c.benchmark_group(name);
        for len in SIZES {
            group.throughput(Throughput::Bytes(len as u64));
            let mut buf = Buf::new(len);
            let src = vec![0x5au8; len];
            group.bench_function(BenchmarkId::new("ws-proto", len), |b| {
                let s = buf.slice(misalign, len);
                b.iter(|| ws_proto::frame::mask::apply(black_box(&mut *s), black_box(KEY), 0));
            });
            group.bench_function(BenchmarkId::new("fastwebsockets", len), |b| {
                let s = buf.slice(misalign, len);
                b.iter(|| fastwebsockets::unmask(black_box(&mut *s), black_box(KEY)));
            });
            group.bench_function(BenchmarkId::new("byte-loop", len), |b| {
                let s = buf.slice(misalign, len);
                b.iter(|| byte_loop(black_box(&mut *s), black_box(KEY)));
            });
            group.bench_function(BenchmarkId::new("memcpy", len), |b| {
                let s = buf.slice(misalign, len);
                b.iter(|| black_box(&mut *s).copy_from_slice(black_box(&src)));
            });
        }
        group.finish();
    }
}

/// The send path's masked copy (`copy_masked`) next to a plain copy of the same bytes.
fn copy_masked(c: &mut Criterion) {
    let mut group = c.benchmark_group("copy-masked");
    for len in SIZES {
        group.throughput(Throughput::Bytes(len as u64));
        let mut buf = Buf::new(len);
        let src = vec![0x5au8; len];
        group.bench_function(BenchmarkId::new("ws-proto", len), |b| {
            let s = buf.slice(0, len);
            b.iter(|| ws_proto::frame::mask::copy_masked(black_box(&mut *s), black_box(&src), KEY));
        });
        group.bench_function(BenchmarkId::new("memcpy", len), |b| {
            let s = buf.slice(0, len);
            b.iter(|| black_box(&mut *s).copy_from_slice(black_box(&src)));
        });
    }
    group.finish();
}

criterion_group!(benches, unmask, copy_masked);
criterion_main!(benches);
