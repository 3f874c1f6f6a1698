//! The two trees: the syntax tree the parser builds ([`Node`]) and the typed, JSON-shaped
//! tree the conversion makes of it ([`Value`]), both with source positions.

use std::rc::Rc;

use super::Pos;

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

pub(super) const YAML_TAG: &str = "tag:yaml.org,2002:";

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
