//! The watch-event stream decoder: a chunked watch body, line by line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kdebug::kube::watch::decode_events(data);
});
