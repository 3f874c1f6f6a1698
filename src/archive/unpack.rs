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
    /// Modes and mtimes of the directories this copy created, applied once the stream has
    /// left them (children would change the mtime, and a read-only directory would block
    /// them), as GNU tar's delayed set-stat does. Only the chain of ancestors of the
    /// current entry waits here, so memory does not grow with the number of directories.
    dirs: Vec<(PathBuf, u32, i64)>,
    /// `dest` did not exist and was made by this copy (so the archive's mode applies to it).
    made_dest: bool,
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
        made_dest: false,
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
    u.leave_dirs_until(None);
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
    /// Applies the pending modes and mtimes of the directories `p` is not in (all of them
    /// with `None`), deepest first.
    fn leave_dirs_until(&mut self, p: Option<&Path>) {
        while let Some((d, mode, mtime)) = self.dirs.last() {
            if p.is_some_and(|p| p.starts_with(d)) {
                break;
            }
            let set = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY)
                .open(d)
                .and_then(|f| attrs(&f, *mode, *mtime));
            let shown = d.display().to_string();
            self.dirs.pop();
            if let Err(err) = set {
                self.refuse(shown, Reason::Local(err));
            }
        }
    }

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
                match fs::symlink_metadata(self.dest) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        return Err(ArchiveError::Dest {
                            path: self.dest.into(),
                            what: "not a directory, and the copied path is a directory",
                        })
                    }
                    Err(_) => self.made_dest = true,
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
            // only when this copy made it (never the user's `-C` or existing directory).
            if e.kind != Kind::Dir {
                return Ok(Err(Reason::IsADirectory));
            }
            self.leave_dirs_until(Some(&root));
            // Below whatever of it is pending: it is the ancestor of every entry.
            if preserve && self.made_dest && !self.dirs.iter().any(|d| d.0 == root) {
                self.dirs.insert(0, (root, e.mode, e.mtime));
            }
            return Ok(Ok(()));
        };
        // Refusals that need no look at the disk come first: a refused entry creates nothing.
        let pure = match e.kind {
            Kind::Symlink if !link_stays_inside(&e.link, parents.len()) => Err(
                Reason::SymlinkEscapes(String::from_utf8_lossy(&e.link).into_owned()),
            ),
            Kind::File if e.size > self.opts.limits.max_entry_bytes => Err(Reason::TooLarge {
                size: e.size,
                limit: self.opts.limits.max_entry_bytes,
            }),
            Kind::Char => Err(Reason::Special("character device")),
            Kind::Block => Err(Reason::Special("block device")),
            Kind::Fifo => Err(Reason::Special("fifo")),
            Kind::Sparse => Err(Reason::Unsupported(b'S')),
            Kind::Other(c) => Err(Reason::Unsupported(c)),
            _ => Ok(()),
        };
        if let Err(r) = pure {
            return Ok(Err(r));
        }
        let p = match walk(&root, parents, true) {
            Ok(d) => {
                self.leave_dirs_until(Some(&d));
                d.join(OsStr::from_bytes(name))
            }
            Err(r) => return Ok(Err(r)),
        };
        Ok(match e.kind {
            Kind::File => return self.file(rd, &p, e),
            Kind::Dir => self.dir(&p, &rel, e),
            Kind::Symlink => clear(&p).and_then(|()| {
                std::os::unix::fs::symlink(OsStr::from_bytes(&e.link), &p).map_err(Reason::Local)
            }),
            _ => self.hard_link(&root, &p, e),
        })
    }

    fn dir(&mut self, p: &Path, rel: &[Vec<u8>], e: &Entry) -> Result<(), Reason> {
        match fs::symlink_metadata(p) {
            // A directory that was there keeps its own mode and mtime.
            Ok(m) if m.is_dir() => return Ok(()),
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
        // On any failure no half file is left to pass for a whole one.
        let gone = |f: File| {
            drop(f);
            let _ = fs::remove_file(p);
        };
        loop {
            let n = match rd.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) => {
                    gone(f);
                    return Err(rd.eof_err(err));
                }
            };
            if let Err(err) = f.write_all(&self.buf[..n]) {
                gone(f);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::tar::tests::member;
    use crate::archive::tests::{listing, TempDir};
    use std::os::unix::fs::MetadataExt;

    fn end(mut a: Vec<u8>) -> Vec<u8> {
        a.extend([0; 1024]);
        a
    }

    /// Extracts `a` into `t/dest` and returns the summary and the warnings, as printed.
    fn extract(
        t: &TempDir,
        a: &[u8],
        layout: Layout,
    ) -> (Result<Summary, ArchiveError>, Vec<String>) {
        let mut w = Vec::new();
        let dest = t.0.join("dest");
        let r = unpack(a, &dest, layout, &UnpackOptions::default(), &mut |x| {
            w.push(x.to_string())
        });
        (r, w)
    }

    fn dest_dir(tag: &str) -> TempDir {
        let t = TempDir::new(tag);
        fs::create_dir(t.0.join("dest")).unwrap();
        t
    }

    #[test]
    fn path_rules() {
        assert_eq!(components(b"./a//b/", false).unwrap(), [&b"a"[..], b"b"]);
        assert!(matches!(
            components(b"/etc/x", false),
            Err(Reason::Absolute)
        ));
        assert!(matches!(
            components(b"a/../../x", false),
            Err(Reason::DotDot)
        ));
        assert_eq!(components(b"/../a/./b", true).unwrap(), [&b"a"[..], b"b"]);
        assert!(link_stays_inside(b"../x", 1));
        assert!(link_stays_inside(b"sub/./x/", 0));
        assert!(link_stays_inside(b".", 0));
        assert!(!link_stays_inside(b"../x", 0));
        assert!(!link_stays_inside(b"/etc", 3));
        assert!(!link_stays_inside(b"", 3));
        // `b/..` is not `.` when `b` is itself a symlink: refused whatever the depth.
        assert!(!link_stays_inside(b"b/../x", 5));
    }

    /// Every classic escape, each refused by name; the good entries around them land, and
    /// nothing appears outside `dest` (the only other thing in `t` is the `outside` file).
    #[test]
    fn hostile_archive_is_refused_entry_by_entry() {
        let t = dest_dir("hostile");
        fs::write(t.0.join("outside"), b"keep").unwrap();
        let mut a = Vec::new();
        member(&mut a, b"first", b'0', b"1", b"");
        member(&mut a, b"/abs", b'0', b"x", b"");
        member(&mut a, b"../outside", b'0', b"pwned", b"");
        member(&mut a, b"a/../../outside", b'0', b"pwned", b"");
        member(&mut a, b"esc", b'2', b"", b"..");
        member(&mut a, b"abs", b'2', b"", b"/");
        member(&mut a, b"dir/sneaky", b'2', b"", b"../../outside");
        member(&mut a, b"sub", b'2', b"", b"first_dir");
        member(&mut a, b"first_dir/", b'5', b"", b"");
        member(&mut a, b"sub/through", b'0', b"no", b"");
        member(&mut a, b"hard", b'1', b"", b"../outside");
        member(&mut a, b"hard2", b'1', b"", b"/etc/passwd");
        member(&mut a, b"hard3", b'1', b"", b"sub");
        member(&mut a, b"null", b'3', b"", b"");
        member(&mut a, b"sda", b'4', b"", b"");
        member(&mut a, b"fifo", b'6', b"", b"");
        member(&mut a, b"odd", b'V', b"", b"");
        member(&mut a, b"first/x", b'0', b"", b"");
        member(&mut a, b"last", b'0', b"2", b"");
        member(&mut a, b"ok-link", b'1', b"", b"last");
        let (r, w) = extract(&t, &end(a), Layout::Into);
        let s = r.unwrap();
        assert_eq!(
            w,
            [
                r#""/abs": refused: absolute path"#,
                r#""../outside": refused: path contains "..""#,
                r#""a/../../outside": refused: path contains "..""#,
                r#""esc": refused: symlink target ".." leaves the destination"#,
                r#""abs": refused: symlink target "/" leaves the destination"#,
                r#""dir/sneaky": refused: symlink target "../../outside" leaves the destination"#,
                r#""sub/through": refused: its path goes through the symlink "sub""#,
                r#""hard": refused: hard link to "../outside" outside the destination"#,
                r#""hard2": refused: hard link to "/etc/passwd" outside the destination"#,
                r#""hard3": refused: hard link target "sub" is not a file extracted here"#,
                r#""null": skipped: character device files are not copied"#,
                r#""sda": skipped: block device files are not copied"#,
                r#""fifo": skipped: fifo files are not copied"#,
                r#""odd": refused: unsupported tar entry type 'V'"#,
                r#""first/x": refused: "first" is not a directory"#,
            ]
        );
        assert_eq!((s.entries, s.warnings), (5, 15));
        assert_eq!(fs::read(t.0.join("outside")).unwrap(), b"keep");
        let names: Vec<_> = fs::read_dir(&t.0)
            .unwrap()
            .map(|d| d.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        let got: Vec<_> = listing(&t.0.join("dest"))
            .into_iter()
            .map(|e| (e.0, e.1))
            .collect();
        let want = [
            ("first", 'f'),
            ("first_dir", 'd'),
            ("last", 'f'),
            ("ok-link", 'f'),
            ("sub", 'l'),
        ];
        assert_eq!(got, want.map(|(n, k)| (n.to_string(), k)));
        let (l, o) = (t.0.join("dest/last"), t.0.join("dest/ok-link"));
        assert_eq!(
            fs::metadata(l).unwrap().ino(),
            fs::metadata(o).unwrap().ino()
        );
    }

    /// What is already in the destination cannot redirect writes either: a symlink there is
    /// never walked through, and a file entry replaces a symlink instead of writing to its target.
    #[test]
    fn existing_symlinks_in_the_destination_are_not_followed() {
        let t = dest_dir("preexisting");
        fs::create_dir(t.0.join("elsewhere")).unwrap();
        fs::write(t.0.join("elsewhere/target"), b"keep").unwrap();
        std::os::unix::fs::symlink("../elsewhere", t.0.join("dest/dirlink")).unwrap();
        std::os::unix::fs::symlink("../elsewhere/target", t.0.join("dest/filelink")).unwrap();
        let mut a = Vec::new();
        member(&mut a, b"dirlink/target", b'0', b"pwned", b"");
        member(&mut a, b"dirlink/", b'5', b"", b"");
        member(&mut a, b"filelink", b'0', b"new", b"");
        let (r, w) = extract(&t, &end(a), Layout::Into);
        assert_eq!(r.unwrap().warnings, 2, "{w:?}");
        assert!(
            w[0].contains("goes through the symlink \"dirlink\""),
            "{w:?}"
        );
        assert_eq!(fs::read(t.0.join("elsewhere/target")).unwrap(), b"keep");
        assert_eq!(fs::read(t.0.join("dest/filelink")).unwrap(), b"new");
        assert!(!fs::symlink_metadata(t.0.join("dest/filelink"))
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[test]
    fn bounds_and_broken_streams_stop_or_refuse() {
        let t = dest_dir("bounds");
        let mut a = Vec::new();
        member(&mut a, b"big", b'0', &[1; 3000], b"");
        member(&mut a, b"small", b'0', b"ok", b"");
        let a = end(a);
        let mut opts = UnpackOptions::default();
        opts.limits.max_entry_bytes = 1000;
        let dest = t.0.join("dest");
        let mut w = Vec::new();
        let s = unpack(&a[..], &dest, Layout::Into, &opts, &mut |x| {
            w.push(x.to_string())
        })
        .unwrap();
        assert_eq!(
            w,
            [r#""big": refused: 3000 bytes is over the limit of 1000"#]
        );
        assert_eq!(fs::read(dest.join("small")).unwrap(), b"ok");
        assert!(!dest.join("big").exists());
        assert_eq!(s.entries, 1);

        opts.limits.max_entries = 1;
        let e = unpack(&a[..], &dest, Layout::Into, &opts, &mut |_| {}).unwrap_err();
        assert_eq!(e.to_string(), "archive exceeds the limit of 1 entries");
        opts.limits = Limits {
            max_total_bytes: 2048,
            ..Limits::default()
        };
        let e = unpack(&a[..], &dest, Layout::Into, &opts, &mut |_| {}).unwrap_err();
        assert!(
            matches!(e, ArchiveError::Limit { what: "bytes", .. }),
            "{e}"
        );

        // Cut inside the first member's data, and a corrupt header.
        let (r, _) = extract(&t, &a[..1500], Layout::Into);
        assert_eq!(r.unwrap_err().to_string(), "archive truncated at byte 1500");
        assert!(!dest.join("big").exists(), "no partial file");
        let mut bad = a.clone();
        bad[3584 + 1] ^= 1;
        let (r, _) = extract(&t, &bad, Layout::Into);
        assert_eq!(
            r.unwrap_err().to_string(),
            "bad tar header checksum at byte 3584: corrupted or not a tar archive"
        );
        let (r, _) = extract(&t, b"", Layout::Into);
        assert!(matches!(r, Err(ArchiveError::Truncated { offset: 0 })));
        let e = unpack(&a[..], &t.0.join("nope"), Layout::Into, &opts, &mut |_| {}).unwrap_err();
        assert!(e.to_string().ends_with("/nope: not a directory"), "{e}");
    }

    /// Directory modes are set once the stream leaves the directory (a read-only one still
    /// gets its children first); directories that were there keep theirs.
    #[test]
    fn directory_modes_apply_to_what_the_copy_made() {
        let t = dest_dir("dirmodes");
        let dest = t.0.join("dest");
        fs::create_dir(dest.join("old")).unwrap();
        fs::set_permissions(dest.join("old"), Permissions::from_mode(0o700)).unwrap();
        let mut a = Vec::new();
        for (name, mode, flag) in [
            (&b"ro/"[..], 0o555, Kind::Dir),
            (b"ro/f", 0o644, Kind::File),
            (b"ro/sub/", 0o750, Kind::Dir),
            (b"ro/sub/g", 0o600, Kind::File),
            (b"old/", 0o777, Kind::Dir),
            (b"other/", 0o711, Kind::Dir),
        ] {
            let mut e = Entry::new(name, flag);
            e.mode = mode;
            crate::archive::tar::write_header(&mut a, &e).unwrap();
        }
        let (r, w) = extract(&t, &end(a), Layout::Into);
        assert_eq!(r.unwrap().warnings, 0, "{w:?}");
        let mode = |p: &str| fs::metadata(dest.join(p)).unwrap().mode() & 0o777;
        assert_eq!(
            [mode("ro"), mode("ro/sub"), mode("old"), mode("other")],
            [0o555, 0o750, 0o700, 0o711]
        );
        assert!(dest.join("ro/sub/g").is_file());
    }

    #[test]
    fn no_preserve_applies_the_umask_and_keeps_copy_times() {
        let t = dest_dir("nopreserve");
        let mut a = Vec::new();
        let mut e = Entry::new(b"x", Kind::File);
        (e.mode, e.mtime, e.size) = (0o777, 1000, 1);
        crate::archive::tar::write_header(&mut a, &e).unwrap();
        a.extend(b"1");
        a.resize(1024, 0);
        let opts = UnpackOptions {
            preserve: false,
            ..UnpackOptions::default()
        };
        let dest = t.0.join("dest");
        unpack(&end(a)[..], &dest, Layout::Into, &opts, &mut |_| panic!()).unwrap();
        let m = fs::metadata(dest.join("x")).unwrap();
        let umask = unsafe { libc::umask(0o022) };
        unsafe { libc::umask(umask) };
        assert_eq!(m.mode() & 0o777, 0o777 & !umask);
        assert!(m.mtime() > 1000);
    }

    /// kubectl cp's naming: the copied path (`prefix`) becomes the destination.
    #[test]
    fn rename_layout_follows_kubectl_cp() {
        let mut file = Vec::new();
        member(&mut file, b"f.txt", b'0', b"data", b"");
        let file = end(file);
        let into_dir = dest_dir("rn-file-dir");
        let (r, w) = extract(&into_dir, &file, Layout::Rename { prefix: "f.txt" });
        assert_eq!((r.unwrap().entries, w.len()), (1, 0));
        assert_eq!(fs::read(into_dir.0.join("dest/f.txt")).unwrap(), b"data");
        let new_name = TempDir::new("rn-file-new");
        let (r, _) = extract(&new_name, &file, Layout::Rename { prefix: "f.txt" });
        r.unwrap();
        assert_eq!(fs::read(new_name.0.join("dest")).unwrap(), b"data");

        let mut dir = Vec::new();
        member(&mut dir, b"d/", b'5', b"", b"");
        member(&mut dir, b"d/a", b'0', b"A", b"");
        member(&mut dir, b"d/s/b", b'0', b"B", b"");
        member(&mut dir, b"dx/evil", b'0', b"", b"");
        member(&mut dir, b"other", b'0', b"", b"");
        member(&mut dir, b"d/l", b'2', b"", b"../escape");
        let dir = end(dir);
        for t in [TempDir::new("rn-dir-new"), dest_dir("rn-dir-merge")] {
            let (r, w) = extract(&t, &dir, Layout::Rename { prefix: "d" });
            assert_eq!(r.unwrap().entries, 3);
            assert_eq!(
                w,
                [
                    r#""dx/evil": refused: not under the copied path "d""#,
                    r#""other": refused: not under the copied path "d""#,
                    r#""d/l": refused: symlink target "../escape" leaves the destination"#,
                ]
            );
            assert_eq!(fs::read(t.0.join("dest/s/b")).unwrap(), b"B");
        }
        // A file where a directory must go, a file followed by more, a symlink as the top.
        let t = TempDir::new("rn-odd");
        fs::write(t.0.join("dest"), b"").unwrap();
        let (r, _) = extract(&t, &dir, Layout::Rename { prefix: "d" });
        assert!(r.unwrap_err().to_string().contains("not a directory"));
        let mut more = file[..1024].to_vec();
        member(&mut more, b"f.txt/x", b'0', b"", b"");
        let t = TempDir::new("rn-more");
        let (r, w) = extract(&t, &end(more), Layout::Rename { prefix: "/f.txt" });
        assert_eq!(
            (r.unwrap().entries, w[0].as_str()),
            (
                1,
                r#""f.txt/x": refused: the copied path is a file, not a directory"#
            )
        );
        let mut top = Vec::new();
        member(&mut top, b"l", b'2', b"", b"x");
        let (r, w) = extract(&t, &end(top), Layout::Rename { prefix: "l" });
        assert_eq!(
            (r.unwrap().warnings, w[0].as_str()),
            (
                1,
                r#""l": refused: the copied path must be a file or a directory"#
            )
        );
    }
}
