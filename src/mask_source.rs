//! Where client masking keys come from.
//!
//! RFC 6455 §5.3: "The masking key needs to be unpredictable; thus, the masking key MUST be
//! derived from a strong source of entropy". The machine owns no RNG, so the caller supplies
//! one: a hardware RNG on a microcontroller, the operating system's under `std` ([`OsRandom`]).
//! A server never asks for a key.

/// A source of unpredictable 4-byte masking keys (and of the 16-byte handshake nonce).
pub trait MaskSource {
    /// Fills `buf` with unpredictable bytes.
    fn fill(&mut self, buf: &mut [u8]);

    /// A fresh masking key.
    fn mask_key(&mut self) -> [u8; 4] {
        let mut key = [0; 4];
        self.fill(&mut key);
        key
    }
}

/// Any `FnMut(&mut [u8])` is a source, e.g. a closure reading a hardware RNG.
impl<F: FnMut(&mut [u8])> MaskSource for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf);
    }
}

/// The operating system's random source (through `getrandom`), buffered so that a masking key
/// costs a system call only once every 64 keys.
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[derive(Clone, Debug)]
pub struct OsRandom {
    pool: [u8; 256],
    used: usize,
}

#[cfg(feature = "std")]
impl OsRandom {
    /// A source whose pool is filled on first use.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            pool: [0; 256],
            used: 256,
        }
    }
}

#[cfg(feature = "std")]
impl Default for OsRandom {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "std")]
impl MaskSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            if self.used >= self.pool.len() {
                // The OS source only fails on broken systems; masking with a predictable key
                // would silently break RFC 6455 §5.3, so fail loudly there.
                #[allow(clippy::expect_used)]
                getrandom::fill(&mut self.pool).expect("operating system random source failed");
                self.used = 0;
            }
            *b = self.pool.get(self.used).copied().unwrap_or_default();
            self.used = self.used.saturating_add(1);
        }
    }

    /// Four bytes straight from the pool when it has them (one per frame a client sends).
    #[inline]
    fn mask_key(&mut self) -> [u8; 4] {
        let end = self.used.saturating_add(4);
        if let Some(&[a, b, c, d]) = self.pool.get(self.used..end) {
            self.used = end;
            return [a, b, c, d];
        }
        let mut key = [0; 4];
        self.fill(&mut key);
        key
    }
}

/// A source of all-zero bytes: for servers (which never request a key) and deterministic
/// tests. Never use it for a client on a real network: RFC 6455 §5.3 requires unpredictable
/// keys.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMask;

impl MaskSource for NoMask {
    fn fill(&mut self, buf: &mut [u8]) {
        buf.fill(0);
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn os_random_keys_are_the_pool_in_order() {
        let mut a = OsRandom::new();
        let _ = a.mask_key(); // fills the pool
        let mut b = a.clone();
        // The rest of this pool (63 keys), as keys and as bytes: the same stream.
        for _ in 0..63 {
            let mut bytes = [0; 4];
            b.fill(&mut bytes);
            assert_eq!(a.mask_key(), bytes);
        }
        // The pool is used up: the next key refills it.
        assert_eq!(a.used, a.pool.len());
        let _ = a.mask_key();
        assert_eq!(a.used, 4);
    }
}
