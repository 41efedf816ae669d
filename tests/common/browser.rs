//! Headless chromium (Debian's package), for the tests of what a person sees: the report's page
//! and the live page of `--http`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Unavailable, stderr};

/// `chromium` on `PATH`, or the program that the test-only variable `UBA_TEST_CHROMIUM` names
/// (to check what a test does with a browser that is missing or broken). Missing: not found.
/// Failed: found, but `--version` cannot run or fails.
pub fn chromium() -> Result<PathBuf, Unavailable> {
    let name = std::env::var("UBA_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let program = super::on_path(&name).ok_or_else(|| {
        Unavailable::Missing(format!("no `{name}` on PATH (apt-get install chromium)"))
    })?;
    let out = Command::new(&program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Unavailable::Failed(format!("cannot run {}: {e}", program.display())))?;
    if !out.status.success() {
        return Err(Unavailable::Failed(format!(
            "`{} --version` failed ({}): {}{}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        )));
    }
    Ok(program)
}

/// Opens `url` in headless `chromium` with `extra` flags (`--dump-dom`, `--screenshot=...`),
/// its profile and logs under `dir`; returns what it printed on stdout (the DOM, for
/// `--dump-dom`). A chromium that fails, or takes over 120 s, fails the test.
pub fn browse(chromium: &Path, dir: &Path, extra: &[String], url: &str) -> String {
    let tag = extra.join(" ").len() + extra.len();
    let profile = dir.join(format!("profile-{tag}"));
    let dump = dir.join(format!("stdout-{tag}"));
    let log = dir.join(format!("stderr-{tag}"));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        // A file, not a pipe: the DOM is larger than a pipe holds, and nobody reads it until
        // chromium ends.
        .stdout(std::fs::File::create(&dump).unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", chromium.display()));
    let status = super::wait_for(&mut child, Duration::from_secs(120), "chromium");
    assert!(
        status.success(),
        "chromium failed: {status:?}: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    std::fs::read_to_string(&dump).unwrap()
}

/// A screenshot's width, height and pixels (RGB, alpha dropped).
pub fn pixels(png: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.line_size / info.width as usize;
    let rgb = buffer[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, rgb)
}

/// How many of `pixels` are `color`, give or take 6 in each channel (anti-aliasing, rounding).
pub fn count_near(pixels: &[[u8; 3]], color: [u8; 3]) -> usize {
    pixels
        .iter()
        .filter(|p| (0..3).all(|i| p[i].abs_diff(color[i]) <= 6))
        .count()
}
