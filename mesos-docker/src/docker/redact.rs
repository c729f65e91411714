//! Secrets out of what is logged: environment values in command lines and
//! in `docker inspect` output.

/// The inspect object with `Config.Env` values replaced by `[redacted]`.
pub(super) fn redacted_inspect(object: &serde_json::Value) -> serde_json::Value {
    let mut object = object.clone();
    if let Some(env) = object
        .pointer_mut("/Config/Env")
        .and_then(serde_json::Value::as_array_mut)
    {
        for entry in env {
            if let Some((name, _)) = entry.as_str().and_then(|s| s.split_once('=')) {
                *entry = serde_json::Value::String(format!("{name}=[redacted]"));
            }
        }
    }
    object
}

/// ` arg arg ...` with the values of environment assignments redacted.
pub(super) fn redact_args(args: &[String]) -> String {
    fn assignment(text: &str) -> String {
        match text.split_once('=') {
            Some((name, _)) => format!("{name}=[redacted]"),
            None => text.to_string(),
        }
    }
    let mut out = String::new();
    let mut value_next = false;
    for arg in args {
        out.push(' ');
        if value_next {
            out.push_str(&assignment(arg));
            value_next = false;
        } else if arg == "-e" || arg == "--env" {
            out.push_str(arg);
            value_next = true;
        } else if let Some(rest) = arg.strip_prefix("--env=") {
            out.push_str("--env=");
            out.push_str(&assignment(rest));
        } else if let Some(rest) = arg.strip_prefix("-e").filter(|r| r.contains('=')) {
            out.push_str("-e");
            out.push_str(&assignment(rest));
        } else {
            out.push_str(arg);
        }
    }
    out
}
