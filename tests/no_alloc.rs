//! Receiving and sending never allocate: 10,000 messages of mixed size through a client/server
//! pair with caller-owned buffers, counted by a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ws_proto::mask_source::NoMask;
use ws_proto::{Config, Connection, Event, MaskSource, Outgoing, Role, SendKind};

struct Counting;

std::thread_local! {
    /// Allocations made by this thread: the test harness's other threads may allocate.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCATIONS.with(|n| n.set(n.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Counter(u32);
impl MaskSource for Counter {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *b = (self.0 >> 16) as u8;
        }
    }
}

/// Reads everything in `wire[..len]` with `conn`, one event per `handle_read` or all at once
/// with `handle_read_all`, returning (messages completed, bytes seen).
fn drain<M: MaskSource>(
    conn: &mut Connection<M>,
    wire: &mut [u8],
    mut len: usize,
    all: bool,
) -> (usize, usize) {
    let (mut messages, mut bytes) = (0, 0);
    if all {
        let used = conn
            .handle_read_all(&mut wire[..len], |event| {
                if let Some((_, d)) = event.as_data() {
                    bytes += d.payload.len();
                    messages += usize::from(d.ends_message);
                }
            })
            .expect("valid stream");
        assert_eq!(used, len);
        return (messages, bytes);
    }
    let mut start = 0;
    while start < len {
        let read = conn.handle_read(&mut wire[start..len]);
        match read.event.expect("valid stream") {
            Some(Event::Text(d) | Event::Binary(d)) => {
                bytes += d.payload.len();
                messages += usize::from(d.ends_message);
            }
            Some(_) => {}
            None if read.consumed == 0 => break,
            None => {}
        }
        start += read.consumed;
    }
    len -= start;
    assert_eq!(len, 0);
    (messages, bytes)
}

#[test]
fn ten_thousand_messages_without_allocating() {
    let mut client = Connection::new(Role::Client, Config::default(), Counter(1));
    let mut server = Connection::new(Role::Server, Config::default(), NoMask);
    let payload = vec![b'x'; 70_000];
    let mut wire = vec![0u8; 80_000];
    let mut in_place = vec![b'y'; 70_000];
    let mut control = [0u8; 256];
    let sizes = [0usize, 1, 16, 125, 126, 1000, 65_535, 65_536, 70_000];

    let before = allocations();
    let (mut sent_msgs, mut sent_bytes) = (0usize, 0usize);
    let (mut got_msgs, mut got_bytes) = (0usize, 0usize);
    for i in 0..10_000usize {
        let size = sizes[i % sizes.len()];
        let body = &payload[..size];
        // Client → server: whole frames, fragments, pings.
        let n = match i % 4 {
            0 => client.send(Outgoing::Binary(body), &mut wire).unwrap(),
            1 => client
                .send(
                    Outgoing::Text(std::str::from_utf8(body).unwrap()),
                    &mut wire,
                )
                .unwrap(),
            2 => {
                let half = size / 2;
                let a = client
                    .send(
                        Outgoing::Fragment {
                            kind: ws_proto::MessageKind::Binary,
                            payload: &body[..half],
                            fin: false,
                        },
                        &mut wire,
                    )
                    .unwrap();
                let b = client.send(Outgoing::Ping(b"p"), &mut wire[a..]).unwrap();
                a + b
                    + client
                        .send(
                            Outgoing::Fragment {
                                kind: ws_proto::MessageKind::Binary,
                                payload: &body[half..],
                                fin: true,
                            },
                            &mut wire[a + b..],
                        )
                        .unwrap()
            }
            _ => {
                // Zero-copy send: header in an array, payload masked in place.
                let head = client
                    .send_in_place(SendKind::Binary, &mut in_place[..size], true)
                    .unwrap();
                let h = head.as_bytes().len();
                wire[..h].copy_from_slice(head.as_bytes());
                wire[h..h + size].copy_from_slice(&in_place[..size]);
                h + size
            }
        };
        sent_msgs += 1;
        sent_bytes += size;
        let (m, b) = drain(&mut server, &mut wire, n, i % 3 == 0);
        got_msgs += m;
        got_bytes += b;
        // Server → client echo of the same size, and the queued pong.
        let n = server.send(Outgoing::Binary(body), &mut wire).unwrap();
        let mut extra = 0;
        while let Some(k) = server.poll_transmit(&mut control).unwrap() {
            wire[n + extra..n + extra + k].copy_from_slice(&control[..k]);
            extra += k;
        }
        let (m, _) = drain(&mut client, &mut wire, n + extra, i % 3 == 1);
        got_msgs += m;
    }
    let after = allocations();
    assert_eq!(got_msgs, 2 * sent_msgs);
    assert_eq!(got_bytes, sent_bytes);
    assert_eq!(after - before, 0, "heap allocations on the hot path");
}

#[test]
fn the_counter_sees_allocations() {
    let before = allocations();
    let v: Vec<u8> = Vec::with_capacity(std::hint::black_box(64));
    std::hint::black_box(&v);
    assert_eq!(allocations() - before, 1);
}
