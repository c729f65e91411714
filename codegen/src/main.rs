//! `cargo run -p codegen -- <generate|check|normalize DIR|verify-upstream DIR>`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["generate"] => codegen::write_generated().map(|()| {
            println!("wrote {}", codegen::generated_dir().display());
            true
        }),
        ["check"] => codegen::drift().map(|files| {
            for f in &files {
                eprintln!("drift: {f} (run `cargo run -p codegen -- generate`)");
            }
            files.is_empty()
        }),
        ["normalize", dir] => codegen::normalize(&PathBuf::from(dir)).map(|()| {
            println!("wrote {}", codegen::proto_root().display());
            true
        }),
        ["verify-upstream", dir] => codegen::verify_upstream(&PathBuf::from(dir)).map(|diffs| {
            for d in &diffs {
                eprintln!("{d}");
            }
            if diffs.is_empty() {
                println!("our .proto files describe exactly the upstream schema");
            }
            diffs.is_empty()
        }),
        _ => {
            eprintln!("usage: codegen [generate | check | normalize DIR | verify-upstream DIR]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("codegen: {e}");
            ExitCode::FAILURE
        }
    }
}
