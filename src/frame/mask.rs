//! In-place XOR masking (RFC 6455 §5.3), resumable in the middle of a payload.
//!
//! The mask key repeats every 4 bytes, so a payload delivered in pieces is unmasked by carrying
//! the *phase* (payload offset mod 4) from one piece to the next. [`apply`] is the fast path,
//! written in safe code so that the compiler vectorizes it; [`apply_bytewise`] is its naive
//! twin, kept for differential tests and as the reference of what masking means.

/// Wide enough for one AVX-512 register, or two AVX2 / four SSE2 registers per iteration.
const BLOCK: usize = 64;

/// XORs `buf` in place with `key`, starting at key byte `phase % 4`, and returns the phase
/// for the byte after `buf`.
///
/// Masking and unmasking are the same operation.
#[inline]
pub fn apply(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    let key = rotate(key, phase);
    let next_phase = (phase % 4).wrapping_add(buf.len() % 4) % 4;
    // A block-sized key pattern lets the compiler turn the inner loop into plain vector XORs;
    // every block starts at a multiple of 4 bytes, so the pattern stays in phase.
    let mut pattern = [0u8; BLOCK];
    for (b, k) in pattern.iter_mut().zip(key.iter().cycle()) {
        *b = *k;
    }
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        for (b, k) in block.iter_mut().zip(pattern.iter()) {
            *b ^= *k;
        }
    }
    let tail = blocks.into_remainder();
    let mut words = tail.chunks_exact_mut(4);
    let word = u32::from_ne_bytes(key);
    for w in &mut words {
        let mut bytes = [0u8; 4];
        bytes.copy_from_slice(w);
        w.copy_from_slice(&(u32::from_ne_bytes(bytes) ^ word).to_ne_bytes());
    }
    for (b, k) in words.into_remainder().iter_mut().zip(key.iter()) {
        *b ^= *k;
    }
    next_phase
}

/// The byte-at-a-time reference for [`apply`]: same arguments, same result.
pub fn apply_bytewise(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    for (b, k) in buf.iter_mut().zip(key.iter().cycle().skip(phase % 4)) {
        *b ^= *k;
    }
    (phase % 4).wrapping_add(buf.len() % 4) % 4
}

/// The key as seen from payload offset `phase`.
#[inline]
fn rotate(key: [u8; 4], phase: usize) -> [u8; 4] {
    let mut k = key;
    k.rotate_left(phase % 4);
    k
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
        for len in 0..300 {
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
