//! In-place XOR masking (RFC 6455 §5.3), resumable in the middle of a payload.
//!
//! The mask key repeats every 4 bytes, so a payload delivered in pieces is unmasked by carrying
//! the *phase* (payload offset mod 4) from one piece to the next. [`apply`] is the fast path,
//! written in safe code that the compiler vectorizes; [`apply_bytewise`] is its naive twin,
//! kept for differential tests and as the reference of what masking means.
//!
//! The default x86-64 build may only assume SSE2, which reaches about a third of the speed of
//! memcpy on payloads that sit in the L1 cache. Under `std`, the private `wide` module detects AVX2
//! and AVX-512 at run time and runs the *same* safe loop compiled for them; that call is the
//! crate's only `unsafe` code. Without `std` (no run-time detection), the loop uses whatever
//! target features the build enables (`-C target-feature`, `-C target-cpu`).

/// Below this length straight-line code wins: vector loop set-up costs more than it saves.
const SHORT: usize = 32;

/// From this length on, aligning the vector loop (and, on x86 with `std`, the run-time
/// feature check) pays for itself.
const WIDE: usize = 256;

/// The alignment of the vector loop: one AVX-512 register, or one cache line.
const ALIGN: usize = 64;

/// Below this length, the vector loop runs unaligned: the head steps cost more than the
/// cache-line splits they avoid.
const ALIGN_FROM: usize = 512;

/// XORs `buf` in place with `key`, starting at key byte `phase % 4`, and returns the phase
/// for the byte after `buf`.
///
/// Masking and unmasking are the same operation.
#[inline]
pub fn apply(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    let next_phase = phase.wrapping_add(buf.len()) & 3;
    let key = rotate(key, phase);
    // Small and medium frames dominate frame-heavy traffic: their code is inlined into the
    // caller; long buffers take the out-of-line wide path.
    if buf.len() < SHORT {
        xor_short(buf, key);
    } else if buf.len() < WIDE {
        xor_medium(buf, key);
    } else {
        xor_wide(buf, key);
    }
    next_phase
}

/// [`apply`] at phase 0 to the first `len` bytes of `buf`, always inlined, and whether the
/// unmasked bytes are all ASCII: the receive loop for runs of small frames (a one-byte
/// length), where a call, or a second pass for the UTF-8 check, would cost as much as the XOR.
///
/// The bytes after `len` (the next frame) let the last partial 16-byte block be done as a
/// whole block XORed with a key pattern cut to the payload's length, which leaves those bytes
/// as they were: no branch on the length, which varies from frame to frame and would be
/// mispredicted. Without 16 bytes of room the tail is done in steps.
#[inline(always)]
pub(crate) fn apply_small_is_ascii(buf: &mut [u8], len: usize, key: [u8; 4]) -> bool {
    const HIGH: u128 = u128::from_le_bytes([0x80; 16]);
    // Built from little-endian words, like the blocks, so that `keep` below cuts it right.
    let p64 = u64::from(u32::from_le_bytes(key)).wrapping_mul(1 << 32 | 1);
    let p128 = u128::from(p64).wrapping_mul(1 << 64 | 1);
    let len = len.min(buf.len());
    let (blocks, _) = buf.split_at_mut(len & !15).0.as_chunks_mut::<16>();
    let mut acc = 0u128;
    for block in blocks {
        let x = u128::from_le_bytes(*block) ^ p128;
        *block = x.to_le_bytes();
        acc |= x;
    }
    let tail_len = len & 15;
    let tail_start = len & !15;
    if tail_len == 0 {
        return acc & HIGH == 0;
    }
    if let Some(block) = buf
        .get_mut(tail_start..tail_start.saturating_add(16))
        .and_then(|b| <&mut [u8; 16]>::try_from(b).ok())
    {
        // Little-endian: the block's first `tail_len` bytes are the low ones.
        let keep = u128::MAX >> (128usize.saturating_sub(tail_len.saturating_mul(8)) & 127);
        let x = u128::from_le_bytes(*block) ^ (p128 & keep);
        *block = x.to_le_bytes();
        return (acc | (x & keep)) & HIGH == 0;
    }
    // The frame ends the buffer: the tail in steps (every block before it was 16 bytes, so
    // the key is in phase).
    let tail = buf.get_mut(tail_start..len).unwrap_or_default();
    xor_short(tail, key);
    acc & HIGH == 0 && tail.is_ascii()
}

/// [`apply`] at phase 0 for buffers of [`WIDE`] bytes or more.
#[inline(never)]
fn xor_wide(buf: &mut [u8], key: [u8; 4]) {
    #[cfg(all(feature = "std", any(target_arch = "x86_64", target_arch = "x86")))]
    wide::xor(buf, key);
    #[cfg(not(all(feature = "std", any(target_arch = "x86_64", target_arch = "x86"))))]
    xor_long(buf, key);
}

/// 32 bytes at a time (two 16-byte vector XORs), then [`xor_short`] for the rest: few
/// iterations and no vector-loop set-up for medium buffers (a 125-byte control frame takes
/// three).
#[inline(always)]
fn xor_medium(buf: &mut [u8], key: [u8; 4]) {
    let p128 = u128::from(repeat64(key)).wrapping_mul(1 << 64 | 1);
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        let (lo, hi) = block.split_at_mut(16);
        xor128(lo, p128);
        xor128(hi, p128);
    }
    xor_short(blocks.into_remainder(), key);
}

/// Copies `src` into `dst` masked with `key` (from key byte 0): the send path's copy and
/// mask in one pass over the bytes. Copies `min(dst.len(), src.len())` bytes.
#[inline]
pub fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    let len = dst.len().min(src.len());
    let (dst, _) = dst.split_at_mut(len);
    let (src, _) = src.split_at(len);
    #[cfg(all(feature = "std", any(target_arch = "x86_64", target_arch = "x86")))]
    if len >= WIDE {
        wide::copy(dst, src, key);
        return;
    }
    copy_words(dst, src, key);
}

/// The loop of [`copy_masked`] for equally long slices: 8-byte words (vectorized by the
/// compiler), then the last 0 to 7 bytes.
#[inline(always)]
fn copy_words(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    let pattern = repeat64(key);
    let mut dst_words = dst.chunks_exact_mut(8);
    let mut src_words = src.chunks_exact(8);
    for (d, s) in (&mut dst_words).zip(&mut src_words) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(s);
        d.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ pattern).to_ne_bytes());
    }
    let tail = dst_words
        .into_remainder()
        .iter_mut()
        .zip(src_words.remainder());
    for ((d, s), k) in tail.zip(key.iter().cycle()) {
        *d = s ^ k;
    }
}

/// The byte-at-a-time reference for [`apply`]: same arguments, same result.
pub fn apply_bytewise(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    let next_phase = phase.wrapping_add(buf.len()) & 3;
    for (b, k) in buf.iter_mut().zip(key.iter().cycle().skip(phase & 3)) {
        *b ^= k;
    }
    next_phase
}

/// Masks a buffer of any length with the key at phase 0, aligning the bulk of the work: the
/// head up to the first 64-byte boundary (one step per bit of its length, smallest first, so
/// every step is aligned), the middle in 8-byte words that the compiler turns into the widest
/// vectors the build allows (no load or store then straddles a cache line), then the tail.
#[inline(always)]
fn xor_long(buf: &mut [u8], key: [u8; 4]) {
    if buf.len() < ALIGN_FROM {
        xor_words(buf, key);
        return;
    }
    let head_len = buf.as_ptr().align_offset(ALIGN).min(buf.len());
    let (head, body) = buf.split_at_mut(head_len);
    let key = xor_head(head, key);
    let (middle, tail) = body.split_at_mut(body.len() & !(ALIGN - 1));
    xor_words(middle, key);
    xor_short(tail, key);
}

/// 8 bytes at a time, then the last 0 to 7 bytes. The compiler vectorizes the loop.
#[inline(always)]
fn xor_words(buf: &mut [u8], key: [u8; 4]) {
    let pattern = repeat64(key);
    let mut words = buf.chunks_exact_mut(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ pattern).to_ne_bytes());
    }
    xor_short(words.into_remainder(), key);
}

/// Straight-line code for buffers under 64 bytes: one 32-, 16-, 8- and 4-byte step each when
/// the length has that bit, then the last 0 to 3 bytes. Every step but the last is a multiple
/// of 4 bytes long, so the key stays in phase.
#[inline(always)]
fn xor_short(buf: &mut [u8], key: [u8; 4]) {
    let p32 = u32::from_ne_bytes(key);
    let p64 = repeat64(key);
    let p128 = u128::from(p64).wrapping_mul(1 << 64 | 1);
    // `len & n <= len`: the splits cannot fail.
    let (w, rest) = buf.split_at_mut(buf.len() & 32);
    if let Ok(w) = <&mut [u8; 32]>::try_from(w) {
        let (lo, hi) = w.split_at_mut(16);
        xor128(lo, p128);
        xor128(hi, p128);
    }
    let (w, rest) = rest.split_at_mut(rest.len() & 16);
    xor128(w, p128);
    let (w, rest) = rest.split_at_mut(rest.len() & 8);
    if let Ok(w) = <&mut [u8; 8]>::try_from(w) {
        *w = (u64::from_ne_bytes(*w) ^ p64).to_ne_bytes();
    }
    let (w, rest) = rest.split_at_mut(rest.len() & 4);
    if let Ok(w) = <&mut [u8; 4]>::try_from(w) {
        *w = (u32::from_ne_bytes(*w) ^ p32).to_ne_bytes();
    }
    for (b, k) in rest.iter_mut().zip(key) {
        *b ^= k;
    }
}

/// The mirror of [`xor_short`] for the head before an aligned address: steps of 1, 2, 4, ...
/// 32 bytes, each starting where the previous one aligned the address. Returns the key for
/// the byte after `buf`.
#[inline(always)]
fn xor_head(buf: &mut [u8], key: [u8; 4]) -> [u8; 4] {
    let (w, rest) = buf.split_at_mut(buf.len() & 1);
    if let (Some(b), Some(k)) = (w.first_mut(), key.first()) {
        *b ^= k;
    }
    let key = rotate(key, w.len());
    let (w, rest) = rest.split_at_mut(rest.len() & 2);
    let key = if let Ok(w) = <&mut [u8; 2]>::try_from(w) {
        let [a, b, ..] = key;
        *w = (u16::from_ne_bytes(*w) ^ u16::from_ne_bytes([a, b])).to_ne_bytes();
        rotate(key, 2)
    } else {
        key
    };
    let (w, rest) = rest.split_at_mut(rest.len() & 4);
    if let Ok(w) = <&mut [u8; 4]>::try_from(w) {
        *w = (u32::from_ne_bytes(*w) ^ u32::from_ne_bytes(key)).to_ne_bytes();
    }
    let p64 = repeat64(key);
    let (w, rest) = rest.split_at_mut(rest.len() & 8);
    if let Ok(w) = <&mut [u8; 8]>::try_from(w) {
        *w = (u64::from_ne_bytes(*w) ^ p64).to_ne_bytes();
    }
    let p128 = u128::from(p64).wrapping_mul(1 << 64 | 1);
    let (w, rest) = rest.split_at_mut(rest.len() & 16);
    xor128(w, p128);
    let (lo, hi) = rest.split_at_mut(rest.len().min(16));
    xor128(lo, p128);
    xor128(hi, p128);
    key
}

/// XORs 16 bytes with `pattern`; does nothing to a slice of another length.
#[inline(always)]
fn xor128(w: &mut [u8], pattern: u128) {
    if let Ok(w) = <&mut [u8; 16]>::try_from(w) {
        *w = (u128::from_ne_bytes(*w) ^ pattern).to_ne_bytes();
    }
}

/// The key twice, as the 8 bytes of a word (the same in either byte order).
#[inline(always)]
fn repeat64(key: [u8; 4]) -> u64 {
    u64::from(u32::from_ne_bytes(key)).wrapping_mul(1 << 32 | 1)
}

/// The key as seen from payload offset `phase`.
#[inline(always)]
fn rotate(key: [u8; 4], phase: usize) -> [u8; 4] {
    let bits = match phase & 3 {
        0 => return key,
        1 => 8,
        2 => 16,
        _ => 24,
    };
    u32::from_le_bytes(key).rotate_right(bits).to_le_bytes()
}

/// Run-time selection of AVX-512 or AVX2 for long buffers (x86 with `std` only).
///
/// `is_x86_feature_detected!` caches its answer, so each call costs a load and a branch. The
/// functions below contain no unsafe operation: their bodies are [`xor_long`] and
/// [`copy_words`], inlined and compiled for the named target features. Calling them is `unsafe` only because running
/// such code on a CPU without those features is undefined behaviour.
#[cfg(all(feature = "std", any(target_arch = "x86_64", target_arch = "x86")))]
#[allow(unsafe_code)]
mod wide {
    /// Masks `buf` with `key` at phase 0 using the widest vectors the CPU has.
    #[inline]
    pub(super) fn xor(buf: &mut [u8], key: [u8; 4]) {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, the only feature `xor_avx512` is compiled for.
            unsafe { xor_avx512(buf, key) }
        } else if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, the only feature `xor_avx2` is compiled for.
            unsafe { xor_avx2(buf, key) }
        } else {
            super::xor_long(buf, key);
        }
    }

    /// Copies `src` masked into `dst` (equal lengths) using the widest vectors the CPU has.
    #[inline]
    pub(super) fn copy(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, the only feature `copy_avx512` is compiled for.
            unsafe { copy_avx512(dst, src, key) }
        } else if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, the only feature `copy_avx2` is compiled for.
            unsafe { copy_avx2(dst, src, key) }
        } else {
            super::copy_words(dst, src, key);
        }
    }

    /// [`super::copy_words`] compiled for AVX-512F.
    #[target_feature(enable = "avx512f")]
    unsafe fn copy_avx512(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
        super::copy_words(dst, src, key);
    }

    /// [`super::copy_words`] compiled for AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn copy_avx2(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
        super::copy_words(dst, src, key);
    }

    /// [`super::xor_long`] compiled for AVX-512F (64-byte vectors).
    #[target_feature(enable = "avx512f")]
    unsafe fn xor_avx512(buf: &mut [u8], key: [u8; 4]) {
        super::xor_long(buf, key);
    }

    /// [`super::xor_long`] compiled for AVX2 (32-byte vectors).
    #[target_feature(enable = "avx2")]
    unsafe fn xor_avx2(buf: &mut [u8], key: [u8; 4]) {
        super::xor_long(buf, key);
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example() {
        let mut p = *b"Hello";
        let phase = apply(&mut p, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(p, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        assert_eq!(phase, 1);
    }

    #[test]
    fn matches_bytewise_for_lengths_and_phases() {
        let key = [0x11, 0x22, 0x44, 0x88];
        // Miri is about 10,000 times slower: a sample there.
        let lengths = if cfg!(miri) { 0..40 } else { 0..300 };
        for len in lengths.chain([255, 256, 257, 299]) {
            for phase in 0..8 {
                let data: std::vec::Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let mut a = data.clone();
                let mut b = data;
                assert_eq!(
                    apply(&mut a, key, phase),
                    apply_bytewise(&mut b, key, phase)
                );
                assert_eq!(a, b, "len {len} phase {phase}");
            }
        }
    }

    #[test]
    fn small_unmask_matches_bytewise_and_sees_non_ascii() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        // With 0 to 20 bytes of room after the payload (the next frame), which must not change.
        // Miri is about 10,000 times slower: a sample there.
        let (room_step, len_step) = if cfg!(miri) { (8, 7) } else { (1, 1) };
        for room in (0..=20_usize).step_by(room_step) {
            for len in (0..=125_usize).step_by(len_step) {
                for high in [None, Some(0), Some(len / 2), Some(len.saturating_sub(1))] {
                    let mut data: std::vec::Vec<u8> =
                        (0..len + room).map(|i| (i % 128) as u8 | 0x40).collect();
                    if let Some(at) = high.filter(|&at| at < len) {
                        data[at] = 0xc3;
                    }
                    let ascii = data[..len].is_ascii();
                    apply_bytewise(&mut data[..len], key, 0); // masked, as on the wire
                    let mut fast = data.clone();
                    apply_bytewise(&mut data[..len], key, 0);
                    assert_eq!(
                        apply_small_is_ascii(&mut fast, len, key),
                        ascii,
                        "len {len} room {room}"
                    );
                    assert_eq!(fast, data, "len {len} room {room}");
                }
            }
        }
    }

    #[test]
    fn matches_bytewise_at_every_alignment() {
        // Lengths around every threshold (short, wide, head and tail steps), at every start
        // offset within a cache line.
        let lengths: &[usize] = if cfg!(miri) {
            &[0, 1, 31, 32, 63, 64, 65, 127, 255, 256, 300]
        } else {
            &[255, 256, 257, 511, 512, 513, 1000, 4096, 4099, 70_001]
        };
        let short = if cfg!(miri) { 0..0 } else { 0..140 };
        for len in short.chain(lengths.iter().copied()) {
            for offset in (0..64).step_by(if cfg!(miri) { 7 } else { 1 }) {
                for phase in [0, 3] {
                    check_at(len, offset, phase, |buf, key| {
                        apply(buf, key, 0);
                    });
                }
            }
        }
    }

    /// The portable path that CPUs without AVX2 take (and every non-x86 target).
    #[test]
    fn scalar_path_matches_bytewise() {
        let lengths: &[usize] = if cfg!(miri) {
            &[0, 1, 5, 64, 65, 130]
        } else {
            &[
                0, 1, 5, 31, 32, 63, 64, 65, 127, 128, 200, 257, 511, 512, 513, 1000, 4099,
            ]
        };
        for &len in lengths {
            for offset in (0..64).step_by(if cfg!(miri) { 5 } else { 1 }) {
                check_at(len, offset, 1, xor_long);
                check_at(len, offset, 2, xor_words);
                check_at(len, offset, 1, xor_medium);
                check_at(len.min(63), offset, 3, xor_short);
            }
        }
    }

    #[test]
    fn copy_masked_matches_copy_then_apply() {
        let key = [0x0f, 0xf0, 0x55, 0xaa];
        let src: std::vec::Vec<u8> = (0..5000).map(|i| (i * 7 + 1) as u8).collect();
        let lengths: &[usize] = if cfg!(miri) {
            &[0, 3, 8, 13, 256, 300]
        } else {
            &[0, 1, 3, 7, 8, 9, 31, 64, 255, 256, 257, 1000, 4990]
        };
        for &len in lengths {
            for offset in [0, 1, 7] {
                let s = &src[offset..offset + len];
                let mut want = s.to_vec();
                apply_bytewise(&mut want, key, 0);
                let mut got = std::vec![0xeeu8; len + 2];
                copy_masked(&mut got[1..=len], s, key);
                assert_eq!(&got[1..=len], &want[..], "len {len} offset {offset}");
                assert_eq!((got[0], got[len + 1]), (0xee, 0xee), "wrote outside");
            }
        }
        // Unequal lengths: the shorter one decides.
        let mut dst = [0u8; 3];
        copy_masked(&mut dst, &[1, 2, 3, 4, 5], key);
        assert_eq!(dst, [1 ^ 0x0f, 2 ^ 0xf0, 3 ^ 0x55]);
    }

    /// Runs `f` (with the key rotated to `phase`) on `len` bytes at `offset` in a buffer that
    /// starts on a 64-byte boundary, and compares with the byte loop over the whole buffer.
    fn check_at(len: usize, offset: usize, phase: usize, f: impl Fn(&mut [u8], [u8; 4])) {
        let key = [0x9c, 0x01, 0x7e, 0xe5];
        let data: std::vec::Vec<u8> = (0..len + 128).map(|i| (i * 13 + 5) as u8).collect();
        let base = data.as_ptr().align_offset(64);
        let range = base + offset..base + offset + len;
        let mut a = data.clone();
        let mut b = data;
        f(&mut a[range.clone()], rotate(key, phase));
        apply_bytewise(&mut b[range], key, phase);
        assert!(a == b, "len {len} offset {offset} phase {phase}");
    }

    #[test]
    fn resumable_split() {
        let key = [1, 2, 3, 4];
        let mut whole = [0u8; 100];
        apply(&mut whole, key, 0);
        let mut parts = [0u8; 100];
        let (a, b) = parts.split_at_mut(37);
        let p = apply(a, key, 0);
        apply(b, key, p);
        assert_eq!(whole, parts);
    }
}
