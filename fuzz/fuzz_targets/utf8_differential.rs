#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_proto_fuzz::utf8_differential::run(data));
