//! Where each value of the site file stands, so semantic errors can point at it.
//!
//! The typed model is plain serde structs; resolve reports problems by *path* (`server[1].name`) and
//! this index turns the path into the byte span of that value in the source.

use std::collections::HashMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use crate::diag::LineIndex;

#[derive(Debug, Default)]
pub struct SpanIndex {
    values: HashMap<String, Range<usize>>,
    /// The elements of arrays of plain values (a list of server names): one entry per array, not
    /// one path per element (a 50,000-server site has lists of 50,000 names).
    elements: HashMap<String, Vec<Range<usize>>>,
    keys: HashMap<String, Range<usize>>,
    lines: LineIndex,
}

impl SpanIndex {
    /// Indexes a document. A document that does not parse gives an empty index (serde reports the
    /// syntax error with its own span).
    pub fn build(source: &str) -> Self {
        Self::of_parsed(source, DeTable::parse(source).as_ref().ok())
    }

    /// Indexes a document already parsed into `root` (the site is parsed once: this index, then
    /// the typed model from the same tree).
    pub fn of_parsed(source: &str, root: Option<&toml::Spanned<DeTable<'_>>>) -> Self {
        let mut idx = SpanIndex {
            lines: LineIndex::new(source),
            ..SpanIndex::default()
        };
        if let Some(root) = root {
            idx.values.insert(String::new(), root.span());
            idx.walk_table("", root.get_ref());
        }
        idx
    }

    fn walk_table(&mut self, prefix: &str, table: &DeTable<'_>) {
        for (k, v) in table.iter() {
            let path = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            self.keys.insert(path.clone(), k.span());
            self.walk_value(path, v.get_ref(), v.span());
        }
    }

    fn walk_value(&mut self, path: String, value: &DeValue<'_>, span: Range<usize>) {
        match value {
            DeValue::Table(t) => self.walk_table(&path, t),
            DeValue::Array(a)
                if a.iter().all(|item| {
                    !matches!(item.get_ref(), DeValue::Table(_) | DeValue::Array(_))
                }) =>
            {
                let spans = a.iter().map(|item| item.span()).collect();
                self.elements.insert(path.clone(), spans);
            }
            DeValue::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    self.walk_value(format!("{path}[{i}]"), item.get_ref(), item.span());
                }
            }
            _ => {}
        }
        self.values.insert(path, span);
    }

    /// The span of the value at exactly `path` (an element of an array of plain values from the
    /// array's list).
    fn exact(&self, path: &str) -> Option<Range<usize>> {
        if let Some(s) = self.values.get(path) {
            return Some(s.clone());
        }
        let (array, index) = path.strip_suffix(']')?.rsplit_once('[')?;
        let index: usize = index.parse().ok()?;
        self.elements.get(array)?.get(index).cloned()
    }

    /// The span of the value at `path`, or of the nearest enclosing value that exists
    /// (a missing optional key is reported at its table).
    pub fn value(&self, path: &str) -> Option<Range<usize>> {
        let mut p = path;
        loop {
            if let Some(s) = self.exact(p) {
                return Some(s);
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return self.values.get("").cloned(),
            }
        }
    }

    /// The 1-based line of the value at `path`, if it is in the document.
    pub fn line(&self, path: &str) -> Option<usize> {
        let start = self.exact(path)?.start;
        Some(self.lines.line_of(start).0)
    }

    /// The span of the key at `path` (for "unknown" or "duplicate" findings about the key itself).
    pub fn key(&self, path: &str) -> Option<Range<usize>> {
        self.keys.get(path).cloned().or_else(|| self.value(path))
    }

    /// Every key of the document with the span of the key itself (paths like `gpo.name`,
    /// `server[1].name`), in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = (&str, Range<usize>)> {
        self.keys.iter().map(|(k, s)| (k.as_str(), s.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let src = "[site]\nname = \"x\"\n\n[[server]]\nname = \"a\"\n[[server]]\nname = \"b\"\nos = \"2008\"\n";
        let idx = SpanIndex::build(src);
        let s = idx.value("server[1].name").unwrap();
        assert_eq!(&src[s], "\"b\"");
        let s = idx.value("site.name").unwrap();
        assert_eq!(&src[s], "\"x\"");
        // Missing key falls back to its table.
        let s = idx.value("server[1].address").unwrap();
        assert!(
            s.start <= src.find("os = ").unwrap(),
            "{:?} {:?}",
            s,
            &src[s.clone()]
        );
    }
}
