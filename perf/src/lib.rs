//! Empty: everything here is a benchmark.
#[inline(never)]
pub fn probe_apply(buf: &mut [u8], key: [u8; 4]) -> usize {
    ws_proto::frame::mask::apply(buf, key, 0)
}
