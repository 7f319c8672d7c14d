// A single-page app signing in with identity: OAuth 2.0 authorization code + PKCE (S256),
// OpenID Connect ID token checked in the browser (WebCrypto), tokens kept in memory only.
// Every call to identity comes from this page's own origin: CORS, allowed because the
// client registered that origin (allowed_origins).

const app = document.getElementById("app");
let config = null;   // /config.json: issuer, client_id, redirect and post-logout URIs, api
let provider = null; // identity's discovery document
let session = null;  // {tokens, claims, me}: in memory only, gone on reload (by design)

// --- small helpers ----------------------------------------------------------------------

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(`${url} answered ${response.status}: ${body.error_description || body.error || "no details"}`);
  }
  return body;
}

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;  // never innerHTML: claims are data
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function button(label, onClick) {
  const node = element("button", label, { type: "button" });
  node.addEventListener("click", () => onClick().catch(showError));
  return node;
}

// --- the flow ---------------------------------------------------------------------------

async function signIn() {
  const verifier = randomString();
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const pending = { state: randomString(), nonce: randomString(), verifier };
  // Not a token: what this tab needs to finish the flow it starts; removed at the callback.
  sessionStorage.setItem("pending_sign_in", JSON.stringify(pending));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: config.redirect_uri,
    scope: config.scope,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${provider.authorization_endpoint}?${query}`);
}

async function finishSignIn(params) {
  const pending = JSON.parse(sessionStorage.getItem("pending_sign_in") || "null");
  sessionStorage.removeItem("pending_sign_in");
  if (params.get("error")) throw new Error(`identity said ${params.get("error")}: ${params.get("error_description") || ""}`);
  if (!pending || params.get("state") !== pending.state) throw new Error("This sign-in answer is not for this tab (state).");
  if (params.get("iss") !== provider.issuer) throw new Error("This answer is not from identity (iss, RFC 9207).");
  const tokens = await getJSON(provider.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: config.redirect_uri,
      client_id: config.client_id,
      code_verifier: pending.verifier,
    }),
  });
  const claims = await verifyIdToken(tokens.id_token, pending.nonce);
  session = { tokens, claims, me: null };
  await callApi();
}

async function verifyIdToken(idToken, nonce) {
  const [headerPart, claimsPart, signaturePart] = idToken.split(".");
  const header = JSON.parse(new TextDecoder().decode(fromBase64url(headerPart)));
  if (header.alg !== "RS256") throw new Error("The ID token is not RS256-signed.");
  const jwks = await getJSON(provider.jwks_uri);
  const jwk = jwks.keys.find((key) => key.kid === header.kid);
  if (!jwk) throw new Error("The ID token's key is not in identity's JWKS.");
  const key = await crypto.subtle.importKey(
    "jwk", { kty: jwk.kty, n: jwk.n, e: jwk.e, alg: "RS256", ext: true },
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"],
  );
  const signed = new TextEncoder().encode(`${headerPart}.${claimsPart}`);
  if (!(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, fromBase64url(signaturePart), signed))) {
    throw new Error("The ID token's signature does not verify.");
  }
  const claims = JSON.parse(new TextDecoder().decode(fromBase64url(claimsPart)));
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const now = Date.now() / 1000;
  if (claims.iss !== provider.issuer) throw new Error("The ID token is from another issuer.");
  if (!audiences.includes(config.client_id)) throw new Error("The ID token is meant for another client.");
  if (!(claims.exp > now - 60)) throw new Error("The ID token has expired.");
  if (claims.nonce !== nonce) throw new Error("The ID token is not the answer to this sign-in (nonce).");
  return claims;
}

async function callApi() {
  session.me = await getJSON(config.api, { headers: { Authorization: `Bearer ${session.tokens.access_token}` } });
  render();
}

async function signOut() {
  const { tokens } = session;
  session = null;
  if (tokens.refresh_token) {
    // Revoking the refresh token ends its access token too (RFC 7009 2.1). If it fails, the
    // logout below still ends every token of the session: go on.
    await fetch(provider.revocation_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.refresh_token, token_type_hint: "refresh_token", client_id: config.client_id }),
    }).catch(() => undefined);
  }
  const state = randomString();
  sessionStorage.setItem("pending_sign_out", state);
  const query = new URLSearchParams({
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: config.post_logout_redirect_uri,
    state,
  });
  location.assign(`${provider.end_session_endpoint}?${query}`);
}

// --- the page ---------------------------------------------------------------------------

function render(message) {
  app.replaceChildren();
  if (session && session.me) {
    app.append(element("h1", `Signed in as ${session.me.username}`));
    const facts = element("dl");
    const rows = [["Subject", session.claims.sub], ["Client", session.me.client_id], ["Email", session.me.email]];
    for (const [name, value] of rows) {
      if (value) facts.append(element("dt", name), element("dd", value));
    }
    app.append(facts, element("h2", "GET /api/me"), element("pre", JSON.stringify(session.me, null, 2)));
    app.append(button("Call /api/me again", callApi), button("Log out", signOut));
  } else {
    app.append(element("h1", message === "signed-out" ? "You are signed out" : "You are not signed in"));
    app.append(element("p", "This app keeps its tokens in memory only: reloading the page forgets them."));
    app.append(button("Sign in with identity", signIn));
  }
}

function showError(error) {
  render();
  app.prepend(element("p", error.message, { class: "error", role: "alert" }));
}

async function start() {
  config = await getJSON("/config.json");
  provider = await getJSON(`${config.issuer}/.well-known/openid-configuration`);
  if (provider.issuer !== config.issuer) throw new Error("The discovery document names another issuer.");
  const params = new URLSearchParams(location.search);
  if (location.pathname === "/callback") {
    history.replaceState(null, "", "/");  // the code leaves the address bar and the history
    await finishSignIn(params);
    return;
  }
  const expected = sessionStorage.getItem("pending_sign_out");
  sessionStorage.removeItem("pending_sign_out");
  if (params.has("state") || expected) history.replaceState(null, "", "/");
  render(expected && params.get("state") === expected ? "signed-out" : undefined);
}

start().catch(showError);
