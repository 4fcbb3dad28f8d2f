//! Helpers shared by the targets: a deterministic mask source, a reference frame decoder
//! written independently of the library's, and an event normaliser.

use ws_proto::{CloseCode, Event, MaskSource, State};

/// A deterministic masking-key source: two runs that ask for keys in the same order get the
/// same keys, and keys vary from frame to frame (all-zero keys would hide masking bugs).
#[derive(Clone, Debug)]
pub struct CounterMask(pub u32);

impl MaskSource for CounterMask {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *b = (self.0 >> 16) as u8;
        }
    }
}

/// Splits a fuzz input laid out as `n, n × u16 LE, rest` (n taken modulo 33) into the split
/// points, reduced modulo `rest.len() + 1` and sorted, and the rest.
pub fn split_points(data: &[u8]) -> Option<(Vec<usize>, &[u8])> {
    let (&n, mut rest) = data.split_first()?;
    let mut raw = Vec::new();
    for _ in 0..(n % 33) {
        let (v, r) = rest.split_first_chunk::<2>()?;
        raw.push(usize::from(u16::from_le_bytes(*v)));
        rest = r;
    }
    let mut cuts: Vec<usize> = raw.into_iter().map(|s| s % (rest.len() + 1)).collect();
    cuts.sort_unstable();
    Some((cuts, rest))
}

/// The inverse of [`split_points`] (for seeds and tests).
pub fn encode_split_points(splits: &[u16], rest: &[u8]) -> Vec<u8> {
    assert!(splits.len() < 33);
    let mut v = vec![splits.len() as u8];
    for s in splits {
        v.extend_from_slice(&s.to_le_bytes());
    }
    v.extend_from_slice(rest);
    v
}

/// A frame as decoded by [`ref_decode`].
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RefFrame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    /// Unmasked.
    pub payload: Vec<u8>,
}

/// A plain reading of RFC 6455 §5.2, independent of `ws_proto::frame`: the frame at the front
/// of `bytes` and its length, or `None` if `bytes` ends inside it. No validation.
pub fn ref_decode(bytes: &[u8]) -> Option<(usize, RefFrame)> {
    let b0 = *bytes.first()?;
    let b1 = *bytes.get(1)?;
    let mut at = 2usize;
    let len = match b1 & 0x7f {
        126 => {
            let v = u16::from_be_bytes(bytes.get(2..4)?.try_into().unwrap());
            at = 4;
            u64::from(v)
        }
        127 => {
            let v = u64::from_be_bytes(bytes.get(2..10)?.try_into().unwrap());
            at = 10;
            v
        }
        n => u64::from(n),
    };
    let masked = b1 & 0x80 != 0;
    let key = if masked {
        let k: [u8; 4] = bytes.get(at..at + 4)?.try_into().unwrap();
        at += 4;
        k
    } else {
        [0; 4]
    };
    let len = usize::try_from(len).ok()?;
    let end = at.checked_add(len)?;
    let mut payload = bytes.get(at..end)?.to_vec();
    // Four bytes at a time: a per-byte loop is slow under coverage instrumentation.
    let word = u32::from_ne_bytes(key);
    let mut words = payload.chunks_exact_mut(4);
    for w in &mut words {
        let v = u32::from_ne_bytes([w[0], w[1], w[2], w[3]]) ^ word;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    for (b, k) in words.into_remainder().iter_mut().zip(key) {
        *b ^= k;
    }
    Some((
        end,
        RefFrame {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 7,
            opcode: b0 & 0x0f,
            masked,
            payload,
        },
    ))
}

/// Decodes a byte stream that must consist of whole frames only.
pub fn ref_decode_all(mut bytes: &[u8]) -> Vec<RefFrame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (n, f) = ref_decode(bytes).expect("output ends inside a frame");
        frames.push(f);
        bytes = &bytes[n..];
    }
    frames
}

/// An event with data pieces joined: a whole message is one item, listing its frames.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Norm {
    Message { text: bool, frames: Vec<Vec<u8>> },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(CloseCode, String),
}

/// Joins data pieces into messages and checks the piece flags and text validity on the way.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    pub events: Vec<Norm>,
    /// The message being received: kind, finished frames, the frame being received.
    pub open: Option<(bool, Vec<Vec<u8>>, Vec<u8>)>,
}

impl Recorder {
    pub fn record(&mut self, event: &Event<'_>) {
        match *event {
            Event::Text(d) | Event::Binary(d) => {
                let text = matches!(event, Event::Text(_));
                assert!(!d.compressed, "compressed piece without an extension");
                assert!(
                    !d.ends_message || d.ends_frame,
                    "ends_message without ends_frame"
                );
                assert_eq!(d.starts_message, self.open.is_none(), "starts_message flag");
                let (kind, frames, cur) = self.open.get_or_insert((text, Vec::new(), Vec::new()));
                assert_eq!(*kind, text, "message kind changed inside a message");
                cur.extend_from_slice(d.payload);
                if text {
                    // Every prefix of a text message delivered so far is a prefix of UTF-8.
                    let mut all: Vec<u8> = frames.concat();
                    all.extend_from_slice(cur);
                    match core::str::from_utf8(&all) {
                        Ok(_) => {}
                        Err(e) => {
                            assert!(e.error_len().is_none(), "invalid UTF-8 delivered");
                            assert!(!d.ends_message, "text message ends inside a code point");
                        }
                    }
                }
                if d.ends_frame {
                    frames.push(core::mem::take(cur));
                }
                if d.ends_message {
                    let (text, frames, _) = self.open.take().unwrap();
                    self.events.push(Norm::Message { text, frames });
                }
            }
            Event::Ping(p) => {
                assert!(p.len() <= 125);
                self.events.push(Norm::Ping(p.to_vec()));
            }
            Event::Pong(p) => {
                assert!(p.len() <= 125);
                self.events.push(Norm::Pong(p.to_vec()));
            }
            Event::Close(c) => {
                assert!(c.reason.len() <= 123);
                self.events.push(Norm::Close(c.code, c.reason.to_owned()));
            }
            ref other => panic!("unexpected event on an open connection: {other:?}"),
        }
    }

    /// The bytes of the unfinished message, flattened.
    pub fn open_bytes(&self) -> Vec<u8> {
        match &self.open {
            Some((_, frames, cur)) => {
                let mut v = frames.concat();
                v.extend_from_slice(cur);
                v
            }
            None => Vec::new(),
        }
    }
}

/// Orders states so that a state machine that only moves forward has non-decreasing ranks.
pub fn state_rank(s: State) -> u8 {
    match s {
        State::Handshake => 0,
        State::Open => 1,
        State::LocalClosing | State::RemoteClosing => 2,
        State::Closed => 3,
        _ => 4,
    }
}
