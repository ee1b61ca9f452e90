//! Paying a cart through pagoPA Checkout. Starting a checkout re-reads
//! every notice of the cart: one that was paid, cancelled or changed since
//! it went in stops the whole cart before anything reaches pagoPA, with
//! the reason per notice. What is sent is frozen in `checkout_item`, so the
//! outcome pages and the receipt e-mails know what this attempt was.

use cassa_core::Cents;
use cassa_core::debt::{NotPayable, excludes};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::carts::CartStatus;
use crate::payments::PayRefusal;
use crate::sql::{micros, timestamp};
use crate::{MAX_CART_ITEMS, Store, StoreError};

/// Where a checkout stands, as far as we know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckoutState {
    /// Recorded, not yet accepted by Checkout.
    Created,
    /// Checkout took the cart; the citizen is paying there.
    Redirected,
    /// Checkout could not be reached or refused the cart.
    Failed,
    /// Back from Checkout: paid.
    Ok,
    /// Back from Checkout: the payment was refused or went wrong.
    Ko,
    /// Back from Checkout: the citizen gave up.
    Cancelled,
    /// Back from Checkout: the outcome will come later.
    Waiting,
}

impl CheckoutState {
    pub fn code(self) -> &'static str {
        match self {
            CheckoutState::Created => "created",
            CheckoutState::Redirected => "redirected",
            CheckoutState::Failed => "failed",
            CheckoutState::Ok => "ok",
            CheckoutState::Ko => "ko",
            CheckoutState::Cancelled => "cancelled",
            CheckoutState::Waiting => "waiting",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            CheckoutState::Created,
            CheckoutState::Redirected,
            CheckoutState::Failed,
            CheckoutState::Ok,
            CheckoutState::Ko,
            CheckoutState::Cancelled,
            CheckoutState::Waiting,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// The outcomes Checkout's return URLs report.
    pub fn is_outcome(self) -> bool {
        matches!(
            self,
            CheckoutState::Ok
                | CheckoutState::Ko
                | CheckoutState::Cancelled
                | CheckoutState::Waiting
        )
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckoutItem {
    pub id: i64,
    pub ente_id: i64,
    pub ente_fiscal_code: String,
    pub ente_name: String,
    pub notice_number: String,
    pub amount: Cents,
    pub description: String,
    /// The option's status now; `None` if the ente removed the notice since.
    pub option_status: Option<cassa_core::debt::OptionStatus>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Checkout {
    pub id: i64,
    pub public_id: String,
    pub cart_public_id: String,
    pub email: String,
    pub lang: String,
    pub state: CheckoutState,
    pub checkout_url: Option<String>,
    pub error: Option<String>,
    pub items: Vec<CheckoutItem>,
    pub created_at: Timestamp,
}

impl Checkout {
    pub fn total(&self) -> Cents {
        self.items.iter().map(|i| i.amount).sum()
    }
}

/// Why a notice of the cart stops the checkout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemProblem {
    /// It no longer exists (its position was deleted).
    Gone,
    NotPayable(NotPayable),
    /// The ente changed the amount since the notice went in.
    AmountChanged {
        was: Cents,
        now: Cents,
    },
    /// Another notice of the cart belongs to the same debt and excludes
    /// this one: the debt would be paid twice.
    Excludes(String),
}

/// Why a cart cannot go to Checkout; nothing was recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutRefusal {
    NoCart,
    Empty,
    /// More notices than Checkout takes.
    TooMany,
    NoEmail,
    NotOpen,
    /// Per notice number, what is wrong with it.
    Items(Vec<(String, ItemProblem)>),
}

fn item_from_row(row: &AnyRow) -> Result<CheckoutItem, StoreError> {
    Ok(CheckoutItem {
        id: row.try_get("id")?,
        ente_id: row.try_get("ente_id")?,
        ente_fiscal_code: row.try_get("ente_fiscal_code")?,
        ente_name: row.try_get("ente_name")?,
        notice_number: row.try_get("notice_number")?,
        amount: Cents::new(row.try_get("amount")?),
        description: row.try_get("description")?,
        option_status: cassa_core::debt::OptionStatus::parse(
            &row.try_get::<String, _>("option_status")?,
        ),
    })
}

impl Store {
    /// Checks every notice of the open cart `cart_public_id` and records a
    /// checkout of all of them, known as `public_id`; `citizen` is the
    /// logged-in payer's key, for their Storico transazioni.
    pub async fn start_checkout(
        &self,
        cart_public_id: &str,
        public_id: &str,
        lang: &str,
        citizen: Option<&str>,
        now: Timestamp,
    ) -> Result<Result<Checkout, CheckoutRefusal>, StoreError> {
        let Some(cart) = self.cart(cart_public_id).await? else {
            return Ok(Err(CheckoutRefusal::NoCart));
        };
        if cart.status != CartStatus::Open {
            return Ok(Err(CheckoutRefusal::NotOpen));
        }
        if cart.items.is_empty() {
            return Ok(Err(CheckoutRefusal::Empty));
        }
        if cart.items.len() > MAX_CART_ITEMS {
            return Ok(Err(CheckoutRefusal::TooMany));
        }
        let Some(email) = cart.email.as_deref() else {
            return Ok(Err(CheckoutRefusal::NoEmail));
        };
        let mut problems = Vec::new();
        // Each payable notice's debt and whether it is an installment.
        let mut ways: Vec<(i64, bool, &str)> = Vec::new();
        for item in &cart.items {
            let problem = match self
                .verify_notice(item.ente_id, &item.notice_number, now)
                .await?
            {
                Ok(found) if found.option().amount != item.amount => {
                    Some(ItemProblem::AmountChanged {
                        was: item.amount,
                        now: found.option().amount,
                    })
                }
                Ok(found) => {
                    let installment = found.option().is_partial_payment;
                    let clash = ways.iter().find(|(position, other, _)| {
                        *position == found.position.id && excludes(*other, installment)
                    });
                    let problem =
                        clash.map(|(_, _, notice)| ItemProblem::Excludes((*notice).to_owned()));
                    ways.push((found.position.id, installment, &item.notice_number));
                    problem
                }
                Err(PayRefusal::NotPayable(why)) => Some(ItemProblem::NotPayable(why)),
                Err(_) => Some(ItemProblem::Gone),
            };
            if let Some(problem) = problem {
                problems.push((item.notice_number.clone(), problem));
            }
        }
        if !problems.is_empty() {
            return Ok(Err(CheckoutRefusal::Items(problems)));
        }
        let mut tx = self.begin_write().await?;
        // The cart, locked: still open, and holding just the notices checked
        // above (one swapped in another tab would escape the checks).
        let status: Option<String> = sqlx::query_scalar(&format!(
            "SELECT status FROM cart WHERE id = $1{}",
            self.for_update()
        ))
        .bind(cart.id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut now_in: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM cart_item WHERE cart_id = $1")
                .bind(cart.id)
                .fetch_all(&mut *tx)
                .await?;
        now_in.sort_unstable();
        let mut checked: Vec<i64> = cart.items.iter().map(|i| i.id).collect();
        checked.sort_unstable();
        let open = status.as_deref().and_then(CartStatus::parse) == Some(CartStatus::Open);
        if !open || now_in != checked {
            return Ok(Err(CheckoutRefusal::NotOpen));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO checkout (public_id, cart_id, email, payer_name, payer_fiscal_code, lang, \
             state, created_at, updated_at, citizen) \
             VALUES ($1, $2, $3, $4, $5, $6, 'created', $7, $7, $8) RETURNING id",
        )
        .bind(public_id)
        .bind(cart.id)
        .bind(email)
        .bind(cart.payer_name.as_deref())
        .bind(cart.payer_fiscal_code.as_deref())
        .bind(lang)
        .bind(micros(now))
        .bind(citizen)
        .fetch_one(&mut *tx)
        .await?;
        for item in &cart.items {
            sqlx::query(
                "INSERT INTO checkout_item (checkout_id, ente_id, notice_number, amount, description) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(item.ente_id)
            .bind(&item.notice_number)
            .bind(item.amount.get())
            .bind(&item.description)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.checkout(public_id)
            .await?
            .map(Ok)
            .ok_or_else(|| StoreError::Corrupt("a checkout vanished".into()))
    }

    /// The checkout with this public id, its notices with their status now.
    pub async fn checkout(&self, public_id: &str) -> Result<Option<Checkout>, StoreError> {
        let mut conn = self.read().acquire().await?;
        let Some(row) = sqlx::query(
            "SELECT c.id, c.public_id, k.public_id AS cart_public_id, c.email, c.lang, c.state, \
             c.checkout_url, c.error, c.created_at FROM checkout c JOIN cart k ON k.id = c.cart_id \
             WHERE c.public_id = $1",
        )
        .bind(public_id)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let items = sqlx::query(
            "SELECT i.id, i.ente_id, e.fiscal_code AS ente_fiscal_code, e.name AS ente_name, \
             i.notice_number, i.amount, i.description, COALESCE(o.status, '') AS option_status \
             FROM checkout_item i JOIN ente e ON e.id = i.ente_id \
             LEFT JOIN payment_option o ON o.ente_id = i.ente_id AND o.notice_number = i.notice_number \
             WHERE i.checkout_id = $1 ORDER BY i.id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(item_from_row)
        .collect::<Result<_, _>>()?;
        let state: String = row.try_get("state")?;
        Ok(Some(Checkout {
            id,
            public_id: row.try_get("public_id")?,
            cart_public_id: row.try_get("cart_public_id")?,
            email: row.try_get("email")?,
            lang: row.try_get("lang")?,
            state: CheckoutState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("checkout state {state}")))?,
            checkout_url: row.try_get("checkout_url")?,
            error: row.try_get("error")?,
            items,
            created_at: timestamp(row.try_get("created_at")?)?,
        }))
    }

    /// Checkout accepted the cart and sent the citizen to `url`.
    pub async fn checkout_redirected(
        &self,
        public_id: &str,
        url: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.set_checkout(public_id, "'created'", "redirected", Some(url), None, now)
            .await
            .map(|_| ())
    }

    /// Checkout could not take the cart; the cart stays open to try again.
    pub async fn checkout_failed(
        &self,
        public_id: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.set_checkout(public_id, "'created'", "failed", None, Some(error), now)
            .await
            .map(|_| ())
    }

    /// The citizen came back with `outcome`. The first outcome counts (a
    /// reload or a second tab changes nothing); a paid or pending one
    /// closes the cart, so that its notices are not paid twice. `false`
    /// when an outcome was recorded before.
    pub async fn checkout_returned(
        &self,
        public_id: &str,
        outcome: CheckoutState,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        debug_assert!(outcome.is_outcome());
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE checkout SET state = $1, updated_at = $2 WHERE public_id = $3 \
             AND state IN ('created', 'redirected')",
        )
        .bind(outcome.code())
        .bind(micros(now))
        .bind(public_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        // In the same transaction: a paid or pending cart is closed with it.
        if changed && matches!(outcome, CheckoutState::Ok | CheckoutState::Waiting) {
            sqlx::query(
                "UPDATE cart SET status = 'closed', updated_at = $1 \
                 WHERE id = (SELECT cart_id FROM checkout WHERE public_id = $2)",
            )
            .bind(micros(now))
            .bind(public_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn set_checkout(
        &self,
        public_id: &str,
        from_states: &str,
        state: &str,
        url: Option<&str>,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(&format!(
            "UPDATE checkout SET state = $1, checkout_url = COALESCE($2, checkout_url), \
             error = COALESCE($3, error), updated_at = $4 WHERE public_id = $5 AND state IN ({from_states})"
        ))
        .bind(state)
        .bind(url)
        .bind(error)
        .bind(micros(now))
        .bind(public_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(updated == 1)
    }
}
