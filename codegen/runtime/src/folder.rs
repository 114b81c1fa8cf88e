//! Files served from a folder the spec names (skill folders, MCP resources of files):
//! listing, safe lookup of a relative path, and media types.
//!
//! A relative path is accepted only when every segment is a plain name (`[A-Za-z0-9._-]`,
//! not `.` or `..`) and the real file, symbolic links followed, stays inside the folder.

use std::path::{Path, PathBuf};

/// The folder a `file:` location names, canonical; `None` when it is not a folder.
pub fn open(location: &str) -> Option<PathBuf> {
    crate::binds::location_path(location)
        .canonicalize()
        .ok()
        .filter(|d| d.is_dir())
}

/// Every regular file under the canonical folder `dir`: relative `/`-separated path and
/// full path, sorted by relative path. Links that lead out of the folder are left out.
pub fn files(dir: &Path) -> Vec<(String, PathBuf)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>, depth: usize) {
        if depth > 32 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = std::fs::metadata(&p) else {
                continue;
            };
            let inside = p.canonicalize().is_ok_and(|c| c.starts_with(root));
            if !inside {
                continue;
            }
            if meta.is_dir() {
                walk(root, &p, out, depth + 1);
            } else if meta.is_file()
                && let Ok(rel) = p.strip_prefix(root)
            {
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push((rel.join("/"), p));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out, 0);
    out.sort();
    out
}

/// A plain file name segment: letters, digits, `.`, `_`, `-`; not `.` or `..`.
pub fn safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// What a relative path names inside a folder.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A regular file (its real path).
    File(PathBuf),
    /// A folder, not a file.
    Folder,
    /// Nothing there.
    Missing,
    /// A segment that is not a plain name.
    BadSegment(String),
    /// A path (through a link) that leads out of the folder.
    Outside,
}

/// Looks `rel` (`/`-separated; empty for the folder itself) up inside the canonical `dir`.
pub fn lookup(dir: &Path, rel: &str) -> Lookup {
    if rel.is_empty() {
        return Lookup::Folder;
    }
    if let Some(bad) = rel.split('/').find(|s| !safe_segment(s)) {
        return Lookup::BadSegment(bad.to_owned());
    }
    let Ok(real) = dir.join(rel).canonicalize() else {
        return Lookup::Missing;
    };
    if !real.starts_with(dir) {
        Lookup::Outside
    } else if real.is_dir() {
        Lookup::Folder
    } else if real.is_file() {
        Lookup::File(real)
    } else {
        Lookup::Missing
    }
}

/// The media type of a file, from its extension.
pub fn media_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("md" | "markdown") => "text/markdown",
        Some("json") => "application/json",
        Some("yaml" | "yml") => "application/yaml",
        Some("txt") => "text/plain",
        Some("xml") => "application/xml",
        Some("html" | "htm") => "text/html",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("csv") => "text/csv",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        Some("py") => "text/x-python",
        Some("sh") => "text/x-shellscript",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_types() {
        for ok in ["a.md", "guide-1", "x_y.txt"] {
            assert!(safe_segment(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a b", "a%2F", "a\\b"] {
            assert!(!safe_segment(bad), "{bad}");
        }
        assert_eq!(media_type("docs/Guide.MD"), "text/markdown");
        assert_eq!(media_type("blob"), "application/octet-stream");
    }

    #[test]
    fn lookups_stay_inside() {
        let root = std::env::temp_dir().join(format!("naftiko-folder-{}", std::process::id()));
        let dir = root.join("docs");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.md"), "# A").unwrap();
        std::fs::write(root.join("secret.txt"), "s").unwrap();
        let dir = dir.canonicalize().unwrap();
        assert!(matches!(lookup(&dir, "sub/a.md"), Lookup::File(_)));
        assert_eq!(lookup(&dir, "sub"), Lookup::Folder);
        assert_eq!(lookup(&dir, ""), Lookup::Folder);
        assert_eq!(lookup(&dir, "nope.md"), Lookup::Missing);
        assert_eq!(
            lookup(&dir, "../secret.txt"),
            Lookup::BadSegment("..".into())
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("secret.txt"), dir.join("link.txt")).unwrap();
            assert_eq!(lookup(&dir, "link.txt"), Lookup::Outside);
            assert_eq!(files(&dir).len(), 1, "the outside link is not listed");
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
}
