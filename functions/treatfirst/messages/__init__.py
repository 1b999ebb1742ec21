"""One typed struct per request and per response; the OpenAPI components are generated from them."""
