//! Flat csv rows written directly: a struct of integers, booleans and plain strings, each
//! field as the csv crate writes it unquoted.
//!
//! The csv crate's serializer costs about 260 instructions per number (a field-by-field state
//! machine that checks every byte for quoting), and hot-pages writes about one row of seven
//! fields per input line. Here a number is formatted by `itoa` (as the csv crate does) and
//! appended; a string is appended if the csv crate would write it as it is (no delimiter, quote,
//! `\r` or `\n`); an option is its value, or an empty field for `None`, as the crate writes it.
//! The crate quotes an empty field only when it is the whole record (a record of no bytes is
//! written `""`), so such a record is left to it. Any other row (a float, a string to quote, a
//! nested value) is [`Other`]: the caller has the csv crate write it, so every byte stays the
//! crate's. The pattern jobs' rows have optional columns (order-timeout's `timeout_at`,
//! tx-match's `receipt_ts`): left to the crate, each such row cost a csv writer of its own (an
//! 8 KB buffer zeroed) and a flush, about 7,000 instructions and a `write` per row.

use std::fmt;

use serde::ser::{self, Impossible, Serialize, SerializeStruct, Serializer};

/// The row holds something only the csv crate writes.
#[derive(Debug)]
pub struct Other;

impl fmt::Display for Other {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value left to the csv crate")
    }
}

impl std::error::Error for Other {}

impl ser::Error for Other {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Other
    }
}

/// Appends `row` and the record terminator (`\n`) to `line`, as the csv crate's default writer
/// writes it, if `row` is a struct of fields that it writes unquoted. On [`Other`], `line` holds
/// part of the row: the caller truncates it.
pub fn write<S: Serialize>(row: &S, line: &mut Vec<u8>) -> Result<(), Other> {
    let start = line.len();
    row.serialize(Record { line, fields: 0 })?;
    if line.len() == start {
        // A record of no bytes: the crate writes `""`.
        return Err(Other);
    }
    line.push(b'\n');
    Ok(())
}

/// The row: a struct whose fields are written one after the other.
struct Record<'a> {
    line: &'a mut Vec<u8>,
    fields: usize,
}

/// One field's value.
struct Field<'a>(&'a mut Vec<u8>);

impl Field<'_> {
    fn integer(self, n: impl itoa::Integer) -> Result<(), Other> {
        self.0
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        Ok(())
    }
}

/// What this writer answers for a value it leaves to the csv crate (the `refuse!` methods).
fn other<T>(_method: &str) -> Result<T, Other> {
    Err(Other)
}

/// A row is a struct: anything else is the csv crate's.
impl<'a> Serializer for Record<'a> {
    type Ok = ();
    type Error = Other;
    type SerializeSeq = Impossible<(), Other>;
    type SerializeTuple = Impossible<(), Other>;
    type SerializeTupleStruct = Impossible<(), Other>;
    type SerializeTupleVariant = Impossible<(), Other>;
    type SerializeMap = Impossible<(), Other>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), Other>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Other> {
        Ok(self)
    }

    refuse! { other =>
        <T> serialize_some(&T) -> ();
        <T> serialize_newtype_struct(&'static str, &T) -> ();
        <T> serialize_newtype_variant(&'static str, u32, &'static str, &T) -> ();
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_str(&str) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}

impl SerializeStruct for Record<'_> {
    type Ok = ();
    type Error = Other;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Other> {
        if self.fields > 0 {
            self.line.push(b',');
        }
        self.fields += 1;
        value.serialize(Field(self.line))
    }

    fn end(self) -> Result<(), Other> {
        Ok(())
    }
}

/// A field is an integer, a boolean or a string written as it is.
impl<'a> Serializer for Field<'a> {
    type Ok = ();
    type Error = Other;
    type SerializeSeq = Impossible<(), Other>;
    type SerializeTuple = Impossible<(), Other>;
    type SerializeTupleStruct = Impossible<(), Other>;
    type SerializeTupleVariant = Impossible<(), Other>;
    type SerializeMap = Impossible<(), Other>;
    type SerializeStruct = Impossible<(), Other>;
    type SerializeStructVariant = Impossible<(), Other>;

    fn serialize_bool(self, v: bool) -> Result<(), Other> {
        self.0.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Other> {
        self.integer(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Other> {
        self.integer(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Other> {
        self.integer(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Other> {
        self.integer(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Other> {
        self.integer(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Other> {
        self.integer(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Other> {
        self.integer(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Other> {
        self.integer(v)
    }
    fn serialize_str(self, v: &str) -> Result<(), Other> {
        let plain = !v.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
        if !plain {
            return Err(Other);
        }
        self.0.extend_from_slice(v.as_bytes());
        Ok(())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Other> {
        value.serialize(self)
    }

    fn serialize_none(self) -> Result<(), Other> {
        Ok(())
    }

    refuse! { other =>
        <T> serialize_newtype_struct(&'static str, &T) -> ();
        <T> serialize_newtype_variant(&'static str, u32, &'static str, &T) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    /// What the csv crate writes for `row` after a first row (its header).
    fn by_the_csv_crate<S: Serialize>(row: &S) -> Vec<u8> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.serialize(row).unwrap();
        let header = csv.into_inner().unwrap();
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.serialize(row).unwrap();
        csv.serialize(row).unwrap();
        csv.into_inner().unwrap()[header.len()..].to_vec()
    }

    fn direct<S: Serialize>(row: &S) -> Option<Vec<u8>> {
        let mut line = Vec::new();
        super::write(row, &mut line).ok().map(|()| line)
    }

    #[derive(Serialize)]
    struct Flat<'a> {
        a: u64,
        b: isize,
        c: &'a str,
        d: bool,
        e: i32,
        f: u8,
    }

    #[test]
    fn flat_rows_are_the_csv_crates_bytes() {
        for (a, b, c, d) in [
            (0, 0, "/a", true),
            (u64::MAX, isize::MIN, "/blog/tags/puppet?flav=rss20", false),
            (1_431_857_100_000, -3, "x y é", true),
        ] {
            let row = Flat {
                a,
                b,
                c,
                d,
                e: -7,
                f: 255,
            };
            assert_eq!(direct(&row), Some(by_the_csv_crate(&row)));
        }
    }

    #[test]
    fn options_and_empty_fields_are_the_csv_crates_bytes() {
        #[derive(Serialize)]
        struct Optional<'a> {
            a: Option<u64>,
            b: Option<&'a str>,
            c: &'a str,
            d: Option<u64>,
        }
        for (a, b, c, d) in [
            (Some(1), Some("tx1"), "", None),
            (None, None, "", None),
            (None, Some(""), "paid", Some(u64::MAX)),
        ] {
            let row = Optional { a, b, c, d };
            assert_eq!(direct(&row), Some(by_the_csv_crate(&row)));
        }
        // A record of no bytes is written `""` by the crate: left to it.
        #[derive(Serialize)]
        struct One<'a> {
            x: Option<&'a str>,
        }
        for x in [None, Some("")] {
            assert!(direct(&One { x }).is_none());
            assert_eq!(by_the_csv_crate(&One { x }), b"\"\"\n");
        }
        assert_eq!(direct(&One { x: Some("a") }), Some(b"a\n".to_vec()));
    }

    #[test]
    fn what_the_csv_crate_quotes_or_formats_is_left_to_it() {
        for c in ["a,b", "say \"hi\"", "a\nb", "a\rb"] {
            let row = Flat {
                a: 1,
                b: 2,
                c,
                d: true,
                e: 0,
                f: 0,
            };
            assert!(direct(&row).is_none(), "{c:?}");
            assert!(by_the_csv_crate(&row).contains(&b'"'), "{c:?}");
        }
        #[derive(Serialize)]
        struct Float {
            x: f64,
        }
        assert!(direct(&Float { x: 0.5 }).is_none());
        assert!(direct(&(1, 2)).is_none());
    }
}
