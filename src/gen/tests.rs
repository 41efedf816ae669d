use std::collections::{HashMap, HashSet};

use clap::Parser;

use super::draw::{Scatter, parse_duration};
use super::*;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: GenCommand,
}

fn parse(args: &str) -> GenCommand {
    let argv = std::iter::once("gen").chain(args.split_whitespace());
    match Cli::try_parse_from(argv) {
        Ok(cli) => cli.cmd,
        Err(e) => panic!("{args}: {e}"),
    }
}

/// The generator's output (and, for orders, the receipts) as text.
fn generate2(args: &str) -> (String, String) {
    let mut out = Sink::new(Vec::new(), "test");
    let mut side = Sink::new(Vec::new(), "test");
    let res = match &parse(args) {
        GenCommand::UserBehavior(a) => a.plan().map(|mut p| p.write(&mut out)),
        GenCommand::ApacheLog(a) => a.plan().map(|mut p| p.write(&mut out)),
        GenCommand::Login(a) => a.plan().map(|mut p| p.write(&mut out)),
        GenCommand::Orders(a) => a.plan().map(|mut p| p.write(&mut out, &mut side)),
        GenCommand::AdClicks(a) => a.plan().map(|mut p| p.write(&mut out)),
        GenCommand::Marketing(a) => a.plan().map(|mut p| p.write(&mut out)),
    };
    assert!(matches!(res, Ok(Ok(()))), "{args}: generation failed");
    let text = |s: Sink<Vec<u8>>| String::from_utf8(s.into_inner()).expect("utf-8");
    (text(out), text(side))
}

fn generate(args: &str) -> String {
    generate2(args).0
}

fn fields(line: &str, sep: char, n: usize) -> Vec<&str> {
    let f: Vec<&str> = line.split(sep).collect();
    assert_eq!(f.len(), n, "{line:?}");
    f
}

fn num(s: &str) -> u64 {
    s.parse()
        .unwrap_or_else(|_| panic!("{s:?} is not a number"))
}

fn is_ip(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| p.parse::<u8>().is_ok())
}

/// Timestamps of the rows, from the given field.
fn times(text: &str, sep: char, n: usize, field: usize) -> Vec<u64> {
    text.lines()
        .map(|l| num(fields(l, sep, n)[field]))
        .collect()
}

/// Seconds since the epoch of an apache line's `dd/MM/yyyy:HH:mm:ss ±HHMM`.
fn apache_time(line: &str) -> u64 {
    let f = fields(line, ' ', 7);
    assert!(is_ip(f[0]) && f[1] == "-" && f[2] == "-", "{line}");
    let fmt = time::macros::format_description!(
        "[day]/[month]/[year]:[hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
    );
    let t = time::OffsetDateTime::parse(&format!("{} {}", f[3], f[4]), &fmt).expect("apache time");
    assert!(
        ["GET", "POST", "HEAD"].contains(&f[5]) && f[6].starts_with('/'),
        "{line}"
    );
    t.unix_timestamp() as u64
}

const ALL: [&str; 6] = [
    "user-behavior --items 50000 --users 3000 --categories 300",
    "apache-log --shuffle-minute",
    "login --attack-rate 0.1",
    "orders",
    "ad-clicks",
    "marketing",
];

#[test]
fn same_arguments_same_bytes_and_the_seed_matters() {
    for args in ALL {
        let args = format!("{args} --rows 3000 --disorder 5s");
        let args = args.replace(
            "marketing --rows 3000 --disorder 5s",
            "marketing --rows 3000",
        );
        let a = generate2(&format!("{args} --seed 7"));
        assert_eq!(a, generate2(&format!("{args} --seed 7")), "{args}");
        assert_ne!(a.0, generate(&format!("{args} --seed 8")), "{args}");
    }
}

#[test]
fn rows_counts_lines_exactly() {
    for args in ALL {
        for rows in [0, 1, 2, 1234] {
            let text = generate(&format!("{args} --rows {rows}"));
            assert_eq!(text.lines().count() as u64, rows, "{args}");
            assert!(text.is_empty() || text.ends_with('\n'));
        }
    }
}

#[test]
fn without_disorder_every_file_is_in_time_order() {
    let sorted = |v: &[u64]| v.windows(2).all(|w| w[0] <= w[1]);
    let ub = generate("user-behavior --rows 5000 --items 1000 --users 100 --categories 10");
    assert!(sorted(&times(&ub, ',', 5, 4)));
    let web = generate("apache-log --rows 5000");
    assert!(sorted(&web.lines().map(apache_time).collect::<Vec<_>>()));
    assert!(sorted(&times(
        &generate("login --rows 5000 --attack-rate 0.2"),
        ',',
        4,
        3
    )));
    let (orders, receipts) = generate2("orders --rows 5000");
    assert!(sorted(&times(&orders, ',', 4, 3)));
    assert!(sorted(&times(&receipts, ',', 3, 2)));
    assert!(sorted(&times(
        &generate("ad-clicks --rows 5000"),
        ',',
        5,
        4
    )));
    assert!(sorted(&times(
        &generate("marketing --rows 5000"),
        ',',
        4,
        3
    )));
}

#[test]
fn disorder_is_bounded() {
    // user-behavior: every row is within [base - D, base] of its own base time.
    let text = generate(
        "user-behavior --rows 20000 --items 1000 --users 100 --categories 10 --rate 3 --disorder 7s",
    );
    let mut moved = 0;
    for (i, ts) in times(&text, ',', 5, 4).into_iter().enumerate() {
        let base = 1_511_539_200 + i as u64 / 3;
        assert!(ts <= base && base - ts <= 7, "row {i}: {ts} vs {base}");
        moved += u64::from(ts != base);
    }
    assert!(moved > 15_000);
    // The others: nothing is more than D behind the largest time before it.
    let late_by = |v: Vec<u64>| {
        let mut max = 0;
        v.into_iter()
            .map(|t| {
                max = max.max(t);
                max - t
            })
            .max()
            .unwrap_or(0)
    };
    for (args, sep, n, field) in [
        (
            "login --rows 5000 --disorder 6s --attack-rate 0.2",
            ',',
            4,
            3,
        ),
        ("orders --rows 5000 --disorder 6s", ',', 4, 3),
        ("ad-clicks --rows 5000 --disorder 6s", ',', 5, 4),
    ] {
        let worst = late_by(times(&generate(args), sep, n, field));
        assert!((3..=6).contains(&worst), "{args}: {worst}");
    }
    let web = generate("apache-log --rows 5000 --shuffle-minute");
    let worst = late_by(web.lines().map(apache_time).collect());
    assert!((30..=59).contains(&worst), "shuffled minute: {worst}");
}

#[test]
fn user_behavior_rows_are_well_formed_with_the_taobao_mix() {
    let text =
        generate("user-behavior --rows 100000 --items 200000 --users 20000 --categories 500");
    let mut mix: HashMap<&str, u64> = HashMap::new();
    let mut category_of: HashMap<u64, u64> = HashMap::new();
    for line in text.lines() {
        let f = fields(line, ',', 5);
        let (item, cat) = (num(f[1]), num(f[2]));
        assert!(num(f[0]) >= 1 && item >= 1 && cat >= 1);
        assert_eq!(
            *category_of.entry(item).or_insert(cat),
            cat,
            "item {item} in two categories"
        );
        *mix.entry(f[3]).or_default() += 1;
    }
    assert_eq!(mix.len(), 4, "{mix:?}");
    for (behavior, share) in [
        ("pv", 0.896),
        ("cart", 0.055),
        ("fav", 0.029),
        ("buy", 0.020),
    ] {
        let got = mix[behavior] as f64 / 100_000.0;
        assert!((got - share).abs() < 0.004, "{behavior}: {got} vs {share}");
    }
    // Skewed, but not degenerate: the hottest item is far above the average, and the catalogue's
    // tail is reached.
    let mut per_item: HashMap<&str, u64> = HashMap::new();
    for line in text.lines() {
        *per_item
            .entry(line.split(',').nth(1).unwrap_or(""))
            .or_default() += 1;
    }
    let hottest = per_item.values().max().copied().unwrap_or(0);
    assert!(
        hottest > 200 && per_item.len() > 10_000,
        "{hottest} {}",
        per_item.len()
    );
    assert!(per_item.keys().all(|k| *k != "1"));
}

#[test]
fn users_keep_to_their_favourite_categories() {
    let text =
        generate("user-behavior --rows 200000 --items 100000 --users 2000 --categories 1000");
    let mut by_user: HashMap<&str, HashMap<&str, u64>> = HashMap::new();
    for line in text.lines() {
        let f = fields(line, ',', 5);
        *by_user.entry(f[0]).or_default().entry(f[2]).or_default() += 1;
    }
    let (mut top3, mut total) = (0, 0);
    for cats in by_user.values().filter(|c| c.values().sum::<u64>() >= 50) {
        let mut counts: Vec<u64> = cats.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        top3 += counts.iter().take(3).sum::<u64>();
        total += counts.iter().sum::<u64>();
    }
    let share = top3 as f64 / total as f64;
    assert!(total > 50_000 && share > 0.75, "{share} of {total}");
}

#[test]
fn bogus_timestamps_come_at_the_asked_rate() {
    let text = generate(
        "user-behavior --rows 50000 --items 1000 --users 100 --categories 10 --bogus-rate 0.01",
    );
    let ts = times(&text, ',', 5, 4);
    let early = ts.iter().filter(|&&t| t < 86_400).count();
    let late = ts.iter().filter(|&&t| t >= 2_114_380_800).count();
    assert!(
        (150..350).contains(&early) && (150..350).contains(&late),
        "{early} {late}"
    );
    assert_eq!(
        early
            + late
            + ts.iter()
                .filter(|&&t| (1_511_539_200..1_511_539_200 + 400).contains(&t))
                .count(),
        50_000
    );
}

#[test]
fn apache_lines_parse_and_the_zone_keeps_the_instant() {
    let utc = generate("apache-log --rows 3000 --seed 3");
    let east = generate("apache-log --rows 3000 --seed 3 --zone +02:00");
    let west = generate("apache-log --rows 3000 --seed 3 --zone -0530");
    assert!(
        utc.lines()
            .next()
            .unwrap_or("")
            .contains(" 17/05/2015:10:05:00 +0000 ")
    );
    assert!(
        east.lines()
            .next()
            .unwrap_or("")
            .contains(" 17/05/2015:12:05:00 +0200 ")
    );
    let instants = |t: &str| t.lines().map(apache_time).collect::<Vec<_>>();
    assert_eq!(instants(&utc), instants(&east));
    assert_eq!(instants(&utc), instants(&west));
    let get = utc.lines().filter(|l| l.contains(" GET ")).count();
    assert!((2800..3000).contains(&get), "{get}");
    let statics = [".css", ".js", ".png", ".ico"];
    let resources = utc
        .lines()
        .filter(|l| statics.iter().any(|s| l.ends_with(s)))
        .count();
    assert!((600..2400).contains(&resources), "{resources}");
    assert!(utc.lines().any(|l| l.contains('?')));
    // Shuffling within a minute only reorders lines.
    let mut a: Vec<&str> = utc.lines().collect();
    let shuffled = generate("apache-log --rows 3000 --seed 3 --shuffle-minute");
    let mut b: Vec<&str> = shuffled.lines().collect();
    assert_ne!(a, b);
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
}

#[test]
fn civil_dates_agree_with_the_time_crate() {
    for days in (-800_000..3_000_000).step_by(997) {
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(days * 86_400) else {
            continue;
        };
        let want = (t.year() as u64, u8::from(t.month()) as u64, t.day() as u64);
        if t.year() >= 0 {
            assert_eq!(apache_log::civil(days), want, "{days}");
        }
    }
}

#[test]
fn logins_have_fails_and_attack_bursts() {
    let text = generate("login --rows 20000");
    let mut fails = 0;
    let mut last_fail: HashMap<&str, (u64, &str)> = HashMap::new();
    let mut quick_pairs_other_ip = 0;
    for line in text.lines() {
        let f = fields(line, ',', 4);
        assert!(num(f[0]) >= 1 && is_ip(f[1]) && (f[2] == "success" || f[2] == "fail"));
        let ts = num(f[3]);
        if f[2] == "fail" {
            fails += 1;
            if let Some(&(t, ip)) = last_fail.get(f[0])
                && ts - t <= 2
                && ip != f[1]
            {
                quick_pairs_other_ip += 1;
            }
            last_fail.insert(f[0], (ts, f[1]));
        } else {
            last_fail.remove(f[0]);
        }
    }
    let share = fails as f64 / 20_000.0;
    assert!((0.07..0.16).contains(&share), "{share}");
    assert!(quick_pairs_other_ip > 100, "{quick_pairs_other_ip}");
}

#[test]
fn orders_cover_every_outcome_and_receipts_follow_pays() {
    let (orders, receipts) = generate2("orders --rows 20000");
    let (mut created, mut paid) = (HashMap::new(), HashMap::new());
    let mut txs = HashSet::new();
    for line in orders.lines() {
        let f = fields(line, ',', 4);
        let (id, ts) = (num(f[0]), num(f[3]));
        match f[1] {
            "create" => assert!(f[2].is_empty() && created.insert(id, ts).is_none()),
            "pay" => {
                assert!(
                    f[2].len() == 9 && f[2].bytes().all(|b| b.is_ascii_alphanumeric()),
                    "{line}"
                );
                assert!(txs.insert(f[2].to_string()), "tx {} twice", f[2]);
                assert!(paid.insert(id, (ts, f[2].to_string())).is_none());
            }
            other => panic!("{other}"),
        }
    }
    let (mut on_time, mut late, mut without) = (0, 0, 0);
    for (id, (p, _)) in &paid {
        match created.get(id) {
            Some(c) if p - c <= 900 => on_time += 1,
            Some(_) => late += 1,
            None => without += 1,
        }
    }
    let unpaid = created.keys().filter(|id| !paid.contains_key(id)).count();
    assert!(on_time > 10 * late && late > 100 && without > 50 && unpaid > 1000);
    let pay_time: HashMap<&str, u64> = paid.values().map(|(t, tx)| (tx.as_str(), *t)).collect();
    let (mut matched, mut stray) = (0, 0);
    for line in receipts.lines() {
        let f = fields(line, ',', 3);
        assert!(f[1] == "wechat" || f[1] == "alipay");
        match pay_time.get(f[0]) {
            Some(&p) => {
                let r = num(f[2]);
                assert!(r + 5 >= p && r <= p + 10);
                matched += 1;
            }
            None => stray += 1,
        }
    }
    assert!(matched as f64 > 0.9 * paid.len() as f64 && matched < paid.len() && stray > 10);
}

#[test]
fn heavy_clickers_pass_100_a_day_on_both_sides_of_the_utc8_midnight() {
    let text = generate("ad-clicks --rows 70000");
    let mut per_day: HashMap<(&str, &str, u64), u64> = HashMap::new();
    let mut places = HashSet::new();
    for line in text.lines() {
        let f = fields(line, ',', 5);
        assert!(num(f[0]) >= 1 && num(f[1]) >= 1);
        places.insert((f[2], f[3]));
        let day = (num(f[4]) + 8 * 3600) / 86_400;
        *per_day.entry((f[0], f[1], day)).or_default() += 1;
    }
    assert!(places.len() >= 10 && places.contains(&("beijing", "beijing")));
    let days: HashSet<u64> = per_day.keys().map(|k| k.2).collect();
    assert_eq!(days.len(), 2);
    for day in days {
        let heavy = per_day
            .iter()
            .filter(|(k, n)| k.2 == day && **n > 100)
            .count();
        assert_eq!(heavy, 3, "day {day}");
    }
}

#[test]
fn marketing_rows_and_live_mode() {
    let text = generate("marketing --rows 1000 --rate 40");
    for (i, line) in text.lines().enumerate() {
        let f = fields(line, ',', 4);
        assert!(num(f[0]) >= 1);
        assert!(["CLICK", "DOWNLOAD", "INSTALL", "UNINSTALL"].contains(&f[1]));
        assert!(["AppStore", "HuaweiStore", "wechat", "weibo"].contains(&f[2]));
        assert_eq!(num(f[3]), 1_511_658_000_000 + i as u64 * 25);
    }
    let started = std::time::Instant::now();
    let live = generate("marketing --follow --rows 20 --rate 200");
    assert_eq!(live.lines().count(), 20);
    assert!(started.elapsed() >= std::time::Duration::from_millis(90));
    let ts = times(&live, ',', 4, 3);
    assert_eq!(ts[19] - ts[0], 95);
    assert!(Cli::try_parse_from(["gen", "marketing"]).is_ok());
    let GenCommand::Marketing(m) = parse("marketing") else {
        unreachable!()
    };
    assert!(m.plan().is_err());
}

/// `user-behavior --follow` paces the seeded rows to the wall clock: the same users, items,
/// categories and behaviours as without it, stamped with the seconds they were written in.
#[test]
fn user_behavior_live_mode_keeps_the_rows_and_stamps_the_wall_clock() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let started = std::time::Instant::now();
    let live = generate("user-behavior --follow --rows 20 --rate 200");
    assert!(started.elapsed() >= std::time::Duration::from_millis(90));
    let fixed = generate("user-behavior --rows 20 --rate 200");
    let content = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_owned())
            .collect()
    };
    assert_eq!(content(&live), content(&fixed));
    for ts in times(&live, ',', 5, 4) {
        assert!(
            (before..=before + 2).contains(&ts),
            "{ts} is not now ({before})"
        );
    }
    let GenCommand::UserBehavior(ub) = parse("user-behavior") else {
        unreachable!()
    };
    assert!(ub.plan().is_err());
}

#[test]
fn arguments_errors_are_sentences() {
    assert_eq!(
        parse_duration("1h 5m"),
        Ok(std::time::Duration::from_secs(3900))
    );
    assert_eq!(parse_duration("0"), Ok(std::time::Duration::ZERO));
    assert!(parse_duration("soon").is_err());
    assert!(Cli::try_parse_from(["gen", "apache-log", "--rows", "1", "--zone", "0200"]).is_err());
    assert!(Cli::try_parse_from(["gen", "apache-log", "--rows", "1", "--zone", "-0530"]).is_ok());
    let GenCommand::UserBehavior(ub) = parse("user-behavior --rows 1 --rate 0") else {
        unreachable!()
    };
    assert!(ub.plan().is_err_and(|e| e.contains("--rate")));
    let GenCommand::UserBehavior(ub) = parse("user-behavior --rows 1 --items 5 --categories 9")
    else {
        unreachable!()
    };
    assert!(ub.plan().is_err());
    let err = run(&parse("login --rows 1 --out /nonexistent-dir/x.csv"));
    assert!(err.is_err_and(|e| e.starts_with("cannot create /nonexistent-dir/x.csv")));
}

#[test]
fn run_writes_the_file_and_scattered_ids_stay_distinct() {
    let path = std::env::temp_dir().join(format!("uba-gen-test-{}.csv", std::process::id()));
    let args = format!("orders --rows 500 --seed 4 --out {}", path.display());
    assert_eq!(run(&parse(&args)), Ok(()));
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    assert_eq!(written, generate("orders --rows 500 --seed 4"));
    for (n, min_bits) in [(1, 0), (7, 0), (1000, 0), (4096, 0), (5000, 22)] {
        let s = Scatter::new(n, min_bits, 9);
        let ids: HashSet<u64> = (0..n).map(|r| s.id(r)).collect();
        assert_eq!(ids.len() as u64, n);
        assert!(ids.iter().all(|&id| id >= 1 && id <= 1 << s.bits));
    }
}
