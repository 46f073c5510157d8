//! (being written)

/// `tessera check-snapshot PATH`: the process exit code.
pub fn check_main(args: &[String]) -> i32 {
    let _ = args;
    2
}
