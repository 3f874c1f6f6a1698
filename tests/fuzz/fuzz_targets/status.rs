//! Status decoding: the status channel's exit-code Status (`attach::frames::decode_status`)
//! and an error response's Status (`client::error::Status::decode`), printed as kubectl does.
#![no_main]

use kdebug::client::{ApiError, Status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the HTTP code; the rest is the body.
    let (code, body) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]) % 600, rest),
        _ => (500, data),
    };
    let _ = kdebug::session::attach::frames::decode_status(body);
    let st = Status::decode(code, body);
    let _ = ApiError::Status(Box::new(st)).to_string();
});
