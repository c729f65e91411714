//! Unpacking fetched archives into the sandbox, by file name as Mesos
//! does: `.tar`, `.tgz`, `.tar.gz`, `.tbz2`, `.tar.bz2`, `.txz`, `.tar.xz`,
//! `.zip`; a bare `.gz` is gunzipped next to it. Entries that would land
//! outside the sandbox are refused: absolute paths, `..` components, and
//! links whose target is absolute or contains `..`.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Component, Path};

use super::FetchError;

/// The most entries one archive may have.
const MAX_ENTRIES: usize = 1_000_000;

/// Extracts `archive` into `directory` if `name` (the archive's file name,
/// or the URI's for a cache file) says it is an archive; false if it is
/// not one.
pub(super) fn extract(archive: &Path, name: &str, directory: &Path) -> Result<bool, FetchError> {
    let fail = |reason: String| FetchError::Extract {
        archive: archive.display().to_string(),
        directory: directory.display().to_string(),
        reason,
    };
    let open = || {
        File::open(archive)
            .map(BufReader::new)
            .map_err(|e| fail(e.to_string()))
    };
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| name.ends_with(s));
    if ends(&[".tar"]) {
        untar(open()?, directory).map_err(fail)?;
    } else if ends(&[".tgz", ".tar.gz"]) {
        untar(flate2::bufread::MultiGzDecoder::new(open()?), directory).map_err(fail)?;
    } else if ends(&[".tbz2", ".tar.bz2"]) {
        untar(bzip2::bufread::MultiBzDecoder::new(open()?), directory).map_err(fail)?;
    } else if ends(&[".txz", ".tar.xz"]) {
        untar(
            liblzma::bufread::XzDecoder::new_multi_decoder(open()?),
            directory,
        )
        .map_err(fail)?;
    } else if ends(&[".zip"]) {
        unzip(archive, directory).map_err(fail)?;
    } else if let Some(stem) = name.strip_suffix(".gz").filter(|s| !s.is_empty()) {
        let mut input = flate2::bufread::MultiGzDecoder::new(open()?);
        let target = directory.join(stem);
        let mut output = File::create(&target).map_err(|e| fail(e.to_string()))?;
        std::io::copy(&mut input, &mut output).map_err(|e| fail(e.to_string()))?;
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// A relative path with only normal components (`.` allowed).
fn stays_inside(path: &Path) -> bool {
    !path.as_os_str().is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

fn untar(reader: impl Read, directory: &Path) -> Result<(), String> {
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.set_overwrite(true);
    let entries = archive.entries().map_err(|e| e.to_string())?;
    for (count, entry) in entries.enumerate() {
        if count >= MAX_ENTRIES {
            return Err(format!("more than {MAX_ENTRIES} entries"));
        }
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        if !stays_inside(&path) {
            return Err(format!(
                "the entry '{}' would be outside the sandbox",
                path.display()
            ));
        }
        if let Some(target) = entry.link_name().map_err(|e| e.to_string())? {
            if !stays_inside(&target) {
                return Err(format!(
                    "the link '{}' points outside the sandbox ('{}')",
                    path.display(),
                    target.display()
                ));
            }
        }
        let unpacked = entry.unpack_in(directory).map_err(|e| e.to_string())?;
        if !unpacked {
            return Err(format!(
                "the entry '{}' would be outside the sandbox",
                path.display()
            ));
        }
    }
    Ok(())
}

fn unzip(archive: &Path, directory: &Path) -> Result<(), String> {
    let file = File::open(archive).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| e.to_string())?;
    if zip.len() > MAX_ENTRIES {
        return Err(format!("more than {MAX_ENTRIES} entries"));
    }
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).map_err(|e| e.to_string())?;
        let name = entry.name().map_err(|e| e.to_string())?.into_owned();
        if !entry.enclosed_name().is_some_and(|p| stays_inside(&p)) {
            return Err(format!("the entry '{name}' would be outside the sandbox"));
        }
        if entry.is_symlink() {
            let mut target = String::new();
            (&mut entry)
                .take(4096)
                .read_to_string(&mut target)
                .map_err(|e| e.to_string())?;
            if !stays_inside(Path::new(&target)) {
                return Err(format!(
                    "the link '{name}' points outside the sandbox ('{target}')"
                ));
            }
        }
    }
    zip.extract(directory).map_err(|e| e.to_string())
}
