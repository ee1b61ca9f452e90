//! Small conversions between domain values and the portable column types.

use jiff::Timestamp;

use crate::StoreError;

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

/// `($1, $2, $3), ($4, $5, $6)` for `rows` rows of `columns` values,
/// numbered from `$first`. sqlx's query builder writes `?` for the Any
/// driver, which PostgreSQL rejects, hence this.
pub(crate) fn values_clause(rows: usize, columns: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    let mut n = first;
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&n.to_string());
            n += 1;
        }
        out.push(')');
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
        assert_eq!(values_clause(2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values_clause(1, 2, 5), "($5, $6)");
        assert_eq!(placeholders(3, 2), "$2, $3, $4");
    }
}
