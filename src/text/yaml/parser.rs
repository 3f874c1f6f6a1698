//! Stage one: characters to a syntax tree ([`Node`]), as go-yaml v2's scanner and parser
//! accept them (block and flow styles, anchors, aliases, tags, directives).

use std::collections::HashMap;
use std::rc::Rc;

use super::tree::YAML_TAG;
use super::tree::{Node, NodeKind, Style};
use super::{err_at, PResult, Pos, MAX_DEPTH, MAX_IMPLICIT_KEY};

/// Where a block node starts, which decides what may appear on the same line.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    /// After `key:` — a mapping or `- ` on the same line is an error.
    Colon,
    /// After `- ` — compact nested mappings and sequences are allowed.
    Dash,
    /// After `---` or at the start of the stream.
    DocStart,
}

pub(super) struct Parser<'f> {
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

pub(super) fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Blank, line break or end of input (`'\0'` stands for the end; NUL is rejected on input).
pub(super) fn is_blankz(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\n' || c == '\0'
}

pub(super) fn is_flow_indicator(c: char) -> bool {
    matches!(c, ',' | '[' | ']' | '{' | '}')
}

/// Characters allowed in anchor and alias names (go-yaml: alphanumerics, '-' and '_').
pub(super) fn is_anchor_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

impl<'f> Parser<'f> {
    pub(super) fn new(s: Vec<char>, file: &'f str) -> Self {
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

    pub(super) fn parse_stream(&mut self) -> PResult<Option<Rc<Node>>> {
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

pub(super) fn empty_scalar(pos: Pos, tag: Option<String>) -> Rc<Node> {
    Rc::new(Node {
        pos,
        tag,
        kind: NodeKind::Scalar(String::new(), Style::Plain),
    })
}

pub(super) fn retag(n: Rc<Node>, tag: String) -> Rc<Node> {
    match Rc::try_unwrap(n) {
        Ok(mut node) => {
            node.tag = Some(tag);
            Rc::new(node)
        }
        Err(shared) => shared,
    }
}
