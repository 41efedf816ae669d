use clap::Parser;
use clap::error::ErrorKind;

use uba::cli::{Cli, dispatch, usage_error};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.exit()
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
        Err(e) => {
            eprintln!("uba: {}", usage_error(&e));
            std::process::exit(2);
        }
    };
    if let Err(message) = dispatch(cli) {
        eprintln!("uba: {message}");
        std::process::exit(2);
    }
}
