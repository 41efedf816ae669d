//! A result row as the columns of a database table: names, SQL types and values.
//!
//! Every job's output row is a flat `Serialize` struct (what csv writes). A table needs more than
//! csv does: the type of a column even where the first row has no value for it (`tx_id` of a
//! timed-out order). serde hands each field's value to `serialize_field` with its static type, so
//! the type of an `Option<u64>` that is `None` is still known: that is all this serializer reads.

use serde::Serialize;
use serde::ser::{self, Impossible};

/// The SQL type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlType {
    Integer,
    Real,
    Text,
    Boolean,
}

impl SqlType {
    /// The type from a field's Rust type name (`core::option::Option<u64>`, `&str`, `f64`).
    fn of(type_name: &str) -> Result<SqlType, String> {
        let inner = type_name
            .strip_prefix("core::option::Option<")
            .and_then(|t| t.strip_suffix('>'))
            .unwrap_or(type_name);
        Ok(match inner {
            "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" => {
                SqlType::Integer
            }
            "f32" | "f64" => SqlType::Real,
            "bool" => SqlType::Boolean,
            "&str" | "alloc::string::String" | "char" => SqlType::Text,
            other => return Err(format!("a result field of type {other} has no SQL type")),
        })
    }
}

/// One value of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Boolean(bool),
}

/// One column of a row: its name, its type, its value.
pub type Column = (&'static str, SqlType, SqlValue);

/// The columns of a flat struct, in field order.
pub fn columns<S: Serialize>(row: &S) -> Result<Vec<Column>, String> {
    row.serialize(Fields(Vec::new())).map_err(|e| e.0)
}

#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

fn unsupported<T>(what: &str) -> Result<T, Error> {
    Err(Error(format!(
        "a table row must be a flat struct, not {what}"
    )))
}

/// Collects the fields of a struct.
struct Fields(Vec<Column>);

impl ser::SerializeStruct for Fields {
    type Ok = Vec<Column>;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let ty = SqlType::of(std::any::type_name::<T>()).map_err(Error)?;
        self.0.push((key, ty, value.serialize(Scalar)?));
        Ok(())
    }
    fn end(self) -> Result<Vec<Column>, Error> {
        Ok(self.0)
    }
}

impl ser::Serializer for Fields {
    type Ok = Vec<Column>;
    type Error = Error;
    type SerializeSeq = Impossible<Vec<Column>, Error>;
    type SerializeTuple = Impossible<Vec<Column>, Error>;
    type SerializeTupleStruct = Impossible<Vec<Column>, Error>;
    type SerializeTupleVariant = Impossible<Vec<Column>, Error>;
    type SerializeMap = Impossible<Vec<Column>, Error>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<Vec<Column>, Error>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Vec<Column>, Error> {
        unsupported("an option")
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<Vec<Column>, Error> {
        unsupported("a newtype")
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Vec<Column>, Error> {
        unsupported("an enum")
    }
    refuse! { unsupported =>
        serialize_bool(bool) -> Vec<Column>;
        serialize_i8(i8) -> Vec<Column>;
        serialize_i16(i16) -> Vec<Column>;
        serialize_i32(i32) -> Vec<Column>;
        serialize_i64(i64) -> Vec<Column>;
        serialize_u8(u8) -> Vec<Column>;
        serialize_u16(u16) -> Vec<Column>;
        serialize_u32(u32) -> Vec<Column>;
        serialize_u64(u64) -> Vec<Column>;
        serialize_f32(f32) -> Vec<Column>;
        serialize_f64(f64) -> Vec<Column>;
        serialize_char(char) -> Vec<Column>;
        serialize_str(&str) -> Vec<Column>;
        serialize_bytes(&[u8]) -> Vec<Column>;
        serialize_none() -> Vec<Column>;
        serialize_unit() -> Vec<Column>;
        serialize_unit_struct(&'static str) -> Vec<Column>;
        serialize_unit_variant(&'static str, u32, &'static str) -> Vec<Column>;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}

/// Serializes one field's value.
struct Scalar;

fn integer<T: TryInto<i64> + std::fmt::Display + Copy>(v: T) -> Result<SqlValue, Error> {
    v.try_into()
        .map(SqlValue::Integer)
        .map_err(|_| Error(format!("{v} does not fit a 64-bit SQL integer")))
}

impl ser::Serializer for Scalar {
    type Ok = SqlValue;
    type Error = Error;
    type SerializeSeq = Impossible<SqlValue, Error>;
    type SerializeTuple = Impossible<SqlValue, Error>;
    type SerializeTupleStruct = Impossible<SqlValue, Error>;
    type SerializeTupleVariant = Impossible<SqlValue, Error>;
    type SerializeMap = Impossible<SqlValue, Error>;
    type SerializeStruct = Impossible<SqlValue, Error>;
    type SerializeStructVariant = Impossible<SqlValue, Error>;

    fn serialize_bool(self, v: bool) -> Result<SqlValue, Error> {
        Ok(SqlValue::Boolean(v))
    }
    fn serialize_i8(self, v: i8) -> Result<SqlValue, Error> {
        integer(v)
    }
    fn serialize_i16(self, v: i16) -> Result<SqlValue, Error> {
        integer(v)
    }
    fn serialize_i32(self, v: i32) -> Result<SqlValue, Error> {
        integer(v)
    }
    fn serialize_i64(self, v: i64) -> Result<SqlValue, Error> {
        integer(v)
    }
    fn serialize_u8(self, v: u8) -> Result<SqlValue, Error> {
        integer(v)
    }
    fn serialize_u16(self, v: u16) -> Result<SqlValue, Error> {
        integer(v)
    }
    fn serialize_u32(self, v: u32) -> Result<SqlValue, Error> {
        integer(v)
    }
    fn serialize_u64(self, v: u64) -> Result<SqlValue, Error> {
        integer(v)
    }
    fn serialize_f32(self, v: f32) -> Result<SqlValue, Error> {
        Ok(SqlValue::Real(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<SqlValue, Error> {
        Ok(SqlValue::Real(v))
    }
    fn serialize_char(self, v: char) -> Result<SqlValue, Error> {
        Ok(SqlValue::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<SqlValue, Error> {
        Ok(SqlValue::Text(v.to_owned()))
    }
    fn serialize_none(self) -> Result<SqlValue, Error> {
        Ok(SqlValue::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<SqlValue, Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<SqlValue, Error> {
        Ok(SqlValue::Null)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<SqlValue, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<SqlValue, Error> {
        unsupported("an enum")
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<SqlValue, Error> {
        Ok(SqlValue::Text(variant.to_owned()))
    }
    refuse! { unsupported =>
        serialize_bytes(&[u8]) -> SqlValue;
        serialize_unit_struct(&'static str) -> SqlValue;
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
    use super::*;

    #[derive(Serialize)]
    struct Row {
        id: u64,
        name: &'static str,
        tx: Option<String>,
        rate: f64,
        update: bool,
        gap: Option<isize>,
    }

    #[test]
    fn a_missing_value_keeps_its_type() {
        let row = Row {
            id: 7,
            name: "paid",
            tx: None,
            rate: 0.5,
            update: false,
            gap: Some(-3),
        };
        assert_eq!(
            columns(&row).unwrap(),
            vec![
                ("id", SqlType::Integer, SqlValue::Integer(7)),
                ("name", SqlType::Text, SqlValue::Text("paid".into())),
                ("tx", SqlType::Text, SqlValue::Null),
                ("rate", SqlType::Real, SqlValue::Real(0.5)),
                ("update", SqlType::Boolean, SqlValue::Boolean(false)),
                ("gap", SqlType::Integer, SqlValue::Integer(-3)),
            ]
        );
    }

    #[test]
    fn a_value_too_large_for_sql_is_an_error() {
        #[derive(Serialize)]
        struct Big {
            n: u64,
        }
        assert!(columns(&Big { n: u64::MAX }).is_err());
    }
}
