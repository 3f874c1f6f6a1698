use std::process::ExitCode;

fn main() -> ExitCode {
    // `kdebug config ...` mirrors `kubectl config view|current-context|get-contexts`.
    let mut argv = std::env::args_os().skip(1);
    if argv.next().is_some_and(|a| a == "config") {
        let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
        let rc = kdebug::kubeconfig::view::config_main(argv.collect(), &mut out, &mut err);
        return ExitCode::from(rc as u8);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--version") {
        println!("kdebug {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    eprintln!("kdebug: not yet implemented");
    ExitCode::from(1)
}
