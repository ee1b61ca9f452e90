//! Storage tests: each runs on SQLite and on PostgreSQL, on a fresh database.

mod anomalies;
mod carts;
mod checkout;
mod citizens;
mod dovuti;
mod enti;
mod group_commit;
mod import;
mod in_progress;
mod iuv;
mod jobs;
mod operators;
mod payments;
mod positions;
mod rate_limits;
mod schema;
mod statistics;
mod tls;

use cassa_core::debt::DebtPositionDraft;
use cassa_store::{Actor, Ente, Origin, PositionWrite, Store, StoreOptions};
use cassa_testkit::{Backend, TestDatabase, fresh_database};

pub struct Fixture {
    pub store: Store,
    pub ente: Ente,
    pub db: TestDatabase,
}

pub const ACTOR: Actor<'static> = Actor {
    name: "test",
    request_id: None,
};

pub async fn store_for(backend: Backend, options: StoreOptions) -> (Store, TestDatabase) {
    let db = fresh_database(backend).await;
    let store = Store::connect(&db.url, options).await.unwrap();
    store.migrate().await.unwrap();
    (store, db)
}

pub use cassa_testkit::new_ente;
pub use cassa_testkit::positions::{days, draft, now, tipo_dovuto, transfer};

pub async fn fixture(backend: Backend) -> Fixture {
    let (store, db) = store_for(backend, StoreOptions::default()).await;
    let ente = store
        .create_ente(
            &new_ente("01199250158", "Comune di Milano", 2),
            "test",
            now(),
        )
        .await
        .unwrap();
    Fixture { store, ente, db }
}

pub fn write<'a>(ente: &'a Ente, d: &'a DebtPositionDraft, to_publish: bool) -> PositionWrite<'a> {
    PositionWrite {
        ente,
        tipo_dovuto_id: None,
        draft: d,
        to_publish,
        origin: Origin::Api,
        actor: ACTOR,
        now: now(),
    }
}
