//! `UBA_REQUIRE`: the decision, made once in `tests/common`, whether a test whose component of
//! the machine (PostgreSQL, chromium) cannot be used skips or fails.

mod common;

use common::{Unavailable, decide, required_components};

fn missing() -> Result<(), Unavailable> {
    Err(Unavailable::Missing("no initdb".into()))
}

fn failed() -> Result<(), Unavailable> {
    Err(Unavailable::Failed("initdb failed".into()))
}

#[test]
fn a_missing_component_skips_unless_required() {
    assert_eq!(decide(None, "postgres", missing()), Ok(None));
    assert_eq!(decide(Some(""), "postgres", missing()), Ok(None));
    assert_eq!(decide(Some("chromium"), "postgres", missing()), Ok(None));
    for list in ["postgres", "chromium,postgres", " chromium , postgres ,"] {
        assert_eq!(
            decide(Some(list), "postgres", missing()),
            Err(format!(
                "postgres is required (UBA_REQUIRE={list}) but not installed: no initdb"
            ))
        );
    }
}

#[test]
fn a_component_that_is_there_but_fails_is_a_failure_required_or_not() {
    for list in [None, Some(""), Some("chromium"), Some("postgres")] {
        assert_eq!(
            decide(list, "postgres", failed()),
            Err("postgres is installed but failed: initdb failed".into()),
            "{list:?}"
        );
    }
}

#[test]
fn a_component_that_is_there_runs_the_test() {
    for list in [None, Some("postgres,chromium")] {
        assert_eq!(decide(list, "chromium", Ok(7)), Ok(Some(7)));
    }
}

#[test]
fn a_name_that_is_no_component_is_an_error_not_ignored() {
    assert_eq!(
        required_components("postgres, chromum"),
        Err("UBA_REQUIRE names 'chromum', which is none of the components [\"postgres\", \"chromium\", \"netns\", \"prometheus\", \"kafka\"]".into())
    );
    assert!(decide(Some("postgresql"), "postgres", Ok(())).is_err());
    assert_eq!(
        required_components(" postgres,,chromium "),
        Ok(vec!["postgres", "chromium"])
    );
}
