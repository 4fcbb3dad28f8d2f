//! The inflation cap against a compression bomb: a compressed message of ~10 MiB that would
//! inflate to ~1.6 GiB is stopped at `max_message_size` with 1009, and the heap never holds
//! much more than that limit (measured with a counting global allocator).
//!
//! One test per binary: the allocator counts every thread of the process.
#![cfg(feature = "deflate")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use ws_proto::deflate::DeflateParams;
use ws_proto::mask_source::NoMask;
use ws_proto::{
    Config, Connection, Error, Event, FrameHeader, Opcode, ProtocolError, Role, Status,
};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn add(n: usize) {
    let now = CURRENT.fetch_add(n, Ordering::SeqCst) + n;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size());
        // SAFETY: the caller upholds GlobalAlloc's contract, which System needs.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size());
        // SAFETY: the caller upholds GlobalAlloc's contract, which System needs.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: the caller upholds GlobalAlloc's contract, which System needs.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            add(new_size - layout.size());
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
        }
        // SAFETY: the caller upholds GlobalAlloc's contract, which System needs.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// LSB-first bit writer, as DEFLATE packs bits.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u64, len: u32) {
        self.acc |= value << self.n;
        self.n += len;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// A Huffman code: written most significant bit first.
    fn code(&mut self, code: u64, len: u32) {
        let reversed = (0..len).fold(0, |r, i| (r << 1) | ((code >> i) & 1));
        self.put(reversed, len);
    }
}

/// One fixed-Huffman block: a literal 'a', then `repeats` copies of (length 258, distance 1):
/// 13 bits for every 258 output bytes. No end of block: the message just stops, as a peer
/// streaming it would.
fn bomb(repeats: usize) -> Vec<u8> {
    let mut b = Bits {
        out: Vec::with_capacity(repeats * 13 / 8 + 16),
        acc: 0,
        n: 0,
    };
    b.put(0, 1); // BFINAL = 0
    b.put(1, 2); // BTYPE = 01, fixed Huffman
    b.code(0x30 + u64::from(b'a'), 8); // literal 0..=143: 8 bits from 0b0011_0000
    for _ in 0..repeats {
        b.code(0b1100_0000 + (285 - 280), 8); // length code 285 = 258, no extra bits
        b.code(0, 5); // distance code 0 = 1, no extra bits
    }
    b.out
}

#[test]
fn compression_bomb_is_stopped_at_the_limit() {
    const LIMIT: u64 = 16 << 20;
    let repeats = 6_500_000; // ~10 MiB compressed, ~1.6 GiB inflated
    let payload = bomb(repeats);
    assert!(payload.len() < LIMIT as usize);
    let would_inflate = 1 + repeats as u64 * 258;
    assert!(would_inflate > 90 * LIMIT); // ~1.6 GiB

    // A binary frame from the server: FIN, RSV1, 64-bit length.
    let mut wire = vec![0xc2, 127];
    wire.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    wire.extend_from_slice(&payload);
    drop(payload);

    let mut config = Config::default();
    config.max_message_size = LIMIT;
    let mut conn = Connection::new(Role::Client, config, NoMask);
    conn.enable_deflate(DeflateParams::default());
    // The caller's read buffer (64 KiB) and output vector exist before counting starts.
    let mut buf = vec![0u8; 64 << 10];
    let mut out: Vec<u8> = Vec::new();

    let baseline = CURRENT.load(Ordering::SeqCst);
    PEAK.store(baseline, Ordering::SeqCst);

    let mut fed = 0;
    let mut filled = 0;
    let mut pieces = 0;
    let error = 'outer: loop {
        let take = (buf.len() - filled).min(wire.len() - fed);
        buf[filled..filled + take].copy_from_slice(&wire[fed..fed + take]);
        fed += take;
        filled += take;
        loop {
            let read = conn.handle_read(&mut buf[..filled]);
            let consumed = read.consumed;
            let result = match read.event {
                Ok(Some(Event::Binary(d))) => {
                    pieces += 1;
                    conn.inflate(&d, &mut out)
                }
                Ok(Some(other)) => panic!("unexpected {other:?}"),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            buf.copy_within(consumed..filled, 0);
            filled -= consumed;
            if let Err(e) = result {
                break 'outer e;
            }
            if consumed == 0 {
                break;
            }
        }
        assert!(
            fed < wire.len(),
            "the whole bomb went through without an error"
        );
    };
    let peak = PEAK.load(Ordering::SeqCst) - baseline;

    assert_eq!(error, Error::Protocol(ProtocolError::MessageTooBig));
    assert_eq!(conn.error(), Some(error));
    assert!(
        out.len() as u64 <= LIMIT,
        "output {} over the limit",
        out.len()
    );
    // Stopped early: only the first few 64 KiB pieces of the compressed input were needed.
    assert!(pieces < 8, "{pieces} pieces");
    // The close frame carries 1009.
    let mut frame = [0u8; 256];
    let n = conn.poll_transmit(&mut frame).unwrap().unwrap();
    let Ok(Status::Complete((head, header))) = FrameHeader::decode(&frame[..n]) else {
        panic!("no close frame");
    };
    assert_eq!(header.opcode, Opcode::Close);
    let key = header.mask.expect("a client masks");
    let code = [frame[head] ^ key[0], frame[head + 1] ^ key[1]];
    assert_eq!(code, 1009u16.to_be_bytes());
    // Peak heap above the caller's buffers: the output (at most the limit) plus the inflater
    // (32 KiB window and decoder tables).
    eprintln!(
        "bomb: {} compressed bytes fed, {} pieces, output {} bytes, peak {} bytes above baseline \
         (limit {LIMIT})",
        fed,
        pieces,
        out.len(),
        peak
    );
    assert!(
        peak as u64 <= LIMIT + (128 << 10),
        "peak {peak} bytes for a limit of {LIMIT}"
    );
}
