//! Internal entry points for the fuzz targets (`cfg(fuzzing)` only; not a public API).
pub use crate::frame::mask::{apply, apply_bytewise};
