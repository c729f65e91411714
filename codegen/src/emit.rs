//! Renders a compiled `FileDescriptorProto` back into `.proto` source text.
//!
//! Used by `codegen normalize` to turn an upstream Mesos `.proto` file into the
//! repository's own file: the same packages, messages, fields, numbers, labels,
//! types, defaults and options (the protocol facts), in a uniform layout of our
//! own and without the upstream commentary.

use std::fmt::Write as _;

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
};

/// Renders `file` as `.proto` text, starting with `header` (comment lines).
pub fn render_file(file: &FileDescriptorProto, header: &str) -> String {
    let package = file.package().to_string();
    let mut out = String::new();
    out.push_str(header);
    out.push_str("\nsyntax = \"proto2\";\n\n");
    let _ = writeln!(out, "package {package};\n");
    for dep in &file.dependency {
        let _ = writeln!(out, "import \"{dep}\";");
    }
    if !file.dependency.is_empty() {
        out.push('\n');
    }
    if let Some(opts) = &file.options {
        if let Some(v) = &opts.java_package {
            let _ = writeln!(out, "option java_package = \"{v}\";");
        }
        if let Some(v) = &opts.java_outer_classname {
            let _ = writeln!(out, "option java_outer_classname = \"{v}\";");
        }
    }
    let scope = Scope { package };
    for e in &file.enum_type {
        out.push('\n');
        render_enum(&mut out, e, 0);
    }
    for m in &file.message_type {
        out.push('\n');
        render_message(&mut out, &scope, m, 0);
    }
    out
}

struct Scope {
    package: String,
}

impl Scope {
    /// Shortens a fully qualified type name (`.mesos.v1.TaskID`) to the form
    /// written in source: names in the file's own package lose the package
    /// prefix; names from other packages keep it (without the leading dot),
    /// so that a nested type of the same simple name cannot capture them.
    fn type_name(&self, full: &str) -> String {
        let own = format!(".{}.", self.package);
        match full.strip_prefix(&own) {
            Some(rest) => rest.to_string(),
            None => full.trim_start_matches('.').to_string(),
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn render_enum(out: &mut String, e: &EnumDescriptorProto, depth: usize) {
    indent(out, depth);
    let _ = writeln!(out, "enum {} {{", e.name());
    for v in &e.value {
        indent(out, depth + 1);
        let deprecated = v.options.as_ref().and_then(|o| o.deprecated) == Some(true);
        let opts = if deprecated {
            " [deprecated = true]"
        } else {
            ""
        };
        let _ = writeln!(out, "{} = {}{};", v.name(), v.number(), opts);
    }
    indent(out, depth);
    out.push_str("}\n");
}

fn render_message(out: &mut String, scope: &Scope, m: &DescriptorProto, depth: usize) {
    indent(out, depth);
    let _ = writeln!(out, "message {} {{", m.name());
    if m.options.as_ref().and_then(|o| o.deprecated) == Some(true) {
        indent(out, depth + 1);
        out.push_str("option deprecated = true;\n");
    }
    for e in &m.enum_type {
        render_enum(out, e, depth + 1);
        out.push('\n');
    }
    for nested in &m.nested_type {
        if is_map_entry(nested) {
            continue;
        }
        render_message(out, scope, nested, depth + 1);
        out.push('\n');
    }
    let mut emitted_oneofs = Vec::new();
    for (i, field) in m.field.iter().enumerate() {
        match field.oneof_index {
            Some(idx) if !field.proto3_optional() => {
                if emitted_oneofs.contains(&idx) {
                    continue;
                }
                emitted_oneofs.push(idx);
                let name = m
                    .oneof_decl
                    .get(idx as usize)
                    .map(|o| o.name().to_string())
                    .unwrap_or_default();
                indent(out, depth + 1);
                let _ = writeln!(out, "oneof {name} {{");
                for member in m.field[i..].iter().filter(|f| f.oneof_index == Some(idx)) {
                    indent(out, depth + 2);
                    render_field_body(out, scope, m, member, false);
                }
                indent(out, depth + 1);
                out.push_str("}\n");
            }
            _ => {
                indent(out, depth + 1);
                render_field_body(out, scope, m, field, true);
            }
        }
    }
    for range in &m.reserved_range {
        indent(out, depth + 1);
        let (start, end) = (range.start(), range.end() - 1);
        if start == end {
            let _ = writeln!(out, "reserved {start};");
        } else {
            let _ = writeln!(out, "reserved {start} to {end};");
        }
    }
    for name in &m.reserved_name {
        indent(out, depth + 1);
        let _ = writeln!(out, "reserved \"{name}\";");
    }
    indent(out, depth);
    out.push_str("}\n");
}

fn is_map_entry(m: &DescriptorProto) -> bool {
    m.options.as_ref().and_then(|o| o.map_entry) == Some(true)
}

fn map_entry<'a>(
    m: &'a DescriptorProto,
    field: &FieldDescriptorProto,
) -> Option<&'a DescriptorProto> {
    if field.label() != Label::Repeated || field.r#type() != Type::Message {
        return None;
    }
    let simple = field.type_name().rsplit('.').next()?;
    m.nested_type
        .iter()
        .find(|n| n.name() == simple && is_map_entry(n))
}

fn render_field_body(
    out: &mut String,
    scope: &Scope,
    m: &DescriptorProto,
    field: &FieldDescriptorProto,
    with_label: bool,
) {
    let ty = if let Some(entry) = map_entry(m, field) {
        let key = entry.field.iter().find(|f| f.number() == 1);
        let value = entry.field.iter().find(|f| f.number() == 2);
        match (key, value) {
            (Some(k), Some(v)) => {
                format!("map<{}, {}>", field_type(scope, k), field_type(scope, v))
            }
            _ => field_type(scope, field),
        }
    } else {
        let label = match field.label() {
            Label::Optional => "optional ",
            Label::Required => "required ",
            Label::Repeated => "repeated ",
        };
        let label = if with_label { label } else { "" };
        format!("{label}{}", field_type(scope, field))
    };
    let mut options = Vec::new();
    if let Some(default) = &field.default_value {
        options.push(format!("default = {}", default_literal(field, default)));
    }
    if let Some(opts) = &field.options {
        if opts.deprecated == Some(true) {
            options.push("deprecated = true".to_string());
        }
        if let Some(packed) = opts.packed {
            options.push(format!("packed = {packed}"));
        }
    }
    let opts = if options.is_empty() {
        String::new()
    } else {
        format!(" [{}]", options.join(", "))
    };
    let _ = writeln!(out, "{ty} {} = {}{opts};", field.name(), field.number());
}

fn field_type(scope: &Scope, field: &FieldDescriptorProto) -> String {
    match field.r#type() {
        Type::Double => "double".into(),
        Type::Float => "float".into(),
        Type::Int64 => "int64".into(),
        Type::Uint64 => "uint64".into(),
        Type::Int32 => "int32".into(),
        Type::Fixed64 => "fixed64".into(),
        Type::Fixed32 => "fixed32".into(),
        Type::Bool => "bool".into(),
        Type::String => "string".into(),
        Type::Bytes => "bytes".into(),
        Type::Uint32 => "uint32".into(),
        Type::Sfixed32 => "sfixed32".into(),
        Type::Sfixed64 => "sfixed64".into(),
        Type::Sint32 => "sint32".into(),
        Type::Sint64 => "sint64".into(),
        Type::Group | Type::Message | Type::Enum => scope.type_name(field.type_name()),
    }
}

fn default_literal(field: &FieldDescriptorProto, default: &str) -> String {
    match field.r#type() {
        Type::String | Type::Bytes => {
            let mut s = String::from("\"");
            for c in default.chars() {
                match c {
                    '"' => s.push_str("\\\""),
                    '\\' => s.push_str("\\\\"),
                    '\n' => s.push_str("\\n"),
                    c => s.push(c),
                }
            }
            s.push('"');
            s
        }
        _ => default.to_string(),
    }
}
