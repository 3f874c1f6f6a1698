fn main() {
    eprintln!("fakecluster: not yet implemented");
    std::process::exit(1);
}
