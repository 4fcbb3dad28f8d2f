//! Test harness: a client and a server `Connection` joined in memory, byte helpers, and owned
//! copies of events for comparisons.
#![allow(dead_code, unreachable_pub)]

use ws_proto::connection::MessageKind;
use ws_proto::mask_source::NoMask;
use ws_proto::{CloseCode, Config, Connection, Error, Event, MaskSource, Outgoing, Role};

/// A deterministic mask source for tests (a counter run through a tiny mixer). Real clients
/// use an unpredictable source.
#[derive(Clone, Debug, Default)]
pub struct TestMask(pub u32);

impl MaskSource for TestMask {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_mul(0x9e37_79b9).wrapping_add(0x7f4a_7c15);
            *b = (self.0 >> 24) as u8;
        }
    }
}

/// An owned copy of an event.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Ev {
    Data {
        kind: MessageKind,
        payload: Vec<u8>,
        starts_message: bool,
        ends_frame: bool,
        ends_message: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(CloseCode, String),
    Error(Error),
    Other(String),
}

impl Ev {
    pub fn from_event(e: &Event<'_>) -> Self {
        match e {
            Event::Text(d) | Event::Binary(d) => Self::Data {
                kind: if matches!(e, Event::Text(_)) {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                },
                payload: d.payload.to_vec(),
                starts_message: d.starts_message,
                ends_frame: d.ends_frame,
                ends_message: d.ends_message,
            },
            Event::Ping(p) => Self::Ping(p.to_vec()),
            Event::Pong(p) => Self::Pong(p.to_vec()),
            Event::Close(c) => Self::Close(c.code, c.reason.to_string()),
            other => Self::Other(format!("{other:?}")),
        }
    }
}

/// A normalised event: data pieces merged into whole messages, so that event streams from
/// differently split inputs compare equal.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Norm {
    Message(MessageKind, Vec<u8>),
    /// A message still open when the input ended.
    Partial(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(CloseCode, String),
    Error(Error),
    Other(String),
}

pub fn normalise(events: &[Ev]) -> Vec<Norm> {
    let mut out = Vec::new();
    let mut open: Option<(MessageKind, Vec<u8>)> = None;
    for e in events {
        match e {
            Ev::Data {
                kind,
                payload,
                ends_message,
                ..
            } => {
                let (_, buf) = open.get_or_insert_with(|| (*kind, Vec::new()));
                buf.extend_from_slice(payload);
                if *ends_message {
                    let (k, b) = open.take().unwrap();
                    out.push(Norm::Message(k, b));
                }
            }
            Ev::Ping(p) => out.push(Norm::Ping(p.clone())),
            Ev::Pong(p) => out.push(Norm::Pong(p.clone())),
            Ev::Close(c, r) => out.push(Norm::Close(*c, r.clone())),
            Ev::Error(e) => {
                // Pieces of a message cut short by an error depend on where reads were
                // split; only the error itself is comparable.
                open = None;
                out.push(Norm::Error(*e));
            }
            Ev::Other(s) => out.push(Norm::Other(s.clone())),
        }
    }
    if let Some((k, b)) = open {
        out.push(Norm::Partial(k, b));
    }
    out
}

/// The reading side of a connection as a caller would write it: a growing buffer, events
/// handled, consumed bytes dropped.
#[derive(Debug, Default)]
pub struct Reader {
    pub buf: Vec<u8>,
    /// Number of handle_read calls made.
    pub calls: u64,
}

impl Reader {
    /// Appends `chunk` and drives `conn` until it needs more input or fails.
    pub fn feed<M: MaskSource>(&mut self, conn: &mut Connection<M>, chunk: &[u8]) -> Vec<Ev> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        loop {
            self.calls += 1;
            let len = self.buf.len();
            let read = conn.handle_read(&mut self.buf);
            assert!(read.consumed <= len, "consumed more than given");
            let ev = match read.event {
                Ok(Some(e)) => Some(Ev::from_event(&e)),
                Ok(None) => None,
                Err(e) => Some(Ev::Error(e)),
            };
            let consumed = read.consumed;
            self.buf.drain(..consumed);
            match ev {
                Some(Ev::Error(e)) => {
                    events.push(Ev::Error(e));
                    break;
                }
                Some(e) => events.push(e),
                None if consumed == 0 => break,
                None => {}
            }
        }
        events
    }
}

impl Reader {
    /// Like [`feed`](Self::feed), through `handle_read_all`: appends `chunk`, decodes every
    /// event the buffer holds in one call, drops what it used.
    pub fn feed_all<M: MaskSource>(&mut self, conn: &mut Connection<M>, chunk: &[u8]) -> Vec<Ev> {
        self.buf.extend_from_slice(chunk);
        self.calls += 1;
        let mut events = Vec::new();
        let len = self.buf.len();
        match conn.handle_read_all(&mut self.buf, |e| events.push(Ev::from_event(&e))) {
            Ok(used) => {
                assert!(used <= len, "used more than given");
                self.buf.drain(..used);
            }
            Err(e) => events.push(Ev::Error(e)),
        }
        events
    }
}

/// Drains `poll_transmit` into a byte vector.
pub fn drain_transmit<M: MaskSource>(conn: &mut Connection<M>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    while let Some(n) = conn.poll_transmit(&mut buf).unwrap() {
        assert!(n <= buf.len());
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// Encodes one outgoing frame with `conn`.
pub fn encode<M: MaskSource>(conn: &mut Connection<M>, msg: Outgoing<'_>) -> Vec<u8> {
    let mut out = vec![0xa5u8; 16 + msg_len(&msg)];
    let n = conn.send(msg, &mut out).unwrap();
    out.truncate(n);
    out
}

fn msg_len(m: &Outgoing<'_>) -> usize {
    match m {
        Outgoing::Text(s) => s.len(),
        Outgoing::Binary(b) | Outgoing::Ping(b) | Outgoing::Pong(b) => b.len(),
        Outgoing::Fragment { payload, .. } => payload.len(),
        _ => 0,
    }
}

/// A client and a server joined in memory.
#[derive(Debug)]
pub struct Pair {
    pub client: Connection<TestMask>,
    pub server: Connection<NoMask>,
    pub client_reader: Reader,
    pub server_reader: Reader,
    /// Bytes written by the client, not yet delivered to the server.
    pub to_server: Vec<u8>,
    /// Bytes written by the server, not yet delivered to the client.
    pub to_client: Vec<u8>,
    /// Size of each delivery (`usize::MAX`: everything at once).
    pub chunk: usize,
}

impl Pair {
    pub fn new(config: Config) -> Self {
        Self {
            client: Connection::new(Role::Client, config.clone(), TestMask(1)),
            server: Connection::new(Role::Server, config, NoMask),
            client_reader: Reader::default(),
            server_reader: Reader::default(),
            to_server: Vec::new(),
            to_client: Vec::new(),
            chunk: usize::MAX,
        }
    }

    /// Sends from `role`'s side.
    pub fn send(&mut self, from: Role, msg: Outgoing<'_>) {
        match from {
            Role::Client => {
                let bytes = encode(&mut self.client, msg);
                self.to_server.extend(bytes);
            }
            Role::Server => {
                let bytes = encode(&mut self.server, msg);
                self.to_client.extend(bytes);
            }
        }
    }

    /// Flushes queued control frames and delivers everything in flight both ways, until
    /// quiet. Returns (events at the client, events at the server).
    pub fn drive(&mut self) -> (Vec<Ev>, Vec<Ev>) {
        let (mut at_client, mut at_server) = (Vec::new(), Vec::new());
        loop {
            self.to_server.extend(drain_transmit(&mut self.client));
            self.to_client.extend(drain_transmit(&mut self.server));
            if self.to_server.is_empty() && self.to_client.is_empty() {
                break;
            }
            let bytes = std::mem::take(&mut self.to_server);
            for chunk in bytes.chunks(self.chunk.max(1)) {
                at_server.extend(self.server_reader.feed(&mut self.server, chunk));
            }
            let bytes = std::mem::take(&mut self.to_client);
            for chunk in bytes.chunks(self.chunk.max(1)) {
                at_client.extend(self.client_reader.feed(&mut self.client, chunk));
            }
        }
        (at_client, at_server)
    }
}

/// A masked frame as a client would send it (key fixed for readability).
pub fn client_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame(b0, payload, Some([0x37, 0xfa, 0x21, 0x3d]))
}

/// An unmasked frame as a server would send it.
pub fn server_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame(b0, payload, None)
}

pub fn frame(b0: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![b0];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(m | n as u8),
        n if n <= 0xffff => {
            out.push(m | 126);
            out.extend((n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend((n as u64).to_be_bytes());
        }
    }
    let mut body = payload.to_vec();
    if let Some(key) = mask {
        out.extend(key);
        for (i, b) in body.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    out.extend(body);
    out
}
