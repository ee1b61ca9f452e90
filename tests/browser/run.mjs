// Walks the citizen portal as a new user would, in Debian's Chromium driven
// by playwright-core, and runs axe-core on every page: any serious or
// critical accessibility violation fails the run. Screenshots of each step
// go to $ARTIFACTS. Started by scripts/browser-tests.sh, which runs
// `cassa serve --demo` and pagopa-sim (as pagoPA Checkout and the node),
// and passes what the demo printed.

import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { walkCitizen } from "./citizen.mjs";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const BASE = process.env.CASSA_URL;
const ARTIFACTS = process.env.ARTIFACTS ?? "target/browser";
const MILANO = "01199250158";
// The page prints amounts the Italian way: 1.234,56 €.
const euros = (amount) => new Intl.NumberFormat("it-IT", { minimumFractionDigits: 2, useGrouping: true }).format(Number(amount));
// What `cassa serve --demo` printed: notice.N.field=value lines.
const NOTICES = {};
for (const line of readFileSync(process.env.CASSA_DEMO_FILE, "utf8").split("\n")) {
  const m = line.match(/^notice\.(\d+)\.(\w+)=(.*)$/);
  if (m) (NOTICES[m[1]] ??= {})[m[2]] = m[3];
}
const notices = Object.values(NOTICES).map((n) => ({ ...n, euros: euros(n.amount) }));
// Milano's first notice (paid through Checkout), another of Milano (a
// refused payment) and one of another ente (the two-ente cart).
const DEMO = { ...notices.find((n) => n.ente === MILANO), ente_name: "Comune di Milano" };
DEMO.amount = DEMO.euros;
const REFUSED = notices.find((n) => n.ente === MILANO && n.debtor !== DEMO.debtor && !n.description.includes("rata"));
const OTHER = notices.find((n) => n.ente !== MILANO);
// A Milano debt nobody pays in this walk: the back office cancels it.
const CANCELLED = notices.find(
  (n) => n.ente === MILANO && ![DEMO.debtor, REFUSED.debtor].includes(n.debtor) && !n.description.includes("rata"),
);
mkdirSync(ARTIFACTS, { recursive: true });

let step = 0;
const failures = [];

function check(condition, message) {
  if (!condition) {
    failures.push(message);
    console.error(`FAIL: ${message}`);
  }
}

const watched = new WeakSet();

/** Screenshot and accessibility check of the page as it is now; from then
 * on, anything our Content-Security-Policy blocks on it is a failure. */
async function look(page, name) {
  if (!watched.has(page)) {
    watched.add(page);
    page.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) {
        check(false, `${page.url()}: ${message.text().slice(0, 300)}`);
      }
    });
  }
  step += 1;
  const file = `${ARTIFACTS}/${String(step).padStart(2, "0")}-${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
  // Evaluated, not added as an inline <script>: our CSP refuses those.
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }),
  );
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of bad) {
    check(false, `${name}: axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join("; ")})`);
  }
  console.log(`ok ${step} ${name} (${result.violations.length} minor findings)`);
}

async function text(page, selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

/** Paga Avviso for `notice`, up to the notice found. */
async function findNotice(page, notice) {
  await page.goto(`${BASE}/paga-avviso`);
  await page.fill("#notice", notice.number);
  await page.fill("#fiscal_code", notice.debtor);
  await page.fill("#email", "mario.rossi@example.org");
  await page.click("form[action='/paga-avviso'] button[type=submit]");
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ locale: "it-IT", acceptDownloads: true });
const page = await context.newPage();

try {
  // Home, in Italian, with the banner on top.
  await page.goto(`${BASE}/`);
  check((await page.getAttribute("html", "lang")) === "it", "the home page is in Italian");
  for (const entry of ["Home", "Ricerca Ente", "Paga Avviso", "Informazioni", "Accedi", "Carrello"]) {
    check((await page.locator("nav[aria-label='Menu principale']").innerText()).includes(entry), `banner has ${entry}`);
  }
  await look(page, "home");

  // Keyboard: the first Tab reaches the skip link, which leads to the content.
  await page.keyboard.press("Tab");
  check((await page.evaluate(() => document.activeElement?.getAttribute("href"))) === "#main", "Tab first reaches the skip link");

  // Ricerca Ente: part of a name, any case, without accents.
  await page.click("nav[aria-label='Menu principale'] >> text=Ricerca Ente");
  await page.fill("#q", "MILAN");
  await page.click("button[type=submit]");
  check((await text(page, "main ul")).includes("Comune di Milano"), "the search finds Comune di Milano");
  check(!(await text(page, "main ul")).includes("Regione Lombardia"), "the search leaves other enti out");
  await look(page, "ricerca-ente");

  // Pagina Ente: the notice form, then the tipi dovuto and their keyword search.
  await page.click("text=Comune di Milano");
  check((await text(page, "h1")) === "Comune di Milano", "the ente page opens");
  check((await page.locator(".cassa-card h3").count()) >= 2, "the ente page lists what can be paid");
  await look(page, "pagina-ente");
  await page.fill("#cerca", "refezione");
  await page.click("form[role=search] button");
  const cards = await page.locator(".cassa-card h3").allInnerTexts();
  check(cards.length === 1 && cards[0] === "Refezione scolastica", `the keyword keeps one card: ${cards}`);
  await look(page, "pagina-ente-filtrata");

  // A spontaneous payment: school meals. First with mistakes, then right.
  await page.goto(`${BASE}/enti/01199250158`);
  await page.click("text=Spontaneo Refezione scolastica");
  check((await text(page, "h1")) === "Refezione scolastica", "the spontaneous form opens");
  await page.fill("#f_alunno", "Luca Bianchi");
  await page.fill("#f_anno_scolastico", "duemila");
  await page.fill("#debtor_fiscal_code", "BNCGLI90C45F205Y");
  await page.fill("#debtor_name", "Giulia Bianchi");
  await page.fill("#email", "giulia.bianchi@example.org");
  await page.fill("#amount", "48,50");
  // The automatic check runs in the page while the form is filled in.
  await page.waitForFunction(() => document.querySelector("input[name=altcha]").value !== "", null, { timeout: 30000 });
  check((await text(page, "[data-challenge-status]")).includes("completata"), "the automatic check says it is done");
  await page.click("text=Aggiungi al carrello");
  check((await page.locator("#f_anno_scolastico-error").count()) === 1, "a year in words is refused beside its field");
  check((await page.inputValue("#f_alunno")) === "Luca Bianchi", "the form keeps what was typed");
  await look(page, "spontaneo-errori");
  await page.fill("#f_anno_scolastico", "2026");
  // The page after the refusal carries a new challenge; the form waits for
  // it when sent before it is solved.
  await look(page, "spontaneo-compilato");
  await page.click("text=Aggiungi al carrello");
  await page.waitForURL(/\/carrello/, { timeout: 30000 });
  check(new URL(page.url()).pathname === "/carrello", "the spontaneous payment lands in the cart");
  check((await text(page, "table")).includes("48,50 €"), "the cart holds the spontaneous payment's amount");
  check((await text(page, "table")).includes("Refezione scolastica"), "the cart says what it is");
  await look(page, "carrello-spontaneo");

  // Paga Avviso with nothing filled in: errors beside their fields.
  await page.goto(`${BASE}/paga-avviso`);
  await page.click("form[action='/paga-avviso'] button[type=submit]");
  check((await page.locator("#notice-error").count()) === 1, "the empty notice field says why");
  check((await page.locator("#fiscal_code-error").count()) === 1, "the empty fiscal code field says why");
  check((await page.getAttribute("#notice", "aria-invalid")) === "true", "the notice field is marked invalid");
  await look(page, "paga-avviso-errori");

  // A wrong pair: one neutral message, and what was typed stays.
  await page.fill("#notice", DEMO.number);
  await page.fill("#fiscal_code", "RSSMRA85T10A562S");
  await page.fill("#email", "mario.rossi@example.org");
  await page.click("form[action='/paga-avviso'] button[type=submit]");
  check((await page.locator(".alert-danger").innerText()).includes("Non abbiamo trovato"), "a wrong pair gets the neutral message");
  check((await page.inputValue("#notice")) === DEMO.number, "the form keeps the notice number");
  await look(page, "paga-avviso-non-trovato");

  // The right pair: the notice, its amount, and its PDF.
  await page.fill("#fiscal_code", DEMO.debtor);
  await page.click("form[action='/paga-avviso'] button[type=submit]");
  const found = await text(page, "main dl");
  check(found.includes(DEMO.amount), `the notice shows its amount ${DEMO.amount}: ${found}`);
  check(found.includes(DEMO.ente_name), "the notice shows its ente");
  check((await page.locator(".alert-warning").innerText()).includes("NON ritentare"), "the do-not-pay-twice warning is shown");
  await look(page, "paga-avviso-trovato");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=Scarica l'avviso (PDF)")]);
  const pdf = `${ARTIFACTS}/avviso.pdf`;
  await download.saveAs(pdf);
  check(readFileSync(pdf).subarray(0, 5).toString() === "%PDF-", "the notice downloads as a PDF");

  // Into the cart, beside the spontaneous payment: the banner counts them.
  await page.click("text=Aggiungi al carrello");
  check(new URL(page.url()).pathname === "/carrello", "adding leads to the cart");
  check((await text(page, "table")).includes(DEMO.amount), "the cart lists the notice with its amount");
  check((await text(page, ".cart-count")).replace(/\D/g, "") === "2", "the banner counts two notices");
  check((await page.locator("[aria-current=step]").innerText()).includes("Carrello"), "step 1 of 4 is current");

  // A notice of another ente: a two-ente cart.
  await findNotice(page, OTHER);
  await page.click("text=Aggiungi al carrello");
  check((await page.locator("main tbody tr").count()) === 3, "the cart holds three notices");
  await look(page, "carrello-due-enti");

  // Step 2, Anagrafica: who each notice is addressed to, the e-mail, a versante.
  await page.click("text=Prosegui");
  check((await page.locator("[aria-current=step]").innerText()).includes("Anagrafica"), "step 2 of 4 is current");
  check((await text(page, "main table")).includes(OTHER.debtor), "the intestatario of each notice is shown");
  await page.fill("#email", "non-una-email");
  await page.fill("#payer_name", "Anna Bianchi");
  await page.click("main form button[type=submit]");
  check((await page.locator("#email-error").count()) === 1, "a bad e-mail is refused beside its field");
  check((await page.locator("#payer_fiscal_code-error").count()) === 1, "half a versante is refused");
  check((await page.inputValue("#payer_name")) === "Anna Bianchi", "the form keeps the versante's name");
  await look(page, "anagrafica-errori");
  await page.fill("#email", "anna.bianchi@example.org");
  await page.fill("#payer_fiscal_code", "BNCNNA80A41F205U");
  await page.click("main form button[type=submit]");

  // Step 3, Riepilogo.
  check(new URL(page.url()).pathname === "/carrello/riepilogo", "step 3 follows");
  check((await text(page, "main dl")).includes("Anna Bianchi"), "the summary names the versante");
  await look(page, "riepilogo");

  // Step 4: pagoPA Checkout (the simulator), paid with a PSP.
  await page.click("text=Procedi al pagamento");
  check((await text(page, "h1")) === "Paga il carrello", "Checkout shows the cart");
  check((await text(page, "main table")).includes(OTHER.number), "Checkout got every notice");
  await look(page, "checkout");
  await page.check("input[value=SIMBANKIT]");
  await page.check("input[value=paid]");
  await page.click("main button[type=submit]");

  // Back from Checkout: the outcome, and a receipt per notice.
  check(new URL(page.url()).pathname.endsWith("/esito/ok"), "Checkout sends the browser back");
  check((await text(page, "h1")) === "Pagamento completato", "the success page");
  await look(page, "esito-ok");
  const receipts = page.locator("a:has-text('Scarica la ricevuta')");
  check((await receipts.count()) === 3, "a receipt for each of the three notices");
  for (let i = 0; i < (await receipts.count()); i++) {
    const [saved] = await Promise.all([page.waitForEvent("download"), receipts.nth(i).click()]);
    const file = `${ARTIFACTS}/ricevuta-${i + 1}.pdf`;
    await saved.saveAs(file);
    check(readFileSync(file).subarray(0, 5).toString() === "%PDF-", `receipt ${i + 1} downloads as a PDF`);
  }
  check((await page.locator(".cart-count").count()) === 0 || (await text(page, ".cart-count")).replace(/\D/g, "") === "0", "a paid cart is gone");

  // A refused payment: the failure page, and the notice still in the cart.
  await findNotice(page, REFUSED);
  await page.click("text=Aggiungi al carrello");
  await page.click("text=Prosegui");
  await page.fill("#email", "mario.rossi@example.org");
  await page.click("main form button[type=submit]");
  await page.click("text=Procedi al pagamento");
  await page.check("input[value=refused]");
  await page.click("main button[type=submit]");
  check((await text(page, "h1")) === "Pagamento non riuscito", "the failure page");
  await look(page, "esito-ko");
  await page.click("text=Torna al carrello");
  check((await text(page, "table")).includes(REFUSED.euros), "the refused notice is still in the cart");
  await page.click("text=Abbandona e svuota carrello");
  check((await text(page, "main")).includes("Il carrello è vuoto"), "the cart empties");
  await look(page, "carrello-vuoto");

  // Ricevuta Telematica: the paid notice's receipt, by number and codice fiscale.
  await page.goto(`${BASE}/ricevuta`);
  await page.fill("#notice", DEMO.number);
  await page.fill("#fiscal_code", DEMO.debtor);
  await look(page, "ricevuta-telematica");
  const [receipt] = await Promise.all([page.waitForEvent("download"), page.click("main form button[type=submit]")]);
  await receipt.saveAs(`${ARTIFACTS}/ricevuta-cercata.pdf`);
  check(readFileSync(`${ARTIFACTS}/ricevuta-cercata.pdf`).subarray(0, 5).toString() === "%PDF-", "Ricevuta Telematica downloads the receipt");

  // English, from any page, and back.
  await page.goto(`${BASE}/enti`);
  await page.click("a[hreflang=en]");
  check((await page.getAttribute("html", "lang")) === "en", "the English switch changes the page language");
  check((await text(page, "h1")) === "Find a body", "the page is in English");
  check(new URL(page.url()).pathname === "/enti", "the switch stays on the same page");
  await look(page, "english");
  await page.click("a[hreflang=it]");
  check((await text(page, "h1")) === "Ricerca Ente", "back to Italian");

  // The back office: the demo admin logs in, finds a Milano debt, cancels it.
  const DEMO_LINES = Object.fromEntries(
    readFileSync(process.env.CASSA_DEMO_FILE, "utf8").split("\n").filter((l) => l.startsWith("backoffice.")).map((l) => l.split(/=(.*)/s).slice(0, 2)),
  );
  await page.goto(`${BASE}/backoffice`);
  check(new URL(page.url()).pathname === "/backoffice/login", "the back office asks to log in");
  await page.fill("#username", DEMO_LINES["backoffice.admin.username"]);
  await page.fill("#password", "wrong password");
  await page.click("main button[type=submit]");
  check((await text(page, ".alert-danger")).includes("errati"), "a wrong password is refused");
  await look(page, "backoffice-login");
  await page.fill("#password", DEMO_LINES["backoffice.admin.password"]);
  await page.click("main button[type=submit]");
  check(new URL(page.url()).pathname === "/backoffice", "the admin is in");
  check((await text(page, "main table")).includes("Comune di Milano"), "the admin sees every ente");
  await look(page, "backoffice-enti");
  await page.goto(`${BASE}/backoffice/admin/enti/01199250158`);
  check((await text(page, "main")).includes("Logo e stampa degli avvisi"), "the ente's page offers its print settings");
  await look(page, "backoffice-ente-modifica");
  await page.goto(`${BASE}/backoffice`);
  await page.click("text=Gestione Dovuti Comune di Milano");
  await page.fill("#cf", REFUSED.debtor);
  await page.click("form[role=search] button[type=submit]");
  check((await page.locator("main tbody tr").count()) >= 1, "the search finds the debtor's debts");
  await look(page, "backoffice-dovuti");
  await page.locator("main tbody tr a").first().click();
  check((await text(page, "h1")).startsWith("Dettaglio dovuto"), "the debt's page opens");
  // Its refused payment left an activation open: it cannot be cancelled yet.
  await page.fill("#reason", "Emesso per errore");
  await page.click("main form button:has-text('Annulla il dovuto')");
  check((await text(page, ".alert")).includes("pagamento di questo dovuto è in corso"), "a debt being paid cannot be cancelled");
  await look(page, "backoffice-in-pagamento");
  await page.goto(`${BASE}/backoffice/enti/${MILANO}/dovuti?cf=${CANCELLED.debtor}`);
  await page.locator("main tbody tr a").first().click();
  await page.click("main form button:has-text('Annulla il dovuto')");
  check((await page.locator("#reason-error").count()) === 1, "a cancellation needs a reason");
  await page.fill("#reason", "Emesso per errore");
  await page.click("main form button:has-text('Annulla il dovuto')");
  check((await text(page, ".alert-success")).includes("annullato"), "the debt is cancelled");
  check((await text(page, "main")).includes("Emesso per errore"), "the history keeps the reason");
  await look(page, "backoffice-annullato");
  // Gestione Flussi: the demo's MyPay file imported, then the payments exported.
  await page.goto(`${BASE}/backoffice/enti/01199250158/flussi`);
  await page.setInputFiles("#file", DEMO_LINES["backoffice.import_file"]);
  await page.click("form[enctype] button[type=submit]");
  check((await text(page, ".alert")).includes("Flusso caricato"), "the file is accepted");
  for (let i = 0; i < 50 && !(await text(page, "main table")).includes("Applicato"); i++) {
    await page.waitForTimeout(200);
    await page.reload();
  }
  check((await text(page, "main table")).includes("Applicato: 3 inseriti"), "the demo file's three debts are imported");
  await look(page, "backoffice-flussi-import");
  // The demo's P4PA file: one debt, payable at once or in three installments.
  await page.setInputFiles("#file", DEMO_LINES["backoffice.import_file_p4pa"]);
  await page.click("label[for=notices]");
  await page.click("form[enctype] button[type=submit]");
  // Applied first; its notices are printed right after, by a job of their own.
  for (let i = 0; i < 75 && !(await text(page, "main table")).includes("1 avvisi stampati"); i++) {
    await page.waitForTimeout(200);
    await page.reload();
  }
  check((await text(page, "main table")).includes("Applicato: 1 inseriti"), "the P4PA file's debt is imported");
  check((await page.locator("main table a[href$='_AVVISI_PDF.zip']").count()) === 1, "its notices are offered as a ZIP of PDFs");
  check((await text(page, "main table")).includes("1 avvisi stampati"), "the outcome counts the notices printed");
  const today = new Date().toISOString().slice(0, 10);
  await page.fill("#from", today);
  await page.fill("#to", today);
  await page.click("label[for=receipts]");
  await page.click("text=Prepara il flusso");
  let zipLink = page.locator("main table a[href*='_ESTRAZIONE_DOVUTI_']");
  for (let i = 0; i < 50 && (await zipLink.count()) === 0; i++) {
    await page.waitForTimeout(200);
    await page.reload();
    zipLink = page.locator("main table a[href*='_ESTRAZIONE_DOVUTI_']");
  }
  const [exported] = await Promise.all([page.waitForEvent("download"), zipLink.first().click()]);
  await exported.saveAs(`${ARTIFACTS}/flusso-pagati.zip`);
  check(readFileSync(`${ARTIFACTS}/flusso-pagati.zip`).subarray(0, 2).toString() === "PK", "the paid export downloads as a ZIP");
  check((await text(page, "main table")).includes("2 righe"), "the export holds the two Milano payments of this walk");
  await look(page, "backoffice-flussi-export");
  await page.goto(`${BASE}/backoffice/statistiche`);
  check(Number(await text(page, "#stat-payments-total")) === 3, "the statistics count the three notices paid in this walk");
  await look(page, "backoffice-statistiche");
  await page.goto(`${BASE}/backoffice/account`);
  check((await page.locator("#current").count()) === 1, "the account page changes the password");
  await look(page, "backoffice-account");
  await page.goto(`${BASE}/backoffice/enti/01199250158/operatori`);
  check((await text(page, "h1")).length > 0, "the operators page opens");
  await look(page, "backoffice-operatori");
  await page.goto(`${BASE}/backoffice/attivita`);
  check((await text(page, "main table")).includes("invalidate"), "the activity log shows the cancellation");
  await look(page, "backoffice-attivita");
  // Anomalie: the demo's receipt for a notice Milano does not have.
  await page.goto(`${BASE}/backoffice/anomalie`);
  check((await text(page, "main table")).includes("Avviso sconosciuto"), "the demo's anomaly is listed with its reason");
  await look(page, "backoffice-anomalie");
  await page.click("main table a");
  check((await text(page, "main")).includes("giulia.bianchi@example.org"), "an anomaly shows its payer");
  await page.fill("#note", "Rimborso disposto alla pagatrice");
  await page.click("main form button:has-text('Segna come gestita')");
  check((await text(page, ".alert")).includes("segnata come gestita"), "an anomaly is marked handled");
  check((await text(page, "main")).includes("Rimborso disposto alla pagatrice"), "with the note kept");
  await look(page, "backoffice-anomalia");
  await page.click("text=Esci");
  check(new URL(page.url()).pathname === "/backoffice/login", "logout leads back to the login");

  // Logged in as a citizen: the personal area and installments.
  await walkCitizen({ browser, base: BASE, artifacts: ARTIFACTS, look, check, text, proxySecret: process.env.CASSA_SSO_SECRET });

  // A page that does not exist.
  const response = await page.goto(`${BASE}/non-esiste`);
  check(response.status() === 404, "an unknown page is a 404");
  await look(page, "pagina-non-trovata");
} catch (e) {
  failures.push(`the walk stopped: ${e.stack ?? e}`);
  await page.screenshot({ path: `${ARTIFACTS}/failure.png`, fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}

writeFileSync(`${ARTIFACTS}/result.txt`, failures.length ? failures.join("\n") : "ok\n");
if (failures.length) {
  console.error(`${failures.length} browser check(s) failed`);
  process.exit(1);
}
console.log("browser tests: all checks passed");
