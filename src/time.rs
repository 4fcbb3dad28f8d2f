//! Time without a clock: a crate-owned [`Instant`] the caller creates from whatever clock it
//! has (a monotonic counter on a microcontroller, `std::time::Instant` on a host).
//!
//! `core` has [`Duration`] but no instant, so the machine counts nanoseconds from an epoch the
//! caller picks; only differences matter.

pub use core::time::Duration;

/// A point in time, as nanoseconds since a caller-chosen epoch. Monotonic if the caller's
/// clock is.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Instant(u64);

impl Instant {
    /// The epoch.
    pub const ZERO: Self = Self(0);

    /// The instant `nanos` nanoseconds after the epoch.
    #[must_use]
    pub const fn from_nanos(nanos: u64) -> Self {
        Self(nanos)
    }

    /// The instant `millis` milliseconds after the epoch (saturating).
    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis.saturating_mul(1_000_000))
    }

    /// The instant `elapsed` after the epoch (saturating at about 584 years).
    #[must_use]
    pub const fn from_elapsed(elapsed: Duration) -> Self {
        let n = elapsed.as_nanos();
        Self(if n > u64::MAX as u128 {
            u64::MAX
        } else {
            n as u64
        })
    }

    /// Nanoseconds since the epoch.
    #[must_use]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating.
    #[must_use]
    pub const fn saturating_add(self, d: Duration) -> Self {
        let add = Self::from_elapsed(d).0;
        Self(self.0.saturating_add(add))
    }

    /// `self - earlier`, or zero if `earlier` is later.
    #[must_use]
    pub const fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Self;

    /// Saturating addition.
    fn add(self, d: Duration) -> Self {
        self.saturating_add(d)
    }
}

/// A clock that turns `std::time::Instant` into [`Instant`], with its creation as the epoch.
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[derive(Clone, Copy, Debug)]
pub struct StdClock {
    epoch: std::time::Instant,
}

#[cfg(feature = "std")]
impl StdClock {
    /// A clock whose epoch is now.
    #[must_use]
    pub fn new() -> Self {
        Self {
            epoch: std::time::Instant::now(),
        }
    }

    /// The current time.
    #[must_use]
    pub fn now(&self) -> Instant {
        self.instant(std::time::Instant::now())
    }

    /// Converts a `std::time::Instant` (saturating to the epoch if earlier).
    #[must_use]
    pub fn instant(&self, t: std::time::Instant) -> Instant {
        Instant::from_elapsed(t.saturating_duration_since(self.epoch))
    }

    /// Converts back to a `std::time::Instant`.
    #[must_use]
    pub fn to_std(&self, t: Instant) -> std::time::Instant {
        let d = Duration::from_nanos(t.as_nanos());
        // Cannot fail for instants this clock produced (they are epoch + elapsed).
        self.epoch.checked_add(d).unwrap_or(self.epoch)
    }
}

#[cfg(feature = "std")]
impl Default for StdClock {
    fn default() -> Self {
        Self::new()
    }
}
