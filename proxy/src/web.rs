//! The static file server behind `--web` and the embedded app: GET and HEAD only, correct
//! content types, an index file for directories, never a directory listing, never a path
//! outside the root.

use std::path::{Component, Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_web.rs"));
}

/// Where files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WebRoot {
    /// `--web DIR`.
    Dir(PathBuf),
    /// The web client built into the binary (`web/dist` at build time).
    Embedded,
}

/// Whether this binary carries the app (it was not built with `RFB_PROXY_SKIP_WEB=1`).
pub(crate) fn has_embedded_app() -> bool {
    !embedded::FILES.is_empty()
}

impl WebRoot {
    /// Serves `target`.
    pub(crate) fn serve(&self, target: &str) -> Response {
        match self {
            Self::Dir(root) => serve(root, target),
            Self::Embedded => serve_embedded(target),
        }
    }
}

/// Serves `target` from the files built into the binary.
fn serve_embedded(target: &str) -> Response {
    let Some(path) = resolve(Path::new(""), target) else {
        return Response::text(404, "Not Found");
    };
    let mut key = path.to_string_lossy().replace('\\', "/");
    if key.is_empty() {
        key = "vnc.html".to_string();
    }
    match embedded::FILES.iter().find(|(p, _)| *p == key) {
        Some((_, body)) => Response {
            status: 200,
            reason: "OK",
            content_type: content_type(Path::new(&key)),
            body: body.to_vec(),
        },
        None => Response::text(404, "Not Found"),
    }
}

/// A response head plus body (the body is omitted for HEAD by the caller).
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) reason: &'static str,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
}

impl Response {
    fn text(status: u16, reason: &'static str) -> Self {
        Self {
            status,
            reason,
            content_type: "text/plain; charset=utf-8",
            body: format!("{status} {reason}\n").into_bytes(),
        }
    }

    /// Serialises the response; `head_only` drops the body but keeps its length.
    pub(crate) fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let mut r = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
            self.status,
            self.reason,
            self.content_type,
            self.body.len()
        )
        .into_bytes();
        if !head_only {
            r.extend_from_slice(&self.body);
        }
        r
    }
}

/// Content type by extension; `.wasm` must be `application/wasm` for streaming compilation.
fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "txt" | "md" => "text/plain; charset=utf-8",
        "map" => "application/json",
        "ogg" | "oga" => "audio/ogg",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or a NUL.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    (!out.contains(&0)).then_some(out)
}

/// Maps a request target to a file under `root`, refusing anything that could escape it.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let decoded = String::from_utf8(percent_decode(path)?).ok()?;
    if decoded.contains('\\') {
        return None;
    }
    let mut out = root.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(seg) => out.push(seg),
            Component::CurDir => {}
            // `..`, a root or a prefix inside the path: refuse rather than normalise.
            _ => return None,
        }
    }
    Some(out)
}

/// Serves `target` from `root`.
pub(crate) fn serve(root: &Path, target: &str) -> Response {
    let Some(mut path) = resolve(root, target) else {
        return Response::text(404, "Not Found");
    };
    if path.is_dir() {
        path.push("index.html");
    }
    // Symlinks must not lead out of the root either.
    let (Ok(canon), Ok(root_canon)) = (path.canonicalize(), root.canonicalize()) else {
        return Response::text(404, "Not Found");
    };
    if !canon.starts_with(&root_canon) || !canon.is_file() {
        return Response::text(404, "Not Found");
    }
    match std::fs::read(&canon) {
        Ok(body) => Response {
            status: 200,
            reason: "OK",
            content_type: content_type(&canon),
            body,
        },
        Err(_) => Response::text(403, "Forbidden"),
    }
}

/// 405 for methods other than GET and HEAD, and for plain GETs without `--web`.
pub(crate) fn method_not_allowed() -> Response {
    Response::text(405, "Method Not Allowed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_is_refused() {
        let root = Path::new("/srv/web");
        assert_eq!(
            resolve(root, "/a/b.js?x=1"),
            Some(PathBuf::from("/srv/web/a/b.js"))
        );
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/srv/web")));
        for bad in [
            "/../etc/passwd",
            "/a/%2e%2e/%2e%2e/x",
            "/a\\..\\b",
            "/%00",
            "/%zz",
            "/a/../../b",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
        assert_eq!(content_type(Path::new("x.wasm")), "application/wasm");
    }
}
