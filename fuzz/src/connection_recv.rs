//! Receive path of an open connection, either role: the same input delivered whole and split at
//! fuzzer-chosen points (the caller keeps unconsumed bytes and appends the next chunk) must give
//! the same events, payload bytes, error and output.
//!
//! Input layout (hand-made so that seeds are easy to write from test vectors):
//! `flags, n_splits, n_splits × u16 LE split points, wire bytes...`, where `flags` bit 0 is the
//! role (1 = client), bit 1 auto-pong, bits 2..=4 a limits preset, bits 5..=7 the size of the
//! first buffer offered to `poll_transmit`.

use ws_proto::{CloseCode, Config, Connection, Error, Role, State};

use super::common::{
    CounterMask, Norm, Recorder, encode_split_points, ref_decode_all, split_points, state_rank,
};

const TX_SIZES: [usize; 8] = [0, 1, 2, 7, 64, 131, 200, 4096];

/// Parsed fuzz input.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    pub role: Role,
    pub config: Config,
    pub tx_size: usize,
    /// Sorted, deduplicated, each at most `wire.len()`.
    pub splits: Vec<usize>,
    pub wire: &'a [u8],
}

/// A configuration with the limits of `preset` (0 = defaults, others small, to reach the limit
/// checks with short inputs).
pub fn config_for(preset: u8, auto_pong: bool) -> Config {
    let mut c = Config::default();
    c.auto_pong = auto_pong;
    let i = usize::from(preset % 8);
    if i != 0 {
        c.max_frame_payload = [0, 0, 3, 16, 125, 200, 65_536, 1 << 20][i];
        c.max_message_size = [0, 0, 8, 20, 125, 300, 70_000, 1 << 20][i];
        c.max_fragments = [0, 1, 2, 3, 4, 8, 100, 1000][i];
    }
    c
}

pub fn parse(data: &[u8]) -> Option<Input<'_>> {
    let (&flags, rest) = data.split_first()?;
    let (mut splits, wire) = split_points(rest)?;
    splits.dedup();
    Some(Input {
        role: if flags & 1 != 0 {
            Role::Client
        } else {
            Role::Server
        },
        config: config_for((flags >> 2) & 7, flags & 2 != 0),
        tx_size: TX_SIZES[usize::from(flags >> 5)],
        splits,
        wire,
    })
}

/// Encodes an input (for seeds and tests).
pub fn encode(
    role: Role,
    preset: u8,
    auto_pong: bool,
    tx: u8,
    splits: &[u16],
    wire: &[u8],
) -> Vec<u8> {
    let flags = u8::from(role == Role::Client)
        | (u8::from(auto_pong) << 1)
        | ((preset & 7) << 2)
        | ((tx & 7) << 5);
    let mut v = vec![flags];
    v.extend(encode_split_points(splits, wire));
    v
}

/// What one delivery produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub rec: Recorder,
    pub error: Option<Error>,
    /// Everything `poll_transmit` wrote.
    pub tx: Vec<u8>,
    /// Payloads of the pings received, in order.
    pub pings: Vec<Vec<u8>>,
    pub final_state: Option<State>,
    pub eof_code: Option<CloseCode>,
    pub calls: usize,
}

fn drain_tx(conn: &mut Connection<CounterMask>, first_size: usize, tx: &mut Vec<u8>) {
    loop {
        let mut buf = vec![0xa5u8; first_size];
        match conn.poll_transmit(&mut buf) {
            Ok(None) => return,
            Ok(Some(n)) => {
                assert!(n <= buf.len(), "poll_transmit wrote {n} into {}", buf.len());
                assert!(n > 0, "poll_transmit produced an empty item");
                tx.extend_from_slice(&buf[..n]);
            }
            Err(e) => {
                assert!(
                    e.required > first_size,
                    "BufferTooSmall {e:?} for {first_size} bytes"
                );
                let mut big = vec![0xa5u8; e.required];
                match conn.poll_transmit(&mut big) {
                    Ok(Some(n)) => {
                        assert!(n <= big.len());
                        tx.extend_from_slice(&big[..n]);
                    }
                    other => panic!(
                        "retry with the required {} bytes gave {other:?}",
                        e.required
                    ),
                }
            }
        }
    }
}

/// Delivers `chunks` in order with caller-side buffering; checks the per-call invariants.
pub fn deliver(input: &Input<'_>, chunks: &[&[u8]]) -> Outcome {
    let mut conn = Connection::new(input.role, input.config.clone(), CounterMask(7));
    let mut out = Outcome::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut rank = state_rank(conn.state());
    'outer: for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let len = buf.len();
            let read = conn.handle_read(&mut buf);
            out.calls += 1;
            assert!(read.consumed <= len, "consumed {} of {len}", read.consumed);
            let consumed = read.consumed;
            let mut progress = consumed > 0;
            match read.event {
                Ok(Some(ev)) => {
                    assert!(consumed > 0, "an event from no bytes: {ev:?}");
                    if let ws_proto::Event::Ping(p) = ev {
                        out.pings.push(p.to_vec());
                    }
                    out.rec.record(&ev);
                    progress = true;
                }
                Ok(None) => {}
                Err(e) => {
                    assert_eq!(consumed, 0);
                    assert_eq!(conn.error(), Some(e));
                    out.error = Some(e);
                }
            }
            buf.drain(..consumed);
            drain_tx(&mut conn, input.tx_size, &mut out.tx);
            let r = state_rank(conn.state());
            assert!(r >= rank, "state went back to {:?}", conn.state());
            rank = r;
            if out.error.is_some() {
                // Sticky: the same error again, nothing consumed.
                let again = conn.handle_read(&mut buf);
                assert_eq!(again.consumed, 0);
                assert_eq!(again.event.err(), out.error);
                break 'outer;
            }
            if !progress {
                break;
            }
        }
    }
    out.final_state = Some(conn.state());
    let code = conn.handle_eof();
    assert_eq!(conn.state(), State::Closed, "not closed after EOF");
    assert_eq!(code, conn.peer_close_code().unwrap_or(CloseCode::ABNORMAL));
    out.eof_code = Some(code);
    drain_tx(&mut conn, input.tx_size, &mut out.tx);
    out
}

/// Like [`deliver`], through `handle_read_all`: one call per chunk, then the output drained.
pub fn deliver_all(input: &Input<'_>, chunks: &[&[u8]]) -> Outcome {
    let mut conn = Connection::new(input.role, input.config.clone(), CounterMask(7));
    let mut out = Outcome::default();
    let mut buf: Vec<u8> = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        let len = buf.len();
        let (rec, pings) = (&mut out.rec, &mut out.pings);
        let result = conn.handle_read_all(&mut buf, |ev| {
            if let ws_proto::Event::Ping(p) = ev {
                pings.push(p.to_vec());
            }
            rec.record(&ev);
        });
        out.calls += 1;
        match result {
            Ok(used) => {
                assert!(used <= len, "used {used} of {len}");
                buf.drain(..used);
            }
            Err(e) => {
                assert_eq!(conn.error(), Some(e));
                out.error = Some(e);
            }
        }
        drain_tx(&mut conn, input.tx_size, &mut out.tx);
        if out.error.is_some() {
            // Sticky: the same error again, nothing delivered.
            let again = conn.handle_read_all(&mut buf, |ev| panic!("event after error: {ev:?}"));
            assert_eq!(again.err(), out.error);
            break;
        }
    }
    out.final_state = Some(conn.state());
    out.eof_code = Some(conn.handle_eof());
    drain_tx(&mut conn, input.tx_size, &mut out.tx);
    out
}

/// Checks that what we wrote is a valid stream for the peer: pongs echo pings, at most one
/// close, last, with the expected code.
fn check_tx(input: &Input<'_>, o: &Outcome) {
    let frames = ref_decode_all(&o.tx);
    let mut pings = o.pings.iter();
    let mut saw_close = false;
    for f in &frames {
        assert!(!saw_close, "a frame after our close");
        assert!(f.fin);
        assert_eq!(f.rsv, 0);
        assert_eq!(
            f.masked,
            input.role == Role::Client,
            "mask bit for our role"
        );
        match f.opcode {
            0xA => {
                assert!(input.config.auto_pong, "pong without auto_pong");
                // Pings are answered in order; none is answered twice.
                assert!(
                    pings.any(|p| *p == f.payload),
                    "pong for a ping never received"
                );
            }
            0x8 => {
                saw_close = true;
                assert!(f.payload.len() != 1 && f.payload.len() <= 125);
                let code = (f.payload.len() >= 2)
                    .then(|| CloseCode(u16::from_be_bytes([f.payload[0], f.payload[1]])));
                assert!(core::str::from_utf8(f.payload.get(2..).unwrap_or_default()).is_ok());
                match o.error {
                    Some(Error::Protocol(e)) => {
                        let peer_first = o.rec.events.iter().any(|n| matches!(n, Norm::Close(..)));
                        if !peer_first {
                            assert_eq!(code, Some(e.close_code()), "close code for {e:?}");
                        }
                    }
                    _ => {
                        // Only a reply to the peer's close, echoing its code.
                        let Some(Norm::Close(c, _)) = o.rec.events.last() else {
                            panic!("a close frame out of nowhere");
                        };
                        let want = (*c != CloseCode::NO_STATUS).then_some(*c);
                        assert_eq!(code, want, "close reply code");
                    }
                }
            }
            op => panic!("unexpected frame opcode {op:#x} in output"),
        }
    }
    if let Some(Error::Protocol(_)) = o.error {
        assert!(saw_close || o.rec.events.iter().any(|n| matches!(n, Norm::Close(..))));
    }
}

pub fn run(data: &[u8]) {
    let Some(input) = parse(data) else { return };
    let whole = deliver(&input, &[input.wire]);
    let mut chunks = Vec::new();
    let mut start = 0;
    for &s in &input.splits {
        chunks.push(&input.wire[start..s]);
        start = s;
    }
    chunks.push(&input.wire[start..]);
    let split = deliver(&input, &chunks);

    assert_eq!(whole.error, split.error, "error differs");
    assert_eq!(whole.rec.events, split.rec.events, "events differ");
    assert_eq!(whole.tx, split.tx, "output differs");
    if whole.error.is_none() {
        assert_eq!(whole.rec.open, split.rec.open, "unfinished message differs");
    } else {
        // A piece of the failing message may be delivered before the error is found, or not,
        // depending on where the input was cut: both must be prefixes of the same bytes.
        let (a, b) = (whole.rec.open_bytes(), split.rec.open_bytes());
        let n = a.len().min(b.len());
        assert_eq!(a[..n], b[..n], "unfinished message bytes differ");
    }
    assert_eq!(whole.final_state, split.final_state);
    assert_eq!(whole.eof_code, split.eof_code);

    // `handle_read_all` over the same chunks: the events of `handle_read` one by one. (Its
    // output may differ: with several pings in one call, only the last one's pong is sent.)
    let all = deliver_all(&input, &chunks);
    check_tx(&input, &all);
    assert_eq!(all.error, split.error, "handle_read_all: error differs");
    assert_eq!(
        all.rec.events, split.rec.events,
        "handle_read_all: events differ"
    );
    assert_eq!(
        all.rec.open_bytes(),
        split.rec.open_bytes(),
        "handle_read_all: open message differs"
    );
    assert_eq!(
        all.final_state, split.final_state,
        "handle_read_all: state differs"
    );
    assert_eq!(
        all.eof_code, split.eof_code,
        "handle_read_all: EOF code differs"
    );
    check_tx(&input, &whole);
    check_tx(&input, &split);
}
