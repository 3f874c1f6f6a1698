//! kdebug's entry point: parse, run, map the result to an exit code. Everything else lives
//! in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    kdebug::sys::signals::init();
    kdebug::sys::term::install_panic_hook();
    let code = kdebug::app::main(std::env::args_os().skip(1).collect());
    ExitCode::from(code)
}
