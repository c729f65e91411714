//! How prost names the Rust items of the Mesos schema: the module of each
//! package, the path of each message and enum, nested modules, keywords.
//! Shared by the generators that emit code over prost's types.

use std::collections::BTreeMap;

use heck::{ToSnakeCase, ToUpperCamelCase};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};

/// The Rust module path (relative to the crate root) of each package.
fn package_module(package: &str) -> Option<&'static str> {
    match package {
        "mesos.v1" => Some("crate::v1"),
        "mesos.v1.scheduler" => Some("crate::v1::scheduler"),
        "mesos.v1.executor" => Some("crate::v1::executor"),
        "mesos.v1.allocator" => Some("crate::v1::allocator"),
        "mesos.v1.maintenance" => Some("crate::v1::maintenance"),
        "mesos.v1.quota" => Some("crate::v1::quota"),
        "mesos.v1.master" => Some("crate::v1::master"),
        "mesos.v1.agent" => Some("crate::v1::agent"),
        _ => None,
    }
}

/// prost's identifier rules: raw identifiers for keywords, `_` suffix for
/// the few that cannot be raw.
pub fn sanitize(ident: String) -> String {
    match ident.as_str() {
        "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for" | "if"
        | "impl" | "in" | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub" | "ref"
        | "return" | "static" | "struct" | "trait" | "true" | "type" | "unsafe" | "use"
        | "where" | "while" | "dyn" | "abstract" | "become" | "box" | "do" | "final" | "macro"
        | "override" | "priv" | "typeof" | "unsized" | "virtual" | "yield" | "async" | "await"
        | "try" | "gen" => format!("r#{ident}"),
        "_" | "super" | "self" | "Self" | "extern" | "crate" => format!("{ident}_"),
        _ => ident,
    }
}

/// The Rust field name prost gives a proto field (or oneof).
pub fn field_ident(name: &str) -> String {
    sanitize(name.to_snake_case())
}

/// The Rust type (or enum variant) name prost gives a proto name.
pub fn type_ident(name: &str) -> String {
    sanitize(name.to_upper_camel_case())
}

/// A message of the schema and where prost put it.
#[derive(Debug)]
pub struct Message<'a> {
    /// The type's path, e.g. `crate::v1::TaskInfo`.
    pub rust_path: String,
    /// The module of the message's nested types (and oneof enums).
    pub nested_module: String,
    /// Its descriptor.
    pub descriptor: &'a DescriptorProto,
}

/// Every message, map entry and enum of the Mesos packages, by full name
/// (`.mesos.v1.TaskInfo`).
#[derive(Debug, Default)]
pub struct Schema<'a> {
    /// Messages other than map entries.
    pub messages: BTreeMap<String, Message<'a>>,
    /// The synthetic entry messages of map fields.
    pub map_entries: BTreeMap<String, &'a DescriptorProto>,
    /// Enum paths, e.g. `crate::v1::task_status::Reason`.
    pub enums: BTreeMap<String, String>,
}

impl<'a> Schema<'a> {
    /// Collects the Mesos packages of `fds`.
    pub fn new(fds: &'a FileDescriptorSet) -> Self {
        let mut schema = Schema::default();
        for file in &fds.file {
            if let Some(module) = package_module(file.package()) {
                let scope = format!(".{}", file.package());
                schema.collect_enums(&scope, module, &file.enum_type);
                schema.collect(&scope, module, &file.message_type);
            }
        }
        schema
    }

    fn collect_enums(&mut self, scope: &str, module: &str, enums: &[EnumDescriptorProto]) {
        for e in enums {
            self.enums.insert(
                format!("{scope}.{}", e.name()),
                format!("{module}::{}", type_ident(e.name())),
            );
        }
    }

    fn collect(&mut self, scope: &str, module: &str, messages: &'a [DescriptorProto]) {
        for message in messages {
            let name = message.name();
            let full = format!("{scope}.{name}");
            if message.options.as_ref().is_some_and(|o| o.map_entry()) {
                self.map_entries.insert(full, message);
                continue;
            }
            let rust_path = format!("{module}::{}", type_ident(name));
            let nested_module = format!("{module}::{}", field_ident(name));
            self.collect_enums(&full, &nested_module, &message.enum_type);
            self.collect(&full, &nested_module, &message.nested_type);
            self.messages.insert(
                full,
                Message {
                    rust_path,
                    nested_module,
                    descriptor: message,
                },
            );
        }
    }
}
