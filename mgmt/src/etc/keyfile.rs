//! pfd's `authkey FILE` in hostname.pfsync0: the shared secret of
//! authenticated pfsync, read whole at load. A file others may read is
//! refused, as ssh refuses an unprotected private key: the key lets
//! anyone on the sync link write the state table.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The shortest key: HMAC-SHA256 wants 128 bits at least.
pub const MIN_KEY: usize = pfsync::auth::MIN_KEY_LEN;
/// The longest: a key file, not a stray log or binary named by mistake.
pub const MAX_KEY: usize = 1024;

/// The key in `path` (every byte of the file), or why it is refused.
pub fn read_key(path: &Path) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("authkey {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("authkey {shown}: not a regular file"));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "authkey {shown}: group or others have access (mode {mode:04o}): chmod 600 it"
        ));
    }
    let key = std::fs::read(path).map_err(|e| format!("authkey {shown}: {e}"))?;
    match key.len() {
        n if n < MIN_KEY => Err(format!(
            "authkey {shown}: {n} bytes, a key needs at least {MIN_KEY} (head -c 32 /dev/urandom > FILE)"
        )),
        n if n > MAX_KEY => Err(format!(
            "authkey {shown}: {n} bytes, a key file holds at most {MAX_KEY}"
        )),
        _ => Ok(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn file(name: &str, bytes: &[u8], mode: u32) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("pfd-key-{name}-{}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn a_private_file_of_16_to_1024_bytes_is_a_key() {
        for (n, len) in [("k16", 16), ("k1024", 1024)] {
            let p = file(n, &vec![7; len], 0o600);
            assert_eq!(read_key(&p).unwrap().len(), len);
            let _ = std::fs::remove_file(p);
        }
        // owner read-only is private too
        let p = file("k400", b"0123456789abcdef\n", 0o400);
        assert_eq!(read_key(&p).unwrap(), b"0123456789abcdef\n");
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn open_short_long_missing_and_odd_files_are_refused() {
        let cases: [(&str, &[u8], u32, &str); 5] = [
            (
                "g",
                &[1; 32],
                0o640,
                "group or others have access (mode 0640): chmod 600 it",
            ),
            (
                "o",
                &[1; 32],
                0o604,
                "group or others have access (mode 0604)",
            ),
            ("w", &[1; 32], 0o620, "(mode 0620)"),
            (
                "short",
                &[1; 15],
                0o600,
                "15 bytes, a key needs at least 16",
            ),
            (
                "long",
                &[1; 1025],
                0o600,
                "1025 bytes, a key file holds at most 1024",
            ),
        ];
        for (name, bytes, mode, want) in cases {
            let p = file(name, bytes, mode);
            let e = read_key(&p).unwrap_err();
            assert!(
                e.starts_with(&format!("authkey {}: ", p.display())) && e.contains(want),
                "{name}: {e}"
            );
            let _ = std::fs::remove_file(p);
        }
        let gone = std::env::temp_dir().join("pfd-key-never-there");
        assert!(read_key(&gone).unwrap_err().contains("No such file"));
        assert!(read_key(&std::env::temp_dir())
            .unwrap_err()
            .ends_with("not a regular file"));
    }
}
