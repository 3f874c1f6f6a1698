//! The tar format: 512-byte headers (v7, POSIX ustar, GNU), GNU `L`/`K` long names and pax
//! `x`/`g` extended headers on reading; ustar plus pax records for what does not fit on
//! writing (GNU tar and busybox tar read both). Pure encoding and decoding, and a streaming
//! [`Reader`] that never holds more than one header or one extended-header record.

use std::io::{self, Read, Write};

use super::ArchiveError;

pub const BLOCK: usize = 512;
/// Longest pax record set or GNU long name accepted: busybox's own bound (0xfffff).
const MAX_META: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    HardLink,
    Symlink,
    Char,
    Block,
    Dir,
    Fifo,
    /// GNU sparse file ('S', or pax `GNU.sparse.*`): its data is not the file's bytes.
    Sparse,
    Other(u8),
}

impl Kind {
    fn from_flag(c: u8) -> Kind {
        match c {
            b'0' | 0 | b'7' => Kind::File,
            b'1' => Kind::HardLink,
            b'2' => Kind::Symlink,
            b'3' => Kind::Char,
            b'4' => Kind::Block,
            b'5' => Kind::Dir,
            b'6' => Kind::Fifo,
            b'S' => Kind::Sparse,
            c => Kind::Other(c),
        }
    }

    fn flag(self) -> u8 {
        match self {
            Kind::File => b'0',
            Kind::HardLink => b'1',
            Kind::Symlink => b'2',
            Kind::Char => b'3',
            Kind::Block => b'4',
            Kind::Dir => b'5',
            Kind::Fifo => b'6',
            Kind::Sparse => b'S',
            Kind::Other(c) => c,
        }
    }

    /// POSIX: these types carry no data whatever their size field says (Go's archive/tar
    /// reads them the same way).
    fn header_only(self) -> bool {
        matches!(
            self,
            Kind::HardLink | Kind::Symlink | Kind::Char | Kind::Block | Kind::Dir | Kind::Fifo
        )
    }
}

/// One archive member as the reader resolved it (long names and pax records applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: Vec<u8>,
    pub link: Vec<u8>,
    pub kind: Kind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: i64,
    pub size: u64,
}

impl Entry {
    pub fn new(path: &[u8], kind: Kind) -> Entry {
        Entry {
            path: path.to_vec(),
            link: Vec::new(),
            kind,
            mode: if kind == Kind::Dir { 0o755 } else { 0o644 },
            uid: 0,
            gid: 0,
            mtime: 0,
            size: 0,
        }
    }

    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }
}

/// Overrides from pax records ('x' for the next entry, 'g' for all that follow).
#[derive(Debug, Default, Clone)]
struct Pax {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    size: Option<u64>,
    mtime: Option<i64>,
    uid: Option<u64>,
    gid: Option<u64>,
    sparse: bool,
}

// ---- numbers ----

/// A numeric field: octal (space/NUL padded) or GNU base-256 (high bit set).
fn parse_num(f: &[u8]) -> Option<u64> {
    if f.first().is_some_and(|b| b & 0x80 != 0) {
        // Base-256; a negative value (0xff lead) is refused rather than wrapped.
        if f[0] == 0xff {
            return None;
        }
        let mut v: u64 = (f[0] & 0x7f) as u64;
        for &b in &f[1..] {
            v = v.checked_mul(256)?.checked_add(b as u64)?;
        }
        return Some(v);
    }
    let s = f
        .iter()
        .position(|&b| b != b' ' && b != 0)
        .unwrap_or(f.len());
    let mut v: u64 = 0;
    for &b in &f[s..] {
        match b {
            b'0'..=b'7' => v = v.checked_mul(8)?.checked_add((b - b'0') as u64)?,
            b' ' | 0 => break,
            _ => return None,
        }
    }
    Some(v)
}

/// Octal with a NUL terminator when it fits, else base-256 (GNU tar, busybox and Go read it).
fn put_num(f: &mut [u8], v: u64) {
    let digits = f.len() - 1;
    if digits >= 22 || v < 1u64 << (3 * digits) {
        let s = format!("{v:0digits$o}");
        f[..digits].copy_from_slice(s.as_bytes());
        f[digits] = 0;
    } else {
        f.fill(0);
        let n = f.len();
        for (i, b) in v.to_be_bytes().iter().rev().enumerate().take(n) {
            f[n - 1 - i] = *b;
        }
        f[0] |= 0x80;
    }
}

fn cstr(f: &[u8]) -> &[u8] {
    &f[..f.iter().position(|&b| b == 0).unwrap_or(f.len())]
}

/// Unsigned sum with the checksum field read as spaces, and the signed sum some old tars wrote.
fn checksums(h: &[u8; BLOCK]) -> (u64, i64) {
    let (mut u, mut s) = (0u64, 0i64);
    for (i, &b) in h.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        u += b as u64;
        s += b as i8 as i64;
    }
    (u, s)
}

// ---- pax records: "LEN key=value\n", LEN counting the whole record ----

fn parse_pax(mut d: &[u8], p: &mut Pax) -> Option<()> {
    while !d.is_empty() {
        let sp = d.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&d[..sp]).ok()?.parse().ok()?;
        if len <= sp + 1 || len > d.len() || d[len - 1] != b'\n' {
            return None;
        }
        let rec = &d[sp + 1..len - 1];
        let eq = rec.iter().position(|&b| b == b'=')?;
        let (k, v) = (&rec[..eq], &rec[eq + 1..]);
        let num = || std::str::from_utf8(v).ok();
        match k {
            b"path" => p.path = Some(v.to_vec()),
            b"linkpath" => p.link = Some(v.to_vec()),
            b"size" => p.size = Some(num()?.parse().ok()?),
            b"uid" => p.uid = Some(num()?.parse().ok()?),
            b"gid" => p.gid = Some(num()?.parse().ok()?),
            // Fractional seconds are dropped: mtimes are restored to the second.
            b"mtime" => p.mtime = Some(num()?.split('.').next()?.parse().ok()?),
            k if k.starts_with(b"GNU.sparse.") => p.sparse = true,
            _ => {}
        }
        d = &d[len..];
    }
    Some(())
}

fn pax_record(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    let body = key.len() + value.len() + 3;
    let mut len = body + 1;
    while body + len.to_string().len() != len {
        len += 1;
    }
    out.extend_from_slice(format!("{len} {key}=").as_bytes());
    out.extend_from_slice(value);
    out.push(b'\n');
}

// ---- writing ----

/// Splits a path into ustar (prefix, name), if it fits.
fn split_ustar(p: &[u8]) -> Option<(&[u8], &[u8])> {
    if p.len() <= 100 {
        return Some((&[], p));
    }
    (1..p.len().min(156))
        .filter(|&i| p[i] == b'/' && p.len() - i - 1 <= 100 && p.len() > i + 1)
        .map(|i| (&p[..i], &p[i + 1..]))
        .next()
}

fn header_block(e: &Entry, prefix: &[u8], name: &[u8], link: &[u8]) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name);
    put_num(&mut h[100..108], (e.mode & 0o7777) as u64);
    put_num(&mut h[108..116], e.uid);
    put_num(&mut h[116..124], e.gid);
    put_num(&mut h[124..136], e.size);
    put_num(&mut h[136..148], e.mtime.max(0) as u64);
    h[156] = e.kind.flag();
    h[157..157 + link.len()].copy_from_slice(link);
    h[257..265].copy_from_slice(b"ustar\x0000");
    h[345..345 + prefix.len()].copy_from_slice(prefix);
    let sum = format!("{:06o}\0 ", checksums(&h).0);
    h[148..156].copy_from_slice(sum.as_bytes());
    h
}

/// Zeros that pad `n` data bytes to a whole block.
pub fn padding(n: u64) -> usize {
    (BLOCK - (n % BLOCK as u64) as usize) % BLOCK
}

/// Writes the header(s) for `e`: a pax 'x' header first when the path or link target does
/// not fit ustar's fields. The caller writes `e.size` bytes of data and [`padding`] after it.
pub fn write_header(w: &mut dyn Write, e: &Entry) -> io::Result<()> {
    let split = split_ustar(&e.path);
    let long_link = e.link.len() > 100;
    if split.is_none() || long_link {
        let mut rec = Vec::new();
        if split.is_none() {
            pax_record(&mut rec, "path", &e.path);
        }
        if long_link {
            pax_record(&mut rec, "linkpath", &e.link);
        }
        let mut x = Entry::new(b"././@PaxHeader", Kind::Other(b'x'));
        x.size = rec.len() as u64;
        x.mtime = e.mtime;
        w.write_all(&header_block(&x, &[], &x.path, &[]))?;
        rec.resize(rec.len() + padding(x.size), 0);
        w.write_all(&rec)?;
    }
    // What did not fit is in the pax record; the ustar fields carry a truncated copy.
    let (prefix, name) = split.unwrap_or_else(|| (&[], &e.path[e.path.len() - 100..]));
    let link = &e.link[..e.link.len().min(100)];
    w.write_all(&header_block(e, prefix, name, link))
}

/// The end-of-archive marker: two zero blocks.
pub fn write_end(w: &mut dyn Write) -> io::Result<()> {
    w.write_all(&[0u8; 2 * BLOCK])
}

// ---- reading ----

/// Streams entries out of a tar archive. After [`Reader::next_entry`] returns an entry, reading
/// from the `Reader` yields that entry's data (and ends with it); the next call skips
/// whatever was not read.
pub struct Reader<R> {
    r: R,
    /// Bytes consumed from `r`: offsets in errors, and the total bound.
    pub pos: u64,
    left: u64,
    pad: u64,
    max_total: u64,
    global: Pax,
}

impl<R: Read> Reader<R> {
    pub fn new(r: R, max_total: u64) -> Reader<R> {
        Reader {
            r,
            pos: 0,
            left: 0,
            pad: 0,
            max_total,
            global: Pax::default(),
        }
    }

    pub(crate) fn eof_err(&self, e: io::Error) -> ArchiveError {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            ArchiveError::Truncated { offset: self.pos }
        } else {
            ArchiveError::Read(e)
        }
    }

    fn skip(&mut self, n: u64) -> Result<(), ArchiveError> {
        let got =
            io::copy(&mut (&mut self.r).take(n), &mut io::sink()).map_err(ArchiveError::Read)?;
        self.pos += got;
        if got < n {
            return Err(ArchiveError::Truncated { offset: self.pos });
        }
        Ok(())
    }

    /// Reads a whole block; `Ok(false)` on a clean end of stream before its first byte.
    fn block(&mut self, b: &mut [u8; BLOCK]) -> Result<bool, ArchiveError> {
        let mut n = 0;
        while n < BLOCK {
            match self.r.read(&mut b[n..]) {
                Ok(0) if n == 0 => return Ok(false),
                Ok(0) => {
                    return Err(ArchiveError::Truncated {
                        offset: self.pos + n as u64,
                    })
                }
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.eof_err(e)),
            }
        }
        self.pos += BLOCK as u64;
        Ok(true)
    }

    /// Reads a GNU long name or pax record set, bounded.
    fn meta(&mut self, size: u64) -> Result<Vec<u8>, ArchiveError> {
        if size > MAX_META {
            return Err(ArchiveError::Header {
                offset: self.pos,
                what: "extended header over 1 MiB",
            });
        }
        let mut d = vec![0; size as usize];
        self.r.read_exact(&mut d).map_err(|e| self.eof_err(e))?;
        self.pos += size;
        self.skip(padding(size) as u64)?;
        Ok(d)
    }

    /// Whether a member of `size` data bytes whose header is at `at` ends within the total
    /// bound. Checked before anything of it is read or skipped: a size that overflows is a
    /// bad header (never wrapped into a short skip that would read data as headers, which
    /// GNU tar would not do), one past the bound a crossed limit.
    fn within_bounds(&self, at: u64, size: u64) -> Result<(), ArchiveError> {
        let end = at
            .checked_add(BLOCK as u64)
            .and_then(|n| n.checked_add(size))
            .and_then(|n| n.checked_add(padding(size) as u64))
            .ok_or(ArchiveError::Header {
                offset: at,
                what: "size out of range",
            })?;
        if end > self.max_total {
            return Err(ArchiveError::Limit {
                what: "bytes",
                limit: self.max_total,
            });
        }
        Ok(())
    }

    /// The next entry, or `None` at the end-of-archive marker. A stream that ends without
    /// the marker is truncated: a cut-off transfer must not pass for a complete copy.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, ArchiveError> {
        // Both were bounded by `within_bounds` when the header was read.
        self.skip(self.left.saturating_add(self.pad))?;
        self.left = 0;
        self.pad = 0;
        let mut local = self.global.clone();
        let (mut long_path, mut long_link) = (None, None);
        let mut h = [0u8; BLOCK];
        loop {
            let at = self.pos;
            if !self.block(&mut h)? {
                return Err(ArchiveError::Truncated { offset: at });
            }
            if h.iter().all(|&b| b == 0) {
                // A lone zero block then EOF is accepted, as GNU tar does.
                return Ok(None);
            }
            let bad = |what| ArchiveError::Header { offset: at, what };
            let stored = parse_num(&h[148..156]).ok_or(bad("checksum field"))?;
            let (u, s) = checksums(&h);
            if stored != u && stored as i64 != s {
                return Err(ArchiveError::Checksum { offset: at });
            }
            let size = parse_num(&h[124..136]).ok_or(bad("size field"))?;
            self.within_bounds(at, size)?;
            let flag = h[156];
            match flag {
                b'x' | b'g' => {
                    let d = self.meta(size)?;
                    let target = if flag == b'x' {
                        &mut local
                    } else {
                        &mut self.global
                    };
                    parse_pax(&d, target).ok_or(bad("pax record"))?;
                    if flag == b'g' {
                        // A global path or size makes no sense for every entry that follows.
                        let g = &mut self.global;
                        (g.path, g.link, g.size) = (None, None, None);
                        local.mtime = g.mtime.or(local.mtime);
                        local.uid = g.uid.or(local.uid);
                        local.gid = g.gid.or(local.gid);
                    }
                    continue;
                }
                b'L' | b'K' => {
                    let mut d = self.meta(size)?;
                    d.truncate(cstr(&d).len());
                    *if flag == b'L' {
                        &mut long_path
                    } else {
                        &mut long_link
                    } = Some(d);
                    continue;
                }
                _ => {}
            }
            let posix = &h[257..263] == b"ustar\0";
            let mut path = cstr(&h[..100]).to_vec();
            let prefix = cstr(&h[345..500]);
            if posix && !prefix.is_empty() {
                path = [prefix, b"/", &path].concat();
            }
            let mut kind = Kind::from_flag(flag);
            // Pre-POSIX tars marked directories only by the trailing slash.
            if kind == Kind::File && flag != b'7' && path.ends_with(b"/") {
                kind = Kind::Dir;
            }
            if local.sparse {
                kind = Kind::Sparse;
            }
            let e = Entry {
                path: local.path.take().or(long_path).unwrap_or(path),
                link: local
                    .link
                    .take()
                    .or(long_link)
                    .unwrap_or(cstr(&h[157..257]).to_vec()),
                kind,
                mode: parse_num(&h[100..108]).ok_or(bad("mode field"))? as u32 & 0o7777,
                uid: local.uid.or(parse_num(&h[108..116])).unwrap_or(0),
                gid: local.gid.or(parse_num(&h[116..124])).unwrap_or(0),
                mtime: local
                    .mtime
                    .unwrap_or(parse_num(&h[136..148]).ok_or(bad("mtime field"))? as i64),
                size: local.size.unwrap_or(size),
            };
            let data = if kind.header_only() { 0 } else { e.size };
            self.within_bounds(at, data)?;
            self.left = data;
            self.pad = padding(data) as u64;
            return Ok(Some(e));
        }
    }
}

/// The current entry's data; ends (0) with it, `UnexpectedEof` if the stream ends first.
impl<R: Read> Read for Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.r.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n as u64;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A raw header block for hostile-archive tests: any name, type and size, valid checksum.
    pub fn raw(name: &[u8], flag: u8, size: u64, link: &[u8]) -> Vec<u8> {
        let mut e = Entry::new(name, Kind::from_flag(flag));
        e.size = size;
        e.link = link.to_vec();
        header_block(&e, &[], name, link).to_vec()
    }

    /// Appends an entry with data, padded.
    pub fn member(out: &mut Vec<u8>, name: &[u8], flag: u8, data: &[u8], link: &[u8]) {
        out.extend(raw(name, flag, data.len() as u64, link));
        out.extend_from_slice(data);
        out.resize(out.len() + padding(data.len() as u64), 0);
    }

    fn read_all(a: &[u8]) -> Result<Vec<(Entry, Vec<u8>)>, ArchiveError> {
        let mut r = Reader::new(a, u64::MAX);
        let mut v = Vec::new();
        while let Some(e) = r.next_entry()? {
            let mut d = Vec::new();
            r.read_to_end(&mut d).map_err(|e| r.eof_err(e))?;
            v.push((e, d));
        }
        Ok(v)
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_num(b"0000644\0"), Some(0o644));
        assert_eq!(parse_num(b"   644 \0"), Some(0o644));
        assert_eq!(parse_num(b"\0\0\0\0"), Some(0));
        assert_eq!(parse_num(b"12x"), None);
        let mut f = [0u8; 12];
        put_num(&mut f, 0o777);
        assert_eq!(&f, b"00000000777\0");
        // 16 GiB does not fit 11 octal digits: base-256.
        put_num(&mut f, 16 << 30);
        assert_eq!(f[0], 0x80);
        assert_eq!(parse_num(&f), Some(16 << 30));
        let mut m = [0u8; 8];
        put_num(&mut m, 3_000_000);
        assert_eq!(parse_num(&m), Some(3_000_000));
        assert_eq!(parse_num(&[0xff; 12]), None);
    }

    #[test]
    fn pax_records_round_trip() {
        let mut rec = Vec::new();
        pax_record(&mut rec, "path", b"a/b");
        assert_eq!(rec, b"12 path=a/b\n");
        // A record whose length crosses a digit boundary (9 -> 10 characters and beyond).
        let long = vec![b'x'; 95];
        pax_record(&mut rec, "linkpath", &long);
        let mut p = Pax::default();
        parse_pax(&rec, &mut p).unwrap();
        assert_eq!(p.path.as_deref(), Some(&b"a/b"[..]));
        assert_eq!(p.link, Some(long));
        parse_pax(b"20 mtime=1.5\n", &mut p);
        assert_eq!(p.mtime, None, "length mismatch is refused");
        parse_pax(b"15 mtime=12.50\n", &mut p).unwrap();
        assert_eq!(p.mtime, Some(12));
        assert!(parse_pax(b"5 a=b\nx", &mut Pax::default()).is_none());
    }

    #[test]
    fn ustar_split() {
        assert_eq!(split_ustar(b"a/b"), Some((&b""[..], &b"a/b"[..])));
        let p = [vec![b'd'; 120], b"/f".to_vec()].concat();
        assert_eq!(split_ustar(&p), Some((&p[..120], &b"f"[..])));
        assert_eq!(split_ustar(&[b'x'; 101]), None, "no slash");
        let p = [vec![b'd'; 160], b"/f".to_vec()].concat();
        assert_eq!(split_ustar(&p), None, "prefix over 155");
    }

    #[test]
    fn headers_round_trip_with_long_names() {
        let mut a = Vec::new();
        let names: [&[u8]; 3] = [
            b"short",
            &[b'n'; 150],
            &[[b'd'; 130].as_slice(), b"/", &[b'f'; 90]].concat(),
        ];
        for n in names {
            let mut e = Entry::new(n, Kind::Symlink);
            e.link = vec![b'l'; 200];
            e.mtime = 1_700_000_000;
            e.mode = 0o777;
            e.uid = 1000;
            write_header(&mut a, &e).unwrap();
        }
        let mut e = Entry::new(b"data", Kind::File);
        e.size = 3;
        write_header(&mut a, &e).unwrap();
        a.extend_from_slice(b"abc");
        a.resize(a.len() + padding(3), 0);
        write_end(&mut a).unwrap();
        let got = read_all(&a).unwrap();
        assert_eq!(got.len(), 4);
        for (n, (e, _)) in names.iter().zip(&got) {
            assert_eq!(&e.path, n);
            assert_eq!(e.link, vec![b'l'; 200]);
            assert_eq!(
                (e.kind, e.mode, e.uid, e.mtime),
                (Kind::Symlink, 0o777, 1000, 1_700_000_000)
            );
        }
        assert_eq!(got[3].1, b"abc");
    }

    #[test]
    fn gnu_long_names_and_pax_globals() {
        let mut a = Vec::new();
        let long = [b'x'; 300];
        member(
            &mut a,
            b"././@LongLink",
            b'L',
            &[&long[..], b"\0"].concat(),
            b"",
        );
        member(&mut a, b"././@LongLink", b'K', b"target\0", b"");
        member(&mut a, b"trunc", b'1', b"", b"t");
        member(&mut a, b"pax_global_header", b'g', b"15 mtime=12345\n", b"");
        member(&mut a, b"after", b'0', b"zz", b"");
        write_end(&mut a).unwrap();
        let got = read_all(&a).unwrap();
        assert_eq!(got[0].0.path, long);
        assert_eq!(
            (got[0].0.link.as_slice(), got[0].0.kind),
            (&b"target"[..], Kind::HardLink)
        );
        assert_eq!((got[1].0.mtime, got[1].1.as_slice()), (12345, &b"zz"[..]));
    }

    #[test]
    fn truncation_checksum_and_limits() {
        let mut a = Vec::new();
        member(&mut a, b"f", b'0', &[7; 1000], b"");
        write_end(&mut a).unwrap();
        assert!(read_all(&a).is_ok());
        for cut in [0, 100, 512, 700, 1536, 2047] {
            match read_all(&a[..cut]) {
                Err(ArchiveError::Truncated { .. }) => {}
                r => panic!("cut at {cut}: {r:?}"),
            }
        }
        let mut bad = a.clone();
        bad[0] = b'g';
        assert!(matches!(
            read_all(&bad),
            Err(ArchiveError::Checksum { offset: 0 })
        ));
        let mut r = Reader::new(&a[..], 1000);
        assert!(matches!(r.next_entry(), Err(ArchiveError::Limit { .. })));
        // A size that overflows is a bad header, not a wrapped skip (base-256 and pax).
        let mut h = raw(b"huge", b'0', 0, b"");
        h[124] = 0x80;
        h[125..128].fill(0);
        h[128..136].fill(0xff);
        let sum = checksums(h[..BLOCK].try_into().unwrap()).0;
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h.extend([0; 1024]);
        assert_eq!(
            read_all(&h).unwrap_err().to_string(),
            "bad tar header at byte 0: size out of range"
        );
        let mut p = Vec::new();
        member(&mut p, b"pax", b'x', b"29 size=18446744073709551615\n", b"");
        p.extend(raw(b"huge", b'0', 0, b""));
        p.extend([0; 1024]);
        assert_eq!(
            read_all(&p).unwrap_err().to_string(),
            "bad tar header at byte 1024: size out of range"
        );
        // Header-only types have no data whatever their size says.
        let mut d = raw(b"d/", b'5', 4096, b"");
        d.extend([0; 1024]);
        assert_eq!(read_all(&d).unwrap()[0].0.kind, Kind::Dir);
    }
}
