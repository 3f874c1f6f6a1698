//! The local side of `kdebug cp`: kdebug writes and reads the tar stream itself, so the host
//! needs no `tar` and extraction is safe by construction (kubectl cp's CVE-2019-1002101 and
//! CVE-2019-11246 were both symlink/`..` escapes on extraction).
//!
//! - [`pack`] writes a file or directory tree as a tar stream (ustar, pax records for long
//!   names), readable by busybox tar in the pod and by GNU tar.
//! - [`unpack`] extracts a stream from busybox or GNU tar into a destination, refusing entry
//!   by entry what could write outside it; refusals go to a callback and are counted.
//!
//! Both stream with fixed buffers: memory does not grow with file size.

mod pack;
pub mod tar;
mod unpack;

use std::fmt;
use std::io;
use std::path::PathBuf;

pub use pack::{pack, PackOptions};
pub use unpack::{unpack, Layout, Limits, UnpackOptions};

/// A failure that stops the whole copy: the stream cannot be trusted or read any further,
/// or a bound was crossed.
#[derive(Debug)]
pub enum ArchiveError {
    /// Reading the tar stream failed.
    Read(io::Error),
    /// Writing the tar stream failed.
    Write(io::Error),
    /// The stream ended inside a header or a member, or before the end-of-archive marker.
    Truncated {
        offset: u64,
    },
    Checksum {
        offset: u64,
    },
    Header {
        offset: u64,
        what: &'static str,
    },
    /// Too many entries or bytes (see [`Limits`]).
    Limit {
        what: &'static str,
        limit: u64,
    },
    /// A local file or directory could not be read or created.
    Local {
        op: &'static str,
        path: PathBuf,
        err: io::Error,
    },
    /// The destination cannot take the copy (e.g. a file where a directory must go).
    Dest {
        path: PathBuf,
        what: &'static str,
    },
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ArchiveError::*;
        match self {
            Read(e) => write!(f, "failed to read the archive: {e}"),
            Write(e) => write!(f, "failed to write the archive: {e}"),
            Truncated { offset } => write!(f, "archive truncated at byte {offset}"),
            Checksum { offset } => write!(
                f,
                "bad tar header checksum at byte {offset}: corrupted or not a tar archive"
            ),
            Header { offset, what } => write!(f, "bad tar header at byte {offset}: {what}"),
            Limit { what, limit } => write!(f, "archive exceeds the limit of {limit} {what}"),
            Local { op, path, err } => write!(f, "failed to {op} {}: {err}", path.display()),
            Dest { path, what } => write!(f, "{}: {what}", path.display()),
        }
    }
}

impl std::error::Error for ArchiveError {}

/// Why one entry was refused (extraction) or left out (packing); the rest goes on.
#[derive(Debug)]
pub enum Reason {
    Absolute,
    DotDot,
    /// A component on the way is a symlink (from the archive or already there): never followed.
    ThroughSymlink(String),
    NotADirectory(String),
    /// A directory is where a file, link or device would go.
    IsADirectory,
    SymlinkEscapes(String),
    HardLinkOutside(String),
    HardLinkTarget(String),
    /// Device, fifo or socket: never extracted, never archived.
    Special(&'static str),
    Unsupported(u8),
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// kubectl cp layout: the entry is not the copied path or below it.
    NotUnderPrefix(String),
    /// kubectl cp layout: the copied path is a file, so nothing may follow it.
    AfterFile,
    /// kubectl cp layout: the copied path itself must be a file or a directory.
    TopKind,
    /// A local file changed size while being archived.
    Shrank(u64),
    Local(io::Error),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Reason::*;
        match self {
            Absolute => f.write_str("refused: absolute path"),
            DotDot => f.write_str("refused: path contains \"..\""),
            ThroughSymlink(p) => write!(f, "refused: its path goes through the symlink {p:?}"),
            NotADirectory(p) => write!(f, "refused: {p:?} is not a directory"),
            IsADirectory => f.write_str("refused: a directory of that name exists"),
            SymlinkEscapes(t) => write!(f, "refused: symlink target {t:?} leaves the destination"),
            HardLinkOutside(t) => write!(f, "refused: hard link to {t:?} outside the destination"),
            HardLinkTarget(t) => write!(
                f,
                "refused: hard link target {t:?} is not a file extracted here"
            ),
            Special(k) => write!(f, "skipped: {k} files are not copied"),
            Unsupported(c) => write!(f, "refused: unsupported tar entry type {:?}", *c as char),
            TooLarge { size, limit } => {
                write!(f, "refused: {size} bytes is over the limit of {limit}")
            }
            NotUnderPrefix(p) => write!(f, "refused: not under the copied path {p:?}"),
            AfterFile => f.write_str("refused: the copied path is a file, not a directory"),
            TopKind => f.write_str("refused: the copied path must be a file or a directory"),
            Shrank(n) => write!(
                f,
                "file shrank by {n} bytes while being read; padded with zeros"
            ),
            Local(e) => write!(f, "failed: {e}"),
        }
    }
}

/// One entry left out, by name: `"../x": refused: path contains ".."`.
#[derive(Debug)]
pub struct Warning {
    pub path: String,
    pub reason: Reason,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.path, self.reason)
    }
}

/// What a pack or unpack did; `warnings > 0` means the copy is incomplete (non-zero exit).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub entries: u64,
    /// File contents, not counting headers.
    pub bytes: u64,
    pub warnings: u64,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, UNIX_EPOCH};

    /// A fresh directory under the system temp dir, removed on drop.
    pub struct TempDir(pub PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> TempDir {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let p =
                std::env::temp_dir().join(format!("kdebug-tar-{}-{tag}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            // Read-only directories from the tests would stop remove_dir_all.
            let _ = Command::new("chmod")
                .arg("-R")
                .arg("u+rwx")
                .arg(&self.0)
                .status();
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn mtime(p: &Path, secs: u64) {
        let f = fs::OpenOptions::new().read(true).open(p).unwrap();
        f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
            .unwrap();
    }

    /// A tree with what a copy must keep: modes, mtimes, a symlink, an empty and a
    /// read-only directory, names longer than ustar's 100 and 255 bytes.
    pub fn sample_tree(root: &Path) {
        let long = "n".repeat(120);
        let deep = format!("{}/{}", "d".repeat(150), "e".repeat(150));
        for d in ["sub/empty", "ro", &deep] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        let files: [(&str, &[u8], u32); 5] = [
            ("run.sh", b"#!/bin/sh\necho hi\n", 0o755),
            ("secret", b"s3cret", 0o600),
            ("sub/data.bin", &[0, 1, 2, 255, 0, 10], 0o444),
            (&long, b"long", 0o644),
            ("ro/inside", b"x", 0o640),
        ];
        for (i, (n, data, mode)) in files.iter().enumerate() {
            let p = root.join(n);
            fs::write(&p, data).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(*mode)).unwrap();
            mtime(&p, 1_600_000_000 + i as u64);
        }
        fs::write(root.join(&deep).join("f"), b"deep").unwrap();
        symlink("sub/data.bin", root.join("link")).unwrap();
        symlink(format!("../{long}"), root.join("sub/up")).unwrap();
        for (i, d) in ["sub/empty", "sub", "ro", &deep].iter().enumerate() {
            mtime(&root.join(d), 1_500_000_000 + i as u64);
        }
        fs::set_permissions(root.join("ro"), fs::Permissions::from_mode(0o555)).unwrap();
        mtime(&root.join("ro"), 1_500_000_100);
    }

    /// (path, kind, mode, mtime, contents or link target) for every entry under `root`.
    pub fn listing(root: &Path) -> Vec<(String, char, u32, i64, Vec<u8>)> {
        fn go(root: &Path, p: &Path, out: &mut Vec<(String, char, u32, i64, Vec<u8>)>) {
            let mut names: Vec<_> = fs::read_dir(p)
                .unwrap()
                .map(|d| d.unwrap().path())
                .collect();
            names.sort();
            for c in names {
                let m = fs::symlink_metadata(&c).unwrap();
                let rel = c.strip_prefix(root).unwrap().display().to_string();
                let ft = m.file_type();
                if ft.is_symlink() {
                    let t = fs::read_link(&c).unwrap();
                    out.push((rel, 'l', 0, 0, t.as_os_str().as_encoded_bytes().to_vec()));
                } else if ft.is_dir() {
                    out.push((rel, 'd', m.mode() & 0o7777, m.mtime(), vec![]));
                    go(root, &c, out);
                } else {
                    out.push((
                        rel,
                        'f',
                        m.mode() & 0o7777,
                        m.mtime(),
                        fs::read(&c).unwrap(),
                    ));
                }
            }
        }
        let mut v = Vec::new();
        go(root, root, &mut v);
        v
    }

    fn no_warn(w: &Warning) {
        panic!("unexpected warning: {w}");
    }

    #[test]
    fn round_trip_keeps_contents_modes_mtimes_and_long_names() {
        let t = TempDir::new("rt");
        let src = t.0.join("src");
        sample_tree(&src);
        let mut a = Vec::new();
        let s = pack(&mut a, &src, "top", PackOptions::default(), &mut no_warn).unwrap();
        assert_eq!((s.entries, s.warnings), (14, 0));
        let out = t.0.join("out");
        fs::create_dir(&out).unwrap();
        let u = unpack(
            &a[..],
            &out,
            Layout::Into,
            &UnpackOptions::default(),
            &mut no_warn,
        )
        .unwrap();
        assert_eq!((u.entries, u.bytes, u.warnings), (14, s.bytes, 0));
        assert_eq!(listing(&out.join("top")), listing(&src));
        // The same tree gives the same archive.
        let mut b = Vec::new();
        pack(&mut b, &src, "top", PackOptions::default(), &mut no_warn).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn no_preserve_packs_neutral_modes_and_owners() {
        let t = TempDir::new("np");
        sample_tree(&t.0);
        let mut a = Vec::new();
        pack(
            &mut a,
            &t.0,
            "x",
            PackOptions { preserve: false },
            &mut no_warn,
        )
        .unwrap();
        let mut r = tar::Reader::new(&a[..], u64::MAX);
        let mut seen = 0;
        while let Some(e) = r.next_entry().unwrap() {
            let want = match (e.kind, e.name().as_str()) {
                (tar::Kind::File, "x/run.sh") | (tar::Kind::Dir | tar::Kind::Symlink, _) => 0o755,
                _ => 0o644,
            };
            assert_eq!((e.mode, e.uid, e.gid), (want, 0, 0), "{}", e.name());
            seen += 1;
        }
        assert_eq!(seen, 14);
    }

    #[test]
    fn pack_skips_fifos_with_a_warning_and_refuses_a_missing_source() {
        let t = TempDir::new("fifo");
        let c = std::ffi::CString::new(t.0.join("p").as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let mut seen = Vec::new();
        let s = pack(io::sink(), &t.0, "d", PackOptions::default(), &mut |w| {
            seen.push(w.to_string())
        })
        .unwrap();
        assert_eq!((s.entries, s.warnings), (1, 1));
        assert_eq!(
            seen,
            ["\"d/p\": skipped: device, fifo and socket files are not copied"]
        );
        let e = pack(
            io::sink(),
            &t.0.join("nope"),
            "n",
            PackOptions::default(),
            &mut no_warn,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("failed to read /"), "{e}");
    }

    /// A reader of `n` zero bytes, so a big member needs no big buffer in the test either.
    struct Zeros(u64);
    impl io::Read for Zeros {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            let n = b.len().min(self.0 as usize);
            b[..n].fill(0);
            self.0 -= n as u64;
            Ok(n)
        }
    }

    #[test]
    fn a_100_mb_file_streams_through_a_pipe() {
        const SIZE: u64 = 100 << 20;
        let t = TempDir::new("big");
        let src = t.0.join("big");
        fs::File::create(&src).unwrap().set_len(SIZE).unwrap();
        let (rd, wr) = io::pipe().unwrap();
        let s2 = src.clone();
        let packer =
            std::thread::spawn(move || pack(wr, &s2, "big", PackOptions::default(), &mut no_warn));
        let out = t.0.join("copy");
        let u = unpack(
            rd,
            &out,
            Layout::Rename { prefix: "big" },
            &UnpackOptions::default(),
            &mut no_warn,
        )
        .unwrap();
        assert_eq!(packer.join().unwrap().unwrap().bytes, SIZE);
        assert_eq!((u.entries, u.bytes), (1, SIZE));
        assert_eq!(fs::metadata(&out).unwrap().len(), SIZE);
        // And a hand-made member of 100 MB from a generator, never in memory.
        let mut e = tar::Entry::new(b"z", tar::Kind::File);
        e.size = SIZE;
        let mut h = Vec::new();
        tar::write_header(&mut h, &e).unwrap();
        let stream = io::Read::chain(io::Read::chain(&h[..], Zeros(SIZE)), &[0u8; 1024][..]);
        let out2 = TempDir::new("big2");
        let u = unpack(
            stream,
            &out2.0,
            Layout::Into,
            &UnpackOptions::default(),
            &mut no_warn,
        )
        .unwrap();
        assert_eq!(u.bytes, SIZE);
    }

    fn have(tool: &[&str]) -> bool {
        let ok = Command::new(tool[0])
            .args(&tool[1..])
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        // A silent skip would hide the interop layer: under CI a missing tool is a failure,
        // as a missing kubectl is for the differential tests.
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(
            ok || !ci,
            "{} is not installed, and CI is set",
            tool.join(" ")
        );
        if !ok {
            std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("skipped: {} is not installed\n", tool.join(" ")).as_bytes(),
            )
            .ok();
        }
        ok
    }

    fn run_with_stdin(cmd: &[&str], input: &[u8]) {
        use std::io::Write;
        let mut c = Command::new(cmd[0])
            .args(&cmd[1..])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(input).unwrap();
        assert!(c.wait().unwrap().success(), "{cmd:?}");
    }

    /// Our archive through `tool x`, and `tool c` through our extraction, both compared
    /// entry by entry with the source tree.
    fn interop(tool: &[&str], create_flags: &[&str]) {
        if !have(tool) {
            return;
        }
        let t = TempDir::new("interop");
        let src = t.0.join("src");
        sample_tree(&src);
        let mut a = Vec::new();
        pack(&mut a, &src, "top", PackOptions::default(), &mut no_warn).unwrap();
        let out = t.0.join("theirs");
        fs::create_dir(&out).unwrap();
        let x = [tool, &["xf", "-", "-C", out.to_str().unwrap()]].concat();
        run_with_stdin(&x, &a);
        // busybox tar restores no directory mtimes (its children change them after).
        let dirs_as_created = |mut v: Vec<(String, char, u32, i64, Vec<u8>)>| {
            if tool[0] == "busybox" {
                v.iter_mut().filter(|e| e.1 == 'd').for_each(|e| e.3 = 0);
            }
            v
        };
        assert_eq!(
            dirs_as_created(listing(&out.join("top"))),
            dirs_as_created(listing(&src)),
            "{tool:?} extracting ours"
        );

        let c = [
            tool,
            &["cf", "-"],
            create_flags,
            &["-C", t.0.to_str().unwrap(), "src"],
        ]
        .concat();
        let theirs = Command::new(c[0]).args(&c[1..]).output().unwrap();
        assert!(theirs.status.success(), "{c:?}");
        let ours = t.0.join("ours");
        let opts = UnpackOptions::default();
        let u = unpack(
            &theirs.stdout[..],
            &ours,
            Layout::Rename { prefix: "src" },
            &opts,
            &mut no_warn,
        )
        .unwrap();
        assert_eq!(u.warnings, 0);
        assert_eq!(listing(&ours), listing(&src), "ours extracting {c:?}");

        // A single file, as `kdebug cp POD:/dir/run.sh local-name` gets it.
        let c = [tool, &["cf", "-", "-C", src.to_str().unwrap(), "run.sh"]].concat();
        let theirs = Command::new(c[0]).args(&c[1..]).output().unwrap();
        let one = t.0.join("one");
        let layout = Layout::Rename { prefix: "run.sh" };
        unpack(&theirs.stdout[..], &one, layout, &opts, &mut no_warn).unwrap();
        let (a, b) = (
            fs::metadata(&one).unwrap(),
            fs::metadata(src.join("run.sh")).unwrap(),
        );
        assert_eq!((a.mode(), a.mtime()), (b.mode(), b.mtime()));
        assert_eq!(
            fs::read(&one).unwrap(),
            fs::read(src.join("run.sh")).unwrap()
        );
    }

    #[test]
    fn interop_gnu_tar() {
        interop(&["tar"], &[]);
        interop(&["tar"], &["--format=pax"]);
        interop(&["tar"], &["--format=gnu"]);
    }

    #[test]
    fn interop_busybox_tar() {
        interop(&["busybox", "tar"], &[]);
    }
}
