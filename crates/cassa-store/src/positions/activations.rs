//! Payments in progress on a position's options: what updates, deletions,
//! cancellations, imports and the node all check before they act.

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::StoredPosition;
use crate::error::StoreError;
use crate::sql::micros;

/// The SQL condition of an activation still in progress (not closed by a
/// receipt, not run out) on the columns of `alias` (`"a."`, or empty),
/// with the present instant as parameter `$now_param`.
pub(crate) fn activation_open(alias: &str, now_param: usize) -> String {
    format!("{alias}closed_at IS NULL AND {alias}expires_at > ${now_param}")
}

/// Which options of `position` have an open, unexpired activation (a
/// payment being made right now), in the options' order.
pub(crate) async fn open_activations(
    conn: &mut AnyConnection,
    position: &StoredPosition,
    now: Timestamp,
) -> Result<Vec<bool>, StoreError> {
    let ids: Vec<i64> = position.options.iter().map(|o| o.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT option_id FROM payment_activation WHERE option_id IN ({}) AND {}",
        crate::sql::placeholders(ids.len(), 1),
        activation_open("", ids.len() + 1)
    );
    let mut query = sqlx::query_scalar::<_, i64>(&sql);
    for id in &ids {
        query = query.bind(*id);
    }
    let open: std::collections::HashSet<i64> = query
        .bind(micros(now))
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
    Ok(ids.iter().map(|id| open.contains(id)).collect())
}
