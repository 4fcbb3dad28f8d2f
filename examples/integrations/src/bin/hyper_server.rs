//! A hyper 1.x server that performs the WebSocket upgrade itself (as axum does) and hands the
//! upgraded connection to ws-proto, already open: `Connection::new(Role::Server, ..)`.
//! Echoes every message on `/ws`; any other request gets a plain-text page.
//!
//! ```sh
//! cargo run --manifest-path examples/integrations/Cargo.toml --bin hyper_server -- 127.0.0.1:9003
//! ```

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use ws_proto::adapters::tokio::WebSocketStream;
use ws_proto::handshake::accept_key;
use ws_proto::mask_source::NoMask;
use ws_proto::message::Message;
use ws_proto::{Config, Connection, Role};

type Body = Full<Bytes>;

fn header_is(req: &Request<Incoming>, name: hyper::header::HeaderName, token: &str) -> bool {
    req.headers().get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

async fn handle(mut req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let upgrade = req.uri().path() == "/ws"
        && header_is(&req, UPGRADE, "websocket")
        && header_is(&req, CONNECTION, "upgrade")
        && req
            .headers()
            .get("sec-websocket-version")
            .is_some_and(|v| v == "13");
    let key = req.headers().get(SEC_WEBSOCKET_KEY).cloned();
    let (true, Some(key)) = (upgrade, key) else {
        let page = "ws-proto behind hyper: open a WebSocket to /ws\n";
        return Ok(Response::new(Body::new(Bytes::from_static(
            page.as_bytes(),
        ))));
    };
    // RFC 6455 §4.2.2: the accept value proves the server read this handshake.
    let accept = accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let conn = Connection::new(Role::Server, Config::default(), NoMask);
                echo(WebSocketStream::from_connection(
                    TokioIo::new(upgraded),
                    conn,
                ))
                .await;
            }
            Err(e) => eprintln!("hyper: upgrade failed: {e}"),
        }
    });
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_bytes(&accept) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    Ok(response)
}

async fn echo<S>(mut ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    while let Some(message) = ws.recv().await {
        let sent = match message {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => ws.send(m).await,
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            return eprintln!("hyper: {e}");
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("hyper: listening on ws://{}/", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let served = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(handle))
                .with_upgrades()
                .await;
            if let Err(e) = served {
                eprintln!("hyper: {e}");
            }
        });
    }
}
