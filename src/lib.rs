#![doc = include_str!("../README.md")]
#![no_std]
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Library only (tests and examples use std freely): keep the no_std build honest.
#![warn(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]
// Attacker-controlled input reaches most of this crate: keep panicking shortcuts out of the
// library (tests may use them freely).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

#[cfg(feature = "alloc")]
extern crate alloc;
// `#![no_std]` plus an explicit `extern crate std`: the prelude stays `core`, so std-isms fail
// to compile even for developers who never build with --no-default-features.
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod adapters;
pub mod close;
pub mod config;
pub mod connection;
#[cfg(feature = "deflate")]
#[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
pub mod deflate;
pub mod error;
pub mod event;
pub mod frame;
pub mod handshake;
pub mod mask_source;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod message;
pub mod time;
pub mod utf8;

#[cfg(fuzzing)]
pub mod fuzzing;

pub use close::{CloseCode, CloseFrame};
pub use config::Config;
pub use connection::{Connection, FrameHead, MessageKind, Outgoing, Read, SendKind, State};
pub use error::{ApiMisuse, BufferTooSmall, Error, ProtocolError, SendError};
pub use event::{Data, Event};
pub use frame::{FrameHeader, Opcode, Status};
pub use mask_source::MaskSource;
#[cfg(feature = "std")]
pub use mask_source::OsRandom;
#[cfg(feature = "alloc")]
pub use message::{Message, MessageAssembler};
pub use time::{Duration, Instant};

/// Which end of the connection this machine is.
///
/// The role decides masking (RFC 6455 §5.3): a client masks every frame it sends and requires
/// unmasked frames from the server; a server does the opposite.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Role {
    /// The end that opened the connection; it masks what it sends.
    Client,
    /// The end that accepted the connection; it sends unmasked frames.
    Server,
}

impl Role {
    /// The other end's role.
    #[must_use]
    pub const fn peer(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }
}
