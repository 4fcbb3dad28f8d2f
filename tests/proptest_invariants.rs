//! Property tests: codec round trips, chunking invariance, masking and UTF-8 differentials.

mod common;

use common::*;
use proptest::prelude::*;
use ws_proto::connection::MessageKind;
use ws_proto::frame::{FrameHeader, Opcode, Status, mask};
use ws_proto::mask_source::NoMask;
use ws_proto::utf8::Utf8Validator;
use ws_proto::{Config, Connection, Outgoing, Role};

fn opcode() -> impl Strategy<Value = Opcode> {
    prop_oneof![
        Just(Opcode::Continuation),
        Just(Opcode::Text),
        Just(Opcode::Binary),
        Just(Opcode::Close),
        Just(Opcode::Ping),
        Just(Opcode::Pong),
    ]
}

fn header() -> impl Strategy<Value = FrameHeader> {
    (
        opcode(),
        any::<bool>(),
        0u8..8,
        any::<Option<[u8; 4]>>(),
        prop_oneof![0u64..126, 126u64..=0xffff, 0x1_0000u64..=(u64::MAX >> 1)],
    )
        .prop_map(|(opcode, fin, rsv, mask, len)| FrameHeader {
            fin: fin || opcode.is_control(),
            rsv,
            opcode,
            mask,
            payload_len: if opcode.is_control() { len % 126 } else { len },
        })
}

/// One operation of a sender: a message, possibly fragmented, or a control frame.
#[derive(Clone, Debug)]
enum Op {
    Text(String, Vec<usize>),
    Binary(Vec<u8>, Vec<usize>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    let cuts = proptest::collection::vec(0usize..400, 0..4);
    prop_oneof![
        (".{0,60}", cuts.clone()).prop_map(|(s, c)| Op::Text(s, c)),
        (proptest::collection::vec(any::<u8>(), 0..400), cuts).prop_map(|(b, c)| Op::Binary(b, c)),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Ping),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Pong),
    ]
}

/// Encodes `ops` from `from`'s side; returns the wire bytes and the normalised events the peer
/// should see.
fn encode_ops(from: Role, ops: &[Op]) -> (Vec<u8>, Vec<Norm>) {
    let config = Config::default();
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    let mut client = Connection::new(Role::Client, config.clone(), TestMask(5));
    let mut server = Connection::new(Role::Server, config, NoMask);
    let mut out = vec![0u8; 1024];
    let mut emit = |msg: Outgoing<'_>, wire: &mut Vec<u8>| {
        let n = match from {
            Role::Client => client.send(msg, &mut out),
            Role::Server => server.send(msg, &mut out),
        }
        .unwrap();
        wire.extend_from_slice(&out[..n]);
    };
    for op in ops {
        match op {
            Op::Text(_, cuts) | Op::Binary(_, cuts) if !cuts.is_empty() => {
                let (kind, bytes) = match op {
                    Op::Text(s, _) => (MessageKind::Text, s.as_bytes()),
                    Op::Binary(b, _) => (MessageKind::Binary, &b[..]),
                    _ => unreachable!(),
                };
                let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
                points.sort_unstable();
                let mut start = 0;
                for p in points {
                    emit(
                        Outgoing::Fragment {
                            kind,
                            payload: &bytes[start..p],
                            fin: false,
                        },
                        &mut wire,
                    );
                    start = p;
                }
                emit(
                    Outgoing::Fragment {
                        kind,
                        payload: &bytes[start..],
                        fin: true,
                    },
                    &mut wire,
                );
                expected.push(Norm::Message(kind, bytes.to_vec()));
            }
            Op::Text(s, _) => {
                emit(Outgoing::Text(s), &mut wire);
                expected.push(Norm::Message(MessageKind::Text, s.as_bytes().to_vec()));
            }
            Op::Binary(b, _) => {
                emit(Outgoing::Binary(b), &mut wire);
                expected.push(Norm::Message(MessageKind::Binary, b.clone()));
            }
            Op::Ping(p) => {
                emit(Outgoing::Ping(p), &mut wire);
                expected.push(Norm::Ping(p.clone()));
            }
            Op::Pong(p) => {
                emit(Outgoing::Pong(p), &mut wire);
                expected.push(Norm::Pong(p.clone()));
            }
        }
    }
    (wire, expected)
}

fn receive(role: Role, wire: &[u8], cuts: &[usize]) -> (Vec<Ev>, u64) {
    let mut conn = Connection::new(role, Config::default(), TestMask(11));
    let mut reader = Reader::default();
    let mut events = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    points.sort_unstable();
    let mut start = 0;
    for p in points {
        events.extend(reader.feed(&mut conn, &wire[start..p]));
        start = p;
    }
    events.extend(reader.feed(&mut conn, &wire[start..]));
    assert!(reader.buf.is_empty(), "all bytes consumed");
    (events, reader.calls)
}

proptest! {
    #[test]
    fn header_decode_inverts_encode(h in header()) {
        let mut buf = [0u8; 14];
        let n = h.encode(&mut buf).unwrap();
        prop_assert_eq!(n, h.encoded_len());
        prop_assert_eq!(FrameHeader::decode(&buf[..n]), Ok(Status::Complete((n, h))));
        for i in 0..n {
            // Any proper prefix is partial or an error that the full header also has.
            match FrameHeader::decode(&buf[..i]) {
                Ok(Status::Partial) => {}
                other => prop_assert!(false, "prefix {} gave {:?}", i, other),
            }
        }
    }

    #[test]
    fn frames_round_trip_in_both_roles(ops in proptest::collection::vec(op(), 0..12), client in any::<bool>()) {
        let from = if client { Role::Client } else { Role::Server };
        let (wire, expected) = encode_ops(from, &ops);
        let (events, _) = receive(from.peer(), &wire, &[]);
        prop_assert_eq!(normalise(&events), expected);
    }

    #[test]
    fn any_split_gives_the_same_events(
        ops in proptest::collection::vec(op(), 1..10),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
        client in any::<bool>(),
    ) {
        let from = if client { Role::Client } else { Role::Server };
        let (wire, _) = encode_ops(from, &ops);
        let (whole, _) = receive(from.peer(), &wire, &[]);
        let (split, _) = receive(from.peer(), &wire, &cuts);
        prop_assert_eq!(normalise(&split), normalise(&whole));
    }

    #[test]
    fn byte_at_a_time_gives_the_same_events_in_linear_calls(ops in proptest::collection::vec(op(), 1..6)) {
        let (wire, expected) = encode_ops(Role::Client, &ops);
        let cuts: Vec<usize> = (1..wire.len()).collect();
        let (events, calls) = receive(Role::Server, &wire, &cuts);
        prop_assert_eq!(normalise(&events), expected);
        // At most a constant number of calls per byte: O(n) work for byte-wise delivery.
        prop_assert!(calls <= 3 * wire.len() as u64 + 2, "{} calls for {} bytes", calls, wire.len());
    }

    #[test]
    fn corrupted_streams_fail_the_same_way_under_any_split(
        ops in proptest::collection::vec(op(), 1..6),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let (mut wire, _) = encode_ops(Role::Client, &ops);
        for (at, x) in flips {
            let i = at % wire.len();
            wire[i] ^= x;
        }
        let (whole, _) = receive_with(Role::Server, &wire, &[], false);
        let (split, _) = receive_with(Role::Server, &wire, &cuts, false);
        prop_assert_eq!(normalise(&split), normalise(&whole));
    }

    #[test]
    fn read_all_gives_the_events_of_read_one_by_one(
        ops in proptest::collection::vec(op(), 1..24),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        client in any::<bool>(),
    ) {
        let from = if client { Role::Client } else { Role::Server };
        let (mut wire, _) = encode_ops(from, &ops);
        for (at, x) in flips {
            let i = at % wire.len();
            wire[i] ^= x;
        }
        let one_by_one = receive_with(from.peer(), &wire, &cuts, false);
        let all = receive_with(from.peer(), &wire, &cuts, true);
        // The same pieces in the same order, the same error, the same bytes to send.
        prop_assert_eq!(all, one_by_one);
    }

    #[test]
    fn fast_mask_equals_byte_loop(
        data in proptest::collection::vec(any::<u8>(), 0..600),
        key in any::<[u8; 4]>(),
        phase in 0usize..4,
        offset in 0usize..64,
        split in any::<usize>(),
    ) {
        let offset = offset.min(data.len());
        let mut fast = data.clone();
        let mut slow = data.clone();
        let p1 = mask::apply(&mut fast[offset..], key, phase);
        let p2 = mask::apply_bytewise(&mut slow[offset..], key, phase);
        prop_assert_eq!(p1, p2);
        prop_assert_eq!(&fast, &slow);
        // Resuming mid-payload with the carried phase equals one pass.
        let mut resumed = data.clone();
        let at = split % (data.len() + 1);
        let (a, b) = resumed.split_at_mut(at);
        let p = mask::apply(a, key, phase);
        mask::apply(b, key, p);
        let mut one = data;
        mask::apply(&mut one, key, phase);
        prop_assert_eq!(resumed, one);
    }

    #[test]
    fn incremental_utf8_agrees_with_core(
        data in prop_oneof![
            ".{0,40}".prop_map(|s| s.into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..40),
            (".{0,20}", any::<usize>(), any::<u8>()).prop_map(|(s, at, b)| {
                let mut v = s.into_bytes();
                if !v.is_empty() { let i = at % v.len(); v[i] = b; }
                v
            }),
        ],
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let expected = core::str::from_utf8(&data);
        let mut v = Utf8Validator::new();
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        points.sort_unstable();
        let mut start = 0;
        let mut result = Ok(());
        for p in points.into_iter().chain([data.len()]) {
            result = v.feed(&data[start..p]);
            if result.is_err() {
                // Fail fast: the error is at or before the end of the bytes fed so far.
                let e = expected.as_ref().unwrap_err();
                prop_assert!(e.error_len().is_some() && e.valid_up_to() < p);
                break;
            }
            start = p;
        }
        let result = result.and_then(|()| v.finish());
        prop_assert_eq!(result.is_ok(), expected.is_ok());
    }
}

/// Feeds `wire` cut at `cuts` to a connection of `role`, through `handle_read` one event at a
/// time (`all == false`) or `handle_read_all`; stops at the first error. Returns the events
/// and what the connection queued to send (pongs, the close frame).
fn receive_with(role: Role, wire: &[u8], cuts: &[usize], all: bool) -> (Vec<Ev>, Vec<u8>) {
    let mut conn = Connection::new(role, Config::default(), TestMask(11));
    let mut reader = Reader::default();
    let mut events = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    points.sort_unstable();
    let mut start = 0;
    for p in points.into_iter().chain([wire.len()]) {
        let chunk = &wire[start..p];
        let evs = if all {
            reader.feed_all(&mut conn, chunk)
        } else {
            reader.feed(&mut conn, chunk)
        };
        let failed = evs.iter().any(|e| matches!(e, Ev::Error(_)));
        events.extend(evs);
        start = p;
        if failed {
            break;
        }
    }
    (events, drain_transmit(&mut conn))
}
