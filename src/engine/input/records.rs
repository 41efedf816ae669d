//! The input records of every job, each next to the parser that reads it from one line.
//!
//! Parsers take a line's [`Fields`] (split at the format's delimiter, without allocation) and
//! either return the record or a [`Reject`] that says, in words a user can act on, why the line was
//! not accepted. Times are converted to event time in milliseconds here, once, so that the rest of
//! the engine never asks which unit an input used.

use std::fmt;
use std::ops::Index;

use serde::{Deserialize, Serialize};

use crate::engine::input::token::Token;

/// Why a line was not accepted. Shown to the user with the file name and line number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reject {
    /// An empty line (the reader skips nothing silently).
    Empty,
    /// The line does not have the number of fields its format has.
    FieldCount { expected: usize, found: usize },
    /// A field that must be a number is not one.
    NotANumber { field: &'static str },
    /// An id above [`MAX_ID`] (`value` as the line gives it).
    OutOfRange { field: &'static str, value: String },
    /// A field holds a value outside its fixed vocabulary (`pv|buy|cart|fav`, ...).
    Unknown { field: &'static str, value: String },
    /// A text field is not valid UTF-8.
    BadUtf8 { field: &'static str },
    /// A date that does not parse.
    BadTime { detail: String },
    /// A time that cannot be right for this input (see `event_time::TimeGuard`).
    BogusTime { detail: String },
    /// A line longer than `--max-line-bytes`: read past without being held in memory.
    TooLong { limit: usize },
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::Empty => write!(f, "empty line"),
            Reject::FieldCount { expected, found } => {
                write!(
                    f,
                    "wrong number of fields (expected {expected}, found {found})"
                )
            }
            Reject::NotANumber { field } => write!(f, "{field} is not a number"),
            Reject::OutOfRange { field, value } => write!(
                f,
                "{field} {value} is out of range (at most {MAX_ID}, as the tutorial's Long)"
            ),
            Reject::Unknown { field, value } => write!(f, "unknown {field} '{value}'"),
            Reject::BadUtf8 { field } => write!(f, "{field} is not valid UTF-8"),
            Reject::BadTime { detail } => write!(f, "bad time: {detail}"),
            Reject::BogusTime { detail } => write!(f, "bogus timestamp: {detail}"),
            Reject::TooLong { limit } => write!(f, "line too long (more than {limit} bytes)"),
        }
    }
}

/// The latest event time any input may have: 9999-12-31 23:59:59.999 UTC. Later times (a
/// mistyped or corrupted timestamp) are rejected: windows, days, horizons and timeouts add
/// lengths to event times, and must not overflow.
pub const MAX_EVENT_TIME: u64 = 253_402_300_799_999;

/// Rejects a time after [`MAX_EVENT_TIME`].
pub fn within_range(ts: u64) -> Result<u64, Reject> {
    if ts <= MAX_EVENT_TIME {
        Ok(ts)
    } else {
        Err(Reject::BadTime {
            detail: format!("{ts} ms is after the year 9999"),
        })
    }
}

/// The most fields any input format has (the web log's seven), and one more: a line with more is
/// rejected for its count of fields, which is all that is kept of the rest.
const MAX_FIELDS: usize = 8;

/// One line split into its fields at the format's delimiter.
///
/// No input format quotes or escapes (a stray quote must not swallow lines), so a field is the
/// bytes between two delimiters, as the csv crate's reader found them with quoting off: splitting
/// needs no state machine. This costs a few instructions per byte where the csv reader, with its
/// record positions, cost about 750 per line, a third of what reading a UserBehavior row cost.
pub struct Fields<'a> {
    line: &'a [u8],
    /// How many fields the line has.
    found: usize,
    /// Where each of the first [`MAX_FIELDS`] fields ends (its delimiter, or the line's end).
    ends: [usize; MAX_FIELDS],
}

impl<'a> Fields<'a> {
    /// Splits a line (without its line end) at `delimiter`; an empty line is one empty field.
    pub fn split(line: &'a [u8], delimiter: u8) -> Self {
        let mut ends = [0; MAX_FIELDS];
        let mut found = 0;
        for (at, &byte) in line.iter().enumerate() {
            if byte == delimiter {
                if found < MAX_FIELDS {
                    ends[found] = at;
                }
                found += 1;
            }
        }
        if found < MAX_FIELDS {
            ends[found] = line.len();
        }
        Fields {
            line,
            found: found + 1,
            ends,
        }
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.found
    }

    /// Whether the line has no fields: never, an empty line is one empty field (for clippy).
    pub fn is_empty(&self) -> bool {
        self.found == 0
    }
}

impl Index<usize> for Fields<'_> {
    type Output = [u8];
    /// The bytes of field `i`, which must be one of the first [`MAX_FIELDS`] that the line has
    /// (parsers check the count first).
    fn index(&self, i: usize) -> &[u8] {
        assert!(
            i < self.found.min(MAX_FIELDS),
            "field {i} of {}",
            self.found
        );
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        &self.line[start..self.ends[i]]
    }
}

/// A record that one line of an input file holds.
pub trait Record: Sized + Send + 'static {
    /// What a user calls a line of this format, for messages ("a UserBehavior row").
    const NAME: &'static str;
    /// Field separator of the input format.
    const DELIMITER: u8 = b',';
    /// Reads one line, already split into fields.
    fn parse(fields: &Fields) -> Result<Self, Reject>;
    /// Reads one line (without its line end): split into fields, then [`Record::parse`]d. A format
    /// read by the million may read its usual form in one pass instead, leaving every other line
    /// to this path, so that what it accepts and how it rejects stay the same.
    fn parse_line(line: &[u8]) -> Result<Self, Reject> {
        Self::parse(&Fields::split(line, Self::DELIMITER))
    }
    /// Event time in milliseconds since the epoch.
    fn event_time(&self) -> u64;
}

fn expect_fields(fields: &Fields, expected: usize) -> Result<(), Reject> {
    let found = fields.len();
    if found == expected {
        Ok(())
    } else {
        Err(Reject::FieldCount { expected, found })
    }
}

/// Parses an unsigned decimal number; surrounding spaces are tolerated, nothing else is.
///
/// Nearly every number is plain digits that fit: [`digits`] reads those in a few instructions
/// each. Anything else (spaces, a sign, too many digits) goes to the standard parser, which
/// accepts or rejects it as it always did.
pub fn number<N>(bytes: &[u8], field: &'static str) -> Result<N, Reject>
where
    N: std::str::FromStr + TryFrom<u64>,
{
    if let Some(n) = digits(bytes).and_then(|n| N::try_from(n).ok()) {
        return Ok(n);
    }
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or(Reject::NotANumber { field })
}

/// The value of 1 to 19 ASCII digits (19 nines fit in a `u64`); `None` for anything else.
fn digits(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for &byte in bytes {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + u64::from(digit);
    }
    Some(n)
}

/// The largest id: the tutorial's Flink code reads every id as a Java `Long`, and a database
/// table (`--sink`) stores it as a signed 64-bit integer. A larger one is rejected, so a run never
/// accepts a value its table cannot hold.
pub const MAX_ID: u64 = i64::MAX as u64;

/// Parses an id: a number as [`number`] reads it, at most [`MAX_ID`]. A larger one, also one too
/// large for 64 bits, is out of range; anything else that is not a number is not a number.
fn id(bytes: &[u8], field: &'static str) -> Result<u64, Reject> {
    let out_of_range = || Reject::OutOfRange {
        field,
        value: String::from_utf8_lossy(bytes.trim_ascii()).into_owned(),
    };
    match number::<u64>(bytes, field) {
        Ok(id) if id <= MAX_ID => Ok(id),
        Ok(_) => Err(out_of_range()),
        Err(not_a_number) => {
            let text = bytes.trim_ascii();
            let digits = text.strip_prefix(b"+").unwrap_or(text);
            if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
                Err(out_of_range())
            } else {
                Err(not_a_number)
            }
        }
    }
}

fn text<'a>(bytes: &'a [u8], field: &'static str) -> Result<&'a str, Reject> {
    std::str::from_utf8(bytes).map_err(|_| Reject::BadUtf8 { field })
}

/// Epoch seconds to event-time milliseconds, rejecting values that overflow.
fn seconds(bytes: &[u8]) -> Result<u64, Reject> {
    let s: u64 = number(bytes, "timestamp")?;
    s.checked_mul(1000)
        .ok_or(Reject::NotANumber { field: "timestamp" })
}

fn unknown(field: &'static str, value: &[u8]) -> Reject {
    Reject::Unknown {
        field,
        value: String::from_utf8_lossy(value).into_owned(),
    }
}

/// What a user did with an item (`UserBehavior.csv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Behavior {
    Pv,
    Buy,
    Cart,
    Fav,
}

impl Behavior {
    fn parse(bytes: &[u8]) -> Result<Self, Reject> {
        match bytes.trim_ascii() {
            b"pv" => Ok(Behavior::Pv),
            b"buy" => Ok(Behavior::Buy),
            b"cart" => Ok(Behavior::Cart),
            b"fav" => Ok(Behavior::Fav),
            other => Err(unknown("behavior", other)),
        }
    }

    /// The name used in the data files and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Behavior::Pv => "pv",
            Behavior::Buy => "buy",
            Behavior::Cart => "cart",
            Behavior::Fav => "fav",
        }
    }
}

/// One row of `UserBehavior.csv`: `userId,itemId,categoryId,behavior,ts` (ts in seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UserBehavior {
    pub user_id: u64,
    pub item_id: u64,
    pub category_id: u32,
    pub behavior: Behavior,
    pub ts: u64,
}

impl Record for UserBehavior {
    const NAME: &'static str = "UserBehavior row";
    fn parse(f: &Fields) -> Result<Self, Reject> {
        expect_fields(f, 5)?;
        Ok(UserBehavior {
            user_id: id(&f[0], "userId")?,
            item_id: id(&f[1], "itemId")?,
            category_id: number(&f[2], "categoryId")?,
            behavior: Behavior::parse(&f[3])?,
            ts: seconds(&f[4])?,
        })
    }
    fn parse_line(line: &[u8]) -> Result<Self, Reject> {
        match UserBehavior::usual(line) {
            Some(row) => Ok(row),
            None => Self::parse(&Fields::split(line, Self::DELIMITER)),
        }
    }
    fn event_time(&self) -> u64 {
        self.ts
    }
}

impl UserBehavior {
    /// A row in its usual form, read in one pass: plain digits, a behaviour in lower case, every
    /// number in range. `None` for anything else, which the general path reads or rejects.
    fn usual(line: &[u8]) -> Option<UserBehavior> {
        let mut rest = line;
        let user_id = digits_until(&mut rest, b',').filter(|&id| id <= MAX_ID)?;
        let item_id = digits_until(&mut rest, b',').filter(|&id| id <= MAX_ID)?;
        let category_id = u32::try_from(digits_until(&mut rest, b',')?).ok()?;
        let (behavior, length) = match rest {
            [b'p', b'v', b',', ..] => (Behavior::Pv, 3),
            [b'b', b'u', b'y', b',', ..] => (Behavior::Buy, 4),
            [b'c', b'a', b'r', b't', b',', ..] => (Behavior::Cart, 5),
            [b'f', b'a', b'v', b',', ..] => (Behavior::Fav, 4),
            _ => return None,
        };
        let ts = digits(&rest[length..])?.checked_mul(1000)?;
        Some(UserBehavior {
            user_id,
            item_id,
            category_id,
            behavior,
            ts,
        })
    }
}

/// The number of 1 to 19 digits that `rest` starts with, up to `end`, which is taken off with them;
/// `None` if anything else comes first.
fn digits_until(rest: &mut &[u8], end: u8) -> Option<u64> {
    let mut n = 0u64;
    for (at, &byte) in rest.iter().enumerate() {
        if byte == end {
            if at == 0 {
                return None;
            }
            *rest = &rest[at + 1..];
            return Some(n);
        }
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 || at == 19 {
            return None;
        }
        n = n * 10 + u64::from(digit);
    }
    None
}

/// One line of the web server log: `ip - - dd/MM/yyyy:HH:mm:ss +zzzz METHOD url`.
///
/// The time is read in the zone the line gives (`+0000` in the sample) and kept as an instant.
/// The client's ip is checked (a line is text throughout) but not kept: no job reads it, and its
/// copy was one of three allocations per line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ApacheLogEvent {
    pub method: String,
    pub url: String,
    pub ts: u64,
}

impl Record for ApacheLogEvent {
    const NAME: &'static str = "web server log line";
    const DELIMITER: u8 = b' ';
    fn parse(f: &Fields) -> Result<Self, Reject> {
        expect_fields(f, 7)?;
        // The identity and user fields (`-`) are not kept, but a line is text throughout.
        text(&f[1], "identity")?;
        text(&f[2], "user")?;
        let date = text(&f[3], "date")?;
        let zone = text(&f[4], "zone")?;
        text(&f[0], "ip")?;
        Ok(ApacheLogEvent {
            method: text(&f[5], "method")?.to_owned(),
            url: text(&f[6], "url")?.to_owned(),
            ts: parse_log_time(date, zone)?,
        })
    }
    fn event_time(&self) -> u64 {
        self.ts
    }
}

/// Outcome of a login attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LoginOutcome {
    Success,
    Fail,
}

/// One row of `LoginLog.csv`: `userId,ip,success|fail,ts`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LoginEvent {
    pub user_id: u64,
    pub ip: String,
    pub outcome: LoginOutcome,
    pub ts: u64,
}

impl Record for LoginEvent {
    const NAME: &'static str = "LoginLog row";
    fn parse(f: &Fields) -> Result<Self, Reject> {
        expect_fields(f, 4)?;
        let outcome = match f[2].trim_ascii() {
            b"success" => LoginOutcome::Success,
            b"fail" => LoginOutcome::Fail,
            other => return Err(unknown("event type", other)),
        };
        Ok(LoginEvent {
            user_id: id(&f[0], "userId")?,
            ip: text(&f[1], "ip")?.trim().to_owned(),
            outcome,
            ts: seconds(&f[3])?,
        })
    }
    fn event_time(&self) -> u64 {
        self.ts
    }
}

/// What happened to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OrderKind {
    Create,
    Pay,
}

/// One row of `OrderLog.csv`: `orderId,create|pay,txId,ts` (txId empty for a create).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderEvent {
    pub order_id: u64,
    pub kind: OrderKind,
    pub tx_id: String,
    pub ts: u64,
}

impl Record for OrderEvent {
    const NAME: &'static str = "OrderLog row";
    fn parse(f: &Fields) -> Result<Self, Reject> {
        expect_fields(f, 4)?;
        let kind = match f[1].trim_ascii() {
            b"create" => OrderKind::Create,
            b"pay" => OrderKind::Pay,
            other => return Err(unknown("event type", other)),
        };
        Ok(OrderEvent {
            order_id: id(&f[0], "orderId")?,
            kind,
            tx_id: text(&f[2], "txId")?.trim().to_owned(),
            ts: seconds(&f[3])?,
        })
    }
    fn event_time(&self) -> u64 {
        self.ts
    }
}

/// One row of `ReceiptLog.csv`: `txId,payChannel,ts`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReceiptEvent {
    pub tx_id: String,
    pub pay_channel: String,
    pub ts: u64,
}

impl Record for ReceiptEvent {
    const NAME: &'static str = "ReceiptLog row";
    fn parse(f: &Fields) -> Result<Self, Reject> {
        expect_fields(f, 3)?;
        Ok(ReceiptEvent {
            tx_id: text(&f[0], "txId")?.trim().to_owned(),
            pay_channel: text(&f[1], "payChannel")?.trim().to_owned(),
            ts: seconds(&f[2])?,
        })
    }
    fn event_time(&self) -> u64 {
        self.ts
    }
}

/// One row of `AdClickLog.csv`: `userId,adId,province,city,ts`. Its texts are [`Token`]s: read by
/// the million, and short.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AdClickEvent {
    pub user_id: u64,
    pub ad_id: u64,
    pub province: Token,
    pub city: Token,
    pub ts: u64,
}

impl Record for AdClickEvent {
    const NAME: &'static str = "AdClickLog row";
    fn parse(f: &Fields) -> Result<Self, Reject> {
        expect_fields(f, 5)?;
        Ok(AdClickEvent {
            user_id: id(&f[0], "userId")?,
            ad_id: id(&f[1], "adId")?,
            province: Token::new(text(&f[2], "province")?.trim()),
            city: Token::new(text(&f[3], "city")?.trim()),
            ts: seconds(&f[4])?,
        })
    }
    fn event_time(&self) -> u64 {
        self.ts
    }
}

/// What a user did with an app in a marketing channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MarketingBehavior {
    Click,
    Download,
    Install,
    Uninstall,
}

/// One generated marketing event: `userId,behavior,channel,ts` (ts in milliseconds).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MarketingEvent {
    pub user_id: u64,
    pub behavior: MarketingBehavior,
    pub channel: String,
    pub ts: u64,
}

impl Record for MarketingEvent {
    const NAME: &'static str = "marketing event row";
    fn parse(f: &Fields) -> Result<Self, Reject> {
        expect_fields(f, 4)?;
        let behavior = match f[1].trim_ascii() {
            b"CLICK" => MarketingBehavior::Click,
            b"DOWNLOAD" => MarketingBehavior::Download,
            b"INSTALL" => MarketingBehavior::Install,
            b"UNINSTALL" => MarketingBehavior::Uninstall,
            other => return Err(unknown("behavior", other)),
        };
        Ok(MarketingEvent {
            user_id: id(&f[0], "userId")?,
            behavior,
            channel: text(&f[2], "channel")?.trim().to_owned(),
            ts: number(&f[3], "timestamp")?,
        })
    }
    fn event_time(&self) -> u64 {
        self.ts
    }
}

const LOG_DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[day]/[month]/[year]:[hour]:[minute]:[second]");

/// Reads `17/05/2015:10:05:03` in the zone `+0000` as epoch milliseconds.
///
/// Nearly every line is in the fixed form with every field in range: [`fixed_log_time`] reads
/// it by position. Anything else goes to the `time` crate's generic parser, which accepts or
/// rejects it, with its reason, as it always did.
pub fn parse_log_time(date: &str, zone: &str) -> Result<u64, Reject> {
    match fixed_log_time(date.as_bytes(), zone.as_bytes()) {
        Some(ms) => Ok(ms),
        None => generic_log_time(date, zone),
    }
}

/// [`parse_log_time`] by the `time` crate's parser of the format.
fn generic_log_time(date: &str, zone: &str) -> Result<u64, Reject> {
    let bad = |detail: String| Reject::BadTime { detail };
    let local = time::PrimitiveDateTime::parse(date, LOG_DATE)
        .map_err(|e| bad(format!("'{date}' is not dd/MM/yyyy:HH:mm:ss ({e})")))?;
    // A log's zone is a sign and four digits (`+0000`, `-0500`), as Apache writes it.
    let digits = zone.get(1..).unwrap_or("");
    if !(zone.starts_with(['+', '-'])
        && digits.len() == 4
        && digits.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad(format!("'{zone}' is not a zone like +0000 or -0500")));
    }
    let offset = crate::engine::time::time_fmt::parse_zone(zone).map_err(bad)?;
    let ms = local.assume_offset(offset).unix_timestamp() * 1000;
    u64::try_from(ms).map_err(|_| bad(format!("'{date}' is before 1970")))
}

/// `dd/MM/yyyy:HH:mm:ss` in the zone `±hhmm` read by position, for the dates that the generic
/// parser in [`parse_log_time`] accepts with the same result: two-digit fields (four for the
/// year) in range (the day within its month), a zone of at most 23:59, an instant from 1970 on.
/// `None` for anything else, even a date that parser accepts: it reads those, or says why not.
/// The generic parser cost about 2,000 instructions per line, a tenth of hot-pages' work.
fn fixed_log_time(date: &[u8], zone: &[u8]) -> Option<u64> {
    let &[
        d1,
        d2,
        b'/',
        m1,
        m2,
        b'/',
        y1,
        y2,
        y3,
        y4,
        b':',
        h1,
        h2,
        b':',
        n1,
        n2,
        b':',
        s1,
        s2,
    ] = date
    else {
        return None;
    };
    let &[sign, zh1, zh2, zm1, zm2] = zone else {
        return None;
    };
    let two = |a: u8, b: u8| {
        (a.is_ascii_digit() && b.is_ascii_digit())
            .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
    };
    let (day, month, year) = (
        two(d1, d2)?,
        two(m1, m2)?,
        two(y1, y2)? * 100 + two(y3, y4)?,
    );
    let (hour, minute, second) = (two(h1, h2)?, two(n1, n2)?, two(s1, s2)?);
    let (zone_hours, zone_minutes) = (two(zh1, zh2)?, two(zm1, zm2)?);
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if year < 1970
        || !(1..=days_in_month).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
        || zone_hours > 23
        || zone_minutes > 59
    {
        return None;
    }
    // Days since 1970-01-01 of a date from 1970 on (Howard Hinnant's `days_from_civil`, with
    // years counted from March so that a leap day ends its year).
    let march_year = if month <= 2 { year - 1 } else { year };
    let (era, year_of_era) = (march_year / 400, march_year % 400);
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let offset = sign * (zone_hours * 3600 + zone_minutes * 60);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    u64::try_from(seconds * 1000).ok()
}

/// Which input format most of `lines` are (more than half), if any: for the hint when a job accepted nothing
/// (the wrong file for the job). Returns the format's [`Record::NAME`].
pub fn sniff(lines: &[Vec<u8>]) -> Option<&'static str> {
    fn parses<R: Record>(line: &[u8]) -> bool {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        R::parse_line(line).is_ok()
    }
    fn votes<R: Record>(lines: &[Vec<u8>]) -> (usize, &'static str) {
        (lines.iter().filter(|l| parses::<R>(l)).count(), R::NAME)
    }
    [
        votes::<UserBehavior>(lines),
        votes::<ApacheLogEvent>(lines),
        votes::<LoginEvent>(lines),
        votes::<OrderEvent>(lines),
        votes::<ReceiptEvent>(lines),
        votes::<AdClickEvent>(lines),
        votes::<MarketingEvent>(lines),
    ]
    .into_iter()
    .filter(|(n, _)| *n * 2 > lines.len())
    // The first of equal votes: the stricter formats come first (a UserBehavior row also
    // parses as an AdClickLog row, whose province and city are free text).
    .min_by_key(|(n, _)| std::cmp::Reverse(*n))
    .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str, delimiter: u8) -> Fields<'_> {
        Fields::split(line.as_bytes(), delimiter)
    }

    #[test]
    fn user_behavior_reads_seconds_as_milliseconds() {
        let r = UserBehavior::parse(&fields("543462,1715,1464116,pv,1511658000", b',')).unwrap();
        assert_eq!(
            (r.user_id, r.item_id, r.category_id),
            (543462, 1715, 1464116)
        );
        assert_eq!((r.behavior, r.ts), (Behavior::Pv, 1_511_658_000_000));
    }

    #[test]
    fn user_behavior_rejects_say_why() {
        let bad = |l| {
            UserBehavior::parse(&fields(l, b','))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad("1,2,3,pv"),
            "wrong number of fields (expected 5, found 4)"
        );
        assert_eq!(bad("1,x,3,pv,5"), "itemId is not a number");
        assert_eq!(bad("1,2,3,like,5"), "unknown behavior 'like'");
    }

    #[test]
    fn fields_are_the_bytes_between_delimiters() {
        let f = fields(",a,,b c,", b',');
        let got: Vec<&[u8]> = (0..f.len()).map(|i| &f[i]).collect();
        assert_eq!(got, [&b""[..], b"a", b"", b"b c", b""]);
        assert_eq!(fields("", b',').len(), 1);
        // More fields than any format has: counted, for the rejection's message.
        assert_eq!(fields("1,2,3,4,5,6,7,8,9,10", b',').len(), 10);
        assert_eq!(
            UserBehavior::parse(&fields("1,2,3,4,5,6,7,8,9,10", b','))
                .unwrap_err()
                .to_string(),
            "wrong number of fields (expected 5, found 10)"
        );
    }

    #[test]
    fn the_usual_user_behavior_row_reads_as_the_general_path_reads_it() {
        for line in [
            "543462,1715,1464116,pv,1511658000",
            "1,2,3,buy,4",
            "1,2,3,cart,0",
            "01,02,4294967295,fav,18446744073709551",
            "9223372036854775807,1,1,pv,1",
            "9223372036854775808,1,1,pv,1",
            "99999999999999999999,1,1,pv,1",
            "1,2,4294967296,pv,5",
            "1,2,3,pv,18446744073709552",
            "1,2,3,pv,",
            ",2,3,pv,5",
            " 1,2,3,pv,5",
            "1,2,3, pv,5",
            "1,2,3,PV,5",
            "1,2,3,pv,5,6",
            "1,2,3,pv",
            "1,2,3,pvx,5",
            "1;2;3;pv;5",
        ] {
            assert_eq!(
                UserBehavior::parse_line(line.as_bytes()),
                UserBehavior::parse(&fields(line, b',')),
                "{line}"
            );
        }
    }

    #[test]
    fn plain_digits_read_as_the_standard_parser_reads_them() {
        for text in [
            "0",
            "7",
            "0042",
            "4294967295",
            "4294967296",
            "9999999999999999999",
        ] {
            let fast: Result<u32, _> = number(text.as_bytes(), "n");
            assert_eq!(fast.ok(), text.parse::<u32>().ok(), "{text} as u32");
            let fast: Result<u64, _> = number(text.as_bytes(), "n");
            assert_eq!(fast.ok(), text.parse::<u64>().ok(), "{text} as u64");
        }
        assert_eq!(number::<u64>(b" +7 ", "n"), Ok(7));
        assert!(number::<u64>(b"", "n").is_err() && number::<u64>(b"1a", "n").is_err());
    }

    #[test]
    fn ids_are_at_most_the_tutorials_long() {
        let user = |id: &str| UserBehavior::parse(&fields(&format!("{id},2,3,pv,5"), b','));
        assert_eq!(user("9223372036854775807").unwrap().user_id, MAX_ID);
        assert_eq!(user(" +42 ").unwrap().user_id, 42);
        for (id, shown) in [
            ("9223372036854775808", "9223372036854775808"),
            ("18446744073709551615", "18446744073709551615"),
            (" 99999999999999999999999 ", "99999999999999999999999"),
            ("+18446744073709551616", "+18446744073709551616"),
        ] {
            assert_eq!(
                user(id).unwrap_err().to_string(),
                format!(
                    "userId {shown} is out of range (at most 9223372036854775807, as the tutorial's Long)"
                )
            );
        }
        for id in ["-1", "", "+", "1e9", "NaN", "-9223372036854775809"] {
            assert_eq!(
                user(id).unwrap_err(),
                Reject::NotANumber { field: "userId" },
                "{id:?}"
            );
        }
        let ad = AdClickEvent::parse(&fields("1,9223372036854775808,p,c,5", b',')).unwrap_err();
        assert!(
            ad.to_string()
                .starts_with("adId 9223372036854775808 is out of range")
        );
    }

    #[test]
    fn apache_log_time_is_read_in_its_zone() {
        let line = "83.149.9.216 - - 17/05/2015:10:05:03 +0000 GET /presentations/a.png";
        let e = ApacheLogEvent::parse(&fields(line, b' ')).unwrap();
        assert_eq!(e.ts, 1_431_857_103_000);
        assert_eq!(
            (e.method.as_str(), e.url.as_str()),
            ("GET", "/presentations/a.png")
        );
        let shifted = "83.149.9.216 - - 17/05/2015:12:05:03 +0200 GET /a";
        assert_eq!(
            ApacheLogEvent::parse(&fields(shifted, b' ')).unwrap().ts,
            e.ts
        );
    }

    #[test]
    fn fixed_form_dates_read_as_the_generic_parser_reads_them() {
        let mut read = 0;
        for year in [1969, 1970, 1999, 2000, 2015, 2016, 2100, 2400, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    for time in [
                        "00:00:00", "10:05:03", "23:59:59", "24:00:00", "12:60:00", "12:00:60",
                    ] {
                        for zone in [
                            "+0000", "-0000", "+0200", "-0530", "+2359", "+2400", "-0060",
                        ] {
                            let date = format!("{day:02}/{month:02}/{year:04}:{time}");
                            let fixed = fixed_log_time(date.as_bytes(), zone.as_bytes());
                            // Before 1970 (local) is left to the generic parser, which
                            // reads the instants from 1970 on of a zone west of UTC.
                            let generic = generic_log_time(&date, zone).ok();
                            let expected = if year < 1970 { None } else { generic };
                            assert_eq!(fixed, expected, "{date} {zone}");
                            read += usize::from(fixed.is_some());
                        }
                    }
                }
            }
        }
        assert!(read > 10_000, "the sweep reads dates ({read})");
        // Other forms go to the generic parser, whether it accepts them or not.
        for (date, zone) in [
            ("17/05/2015:10:05:03", "+00:00"),
            ("17/05/2015:10:05:03", "Z"),
            ("7/05/2015:10:05:03", "+0000"),
            ("17/05/2015:10:05:0x", "+0000"),
            ("17-05-2015:10:05:03", "+0000"),
            ("17/05/2015:10:05:03.5", "+0000"),
            ("01/01/1970:00:30:00", "+0100"),
        ] {
            assert_eq!(
                fixed_log_time(date.as_bytes(), zone.as_bytes()),
                None,
                "{date} {zone}"
            );
        }
    }

    #[test]
    fn order_create_has_an_empty_tx_id() {
        let e = OrderEvent::parse(&fields("34729,create,,1558430842", b',')).unwrap();
        assert_eq!((e.kind, e.tx_id.as_str()), (OrderKind::Create, ""));
    }
}
