//! The node fields kdebug reads: which images a node holds (`status.images[].names`), to
//! name the ones that could serve when an image cannot be pulled (R12 of tests/fakecluster/REAL.md).

use serde::Deserialize;

pub fn node_path(name: &str) -> String {
    format!("/api/v1/nodes/{name}")
}

/// A node, as far as its images go; every other field is skipped while decoding.
#[derive(Debug, Default, Deserialize)]
pub struct NodeImages {
    #[serde(default)]
    status: Status,
}

#[derive(Debug, Default, Deserialize)]
struct Status {
    #[serde(default)]
    images: Option<Vec<Image>>,
}

#[derive(Debug, Default, Deserialize)]
struct Image {
    #[serde(default)]
    names: Option<Vec<String>>,
}

impl NodeImages {
    /// Each image's names (a digest and tags, as the runtime reports them).
    pub fn names(&self) -> impl Iterator<Item = &[String]> {
        self.status
            .images
            .iter()
            .flatten()
            .map(|i| i.names.as_deref().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_image_names_and_tolerates_nulls() {
        let n: NodeImages = serde_json::from_str(
            r#"{"status": {"images": [{"names": ["a@sha256:00", "a:1"], "sizeBytes": 1}, {"names": null}, {}]}}"#,
        )
        .unwrap();
        let all: Vec<&[String]> = n.names().collect();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0], ["a@sha256:00", "a:1"]);
        let none: NodeImages = serde_json::from_str(r#"{"status": {"images": null}}"#).unwrap();
        assert_eq!(none.names().count(), 0);
    }
}
