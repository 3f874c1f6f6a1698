//! Safe extraction. Nothing is written outside the destination, by construction:
//! - archive paths are split into components; absolute paths and any `..` are refused;
//! - every directory on the way is checked with `lstat` and must be a real directory: a
//!   symlink there is refused, whether the archive made it or it was already present, so no
//!   entry is ever written through a symlink (kubectl cp's CVE-2019-11246);
//! - files are created with `O_CREAT|O_EXCL|O_NOFOLLOW` after removing what was there, so
//!   neither a symlink nor a hard link at the final name redirects the write;
//! - a symlink is created only when its target, read lexically from its own directory,
//!   stays inside: relative, some leading `..` that do not climb above the destination,
//!   then names only (no `..` after a name, since the name may itself be a symlink);
//! - hard links must point to a regular file already inside; devices and fifos are refused.
//!
//! The checks are against a hostile archive, not against another local process racing the
//! extraction inside the destination. Owners are never restored.

use std::ffi::OsStr;
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::tar::{Entry, Kind, Reader};
use super::{ArchiveError, Reason, Summary, Warning};

/// Bounds on what a (possibly hostile) archive may make us write.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: u64,
    pub max_entry_bytes: u64,
    /// Bytes read from the stream, headers and skipped data included.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 1 << 20,
            max_entry_bytes: 16 << 30,
            max_total_bytes: 64 << 30,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct UnpackOptions {
    /// Restore modes (permission bits; setuid, setgid and sticky are dropped) and mtimes.
    /// Off (`--no-preserve`): modes go through the umask and mtimes are the time of the copy.
    pub preserve: bool,
    pub limits: Limits,
}

impl Default for UnpackOptions {
    fn default() -> Self {
        UnpackOptions {
            preserve: true,
            limits: Limits::default(),
        }
    }
}

/// Where entries land.
#[derive(Debug, Clone, Copy)]
pub enum Layout<'a> {
    /// As named, under the existing directory `dest` (`tar xf - -C dest`).
    Into,
    /// kubectl cp from a pod: `prefix` is the archive path of the copied file or directory
    /// (`NAME` of `tar cf - -C DIR NAME`), and it becomes `dest`. A directory's contents go
    /// into `dest` (created, with missing parents, as kubectl does; merged if it exists). A
    /// file is written as `dest`, or as `dest/NAME` when `dest` is an existing directory,
    /// as cp does (kubectl fails there: "is a directory"). Other entries are refused.
    Rename { prefix: &'a str },
}

/// The outer error stops the copy; the inner one refuses this entry only.
type Step<T> = Result<Result<T, Reason>, ArchiveError>;

#[derive(PartialEq)]
enum Top {
    Undecided,
    Dir,
    /// The copied path was a file: it is done and nothing may follow.
    FileDone,
}

struct Unpacker<'a> {
    dest: &'a Path,
    prefix: Option<Vec<Vec<u8>>>,
    top: Top,
    opts: UnpackOptions,
    warn: &'a mut dyn FnMut(&Warning),
    sum: Summary,
    buf: Vec<u8>,
    /// Directory modes and mtimes, applied at the end: children would change the mtime,
    /// and a read-only directory would block them.
    dirs: Vec<(PathBuf, u32, i64)>,
}

/// Extracts the tar stream `r` under `dest` (see [`Layout`]). Each refused entry goes to
/// `warn`, named, and is counted in [`Summary::warnings`]; the rest is extracted. Reading
/// stops at the end-of-archive marker. A truncated or corrupt stream, a crossed [`Limits`]
/// bound or an unusable `dest` stops everything with an error.
pub fn unpack<R: Read>(
    r: R,
    dest: &Path,
    layout: Layout,
    opts: &UnpackOptions,
    warn: &mut dyn FnMut(&Warning),
) -> Result<Summary, ArchiveError> {
    let mut u = Unpacker {
        dest,
        prefix: None,
        top: Top::Dir,
        opts: *opts,
        warn,
        sum: Summary::default(),
        buf: vec![0; 64 << 10],
        dirs: Vec::new(),
    };
    match layout {
        Layout::Into if !dest.is_dir() => {
            return Err(ArchiveError::Dest {
                path: dest.into(),
                what: "not a directory",
            })
        }
        Layout::Into => {}
        Layout::Rename { prefix } => {
            // Like kubectl's stripPathShortcuts: the remote path's `..` say nothing here.
            let p = components(prefix.as_bytes(), true).unwrap_or_default();
            u.prefix = Some(p.into_iter().map(<[u8]>::to_vec).collect());
            u.top = Top::Undecided;
        }
    }
    let mut rd = Reader::new(r, opts.limits.max_total_bytes);
    let mut count = 0u64;
    while let Some(e) = rd.next_entry()? {
        count += 1;
        if count > opts.limits.max_entries {
            return Err(ArchiveError::Limit {
                what: "entries",
                limit: opts.limits.max_entries,
            });
        }
        match u.entry(&mut rd, &e)? {
            Ok(()) => u.sum.entries += 1,
            Err(reason) => u.refuse(e.name(), reason),
        }
    }
    for (p, mode, mtime) in std::mem::take(&mut u.dirs).into_iter().rev() {
        let set = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY)
            .open(&p)
            .and_then(|d| attrs(&d, mode, mtime));
        if let Err(err) = set {
            u.refuse(p.display().to_string(), Reason::Local(err));
        }
    }
    Ok(u.sum)
}

/// An archive path's components; `.` and empty ones dropped. With `strip`, `..` and a
/// leading `/` are dropped too instead of refused (for the caller's own prefix).
fn components(p: &[u8], strip: bool) -> Result<Vec<&[u8]>, Reason> {
    if p.starts_with(b"/") && !strip {
        return Err(Reason::Absolute);
    }
    let mut v = Vec::new();
    for c in p.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." if strip => {}
            b".." => return Err(Reason::DotDot),
            c => v.push(c),
        }
    }
    Ok(v)
}

/// Whether symlink target `t`, in a directory `depth` levels below the root, stays inside.
fn link_stays_inside(t: &[u8], depth: usize) -> bool {
    if t.is_empty() || t.starts_with(b"/") {
        return false;
    }
    let (mut up, mut named) = (0, false);
    for c in t.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." if named => return false,
            b".." => up += 1,
            _ => named = true,
        }
    }
    up <= depth
}

fn show(rel: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(&rel.join(&b'/')).into_owned()
}

fn time(secs: i64) -> SystemTime {
    let d = Duration::from_secs(secs.unsigned_abs());
    let t = if secs < 0 {
        UNIX_EPOCH.checked_sub(d)
    } else {
        UNIX_EPOCH.checked_add(d)
    };
    t.unwrap_or(UNIX_EPOCH)
}

fn attrs(f: &File, mode: u32, mtime: i64) -> std::io::Result<()> {
    f.set_permissions(Permissions::from_mode(mode & 0o777))?;
    f.set_modified(time(mtime))
}

/// `root/rel...`, each step a real directory (created when missing and `create`).
fn walk(root: &Path, rel: &[Vec<u8>], create: bool) -> Result<PathBuf, Reason> {
    let mut p = root.to_path_buf();
    for (i, c) in rel.iter().enumerate() {
        p.push(OsStr::from_bytes(c));
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Reason::ThroughSymlink(show(&rel[..=i])))
            }
            Ok(_) => return Err(Reason::NotADirectory(show(&rel[..=i]))),
            Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir(&p).map_err(Reason::Local)?
            }
            Err(e) => return Err(Reason::Local(e)),
        }
    }
    Ok(p)
}

/// Makes room for a non-directory at `p`: removes a file or link there, never a directory.
fn clear(p: &Path) -> Result<(), Reason> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => Err(Reason::IsADirectory),
        Ok(_) => fs::remove_file(p).map_err(Reason::Local),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Reason::Local(e)),
    }
}

impl Unpacker<'_> {
    fn refuse(&mut self, path: String, reason: Reason) {
        self.sum.warnings += 1;
        (self.warn)(&Warning { path, reason });
    }

    fn fatal_mkdir(p: &Path) -> Result<(), ArchiveError> {
        fs::create_dir_all(p).map_err(|err| ArchiveError::Local {
            op: "create directory",
            path: p.into(),
            err,
        })
    }

    /// Maps an archive path to (root, components under it), deciding the kubectl cp layout
    /// on the first entry.
    fn place(&mut self, path: &[u8], kind: Kind) -> Step<(PathBuf, Vec<Vec<u8>>)> {
        let comps = match components(path, false) {
            Ok(c) => c,
            Err(r) => return Ok(Err(r)),
        };
        let mut rel: Vec<Vec<u8>> = comps.iter().map(|c| c.to_vec()).collect();
        let Some(prefix) = &self.prefix else {
            return Ok(Ok((self.dest.into(), rel)));
        };
        if !rel.starts_with(prefix) {
            return Ok(Err(Reason::NotUnderPrefix(show(prefix))));
        }
        rel.drain(..prefix.len());
        match self.top {
            Top::FileDone => return Ok(Err(Reason::AfterFile)),
            Top::Undecided if rel.is_empty() && kind == Kind::File && !prefix.is_empty() => {
                self.top = Top::FileDone;
                let base = prefix[prefix.len() - 1].clone();
                if self.dest.is_dir() {
                    return Ok(Ok((self.dest.into(), vec![base])));
                }
                let parent = match self.dest.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                Self::fatal_mkdir(parent)?;
                let name = self
                    .dest
                    .file_name()
                    .map_or(base, |n| n.as_bytes().to_vec());
                return Ok(Ok((parent.into(), vec![name])));
            }
            Top::Undecided if !rel.is_empty() || kind == Kind::Dir => {
                if self.dest.exists() && !self.dest.is_dir() {
                    return Err(ArchiveError::Dest {
                        path: self.dest.into(),
                        what: "not a directory, and the copied path is a directory",
                    });
                }
                Self::fatal_mkdir(self.dest)?;
                self.top = Top::Dir;
            }
            Top::Undecided => return Ok(Err(Reason::TopKind)),
            Top::Dir => {}
        }
        Ok(Ok((self.dest.into(), rel)))
    }

    fn entry<R: Read>(&mut self, rd: &mut Reader<R>, e: &Entry) -> Step<()> {
        let (root, rel) = match self.place(&e.path, e.kind)? {
            Ok(p) => p,
            Err(r) => return Ok(Err(r)),
        };
        let preserve = self.opts.preserve;
        let Some((name, parents)) = rel.split_last() else {
            // The destination itself: only a directory fits; its attributes are restored
            // only when it is the copied directory, not the user's `-C` directory.
            if e.kind != Kind::Dir {
                return Ok(Err(Reason::IsADirectory));
            }
            if preserve && self.prefix.is_some() {
                self.dirs.push((root, e.mode, e.mtime));
            }
            return Ok(Ok(()));
        };
        let p = match walk(&root, parents, true) {
            Ok(d) => d.join(OsStr::from_bytes(name)),
            Err(r) => return Ok(Err(r)),
        };
        Ok(match e.kind {
            Kind::File => return self.file(rd, &p, e),
            Kind::Dir => self.dir(&p, &rel, e),
            Kind::Symlink if !link_stays_inside(&e.link, parents.len()) => Err(
                Reason::SymlinkEscapes(String::from_utf8_lossy(&e.link).into_owned()),
            ),
            Kind::Symlink => clear(&p).and_then(|()| {
                std::os::unix::fs::symlink(OsStr::from_bytes(&e.link), &p).map_err(Reason::Local)
            }),
            Kind::HardLink => self.hard_link(&root, &p, e),
            Kind::Char => Err(Reason::Special("character device")),
            Kind::Block => Err(Reason::Special("block device")),
            Kind::Fifo => Err(Reason::Special("fifo")),
            Kind::Sparse => Err(Reason::Unsupported(b'S')),
            Kind::Other(c) => Err(Reason::Unsupported(c)),
        })
    }

    fn dir(&mut self, p: &Path, rel: &[Vec<u8>], e: &Entry) -> Result<(), Reason> {
        match fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => return Err(Reason::ThroughSymlink(show(rel))),
            Ok(_) => return Err(Reason::NotADirectory(show(rel))),
            Err(_) => DirBuilder::new()
                .mode(0o777)
                .create(p)
                .map_err(Reason::Local)?,
        }
        if self.opts.preserve {
            self.dirs.push((p.into(), e.mode, e.mtime));
        }
        Ok(())
    }

    fn file<R: Read>(&mut self, rd: &mut Reader<R>, p: &Path, e: &Entry) -> Step<()> {
        let limit = self.opts.limits.max_entry_bytes;
        if e.size > limit {
            return Ok(Err(Reason::TooLarge {
                size: e.size,
                limit,
            }));
        }
        if let Err(r) = clear(p) {
            return Ok(Err(r));
        }
        let preserve = self.opts.preserve;
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(if preserve { 0o600 } else { e.mode & 0o777 })
            .custom_flags(libc::O_NOFOLLOW)
            .open(p);
        let mut f = match f {
            Ok(f) => f,
            Err(err) => return Ok(Err(Reason::Local(err))),
        };
        loop {
            let n = rd.read(&mut self.buf).map_err(|err| rd.eof_err(err))?;
            if n == 0 {
                break;
            }
            if let Err(err) = f.write_all(&self.buf[..n]) {
                // The reader skips the rest; no half file is left to pass for a whole one.
                drop(f);
                let _ = fs::remove_file(p);
                return Ok(Err(Reason::Local(err)));
            }
            self.sum.bytes += n as u64;
        }
        if preserve {
            if let Err(err) = attrs(&f, e.mode, e.mtime) {
                return Ok(Err(Reason::Local(err)));
            }
        }
        Ok(Ok(()))
    }

    fn hard_link(&mut self, root: &Path, p: &Path, e: &Entry) -> Result<(), Reason> {
        let t = String::from_utf8_lossy(&e.link).into_owned();
        let outside = || Reason::HardLinkOutside(t.clone());
        let comps = components(&e.link, false).map_err(|_| outside())?;
        let mut rel: Vec<Vec<u8>> = comps.iter().map(|c| c.to_vec()).collect();
        if let Some(prefix) = &self.prefix {
            if !rel.starts_with(prefix) {
                return Err(outside());
            }
            rel.drain(..prefix.len());
        }
        let Some((name, parents)) = rel.split_last() else {
            return Err(Reason::HardLinkTarget(t));
        };
        let target = walk(root, parents, false)
            .map_err(|_| Reason::HardLinkTarget(t.clone()))?
            .join(OsStr::from_bytes(name));
        match fs::symlink_metadata(&target) {
            Ok(m) if m.is_file() => {}
            _ => return Err(Reason::HardLinkTarget(t)),
        }
        clear(p)?;
        fs::hard_link(&target, p).map_err(Reason::Local)
    }
}
