//! Web server log lines like `apache.log`: a few hot clients and hot URLs (favicon, stylesheets,
//! feeds) over a long tail, mostly `GET`.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::draw::{Jitter, Zipf, base_time, check_pool, check_rate, pick, random_ip, rng};
use super::sink::{Fail, Sink};

/// Lines of a web server log in the tutorial's `apache.log` format.
#[derive(clap::Args, Debug)]
pub struct ApacheLogGen {
    /// Number of lines to write.
    #[arg(long)]
    pub rows: u64,
    /// Seed of the random streams: the same arguments always give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file, or a Kafka topic (`kafka://HOST:PORT/TOPIC`, one record a row) [default: stdout].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Lines per second of event time.
    #[arg(long, default_value_t = 3.0)]
    pub rate: f64,
    /// Time of the first line, epoch seconds (default: 2015-05-17 10:05:00 UTC, as the sample).
    #[arg(long, default_value_t = 1_431_857_100)]
    pub start: u64,
    /// Number of distinct client IPs; their activity is Zipf-skewed, like crawlers in the sample.
    #[arg(long, default_value_t = 2000)]
    pub ips: u64,
    /// Number of distinct URLs; their popularity is Zipf-skewed.
    #[arg(long, default_value_t = 3000)]
    pub urls: u64,
    /// Moves each time back by up to this much (uniformly), to exercise out-of-orderness.
    #[arg(long, value_name = "DUR", default_value = "0s", value_parser = super::draw::parse_duration)]
    pub disorder: Duration,
    /// Writes each minute's lines in random order, as the sample does (up to 59 s out of order).
    #[arg(long)]
    pub shuffle_minute: bool,
    /// Zone the times are written in (`+0200`, `-05:30`); the instants stay the same, so jobs
    /// that read the zone from the line see identical events.
    #[arg(long, value_name = "±HHMM", default_value = "+0000", value_parser = parse_zone, allow_hyphen_values = true)]
    pub zone: i32,
}

/// Parses `+HHMM`, `-HHMM`, `+HH:MM` into minutes east of UTC.
fn parse_zone(s: &str) -> Result<i32, String> {
    let bad = || format!("{s:?} is not a zone offset like +0000 or -05:30");
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|&c| c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (h, m): (i32, i32) = (
        digits[..2].parse().map_err(|_| bad())?,
        digits[2..].parse().map_err(|_| bad())?,
    );
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(sign * (h * 60 + m))
}

const METHODS: [(f64, &str); 3] = [(0.96, "GET"), (0.02, "POST"), (0.02, "HEAD")];

/// The sample's hottest URLs, kept at the top of the popularity ranking.
const HOT: [&str; 12] = [
    "/favicon.ico",
    "/style2.css",
    "/reset.css",
    "/images/jordan-80.png",
    "/images/web/2009/banner.png",
    "/blog/tags/puppet?flav=rss20",
    "/projects/xdotool/",
    "/?flav=rss20",
    "/",
    "/robots.txt",
    "/projects/xdotool/xdotool.xhtml",
    "/?flav=atom",
];

const WORDS: [&str; 40] = [
    "logstash",
    "kibana",
    "puppet",
    "xdotool",
    "keynav",
    "grok",
    "ssh",
    "dns",
    "firefox",
    "ubuntu",
    "latency",
    "monitoring",
    "scale",
    "search",
    "dashboard",
    "jenkins",
    "ruby",
    "java",
    "python",
    "elasticsearch",
    "redis",
    "nginx",
    "vim",
    "tmux",
    "zsh",
    "backup",
    "security",
    "docker",
    "config",
    "deploy",
    "metrics",
    "graphite",
    "syslog",
    "cron",
    "network",
    "kernel",
    "xorg",
    "windows",
    "battery",
    "printer",
];

/// A site's worth of paths: pages (some with a query string) and static resources.
fn url_pool(n: u64, rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut seen: HashSet<String> = HOT.iter().map(|s| s.to_string()).collect();
    let mut pool: Vec<String> = HOT.iter().take(n as usize).map(|s| s.to_string()).collect();
    let w = |rng: &mut ChaCha8Rng| WORDS[rng.random_range(0..WORDS.len())];
    while (pool.len() as u64) < n {
        let (a, b, c) = (w(rng), w(rng), w(rng));
        let k: u32 = rng.random_range(1..100);
        let mut url = match rng.random_range(0..12) {
            0 => format!("/blog/geekery/{a}-{b}.html"),
            1 => format!("/blog/tags/{a}?flav=rss20"),
            2 => format!("/projects/{a}-{b}/"),
            3 => format!("/articles/{a}-{b}-{c}/"),
            4 => format!("/doc/{a}/{b}.html?q={c}"),
            5 | 6 => format!("/presentations/{a}-{b}-{k}/images/{c}.png"),
            7 => format!("/presentations/{a}-{b}-{k}/plugin/{c}/{c}.js"),
            8 => format!("/presentations/{a}-{b}-{k}/css/{c}.css"),
            9 => format!("/images/{a}-{k}.png"),
            10 => format!("/files/{a}/{a}-{b}-{k}.js"),
            _ => format!("/{a}/{b}/favicon.ico"),
        };
        if rng.random_range(0..20) == 0 && !url.contains('?') {
            url.push_str("?utm_source=feedburner&utm_medium=feed");
        }
        if seen.insert(url.clone()) {
            pool.push(url);
        }
    }
    pool
}

fn ip_pool(n: u64, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut seen = HashSet::new();
    let mut pool = Vec::with_capacity(n as usize);
    while (pool.len() as u64) < n {
        let ip = random_ip(rng);
        if seen.insert(ip) {
            pool.push(ip);
        }
    }
    pool
}

impl ApacheLogGen {
    pub(super) fn plan(&self) -> Result<Plan, String> {
        check_rate(self.rate)?;
        check_pool("--ips", self.ips)?;
        check_pool("--urls", self.urls)?;
        if self.ips > 1 << 24 || self.urls > 1 << 24 {
            return Err("--ips and --urls must be at most 16777216".into());
        }
        let mut pools = rng(self.seed, 2);
        Ok(Plan {
            rows: self.rows,
            rate: self.rate,
            start: self.start,
            zone: self.zone,
            shuffle: self.shuffle_minute.then(|| rng(self.seed, 3)),
            ip_zipf: Zipf::new(self.ips, 1.0)?,
            url_zipf: Zipf::new(self.urls, 1.0)?,
            ips: ip_pool(self.ips, &mut pools),
            urls: url_pool(self.urls, &mut pools),
            rng: rng(self.seed, 0),
            jitter: Jitter::new(self.seed, self.disorder.as_secs()),
        })
    }
}

pub(super) struct Plan {
    rows: u64,
    rate: f64,
    start: u64,
    zone: i32,
    shuffle: Option<ChaCha8Rng>,
    ip_zipf: Zipf,
    url_zipf: Zipf,
    ips: Vec<u32>,
    urls: Vec<String>,
    rng: ChaCha8Rng,
    jitter: Jitter,
}

/// One line before formatting: (time, ip index, method, url index).
type Line = (u64, u32, &'static str, u32);

impl Plan {
    pub(super) fn write<W: Write>(&mut self, out: &mut Sink<W>) -> Result<(), Fail> {
        let mut minute: Vec<Line> = Vec::new();
        let mut current = None;
        for i in 0..self.rows {
            let base = base_time(self.start, i, self.rate);
            if current != Some(base / 60) {
                self.flush_minute(&mut minute, out)?;
                current = Some(base / 60);
            }
            let ip = self.ip_zipf.rank(&mut self.rng) as u32;
            let method = pick(&mut self.rng, &METHODS);
            let url = self.url_zipf.rank(&mut self.rng) as u32;
            minute.push((self.jitter.apply(base), ip, method, url));
        }
        self.flush_minute(&mut minute, out)
    }

    fn flush_minute<W: Write>(
        &mut self,
        lines: &mut Vec<Line>,
        out: &mut Sink<W>,
    ) -> Result<(), Fail> {
        if let Some(rng) = &mut self.shuffle {
            lines.shuffle(rng);
        }
        for &(ts, ip, method, url) in lines.iter() {
            let local = ts as i64 + i64::from(self.zone) * 60;
            let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400) as u64);
            let (y, m, d) = civil(days);
            out.ip(self.ips[ip as usize])
                .text(" - - ")
                .two(d)
                .text("/")
                .two(m)
                .text("/")
                .num(y);
            out.text(":")
                .two(secs / 3600)
                .text(":")
                .two(secs / 60 % 60)
                .text(":")
                .two(secs % 60);
            let z = self.zone.unsigned_abs() as u64;
            out.text(if self.zone < 0 { " -" } else { " +" })
                .two(z / 60)
                .two(z % 60);
            out.text(" ")
                .text(method)
                .text(" ")
                .text(&self.urls[url as usize])
                .end()?;
        }
        lines.clear();
        Ok(())
    }
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub(super) fn civil(days: i64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y.max(0) as u64, m as u64, d as u64)
}
