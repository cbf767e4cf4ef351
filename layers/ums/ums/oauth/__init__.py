"""Sign-in with OAuth 2 / OpenID Connect providers, as Jexia's SDK does it (`GET /oauth/init`,
`POST /oauth/auth`): providers as configuration (`providers`), the authorization request and
its server-side state (`flow`), and talking to providers (`client`)."""
