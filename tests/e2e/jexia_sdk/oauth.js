// Jexia's JS SDK signs up and in with OAuth through the local stack's provider `local`:
// node oauth.js <projectURL>. Prints one "ok <step>" line per step; exits non-zero on the first failure.
const fetch = require("node-fetch");
const { jexiaClient, UMSModule } = require("jexia-sdk-js/node");

const [url] = process.argv.slice(2);
const ok = (step) => console.log(`ok ${step}`);
const expect = (condition, step) => { if (!condition) throw new Error(`failed: ${step}`); ok(step); };

// What a browser does at the provider: the local provider's login_hint answers its page at once.
async function atTheProvider(oauthUrl, email) {
  const answer = await fetch(`${oauthUrl}&login_hint=${encodeURIComponent(email)}`, { redirect: "manual" });
  const back = new URL(answer.headers.get("location"));
  return { code: back.searchParams.get("code"), state: back.searchParams.get("state") };
}

(async () => {
  const ums = new UMSModule();
  await jexiaClient(fetch).init({ projectURL: url }, ums);
  const email = `oauth-${Date.now()}@example.com`;
  const signUpUrl = await ums.initOAuth({ action: "sign-up", provider: "local" }, false).toPromise();
  expect(signUpUrl.startsWith(`${url}/_local/idp/authorize?`), "initOAuth sign-up answers the provider's URL");
  const user = await ums.signIn({ ...(await atTheProvider(signUpUrl, email)), default: true }).toPromise();
  expect(user.email === email && user.active === true, "signIn with code and state signs the new user up");
  const signInUrl = await ums.initOAuth({ action: "sign-in", provider: "local" }, false).toPromise();
  const again = await ums.signIn({ ...(await atTheProvider(signInUrl, email)), alias: "again" }).toPromise();
  expect(again.id === user.id, "signIn with code and state signs the same user in");
  const me = await ums.getUser("again").toPromise();
  expect(me.id === user.id && me.email === email, "getUser");
  process.exit(0); // the SDK keeps a token-refresh timer alive
})().catch((error) => { console.error(error && (error.stack || JSON.stringify(error))); process.exit(1); });
