//! Keepalive, pong, close and idle timers, driven by a virtual clock: the tests pass every
//! instant in, so nothing here sleeps.

use std::time::Duration;

use proptest::prelude::*;
use ws_proto::{
    CloseCode, Config, Connection, Error, Event, FrameHeader, Instant, Opcode, Outgoing, Role,
    State, Status,
};

const SEC: Duration = Duration::from_secs(1);

fn at(secs: u64) -> Instant {
    Instant::from_millis(secs * 1000)
}

fn config() -> Config {
    let mut c = Config::default();
    c.keepalive_interval = Some(10 * SEC);
    c.pong_timeout = 5 * SEC;
    c
}

/// Drains `poll_transmit` into one byte vector.
fn transmit(conn: &mut Connection) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut out = [0u8; 256];
    while let Some(n) = conn.poll_transmit(&mut out).unwrap() {
        wire.extend_from_slice(&out[..n]);
    }
    wire
}

/// The opcodes of the frames in `wire`.
fn opcodes(wire: &[u8]) -> Vec<Opcode> {
    let mut ops = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let Status::Complete((len, h)) = FrameHeader::decode(rest).unwrap() else {
            panic!("partial frame in {wire:?}");
        };
        ops.push(h.opcode);
        rest = &rest[len + usize::try_from(h.payload_len).unwrap()..];
    }
    ops
}

/// Feeds `wire` to `conn` and collects owned copies of what it reports.
fn feed(conn: &mut Connection, wire: &[u8]) -> Result<Vec<String>, Error> {
    let mut buf = wire.to_vec();
    let mut seen = Vec::new();
    let mut start = 0;
    loop {
        let read = conn.handle_read(&mut buf[start..]);
        let event = read.event?;
        start += read.consumed;
        match event {
            Some(e) => seen.push(format!("{e:?}")),
            None if read.consumed == 0 => return Ok(seen),
            None => {}
        }
    }
}

/// A frame as the peer in `role` would send it.
fn frame_from(role: Role, msg: Outgoing<'_>) -> Vec<u8> {
    let mut peer = Connection::new(role, Config::default(), ws_proto::mask_source::NoMask);
    let mut out = [0u8; 256];
    let n = peer.send(msg, &mut out).unwrap();
    out[..n].to_vec()
}

fn server() -> Connection {
    Connection::new(Role::Server, config(), ws_proto::mask_source::NoMask)
}

#[test]
fn no_timer_configured_means_no_deadline() {
    let mut c = Connection::new(
        Role::Server,
        Config::default(),
        ws_proto::mask_source::NoMask,
    );
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(at(1000));
    assert_eq!(c.poll_timeout(), None);
    assert!(transmit(&mut c).is_empty());
}

#[test]
fn first_deadline_asks_for_the_time() {
    let mut c = server();
    assert_eq!(c.poll_timeout(), Some(Instant::ZERO));
    c.handle_timeout(at(100));
    assert_eq!(c.poll_timeout(), Some(at(110)));
}

#[test]
fn keepalive_ping_goes_out_after_interval_of_silence() {
    let mut c = server();
    c.handle_timeout(at(0));
    c.handle_timeout(at(9));
    assert!(transmit(&mut c).is_empty(), "no ping before the interval");
    c.handle_timeout(at(10));
    assert_eq!(opcodes(&transmit(&mut c)), [Opcode::Ping]);
    // Now waiting for the pong: the next deadline is the pong timeout.
    assert_eq!(c.poll_timeout(), Some(at(15)));
    assert_eq!(c.state(), State::Open);
}

#[test]
fn unanswered_ping_fails_the_connection_at_pong_timeout() {
    let mut c = server();
    c.handle_timeout(at(0));
    c.handle_timeout(at(10));
    transmit(&mut c);
    c.handle_timeout(at(14));
    assert_eq!(c.error(), None);
    c.handle_timeout(at(15));
    assert_eq!(c.error(), Some(Error::TimedOut));
    assert_eq!(feed(&mut c, &[]), Err(Error::TimedOut));
    assert_eq!(c.state(), State::Closed, "a timed-out connection is over");
    assert_eq!(c.poll_timeout(), None);
    assert!(
        transmit(&mut c).is_empty(),
        "nothing to send after a timeout"
    );
}

#[test]
fn pong_answers_keepalive() {
    let mut c = server();
    c.handle_timeout(at(0));
    c.handle_timeout(at(10));
    transmit(&mut c);
    let pong = frame_from(Role::Client, Outgoing::Pong(b"ws-proto keepalive"));
    let seen = feed(&mut c, &pong).unwrap();
    assert_eq!(seen.len(), 1);
    c.handle_timeout(at(12));
    assert_eq!(c.error(), None);
    // The next ping is due an interval after the pong was noticed.
    assert_eq!(c.poll_timeout(), Some(at(22)));
    c.handle_timeout(at(15));
    assert_eq!(c.error(), None, "the old pong deadline is gone");
}

#[test]
fn any_received_frame_answers_keepalive() {
    let mut c = server();
    c.handle_timeout(at(0));
    c.handle_timeout(at(10));
    transmit(&mut c);
    feed(&mut c, &frame_from(Role::Client, Outgoing::Text("hi"))).unwrap();
    c.handle_timeout(at(15));
    assert_eq!(c.error(), None);
}

#[test]
fn traffic_postpones_keepalive() {
    let mut c = server();
    c.handle_timeout(at(0));
    for t in [4, 8, 12, 16] {
        feed(&mut c, &frame_from(Role::Client, Outgoing::Binary(b"x"))).unwrap();
        c.handle_timeout(at(t));
        assert!(transmit(&mut c).is_empty(), "no ping at {t}s");
        assert_eq!(c.poll_timeout(), Some(at(t + 10)));
    }
}

#[test]
fn keepalive_ping_is_answered_by_the_peer_connection() {
    // Pair harness: a client with keepalive against a plain server, both driven by the same
    // virtual clock, exchanging bytes through memory for ten minutes.
    let mut client = Connection::new(Role::Client, config(), ws_proto::mask_source::NoMask);
    let mut server = Connection::new(
        Role::Server,
        Config::default(),
        ws_proto::mask_source::NoMask,
    );
    let mut pings = 0;
    let mut now = Instant::ZERO;
    for _ in 0..1000 {
        let Some(deadline) = client.poll_timeout() else {
            break;
        };
        now = deadline.max(now);
        client.handle_timeout(now);
        let to_server = transmit(&mut client);
        pings += opcodes(&to_server)
            .iter()
            .filter(|&&o| o == Opcode::Ping)
            .count();
        feed(&mut server, &to_server).unwrap();
        let to_client = transmit(&mut server);
        feed(&mut client, &to_client).unwrap();
        // Tick after reading, as the adapters do, so the pong is noticed when it arrives.
        client.handle_timeout(now);
        if now >= at(600) {
            break;
        }
    }
    assert_eq!(client.error(), None);
    assert_eq!(client.state(), State::Open);
    // One ping per interval (10 s) of silence.
    assert_eq!(pings, 60, "{pings} pings in 600 s");
}

#[test]
fn silent_peer_is_reported_dead_after_interval_plus_pong_timeout() {
    let mut client = Connection::new(Role::Client, config(), ws_proto::mask_source::NoMask);
    let mut now = Instant::ZERO;
    let mut dead_at = None;
    for _ in 0..100 {
        let Some(deadline) = client.poll_timeout() else {
            break;
        };
        now = deadline.max(now);
        client.handle_timeout(now);
        transmit(&mut client); // the peer never answers
        if client.error().is_some() {
            dead_at = Some(now);
            break;
        }
    }
    assert_eq!(client.error(), Some(Error::TimedOut));
    assert_eq!(dead_at, Some(at(15)));
}

#[test]
fn no_keepalive_ping_once_closing() {
    let mut c = server();
    c.handle_timeout(at(0));
    c.close(CloseCode::NORMAL, "bye").unwrap();
    c.handle_timeout(at(10));
    assert_eq!(opcodes(&transmit(&mut c)), [Opcode::Close]);
    c.handle_timeout(at(11));
    assert!(transmit(&mut c).is_empty());
}

#[test]
fn close_timeout_gives_up_on_a_peer_that_never_closes() {
    let mut c = Connection::new(
        Role::Server,
        Config::default(),
        ws_proto::mask_source::NoMask,
    );
    c.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(opcodes(&transmit(&mut c)), [Opcode::Close]);
    assert_eq!(c.state(), State::LocalClosing);
    // The close timer needs the time it was armed at: the deadline asks for it at once.
    let first = c.poll_timeout().expect("close timer");
    assert!(first <= at(0));
    c.handle_timeout(at(100));
    assert_eq!(c.poll_timeout(), Some(at(110)));
    // Data keeps arriving, but only the peer's close stops the timer.
    feed(&mut c, &frame_from(Role::Client, Outgoing::Text("late"))).unwrap();
    c.handle_timeout(at(105));
    assert_eq!(c.poll_timeout(), Some(at(110)));
    c.handle_timeout(at(110));
    assert_eq!(c.error(), Some(Error::TimedOut));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn close_timeout_is_disarmed_by_the_peers_close() {
    let mut c = Connection::new(
        Role::Server,
        Config::default(),
        ws_proto::mask_source::NoMask,
    );
    c.close(CloseCode::NORMAL, "").unwrap();
    transmit(&mut c);
    c.handle_timeout(at(0));
    let mut peer = Connection::new(
        Role::Client,
        Config::default(),
        ws_proto::mask_source::NoMask,
    );
    peer.close(CloseCode::NORMAL, "").unwrap();
    feed(&mut c, &transmit(&mut peer)).unwrap();
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(at(60));
    assert_eq!(c.error(), None);
}

#[test]
fn close_timeout_none_waits_forever() {
    let mut cfg = Config::default();
    cfg.close_timeout = None;
    let mut c = Connection::new(Role::Server, cfg, ws_proto::mask_source::NoMask);
    c.close(CloseCode::NORMAL, "").unwrap();
    transmit(&mut c);
    c.handle_timeout(at(0));
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(at(1_000_000));
    assert_eq!(c.error(), None);
    assert_eq!(c.state(), State::LocalClosing);
}

#[test]
fn idle_timeout_fails_a_silent_connection() {
    let mut cfg = Config::default();
    cfg.idle_timeout = Some(30 * SEC);
    let mut c = Connection::new(Role::Server, cfg, ws_proto::mask_source::NoMask);
    c.handle_timeout(at(0));
    assert_eq!(c.poll_timeout(), Some(at(30)));
    feed(&mut c, &frame_from(Role::Client, Outgoing::Ping(b""))).unwrap();
    c.handle_timeout(at(20));
    assert_eq!(c.poll_timeout(), Some(at(50)));
    c.handle_timeout(at(49));
    assert_eq!(c.error(), None);
    c.handle_timeout(at(50));
    assert_eq!(c.error(), Some(Error::TimedOut));
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn idle_timeout_and_keepalive_together() {
    // Keepalive keeps a healthy connection from going idle.
    let mut cfg = config();
    cfg.idle_timeout = Some(12 * SEC);
    let mut client = Connection::new(Role::Client, cfg, ws_proto::mask_source::NoMask);
    let mut server = Connection::new(
        Role::Server,
        Config::default(),
        ws_proto::mask_source::NoMask,
    );
    let mut now = Instant::ZERO;
    while now < at(300) {
        now = client.poll_timeout().expect("timers armed").max(now);
        client.handle_timeout(now);
        feed(&mut server, &transmit(&mut client)).unwrap();
        feed(&mut client, &transmit(&mut server)).unwrap();
        // The client notices the pong right away, as an adapter that ticks after reads does.
        client.handle_timeout(now);
        assert_eq!(client.error(), None, "at {now:?}");
    }
}

#[test]
fn timers_run_during_the_opening_handshake() {
    // An idle timeout bounds a handshake that never completes (slowloris).
    let mut cfg = Config::default();
    cfg.idle_timeout = Some(5 * SEC);
    let mut c = Connection::server(cfg);
    c.handle_timeout(at(0));
    assert_eq!(c.poll_timeout(), Some(at(5)));
    c.handle_timeout(at(5));
    assert_eq!(c.error(), Some(Error::TimedOut));
    assert_eq!(c.state(), State::Closed);
}

#[cfg(feature = "std")]
#[test]
fn std_clock_round_trips() {
    let clock = ws_proto::time::StdClock::new();
    let a = clock.now();
    let std_a = clock.to_std(a);
    assert_eq!(clock.instant(std_a), a);
    let later = std_a + Duration::from_millis(1500);
    assert_eq!(
        clock.instant(later).saturating_duration_since(a),
        Duration::from_millis(1500)
    );
    // Before the epoch saturates to the epoch.
    let before = std::time::Instant::now()
        .checked_sub(Duration::from_secs(1))
        .unwrap_or_else(std::time::Instant::now);
    let fresh = ws_proto::time::StdClock::new();
    assert_eq!(fresh.instant(before), Instant::ZERO);
}

#[test]
fn instant_arithmetic_saturates() {
    let max = Instant::from_nanos(u64::MAX);
    assert_eq!(max + SEC, max);
    assert_eq!(Instant::ZERO.saturating_duration_since(max), Duration::ZERO);
    assert_eq!(Instant::from_millis(u64::MAX), max);
    assert_eq!(Instant::from_elapsed(Duration::MAX), max);
    assert_eq!(at(3).saturating_duration_since(at(1)), 2 * SEC);
}

#[derive(Clone, Debug)]
enum Step {
    /// Advance the clock by this many milliseconds and tick.
    Tick(u64),
    /// A frame from the peer arrives.
    Frame,
    /// The peer answers whatever we sent.
    Close,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0u64..20_000).prop_map(Step::Tick),
        3 => Just(Step::Frame),
        1 => Just(Step::Close),
    ]
}

proptest! {
    /// A tick before the deadline `poll_timeout` gave never queues a ping nor fails the
    /// connection; deadlines never lie in the past of the latest tick except to ask for the
    /// time.
    #[test]
    fn nothing_happens_before_the_deadline(steps in proptest::collection::vec(step(), 1..60)) {
        let mut cfg = config();
        cfg.idle_timeout = Some(25 * SEC);
        let mut c = Connection::new(Role::Server, cfg, ws_proto::mask_source::NoMask);
        let mut now = Instant::ZERO;
        c.handle_timeout(now);
        for s in steps {
            match s {
                Step::Tick(ms) => {
                    let next = now + Duration::from_millis(ms);
                    let deadline = c.poll_timeout();
                    let early = deadline.is_some_and(|d| next < d);
                    let wire_before = transmit(&mut c);
                    prop_assert!(opcodes(&wire_before).iter().all(|&o| o != Opcode::Ping));
                    c.handle_timeout(next);
                    if early {
                        prop_assert_eq!(c.error(), None);
                        prop_assert!(opcodes(&transmit(&mut c)).is_empty());
                    }
                    now = next;
                }
                Step::Frame => {
                    let _ = feed(&mut c, &frame_from(Role::Client, Outgoing::Binary(b"x")));
                    c.handle_timeout(now);
                }
                Step::Close => {
                    let _ = c.close(CloseCode::NORMAL, "");
                }
            }
            transmit(&mut c);
            if let Some(d) = c.poll_timeout() {
                prop_assert!(d >= now || d == Instant::ZERO || c.state() == State::LocalClosing,
                    "deadline {:?} before now {:?}", d, now);
            }
            if c.error().is_some() {
                prop_assert_eq!(c.state(), State::Closed);
                prop_assert_eq!(c.poll_timeout(), None);
            }
        }
    }
}

#[test]
fn event_debug_is_stable_enough_for_feed() {
    // `feed` above compares events only by count; make sure a pong is one event.
    let mut c = server();
    let seen = feed(&mut c, &frame_from(Role::Client, Outgoing::Pong(b"p"))).unwrap();
    assert_eq!(seen, [format!("{:?}", Event::Pong(b"p"))]);
}

#[test]
fn nothing_is_written_to_a_timed_out_peer() {
    use ws_proto::{Config, Connection, Duration, Instant, Role, mask_source::NoMask};
    let mut config = Config::default();
    config.idle_timeout = Some(Duration::from_secs(1));
    let mut s = Connection::new(Role::Server, config, NoMask);
    s.handle_timeout(Instant::ZERO);
    s.close(CloseCode::NORMAL, "").unwrap();
    s.handle_timeout(Instant::from_millis(2000));
    assert_eq!(s.error(), Some(Error::TimedOut));
    assert_eq!(s.poll_transmit(&mut [0; 64]), Ok(None));
}
