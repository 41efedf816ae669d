//! The UserBehavior line, read naively for the references of the jobs that read it (pv, uv,
//! hot-items, funnel, user-profile, recommend): plain code, not the crate's parser.
#![allow(dead_code)]

/// One UserBehavior line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserBehavior<'a> {
    pub user: u64,
    pub item: u64,
    pub category: u32,
    /// `pv`, `buy`, `cart` or `fav`.
    pub behavior: &'a str,
    /// In ms.
    pub ts: u64,
}

/// A UserBehavior line as `docs/jobs.md` defines it: `userId,itemId,categoryId,behavior,ts`, ids
/// unsigned integers up to 2^63 - 1 (the category a 32-bit one), behaviour `pv`, `buy`, `cart` or
/// `fav`, ts epoch seconds, not after the year 9999; spaces around a field are tolerated. None for
/// a line the job must reject.
pub fn parse(line: &str) -> Option<UserBehavior<'_>> {
    let f: Vec<&str> = line.split(',').map(str::trim).collect();
    if f.len() != 5 {
        return None;
    }
    Some(UserBehavior {
        user: super::id(f[0])?,
        item: super::id(f[1])?,
        category: f[2].parse().ok()?,
        behavior: ["pv", "buy", "cart", "fav"]
            .into_iter()
            .find(|b| *b == f[3])?,
        ts: super::secs(f.get(4))?,
    })
}

impl UserBehavior<'_> {
    /// The behaviour's place in the order `pv`, `fav`, `cart`, `buy`: funnel's steps, and
    /// user-profile's counts and weights.
    pub fn step(&self) -> usize {
        ["pv", "fav", "cart", "buy"]
            .iter()
            .position(|s| *s == self.behavior)
            .expect("one of the four behaviours")
    }
}
