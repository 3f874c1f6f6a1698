//! The channel protocol inside the WebSocket (v4/v5.channel.k8s.io): every binary message is
//! one channel byte then the payload. Pure functions, so the fuzz targets can drive them.

use serde_json::Value;

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const STATUS: u8 = 3;
pub const RESIZE: u8 = 4;
/// v5 only: `[255, channel]` half-closes a channel.
pub const CLOSE: u8 = 255;

pub const V5: &str = "v5.channel.k8s.io";
pub const V4: &str = "v4.channel.k8s.io";

/// One incoming message, split into its channel and payload.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Stdout(&'a [u8]),
    Stderr(&'a [u8]),
    Status(&'a [u8]),
    /// An empty message, or a channel we do not read: ignored (the server sends an empty
    /// frame right after the upgrade).
    Ignored,
}

pub fn split(msg: &[u8]) -> Frame<'_> {
    match msg.split_first() {
        Some((&STDOUT, rest)) => Frame::Stdout(rest),
        Some((&STDERR, rest)) => Frame::Stderr(rest),
        Some((&STATUS, rest)) => Frame::Status(rest),
        _ => Frame::Ignored,
    }
}

pub fn stdin(data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(STDIN);
    v.extend_from_slice(data);
    v
}

/// Go's TerminalSize marshalled: capitalised keys and a newline.
pub fn resize(width: u16, height: u16) -> Vec<u8> {
    let mut v = vec![RESIZE];
    v.extend_from_slice(format!("{{\"Width\":{width},\"Height\":{height}}}\n").as_bytes());
    v
}

pub fn close_stdin() -> Vec<u8> {
    vec![CLOSE, STDIN]
}

/// What the status channel said about the remote process.
#[derive(Debug, PartialEq, Eq)]
pub enum ChannelStatus {
    Success,
    ExitCode(u8),
    Failure(String),
}

/// Decodes the Status JSON read from channel 3, with client-go's rules and messages.
pub fn decode_status(raw: &[u8]) -> ChannelStatus {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return ChannelStatus::Success;
    }
    let v: Value = match serde_json::from_slice(raw) {
        Ok(v) => v,
        Err(e) => {
            return ChannelStatus::Failure(format!(
                "error stream protocol error: {e} in {:?}",
                String::from_utf8_lossy(raw)
            ))
        }
    };
    match v.get("status").and_then(Value::as_str) {
        Some("Success") => ChannelStatus::Success,
        Some("Failure") => {
            if v.get("reason").and_then(Value::as_str) == Some("NonZeroExitCode") {
                let Some(causes) = v
                    .get("details")
                    .and_then(|d| d.get("causes"))
                    .and_then(Value::as_array)
                else {
                    return ChannelStatus::Failure(
                        "error stream protocol error: details must be set".into(),
                    );
                };
                let Some(cause) = causes
                    .iter()
                    .find(|c| c.get("reason").and_then(Value::as_str) == Some("ExitCode"))
                else {
                    return ChannelStatus::Failure(
                        "error stream protocol error: no ExitCode cause given".into(),
                    );
                };
                let msg = cause.get("message").and_then(Value::as_str).unwrap_or("");
                return match msg.parse::<u8>() {
                    Ok(code) => ChannelStatus::ExitCode(code),
                    Err(_) => ChannelStatus::Failure(format!(
                        "error stream protocol error: invalid exit code value {msg:?}"
                    )),
                };
            }
            ChannelStatus::Failure(
                v.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown error")
                    .to_string(),
            )
        }
        _ => ChannelStatus::Failure("error stream protocol error: unknown error".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_channels() {
        assert_eq!(split(&[1, b'h', b'i']), Frame::Stdout(b"hi"));
        assert_eq!(split(&[2]), Frame::Stderr(b""));
        assert_eq!(split(&[]), Frame::Ignored);
        assert_eq!(split(&[9, 1]), Frame::Ignored);
    }

    #[test]
    fn encodes_outgoing() {
        assert_eq!(stdin(b"ls\n"), b"\x00ls\n");
        assert_eq!(resize(80, 24), b"\x04{\"Width\":80,\"Height\":24}\n");
        assert_eq!(close_stdin(), [255, 0]);
    }

    #[test]
    fn status_decoding() {
        assert_eq!(decode_status(b""), ChannelStatus::Success);
        assert_eq!(
            decode_status(br#"{"metadata":{},"status":"Success"}"#),
            ChannelStatus::Success
        );
        let nz = br#"{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#;
        assert_eq!(decode_status(nz), ChannelStatus::ExitCode(3));
        assert_eq!(
            decode_status(br#"{"status":"Failure","reason":"NonZeroExitCode"}"#),
            ChannelStatus::Failure("error stream protocol error: details must be set".into())
        );
        assert_eq!(
            decode_status(
                br#"{"status":"Failure","message":"error attaching to container: boom"}"#
            ),
            ChannelStatus::Failure("error attaching to container: boom".into())
        );
        assert!(
            matches!(decode_status(b"{nope"), ChannelStatus::Failure(m) if m.starts_with("error stream protocol error:"))
        );
        assert_eq!(
            decode_status(br#"{"status":"Weird"}"#),
            ChannelStatus::Failure("error stream protocol error: unknown error".into())
        );
    }
}
