//! A client and a server joined in memory, driven by an arbitrary sequence of operations: sends
//! of every kind and size, fragmented or not, pings, pongs, closes, and deliveries of bytes in
//! arbitrary chunks either way.
//!
//! Oracles: every send succeeds or fails exactly as a model of the API predicts; every frame
//! written decodes (with an independent reference decoder) to what was asked; what one side
//! writes, the other receives byte for byte and in order; `poll_transmit` writes exactly the
//! pongs and close replies the model expects; no side ever reports an error; and at the end
//! the close handshake completes with both sides `Closed`.

use std::collections::VecDeque;

use arbitrary::{Arbitrary, Unstructured};
use ws_proto::connection::{MessageKind, SendKind};
use ws_proto::{
    ApiMisuse, CloseCode, CloseFrame, Config, Connection, Event, Outgoing, Role, SendError, State,
};

use super::common::{CounterMask, RefFrame, ref_decode, state_rank};

/// Total payload bytes of `Big` messages one run may send, to keep executions fast.
const BUDGET: usize = 1 << 20;
/// `Big` lengths are taken modulo this: past 65535 for the 64-bit length form.
const BIG_MAX: u32 = 160 << 10;

#[derive(Arbitrary, Clone, Copy, Debug, Eq, PartialEq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    fn other(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }
}

/// How a data frame is handed to the connection.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Via {
    /// `send` into an output buffer of the exact size.
    Send,
    /// `send` into a buffer one byte too small first (must fail and change nothing).
    SendShort,
    /// `send_in_place`.
    InPlace,
}

#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    Text {
        from: Side,
        text: String,
        via: Via,
    },
    Binary {
        from: Side,
        data: Vec<u8>,
        via: Via,
    },
    /// A large binary message (`len` modulo [`BIG_MAX`]), filled with a counter from `fill`.
    Big {
        from: Side,
        len: u32,
        fill: u8,
        via: Via,
    },
    /// Plans a fragmented message; its pieces go out with `NextFragment`. Text is made valid
    /// UTF-8 (lossily) and cut at arbitrary byte positions, possibly inside code points.
    StartFragmented {
        from: Side,
        text: bool,
        data: Vec<u8>,
        cuts: Vec<u16>,
    },
    NextFragment {
        from: Side,
        via: Via,
    },
    Ping {
        from: Side,
        payload: Vec<u8>,
    },
    Pong {
        from: Side,
        payload: Vec<u8>,
    },
    Close {
        from: Side,
        code: u16,
        reason: String,
        well_formed: bool,
    },
    Deliver {
        to: Side,
        max: u16,
    },
    DeliverAll,
}

#[derive(Arbitrary, Clone, Debug)]
pub struct Input {
    pub client_auto_pong: bool,
    pub server_auto_pong: bool,
    /// Size of the first buffer offered to `poll_transmit` (retried with the size it asks).
    pub tx_size: u8,
    /// Who starts the close at the end if nobody did.
    pub closer: Side,
    pub ops: Vec<Op>,
}

/// One end, with the model of what it may do and must write.
struct End {
    side: Side,
    conn: Connection<CounterMask>,
    auto_pong: bool,
    /// Bytes delivered to this end and not yet consumed.
    rx: Vec<u8>,
    /// Frames the other end wrote and this end has not yet received.
    incoming: VecDeque<RefFrame>,
    /// Bytes the other end wrote that are not yet delivered here.
    wire: Vec<u8>,
    /// Frames this end's `poll_transmit` must write next.
    expect_tx: VecDeque<RefFrame>,
    /// Remaining pieces of the fragmented message being planned, and its kind (text?).
    fragments: VecDeque<Vec<u8>>,
    fragment_text: bool,
    /// A fragmented message is open on the wire (a non-final data frame went out).
    sending: Option<bool>,
    /// `close` succeeded or the peer's close arrived: sends now fail with `Closing`.
    closing: bool,
    close_written: bool,
    peer_close: Option<CloseCode>,
    /// Receive side: the frame being received (starts_message of its first piece, bytes).
    cur: Option<(bool, bool, Vec<u8>)>,
    /// Receive side: kind of the message being received (text?).
    msg_text: Option<bool>,
    rank: u8,
}

impl End {
    fn new(side: Side, auto_pong: bool) -> Self {
        let role = match side {
            Side::Client => Role::Client,
            Side::Server => Role::Server,
        };
        let mut config = Config::default();
        config.auto_pong = auto_pong;
        let conn = Connection::new(role, config, CounterMask(side as u32 + 1));
        let rank = state_rank(conn.state());
        Self {
            side,
            conn,
            auto_pong,
            rx: Vec::new(),
            incoming: VecDeque::new(),
            wire: Vec::new(),
            expect_tx: VecDeque::new(),
            fragments: VecDeque::new(),
            fragment_text: false,
            sending: None,
            closing: false,
            close_written: false,
            peer_close: None,
            cur: None,
            msg_text: None,
            rank,
        }
    }

    fn is_client(&self) -> bool {
        self.side == Side::Client
    }

    fn check_state(&mut self) {
        let r = state_rank(self.conn.state());
        assert!(
            r >= self.rank,
            "{:?} went back to {:?}",
            self.side,
            self.conn.state()
        );
        self.rank = r;
    }
}

fn frame_len(payload: usize, masked: bool) -> usize {
    let ext = if payload < 126 {
        0
    } else if payload <= 0xffff {
        2
    } else {
        8
    };
    2 + ext + if masked { 4 } else { 0 }
}

struct Pair {
    ends: [End; 2],
    tx_size: usize,
    budget: usize,
}

impl Pair {
    fn end(&mut self, s: Side) -> &mut End {
        &mut self.ends[s as usize]
    }

    /// Records one frame written by `from`: it must be exactly one whole frame, with the mask
    /// bit of the role, and nothing may follow a close frame.
    fn wrote(&mut self, from: Side, bytes: &[u8]) -> RefFrame {
        let (n, f) = ref_decode(bytes).expect("a partial frame was written");
        assert_eq!(n, bytes.len(), "more than one frame written at once");
        let end = self.end(from);
        assert!(!end.close_written, "{from:?} wrote a frame after its close");
        assert_eq!(f.masked, end.is_client(), "mask bit");
        assert_eq!(f.rsv, 0);
        if f.opcode == 0x8 {
            end.close_written = true;
        }
        let to = self.end(from.other());
        to.wire.extend_from_slice(bytes);
        to.incoming.push_back(f.clone());
        f
    }

    fn drain_tx(&mut self, s: Side) {
        loop {
            let size = self.tx_size;
            let end = self.end(s);
            let mut buf = vec![0xa5u8; size];
            let n = match end.conn.poll_transmit(&mut buf) {
                Ok(None) => break,
                Ok(Some(n)) => n,
                Err(e) => {
                    assert!(e.required > size);
                    buf = vec![0xa5u8; e.required];
                    match end.conn.poll_transmit(&mut buf) {
                        Ok(Some(n)) => n,
                        other => panic!("retry with {} bytes gave {other:?}", e.required),
                    }
                }
            };
            assert!(n <= buf.len());
            let f = self.wrote(s, &buf[..n]);
            let end = self.end(s);
            let want = end.expect_tx.pop_front();
            assert_eq!(
                Some(&f),
                want.as_ref(),
                "{s:?} transmitted an unexpected frame"
            );
        }
        let end = self.end(s);
        assert!(
            end.expect_tx.is_empty(),
            "{s:?} did not transmit {:?}",
            end.expect_tx
        );
        end.check_state();
    }

    /// Predicts the result of sending a data or control frame from `s`.
    fn predict(&mut self, s: Side, kind: SendKind, len: usize) -> Result<u8, ApiMisuse> {
        let end = self.end(s);
        if end.closing {
            return Err(ApiMisuse::Closing);
        }
        match kind {
            SendKind::Ping | SendKind::Pong if len > 125 => Err(ApiMisuse::ControlPayloadTooLong),
            SendKind::Ping => Ok(0x9),
            SendKind::Pong => Ok(0xA),
            SendKind::Text | SendKind::Binary => {
                let text = kind == SendKind::Text;
                match end.sending {
                    Some(t) if t != text => Err(ApiMisuse::MessageKindMismatch),
                    Some(_) => Ok(0x0),
                    None => Ok(if text { 0x1 } else { 0x2 }),
                }
            }
        }
    }

    fn send(&mut self, s: Side, kind: SendKind, payload: &[u8], fin: bool, via: Via) {
        let predicted = self.predict(s, kind, payload.len());
        let masked = self.end(s).is_client();
        let total = frame_len(payload.len(), masked) + payload.len();
        let end = self.end(s);
        let result: Result<Vec<u8>, SendError> = match via {
            Via::InPlace => {
                let mut body = payload.to_vec();
                match end.conn.send_in_place(kind, &mut body, fin) {
                    Ok(head) => {
                        let mut v = head.as_bytes().to_vec();
                        v.extend_from_slice(&body);
                        Ok(v)
                    }
                    Err(e) => {
                        assert_eq!(body, payload, "a failed send_in_place changed the payload");
                        Err(e)
                    }
                }
            }
            Via::Send | Via::SendShort => {
                let msg = match kind {
                    SendKind::Ping => Outgoing::Ping(payload),
                    SendKind::Pong => Outgoing::Pong(payload),
                    SendKind::Text | SendKind::Binary => Outgoing::Fragment {
                        kind: if kind == SendKind::Text {
                            MessageKind::Text
                        } else {
                            MessageKind::Binary
                        },
                        payload,
                        fin,
                    },
                };
                if matches!(via, Via::SendShort) && total > 0 && predicted.is_ok() {
                    let mut short = vec![0xa5u8; total - 1];
                    let r = end.conn.send(msg, &mut short);
                    assert_eq!(
                        r,
                        Err(SendError::BufferTooSmall(ws_proto::BufferTooSmall {
                            required: total
                        }))
                    );
                    assert!(
                        short == vec![0xa5u8; short.len()], // memcmp: cheap under coverage tracing
                        "a failed send wrote bytes"
                    );
                }
                let mut out = vec![0xa5u8; total + 3];
                end.conn.send(msg, &mut out).map(|n| {
                    assert_eq!(n, total);
                    out.truncate(n);
                    out
                })
            }
        };
        match (predicted, result) {
            (Ok(opcode), Ok(bytes)) => {
                let f = self.wrote(s, &bytes);
                assert_eq!(f.opcode, opcode);
                assert_eq!(f.payload, payload, "payload on the wire differs");
                assert_eq!(f.fin, fin || opcode & 0x8 != 0);
                let end = self.end(s);
                if opcode & 0x8 == 0 {
                    end.sending = if fin {
                        None
                    } else {
                        Some(kind == SendKind::Text)
                    };
                }
                self.drain_tx(s);
            }
            (Err(want), Err(got)) => assert_eq!(SendError::Misuse(want), got),
            (want, got) => panic!("{s:?} send {kind:?}: predicted {want:?}, got {got:?}"),
        }
    }

    fn close(&mut self, s: Side, code: CloseCode, reason: &str) {
        let end = self.end(s);
        let predicted = if end.close_written || end.closing {
            Err(ApiMisuse::Closing)
        } else if (code != CloseCode::NO_STATUS && !code.is_allowed_on_wire())
            || (code == CloseCode::NO_STATUS && !reason.is_empty())
        {
            Err(ApiMisuse::CloseCodeNotSendable(code.0))
        } else if reason.len() > CloseFrame::MAX_REASON_LEN {
            Err(ApiMisuse::ControlPayloadTooLong)
        } else {
            Ok(())
        };
        let got = end.conn.close(code, reason);
        assert_eq!(predicted, got, "{s:?} close({code}, {reason:?})");
        if got.is_ok() {
            end.closing = true;
            let mut payload = Vec::new();
            if code != CloseCode::NO_STATUS {
                payload.extend_from_slice(&code.0.to_be_bytes());
                payload.extend_from_slice(reason.as_bytes());
            }
            end.expect_tx.push_back(RefFrame {
                fin: true,
                rsv: 0,
                opcode: 0x8,
                masked: end.is_client(),
                payload,
            });
            self.drain_tx(s);
        }
    }

    /// Checks one received event against the frames the other end wrote.
    fn received(end: &mut End, event: &Event<'_>) {
        let masked = !end.is_client();
        match *event {
            Event::Text(d) | Event::Binary(d) => {
                let text = matches!(event, Event::Text(_));
                if d.starts_message {
                    assert!(end.msg_text.is_none(), "a message started inside another");
                    end.msg_text = Some(text);
                }
                assert_eq!(
                    end.msg_text,
                    Some(text),
                    "piece kind differs from its message"
                );
                let cur = end.cur.get_or_insert((d.starts_message, false, Vec::new()));
                cur.2.extend_from_slice(d.payload);
                if d.ends_frame {
                    let (starts, _, bytes) = end.cur.take().unwrap();
                    let f = end.incoming.pop_front().expect("a frame nobody sent");
                    let want_op = match (starts, text) {
                        (false, _) => 0x0,
                        (true, true) => 0x1,
                        (true, false) => 0x2,
                    };
                    assert_eq!(f.opcode, want_op, "frame opcode");
                    assert_eq!(f.fin, d.ends_message, "FIN");
                    assert_eq!(f.masked, masked);
                    assert_eq!(
                        bytes, f.payload,
                        "received payload differs from the sent one"
                    );
                    if d.ends_message {
                        end.msg_text = None;
                    }
                } else {
                    assert!(!d.ends_message);
                }
            }
            Event::Ping(p) | Event::Pong(p) => {
                let ping = matches!(event, Event::Ping(_));
                assert!(end.cur.is_none(), "control frame inside a frame");
                let f = end
                    .incoming
                    .pop_front()
                    .expect("a control frame nobody sent");
                assert_eq!(f.opcode, if ping { 0x9 } else { 0xA });
                assert_eq!(f.payload, p);
                if ping && end.auto_pong && !end.closing {
                    end.expect_tx.push_back(RefFrame {
                        fin: true,
                        rsv: 0,
                        opcode: 0xA,
                        masked: end.is_client(),
                        payload: p.to_vec(),
                    });
                }
            }
            Event::Close(c) => {
                let f = end.incoming.pop_front().expect("a close nobody sent");
                assert_eq!(f.opcode, 0x8);
                let want = CloseFrame::parse(&f.payload).unwrap();
                assert_eq!((c.code, c.reason), (want.code, want.reason));
                assert!(end.incoming.is_empty(), "frames after the close");
                end.peer_close = Some(c.code);
                if !end.closing {
                    end.closing = true;
                    let mut payload = Vec::new();
                    if c.code != CloseCode::NO_STATUS {
                        payload.extend_from_slice(&c.code.0.to_be_bytes());
                    }
                    end.expect_tx.push_back(RefFrame {
                        fin: true,
                        rsv: 0,
                        opcode: 0x8,
                        masked: end.is_client(),
                        payload,
                    });
                }
            }
            ref other => panic!("unexpected event {other:?}"),
        }
    }

    fn deliver(&mut self, to: Side, max: usize) {
        let end = self.end(to);
        let n = max.min(end.wire.len());
        let bytes: Vec<u8> = end.wire.drain(..n).collect();
        end.rx.extend_from_slice(&bytes);
        loop {
            let end = self.end(to);
            let mut rx = core::mem::take(&mut end.rx);
            let len = rx.len();
            let read = end.conn.handle_read(&mut rx);
            assert!(read.consumed <= len);
            let consumed = read.consumed;
            let progress = match read.event {
                Ok(Some(ev)) => {
                    Self::received(end, &ev);
                    true
                }
                Ok(None) => consumed > 0,
                Err(e) => panic!("{to:?} failed on a well-behaved peer: {e:?}"),
            };
            rx.drain(..consumed);
            end.rx = rx;
            self.drain_tx(to);
            if !progress {
                break;
            }
        }
    }

    fn deliver_all(&mut self) {
        for _ in 0..64 {
            if self.ends.iter().all(|e| e.wire.is_empty()) {
                return;
            }
            self.deliver(Side::Server, usize::MAX);
            self.deliver(Side::Client, usize::MAX);
        }
        panic!("deliveries never settle");
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Text { from, text, via } => {
                if self.end(from).sending == Some(true) {
                    return; // would continue the open text message with arbitrary bytes
                }
                self.send(from, SendKind::Text, text.as_bytes(), true, via);
            }
            Op::Binary { from, data, via } => {
                self.send(from, SendKind::Binary, &data, true, via);
            }
            Op::Big {
                from,
                len,
                fill,
                via,
            } => {
                let len = (len % BIG_MAX) as usize;
                if len > self.budget {
                    return;
                }
                self.budget -= len;
                let data: Vec<u8> = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
                self.send(from, SendKind::Binary, &data, true, via);
            }
            Op::StartFragmented {
                from,
                text,
                data,
                cuts,
            } => {
                let end = self.end(from);
                if end.sending.is_some() || !end.fragments.is_empty() {
                    return; // one planned message at a time keeps text messages valid
                }
                let bytes = if text {
                    String::from_utf8_lossy(&data).into_owned().into_bytes()
                } else {
                    data
                };
                let mut cuts: Vec<usize> = cuts
                    .iter()
                    .map(|&c| usize::from(c) % (bytes.len() + 1))
                    .collect();
                cuts.sort_unstable();
                let mut pieces = VecDeque::new();
                let mut start = 0;
                for c in cuts.into_iter().chain([bytes.len()]) {
                    pieces.push_back(bytes[start..c].to_vec());
                    start = c;
                }
                let end = self.end(from);
                end.fragments = pieces;
                end.fragment_text = text;
            }
            Op::NextFragment { from, via } => {
                let end = self.end(from);
                let Some(piece) = end.fragments.pop_front() else {
                    return;
                };
                let fin = end.fragments.is_empty();
                let kind = if end.fragment_text {
                    SendKind::Text
                } else {
                    SendKind::Binary
                };
                self.send(from, kind, &piece, fin, via);
            }
            Op::Ping { from, payload } => {
                self.send(from, SendKind::Ping, &payload, true, Via::Send)
            }
            Op::Pong { from, payload } => {
                self.send(from, SendKind::Pong, &payload, true, Via::Send)
            }
            Op::Close {
                from,
                code,
                reason,
                well_formed,
            } => {
                const CODES: [u16; 9] = [1000, 1001, 1002, 1003, 1005, 1007, 1011, 3000, 4999];
                if well_formed {
                    let code = CloseCode(CODES[usize::from(code) % CODES.len()]);
                    let mut r = if code == CloseCode::NO_STATUS {
                        String::new()
                    } else {
                        reason
                    };
                    while r.len() > CloseFrame::MAX_REASON_LEN {
                        r.pop();
                    }
                    self.close(from, code, &r);
                } else {
                    self.close(from, CloseCode(code), &reason);
                }
            }
            Op::Deliver { to, max } => self.deliver(to, usize::from(max)),
            Op::DeliverAll => self.deliver_all(),
        }
    }
}

pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    run_input(input);
}

pub fn run_input(input: Input) {
    let mut pair = Pair {
        ends: [
            End::new(Side::Client, input.client_auto_pong),
            End::new(Side::Server, input.server_auto_pong),
        ],
        tx_size: usize::from(input.tx_size),
        budget: BUDGET,
    };
    for op in input.ops {
        pair.apply(op);
    }
    pair.deliver_all();
    if !pair.ends.iter().any(|e| e.closing) {
        pair.close(input.closer, CloseCode::NORMAL, "bye");
        pair.deliver_all();
    }
    for s in [Side::Client, Side::Server] {
        let other_code = pair.end(s.other()).peer_close;
        let end = pair.end(s);
        assert_eq!(
            end.conn.state(),
            State::Closed,
            "{s:?} not closed at the end"
        );
        assert!(end.close_written && end.peer_close.is_some());
        assert_eq!(end.conn.peer_close_code(), end.peer_close);
        assert!(end.incoming.is_empty() && end.rx.is_empty() && end.wire.is_empty());
        assert!(end.conn.error().is_none());
        let _ = other_code;
    }
}
