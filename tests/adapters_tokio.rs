//! The tokio adapter against real TCP peers on loopback.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt as _};
use tokio::io::AsyncReadExt as _;
use tokio::net::{TcpListener, TcpStream};
use ws_proto::adapters::Error;
use ws_proto::adapters::tokio::{DEFAULT_WRITE_HIGH_WATER, WebSocketStream};
use ws_proto::mask_source::NoMask;
use ws_proto::message::Message;
use ws_proto::{CloseCode, Config, Connection, OsRandom, Role};

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap());
    let (client, server) = tokio::join!(client, listener.accept());
    (client.unwrap(), server.unwrap().0)
}

fn client_ws(io: TcpStream, config: Config) -> WebSocketStream<TcpStream, OsRandom> {
    WebSocketStream::from_connection(io, Connection::new(Role::Client, config, OsRandom::new()))
}

fn server_ws(io: TcpStream, config: Config) -> WebSocketStream<TcpStream> {
    WebSocketStream::from_connection(io, Connection::new(Role::Server, config, NoMask))
}

/// An echo server through the `Stream`/`Sink` traits.
async fn echo(mut ws: WebSocketStream<TcpStream>) -> Option<(CloseCode, String)> {
    while let Some(message) = ws.next().await {
        match message.unwrap() {
            m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await.unwrap(),
            Message::Close(code, reason) => return Some((code, reason)),
            _ => {}
        }
    }
    None
}

#[tokio::test]
async fn echo_through_stream_and_sink() {
    let (c, s) = tcp_pair().await;
    let server = tokio::spawn(echo(server_ws(s, Config::default())));
    let mut client = client_ws(c, Config::default());
    let big: Vec<u8> = (0..2_000_000u32).map(|i| i as u8).collect();
    client.send(Message::Text("héllo".into())).await.unwrap();
    client.send(Message::Binary(big.clone())).await.unwrap();
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::Text("héllo".into())
    );
    assert_eq!(client.next().await.unwrap().unwrap(), Message::Binary(big));
    SinkExt::close(&mut client).await.unwrap(); // Sink::close: a normal close frame
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::Close(CloseCode::NORMAL, String::new())
    );
    assert!(
        client.next().await.is_none(),
        "the stream ends after the close"
    );
    assert_eq!(
        server.await.unwrap(),
        Some((CloseCode::NORMAL, String::new()))
    );
}

#[tokio::test]
async fn server_closes_the_transport_after_the_closing_handshake() {
    let (c, s) = tcp_pair().await;
    let mut server = server_ws(s, Config::default());
    let mut client = client_ws(c, Config::default());
    server
        .send(Message::Close(CloseCode::GOING_AWAY, "restart".into()))
        .await
        .unwrap();
    assert_eq!(
        client.recv().await.unwrap().unwrap(),
        Message::Close(CloseCode::GOING_AWAY, "restart".into())
    );
    let server_task = tokio::spawn(async move {
        let got = server.recv().await.unwrap().unwrap();
        assert!(server.recv().await.is_none());
        got
    });
    // The client's reply went out; the server ends its stream and shuts TCP down, which the
    // client sees as the end of its stream.
    assert!(client.recv().await.is_none());
    assert_eq!(
        server_task.await.unwrap(),
        Message::Close(CloseCode::GOING_AWAY, String::new())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_halves_run_in_two_tasks() {
    let (c, s) = tcp_pair().await;
    let server = tokio::spawn(echo(server_ws(s, Config::default())));
    let (mut reader, mut writer) = client_ws(c, Config::default()).split();
    const N: usize = 2000;
    let sender = tokio::spawn(async move {
        for i in 0..N {
            // Larger than a socket buffer now and then, to make both halves wait on writes.
            let body = if i % 100 == 0 {
                vec![b'x'; 300_000]
            } else {
                format!("{i}").into_bytes()
            };
            writer.send(Message::Binary(body)).await.unwrap();
        }
        writer
    });
    for i in 0..N {
        let Some(Ok(Message::Binary(b))) = reader.next().await else {
            panic!("message {i} missing")
        };
        if i % 100 == 0 {
            assert_eq!(b.len(), 300_000);
        } else {
            assert_eq!(b, format!("{i}").into_bytes());
        }
    }
    let mut writer = sender.await.unwrap();
    assert!(writer.is_pair_of(&reader));
    writer
        .send(Message::Close(CloseCode::NORMAL, "done".into()))
        .await
        .unwrap();
    assert!(matches!(reader.recv().await, Some(Ok(Message::Close(..)))));
    assert!(reader.recv().await.is_none());
    assert_eq!(
        server.await.unwrap(),
        Some((CloseCode::NORMAL, "done".into()))
    );
}

#[tokio::test]
async fn sink_applies_backpressure_at_the_high_water_mark() {
    let (c, _silent_peer) = tcp_pair().await;
    let high_water = 32 * 1024;
    let mut client = WebSocketStream::with_buffers(
        c,
        Connection::new(Role::Client, Config::default(), OsRandom::new()),
        4096,
        high_water,
        &[],
    );
    // `feed` queues without flushing; it waits in `poll_ready` once the queue is over the mark
    // and the socket buffers are full, because the peer never reads.
    let chunk = vec![0u8; 8 * 1024];
    let mut fed = 0usize;
    loop {
        let fed_one = tokio::time::timeout(
            Duration::from_millis(200),
            client.feed(Message::Binary(chunk.clone())),
        )
        .await;
        match fed_one {
            Ok(r) => {
                r.unwrap();
                fed += chunk.len();
            }
            Err(_) => break,
        }
        assert!(fed < 64 << 20, "no backpressure after {fed} bytes");
    }
    // What the adapter holds is bounded by the mark plus one message (the queue's capacity
    // grows by doubling).
    let held = client.heap_bytes();
    assert!(
        held <= 4096 + 2 * (high_water + chunk.len()),
        "{held} bytes held"
    );
    println!("backpressure after {fed} bytes fed; adapter holds {held} bytes");
}

#[tokio::test]
async fn keepalive_reports_a_dead_peer() {
    let mut cfg = Config::default();
    cfg.keepalive_interval = Some(Duration::from_millis(100));
    cfg.pong_timeout = Duration::from_millis(150);
    let (c, mut silent_peer) = tcp_pair().await;
    let mut client = client_ws(c, cfg);
    let start = tokio::time::Instant::now();
    let got = tokio::time::timeout(Duration::from_secs(5), client.next())
        .await
        .expect("the timeout fires");
    let elapsed = start.elapsed();
    assert!(
        matches!(got, Some(Err(Error::Protocol(ws_proto::Error::TimedOut)))),
        "{got:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_millis(2000),
        "{elapsed:?}"
    );
    assert!(client.next().await.is_none());
    // The keepalive ping reached the peer before it was declared dead.
    let mut head = [0u8; 2];
    silent_peer.read_exact(&mut head).await.unwrap();
    assert_eq!(head[0], 0x89);
}

#[tokio::test]
async fn keepalive_keeps_a_healthy_connection() {
    let mut cfg = Config::default();
    cfg.keepalive_interval = Some(Duration::from_millis(50));
    cfg.pong_timeout = Duration::from_millis(200);
    let (c, s) = tcp_pair().await;
    let server = tokio::spawn(async move {
        let mut ws = server_ws(s, Config::default());
        let mut pings = 0;
        while let Some(m) = ws.next().await {
            match m.unwrap() {
                Message::Ping(_) => pings += 1,
                Message::Close(..) => break,
                _ => {}
            }
        }
        pings
    });
    let mut client = client_ws(c, cfg);
    let mut pongs = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(600);
    while let Ok(m) = tokio::time::timeout_at(deadline, client.next()).await {
        assert!(
            matches!(m, Some(Ok(Message::Pong(_)))),
            "only pongs arrive: {m:?}"
        );
        pongs += 1;
    }
    client.close(CloseCode::NORMAL, "").await.unwrap();
    while let Some(m) = client.next().await {
        if matches!(m, Ok(Message::Pong(_))) {
            pongs += 1; // answers to pings sent just before the close
        }
    }
    let pings = server.await.unwrap();
    assert!(
        (5..=13).contains(&pings),
        "{pings} keepalive pings in 600 ms"
    );
    assert_eq!(pings, pongs);
}

#[tokio::test]
async fn eof_without_close_is_an_error_then_the_end() {
    let (c, s) = tcp_pair().await;
    let mut server = server_ws(s, Config::default());
    drop(c);
    match server.next().await {
        Some(Err(Error::Io(e))) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof),
        other => panic!("{other:?}"),
    }
    assert!(server.next().await.is_none());
}

#[tokio::test]
async fn idle_memory_per_connection() {
    let (c, s) = tcp_pair().await;
    let server = server_ws(s, Config::default());
    let size = size_of::<WebSocketStream<TcpStream>>();
    let heap = server.heap_bytes();
    println!(
        "tokio WebSocketStream<TcpStream>: size_of {size} B + heap {heap} B = {} B per idle \
         connection (high-water mark {DEFAULT_WRITE_HIGH_WATER} B)",
        size + heap
    );
    assert_eq!(heap, 4096);
    assert!(size < 1400, "{size}");
    drop(c);
    // With keepalive on, the timer entry is allocated once armed.
    let (c, s) = tcp_pair().await;
    let mut cfg = Config::default();
    cfg.keepalive_interval = Some(Duration::from_secs(30));
    let mut server = server_ws(s, cfg);
    let _ = tokio::time::timeout(Duration::from_millis(20), server.recv()).await;
    let heap = server.heap_bytes();
    println!("tokio WebSocketStream<TcpStream> with keepalive armed: heap {heap} B");
    assert!(heap > 4096 && heap < 4096 + 512, "{heap}");
    drop(c);
}

#[tokio::test]
async fn opening_handshake_both_roles() {
    use ws_proto::adapters::tokio::{accept, connect};
    use ws_proto::handshake::ClientRequest;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        echo(accept(s, Config::default()).await.unwrap()).await
    });
    let url = format!("ws://{addr}/echo");
    let request = ClientRequest {
        url: &url,
        ..Default::default()
    };
    let io = TcpStream::connect(addr).await.unwrap();
    let mut client = connect(io, &request, Config::default()).await.unwrap();
    client
        .send(Message::Text("over the handshake".into()))
        .await
        .unwrap();
    assert_eq!(
        client.recv().await.unwrap().unwrap(),
        Message::Text("over the handshake".into())
    );
    client.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(matches!(client.recv().await, Some(Ok(Message::Close(..)))));
    assert!(client.recv().await.is_none());
    assert!(server.await.unwrap().is_some());
}

#[tokio::test(start_paused = true)]
async fn timers_follow_paused_tokio_time() {
    // With the clock paused, tokio jumps to the next timer whenever the runtime is idle: a
    // heartbeat of minutes completes at once, and a silent peer is declared dead exactly on
    // schedule in virtual time.
    let mut cfg = Config::default();
    cfg.keepalive_interval = Some(Duration::from_secs(60));
    cfg.pong_timeout = Duration::from_secs(30);
    let (c, _silent_peer) = tcp_pair().await;
    let mut client = client_ws(c, cfg);
    let start = tokio::time::Instant::now();
    let got = client.next().await;
    assert!(
        matches!(got, Some(Err(Error::Protocol(ws_proto::Error::TimedOut)))),
        "{got:?}"
    );
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_secs(90) && elapsed < Duration::from_secs(91),
        "{elapsed:?}"
    );
}
