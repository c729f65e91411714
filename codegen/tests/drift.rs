//! The checked-in generated code must be exactly what the `.proto` files produce.

#[test]
fn generated_code_matches_proto_files() {
    let drifted = codegen::drift().expect("codegen runs");
    assert!(
        drifted.is_empty(),
        "generated code is stale for {drifted:?}; run `cargo run -p codegen -- generate`"
    );
}
