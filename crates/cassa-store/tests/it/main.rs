//! Storage tests: each runs on SQLite and on PostgreSQL, on a fresh database.

mod enti;
mod group_commit;
mod iuv;
mod jobs;
mod payments;
mod positions;
mod schema;

use cassa_core::debt::{
    DebtPositionDraft, Debtor, DebtorKind, Destination, PaymentOption, Transfer,
};
use cassa_core::{Cents, DebtorId, Iban};
use cassa_store::{Actor, Ente, Origin, PositionWrite, Store, StoreOptions};
use cassa_testkit::{Backend, TestDatabase, fresh_database};
use jiff::{SignedDuration, Timestamp};

pub struct Fixture {
    pub store: Store,
    pub ente: Ente,
    _db: TestDatabase,
}

pub fn now() -> Timestamp {
    "2026-11-23T10:00:00Z".parse().unwrap()
}

pub fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
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
    Fixture {
        store,
        ente,
        _db: db,
    }
}

pub fn transfer(id: u8, cents: i64) -> Transfer {
    Transfer {
        id,
        amount: Cents::new(cents),
        organization_fiscal_code: "01199250158".parse().unwrap(),
        company_name: None,
        remittance_information: format!("quota {id}"),
        category: "9/0101101IM/".parse().unwrap(),
        destination: Destination::Account {
            iban: Iban::italian("03069", "09606", "100000046039").unwrap(),
            postal_iban: None,
        },
        metadata: vec![],
    }
}

/// A position with one option per slice, each split into transfers.
pub fn draft(iupd: &str, options: &[&[i64]]) -> DebtPositionDraft {
    DebtPositionDraft {
        iupd: iupd.into(),
        debtor: Debtor {
            kind: DebtorKind::Person,
            id: DebtorId::parse("RSSMRA85T10A562S").unwrap(),
            full_name: "Mario Rossi".into(),
            street_name: Some("Via Roma".into()),
            civic_number: Some("1".into()),
            postal_code: Some("20121".into()),
            city: Some("Milano".into()),
            province: Some("MI".into()),
            region: None,
            country: Some("IT".into()),
            email: Some("mario.rossi@example.org".into()),
            phone: None,
        },
        company_name: "Comune di Milano".into(),
        office_name: Some("Tributi".into()),
        validity_date: None,
        switch_to_expired: false,
        pay_stand_in: true,
        options: options
            .iter()
            .enumerate()
            .map(|(i, parts)| PaymentOption {
                iuv: None,
                amount: Cents::new(parts.iter().sum()),
                description: format!("Rata {}", i + 1),
                is_partial_payment: options.len() > 1,
                due_date: now() + days(30 * (i as i64 + 1)),
                retention_date: None,
                fee: Cents::ZERO,
                transfers: parts
                    .iter()
                    .enumerate()
                    .map(|(j, &c)| transfer(j as u8 + 1, c))
                    .collect(),
                metadata: vec![],
            })
            .collect(),
    }
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
