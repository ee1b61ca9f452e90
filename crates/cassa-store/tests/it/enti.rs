use cassa_core::Cents;
use cassa_core::tipo_dovuto::AmountRule;
use cassa_store::{
    AuditFilter, EnteError, EntePrinting, MAX_LOGO_BYTES, PrintingError, TipoDovutoError,
};
use cassa_testkit::{Backend, backend_tests};

use crate::{fixture, new_ente, now, tipo_dovuto};

backend_tests!(
    enti_are_unique_by_fiscal_code,
    tipi_dovuto_belong_to_their_ente,
    api_keys_find_their_ente_until_revoked,
    print_settings_are_kept_whole_and_checked,
    a_token_is_spent_once_and_the_key_is_shared,
);

async fn enti_are_unique_by_fiscal_code(backend: Backend) {
    let f = fixture(backend).await;
    assert_eq!(f.ente.fiscal_code, "01199250158");
    assert_eq!(f.ente.segregation_code.to_string(), "02");
    let again = f
        .store
        .create_ente(&new_ente("01199250158", "Altro", 3), "test", now())
        .await;
    assert!(matches!(again, Err(EnteError::Duplicate(cf)) if cf == "01199250158"));
    f.store
        .create_ente(
            &new_ente("80050050154", "Regione Lombardia", 1),
            "test",
            now(),
        )
        .await
        .unwrap();
    let names: Vec<String> = f
        .store
        .list_enti()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["Comune di Milano", "Regione Lombardia"]);
    let found = f
        .store
        .ente_by_fiscal_code("80050050154")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        f.store.ente_by_id(found.id).await.unwrap().unwrap().name,
        "Regione Lombardia"
    );
    assert!(
        f.store
            .ente_by_fiscal_code("00000000000")
            .await
            .unwrap()
            .is_none()
    );
    let events = f
        .store
        .audit_events(&AuditFilter {
            entity: Some("ente".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].entity_key, "80050050154");
    assert_eq!(
        events[0].after.as_ref().unwrap()["name"],
        "Regione Lombardia"
    );
}

async fn tipi_dovuto_belong_to_their_ente(backend: Backend) {
    let f = fixture(backend).await;
    let created = f
        .store
        .create_tipo_dovuto(f.ente.id, &tipo_dovuto("MENSA"), "test", now())
        .await
        .unwrap();
    assert_eq!(
        created.amount_rule,
        AmountRule::Range {
            min: Cents::new(100),
            max: Cents::new(50_000)
        }
    );
    assert!(matches!(
        f.store
            .create_tipo_dovuto(f.ente.id, &tipo_dovuto("MENSA"), "test", now())
            .await,
        Err(TipoDovutoError::Duplicate(_))
    ));
    let other = f
        .store
        .create_ente(&new_ente("80050050154", "Regione", 1), "test", now())
        .await
        .unwrap();
    f.store
        .create_tipo_dovuto(other.id, &tipo_dovuto("MENSA"), "test", now())
        .await
        .unwrap();
    let read = f
        .store
        .tipo_dovuto_by_code(f.ente.id, "MENSA")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.tags, ["mensa", "scuola"]);
    assert_eq!(read.form_fields[0]["name"], "alunno");
    assert_eq!(read.taxonomy_code, "9/0101108TS/");
    assert_eq!(f.store.tipi_dovuto(f.ente.id).await.unwrap().len(), 1);
    assert!(
        f.store
            .tipo_dovuto_by_code(f.ente.id, "NONE")
            .await
            .unwrap()
            .is_none()
    );
}

async fn api_keys_find_their_ente_until_revoked(backend: Backend) {
    let f = fixture(backend).await;
    let key = f
        .store
        .create_api_key(f.ente.id, "cassa_ab", "hash-1", "gestionale", "test", now())
        .await
        .unwrap();
    let owner = f.store.api_key_owner("hash-1").await.unwrap().unwrap();
    assert_eq!(owner.ente.id, f.ente.id);
    assert_eq!(owner.ente.fiscal_code, "01199250158");
    assert!(f.store.api_key_owner("hash-2").await.unwrap().is_none());
    assert!(
        f.store
            .revoke_api_key(f.ente.id, key.id, "test", now())
            .await
            .unwrap()
    );
    assert!(
        !f.store
            .revoke_api_key(f.ente.id, key.id, "test", now())
            .await
            .unwrap()
    );
    assert!(f.store.api_key_owner("hash-1").await.unwrap().is_none());
    assert!(
        f.store.api_keys(f.ente.id).await.unwrap()[0]
            .revoked_at
            .is_some()
    );
}

async fn print_settings_are_kept_whole_and_checked(backend: Backend) {
    let f = fixture(backend).await;
    assert_eq!(
        f.store.ente_printing(f.ente.id).await.unwrap(),
        EntePrinting::default()
    );
    // Every byte value survives the round trip on both backends.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend((0..=255u8).cycle().take(4000));
    let settings = EntePrinting {
        logo_png: Some(png),
        postal_authorization: Some("Aut. n. 123456 del 01/01/2026".into()),
    };
    f.store
        .set_ente_printing(f.ente.id, &settings, "test", now())
        .await
        .unwrap();
    assert_eq!(f.store.ente_printing(f.ente.id).await.unwrap(), settings);

    let not_png = EntePrinting {
        logo_png: Some(b"GIF89a".to_vec()),
        ..EntePrinting::default()
    };
    let refused = f
        .store
        .set_ente_printing(f.ente.id, &not_png, "test", now())
        .await;
    assert!(matches!(refused, Err(PrintingError::Logo(ref why)) if why == "not a PNG image"));
    let huge = EntePrinting {
        logo_png: Some([b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0; MAX_LOGO_BYTES]].concat()),
        ..EntePrinting::default()
    };
    assert!(
        f.store
            .set_ente_printing(f.ente.id, &huge, "test", now())
            .await
            .is_err()
    );
    assert_eq!(
        f.store.ente_printing(f.ente.id).await.unwrap(),
        settings,
        "a refused change changes nothing"
    );

    f.store
        .set_ente_printing(f.ente.id, &EntePrinting::default(), "test", now())
        .await
        .unwrap();
    assert_eq!(
        f.store.ente_printing(f.ente.id).await.unwrap(),
        EntePrinting::default()
    );
    let events = f
        .store
        .audit_events(&AuditFilter {
            entity: Some("ente_printing".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events
            .iter()
            .filter_map(|e| e.after.as_ref())
            .filter(|a| a["logo_png_bytes"] == 4008)
            .count(),
        1
    );
}

async fn a_token_is_spent_once_and_the_key_is_shared(backend: Backend) {
    let f = fixture(backend).await;
    let later = now() + jiff::SignedDuration::from_mins(10);
    // Ten spends of one token at once, from two pools: one wins.
    let other = cassa_store::Store::connect(&f.db.url, cassa_store::StoreOptions::default())
        .await
        .unwrap();
    let spends: Vec<_> = (0..10)
        .map(|i| {
            let store = if i % 2 == 0 {
                f.store.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move { store.spend_token("t1", later).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for spend in spends {
        won += usize::from(spend.await.unwrap());
    }
    assert_eq!(won, 1);
    assert!(f.store.spend_token("t2", later).await.unwrap());
    // Spent tokens are forgotten once expired, not before.
    assert_eq!(f.store.forget_spent_tokens(now()).await.unwrap(), 0);
    let after = later + jiff::SignedDuration::from_secs(1);
    assert_eq!(f.store.forget_spent_tokens(after).await.unwrap(), 2);
    // The first key made is every process's key.
    assert_eq!(f.store.server_key("aa").await.unwrap(), "aa");
    assert_eq!(other.server_key("bb").await.unwrap(), "aa");
}
