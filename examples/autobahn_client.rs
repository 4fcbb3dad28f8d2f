//! The Autobahn|Testsuite client driver (`wstest -m fuzzingserver`) on blocking `std::net`.
//!
//! ```sh
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9002
//! ```
//!
//! The base URL is the first argument, else `AUTOBAHN_URL`, else `ws://127.0.0.1:9001`; the
//! agent name is `AUTOBAHN_AGENT`, else `ws-proto`. It reads `/getCaseCount`, runs
//! `/runCase?case=N&agent=AGENT` for every case, echoing every message, then calls
//! `/updateReports?agent=AGENT`. Like `echo_server`, it streams each message back piece by
//! piece as fragments instead of reassembling it.
//!
//! With the `deflate` feature it offers permessage-deflate
//! (`client_no_context_takeover; client_max_window_bits`, so that a server may also ask for
//! no context takeover or a smaller window), inflates what it receives and echoes compressed.

use std::io::{self, BufWriter, ErrorKind, Read as _, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant as StdInstant};

use ws_proto::connection::MessageKind;
use ws_proto::frame::MAX_HEADER_LEN;
use ws_proto::handshake::ClientRequest;
use ws_proto::time::StdClock;
use ws_proto::{Config, Connection, Event, OsRandom, Outgoing, Read, State};

/// Read buffer size: the largest piece of a message delivered (and echoed) at once.
const READ_BUF: usize = 64 * 1024;

/// How long to wait for the server to close the TCP connection after the close handshake.
const SERVER_CLOSE_WAIT: Duration = Duration::from_secs(5);

fn main() -> io::Result<()> {
    let base = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("AUTOBAHN_URL").ok())
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_owned());
    let base = base.trim_end_matches('/');
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "ws-proto".to_owned());

    let count = run(&format!("{base}/getCaseCount"), Mode::Collect)?;
    let count: u32 = String::from_utf8_lossy(&count)
        .trim()
        .parse()
        .map_err(|e| io::Error::new(ErrorKind::InvalidData, format!("case count: {e}")))?;
    eprintln!("autobahn_client: {count} cases");
    for case in 1..=count {
        if let Err(e) = run(
            &format!("{base}/runCase?case={case}&agent={agent}"),
            Mode::Echo,
        ) {
            eprintln!("case {case}: {e}");
        }
    }
    run(
        &format!("{base}/updateReports?agent={agent}"),
        Mode::Collect,
    )?;
    eprintln!("autobahn_client: reports updated");
    Ok(())
}

/// What to do with received messages.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Echo every message back.
    Echo,
    /// Keep the received bytes (for `/getCaseCount`).
    Collect,
}

/// Runs one connection to `url` to its end; returns the collected message bytes.
fn run(url: &str, mode: Mode) -> io::Result<Vec<u8>> {
    let authority = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split(['/', '?']).next())
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "expected a ws:// URL"))?;
    let stream = TcpStream::connect(authority)?;
    stream.set_nodelay(true)?;
    let mut reader = stream.try_clone()?;
    let mut writer = BufWriter::with_capacity(READ_BUF + MAX_HEADER_LEN, stream);
    let clock = StdClock::new();
    #[allow(unused_mut)]
    let mut config = Config::default();
    #[cfg(feature = "deflate")]
    let offer = {
        let mut deflate = ws_proto::deflate::DeflateConfig::default();
        deflate.client_no_context_takeover = true;
        let offer = deflate.offer();
        config.deflate = Some(deflate);
        offer
    };
    let mut conn = Connection::client(config, OsRandom::new());
    let mut buf = vec![0; READ_BUF];
    let mut filled = 0;
    let mut out = vec![0; READ_BUF + MAX_HEADER_LEN];
    let mut collected = Vec::new();
    conn.handle_timeout(clock.now());

    let request = ClientRequest {
        url,
        #[cfg(feature = "deflate")]
        extensions: Some(&offer),
        ..ClientRequest::default()
    };
    let n = conn
        .connect(&request, &mut out)
        .map_err(|e| io::Error::other(format!("{e:?}")))?;
    writer.write_all(&out[..n])?;

    'conn: loop {
        loop {
            let Read { consumed, event } = conn.handle_read(&mut buf[..filled]);
            let (progress, failed) = match event {
                Ok(Some(ev)) => {
                    on_event(&mut conn, ev, mode, &mut out, &mut writer, &mut collected)?;
                    (true, false)
                }
                Ok(None) => (consumed > 0, false),
                Err(e) => {
                    eprintln!("{url}: connection failed: {e}");
                    (false, true)
                }
            };
            buf.copy_within(consumed..filled, 0);
            filled -= consumed;
            transmit(&mut conn, &mut out, &mut writer)?;
            if failed || conn.state() == State::Closed {
                break 'conn;
            }
            if !progress {
                break;
            }
        }
        writer.flush()?;
        let timeout = conn.poll_timeout().map(|t| {
            t.saturating_duration_since(clock.now())
                .max(Duration::from_millis(1))
        });
        reader.set_read_timeout(timeout)?;
        match reader.read(&mut buf[filled..]) {
            Ok(0) => {
                conn.handle_eof();
                break;
            }
            Ok(n) => filled += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        conn.handle_timeout(clock.now());
        transmit(&mut conn, &mut out, &mut writer)?;
        if conn.error().is_some() {
            break; // timed out
        }
    }
    writer.flush()?;
    wait_for_server_close(&mut reader);
    Ok(collected)
}

/// Echoes or collects data; reports a refused upgrade as an error.
fn on_event(
    conn: &mut Connection<OsRandom>,
    event: Event<'_>,
    mode: Mode,
    out: &mut [u8],
    writer: &mut impl Write,
    collected: &mut Vec<u8>,
) -> io::Result<()> {
    let (kind, data) = match event {
        Event::Rejected(response) => {
            let head = String::from_utf8_lossy(response.head()).into_owned();
            return Err(io::Error::other(format!("upgrade refused: {head}")));
        }
        Event::Text(data) => (MessageKind::Text, data),
        Event::Binary(data) => (MessageKind::Binary, data),
        // Pings are answered by auto-pong; the reply to a close is queued by the connection.
        _ => return Ok(()),
    };
    #[cfg(feature = "deflate")]
    if conn.deflate_params().is_some() {
        return echo_inflated(conn, kind, &data, mode, writer, collected);
    }
    if mode == Mode::Collect {
        collected.extend_from_slice(data.payload);
        return Ok(());
    }
    let piece = Outgoing::Fragment {
        kind,
        payload: data.payload,
        fin: data.ends_message,
    };
    let n = conn.send(piece, out).map_err(io::Error::other)?;
    writer.write_all(&out[..n])
}

/// permessage-deflate: inflates the piece (the connection checks size and UTF-8 as it does),
/// then collects it or echoes it as a compressed fragment.
#[cfg(feature = "deflate")]
fn echo_inflated(
    conn: &mut Connection<OsRandom>,
    kind: MessageKind,
    data: &ws_proto::Data<'_>,
    mode: Mode,
    writer: &mut impl Write,
    collected: &mut Vec<u8>,
) -> io::Result<()> {
    let mut inflated = Vec::new();
    // On error the close frame is queued; the caller's loop sends it and stops.
    if conn.inflate(data, &mut inflated).is_err() {
        return Ok(());
    }
    if mode == Mode::Collect {
        collected.extend_from_slice(&inflated);
        return Ok(());
    }
    let mut frame = vec![0; ws_proto::deflate::max_frame_len(inflated.len())];
    let piece = Outgoing::Fragment {
        kind,
        payload: &inflated,
        fin: data.ends_message,
    };
    let n = conn.send(piece, &mut frame).map_err(io::Error::other)?;
    writer.write_all(&frame[..n])
}

/// Writes everything the connection has queued (pong, close).
fn transmit(
    conn: &mut Connection<OsRandom>,
    out: &mut [u8],
    writer: &mut impl Write,
) -> io::Result<()> {
    while let Some(n) = conn.poll_transmit(out).map_err(io::Error::other)? {
        writer.write_all(&out[..n])?;
    }
    Ok(())
}

/// RFC 6455 §7.1.1: the client waits for the server to close the TCP connection first.
fn wait_for_server_close(reader: &mut TcpStream) {
    let deadline = StdInstant::now() + SERVER_CLOSE_WAIT;
    let mut sink = [0; 4096];
    while let Some(left) = deadline.checked_duration_since(StdInstant::now()) {
        if reader
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .is_err()
        {
            return;
        }
        match reader.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}
