//! Runnable example frameworks and executors for the Rust Mesos SDK.
//!
//! The examples (ports of the Java Mesos+Docker tutorial's `ExampleFramework`
//! and of Mesos's test framework and executor) arrive with the scheduler,
//! executor and in-process cluster crates; each will run with
//! `cargo run -p mesos-examples --example <name>`.
