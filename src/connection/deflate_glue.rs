//! permessage-deflate glue: what the connection does differently once the extension is
//! agreed (compressing sends, inflating received pieces on request, applying negotiation
//! results). Kept apart from the core state machine; every entry point is a `deflate_*`
//! method called from one line in `connection.rs`, or a public method below.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::{Connection, MessageKind, SendKind};
use crate::Role;
use crate::deflate::{
    self, Compressor, DeflateParams, DeflateState, InflateError, Overflow, RxMessage, TAIL,
};
use crate::error::{ApiMisuse, BufferTooSmall, Error, ProtocolError, SendError};
use crate::event::Data;
use crate::frame::{FrameHeader, mask};
use crate::handshake::{HandshakeError, HandshakeErrorKind};
use crate::mask_source::MaskSource;
use crate::utf8::Utf8Validator;

impl<M: MaskSource> Connection<M> {
    /// Inflates one piece of a received message and appends the result to `out`.
    ///
    /// Call it for every [`Event::Text`](crate::Event::Text) or
    /// [`Event::Binary`](crate::Event::Binary) piece, in order, before the next `handle_read`
    /// (the payload borrows the input buffer). A piece with `compressed: false` is appended as
    /// is. For compressed pieces this checks what the core cannot see before inflating:
    /// [`Config::max_message_size`](crate::Config::max_message_size) on the inflated size
    /// (`out` never grows by more than the limit, whatever the compression ratio) and UTF-8
    /// for text, as the bytes come out (fail fast). The message's end is handled as RFC 7692
    /// §7.2.2 says (the `00 00 ff ff` tail is appended before inflating).
    ///
    /// # Errors
    /// A [`ProtocolError`] (`MessageTooBig` → 1009, `InvalidUtf8` → 1007,
    /// `DecompressionFailed` → 1002) fails the connection as `handle_read` errors do: the
    /// error is sticky and the close frame is queued for
    /// [`poll_transmit`](Self::poll_transmit). `out` may then hold part of the message.
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn inflate(&mut self, data: &Data<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if !data.compressed {
            out.extend_from_slice(data.payload);
            return Ok(());
        }
        let limit = self.config.max_message_size;
        let result = match self.deflate.as_mut() {
            Some(state) => inflate_piece(state, data, limit, out),
            None => Err(ProtocolError::DecompressionFailed), // RSV1 is refused without it
        };
        result.map_err(|e| {
            self.fail(e);
            Error::Protocol(e)
        })
    }

    /// Turns permessage-deflate on with parameters agreed elsewhere (e.g. for a connection
    /// from [`new`](Self::new) whose upgrade an HTTP server handled). Call it before any
    /// message flows. The local knobs (level, threshold) come from
    /// [`Config::deflate`](crate::Config::deflate), or the defaults.
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn enable_deflate(&mut self, params: DeflateParams) {
        let config = self.config.deflate.clone().unwrap_or_default();
        self.deflate = Some(Box::new(DeflateState::new(self.role, &config, params)));
        // RFC 7692 §6: RSV1 marks a compressed message.
        self.allowed_rsv |= FrameHeader::RSV1;
    }

    /// The agreed permessage-deflate parameters, if the extension is on.
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate_params(&self) -> Option<DeflateParams> {
        self.deflate.as_ref().map(|d| d.params)
    }

    /// Hook for `negotiated`: applies a `Sec-WebSocket-Extensions` response (our own as a
    /// server, the peer's as a client, checked against our offer).
    pub(super) fn deflate_negotiated(
        &mut self,
        extensions: Option<&str>,
    ) -> Result<(), HandshakeError> {
        let Some(value) = extensions else {
            return Ok(());
        };
        let params = match self.role {
            Role::Server => deflate::parse_own_response(value),
            Role::Client => {
                let offered = self.config.deflate.clone().unwrap_or_default();
                deflate::parse_response(value, &offered)
                    .map_err(|_| HandshakeErrorKind::InvalidHeader("Sec-WebSocket-Extensions"))?
            }
        };
        if let Some(params) = params {
            self.enable_deflate(params);
        }
        Ok(())
    }

    /// Hook for `read_frame`: the first piece of a compressed message is being delivered.
    pub(super) fn deflate_message_started(&mut self, kind: MessageKind) {
        if let Some(state) = self.deflate.as_mut() {
            state.rx = Some(RxMessage {
                text: kind == MessageKind::Text,
                inflated: 0,
                utf8: Utf8Validator::new(),
            });
            if let Some(inflater) = state.inflater.as_mut() {
                inflater.start_message();
            }
        }
    }

    /// Hook for `send`: compresses data frames when the extension is on. `None`: send the
    /// frame as usual (no extension, a control frame, a message under the size threshold, or
    /// a fragment of a message opened uncompressed).
    pub(super) fn deflate_send(
        &mut self,
        kind: SendKind,
        payload: &[u8],
        fin: bool,
        fragmented: bool,
        out: &mut [u8],
    ) -> Option<Result<usize, SendError>> {
        if matches!(kind, SendKind::Ping | SendKind::Pong) {
            return None;
        }
        let opening = self.sending.is_none();
        let state = self.deflate.as_mut()?;
        let compress = if opening {
            fragmented || payload.len() >= state.min_message_size
        } else {
            state.tx_compressed
        };
        if opening {
            // Decided again if this send fails, as the message then stays unopened.
            state.tx_compressed = compress;
        }
        if !compress {
            return None;
        }
        Some(self.send_compressed(kind, payload, fin, opening, out))
    }

    /// Hook for `send_in_place`: a fragment of a compressed message cannot be sent in place;
    /// a message opened in place is sent uncompressed.
    pub(super) fn deflate_in_place(&mut self, kind: SendKind) -> Result<(), ApiMisuse> {
        if matches!(kind, SendKind::Ping | SendKind::Pong) {
            return Ok(());
        }
        let opening = self.sending.is_none();
        if let Some(state) = self.deflate.as_mut() {
            if opening {
                state.tx_compressed = false;
            } else if state.tx_compressed {
                return Err(ApiMisuse::CompressedInPlace);
            }
        }
        Ok(())
    }

    fn send_compressed(
        &mut self,
        kind: SendKind,
        payload: &[u8],
        fin: bool,
        opening: bool,
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        let mut header = self.plan_send(kind, 0, fin)?;
        // Compress straight into `out`, behind room for the longest header the output may
        // need, then move it next to the real header. Sizing for the worst case first keeps
        // "nothing written, nothing changed" on a short buffer.
        let bound = Compressor::bound(payload.len());
        let mut sized = header;
        sized.payload_len = u64::try_from(bound).unwrap_or(u64::MAX);
        if self.role == Role::Client {
            sized.mask = Some([0; 4]);
        }
        let room = sized.encoded_len();
        let required = room.saturating_add(bound);
        let too_small = BufferTooSmall { required };
        let Some(dst) = out.get_mut(..required) else {
            return Err(too_small.into());
        };
        let Some(state) = self.deflate.as_mut() else {
            return Err(too_small.into()); // the caller checked it is there
        };
        let body = dst.get_mut(room..).unwrap_or_default();
        // Overflow means the bound was wrong; the compressor was reset, so the peer sees a
        // consistent stream whatever we send next.
        let n = state
            .compressor()
            .compress(payload, body, fin)
            .map_err(|Overflow| too_small)?;
        if fin && state.send_reset {
            state.compressor().reset();
        }
        header.payload_len = u64::try_from(n).unwrap_or(u64::MAX);
        if opening {
            // RFC 7692 §6.1: RSV1 on the first frame of a compressed message only.
            header.rsv |= FrameHeader::RSV1;
        }
        if self.role == Role::Client {
            header.mask = Some(self.mask_source.mask_key());
        }
        let head_len = header.encoded_len();
        dst.copy_within(room..room.saturating_add(n), head_len);
        let Some((head, rest)) = dst.split_at_mut_checked(head_len) else {
            return Err(too_small.into()); // head_len <= room: the header only shrank
        };
        header.encode(head)?;
        let body = rest.get_mut(..n).unwrap_or_default();
        if let Some(key) = header.mask {
            mask::apply(body, key, 0);
        }
        self.commit_send(kind, fin);
        Ok(head_len.saturating_add(n))
    }
}

/// Inflates one piece into `out` (see [`Connection::inflate`]).
fn inflate_piece(
    state: &mut DeflateState,
    data: &Data<'_>,
    limit: u64,
    out: &mut Vec<u8>,
) -> Result<(), ProtocolError> {
    let DeflateState { inflater, rx, .. } = state;
    // A compressed piece without a started message: the caller skipped or repeated pieces.
    let Some(msg) = rx.as_mut() else {
        return Err(ProtocolError::DecompressionFailed);
    };
    let inflater = inflater.get_or_insert_with(deflate::Inflater::new);
    let mut produced = msg.inflated;
    let text = msg.text;
    let utf8 = &mut msg.utf8;
    let mut sink = |bytes: &[u8]| -> Result<(), ProtocolError> {
        if text {
            utf8.feed(bytes).map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        let left = limit.saturating_sub(produced);
        deflate::append_within(out, bytes, left).map_err(|()| ProtocolError::MessageTooBig)?;
        produced = produced.saturating_add(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        Ok(())
    };
    let map = |e: Result<ProtocolError, InflateError>| match e {
        Ok(e) => e,
        Err(InflateError::OverBudget) => ProtocolError::MessageTooBig,
        Err(InflateError::Corrupt) => ProtocolError::DecompressionFailed,
    };
    let budget = limit.saturating_sub(msg.inflated);
    let n = inflater
        .inflate(data.payload, false, budget, &mut sink)
        .map_err(map)?;
    let total = msg.inflated.saturating_add(n);
    if data.ends_message {
        inflater
            .inflate(&TAIL, true, limit.saturating_sub(total), &mut sink)
            .map_err(map)?;
        if text {
            msg.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        *rx = None;
    } else {
        msg.inflated = total;
    }
    Ok(())
}
