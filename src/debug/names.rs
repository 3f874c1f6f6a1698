//! Random name suffixes the way apimachinery's `rand.String` draws them: 5 characters from an
//! alphabet without vowels (no accidental words) and without 0, 1 and 3 (no look-alikes).
//! No `rand` crate: a splitmix64 stream seeded from the clock, the pid and a counter is plenty
//! for names whose collisions are checked (containers) or harmless and rare (node pods).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// apimachinery `rand.String`'s alphabet.
pub const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Length of the suffix kubectl appends (`debugger-xxxxx`, `node-debugger-<node>-xxxxx`).
pub const SUFFIX_LEN: usize = 5;

/// A seeded stream of suffixes.
#[derive(Debug, Clone)]
pub struct NameGenerator {
    state: u64,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl NameGenerator {
    /// Seeded from the time, the pid and a process-wide counter (two generators created in the
    /// same nanosecond still differ).
    pub fn new() -> NameGenerator {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let pid = u64::from(std::process::id());
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        NameGenerator::with_seed(nanos ^ pid.rotate_left(32) ^ count.wrapping_mul(0x9e37_79b9))
    }

    /// A deterministic stream (tests).
    pub fn with_seed(seed: u64) -> NameGenerator {
        NameGenerator { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The next 5-character suffix. Like `rand.String`, 5-bit chunks outside the alphabet are
    /// rejected, so every character is equally likely.
    pub fn suffix(&mut self) -> String {
        let mut out = String::with_capacity(SUFFIX_LEN);
        while out.len() < SUFFIX_LEN {
            let mut bits = self.next_u64();
            for _ in 0..12 {
                let idx = (bits & 0x1f) as usize;
                bits >>= 5;
                if let Some(&c) = ALPHABET.get(idx) {
                    out.push(c as char);
                    if out.len() == SUFFIX_LEN {
                        break;
                    }
                }
            }
        }
        out
    }
}

impl Default for NameGenerator {
    fn default() -> Self {
        NameGenerator::new()
    }
}

/// The generator to hand to the builders: `names::generator()` gives an `FnMut() -> String`.
pub fn generator() -> impl FnMut() -> String {
    let mut g = NameGenerator::new();
    move || g.suffix()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_use_the_alphabet_and_length() {
        let mut g = NameGenerator::with_seed(42);
        for _ in 0..500 {
            let s = g.suffix();
            assert_eq!(s.len(), SUFFIX_LEN);
            assert!(s.bytes().all(|b| ALPHABET.contains(&b)), "{s}");
        }
    }

    #[test]
    fn every_character_is_reachable() {
        let mut g = NameGenerator::with_seed(7);
        let mut seen = [false; 27];
        for _ in 0..2000 {
            for b in g.suffix().bytes() {
                if let Some(i) = ALPHABET.iter().position(|&a| a == b) {
                    seen[i] = true;
                }
            }
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn generators_differ() {
        let mut a = generator();
        let mut b = generator();
        let xs: Vec<String> = (0..4).map(|_| a()).collect();
        let ys: Vec<String> = (0..4).map(|_| b()).collect();
        assert_ne!(xs, ys);
    }
}
