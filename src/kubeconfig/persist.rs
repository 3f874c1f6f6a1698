//! Writing refreshed OIDC tokens back into the kubeconfig file that defined the user, as
//! client-go's auth-provider persister does. Only the token scalars change: each is replaced
//! in the text at the position the YAML reader recorded (a new key gets one new line), so the
//! file's comments, order and quoting stay as they were. The write is atomic (a temporary
//! file in the same directory, renamed over the original, with its permissions).

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::text::yaml::{self, Data, Entry, Value};

#[derive(Debug)]
pub enum PersistError {
    /// The user was defined by no kubeconfig file (flags or the in-cluster configuration).
    NoFile,
    /// Not a regular file (stdin, a pipe, /dev/fd/N): there is nothing to write back to.
    NotAFile(PathBuf),
    /// The file (or its directory) cannot be written; `None`: its mode says so.
    ReadOnly(PathBuf, Option<std::io::Error>),
    /// The file no longer has the user's `auth-provider.config` in a form we can edit.
    Layout(PathBuf, LayoutError),
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::NoFile => f.write_str("the user comes from no kubeconfig file"),
            PersistError::NotAFile(p) => write!(f, "{} is not a regular file", p.display()),
            PersistError::ReadOnly(p, None) => {
                write!(f, "{} is read-only: no write permission", p.display())
            }
            PersistError::ReadOnly(p, Some(e)) => write!(f, "{} is read-only: {e}", p.display()),
            PersistError::Layout(p, why) => write!(f, "cannot edit {}: {why}", p.display()),
            PersistError::Io(p, e) => write!(f, "failed to write {}: {e}", p.display()),
        }
    }
}

/// Why the text cannot be edited in place (see [`edit`]).
#[derive(Debug)]
pub enum LayoutError {
    Yaml(yaml::YamlError),
    Empty,
    NotMapping { user: String },
    NoEntryToFollow,
    NotBlock,
    WouldBreak(yaml::YamlError),
    WouldEmpty,
    NoReadBack { key: String },
    NoUsers,
    NoUser(String),
    NoConfig(String),
    OutsideFile,
    OutsideLine,
    NotString,
    SpansLines,
    NotOneLine,
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::Yaml(e) => write!(f, "{e}"),
            LayoutError::Empty => f.write_str("the file is empty"),
            LayoutError::NotMapping { user } => {
                write!(
                    f,
                    "users[{user}].user.auth-provider.config is not a mapping"
                )
            }
            LayoutError::NoEntryToFollow => {
                f.write_str("the auth-provider config is empty; cannot place a new key")
            }
            LayoutError::NotBlock => f.write_str("the auth-provider config is not a block mapping"),
            LayoutError::WouldBreak(e) => write!(f, "the edit would break the file: {e}"),
            LayoutError::WouldEmpty => f.write_str("the edit would empty the file"),
            LayoutError::NoReadBack { key } => write!(f, "the edit of {key} did not read back"),
            LayoutError::NoUsers => f.write_str("the file has no users list"),
            LayoutError::NoUser(user) => write!(f, "the file has no user {user:?}"),
            LayoutError::NoConfig(user) => write!(f, "user {user:?} has no auth-provider config"),
            LayoutError::OutsideFile => f.write_str("a position outside the file"),
            LayoutError::OutsideLine => f.write_str("a position outside its line"),
            LayoutError::NotString => f.write_str("a token that is not a string"),
            LayoutError::SpansLines => f.write_str("a quoted token that spans lines"),
            LayoutError::NotOneLine => f.write_str("a token that is not written on one line"),
        }
    }
}

impl std::error::Error for PersistError {}

/// Sets `updates` (key, new value) in `users[name=user].user.auth-provider.config` of the
/// kubeconfig at `path`, changing nothing else in it.
pub fn write_auth_provider_config(
    path: &Path,
    user: &str,
    updates: &[(&str, &str)],
) -> Result<(), PersistError> {
    let io = |e: std::io::Error| PersistError::Io(path.to_path_buf(), e);
    // A config on stdin (/dev/stdin, a pipe) has no file to write to.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() || path.starts_with("/dev") || path.starts_with("/proc") {
        return Err(PersistError::NotAFile(path.to_path_buf()));
    }
    // Follow a symlink so the rename replaces the file, not the link.
    let real = std::fs::canonicalize(path).map_err(io)?;
    if meta.permissions().readonly() {
        return Err(PersistError::ReadOnly(path.to_path_buf(), None));
    }
    let text = std::fs::read_to_string(&real).map_err(io)?;
    let edited =
        edit(&text, user, updates).map_err(|why| PersistError::Layout(path.to_path_buf(), why))?;
    if edited == text {
        return Ok(());
    }
    let dir = real.parent().unwrap_or(Path::new("."));
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.kdebug-{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        // The original's mode before any token lands in the file.
        f.set_permissions(meta.permissions())?;
        f.write_all(edited.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &real)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            PersistError::ReadOnly(path.to_path_buf(), Some(e))
        } else {
            io(e)
        }
    })
}

/// The text with the updates applied (pure; see [`write_auth_provider_config`]).
pub fn edit(text: &str, user: &str, updates: &[(&str, &str)]) -> Result<String, LayoutError> {
    let root = yaml::parse(text.as_bytes(), "kubeconfig")
        .map_err(LayoutError::Yaml)?
        .ok_or(LayoutError::Empty)?;
    let config = find_config(&root, user)?;
    let Data::Object(entries) = &config.data else {
        return Err(LayoutError::NotMapping {
            user: user.to_string(),
        });
    };
    let lines = line_starts(text);
    // Replacements as (byte start, byte end, new text), applied from the end.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (key, new) in updates {
        match entries.iter().find(|e| e.key == *key) {
            Some(e) => {
                let (start, end) = scalar_span(text, &lines, &e.value)?;
                edits.push((start, end, scalar(new)));
            }
            None => {
                // A new key: one line after the mapping's last entry, at its indentation.
                let last = entries.last().ok_or(LayoutError::NoEntryToFollow)?;
                let (_, end) = scalar_span(text, &lines, &last.value)?;
                let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
                let line_start = lines[last.key_pos.line - 1];
                let indent = &text[line_start..offset(text, &lines, last.key_pos)?];
                if !indent.chars().all(|c| c == ' ') {
                    return Err(LayoutError::NotBlock);
                }
                edits.push((
                    line_end,
                    line_end,
                    format!("\n{indent}{key}: {}", scalar(new)),
                ));
            }
        }
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (start, end, new) in edits {
        out.replace_range(start..end, &new);
    }
    // Check the result reads back with exactly the new values.
    let back = yaml::parse(out.as_bytes(), "kubeconfig")
        .map_err(LayoutError::WouldBreak)?
        .ok_or(LayoutError::WouldEmpty)?;
    let cfg = find_config(&back, user)?;
    for (key, new) in updates {
        let got = cfg.get(key).map(|e| &e.value.data);
        if got != Some(&Data::String(new.to_string())) {
            return Err(LayoutError::NoReadBack {
                key: key.to_string(),
            });
        }
    }
    Ok(out)
}

fn find_config<'a>(root: &'a Value, user: &str) -> Result<&'a Value, LayoutError> {
    let users = match root.get("users").map(|e| &e.value.data) {
        Some(Data::Array(items)) => items,
        _ => return Err(LayoutError::NoUsers),
    };
    let entry = users
        .iter()
        .find(|u| matches!(u.get("name"), Some(Entry { value: Value { data: Data::String(n), .. }, .. }) if n == user))
        .ok_or_else(|| LayoutError::NoUser(user.to_string()))?;
    entry
        .get("user")
        .and_then(|u| u.value.get("auth-provider"))
        .and_then(|a| a.value.get("config"))
        .map(|c| &c.value)
        .ok_or_else(|| LayoutError::NoConfig(user.to_string()))
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// The byte offset of a 1-based line and character column.
fn offset(text: &str, lines: &[usize], pos: yaml::Pos) -> Result<usize, LayoutError> {
    let start = *lines
        .get(pos.line.wrapping_sub(1))
        .ok_or(LayoutError::OutsideFile)?;
    let line = &text[start..];
    let col = line
        .char_indices()
        .nth(pos.col - 1)
        .map(|(i, _)| i)
        .ok_or(LayoutError::OutsideLine)?;
    Ok(start + col)
}

/// Where a one-line scalar (plain, 'single' or "double" quoted) is written.
fn scalar_span(text: &str, lines: &[usize], v: &Value) -> Result<(usize, usize), LayoutError> {
    let Data::String(old) = &v.data else {
        return Err(LayoutError::NotString);
    };
    let start = offset(text, lines, v.pos)?;
    let rest = &text[start..];
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let len = match line.chars().next() {
        Some('\'') => line[1..].find('\'').map(|i| i + 2),
        Some('"') => {
            let mut esc = false;
            line[1..]
                .char_indices()
                .find(|&(_, c)| {
                    let end = c == '"' && !esc;
                    esc = c == '\\' && !esc;
                    end
                })
                .map(|(i, _)| i + 2)
        }
        // Plain: to a comment or the line's end, or in a flow mapping to `,` `}` `]`
        // (tokens have none of those; one that did fails the read-back check below).
        _ => Some(
            line.find(" #")
                .unwrap_or(line.len())
                .min(line.find([',', '}', ']']).unwrap_or(line.len()))
                .min(line.trim_end().len()),
        ),
    }
    .ok_or(LayoutError::SpansLines)?;
    // Only what reads back as the old value is replaced (a folded or aliased scalar is not).
    let written = &line[..len];
    let decoded = yaml::parse(format!("k: {written}\n").as_bytes(), "token")
        .ok()
        .flatten()
        .and_then(|d| d.get("k").map(|e| e.value.data.clone()));
    if decoded != Some(Data::String(old.clone())) {
        return Err(LayoutError::NotOneLine);
    }
    Ok((start, start + len))
}

/// A token as a YAML scalar: plain when it is made of token characters, else double-quoted.
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.~+/=".contains(c))
        && yaml::plain_resolves_to_string(s);
    if plain {
        s.to_string()
    } else {
        serde_json::Value::String(s.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
apiVersion: v1
kind: Config
# a comment that stays
users:
- name: other
  user:
    auth-provider:
      name: oidc
      config:
        id-token: other-token
- name: me
  user:
    auth-provider:
      config:
        client-id: kdebug   # the client
        id-token: \"old.id.token\"
        idp-issuer-url: https://issuer.example
        refresh-token: 'old-refresh'
      name: oidc
current-context: c
";

    #[test]
    fn only_the_tokens_change() {
        let out = edit(
            FILE,
            "me",
            &[
                ("id-token", "new.id.token"),
                ("refresh-token", "new-refresh"),
            ],
        )
        .unwrap();
        let changed: Vec<(&str, &str)> = FILE
            .lines()
            .zip(out.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(
            changed,
            [
                (
                    "        id-token: \"old.id.token\"",
                    "        id-token: new.id.token"
                ),
                (
                    "        refresh-token: 'old-refresh'",
                    "        refresh-token: new-refresh"
                ),
            ]
        );
        assert_eq!(FILE.lines().count(), out.lines().count());
    }

    #[test]
    fn a_missing_key_gets_one_line_and_odd_tokens_are_quoted() {
        let out = edit(FILE, "other", &[("refresh-token", "a b#c")]).unwrap();
        assert!(
            out.contains(
                "        id-token: other-token\n        refresh-token: \"a b#c\"\n- name: me"
            ),
            "{out}"
        );
        assert_eq!(out.lines().count(), FILE.lines().count() + 1);
    }

    #[test]
    fn refuses_what_it_cannot_edit_in_place() {
        assert!(edit(FILE, "nobody", &[("id-token", "x")]).is_err());
        let flow =
            "users:\n- name: me\n  user: {auth-provider: {name: oidc, config: {id-token: a}}}\n";
        // A flow mapping is edited in place when the key is there, refused for a new key.
        assert_eq!(
            edit(flow, "me", &[("id-token", "b")]).unwrap(),
            flow.replace("id-token: a", "id-token: b")
        );
        assert!(edit(flow, "me", &[("refresh-token", "b")]).is_err());
        let folded = "users:\n- name: me\n  user:\n    auth-provider:\n      config:\n        id-token: >\n          abc\n";
        assert!(edit(folded, "me", &[("id-token", "b")]).is_err());
    }

    #[test]
    fn writes_atomically_keeping_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("kdebug-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("config");
        std::fs::write(&f, FILE).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_auth_provider_config(&f, "me", &[("id-token", "n.e.w")]).unwrap();
        let meta = std::fs::metadata(&f).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert!(std::fs::read_to_string(&f)
            .unwrap()
            .contains("id-token: n.e.w"));
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary left"
        );
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert!(matches!(
            write_auth_provider_config(&f, "me", &[("id-token", "x")]),
            Err(PersistError::ReadOnly(..))
        ));
        assert!(matches!(
            write_auth_provider_config(Path::new("/dev/null"), "me", &[("id-token", "x")]),
            Err(PersistError::NotAFile(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
