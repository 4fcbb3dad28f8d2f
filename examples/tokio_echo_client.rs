//! An async client: sends each argument as a text message, prints the echoes, and checks
//! that each came back unchanged; then closes.
//!
//! ```sh
//! cargo run --features tokio --example tokio_echo_client -- ws://127.0.0.1:9002/ hello world
//! ```

use std::process::ExitCode;

use tokio::net::TcpStream;
use ws_proto::adapters::tokio::connect;
use ws_proto::handshake::{ClientRequest, Url};
use ws_proto::message::Message;
use ws_proto::{CloseCode, Config};

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:9002/".into());
    let messages: Vec<String> = args.collect();
    let parsed = Url::parse(&url).map_err(|e| format!("{url}: {e}"))?;
    let socket = TcpStream::connect((parsed.host(), parsed.port())).await?;
    let request = ClientRequest {
        url: &url,
        ..Default::default()
    };
    let mut ws = connect(socket, &request, Config::default()).await?;
    let mut ok = true;
    for text in &messages {
        ws.send(Message::Text(text.clone())).await?;
        match ws.recv().await {
            Some(Ok(Message::Text(echo))) => {
                println!("{echo}");
                ok &= echo == *text;
            }
            other => {
                eprintln!("unexpected: {other:?}");
                ok = false;
            }
        }
    }
    ws.close(CloseCode::NORMAL, "done").await?;
    while let Some(m) = ws.recv().await {
        if let Message::Close(code, _) = m? {
            println!("closed: {code}");
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
