//! Certificates for the VeNCrypt browser tests, made with the `openssl` command: a CA and a
//! server certificate for 127.0.0.1 it signed (P-256), and the fingerprint users see.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of one test PKI.
pub(crate) struct Pki {
    pub(crate) dir: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Pki {
    /// A fresh CA named `ca_name` and a server certificate it signed, in `dir`.
    pub(crate) fn new(dir: &Path, ca_name: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let mut a = vec!["req", "-x509"];
        a.extend(ec);
        let subj = format!("/CN={ca_name}");
        a.extend([
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "3", "-subj", &subj,
        ]);
        openssl(dir, &a);
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n",
        )
        .unwrap();
        let mut a = vec!["req"];
        a.extend(ec);
        a.extend([
            "-keyout",
            "key.pem",
            "-out",
            "server.csr",
            "-subj",
            "/O=rfb tests/CN=rfb browser test server",
        ]);
        openssl(dir, &a);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "cert.pem",
                "-days",
                "3",
                "-extfile",
                "ext.cnf",
            ],
        );
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// A file of this PKI as a string path.
    pub(crate) fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// The CA certificate as PEM text.
    pub(crate) fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.dir.join("ca.pem")).unwrap()
    }

    /// `openssl x509 -fingerprint -sha256` of the server certificate, lower case (the form
    /// the client reports).
    pub(crate) fn fingerprint(&self) -> String {
        let out = openssl(
            &self.dir,
            &[
                "x509",
                "-in",
                "cert.pem",
                "-noout",
                "-fingerprint",
                "-sha256",
            ],
        );
        out.trim()
            .rsplit('=')
            .next()
            .expect("a fingerprint")
            .to_ascii_lowercase()
    }
}
