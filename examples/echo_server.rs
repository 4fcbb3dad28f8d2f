//! A WebSocket echo server on blocking `std::net`, one thread per connection: the server the
//! Autobahn|Testsuite (`wstest -m fuzzingclient`) and the interop tests drive.
//!
//! ```sh
//! cargo run --release --example echo_server -- 127.0.0.1:9001
//! ```
//!
//! Every text and binary message is echoed unchanged. Messages are *streamed* back, not
//! reassembled: each piece the connection delivers is sent at once as a fragment of the echoed
//! message, so memory stays bounded by the read buffer whatever the message size (the default
//! [`Config`] accepts 16 MiB frames and 64 MiB messages). Pings are answered by the
//! connection's auto-pong, and the close handshake is completed.
//!
//! With the `deflate` feature, permessage-deflate is accepted when the client offers it; each
//! piece is then inflated and echoed as a compressed fragment.
//!
//! When a connection ends, one line goes to stdout:
//! `closed <peer address> code=<code> reason=<reason as a Rust string literal>`, where the
//! code is the peer's close code, 1005 for an empty close frame, or 1006 when no close frame
//! arrived.

use std::io::{self, BufWriter, ErrorKind, Read as _, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant as StdInstant};

use ws_proto::connection::MessageKind;
use ws_proto::frame::MAX_HEADER_LEN;
use ws_proto::handshake::Accept;
use ws_proto::time::StdClock;
use ws_proto::{CloseCode, Config, Connection, Event, Outgoing, Read, State};

/// Read buffer size: the largest piece of a message delivered (and echoed) at once.
const READ_BUF: usize = 64 * 1024;

/// How long to wait for the client to close its side after ours is shut down.
const LINGER: Duration = Duration::from_secs(2);

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let listener = TcpListener::bind(&addr)?;
    eprintln!("echo_server listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .map_or_else(|_| "?".to_owned(), |a| a.to_string());
            match serve(stream) {
                Ok((code, reason)) => {
                    println!("closed {peer} code={} reason={reason:?}", code.0);
                }
                Err(e) => println!("closed {peer} code=1006 io-error={e}"),
            }
        });
    }
    Ok(())
}

/// Runs one connection to its end; returns the peer's close code and reason.
pub(crate) fn serve(stream: TcpStream) -> io::Result<(CloseCode, String)> {
    stream.set_nodelay(true)?;
    let mut reader = stream.try_clone()?;
    let mut writer = BufWriter::with_capacity(READ_BUF + MAX_HEADER_LEN, stream);
    let clock = StdClock::new();
    #[allow(unused_mut)]
    let mut config = Config::default();
    #[cfg(feature = "deflate")]
    {
        config.deflate = Some(ws_proto::deflate::DeflateConfig::default());
    }
    let mut conn = Connection::server(config);
    let mut buf = vec![0; READ_BUF];
    let mut filled = 0;
    // Holds one echoed piece with its frame header, or a control frame, or the 101 response.
    let mut out = vec![0; READ_BUF + MAX_HEADER_LEN];
    let mut peer_close = (CloseCode::ABNORMAL, String::new());
    conn.handle_timeout(clock.now());

    'conn: loop {
        // Decode everything buffered: an event, or consumed bytes, means "call again".
        loop {
            let Read { consumed, event } = conn.handle_read(&mut buf[..filled]);
            let (progress, failed) = match event {
                Ok(Some(ev)) => {
                    on_event(&mut conn, ev, &mut out, &mut writer, &mut peer_close)?;
                    (true, false)
                }
                Ok(None) => (consumed > 0, false),
                Err(e) => {
                    eprintln!("connection failed: {e}");
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
                if conn.state() != State::Closed {
                    peer_close.0 = conn.handle_eof();
                }
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
    let stream = writer.into_inner().map_err(|e| e.into_error())?;
    linger(&stream, &mut reader);
    Ok(peer_close)
}

/// Echoes data, accepts the upgrade, records the peer's close.
fn on_event(
    conn: &mut Connection,
    event: Event<'_>,
    out: &mut [u8],
    writer: &mut impl Write,
    peer_close: &mut (CloseCode, String),
) -> io::Result<()> {
    let (kind, data) = match event {
        Event::Request(request) => {
            #[cfg(feature = "deflate")]
            let deflate = conn
                .config()
                .deflate
                .as_ref()
                .and_then(|cfg| ws_proto::deflate::negotiate(request.extensions(), cfg))
                .map(|params| params.header_value());
            let accept = Accept {
                #[cfg(feature = "deflate")]
                extensions: deflate.as_deref(),
                ..Accept::default()
            };
            let n = conn
                .accept(&request, &accept, out)
                .map_err(io::Error::other)?;
            return writer.write_all(&out[..n]);
        }
        Event::Close(frame) => {
            *peer_close = (frame.code, frame.reason.to_owned());
            return Ok(());
        }
        Event::Text(data) => (MessageKind::Text, data),
        Event::Binary(data) => (MessageKind::Binary, data),
        // Pings are answered by auto-pong (queued for `poll_transmit`).
        _ => return Ok(()),
    };
    #[cfg(feature = "deflate")]
    if conn.deflate_params().is_some() {
        return echo_inflated(conn, kind, &data, writer);
    }
    let piece = Outgoing::Fragment {
        kind,
        payload: data.payload,
        fin: data.ends_message,
    };
    let n = conn.send(piece, out).map_err(io::Error::other)?;
    writer.write_all(&out[..n])
}

/// permessage-deflate: inflates the piece (the connection checks size and UTF-8 as it does)
/// and echoes it as a compressed fragment.
#[cfg(feature = "deflate")]
fn echo_inflated(
    conn: &mut Connection,
    kind: MessageKind,
    data: &ws_proto::Data<'_>,
    writer: &mut impl Write,
) -> io::Result<()> {
    let mut inflated = Vec::new();
    // On error the close frame is queued; the caller's loop sends it and stops.
    if conn.inflate(data, &mut inflated).is_err() {
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

/// Writes everything the connection has queued (pong, close, HTTP error response).
fn transmit(conn: &mut Connection, out: &mut [u8], writer: &mut impl Write) -> io::Result<()> {
    while let Some(n) = conn.poll_transmit(out).map_err(io::Error::other)? {
        writer.write_all(&out[..n])?;
    }
    Ok(())
}

/// Closes our side first (RFC 6455 §7.1.1: the server closes the TCP connection), then waits
/// briefly for the client's FIN so that unread input does not turn the close into a reset.
fn linger(stream: &TcpStream, reader: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = StdInstant::now() + LINGER;
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
