//! The WebSocket channel demultiplexer and, for status-channel frames, the Status decoder.
#![no_main]

use kdebug::session::attach::frames::{decode_status, split, Frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match split(data) {
        Frame::Stdout(d) | Frame::Stderr(d) => assert_eq!(d.len() + 1, data.len()),
        Frame::Status(d) => {
            assert_eq!(d.len() + 1, data.len());
            let _ = decode_status(d);
        }
        Frame::Ignored => {}
    }
});
