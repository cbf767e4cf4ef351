// Jexia's JS SDK against a Serverless UMS endpoint: node flow.js <projectURL> <key> <secret> <mailURL>
// Prints one "ok <step>" line per step; exits non-zero on the first failure.
const fetch = require("node-fetch");
const { jexiaClient, UMSModule, field } = require("jexia-sdk-js/node");

const [url, key, secret] = process.argv.slice(2);
const ok = (step) => console.log(`ok ${step}`);
const expect = (condition, step) => { if (!condition) throw new Error(`failed: ${step}`); ok(step); };

async function tokenFromMail(email) {
  for (let i = 0; i < 100; i++) {
    const mails = await (await fetch(`${url}/_local/mail`)).json();
    // The reset link (?…&token=…&action=resetPwd), not the sign-up mail's verification link.
    const resetLink = /[?&]token=([\w-]+)&action=resetPwd/;
    const mail = mails.reverse().find((m) => m.to.includes(email) && resetLink.test(m.text || ""));
    const match = mail && resetLink.exec(mail.text);
    if (match) return match[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no reset mail");
}

(async () => {
  const ums = new UMSModule();
  await jexiaClient(fetch).init({ projectURL: url }, ums);
  const email = `sdk-${Date.now()}@tesla.com`;
  const user = await ums.signUp({ email, password: "correct horse battery", age: 25, address: { city: "Apeldoorn" } }).toPromise();
  expect(user.email === email && user.age === 25 && user.address.city === "Apeldoorn", "signUp keeps extra fields");
  const signed = await ums.signIn({ email, password: "correct horse battery", default: true, alias: "elon" }).toPromise();
  expect(signed.email === email, "signIn then getUser");
  const me = await ums.getUser("elon").toPromise();
  expect(me.id === user.id, "getUser by alias");
  await ums.changePassword(email, "correct horse battery", "new passphrase 1").toPromise();
  ok("changePassword");
  try {
    await ums.signIn({ email, password: "not the password" }).toPromise();
    throw new Error("failed: wrong password accepted");
  } catch (error) {
    expect(/Invalid email or password/.test(error.message || JSON.stringify(error)), "signIn error message");
  }
  await ums.requestResetPassword(email).toPromise();
  await ums.resetPassword(await tokenFromMail(email), "reset passphrase 2").toPromise();
  const again = await ums.signIn({ email, password: "reset passphrase 2", default: true }).toPromise();
  expect(again.email === email, "requestResetPassword and resetPassword");

  // A server-side app: init with an API key, then Users CRUD with conditions (needs a policy).
  const admin = new UMSModule();
  await jexiaClient(fetch).init({ projectURL: url, key, secret }, admin);
  const active = await admin.select().where(field("active").isEqualTo(true)).toPromise();
  expect(active.some((u) => u.email === email), "select where active = true");
  const suspended = await admin.update({ active: false }).where(field("email").isEqualTo(email)).toPromise();
  expect(suspended.length === 1 && suspended[0].active === false, "update active = false where email");
  const deleted = await admin.delete().where(field("active").isEqualTo(false)).toPromise();
  expect(deleted.some((u) => u.email === email), "delete where active = false");
  process.exit(0); // the SDK keeps a token-refresh timer alive
})().catch((error) => { console.error(error && (error.stack || JSON.stringify(error))); process.exit(1); });
