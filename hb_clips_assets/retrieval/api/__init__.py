"""The REST API over the media index: `hb-clips serve` (FastAPI + uvicorn).

``create_app(ApiSettings.from_env())`` builds the application (``app.py``); the
routes are in ``routers/``, what they share in ``dependencies.py``, the response
models in ``schemas.py``. It runs without Dagster.
"""
