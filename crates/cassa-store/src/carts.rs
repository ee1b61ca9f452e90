//! Citizens' carts: up to [`MAX_CART_ITEMS`] notices, possibly of
//! different enti, paid together. A cart is known by a random public id
//! (128 bits, in the browser's cookie or an e-mailed link); what goes in is
//! decided here, from stored data: a notice that cannot be paid now is
//! refused, and the amount is the option's, whatever a browser sends.

use cassa_core::Cents;
use cassa_core::debt::{NotPayable, excludes};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::outbox;
use crate::payments::PayRefusal;
use crate::sql::{micros, timestamp};
use crate::{Store, StoreError};

pub const MAX_CART_ITEMS: usize = 5;

#[derive(Clone, Debug, Serialize)]
pub struct CartItem {
    pub id: i64,
    pub ente_id: i64,
    pub ente_name: String,
    pub notice_number: String,
    pub amount: Cents,
    pub description: String,
    pub added_at: Timestamp,
    /// The intestatario, as the position names them.
    pub debtor_name: String,
    pub debtor_fiscal_code: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Cart {
    pub id: i64,
    pub public_id: String,
    pub status: CartStatus,
    pub email: Option<String>,
    /// The versante, when someone other than the debtors pays (step 2).
    pub payer_name: Option<String>,
    pub payer_fiscal_code: Option<String>,
    pub items: Vec<CartItem>,
    pub created_at: Timestamp,
}

impl Cart {
    pub fn total(&self) -> Cents {
        self.items.iter().map(|i| i.amount).sum()
    }
}

/// Why a notice was not put in the cart.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("the cart holds {MAX_CART_ITEMS} notices already")]
    Full,
    #[error("the notice is already in the cart")]
    AlreadyIn,
    #[error("the notice does not exist")]
    UnknownNotice,
    #[error("the notice cannot be paid: {0}")]
    NotPayable(NotPayable),
    #[error("the cart is no longer open")]
    NotOpen,
    /// The cart holds notice `0` of the same debt, which this one excludes
    /// (the single payment and the installments, or two single payments).
    #[error("the cart holds notice {0} of the same debt: it is paid one way or the other")]
    Excludes(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CartError {
    fn from(e: sqlx::Error) -> Self {
        CartError::Store(e.into())
    }
}

fn item_from_row(row: &AnyRow) -> Result<CartItem, StoreError> {
    Ok(CartItem {
        id: row.try_get("id")?,
        ente_id: row.try_get("ente_id")?,
        ente_name: row.try_get("ente_name")?,
        notice_number: row.try_get("notice_number")?,
        amount: Cents::new(row.try_get("amount")?),
        description: row.try_get("description")?,
        added_at: timestamp(row.try_get("added_at")?)?,
        debtor_name: row.try_get("debtor_name")?,
        debtor_fiscal_code: row.try_get("debtor_fiscal_code")?,
    })
}

/// Where a cart stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CartStatus {
    /// The citizen is filling it.
    Open,
    /// Sent to payment and paid, or waiting for the outcome: it changes no more.
    Closed,
}

impl CartStatus {
    pub fn code(self) -> &'static str {
        match self {
            CartStatus::Open => "open",
            CartStatus::Closed => "closed",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [CartStatus::Open, CartStatus::Closed]
            .into_iter()
            .find(|s| s.code() == code)
    }

    /// A stored status, or the store's inconsistency.
    pub(crate) fn stored(code: &str) -> Result<Self, StoreError> {
        Self::parse(code).ok_or_else(|| StoreError::Corrupt(format!("cart status {code:?}")))
    }
}

impl Store {
    /// The cart with this public id, with its notices in the order added.
    pub async fn cart(&self, public_id: &str) -> Result<Option<Cart>, StoreError> {
        let mut conn = self.read().acquire().await?;
        let Some(row) = sqlx::query(
            "SELECT id, public_id, status, email, payer_name, payer_fiscal_code, created_at \
             FROM cart WHERE public_id = $1",
        )
        .bind(public_id)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let items = sqlx::query(
            "SELECT i.id, i.ente_id, e.name AS ente_name, i.notice_number, i.amount, \
             i.description, i.added_at, COALESCE(p.debtor_name, '') AS debtor_name, \
             COALESCE(p.debtor_fiscal_code, '') AS debtor_fiscal_code \
             FROM cart_item i JOIN ente e ON e.id = i.ente_id \
             LEFT JOIN payment_option o ON o.ente_id = i.ente_id AND o.notice_number = i.notice_number \
             LEFT JOIN debt_position p ON p.id = o.position_id \
             WHERE i.cart_id = $1 ORDER BY i.id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(item_from_row)
        .collect::<Result<_, _>>()?;
        Ok(Some(Cart {
            id,
            public_id: row.try_get("public_id")?,
            status: CartStatus::stored(&row.try_get::<String, _>("status")?)?,
            email: row.try_get("email")?,
            payer_name: row.try_get("payer_name")?,
            payer_fiscal_code: row.try_get("payer_fiscal_code")?,
            items,
            created_at: timestamp(row.try_get("created_at")?)?,
        }))
    }

    /// How many notices the open cart holds (0 for no such cart, or a paid
    /// one): the banner's count.
    pub async fn cart_size(&self, public_id: &str) -> Result<usize, StoreError> {
        let count: i64 = sqlx::query(
            "SELECT COUNT(*) FROM cart_item i JOIN cart c ON c.id = i.cart_id \
             WHERE c.public_id = $1 AND c.status = 'open'",
        )
        .bind(public_id)
        .fetch_one(self.read())
        .await?
        .try_get(0)?;
        Ok(count as usize)
    }

    /// Puts the notice in the cart `public_id`, creating the cart if there
    /// is none by that id. The notice must be payable now.
    pub async fn add_to_cart(
        &self,
        public_id: &str,
        ente_id: i64,
        notice_number: &str,
        email: Option<&str>,
        lang: &str,
        now: Timestamp,
    ) -> Result<Cart, CartError> {
        let found = match self.verify_notice(ente_id, notice_number, now).await? {
            Ok(found) => found,
            Err(PayRefusal::NotPayable(why)) => return Err(CartError::NotPayable(why)),
            Err(_) => return Err(CartError::UnknownNotice),
        };
        let option = found.option();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO cart (public_id, status, email, created_at, updated_at) \
             VALUES ($1, 'open', $2, $3, $3) ON CONFLICT (public_id) DO NOTHING",
        )
        .bind(public_id)
        .bind(email)
        .bind(micros(now))
        .execute(&mut *tx)
        .await?;
        let cart = sqlx::query(&format!(
            "SELECT id, status FROM cart WHERE public_id = $1{}",
            self.for_update()
        ))
        .bind(public_id)
        .fetch_one(&mut *tx)
        .await?;
        let cart_id: i64 = cart.try_get("id")?;
        if CartStatus::stored(&cart.try_get::<String, _>("status")?)? != CartStatus::Open {
            return Err(CartError::NotOpen);
        }
        // Another notice of the same debt that this one excludes.
        let siblings = sqlx::query(
            "SELECT i.notice_number, o.is_partial_payment FROM cart_item i \
             JOIN payment_option o ON o.ente_id = i.ente_id AND o.notice_number = i.notice_number \
             WHERE i.cart_id = $1 AND o.position_id = $2 AND i.notice_number <> $3",
        )
        .bind(cart_id)
        .bind(found.position.id)
        .bind(&option.notice_number)
        .fetch_all(&mut *tx)
        .await?;
        for sibling in &siblings {
            let installment = sibling.try_get::<i64, _>("is_partial_payment")? != 0;
            if excludes(installment, option.is_partial_payment) {
                return Err(CartError::Excludes(sibling.try_get("notice_number")?));
            }
        }
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM cart_item WHERE cart_id = $1")
            .bind(cart_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let inserted = if count as usize >= MAX_CART_ITEMS {
            None
        } else {
            Some(
                sqlx::query(
                    "INSERT INTO cart_item (cart_id, ente_id, notice_number, amount, \
                     description, added_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (cart_id, ente_id, notice_number) DO NOTHING",
                )
                .bind(cart_id)
                .bind(ente_id)
                .bind(&option.notice_number)
                .bind(option.amount.get())
                .bind(&option.description)
                .bind(micros(now))
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            )
        };
        let email: Option<String> = sqlx::query_scalar(
            "UPDATE cart SET updated_at = $1, email = COALESCE($2, email) WHERE id = $3 RETURNING email",
        )
        .bind(micros(now))
        .bind(email)
        .bind(cart_id)
        .fetch_one(&mut *tx)
        .await?;
        // An anonymous cart is mailed its resume link once, with its first notice.
        if let (Some(1), Some(email)) = (inserted, &email) {
            outbox::enqueue_mail(
                &mut tx,
                &outbox::NewMail {
                    dedupe_key: &format!("cart_resume:{cart_id}"),
                    kind: outbox::MailKind::CartResume,
                    recipient: email,
                    lang,
                    payload: public_id,
                    now,
                },
            )
            .await?;
        }
        tx.commit().await?;
        match inserted {
            None => Err(CartError::Full),
            Some(0) => Err(CartError::AlreadyIn),
            Some(_) => Ok(self
                .cart(public_id)
                .await?
                .ok_or_else(|| StoreError::Corrupt("a cart vanished".into()))?),
        }
    }

    /// Takes one notice out of an open cart; `false` if it was not there.
    pub async fn remove_from_cart(
        &self,
        public_id: &str,
        item_id: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query(
            "DELETE FROM cart_item WHERE id = $1 AND cart_id = \
             (SELECT id FROM cart WHERE public_id = $2 AND status = 'open')",
        )
        .bind(item_id)
        .bind(public_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(removed == 1)
    }

    /// "Abbandona e svuota carrello": an open cart loses all its notices.
    pub async fn empty_cart(&self, public_id: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query(
            "DELETE FROM cart_item WHERE cart_id = \
             (SELECT id FROM cart WHERE public_id = $1 AND status = 'open')",
        )
        .bind(public_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(removed)
    }
}

/// What following a cart's resume link did.
#[derive(Debug, PartialEq, Eq)]
pub enum Resumed {
    /// Its notices were copied into a new open cart (the link's own cart
    /// is never planted in a browser: whoever sent the link would see
    /// what the victim adds, and where the receipts go).
    Copied,
    /// The cart has gone to payment: nothing to resume.
    Closed,
    NotFound,
}

impl Store {
    /// Copies the notices of the cart `from` into a new open cart `into`,
    /// without its e-mail or payer, which the citizen gives again.
    pub async fn resume_cart(
        &self,
        from: &str,
        into: &str,
        now: Timestamp,
    ) -> Result<Resumed, StoreError> {
        let mut tx = self.begin_write().await?;
        let source = sqlx::query("SELECT id, status FROM cart WHERE public_id = $1")
            .bind(from)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(source) = source else {
            return Ok(Resumed::NotFound);
        };
        if CartStatus::stored(&source.try_get::<String, _>("status")?)? != CartStatus::Open {
            return Ok(Resumed::Closed);
        }
        let copy: i64 = sqlx::query_scalar(
            "INSERT INTO cart (public_id, status, created_at, updated_at) \
             VALUES ($1, 'open', $2, $2) RETURNING id",
        )
        .bind(into)
        .bind(micros(now))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO cart_item (cart_id, ente_id, notice_number, amount, description, added_at) \
             SELECT $1, ente_id, notice_number, amount, description, added_at FROM cart_item \
             WHERE cart_id = $2 AND ente_id IN (SELECT id FROM ente WHERE active = 1)",
        )
        .bind(copy)
        .bind(source.try_get::<i64, _>("id")?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Resumed::Copied)
    }

    /// Step 2: the e-mail for the receipts and, optionally, the versante.
    /// `false` when the cart is not open.
    pub async fn set_cart_contact(
        &self,
        public_id: &str,
        email: &str,
        payer: Option<(&str, &str)>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE cart SET email = $1, payer_name = $2, payer_fiscal_code = $3, updated_at = $4 \
             WHERE public_id = $5 AND status = 'open'",
        )
        .bind(email)
        .bind(payer.map(|p| p.0))
        .bind(payer.map(|p| p.1))
        .bind(micros(now))
        .bind(public_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(updated == 1)
    }
}
