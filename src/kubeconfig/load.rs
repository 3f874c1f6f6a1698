//! client-go's loading rules: which files, in which order, and how they merge.

use std::io;
use std::path::{Path, PathBuf};

use super::model::{self, Config};
use super::{KubeconfigError, LoadCause};

/// Where the kubeconfig comes from (client-go ClientConfigLoadingRules precedence).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sources {
    /// `--kubeconfig PATH`: only that file.
    Explicit(PathBuf),
    /// `KUBECONFIG`, split on ':' with empty and repeated entries dropped.
    Env(Vec<PathBuf>),
    /// `$HOME/.kube/config`.
    Default(PathBuf),
    /// Neither KUBECONFIG nor HOME is set.
    None,
}

/// Picks the files the way client-go does: an explicit path replaces everything, else
/// KUBECONFIG, else ~/.kube/config.
pub fn sources(
    explicit: Option<&Path>,
    kubeconfig_env: Option<&std::ffi::OsStr>,
    home: Option<&Path>,
) -> Sources {
    if let Some(p) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        return Sources::Explicit(p.to_path_buf());
    }
    if let Some(env) = kubeconfig_env.filter(|e| !e.is_empty()) {
        let mut out: Vec<PathBuf> = Vec::new();
        for part in std::env::split_paths(env) {
            // filepath.SplitList + deduplicate; empty entries are skipped when loading.
            if part.as_os_str().is_empty() || out.contains(&part) {
                continue;
            }
            out.push(part);
        }
        return Sources::Env(out);
    }
    match home {
        Some(h) if !h.as_os_str().is_empty() => Sources::Default(h.join(".kube").join("config")),
        _ => Sources::None,
    }
}

/// The sources for this process (reads KUBECONFIG and HOME).
pub fn sources_from_env(explicit: Option<&Path>) -> Sources {
    let env = std::env::var_os("KUBECONFIG");
    let home = std::env::var_os("HOME").map(PathBuf::from);
    sources(explicit, env.as_deref(), home.as_deref())
}

/// Go's wording for an I/O error ("open x: no such file or directory").
pub fn go_io_error(op: &str, path: &Path, e: &io::Error) -> String {
    let what = match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => "is a directory".to_string(),
        _ => {
            let s = e.to_string();
            let s = match s.find(" (os error") {
                Some(k) => s[..k].to_string(),
                None => s,
            };
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
    };
    format!("{op} {}: {what}", path.display())
}

/// Reads and decodes one file. `Ok(None)` when it does not exist (client-go skips those).
pub fn load_file(path: &Path) -> Result<Option<Config>, KubeconfigError> {
    let file = path.display().to_string();
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(KubeconfigError::Load {
                path: path.to_path_buf(),
                cause: LoadCause::Read(e),
            })
        }
    };
    model::load_bytes(&data, &file, path)
        .map(Some)
        .map_err(|e| KubeconfigError::Load {
            path: path.to_path_buf(),
            cause: LoadCause::Decode(e),
        })
}

/// Loads and merges the files of `sources`. A missing explicit file is an error
/// (`stat PATH: no such file or directory`) unless `missing_explicit_ok` (the `kubectl
/// config` commands treat it as an empty config).
pub fn load(sources: &Sources, missing_explicit_ok: bool) -> Result<Config, KubeconfigError> {
    let files: Vec<PathBuf> = match sources {
        Sources::Explicit(p) => {
            if std::fs::metadata(p).is_err_and(|e| e.kind() == io::ErrorKind::NotFound) {
                if missing_explicit_ok {
                    return Ok(Config::default());
                }
                return Err(KubeconfigError::Missing { path: p.clone() });
            }
            vec![p.clone()]
        }
        Sources::Env(list) => list.clone(),
        Sources::Default(p) => vec![p.clone()],
        Sources::None => Vec::new(),
    };
    let mut configs = Vec::new();
    let mut errors = Vec::new();
    for f in &files {
        match load_file(f) {
            Ok(Some(c)) => configs.push(c),
            Ok(None) => {
                if matches!(sources, Sources::Explicit(_)) && !missing_explicit_ok {
                    return Err(KubeconfigError::Missing { path: f.clone() });
                }
            }
            // client-go keeps going and reports every broken file together.
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Ok(merge(configs)),
        1 => Err(errors.remove(0)),
        _ => Err(KubeconfigError::Several(errors)),
    }
}

/// client-go's merge: for clusters, users, contexts and extensions the first file that names
/// an entry wins it whole; `current-context` is the first non-empty one; `colors: true`
/// anywhere wins (a false bool is "empty" to mergo and cannot override).
pub fn merge(configs: Vec<Config>) -> Config {
    let mut out = Config::default();
    for c in configs {
        for (k, v) in c.clusters {
            out.clusters.entry(k).or_insert(v);
        }
        for (k, v) in c.auth_infos {
            out.auth_infos.entry(k).or_insert(v);
        }
        for (k, v) in c.contexts {
            out.contexts.entry(k).or_insert(v);
        }
        for (k, v) in c.extensions {
            out.extensions.entry(k).or_insert(v);
        }
        for (k, v) in c.preferences.extensions {
            out.preferences.extensions.entry(k).or_insert(v);
        }
        out.preferences.colors |= c.preferences.colors;
        if out.current_context.is_empty() {
            out.current_context = c.current_context;
        }
    }
    out
}

/// Go's filepath.Clean for Unix paths.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// The absolute directory of the file an entry came from (client-go MakeAbs(path.Dir(origin))).
pub fn origin_dir(origin: &Path) -> PathBuf {
    let dir = origin.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let abs = if dir.is_absolute() {
        dir
    } else {
        std::env::current_dir().map(|c| c.join(&dir)).unwrap_or(dir)
    };
    PathBuf::from(clean(&abs.to_string_lossy()))
}

/// client-go ResolvePath: relative paths are joined to `base`; empty and absolute ones stay.
pub fn resolve_path(path: &str, base: &Path) -> String {
    if path.is_empty() || Path::new(path).is_absolute() {
        return path.to_string();
    }
    clean(&base.join(path).to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn precedence() {
        let home = Path::new("/home/u");
        assert_eq!(
            sources(Some(Path::new("x")), Some(OsStr::new("a:b")), Some(home)),
            Sources::Explicit("x".into())
        );
        assert_eq!(
            sources(None, Some(OsStr::new(":a::b:a:")), Some(home)),
            Sources::Env(vec![PathBuf::from("a"), PathBuf::from("b")])
        );
        assert_eq!(
            sources(None, None, Some(home)),
            Sources::Default("/home/u/.kube/config".into())
        );
        assert_eq!(sources(None, Some(OsStr::new("")), None), Sources::None);
    }

    #[test]
    fn go_clean() {
        assert_eq!(clean("/a/b/../c/./d/"), "/a/c/d");
        assert_eq!(clean("a/../../b"), "../b");
        assert_eq!(clean("/.."), "/");
        assert_eq!(resolve_path("../k", Path::new("/x/kube")), "/x/k");
        assert_eq!(resolve_path("/abs", Path::new("/x")), "/abs");
        assert_eq!(resolve_path("~/x", Path::new("/d")), "/d/~/x");
    }

    #[test]
    fn merge_first_wins() {
        let mut a = Config {
            current_context: String::new(),
            ..Default::default()
        };
        a.clusters.insert(
            "s".into(),
            model::Cluster {
                server: "a".into(),
                ..Default::default()
            },
        );
        let mut b = Config {
            current_context: "b".into(),
            ..Default::default()
        };
        b.clusters.insert(
            "s".into(),
            model::Cluster {
                server: "b".into(),
                insecure_skip_tls_verify: true,
                ..Default::default()
            },
        );
        b.preferences.colors = true;
        let m = merge(vec![a, b]);
        assert_eq!(m.clusters["s"].server, "a");
        assert!(!m.clusters["s"].insecure_skip_tls_verify);
        assert_eq!(m.current_context, "b");
        assert!(m.preferences.colors);
    }
}
