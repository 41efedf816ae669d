//! `uba report`: every mark of the page against the csv results of the job it draws, the same
//! bytes for any `-w`, nothing that needs a network or a script, and a real browser's rendering.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{browser, scratch, stderr, tutorial, uba};

/// Writes the report of the tutorial's samples with `extra` flags; returns the page.
fn report(dir: &Path, extra: &[&str]) -> String {
    let path = dir.join("report.html").to_string_lossy().into_owned();
    let out = uba(&[&["report", "--output", &path], extra].concat());
    assert!(out.status.success(), "uba report failed:\n{}", stderr(&out));
    assert_eq!(stderr(&out), format!("uba: wrote {path}\n"));
    std::fs::read_to_string(&path).unwrap()
}

/// A job's csv results as rows of named cells (the csv crate: urls may hold commas).
fn job(args: &[&str]) -> Vec<BTreeMap<String, String>> {
    let out = uba(&[args, &["--format", "csv"]].concat());
    assert!(out.status.success(), "uba {args:?}: {}", stderr(&out));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The rows of each window's last emission, in window order (the settled answer).
fn settled(rows: &[BTreeMap<String, String>], key: &[&str]) -> Vec<BTreeMap<String, String>> {
    let mut last: BTreeMap<(u64, Vec<String>), (u64, Vec<BTreeMap<String, String>>)> =
        BTreeMap::new();
    for row in rows {
        let start: u64 = row[key[0]].parse().unwrap();
        let rest = key[1..].iter().map(|k| row[*k].clone()).collect();
        let at: u64 = row["emitted_at"].parse().unwrap();
        let entry = last.entry((start, rest)).or_insert((at, Vec::new()));
        if at > entry.0 {
            *entry = (at, Vec::new());
        }
        if at == entry.0 {
            entry.1.push(row.clone());
        }
    }
    last.into_values().flat_map(|(_, rows)| rows).collect()
}

/// The svg with this id.
fn svg<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart '{id}' in the page"));
    let end = start + page[start..].find("</svg>").unwrap();
    &page[start..end]
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The marks (`<rect class="bar"`, `<circle class="point"`, `<rect class="cell"`) of a chart,
/// each as its data- attributes.
fn marks(svg: &str, tag: &str) -> Vec<BTreeMap<String, String>> {
    svg.match_indices(tag)
        .map(|(i, _)| {
            let element = &svg[i..i + svg[i..].find('>').unwrap()];
            let mut attrs = BTreeMap::new();
            let mut rest = element;
            while let Some(at) = rest.find(" data-") {
                let after = &rest[at + 6..];
                let eq = after.find("=\"").unwrap();
                let name = after[..eq].to_owned();
                let value_end = after[eq + 2..].find('"').unwrap();
                attrs.insert(name, unescape(&after[eq + 2..eq + 2 + value_end]));
                rest = &after[eq + 2 + value_end..];
            }
            attrs
        })
        .collect()
}

fn values<'a>(marks: &'a [BTreeMap<String, String>], series: &str) -> Vec<&'a str> {
    marks
        .iter()
        .filter(|m| m["series"] == series)
        .map(|m| m["value"].as_str())
        .collect()
}

fn column<'a>(rows: &'a [BTreeMap<String, String>], name: &str) -> Vec<&'a str> {
    rows.iter().map(|r| r[name].as_str()).collect()
}

#[test]
fn every_mark_equals_the_jobs_csv_results() {
    let page = report(&scratch("report-numbers"), &[]);
    let behavior = tutorial("UserBehavior.csv");

    // PV: one bar per hour, its value the pv count.
    let pv = settled(&job(&["pv", &behavior]), &["window_start"]);
    let bars = marks(svg(&page, "pv"), "<rect class=\"bar\"");
    assert_eq!(values(&bars, "pv"), column(&pv, "pv"));
    assert_eq!(values(&bars, "pv"), ["41890", "48022", "8449"]);

    // UV: exact, Bloom and HyperLogLog per hour, from the --compare runs.
    let bars = marks(svg(&page, "uv"), "<rect class=\"bar\"");
    for method in ["bloom", "hll"] {
        let uv = settled(
            &job(&["uv", &behavior, "--method", method, "--compare"]),
            &["window_start"],
        );
        assert_eq!(values(&bars, method), column(&uv, "uv"), "{method}");
        assert_eq!(values(&bars, "exact"), column(&uv, "exact"), "{method}");
    }
    assert_eq!(bars.len(), 3 * pv.len());

    // Ranks: one cell per row of each window's last emission, its value the rank.
    let ranked = |id: &str, args: &[&str], key: &str| {
        let rows = settled(&job(args), &["window_start"]);
        let cells = marks(svg(&page, id), "<rect class=\"cell\"");
        let mut expected: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r[key].clone(), r["rank"].clone()))
            .collect();
        let mut drawn: Vec<(String, String)> = cells
            .iter()
            .map(|c| (c["row"].clone(), c["value"].clone()))
            .collect();
        expected.sort();
        drawn.sort();
        assert_eq!(drawn, expected, "{id}");
        rows.len()
    };
    assert_eq!(
        ranked("hot-items", &["hot-items", &behavior], "item_id"),
        190
    );
    let apache = tutorial("apache.log");
    let pages = ["hot-pages", &apache, "--window", "1h", "--slide", "1h"];
    assert_eq!(ranked("hot-pages", &pages, "url"), 420);

    // Funnel: users per behaviour of the day; the hourly rates.
    let funnel = settled(
        &job(&["funnel", &behavior, "--overall-only"]),
        &["window_start", "span"],
    );
    let day: Vec<_> = funnel.iter().filter(|r| r["span"] == "day").collect();
    assert_eq!(day.len(), 1);
    let bars = marks(svg(&page, "funnel"), "<rect class=\"bar\"");
    let users: Vec<&str> = ["pv", "fav", "cart", "buy"]
        .iter()
        .map(|b| day[0][&format!("users_{b}")].as_str())
        .collect();
    assert_eq!(column(&bars, "value"), users);
    assert_eq!(users, ["60993", "3026", "5608", "2407"]);
    assert!(
        svg(&page, "funnel").contains(">Users per behaviour, day from 2017-11-25 16:00 (UTC)<")
    );
    let points = marks(svg(&page, "funnel-rates"), "<circle class=\"point\"");
    let hours: Vec<_> = funnel.iter().filter(|r| r["span"] == "window").collect();
    for b in ["fav", "cart", "buy"] {
        let expected: Vec<&str> = hours
            .iter()
            .map(|r| r[&format!("{b}_rate")].as_str())
            .collect();
        assert_eq!(values(&points, &format!("{b} users / pv users")), expected);
    }

    // Clicks per province: the sum of the province's hourly counts.
    let ads = job(&["ad-stats", &tutorial("AdClickLog.csv"), "--slide", "1h"]);
    let counts: Vec<_> = ads
        .iter()
        .filter(|r| r["outcome"] == "count")
        .cloned()
        .collect();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for r in settled(&counts, &["window_start"]) {
        *totals.entry(r["province"].clone()).or_default() += r["count"].parse::<u64>().unwrap();
    }
    let bars = marks(svg(&page, "provinces"), "<rect class=\"bar\"");
    let drawn: BTreeMap<String, u64> = bars
        .iter()
        .map(|b| (b["category"].clone(), b["value"].parse().unwrap()))
        .collect();
    assert_eq!(drawn, totals);
    assert_eq!(bars.len(), totals.len());
    assert_eq!(drawn["beijing"], 102);
    let cells = marks(svg(&page, "provinces-hourly"), "<rect class=\"cell\"");
    assert_eq!(cells.len(), settled(&counts, &["window_start"]).len());
    assert!(page.contains("<td>937166</td><td>1715</td><td>2017-11-26</td><td>101</td>"));

    // Risk: per outcome, the bars add up to the job's results of that outcome.
    let risk = [
        (
            "login-fail",
            vec!["login-fail", tutorial("LoginLog.csv").leak()],
        ),
        (
            "order-timeout",
            vec!["order-timeout", tutorial("OrderLog.csv").leak()],
        ),
        (
            "tx-match",
            vec![
                "tx-match",
                tutorial("OrderLog.csv").leak(),
                tutorial("ReceiptLog.csv").leak(),
            ],
        ),
    ];
    for (id, args) in risk {
        let rows = job(&args);
        let mut expected: BTreeMap<String, u64> = BTreeMap::new();
        for r in &rows {
            let outcome = r.get("outcome").cloned().unwrap_or_else(|| "match".into());
            *expected.entry(outcome).or_default() += 1;
        }
        let mut drawn: BTreeMap<String, u64> = BTreeMap::new();
        for b in marks(svg(&page, id), "<rect class=\"bar\"") {
            *drawn.entry(b["series"].clone()).or_default() += b["value"].parse::<u64>().unwrap();
        }
        assert_eq!(drawn, expected, "{id}");
    }
}

#[test]
fn the_same_bytes_for_any_number_of_workers() {
    let one = report(&scratch("report-w1"), &["-w", "1"]);
    let four = report(&scratch("report-w4"), &["-w", "4"]);
    assert!(one == four, "the report differs between -w 1 and -w 4");
}

#[test]
fn no_script_and_nothing_fetched() {
    let page = report(&scratch("report-offline"), &[]);
    assert!(page.starts_with("<!DOCTYPE html>"));
    for banned in [
        "<script", "http://", "https://", "@import", "url(", "<link", "<img",
    ] {
        assert!(!page.contains(banned), "the report contains {banned}");
    }
    assert_eq!(page.matches("<svg ").count(), 11);
}

#[test]
fn a_missing_input_is_a_note_and_a_section_left_out() {
    let dir = scratch("report-missing");
    let login = tutorial("LoginLog.csv");
    let page = report(&dir, &["--no-defaults", "--login", &login]);
    assert!(page.contains("<svg id=\"login-fail\""));
    assert!(!page.contains("<svg id=\"pv\""));
    assert!(page.contains(
        "<p class=\"note\">Left out: no UserBehavior input. Give --user-behavior FILE.</p>"
    ));
    assert!(page.contains(
        "<p class=\"note\">Left out: no OrderLog and ReceiptLog input. Give --orders FILE and --receipts FILE.</p>"
    ));
}

#[test]
fn a_failing_job_is_one_sentence() {
    let dir = scratch("report-failing");
    let output = dir.join("report.html");
    let apache = tutorial("apache.log");
    let out = uba(&[
        "report",
        "--no-defaults",
        "--login",
        &apache,
        "--output",
        output.to_str().unwrap(),
    ]);
    // The job's own sentence and exit code, named with the command that failed.
    let alone = uba(&["login-fail", &apache, "--format", "csv"]);
    let why = stderr(&alone).lines().last().unwrap().to_owned();
    assert!(
        why.starts_with("uba: ") && why.contains("web server log"),
        "{why}"
    );
    assert_eq!(out.status.code(), alone.status.code());
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        stderr(&out),
        format!(
            "uba: report: `uba login-fail {apache} --format csv` failed: {}\n",
            &why["uba: ".len()..]
        )
    );
    assert!(!output.exists(), "a failed report wrote its file");
}

/// Renders the page in headless chromium (Debian's package): the screenshot is not blank and
/// has the charts' colors, and the rendered DOM has every bar. Where chromium is not installed
/// the test says it is skipped, unless `UBA_REQUIRE` names `chromium` (`.ci/run` does, and
/// installs it); a chromium that is there but fails is a failure (`common::require`).
#[test]
fn chromium_renders_the_report() {
    let Some(chromium) = common::require(
        "chromium",
        "chromium_renders_the_report",
        browser::chromium(),
    ) else {
        return;
    };
    let dir = scratch("report-chromium");
    let page = report(&dir, &[]);
    let url = format!("file://{}", dir.join("report.html").display());
    let png = dir.join("report.png");
    let browse = |extra: &[String]| browser::browse(&chromium, &dir, extra, &url);

    // The DOM after rendering: every chart and every bar made it.
    let dom = browse(&["--dump-dom".into()]);
    for tag in [
        "<svg id=",
        "<rect class=\"bar\"",
        "<rect class=\"cell\"",
        "<circle class=\"point\"",
    ] {
        assert_eq!(dom.matches(tag).count(), page.matches(tag).count(), "{tag}");
    }
    assert_eq!(
        dom.matches("<rect class=\"bar\"").count(),
        marks(&page, "<rect class=\"bar\"").len()
    );

    // The screenshot: not blank, with the bars' blue and a dark rank cell.
    browse(&[
        format!("--screenshot={}", png.display()),
        "--window-size=1200,3000".into(),
        "--hide-scrollbars".into(),
    ]);
    let (width, height, rgb) = browser::pixels(&png);
    assert_eq!((width, height), (1200, 3000));
    let white = browser::count_near(&rgb, [255, 255, 255]);
    let blue = browser::count_near(&rgb, [0x4e, 0x79, 0xa7]);
    let dark = browser::count_near(&rgb, [16, 63, 122]);
    let share = |n: usize| n as f64 / rgb.len() as f64;
    assert!(
        share(white) < 0.97,
        "the screenshot is blank: {:.1}% white",
        100.0 * share(white)
    );
    assert!(
        share(blue) > 0.002,
        "few bars in the screenshot: {:.3}% blue",
        100.0 * share(blue)
    );
    assert!(
        dark > 500,
        "no rank-1 cells in the screenshot: {dark} pixels"
    );
}
