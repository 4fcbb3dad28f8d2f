//! A browser chat on one port, with nothing but `std` and the blocking adapter:
//!
//! ```sh
//! cargo run --example chat        # then open http://127.0.0.1:8080/ in two tabs
//! ```
//!
//! `GET /` serves the page; `GET /chat?token=NAME` with `Upgrade: websocket` joins the chat.
//! Every text message a client sends is broadcast to every connected client. The upgrade is
//! refused (403) when the `Origin` header is not this server's own page, and (401) without a
//! valid token in the query string. Set `CHAT_ADDR` to listen elsewhere (port 0 picks one).
//!
//! One thread per client reads; any thread writes to any client through its cloneable
//! [`Writer`] half.

use std::collections::HashMap;
use std::io::{self, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use ws_proto::adapters::blocking::{self, Writer};
use ws_proto::adapters::{Decision, Error};
use ws_proto::handshake::Request;
use ws_proto::message::Message;
use ws_proto::{Config, Outgoing};

const PAGE: &str = include_str!("chat.html");

/// Everyone connected: id → the writing half of their connection.
type Clients = Arc<Mutex<HashMap<u64, Writer<TcpStream>>>>;

fn main() -> io::Result<()> {
    let addr = std::env::var("CHAT_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(&addr)?;
    // The tests read this line to find the port.
    println!("chat: listening on http://{}/", listener.local_addr()?);
    io::stdout().flush()?;
    let clients = Clients::default();
    let ids = AtomicU64::new(0);
    for socket in listener.incoming() {
        let socket = socket?;
        let clients = Arc::clone(&clients);
        let id = ids.fetch_add(1, Ordering::Relaxed);
        thread::spawn(move || {
            if let Err(e) = serve(socket, id, &clients) {
                eprintln!("chat: client {id}: {e}");
            }
        });
    }
    Ok(())
}

/// Serves the page, or upgrades and chats.
fn serve(mut socket: TcpStream, id: u64, clients: &Clients) -> Result<(), Error> {
    // A stuck peer must not hold a broadcast forever.
    socket.set_write_timeout(Some(Duration::from_secs(5)))?;
    if !is_upgrade(&socket)? {
        return serve_page(&mut socket).map_err(Error::Io);
    }
    let mut name = String::new();
    let ws = blocking::accept_with(socket, Config::default(), |req| match admit(req) {
        Ok(n) => {
            name = n;
            Decision::Accept
        }
        Err(status) => Decision::Reject(status, "not admitted\n".into()),
    })?;
    let (mut reader, writer) = ws.split()?;
    clients.lock().unwrap().insert(id, writer);
    broadcast(clients, &format!("* {name} joined"));
    let result = chat(&mut reader, &name, clients);
    clients.lock().unwrap().remove(&id);
    broadcast(clients, &format!("* {name} left"));
    result
}

/// Reads messages until the client leaves, broadcasting each.
fn chat(
    reader: &mut blocking::Reader<TcpStream>,
    name: &str,
    clients: &Clients,
) -> Result<(), Error> {
    loop {
        match reader.read() {
            Ok(Message::Text(text)) => broadcast(clients, &format!("{name}: {text}")),
            Ok(_) => {} // pings are answered by the adapter; binary is ignored
            Err(Error::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

fn broadcast(clients: &Clients, line: &str) {
    println!("{line}");
    for writer in clients.lock().unwrap().values() {
        // A client that cannot take it is on its way out: its reader thread cleans up.
        let _ = writer.send(Outgoing::Text(line));
    }
}

/// Who may join: the page's own origin only (a cross-site page could otherwise open a socket
/// with the visitor's cookies), with a token in the query string. Returns the display name.
fn admit(req: &Request<'_>) -> Result<String, u16> {
    let own_origin = format!("http://{}", req.host());
    if req.origin() != Some(own_origin.as_str()) {
        return Err(403);
    }
    if req.path() != "/chat" {
        return Err(404);
    }
    // A real server would look the token up in its session store; here it is the name.
    let token = req
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .unwrap_or_default();
    let valid = !token.is_empty()
        && token.len() <= 32
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(token.to_string())
    } else {
        Err(401)
    }
}

/// Whether the request waiting on `socket` asks for a WebSocket upgrade, decided by peeking
/// at its head (the bytes stay for the handshake to read).
fn is_upgrade(socket: &TcpStream) -> io::Result<bool> {
    let mut buf = [0u8; 8192];
    loop {
        let n = socket.peek(&mut buf)?;
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf[..n]) {
            Ok(httparse::Status::Complete(_)) => {
                return Ok(req.headers.iter().any(|h| {
                    h.name.eq_ignore_ascii_case("upgrade")
                        && h.value.eq_ignore_ascii_case(b"websocket")
                }));
            }
            // Let the handshake answer malformed and oversized requests.
            Err(_) => return Ok(true),
            Ok(httparse::Status::Partial) if n == buf.len() => return Ok(true),
            Ok(httparse::Status::Partial) if n == 0 => return Ok(false),
            Ok(httparse::Status::Partial) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve_page(socket: &mut TcpStream) -> io::Result<()> {
    write!(
        socket,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{PAGE}",
        PAGE.len()
    )
}
