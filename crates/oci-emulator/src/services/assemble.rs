//! Assembling a committed multipart upload: the parts, in order, streamed into
//! one content-addressed blob through a fixed-size buffer while hashing.

use std::io::{Read, Write};
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::Digest;

use super::multipart::part_path;
use super::objectstorage::blob_path;

/// Hashes of an assembled blob.
pub(crate) struct Assembled {
    pub sha256: String,
    pub md5: String,
    pub size: u64,
}

/// Concatenate the parts into `<blob dir>/<sha256>` with a fixed-size buffer.
pub(crate) fn assemble(
    blob_dir: &Path,
    upload_id: &str,
    nums: &[u32],
) -> std::io::Result<Assembled> {
    let tmp = blob_dir.join(format!(".assemble.{upload_id}.{}.tmp", fastrand::u64(..)));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut out = opts.open(&tmp)?;
        let mut sha = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        let mut md5 = md5::Md5::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        for n in nums {
            let mut part = std::fs::File::open(part_path(blob_dir, upload_id, *n))?;
            loop {
                let got = part.read(&mut buf)?;
                if got == 0 {
                    break;
                }
                let chunk = buf.get(..got).unwrap_or_default();
                sha.update(chunk);
                md5.update(chunk);
                out.write_all(chunk)?;
                size += got as u64;
            }
        }
        out.sync_all()?;
        let sha256: String = sha
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let dest = blob_path(blob_dir, &sha256);
        if dest.exists() {
            std::fs::remove_file(&tmp)?;
        } else {
            std::fs::rename(&tmp, &dest)?;
        }
        Ok(Assembled {
            sha256,
            md5: STANDARD.encode(md5.finalize()),
            size,
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
