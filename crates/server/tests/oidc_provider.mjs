// A real OpenID Connect provider for the tests: the certified
// `oidc-provider` package (npm, installed by scripts/install), run by node
// on loopback. One confidential client (`legitka`, PKCE required), ID
// tokens signed ES256 with the key the test gives it, and a sign-in page
// that checks passwords and lets the student refuse.
//
// Environment: PORT, ISSUER (the address the test reaches it by), the
// client's REDIRECT_URI and SECRET, and JWKS (the signing key, a JWK set).
import Provider from 'oidc-provider';
import http from 'node:http';
import { parse } from 'node:querystring';

const { PORT, ISSUER, REDIRECT_URI, SECRET, JWKS } = process.env;

const ACCOUNTS = {
  anna: { password: 'haslo-anny-oidc', claims: { preferred_username: 'anna', given_name: 'Anna', family_name: 'Nowak' } },
  // Known here, not to the student register.
  zofia: { password: 'haslo-zofii-oidc', claims: { preferred_username: 'zofia', given_name: 'Zofia', family_name: 'Wrona' } },
};

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: 'legitka',
    client_secret: SECRET,
    redirect_uris: [REDIRECT_URI],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: JSON.parse(JWKS),
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['preferred_username', 'given_name', 'family_name'] },
  // The profile claims go into the ID token itself.
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => ACCOUNTS[id] && {
    accountId: id,
    claims: async () => ({ sub: id, ...ACCOUNTS[id].claims }),
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // Signing in is allowing: the page's "deny" button is the refusal.
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile');
    await grant.save();
    return grant;
  },
});

const page = (res, uid, error) => {
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><title>Uczelnia: logowanie</title>
<form method="post" action="/interaction/${uid}/login">
${error ? `<p id="error">${error}</p>` : ''}
<input name="login"><input name="password" type="password">
<button name="decision" value="allow">Zaloguj</button>
<button name="decision" value="deny">Odmów</button>
</form>`);
};

const body = (req) => new Promise((resolve) => {
  let data = '';
  req.on('data', (c) => { data += c; });
  req.on('end', () => resolve(parse(data)));
});

const callback = provider.callback();
http.createServer(async (req, res) => {
  try {
    if (!req.url.startsWith('/interaction/')) return callback(req, res);
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') return page(res, details.uid, '');
    const form = await body(req);
    if (form.decision === 'deny') {
      return provider.interactionFinished(req, res,
        { error: 'access_denied', error_description: 'the student refused' },
        { mergeWithLastSubmission: false });
    }
    const account = ACCOUNTS[form.login];
    if (!account || account.password !== form.password) {
      return page(res, details.uid, 'Wrong login or password');
    }
    return provider.interactionFinished(req, res,
      { login: { accountId: form.login } }, { mergeWithLastSubmission: false });
  } catch (e) {
    res.statusCode = 500;
    res.end(String(e));
  }
}).listen(Number(PORT), '127.0.0.1', () => console.log('ready'));
