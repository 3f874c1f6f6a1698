//! Writing a local file or directory tree as a tar stream (kubectl cp's makeTar): symlinks
//! stored as symlinks, never followed; devices, fifos and sockets left out with a warning.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::tar::{self, Entry, Kind};
use super::{ArchiveError, Reason, Summary, Warning};

const BUF: usize = 64 << 10;

#[derive(Debug, Clone, Copy)]
pub struct PackOptions {
    /// Keep modes and numeric owners. Off (`--no-preserve`): owner 0, modes 0644/0755 by
    /// the execute bit, so the pod's tar applies its own umask and user.
    pub preserve: bool,
}

impl Default for PackOptions {
    fn default() -> Self {
        PackOptions { preserve: true }
    }
}

struct Packer<'a, W: Write> {
    out: BufWriter<W>,
    buf: Vec<u8>,
    opts: PackOptions,
    warn: &'a mut dyn FnMut(&Warning),
    sum: Summary,
}

/// Writes `src` (a file, directory tree or symlink) to `w` as a tar stream whose top entry
/// is named `name` (the name it gets on the other side, e.g. the destination's base name;
/// `""` or `.` archives a directory's contents as `./...`).
/// Directories are walked in name order, so the same tree gives the same archive.
pub fn pack<W: Write>(
    w: W,
    src: &Path,
    name: &str,
    opts: PackOptions,
    warn: &mut dyn FnMut(&Warning),
) -> Result<Summary, ArchiveError> {
    let md = fs::symlink_metadata(src).map_err(|err| ArchiveError::Local {
        op: "read",
        path: src.into(),
        err,
    })?;
    let mut p = Packer {
        out: BufWriter::with_capacity(BUF, w),
        buf: vec![0; BUF],
        opts,
        warn,
        sum: Summary::default(),
    };
    // As tar does: no leading `/` in the archive, and "" or "/" is the directory itself.
    let name = match name.trim_matches('/') {
        "" => ".",
        n => n,
    };
    p.walk(src, md, name.as_bytes().to_vec())?;
    tar::write_end(&mut p.out).map_err(ArchiveError::Write)?;
    p.out.flush().map_err(ArchiveError::Write)?;
    Ok(p.sum)
}

impl<W: Write> Packer<'_, W> {
    fn warn(&mut self, name: &[u8], reason: Reason) {
        self.sum.warnings += 1;
        (self.warn)(&Warning {
            path: String::from_utf8_lossy(name).into_owned(),
            reason,
        });
    }

    fn header(&mut self, e: &Entry) -> Result<(), ArchiveError> {
        self.sum.entries += 1;
        tar::write_header(&mut self.out, e).map_err(ArchiveError::Write)
    }

    fn walk(&mut self, path: &Path, md: fs::Metadata, name: Vec<u8>) -> Result<(), ArchiveError> {
        let ft = md.file_type();
        let kind = if ft.is_dir() {
            Kind::Dir
        } else if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_file() {
            Kind::File
        } else {
            self.warn(&name, Reason::Special("device, fifo and socket"));
            return Ok(());
        };
        let mut e = Entry::new(&name, kind);
        e.mtime = md.mtime();
        if self.opts.preserve {
            (e.mode, e.uid, e.gid) = (md.mode() & 0o7777, md.uid() as u64, md.gid() as u64);
        } else if kind != Kind::File || md.mode() & 0o111 != 0 {
            e.mode = 0o755;
        }
        match kind {
            Kind::Dir => {
                e.path.push(b'/');
                self.header(&e)?;
                let mut names: Vec<OsString> = match fs::read_dir(path) {
                    Ok(d) => d.filter_map(|d| d.ok().map(|d| d.file_name())).collect(),
                    Err(err) => {
                        self.warn(&name, Reason::Local(err));
                        return Ok(());
                    }
                };
                names.sort();
                for n in names {
                    let child = path.join(&n);
                    let cname = [&name[..], b"/", n.as_bytes()].concat();
                    match fs::symlink_metadata(&child) {
                        Ok(md) => self.walk(&child, md, cname)?,
                        Err(err) => self.warn(&cname, Reason::Local(err)),
                    }
                }
            }
            Kind::Symlink => match fs::read_link(path) {
                Ok(t) => {
                    e.link = t.as_os_str().as_bytes().to_vec();
                    self.header(&e)?;
                }
                Err(err) => self.warn(&name, Reason::Local(err)),
            },
            _ => match File::open(path) {
                Ok(f) => {
                    e.size = md.len();
                    self.header(&e)?;
                    self.data(f, &name, e.size)?;
                }
                Err(err) => self.warn(&name, Reason::Local(err)),
            },
        }
        Ok(())
    }

    /// Exactly `size` bytes, whatever the file does meanwhile: a file that shrinks or fails
    /// to read is padded with zeros (and a warning) so the stream stays well-formed.
    fn data(&mut self, mut f: File, name: &[u8], size: u64) -> Result<(), ArchiveError> {
        let mut left = size;
        let mut failed = None;
        while left > 0 && failed.is_none() {
            let n = left.min(BUF as u64) as usize;
            match f.read(&mut self.buf[..n]) {
                Ok(0) => break,
                Ok(k) => {
                    self.out
                        .write_all(&self.buf[..k])
                        .map_err(ArchiveError::Write)?;
                    left -= k as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => failed = Some(e),
            }
        }
        self.sum.bytes += size - left;
        let pad = left + tar::padding(size) as u64;
        self.buf.fill(0);
        let mut z = pad;
        while z > 0 {
            let n = z.min(BUF as u64) as usize;
            self.out
                .write_all(&self.buf[..n])
                .map_err(ArchiveError::Write)?;
            z -= n as u64;
        }
        match failed {
            Some(e) => self.warn(name, Reason::Local(e)),
            None if left > 0 => self.warn(name, Reason::Shrank(left)),
            None => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::tar::Reader;
    use crate::archive::tests::TempDir;

    fn names(src: &Path, name: &str) -> Vec<String> {
        let mut a = Vec::new();
        pack(&mut a, src, name, PackOptions::default(), &mut |w| {
            panic!("{w}")
        })
        .unwrap();
        let mut r = Reader::new(&a[..], u64::MAX);
        let mut v = Vec::new();
        while let Some(e) = r.next_entry().unwrap() {
            v.push(e.name());
        }
        v
    }

    #[test]
    fn archive_names_are_relative_and_ordered() {
        let t = TempDir::new("names");
        for f in ["b", "a", "c"] {
            fs::write(t.0.join(f), f).unwrap();
        }
        assert_eq!(names(&t.0, "/x/"), ["x/", "x/a", "x/b", "x/c"]);
        assert_eq!(names(&t.0, ""), ["./", "./a", "./b", "./c"]);
        assert_eq!(names(&t.0.join("a"), "dst/f"), ["dst/f"]);
    }

    /// A file that shrinks after its size went into the header is padded, not cut short.
    #[test]
    fn a_shrinking_file_keeps_the_stream_well_formed() {
        let t = TempDir::new("shrink");
        let p = t.0.join("f");
        fs::write(&p, [5u8; 600]).unwrap();
        let md = fs::symlink_metadata(&p).unwrap();
        fs::write(&p, [5u8; 100]).unwrap();
        let mut w = Vec::new();
        let mut packer = Packer {
            out: BufWriter::new(Vec::new()),
            buf: vec![0; BUF],
            opts: PackOptions::default(),
            warn: &mut |x: &Warning| w.push(x.to_string()),
            sum: Summary::default(),
        };
        packer.walk(&p, md, b"f".to_vec()).unwrap();
        let a = packer.out.into_inner().unwrap();
        assert_eq!(a.len(), 512 + 1024);
        assert_eq!(&a[512 + 99..512 + 101], [5, 0]);
        assert_eq!(
            w,
            ["\"f\": file shrank by 500 bytes while being read; padded with zeros"]
        );
    }
}
