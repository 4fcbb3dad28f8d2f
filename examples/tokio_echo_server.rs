//! An async echo server on tokio: every text or binary message comes back to its sender.
//!
//! ```sh
//! cargo run --features tokio --example tokio_echo_server -- 127.0.0.1:9002
//! ```

use tokio::net::TcpListener;
use ws_proto::Config;
use ws_proto::adapters::tokio::accept;
use ws_proto::message::Message;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    // Scripts read this line to find the port when started on port 0.
    println!("echo: listening on ws://{}/", listener.local_addr()?);
    loop {
        let (socket, peer) = listener.accept().await?;
        tokio::spawn(async move {
            let mut ws = match accept(socket, Config::default()).await {
                Ok(ws) => ws,
                Err(e) => return eprintln!("echo: {peer}: handshake failed: {e}"),
            };
            while let Some(message) = ws.recv().await {
                let result = match message {
                    Ok(m @ (Message::Text(_) | Message::Binary(_))) => ws.send(m).await,
                    Ok(_) => Ok(()), // pongs and the close reply are sent by the adapter
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    return eprintln!("echo: {peer}: {e}");
                }
            }
        });
    }
}
