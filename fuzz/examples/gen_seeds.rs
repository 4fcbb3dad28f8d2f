//! Writes the committed seed corpus, `fuzz/seeds/<target>/`, from the RFC 6455 §5.7 examples
//! and other hand-made test vectors. Deterministic: run it again after changing an input
//! layout, and commit the result.
//!
//! ```sh
//! cd fuzz && cargo run --example gen_seeds
//! ```

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use arbitrary::{Arbitrary, Unstructured};
use ws_proto::Role;
use ws_proto_fuzz::{
    connection_recv, handshake_request, handshake_response, mask_differential, pair,
};

/// RFC 6455 §5.7 and friends, as frames from a server (unmasked).
const RFC_UNMASKED: &[&[u8]] = &[
    &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], // text "Hello"
    &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f], // "Hel" + "lo"
    &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], // ping "Hello"
    &[0x8a, 0x00],                               // empty pong
    &[0x88, 0x02, 0x03, 0xe8],                   // close 1000
    &[0x88, 0x00],                               // close, no status
    &[0x88, 0x05, 0x03, 0xe8, 0x62, 0x79, 0x65], // close 1000 "bye"
];

/// Frames that must fail, each for a different reason.
const BAD: &[&[u8]] = &[
    &[0x83, 0x00],                                     // reserved opcode
    &[0x09, 0x00],                                     // fragmented ping
    &[0x89, 0x7e, 0x00, 0x7e],                         // control frame too long
    &[0x82, 0x7e, 0x00, 0x7d],                         // non-minimal 16-bit length
    &[0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff],       // non-minimal 64-bit length
    &[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0],          // top bit set
    &[0xc1, 0x00],                                     // RSV1 without an extension
    &[0x80, 0x00],                                     // continuation with no message
    &[0x81, 0x02, 0xce, 0xba, 0x81, 0x02, 0xce, 0xba], // text, then text inside nothing
    &[0x81, 0x04, 0xce, 0xba, 0xf4, 0x90],             // invalid UTF-8 (fails fast)
    &[0x88, 0x01, 0x03],                               // 1-byte close body
    &[0x88, 0x02, 0x03, 0xed],                         // close code 1005 on the wire
    &[0x88, 0x03, 0x03, 0xe8, 0xff],                   // close reason not UTF-8
];

/// UTF-8 vectors (Autobahn 6.x style): valid, invalid, truncated.
const UTF8: &[&[u8]] = &[
    "Hello-µ@ßöäüàá-UTF-8!!".as_bytes(),
    "κόσμε".as_bytes(),
    "𝄞 € \u{10ffff} \u{fffd}".as_bytes(),
    &[0xce, 0xba, 0xf4, 0x90, 0x80, 0x80],
    &[0xed, 0xa0, 0x80],
    &[0xc0, 0xaf],
    &[0xe2, 0x82],
    &[0xf8, 0x88, 0x80, 0x80, 0x80],
    &[0x80, 0xbf],
];

/// Re-encodes whole unmasked frames with a mask (each header grows by 4 bytes).
/// RFC 6455 §1.3's request, a browser-like one, and invalid ones.
const REQUESTS: &[&[u8]] = &[
    b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n",
    b"GET ws://localhost:8080/room?id=7 HTTP/1.1\r\nHost: localhost:8080\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nCookie: a=b\r\n\r\n\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
    b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    b"GET /chat HTTP/1.1\nHost: h\n\n",
    b"POST /chat HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
    b"GET /chat HTTP/1.0\r\nHost: h\r\n\r\n",
];

/// RFC 6455 §1.3's response (its accept value answers `handshake_response::NONCE`), one with
/// an extension, a rejection, and invalid ones.
const RESPONSES: &[&[u8]] = &[
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n\x81\x05Hello",
    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nX-Reason: no\r\n\r\n",
    b"HTTP/1.1 302 Found\r\nLocation: ws://elsewhere.example/\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: other\r\n\r\n",
    b"HTTP/1.1 101\nUpgrade: websocket\n\n",
];

fn masked(mut frames: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut v = Vec::new();
    while !frames.is_empty() {
        let ext = match frames[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let Some((n, f)) = ws_proto_fuzz::common::ref_decode(frames) else {
            // A truncated (invalid) frame: mask bit and key, the rest as it is.
            v.extend_from_slice(&[frames[0], frames[1] | 0x80]);
            v.extend_from_slice(&key);
            v.extend_from_slice(&frames[2..]);
            break;
        };
        v.extend_from_slice(&[frames[0], frames[1] | 0x80]);
        v.extend_from_slice(&frames[2..2 + ext]);
        v.extend_from_slice(&key);
        let mut payload = f.payload;
        ws_proto::frame::mask::apply(&mut payload, key, 0);
        v.extend_from_slice(&payload);
        frames = &frames[n..];
    }
    v
}

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join(name), bytes).unwrap();
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let _ = fs::remove_dir_all(&dir);
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut long = vec![0x82, 0x7e, 0x01, 0x00];
    long.extend((0..=255u8).collect::<Vec<_>>());

    // frame_header: every vector's first frame, masked and unmasked, and the error vectors.
    // Data and pings first, closes last (nothing after the first close is read).
    let mut all: Vec<&[u8]> = RFC_UNMASKED[..4].to_vec();
    all.push(&long);
    all.extend_from_slice(&RFC_UNMASKED[4..]);
    for (i, f) in all.iter().enumerate() {
        write(
            &dir,
            "frame_header",
            &format!("rfc-{i}"),
            &f[..f.len().min(14)],
        );
        let m = masked(f, key);
        write(
            &dir,
            "frame_header",
            &format!("rfc-masked-{i}"),
            &m[..m.len().min(14)],
        );
    }
    write(
        &dir,
        "frame_header",
        "len64",
        &[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4],
    );
    for (i, f) in BAD.iter().enumerate() {
        write(
            &dir,
            "frame_header",
            &format!("bad-{i}"),
            &f[..f.len().min(14)],
        );
    }

    // connection_recv: the vectors as a server receives them (masked) and as a client does,
    // whole and cut in a few places, with default and small limits.
    let stream: Vec<u8> = all.concat();
    let masked_stream: Vec<u8> = all.iter().flat_map(|f| masked(f, key)).collect();
    let cuts = [1u16, 3, 9, 10, 40, 41, 300];
    let seeds = [
        ("client-rfc", Role::Client, 0, &stream),
        ("server-rfc", Role::Server, 0, &masked_stream),
        ("client-rfc-small", Role::Client, 3, &stream),
        ("server-rfc-small", Role::Server, 5, &masked_stream),
    ];
    for (name, role, preset, wire) in seeds {
        let whole = connection_recv::encode(role, preset, true, 4, &[], wire);
        write(&dir, "connection_recv", name, &whole);
        let cut = connection_recv::encode(role, preset, true, 1, &cuts, wire);
        write(&dir, "connection_recv", &format!("{name}-cut"), &cut);
    }
    for (i, f) in BAD.iter().enumerate() {
        let c = connection_recv::encode(Role::Client, 0, true, 5, &[1], f);
        write(&dir, "connection_recv", &format!("client-bad-{i}"), &c);
        let s = connection_recv::encode(Role::Server, 0, true, 5, &[1], &masked(f, key));
        write(&dir, "connection_recv", &format!("server-bad-{i}"), &s);
    }

    // mask_differential: the RFC example, odd alignments and lengths around the block size.
    let m = mask_differential::encode(key, 0, 0, 0, &[], b"Hello");
    write(&dir, "mask_differential", "rfc", &m);
    for (i, (phase, offset, pad)) in [(1, 3, 61), (2, 1, 64), (3, 7, 200), (5, 63, 1023)]
        .into_iter()
        .enumerate()
    {
        let m = mask_differential::encode(key, phase, offset, pad, &[1, 5, 64, 70], &long);
        write(&dir, "mask_differential", &format!("long-{i}"), &m);
    }

    // utf8_differential: the vectors, whole and cut inside code points.
    for (i, v) in UTF8.iter().enumerate() {
        write(
            &dir,
            "utf8_differential",
            &format!("v{i}"),
            &ws_proto_fuzz::common::encode_split_points(&[], v),
        );
        let cut = ws_proto_fuzz::common::encode_split_points(&[1, 2, 3, 5, 8], v);
        write(&dir, "utf8_differential", &format!("v{i}-cut"), &cut);
    }

    // handshake_request / handshake_response: default limits, small limits, cut anywhere.
    for (i, r) in REQUESTS.iter().enumerate() {
        write(
            &dir,
            "handshake_request",
            &format!("req-{i}"),
            &handshake_request::encode(15, 13, &[], r),
        );
        let cut = handshake_request::encode(9, 6, &[1, 4, 17, 18, 100], r);
        write(&dir, "handshake_request", &format!("req-{i}-cut"), &cut);
    }
    for (i, r) in RESPONSES.iter().enumerate() {
        write(
            &dir,
            "handshake_response",
            &format!("resp-{i}"),
            &handshake_response::encode(15, 13, &[], r),
        );
        let cut = handshake_response::encode(10, 5, &[2, 30, 31, 60, 128], r);
        write(&dir, "handshake_response", &format!("resp-{i}-cut"), &cut);
    }

    // pair: the input is `Arbitrary`-structured, so seeds are chosen among deterministic byte
    // strings (test vectors mixed into a simple generator) for covering every operation kind.
    let mut covered = BTreeSet::new();
    let mut state = 0x2545_f491_u32;
    let vectors: Vec<u8> = RFC_UNMASKED
        .concat()
        .into_iter()
        .chain(UTF8.concat())
        .collect();
    let mut kept = 0;
    for attempt in 0..20_000 {
        let len = 64 + (attempt % 448);
        let bytes: Vec<u8> = (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                if state.is_multiple_of(4) {
                    vectors[i % vectors.len()]
                } else {
                    (state >> 24) as u8
                }
            })
            .collect();
        let Ok(input) = pair::Input::arbitrary_take_rest(Unstructured::new(&bytes)) else {
            continue;
        };
        let kinds: BTreeSet<String> = input
            .ops
            .iter()
            .map(|op| {
                format!("{op:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        if kinds.len() >= 4 && !kinds.is_subset(&covered) {
            covered.extend(kinds);
            write(&dir, "pair", &format!("ops-{kept}"), &bytes);
            kept += 1;
        }
        if covered.len() == 10 {
            break;
        }
    }
    assert_eq!(covered.len(), 10, "pair seeds cover only {covered:?}");
    println!("seeds written to {}", dir.display());
}
