// The citizen's walk with a login: SPID through pagopa-sim's identity
// provider, the personal area with debts of several enti, a debt paid in
// installments (the first, then the rest in one cart) through the simulated
// Checkout, each installment's receipt from the storico, a debt paid at
// once with its installments cancelled, logout, an eIDAS login and a login
// through the SAML proxy's trusted headers.

import { readFileSync } from "node:fs";

/** Cart → anagrafica → riepilogo → simulated Checkout, paid. */
async function payCart(page, check, text) {
  await page.click("text=Prosegui");
  await page.fill("#email", "mario.rossi@example.org");
  await page.click("main form button[type=submit]");
  await page.click("text=Procedi al pagamento");
  await page.check("input[value=SIMBANKIT]");
  await page.check("input[value=paid]");
  await page.click("main button[type=submit]");
  check((await text(page, "h1")) === "Pagamento completato", "the installment cart is paid");
}

/** The card of the area holding `amount`, and its details page. */
async function openDebt(page, base, amount) {
  await page.goto(`${base}/area-personale`);
  await page.locator("article", { hasText: amount }).locator("a:has-text('Dettagli')").click();
}

async function addRow(page, label) {
  await page.locator("main table tbody tr", { hasText: label }).locator("button:has-text('Aggiungi al Carrello')").click();
}

export async function walkCitizen({ browser, base, artifacts, look, check, text, proxySecret }) {
  const context = await browser.newContext({ locale: "it-IT", acceptDownloads: true });
  const page = await context.newPage();
  try {
    // Accedi: SPID, CIE, CNS and eIDAS, then the provider's own page.
    await page.goto(`${base}/accedi`);
    for (const method of ["spid", "cie", "cns", "eidas"]) {
      check((await page.locator(`#login-${method}`).count()) === 1, `the login offers ${method}`);
    }
    await look(page, "accedi");
    await page.click("#login-spid");
    check(page.url().includes("/oidc/authorize"), "SPID leads to the identity provider");
    await look(page, "identity-provider");
    await page.click("#login-mario-rossi");

    // Posizioni aperte across enti, without choosing one first.
    check(new URL(page.url()).pathname === "/area-personale", "the login lands in the personal area");
    check((await text(page, "#citizen-name")) === "Mario Rossi", "the banner names the citizen");
    const area = await text(page, "main");
    for (const ente of ["Regione Lombardia", "Comune di Milano"]) {
      check(area.includes(ente), `the area lists a debt of ${ente}`);
    }
    await look(page, "area-personale");

    // Rate: choose the first installment, pay it through Checkout.
    await openDebt(page, base, "240,00");
    check((await page.locator("#pay-first").count()) === 1, "an installable debt offers the first installment");
    await look(page, "dettaglio-rate");
    await page.click("#pay-first");
    check(new URL(page.url()).pathname === "/carrello", "the first installment goes in the cart");
    check((await text(page, "table")).includes("80,00"), "the cart holds the installment's amount");
    await payCart(page, check, text);

    // The plan is shown; the single payment is cancelled; the rest in one cart.
    await openDebt(page, base, "80,00");
    const plan = await text(page, "main");
    check(plan.includes("Piano delle rate") && plan.includes("ANNULLATO"), "after the first installment the plan is shown");
    await look(page, "piano-rate");
    await addRow(page, "Rata 2 di 3");
    await openDebt(page, base, "80,00");
    await addRow(page, "Rata 3 di 3");
    check((await page.locator("main tbody tr").count()) === 2, "two installments in one cart");
    await look(page, "carrello-rate");
    await payCart(page, check, text);
    await page.goto(`${base}/area-personale`);
    check(!(await text(page, "main")).includes("80,00"), "every installment paid: the debt is extinguished");

    // Storico transazioni: a receipt for each installment.
    await page.goto(`${base}/area-personale/storico`);
    const history = await text(page, "main table");
    for (const n of [1, 2, 3]) {
      check(history.includes(`Rata ${n} di 3`), `the storico lists installment ${n}`);
    }
    await look(page, "storico");
    for (const n of [1, 2, 3]) {
      const row = page.locator("main tbody tr", { hasText: `Rata ${n} di 3` });
      const [saved] = await Promise.all([page.waitForEvent("download"), row.locator("a").click()]);
      const file = `${artifacts}/ricevuta-rata-${n}.pdf`;
      await saved.saveAs(file);
      check(readFileSync(file).subarray(0, 5).toString() === "%PDF-", `installment ${n}'s receipt is a PDF`);
    }

    // Paid at once: the installments are cancelled.
    await openDebt(page, base, "120,00");
    const detail = page.url();
    await page.click("#pay-whole");
    await payCart(page, check, text);
    await page.goto(`${base}/area-personale`);
    check(!(await text(page, "main")).includes("120,00"), "the debt paid at once leaves the open debts");
    await page.goto(detail);
    const cancelled = await page.locator("main tbody tr", { hasText: "ANNULLATO" }).count();
    check(cancelled === 2, `paid at once, both installments are cancelled (${cancelled})`);
    await look(page, "rate-annullate");

    // Logout: the area is closed again.
    await page.click("#logout");
    check(new URL(page.url()).pathname === "/", "logout leads home");
    await page.goto(`${base}/area-personale`);
    check(new URL(page.url()).pathname === "/accedi", "after logout the area asks to log in");

    // eIDAS: no codice fiscale, so no archive, and the page says why.
    await page.click("#login-eidas");
    await page.click("#login-hans-muller");
    check((await text(page, "main")).includes("eIDAS"), "the eIDAS citizen is told why the archive is empty");
    await look(page, "area-eidas");
    await page.click("#logout");
  } finally {
    await context.close();
  }

  // The regional gateway's SAML proxy: its headers and secret log in.
  const proxied = await browser.newContext({
    locale: "it-IT",
    extraHTTPHeaders: {
      "X-Proxy-Secret": proxySecret,
      "X-Fiscal-Number": "TINIT-RSSMRA80A01F205X",
      "X-Given-Name": "Mario",
      "X-Family-Name": "Rossi",
      "X-Auth-Method": "spid",
      "X-Auth-Level": "https://www.spid.gov.it/SpidL2",
    },
  });
  const gateway = await proxied.newPage();
  try {
    await gateway.goto(`${base}/accedi/sso`);
    check(new URL(gateway.url()).pathname === "/area-personale", "the proxy's headers log the citizen in");
    check((await text(gateway, "#citizen-name")) === "Mario Rossi", "the proxy's citizen is named");
    await look(gateway, "area-gateway");
  } finally {
    await proxied.close();
  }
}
