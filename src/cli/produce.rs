//! `uba produce FILE kafka://HOST:PORT/TOPIC`: fills a topic from a file, as the tutorial's
//! `KafkaProducerUtil` fills `hotitems` from its csv: every line one record (its value, no key).
//!
//! Line `i` of the file (from 0) goes to partition `i % P` of the topic's `P` partitions
//! ([`Producer`]): what each partition holds is a function of the file alone, so that a run over
//! the topic can be compared with a run over the same lines split the same way into files.

use std::io::Read;
use std::path::PathBuf;

use crate::engine::input::kafka::Producer;

/// Flags of `uba produce`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The lines to send (`-` is stdin).
    pub file: PathBuf,
    /// The topic: `kafka://HOST:PORT/TOPIC` (it must exist).
    pub topic: String,
}

pub fn run(args: &Args) -> Result<(), String> {
    let mut producer = Producer::open(&args.topic)?;
    let name = args.file.display().to_string();
    let mut input: Box<dyn Read> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .map_err(|e| format!("cannot open input '{name}': {e}"))?,
        )
    };
    let failed = |e: std::io::Error| format!("cannot send '{name}' to {}: {e}", args.topic);
    std::io::copy(&mut input, &mut producer).map_err(failed)?;
    producer.finish().map_err(failed)?;
    eprintln!("uba: {} lines sent to {}", producer.lines(), args.topic);
    Ok(())
}
