"""The admin REST API (FastAPI, for its OpenAPI spec); every route needs a secret API key."""
