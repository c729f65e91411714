//! Code generation for `mesos-proto`.
//!
//! The Mesos v1 `.proto` files under `mesos-proto/proto/` are compiled with
//! [`protox`] (pure Rust, no system `protoc`) and turned into Rust by
//! [`prost_build`]. The output is checked in under `mesos-proto/src/generated/`
//! so that users of the crate need neither tool; `cargo test -p codegen`
//! regenerates it in memory and fails if the checked-in copy has drifted.
//!
//! Commands (`cargo run -p codegen -- <command>`):
//! - `generate`: rewrite `mesos-proto/src/generated/` from the `.proto` files.
//! - `check`: exit non-zero if the checked-in code differs from a fresh run.
//! - `normalize <include-dir>`: rewrite our `.proto` files from an upstream
//!   Apache Mesos `include/` directory (facts only: names, numbers, types,
//!   labels, defaults, options; layout and comments are ours).
//! - `verify-upstream <include-dir>`: check that our `.proto` files describe
//!   exactly the same schema as the upstream ones.

pub mod emit;
pub mod json;
pub mod names;
pub mod shrink;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use prost::Message as _;
use prost_types::FileDescriptorSet;

/// The Mesos v1 files, relative to the include root, in dependency order.
///
/// The operator APIs (`master`, `agent`) come with what they import:
/// `allocator`, `maintenance` and `quota`. `google/protobuf/duration.proto`
/// (imported by `master`) is protox's built-in copy and maps to
/// `prost_types::Duration`.
pub const PROTO_FILES: [&str; 8] = [
    "mesos/v1/mesos.proto",
    "mesos/v1/scheduler/scheduler.proto",
    "mesos/v1/executor/executor.proto",
    "mesos/v1/allocator/allocator.proto",
    "mesos/v1/maintenance/maintenance.proto",
    "mesos/v1/quota/quota.proto",
    "mesos/v1/master/master.proto",
    "mesos/v1/agent/agent.proto",
];

/// Name of the encoded `FileDescriptorSet` written next to the generated code.
pub const DESCRIPTOR_FILE: &str = "mesos_v1_descriptor.bin";

/// Message fields generated as `Option<Box<T>>` instead of `Option<T>`.
///
/// prost stores a singular message field inline, so a message is as large as
/// all its optional parts together: a `Resource` was 1,176 bytes (its rarely
/// set `disk` alone 904), a `TaskInfo` 2,688, an `Offer.Operation` over 7 KB,
/// though most of it is `None` in practice. These values are copied, cloned
/// and held by the thousand (every offer's and task's resources, every
/// launch), so the large, rarely set fields of the types held in bulk are
/// boxed: an unset field costs one pointer. The wire format is unchanged.
pub const BOXED_FIELDS: [&str; 12] = [
    ".mesos.v1.Resource.disk",
    ".mesos.v1.TaskInfo.executor",
    ".mesos.v1.TaskInfo.container",
    ".mesos.v1.TaskInfo.health_check",
    ".mesos.v1.TaskInfo.check",
    ".mesos.v1.TaskInfo.discovery",
    ".mesos.v1.ExecutorInfo.container",
    ".mesos.v1.ExecutorInfo.discovery",
    ".mesos.v1.Offer.Operation.launch_group",
    ".mesos.v1.Offer.Operation.grow_volume",
    ".mesos.v1.Offer.Operation.shrink_volume",
    ".mesos.v1.Offer.Operation.create_disk",
];

/// Any failure of a codegen step, as a human-readable message.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

/// Where our `.proto` files live.
pub fn proto_root() -> PathBuf {
    workspace_root().join("mesos-proto").join("proto")
}

/// Where the generated Rust code is checked in.
pub fn generated_dir() -> PathBuf {
    workspace_root()
        .join("mesos-proto")
        .join("src")
        .join("generated")
}

/// Compiles the Mesos v1 files found under `include`.
pub fn compile(include: &Path, source_info: bool) -> Result<FileDescriptorSet, Error> {
    let mut compiler = protox::Compiler::new([include])?;
    compiler.include_source_info(source_info);
    compiler.include_imports(true);
    compiler.open_files(PROTO_FILES)?;
    Ok(compiler.file_descriptor_set())
}

/// Generates the Rust modules and the descriptor set, keyed by file name.
pub fn generate(include: &Path) -> Result<BTreeMap<String, Vec<u8>>, Error> {
    let fds = compile(include, true)?;
    let out_dir = scratch_dir("codegen-out")?;
    let mut config = prost_build::Config::new();
    config
        .out_dir(&out_dir)
        .enable_type_names()
        .bytes(["."])
        .btree_map(["."]);
    for field in BOXED_FIELDS {
        config.boxed(field);
    }
    let shrink = shrink::render(&fds);
    let json = json::render(&fds)?;
    config.compile_fds(fds)?;

    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&out_dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("generated file without a UTF-8 name")?
            .to_string();
        files.insert(name, std::fs::read(&path)?);
    }
    std::fs::remove_dir_all(&out_dir)?;

    files.insert(shrink::SHRINK_FILE.to_string(), shrink.into_bytes());
    files.insert(json::JSON_FILE.to_string(), json.into_bytes());
    let bare = compile(include, false)?;
    files.insert(DESCRIPTOR_FILE.to_string(), bare.encode_to_vec());
    Ok(files)
}

/// Compares a fresh generation with what is checked in; returns the names of
/// the files that differ (missing, extra or changed).
pub fn drift() -> Result<Vec<String>, Error> {
    let fresh = generate(&proto_root())?;
    let dir = generated_dir();
    let mut differing = Vec::new();
    for (name, contents) in &fresh {
        match std::fs::read(dir.join(name)) {
            Ok(existing) if &existing == contents => {}
            _ => differing.push(name.clone()),
        }
    }
    for entry in std::fs::read_dir(&dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name != "mod.rs" && !fresh.contains_key(&name) {
            differing.push(name);
        }
    }
    Ok(differing)
}

/// Writes a fresh generation into the checked-in directory.
pub fn write_generated() -> Result<(), Error> {
    let dir = generated_dir();
    std::fs::create_dir_all(&dir)?;
    for (name, contents) in generate(&proto_root())? {
        std::fs::write(dir.join(name), contents)?;
    }
    Ok(())
}

const HEADER: &str = "\
// Mesos v1 API schema, as of the Apache Mesos 1.11.0 release.
//
// Every package, message, enum, field name, number, type, label, default and
// option here matches upstream `include/mesos/v1/` at tag 1.11.0; the layout is
// produced by `cargo run -p codegen -- normalize`, and
// `cargo run -p codegen -- verify-upstream <include-dir>` proves the match.
// The meaning of each field is documented by the Mesos project; the Rust
// builders in this crate document the parts a framework author needs.
";

/// Rewrites our `.proto` files from an upstream include directory.
pub fn normalize(upstream: &Path) -> Result<(), Error> {
    let fds = compile(upstream, false)?;
    let root = proto_root();
    // Well-known types (`google/protobuf/*`) are built into protox.
    for file in fds.file.iter().filter(|f| !f.name().starts_with("google/")) {
        let path = root.join(file.name());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, emit::render_file(file, HEADER))?;
    }
    Ok(())
}

/// Checks that our files and the upstream ones describe the same schema.
/// Returns a description of each difference (empty when identical).
pub fn verify_upstream(upstream: &Path) -> Result<Vec<String>, Error> {
    let ours = comparable(compile(&proto_root(), false)?);
    let theirs = comparable(compile(upstream, false)?);
    let mut diffs = Vec::new();
    if ours.file.len() != theirs.file.len() {
        diffs.push(format!(
            "file count differs: ours {}, upstream {}",
            ours.file.len(),
            theirs.file.len()
        ));
    }
    for (a, b) in ours.file.iter().zip(theirs.file.iter()) {
        if a != b {
            diffs.push(format!("{} differs from upstream {}", a.name(), b.name()));
            diffs.extend(describe_message_diffs(a, b));
        }
    }
    Ok(diffs)
}

/// Drops what does not belong to the schema: source positions and the
/// `json_name` that compilers fill in.
fn comparable(mut fds: FileDescriptorSet) -> FileDescriptorSet {
    fn strip(m: &mut prost_types::DescriptorProto) {
        for f in &mut m.field {
            f.json_name = None;
        }
        for n in &mut m.nested_type {
            strip(n);
        }
    }
    for file in &mut fds.file {
        file.source_code_info = None;
        for m in &mut file.message_type {
            strip(m);
        }
    }
    fds
}

fn describe_message_diffs(
    a: &prost_types::FileDescriptorProto,
    b: &prost_types::FileDescriptorProto,
) -> Vec<String> {
    let mut diffs = Vec::new();
    for ma in &a.message_type {
        match b.message_type.iter().find(|mb| mb.name() == ma.name()) {
            Some(mb) if mb != ma => diffs.push(format!("  message {} differs", ma.name())),
            None => diffs.push(format!("  message {} missing upstream", ma.name())),
            _ => {}
        }
    }
    if a.enum_type != b.enum_type {
        diffs.push("  top-level enums differ".to_string());
    }
    if a.options != b.options || a.dependency != b.dependency || a.package != b.package {
        diffs.push("  file header (package, imports or options) differs".to_string());
    }
    diffs
}

fn scratch_dir(prefix: &str) -> Result<PathBuf, Error> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
