fn main() {
    std::process::exit(cclocal::cli::main());
}
