//! kdebug's entry point: parse, run, map the result to an exit code. Everything else lives
//! in the library.

use std::process::ExitCode;

/// One heap, no per-thread caches (see Cargo.toml): fan-out workers come and go, and glibc's
/// malloc kept each one's high-water mark.
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() -> ExitCode {
    kdebug::sys::signals::init();
    kdebug::sys::term::install_panic_hook();
    let code = kdebug::app::main(std::env::args_os().skip(1).collect());
    ExitCode::from(code)
}
