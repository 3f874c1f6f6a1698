//! Text formats kdebug reads and writes the way Go and kubectl do: the YAML subset reader
//! ([`yaml`]) and writer ([`emit`]), Go's quoting, JSON and floats ([`go`]), base64
//! ([`b64`]), one CSV record ([`csv`]), RFC 3339 times ([`time`]), Go durations
//! ([`duration`]) and tables ([`table`]). No I/O, no knowledge of Kubernetes objects.

pub mod b64;
pub mod csv;
pub mod duration;
pub mod emit;
pub mod go;
pub mod table;
pub mod time;
pub mod yaml;
