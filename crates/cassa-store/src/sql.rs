//! Small conversions between domain values and the portable column types.

use jiff::Timestamp;

use crate::error::StoreError;

/// Times are stored as microseconds since the Unix epoch, UTC.
pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn opt_micros(t: Option<Timestamp>) -> Option<i64> {
    t.map(micros)
}

pub(crate) fn timestamp(us: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(us).map_err(|e| StoreError::Corrupt(format!("timestamp {us}: {e}")))
}

pub(crate) fn opt_timestamp(us: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    us.map(timestamp).transpose()
}

pub(crate) fn flag(b: bool) -> i32 {
    i32::from(b)
}

/// `sql` for `backend`, for statements with many parameters, each used
/// once and numbered in order. SQLite finds a numbered parameter by walking
/// the statement's list of names, so binding P of them costs P² steps
/// (`sqlite3_bind_parameter_name` was most of an import's profile); on
/// SQLite they become anonymous `?`, which have no names to walk.
pub(crate) fn many_parameters(backend: crate::Backend, sql: String) -> String {
    match backend {
        crate::Backend::Sqlite => anonymous(&sql),
        crate::Backend::Postgres => sql,
    }
}

/// `$1, $2` → `?, ?` (the parameters must come in order, each once).
fn anonymous(numbered: &str) -> String {
    let mut out = String::with_capacity(numbered.len());
    let mut chars = numbered.chars().peekable();
    let mut expected = 1;
    while let Some(c) = chars.next() {
        if c == '$' {
            out.push('?');
            let mut n = 0usize;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                n = n * 10 + d as usize;
                chars.next();
            }
            debug_assert_eq!(n, expected, "parameters out of order in {numbered}");
            expected += 1;
        } else {
            out.push(c);
        }
    }
    out
}

/// `$first, $first+1, ...` for an `IN (...)` list.
pub(crate) fn placeholders(count: usize, first: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_across_rows() {
        assert_eq!(placeholders(3, 2), "$2, $3, $4");
    }

    #[test]
    fn anonymous_placeholders_keep_the_shape() {
        assert_eq!(anonymous("a IN ($1, $2, $3)"), "a IN (?, ?, ?)");
    }
}
