//! A YAML-subset reader that behaves like kubectl's `sigs.k8s.io/yaml` (go-yaml v2, YAML 1.1).
//!
//! Two stages, like kubectl: the text is parsed into a [`Node`] tree (syntax only, positions
//! kept), then [`Node`]s are converted into a [`Value`] (a JSON-shaped tree that still knows
//! where each value came from) with YAML 1.1 typing, merge keys, alias expansion and
//! sigs.k8s.io/yaml's map-key stringification. [`Value::to_json`] gives a `serde_json::Value`.
//!
//! The reader must never panic and never recurse without bound: nesting is capped at
//! [`MAX_DEPTH`] and alias expansion at [`MAX_EXPANDED_NODES`] / [`MAX_EXPANDED_BYTES`].

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// Deepest nesting of collections accepted (parsing and alias expansion alike).
pub const MAX_DEPTH: usize = 200;
/// Most nodes a document may expand to once aliases are followed (billion-laughs guard).
pub const MAX_EXPANDED_NODES: usize = 1_000_000;
/// Most scalar bytes a document may expand to once aliases are followed, beyond its own size.
pub const MAX_EXPANDED_BYTES: usize = 64 << 20;
/// go-yaml drops a "simple key" candidate once the ':' is more than 1024 characters away.
const MAX_IMPLICIT_KEY: usize = 1024;

/// A position in the source: 1-based line and column (columns count characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A syntax or typing error, naming the file, the line and the column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub file: String,
    pub pos: Pos,
    pub msg: String,
}

impl YamlError {
    /// The error without the file name: `line L, column C: what`.
    pub fn detail(&self) -> String {
        if self.pos.line == 0 {
            self.msg.clone()
        } else {
            format!(
                "line {}, column {}: {}",
                self.pos.line, self.pos.col, self.msg
            )
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to parse {:?}: {}", self.file, self.detail())
    }
}

impl std::error::Error for YamlError {}

// ---------------------------------------------------------------------------------------------
// Syntax tree
// ---------------------------------------------------------------------------------------------

/// How a scalar was written; only plain scalars are typed by their text (YAML 1.1 resolution).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

/// One parsed YAML node.
#[derive(Debug)]
pub struct Node {
    pub pos: Pos,
    /// The resolved tag (`tag:yaml.org,2002:str`, `!local`, ...), if one was written.
    pub tag: Option<String>,
    pub kind: NodeKind,
}

#[derive(Debug)]
pub enum NodeKind {
    Scalar(String, Style),
    Seq(Vec<Rc<Node>>),
    Map(Vec<(Rc<Node>, Rc<Node>)>),
    Alias(Rc<Node>),
}

const YAML_TAG: &str = "tag:yaml.org,2002:";

// ---------------------------------------------------------------------------------------------
// Typed tree (JSON-shaped, positions kept)
// ---------------------------------------------------------------------------------------------

/// A JSON-shaped value that remembers where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub pos: Pos,
    pub data: Data,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<Entry>),
}

/// One member of an object: the key (already a string) with its position, and the value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Value,
}

impl Value {
    /// The JSON type name as encoding/json says it in "cannot unmarshal X".
    pub fn kind_name(&self) -> &'static str {
        match self.data {
            Data::Null => "null",
            Data::Bool(_) => "bool",
            Data::Number(_) => "number",
            Data::String(_) => "string",
            Data::Array(_) => "array",
            Data::Object(_) => "object",
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.data, Data::Null)
    }

    /// Looks a key up in an object (keys are case-sensitive, like kubectl's decoder).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.data {
            Data::Object(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// Converts to `serde_json::Value`, keeping the document's key order.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.data {
            Data::Null => serde_json::Value::Null,
            Data::Bool(b) => serde_json::Value::Bool(*b),
            Data::Number(n) => serde_json::Value::Number(n.clone()),
            Data::String(s) => serde_json::Value::String(s.clone()),
            Data::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Data::Object(entries) => {
                let mut map = serde_json::Map::new();
                for e in entries {
                    map.insert(e.key.clone(), e.value.to_json());
                }
                serde_json::Value::Object(map)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/// Parses the first document of `src` into a typed tree (`None` for an empty document).
pub fn parse(src: &[u8], file: &str) -> Result<Option<Value>, YamlError> {
    // Recursion is bounded by MAX_DEPTH, but frames are large in debug builds and callers may
    // run on small thread stacks, so the work happens on a thread with a stack we choose.
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("yaml-reader".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || parse_here(src, file));
        match worker {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => parse_here(src, file),
        }
    })
}

/// Stack for the parsing thread: ample for MAX_DEPTH levels even in debug builds.
const PARSER_STACK: usize = 16 << 20;

pub(crate) fn parse_here(src: &[u8], file: &str) -> Result<Option<Value>, YamlError> {
    let chars = decode(src, file)?;
    let mut p = Parser::new(chars, file);
    let root = p.parse_stream()?;
    match root {
        None => Ok(None),
        Some(node) => {
            let mut conv = Converter {
                file,
                nodes: 0,
                bytes: 0,
                byte_budget: MAX_EXPANDED_BYTES + src.len(),
            };
            conv.value(&node, 0).map(Some)
        }
    }
}

/// Parses `src` (YAML 1.1 or JSON) into a `serde_json::Value` the way kubectl's
/// `sigs.k8s.io/yaml.YAMLToJSON` does; an empty document is `null`.
pub fn parse_value(src: &[u8], file: &str) -> Result<serde_json::Value, YamlError> {
    Ok(parse(src, file)?
        .map(|v| v.to_json())
        .unwrap_or(serde_json::Value::Null))
}

// ---------------------------------------------------------------------------------------------
// Decoding the bytes
// ---------------------------------------------------------------------------------------------

fn err_at(file: &str, pos: Pos, msg: impl Into<String>) -> YamlError {
    YamlError {
        file: file.to_string(),
        pos,
        msg: msg.into(),
    }
}

/// Bytes -> chars: BOM skipped, UTF-16 accepted (as go-yaml does), CRLF and CR -> LF, invalid
/// UTF-8 and control characters rejected with their line.
fn decode(src: &[u8], file: &str) -> Result<Vec<char>, YamlError> {
    let text: String = if src.len() >= 2 && (src[..2] == [0xFF, 0xFE] || src[..2] == [0xFE, 0xFF]) {
        let le = src[0] == 0xFF;
        let units: Vec<u16> = src[2..]
            .chunks(2)
            .map(|c| {
                let (a, b) = (c[0], *c.get(1).unwrap_or(&0));
                if le {
                    u16::from_le_bytes([a, b])
                } else {
                    u16::from_be_bytes([a, b])
                }
            })
            .collect();
        if !src.len().is_multiple_of(2) {
            return Err(err_at(file, Pos::default(), "incomplete UTF-16 character"));
        }
        String::from_utf16(&units)
            .map_err(|_| err_at(file, Pos::default(), "invalid UTF-16 surrogate pair"))?
    } else {
        let body = src.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(src);
        match std::str::from_utf8(body) {
            Ok(s) => s.to_string(),
            Err(e) => {
                let good = &body[..e.valid_up_to()];
                let line = 1 + good.iter().filter(|&&b| b == b'\n').count();
                let col = 1 + good.iter().rev().take_while(|&&b| b != b'\n').count();
                return Err(err_at(
                    file,
                    Pos { line, col },
                    "invalid UTF-8 byte sequence",
                ));
            }
        }
    };
    let mut out = Vec::with_capacity(text.len());
    let mut it = text.chars().peekable();
    let (mut line, mut col) = (1, 1);
    while let Some(c) = it.next() {
        let c = match c {
            '\r' => {
                if it.peek() == Some(&'\n') {
                    it.next();
                }
                '\n'
            }
            // YAML 1.1 also breaks lines at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR.
            '\u{85}' | '\u{2028}' | '\u{2029}' => '\n',
            c => c,
        };
        // The YAML 1.1 printable set, as go-yaml's reader checks it.
        let ok = matches!(c, '\t' | '\n' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
        if !ok {
            return Err(err_at(
                file,
                Pos { line, col },
                format!("control character U+{:04X} is not allowed", c as u32),
            ));
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
        out.push(c);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

/// Where a block node starts, which decides what may appear on the same line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    /// After `key:` — a mapping or `- ` on the same line is an error.
    Colon,
    /// After `- ` — compact nested mappings and sequences are allowed.
    Dash,
    /// After `---` or at the start of the stream.
    DocStart,
}

struct Parser<'f> {
    s: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
    file: &'f str,
    anchors: HashMap<String, Rc<Node>>,
    handles: HashMap<String, String>,
    depth: usize,
    /// The document's root is a flow collection (trailing content is another document).
    root_flow: bool,
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Blank, line break or end of input (`'\0'` stands for the end; NUL is rejected on input).
fn is_blankz(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\n' || c == '\0'
}

fn is_flow_indicator(c: char) -> bool {
    matches!(c, ',' | '[' | ']' | '{' | '}')
}

/// Characters allowed in anchor and alias names (go-yaml: alphanumerics, '-' and '_').
fn is_anchor_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

type PResult<T> = Result<T, YamlError>;

impl<'f> Parser<'f> {
    fn new(s: Vec<char>, file: &'f str) -> Self {
        let mut handles = HashMap::new();
        handles.insert("!".to_string(), "!".to_string());
        handles.insert("!!".to_string(), YAML_TAG.to_string());
        Parser {
            s,
            i: 0,
            line: 1,
            col: 0,
            file,
            anchors: HashMap::new(),
            handles,
            depth: 0,
            root_flow: false,
        }
    }

    fn at(&self, k: usize) -> char {
        self.s.get(self.i + k).copied().unwrap_or('\0')
    }

    fn c(&self) -> char {
        self.at(0)
    }

    fn eof(&self) -> bool {
        self.i >= self.s.len()
    }

    fn bump(&mut self) {
        if let Some(&c) = self.s.get(self.i) {
            self.i += 1;
            if c == '\n' {
                self.line += 1;
                self.col = 0;
            } else {
                self.col += 1;
            }
        }
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col + 1,
        }
    }

    fn save(&self) -> (usize, usize, usize) {
        (self.i, self.line, self.col)
    }

    fn restore(&mut self, s: (usize, usize, usize)) {
        self.i = s.0;
        self.line = s.1;
        self.col = s.2;
    }

    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err(err_at(self.file, self.pos(), msg))
    }

    fn err_pos<T>(&self, pos: Pos, msg: impl Into<String>) -> PResult<T> {
        Err(err_at(self.file, pos, msg))
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(format!(
                "document is nested more than {MAX_DEPTH} levels deep"
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `---` or `...` at column 0 followed by a blank or the end.
    fn at_doc_marker(&self) -> bool {
        self.col == 0
            && ((self.c() == '-' && self.at(1) == '-' && self.at(2) == '-')
                || (self.c() == '.' && self.at(1) == '.' && self.at(2) == '.'))
            && is_blankz(self.at(3))
    }

    fn skip_line_rest(&mut self) {
        while !self.eof() && self.c() != '\n' {
            self.bump();
        }
    }

    /// From the middle of a line: skips blanks and a comment. Returns true at a line end.
    fn skip_inline(&mut self) -> bool {
        while is_blank(self.c()) {
            self.bump();
        }
        if self.c() == '#' {
            self.skip_line_rest();
        }
        self.c() == '\n' || self.eof()
    }

    /// Skips blank and comment lines in block context until content or the end. Spaces are the
    /// only indentation: a tab at the start of a line cannot start a token (go-yaml).
    fn skip_to_content(&mut self) -> PResult<()> {
        loop {
            if !self.skip_inline() {
                return Ok(());
            }
            if self.eof() {
                return Ok(());
            }
            self.bump(); // the line break
            while self.c() == ' ' {
                self.bump();
            }
            if self.c() == '\t' {
                return self
                    .err("found a tab character used as indentation (only spaces may indent)");
            }
        }
    }

    // -- stream and documents ------------------------------------------------------------------

    fn parse_stream(&mut self) -> PResult<Option<Rc<Node>>> {
        let mut saw_directive = false;
        // Directives and comments before the first document.
        loop {
            self.skip_to_content_at_line_start()?;
            if self.eof() {
                return Ok(None);
            }
            if self.col == 0 && self.c() == '%' {
                self.directive()?;
                saw_directive = true;
                continue;
            }
            break;
        }
        let explicit = self.at_doc_marker() && self.c() == '-';
        if explicit {
            self.bump();
            self.bump();
            self.bump();
        } else if saw_directive {
            return self.err("did not find expected <document start> after the directives");
        }
        if !explicit && self.at_doc_marker() {
            // A lone `...`: an empty document.
            return Ok(None);
        }
        let root = self.block_node(-1, After::DocStart)?;
        self.skip_to_content()?;
        if !self.eof() && !self.at_doc_marker() {
            // Content left of a block root's column, or after a flow root, is an implicit
            // second document to go-yaml, and only the first document is used.
            let left_of_root = match root.as_ref().map(|n| (&n.kind, n.pos.col)) {
                Some((NodeKind::Map(_) | NodeKind::Seq(_), c)) => self.col + 1 < c,
                _ => false,
            };
            if self.root_flow || left_of_root {
                return Ok(root);
            }
            let msg = match root.as_ref().map(|n| &n.kind) {
                Some(NodeKind::Map(_)) => "did not find expected key",
                Some(NodeKind::Seq(_)) => "did not find expected '-' indicator",
                _ => "did not find expected <document start>",
            };
            return self.err(msg);
        }
        // Only the first document is used (sigs.k8s.io/yaml decodes one document).
        Ok(root)
    }

    /// Like [`Self::skip_to_content`] but also valid at the very start of the input.
    fn skip_to_content_at_line_start(&mut self) -> PResult<()> {
        if self.col == 0 {
            while self.c() == ' ' {
                self.bump();
            }
            if self.c() == '\t' {
                return self
                    .err("found a tab character used as indentation (only spaces may indent)");
            }
        }
        self.skip_to_content()
    }

    fn directive(&mut self) -> PResult<()> {
        let pos = self.pos();
        self.bump(); // '%'
        let mut name = String::new();
        while !is_blankz(self.c()) {
            name.push(self.c());
            self.bump();
        }
        let mut args = Vec::new();
        loop {
            while is_blank(self.c()) {
                self.bump();
            }
            if self.c() == '#' || self.c() == '\n' || self.eof() {
                break;
            }
            let mut a = String::new();
            while !is_blankz(self.c()) {
                a.push(self.c());
                self.bump();
            }
            args.push(a);
        }
        match name.as_str() {
            "YAML" => {
                // go-yaml v2 accepts only version 1.1.
                if args.first().map(String::as_str) != Some("1.1") {
                    return self.err_pos(
                        pos,
                        format!(
                            "found incompatible YAML document (version {}; only 1.1 is supported)",
                            args.first().map(String::as_str).unwrap_or("missing")
                        ),
                    );
                }
            }
            "TAG" => {
                if args.len() != 2 {
                    return self.err_pos(pos, "a %TAG directive needs a handle and a prefix");
                }
                self.handles.insert(args[0].clone(), args[1].clone());
            }
            _ => return self.err_pos(pos, format!("found unknown directive name %{name}")),
        }
        Ok(())
    }

    // -- block context -------------------------------------------------------------------------

    /// Parses a block node whose owner (mapping, sequence or document) sits at column
    /// `parent` (0-based, -1 for the document). Returns `None` for an empty node.
    fn block_node(&mut self, parent: isize, after: After) -> PResult<Option<Rc<Node>>> {
        self.enter()?;
        let r = self.block_node_inner(parent, after);
        self.leave();
        r
    }

    fn block_node_inner(&mut self, parent: isize, after: After) -> PResult<Option<Rc<Node>>> {
        // Tabs may separate `key:` from its value, but not `-` from the item (go-yaml).
        if after == After::Dash {
            let mut k = 0;
            while is_blank(self.at(k)) {
                if self.at(k) == '\t' {
                    return self.err("found a tab character after '-' (use spaces)");
                }
                k += 1;
            }
        }
        let start_line = self.line;
        self.skip_to_content()?;
        let mut new_line = self.line != start_line;
        if self.eof() || self.at_doc_marker() {
            return Ok(None);
        }
        if new_line && !self.continues_block(parent, after) {
            return Ok(None);
        }
        // Node properties: a tag and/or an anchor.
        let prop_pos = self.pos();
        let props_line = self.line;
        let (tag, anchor) = self.properties()?;
        let has_props = tag.is_some() || anchor.is_some();
        if has_props {
            let l = self.line;
            if self.skip_inline() {
                self.skip_to_content()?;
                if self.eof() || self.at_doc_marker() || !self.continues_block(parent, after) {
                    return Ok(Some(self.finish(empty_scalar(prop_pos, tag), anchor)));
                }
                new_line = true;
            } else if self.line != l {
                new_line = true;
            }
        }
        let pos = self.pos();
        let col = self.col as isize;
        let c = self.c();

        if c == '-' && is_blankz(self.at(1)) {
            if !(new_line || after == After::Dash || (after == After::DocStart && !has_props)) {
                return self.err("block sequence entries are not allowed in this context");
            }
            let node = self.block_seq(pos, tag)?;
            return Ok(Some(self.finish(node, anchor)));
        }
        let explicit_key = c == '?' && is_blankz(self.at(1));
        if explicit_key || self.implicit_key_here()? {
            if !(new_line || after != After::Colon) {
                return self.err("mapping values are not allowed in this context");
            }
            // Properties written on the key's own line belong to the first key (YAML spec).
            // go-yaml saves the simple key at the properties, so the mapping's column is theirs.
            let same_line = has_props && props_line == self.line;
            let (map_tag, map_anchor, key_props) = if same_line {
                (None, None, (tag, anchor))
            } else {
                (tag, anchor, (None, None))
            };
            let (col, pos) = if same_line {
                (prop_pos.col as isize - 1, prop_pos)
            } else {
                (col, pos)
            };
            let node = self.block_map(col, pos, map_tag, key_props)?;
            return Ok(Some(self.finish(node, map_anchor)));
        }
        let node = match c {
            '|' | '>' => self.block_scalar(parent, tag)?,
            '[' | '{' => {
                let n = self.flow_node()?;
                let n = match tag {
                    Some(t) => retag(n, t),
                    None => n,
                };
                if after == After::DocStart {
                    // Whatever follows a flow root starts another (ignored) document.
                    self.root_flow = true;
                } else {
                    self.check_after_value()?;
                }
                n
            }
            '*' => {
                if has_props {
                    return self.err("an alias cannot have a tag or an anchor");
                }
                let n = self.alias()?;
                self.check_after_value()?;
                return Ok(Some(n));
            }
            '"' | '\'' => {
                let text = self.quoted()?;
                self.check_after_value()?;
                Rc::new(Node {
                    pos,
                    tag,
                    kind: NodeKind::Scalar(text, Style::Quoted),
                })
            }
            _ => {
                self.check_plain_start()?;
                let text = self.plain(parent + 1, false)?;
                self.check_after_value()?;
                Rc::new(Node {
                    pos,
                    tag,
                    kind: NodeKind::Scalar(text, Style::Plain),
                })
            }
        };
        Ok(Some(self.finish(node, anchor)))
    }

    /// Whether content at the current column belongs to a node owned by column `parent`.
    fn continues_block(&self, parent: isize, after: After) -> bool {
        let col = self.col as isize;
        // A sequence may sit at its mapping key's own column ("indentless" sequence), but
        // only as a mapping value: after a bare `-` the next `-` is a sibling item.
        col > parent
            || (after == After::Colon && col == parent && self.c() == '-' && is_blankz(self.at(1)))
    }

    fn finish(&mut self, node: Rc<Node>, anchor: Option<String>) -> Rc<Node> {
        if let Some(a) = anchor {
            self.anchors.insert(a, node.clone());
        }
        node
    }

    /// After a complete value on a line, only a comment or the line end may follow.
    fn check_after_value(&mut self) -> PResult<()> {
        let l = self.line;
        while is_blank(self.c()) {
            self.bump();
        }
        if self.line != l || self.c() == '\n' || self.c() == '#' || self.eof() {
            return Ok(());
        }
        if self.c() == ':' && is_blankz(self.at(1)) {
            return self.err("mapping values are not allowed in this context");
        }
        self.err(format!("unexpected {:?} after a value", self.c()))
    }

    fn check_plain_start(&self) -> PResult<()> {
        let c = self.c();
        let bad = matches!(
            c,
            '@' | '`' | '%' | ',' | ']' | '}' | '#' | '&' | '!' | '|' | '>'
        ) || ((c == '-' || c == '?' || c == ':') && is_blankz(self.at(1)));
        if bad {
            return self.err(format!("found character {c:?} that cannot start any token"));
        }
        Ok(())
    }

    /// Reads `!tag` and `&anchor` in either order.
    fn properties(&mut self) -> PResult<(Option<String>, Option<String>)> {
        let (mut tag, mut anchor) = (None, None);
        loop {
            match self.c() {
                '!' if tag.is_none() => tag = Some(self.tag()?),
                '&' if anchor.is_none() => {
                    let pos = self.pos();
                    self.bump();
                    let mut name = String::new();
                    while is_anchor_char(self.c()) {
                        name.push(self.c());
                        self.bump();
                    }
                    if name.is_empty() || !(is_blankz(self.c()) || is_flow_indicator(self.c())) {
                        return self.err_pos(
                            pos,
                            "did not find expected alphabetic or numeric character in an anchor",
                        );
                    }
                    anchor = Some(name);
                }
                _ => return Ok((tag, anchor)),
            }
            while is_blank(self.c()) {
                self.bump();
            }
        }
    }

    fn tag(&mut self) -> PResult<String> {
        let pos = self.pos();
        self.bump(); // '!'
        if self.c() == '<' {
            self.bump();
            let mut t = String::new();
            while self.c() != '>' {
                if is_blankz(self.c()) {
                    return self.err_pos(pos, "did not find the expected '>' of a verbatim tag");
                }
                t.push(self.c());
                self.bump();
            }
            self.bump();
            return Ok(t);
        }
        let mut raw = String::from("!");
        while !is_blankz(self.c()) && !is_flow_indicator(self.c()) {
            raw.push(self.c());
            self.bump();
        }
        // Split into handle (`!`, `!!` or `!name!`) and suffix.
        let (handle, suffix) = match raw[1..].find('!') {
            Some(k) => (&raw[..k + 2], &raw[k + 2..]),
            None => ("!", &raw[1..]),
        };
        match self.handles.get(handle) {
            Some(prefix) => Ok(format!("{prefix}{suffix}")),
            None => self.err_pos(pos, format!("found undefined tag handle {handle}")),
        }
    }

    fn alias(&mut self) -> PResult<Rc<Node>> {
        let pos = self.pos();
        self.bump(); // '*'
        let mut name = String::new();
        while is_anchor_char(self.c()) {
            name.push(self.c());
            self.bump();
        }
        if name.is_empty() {
            return self.err_pos(
                pos,
                "did not find expected alphabetic or numeric character in an alias",
            );
        }
        match self.anchors.get(&name) {
            Some(target) => Ok(Rc::new(Node {
                pos,
                tag: None,
                kind: NodeKind::Alias(target.clone()),
            })),
            None => self.err_pos(pos, format!("unknown anchor '{name}' referenced")),
        }
    }

    /// Looks ahead on the current line: is there an implicit key (`key:` + blank) here?
    /// go-yaml only allows single-line keys of at most 1024 characters.
    fn implicit_key_here(&mut self) -> PResult<bool> {
        let start = self.save();
        let r = self.scan_key_candidate();
        let end_i = self.i;
        self.restore(start);
        let ok = r?;
        Ok(ok && end_i - start.0 <= MAX_IMPLICIT_KEY)
    }

    /// Scans a would-be key; true if it is followed by ':' and a blank. Leaves the position at
    /// the ':' when it is.
    fn scan_key_candidate(&mut self) -> PResult<bool> {
        let line = self.line;
        match self.c() {
            '"' | '\'' => {
                let q = self.c();
                self.bump();
                loop {
                    let c = self.c();
                    if c == '\n' || c == '\0' {
                        return Ok(false);
                    }
                    if q == '\'' && c == '\'' {
                        if self.at(1) == '\'' {
                            self.bump();
                            self.bump();
                            continue;
                        }
                        self.bump();
                        break;
                    }
                    if q == '"' && c == '\\' {
                        self.bump();
                        if self.c() == '\n' {
                            return Ok(false);
                        }
                        self.bump();
                        continue;
                    }
                    self.bump();
                    if c == '"' && q == '"' {
                        break;
                    }
                }
            }
            '*' => {
                self.bump();
                while is_anchor_char(self.c()) {
                    self.bump();
                }
            }
            '[' | '{' | '|' | '>' | '#' | '@' | '`' | '%' | ']' | '}' | ',' => return Ok(false),
            _ => loop {
                let c = self.c();
                if c == '\n' || c == '\0' {
                    return Ok(false);
                }
                if c == ':' && is_blankz(self.at(1)) {
                    break;
                }
                if is_blank(c) && self.at(1) == '#' {
                    return Ok(false);
                }
                self.bump();
            },
        }
        while is_blank(self.c()) {
            self.bump();
        }
        Ok(self.line == line && self.c() == ':' && is_blankz(self.at(1)))
    }

    fn block_seq(&mut self, pos: Pos, tag: Option<String>) -> PResult<Rc<Node>> {
        let col = self.col;
        let mut items = Vec::new();
        loop {
            // At '-' in column `col`.
            self.bump();
            let item = self.block_node(col as isize, After::Dash)?;
            let item_pos = self.pos();
            items.push(item.unwrap_or_else(|| empty_scalar(item_pos, None)));
            self.skip_to_content()?;
            if self.eof() || self.at_doc_marker() {
                break;
            }
            if self.col == col && self.c() == '-' && is_blankz(self.at(1)) {
                continue;
            }
            if self.col > col {
                return self.err("did not find expected '-' indicator");
            }
            break;
        }
        Ok(Rc::new(Node {
            pos,
            tag,
            kind: NodeKind::Seq(items),
        }))
    }

    fn block_map(
        &mut self,
        col: isize,
        pos: Pos,
        tag: Option<String>,
        first_key_props: (Option<String>, Option<String>),
    ) -> PResult<Rc<Node>> {
        let mut pairs = Vec::new();
        let mut key_props = first_key_props;
        loop {
            // At a key in column `col`.
            let key_pos = self.pos();
            if key_props.0.is_none() && key_props.1.is_none() {
                key_props = self.properties()?;
            }
            let (ktag, kanchor) = std::mem::take(&mut key_props);
            if self.c() == '?' && is_blankz(self.at(1)) && ktag.is_none() && kanchor.is_none() {
                // An explicit key (`? key` then `: value` on the next line, at this column).
                self.bump();
                let key = self
                    .block_node(col, After::Dash)?
                    .unwrap_or_else(|| empty_scalar(key_pos, None));
                self.skip_to_content()?;
                let value = if !self.eof()
                    && self.col as isize == col
                    && self.c() == ':'
                    && is_blankz(self.at(1))
                {
                    self.bump();
                    self.block_node(col, After::Dash)?
                } else {
                    None
                };
                let vpos = self.pos();
                pairs.push((key, value.unwrap_or_else(|| empty_scalar(vpos, None))));
                if self.next_key(col)? {
                    continue;
                }
                break;
            }
            let key = match self.c() {
                '*' => self.alias()?,
                '"' | '\'' => {
                    let text = self.quoted()?;
                    Rc::new(Node {
                        pos: key_pos,
                        tag: ktag,
                        kind: NodeKind::Scalar(text, Style::Quoted),
                    })
                }
                _ => {
                    let text = self.plain_key()?;
                    Rc::new(Node {
                        pos: key_pos,
                        tag: ktag,
                        kind: NodeKind::Scalar(text, Style::Plain),
                    })
                }
            };
            let key = self.finish(key, kanchor);
            while is_blank(self.c()) {
                self.bump();
            }
            if self.c() != ':' {
                return self.err("could not find expected ':'");
            }
            self.bump();
            let value = self.block_node(col, After::Colon)?;
            let vpos = self.pos();
            pairs.push((key, value.unwrap_or_else(|| empty_scalar(vpos, None))));
            if !self.next_key(col)? {
                break;
            }
        }
        Ok(Rc::new(Node {
            pos,
            tag,
            kind: NodeKind::Map(pairs),
        }))
    }

    /// After a mapping entry: true when another key of the mapping at `col` follows.
    fn next_key(&mut self, col: isize) -> PResult<bool> {
        self.skip_to_content()?;
        if self.eof() || self.at_doc_marker() {
            return Ok(false);
        }
        let here = self.col as isize;
        if here < col {
            return Ok(false);
        }
        if here > col {
            return self.err("did not find expected key (check the indentation)");
        }
        if self.c() == '?' && is_blankz(self.at(1)) {
            return Ok(true);
        }
        if !self.implicit_key_here()? {
            if self.c() == '-' && is_blankz(self.at(1)) {
                return self.err("did not find expected key (a '-' item where a key belongs)");
            }
            return self.err("could not find expected ':' (a key needs a colon and a space)");
        }
        Ok(true)
    }

    /// A plain key on one line (the caller checked it ends with ": ").
    fn plain_key(&mut self) -> PResult<String> {
        self.check_plain_start()?;
        let mut s = String::new();
        while !(self.c() == ':' && is_blankz(self.at(1))) && self.c() != '\n' && !self.eof() {
            s.push(self.c());
            self.bump();
        }
        Ok(s.trim_end_matches([' ', '\t']).to_string())
    }

    // -- scalars -------------------------------------------------------------------------------

    /// A plain scalar, possibly over several lines. In block context continuation lines must
    /// be indented to at least `min_col` (0-based); lines are folded (one break -> space,
    /// n breaks -> n-1 newlines), as YAML 1.1 says.
    fn plain(&mut self, min_col: isize, flow: bool) -> PResult<String> {
        let mut out = String::new();
        let mut end = self.save();
        loop {
            // One line of content.
            let mut spaces = String::new();
            loop {
                let c = self.c();
                if c == '\n' || c == '\0' {
                    break;
                }
                if c == ':' && (is_blankz(self.at(1)) || (flow && is_flow_indicator(self.at(1)))) {
                    break;
                }
                if flow && is_flow_indicator(c) {
                    break;
                }
                if is_blank(c) {
                    if self.at(1) == '#' {
                        break;
                    }
                    spaces.push(c);
                    self.bump();
                    continue;
                }
                out.push_str(&spaces);
                spaces.clear();
                out.push(c);
                self.bump();
                end = self.save();
            }
            if self.c() != '\n' {
                break;
            }
            // Look at the following lines: fold or stop.
            let mut breaks = 0;
            loop {
                self.bump(); // '\n'
                breaks += 1;
                while self.c() == ' '
                    || (self.c() == '\t' && (flow || self.col as isize >= min_col))
                {
                    self.bump();
                }
                if self.c() == '\t' {
                    return self.err("found a tab character that violates indentation");
                }
                if self.c() != '\n' {
                    break;
                }
            }
            let stop = self.eof()
                || self.at_doc_marker()
                || self.c() == '#'
                || (!flow && (self.col as isize) < min_col)
                || (flow && is_flow_indicator(self.c()))
                || (self.c() == ':' && is_blankz(self.at(1)));
            if stop {
                break;
            }
            if breaks == 1 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', breaks - 1));
            }
        }
        self.restore(end);
        Ok(out)
    }

    /// A single- or double-quoted scalar, possibly over several lines.
    fn quoted(&mut self) -> PResult<String> {
        let start = self.pos();
        let q = self.c();
        let single = q == '\'';
        self.bump();
        let mut out = String::new();
        loop {
            if self.at_doc_marker() {
                return self.err("found unexpected document indicator inside a quoted scalar");
            }
            if self.eof() {
                return self.err_pos(
                    start,
                    "found unexpected end of stream: the quoted scalar is never closed",
                );
            }
            let mut leading_blanks = false;
            // Non-blank characters.
            while !is_blankz(self.c()) {
                let c = self.c();
                if single && c == '\'' && self.at(1) == '\'' {
                    out.push('\'');
                    self.bump();
                    self.bump();
                } else if c == q {
                    break;
                } else if !single && c == '\\' && self.at(1) == '\n' {
                    self.bump();
                    self.bump();
                    leading_blanks = true;
                    break;
                } else if !single && c == '\\' {
                    self.escape(&mut out)?;
                } else {
                    out.push(c);
                    self.bump();
                }
            }
            if self.c() == q {
                self.bump();
                return Ok(out);
            }
            // Blanks and line breaks.
            let mut whitespace = String::new();
            let mut leading_break = false;
            let mut trailing_breaks = 0usize;
            while is_blank(self.c()) || self.c() == '\n' {
                if is_blank(self.c()) {
                    if !leading_blanks {
                        whitespace.push(self.c());
                    }
                    self.bump();
                } else {
                    self.bump();
                    if self.at_doc_marker() {
                        return self
                            .err("found unexpected document indicator inside a quoted scalar");
                    }
                    if !leading_blanks {
                        whitespace.clear();
                        leading_break = true;
                        leading_blanks = true;
                    } else {
                        trailing_breaks += 1;
                    }
                }
            }
            if leading_blanks {
                if leading_break && trailing_breaks == 0 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', trailing_breaks));
                }
            } else {
                out.push_str(&whitespace);
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> PResult<()> {
        let pos = self.pos();
        self.bump(); // '\\'
        let c = self.c();
        let simple = match c {
            '0' => Some('\0'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            't' | '\t' => Some('\t'),
            'n' => Some('\n'),
            'v' => Some('\u{B}'),
            'f' => Some('\u{C}'),
            'r' => Some('\r'),
            'e' => Some('\u{1B}'),
            ' ' => Some(' '),
            '"' => Some('"'),
            '\'' => Some('\''),
            '\\' => Some('\\'),
            'N' => Some('\u{85}'),
            '_' => Some('\u{A0}'),
            'L' => Some('\u{2028}'),
            'P' => Some('\u{2029}'),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            self.bump();
            return Ok(());
        }
        let len = match c {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            // go-yaml v2 (YAML 1.1) has no `\/`, so JSON's escaped slash is an error.
            _ => return self.err_pos(pos, format!("found unknown escape character {c:?}")),
        };
        self.bump();
        let mut v: u32 = 0;
        for _ in 0..len {
            let d = match self.c().to_digit(16) {
                Some(d) => d,
                None => {
                    return self.err_pos(
                        pos,
                        format!(
                        "did not find expected hexadecimal number (\\{c} needs {len} hex digits)"
                    ),
                    )
                }
            };
            v = v * 16 + d;
            self.bump();
        }
        match char::from_u32(v) {
            Some(ch) => {
                out.push(ch);
                Ok(())
            }
            // Surrogates (JSON's \ud83d\ude80 pairs) and values past U+10FFFF.
            None => self.err_pos(
                pos,
                format!("found invalid Unicode character escape code \\{c}{v:0len$X}"),
            ),
        }
    }

    /// `|` / `>` block scalars with chomping (`-`, `+`) and indentation indicators.
    fn block_scalar(&mut self, parent: isize, tag: Option<String>) -> PResult<Rc<Node>> {
        let pos = self.pos();
        let literal = self.c() == '|';
        self.bump();
        let mut chomp = 0i8; // -1 strip, 0 clip, 1 keep
        let mut increment = 0usize;
        for _ in 0..2 {
            match self.c() {
                '+' | '-' if chomp == 0 => {
                    chomp = if self.c() == '+' { 1 } else { -1 };
                    self.bump();
                }
                '0' => return self.err("found an indentation indicator equal to 0"),
                d @ '1'..='9' if increment == 0 => {
                    increment = d as usize - '0' as usize;
                    self.bump();
                }
                _ => break,
            }
        }
        let had_blank = is_blank(self.c());
        while is_blank(self.c()) {
            self.bump();
        }
        if self.c() == '#' {
            if !had_blank {
                return self.err("did not find expected comment or line break");
            }
            self.skip_line_rest();
        }
        if !(self.c() == '\n' || self.eof()) {
            return self
                .err("did not find expected comment or line break after a block scalar header");
        }
        self.bump();
        let mut indent: isize = 0;
        if increment > 0 {
            indent = if parent >= 0 {
                parent + increment as isize
            } else {
                increment as isize
            };
        }
        let mut out = String::new();
        let mut trailing_breaks = String::new();
        self.block_breaks(&mut indent, &mut trailing_breaks, parent, pos)?;
        let mut leading_break = String::new();
        let mut leading_blank = false;
        while self.col as isize == indent && !self.eof() && !self.at_doc_marker() {
            let trailing_blank = is_blank(self.c());
            if !literal && leading_break.starts_with('\n') && !leading_blank && !trailing_blank {
                if trailing_breaks.is_empty() {
                    out.push(' ');
                }
                leading_break.clear();
            } else {
                out.push_str(&leading_break);
                leading_break.clear();
            }
            out.push_str(&trailing_breaks);
            trailing_breaks.clear();
            leading_blank = is_blank(self.c());
            while self.c() != '\n' && !self.eof() {
                out.push(self.c());
                self.bump();
            }
            if self.eof() {
                break;
            }
            self.bump();
            leading_break.push('\n');
            self.block_breaks(&mut indent, &mut trailing_breaks, parent, pos)?;
        }
        if chomp != -1 {
            out.push_str(&leading_break);
        }
        if chomp == 1 {
            out.push_str(&trailing_breaks);
        }
        // Leave the position at the start of the line that ended the scalar.
        if !self.eof() {
            let c = self.col;
            self.i -= c;
            self.col = 0;
        }
        Ok(Rc::new(Node {
            pos,
            tag,
            kind: NodeKind::Scalar(out, Style::Block),
        }))
    }

    /// Eats indentation and empty lines before block scalar content; fixes the indentation
    /// from the first non-empty line when no indicator was given (never below parent + 1).
    fn block_breaks(
        &mut self,
        indent: &mut isize,
        breaks: &mut String,
        parent: isize,
        start: Pos,
    ) -> PResult<()> {
        let mut max_indent: isize = 0;
        loop {
            while (*indent == 0 || (self.col as isize) < *indent) && self.c() == ' ' {
                self.bump();
            }
            if self.col as isize > max_indent {
                max_indent = self.col as isize;
            }
            if (*indent == 0 || (self.col as isize) < *indent) && self.c() == '\t' {
                return self.err(format!(
                    "found a tab character where an indentation space is expected (block scalar at line {})",
                    start.line
                ));
            }
            if self.c() != '\n' {
                break;
            }
            self.bump();
            breaks.push('\n');
        }
        if *indent == 0 {
            *indent = max_indent.max(parent + 1).max(1);
        }
        Ok(())
    }

    // -- flow context --------------------------------------------------------------------------

    /// Skips blanks, line breaks and comments inside a flow collection.
    fn skip_flow_ws(&mut self) -> PResult<()> {
        loop {
            match self.c() {
                ' ' | '\t' | '\n' => self.bump(),
                // At a token boundary '#' always starts a comment (go-yaml scan_to_next_token).
                '#' => self.skip_line_rest(),
                _ => {
                    if self.at_doc_marker() {
                        return self
                            .err("found unexpected document indicator inside a flow collection");
                    }
                    return Ok(());
                }
            }
        }
    }

    fn flow_node(&mut self) -> PResult<Rc<Node>> {
        self.enter()?;
        let r = self.flow_node_inner();
        self.leave();
        r
    }

    fn flow_node_inner(&mut self) -> PResult<Rc<Node>> {
        self.skip_flow_ws()?;
        let pos = self.pos();
        let (tag, anchor) = self.properties()?;
        let has_props = tag.is_some() || anchor.is_some();
        if has_props {
            self.skip_flow_ws()?;
        }
        let pos_c = self.pos();
        let node = match self.c() {
            '[' => self.flow_seq(tag)?,
            '{' => self.flow_map(tag)?,
            '*' if !has_props => return self.alias(),
            '"' | '\'' => {
                let text = self.quoted()?;
                Rc::new(Node {
                    pos: pos_c,
                    tag,
                    kind: NodeKind::Scalar(text, Style::Quoted),
                })
            }
            c if is_flow_indicator(c) || c == ':' || c == '\0' => {
                if has_props {
                    empty_scalar(pos, tag)
                } else {
                    return self.err("did not find expected node content");
                }
            }
            _ => {
                self.check_plain_start()?;
                let text = self.plain(0, true)?;
                Rc::new(Node {
                    pos: pos_c,
                    tag,
                    kind: NodeKind::Scalar(text, Style::Plain),
                })
            }
        };
        Ok(self.finish(node, anchor))
    }

    fn flow_seq(&mut self, tag: Option<String>) -> PResult<Rc<Node>> {
        let open = self.pos();
        self.bump(); // '['
        let mut items = Vec::new();
        loop {
            self.skip_flow_ws()?;
            if self.c() == ']' {
                self.bump();
                break;
            }
            if self.eof() {
                return self.err_pos(
                    open,
                    "did not find expected ',' or ']' (the flow sequence is never closed)",
                );
            }
            let item_pos = self.pos();
            let key_start = self.i;
            let key = self.flow_node()?;
            self.skip_flow_ws()?;
            // An implicit key must end on the line where it starts (go-yaml simple keys) and
            // within 1024 characters.
            if self.c() == ':'
                && (self.line != item_pos.line || self.i - key_start > MAX_IMPLICIT_KEY)
            {
                return self.err(
                    "did not find expected ',' or ']' (a key and its ':' must be on one line)",
                );
            }
            let item = if self.c() == ':' {
                // `[a: b]` is a sequence holding a one-pair mapping.
                self.bump();
                self.skip_flow_ws()?;
                let v = if matches!(self.c(), ',' | ']') {
                    empty_scalar(self.pos(), None)
                } else {
                    self.flow_node()?
                };
                self.skip_flow_ws()?;
                Rc::new(Node {
                    pos: item_pos,
                    tag: None,
                    kind: NodeKind::Map(vec![(key, v)]),
                })
            } else {
                key
            };
            items.push(item);
            match self.c() {
                ',' => self.bump(),
                ']' => {}
                '\0' => {
                    return self.err_pos(
                        open,
                        "did not find expected ',' or ']' (the flow sequence is never closed)",
                    )
                }
                _ => return self.err("did not find expected ',' or ']'"),
            }
        }
        Ok(Rc::new(Node {
            pos: open,
            tag,
            kind: NodeKind::Seq(items),
        }))
    }

    fn flow_map(&mut self, tag: Option<String>) -> PResult<Rc<Node>> {
        let open = self.pos();
        self.bump(); // '{'
        let mut pairs = Vec::new();
        loop {
            self.skip_flow_ws()?;
            if self.c() == '}' {
                self.bump();
                break;
            }
            if self.eof() {
                return self.err_pos(
                    open,
                    "did not find expected ',' or '}' (the flow mapping is never closed)",
                );
            }
            let mut explicit = false;
            if self.c() == '?' && is_blankz(self.at(1)) {
                self.bump();
                self.skip_flow_ws()?;
                explicit = true;
            }
            let key_line = self.line;
            let key_start = self.i;
            let key = if self.c() == ':' {
                empty_scalar(self.pos(), None)
            } else {
                self.flow_node()?
            };
            self.skip_flow_ws()?;
            // An implicit key must end on the line where it starts (go-yaml simple keys).
            if !explicit
                && self.c() == ':'
                && (self.line != key_line || self.i - key_start > MAX_IMPLICIT_KEY)
            {
                return self.err(
                    "did not find expected ',' or '}' (a key and its ':' must be on one line)",
                );
            }
            let value = if self.c() == ':' {
                self.bump();
                self.skip_flow_ws()?;
                if matches!(self.c(), ',' | '}') {
                    empty_scalar(self.pos(), None)
                } else {
                    self.flow_node()?
                }
            } else {
                empty_scalar(self.pos(), None)
            };
            pairs.push((key, value));
            self.skip_flow_ws()?;
            match self.c() {
                ',' => self.bump(),
                '}' => {}
                '\0' => {
                    return self.err_pos(
                        open,
                        "did not find expected ',' or '}' (the flow mapping is never closed)",
                    )
                }
                _ => return self.err("did not find expected ',' or '}'"),
            }
        }
        Ok(Rc::new(Node {
            pos: open,
            tag,
            kind: NodeKind::Map(pairs),
        }))
    }
}

fn empty_scalar(pos: Pos, tag: Option<String>) -> Rc<Node> {
    Rc::new(Node {
        pos,
        tag,
        kind: NodeKind::Scalar(String::new(), Style::Plain),
    })
}

fn retag(n: Rc<Node>, tag: String) -> Rc<Node> {
    match Rc::try_unwrap(n) {
        Ok(mut node) => {
            node.tag = Some(tag);
            Rc::new(node)
        }
        Err(shared) => shared,
    }
}

// ---------------------------------------------------------------------------------------------
// Typing (YAML 1.1 as go-yaml v2 resolves it) and conversion
// ---------------------------------------------------------------------------------------------

/// A resolved scalar.
#[derive(Clone, Debug, PartialEq)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Merge,
}

/// go-yaml v2's resolve(): the YAML 1.1 meaning of an untagged plain scalar.
fn resolve_plain(s: &str) -> Scalar {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false)
        }
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        "<<" => return Scalar::Merge,
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first == b'.' {
        if is_yaml_float(s) {
            if let Some(f) = go_parse_float(s) {
                return Scalar::Float(f);
            }
        }
        return Scalar::Str(s.to_string());
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return Scalar::Str(s.to_string());
    }
    // Timestamps stay text (go-yaml v2 keeps them as strings when decoding into interface{}).
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(v) = go_parse_int(&plain) {
        return v;
    }
    if is_yaml_float(&plain) {
        if let Some(f) = go_parse_float(&plain) {
            return Scalar::Float(f);
        }
    }
    Scalar::Str(s.to_string())
}

/// Whether go-yaml v2 resolves `s`, written plain, to a string (and not to a null, bool,
/// number or merge key). The writer quotes the other ones.
pub(crate) fn plain_resolves_to_string(s: &str) -> bool {
    matches!(resolve_plain(s), Scalar::Str(_))
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// strconv.ParseFloat for the forms the regex admits; out of range is an error (-> string).
fn go_parse_float(s: &str) -> Option<f64> {
    let f: f64 = s.parse().ok()?;
    if f.is_infinite() {
        None
    } else {
        Some(f)
    }
}

/// strconv.ParseInt(s, 0, 64), then ParseUint(s, 0, 64): sign, 0x/0o/0b prefixes, leading-0 octal.
fn go_parse_int(s: &str) -> Option<Scalar> {
    let (neg, signed, body) = match s.as_bytes().first()? {
        b'-' => (true, true, &s[1..]),
        b'+' => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if mag <= 1u64 << 63 {
            return Some(Scalar::Int((mag as i64).wrapping_neg()));
        }
        return None;
    }
    if mag <= i64::MAX as u64 {
        return Some(Scalar::Int(mag as i64));
    }
    if signed {
        return None; // ParseUint takes no sign
    }
    Some(Scalar::Uint(mag))
}

struct Converter<'f> {
    file: &'f str,
    nodes: usize,
    bytes: usize,
    byte_budget: usize,
}

impl Converter<'_> {
    fn err<T>(&self, pos: Pos, msg: impl Into<String>) -> PResult<T> {
        Err(err_at(self.file, pos, msg))
    }

    fn count(&mut self, pos: Pos, bytes: usize) -> PResult<()> {
        self.nodes += 1;
        self.bytes += bytes;
        if self.nodes > MAX_EXPANDED_NODES || self.bytes > self.byte_budget {
            return self.err(pos, format!("document expands to too many nodes through aliases (more than {MAX_EXPANDED_NODES} nodes or {} bytes)", self.byte_budget));
        }
        Ok(())
    }

    /// Resolves a scalar node with its tag, as go-yaml v2's decoder does.
    fn scalar(&self, node: &Node, text: &str, style: Style) -> PResult<Scalar> {
        let tag = node.tag.as_deref();
        let short = tag.and_then(|t| t.strip_prefix(YAML_TAG));
        match (tag, short) {
            (None, _) if style == Style::Plain => Ok(resolve_plain(text)),
            (None, _) => Ok(Scalar::Str(text.to_string())),
            (Some(_), Some("str")) | (Some(_), Some("timestamp")) => {
                Ok(Scalar::Str(text.to_string()))
            }
            (Some(_), Some("binary")) => match crate::text::b64::decode(text) {
                Ok(bytes) => Ok(Scalar::Str(match String::from_utf8(bytes) {
                    Ok(s) => s,
                    Err(e) => crate::text::b64::encode(e.as_bytes()),
                })),
                Err(e) => self.err(node.pos, format!("cannot decode !!binary value: {e}")),
            },
            (Some(_), Some(kind @ ("bool" | "int" | "float" | "null" | "merge"))) => {
                let r = if text.is_empty() {
                    Scalar::Null
                } else {
                    resolve_plain(text)
                };
                let ok = match (kind, &r) {
                    ("bool", Scalar::Bool(_))
                    | ("int", Scalar::Int(_) | Scalar::Uint(_))
                    | ("float", Scalar::Float(_)) => true,
                    ("null", Scalar::Null) | ("merge", Scalar::Merge) => true,
                    ("float", Scalar::Int(i)) => return Ok(Scalar::Float(*i as f64)),
                    ("float", Scalar::Uint(u)) => return Ok(Scalar::Float(*u as f64)),
                    _ => false,
                };
                if ok {
                    Ok(r)
                } else {
                    self.err(node.pos, format!("cannot decode {text:?} as a !!{kind}"))
                }
            }
            // Unknown tags (local `!x`, `%TAG` handles): the text is kept as a string.
            _ => Ok(Scalar::Str(text.to_string())),
        }
    }

    fn value(&mut self, node: &Node, depth: usize) -> PResult<Value> {
        if depth > MAX_DEPTH {
            return self.err(
                node.pos,
                format!("document is nested more than {MAX_DEPTH} levels deep (through aliases)"),
            );
        }
        let pos = node.pos;
        match &node.kind {
            NodeKind::Alias(target) => {
                let mut v = self.value(target, depth + 1)?;
                v.pos = pos;
                Ok(v)
            }
            NodeKind::Scalar(text, style) => {
                self.count(pos, text.len())?;
                let data = match self.scalar(node, text, *style)? {
                    Scalar::Null => Data::Null,
                    Scalar::Bool(b) => Data::Bool(b),
                    Scalar::Int(i) => Data::Number(i.into()),
                    Scalar::Uint(u) => Data::Number(u.into()),
                    Scalar::Float(f) => Data::Number(float_number(f).ok_or_else(|| {
                        err_at(
                            self.file,
                            pos,
                            format!(
                                "unsupported value: {} (JSON has no infinity or NaN)",
                                go_float_name(f)
                            ),
                        )
                    })?),
                    Scalar::Str(s) => Data::String(s),
                    Scalar::Merge => Data::String("<<".into()),
                };
                Ok(Value { pos, data })
            }
            NodeKind::Seq(items) => {
                self.count(pos, 0)?;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.value(item, depth + 1)?);
                }
                Ok(Value {
                    pos,
                    data: Data::Array(out),
                })
            }
            NodeKind::Map(_) => {
                self.count(pos, 0)?;
                let mut map = ObjBuilder::default();
                self.fill_map(node, &mut map, depth)?;
                Ok(Value {
                    pos,
                    data: Data::Object(map.entries),
                })
            }
        }
    }

    /// Sets a mapping's pairs into `out` in order, each one overwriting an earlier equal key.
    /// `<<` merges the referenced mapping(s) the go-yaml v2 way: at the point where it is
    /// written (so it overwrites keys set before it), and for a list the first map wins.
    fn fill_map(&mut self, node: &Node, out: &mut ObjBuilder, depth: usize) -> PResult<()> {
        let pairs = match &node.kind {
            NodeKind::Map(p) => p,
            NodeKind::Alias(t) => return self.fill_map(t, out, depth + 1),
            _ => {
                return self.err(
                    node.pos,
                    "map merge requires a map or a sequence of maps as the value",
                )
            }
        };
        if depth > MAX_DEPTH {
            return self.err(
                node.pos,
                format!("document is nested more than {MAX_DEPTH} levels deep (through aliases)"),
            );
        }
        for (k, v) in pairs {
            let kn = deref(k);
            if let NodeKind::Scalar(text, style) = &kn.kind {
                if self.scalar(kn, text, *style)? == Scalar::Merge {
                    self.merge(v, out, depth + 1)?;
                    continue;
                }
            }
            let key = self.key_string(k)?;
            let value = self.value(v, depth + 1)?;
            out.set(key, k.pos, value);
        }
        Ok(())
    }

    fn merge(&mut self, v: &Node, out: &mut ObjBuilder, depth: usize) -> PResult<()> {
        let target = deref(v);
        match &target.kind {
            NodeKind::Map(_) => self.fill_map(target, out, depth),
            NodeKind::Seq(items) => {
                for item in items.iter().rev() {
                    let t = deref(item);
                    if !matches!(t.kind, NodeKind::Map(_)) {
                        return self.err(
                            item.pos,
                            "map merge requires a map or a sequence of maps as the value",
                        );
                    }
                    self.fill_map(t, out, depth + 1)?;
                }
                Ok(())
            }
            _ => self.err(
                v.pos,
                "map merge requires a map or a sequence of maps as the value",
            ),
        }
    }

    /// sigs.k8s.io/yaml turns map keys into strings: bools as true/false, numbers in Go's
    /// formatting (floats via FormatFloat(f, 'g', -1, 32)); a null key is an error.
    fn key_string(&mut self, k: &Node) -> PResult<String> {
        let kn = deref(k);
        match &kn.kind {
            NodeKind::Scalar(text, style) => match self.scalar(kn, text, *style)? {
                Scalar::Str(s) => Ok(s),
                Scalar::Merge => Ok("<<".into()),
                Scalar::Bool(b) => Ok(b.to_string()),
                Scalar::Int(i) => Ok(i.to_string()),
                Scalar::Float(f) => Ok(super::go::format_float32_g(f)),
                Scalar::Uint(u) => self.err(
                    k.pos,
                    format!("unsupported map key {u} (too large for a signed integer)"),
                ),
                Scalar::Null => self.err(k.pos, "unsupported map key: null"),
            },
            _ => self.err(
                k.pos,
                "unsupported map key: a mapping or a sequence cannot be a key",
            ),
        }
    }
}

fn deref(n: &Node) -> &Node {
    let mut cur = n;
    // Aliases point at complete, earlier nodes, so this chain is finite (usually one step).
    while let NodeKind::Alias(t) = &cur.kind {
        cur = t;
    }
    cur
}

/// Object under construction: later keys overwrite earlier ones in place (Go map semantics).
#[derive(Default)]
struct ObjBuilder {
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

impl ObjBuilder {
    fn set(&mut self, key: String, key_pos: Pos, value: Value) {
        match self.index.get(&key) {
            Some(&i) => {
                self.entries[i].value = value;
                self.entries[i].key_pos = key_pos;
            }
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push(Entry {
                    key,
                    key_pos,
                    value,
                });
            }
        }
    }
}

/// JSON numbers from floats; integral values print as integers (Go prints 1e3 as 1000).
fn float_number(f: f64) -> Option<serde_json::Number> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Some(serde_json::Number::from(f as i64));
    }
    serde_json::Number::from_f64(f)
}

fn go_float_name(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> serde_json::Value {
        match parse_value(s.as_bytes(), "t") {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    fn perr(s: &str) -> YamlError {
        match parse_value(s.as_bytes(), "t") {
            Ok(v) => panic!("expected an error, got {v}"),
            Err(e) => e,
        }
    }

    #[test]
    fn block_mapping_and_sequences() {
        assert_eq!(
            p("a: 1\nb:\n- x\n- y: z\n  w: v\n"),
            json!({"a": 1, "b": ["x", {"true": "z", "w": "v"}]})
        );
        assert_eq!(
            p("a:\n  - 1\n  -\n    b: c\n"),
            json!({"a": [1, {"b": "c"}]})
        );
        assert_eq!(p("- - a\n  - b\n- c"), json!([["a", "b"], "c"]));
        assert_eq!(p("a:\nb: ~\n"), json!({"a": null, "b": null}));
        assert_eq!(p("a:\n-\n- \n-  # c\n"), json!({"a": [null, null, null]}));
        assert_eq!(
            p("? e\n: 3\n? f\nq: 1\n"),
            json!({"e": 3, "f": null, "q": 1})
        );
        assert!(parse_value(b"a: {\"x\"\n : 1}", "t").is_err());
    }

    #[test]
    fn yaml11_typing() {
        let v = p("[y, Y, yes, on, ON, n, off, yEs, nULL, ~, null, 0x1F, 0o17, 0b101, 007, 1_000, 1e3, .5, 0., 1.2.3, v1.27, 1e, 0x, 12:30:00, 2024-01-01, -1, +1, 08]");
        assert_eq!(
            v,
            json!([
                true,
                true,
                true,
                true,
                true,
                false,
                false,
                "yEs",
                "nULL",
                null,
                null,
                31,
                15,
                5,
                7,
                1000,
                1000,
                0.5,
                0,
                "1.2.3",
                "v1.27",
                "1e",
                "0x",
                "12:30:00",
                "2024-01-01",
                -1,
                1,
                8
            ])
        );
        assert!(perr("a: .inf").msg.contains("+Inf"));
        assert!(perr("a: [.nan]").msg.contains("NaN"));
    }

    #[test]
    fn keys_are_stringified() {
        assert_eq!(
            p("on: a\nno: b\n1.0: c\n0x10: d\n007: e\n1e3: f\n2.5: g\n"),
            json!({"true": "a", "false": "b", "1": "c", "16": "d", "7": "e", "1000": "f", "2.5": "g"})
        );
        assert!(perr("~: a").msg.contains("null"));
    }

    #[test]
    fn quoting_and_escapes() {
        assert_eq!(
            p(r#"a: "t\tn\n\x41\u00e9\U0001F680\\\"""#),
            json!({"a": "t\tn\nAé🚀\\\""})
        );
        assert_eq!(p("a: 'it''s'"), json!({"a": "it's"}));
        assert_eq!(
            p("a: \"one \\\n   two\"\nb: 'x\n  y\n\n  z'"),
            json!({"a": "one two", "b": "x y\nz"})
        );
        assert!(perr(r#"a: "\/""#).msg.contains("escape"));
        assert!(perr(r#"a: "\ud83d\ude80""#).msg.contains("Unicode"));
        assert!(perr(r#"a: "C:\Users""#).msg.contains("hexadecimal"));
    }

    #[test]
    fn block_scalars() {
        assert_eq!(p("a: |\n  x\n  y\nb: 1"), json!({"a": "x\ny\n", "b": 1}));
        assert_eq!(p("a: |-\n  x\n"), json!({"a": "x"}));
        assert_eq!(p("a: |+\n  x\n\nb: 1"), json!({"a": "x\n\n", "b": 1}));
        assert_eq!(
            p("a: >\n  x\n  y\n\n  z\n   w\n  v\n"),
            json!({"a": "x y\nz\n w\nv\n"})
        );
        assert_eq!(
            p("k:\n  a: |2\n      two\n    n\n"),
            json!({"k": {"a": "  two\nn\n"}})
        );
    }

    #[test]
    fn multi_line_plain_and_comments() {
        assert_eq!(
            p("a: x\n  y\n\n  z # c\nb: q#r"),
            json!({"a": "x y\nz", "b": "q#r"})
        );
        assert!(perr("a: b: c").msg.contains("mapping values"));
    }

    #[test]
    fn flow_collections_and_json() {
        assert_eq!(
            p("{a: [1, 2,], b: {c: d,}, e: http://x:1}"),
            json!({"a": [1, 2], "b": {"c": "d"}, "e": "http://x:1"})
        );
        assert_eq!(
            p("{\"a\":1,\n\t\"b\": [true, null]}"),
            json!({"a": 1, "b": [true, null]})
        );
        assert_eq!(p("[a: b, c]"), json!([{"a": "b"}, "c"]));
        assert!(perr("a: [1, 2\n").msg.contains("never closed"));
    }

    #[test]
    fn anchors_aliases_merges() {
        assert_eq!(
            p("a: &x {p: 1, q: 2}\nb:\n  q: 9\n  <<: *x\n  p: 3\n"),
            json!({"a": {"p": 1, "q": 2}, "b": {"q": 2, "p": 3}})
        );
        assert_eq!(
            p("b:\n  <<: [{k: 1}, {k: 2, m: 3}]\n"),
            json!({"b": {"k": 1, "m": 3}})
        );
        assert!(perr("a: *nope").msg.contains("unknown anchor"));
    }

    #[test]
    fn tags() {
        assert_eq!(p("a: !!str 1.10\nb: !!bool \"true\"\nc: !!binary aGk=\nd: !x 12\ne: !<tag:yaml.org,2002:str> 5"), json!({"a": "1.10", "b": true, "c": "hi", "d": "12", "e": "5"}));
    }

    #[test]
    fn documents_and_directives() {
        assert_eq!(p("%YAML 1.1\n---\na: 1\n...\n--- b\n"), json!({"a": 1}));
        assert!(perr("%YAML 1.2\n---\na: 1").msg.contains("1.2"));
        assert_eq!(p(""), serde_json::Value::Null);
        assert_eq!(p("# only\n"), serde_json::Value::Null);
        assert_eq!(
            parse_value(b"\xEF\xBB\xBFa: 1\r\nb: |\r\n  x\r\n", "t").ok(),
            Some(json!({"a": 1, "b": "x\n"}))
        );
    }

    #[test]
    fn tabs() {
        assert_eq!(
            p("a:\tb\t# c\nc: {\td: e}"),
            json!({"a": "b", "c": {"d": "e"}})
        );
        assert_eq!(perr("a:\n\tb: c").pos.line, 2);
        assert!(parse_value(b"a:\n-\tb", "t").is_err());
        assert!(parse_value(b"a:\n- \tb", "t").is_err());
    }

    #[test]
    fn go_yaml_quirks() {
        // Properties before a key belong to the key; the mapping starts at them.
        assert_eq!(p("&k a: 1\nb: *k\n"), json!({"a": 1, "b": "a"}));
        // '#' at a flow token boundary is a comment even without a blank before it.
        assert_eq!(p("a: [x,#b\n c]\n"), json!({"a": ["x", "c"]}));
        // Content after a flow root, or left of a block root, is an ignored second document.
        assert_eq!(p("{\"a\": 1} x\n"), json!({"a": 1}));
        assert_eq!(p("  a: 1\n b: 2\n"), json!({"a": 1}));
        // NEL and LS break lines.
        assert!(parse_value("a: x\u{2028}y\n".as_bytes(), "t").is_err());
        let long = format!("{{{}: 1}}", "k".repeat(1100));
        assert!(parse_value(long.as_bytes(), "t").is_err());
    }

    #[test]
    fn implicit_key_limit() {
        let k1024 = "k".repeat(1024);
        assert!(parse_value(format!("{k1024}: v").as_bytes(), "t").is_ok());
        let k1025 = "k".repeat(1025);
        assert!(parse_value(format!("{k1025}: v").as_bytes(), "t").is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let e = perr("a: 1\nb:\n  c: 2\n d: 3\n");
        assert_eq!(e.pos.line, 4);
        let e = parse_value(b"a: 1\nb: \xe9\n", "f").err();
        assert_eq!(e.map(|e| e.pos.line), Some(2));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(perr(&deep).msg.contains("nested"));
        let mut block = String::new();
        for i in 0..5000 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        assert!(perr(&block).msg.contains("nested"));
        let dashes = "- ".repeat(50_000);
        assert!(perr(&dashes).msg.contains("nested"));
        // Safe even when the caller runs on a tiny stack.
        let small = std::thread::Builder::new()
            .stack_size(128 << 10)
            .spawn(move || {
                parse_value(block.as_bytes(), "t").is_err()
                    && parse_value(deep.as_bytes(), "t").is_err()
            });
        assert!(small.is_ok_and(|h| h.join().unwrap_or(false)));
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut s = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let names: Vec<char> = "bcdefghijk".chars().collect();
        let mut prev = 'a';
        for &n in &names {
            s.push_str(&format!("{n}: &{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = n;
        }
        let e = perr(&s);
        assert!(e.msg.contains("too many nodes"), "{e}");
    }
}
