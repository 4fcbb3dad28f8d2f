//! The DEFLATE side of permessage-deflate (RFC 7692 §7.2) on top of `miniz_oxide`: a
//! compressor that honours a window size and context takeover, and an inflater whose output
//! is bounded by a byte budget.

use alloc::boxed::Box;
use alloc::vec::Vec;

use miniz_oxide::deflate::core::{
    CompressionStrategy, CompressorOxide, TDEFLFlush, TDEFLStatus, compress,
    create_comp_flags_from_zip_params,
};
use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

/// The four octets a sync flush ends with, removed by the sender and appended by the receiver
/// (RFC 7692 §7.2.1, §7.2.2).
pub(crate) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The inflate window: the largest a peer may use (RFC 7692 §7.1.2: at most 15 bits).
const WINDOW: usize = 1 << 15;

/// Compresses messages for one direction of a connection.
#[derive(Clone)]
pub(crate) struct Compressor {
    inner: CompressorOxide,
    /// Input bytes since the dictionary was last emptied (only tracked for small windows).
    since_reset: usize,
    /// Empty the dictionary every this many input bytes, so that no match reaches further
    /// back than the negotiated window (`None`: the full 32 KiB window is allowed).
    chunk: Option<usize>,
}

impl core::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Compressor")
            .field("since_reset", &self.since_reset)
            .field("chunk", &self.chunk)
            .finish_non_exhaustive()
    }
}

/// The compressor could not finish within the output it was given (only if [`Compressor::bound`]
/// were wrong); its dictionary was emptied, so the stream stays decodable.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) struct Overflow;

impl Compressor {
    /// A compressor at `level` (0–9) whose matches stay within `2^window_bits` bytes.
    ///
    /// `miniz_oxide` always searches a 32 KiB dictionary, so smaller windows are enforced here:
    /// for 9–14 bits the dictionary is emptied every `2^window_bits` input bytes (each piece
    /// ends with a sync flush, so the stream stays one valid DEFLATE stream); for 8 bits only
    /// run-length matches (distance 1) are used, which any window allows.
    pub(crate) fn new(level: u8, window_bits: u8) -> Self {
        let level = level.min(9);
        let (level, strategy, chunk) = match window_bits {
            15.. => (level, CompressionStrategy::Default, None),
            9..=14 => (
                level,
                CompressionStrategy::Default,
                Some(1usize << window_bits),
            ),
            // Level 1 takes miniz_oxide's fast path, which ignores the RLE flag: use 2 at least.
            _ if level == 0 => (0, CompressionStrategy::Default, None),
            _ => (level.max(2), CompressionStrategy::RLE, None),
        };
        // Negative window bits: raw DEFLATE, no zlib header.
        let flags = create_comp_flags_from_zip_params(i32::from(level), -15, strategy as i32);
        Self {
            inner: CompressorOxide::new(flags),
            since_reset: 0,
            chunk,
        }
    }

    /// An upper bound of what [`compress`](Self::compress) writes for `len` input bytes.
    ///
    /// A block is stored raw when compressing would expand it (5 bytes of header per block of
    /// at least 256 bytes here), blocks of at most 32 bytes may be Huffman-coded at 9 bits per
    /// byte, and every sync flush adds at most 5 bytes (one per dictionary chunk, at least 512
    /// bytes, and one at the end).
    pub(crate) fn bound(len: usize) -> usize {
        len.saturating_add(len / 32).saturating_add(64)
    }

    /// Compresses `input` with a sync flush into `out`, removing the final
    /// [`TAIL`] when `end_of_message`. Returns the bytes written.
    pub(crate) fn compress(
        &mut self,
        mut input: &[u8],
        out: &mut [u8],
        end_of_message: bool,
    ) -> Result<usize, Overflow> {
        let mut written = 0usize;
        loop {
            let room = self
                .chunk
                .map_or(input.len(), |c| c.saturating_sub(self.since_reset));
            let (now, later) = input.split_at(room.min(input.len()));
            let dst = out.get_mut(written..).ok_or(Overflow)?;
            let (status, used, n) = compress(&mut self.inner, now, dst, TDEFLFlush::Sync);
            // A full output buffer may hide output still pending inside the compressor.
            if status != TDEFLStatus::Okay || used != now.len() || n >= dst.len() {
                self.reset();
                return Err(Overflow);
            }
            written = written.saturating_add(n);
            if let Some(chunk) = self.chunk {
                self.since_reset = self.since_reset.saturating_add(used);
                if self.since_reset >= chunk {
                    self.reset();
                }
            }
            input = later;
            if input.is_empty() {
                break;
            }
        }
        if end_of_message {
            let body = out.get(..written).unwrap_or_default();
            if body.ends_with(&TAIL) {
                written = written.saturating_sub(TAIL.len());
            }
        }
        Ok(written)
    }

    /// Empties the dictionary (no context takeover, or a window boundary). Only call it after
    /// a sync flush: the next output then starts a new block on a byte boundary.
    pub(crate) fn reset(&mut self) {
        self.inner.reset();
        self.since_reset = 0;
    }
}

/// Why inflating stopped.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum InflateError {
    /// Not valid DEFLATE data.
    Corrupt,
    /// The output would exceed the budget.
    OverBudget,
}

/// Inflates the messages of one direction of a connection, keeping the 32 KiB window across
/// messages (context takeover) and across DEFLATE streams that end with a final block
/// (RFC 7692 §7.2.3.4).
#[derive(Clone)]
pub(crate) struct Inflater {
    decomp: Box<DecompressorOxide>,
    /// The last 32 KiB of output: the history matches refer to. A wrapping buffer.
    window: Box<[u8; WINDOW]>,
    /// Where the next output byte goes in `window`.
    pos: usize,
    /// The current DEFLATE stream ended with a final block; the next message starts another.
    stream_ended: bool,
}

impl core::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inflater")
            .field("pos", &self.pos)
            .field("stream_ended", &self.stream_ended)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    pub(crate) fn new() -> Self {
        Self {
            decomp: Box::default(),
            window: Box::new([0; WINDOW]),
            pos: 0,
            stream_ended: false,
        }
    }

    /// Prepares for a new message: the window (the history) is kept, the block parser is
    /// restarted at a block boundary, where the previous message ended.
    pub(crate) fn start_message(&mut self) {
        self.decomp.init();
        self.stream_ended = false;
    }

    /// Inflates `input`, handing each run of output to `sink` (which may refuse it). At most
    /// `budget` bytes are handed out in total; more output fails with
    /// [`InflateError::OverBudget`] before it is handed out. `tail` says `input` is the
    /// appended [`TAIL`]: right after a final block it is ignored, while other data after a
    /// final block starts a new stream. Returns the bytes handed out.
    pub(crate) fn inflate<E>(
        &mut self,
        mut input: &[u8],
        tail: bool,
        mut budget: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<u64, Result<E, InflateError>> {
        let mut total = 0u64;
        if self.stream_ended {
            if tail || input.is_empty() {
                // The message ended with a final block: the appended tail is not data.
                return Ok(0);
            }
            // More data after a final block starts a new DEFLATE stream over the same window
            // (RFC 7692 §7.2.3.4 shows one: a final block, then an empty block's header).
            self.start_message();
        }
        let flags = inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
        loop {
            let start = self.pos;
            let (status, used, n) =
                decompress(&mut self.decomp, input, &mut self.window[..], start, flags);
            input = input.get(used..).unwrap_or_default();
            if n > 0 {
                let n64 = u64::try_from(n).unwrap_or(u64::MAX);
                if n64 > budget {
                    return Err(Err(InflateError::OverBudget));
                }
                budget = budget.saturating_sub(n64);
                total = total.saturating_add(n64);
                let end = start.saturating_add(n);
                let produced = self
                    .window
                    .get(start..end)
                    .ok_or(Err(InflateError::Corrupt))?;
                sink(produced).map_err(Ok)?;
                self.pos = end % WINDOW;
            }
            match status {
                TINFLStatus::NeedsMoreInput if input.is_empty() => return Ok(total),
                TINFLStatus::NeedsMoreInput | TINFLStatus::HasMoreOutput => {}
                TINFLStatus::Done => {
                    self.stream_ended = true;
                    if input.is_empty() || tail {
                        return Ok(total);
                    }
                    self.start_message();
                    continue;
                }
                _ => return Err(Err(InflateError::Corrupt)),
            }
            if used == 0 && n == 0 {
                // No progress with input left: cannot happen with a valid decompressor state.
                return Err(Err(InflateError::Corrupt));
            }
        }
    }
}

/// A growable output that never reserves more than a byte budget, so that a compression bomb
/// is stopped having allocated at most the message size limit.
pub(crate) fn append_within(out: &mut Vec<u8>, bytes: &[u8], budget_left: u64) -> Result<(), ()> {
    let spare = out.capacity().saturating_sub(out.len());
    if spare < bytes.len() {
        // Grow geometrically (amortised O(1) per byte) but never past what the message may
        // still produce.
        let cap_left = usize::try_from(budget_left).unwrap_or(usize::MAX);
        let want = out.len().max(4096).min(cap_left).max(bytes.len());
        out.try_reserve_exact(want).map_err(|_| ())?;
    }
    out.extend_from_slice(bytes);
    Ok(())
}
