//! The vocabulary of event time: windows and their panes, intervals and horizons of event time
//! as differential collections, calendar days, updates held until their time is complete, and how
//! times are read and printed. It imports no
//! other stage of the engine.

pub mod calendar;
pub mod pending;
pub mod temporal;
pub mod time_fmt;
pub mod windows;
