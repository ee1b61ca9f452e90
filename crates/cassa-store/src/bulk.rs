//! Many rows into one table in few statements, the fastest way each
//! database takes them through sqlx's Any driver:
//! - SQLite: multi-row `VALUES (?, ...)`, anonymous parameters (a numbered
//!   one is found by walking the statement's list of names, so binding P of
//!   them costs P² steps);
//! - PostgreSQL: one JSON parameter unpacked by `json_populate_recordset`
//!   into the table's own row type. A large `VALUES` list is planned and
//!   built cell by cell on every execution, which was most of the server's
//!   time in an import; the Any driver binds no arrays, so no `UNNEST`.

use std::io::Write;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

/// One cell of a row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    Int(i64),
    Text(String),
    Null,
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}

impl From<i32> for Cell {
    fn from(v: i32) -> Self {
        Cell::Int(v.into())
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_owned())
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Null, Into::into)
    }
}

/// Rows per statement on SQLite: a few thousand parameters, far below its
/// limit of 32,766.
const SQLITE_ROWS: usize = 128;
/// Rows per statement on PostgreSQL: one parameter of a few hundred KiB.
const POSTGRES_ROWS: usize = 1_000;

/// Inserts `rows` (each with a cell per column, in order) into `table`,
/// answering the `returning` columns of every inserted row, in no
/// particular order.
pub(crate) async fn insert_rows(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell>>,
    returning: Option<&str>,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let sqlite = conn.backend_name().eq_ignore_ascii_case("sqlite");
    let returning = returning
        .map(|r| format!(" RETURNING {r}"))
        .unwrap_or_default();
    let column_list = columns.join(", ");
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        if sqlite {
            let chunk: Vec<Vec<Cell>> = rows.by_ref().take(SQLITE_ROWS).collect();
            let sql = format!(
                "INSERT INTO {table} ({column_list}) VALUES {}{returning}",
                anonymous_values(chunk.len(), columns.len())
            );
            let mut query = sqlx::query(&sql);
            for cell in chunk.into_iter().flatten() {
                query = match cell {
                    Cell::Int(v) => query.bind(v),
                    Cell::Text(v) => query.bind(v),
                    Cell::Null => query.bind(None::<i64>),
                };
            }
            out.extend(conn.fetch_all(query).await?);
        } else {
            let json = json_records(columns, rows.by_ref().take(POSTGRES_ROWS));
            let sql = format!(
                "INSERT INTO {table} ({column_list}) SELECT {column_list} \
                 FROM json_populate_recordset(NULL::{table}, $1::json){returning}"
            );
            out.extend(conn.fetch_all(sqlx::query(&sql).bind(json)).await?);
        }
    }
    Ok(out)
}

/// `(?, ?), (?, ?)` for 2 rows of 2 columns.
fn anonymous_values(rows: usize, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; rows].join(", ")
}

/// `[{"a":1,"b":"x"}, ...]`: the rows as JSON objects keyed by column.
fn json_records(columns: &[&str], rows: impl Iterator<Item = Vec<Cell>>) -> String {
    let mut out: Vec<u8> = b"[".to_vec();
    for (r, row) in rows.enumerate() {
        if r > 0 {
            out.push(b',');
        }
        out.push(b'{');
        for (c, (column, cell)) in columns.iter().zip(row).enumerate() {
            if c > 0 {
                out.push(b',');
            }
            let _ = write!(out, "\"{column}\":");
            match cell {
                Cell::Int(v) => {
                    let _ = write!(out, "{v}");
                }
                Cell::Text(v) => {
                    serde_json::to_writer(&mut out, &v).expect("a string serializes to JSON")
                }
                Cell::Null => out.extend_from_slice(b"null"),
            }
        }
        out.push(b'}');
    }
    out.push(b']');
    String::from_utf8(out).expect("JSON written from UTF-8 strings")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_values_are_anonymous() {
        assert_eq!(anonymous_values(2, 2), "(?, ?), (?, ?)");
    }

    #[test]
    fn postgres_rows_are_json_objects() {
        let json = json_records(
            &["a", "b", "c"],
            vec![vec![Cell::Int(1), "x\"y".into(), Cell::Null]].into_iter(),
        );
        assert_eq!(json, r#"[{"a":1,"b":"x\"y","c":null}]"#);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed[0]["b"], "x\"y");
    }
}
