//! Go's `encoding/csv` for one record, as pflag reads the values of its slice and
//! stringToString flags (comma separator, strict quotes).

/// Where and why a record is not CSV, in Go's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub line: usize,
    pub column: usize,
    /// A `"` inside an unquoted field; otherwise a quoted field that does not end right.
    pub bare: bool,
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = if self.bare {
            "bare \" in non-quoted-field"
        } else {
            "extraneous or missing \" in quoted-field"
        };
        write!(
            f,
            "parse error on line {}, column {}: {why}",
            self.line, self.column
        )
    }
}

impl std::error::Error for CsvError {}

/// The first record of `s` read by Go's `encoding/csv` (comma separator, strict quotes).
pub fn read_record(s: &str) -> Result<Vec<String>, CsvError> {
    let b = s.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut col_base = 0; // byte index where the current line starts
    loop {
        if b.get(i) == Some(&b'"') {
            // Quoted field.
            let mut field = Vec::new();
            i += 1;
            loop {
                match b.get(i) {
                    None => {
                        return Err(CsvError {
                            line,
                            column: i - col_base + 1,
                            bare: false,
                        })
                    }
                    Some(b'"') => match b.get(i + 1) {
                        Some(b'"') => {
                            field.push(b'"');
                            i += 2;
                        }
                        Some(b',') => {
                            i += 2;
                            fields.push(String::from_utf8_lossy(&field).into_owned());
                            break;
                        }
                        None | Some(b'\n') => {
                            fields.push(String::from_utf8_lossy(&field).into_owned());
                            return Ok(fields);
                        }
                        Some(_) => {
                            return Err(CsvError {
                                line,
                                column: i - col_base + 1,
                                bare: false,
                            })
                        }
                    },
                    Some(&c) => {
                        if c == b'\n' {
                            line += 1;
                            col_base = i + 1;
                        }
                        field.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            let start = i;
            while let Some(&c) = b.get(i) {
                if c == b',' || c == b'\n' {
                    break;
                }
                if c == b'"' {
                    return Err(CsvError {
                        line,
                        column: i - col_base + 1,
                        bare: true,
                    });
                }
                i += 1;
            }
            let field = String::from_utf8_lossy(&b[start..i]).into_owned();
            let field = field
                .strip_suffix('\r')
                .map(str::to_string)
                .unwrap_or(field);
            fields.push(field);
            match b.get(i) {
                Some(b',') => i += 1,
                _ => return Ok(fields),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_quotes_and_gos_errors() {
        assert_eq!(read_record("a,\"b,c\",d").unwrap(), ["a", "b,c", "d"]);
        assert_eq!(read_record("\"x\"\"y\"").unwrap(), ["x\"y"]);
        assert_eq!(read_record("a,b\nc").unwrap(), ["a", "b"]);
        assert_eq!(
            read_record("a\"b").unwrap_err().to_string(),
            "parse error on line 1, column 2: bare \" in non-quoted-field"
        );
        assert_eq!(
            read_record("\"ab").unwrap_err().to_string(),
            "parse error on line 1, column 4: extraneous or missing \" in quoted-field"
        );
    }
}
