#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_proto_fuzz::handshake_response::run(data));
