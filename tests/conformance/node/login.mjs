// One full login by openid-client (an OpenID-certified relying-party library), talking to the
// live server: discovery, the authorization URL (state + nonce, client_secret_basic, no PKCE:
// the certification profile's confidential client), the code grant with the ID token checked
// by the library, UserInfo, a refresh, and the end-session URL.
//
// The user agent is the test (Python): this runner prints {"authorization_url"} on stdout,
// reads {"callback_url"} on stdin, then prints the results, one JSON object a line.
// Usage: node login.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI POST_LOGOUT_REDIRECT_URI
// (NODE_EXTRA_CA_CERTS names the run's CA.)
import * as client from 'openid-client'
import { createInterface } from 'node:readline'

const [issuer, clientId, clientSecret, redirectUri, postLogoutRedirectUri] = process.argv.slice(2)
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const say = (value) => process.stdout.write(JSON.stringify(value) + '\n')
const hear = async () => JSON.parse((await lines.next()).value)

try {
  const config = await client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(clientSecret))
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    state,
    nonce,
  })
  say({ authorization_url: url.href })
  const { callback_url: callbackUrl } = await hear()
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  })
  const claims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: refreshed.id_token ?? tokens.id_token,
    post_logout_redirect_uri: postLogoutRedirectUri,
    state,
  })
  say({
    claims,
    userinfo,
    refreshed: { token_type: refreshed.token_type, expires_in: refreshed.expiresIn(), id_token: Boolean(refreshed.id_token) },
    end_session_url: endSession.href,
    state,
  })
  process.exit(0)
} catch (error) {
  say({ error: `${error.name}: ${error.message}`, code: error.code, cause: String(error.cause ?? '') })
  process.exit(1)
}
