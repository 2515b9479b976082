"""The ASGI app: collector routes (plain Starlette, hot path), the admin REST API (FastAPI)."""
