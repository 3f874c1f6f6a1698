//! Base64 exactly as Go's `encoding/json` treats `[]byte` fields (base64.StdEncoding):
//! standard alphabet, padding required, `\r` and `\n` ignored, anything else an error.

use std::fmt;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// "illegal base64 data at input byte N", as Go says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct B64Error {
    pub offset: usize,
}

impl fmt::Display for B64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "illegal base64 data at input byte {}", self.offset)
    }
}

impl std::error::Error for B64Error {}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

pub fn decode(s: &str) -> Result<Vec<u8>, B64Error> {
    // Offsets count the characters kept, like Go's decoder after it drops line breaks.
    let chars: Vec<(usize, u8)> = s
        .bytes()
        .enumerate()
        .filter(|&(_, b)| b != b'\r' && b != b'\n')
        .collect();
    let mut out = Vec::with_capacity(chars.len() / 4 * 3);
    let mut k = 0;
    while k < chars.len() {
        let quad = &chars[k..(k + 4).min(chars.len())];
        let mut acc = 0u32;
        let mut n = 0; // data characters in this quad
        for (j, &(off, c)) in quad.iter().enumerate() {
            if c == b'=' {
                // Padding: only in the last quad, at position 2 or 3, and complete.
                if j < 2 || quad.len() < 4 || (j == 2 && quad[3].1 != b'=') || k + 4 != chars.len()
                {
                    return Err(B64Error { offset: off });
                }
                break;
            }
            match value(c) {
                Some(v) => {
                    acc |= v << (18 - 6 * j);
                    n += 1;
                }
                None => return Err(B64Error { offset: off }),
            }
        }
        if quad.len() < 4 {
            return Err(B64Error { offset: s.len() });
        }
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&bytes[..n - 1]);
        k += 4;
    }
    Ok(out)
}

pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for j in 0..4 {
            if j <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * j)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_go_rules() {
        for s in ["", "a", "ab", "abc", "abcd", "hello world"] {
            assert_eq!(
                decode(&encode(s.as_bytes())).ok(),
                Some(s.as_bytes().to_vec())
            );
        }
        assert_eq!(decode("aGVs\r\nbG8=").ok(), Some(b"hello".to_vec()));
        assert_eq!(decode("aGVsbG8").err(), Some(B64Error { offset: 7 }));
        assert_eq!(decode("-----BEGIN").err(), Some(B64Error { offset: 0 }));
        assert_eq!(decode("aGVs bG8=").err(), Some(B64Error { offset: 4 }));
        assert!(decode("aG==aGVs").is_err());
        assert!(decode("a===").is_err());
    }
}
