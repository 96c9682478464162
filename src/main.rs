//! The `guichet` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    guichet::cli::main()
}
