#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_proto_fuzz::handshake_request::run(data));
