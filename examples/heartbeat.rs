//! A client with a heartbeat: the connection pings the server whenever nothing arrived for
//! an interval, and reports the peer dead when no answer comes within the pong timeout.
//! Both run on tokio's timer inside the adapter; the application only reads.
//!
//! ```sh
//! cargo run --features tokio --example heartbeat -- ws://127.0.0.1:9002/ --interval-ms 500 \
//!     --timeout-ms 1000 --for-ms 3000
//! ```
//!
//! Exits 0 with "peer alive" if the peer answered for `--for-ms` (default: forever), or 2 with
//! "peer dead" when it stopped answering.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use ws_proto::adapters::Error;
use ws_proto::adapters::tokio::connect;
use ws_proto::handshake::{ClientRequest, Url};
use ws_proto::message::Message;
use ws_proto::{CloseCode, Config};

fn flag(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .cloned()
        .unwrap_or_else(|| "ws://127.0.0.1:9002/".into());
    let interval = Duration::from_millis(flag(&args, "--interval-ms").unwrap_or(1000));
    let timeout = Duration::from_millis(flag(&args, "--timeout-ms").unwrap_or(2000));
    let run_for = flag(&args, "--for-ms").map(Duration::from_millis);

    let mut config = Config::default();
    config.keepalive_interval = Some(interval);
    config.pong_timeout = timeout;
    let parsed = Url::parse(&url).map_err(|e| format!("{url}: {e}"))?;
    let socket = TcpStream::connect((parsed.host(), parsed.port())).await?;
    let request = ClientRequest {
        url: &url,
        ..Default::default()
    };
    let mut ws = connect(socket, &request, config).await?;
    let start = Instant::now();
    let end = run_for.map(|d| tokio::time::Instant::now() + d);
    let mut pongs = 0u32;
    loop {
        let next = match end {
            Some(end) => match tokio::time::timeout_at(end, ws.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    println!(
                        "heartbeat: peer alive: {pongs} pongs in {:?}",
                        start.elapsed()
                    );
                    ws.close(CloseCode::NORMAL, "").await?;
                    return Ok(ExitCode::SUCCESS);
                }
            },
            None => ws.recv().await,
        };
        match next {
            Some(Ok(Message::Pong(_))) => {
                pongs += 1;
                println!("heartbeat: pong {pongs} at {:?}", start.elapsed());
            }
            Some(Ok(other)) => println!("heartbeat: {other:?}"),
            Some(Err(Error::Protocol(ws_proto::Error::TimedOut))) => {
                println!(
                    "heartbeat: peer dead: no answer within {timeout:?} of a ping, after {pongs} \
                     pongs, {:?} after connecting",
                    start.elapsed()
                );
                return Ok(ExitCode::from(2));
            }
            Some(Err(e)) => return Err(e.into()),
            None => {
                println!("heartbeat: the server closed the connection");
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}
