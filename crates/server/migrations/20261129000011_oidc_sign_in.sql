-- A sign-in at the university's OpenID Connect provider on its way: the
-- state the provider sends back, the nonce its ID token must carry, and
-- the PKCE verifier the code is traded with. One use, ten minutes.
CREATE TABLE oidc_logins (
    state TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
