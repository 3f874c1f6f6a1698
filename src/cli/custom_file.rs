//! The `--custom` file: read, decoded as kubectl decodes it (JSON first, then YAML), with
//! kubectl's messages.

use serde_json::Value;

use super::CliError;
use crate::text::yaml::YamlError;

/// A `--custom` file that cannot be used, in kubectl's words.
#[derive(Debug)]
pub enum CustomFileError {
    Open { path: String, cause: std::io::Error },
    TooLarge { path: String },
    Yaml { path: String, cause: YamlError },
}

impl std::fmt::Display for CustomFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CustomFileError::Open { path, cause } => {
                let why = match cause.kind() {
                    std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                    std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                    _ => cause.to_string(),
                };
                write!(
                    f,
                    "must pass a container spec json file for custom profile: open {path}: {why}"
                )
            }
            CustomFileError::TooLarge { path } => write!(
                f,
                "{path} does not contain a valid container spec: file is larger than {} bytes",
                crate::MAX_INPUT_BYTES
            ),
            CustomFileError::Yaml { path, cause } => write!(
                f,
                "{path} does not contain a valid container spec: {}",
                go_yaml_error(cause)
            ),
        }
    }
}

impl std::error::Error for CustomFileError {}

impl From<CustomFileError> for CliError {
    fn from(e: CustomFileError) -> CliError {
        CliError::CustomFile(e)
    }
}

/// Reads and decodes the `--custom` file: JSON first, then YAML, as kubectl does.
pub fn read(path: &str) -> Result<Option<Value>, CliError> {
    // Read at most one byte past the limit: a huge file (or /dev/zero) is refused, not loaded.
    let read = |path: &str| -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::fs::File::open(path)?
            .take(crate::MAX_INPUT_BYTES as u64 + 1)
            .read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    let bytes = read(path).map_err(|cause| CustomFileError::Open {
        path: path.to_string(),
        cause,
    })?;
    if bytes.len() > crate::MAX_INPUT_BYTES {
        return Err(CustomFileError::TooLarge {
            path: path.to_string(),
        }
        .into());
    }
    let value = match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => v,
        Err(_) => {
            crate::text::yaml::parse_value(&bytes, path).map_err(|cause| CustomFileError::Yaml {
                path: path.to_string(),
                cause,
            })?
        }
    };
    // An empty document decodes to nothing: no custom profile (kubectl).
    if value.is_null() {
        return Ok(None);
    }
    // kubectl decodes it into a Container here, in Complete, before any Validate check.
    crate::debug::custom::decode_file(path, &value).map_err(CliError::Debug)?;
    Ok(Some(value))
}

/// A YAML syntax error worded as sigs.k8s.io/yaml (go-yaml v2) words it: go-yaml names no
/// line for a problem on the first line (its lines count from 0 and 0 means "unknown").
fn go_yaml_error(e: &YamlError) -> String {
    let at = if e.pos.line > 1 {
        format!("line {}: ", e.pos.line)
    } else {
        String::new()
    };
    format!("error converting YAML to JSON: yaml: {at}{}", e.msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_yaml_errors_read_like_kubectl() {
        let dir = std::env::temp_dir().join(format!("kdebug-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("custom.txt");
        std::fs::write(&f, "this: is: not: [valid\n").unwrap();
        let path = f.to_string_lossy().into_owned();
        let e = read(&path).unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        // kubectl 1.33, same file.
        assert_eq!(
            e.to_string(),
            format!("{path} does not contain a valid container spec: error converting YAML to JSON: yaml: mapping values are not allowed in this context")
        );
    }

    #[test]
    fn custom_files_are_decoded_as_containers_when_read() {
        let dir = std::env::temp_dir().join(format!("kdebug-plan-dec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.json");
        std::fs::write(&f, r#"{"stdin": "yes"}"#).unwrap();
        let path = f.to_string_lossy().into_owned();
        let e = read(&path).unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        // kubectl 1.33, same file.
        assert_eq!(
            e.to_string(),
            format!("{path} does not contain a valid container spec: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field Container.stdin of type bool")
        );
    }
}
