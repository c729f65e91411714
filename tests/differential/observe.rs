//! Normalised observations: what may be compared between two masters (no
//! ids, uuids, timestamps, hostnames or ports; parser details reduced to
//! their kind).

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::http::Response;

/// The observations of one scenario, in order.
#[derive(Debug, Default)]
pub(crate) struct Observations {
    pub(crate) steps: Vec<Value>,
}

impl Observations {
    /// Records `value` under `step`.
    pub(crate) fn push(&mut self, step: &str, value: Value) {
        let mut object = Map::new();
        object.insert("step".into(), Value::String(step.into()));
        match value {
            Value::Object(fields) => object.extend(fields),
            other => {
                object.insert("value".into(), other);
            }
        }
        self.steps.push(Value::Object(object));
    }

    /// Records an answer: status, content type, the headers that matter
    /// (`Allow`, `Mesos-Stream-Id` presence, `Location` presence) and the
    /// normalised body text (non-streaming answers).
    pub(crate) fn answer(&mut self, step: &str, response: &Response) {
        self.push(step, answer(response));
    }

    /// All steps as one JSON value.
    pub(crate) fn into_value(self) -> Value {
        Value::Array(self.steps)
    }
}

/// An answer's observation (see [`Observations::answer`]).
pub(crate) fn answer(response: &Response) -> Value {
    let mut object = Map::new();
    object.insert("status".into(), json!(response.status));
    object.insert(
        "content_type".into(),
        json!(response.header("content-type")),
    );
    if let Some(allow) = response.header("allow") {
        object.insert("allow".into(), json!(allow));
    }
    object.insert(
        "stream_id".into(),
        json!(response.header("mesos-stream-id").is_some()),
    );
    if response.events.is_none() {
        object.insert("body".into(), json!(message_kind(&response.text())));
    }
    Value::Object(object)
}

/// An error message with what varies between runs and implementations
/// replaced: uuids, framework/agent/offer ids, parser details.
pub(crate) fn message_kind(text: &str) -> String {
    let text = text.trim();
    // Parser details (position, the parser's own wording) differ between
    // picojson/protobuf and serde; the kind is the prefix.
    for prefix in [
        "Failed to parse body into JSON:",
        "Failed to parse body into Call protobuf",
    ] {
        if text.starts_with(prefix) {
            return format!("{prefix} <detail>");
        }
    }
    let convert = "Failed to convert JSON into Call protobuf:";
    if let Some(rest) = text.strip_prefix(convert) {
        if !rest.trim_start().starts_with("Missing required fields") {
            return format!("{convert} <detail>");
        }
    }
    redact_ids(text)
}

/// Replaces uuids (and the `-NNNN` suffixes of framework/agent ids and
/// offer ids built on them) with `<id>`.
pub(crate) fn redact_ids(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(len) = uuid_at(&text[i..]) {
            out.push_str("<id>");
            i += len;
            // -O123, -S0, -0000 suffixes.
            while i < bytes.len() && bytes[i] == b'-' {
                let rest = &text[i + 1..];
                let suffix = rest
                    .char_indices()
                    .take_while(|(_, c)| c.is_ascii_alphanumeric())
                    .last()
                    .map_or(0, |(j, c)| j + c.len_utf8());
                if suffix == 0 || !rest[..suffix].bytes().any(|b| b.is_ascii_digit()) {
                    break;
                }
                i += 1 + suffix;
            }
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The length of a uuid (8-4-4-4-12 hex) at the start of `text`.
fn uuid_at(text: &str) -> Option<usize> {
    let groups = [8, 4, 4, 4, 12];
    let bytes = text.as_bytes();
    let mut i = 0;
    for (n, len) in groups.iter().enumerate() {
        if bytes.len() < i + len || !bytes[i..i + len].iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        i += len;
        if n < groups.len() - 1 {
            if bytes.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
    }
    Some(i)
}

/// `(pid 1234)` → `(pid <pid>)`.
fn redact_pid(text: &str) -> String {
    let Some(start) = text.find("(pid ") else {
        return text.to_string();
    };
    let digits = text[start + 5..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    format!(
        "{}(pid <pid>{}",
        &text[..start],
        &text[start + 5 + digits..]
    )
}

/// The paths of the fields present in `value` (`a.b`, `list[].c`), sorted.
pub(crate) fn fields(value: &Value) -> Vec<String> {
    let mut out = BTreeSet::new();
    collect(value, "", &mut out);
    out.into_iter().collect()
}

fn collect(value: &Value, path: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, value) in map {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                collect(value, &sub, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            // `{}` in a list: an enum value the real master's JSON mapping
            // does not name (a deliberate difference, see mesos-local's
            // crate docs); not compared.
            for item in items
                .iter()
                .filter(|i| i.as_object().is_none_or(|o| !o.is_empty()))
            {
                collect(item, &format!("{path}[]"), out);
            }
        }
        _ => {
            out.insert(path.to_string());
        }
    }
}

/// An event's observation: its type and the fields present.
pub(crate) fn event(event: &Value) -> Value {
    json!({ "type": event["type"], "fields": fields(event) })
}

/// A task status update's observation: state, source, reason, and the
/// fields present.
pub(crate) fn update(event: &Value) -> Value {
    let status = &event["update"]["status"];
    json!({
        "type": event["type"],
        "state": status["state"],
        "source": status["source"],
        "reason": status["reason"],
        "message": status["message"].as_str().map(|m| redact_pid(&message_kind(m))),
        "fields": fields(event),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_redacted() {
        assert_eq!(
            redact_ids("framework 66a3d8e1-2546-4355-b1c1-0796ab2b1438-0001 gone"),
            "framework <id> gone"
        );
        assert_eq!(
            redact_ids("offer 66a3d8e1-2546-4355-b1c1-0796ab2b1438-O12 x-1"),
            "offer <id> x-1"
        );
    }
}
