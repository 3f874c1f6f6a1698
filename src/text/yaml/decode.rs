//! Stage zero: the bytes as characters.

use super::{err_at, Pos, YamlError};

/// Bytes -> chars: BOM skipped, UTF-16 accepted (as go-yaml does), CRLF and CR -> LF, invalid
/// UTF-8 and control characters rejected with their line.
pub(super) fn decode(src: &[u8], file: &str) -> Result<Vec<char>, YamlError> {
    let text: String = if src.len() >= 2 && (src[..2] == [0xFF, 0xFE] || src[..2] == [0xFE, 0xFF]) {
        let le = src[0] == 0xFF;
        let units: Vec<u16> = src[2..]
            .chunks(2)
            .map(|c| {
                let (a, b) = (c[0], *c.get(1).unwrap_or(&0));
                if le {
                    u16::from_le_bytes([a, b])
                } else {
                    u16::from_be_bytes([a, b])
                }
            })
            .collect();
        if !src.len().is_multiple_of(2) {
            return Err(err_at(file, Pos::default(), "incomplete UTF-16 character"));
        }
        String::from_utf16(&units)
            .map_err(|_| err_at(file, Pos::default(), "invalid UTF-16 surrogate pair"))?
    } else {
        let body = src.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(src);
        match std::str::from_utf8(body) {
            Ok(s) => s.to_string(),
            Err(e) => {
                let good = &body[..e.valid_up_to()];
                let line = 1 + good.iter().filter(|&&b| b == b'\n').count();
                let col = 1 + good.iter().rev().take_while(|&&b| b != b'\n').count();
                return Err(err_at(
                    file,
                    Pos { line, col },
                    "invalid UTF-8 byte sequence",
                ));
            }
        }
    };
    let mut out = Vec::with_capacity(text.len());
    let mut it = text.chars().peekable();
    let (mut line, mut col) = (1, 1);
    while let Some(c) = it.next() {
        let c = match c {
            '\r' => {
                if it.peek() == Some(&'\n') {
                    it.next();
                }
                '\n'
            }
            // YAML 1.1 also breaks lines at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR.
            '\u{85}' | '\u{2028}' | '\u{2029}' => '\n',
            c => c,
        };
        // The YAML 1.1 printable set, as go-yaml's reader checks it.
        let ok = matches!(c, '\t' | '\n' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
        if !ok {
            return Err(err_at(
                file,
                Pos { line, col },
                format!("control character U+{:04X} is not allowed", c as u32),
            ));
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
        out.push(c);
    }
    Ok(out)
}
